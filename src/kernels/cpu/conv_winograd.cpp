// Winograd's F(2x2, 3x3) for a 3x3 stride-1 convolution (Lavin & Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2016). Each 2x2 output tile of a channel is A^T [sum_c (G w G^T) (.) (B^T d B)] A, with d the 4x4
// input patch the tile reads. The sum over input channels is, for each of the 16 transformed taps xi, a GEMM:
// M[xi] (Cout x tiles) = U[xi] (Cout x Cin) V[xi] (Cin x tiles), 16 x Cin multiplies a tile and output channel
// where im2col's GEMM does 36 (4 outputs x 9 taps). The weight gradient (below) uses the same transforms.
//
// Work goes by blocks of tiles (a fixed count, so the same tiles share a block on any thread count): a block's V is
// written straight in the micro-kernel's packed B panels, its 16 GEMMs run on the GEMM's micro-kernel over U packed
// once per call, and the output transform reads M from cache. Blocks go to threads in contiguous ranges.
#include "conv_winograd.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include <tensorgrad/base/error.h>
#include <tensorgrad/core/allocator.h>

#include "cpu_buffer.h"
#include "gemm.h"
#include "isa_clones.h"
#include "padded_plane.h"
#include "parallel.h"

namespace tg::kernels::cpu {

namespace {

constexpr int kTaps = 16;  // a 4x4 tile's transformed taps
// Floats of a block's V and M together: both stay in a 1 MB L2 (Zen 4/5; 1.25-2 MB on Intel cores) with room for
// the packed weights and the image rows being read.
constexpr int64_t kBlockFloats = int64_t{1} << 17;
// The inner dimension of one micro-kernel call: deeper sums are split (accumulating), so a panel of B stays in L1.
constexpr int64_t kDepthStep = 256;

int64_t ceil_div(int64_t x, int64_t y) { return (x + y - 1) / y; }

struct Problem {
  const float* image;      // the padded copy, [Cin][N][Hp][Wp]
  int64_t channel_stride;  // N Hp Wp
  int64_t padded_w;        // Wp
  float* out;
  int64_t og, om, on, op;  // the output's (group, row, image, position) strides
  const float* bias;       // one a row (output channel, bias_stride apart); null: none
  int64_t bias_stride;
  int64_t batch, out_h, out_w;
  int64_t groups, cg, m;  // input channels and output channels of a group
  int64_t tiles_h, tiles_w, tiles;
  int64_t block;  // tiles a block (a multiple of nr)
  int mr, nr;
  MicroKernelFn<float> kernel;
  int64_t m_panels;  // ceil(m / mr)
  // Floats from one tap's V (B panels) or M (results) to the next: a cache line more than their size, so the 16
  // taps a transform writes or reads at once do not all map to the same L1 set.
  int64_t v_tap, m_tap;
  const float* u;  // [G][16][m_panels][cg][mr]: U as the micro-kernel's packed A panels
};

// U[xi] = G w G^T for every (group, output channel, input channel), rows past m zero, in double then rounded.
// G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]].
void transform_weights(const Problem& p, const StridedArg& a, float* u) {
  const auto* w = static_cast<const float*>(a.data);
  const int64_t panel = p.cg * p.mr;
  std::fill(u, u + p.groups * kTaps * p.m_panels * panel, 0.0f);
  for (int64_t g = 0; g < p.groups; ++g)
    for (int64_t o = 0; o < p.m; ++o)
      for (int64_t c = 0; c < p.cg; ++c) {
        double k[3][3], t[4][3];
        for (int i = 0; i < 9; ++i)
          k[i / 3][i % 3] = w[g * a.strides[0] + o * a.strides[1] + (c * 9 + i) * a.strides[2]];
        for (int j = 0; j < 3; ++j) {
          t[0][j] = k[0][j];
          t[1][j] = 0.5 * (k[0][j] + k[1][j] + k[2][j]);
          t[2][j] = 0.5 * (k[0][j] - k[1][j] + k[2][j]);
          t[3][j] = k[2][j];
        }
        for (int i = 0; i < 4; ++i) {
          const double row[4] = {t[i][0], 0.5 * (t[i][0] + t[i][1] + t[i][2]), 0.5 * (t[i][0] - t[i][1] + t[i][2]),
                                 t[i][2]};
          for (int j = 0; j < 4; ++j) {
            float* dst = u + ((g * kTaps + i * 4 + j) * p.m_panels + o / p.mr) * panel;
            dst[c * p.mr + o % p.mr] = static_cast<float>(row[j]);
          }
        }
      }
}

// dst[k * stride] = src[k] (+ *bias) for k < count.
inline void copy_run(const float* __restrict src, int64_t count, float* __restrict dst, int64_t stride,
                     const float* bias) {
  if (bias != nullptr && stride == 1) {
    const float b = *bias;
    for (int64_t k = 0; k < count; ++k) dst[k] = src[k] + b;
  } else if (bias != nullptr) {
    const float b = *bias;
    for (int64_t k = 0; k < count; ++k) dst[k * stride] = src[k] + b;
  } else if (stride == 1) {
    for (int64_t k = 0; k < count; ++k) dst[k] = src[k];
  } else {
    for (int64_t k = 0; k < count; ++k) dst[k * stride] = src[k];
  }
}

// The padded copy of x: [C][N][Hp][Wp], Hp = 2 tiles_h + 2 and Wp = 2 tiles_w + 2 (every tile's 4x4 patch lies
// inside), padded row r holding input row r - pad_h (zero outside the image), column likewise.
void pad_image(const WindowGeometry& g, const StridedArg& x, int64_t hp, int64_t wp, float* out) {
  const auto* src = static_cast<const float*>(x.data);
  const int64_t planes = g.channels * g.batch, plane = hp * wp;
  parallel_for(planes, threads_for(planes * plane, int64_t{1} << 16), [&](int64_t first, int64_t last, int) {
    for (int64_t i = first; i < last; ++i) {
      // Planes in x's order (image, then channel): an NC(H)W x is then read front to back, which the hardware
      // prefetcher streams; in the copy's [C][N] order each plane was a jump of C planes (about twice the time).
      const int64_t n = i / g.channels, c = i % g.channels;
      const float* in = src + n * x.strides[0] + c * x.strides[1];
      pad_plane(g, in, x.strides[2], x.strides[3], hp, wp, out + (c * g.batch + n) * plane);
    }
  });
}

// V = B^T d B for `lanes` tiles (a multiple of 4) of one channel, B^T = [[1, 0, -1, 0], [0, 1, 1, 0],
// [0, -1, 1, 0], [0, 1, 0, -1]]: tile j's patch starts at plane[offset[j]] (rows wp apart); tap xi of tile j goes
// to v[xi * tap_stride + j]. A patch row is one 4-float load, the column transform four vector ops, the row
// transform two shuffles and an add a row, and 4x4 transposes turn the tiles' taps into runs of tiles (GCC does
// not vectorise the per-tile gather of the scalar form). Eight tiles a step in 8-float vectors, tile k and k + 4
// sharing one (each half a tile, every shuffle within a half: one instruction on AVX2 / AVX-512, two SSE ones
// in the baseline clone), so a tap's eight tiles are one store; a last group of four in 4-float vectors. Every
// lane is the same operations on the same values either way, so the width never changes a bit.
template <int W>
struct TransformVector {
  typedef float type __attribute__((vector_size(4 * W)));
};

// The tiles' rows of B^T d B: t[k][i] is row i of tile j + k (lanes 0-3) and, for W = 8, of tile j + 4 + k
// (lanes 4-7).
template <int W>
inline __attribute__((always_inline)) void transform_patches(const float* __restrict plane,
                                                             const int32_t* __restrict offset, int64_t j, int64_t wp,
                                                             typename TransformVector<W>::type (&t)[4][4]) {
  using V = typename TransformVector<W>::type;
  using V4 = TransformVector<4>::type;
  V sign;
  for (int h = 0; h < W; h += 4) {
    sign[h] = -1.0f, sign[h + 1] = 1.0f, sign[h + 2] = -1.0f, sign[h + 3] = -1.0f;
  }
  for (int k = 0; k < 4; ++k) {
    V r[4];
    for (int q = 0; q < 4; ++q) {
      V4 lo;
      std::memcpy(&lo, plane + offset[j + k] + q * wp, sizeof(V4));
      if constexpr (W == 4) {
        r[q] = lo;
      } else {
        V4 hi;
        std::memcpy(&hi, plane + offset[j + 4 + k] + q * wp, sizeof(V4));
        r[q] = __builtin_shufflevector(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7);
      }
    }
    const V c[4] = {r[0] - r[2], r[1] + r[2], r[2] - r[1], r[1] - r[3]};
    // (a, b, c, d) -> (a - c, b + c, c - b, b - d) = (a, b, c, b) + sign * (c, c, b, d), in each half.
    for (int i = 0; i < 4; ++i) {
      if constexpr (W == 4)
        t[k][i] = __builtin_shufflevector(c[i], c[i], 0, 1, 2, 1) + sign * __builtin_shufflevector(c[i], c[i], 2, 2, 1, 3);
      else
        t[k][i] = __builtin_shufflevector(c[i], c[i], 0, 1, 2, 1, 4, 5, 6, 5) +
                  sign * __builtin_shufflevector(c[i], c[i], 2, 2, 1, 3, 6, 6, 5, 7);
    }
  }
}

TG_ISA_CLONES
void input_transform(const float* __restrict plane, const int32_t* __restrict offset, int64_t lanes, int64_t wp,
                     float* __restrict v, int64_t tap_stride) {
  int64_t j = 0;
  for (; j + 8 <= lanes; j += 8) {
    using V8 = TransformVector<8>::type;
    V8 t[4][4];
    transform_patches<8>(plane, offset, j, wp, t);
    for (int i = 0; i < 4; ++i) {  // 4x4 transposes within each half: x[q] = tap (i, q) of the eight tiles
      const V8 a0 = __builtin_shufflevector(t[0][i], t[1][i], 0, 8, 1, 9, 4, 12, 5, 13),
               a1 = __builtin_shufflevector(t[2][i], t[3][i], 0, 8, 1, 9, 4, 12, 5, 13);
      const V8 a2 = __builtin_shufflevector(t[0][i], t[1][i], 2, 10, 3, 11, 6, 14, 7, 15),
               a3 = __builtin_shufflevector(t[2][i], t[3][i], 2, 10, 3, 11, 6, 14, 7, 15);
      const V8 x[4] = {__builtin_shufflevector(a0, a1, 0, 1, 8, 9, 4, 5, 12, 13),
                       __builtin_shufflevector(a0, a1, 2, 3, 10, 11, 6, 7, 14, 15),
                       __builtin_shufflevector(a2, a3, 0, 1, 8, 9, 4, 5, 12, 13),
                       __builtin_shufflevector(a2, a3, 2, 3, 10, 11, 6, 7, 14, 15)};
      for (int q = 0; q < 4; ++q) std::memcpy(v + (i * 4 + q) * tap_stride + j, &x[q], sizeof(V8));
    }
  }
  if (j < lanes) {  // four tiles left
    using V4 = TransformVector<4>::type;
    V4 t[4][4];
    transform_patches<4>(plane, offset, j, wp, t);
    for (int i = 0; i < 4; ++i) {
      const V4 a0 = __builtin_shufflevector(t[0][i], t[1][i], 0, 4, 1, 5),
               a1 = __builtin_shufflevector(t[2][i], t[3][i], 0, 4, 1, 5);
      const V4 a2 = __builtin_shufflevector(t[0][i], t[1][i], 2, 6, 3, 7),
               a3 = __builtin_shufflevector(t[2][i], t[3][i], 2, 6, 3, 7);
      const V4 x[4] = {__builtin_shufflevector(a0, a1, 0, 1, 4, 5), __builtin_shufflevector(a0, a1, 2, 3, 6, 7),
                       __builtin_shufflevector(a2, a3, 0, 1, 4, 5), __builtin_shufflevector(a2, a3, 2, 3, 6, 7)};
      for (int q = 0; q < 4; ++q) std::memcpy(v + (i * 4 + q) * tap_stride + j, &x[q], sizeof(V4));
    }
  }
}

// The output transform A^T M A of `count` tiles, A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]: tap xi of tile j is
// m[xi * tap_stride + j]; tile j's outputs (a, b) go to row_a[2 j + b], so a run of tiles along a row of tiles
// is two runs of output columns.
TG_ISA_CLONES
void output_transform(const float* __restrict m, int64_t tap_stride, int64_t count, float* __restrict row0,
                      float* __restrict row1) {
  for (int64_t j = 0; j < count; ++j) {
    float q0[4], q1[4];
    for (int x = 0; x < 4; ++x) {
      q0[x] = m[x * tap_stride + j] + m[(4 + x) * tap_stride + j] + m[(8 + x) * tap_stride + j];
      q1[x] = m[(4 + x) * tap_stride + j] - m[(8 + x) * tap_stride + j] - m[(12 + x) * tap_stride + j];
    }
    row0[2 * j] = q0[0] + q0[1] + q0[2];
    row0[2 * j + 1] = q0[1] - q0[2] - q0[3];
    row1[2 * j] = q1[0] + q1[1] + q1[2];
    row1[2 * j + 1] = q1[1] - q1[2] - q1[3];
  }
}

// A run of a block's tiles along one row of tiles: image n, tile row ty, tile columns [tx0, tx0 + count), the
// first of them the block's tile `first`.
struct TileRun {
  int64_t n, ty, tx0, count, first;
};

// Per-thread buffers of a block.
struct Scratch {
  float* v;            // V in packed B panels: tap xi's [panels][cg][nr] at v + xi v_tap
  float* m;            // the 16 GEMMs' results: tap xi's [m_panels mr][block] at m + xi m_tap
  float* y;            // the output transform's two rows of 2 block columns
  int32_t* in_offset;  // tile j's patch in a channel of the padded image
  std::vector<TileRun> runs;
};

void transform_block_input(const Problem& p, int64_t g, int64_t tiles, Scratch& s) {
  const int64_t used = ceil_div(tiles, p.nr);
  for (int64_t c = 0; c < p.cg; ++c) {
    const float* plane = p.image + (g * p.cg + c) * p.channel_stride;
    for (int64_t jp = 0; jp < used; ++jp)
      input_transform(plane, s.in_offset + jp * p.nr, p.nr, p.padded_w, s.v + (jp * p.cg + c) * p.nr, p.v_tap);
  }
}

// M[xi] = U[xi] V[xi] for the block's first `tiles` tiles (whole panels; M's rows are m_panels * mr, row stride
// block).
void block_gemms(const Problem& p, int64_t g, int64_t tiles, Scratch& s) {
  const int64_t used = ceil_div(tiles, p.nr);
  for (int xi = 0; xi < kTaps; ++xi) {
    const float* u = p.u + (g * kTaps + xi) * p.m_panels * p.cg * p.mr;
    const float* v = s.v + xi * p.v_tap;
    float* m = s.m + xi * p.m_tap;
    for (int64_t jp = 0; jp < used; ++jp)
      for (int64_t ip = 0; ip < p.m_panels; ++ip)
        for (int64_t k0 = 0; k0 < p.cg; k0 += kDepthStep)
          p.kernel(std::min(kDepthStep, p.cg - k0), u + (ip * p.cg + k0) * p.mr, v + (jp * p.cg + k0) * p.nr,
                   m + ip * p.mr * p.block + jp * p.nr, p.block, k0 > 0);
  }
}

void transform_block_output(const Problem& p, int64_t g, int64_t tiles, Scratch& s) {
  float* row0 = s.y;
  float* row1 = s.y + 2 * p.block;
  for (int64_t o = 0; o < p.m; ++o) {
    output_transform(s.m + o * p.block, p.m_tap, tiles, row0, row1);
    float* out = p.out + g * p.og + o * p.om;
    const float* bias = p.bias == nullptr ? nullptr : p.bias + (g * p.m + o) * p.bias_stride;
    for (const TileRun& run : s.runs) {
      // The last tile column of an odd width and the last tile row of an odd height write only what lies inside.
      const int64_t oh = 2 * run.ty, ow = 2 * run.tx0, width = std::min(2 * run.count, p.out_w - ow);
      float* dst = out + run.n * p.on + (oh * p.out_w + ow) * p.op;
      copy_run(row0 + 2 * run.first, width, dst, p.op, bias);
      if (oh + 1 < p.out_h) copy_run(row1 + 2 * run.first, width, dst + p.out_w * p.op, p.op, bias);
    }
  }
}

// The patch offsets of tiles [first, first + count) (numbered (n, ty, tx) row-major) and their runs along rows of
// tiles; lanes past `count` (the last block's last panel) repeat the first tile's patch, transformed and never
// written out.
void tile_offsets(const Problem& p, int64_t first, int64_t count, int64_t lanes, Scratch& s) {
  const int64_t per_image = p.tiles_h * p.tiles_w, hp_wp = p.channel_stride / p.batch;
  for (int64_t j = 0; j < lanes; ++j) {
    const int64_t t = first + (j < count ? j : 0);
    const int64_t n = t / per_image, ty = t % per_image / p.tiles_w, tx = t % p.tiles_w;
    s.in_offset[j] = static_cast<int32_t>(n * hp_wp + 2 * ty * p.padded_w + 2 * tx);
  }
  s.runs.clear();
  for (int64_t t = first, end = first + count; t < end;) {
    const int64_t n = t / per_image, ty = t % per_image / p.tiles_w, tx = t % p.tiles_w;
    const int64_t len = std::min(p.tiles_w - tx, end - t);
    s.runs.push_back({n, ty, tx, len, t - first});
    t += len;
  }
}

// ---------------------------------------------------------------------------------------------------------
// The weight gradient. With Y_t = A^T [U (.) V_t] A for each tile t and U = G w G^T, the gradient of
// L = sum_t <dY_t, Y_t> is dW = G^T [sum_t (A dY_t A^T) (.) V_t] G: for each tap xi, S[xi] (Cout x Cin) =
// Z[xi] (Cout x tiles) V[xi]^T with Z = A dY A^T, 16 GEMMs summing over the tiles, then G^T S G (4x4 -> 3x3).
// Tiles outside the output (odd sizes) have dY = 0 there, so the identity is exact.

// Z = A dY A^T of `count` tiles (a multiple of 4) of one output channel, A = [[1, 0], [1, 1], [1, -1], [0, -1]]:
// tile j's 2x2 gradient is (y00, y01; y10, y11)[j]; tap xi of tile j goes to z[xi * tap_stride + j]. In 4-float
// vectors (GCC leaves the scalar form of this loop unvectorised).
TG_ISA_CLONES
void gradient_transform(const float* __restrict y00, const float* __restrict y01, const float* __restrict y10,
                        const float* __restrict y11, int64_t count, float* __restrict z, int64_t tap_stride) {
  using V4 = Vec16<float>::type;
  for (int64_t j = 0; j < count; j += 4) {
    V4 a, b, c, d;
    std::memcpy(&a, y00 + j, sizeof(V4));
    std::memcpy(&b, y01 + j, sizeof(V4));
    std::memcpy(&c, y10 + j, sizeof(V4));
    std::memcpy(&d, y11 + j, sizeof(V4));
    // Rows of A dY: (a, b), (a + c, b + d), (a - c, b - d), (-c, -d); each row (p, q) -> (p, p + q, p - q, -q).
    const V4 p[4] = {a, a + c, a - c, -c};
    const V4 q[4] = {b, b + d, b - d, -d};
    for (int i = 0; i < 4; ++i) {
      const V4 taps[4] = {p[i], p[i] + q[i], p[i] - q[i], -q[i]};
      for (int x = 0; x < 4; ++x) std::memcpy(z + (i * 4 + x) * tap_stride + j, &taps[x], sizeof(V4));
    }
  }
}

// gradient_transform of tiles whose 2x2 gradients all lie inside the output and whose columns are adjacent: tile
// j's is dy[offset[j]], dy[offset[j] + 1] and the same a row (row_stride) below, read as pairs of floats four
// tiles at a time (the scalar gather into four rows cost more than the transform), transformed and stored eight
// tiles a step in 8-float vectors (a four-tile tail in 4-float ones: the same operations a lane, the same bits).
TG_ISA_CLONES
void gradient_transform_gathered(const float* __restrict dy, const int64_t* __restrict offset, int64_t row_stride,
                                 int64_t count, float* __restrict z, int64_t tap_stride) {
  using V2 = float __attribute__((vector_size(8)));
  using V4 = TransformVector<4>::type;
  using V8 = TransformVector<8>::type;
  // (a, b, c, d) of four tiles: each tile's 2x2 gradient (a b / c d), one tile a lane.
  auto gather4 = [&](int64_t j0, V4& a, V4& b, V4& c, V4& d) {
    V2 top[4], bottom[4];
    for (int k = 0; k < 4; ++k) {
      std::memcpy(&top[k], dy + offset[j0 + k], sizeof(V2));
      std::memcpy(&bottom[k], dy + offset[j0 + k] + row_stride, sizeof(V2));
    }
    const V4 t01 = __builtin_shufflevector(top[0], top[1], 0, 1, 2, 3),
             t23 = __builtin_shufflevector(top[2], top[3], 0, 1, 2, 3);
    const V4 b01 = __builtin_shufflevector(bottom[0], bottom[1], 0, 1, 2, 3);
    const V4 b23 = __builtin_shufflevector(bottom[2], bottom[3], 0, 1, 2, 3);
    a = __builtin_shufflevector(t01, t23, 0, 2, 4, 6), b = __builtin_shufflevector(t01, t23, 1, 3, 5, 7);
    c = __builtin_shufflevector(b01, b23, 0, 2, 4, 6), d = __builtin_shufflevector(b01, b23, 1, 3, 5, 7);
  };
  // The 16 taps of the lanes' tiles from their (a, b, c, d), stored as runs of tiles from z[.. + j0].
  auto taps_of = [&](int64_t j0, auto a, auto b, auto c, auto d) {
    using V = decltype(a);
    const V p[4] = {a, a + c, a - c, -c};
    const V q[4] = {b, b + d, b - d, -d};
    for (int i = 0; i < 4; ++i) {
      const V taps[4] = {p[i], p[i] + q[i], p[i] - q[i], -q[i]};
      for (int x = 0; x < 4; ++x) std::memcpy(z + (i * 4 + x) * tap_stride + j0, &taps[x], sizeof(V));
    }
  };
  int64_t j = 0;
  for (; j + 8 <= count; j += 8) {  // eight tiles a step: the arithmetic and the stores in 8-float vectors
    V4 a0, b0, c0, d0, a1, b1, c1, d1;
    gather4(j, a0, b0, c0, d0);
    gather4(j + 4, a1, b1, c1, d1);
    taps_of(j, V8(__builtin_shufflevector(a0, a1, 0, 1, 2, 3, 4, 5, 6, 7)),
            V8(__builtin_shufflevector(b0, b1, 0, 1, 2, 3, 4, 5, 6, 7)),
            V8(__builtin_shufflevector(c0, c1, 0, 1, 2, 3, 4, 5, 6, 7)),
            V8(__builtin_shufflevector(d0, d1, 0, 1, 2, 3, 4, 5, 6, 7)));
  }
  if (j < count) {  // four tiles left
    V4 a, b, c, d;
    gather4(j, a, b, c, d);
    taps_of(j, a, b, c, d);
  }
}

// Where each tile's 2x2 gradient lies: offset[j] the element offset of its first output (image n, position
// 2 ty OW + 2 tx, with the gradient's image and position strides),
// inside[j] bit b set when output b (00, 01, 10, 11) lies in the output (all four but at odd edges).
struct GradientTiles {
  std::vector<int64_t> offset;
  std::vector<uint8_t> inside;
  bool all_inside = true;
};

// The tiles [first, first + count); `lanes` - count more repeat the first (read, never summed).
void gradient_tiles(const Problem& p, int64_t first, int64_t count, int64_t lanes, int64_t image_step,
                    int64_t position_step, GradientTiles& gt) {
  const int64_t per_image = p.tiles_h * p.tiles_w;
  gt.offset.resize(static_cast<size_t>(lanes));
  gt.inside.resize(static_cast<size_t>(lanes));
  gt.all_inside = true;
  for (int64_t j = 0; j < lanes; ++j) {
    const int64_t t = first + (j < count ? j : 0), n = t / per_image, ty = t % per_image / p.tiles_w,
                  tx = t % p.tiles_w;
    gt.offset[static_cast<size_t>(j)] = n * image_step + (2 * ty * p.out_w + 2 * tx) * position_step;
    const bool right = 2 * tx + 1 < p.out_w, below = 2 * ty + 1 < p.out_h;
    gt.inside[static_cast<size_t>(j)] =
        static_cast<uint8_t>(1 | (right ? 2 : 0) | (below ? 4 : 0) | (right && below ? 8 : 0));
    gt.all_inside = gt.all_inside && right && below;
  }
}

// dW[o, c] = G^T S G for every (group, output channel, input channel), S [G][16][m][cg] the sum (in double, chunk
// by chunk in order) of the chunks' float partial sums, written to out (group, row, column strides; column
// c 9 + kh 3 + kw).
void weight_from_taps(const Problem& p, const float* s, int64_t chunks, int64_t chunk_stride, const StridedArg& out) {
  std::vector<double> total(static_cast<size_t>(chunk_stride), 0.0);
  for (int64_t k = 0; k < chunks; ++k)
    for (int64_t i = 0; i < chunk_stride; ++i) total[static_cast<size_t>(i)] += s[k * chunk_stride + i];
  auto* w = static_cast<float*>(out.data);
  for (int64_t g = 0; g < p.groups; ++g)
    for (int64_t o = 0; o < p.m; ++o)
      for (int64_t c = 0; c < p.cg; ++c) {
        double t[4][4];
        for (int xi = 0; xi < kTaps; ++xi)
          t[xi / 4][xi % 4] = total[static_cast<size_t>(((g * kTaps + xi) * p.m + o) * p.cg + c)];
        double h[3][4];  // G^T t
        for (int j = 0; j < 4; ++j) {
          h[0][j] = t[0][j] + 0.5 * (t[1][j] + t[2][j]);
          h[1][j] = 0.5 * (t[1][j] - t[2][j]);
          h[2][j] = 0.5 * (t[1][j] + t[2][j]) + t[3][j];
        }
        for (int i = 0; i < 3; ++i) {
          const double r[3] = {h[i][0] + 0.5 * (h[i][1] + h[i][2]), 0.5 * (h[i][1] - h[i][2]),
                               0.5 * (h[i][1] + h[i][2]) + h[i][3]};
          for (int j = 0; j < 3; ++j)
            w[g * out.strides[0] + o * out.strides[1] + (c * 9 + i * 3 + j) * out.strides[2]] =
                static_cast<float>(r[j]);
        }
      }
}

// The tiling both entry points share: sizes, 2x2 tiles over the output, the padded copy's geometry (Hp = 2 tiles_h
// + 2 rows of Wp = 2 tiles_w + 2, every tile's 4x4 patch inside).
Problem tiling(const ConvGemmProblem& pr, DType dtype, const char* name) {
  const WindowGeometry& g = pr.window;
  TG_CHECK(conv_gemm_is_winograd(pr, dtype), name,
           ": not a float32 3x3 stride-1 convolution with 16 channels a group or more and a padded copy within 256 MiB");
  Problem p{};
  p.batch = g.batch;
  p.out_h = g.out_h;
  p.out_w = g.out_w;
  p.groups = pr.groups;
  p.cg = g.channels / pr.groups;
  p.m = pr.out_channels / pr.groups;
  p.tiles_h = ceil_div(g.out_h, 2);
  p.tiles_w = ceil_div(g.out_w, 2);
  p.tiles = g.batch * p.tiles_h * p.tiles_w;
  p.padded_w = 2 * p.tiles_w + 2;
  // conv_gemm_is_winograd's 256 MiB bound on the padded copy keeps a channel's offsets within 32 bits.
  p.channel_stride = g.batch * (2 * p.tiles_h + 2) * p.padded_w;
  return p;
}

// One Scratch a thread, made before the threads start: V, then M (or the weight gradient's Z), then four rows of
// block floats (the output transform's two of 2 block, or the gradient tiles' four), then the block's patch
// offsets.
class ThreadScratch {
 public:
  ThreadScratch(const Problem& p, int64_t threads)
      : p_(p),
        bytes_(static_cast<size_t>(kTaps * (p.v_tap + p.m_tap) + 4 * p.block) * sizeof(float) +
               static_cast<size_t>(p.block) * sizeof(int32_t)) {
    for (int64_t i = 0; i < threads; ++i) buffers_.push_back(std::make_unique<CpuBuffer>(bytes_));
  }
  Scratch at(int thread) const {
    Scratch s{};
    s.v = buffers_[static_cast<size_t>(thread)]->as<float>();
    s.m = s.v + kTaps * p_.v_tap;
    s.y = s.m + kTaps * p_.m_tap;
    s.in_offset = reinterpret_cast<int32_t*>(s.y + 4 * p_.block);
    return s;
  }

