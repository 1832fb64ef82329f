#pragma once
// The CPU's sliding-window kernels (im2col.cpp, pool.cpp): threaded over (n, c) planes, checked against the
// reference kernels in ref/window.cpp.
#include <tensorgrad/kernels/kernel_tables.h>

namespace tg::kernels::cpu {

// The window family's kernel (WindowFn): im2col and col2im for int64/float32/float64, max_pool_indices for
// float32/float64.
void window(WindowOp op, const WindowGeometry& g, const StridedArg& out, const StridedArg& in, double pad_value);
void max_pool_indices(const WindowGeometry& g, const StridedArg& index, const StridedArg& x);
// The max_pool family's kernel (MaxPoolFn), float32/float64: the same pass, writing the values too.
void max_pool(const WindowGeometry& g, const StridedArg& values, const StridedArg& index, const StridedArg& x);

}  // namespace tg::kernels::cpu
