// Implicit-GEMM convolution: the GEMM driver (gemm.cpp) packs its B panels straight from the image through a
// GatheredOperand, so the im2col matrix (Cin K x N OH OW, often 9x the image) is never written to memory and
// read back. Forward packs cols (a lane is an output position), the weight gradient cols^T (a lane is a
// (channel, kh, kw) row). Everything else (blocking, threads, edge tiles, summation order) is the GEMM's, so
// results equal tg::matmul over the materialised im2col matrix bit for bit.
#include "conv_gemm.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include <tensorgrad/base/error.h>
#include <tensorgrad/core/allocator.h>

#include "conv_direct_weight_grad.h"
#include "conv_winograd.h"
#include "cpu_buffer.h"
#include "gemm.h"
#include "isa_clones.h"
#include "parallel.h"

namespace tg::kernels::cpu {

namespace {

// How far past an element of a PaddedImage a pack may read (and past a run in a packed row it may write).
constexpr int kOverReadBytes = 64;
// The largest padded copy made (256 MiB: a batch of 256 ResNet 56x56x64 float32 images is 220 MB).
constexpr int64_t kMaxPaddedImageBytes = int64_t{1} << 28;

// A zero-padded copy of the image, [N, C, H + 2 PH, W + 2 PW] contiguous, from the CPU allocator's cached blocks,
// with kOverReadBytes of slack after its last element: the forward pack then reads every run unclipped.
template <class T>
class PaddedImage {
 public:
  // The padded planes' bytes (without the slack).
  static int64_t bytes_for(const WindowGeometry& g) {
    return g.batch * g.channels * (g.in_h + 2 * g.pad_h) * (g.in_w + 2 * g.pad_w) * static_cast<int64_t>(sizeof(T));
  }

  PaddedImage(const WindowGeometry& g, const T* x, int64_t xn, int64_t xc, int64_t xh, int64_t xw)
      : h_(g.in_h + 2 * g.pad_h), w_(g.in_w + 2 * g.pad_w), bytes_(static_cast<size_t>(bytes_for(g)) + kOverReadBytes) {
    data_ = static_cast<T*>(cpu_allocator().allocate(bytes_));
    const int64_t planes = g.batch * g.channels, plane = h_ * w_;
    std::memset(reinterpret_cast<std::byte*>(data_ + planes * plane), 0, kOverReadBytes);
    parallel_for(planes, threads_for(planes * plane, int64_t{1} << 16), [&](int64_t first, int64_t last, int) {
      for (int64_t i = first; i < last; ++i) {
        const T* src = x + i / g.channels * xn + i % g.channels * xc;
        T* dst = data_ + i * plane;
        std::fill(dst, dst + g.pad_h * w_, T(0));
        for (int64_t r = 0; r < g.in_h; ++r) {
          T* row = dst + (g.pad_h + r) * w_;
          std::fill(row, row + g.pad_w, T(0));
          const T* in = src + r * xh;
          if (xw == 1)
            std::memcpy(row + g.pad_w, in, static_cast<size_t>(g.in_w) * sizeof(T));
          else
            for (int64_t c = 0; c < g.in_w; ++c) row[g.pad_w + c] = in[c * xw];
          std::fill(row + g.pad_w + g.in_w, row + w_, T(0));
        }
        std::fill(dst + (g.pad_h + g.in_h) * w_, dst + plane, T(0));
      }
    });
  }
  ~PaddedImage() { cpu_allocator().deallocate(data_, bytes_); }
  PaddedImage(const PaddedImage&) = delete;
  PaddedImage& operator=(const PaddedImage&) = delete;

  const T* data() const { return data_; }
  int64_t height() const { return h_; }
  int64_t width() const { return w_; }

 private:
  int64_t h_, w_;
  size_t bytes_;
  T* data_ = nullptr;
};

// One index along an axis of cols: what it adds to the x offset and to the input row and column it reads.
// A row q = (c, kh, kw) adds (c, kh * DH, kw * DW); a column p = (n, oh, ow) adds (n, oh * SH - PH, ow * SW - PW).
// Element (q, p) is x[offset_q + offset_p] when 0 <= h_q + h_p < H and 0 <= w_q + w_p < W, else 0.
struct AxisEntry {
  int64_t offset, h, w;
};

template <class T>
struct Im2colOperand {
  const T* x = nullptr;
  int64_t xn = 0, xc = 0, xh = 0, xw = 0;  // x's strides
  WindowGeometry g;
  int64_t group_channels = 0;              // Cin / G: a group starts that many channels on
  bool lanes_are_positions = true;         // forward (B = cols); false: weight gradient (B = cols^T)
  // A GEMM batch entry e is group first_group + e over every position; with entries_are_images, it is image e of
  // group first_group (positions e L + the lane: a forward by images, each image's output its own C).
  int64_t first_group = 0;
  bool entries_are_images = false;
  // x is a PaddedImage: every read lies inside it (pad = 0), and kOverReadBytes more may be read past any
  // element, so a run may be copied in whole chunks.
  bool padded = false;
  // Added to every position index the GEMM asks for: a GEMM over positions [first_position, ...) only (the weight
  // gradient in chunks).
  int64_t first_position = 0;
  std::vector<AxisEntry> rows;  // row(q) for every q of a group, filled once per call (the pack reads them)

