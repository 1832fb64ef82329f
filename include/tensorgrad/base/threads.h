#pragma once
// Process-wide CPU execution settings: the thread count of the one OpenMP pool every CPU kernel uses, and
// the flush-to-zero mode for subnormal floats. Both are explicit global settings (like PyTorch's
// torch.set_num_threads / torch.set_flush_denormal), read by kernels each time they run.
#include <cstdint>

namespace tg {

// ---- threads ----
// The number of threads CPU kernels may use. Kernels open OpenMP parallel regions with an explicit
// num_threads(...) clause taken from here (and never a second pool), so this is the only knob; a kernel uses
// fewer when its problem is too small to split (see threads_for). Default, fixed at first use: OMP_NUM_THREADS
// when it is set to a positive number (its first entry), otherwise the number of physical cores available to
// the process (Linux: distinct cores in the affinity mask; elsewhere the OpenMP processor count).
// set_num_threads throws tg::Error when n < 1. Safe to call from any thread; takes effect at the next kernel.
// On a machine shared with other busy processes (more runnable threads than cores), libgomp's default wait
// policy (spin ~3 ms at every barrier) can make 2 threads several times slower than 1; run with
// OMP_WAIT_POLICY=passive there (an environment variable: libgomp reads it once, before main).
void set_num_threads(int n);
int num_threads();

// How many threads a kernel should use for `work` units (e.g. multiply-adds) when each thread should get at
// least `grain` units: clamp(work / grain, 1, num_threads()). Returns 1 inside an active parallel region, so a
// kernel called from a parallel loop runs single-threaded instead of oversubscribing the cores.
int threads_for(int64_t work, int64_t grain);

// ---- subnormal floats ----
// Flush-to-zero + denormals-are-zero (x86 MXCSR bits FTZ and DAZ): subnormal results become 0 and subnormal
// inputs read as 0, for float32 and float64 SIMD/SSE arithmetic. On by default (subnormals make CPU arithmetic
// 10-100x slower, e.g. in decaying optimizer state). MXCSR is per thread, so exactly:
//   * set_flush_denormal(on) records the setting and applies it to the calling thread at once;
//   * every CPU kernel that calls apply_flush_denormal() (the GEMM does) applies it, on entry, to the calling
//     thread and to each OpenMP worker of its parallel region. It is left in place afterwards (not restored),
//     so once a kernel has run, the calling thread's own float code also runs with the setting.
// Threads the program creates itself get the setting only when they call a kernel or apply_flush_denormal().
// On non-x86 targets these calls only record the flag (no-op); flush_denormal_supported() then says false.
void set_flush_denormal(bool on);
bool flush_denormal();
bool flush_denormal_supported();
// Applies the current setting to the calling thread (cheap: one MXCSR read, a write only when it differs).
void apply_flush_denormal();

}  // namespace tg
