#pragma once
#include "../ref/ref_kernels.h"

namespace tg::kernels::cpu {

// float32 / float64 sum, max and min in one pass over the input in memory order (layouts they do not cover
// run the reference loop); a whole-tensor sum splits its blocks over threads, the others their outputs, with the
// same result on any thread count.
void reduce(ReduceOp op, const Shape& in_shape, const std::vector<bool>& reduce_dims, const StridedArg& out,
            const StridedArg& in);

}  // namespace tg::kernels::cpu
