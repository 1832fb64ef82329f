#pragma once
#include "../ref/ref_kernels.h"

namespace tg::kernels::cpu {

// float32 exp, sigmoid and tanh as vectorisable loops; every other (op, dtype) runs the reference loop.
// Single-threaded: register.cpp splits it.
void unary(UnaryOp op, const Shape& shape, const StridedArg& out, const StridedArg& in);

}  // namespace tg::kernels::cpu
