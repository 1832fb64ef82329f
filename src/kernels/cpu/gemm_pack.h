#pragma once
// The GEMM driver's packing (gemm.cpp, its only includer): operand blocks into the micro-kernels' panels, with
// 16-bit operands converted to float32 on the way, and the routine for each panel width.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include <tensorgrad/base/error.h>

#include "gemm.h"
#include "half_convert.h"

namespace tg::kernels::cpu {
namespace {

// The deepest k block a 16-bit panel is converted in one piece (deeper ones convert element by element).
constexpr int64_t kMaxPackDepth = 256;

// Packing. A block (mc x kc) becomes ceil(mc / MR) panels, panel r holding rows r*MR.. as a[p * MR + i]; B block
// (kc x nc) becomes ceil(nc / NR) panels holding b[p * NR + j]. Rows / columns past the edge are zero, so the
// micro-kernel always runs on full tiles. Reads follow whichever operand stride is 1.

// out[q * ld + j] = src[j * stride + q] for an L x L block, L = lanes of a 16-byte vector (4 floats, 2 doubles).
inline void transpose_block(const float* src, int64_t stride, float* out, int64_t ld) {
  using V = Vec16<float>::type;
  V v0, v1, v2, v3;
  std::memcpy(&v0, src, sizeof(V));
  std::memcpy(&v1, src + stride, sizeof(V));
  std::memcpy(&v2, src + 2 * stride, sizeof(V));
  std::memcpy(&v3, src + 3 * stride, sizeof(V));
  const V t0 = __builtin_shufflevector(v0, v1, 0, 4, 1, 5), t1 = __builtin_shufflevector(v2, v3, 0, 4, 1, 5);
  const V t2 = __builtin_shufflevector(v0, v1, 2, 6, 3, 7), t3 = __builtin_shufflevector(v2, v3, 2, 6, 3, 7);
  const V r0 = __builtin_shufflevector(t0, t1, 0, 1, 4, 5), r1 = __builtin_shufflevector(t0, t1, 2, 3, 6, 7);
  const V r2 = __builtin_shufflevector(t2, t3, 0, 1, 4, 5), r3 = __builtin_shufflevector(t2, t3, 2, 3, 6, 7);
  std::memcpy(out, &r0, sizeof(V));
  std::memcpy(out + ld, &r1, sizeof(V));
  std::memcpy(out + 2 * ld, &r2, sizeof(V));
  std::memcpy(out + 3 * ld, &r3, sizeof(V));
}

inline void transpose_block(const double* src, int64_t stride, double* out, int64_t ld) {
  using V = Vec16<double>::type;
  V v0, v1;
  std::memcpy(&v0, src, sizeof(V));
  std::memcpy(&v1, src + stride, sizeof(V));
  const V r0 = __builtin_shufflevector(v0, v1, 0, 2), r1 = __builtin_shufflevector(v0, v1, 1, 3);
  std::memcpy(out, &r0, sizeof(V));
  std::memcpy(out + ld, &r1, sizeof(V));
}

// out[p * W + j] = src[j * stride + p] for p < len, j < W: W contiguous lanes interleaved, by square register
// blocks where they fit.
template <int W, class T>
void pack_lanes(int64_t len, const T* src, int64_t stride, T* out) {
  constexpr int L = 16 / sizeof(T);
  constexpr int kBlocked = W / L * L;
  int64_t p0 = 0;
  for (; p0 + L <= len; p0 += L) {
    for (int j = 0; j < kBlocked; j += L) transpose_block(src + j * stride + p0, stride, out + p0 * W + j, W);
    for (int j = kBlocked; j < W; ++j)
      for (int q = 0; q < L; ++q) out[(p0 + q) * W + j] = src[j * stride + p0 + q];
  }
  for (; p0 < len; ++p0)
    for (int j = 0; j < W; ++j) out[p0 * W + j] = src[j * stride + p0];
}

// Packing reads operands of element type S into panels of the compute type T: the same type, or a 16-bit S
// (bfloat16, float16) converted to float32 as it is packed, so a 16-bit GEMM needs no converted copy of A or B.
// A 16-bit panel's contiguous runs (A's rows, or a transposed B's columns) are converted by the vector casts into
// `lanes` (W runs of kc at most) and interleaved from there as a float32 panel would be.
template <int W, class S>
void pack_lanes_converted(int64_t len, const S* src, int64_t stride, float* out, int rows) {
  alignas(64) float lanes[W * kMaxPackDepth];
  for (int j = 0; j < rows; ++j) to_float(src + j * stride, lanes + j * len, len);
  for (int j = rows; j < W; ++j) std::fill(lanes + j * len, lanes + (j + 1) * len, 0.0f);
  pack_lanes<W>(len, lanes, len, out);
}

template <int MR, class T, class S>
void pack_a_fixed(int64_t mc, int64_t kc, const S* a, int64_t rs, int64_t cs, T* out) {
  for (int64_t i0 = 0; i0 < mc; i0 += MR, out += MR * kc) {
    const S* src = a + i0 * rs;
    const int64_t rows = std::min<int64_t>(MR, mc - i0);
    if constexpr (!std::is_same_v<S, T>) {
      if (cs == 1 && kc <= kMaxPackDepth) {
        pack_lanes_converted<MR>(kc, src, rs, out, static_cast<int>(rows));
      } else {
        for (int64_t p = 0; p < kc; ++p)
          for (int i = 0; i < MR; ++i) out[p * MR + i] = i < rows ? static_cast<T>(src[i * rs + p * cs]) : T(0);
      }
    } else if (rows == MR && cs == 1) {
      pack_lanes<MR>(kc, src, rs, out);  // row-major A: each row is contiguous
    } else if (rows == MR && rs == 1) {
      for (int64_t p = 0; p < kc; ++p)
        for (int i = 0; i < MR; ++i) out[p * MR + i] = src[p * cs + i];
    } else {
      for (int64_t p = 0; p < kc; ++p)
        for (int i = 0; i < MR; ++i) out[p * MR + i] = i < rows ? src[i * rs + p * cs] : T(0);
    }
  }
}

template <int NR, class T, class S>
void pack_b_fixed(int64_t kc, int64_t nc, const S* b, int64_t rs, int64_t cs, T* out) {
  int64_t j0 = 0;
  if constexpr (std::is_same_v<S, T>) {
    if (cs == 1) {
      // Row-major B: eight rows of the block at a time, each read front to back, their NR-wide pieces going to
      // their panels. Panel by panel (every NR columns re-reading kc rows a row stride apart: a TLB miss and the
      // same L1 set each for a 1024-wide B) packing was ~6% of a 1024^3 product instead of ~2%; a whole row at a
      // time wrote each piece NR * kc elements from the last (4 KB for NR = 16, kc = 64: one L1 set for every
      // panel), which made packing several panels at once (the short-C path) slower than packing one.
      constexpr int64_t kRows = 8;
      const int64_t full = nc / NR;
      for (int64_t p0 = 0; p0 < kc; p0 += kRows) {
        const int64_t p1 = std::min(kc, p0 + kRows);
        for (int64_t jp = 0; jp < full; ++jp)
          for (int64_t p = p0; p < p1; ++p) {
            const S* __restrict src = b + p * rs + jp * NR;
            T* __restrict dst = out + (jp * kc + p) * NR;
            for (int j = 0; j < NR; ++j) dst[j] = src[j];
          }
      }
      j0 = full * NR;
      out += full * NR * kc;
    }
  }
  for (; j0 < nc; j0 += NR, out += NR * kc) {
    const S* src = b + j0 * cs;
    const int64_t cols = std::min<int64_t>(NR, nc - j0);
    if constexpr (!std::is_same_v<S, T>) {
      if (cols == NR && cs == 1) {
        for (int64_t p = 0; p < kc; ++p) to_float(src + p * rs, out + p * NR, NR);
      } else if (rs == 1 && kc <= kMaxPackDepth) {
        pack_lanes_converted<NR>(kc, src, cs, out, static_cast<int>(cols));
      } else {
        for (int64_t p = 0; p < kc; ++p)
          for (int j = 0; j < NR; ++j) out[p * NR + j] = j < cols ? static_cast<T>(src[p * rs + j * cs]) : T(0);
      }
    } else if (cols == NR && cs == 1) {
      for (int64_t p = 0; p < kc; ++p)
        for (int j = 0; j < NR; ++j) out[p * NR + j] = src[p * rs + j];
    } else if (cols == NR && rs == 1) {
      pack_lanes<NR>(kc, src, cs, out);  // a transposed view (g @ W^T): each column is contiguous
    } else if (cs == 1) {  // a row-major B's last, partial panel (all of a narrow C's B): rows, then zeros
      for (int64_t p = 0; p < kc; ++p) {
        std::copy(src + p * rs, src + p * rs + cols, out + p * NR);
        std::fill(out + p * NR + cols, out + (p + 1) * NR, T(0));
      }
    } else {
      for (int64_t p = 0; p < kc; ++p)
        for (int j = 0; j < NR; ++j) out[p * NR + j] = j < cols ? src[p * rs + j * cs] : T(0);
    }
  }
}

template <class T, class S>
using PackFn = void (*)(int64_t, int64_t, const S*, int64_t, int64_t, T*);

template <class T, class S>
PackFn<T, S> pack_a_for(int mr) {
  switch (mr) {
    case 4: return &pack_a_fixed<4, T, S>;
    case 6: return &pack_a_fixed<6, T, S>;
    case 8: return &pack_a_fixed<8, T, S>;
    case 12: return &pack_a_fixed<12, T, S>;
    case 14: return &pack_a_fixed<14, T, S>;
    default: TG_FAIL("tg::matmul: no A packing routine for MR = ", mr);
  }
}

template <class T, class S>
PackFn<T, S> pack_b_for(int nr) {
  switch (nr) {
    case 4: return &pack_b_fixed<4, T, S>;
    case 8: return &pack_b_fixed<8, T, S>;
    case 16: return &pack_b_fixed<16, T, S>;
    case 24: return &pack_b_fixed<24, T, S>;
    case 32: return &pack_b_fixed<32, T, S>;
    case 48: return &pack_b_fixed<48, T, S>;
    default: TG_FAIL("tg::matmul: no B packing routine for NR = ", nr);
  }
}

}  // namespace
}  // namespace tg::kernels::cpu
