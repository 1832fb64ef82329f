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

void register_unary(KernelTables& t) {
  t.unary.add(op_name(UnaryOp::Exp), DeviceType::CPU, DType::Float32, &unary_f32<exp_f32>);
  t.unary.add(op_name(UnaryOp::Sigmoid), DeviceType::CPU, DType::Float32, &unary_f32<sigmoid_f32>);
  t.unary.add(op_name(UnaryOp::Tanh), DeviceType::CPU, DType::Float32, &unary_f32<tanh_f32>);
}

}  // namespace tg::kernels::cpu
