#pragma once
#include "../ref/ref_kernels.h"

namespace tg::kernels::cpu {

// scatter_add_into_zeros (kernels.h) over the last dim of `shape` (dim = shape.size() - 1): row by row, each row
// of out zeroed just before its sums are added, so it is written while in cache (zeros, then scatter_add, wrote
// the whole output and read it back). The same sums in the same order as the reference. Indices must already be
// checked (ref::check_indices). Single-threaded: register.cpp splits the rows.
void scatter_add_rows_into_zeros(const Shape& shape, int64_t dim_size, const StridedArg& out, const StridedArg& src,
                                 const StridedArg& index);

}  // namespace tg::kernels::cpu
