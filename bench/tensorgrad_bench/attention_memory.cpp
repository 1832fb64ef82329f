// The peak extra memory of attention, fused against composed (see attention_memory.h). The allocator counts
// tensor bytes only: the fused kernels' per-thread scratch (packed q, k, v and grad_out panels, O((L + S) E)
// floats, and a few 72 x 288 score tiles) is std::vector memory and is reported beside, from its formula.
#include "attention_memory.h"

#include <cstdio>
#include <functional>

#include <tensorgrad/base/threads.h>
#include <tensorgrad/tensorgrad.h>

namespace tg::bench {

int run_attention_memory(const std::vector<int64_t>& lengths) {
  std::printf("| L = S | fused peak MiB | composed peak MiB | fused / composed | fused kernel scratch MiB |\n");
  std::printf("|---:|---:|---:|---:|---:|\n");
  for (int64_t L : lengths) {
    Generator gen(7);
    const Tensor q = randn({2, 4, L, 64}, DType::Float32, gen).requires_grad_(true);
    const Tensor k = randn({2, 4, L, 64}, DType::Float32, gen).requires_grad_(true);
    const Tensor v = randn({2, 4, L, 64}, DType::Float32, gen).requires_grad_(true);
    const Tensor go = randn({2, 4, L, 64}, DType::Float32, gen);
    const auto peak = [&](const std::function<Tensor()>& forward) {
      for (const Tensor* t : {&q, &k, &v}) t->zero_grad();
      Allocator& a = cpu_allocator();
      const int64_t before = a.stats().current_bytes;
      a.reset_peak();
      forward().backward(go);
      return static_cast<double>(a.stats().peak_bytes - before) / (1 << 20);
    };
    const double fused = peak([&] { return scaled_dot_product_attention(q, k, v); });
    const double composed = peak([&] { return matmul(attention_weights(q, k), v); });
    // Backward scratch per thread: q (2 layouts), k (2), v^T, grad_out (2), dq: 8 panels of ~L x 64 floats,
    // plus dk / dv accumulators and five 72 x 288 tiles.
    const double scratch = static_cast<double>(num_threads()) *
                           (8.0 * static_cast<double>(L) * 64 + 2 * 288 * 64 + 5 * 72 * 288) * 4 / (1 << 20);
    std::printf("| %lld | %.2f | %.2f | %.3f | %.2f |\n", static_cast<long long>(L), fused, composed,
                fused / composed, scratch);
  }
  return 0;
}

}  // namespace tg::bench
