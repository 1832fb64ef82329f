// Implicit-GEMM convolution: the GEMM driver (gemm.cpp) packs its B panels straight from the image through a
// GatheredOperand, so the im2col matrix (Cin K x N OH OW, often 9x the image) is never written to memory and
// read back. Forward packs cols (a lane is an output position), the weight gradient cols^T (a lane is a
// (channel, kh, kw) row). Everything else (blocking, threads, edge tiles, summation order) is the GEMM's, so
// results equal tg::matmul over the materialised im2col matrix bit for bit.
#include "conv_gemm.h"

#include <algorithm>
#include <vector>

#include <tensorgrad/base/error.h>

#include "gemm.h"

namespace tg::kernels::cpu {

namespace {

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
  int64_t group_channels = 0;              // Cin / G: a batch entry (group) starts that many channels on
  bool lanes_are_positions = true;         // forward (B = cols); false: weight gradient (B = cols^T)

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
  // Run by run (each run's constants in registers), down the depth.
  for (int s = 0; s < count; ++s) {
    const RowSegment seg = segments[s];
    const AxisEntry l = lanes_at[seg.first];
    const int64_t last_w = (seg.count - 1) * g.stride_w;
    T* __restrict dst = out + seg.first;
    for (int64_t p = 0; p < depth; ++p, dst += width) {
      const AxisEntry& d = depth_at[p];
      const T* __restrict src = x + l.offset + d.offset;
      const int64_t h = l.h + d.h, w0 = l.w + d.w;
      if (static_cast<uint64_t>(h) < static_cast<uint64_t>(g.in_h) && w0 >= 0 && w0 + last_w < g.in_w) {
        if (step == 1)  // the usual case: a plain copy
          for (int j = 0; j < seg.count; ++j) dst[j] = src[j];
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
  if (used < width)
    for (int64_t p = 0; p < depth; ++p)
      for (int j = used; j < width; ++j) out[p * width + j] = T(0);
}

// Weight gradient: a lane is a (c, kh, kw), the depth an output position. A position whose whole window lies in
// the image (most of them) gathers its lanes without a bounds check; the others check each one.
template <class T>
void pack_window_rows(const Im2colOperand<T>& op, const T* x, const AxisEntry* lanes_at, int used,
                      const AxisEntry* depth_at, int64_t depth, int width, T* out) {
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
  for (int64_t p = 0; p < depth; ++p) {
    T* o = out + p * width;
    const AxisEntry& d = depth_at[p];
    const T* src = x + d.offset;
    if (d.h + h_min >= 0 && d.h + h_max < g.in_h && d.w + w_min >= 0 && d.w + w_max < g.in_w) {
      for (int j = 0; j < used; ++j) o[j] = src[lane_offset[j]];
    } else {
      for (int j = 0; j < used; ++j) o[j] = op.inside(lanes_at[j], d) ? src[lane_offset[j]] : T(0);
    }
    for (int j = used; j < width; ++j) o[j] = T(0);
  }
}

// GatheredOperand::pack over an Im2colOperand.
template <class T>
void pack_im2col(const void* context, int64_t entry, int64_t lane0, int64_t lanes, int64_t depth0, int64_t depth,
                 int width, T* out) {
  const Im2colOperand<T>& op = *static_cast<const Im2colOperand<T>*>(context);
  const T* x = op.x + entry * op.group_channels * op.xc;
  thread_local std::vector<AxisEntry> lane_entries, depth_entries;
  lane_entries.resize(static_cast<size_t>(lanes));
  depth_entries.resize(static_cast<size_t>(depth));
  op.fill(op.lanes_are_positions, lane0, lanes, lane_entries.data());
  op.fill(!op.lanes_are_positions, depth0, depth, depth_entries.data());
  for (int64_t first = 0; first < lanes; first += width, out += depth * width) {
    const int used = static_cast<int>(std::min<int64_t>(width, lanes - first));
    const AxisEntry* l = lane_entries.data() + first;
    if (op.lanes_are_positions)
      pack_positions(op, x, l, used, depth_entries.data(), depth, width, out);
    else
      pack_window_rows(op, x, l, used, depth_entries.data(), depth, width, out);
  }
}

template <class T>
void conv_gemm_typed(ConvGemmOp op, const ConvGemmProblem& pr, const StridedArg& out, const StridedArg& a,
                     const StridedArg& x) {
  const WindowGeometry& g = pr.window;
  Im2colOperand<T> cols;
  cols.x = static_cast<const T*>(x.data);
  cols.xn = x.strides[0];
  cols.xc = x.strides[1];
  cols.xh = x.strides[2];
  cols.xw = x.strides[3];
  cols.g = g;
  cols.group_channels = g.channels / pr.groups;
  cols.lanes_are_positions = op == ConvGemmOp::Forward;
  // The pack loops keep a panel's lane entries on the stack (checked here: they run inside the GEMM's threads).
  const MicroKernel<T>& kernel = default_micro_kernel<T>();
  TG_CHECK(kernel.mr <= 64 && kernel.nr <= 64, "conv_gemm: micro-kernel '", kernel.name, "' has panels wider than 64");
  const GatheredOperand<T> b{&pack_im2col<T>, &cols};
  const int64_t m = pr.out_channels / pr.groups, q = cols.group_channels * g.kernel_h * g.kernel_w;
  const int64_t p = g.batch * g.out_h * g.out_w;
  if (op == ConvGemmOp::Forward)
    gemm_gathered_b<T>(pr.groups, m, p, q, out, a, b);
  else
    gemm_gathered_b<T>(pr.groups, m, q, p, out, a, b);
}

}  // namespace

void conv_gemm(ConvGemmOp op, const ConvGemmProblem& p, const StridedArg& out, const StridedArg& a,
               const StridedArg& x) {
  visit_floating(x.dtype, op_name(op), [&]<class T>(TypeTag<T>) { conv_gemm_typed<T>(op, p, out, a, x); });
}

}  // namespace tg::kernels::cpu
