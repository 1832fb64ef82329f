// Sliding windows (im2col, col2im) and convolution (conv1d, conv2d) as a GEMM over the im2col matrix + bias.
//
// im2col and col2im are each other's VJP and both linear, so every order of derivative is exact. A float32 /
// float64 convolution is one implicit GEMM per group, conv_gemm: out = W cols + bias, with cols (the im2col matrix
// over the whole batch, [Cin K, N L]) gathered from the image as the GEMM packs its panels, never written out
// (the kernel layer computes float32 3x3 stride-1 ones by Winograd, kernels::conv_gemm_is_winograd). The op
// hands the kernels the NC(H)W output to write and the NC(H)W gradient to read; where the kernel needs the GEMM's
// [G, M, N L] layout it makes that copy itself (Winograd never does; the implicit GEMM writes an output of 256+
// positions an image in place). Its VJP:
// grad_W = g cols^T (conv_gemm_weight_grad, by the same kernels) and, for the input, with stride 1 and at least 64
// channels a group or a Winograd backward convolution, another convolution (of g with W transposed and flipped),
// else grad_cols = W^T g and col2im; so the node saves x, not cols. conv_gemm_weight_grad is bilinear in (g, x) as conv_gemm is in (W, x),
// and each one's VJP is written with the other, so every order of derivative stays exact. Other dtypes (and a
// device without the kernel) take the materialised route: im2col, one batched matmul, whose backward is the
// same two GEMMs and col2im.
#include <algorithm>
#include <cmath>
#include <string>

#include <tensorgrad/kernels/kernel_tables.h>
#include <tensorgrad/ops/conv.h>
#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/linalg.h>
#include <tensorgrad/ops/movement.h>
#include <tensorgrad/ops/rearrange.h>
#include <tensorgrad/ops/reduce.h>
#include <tensorgrad/ops/view.h>

#include "profiling.h"
#include "record.h"
#include "window.h"

