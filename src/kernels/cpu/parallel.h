#pragma once
// The CPU kernels' one way of splitting work over threads. Every threaded CPU kernel goes through
// parallel_for: it opens the OpenMP team (tg::num_threads() bounds it, via threads_for), applies the
// flush-to-zero setting in each worker, and hands each thread one contiguous range of the items, fixed by the
// item count and the thread count alone. Kernels compute each output from its own inputs only (or sum in an
// order fixed by the item layout), so results are the same bits for any thread count.
#include <algorithm>
#include <array>
#include <atomic>
#include <exception>

#include <omp.h>

#include <tensorgrad/base/threads.h>
#include <tensorgrad/kernels/strided_loop.h>

namespace tg::kernels::cpu {

// Calls body(begin, end, thread) for consecutive, disjoint ranges covering [0, count): one range per thread,
// `threads` of them at most (1: the calling thread runs body(0, count, 0) itself). body must not throw when
// threads > 1 (an exception cannot leave an OpenMP region).
template <class Body>
void parallel_for(int64_t count, int threads, Body&& body) {
  if (count <= 0) return;
  const int64_t parts = std::min<int64_t>(std::max(threads, 1), count);
  if (parts <= 1) {
    apply_flush_denormal();
    body(int64_t{0}, count, 0);
    return;
  }
#pragma omp parallel for num_threads(static_cast<int>(parts)) schedule(static)
  for (int64_t p = 0; p < parts; ++p) {
    apply_flush_denormal();
    body(count * p / parts, count * (p + 1) / parts, static_cast<int>(p));
  }
}

// parallel_for for a body that may throw (it allocates, or calls the GEMM driver, whose scratch may): the first
// exception thrown in any range is rethrown on the calling thread once every thread has finished its range (an
// exception may not leave an OpenMP region). What the ranges wrote before is left as it is.
template <class Body>
void parallel_for_rethrowing(int64_t count, int threads, Body&& body) {
  std::exception_ptr failure;
  std::atomic<bool> failed{false};
  parallel_for(count, threads, [&](int64_t first, int64_t last, int thread) {
    try {
      body(first, last, thread);
    } catch (...) {
      if (!failed.exchange(true)) failure = std::current_exception();
    }
  });
  if (failure) std::rethrow_exception(failure);
}

// Elements per thread at least: below this, starting a second thread costs more than it saves. Measured on
// the 2-core VM (relu, float32): 64K elements take 6.0 us on one thread, 7.4 on two; 256K 26.6 vs 20.1.
inline constexpr int64_t kElementwiseGrain = int64_t{1} << 16;

// Elementwise kernels (copy, fill, unary, binary, where, gather, scatter_add) are single loops over strided
// runs. Calls run(shape, args) once for the whole problem, or once per block of one dimension (the outermost
// long enough to split evenly, so each block keeps whole inner rows); `args` are pointers to the operands (the
// caller's own on the serial path, so a small op copies no strides). `run` must not throw when
// `parallel_safe` (float kernels; integer ones may throw on division by zero and stay serial). `whole_dim`
// (if >= 0) is never split: gather / scatter_add index along it, so blocks of the other dimensions read and
// write disjoint slices.
template <size_t K, class Run>
void parallel_elementwise(const Shape& shape, const std::array<const StridedArg*, K>& args, bool parallel_safe,
                          Run run, int64_t whole_dim = -1) {
  const int64_t n = numel_of(shape);
  const int threads = parallel_safe && !shape.empty() && n >= 2 * kElementwiseGrain ? threads_for(n, kElementwiseGrain) : 1;
  if (threads <= 1) return run(shape, args);
  // Cutting a contiguous [128, 512] along its 512 made 128 short runs per thread: 5x slower than one thread.
  // So the outermost dimension with enough entries for an even split; only when none is long enough, the
  // longest.
  const int64_t enough = 4 * static_cast<int64_t>(threads);
  size_t d = shape.size();
  for (size_t i = 0; i < shape.size() && d == shape.size(); ++i)
    if (static_cast<int64_t>(i) != whole_dim && shape[i] >= enough) d = i;
  if (d == shape.size()) {
    for (size_t i = 0; i < shape.size(); ++i)
      if (static_cast<int64_t>(i) != whole_dim && (d == shape.size() || shape[i] > shape[d])) d = i;
  }
  if (d == shape.size() || shape[d] <= 1) return run(shape, args);
  parallel_for(shape[d], threads, [&](int64_t lo, int64_t hi, int) {
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
  });
}

}  // namespace tg::kernels::cpu
