// Gradient checkpointing: peak activation memory and step time of a 32-layer MLP (Linear + ReLU, width 256,
// batch 512, float32) without checkpointing and with checkpoint_sequential over 2 ... 32 segments. Memory is the
// allocator's peak bytes between the start of the forward pass and the end of backward; the weights are
// frozen in the first table, so the peak is activations (plus one layer's transient gradients), and trained
// in the second (weight gradients included). Time is the median of 7 forward+backward steps on one thread; "recompute" is the
// share of the forward pass run again in backward (every segment but the last), the compute checkpointing adds.
//
//   cmake -DTG_BUILD_BENCH=ON ... && ninja -C build checkpoint_memory && ./build/bench/checkpoint_memory
#include <tensorgrad/tensorgrad.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <vector>

namespace {

constexpr int64_t kLayers = 32, kWidth = 256, kBatch = 512;

struct Measure {
  int64_t peak_bytes;
  double seconds;
};

Measure measure(tg::nn::Sequential& model, int64_t segments, const tg::Tensor& input) {
  std::vector<double> times;
  int64_t peak = 0;
  for (int rep = 0; rep < 7; ++rep) {
    tg::Tensor x = input.detach().requires_grad_();
    model.zero_grad();
    tg::cpu_allocator().reset_peak();
    const int64_t before = tg::cpu_allocator().stats().current_bytes;
    const auto t0 = std::chrono::steady_clock::now();
    {
      const tg::Tensor y = segments == 0 ? model(x) : tg::nn::checkpoint_sequential(model, segments, x);
      tg::sum(y).backward();
    }
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    peak = std::max(peak, tg::cpu_allocator().stats().peak_bytes - before);
  }
  std::sort(times.begin(), times.end());
  return {peak, times[times.size() / 2]};
}

void table(bool train_weights) {
  tg::Generator gen(0);
  tg::nn::Sequential model;
  for (int64_t i = 0; i < kLayers; ++i) {
    model.push_back(std::make_shared<tg::nn::Linear>(kWidth, kWidth, tg::nn::LinearOptions{}, gen));
    model.push_back(std::make_shared<tg::nn::ReLU>());
  }
  for (auto& p : model.parameters()) p.requires_grad_(train_weights);
  const tg::Tensor input = tg::randn({kBatch, kWidth}, tg::DType::Float32, gen);
  std::printf("\n%s weights: %lld layers (Linear %lldx%lld + ReLU), batch %lld, float32, %d threads\n",
              train_weights ? "trained" : "frozen", static_cast<long long>(kLayers), static_cast<long long>(kWidth),
              static_cast<long long>(kWidth), static_cast<long long>(kBatch), tg::num_threads());
  std::printf("%-10s %14s %12s %10s %12s %10s\n", "segments", "peak MiB", "peak ratio", "step ms", "time ratio",
              "recompute");
  const auto children = static_cast<int64_t>(model.size());
  const Measure plain = measure(model, 0, input);
  for (int64_t segments : {int64_t{0}, int64_t{2}, int64_t{4}, int64_t{6}, int64_t{8}, int64_t{16}, int64_t{32}}) {
    const Measure m = segments == 0 ? plain : measure(model, segments, input);
    const int64_t last = segments == 0 ? children : children - (segments - 1) * children / segments;
    std::printf("%-10s %14.2f %11.2fx %10.1f %11.2fx %9.0f%%\n",
                segments == 0 ? "none" : std::to_string(segments).c_str(),
                static_cast<double>(m.peak_bytes) / (1 << 20),
                static_cast<double>(plain.peak_bytes) / static_cast<double>(m.peak_bytes), m.seconds * 1e3,
                m.seconds / plain.seconds, 100.0 * static_cast<double>(children - last) / static_cast<double>(children));
  }
}

}  // namespace

int main() {
  tg::set_num_threads(1);  // timings on a shared machine: one thread is the least disturbed
  table(false);
  table(true);
  std::printf("\nsqrt(%lld) ~ 6 segments; checkpoint_sequential counts Sequential children (Linear and ReLU are "
              "separate children, so 64 of them here).\n",
              static_cast<long long>(kLayers));
  return 0;
}
