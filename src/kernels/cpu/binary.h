#pragma once
#include "../ref/ref_kernels.h"

namespace tg::kernels::cpu {

// float32 / float64 add, sub, mul, div and relu's gradient over contiguous runs with ISA-cloned loops
// (bit-identical to the reference), float32 silu_grad through unary.cpp's vectorised sigmoid (within a few ulp of
// the reference); the other ops and layouts run the reference loop. Single-threaded:
// register.cpp splits it.
void binary(BinaryOp op, const Shape& shape, const StridedArg& out, const StridedArg& a, const StridedArg& b);

}  // namespace tg::kernels::cpu
