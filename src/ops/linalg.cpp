// matmul with NumPy semantics: 1-D promotion and broadcast batch dimensions.
#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/linalg.h>
#include <tensorgrad/ops/view.h>

#include <algorithm>

#include "profiling.h"
#include "record.h"

namespace tg {

namespace {

// The operand as a matrix stack: a 1-D left operand becomes a row [1, k], a 1-D right one a column [k, 1].
Tensor as_matrix(const Tensor& t, bool left) {
  if (t.dim() >= 2) return t;
  const Shape shape = left ? Shape{1, t.size(0)} : Shape{t.size(0), 1};
  return t.as_strided(shape, {t.stride(0), t.stride(0)}, t.offset());
}

Shape batch_of(const Tensor& m) { return Shape(m.shape().begin(), m.shape().end() - 2); }

// Kernel strides for a matrix stack read over the broadcast batch shape: batch..., row, col.
kernels::StridedArg matrix_arg(const Tensor& m, const Shape& batch) {
  const Strides batch_strides(m.strides().begin(), m.strides().end() - 2);
  Strides strides = broadcast_strides(batch_of(m), batch_strides, batch);
  strides.push_back(m.strides()[m.strides().size() - 2]);
  strides.push_back(m.strides().back());
  return {m.data_ptr(), strides, m.dtype(), m.device().type};
}

Tensor last_two_swapped(const Tensor& t) { return transpose(t, t.dim() - 2, t.dim() - 1); }

// A matrix stored column-major: the transposed view of a contiguous one (linear's W^T).
bool is_column_major(const Tensor& t) {
  return t.dim() == 2 && t.size(0) > 1 && t.size(1) > 1 && t.stride(0) == 1 && t.stride(1) == t.size(0);
}

// op(x)'s gradient laid out like x: for a column-major operand, the transpose of a contiguous product (the
// same dot products, so the same values). The transposes then cancel on the way back to the leaf, and the
// optimizer gets a contiguous .grad without a transposing copy.
Tensor product_like(const Tensor& operand, const Tensor& left, const Tensor& right) {
  if (is_column_major(operand)) return last_two_swapped(matmul(last_two_swapped(right), last_two_swapped(left)));
  return matmul(left, right);
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  TG_PROFILE_OP_FLOPS("matmul", ops::matmul_flops(a, b), a, b);
  TG_CHECK(a.dim() >= 1 && b.dim() >= 1, "tg::matmul: both operands need at least 1 dimension, got shapes ",
           a.shape(), " @ ", b.shape());
  TG_CHECK(a.dtype() != DType::Bool && b.dtype() != DType::Bool, "tg::matmul: bool operands are not supported (",
           dtype_name(a.dtype()), " @ ", dtype_name(b.dtype()), ")");
  const bool a_vec = a.dim() == 1, b_vec = b.dim() == 1;
  const DType dt = promote_types(a.dtype(), b.dtype());
  const Tensor am = as_matrix(ops::cast_raw(a, dt), /*left=*/true);
  const Tensor bm = as_matrix(ops::cast_raw(b, dt), /*left=*/false);
  const int64_t m = am.size(-2), k = am.size(-1), n = bm.size(-1);
  TG_CHECK(k == bm.size(-2), "tg::matmul: inner dimensions differ: ", shape_str(a.shape()), " @ ",
           shape_str(b.shape()));
  const Shape a_batch = batch_of(am), b_batch = batch_of(bm);
  // Checked here rather than by broadcast_shapes so the message shows whole operands, not just batch dims.
  const size_t rank = std::max(a_batch.size(), b_batch.size());
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a_batch.size() ? 1 : a_batch[i - (rank - a_batch.size())];
    const int64_t db = i < rank - b_batch.size() ? 1 : b_batch[i - (rank - b_batch.size())];
    TG_CHECK(da == db || da == 1 || db == 1, "tg::matmul: batch dimensions cannot be broadcast: ",
             shape_str(a.shape()), " @ ", shape_str(b.shape()));
  }
  const Shape batch = broadcast_shapes(a_batch, b_batch, "tg::matmul");

  Shape full = batch, result = batch;
  full.push_back(m);
  full.push_back(n);
  if (!a_vec) result.push_back(m);
  if (!b_vec) result.push_back(n);
  ops::check_same_device("tg::matmul", a, b);
  Tensor c = Tensor::empty(full, dt, a.device());
  kernels::matmul(batch, m, n, k, ops::arg(c), matrix_arg(am, batch), matrix_arg(bm, batch));
  // Dropping the size-1 dims a 1-D operand added leaves the layout contiguous.
  Tensor out = result == full ? c : c.as_strided(result, contiguous_strides(result), 0);
  if (ops::needs_tangent({a, b})) {
    ops::push_tangent({a, b}, out, [&](const TensorList& t) {
      return ops::sum_defined({t[0].defined() ? matmul(t[0], b) : Tensor(), t[1].defined() ? matmul(a, t[1]) : Tensor()});
    });
  }

