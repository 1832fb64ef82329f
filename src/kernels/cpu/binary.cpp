// Fast float32 / float64 add, sub, mul, div and relu's gradient over one contiguous run (the whole tensor after
// merging dimensions, or tensor-op-scalar). The loops are compiled per ISA (AVX-512, AVX2, baseline x86-64) with
// GCC's target_clones and chosen once at load time by CPUID, so the library stays baseline x86-64 and still uses
// the wide registers on a machine that has them. The four arithmetic ops are exact IEEE operations, so every
// clone gives the bits the reference loop gives (no FMA contraction is possible: there is one operation per
// element); relu's gradient is a select (x > 0 ? g : +0, the reference's mask blend bit for bit). Other ops go
// to the reference kernel, but float32 silu's gradient, which runs the vectorised sigmoid of unary.cpp.
#include "binary.h"
#include "isa_clones.h"
#include "unary.h"

namespace tg::kernels::cpu {

namespace {


// ReluGrad(g, x): g where x > 0, else +0 (NaN x gives +0). The same bits as the reference's mask blend, written
// as a select, which the clones turn into a compare and a masked move.
template <class T>
inline __attribute__((always_inline)) T relu_grad_value(T g, T x) {
  return x > T(0) ? g : T(0);
}

// b_step / a_step: 1 for a contiguous operand, 0 for a scalar broadcast along the run.
template <class T>
inline __attribute__((always_inline)) void run_loop(BinaryOp op, int64_t n, T* o, const T* a, int64_t a_step,
                                                    const T* b, int64_t b_step) {
#define TG_LOOPS(EXPR)                                                  \
  if (a_step == 1 && b_step == 1) {                                     \
    for (int64_t i = 0; i < n; ++i) {                                   \
      const T x = a[i], y = b[i];                                       \
      o[i] = EXPR;                                                      \
    }                                                                   \
  } else if (a_step == 1) {                                             \
    const T y = b[0];                                                   \
    for (int64_t i = 0; i < n; ++i) {                                   \
      const T x = a[i];                                                 \
      o[i] = EXPR;                                                      \
    }                                                                   \
  } else {                                                              \
    const T x = a[0];                                                   \
    for (int64_t i = 0; i < n; ++i) {                                   \
      const T y = b[i];                                                 \
      o[i] = EXPR;                                                      \
    }                                                                   \
  }
  switch (op) {
    case BinaryOp::Add: TG_LOOPS(x + y) break;
    case BinaryOp::Sub: TG_LOOPS(x - y) break;
    case BinaryOp::Mul: TG_LOOPS(x * y) break;
    case BinaryOp::Div: TG_LOOPS(x / y) break;
    case BinaryOp::ReluGrad: TG_LOOPS(relu_grad_value(x, y)) break;
    default: break;
  }
#undef TG_LOOPS
}

TG_ISA_CLONES void run_f32(BinaryOp op, int64_t n, float* o, const float* a, int64_t as, const float* b, int64_t bs) {
  run_loop(op, n, o, a, as, b, bs);
}
TG_ISA_CLONES void run_f64(BinaryOp op, int64_t n, double* o, const double* a, int64_t as, const double* b,
                           int64_t bs) {
  run_loop(op, n, o, a, as, b, bs);
}

inline void run(BinaryOp op, int64_t n, float* o, const float* a, int64_t as, const float* b, int64_t bs) {
  run_f32(op, n, o, a, as, b, bs);
}
inline void run(BinaryOp op, int64_t n, double* o, const double* a, int64_t as, const double* b, int64_t bs) {
  run_f64(op, n, o, a, as, b, bs);
}

template <class T>
void binary_fast(BinaryOp op, const Shape& shape, const StridedArg& out, const StridedArg& a, const StridedArg& b) {
  const bool covered = op == BinaryOp::Add || op == BinaryOp::Sub || op == BinaryOp::Mul || op == BinaryOp::Div ||
                       op == BinaryOp::ReluGrad;
  if (!covered) return ref::binary(op, shape, out, a, b);
  T* po = static_cast<T*>(out.data);
  const T* pa = static_cast<const T*>(a.data);
  const T* pb = static_cast<const T*>(b.data);
  for_each_run<3>(shape, {out.strides.data(), a.strides.data(), b.strides.data()}, [&](int64_t n, auto off, auto s) {
    const bool unit_out = s[0] == 1 || n == 1;
    const int64_t as = n == 1 ? 1 : s[1], bs = n == 1 ? 1 : s[2];
    if (unit_out && (as == 1 || as == 0) && (bs == 1 || bs == 0) && (as == 1 || bs == 1)) {
      run(op, n, po + off[0], pa + off[1], as, pb + off[2], bs);
    } else {
      for (int64_t i = 0; i < n; ++i) {
        const T x = pa[off[1] + i * s[1]], y = pb[off[2] + i * s[2]];
        T& r = po[off[0] + i * s[0]];
        switch (op) {
          case BinaryOp::Add: r = x + y; break;
          case BinaryOp::Sub: r = x - y; break;
          case BinaryOp::Mul: r = x * y; break;
          case BinaryOp::ReluGrad: r = relu_grad_value(x, y); break;
          default: r = x / y; break;
        }
      }
    }
  });
}

}  // namespace

void binary(BinaryOp op, const Shape& shape, const StridedArg& out, const StridedArg& a, const StridedArg& b) {
  if (op == BinaryOp::SiluGrad && a.dtype == DType::Float32) return silu_grad_f32(shape, out, a, b);
  if (a.dtype == DType::Float32) return binary_fast<float>(op, shape, out, a, b);
  if (a.dtype == DType::Float64) return binary_fast<double>(op, shape, out, a, b);
  ref::binary(op, shape, out, a, b);
}

}  // namespace tg::kernels::cpu
