#pragma once
#include "../ref/ref_kernels.h"

namespace tg::kernels::cpu {

// float32 (log-)softmax along a unit-stride dim, vectorised and threaded over rows; otherwise the reference.
void softmax(SoftmaxOp op, const Shape& shape, int64_t dim, const StridedArg& out, const StridedArg& in);

}  // namespace tg::kernels::cpu
