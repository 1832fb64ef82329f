#pragma once
// Casts between float32 and the 16-bit dtypes as vector loops: the conversions under every 16-bit op (each one
// stages its operands through float32, half_staging.cpp) and under .to(bfloat16 / float16).
#include <tensorgrad/core/half.h>
#include <tensorgrad/kernels/strided_loop.h>

namespace tg::kernels::cpu {

// Whether convert_half() handles a copy from `src` to `out`: float32 <-> bfloat16 or float16.
bool is_half_conversion(DType out, DType src);

// out = src over `shape` (a pair is_half_conversion accepts); single-threaded, the caller splits it. The same
// bits as the scalar casts of core/half.h: round to nearest even, NaN kept quiet with its sign and payload.
void convert_half(const Shape& shape, const StridedArg& out, const StridedArg& src);

// out[i] = float(src[i]) for n contiguous elements (the GEMM's packing of 16-bit operands).
void to_float(const bfloat16* src, float* out, int64_t n);
void to_float(const float16* src, float* out, int64_t n);

}  // namespace tg::kernels::cpu