  // entries[i] = column(first + i) (positions) or row(first + i), walking the indices instead of dividing
  // for each one (two divisions an entry cost as much as gathering a short panel).
  void fill(bool positions, int64_t first, int64_t count, AxisEntry* entries) const {
    if (count <= 0) return;
    if (positions) {
      const int64_t l = g.out_h * g.out_w;
      int64_t n = first / l, oh = first % l / g.out_w, ow = first % g.out_w;
      for (int64_t i = 0; i < count; ++i) {
        const int64_t h = oh * g.stride_h - g.pad_h, w = ow * g.stride_w - g.pad_w;
        entries[i] = {n * xn + h * xh + w * xw, h, w};
        if (++ow == g.out_w) {
          ow = 0;
          if (++oh == g.out_h) {
            oh = 0;
            ++n;
          }
        }
      }
    } else {
      const int64_t k = g.kernel_h * g.kernel_w;
      int64_t c = first / k, kh = first % k / g.kernel_w, kw = first % g.kernel_w;
      for (int64_t i = 0; i < count; ++i) {
        entries[i] = {c * xc + kh * g.dilation_h * xh + kw * g.dilation_w * xw, kh * g.dilation_h, kw * g.dilation_w};
        if (++kw == g.kernel_w) {
          kw = 0;
          if (++kh == g.kernel_h) {
            kh = 0;
            ++c;
          }
        }
      }
    }
  }
  bool inside(const AxisEntry& a, const AxisEntry& b) const {
    return static_cast<uint64_t>(a.h + b.h) < static_cast<uint64_t>(g.in_h) &&
           static_cast<uint64_t>(a.w + b.w) < static_cast<uint64_t>(g.in_w);
  }
};

// Lanes that are output positions along one image row, (n, oh) fixed and ow consecutive: they read x at a
// fixed step (SW * x's width stride) from the first lane's offset, and lie inside the image for one range of j.
struct RowSegment {
  int first, count;
};

// even = src[0], src[2], ..., src[14], a vector of eight: two contiguous 8-wide loads and an even-lane shuffle (GCC
// does not vectorise the strided form). Reads src[15] too. (An out-parameter: a vector returned by value from a
// function of the baseline target draws GCC's ABI warning.)
template <class V, class T>
inline __attribute__((always_inline)) void load_even8(const T* src, V& even) {
  V a, b;
  std::memcpy(&a, src, sizeof(V));
  std::memcpy(&b, src + 8, sizeof(V));
  even = __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14);
}

// dst[j] = src[2 j] for j < count, reading no further than src[2 (count - 1)]: a stride-2 convolution's run of
// positions, eight lanes a step (load_even8); 23% of a 3x3 stride-2 convolution's forward (the ASR model's 144 ->
// 144 subsampling layer) was the scalar loop. Inlined into pack_positions_clipped's per-ISA copies.
template <class T>
inline __attribute__((always_inline)) void copy_even_impl(const T* __restrict src, int count, T* __restrict dst) {
  typedef T V __attribute__((vector_size(8 * sizeof(T))));
  int j = 0;
  for (; j + 8 < count; j += 8) {  // the last load ends at src[2 j + 15] <= src[2 (count - 1) - 1]
    V even;
    load_even8(src + 2 * j, even);
    std::memcpy(dst + j, &even, sizeof(V));
  }
  for (; j < count; ++j) dst[j] = src[2 * j];
}

// Run by run (each run's constants in registers), down the depth, each run clipped to the image for each depth
// step (the padding's zeros written around it).
template <class T>
inline __attribute__((always_inline)) void pack_positions_clipped_impl(const Im2colOperand<T>& op, const T* x,
                                                                       const AxisEntry* lanes_at,
                                                                       const RowSegment* segments, int count,
                                                                       const AxisEntry* depth_at, int64_t depth,
                                                                       int width, T* out) {
  const WindowGeometry& g = op.g;
  const int64_t step = g.stride_w * op.xw;
  // Each run's lines of the next panel are requested as this one is copied (into L2: prefetcht2): a panel reads
  // a few rows of each of kc / K channel planes, a short run from each, which the hardware prefetchers did not
  // keep ahead of. The offset from this panel's first lane to the next one's is a guess (exact where rows do
  // not wrap); a wrong line costs a wasted request, not a fault. The ASR model's 3x3 stride-2 144-channel
  // layer's forward: 116-123 -> 109-114 ms (a request one panel ahead; two and four panels ahead gained less).
  const RowSegment last_seg = segments[count - 1];
  const int64_t ahead = lanes_at[last_seg.first + last_seg.count - 1].offset - lanes_at[0].offset + step;
  for (int s = 0; s < count; ++s) {
    const RowSegment seg = segments[s];
    const AxisEntry l = lanes_at[seg.first];
    const int64_t last_w = (seg.count - 1) * g.stride_w;
    T* __restrict dst = out + seg.first;
    for (int64_t p = 0; p < depth; ++p, dst += width) {
      const AxisEntry& d = depth_at[p];
      const T* __restrict src = x + l.offset + d.offset;
      const int64_t h = l.h + d.h, w0 = l.w + d.w;
      // As addresses, not pointers: the guess may lie past the image.
      const uintptr_t next = reinterpret_cast<uintptr_t>(src) + static_cast<uintptr_t>(ahead * sizeof(T));
      __builtin_prefetch(reinterpret_cast<const void*>(next), 0, 1);
      __builtin_prefetch(reinterpret_cast<const void*>(next + static_cast<uintptr_t>(last_w * sizeof(T))), 0, 1);
      if (static_cast<uint64_t>(h) < static_cast<uint64_t>(g.in_h) && w0 >= 0 && w0 + last_w < g.in_w) {
        if (step == 1)  // the usual case: a plain copy
          for (int j = 0; j < seg.count; ++j) dst[j] = src[j];
        else if (step == 2)
          copy_even_impl(src, seg.count, dst);
        else
          for (int j = 0; j < seg.count; ++j) dst[j] = src[j * step];
        continue;
      }
      int lo = 0, hi = 0;  // the lanes [lo, hi) of the run that read inside the image
      if (static_cast<uint64_t>(h) < static_cast<uint64_t>(g.in_h)) {
        lo = w0 >= 0 ? 0 : static_cast<int>(std::min<int64_t>(seg.count, (-w0 + g.stride_w - 1) / g.stride_w));
        hi = w0 >= g.in_w ? 0 : static_cast<int>(std::min<int64_t>(seg.count, (g.in_w - 1 - w0) / g.stride_w + 1));
        hi = std::max(hi, lo);
      }
      for (int j = 0; j < lo; ++j) dst[j] = T(0);
      for (int j = lo; j < hi; ++j) dst[j] = src[j * step];
      for (int j = hi; j < seg.count; ++j) dst[j] = T(0);
    }
  }
}

// One copy per ISA, so the stride-2 runs' shuffles are that ISA's and inline (a call a run cost ~5% of the pack).
TG_ISA_CLONES void pack_positions_clipped(const Im2colOperand<float>& op, const float* x, const AxisEntry* lanes_at,
                                          const RowSegment* segments, int count, const AxisEntry* depth_at,
                                          int64_t depth, int width, float* out) {
  pack_positions_clipped_impl(op, x, lanes_at, segments, count, depth_at, depth, width, out);
}
TG_ISA_CLONES void pack_positions_clipped(const Im2colOperand<double>& op, const double* x, const AxisEntry* lanes_at,
                                          const RowSegment* segments, int count, const AxisEntry* depth_at,
                                          int64_t depth, int width, double* out) {
  pack_positions_clipped_impl(op, x, lanes_at, segments, count, depth_at, depth, width, out);
}

// Over a PaddedImage with unit steps: no run needs clipping, so a run is copied down the depth in whole chunks
// of kOverReadBytes, runs left to right: the elements a chunk writes past its run belong to the next run, which
// overwrites them (a run whose chunk would pass the row's end is copied exactly). With the CNN's 14-wide image
// a run is one chunk per depth step, where the clipped copy did per-element work (bounds, clipping, a short loop).
template <class T>
inline __attribute__((always_inline)) void pack_positions_padded_impl(const T* x, const AxisEntry* lanes_at,
                                                                       const RowSegment* segments, int count,
                                                                       const AxisEntry* depth_at, int64_t depth,
                                                                       int width, T* out) {
  constexpr int chunk = kOverReadBytes / static_cast<int>(sizeof(T));
  for (int s = 0; s < count; ++s) {
    const RowSegment seg = segments[s];
    const T* src = x + lanes_at[seg.first].offset;
    T* dst = out + seg.first;
    if (seg.count <= chunk && seg.first + chunk <= width) {  // the usual run: one chunk a depth step
      for (int64_t p = 0; p < depth; ++p) std::memcpy(dst + p * width, src + depth_at[p].offset, kOverReadBytes);
      continue;
    }
    for (int64_t p = 0; p < depth; ++p) {
      const T* from = src + depth_at[p].offset;
      T* to = dst + p * width;
      int j = 0;
      for (; j + chunk <= seg.count; j += chunk) std::memcpy(to + j, from + j, kOverReadBytes);
      if (j < seg.count && seg.first + j + chunk <= width) {
        std::memcpy(to + j, from + j, kOverReadBytes);
      } else {
        for (; j < seg.count; ++j) to[j] = from[j];
      }
    }
  }
}

// One copy per ISA (a chunk is one 512-bit move with AVX-512, four 128-bit ones on baseline x86-64).
TG_ISA_CLONES void pack_positions_padded(const float* x, const AxisEntry* lanes_at, const RowSegment* segments,
                                         int count, const AxisEntry* depth_at, int64_t depth, int width, float* out) {
  pack_positions_padded_impl(x, lanes_at, segments, count, depth_at, depth, width, out);
}
TG_ISA_CLONES void pack_positions_padded(const double* x, const AxisEntry* lanes_at, const RowSegment* segments,
                                         int count, const AxisEntry* depth_at, int64_t depth, int width, double* out) {
  pack_positions_padded_impl(x, lanes_at, segments, count, depth_at, depth, width, out);
}

// Forward: a lane is an output position, the depth a (c, kh, kw). Each panel's lanes are cut into runs along
// image rows; for each depth step a run is a strided copy with its ends clipped to the image (the padding's
// zeros written around it) instead of a bounds check per element.
template <class T>
void pack_positions(const Im2colOperand<T>& op, const T* x, const AxisEntry* lanes_at, int used,
                    const AxisEntry* depth_at, int64_t depth, int width, T* out) {
  const WindowGeometry& g = op.g;
  const int64_t step = g.stride_w * op.xw;
  RowSegment segments[64];
  int count = 0;
  for (int j = 0; j < used;) {
    int e = j + 1;
    while (e < used && lanes_at[e].h == lanes_at[j].h && lanes_at[e].w == lanes_at[j].w + (e - j) * g.stride_w) ++e;
    segments[count++] = {j, e - j};
    j = e;
  }
  if (op.padded && step == 1) {
    pack_positions_padded(x, lanes_at, segments, count, depth_at, depth, width, out);
  } else {
    pack_positions_clipped(op, x, lanes_at, segments, count, depth_at, depth, width, out);
  }
  if (used < width)
    for (int64_t p = 0; p < depth; ++p)
      for (int j = used; j < width; ++j) out[p * width + j] = T(0);
}

// v[i][p] -> v[p][i] for eight vectors of eight lanes (GCC's vector extension): three rounds of two-input shuffles
// (unpack, pairs, halves), 24 in all.
template <class V>
inline __attribute__((always_inline)) void transpose8(V (&v)[8]) {
  V t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = __builtin_shufflevector(v[i], v[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
    t[i + 1] = __builtin_shufflevector(v[i], v[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
  }
  for (int i = 0; i < 8; i += 4)
    for (int h = 0; h < 2; ++h) {
      u[i + 2 * h] = __builtin_shufflevector(t[i + h], t[i + 2 + h], 0, 1, 8, 9, 4, 5, 12, 13);
      u[i + 2 * h + 1] = __builtin_shufflevector(t[i + h], t[i + 2 + h], 2, 3, 10, 11, 6, 7, 14, 15);
    }
  for (int i = 0; i < 4; ++i) {
    v[i] = __builtin_shufflevector(u[i], u[i + 4], 0, 1, 2, 3, 8, 9, 10, 11);
    v[i + 4] = __builtin_shufflevector(u[i], u[i + 4], 4, 5, 6, 7, 12, 13, 14, 15);
  }
}

// Weight gradient: a lane is a (c, kh, kw), the depth an output position. A position whose whole window lies in
// the image (most of them) gathers its lanes without a bounds check; the others check each one. Where up to eight
// positions in a row read each lane's values as one run of x (steps of 1, or of 2 over a PaddedImage), they go
// eight lanes at a time: eight runs loaded as vectors and transposed into the packed rows. One element at a time
// (a load of its offset, the load, the store) had been 23% of the ASR model's stride-2 subsampling layer's weight
// gradient; runs of eight only left a fifth of it (its rows are 20 positions) one element at a time.
template <class T>
inline __attribute__((always_inline)) void pack_window_rows_impl(const Im2colOperand<T>& op, const T* x,
                                                                 const AxisEntry* lanes_at, int used,
                                                                 const AxisEntry* depth_at, int64_t depth,
                                                                 int width, T* out) {
  typedef T Vec8 __attribute__((vector_size(8 * sizeof(T))));  // a ymm register for float with AVX2 or AVX-512
  const WindowGeometry& g = op.g;
  int64_t lane_offset[64];
  int64_t h_min = 0, h_max = 0, w_min = 0, w_max = 0;
  for (int j = 0; j < used; ++j) {
    lane_offset[j] = lanes_at[j].offset;
    h_min = j == 0 ? lanes_at[j].h : std::min(h_min, lanes_at[j].h);
    h_max = j == 0 ? lanes_at[j].h : std::max(h_max, lanes_at[j].h);
    w_min = j == 0 ? lanes_at[j].w : std::min(w_min, lanes_at[j].w);
    w_max = j == 0 ? lanes_at[j].w : std::max(w_max, lanes_at[j].w);
  }
  auto whole_window_inside = [&](const AxisEntry& d) {
    return op.padded || (d.h + h_min >= 0 && d.h + h_max < g.in_h && d.w + w_min >= 0 && d.w + w_max < g.in_w);
  };
  // The run of up to eight positions from p that the vector loads may read: positions one step of x apart (1, or 2
  // over a PaddedImage) with their whole windows inside. A full run reads at most one element past its last; a
  // shorter one (a row's last few positions) up to a vector's length past it, which only a PaddedImage's slack
  // allows. count 0: no such run (the position goes alone).
  struct Run {
    int64_t step = 0;
    int count = 0;
  };
  auto run_at = [&](int64_t p) -> Run {
    if (p + 1 >= depth || !whole_window_inside(depth_at[p])) return {};
    const int64_t step = depth_at[p + 1].offset - depth_at[p].offset;
    if (!(step == 1 || (step == 2 && op.padded))) return {};
    int count = 1;
    while (count < 8 && p + count < depth && depth_at[p + count].offset == depth_at[p].offset + count * step &&
           whole_window_inside(depth_at[p + count]))
      ++count;
    const int64_t past_last = (step == 1 ? 7 : 15) - step * (count - 1);  // elements the loads read past the run
    if (count < 8 && !(op.padded && past_last * static_cast<int64_t>(sizeof(T)) <= kOverReadBytes)) return {};
    return {step, count};
  };
  for (int64_t p = 0; p < depth;) {
    if (const Run r = run_at(p); r.count > 1) {
      const int64_t step = r.step;
      const T* src = x + depth_at[p].offset;
      T* o = out + p * width;
      int j = 0;
      for (; j + 8 <= used; j += 8) {
        Vec8 v[8];
        for (int i = 0; i < 8; ++i) {
          const T* run = src + lane_offset[j + i];
          if (step == 1)
            std::memcpy(&v[i], run, sizeof(Vec8));
          else
            load_even8(run, v[i]);
        }
        transpose8(v);
#pragma GCC unroll 8
        for (int q = 0; q < 8; ++q)  // constant indices keep v in registers
          if (q < r.count) std::memcpy(o + q * width + j, &v[q], sizeof(Vec8));
      }
      for (int q = 0; q < r.count; ++q) {
        for (int jj = j; jj < used; ++jj) o[q * width + jj] = src[lane_offset[jj] + q * step];
        for (int jj = used; jj < width; ++jj) o[q * width + jj] = T(0);
      }
      p += r.count;
      continue;
    }
    T* o = out + p * width;
    const AxisEntry& d = depth_at[p];
    const T* src = x + d.offset;
    if (whole_window_inside(d)) {
      for (int j = 0; j < used; ++j) o[j] = src[lane_offset[j]];
    } else {
      for (int j = 0; j < used; ++j) o[j] = op.inside(lanes_at[j], d) ? src[lane_offset[j]] : T(0);
    }
    for (int j = used; j < width; ++j) o[j] = T(0);
    ++p;
  }
}

// One copy per ISA, so the transposes use that ISA's shuffles.
TG_ISA_CLONES void pack_window_rows(const Im2colOperand<float>& op, const float* x, const AxisEntry* lanes_at,
                                    int used, const AxisEntry* depth_at, int64_t depth, int width, float* out) {
  pack_window_rows_impl(op, x, lanes_at, used, depth_at, depth, width, out);
}
TG_ISA_CLONES void pack_window_rows(const Im2colOperand<double>& op, const double* x, const AxisEntry* lanes_at,
                                    int used, const AxisEntry* depth_at, int64_t depth, int width, double* out) {
  pack_window_rows_impl(op, x, lanes_at, used, depth_at, depth, width, out);
}

// GatheredOperand::pack over an Im2colOperand.
template <class T>
void pack_im2col(const void* context, int64_t entry, int64_t lane0, int64_t lanes, int64_t depth0, int64_t depth,
                 int width, T* out) {
  const Im2colOperand<T>& op = *static_cast<const Im2colOperand<T>*>(context);
  const int64_t group = op.first_group + (op.entries_are_images ? 0 : entry);
  const T* x = op.x + group * op.group_channels * op.xc;
  const int64_t first_position =
      op.first_position + (op.entries_are_images ? entry * op.g.out_h * op.g.out_w : int64_t{0});
  // The positions' entries are walked here; the rows' were filled once (the GEMM packs a panel at a time, and
  // refilling the same depth entries for each one cost a quarter of the forward's packing).
  thread_local std::vector<AxisEntry> position_entries;
  const bool positions_are_lanes = op.lanes_are_positions;
  position_entries.resize(static_cast<size_t>(positions_are_lanes ? lanes : depth));
  op.fill(true, first_position + (positions_are_lanes ? lane0 : depth0), positions_are_lanes ? lanes : depth,
          position_entries.data());
  const AxisEntry* lane_entries = positions_are_lanes ? position_entries.data() : op.rows.data() + lane0;
  const AxisEntry* depth_entries = positions_are_lanes ? op.rows.data() + depth0 : position_entries.data();
  for (int64_t first = 0; first < lanes; first += width, out += depth * width) {
    const int used = static_cast<int>(std::min<int64_t>(width, lanes - first));
    const AxisEntry* l = lane_entries + first;
    if (positions_are_lanes)
      pack_positions(op, x, l, used, depth_entries, depth, width, out);
    else
      pack_window_rows(op, x, l, used, depth_entries, depth, width, out);
  }
}

// The weight gradient sums over every output position (the GEMM's k loop, which the GEMM never splits, so that
// each element's sum has one order). With a small result (the CNN's conv1: 32 x 9 from 100352 positions) the
// GEMM's threads then have nothing to split and one thread does it all (1.9 ms on one thread, 2.9 on two, Zen 5).
// Such a sum goes by chunks of positions instead, fixed by the problem alone: each chunk's partial result on its
// own thread, then the chunks added in order, so the bits do not depend on the thread count (they are not the
// single GEMM's: the sum is grouped by chunks).
constexpr int64_t kMaxChunkedResult = 64 * 64;            // elements of the result a group, at most
constexpr int64_t kWeightGradChunk = int64_t{1} << 13;    // positions a chunk, at least
constexpr int64_t kMaxWeightGradChunks = 16;
bool weight_grad_in_chunks(int64_t m, int64_t q, int64_t p) {
  return m * q <= kMaxChunkedResult && p >= 2 * kWeightGradChunk;
}

// The output's (or its gradient's) 4-D (group, row, image, position) operand walks its N L columns at one stride
// where its images follow each other (s_N = L s_L: the GEMM's own [G, M, N L] layout), or there is one image or
// one position; that stride, else none (NC(H)W: an image's channels lie between its positions and the next's).
std::optional<int64_t> column_stride(const StridedArg& t, int64_t n, int64_t l) {
  if (n <= 1) return t.strides[3];
  if (l <= 1) return t.strides[2];
  if (t.strides[2] == l * t.strides[3]) return t.strides[3];
  return std::nullopt;
}
StridedArg with_column_stride(const StridedArg& t, int64_t column) {
  return {t.data, {t.strides[0], t.strides[1], column}, t.dtype, t.device};
}

// Columns [first, first + count) of every row (g, i) of a 4-D operand t to or from rows[(g M + i) count + j], on
// up to `threads` threads.
template <class T>
void copy_columns(const StridedArg& t, int64_t groups, int64_t m, int64_t l, int64_t first, int64_t count, T* rows,
                  bool to_rows, int threads) {
  parallel_for(groups * m, threads, [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) {
      T* row = rows + r * count;
      T* base = static_cast<T*>(t.data) + r / m * t.strides[0] + r % m * t.strides[1];
      for (int64_t j = 0; j < count;) {
        const int64_t p = first + j, run = std::min(count - j, l - p % l);
        T* at = base + p / l * t.strides[2] + p % l * t.strides[3];
        const int64_t step = t.strides[3];
        if (step == 1 && to_rows)  // NC(H)W: whole runs, which the compiler vectorises
          std::copy(at, at + run, row + j);
        else if (step == 1)
          std::copy(row + j, row + j + run, at);
        else if (to_rows)
          for (int64_t i = 0; i < run; ++i) row[j + i] = at[i * step];
        else
          for (int64_t i = 0; i < run; ++i) at[i * step] = row[j + i];
        j += run;
      }
    }
  });
}

int copy_threads(int64_t elements) { return threads_for(elements, int64_t{1} << 16); }

template <class T>
void weight_grad_by_chunks(Im2colOperand<T>& cols, int64_t groups, int64_t m, int64_t q, int64_t p, int64_t l,
                           const StridedArg& out, const StridedArg& a) {
  // A multiple of 16 positions a chunk: each chunk's rows of the gradient start on a cache line as the whole
  // rows do (unaligned, the one-thread time rose by a fifth).
  const int64_t split = std::min(kMaxWeightGradChunks, p / kWeightGradChunk);
  const int64_t per_chunk = ((p + split - 1) / split + 15) / 16 * 16, chunks = (p + per_chunk - 1) / per_chunk;
  std::vector<T> partial(static_cast<size_t>(chunks * groups * m * q));
  const int threads = threads_for(groups * m * q * p, int64_t{1} << 20);
  // An NC(H)W gradient's chunk is copied into a [G, M, chunk] block first: a chunk's columns run across images,
  // which a GEMM operand cannot, and the block (at most ~1 MB for these small results) is read from cache.
  const std::optional<int64_t> column = column_stride(a, p / l, l);
  // Rethrowing: the copied operand, the blocks and the GEMM driver's pack scratch allocate on the worker threads.
  parallel_for_rethrowing(chunks, threads, [&](int64_t first, int64_t last, int) {
    for (int64_t k = first; k < last; ++k) {
      const int64_t p0 = k * per_chunk, len = std::min(per_chunk, p - p0);
      Im2colOperand<T> chunk_cols = cols;  // a copy (rows included) whose positions start at p0
      chunk_cols.first_position = p0;
      const GatheredOperand<T> b{&pack_im2col<T>, &chunk_cols};
      const StridedArg c{partial.data() + k * groups * m * q, {m * q, q, 1}, out.dtype, out.device};
      std::optional<CpuBuffer> block;
      StridedArg a_chunk;
      if (column) {
        a_chunk = with_column_stride(a, *column);
        a_chunk.data = static_cast<T*>(a.data) + p0 * *column;
      } else {
        block.emplace(static_cast<size_t>(groups * m * len) * sizeof(T));
        copy_columns(a, groups, m, l, p0, len, block->as<T>(), true, 1);  // a chunk is one thread's work
        a_chunk = {block->as<T>(), {m * len, len, 1}, a.dtype, a.device};
      }
      GemmOptions options;
      options.threads = 1;
      gemm_gathered_b<T>(groups, m, q, len, c, a_chunk, b, options);
    }
  });
  T* o = static_cast<T*>(out.data);
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < q; ++j) {
        T sum = T(0);
        for (int64_t k = 0; k < chunks; ++k) sum += partial[static_cast<size_t>(((k * groups + g) * m + i) * q + j)];
        o[g * out.strides[0] + i * out.strides[1] + j * out.strides[2]] = sum;
      }
}

// An image's positions at least this many (and more than the blocking's MC), a forward into an NC(H)W output is
// one GEMM a group and image, each image's C in place (the 1 x 28 x 28 CNN's first layer: 784). Fewer, and each
// image's last, partly filled column of tiles would cost too much: C is computed in the [G, M, N L] layout into a
// buffer and copied into place.
constexpr int64_t kMinPositionsByImage = 256;

// Forward: out[g] = a[g] cols[g] + bias, over out's 4-D strides.
template <class T>
void conv_forward(Im2colOperand<T>& cols, const ConvGemmProblem& pr, int64_t m, int64_t q, const StridedArg& out,
                  const StridedArg& a, const StridedArg& bias, const MicroKernel<T>& kernel) {
  const WindowGeometry& g = pr.window;
  const int64_t n = g.batch, l = g.out_h * g.out_w, p = n * l;
  const GatheredOperand<T> b{&pack_im2col<T>, &cols};
  GemmOptions options;
  options.bias_per_row = true;
  auto set_bias = [&](int64_t group) {  // group's Cout / G values
    const bool has = bias.data != nullptr;
    options.epilogue.bias = has ? static_cast<const T*>(bias.data) + group * m * bias.strides[0] : nullptr;
    options.epilogue.bias_stride = has ? bias.strides[0] : 1;
  };
  auto group_of = [](const StridedArg& t, int64_t group, Strides strides) {
    return StridedArg{static_cast<T*>(t.data) + group * t.strides[0], std::move(strides), t.dtype, t.device};
  };
  const std::optional<int64_t> column = column_stride(out, n, l);
  if (!column && l >= kMinPositionsByImage && l > kernel.blocking.mc) {
    // By images: the same sums as the whole batch's GEMM (one image's C is as short as the batch's, so the driver
    // blocks k the same way), written in place.
    cols.entries_are_images = true;
    for (int64_t grp = 0; grp < pr.groups; ++grp) {
      cols.first_group = grp;
      set_bias(grp);
      gemm_gathered_b<T>(n, m, l, q, group_of(out, grp, {out.strides[2], out.strides[1], out.strides[3]}),
                         group_of(a, grp, {0, a.strides[1], a.strides[2]}), b, options);
    }
    return;
  }
  std::optional<CpuBuffer> buffer;  // [G, M, N L] where out is not
  StridedArg c;
  if (column) {
    c = with_column_stride(out, *column);
  } else {
    buffer.emplace(static_cast<size_t>(pr.groups * m * p) * sizeof(T));
    c = {buffer->as<T>(), {m * p, p, 1}, out.dtype, out.device};
  }
  if (bias.data == nullptr || pr.groups == 1) {
    set_bias(0);
    gemm_gathered_b<T>(pr.groups, m, p, q, c, a, b, options);
  } else {  // the bias differs from group to group, the epilogue's between batch entries does not
    for (int64_t grp = 0; grp < pr.groups; ++grp) {
      cols.first_group = grp;
      set_bias(grp);
      gemm_gathered_b<T>(1, m, p, q, group_of(c, grp, c.strides), group_of(a, grp, a.strides), b, options);
    }
  }
  if (buffer) copy_columns(out, pr.groups, m, l, 0, p, buffer->as<T>(), false, copy_threads(pr.groups * m * p));
}

template <class T>
void conv_gemm_typed(ConvGemmOp op, const ConvGemmProblem& pr, const StridedArg& out, const StridedArg& a,
                     const StridedArg& x, const StridedArg& bias) {
  const WindowGeometry& g = pr.window;
  const bool forward = op == ConvGemmOp::Forward;
  TG_CHECK(out.strides.size() == (forward ? 4u : 3u) && a.strides.size() == (forward ? 3u : 4u) &&
               x.strides.size() == 4 && (bias.data == nullptr || bias.strides.size() == 1),
           op_name(op), ": operands of ranks ", out.strides.size(), ", ", a.strides.size(), ", ", x.strides.size(),
           forward ? " (4, 3, 4)" : " (3, 4, 4)", bias.data != nullptr ? " and a bias of rank 1" : "");
  Im2colOperand<T> cols;
  cols.x = static_cast<const T*>(x.data);
  cols.xn = x.strides[0];
  cols.xc = x.strides[1];
  cols.xh = x.strides[2];
  cols.xw = x.strides[3];
  cols.g = g;
  cols.group_channels = g.channels / pr.groups;
  // A padded convolution packs from a padded copy (one pass over the image): the forward's runs (unit column
  // steps only) are then copied in whole chunks, and no position of the weight gradient's needs bounds checks.
  // CNN conv2 (32 -> 64, 14x14, one thread, Zen 5): forward 8.2 -> 6.4 ms, weight gradient 8.0 -> 7.6 ms.
  std::optional<PaddedImage<T>> padded;
  cols.lanes_are_positions = forward;
  // Above kMaxPaddedImageBytes (a large batch of large images) the copy would add too much to peak memory, and
  // the clipped pack runs instead.
  if ((g.pad_h > 0 || g.pad_w > 0) && (!forward || g.stride_w == 1) &&
      PaddedImage<T>::bytes_for(g) <= kMaxPaddedImageBytes) {
    padded.emplace(g, cols.x, cols.xn, cols.xc, cols.xh, cols.xw);
    cols.x = padded->data();
    cols.xw = 1;
    cols.xh = padded->width();
    cols.xc = padded->height() * padded->width();
    cols.xn = g.channels * cols.xc;
    cols.g.in_h = padded->height();
    cols.g.in_w = padded->width();
    cols.g.pad_h = cols.g.pad_w = 0;
    cols.padded = true;
  }
  // The pack loops keep a panel's lane entries on the stack (checked here: they run inside the GEMM's threads).
  const MicroKernel<T>& kernel = default_micro_kernel<T>();
  TG_CHECK(kernel.mr <= 64 && kernel.nr <= 64 && kernel.companion.mr <= 64 && kernel.companion.nr <= 64,
           "conv_gemm: micro-kernel '", kernel.name, "' or its companion has panels wider than 64");
  const int64_t m = pr.out_channels / pr.groups, q = cols.group_channels * g.kernel_h * g.kernel_w;
  cols.rows.resize(static_cast<size_t>(q));
  cols.fill(false, 0, q, cols.rows.data());
  const int64_t l = g.out_h * g.out_w, p = g.batch * l;
  if (forward) return conv_forward(cols, pr, m, q, out, a, bias, kernel);
  if (weight_grad_in_chunks(m, q, p)) return weight_grad_by_chunks(cols, pr.groups, m, q, p, l, out, a);
  const GatheredOperand<T> b{&pack_im2col<T>, &cols};
  if (const std::optional<int64_t> column = column_stride(a, g.batch, l)) {
    gemm_gathered_b<T>(pr.groups, m, q, p, out, with_column_stride(a, *column), b);
  } else {  // an NC(H)W gradient: copied into the [G, M, N L] layout, whose columns the GEMM can walk
    const CpuBuffer rows(static_cast<size_t>(pr.groups * m * p) * sizeof(T));
    copy_columns(a, pr.groups, m, l, 0, p, rows.as<T>(), true, copy_threads(pr.groups * m * p));
    gemm_gathered_b<T>(pr.groups, m, q, p, out, {rows.as<T>(), {m * p, p, 1}, a.dtype, a.device}, b);
  }
}

}  // namespace

void conv_gemm_implicit(ConvGemmOp op, const ConvGemmProblem& p, const StridedArg& out, const StridedArg& a,
                        const StridedArg& x, const StridedArg& bias) {
  visit_floating(x.dtype, op_name(op), [&]<class T>(TypeTag<T>) { conv_gemm_typed<T>(op, p, out, a, x, bias); });
}

void conv_gemm(ConvGemmOp op, const ConvGemmProblem& p, const StridedArg& out, const StridedArg& a,
               const StridedArg& x, const StridedArg& bias) {
  if (op == ConvGemmOp::WeightGrad && conv_weight_grad_is_direct(p, x.dtype) && a.strides.size() == 4 &&
      a.strides[3] == 1)
    conv_direct_weight_grad(p, out, a, x);
  else if (!conv_gemm_is_winograd(p, x.dtype))
    conv_gemm_implicit(op, p, out, a, x, bias);
  else if (op == ConvGemmOp::Forward)
    conv_winograd(p, out, a, x, bias);
  else
    conv_winograd_weight_grad(p, out, a, x);
}

}  // namespace tg::kernels::cpu