namespace tg {

namespace {

using ops::geometry;
using ops::image_arg;
using ops::make_window;
using ops::Window;

std::string shapes_context(const char* name, const Tensor& t) {
  return std::string(name) + " " + shape_str(t.shape());
}

Tensor col2im_recorded(const Tensor& cols, const Window& w, int64_t channels);

// im2col on a checked window, recorded with col2im as its VJP. The result is [N, C * K, L]; with
// `batch_inner` its memory is laid out as [C * K, N, L] (strides [L, N * L, 1]), the layout in which a
// convolution over the whole batch is a single GEMM.
Tensor im2col_recorded(const Tensor& x, const Window& w, double pad_value, bool batch_inner = false) {
  TG_PROFILE_OP("im2col", x);
  const int64_t n = x.size(0), c = x.size(1), rows = c * w.kernel_numel(), l = w.positions();
  Tensor cols = Tensor::empty({n, rows, l}, x.dtype(), x.device());
  if (batch_inner) cols = cols.as_strided({n, rows, l}, {l, n * l, 1}, 0);
  if (cols.numel() > 0) kernels::im2col(geometry(w, n, c), ops::arg(cols), image_arg(x), pad_value);
  if (ops::needs_tangent({x})) {
    // Linear apart from the constant padding, which has no tangent.
    ops::push_tangent({x}, cols, [&](const TensorList& t) { return im2col_recorded(t[0], w, 0.0, batch_inner); });
  }
  if (ops::needs_grad({x})) {
    ops::record("im2col", {x}, cols, [w, c](const Tensor& g, const TensorList&) -> TensorList {
      return {col2im_recorded(g, w, c)};
    });
  }
  return cols;
}

kernels::ConvGemmProblem conv_problem(const Window& w, const Tensor& x, int64_t groups, int64_t m) {
  return {geometry(w, x.size(0), x.size(1)), groups, m * groups};
}

// The input's gradient from the gradient of cols in the GEMM's [G, Q, N L] layout: col2im over the batch-inner
// layout im2col_recorded(..., batch_inner) produces.
Tensor cols_grad_to_input(const Tensor& cols_grad, const Window& w, int64_t n, int64_t cin) {
  const Tensor rows = reshape(cols_grad, {cin * w.kernel_numel(), n, w.positions()});
  return col2im_recorded(permute(rows, {1, 0, 2}), w, cin);
}

Tensor conv_gemm_recorded(kernels::ConvGemmOp op, const Tensor& a, const Tensor& x, const Window& w, int64_t groups,
                          const Tensor& bias = Tensor());

// An [N, C, *spatial] tensor as [N, C, L], its spatial dims walked as one (a view where they merge).
Tensor positions_view(const Tensor& t) {
  int64_t l = 1;
  for (int64_t d = 2; d < t.dim(); ++d) l *= t.size(d);
  return reshape(t, {t.size(0), t.size(1), l});
}

// An output (or its gradient) [N, Cout, L] as conv_gemm's 4-D (group, row, image, position) operand.
kernels::StridedArg output_arg(const Tensor& t, int64_t groups) {
  const Strides& s = t.strides();
  const int64_t m = t.size(1) / groups;
  return {t.data_ptr(), {m * s[1], s[1], s[0], s[2]}, t.dtype(), t.device().type};
}

// An output's gradient [N, Cout, *out] in the GEMM's [G, M, N L] layout (a copy unless N is 1; the double
// backward's GEMMs and the column route take it).
Tensor by_group_columns(const Tensor& g, int64_t groups) {
  const Tensor rows = positions_view(g);
  const int64_t n = rows.size(0), cout = rows.size(1), l = rows.size(2);
  return reshape(permute(reshape(rows, {n, groups, cout / groups, l}), {1, 2, 0, 3}), {groups, cout / groups, n * l});
}

// Whether a convolution's input gradient is computed as a convolution (below): a kernel of more than one tap (a
// 1x1 kernel's column gradient already is the input's gradient, in the by-group layout), stride 1, padding at
// most dilation (K - 1) along every spatial dimension, and either at least 64 input channels a group or a
// backward convolution the kernel layer computes by Winograd (kernels::conv_gemm_is_winograd: 3x3, float32,
// 16 channels a group or more on both sides). The implicit GEMM has Cin / G rows, so each panel packed from the
// gradient serves Cin / G rows. tensorgrad-bench conv on Zen 5, one thread, implicit-GEMM convolution route vs
// column route: 1 channel 8.0 vs 1.5 ms; 32 (the CNN's conv2) 8.9 vs 8.5 ms with AVX-512 and 14.2 vs 13.3 with
// AVX2; 64 (ResNet 3x3, 56x56) 12.5 vs 15.7 ms with AVX-512 and 21.5 vs 25.1 with AVX2. By Winograd the CNN's
// conv2 takes 5.3 ms (docs/PERFORMANCE.md).
constexpr int64_t kMinGroupChannelsForConvolvedInputGrad = 64;
bool input_grad_is_a_convolution(const Window& w, int64_t cin_g, int64_t m, int64_t groups, DType dtype) {
  if (w.kernel_numel() == 1) return false;
  for (size_t d = 0; d < w.in.size(); ++d)
    if (w.stride[d] != 1 || w.padding[d] > w.dilation[d] * (w.kernel[d] - 1)) return false;
  if (cin_g >= kMinGroupChannelsForConvolvedInputGrad) return true;
  // The backward convolution: the output's gradient (m channels a group) as the image, Cin / G channels out.
  kernels::WindowGeometry back;
  back.channels = m * groups;
  back.kernel_h = w.kernel.size() == 2 ? w.kernel[0] : 1;
  back.kernel_w = w.kernel.back();
  back.dilation_h = w.dilation.size() == 2 ? w.dilation[0] : 1;
  back.dilation_w = w.dilation.back();
  return kernels::conv_gemm_is_winograd({back, groups, cin_g * groups}, dtype);
}

// The input's gradient of a stride-1 convolution out[g] = a[g] cols[g] as one more implicit convolution: the
// output's gradient g ([N, Cout, *out]; the kernel copies it into a padded image when the new padding is not 0)
// convolved with the weight transposed per group and flipped in space, padding dilation (K - 1) - padding, which
// gives back the input's size. The column gradient a^T g (Cin K x N L: 29 MB a CNN step) is never written and
// col2im'd back. Built from recorded ops, so its own derivatives come with it.
Tensor input_grad_by_convolution(const Tensor& g, const Tensor& a, const Window& w, int64_t groups, int64_t cin) {
  const int64_t m = a.size(1), cin_g = cin / groups, nd = static_cast<int64_t>(w.in.size());
  // Flipping every spatial dim reverses the flattened taps: one index_select of the per-group transposed weight,
  // written straight in the [G, Cin/G, M, K] order the convolution takes.
  const int64_t k = w.kernel_numel();
  const Tensor taps_reversed = arange(static_cast<double>(k - 1), -1.0, -1.0, DType::Int64, a.device());
  const Tensor a_t = reshape(index_select(permute(reshape(a, {groups, m, cin_g, k}), {0, 2, 1, 3}), 3, taps_reversed),
                             {groups, cin_g, m * k});
  Shape padding;
  for (int64_t d = 0; d < nd; ++d) padding.push_back(w.dilation[d] * (w.kernel[d] - 1) - w.padding[d]);
  const Window back = make_window(w.out, SpatialArg(w.kernel), SpatialArg(w.dilation), SpatialArg(padding),
                                  SpatialArg(1), "tg::conv (input gradient)", "");
  return conv_gemm_recorded(kernels::ConvGemmOp::Forward, a_t, g, back, groups);  // [N, Cin, *in]
}

// The input's gradient W^T g, then col2im, when nothing records or carries tangents through it (a plain backward):
// a few images at a time, so each block of the column gradient (Cin K x images L) is still in cache when col2im
// reads it back, where the whole batch's (29 MB a CNN step) went to memory and back. The same GEMM and col2im
// kernels over blocks of columns; deterministic, but an image's bits may differ from the whole-batch route's
// where the GEMM's one-k-block rule (gemm.cpp) sees a block's column count as C's shorter side.
Tensor input_grad_by_image_blocks(const Tensor& g_image, const Tensor& a, const Window& w, int64_t groups, int64_t n,
                                  int64_t cin) {
  TG_PROFILE_OP("conv_input_grad", g_image, a);
  const Tensor g = by_group_columns(g_image, groups);  // [G, M, N L]
  const int64_t m = a.size(1), q = a.size(2), l = w.positions();
  Shape x_shape{n, cin};
  x_shape.insert(x_shape.end(), w.in.begin(), w.in.end());
  Tensor dx = Tensor::empty(x_shape, g.dtype(), g.device());
  if (dx.numel() == 0) return dx;
  constexpr int64_t kBlockBytes = int64_t{1} << 21;  // 1-4 MB ran fastest on Zen 5 (1 MB L2, 32 MB L3)
  const int64_t per_image = groups * q * l * static_cast<int64_t>(itemsize(g.dtype()));
  const int64_t block = std::clamp<int64_t>(kBlockBytes / std::max<int64_t>(per_image, 1), 1, n);
  Tensor cols = Tensor::empty({groups, q, block * l}, g.dtype(), g.device());  // [G, Q, images L]
  const Tensor a_t = transpose(a, 1, 2);                                        // [G, Q, M], a view
  for (int64_t first = 0; first < n; first += block) {
    const int64_t images = std::min(block, n - first);
    const Tensor g_block = g.slice(2, first * l, (first + images) * l);           // [G, M, images L]
    const Tensor cols_block = cols.slice(2, 0, images * l);
    kernels::matmul({groups}, q, images * l, m, ops::arg(cols_block), ops::arg(a_t), ops::arg(g_block));
    // cols_block seen as col2im's [images, Cin K, L] (groups stacked along Cin K).
    const kernels::StridedArg as_cols{cols_block.data_ptr(), {l, block * l, 1}, cols.dtype(), cols.device().type};
    kernels::col2im(geometry(w, images, cin), image_arg(dx.slice(0, first, first + images)), as_cols);
  }
  return dx;
}

// The convolution's two implicit GEMMs (kernels::conv_gemm), recorded; with cols[g] the im2col matrix,
//   Forward:    out[g] = a[g] cols[g] + bias  a: the weight [G, M, Cin / G K]            -> [N, Cout, *out]
//   WeightGrad: out[g] = a[g] cols[g]^T       a: the output's gradient [N, Cout, *out]   -> [G, M, Cin / G K]
// Both are bilinear in (a, x). Each one's gradient for a is the other one of g (g cols^T for Forward, g cols for
// WeightGrad); the gradient of cols is a^T g (Forward) or g^T a (WeightGrad), then col2im for x; the bias's is g
// summed over images and positions.
Tensor conv_gemm_recorded(kernels::ConvGemmOp op, const Tensor& a, const Tensor& x, const Window& w, int64_t groups,
                          const Tensor& bias) {
  using kernels::ConvGemmOp;
  const bool forward = op == ConvGemmOp::Forward;
  const int64_t m = forward ? a.size(1) : a.size(1) / groups;
  const int64_t depth = forward ? a.size(2) : x.size(0) * w.positions();
  const int64_t cols = forward ? x.size(0) * w.positions() : x.size(1) / groups * w.kernel_numel();
  TG_PROFILE_OP_FLOPS(kernels::op_name(op), 2 * groups * m * depth * cols, a, x);
  Shape out_shape{groups, m, cols};
  if (forward) {
    out_shape = {x.size(0), m * groups};
    out_shape.insert(out_shape.end(), w.out.begin(), w.out.end());
  }
  Tensor out = Tensor::empty(out_shape, x.dtype(), x.device());
  if (out.numel() > 0) {
    const kernels::ConvGemmProblem problem = conv_problem(w, x, groups, m);
    if (forward)
      kernels::conv_gemm(op, problem, output_arg(positions_view(out), groups), ops::arg(a), image_arg(x),
                         ops::arg_or_none(bias));
    else
      kernels::conv_gemm(op, problem, ops::arg(out), output_arg(positions_view(a), groups), image_arg(x));
  }
  const TensorList inputs = bias.defined() ? TensorList{a, x, bias} : TensorList{a, x};
  if (ops::needs_tangent(inputs)) {
    ops::push_tangent(inputs, out, [&](const TensorList& t) {
      Tensor bias_term;
      if (t.size() > 2 && t[2].defined()) {
        Shape per_channel(out.dim(), 1);
        per_channel[1] = out.size(1);
        bias_term = expand(reshape(t[2], per_channel), out.shape());
      }
      return ops::sum_defined({t[0].defined() ? conv_gemm_recorded(op, t[0], x, w, groups) : Tensor(),
                               t[1].defined() ? conv_gemm_recorded(op, a, t[1], w, groups) : Tensor(), bias_term});
    });
  }
  if (ops::needs_grad(inputs)) {
    const bool a_grad = a.requires_grad(), x_grad = x.requires_grad(), has_bias = bias.defined(),
               bias_grad = has_bias && bias.requires_grad();
    ops::record(
        kernels::op_name(op), inputs, out,
        [op, forward, w, groups, a_grad, x_grad, has_bias, bias_grad](const Tensor& g,
                                                                      const TensorList& saved) -> TensorList {
          const Tensor& a_saved = saved[0];
          const Tensor& image = saved[1];
          Tensor da, dx, dbias;
          if (a_grad)
            da = conv_gemm_recorded(forward ? ConvGemmOp::WeightGrad : ConvGemmOp::Forward, g, image, w, groups);
          if (x_grad && forward &&
              input_grad_is_a_convolution(w, image.size(1) / groups, a_saved.size(1), groups, image.dtype())) {
            dx = input_grad_by_convolution(g, a_saved, w, groups, image.size(1));
          } else if (x_grad && forward && !ops::needs_grad({g, a_saved}) && !ops::needs_tangent({g, a_saved})) {
            dx = input_grad_by_image_blocks(g, a_saved, w, groups, image.size(0), image.size(1));
          } else if (x_grad) {
            const Tensor cols_grad = forward ? matmul(transpose(a_saved, 1, 2), by_group_columns(g, groups))
                                             : matmul(transpose(g, 1, 2), by_group_columns(a_saved, groups));
            dx = cols_grad_to_input(cols_grad, w, image.size(0), image.size(1));
          }
          if (bias_grad) {
            Dims over{0};
            for (int64_t d = 2; d < g.dim(); ++d) over.push_back(d);
            dbias = sum(g, over);
          }
          return has_bias ? TensorList{da, dx, dbias} : TensorList{da, dx};
        },
        {{a, x}});
  }
  return out;
}

// Whether conv_gemm runs for x: float32 / float64 on a device whose kernel table has it.
bool has_conv_gemm(const Tensor& x) {
  return kernels::kernel_tables().conv_gemm.supports(kernels::ConvGemmOp::Forward, x.device().type, x.dtype()) &&
         kernels::kernel_tables().conv_gemm.supports(kernels::ConvGemmOp::WeightGrad, x.device().type, x.dtype());
}

// col2im on a checked window: cols [N, channels * prod(kernel), L] -> [N, channels, *w.in].
Tensor col2im_recorded(const Tensor& cols, const Window& w, int64_t channels) {
  TG_PROFILE_OP("col2im", cols);
  const int64_t n = cols.size(0);
  Shape shape{n, channels};
  shape.insert(shape.end(), w.in.begin(), w.in.end());
  Tensor x = Tensor::empty(shape, cols.dtype(), cols.device());
  if (x.numel() > 0) kernels::col2im(geometry(w, n, channels), image_arg(x), ops::arg(cols));
  if (ops::needs_tangent({cols}))
    ops::push_tangent({cols}, x, [&](const TensorList& t) { return col2im_recorded(t[0], w, channels); });
  if (ops::needs_grad({cols})) {
    ops::record("col2im", {cols}, x, [w](const Tensor& g, const TensorList&) -> TensorList {
      return {im2col_recorded(g, w, 0.0)};
    });
  }
  return x;
}

void check_window_dtype(DType dt, double pad_value, const char* op, const std::string& context) {
  TG_CHECK(is_floating(dt) || dt == DType::Int64, op,
           ": expected a floating (float32, float64, bfloat16, float16) or int64 tensor, got ", dtype_name(dt), "; ",
           context);
  TG_CHECK(is_floating(dt) || std::isfinite(pad_value), op, ": pad_value ", pad_value,
           " cannot be stored in an int64 tensor; ", context);
}

// The recorded depthwise convolution without bias. Its VJPs, for stride 1 (the only stride it records):
//   d x = depthwise(g, flip(w), padding = dilation (K - 1) - padding, dilation): the transposed convolution;
//   d w[c, k] = sum_n sum_o x[n, c, o - padding + k dilation] g[n, c, o]: a depthwise convolution of x, all N C
//   rows as channels of one sample, with g's rows as their filters, stride = dilation, then summed over n.
Tensor depthwise_recorded(const Tensor& x, const Tensor& w, int64_t stride, int64_t padding, int64_t dilation) {
  const int64_t n = x.size(0), c = x.size(1), len = x.size(2), k = w.size(2);
  kernels::DepthwiseProblem p{n, c, len, (len + 2 * padding - dilation * (k - 1) - 1) / stride + 1, k, stride, padding,
                              dilation};
  Tensor out = Tensor::empty({n, c, p.out_length}, x.dtype(), x.device());
  const Tensor w2 = reshape(w, {c, k});
  if (out.numel() > 0) kernels::depthwise_conv1d(p, ops::arg(out), ops::arg(x), ops::arg(w2));
  const TensorList inputs{x, w};
  if (!ops::needs_tangent(inputs) && !ops::needs_grad(inputs)) return out;
  TG_CHECK(stride == 1 && padding <= dilation * (k - 1), "tg::depthwise_conv1d: derivatives need stride 1 and "
           "padding <= dilation * (kernel - 1), got stride ", stride, ", padding ", padding);
  if (ops::needs_tangent(inputs)) {
    ops::push_tangent(inputs, out, [&](const TensorList& t) {
      return ops::sum_defined({t[0].defined() ? depthwise_recorded(t[0], w, stride, padding, dilation) : Tensor(),
                               t[1].defined() ? depthwise_recorded(x, t[1], stride, padding, dilation) : Tensor()});
    });
  }
  if (ops::needs_grad(inputs)) {
    ops::record("depthwise_conv1d", inputs, out,
                [padding, dilation, want_x = x.requires_grad(), want_w = w.requires_grad()](
                    const Tensor& g, const TensorList& s) -> TensorList {
                  const Tensor& xs = s[0];
                  const Tensor& ws = s[1];
                  const int64_t kk = ws.size(2), nn = xs.size(0), cc = xs.size(1);
                  Tensor dx, dw;
                  if (want_x) dx = depthwise_recorded(g, flip(ws, {2}), 1, dilation * (kk - 1) - padding, dilation);
                  if (want_w) {
                    const Tensor rows = reshape(xs, {1, nn * cc, xs.size(2)});
                    const Tensor filters = reshape(g, {nn * cc, 1, g.size(2)});
                    dw = reshape(sum(reshape(depthwise_recorded(rows, filters, dilation, padding, 1), {nn, cc, kk}),
                                     {0}),
                                 {cc, 1, kk});
                  }
                  return {dx, dw};
                },
                {{x, w}});
  }
  return out;
}

Tensor conv_nd(const Tensor& x, const Tensor& weight, const Tensor& bias, const SpatialArg& stride,
               const SpatialArg& padding, const SpatialArg& dilation, int64_t groups, size_t nd, const char* op) {
  std::string context = "input " + shape_str(x.shape()) + ", weight " + shape_str(weight.shape());
  if (bias.defined()) context += ", bias " + shape_str(bias.shape());
  const int64_t rank = static_cast<int64_t>(nd) + 2;
  const char* layout = nd == 1 ? "[N, C, L]" : "[N, C, H, W]";
  const char* w_layout = nd == 1 ? "[out_channels, in_channels / groups, K]"
                                 : "[out_channels, in_channels / groups, KH, KW]";
  TG_CHECK(x.dim() == rank, op, ": input must be ", rank, "-D ", layout, ", got ", x.dim(), "-D; ", context);
  TG_CHECK(weight.dim() == rank, op, ": weight must be ", rank, "-D ", w_layout, ", got ", weight.dim(), "-D; ",
           context);
  TG_CHECK(is_floating(x.dtype()) && is_floating(weight.dtype()), op, ": expected floating input and weight, got ",
           dtype_name(x.dtype()), " input and ", dtype_name(weight.dtype()), " weight; ", context);
  TG_CHECK(x.dtype() == weight.dtype(), op, ": input (", dtype_name(x.dtype()), ") and weight (",
           dtype_name(weight.dtype()), ") must have the same dtype; ", context);
  TG_CHECK(groups >= 1, op, ": groups must be positive, got ", groups, "; ", context);
  const int64_t n = x.size(0), cin = x.size(1), cout = weight.size(0), cin_g = weight.size(1);
  TG_CHECK(cin % groups == 0, op, ": input has ", cin, " channels, which groups ", groups, " does not divide; ",
           context);
  TG_CHECK(cout % groups == 0, op, ": weight has ", cout, " output channels, which groups ", groups,
           " does not divide; ", context);
  TG_CHECK(cin_g * groups == cin, op, ": input has ", cin, " channels but weight expects ", cin_g * groups,
           " (groups ", groups, "): ", context);
  if (bias.defined()) {
    TG_CHECK(bias.dim() == 1 && bias.size(0) == cout, op, ": bias must be 1-D with ", cout,
             " elements (one per output channel), got shape ", bias.shape(), "; ", context);
    TG_CHECK(bias.dtype() == x.dtype(), op, ": bias (", dtype_name(bias.dtype()), ") must have the input's dtype (",
             dtype_name(x.dtype()), "); ", context);
  }
  const Shape in(x.shape().begin() + 2, x.shape().end());
  const Shape kernel(weight.shape().begin() + 2, weight.shape().end());
  const Window w = make_window(in, SpatialArg(kernel), dilation, padding, stride, op, context);
  const int64_t k = w.kernel_numel(), l = w.positions();

  // The whole batch as one GEMM per group: [Cout/g, Cin/g K] @ [Cin/g K, N L], implicit (conv_gemm, which may
  // split it by images to write NC(H)W in place) where the kernel exists; otherwise cols are produced directly
  // in the [Cin K, N, L] layout that needs (a 1x1 kernel with stride 1 and no padding skips im2col: cols are x
  // itself, permuted by a copy). Per-sample GEMMs against [N, Cin K, L] would need the weight gradient as N
  // separate [Cout, Cin K] products summed afterwards; here it is one GEMM over N L columns.
  bool pointwise = true;
  for (size_t d = 0; d < nd; ++d) pointwise &= w.kernel[d] == 1 && w.stride[d] == 1 && w.padding[d] == 0;
  // Depthwise (one filter per channel): its own kernel.
  if (nd == 1 && groups == cin && cout == cin && cin_g == 1 && w.stride[0] == 1 &&
      w.padding[0] <= w.dilation[0] * (w.kernel[0] - 1)) {
    Tensor out = depthwise_recorded(x, weight, 1, w.padding[0], w.dilation[0]);
    return bias.defined() ? out + reshape(bias, {1, cout, 1}) : out;
  }
  const Tensor wg = reshape(weight, {groups, cout / groups, cin_g * k});
  // The implicit GEMM writes the NC(H)W output, bias included.
  if (has_conv_gemm(x)) return conv_gemm_recorded(kernels::ConvGemmOp::Forward, wg, x, w, groups, bias);
  const Tensor cols = pointwise ? reshape(x, {n, cin, l}) : im2col_recorded(x, w, 0.0, /*batch_inner=*/true);
  const Tensor cols_t = reshape(permute(cols, {1, 0, 2}), {groups, cin_g * k, n * l});  // a view unless 1x1
  Tensor out = matmul(wg, cols_t);  // [groups, Cout / groups, N L]
  // Back to [N, Cout, L]: a copy into the contiguous NC(H)W result, which adds the bias on the way (one pass over
  // the output instead of two).
  const Tensor by_image = permute(reshape(out, {cout, n, l}), {1, 0, 2});
  out = bias.defined() ? by_image + reshape(bias, {1, cout, 1}) : contiguous(by_image);
  Shape out_shape{n, cout};
  out_shape.insert(out_shape.end(), w.out.begin(), w.out.end());
  return reshape(out, out_shape);
}

}  // namespace

Tensor im2col(const Tensor& x, const SpatialArg& kernel_size, const SpatialArg& dilation, const SpatialArg& padding,
              const SpatialArg& stride, double pad_value) {
  const char* op = "tg::im2col";
  const std::string context = shapes_context("input", x);
  TG_CHECK(x.dim() == 3 || x.dim() == 4, op, ": input must be 3-D [N, C, L] or 4-D [N, C, H, W], got ", x.dim(),
           "-D; ", context);
  check_window_dtype(x.dtype(), pad_value, op, context);
  const Shape in(x.shape().begin() + 2, x.shape().end());
  const Window w = make_window(in, kernel_size, dilation, padding, stride, op, context);
  return im2col_recorded(x, w, pad_value);
}

Tensor col2im(const Tensor& cols, const Shape& output_size, const SpatialArg& kernel_size, const SpatialArg& dilation,
              const SpatialArg& padding, const SpatialArg& stride) {
  const char* op = "tg::col2im";
  const std::string context = shapes_context("cols", cols) + ", output_size " + shape_str(output_size);
  TG_CHECK(cols.dim() == 3, op, ": cols must be 3-D [N, C * prod(kernel_size), L], got ", cols.dim(), "-D; ",
           context);
  TG_CHECK(output_size.size() == 1 || output_size.size() == 2, op,
           ": output_size needs 1 or 2 spatial sizes, got ", output_size.size(), "; ", context);
  for (int64_t s : output_size) TG_CHECK(s >= 0, op, ": output_size must be non-negative; ", context);
  check_window_dtype(cols.dtype(), 0.0, op, context);
  const Window w = make_window(output_size, kernel_size, dilation, padding, stride, op, context);
  const int64_t k = w.kernel_numel();
  TG_CHECK(cols.size(1) % k == 0, op, ": cols dimension 1 (", cols.size(1),
           ") must be a multiple of the kernel's ", k, " elements (kernel_size ", w.kernel, "); ", context);
  TG_CHECK(cols.size(2) == w.positions(), op, ": cols has ", cols.size(2),
           " window positions (dimension 2) but output_size ", output_size, " with kernel_size ", w.kernel,
           ", dilation ", w.dilation, ", padding ", w.padding, " and stride ", w.stride, " gives ", w.out, " = ",
           w.positions(), "; ", context);
  return col2im_recorded(cols, w, cols.size(1) / k);
}

Tensor depthwise_conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t stride, int64_t padding,
                        int64_t dilation) {
  TG_PROFILE_OP_FLOPS("depthwise_conv1d", ops::conv_flops(x, weight, stride, padding, dilation), x, weight, bias);
  const char* op = "tg::depthwise_conv1d";
  const std::string context = "input " + shape_str(x.shape()) + ", weight " + shape_str(weight.shape());
  TG_CHECK(x.dim() == 3 && weight.dim() == 3 && weight.size(0) == x.size(1) && weight.size(1) == 1, op,
           ": expected input [N, C, L] and weight [C, 1, K]; ", context);
  TG_CHECK(x.dtype() == weight.dtype() && is_floating(x.dtype()), op,
           ": input and weight must share a floating dtype, got ", dtype_name(x.dtype()), " and ",
           dtype_name(weight.dtype()), "; ", context);
  TG_CHECK(stride >= 1 && dilation >= 1 && padding >= 0, op, ": stride and dilation must be >= 1 and padding >= 0; ",
           context);
  const int64_t k = weight.size(2);
  TG_CHECK(k >= 1 && x.size(2) + 2 * padding >= dilation * (k - 1) + 1, op, ": the kernel (", k, ", dilation ",
           dilation, ") is longer than the padded input (", x.size(2) + 2 * padding, "); ", context);
  TG_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == x.size(1) && bias.dtype() == x.dtype()), op,
           ": bias must be [C] of the input's dtype; ", context);
  // Derivatives of a strided (or over-padded) one go through the general grouped convolution.
  if ((stride != 1 || padding > dilation * (k - 1)) && (ops::needs_grad({x, weight, bias}) || ops::needs_tangent({x, weight, bias})))
    return conv1d(x, weight, bias, stride, padding, dilation, x.size(1));
  const Tensor out = depthwise_recorded(x, weight, stride, padding, dilation);
  return bias.defined() ? out + reshape(bias, {1, x.size(1), 1}) : out;
}

Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, const SpatialArg& stride,
              const SpatialArg& padding, const SpatialArg& dilation, int64_t groups) {
  TG_PROFILE_OP_FLOPS("conv1d", ops::conv_flops(x, weight, stride, padding, dilation), x, weight, bias);
  return conv_nd(x, weight, bias, stride, padding, dilation, groups, 1, "tg::conv1d");
}

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const SpatialArg& stride,
              const SpatialArg& padding, const SpatialArg& dilation, int64_t groups) {
  TG_PROFILE_OP_FLOPS("conv2d", ops::conv_flops(x, weight, stride, padding, dilation), x, weight, bias);
  return conv_nd(x, weight, bias, stride, padding, dilation, groups, 2, "tg::conv2d");
}

}  // namespace tg
