// The implicit-GEMM convolution written as its definition (kernels.h): every element of cols[g] computed
// where it is used, one multiply-add at a time. The oracle for cpu/conv_gemm.cpp.
#include "ref_kernels.h"

namespace tg::kernels::ref {

namespace {

// cols[g][q, p] of the definition in kernels.h: x at the window position, or 0 in the padding.
template <class T>
T cols_value(const ConvGemmProblem& pr, const T* x, const Strides& xs, int64_t group, int64_t q, int64_t p) {
  const WindowGeometry& g = pr.window;
  const int64_t k = g.kernel_h * g.kernel_w, l = g.out_h * g.out_w;
  const int64_t c = group * (g.channels / pr.groups) + q / k, kh = q % k / g.kernel_w, kw = q % g.kernel_w;
  const int64_t n = p / l, oh = p % l / g.out_w, ow = p % g.out_w;
  const int64_t ih = oh * g.stride_h - g.pad_h + kh * g.dilation_h, iw = ow * g.stride_w - g.pad_w + kw * g.dilation_w;
  if (ih < 0 || ih >= g.in_h || iw < 0 || iw >= g.in_w) return T(0);
  return x[n * xs[0] + c * xs[1] + ih * xs[2] + iw * xs[3]];
}

// The output (or its gradient) element of column p = n L + l: strides (group, row, image, position).
int64_t output_offset(const Strides& s, int64_t grp, int64_t i, int64_t p, int64_t l) {
  return grp * s[0] + i * s[1] + p / l * s[2] + p % l * s[3];
}

template <class T>
void conv_gemm_typed(ConvGemmOp op, const ConvGemmProblem& pr, const StridedArg& out, const StridedArg& a,
                     const StridedArg& x, const StridedArg& bias) {
  const WindowGeometry& g = pr.window;
  const int64_t m = pr.out_channels / pr.groups, q_size = g.channels / pr.groups * g.kernel_h * g.kernel_w;
  const int64_t l = g.out_h * g.out_w, p_size = g.batch * l;
  T* o = static_cast<T*>(out.data);
  const T* av = static_cast<const T*>(a.data);
  const T* xv = static_cast<const T*>(x.data);
  const T* bv = static_cast<const T*>(bias.data);
  const Strides &os = out.strides, &as = a.strides;
  for (int64_t grp = 0; grp < pr.groups; ++grp)
    for (int64_t i = 0; i < m; ++i) {
      if (op == ConvGemmOp::Forward) {
        const T* arow = av + grp * as[0] + i * as[1];
        for (int64_t p = 0; p < p_size; ++p) {
          T sum(0);
          for (int64_t q = 0; q < q_size; ++q) sum += arow[q * as[2]] * cols_value(pr, xv, x.strides, grp, q, p);
          if (bv != nullptr) sum += bv[(grp * m + i) * bias.strides[0]];
          o[output_offset(os, grp, i, p, l)] = sum;
        }
      } else {
        T* orow = o + grp * os[0] + i * os[1];
        for (int64_t q = 0; q < q_size; ++q) {
          T sum(0);
          for (int64_t p = 0; p < p_size; ++p)
            sum += av[output_offset(as, grp, i, p, l)] * cols_value(pr, xv, x.strides, grp, q, p);
          orow[q * os[2]] = sum;
        }
      }
    }
}

void conv_gemm(ConvGemmOp op, const ConvGemmProblem& pr, const StridedArg& out, const StridedArg& a,
               const StridedArg& x, const StridedArg& bias) {
  switch (x.dtype) {
    case DType::Float32: return conv_gemm_typed<float>(op, pr, out, a, x, bias);
    case DType::Float64: return conv_gemm_typed<double>(op, pr, out, a, x, bias);
    default: TG_FAIL("tg::", op_name(op), ": no reference kernel for ", dtype_name(x.dtype));
  }
}

}  // namespace

void register_conv_gemm(KernelTables& t) {
  for (DType d : {DType::Float32, DType::Float64})
    for (ConvGemmOp op : {ConvGemmOp::Forward, ConvGemmOp::WeightGrad}) t.conv_gemm.add(op, DeviceType::CPU, d, &conv_gemm);
}

}  // namespace tg::kernels::ref
