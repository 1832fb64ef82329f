// float32 exp, sigmoid and tanh through the branch-free forms in vector_math.h, which the compiler vectorises
// (libm's scalar calls do not). The same function serves contiguous and strided runs, so a value never
// depends on the layout it was computed in.
#include "unary.h"

#include "vector_math.h"

namespace tg::kernels::cpu {

namespace {

template <float (*F)(float)>
void unary_f32(UnaryOp, const Shape& shape, const StridedArg& out, const StridedArg& in) {
  map1<float, float>(shape, out, in, [](float x) { return F(x); });
}

}  // namespace

void unary(UnaryOp op, const Shape& shape, const StridedArg& out, const StridedArg& in) {
  if (in.dtype == DType::Float32) {
    switch (op) {
      case UnaryOp::Exp: return unary_f32<exp_f32>(op, shape, out, in);
      case UnaryOp::Sigmoid: return unary_f32<sigmoid_f32>(op, shape, out, in);
      case UnaryOp::Tanh: return unary_f32<tanh_f32>(op, shape, out, in);
      default: break;
    }
  }
  ref::unary(op, shape, out, in);
}

}  // namespace tg::kernels::cpu
