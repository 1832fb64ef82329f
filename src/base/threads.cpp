#include <tensorgrad/base/error.h>
#include <tensorgrad/base/threads.h>

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <utility>

#if defined(__linux__)
#include <sched.h>
#endif
#if defined(__SSE__)
#include <xmmintrin.h>
#define TG_HAVE_MXCSR 1
#else
#define TG_HAVE_MXCSR 0
#endif

namespace tg {

namespace {

std::atomic<int> g_num_threads{0};  // 0: not yet fixed; the default is computed at first use
std::atomic<bool> g_flush_denormal{true};

// OMP_NUM_THREADS's first entry ("4" or "4,2" for nested levels), or 0 when unset or not a positive number.
int env_threads() {
  const char* env = std::getenv("OMP_NUM_THREADS");
  if (env == nullptr) return 0;
  char* end = nullptr;
  const long n = std::strtol(env, &end, 10);
  if (end == env || n < 1) return 0;
  return static_cast<int>(std::min<long>(n, 1 << 16));
}

// Distinct (package, core) pairs among the CPUs this process may run on: hyperthreads share a core's FMA
// units, so for dense kernels one thread per physical core is the right default.
int physical_cores() {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    std::set<std::pair<long, long>> cores;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (!CPU_ISSET(cpu, &set)) continue;
      const std::string dir = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
      long package = -1, core = -1;
      std::ifstream(dir + "physical_package_id") >> package;
      std::ifstream(dir + "core_id") >> core;
      if (package < 0 || core < 0) return CPU_COUNT(&set);  // no topology files: count CPUs
      cores.emplace(package, core);
    }
    if (!cores.empty()) return static_cast<int>(cores.size());
  }
#endif
  return 0;
}

int default_threads() {
  if (const int n = env_threads(); n > 0) return n;
  if (const int n = physical_cores(); n > 0) return n;
  return std::max(1, omp_get_num_procs());
}

}  // namespace

void set_num_threads(int n) {
  TG_CHECK(n >= 1, "tg::set_num_threads: the thread count must be at least 1, got ", n);
  g_num_threads.store(n, std::memory_order_relaxed);
}

int num_threads() {
  int n = g_num_threads.load(std::memory_order_relaxed);
  if (n > 0) return n;
  int expected = 0;
  g_num_threads.compare_exchange_strong(expected, default_threads(), std::memory_order_relaxed);
  return g_num_threads.load(std::memory_order_relaxed);
}

int threads_for(int64_t work, int64_t grain) {
  if (omp_in_parallel()) return 1;
  const int64_t limit = num_threads();
  const int64_t by_work = grain > 0 ? work / grain : limit;
  return static_cast<int>(std::clamp<int64_t>(by_work, 1, limit));
}

void set_flush_denormal(bool on) {
  g_flush_denormal.store(on, std::memory_order_relaxed);
  apply_flush_denormal();
}

bool flush_denormal() { return g_flush_denormal.load(std::memory_order_relaxed); }

bool flush_denormal_supported() { return TG_HAVE_MXCSR != 0; }

void apply_flush_denormal() {
#if TG_HAVE_MXCSR
  constexpr unsigned kFtz = 1u << 15, kDaz = 1u << 6;
  const unsigned old_csr = _mm_getcsr();
  const unsigned new_csr = flush_denormal() ? (old_csr | kFtz | kDaz) : (old_csr & ~(kFtz | kDaz));
  if (new_csr != old_csr) _mm_setcsr(new_csr);
#endif
}

}  // namespace tg
