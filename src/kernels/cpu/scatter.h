#pragma once
#include "../ref/ref_kernels.h"

namespace tg::kernels::cpu {

// scatter_add_into_zeros (kernels.h) over the last dim of `shape` (dim = shape.size() - 1): row by row, each row
// of out zeroed just before its sums are added, so it is written while in cache (zeros, then scatter_add, wrote
// the whole output and read it back). The same sums in the same order as the reference. Each row's indices are
// checked just before the row is written (read once from memory, not in a pass of their own): at the first row
// with one outside [0, dim_size) it stops and returns false, rows before it written (out was to be overwritten
// whole; the caller reports the bad index). Single-threaded: register.cpp splits the rows.
bool scatter_add_rows_into_zeros(const Shape& shape, int64_t dim_size, const StridedArg& out, const StridedArg& src,
                                 const StridedArg& index);

}  // namespace tg::kernels::cpu