 private:
  const Problem& p_;
  size_t bytes_;
  std::vector<std::unique_ptr<CpuBuffer>> buffers_;
};

}  // namespace

// The operands' dtypes and ranks (out, a, x): the output or its gradient 4-D, the weight or its gradient 3-D.
void check_operands(const char* name, const StridedArg& out, const StridedArg& a, const StridedArg& x,
                    bool forward) {
  TG_CHECK(out.dtype == DType::Float32 && a.dtype == DType::Float32 && x.dtype == DType::Float32, name,
           ": operands of dtypes ", dtype_name(out.dtype), ", ", dtype_name(a.dtype), ", ", dtype_name(x.dtype),
           " (float32 only)");
  TG_CHECK(out.strides.size() == (forward ? 4u : 3u) && a.strides.size() == (forward ? 3u : 4u) &&
               x.strides.size() == 4,
           name, ": operands of ranks ", out.strides.size(), ", ", a.strides.size(), ", ", x.strides.size(),
           forward ? " (4, 3, 4)" : " (3, 4, 4)");
}
void check_bias(const char* name, const StridedArg& bias) {
  TG_CHECK(bias.data == nullptr || (bias.strides.size() == 1 && bias.dtype == DType::Float32), name,
           ": a bias of rank ", bias.strides.size(), " and dtype ", dtype_name(bias.dtype), " (1, float32)");
}

void conv_winograd(const ConvGemmProblem& pr, const StridedArg& out, const StridedArg& a, const StridedArg& x,
                   const StridedArg& bias) {
  check_operands("conv_winograd", out, a, x, true);
  check_bias("conv_winograd", bias);
  const WindowGeometry& g = pr.window;
  Problem p = tiling(pr, x.dtype, "conv_winograd");
  p.out = static_cast<float*>(out.data);
  p.og = out.strides[0];
  p.om = out.strides[1];
  p.on = out.strides[2];
  p.op = out.strides[3];
  p.bias = static_cast<const float*>(bias.data);
  p.bias_stride = bias.data == nullptr ? 0 : bias.strides[0];
  if (p.tiles == 0 || p.m == 0) return;
  const int64_t hp = 2 * p.tiles_h + 2;
  // The micro-kernel's tile shape for an m x tiles product (gemm.h: the one that pads C's tiles least; the bits
  // are the same for every shape).
  const MicroKernel<float> kernel = tile_shape_for(default_micro_kernel<float>(), p.m, p.tiles, false);
  p.mr = kernel.mr;
  p.nr = kernel.nr;
  p.kernel = kernel.fn;
  TG_CHECK(p.nr % 4 == 0, "conv_winograd: micro-kernel panels of ", p.nr, " lanes (the input transform takes 4 at a time)");
  p.m_panels = ceil_div(p.m, p.mr);
  const int64_t per_tile = kTaps * (p.cg + p.m_panels * p.mr);
  p.block = std::clamp<int64_t>(kBlockFloats / per_tile / p.nr, 1, 16) * p.nr;
  if (p.block > p.tiles) p.block = ceil_div(p.tiles, p.nr) * p.nr;
  p.v_tap = p.block * p.cg + 16;
  p.m_tap = p.m_panels * p.mr * p.block + 16;

  const CpuBuffer image(static_cast<size_t>(g.channels * p.channel_stride) * sizeof(float));
  pad_image(g, x, hp, p.padded_w, image.as<float>());
  p.image = image.as<float>();
  const CpuBuffer u(static_cast<size_t>(p.groups * kTaps * p.m_panels * p.cg * p.mr) * sizeof(float));
  transform_weights(p, a, u.as<float>());
  p.u = u.as<float>();

  const int64_t blocks = ceil_div(p.tiles, p.block);
  const int threads = threads_for(p.tiles * kTaps * p.cg * p.m * pr.groups, int64_t{1} << 20);
  const ThreadScratch scratch(p, std::min<int64_t>(std::max(threads, 1), blocks));
  parallel_for_rethrowing(blocks, threads, [&](int64_t first, int64_t last, int thread) {
    Scratch s = scratch.at(thread);
    for (int64_t b = first; b < last; ++b) {
      const int64_t t0 = b * p.block, tiles = std::min(p.block, p.tiles - t0);
      tile_offsets(p, t0, tiles, ceil_div(tiles, p.nr) * p.nr, s);
      for (int64_t grp = 0; grp < p.groups; ++grp) {
        transform_block_input(p, grp, tiles, s);
        block_gemms(p, grp, tiles, s);
        transform_block_output(p, grp, tiles, s);
      }
    }
  });
}

void conv_winograd_weight_grad(const ConvGemmProblem& pr, const StridedArg& out, const StridedArg& a,
                               const StridedArg& x) {
  check_operands("conv_winograd_weight_grad", out, a, x, false);
  const WindowGeometry& g = pr.window;
  Problem p = tiling(pr, x.dtype, "conv_winograd_weight_grad");
  if (p.m == 0 || p.cg == 0) return;
  const int64_t hp = 2 * p.tiles_h + 2;
  // Blocks of tiles (a multiple of 4, the input transform's step) whose V and Z stay in L2; a GEMM's inner
  // dimension is a block's tile count.
  p.block = std::clamp<int64_t>(kBlockFloats / (kTaps * (p.cg + p.m)) / 16 * 16, 16, 256);
  if (p.block > p.tiles) p.block = std::max<int64_t>(4, ceil_div(p.tiles, 4) * 4);
  p.v_tap = p.block * p.cg + 16;
  p.m_tap = p.block * p.m + 16;
  // The tiles are summed in chunks of whole blocks, each into its own S, the chunks' S then added in order: the
  // chunks are fixed by the problem alone, so the bits do not depend on the thread count. At most 16 chunks, and
  // their S within 64 MB.
  const int64_t blocks = ceil_div(p.tiles, p.block), s_floats = p.groups * kTaps * p.m * p.cg;
  const int64_t max_chunks = std::clamp<int64_t>((int64_t{1} << 24) / std::max<int64_t>(s_floats, 1), 1, 16);
  const int64_t blocks_per_chunk = ceil_div(std::max<int64_t>(blocks, 1), max_chunks);
  const int64_t chunks = ceil_div(std::max<int64_t>(blocks, 1), blocks_per_chunk);

  const CpuBuffer s_buffer(static_cast<size_t>(chunks * s_floats) * sizeof(float));
  float* s_all = s_buffer.as<float>();
  std::fill(s_all, s_all + chunks * s_floats, 0.0f);
  if (p.tiles > 0) {
    const CpuBuffer image(static_cast<size_t>(g.channels * p.channel_stride) * sizeof(float));
    pad_image(g, x, hp, p.padded_w, image.as<float>());
    p.image = image.as<float>();
    const auto* dy = static_cast<const float*>(a.data);
    const MicroKernel<float> kernel = tile_shape_for(default_micro_kernel<float>(), p.m, p.cg, false);
    const int threads = threads_for(p.tiles * kTaps * p.cg * p.m * pr.groups, int64_t{1} << 20);
    const ThreadScratch scratch(p, std::min<int64_t>(std::max(threads, 1), chunks));
    // Rethrowing: the GEMM driver's pack scratch may allocate on a worker thread.
    parallel_for_rethrowing(chunks, threads, [&](int64_t first_chunk, int64_t last_chunk, int thread) {
      Scratch s = scratch.at(thread);  // s.m holds Z, s.y the gradient tiles' four outputs
      GradientTiles gt;
      for (int64_t chunk = first_chunk; chunk < last_chunk; ++chunk) {
        float* s_chunk = s_all + chunk * s_floats;
        for (int64_t b = chunk * blocks_per_chunk; b < std::min(blocks, (chunk + 1) * blocks_per_chunk); ++b) {
          const int64_t t0 = b * p.block, tiles = std::min(p.block, p.tiles - t0);
          const int64_t lanes = ceil_div(tiles, 4) * 4;
          tile_offsets(p, t0, tiles, lanes, s);
          gradient_tiles(p, t0, tiles, lanes, a.strides[2], a.strides[3], gt);
          for (int64_t grp = 0; grp < p.groups; ++grp) {
            for (int64_t c = 0; c < p.cg; ++c)
              input_transform(p.image + (grp * p.cg + c) * p.channel_stride, s.in_offset, lanes, p.padded_w,
                              s.v + c * p.block, p.v_tap);
            float* y[4] = {s.y, s.y + p.block, s.y + 2 * p.block, s.y + 3 * p.block};
            for (int64_t o = 0; o < p.m; ++o) {
              const float* dy_o = dy + grp * a.strides[0] + o * a.strides[1];
              const int64_t step = a.strides[3], row = p.out_w * step;
              if (step == 1 && gt.all_inside) {
                gradient_transform_gathered(dy_o, gt.offset.data(), row, lanes, s.m + o * p.block, p.m_tap);
                continue;
              }
              for (int64_t j = 0; j < tiles; ++j) {
                const float* d = dy_o + gt.offset[static_cast<size_t>(j)];
                const uint8_t in = gt.inside[static_cast<size_t>(j)];
                y[0][j] = d[0];
                y[1][j] = in & 2 ? d[step] : 0.0f;
                y[2][j] = in & 4 ? d[row] : 0.0f;
                y[3][j] = in & 8 ? d[row + step] : 0.0f;
              }
              for (int64_t j = tiles; j < lanes; ++j) y[0][j] = y[1][j] = y[2][j] = y[3][j] = 0.0f;
              gradient_transform(y[0], y[1], y[2], y[3], lanes, s.m + o * p.block, p.m_tap);
            }
            // S[grp][xi] (+)= Z[xi] V[xi]^T over the block's tiles, one thread (the chunks are the threads' work).
            GemmOptions options;
            options.threads = 1;
            options.beta = b == chunk * blocks_per_chunk ? 0.0 : 1.0;
            const StridedArg c_arg{
                s_chunk + grp * kTaps * p.m * p.cg, {p.m * p.cg, p.cg, 1}, DType::Float32, DeviceType::CPU};
            const StridedArg z_arg{s.m, {p.m_tap, p.block, 1}, DType::Float32, DeviceType::CPU};
            const StridedArg vt_arg{s.v, {p.v_tap, 1, p.block}, DType::Float32, DeviceType::CPU};
            gemm<float>({kTaps}, p.m, p.cg, tiles, c_arg, z_arg, vt_arg, kernel, kernel.blocking, options);
          }
        }
      }
    });
  }
  weight_from_taps(p, s_all, chunks, s_floats, out);
}

}  // namespace tg::kernels::cpu
