// Timing and the coordinate-descent search of `tensorgrad-tune gemm` (see gemm_search.h).
#include "gemm_search.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>

#include <tensorgrad/base/error.h>
#include <tensorgrad/base/threads.h>

namespace tg::tune {

namespace {

namespace cpu = tg::kernels::cpu;
using clock = std::chrono::steady_clock;

double seconds_since(clock::time_point t0) { return std::chrono::duration<double>(clock::now() - t0).count(); }

template <class T>
struct Operands {
  Problem p;
  std::vector<T> a, b, c;
};

template <class T>
std::vector<Operands<T>> make_operands(const std::vector<Problem>& problems) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> value(-0.5, 0.5);
  std::vector<Operands<T>> out;
  for (const Problem& p : problems) {
    Operands<T> o{p, std::vector<T>(p.m * p.k), std::vector<T>(p.k * p.n), std::vector<T>(p.m * p.n)};
    for (T& x : o.a) x = T(value(rng));
    for (T& x : o.b) x = T(value(rng));
    out.push_back(std::move(o));
  }
  return out;
}

// Geometric mean over the problems of each one's median GFLOP/s (3 samples of >= 20 ms).
template <class T>
double score(std::vector<Operands<T>>& ops, const cpu::MicroKernel<T>& kernel, const cpu::GemmBlocking& blocking,
             int threads) {
  const DType dt = dtype_of<T>();
  double log_sum = 0;
  for (Operands<T>& o : ops) {
    const kernels::StridedArg c{o.c.data(), {o.p.n, 1}, dt}, a{o.a.data(), {o.p.k, 1}, dt},
        b{o.b.data(), {o.p.n, 1}, dt};
    const cpu::GemmOptions options{threads, 1};
    auto call = [&] { cpu::gemm<T>({}, o.p.m, o.p.n, o.p.k, c, a, b, kernel, blocking, options); };
    call();  // warm: pack buffers, caches
    std::vector<double> samples;
    for (int s = 0; s < 3; ++s) {
      int calls = 0;
      const auto t0 = clock::now();
      double elapsed = 0;
      do {
        call();
        ++calls;
        elapsed = seconds_since(t0);
      } while (elapsed < 0.02);
      samples.push_back(2.0 * double(o.p.m * o.p.n * o.p.k) * calls / elapsed * 1e-9);
    }
    std::sort(samples.begin(), samples.end());
    log_sum += std::log(samples[1]);
  }
  return std::exp(log_sum / double(ops.size()));
}

std::vector<int64_t> candidates(int which, int64_t mr, int64_t nr) {
  std::vector<int64_t> out;
  if (which == 0) out = {64, 96, 128, 192, 256, 320, 384, 512, 768};  // KC
  if (which == 1)                                                     // MC, whole micro-panels
    for (int64_t f : {2, 4, 6, 8, 10, 12, 16, 20, 24, 32})
      if (f * mr <= 512) out.push_back(f * mr);
  if (which == 2)  // NC, whole micro-panels
    for (int64_t v : {256, 512, 1024, 2048, 4096, 8192}) out.push_back((v + nr - 1) / nr * nr);
  return out;
}

int64_t& field(cpu::GemmBlocking& b, int which) { return which == 0 ? b.kc : which == 1 ? b.mc : b.nc; }
const char* field_name(int which) { return which == 0 ? "KC" : which == 1 ? "MC" : "NC"; }

}  // namespace

Problem parse_shape(const std::string& text) {
  long long m = 0, n = 0, k = 0;
  char tail = 0;
  TG_CHECK(std::sscanf(text.c_str(), "%lldx%lldx%lld%c", &m, &n, &k, &tail) == 3 && m > 0 && n > 0 && k > 0,
           "tensorgrad-tune: shape '", text, "' is not MxNxK with positive sizes");
  return {m, n, k};
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

template <class T>
kernels::cpu::GemmTuneEntry search_gemm(const GemmSearchOptions& opt) {
  TG_CHECK(!opt.problems.empty(), "tensorgrad-tune gemm: no shapes to score");
  const std::vector<cpu::MicroKernel<T>> available = cpu::available_micro_kernels<T>();
  std::vector<cpu::MicroKernel<T>> kernels;
  for (const cpu::MicroKernel<T>& k : available) {
    const bool wanted = opt.kernels.empty() ? (std::string(k.name) != "generic" || available.size() == 1)
                                            : std::find(opt.kernels.begin(), opt.kernels.end(), k.name) != opt.kernels.end();
    if (wanted) kernels.push_back(k);
  }
  TG_CHECK(!kernels.empty(), "tensorgrad-tune gemm: none of the requested micro-kernels runs on this CPU");
  tg::set_num_threads(opt.threads);
  std::vector<Operands<T>> ops = make_operands<T>(opt.problems);
  const char* dtype = dtype_name(dtype_of<T>());

  cpu::GemmTuneEntry best;
  for (const cpu::MicroKernel<T>& kernel : kernels) {
    const auto deadline = clock::now() + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(
                                             opt.budget_seconds / double(kernels.size())));
    cpu::GemmBlocking incumbent = kernel.blocking;
    double incumbent_score = score(ops, kernel, incumbent, opt.threads);
    const double builtin_score = incumbent_score;
    int evaluations = 1;
    bool changed = true;
    while (changed && clock::now() < deadline) {
      changed = false;
      for (int which = 0; which < 3; ++which)
        for (int64_t v : candidates(which, kernel.mr, kernel.nr)) {
          if (clock::now() >= deadline) break;
          if (v == field(incumbent, which)) continue;
          cpu::GemmBlocking trial = incumbent;
          field(trial, which) = v;
          const double s = score(ops, kernel, trial, opt.threads);
          ++evaluations;
          if (s <= incumbent_score * 1.02) continue;
          incumbent_score = score(ops, kernel, incumbent, opt.threads);  // the same moment's conditions
          ++evaluations;
          if (s <= incumbent_score * 1.02) continue;
          std::printf("  %s %s: %s %lld -> %lld: %.1f -> %.1f GFLOP/s\n", dtype, kernel.name, field_name(which),
                      static_cast<long long>(field(incumbent, which)), static_cast<long long>(v), incumbent_score, s);
          incumbent = trial;
          incumbent_score = s;
          changed = true;
        }
    }
    std::printf("%s %s: MC %lld KC %lld NC %lld, %.1f GFLOP/s (built-in blocking %.1f), %d evaluations\n", dtype,
                kernel.name, static_cast<long long>(incumbent.mc), static_cast<long long>(incumbent.kc),
                static_cast<long long>(incumbent.nc), incumbent_score, builtin_score, evaluations);
    std::fflush(stdout);
    if (incumbent_score > best.gflops) best = {kernel.name, incumbent, incumbent_score};
  }
  std::printf("%s: chose %s\n", dtype, best.kernel.c_str());
  return best;
}

template kernels::cpu::GemmTuneEntry search_gemm<float>(const GemmSearchOptions&);
template kernels::cpu::GemmTuneEntry search_gemm<double>(const GemmSearchOptions&);

}  // namespace tg::tune
