// The weight gradient of a stride-1 or stride-2 convolution with few taps a filter, summed straight from a padded
// copy of the image and the output's gradient (conv_direct_weight_grad.h). The CNN's conv1 (1 -> 32 channels, 3x3,
// 28x28, batch 128) went through the GEMM as C^T (9 x 32) = cols (9 x 100352) g^T: each chunk of the gradient copied
// out of NCHW, then transposed into the GEMM's panels, for 9 multiply-adds an element. Here each element of the
// gradient is loaded once a result row and multiplied by the 9 shifted image rows.
#include "conv_direct_weight_grad.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <tensorgrad/base/error.h>

#include "conv_direct_weight_grad_row.h"
#include "cpu_buffer.h"
#include "cpu_features.h"
#include "padded_plane.h"
#include "parallel.h"

namespace tg::kernels::cpu {

namespace {

struct ScalarLane {
  using V = float;
  static constexpr int L = 1;
  static V zero() { return 0.0f; }
  static V load(const float* p) { return *p; }
  static V load_first(const float* p, int n) { return n > 0 ? *p : 0.0f; }
  static V fma(V a, V b, V c) { return std::fma(a, b, c); }
  static void in_register(V&) {}
  static void fold(V v, double* tot) { *tot += static_cast<double>(v); }
};

DirectImageRow image_row_for_this_cpu() {
  if (isa::avx512_direct_image_row != nullptr && cpu_has_avx512f() && cpu_has_fma()) return isa::avx512_direct_image_row;
  if (isa::avx2_direct_image_row != nullptr && cpu_has_avx2() && cpu_has_fma()) return isa::avx2_direct_image_row;
  return &portable_direct_image_row;
}

int64_t padded_height(const WindowGeometry& g) { return g.in_h + 2 * g.pad_h; }
// A row of the padded copy: in_w + 2 pad_w floats rounded up to whole 64-byte lines, so that every row starts on
// one and a step's unshifted loads do not straddle two (DirectImageRowArgs::x).
int64_t padded_width(const WindowGeometry& g) { return (g.in_w + 2 * g.pad_w + 15) / 16 * 16; }

// copy(plane, first element) for each (image, channel) plane of x (NCHW strides), planes spread over threads.
template <class Copy>
void for_each_plane(const WindowGeometry& g, const StridedArg& x, int threads, Copy copy) {
  const float* src = static_cast<const float*>(x.data);
  parallel_for(g.batch * g.channels, threads, [&](int64_t first, int64_t last, int) {
    for (int64_t plane = first; plane < last; ++plane)
      copy(plane, src + plane / g.channels * x.strides[0] + plane % g.channels * x.strides[1]);
  });
}

// x (NCHW strides) into [N, C, in_h + 2 pad_h, padded_width], zeros around: every tap's row then lies inside.
void pad_into(const WindowGeometry& g, const StridedArg& x, float* padded, int threads) {
  const int64_t hp = padded_height(g), wp = padded_width(g);
  for_each_plane(g, x, threads, [&](int64_t plane, const float* in) {
    pad_plane(g, in, x.strides[2], x.strides[3], hp, wp, padded + plane * hp * wp);
  });
}

// Stride 2 (dilation 1): each plane of the padded image as its four phases, even or odd rows by even or odd
// columns, so every tap reads unit-stride rows: tap (r, s) reads phase (r % 2, s % 2) from its row r / 2 and
// column s / 2 on, for output row y and column x at phase row y + r / 2 and column x + s / 2. A phase holds the
// out_h + (KH - 1) / 2 rows and out_w + (KW - 1) / 2 columns the taps read (columns rounded up to 16).
bool stride_two(const WindowGeometry& g) { return g.stride_h == 2 && g.stride_w == 2; }
int64_t phase_height(const WindowGeometry& g) { return g.out_h + (g.kernel_h - 1) / 2; }
int64_t phase_width(const WindowGeometry& g) { return (g.out_w + (g.kernel_w - 1) / 2 + 15) / 16 * 16; }

// The rows (or columns) of x in phase `phase` of the padded image: the first x index, how many, and where the
// first lands in the phase (padded index 2 i + phase = x index + pad).
struct PhaseSpan {
  int64_t first, count, at;
};
PhaseSpan phase_span(int64_t phase, int64_t pad, int64_t size) {
  const int64_t first = ((phase - pad) % 2 + 2) % 2;
  return {first, first < size ? (size - first + 1) / 2 : 0, (first + pad - phase) / 2};
}

// x (NCHW strides) into [N, C, 4 phases, phase_height, phase_width], zeros around.
void phases_into(const WindowGeometry& g, const StridedArg& x, float* phases, int threads) {
  const int64_t hp = phase_height(g), wp = phase_width(g);
  for_each_plane(g, x, threads, [&](int64_t plane, const float* in) {
    for (int64_t ph = 0; ph < 2; ++ph)
      for (int64_t pw = 0; pw < 2; ++pw) {
        const PhaseSpan rows = phase_span(ph, g.pad_h, g.in_h), cols = phase_span(pw, g.pad_w, g.in_w);
        WindowGeometry sub = g;  // the phase as a padded plane of its own
        sub.in_h = rows.count;
        sub.in_w = cols.count;
        sub.pad_h = rows.at;
        sub.pad_w = cols.at;
        const float* start =
            rows.count > 0 && cols.count > 0 ? in + rows.first * x.strides[2] + cols.first * x.strides[3] : in;
        pad_plane(sub, start, 2 * x.strides[2], 2 * x.strides[3], hp, wp,
                  phases + ((plane * 2 + ph) * 2 + pw) * hp * wp);
      }
  });
}

}  // namespace

void portable_direct_image_row(const DirectImageRowArgs& args, double* tot) {
  direct_image_row_any<ScalarLane>(args, tot);
}

bool conv_weight_grad_is_direct(const ConvGemmProblem& p, DType dtype) {
  const WindowGeometry& g = p.window;
  const bool unit = g.stride_h == 1 && g.stride_w == 1;
  const bool two = stride_two(g) && g.dilation_h == 1 && g.dilation_w == 1;
  if (dtype != DType::Float32 || p.groups <= 0 || g.channels % p.groups != 0 || !(unit || two) || g.out_w <= 0)
    return false;
  const int64_t taps = g.channels / p.groups * g.kernel_h * g.kernel_w;
  const int64_t steps = (g.out_w + kDirectLanes - 1) / kDirectLanes;
  const int64_t copy = unit ? padded_height(g) * padded_width(g) : 4 * phase_height(g) * phase_width(g);
  return taps >= 1 && taps <= kMaxDirectTaps && 4 * g.out_w >= 3 * kDirectLanes * steps &&
         g.batch * g.channels * copy * 4 <= (int64_t{1} << 28);
}

void conv_direct_weight_grad(const ConvGemmProblem& pr, const StridedArg& out, const StridedArg& a,
                             const StridedArg& x) {
  constexpr const char* kName = "conv_gemm_weight_grad (direct)";
  const WindowGeometry& g = pr.window;
  TG_CHECK(conv_weight_grad_is_direct(pr, x.dtype), kName,
           ": not a float32 stride-1 (or stride-2, undilated) convolution with at most 16 taps a filter, output rows "
           "of 12-16, 24-32, ... columns and a padded copy within 256 MiB");
  TG_CHECK(out.dtype == DType::Float32 && a.dtype == DType::Float32, kName, ": operands of dtypes ",
           dtype_name(out.dtype), ", ", dtype_name(a.dtype), ", ", dtype_name(x.dtype), " (float32 only)");
  TG_CHECK(out.strides.size() == 3 && a.strides.size() == 4 && x.strides.size() == 4, kName, ": operands of ranks ",
           out.strides.size(), ", ", a.strides.size(), ", ", x.strides.size(), " (3, 4, 4)");
  TG_CHECK(a.strides[3] == 1 || g.out_h * g.out_w <= 1, kName, ": the gradient's positions must be adjacent (stride ",
           a.strides[3], ")");
  const int64_t cg = g.channels / pr.groups, m = pr.out_channels / pr.groups;
  const int taps = static_cast<int>(cg * g.kernel_h * g.kernel_w);
  const bool two = stride_two(g);
  // An input channel's share of the copy: one padded plane, or (stride 2) its four phases.
  const int64_t hp = two ? phase_height(g) : padded_height(g), wp = two ? phase_width(g) : padded_width(g);
  const int64_t rows = pr.groups * m, plane = hp * wp, channel = two ? 4 * plane : plane;
  if (rows == 0) return;
  std::vector<double> tot(static_cast<size_t>(rows * taps * kDirectLanes), 0.0);
  if (g.batch > 0 && g.out_h > 0) {
    const CpuBuffer padded(static_cast<size_t>(g.batch * g.channels * channel) * sizeof(float));
    const int copy_threads = threads_for(g.batch * g.channels * channel, int64_t{1} << 16);
    if (two) phases_into(g, x, padded.as<float>(), copy_threads);
    else pad_into(g, x, padded.as<float>(), copy_threads);
    // Tap (c, r, s) of a group's filter reads its image rows at c plane + r DH wp + s DW from output row 0; with
    // stride 2 at its phase's plane, row r / 2 and column s / 2.
    std::vector<int64_t> offsets;
    for (int64_t c = 0; c < cg; ++c)
      for (int64_t r = 0; r < g.kernel_h; ++r)
        for (int64_t s = 0; s < g.kernel_w; ++s)
          offsets.push_back(two ? c * channel + ((r % 2) * 2 + s % 2) * plane + r / 2 * wp + s / 2
                                : c * plane + r * g.dilation_h * wp + s * g.dilation_w);
    const DirectImageRow image_row = image_row_for_this_cpu();
    const float* grad = static_cast<const float*>(a.data);
    // Each thread owns whole result rows (the same sums in the same order on any thread count) and walks the
    // images outermost, so an image's padded planes stay in cache across its rows.
    const int threads = threads_for(rows * taps * g.batch * g.out_h * g.out_w, int64_t{1} << 18);
    parallel_for(rows, threads, [&](int64_t first, int64_t last, int) {
      for (int64_t n = 0; n < g.batch; ++n)
        for (int64_t row = first; row < last; ++row) {
          const int64_t group = row / m, i = row % m;
          DirectImageRowArgs args;
          args.g = grad + group * a.strides[0] + i * a.strides[1] + n * a.strides[2];
          args.x = padded.as<float>() + (n * g.channels + group * cg) * channel;
          args.out_h = g.out_h;
          args.out_w = g.out_w;
          args.row_stride = wp;
          args.offsets = offsets.data();
          args.taps = taps;
          // The one-channel 3x3 row walks the image's rows by the taps' shifts; the phases' taps are any taps.
          args.channels = static_cast<int>(two ? 4 * cg : cg);
          args.kernel_h = static_cast<int>(g.kernel_h);
          args.kernel_w = static_cast<int>(g.kernel_w);
          args.dilation_h = g.dilation_h;
          image_row(args, tot.data() + row * taps * kDirectLanes);
        }
    });
  }
  float* o = static_cast<float*>(out.data);
  for (int64_t row = 0; row < rows; ++row)
    for (int j = 0; j < taps; ++j) {
      const double* lanes = tot.data() + (row * taps + j) * kDirectLanes;
      double sum = 0.0;
      for (int l = 0; l < kDirectLanes; ++l) sum += lanes[l];
      o[row / m * out.strides[0] + row % m * out.strides[1] + j * out.strides[2]] = static_cast<float>(sum);
    }
}

}  // namespace tg::kernels::cpu
