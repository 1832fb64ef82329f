#pragma once
// conv_direct_weight_grad.h's DirectImageRow over a vector type: shared by conv_direct_weight_grad_<isa>.cpp and
// the portable version. Everything here has internal linkage, so code built with one file's ISA flags never
// stands in for another's.
#include <array>
#include <cstdint>
#include <utility>

#include "conv_direct_weight_grad.h"

namespace tg::kernels::cpu {
namespace {

// Ops: a vector V of L floats (L divides kDirectLanes) with zero(), load(p), load_first(p, n) (lanes >= n are zero
// and nothing is read there), fma(a, b, c) = a * b + c rounded once, fold(v, tot): tot[l] += double(v[l]), and
// in_register(v), which keeps v in a register from there on.
// Both versions below take the lanes [h, h + L) of every 16-column step in one pass (h = 0 only for L = 16) and
// sum each tap's lane over the steps, then within a step over the output rows in order, one fma a product: the
// same bits on every ISA and from either version.

// Any taps: a step's output rows in a loop of their own (which keeps the last step's masks out of the full steps'
// loop), each tap's image row loaded as a memory operand of its fma.
template <class Ops, int Taps>
void direct_image_row(const DirectImageRowArgs& p, double* tot) {
  using V = typename Ops::V;
  constexpr int L = Ops::L;
  static_assert(kDirectLanes % L == 0);
  const int64_t steps = (p.out_w + kDirectLanes - 1) / kDirectLanes, plane = p.out_h * p.out_w;
  int64_t off[Taps];
  for (int j = 0; j < Taps; ++j) off[j] = p.offsets[j];
  for (int h = 0; h < kDirectLanes; h += L) {
    V acc[Taps];
#pragma GCC unroll 16
    for (int j = 0; j < Taps; ++j) acc[j] = Ops::zero();
    for (int64_t s = 0; s < steps; ++s) {
      const int64_t column = s * kDirectLanes + h, valid = p.out_w - column;
      const float* gs = p.g + column;
      const float* xs = p.x + column;
      if (valid >= L) {
        for (int64_t r = 0; r < p.out_h; ++r) {
          // The next result row's plane of this image follows (an NCHW gradient): ask for it a plane ahead.
          __builtin_prefetch(gs + r * p.out_w + plane, 0, 3);
          const V gv = Ops::load(gs + r * p.out_w);
#pragma GCC unroll 16
          for (int j = 0; j < Taps; ++j) acc[j] = Ops::fma(gv, Ops::load(xs + r * p.row_stride + off[j]), acc[j]);
        }
      } else {  // the rows' last step: lanes past out_w add fma(0, 0, .), nothing past a row is read
        const int n = valid > 0 ? static_cast<int>(valid) : 0;
        for (int64_t r = 0; r < p.out_h; ++r) {
          const V gv = Ops::load_first(gs + r * p.out_w, n);
#pragma GCC unroll 16
          for (int j = 0; j < Taps; ++j)
            acc[j] = Ops::fma(gv, Ops::load_first(xs + r * p.row_stride + off[j], n), acc[j]);
        }
      }
    }
#pragma GCC unroll 16
    for (int j = 0; j < Taps; ++j) Ops::fold(acc[j], tot + j * kDirectLanes + h);
  }
}

// One input channel and a KH x KW filter: walks the image's rows instead of the output's, loading each image row's
// KW shifted vectors once for the KH output rows that use it (KW + KH loads for KH KW fmas; the version above
// loads KH KW + 1, and its loads, a 64-byte vector a cycle at best here and about two cycles when one straddles
// two cache lines, were its limit: ~10% faster for the CNN's conv1). For tap (r, s) the output rows still come in
// order, y - r DH for y = 0, 1, ...: the same sums as above. Image row y feeds the output rows y - r DH that exist.
template <class Ops, int KH, int KW, bool Full>
inline __attribute__((always_inline)) void window_step(typename Ops::V (&acc)[KH * KW], const float* gs,
                                                        const float* xs, int64_t out_h, int64_t out_w,
                                                        int64_t row_stride, int64_t dh, const int64_t (&shift)[KW],
                                                        int n) {
  using V = typename Ops::V;
  const int64_t image_rows = out_h + (KH - 1) * dh;
  for (int64_t y = 0; y < image_rows; ++y, xs += row_stride) {
    // The next result row's plane of this image follows (an NCHW gradient): ask for its row y a plane ahead.
    if (Full) __builtin_prefetch(gs + (y + out_h) * out_w, 0, 3);
    V xv[KW];
#pragma GCC unroll 16
    for (int s = 0; s < KW; ++s) xv[s] = Full ? Ops::load(xs + shift[s]) : Ops::load_first(xs + shift[s], n);
#pragma GCC unroll 16
    for (int r = 0; r < KH; ++r) {
      const int64_t row = y - r * dh;
      if (row < 0 || row >= out_h) continue;
      const float* gr = gs + row * out_w;
      V gv = Full ? Ops::load(gr) : Ops::load_first(gr, n);
      Ops::in_register(gv);  // else GCC folds the load into each of the KW fmas: KW loads instead of one
#pragma GCC unroll 16
      for (int s = 0; s < KW; ++s) acc[r * KW + s] = Ops::fma(gv, xv[s], acc[r * KW + s]);
    }
  }
}

template <class Ops, int KH, int KW>
void direct_image_row_window(const DirectImageRowArgs& p, double* tot) {
  using V = typename Ops::V;
  constexpr int L = Ops::L;
  const int64_t out_h = p.out_h, out_w = p.out_w, row_stride = p.row_stride, dh = p.dilation_h;
  const int64_t steps = (out_w + kDirectLanes - 1) / kDirectLanes;
  int64_t shift[KW];  // s DW
  for (int s = 0; s < KW; ++s) shift[s] = p.offsets[s];
  for (int h = 0; h < kDirectLanes; h += L) {
    V acc[KH * KW];
#pragma GCC unroll 16
    for (int j = 0; j < KH * KW; ++j) acc[j] = Ops::zero();
    for (int64_t step = 0; step < steps; ++step) {
      const int64_t column = step * kDirectLanes + h, valid = out_w - column;
      if (valid >= L)
        window_step<Ops, KH, KW, true>(acc, p.g + column, p.x + column, out_h, out_w, row_stride, dh, shift, L);
      else
        window_step<Ops, KH, KW, false>(acc, p.g + column, p.x + column, out_h, out_w, row_stride, dh, shift,
                                        valid > 0 ? static_cast<int>(valid) : 0);
    }
#pragma GCC unroll 16
    for (int j = 0; j < KH * KW; ++j) Ops::fold(acc[j], tot + j * kDirectLanes + h);
  }
}

template <class Ops, size_t... I>
constexpr std::array<void (*)(const DirectImageRowArgs&, double*), sizeof...(I)> direct_image_rows(
    std::index_sequence<I...>) {
  return {&direct_image_row<Ops, static_cast<int>(I) + 1>...};
}

// DirectImageRow for 1 to kMaxDirectTaps taps: one instance a tap count, so the accumulators stay in registers;
// one input channel and 3x3 (a first layer's usual filter) by the image's rows.
template <class Ops>
void direct_image_row_any(const DirectImageRowArgs& p, double* tot) {
  if (p.channels == 1 && p.kernel_h == 3 && p.kernel_w == 3) return direct_image_row_window<Ops, 3, 3>(p, tot);
  static constexpr auto kRows = direct_image_rows<Ops>(std::make_index_sequence<kMaxDirectTaps>{});
  kRows[static_cast<size_t>(p.taps - 1)](p, tot);
}

}  // namespace
}  // namespace tg::kernels::cpu
