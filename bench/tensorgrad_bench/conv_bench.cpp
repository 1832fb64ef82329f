// A convolution's GEMMs, tensorgrad's kernels against im2col + OpenBLAS. Every pass is validated once against
// the other implementation, then timed in interleaved rounds (round r takes one sample of every cell in turn,
// so a noisy neighbour slows all of them alike) and the median sample is reported.
//
// The passes, for x [N, Cin, H, W], the weight W [Cout, Q] (Q = Cin K K) and the output's gradient g, which
// tensorgrad takes in NCHW ([N, Cout, OH OW], as tg::conv2d hands it over) and the reference as [Cout, P]
// (P = N OH OW, copied once at set-up):
//   forward       out = W cols          tensorgrad: conv_gemm Forward (Winograd where conv_gemm_is_winograd)
//                                       into the NCHW output with a (zero) bias, as tg::conv2d runs it
//                                       reference: im2col, sgemm into [Cout, P]
//   forward (implicit GEMM)             tensorgrad: conv_gemm_implicit Forward, to compare in one run
//   weight grad   dW = g cols^T         tensorgrad: conv_gemm WeightGrad (Winograd where conv_gemm_is_winograd)
//                                       from the NCHW gradient; reference: im2col, sgemm
//   weight grad (implicit GEMM)         tensorgrad: conv_gemm_implicit WeightGrad, to compare in one run
//   input grad    dx = col2im(W^T g)    tensorgrad: as tg::conv2d's plain backward: with K > 1, stride 1 and
//                                       Cin >= 64 or a Winograd backward convolution (conv_gemm_is_winograd),
//                                       a conv_gemm Forward of g (read as an [N, Cout, OH, OW] image) with W
//                                       transposed and flipped, straight into NCHW; else g copied into
//                                       [Cout, P], then matmul and col2im over blocks of images (2 MB of
//                                       columns each)
//                                       reference: sgemm, col2im (ours)
//   input grad via cols                 tensorgrad: g copied into [Cout, P], matmul, col2im over the whole batch
//                                       (to compare in one run)
// cols is the Q x P im2col matrix. The reference recomputes im2col for the weight gradient, as PyTorch's
// slow_conv2d does; its im2col and col2im are tensorgrad's, run on one thread (see OneThread), so on two threads
// only its sgemm is threaded.
#include "conv_bench.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <thread>

#include <tensorgrad/base/threads.h>
#include <tensorgrad/kernels/kernels.h>
#include <tensorgrad/tensorgrad.h>

#include "../../src/kernels/cpu/conv_gemm.h"
#include "../../src/kernels/cpu/gemm.h"
#include "bench_util.h"

#if TG_BENCH_OPENBLAS
#include <cblas.h>
#endif

namespace tg::bench {

namespace {

namespace k = tg::kernels;

k::StridedArg arg(const Tensor& t) { return {t.data_ptr(), t.strides(), t.dtype(), t.device().type}; }

struct Problem {
  ConvBenchCase c;
  k::WindowGeometry g;
  int64_t q = 0, p = 0, l = 0;
  Tensor x, w, grad, bias;           // inputs; grad [N, Cout, L], bias zeros
  Tensor out, dw, cols_grad, dx;     // tensorgrad's results; out [N, Cout, L]
  Tensor grad_cols;                  // tensorgrad's copy of grad as [Cout, P] on the column routes
  Tensor out_by_channel;             // out seen as [Cout, N, L], to compare
  Tensor ref_out, ref_dw, ref_dx;    // the reference's results; ref_out [Cout, N, L]
  Tensor ref_grad;                   // grad as [Cout, P], the reference's operand
  Tensor cols, ref_cols_grad;        // the reference's im2col matrix and W^T g

