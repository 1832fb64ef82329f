#pragma once
// One output row of 2x2 / stride-2 max pooling over float32 (pool.cpp): for w < n, value[w] = the maximum of
// r0[2w], r0[2w + 1], r1[2w], r1[2w + 1], taken in that scan order, a candidate replacing the running maximum
// when it is strictly larger, or NaN while the maximum is not (the first maximum wins ties, the first NaN beats
// everything), and position[w] = first + 2w + (0, 1, W or W + 1 for those four), W = row_length: its place in
// x's plane when `first` is where r0 starts there. 2n and W must be below 2^30. `end` is one past the last
// float that may be read at or after r0 and r1, or null (then no read goes past a row). One version per ISA
// (pool_rows_<isa>.cpp, each built with its flags), chosen by CPUID; each gives exactly the values and
// positions of pool.cpp's scalar loop.
#include <cstdint>

namespace tg::kernels::cpu {

using PoolRow2x2 = void (*)(const float* r0, const float* r1, int64_t n, const float* end, int64_t first,
                           int64_t row_length, float* value, int64_t* position);
// `rows` such output rows of one plane in a call (one call a row cost as much as the row at 14 windows): output
// row r reads r0 + 2 r row_stride and the row below, starts at first + 2 r row_length and writes value + r n and
// position + r n.
using PoolRows2x2 = void (*)(const float* r0, int64_t row_stride, int64_t rows, int64_t n, const float* end,
                             int64_t first, int64_t row_length, float* value, int64_t* position);

// PoolRows2x2 by an ISA file's own row (which it inlines), one instance per pool_rows_<isa>.cpp: Row has internal
// linkage there, so the instance does too, and code built with that file's flags never stands in for another's.
template <PoolRow2x2 Row>
void pool_plane_rows(const float* r0, int64_t row_stride, int64_t rows, int64_t n, const float* end, int64_t first,
                     int64_t row_length, float* value, int64_t* position) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* top = r0 + 2 * r * row_stride;
    Row(top, top + row_stride, n, end, first + 2 * r * row_length, row_length, value + r * n, position + r * n);
  }
}

namespace isa {
// Null when pool_rows_<isa>.cpp was built for another target.
extern const PoolRow2x2 avx2_pool_row_2x2;
extern const PoolRows2x2 avx2_pool_rows_2x2;
extern const PoolRow2x2 avx512_pool_row_2x2;
extern const PoolRows2x2 avx512_pool_rows_2x2;
}  // namespace isa

}  // namespace tg::kernels::cpu
