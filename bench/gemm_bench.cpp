// GEMM throughput: tg::matmul (the production CPU GEMM) against the reference kernel it replaced and OpenBLAS
// (when found at configure time), on the MLP's training shapes and 512^3, float32, 1 and 2 threads.
//
//   cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DTG_BUILD_BENCH=ON
//   ninja -C build-bench gemm_bench
//   build-bench/bench/gemm_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// Names read <shape>/<impl>/threads:<n>; the GFLOPS counter is 2 m n k per second / 1e9. Implementations:
//   tg       tg::matmul on tensors (allocates C, dispatches through the registry: what training runs)
//   gemm:X   the GEMM with micro-kernel X called directly (every kernel this CPU can run)
//   ref      the reference kernel (the old tg::matmul path), single-threaded by construction
//   openblas cblas_sgemm with the same transposes, openblas_set_num_threads(n)
// TG_BENCH_BLOCKING=mc,kc,nc overrides the blocking of the gemm:X rows (for tuning).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <tensorgrad/base/threads.h>
#include <tensorgrad/tensorgrad.h>

#include "../src/kernels/cpu/gemm.h"
#include "../src/kernels/ref/ref_kernels.h"

#if TG_BENCH_OPENBLAS
#include <cblas.h>
#endif

namespace {

namespace cpu = tg::kernels::cpu;
using tg::Tensor;

// C[m, n] = op(A) op(B), where a transposed operand is the transposed view of a contiguous matrix (how the
// backward pass meets it: x^T @ g, g @ W^T).
struct Shape3 {
  const char* name;
  int64_t m, n, k;
  bool a_t, b_t;
};
const Shape3 kShapes[] = {
    {"fwd_x@W_128x784@784x512", 128, 512, 784, false, false},
    {"bwd_xT@g_784x128@128x512", 784, 512, 128, true, false},
    {"bwd_g@WT_128x512@512x784", 128, 784, 512, false, true},
    {"square_512", 512, 512, 512, false, false},
};

Tensor filled(int64_t rows, int64_t cols, tg::DType dtype, unsigned seed) {
  std::vector<double> v(static_cast<size_t>(rows * cols));
  for (double& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = (seed >> 8) * (1.0 / 16777216.0) - 0.5;
  }
  return tg::from_vector(v, {rows, cols}).to(dtype);
}

// The operands as tensors: op(A) is [m, k], op(B) is [k, n].
struct Operands {
  Tensor a, b;
};
Operands operands(const Shape3& s, tg::DType dtype) {
  Operands o;
  o.a = s.a_t ? tg::transpose(filled(s.k, s.m, dtype, 1), 0, 1) : filled(s.m, s.k, dtype, 1);
  o.b = s.b_t ? tg::transpose(filled(s.n, s.k, dtype, 2), 0, 1) : filled(s.k, s.n, dtype, 2);
  return o;
}

tg::kernels::StridedArg arg(const Tensor& t) { return {t.data_ptr(), t.strides(), t.dtype()}; }

void set_flops(benchmark::State& state, const Shape3& s) {
  state.counters["GFLOPS"] = benchmark::Counter(2.0 * s.m * s.n * s.k * 1e-9 * double(state.iterations()),
                                                benchmark::Counter::kIsRate);
}

void bench_tg(benchmark::State& state, Shape3 s) {
  tg::set_num_threads(static_cast<int>(state.range(0)));
  const Operands o = operands(s, tg::DType::Float32);
  for (auto _ : state) benchmark::DoNotOptimize(tg::matmul(o.a, o.b));
  set_flops(state, s);
}

void bench_gemm(benchmark::State& state, Shape3 s, cpu::MicroKernel<float> kernel) {
  const Operands o = operands(s, tg::DType::Float32);
  const Tensor c = Tensor::empty({s.m, s.n}, tg::DType::Float32);
  cpu::GemmBlocking blocking = kernel.blocking;
  if (const char* env = std::getenv("TG_BENCH_BLOCKING")) {
    long mc, kc, nc;
    if (std::sscanf(env, "%ld,%ld,%ld", &mc, &kc, &nc) == 3) blocking = {mc, kc, nc};
  }
  const cpu::GemmOptions options{static_cast<int>(state.range(0)), 1};
  for (auto _ : state) {
    cpu::gemm<float>({}, s.m, s.n, s.k, arg(c), arg(o.a), arg(o.b), kernel, blocking, options);
    benchmark::ClobberMemory();
  }
  set_flops(state, s);
}

void bench_ref(benchmark::State& state, Shape3 s) {
  const auto ref = tg::kernels::reference_tables().matmul.find(tg::DeviceType::CPU, tg::DType::Float32);
  const Operands o = operands(s, tg::DType::Float32);
  const Tensor c = Tensor::empty({s.m, s.n}, tg::DType::Float32);
  for (auto _ : state) {
    ref({}, s.m, s.n, s.k, arg(c), arg(o.a), arg(o.b), {});
    benchmark::ClobberMemory();
  }
  set_flops(state, s);
}

#if TG_BENCH_OPENBLAS
void bench_openblas(benchmark::State& state, Shape3 s) {
  openblas_set_num_threads(static_cast<int>(state.range(0)));
  // The same storage as the tg operands: a transposed operand is a contiguous matrix read as its transpose.
  const Tensor a = filled(s.a_t ? s.k : s.m, s.a_t ? s.m : s.k, tg::DType::Float32, 1);
  const Tensor b = filled(s.b_t ? s.n : s.k, s.b_t ? s.k : s.n, tg::DType::Float32, 2);
  const Tensor c = Tensor::empty({s.m, s.n}, tg::DType::Float32);
  const int m = int(s.m), n = int(s.n), k = int(s.k);
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, s.a_t ? CblasTrans : CblasNoTrans, s.b_t ? CblasTrans : CblasNoTrans, m, n, k, 1.0f,
                a.data<float>(), s.a_t ? m : k, b.data<float>(), s.b_t ? k : n, 0.0f, c.data<float>(), n);
    benchmark::ClobberMemory();
  }
  set_flops(state, s);
}
#endif

void register_all() {
  for (const Shape3& s : kShapes) {
    const std::string base = s.name;
    auto threads = [](benchmark::internal::Benchmark* b) {
      b->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond)->UseRealTime();
    };
    threads(benchmark::RegisterBenchmark((base + "/tg").c_str(), bench_tg, s));
    for (const cpu::MicroKernel<float>& kernel : cpu::available_micro_kernels<float>())
      threads(benchmark::RegisterBenchmark((base + "/gemm:" + kernel.name).c_str(), bench_gemm, s, kernel));
    benchmark::RegisterBenchmark((base + "/ref").c_str(), bench_ref, s)
        ->ArgName("threads")->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();
#if TG_BENCH_OPENBLAS
    threads(benchmark::RegisterBenchmark((base + "/openblas").c_str(), bench_openblas, s));
#endif
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  register_all();
#if TG_BENCH_OPENBLAS
  benchmark::AddCustomContext("openblas", openblas_get_corename());
#endif
  benchmark::AddCustomContext("tg_kernel_f32", cpu::default_micro_kernel<float>().name);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