  double flops() const { return 2.0 * double(c.out_channels) * double(q) * double(p); }
};

Problem make_problem(const ConvBenchCase& c, Generator& gen) {
  Problem pr;
  pr.c = c;
  k::WindowGeometry& g = pr.g;
  g.batch = c.batch;
  g.channels = c.in_channels;
  g.in_h = c.height;
  g.in_w = c.width;
  g.kernel_h = g.kernel_w = c.kernel;
  g.stride_h = g.stride_w = c.stride;
  g.pad_h = g.pad_w = c.padding;
  g.out_h = (c.height + 2 * c.padding - c.kernel) / c.stride + 1;
  g.out_w = (c.width + 2 * c.padding - c.kernel) / c.stride + 1;
  pr.q = c.in_channels * c.kernel * c.kernel;
  pr.l = g.out_h * g.out_w;
  pr.p = c.batch * pr.l;
  pr.x = randn({c.batch, c.in_channels, c.height, c.width}, DType::Float32, gen);
  pr.w = randn({c.out_channels, pr.q}, DType::Float32, gen);
  pr.grad = randn({c.batch, c.out_channels, pr.l}, DType::Float32, gen);
  pr.ref_grad = pr.grad.permute({1, 0, 2}).contiguous().reshape({c.out_channels, pr.p});
  pr.grad_cols = Tensor::empty({c.out_channels, pr.p});
  pr.bias = zeros({c.out_channels}, DType::Float32);
  pr.out = Tensor::empty({c.batch, c.out_channels, pr.l});
  pr.out_by_channel = pr.out.permute({1, 0, 2});
  pr.ref_out = Tensor::empty({c.out_channels, c.batch, pr.l});
  pr.dw = Tensor::empty({c.out_channels, pr.q});
  pr.ref_dw = Tensor::empty({c.out_channels, pr.q});
  pr.cols_grad = Tensor::empty({pr.q, pr.p});
  pr.ref_cols_grad = Tensor::empty({pr.q, pr.p});
  pr.dx = Tensor::empty({c.batch, c.in_channels, c.height, c.width});
  pr.ref_dx = Tensor::empty({c.batch, c.in_channels, c.height, c.width});
  pr.cols = Tensor::empty({pr.q, pr.p});
  return pr;
}

// A [Q, P] matrix seen as im2col's [N, Q, L] in the batch-inner layout.
k::StridedArg as_cols(const Tensor& qp, const Problem& pr) {
  return {qp.data_ptr(), {pr.l, pr.p, 1}, DType::Float32, DeviceType::CPU};
}
// [M, R] as conv_gemm's [G = 1, M, R].
k::StridedArg grouped(const Tensor& t) {
  return {t.data_ptr(), {t.numel(), t.stride(0), t.stride(1)}, DType::Float32, DeviceType::CPU};
}
// An NCHW output (or its gradient) [N, Cout, L] as conv_gemm's 4-D [G = 1, Cout, N, L] operand.
k::StridedArg nchw(const Tensor& t) {
  return {t.data_ptr(), {t.numel(), t.stride(1), t.stride(0), t.stride(2)}, DType::Float32, DeviceType::CPU};
}
// tensorgrad's copy of the NCHW gradient into [Cout, P] on the column routes (the op's by_group_columns).
void gradient_to_columns(Problem& pr) {
  pr.grad_cols.reshape({pr.c.out_channels, pr.c.batch, pr.l}).copy_(pr.grad.permute({1, 0, 2}));
}
k::ConvGemmProblem conv_problem(const Problem& pr) { return {pr.g, 1, pr.c.out_channels}; }

void tg_forward(Problem& pr) {
  k::conv_gemm(k::ConvGemmOp::Forward, conv_problem(pr), nchw(pr.out), grouped(pr.w), arg(pr.x), arg(pr.bias));
}
// The implicit GEMM where the forward would take Winograd (conv_winograd.h), to compare the two in one run.
void tg_forward_implicit(Problem& pr) {
  k::cpu::conv_gemm_implicit(k::ConvGemmOp::Forward, conv_problem(pr), nchw(pr.out), grouped(pr.w), arg(pr.x),
                             arg(pr.bias));
}
void tg_weight_grad(Problem& pr) {
  k::conv_gemm(k::ConvGemmOp::WeightGrad, conv_problem(pr), grouped(pr.dw), nchw(pr.grad), arg(pr.x));
}
void tg_weight_grad_implicit(Problem& pr) {
  k::cpu::conv_gemm_implicit(k::ConvGemmOp::WeightGrad, conv_problem(pr), grouped(pr.dw), nchw(pr.grad), arg(pr.x));
}
void tg_input_grad_via_cols(Problem& pr) {
  const Tensor wt = pr.w.transpose(0, 1);
  gradient_to_columns(pr);
  k::matmul({}, pr.q, pr.p, pr.c.out_channels, arg(pr.cols_grad), arg(wt), arg(pr.grad_cols));
  k::col2im(pr.g, arg(pr.dx), as_cols(pr.cols_grad, pr));
}
// The column route as the op runs it in a plain backward (src/ops/conv.cpp, input_grad_by_image_blocks): g into
// [Cout, P], then W^T g and col2im a block of images at a time (2 MB of columns), so col2im reads the columns from
// cache.
void tg_input_grad_by_image_blocks(Problem& pr) {
  const ConvBenchCase& c = pr.c;
  gradient_to_columns(pr);
  const int64_t block = std::clamp<int64_t>((int64_t{1} << 21) / (pr.q * pr.l * 4), 1, c.batch);
  const Tensor wt = pr.w.transpose(0, 1);
  for (int64_t first = 0; first < c.batch; first += block) {
    const int64_t images = std::min(block, c.batch - first);
    const Tensor g_block = pr.grad_cols.slice(1, first * pr.l, (first + images) * pr.l);
    const Tensor cols_block = pr.cols_grad.slice(1, 0, images * pr.l);
    k::matmul({}, pr.q, images * pr.l, c.out_channels, arg(cols_block), arg(wt), arg(g_block));
    k::WindowGeometry g = pr.g;
    g.batch = images;
    const k::StridedArg as_cols{cols_block.data_ptr(), {pr.l, pr.p, 1}, DType::Float32, DeviceType::CPU};
    k::col2im(g, arg(pr.dx.slice(0, first, first + images)), as_cols);
  }
}
void tg_input_grad(Problem& pr) {
  const ConvBenchCase& c = pr.c;
  // The op's rule (src/ops/conv.cpp, input_grad_is_a_convolution).
  k::WindowGeometry back_window;
  back_window.channels = c.out_channels;
  back_window.kernel_h = back_window.kernel_w = c.kernel;
  const bool winograd = k::conv_gemm_is_winograd({back_window, 1, c.in_channels}, DType::Float32);
  if (c.kernel == 1 || c.stride != 1 || c.padding > c.kernel - 1 || (c.in_channels < 64 && !winograd))
    return tg_input_grad_by_image_blocks(pr);
  // W [Cout, Cin, K, K] -> [Cin, Cout, K, K] flipped in space, as the op's input_grad_by_convolution.
  const Tensor wt = reshape(permute(flip(reshape(pr.w, {c.out_channels, c.in_channels, c.kernel, c.kernel}), {2, 3}),
                                    {1, 0, 2, 3}),
                            {c.in_channels, c.out_channels * c.kernel * c.kernel});
  const Tensor g_image = reshape(pr.grad, {c.batch, c.out_channels, pr.g.out_h, pr.g.out_w});
  k::WindowGeometry back = pr.g;
  back.channels = c.out_channels;
  back.in_h = pr.g.out_h;
  back.in_w = pr.g.out_w;
  back.out_h = c.height;
  back.out_w = c.width;
  back.pad_h = back.pad_w = c.kernel - 1 - c.padding;
  // Straight into the NCHW input gradient, as the op does.
  const int64_t plane = c.height * c.width;
  const k::StridedArg dx{pr.dx.data_ptr(), {c.in_channels * plane, plane, c.in_channels * plane, 1}, DType::Float32,
                         DeviceType::CPU};
  k::conv_gemm(k::ConvGemmOp::Forward, {back, 1, c.in_channels}, dx, grouped(wt), arg(g_image));
}

#if TG_BENCH_OPENBLAS
// The reference's im2col / col2im run on the calling thread only: tensorgrad's OpenMP workers, still spinning
// after a parallel im2col, would take the cores from OpenBLAS's own threads in the sgemm right after it.
struct OneThread {
  int before = tg::num_threads();
  OneThread() { tg::set_num_threads(1); }
  ~OneThread() { tg::set_num_threads(before); }
};

// cols = im2col(x), on one thread.
void ref_cols(Problem& pr) {
  OneThread one;
  k::im2col(pr.g, as_cols(pr.cols, pr), arg(pr.x), 0.0);
}

void ref_forward(Problem& pr) {
  ref_cols(pr);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(pr.c.out_channels), int(pr.p), int(pr.q), 1.0f,
              pr.w.data<float>(), int(pr.q), pr.cols.data<float>(), int(pr.p), 0.0f, pr.ref_out.data<float>(),
              int(pr.p));
}
void ref_weight_grad(Problem& pr) {
  ref_cols(pr);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(pr.c.out_channels), int(pr.q), int(pr.p), 1.0f,
              pr.ref_grad.data<float>(), int(pr.p), pr.cols.data<float>(), int(pr.p), 0.0f, pr.ref_dw.data<float>(),
              int(pr.q));
}
void ref_input_grad(Problem& pr) {
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(pr.q), int(pr.p), int(pr.c.out_channels), 1.0f,
              pr.w.data<float>(), int(pr.q), pr.ref_grad.data<float>(), int(pr.p), 0.0f, pr.ref_cols_grad.data<float>(),
              int(pr.p));
  OneThread one;
  k::col2im(pr.g, arg(pr.ref_dx), as_cols(pr.ref_cols_grad, pr));
}
#endif

