#pragma once
// Elementwise kernels (copy, fill, unary, binary, where) are single loops over strided runs; on more than one
// core a large problem is cut into one block of indices per thread along its largest dimension and each block
// runs the same kernel. Every output element is computed from its own inputs alone, so the result does not
// depend on the thread count.
#include <algorithm>
#include <array>

#include <tensorgrad/base/threads.h>
#include <tensorgrad/kernels/strided_loop.h>

namespace tg::kernels::cpu {

// Elements per thread at least: below this, starting a second thread costs more than it saves.
inline constexpr int64_t kElementwiseGrain = int64_t{1} << 15;

// Calls run(shape, args) once for the whole problem, or once per block from an OpenMP team; `args` are
// pointers to the operands (the caller's own on the serial path, so a small op copies no strides). `run` must
// not throw when `parallel_safe` (float kernels; integer ones may throw on division by zero and stay serial).
// `whole_dim` (if >= 0) is never split: gather / scatter_add index along it, so blocks of the other
// dimensions read and write disjoint slices.
template <size_t K, class Run>
void parallel_elementwise(const Shape& shape, const std::array<const StridedArg*, K>& args, bool parallel_safe,
                          Run run, int64_t whole_dim = -1) {
  const int64_t n = numel_of(shape);
  const int threads = parallel_safe && !shape.empty() && n >= 2 * kElementwiseGrain ? threads_for(n, kElementwiseGrain) : 1;
  if (threads <= 1) return run(shape, args);
  size_t d = 0;
  for (size_t i = 0; i < shape.size(); ++i)
    if (static_cast<int64_t>(i) != whole_dim && (static_cast<int64_t>(d) == whole_dim || shape[i] > shape[d])) d = i;
  if (static_cast<int64_t>(d) == whole_dim) return run(shape, args);
  const int64_t parts = std::min<int64_t>(threads, shape[d]);
  if (parts <= 1) return run(shape, args);
#pragma omp parallel for num_threads(static_cast<int>(parts)) schedule(static)
  for (int64_t p = 0; p < parts; ++p) {
    apply_flush_denormal();
    const int64_t lo = shape[d] * p / parts, hi = shape[d] * (p + 1) / parts;
    Shape block = shape;
    block[d] = hi - lo;
    std::array<StridedArg, K> sub;
    std::array<const StridedArg*, K> sub_ptrs;
    for (size_t k = 0; k < K; ++k) {
      sub[k] = *args[k];
      sub[k].data = static_cast<char*>(args[k]->data) +
                    lo * args[k]->strides[d] * static_cast<int64_t>(itemsize(args[k]->dtype));
      sub_ptrs[k] = &sub[k];
    }
    run(block, sub_ptrs);
  }
}

}  // namespace tg::kernels::cpu
