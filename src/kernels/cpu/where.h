#pragma once
#include "../ref/ref_kernels.h"

namespace tg::kernels::cpu {

// where(cond, a, b) by the elements' bits, any dtype: runs whose condition is one value along the run (a
// padding mask [N, 1, T, 1] over [N, C, T, F]) are a copy or a fill; runs with a per-element condition are a
// mask blend in ISA-cloned loops. The same bits as the reference kernel, which takes the other layouts.
// Single-threaded: register.cpp splits it.
void where(const Shape& shape, const StridedArg& out, const StridedArg& cond, const StridedArg& a,
           const StridedArg& b);

// float32 / float64 keep ? x / divisor : +0 (kernels::masked_divide, dropout): contiguous runs in ISA-cloned
// loops, the same bits as the reference (one IEEE division a kept element). Single-threaded: register.cpp splits it.
void masked_divide(const Shape& shape, const StridedArg& out, const StridedArg& keep, const StridedArg& x,
                   double divisor);

}  // namespace tg::kernels::cpu