// max |a - b| / max |b|.
double relative_difference(const Tensor& a, const Tensor& b) {
  return max(abs(a - b)).item() / std::max(max(abs(b)).item(), 1e-30);
}

struct Pass {
  const char* name;
  void (*tg)(Problem&);
  void (*ref)(Problem&);
  Tensor Problem::*tg_result;
  Tensor Problem::*ref_result;
};

double sample(const std::function<void()>& call, double min_seconds) {
  int64_t calls = 0;
  const auto t0 = clock::now();
  do {
    call();
    ++calls;
  } while (seconds_since(t0) < min_seconds);
  return seconds_since(t0) / double(calls);
}

std::string cell(double v, const char* format) {
  if (std::isnan(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

}  // namespace

std::vector<ConvBenchCase> default_conv_cases() {
  return {{"cnn conv1 (1->32, 28x28)", 128, 1, 28, 28, 32, 3, 1, 1},
          {"cnn conv2 (32->64, 14x14)", 128, 32, 14, 14, 64, 3, 1, 1},
          {"resnet 3x3 (64->64, 56x56)", 8, 64, 56, 56, 64, 3, 1, 1}};
}

int run_conv_bench(const ConvBenchOptions& opt) {
  Generator gen(2024);
  std::vector<Problem> problems;
  for (const ConvBenchCase& c : opt.cases) problems.push_back(make_problem(c, gen));

#if TG_BENCH_OPENBLAS
  const std::vector<Pass> passes = {{"forward", &tg_forward, &ref_forward, &Problem::out_by_channel, &Problem::ref_out},
                                    {"forward (implicit GEMM)", &tg_forward_implicit, &ref_forward,
                                     &Problem::out_by_channel, &Problem::ref_out},
                                    {"weight grad", &tg_weight_grad, &ref_weight_grad, &Problem::dw, &Problem::ref_dw},
                                    {"weight grad (implicit GEMM)", &tg_weight_grad_implicit, &ref_weight_grad,
                                     &Problem::dw, &Problem::ref_dw},
                                    {"input grad", &tg_input_grad, &ref_input_grad, &Problem::dx, &Problem::ref_dx},
                                    {"input grad via cols", &tg_input_grad_via_cols, &ref_input_grad, &Problem::dx,
                                     &Problem::ref_dx}};
  const bool have_ref = true;
#else
  const std::vector<Pass> passes = {{"forward", &tg_forward, nullptr, &Problem::out_by_channel, nullptr},
                                    {"forward (implicit GEMM)", &tg_forward_implicit, nullptr, &Problem::out_by_channel,
                                     nullptr},
                                    {"weight grad", &tg_weight_grad, nullptr, &Problem::dw, nullptr},
                                    {"weight grad (implicit GEMM)", &tg_weight_grad_implicit, nullptr, &Problem::dw,
                                     nullptr},
                                    {"input grad", &tg_input_grad, nullptr, &Problem::dx, nullptr},
                                    {"input grad via cols", &tg_input_grad_via_cols, nullptr, &Problem::dx, nullptr}};
  const bool have_ref = false;
#endif

  std::printf("# tensorgrad-bench conv\n\n");
  std::printf("- CPU: %s, %u hardware threads\n", cpu_model().c_str(), std::thread::hardware_concurrency());
  const auto& kernel = tg::kernels::cpu::default_micro_kernel<float>();
  std::printf("- tensorgrad: conv_gemm (Winograd F(2x2, 3x3) for 3x3 stride-1 float32 with >= 16 channels, else the "
              "implicit GEMM) with the %s micro-kernel%s%s where it fits Cout; reference: %s\n",
              kernel.name, kernel.companion.fn != nullptr ? " or its companion " : "",
              kernel.companion.fn != nullptr ? kernel.companion.name : "",
              have_ref ? "im2col + OpenBLAS sgemm (+ col2im)" : "none (OpenBLAS not linked)");
#if TG_BENCH_OPENBLAS
  std::printf("- OpenBLAS: %s (core %s)\n", openblas_get_config(), openblas_get_corename());
#endif
  std::printf("- float32; median of %d interleaved samples of >= %.3f s each; GFLOP/s counts 2 M Q P per pass (Winograd: effective)\n",
              opt.repetitions, opt.min_sample_seconds);

  for (int threads : opt.threads) {
    tg::set_num_threads(threads);
#if TG_BENCH_OPENBLAS
    openblas_set_num_threads(threads);
#endif
    // Validate every pass once (this also warms both up).
    for (Problem& pr : problems)
      for (const Pass& pass : passes) {
        pass.tg(pr);
        if (pass.ref == nullptr) continue;
        pass.ref(pr);
        const double diff = relative_difference(pr.*pass.tg_result, pr.*pass.ref_result);
        if (!(diff <= 1e-4)) {
          std::fprintf(stderr, "tensorgrad-bench conv: %s %s differs from the reference by %.3g (relative)\n",
                       pr.c.name.c_str(), pass.name, diff);
          return 1;
        }
      }
    std::vector<std::vector<double>> tg_s(problems.size() * passes.size()), ref_s(problems.size() * passes.size());
    auto pause = [&] {
      if (threads > 1) std::this_thread::sleep_for(std::chrono::milliseconds(opt.pause_ms));
    };
    for (int r = 0; r < opt.repetitions; ++r)
      for (size_t i = 0; i < problems.size(); ++i)
        for (size_t j = 0; j < passes.size(); ++j) {
          Problem& pr = problems[i];
          const Pass& pass = passes[j];
          pause();
          tg_s[i * passes.size() + j].push_back(sample([&] { pass.tg(pr); }, opt.min_sample_seconds));
          if (pass.ref == nullptr) continue;
          pause();
          ref_s[i * passes.size() + j].push_back(sample([&] { pass.ref(pr); }, opt.min_sample_seconds));
        }
    std::printf("\n## %d thread%s\n\n", threads, threads == 1 ? "" : "s");
    std::printf("| case | pass | tensorgrad ms | GFLOP/s | reference ms | GFLOP/s | speed-up (reference ms / tensorgrad ms) |\n");
    std::printf("|---|---|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < problems.size(); ++i)
      for (size_t j = 0; j < passes.size(); ++j) {
        const double t = median(tg_s[i * passes.size() + j]), rt = median(ref_s[i * passes.size() + j]);
        const double f = problems[i].flops();
        std::printf("| %s | %s | %s | %s | %s | %s | %s |\n", problems[i].c.name.c_str(), passes[j].name,
                    cell(t * 1e3, "%.2f").c_str(), cell(f / t * 1e-9, "%.0f").c_str(), cell(rt * 1e3, "%.2f").c_str(),
                    cell(f / rt * 1e-9, "%.0f").c_str(), cell(rt / t, "%.2f").c_str());
      }
  }
  return 0;
}

}  // namespace tg::bench
