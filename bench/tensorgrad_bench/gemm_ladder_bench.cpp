// The GEMM ladder benchmark. Every implementation (each rung, and the reference libraries: OpenBLAS when
// linked, BLIS when libblis.so.4 can be loaded) is first checked against a trusted product, then timed in interleaved rounds: round r takes one sample of every
// implementation in turn, so a noisy neighbour slows all of them alike, and the median sample is reported.
#include "gemm_ladder_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <thread>

#include <tensorgrad/base/threads.h>

#include "../../src/kernels/cpu/gemm.h"
#include "../gemm_ladder/gemm_ladder.h"
#include "bench_util.h"
#include "blis_library.h"
#include "fma_peak.h"

#if TG_BENCH_OPENBLAS
#include <cblas.h>
#endif

namespace tg::bench {

std::string GemmProblem::label() const {
  if (m == n && n == k) return std::to_string(m);
  return std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k);
}

namespace {

namespace cpu = tg::kernels::cpu;

struct Impl {
  std::string name;
  std::function<void(const cpu::MatrixProduct<float>&, int)> run;
  bool slow = false;
  double too_slow_flops = std::numeric_limits<double>::infinity();  // not timed at or above this many flops
  bool reference = false;  // a library we measure against, not one of our rungs
};

// max |got - want| over the m x n product, against a bound that scales with k and the operands' range.
bool agrees(const std::vector<float>& got, const std::vector<float>& want, int64_t k) {
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, double(std::abs(got[i] - want[i])));
  return worst <= 1e-5 * double(k) * 0.25 + 1e-6;  // operands lie in [-0.5, 0.5]
}

