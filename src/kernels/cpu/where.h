#pragma once
#include "../ref/ref_kernels.h"

namespace tg::kernels::cpu {

// where(cond, a, b) by the elements' bits, any dtype: runs whose condition is one value along the run (a
// padding mask [N, 1, T, 1] over [N, C, T, F]) are a copy or a fill; runs with a per-element condition are a
// mask blend in ISA-cloned loops. The same bits as the reference kernel, which takes the other layouts.
// Single-threaded: register.cpp splits it.
void where(const Shape& shape, const StridedArg& out, const StridedArg& cond, const StridedArg& a,
           const StridedArg& b);

}  // namespace tg::kernels::cpu