  if (ops::needs_grad({a, b})) {
    const bool a_grad = a.requires_grad(), b_grad = b.requires_grad();
    ops::record(
        "matmul", {a, b}, out,
        [a_vec, b_vec, a_grad, b_grad](const Tensor& g, const TensorList& saved) -> TensorList {
          // Work on matrix stacks: put back the dims the 1-D operands lost, then remove them from the
          // gradients. Broadcast batch dims are summed away by the engine.
          Tensor gm = g;
          if (b_vec) gm = unsqueeze(gm, gm.dim());
          if (a_vec) gm = unsqueeze(gm, gm.dim() - 1);
          const Tensor am2 = a_vec ? unsqueeze(saved[0], 0) : saved[0];
          const Tensor bm2 = b_vec ? unsqueeze(saved[1], 1) : saved[1];
          Tensor ga, gb;
          if (a_grad) {
            ga = product_like(am2, gm, last_two_swapped(bm2));
            if (a_vec) ga = squeeze(ga, ga.dim() - 2);
          }
          if (b_grad) {
            gb = product_like(bm2, last_two_swapped(am2), gm);
            if (b_vec) gb = squeeze(gb, gb.dim() - 1);
          }
          return {ga, gb};
        },
        {{a, b}});
  }
  return out;
}

namespace {

// rows [N, in] @ weight^T + bias in one GEMM pass: the bias is added to each tile of the output as it is written
// (kernels::matmul_fused) instead of by a second sweep over y. The node's VJP and JVP are the unfused ones,
// written with ordinary ops: d rows = g W, d W = g^T rows, d bias = g (summed over rows by the engine).
Tensor fused_linear(const Tensor& rows, const Tensor& weight, const Tensor& bias) {
  const int64_t n = rows.size(0), in = rows.size(1), out_features = weight.size(0);
  Tensor y = Tensor::empty({n, out_features}, rows.dtype(), rows.device());
  const kernels::StridedArg weight_t{weight.data_ptr(), {weight.stride(1), weight.stride(0)}, weight.dtype(),
                                     weight.device().type};
  kernels::MatmulEpilogue epilogue;
  epilogue.bias = bias.data_ptr();
  epilogue.bias_stride = bias.stride(0);
  kernels::matmul_fused({}, n, out_features, in, ops::arg(y), ops::arg(rows), weight_t, epilogue);
  if (ops::needs_tangent({rows, weight, bias})) {
    ops::push_tangent({rows, weight, bias}, y, [&](const TensorList& t) {
      return ops::sum_defined({t[0].defined() ? matmul(t[0], transpose(weight, 0, 1)) : Tensor(),
                               t[1].defined() ? matmul(rows, transpose(t[1], 0, 1)) : Tensor(), t[2]});
    });
  }
  if (ops::needs_grad({rows, weight, bias})) {
    const bool rows_grad = rows.requires_grad(), weight_grad = weight.requires_grad(), bias_grad = bias.requires_grad();
    ops::record(
        "linear", {rows, weight, bias}, y,
        [rows_grad, weight_grad, bias_grad](const Tensor& g, const TensorList& saved) -> TensorList {
          return {rows_grad ? matmul(g, saved[1]) : Tensor(), weight_grad ? matmul(transpose(g, 0, 1), saved[0]) : Tensor(),
                  bias_grad ? g : Tensor()};
        },
        {{rows, weight}});
  }
  return y;
}

// The fused path takes one floating dtype and one device throughout (every device's matmul kernel takes the
// epilogue; those without a fused one apply it after the product).
bool fused_linear_applies(const Tensor& rows, const Tensor& weight, const Tensor& bias) {
  return bias.defined() && is_floating(rows.dtype()) && weight.dtype() == rows.dtype() &&
         bias.dtype() == rows.dtype() && rows.device() == weight.device() && bias.device() == rows.device();
}

}  // namespace

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  TG_PROFILE_OP_FLOPS("linear", ops::linear_flops(x, weight), x, weight, bias);
  TG_CHECK(weight.dim() == 2, "tg::linear: weight must be [out_features, in_features], got ", weight.shape());
  TG_CHECK(x.dim() >= 1 && x.size(-1) == weight.size(1), "tg::linear: input ", x.shape(), " does not end in ",
           weight.size(1), " features, as weight ", weight.shape(), " expects");
  TG_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == weight.size(0)), "tg::linear: bias ",
           bias.defined() ? shape_str(bias.shape()) : std::string(), " does not match weight ", weight.shape());
  const Tensor rows = x.dim() == 2 ? x : reshape(x, {-1, x.size(-1)});
  Tensor y;
  if (fused_linear_applies(rows, weight, bias)) {
    y = fused_linear(rows, weight, bias);
  } else {
    y = matmul(rows, transpose(weight, 0, 1));
    if (bias.defined()) y = y + bias;
  }
  if (x.dim() == 2) return y;
  Shape out_shape(x.shape().begin(), x.shape().end() - 1);
  out_shape.push_back(weight.size(0));
  return reshape(y, out_shape);
}

}  // namespace tg
