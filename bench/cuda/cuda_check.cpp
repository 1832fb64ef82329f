// tg_cuda_check: the GPU machine's one program (bench/cuda/check.sh runs it). It validates every CUDA kernel
// family against the CPU before timing anything (as llm.c's dev/cuda does), each GEMM kernel (the rungs of the
// ladder, forced one by one) in every operand layout and at edge sizes, then times the rungs against cuBLAS
// in the same run: float32 against SGEMM, bf16 / fp16 against cublasGemmEx with float32 accumulation. It
// needs no GoogleTest, so it builds on a machine with only CUDA, CMake and ninja. Exit status 1 when a check
// fails. Times are medians of CUDA-event intervals after a warm-up.
//   tg_cuda_check [--sizes 1024,2048,4096] [--half-sizes 4096,8192] [--reps 10]
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <tensorgrad/cuda/cuda.h>
#include <tensorgrad/tensorgrad.h>

#include "launch.h"  // src/cuda: the GEMM rungs, forced one by one (detail::MatmulKernel)

namespace {

using namespace tg;
constexpr Device kCuda{DeviceType::CUDA, 0};
int failures = 0;

void check_close(const char* what, const Tensor& gpu, const Tensor& cpu, double tol) {
  const std::vector<double> g = gpu.cpu().to(DType::Float64).contiguous().to_vector<double>();
  const std::vector<double> c = cpu.to(DType::Float64).contiguous().to_vector<double>();
  double worst = 0;
  bool ok = g.size() == c.size();
  for (size_t i = 0; ok && i < g.size(); ++i) {
    const double err = std::abs(g[i] - c[i]) / (1 + std::abs(c[i]));
    if (!(err <= tol)) ok = false;
    worst = std::max(worst, err);
  }
  std::printf("  %-28s %s (max rel err %.2e)\n", what, ok ? "ok  " : "FAIL", worst);
  failures += !ok;
}

void validate() {
  std::printf("== validation against the CPU\n");
  Generator gen(1);
  Tensor a = randn({33, 1, 70}, DType::Float64, gen), b = rand({40, 1}, DType::Float64, gen) + 0.5;
  Tensor ga = a.to(kCuda), gb = b.to(kCuda);
  check_close("binary broadcast", ga * gb + gb / 3.0, a * b + b / 3.0, 1e-14);
  check_close("unary (gelu, tanh, exp)", gelu(ga) + tanh(ga) + exp(ga), gelu(a) + tanh(a) + exp(a), 1e-13);
  check_close("comparisons + where", where(ga > gb, ga, gb), where(a > b, a, b), 0);
  check_close("sum over dims", sum(ga * gb, {0, 2}), sum(a * b, {0, 2}), 1e-12);
  check_close("argmax", argmax(ga, 2), argmax(a, 2), 0);
  check_close("softmax", softmax(ga, 2), softmax(a, 2), 1e-13);
  Tensor x = randn({257, 129}, DType::Float32, gen), w = randn({65, 129}, DType::Float32, gen),
         bias = randn({65}, DType::Float32, gen);
  check_close("linear (bias epilogue)", linear(x.to(kCuda), w.to(kCuda), bias.to(kCuda)), linear(x, w, bias), 1e-4);
  Tensor wa = randn({32, 100352}, DType::Float32, gen), wb = randn({100352, 9}, DType::Float32, gen);
  check_close("split-K (32x9, k 100352)", matmul(wa.to(kCuda), wb.to(kCuda)) / 317.0, matmul(wa, wb) / 317.0, 1e-5);
  Tensor p = randn({5, 64, 32}, DType::Float64, gen), q = randn({5, 32, 48}, DType::Float64, gen);
  check_close("batched matmul", matmul(p.to(kCuda), q.to(kCuda)), matmul(p, q), 1e-12);
  Generator g1(9), g2(9);
  check_close("Philox uniform", rand({4097}, DType::Float32, g1, kCuda), rand({4097}, DType::Float32, g2), 0);
  Tensor w1 = randn({16, 20}, DType::Float64, gen).requires_grad_(), xx = randn({8, 20}, DType::Float64, gen);
  Tensor w1g = w1.detach().to(kCuda).requires_grad_();
  mean(square(tanh(linear(xx, w1)))).backward();
  mean(square(tanh(linear(xx.to(kCuda), w1g)))).backward();
  check_close("backward through ops", w1g.grad(), w1.grad(), 1e-12);
}

using cuda::detail::MatmulKernel;

using cuda::detail::FastVariant;

// One rung of the ladder, forced: a kernel and, for the float32 fast kernel, its variant.
struct Rung {
  const char* name;
  MatmulKernel kernel;
  FastVariant variant;
};
const Rung kStrided{"strided 64x64", MatmulKernel::Strided, {}};
const std::vector<Rung> kFloat32Rungs = {kStrided,
                                         {"128x128 k8 2blk", MatmulKernel::Fast, {8, 2, 0}},
                                         {"128x128 k8 1blk", MatmulKernel::Fast, {8, 1, 0}},
                                         {"128x128 k16 2blk", MatmulKernel::Fast, {16, 2, 0}},
                                         {"128x128 k16 1blk", MatmulKernel::Fast, {16, 1, 0}}};
const std::vector<Rung> kHalfRungs = {{"mma 128x128", MatmulKernel::Fast, {0, 0, 128}},
                                      {"mma 128x256", MatmulKernel::Fast, {0, 0, 256}}};

int dtype_code(DType d) { return static_cast<int>(d); }

cuda::detail::MatmulOperand matrix_of(const Tensor& t) {
  cuda::detail::MatmulOperand o;
  o.data = t.data_ptr();
  o.row_stride = t.strides()[0];
  o.col_stride = t.strides()[1];
  return o;
}

// C = A B (+ bias, activation) by one forced rung; A, B, C are 2-D CUDA tensors of one dtype.
void run_kernel(const Rung& rung, Tensor& c, const Tensor& a, const Tensor& b, const Tensor& bias = Tensor(),
                int activation = 0) {
  cuda::detail::Geometry none;
  cuda::detail::launch_matmul(dtype_code(c.dtype()), none, a.shape()[0], b.shape()[1], a.shape()[1], matrix_of(c),
                              matrix_of(a), matrix_of(b), bias.defined() ? bias.data_ptr() : nullptr,
                              bias.defined() ? bias.strides()[0] : 1, activation, rung.kernel, rung.variant);
}

// A [m, k] in the layout asked for: k contiguous (row-major) or m contiguous (a transposed view).
Tensor in_layout(const Tensor& x, bool rows_contiguous) {
  return rows_contiguous ? x.contiguous() : x.t().contiguous().t();
}

// Every forced kernel, every operand layout, edge and tile-multiple sizes, with and without the epilogue,
// against the CPU in float64 on the same (rounded) inputs.
void validate_gemm() {
  std::printf("== GEMM kernels, every layout, against the CPU (float64 on the same inputs)\n");
  Generator gen(3);
  struct Case {
    DType dtype;
    Rung rung;
    double tol;
  };
  std::vector<Case> cases;
  for (const Rung& r : kFloat32Rungs) cases.push_back({DType::Float32, r, 1e-5});
  cases.push_back({DType::BFloat16, kStrided, 1e-2});
  for (const Rung& r : kHalfRungs) cases.push_back({DType::BFloat16, r, 1e-2});
  for (const Rung& r : kHalfRungs) cases.push_back({DType::Float16, r, 2e-3});
  // Multiples of 8 (the fast kernels read 16-byte chunks along the contiguous dimension, so the other stride must
  // be one), but not of the 128 x 128 x 32 tiles, except the first; tg_tests covers the fallback for the rest.
  const int64_t shapes[][3] = {{128, 128, 32}, {136, 264, 40}, {8, 136, 8}, {1000, 24, 72}, {520, 392, 264}};
  for (const Case& cs : cases) {
    double worst = 0;
    bool ok = true;
    for (const auto& sh : shapes)
      for (int layout = 0; layout < 4; ++layout)
        for (int epilogue = 0; epilogue < 2; ++epilogue) {
          const int64_t m = sh[0], n = sh[1], k = sh[2];
          const Tensor a = randn({m, k}, DType::Float32, gen).to(cs.dtype),
                       b = randn({k, n}, DType::Float32, gen).to(cs.dtype);
          const Tensor bias = randn({n}, DType::Float32, gen).to(cs.dtype);
          const Tensor ga = in_layout(a.to(kCuda), layout & 1), gb = in_layout(b.to(kCuda), layout & 2);
          Tensor gc = full({m, n}, std::nan(""), cs.dtype, kCuda);  // poisoned: every element must be written
          const Tensor gbias = bias.to(kCuda);
          run_kernel(cs.rung, gc, ga, gb, epilogue ? gbias : Tensor(), epilogue ? 1 : 0);
          Tensor ref = matmul(a.to(DType::Float64), b.to(DType::Float64));
          if (epilogue) ref = relu(ref + bias.to(DType::Float64));
          const std::vector<double> g = gc.cpu().to(DType::Float64).contiguous().to_vector<double>();
          const std::vector<double> r = ref.contiguous().to_vector<double>();
          // Error relative to the size of a dot product's terms: sqrt(k) for unit normal inputs.
          const double scale = std::sqrt(static_cast<double>(k)) + 1;
          for (size_t i = 0; i < g.size(); ++i) {
            const double err = std::abs(g[i] - r[i]) / (scale + std::abs(r[i]));
            if (!(err <= cs.tol)) ok = false;
            worst = std::max(worst, std::isnan(err) ? 1e300 : err);
          }
        }
    char what[80];
    std::snprintf(what, sizeof what, "%s %s", dtype_name(cs.dtype), cs.rung.name);
    std::printf("  %-28s %s (max err %.2e, 5 shapes x 4 layouts x 2 epilogues)\n", what, ok ? "ok  " : "FAIL", worst);
    failures += !ok;
  }
}

// Median milliseconds of f over reps CUDA-event intervals, after one warm-up call.
double median_ms(const std::function<void()>& f, int reps) {
  f();
  cuda::synchronize();
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  std::vector<float> ms(static_cast<size_t>(reps));
  for (int r = 0; r < reps; ++r) {
    cudaEventRecord(start);
    f();
    cudaEventRecord(stop);
    cudaEventSynchronize(stop);
    cudaEventElapsedTime(&ms[static_cast<size_t>(r)], start, stop);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  cuda::synchronize();
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

void time_gemm(DType dtype, const std::vector<int64_t>& sizes, const std::vector<Rung>& rungs, int reps,
               cublasHandle_t handle) {
  std::printf("== %s GEMM, C = A B (square, row-major), TFLOP/s; cuBLAS in the same run%s\n", dtype_name(dtype),
              dtype == DType::Float32 ? " (SGEMM, no TF32)" : " (GemmEx, float32 accumulation)");
  std::printf("  %6s", "n");
  for (const Rung& r : rungs) std::printf(" %16s", r.name);
  std::printf(" %10s %10s\n", "cuBLAS", "best/cuBLAS");
  Generator gen(2);
  for (int64_t n : sizes) {
    Tensor a = randn({n, n}, DType::Float32, gen, kCuda).to(dtype),
           b = randn({n, n}, DType::Float32, gen, kCuda).to(dtype);
    Tensor c = empty({n, n}, dtype, kCuda);
    const double gflop = 2.0 * n * n * n / 1e9;
    std::printf("  %6lld", static_cast<long long>(n));
    double best = 0;
    for (const Rung& r : rungs) {
      const double ms = median_ms([&] { run_kernel(r, c, a, b); }, reps);
      best = std::max(best, gflop / ms);
      std::printf(" %16.1f", gflop / ms);
    }
    const float one = 1, zero = 0;
    const int ni = static_cast<int>(n);
    // Row-major C = A B is column-major C^T = B^T A^T: cuBLAS gets B first.
    const double ms_cublas = median_ms([&] {
      if (dtype == DType::Float32)
        cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, ni, ni, ni, &one, b.data<float>(), ni, a.data<float>(), ni, &zero,
                    c.data<float>(), ni);
      else {
        const cudaDataType t = dtype == DType::BFloat16 ? CUDA_R_16BF : CUDA_R_16F;
        cublasGemmEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, ni, ni, ni, &one, b.data_ptr(), t, ni, a.data_ptr(), t, ni,
                     &zero, c.data_ptr(), t, ni, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
      }
    }, reps);
    std::printf(" %10.1f %10.2f\n", gflop / ms_cublas, best / (gflop / ms_cublas));
  }
}

void time_gemms(const std::vector<int64_t>& sizes, const std::vector<int64_t>& half_sizes, int reps) {
  cublasHandle_t handle;
  if (cublasCreate(&handle) != CUBLAS_STATUS_SUCCESS) {
    std::printf("  cuBLAS could not start\n");
    ++failures;
    return;
  }
  cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH);
  time_gemm(DType::Float32, sizes, kFloat32Rungs, reps, handle);
  time_gemm(DType::BFloat16, half_sizes, kHalfRungs, reps, handle);
  time_gemm(DType::Float16, half_sizes, kHalfRungs, reps, handle);
  cublasDestroy(handle);
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // line by line into the report, even if a later line never comes
  std::vector<int64_t> sizes = {1024, 2048, 4096}, half_sizes = {4096, 8192};
  int reps = 10;
  auto parse_sizes = [](char* list) {
    std::vector<int64_t> out;
    for (char* s = std::strtok(list, ","); s != nullptr; s = std::strtok(nullptr, ",")) out.push_back(std::atoll(s));
    return out;
  };
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--sizes") == 0 && i + 1 < argc) sizes = parse_sizes(argv[++i]);
    else if (std::strcmp(argv[i], "--half-sizes") == 0 && i + 1 < argc) half_sizes = parse_sizes(argv[++i]);
    else {
      std::fprintf(stderr, "usage: tg_cuda_check [--sizes 1024,2048,4096] [--half-sizes 4096,8192] [--reps 10]\n");
      return 2;
    }
  }
  if (!cuda::is_available()) {
    std::printf("tg_cuda_check: no CUDA GPU here; nothing to check\n");
    return 1;
  }
  cuda::init();
  std::printf("tg_cuda_check on %s\n", cuda::device_name().c_str());
  try {
    validate();
    validate_gemm();
    if (failures == 0) time_gemms(sizes, half_sizes, reps);
    else std::printf("== timing skipped: validation failed\n");
  } catch (const std::exception& e) {
    std::printf("tg_cuda_check: %s\n", e.what());
    return 1;
  }
  std::printf("== %s (%d failed)\n", failures == 0 ? "all checks passed" : "CHECKS FAILED", failures);
  std::printf("not yet on CUDA: 16-bit elementwise/reduction kernels, index/window/conv/pool/CTC/attention/"
              "optimizer families, wgmma, streams per thread, profiler CUDA times (docs/CUDA.md)\n");
  return failures == 0 ? 0 : 1;
}
