// tg_cuda_check: the GPU machine's one program (bench/cuda/check.sh runs it). It validates every CUDA kernel
// family against the CPU before timing anything (as llm.c's dev/cuda does), then times the fp32 GEMM
// against cuBLAS's SGEMM in the same run, and prints a report. It needs no GoogleTest, so it builds on a
// machine with only CUDA, CMake and ninja. Exit status 1 when a check fails.
//   tg_cuda_check [--sizes 1024,2048,4096] [--reps 10]
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <tensorgrad/cuda/cuda.h>
#include <tensorgrad/tensorgrad.h>

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
  Tensor x = randn({257, 129}, DType::Float32, gen), w = randn({65, 129}, DType::Float32, gen), bias = randn({65}, DType::Float32, gen);
  check_close("linear (bias epilogue)", linear(x.to(kCuda), w.to(kCuda), bias.to(kCuda)), linear(x, w, bias), 1e-4);
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

double seconds_of(const std::function<void()>& f, int reps) {
  f();  // warm-up
  cuda::synchronize();
  const auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; ++r) f();
  cuda::synchronize();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
}

void time_gemm(const std::vector<int64_t>& sizes, int reps) {
  std::printf("== fp32 GEMM, C = A B (square), against cuBLAS SGEMM in the same run\n");
  std::printf("  %6s %14s %14s %8s\n", "n", "tg TFLOP/s", "cuBLAS TFLOP/s", "tg/cuBLAS");
  cublasHandle_t handle;
  if (cublasCreate(&handle) != CUBLAS_STATUS_SUCCESS) {
    std::printf("  cuBLAS could not start\n");
    ++failures;
    return;
  }
  Generator gen(2);
  for (int64_t n : sizes) {
    Tensor a = randn({n, n}, DType::Float32, gen, kCuda), b = randn({n, n}, DType::Float32, gen, kCuda);
    Tensor c = empty({n, n}, DType::Float32, kCuda);
    const double flops = 2.0 * n * n * n;
    const double t_tg = seconds_of([&] { c = matmul(a, b); }, reps);
    const float one = 1, zero = 0;
    // Row-major C = A B is column-major C^T = B^T A^T: cuBLAS gets B first.
    const double t_cublas = seconds_of([&] {
      cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(n), static_cast<int>(n), static_cast<int>(n), &one,
                  b.data<float>(), static_cast<int>(n), a.data<float>(), static_cast<int>(n), &zero, c.data<float>(),
                  static_cast<int>(n));
    }, reps);
    std::printf("  %6lld %14.2f %14.2f %8.2f\n", static_cast<long long>(n), flops / t_tg / 1e12, flops / t_cublas / 1e12,
                t_cublas / t_tg);
  }
  cublasDestroy(handle);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int64_t> sizes = {1024, 2048, 4096};
  int reps = 10;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--sizes") == 0 && i + 1 < argc) {
      sizes.clear();
      for (char* s = std::strtok(argv[++i], ","); s != nullptr; s = std::strtok(nullptr, ",")) sizes.push_back(std::atoll(s));
    } else {
      std::fprintf(stderr, "usage: tg_cuda_check [--sizes 1024,2048,4096] [--reps 10]\n");
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
    if (failures == 0) time_gemm(sizes, reps);
    else std::printf("== timing skipped: validation failed\n");
  } catch (const std::exception& e) {
    std::printf("tg_cuda_check: %s\n", e.what());
    return 1;
  }
  std::printf("== %s (%d failed)\n", failures == 0 ? "all checks passed" : "CHECKS FAILED", failures);
  std::printf("not yet implemented on CUDA: bf16/fp16 kernels and the tensor-core GEMM, index/window/conv/pool/"
              "CTC/attention/optimizer families, streams per thread, profiler CUDA times (docs/CUDA.md)\n");
  return failures == 0 ? 0 : 1;
}