std::string cell(double v, int precision) {
  if (std::isnan(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", precision, v);
  return buf;
}

void print_table(const std::string& title, const std::vector<GemmProblem>& problems, const std::vector<Impl>& impls,
                 const std::map<std::string, std::vector<double>>& values, int precision) {
  std::printf("\n%s\n\n| rung |", title.c_str());
  for (const GemmProblem& p : problems) std::printf(" %s |", p.label().c_str());
  std::printf("\n|---|");
  for (size_t i = 0; i < problems.size(); ++i) std::printf("---:|");
  std::printf("\n");
  for (const Impl& impl : impls) {
    auto it = values.find(impl.name);
    if (it == values.end()) continue;
    std::printf("| %s |", impl.name.c_str());
    for (double v : it->second) std::printf(" %s |", cell(v, precision).c_str());
    std::printf("\n");
  }
}

}  // namespace

int run_gemm_bench(const GemmBenchOptions& opt) {
  std::vector<const cpu::LadderRung*> rungs;
  if (opt.rungs.empty()) {
    for (const cpu::LadderRung& r : cpu::gemm_ladder()) rungs.push_back(&r);
  } else {
    for (const std::string& name : opt.rungs) {
      const cpu::LadderRung* r = cpu::find_rung(name);
      if (r == nullptr) {
        std::fprintf(stderr, "tensorgrad-bench gemm: no rung '%s' on this CPU; rungs:", name.c_str());
        for (const cpu::LadderRung& x : cpu::gemm_ladder()) std::fprintf(stderr, " %s", x.name);
        std::fprintf(stderr, "\n");
        return 2;
      }
      rungs.push_back(r);
    }
  }

  std::printf("# tensorgrad-bench gemm\n\n");
  std::printf("- CPU: %s, %u hardware threads\n", cpu_model().c_str(), std::thread::hardware_concurrency());
  const cpu::MicroKernel<float>& tuned = cpu::default_micro_kernel<float>();
  std::printf("- tuned rung: micro-kernel %s, MC %lld KC %lld NC %lld\n", tuned.name,
              static_cast<long long>(tuned.blocking.mc), static_cast<long long>(tuned.blocking.kc),
              static_cast<long long>(tuned.blocking.nc));
#if TG_BENCH_OPENBLAS
  std::printf("- OpenBLAS: %s (core %s)\n", openblas_get_config(), openblas_get_corename());
#else
  std::printf("- OpenBLAS: not linked (configure found none)\n");
#endif
  std::optional<BlisLibrary> blis;
  if (opt.blis_arch != "none") {
    blis.emplace(opt.blis_arch);
    if (!blis->available()) {
      std::printf("- BLIS: not measured: %s\n", blis->why_not().c_str());
      blis.reset();
    } else {
      std::printf("- %s\n", blis->description().c_str());
    }
  }
  std::printf("- float32, C = A B row-major; median of %d interleaved samples of >= %.3f s each; slow rungs up to %lld\n",
              opt.repetitions, opt.min_sample_seconds, static_cast<long long>(opt.slow_max));

  std::vector<double> peak_samples;
  auto sample_peak = [&](int n) {
    for (int i = 0; i < n; ++i) peak_samples.push_back(measure_fma_peak(0.1, 1, opt.peak_isa).gflops);
  };
  if (opt.peak) sample_peak(3);

  std::mt19937 rng(12345);
  std::uniform_real_distribution<float> value(-0.5f, 0.5f);
  double best_1024 = 0;
  std::string best_1024_name;

  for (int threads : opt.threads) {
    tg::set_num_threads(threads);
    std::vector<Impl> impls;
    for (const cpu::LadderRung* r : rungs)
      if (threads == 1 || r->threaded) impls.push_back({r->name, r->f32, r->slow});
    // The references come last; the last of all is the trusted product every other one is checked against.
    if (blis) {
      blis->set_num_threads(threads);
      impls.push_back({"blis",
                       [&blis](const cpu::MatrixProduct<float>& p, int) {
                         blis->sgemm(p.m, p.n, p.k, p.a, p.lda, p.b, p.ldb, p.c, p.ldc);
                       },
                       false, std::numeric_limits<double>::infinity(), true});
    }
#if TG_BENCH_OPENBLAS
    openblas_set_num_threads(threads);
    impls.push_back({"openblas",
                     [](const cpu::MatrixProduct<float>& p, int) {
                       cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(p.m), int(p.n), int(p.k), 1.0f, p.a,
                                   int(p.lda), p.b, int(p.ldb), 0.0f, p.c, int(p.ldc));
                     },
                     false, std::numeric_limits<double>::infinity(), true});
#endif
    std::map<std::string, std::vector<double>> gflops;
    for (const Impl& impl : impls) gflops[impl.name].assign(opt.problems.size(), std::numeric_limits<double>::quiet_NaN());

    for (size_t pi = 0; pi < opt.problems.size(); ++pi) {
      const GemmProblem& prob = opt.problems[pi];
      const double flops = 2.0 * double(prob.m) * double(prob.n) * double(prob.k);
      std::vector<float> a(static_cast<size_t>(prob.m * prob.k)), b(static_cast<size_t>(prob.k * prob.n));
      for (float& x : a) x = value(rng);
      for (float& x : b) x = value(rng);
      std::vector<std::vector<float>> c(impls.size(), std::vector<float>(static_cast<size_t>(prob.m * prob.n)));
      auto product = [&](size_t i) {
        return cpu::MatrixProduct<float>{prob.m, prob.n, prob.k, a.data(), prob.k, b.data(), prob.n, c[i].data(), prob.n};
      };
      // Which implementations take part, each warmed up (and timed once, for the cap) and validated against
      // the last one (OpenBLAS when linked, else BLIS, else the best rung).
      std::vector<size_t> active;
      for (size_t i = 0; i < impls.size(); ++i) {
        Impl& impl = impls[i];
        if (impl.slow && std::max({prob.m, prob.n, prob.k}) > opt.slow_max) continue;
        if (flops >= impl.too_slow_flops) continue;
        const auto t0 = clock::now();
        impl.run(product(i), threads);
        if (seconds_since(t0) > opt.call_limit_seconds) impl.too_slow_flops = flops;
        active.push_back(i);
      }
      const size_t trusted = impls.size() - 1;
      for (size_t i : active)
        if (i != trusted && !agrees(c[i], c[trusted], prob.k)) {
          std::fprintf(stderr, "tensorgrad-bench gemm: %s disagrees with %s at %s\n", impls[i].name.c_str(),
                       impls[trusted].name.c_str(), prob.label().c_str());
          return 1;
        }
      std::vector<std::vector<double>> samples(impls.size());
      for (int rep = 0; rep < opt.repetitions; ++rep)
        for (size_t i : active) {
          if (threads > 1 && opt.pause_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(opt.pause_ms));
          const cpu::MatrixProduct<float> p = product(i);
          int64_t calls = 0;
          const auto t0 = clock::now();
          double elapsed = 0;
          do {
            impls[i].run(p, threads);
            ++calls;
            elapsed = seconds_since(t0);
          } while (elapsed < opt.min_sample_seconds);
          samples[i].push_back(flops / (elapsed / double(calls)) * 1e-9);
        }
      for (size_t i : active) gflops[impls[i].name][pi] = median(samples[i]);
      std::fprintf(stderr, "  [%d thread%s] %s done\n", threads, threads > 1 ? "s" : "", prob.label().c_str());
      if (threads == 1 && prob.m == 1024 && prob.n == 1024 && prob.k == 1024)
        for (size_t i : active)
          if (!impls[i].reference && gflops[impls[i].name][pi] > best_1024) {
            best_1024 = gflops[impls[i].name][pi];
            best_1024_name = impls[i].name;
          }
    }

    const std::string heading = "## " + std::to_string(threads) + (threads > 1 ? " threads" : " thread");
    print_table(heading + ": GFLOP/s (median)", opt.problems, impls, gflops, 1);
    // Each rung against the faster reference library of each cell (what a user would otherwise link).
    std::vector<std::string> references;
    for (const Impl& impl : impls)
      if (impl.reference) references.push_back(impl.name);
    if (!references.empty()) {
      std::vector<double> best(opt.problems.size(), 0.0);
      for (const std::string& r : references)
        for (size_t pi = 0; pi < opt.problems.size(); ++pi) best[pi] = std::max(best[pi], gflops[r][pi]);
      std::map<std::string, std::vector<double>> ratio;
      for (const Impl& impl : impls) {
        std::vector<double>& row = ratio[impl.name];
        for (size_t pi = 0; pi < opt.problems.size(); ++pi) row.push_back(gflops[impl.name][pi] / best[pi]);
      }
      std::string against;
      for (size_t i = 0; i < references.size(); ++i)
        against += (i == 0 ? "" : i + 1 == references.size() ? " and " : ", ") + references[i];
      print_table(heading + ": ratio to the faster of " + against + " in each cell (x)", opt.problems, impls, ratio, 2);
    }
  }

  if (opt.peak) {
    sample_peak(3);
    const double peak = median(peak_samples);
    std::printf("\n## FMA peak (register-only loop, %s, 1 thread): %.1f GFLOP/s (median of %zu samples, min %.1f, max %.1f)\n",
                measure_fma_peak(0.01, 1, opt.peak_isa).isa.c_str(), peak, peak_samples.size(),
                *std::min_element(peak_samples.begin(), peak_samples.end()),
                *std::max_element(peak_samples.begin(), peak_samples.end()));
    if (best_1024 > 0)
      std::printf("Best rung at 1024, 1 thread: %s, %.1f GFLOP/s = %.0f%% of the FMA peak\n", best_1024_name.c_str(),
                  best_1024, 100.0 * best_1024 / peak);
  }
  return 0;
}

}  // namespace tg::bench
