// Op-spec rows for the sliding-window family: im2col / col2im, conv1d / conv2d (with and without bias) and
// max / average pooling. The references are direct nested loops over doubles that never call a tg op.
//
// Window parameters travel in Params::dims, one value per spatial dimension each (1-D rows list one value
// where 2-D rows list (h, w)):
//   im2col / col2im:  kernel, dilation, padding, stride   (col2im: output_size in Params::shape;
//                     im2col: pad_value in Params::s)
//   conv1d / conv2d:  stride, padding, dilation           (groups in Params::a)
//   max_pool:         kernel, stride, padding, dilation
//   avg_pool:         kernel, stride, padding             (Params::b = 1: count_include_pad = false)
// Params::variant = 1 calls the op with plain ints (every value of an argument equal) or, for pooling, with
// the default stride (the kernel size).
#include <algorithm>
#include <limits>

#include "ops/op_table.h"

namespace tgtest {

namespace {

using tg::TensorList;

// ---------------------------------------------------------------- window geometry for the references
// Always 2-D: a 1-D row has height 1, kernel height 1, stride 1, no padding, dilation 1.
struct Geo {
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
};

int64_t out_len(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d) { return (in + 2 * p - d * (k - 1) - 1) / s + 1; }

// nd values per argument, in the order the spec lists them; `order` names which Geo fields they fill.
enum Field { Kernel, Stride, Pad, Dil };
Geo geo_from(const std::vector<int64_t>& dims, size_t nd, const std::vector<Field>& order) {
  Geo g;
  for (size_t a = 0; a < order.size(); ++a) {
    const int64_t h = nd == 2 ? dims[a * nd] : -1, w = dims[a * nd + nd - 1];
    int64_t* fh = nullptr;
    int64_t* fw = nullptr;
    switch (order[a]) {
      case Kernel: fh = &g.kh, fw = &g.kw; break;
      case Stride: fh = &g.sh, fw = &g.sw; break;
      case Pad: fh = &g.ph, fw = &g.pw; break;
      case Dil: fh = &g.dh, fw = &g.dw; break;
    }
    if (nd == 2) *fh = h;
    *fw = w;
  }
  return g;
}

// An image-like reference argument [N, C, H, W] or [N, C, L], read as 4-D.
struct Img {
  const RefArg& r;
  int64_t n, c, h, w;
  explicit Img(const RefArg& x)
      : r(x), n(x.shape[0]), c(x.shape[1]), h(x.shape.size() == 4 ? x.shape[2] : 1), w(x.shape.back()) {}
  double at(int64_t in, int64_t ic, int64_t ih, int64_t iw) const {
    return r.v[static_cast<size_t>(((in * c + ic) * h + ih) * w + iw)];
  }
};

// [N, C, oh, ow] or [N, C, ow] for a 1-D input.
Shape image_shape(size_t nd, int64_t n, int64_t c, int64_t oh, int64_t ow) {
  return nd == 2 ? Shape{n, c, oh, ow} : Shape{n, c, ow};
}

RefArg zeros_ref(const Shape& shape) { return {shape, std::vector<double>(static_cast<size_t>(count(shape)), 0.0)}; }

RefArg im2col_ref(const RefArg& xr, const Geo& g, double pad_value) {
  const Img x(xr);
  const int64_t oh = out_len(x.h, g.kh, g.sh, g.ph, g.dh), ow = out_len(x.w, g.kw, g.sw, g.pw, g.dw);
  RefArg out = zeros_ref({x.n, x.c * g.kh * g.kw, oh * ow});
  size_t i = 0;
  for (int64_t n = 0; n < x.n; ++n)
    for (int64_t c = 0; c < x.c; ++c)
      for (int64_t kh = 0; kh < g.kh; ++kh)
        for (int64_t kw = 0; kw < g.kw; ++kw)
          for (int64_t a = 0; a < oh; ++a)
            for (int64_t b = 0; b < ow; ++b) {
              const int64_t ih = a * g.sh - g.ph + kh * g.dh, iw = b * g.sw - g.pw + kw * g.dw;
              const bool inside = ih >= 0 && ih < x.h && iw >= 0 && iw < x.w;
              out.v[i++] = inside ? x.at(n, c, ih, iw) : pad_value;
            }
  return out;
}

RefArg col2im_ref(const RefArg& cols, const Shape& output_size, const Geo& g) {
  const size_t nd = output_size.size();
  const int64_t h = nd == 2 ? output_size[0] : 1, w = output_size.back();
  const int64_t oh = out_len(h, g.kh, g.sh, g.ph, g.dh), ow = out_len(w, g.kw, g.sw, g.pw, g.dw);
  const int64_t n_batch = cols.shape[0], channels = cols.shape[1] / (g.kh * g.kw);
  RefArg out = zeros_ref(image_shape(nd, n_batch, channels, h, w));
  size_t i = 0;
  for (int64_t n = 0; n < n_batch; ++n)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t kh = 0; kh < g.kh; ++kh)
        for (int64_t kw = 0; kw < g.kw; ++kw)
          for (int64_t a = 0; a < oh; ++a)
            for (int64_t b = 0; b < ow; ++b) {
              const double v = cols.v[i++];
              const int64_t ih = a * g.sh - g.ph + kh * g.dh, iw = b * g.sw - g.pw + kw * g.dw;
              if (ih >= 0 && ih < h && iw >= 0 && iw < w) out.v[static_cast<size_t>(((n * channels + c) * h + ih) * w + iw)] += v;
            }
  return out;
}

// out[n, o, a, b] = bias[o] + sum over the group's input channels and the kernel of x * w.
RefArg conv_ref(const RefArg& xr, const RefArg& wr, const RefArg* bias, const Geo& g0, int64_t groups) {
  const size_t nd = xr.shape.size() - 2;
  const Img x(xr), w(wr);
  Geo g = g0;
  g.kh = w.h;
  g.kw = w.w;
  const int64_t oh = out_len(x.h, g.kh, g.sh, g.ph, g.dh), ow = out_len(x.w, g.kw, g.sw, g.pw, g.dw);
  const int64_t cout = w.n, cin_g = w.c, cout_g = cout / groups;
  RefArg out = zeros_ref(image_shape(nd, x.n, cout, oh, ow));
  size_t i = 0;
  for (int64_t n = 0; n < x.n; ++n)
    for (int64_t o = 0; o < cout; ++o)
      for (int64_t a = 0; a < oh; ++a)
        for (int64_t b = 0; b < ow; ++b) {
          double s = bias ? bias->v[static_cast<size_t>(o)] : 0.0;
          const int64_t group = o / cout_g;
          for (int64_t ci = 0; ci < cin_g; ++ci)
            for (int64_t kh = 0; kh < g.kh; ++kh)
              for (int64_t kw = 0; kw < g.kw; ++kw) {
                const int64_t ih = a * g.sh - g.ph + kh * g.dh, iw = b * g.sw - g.pw + kw * g.dw;
                if (ih < 0 || ih >= x.h || iw < 0 || iw >= x.w) continue;
                s += x.at(n, group * cin_g + ci, ih, iw) * w.at(o, ci, kh, kw);
              }
          out.v[i++] = s;
        }
  return out;
}

enum class PoolKind { Max, AvgIncludePad, AvgExcludePad };

RefArg pool_ref(const RefArg& xr, const Geo& g, PoolKind kind) {
  const size_t nd = xr.shape.size() - 2;
  const Img x(xr);
  const int64_t oh = out_len(x.h, g.kh, g.sh, g.ph, g.dh), ow = out_len(x.w, g.kw, g.sw, g.pw, g.dw);
  RefArg out = zeros_ref(image_shape(nd, x.n, x.c, oh, ow));
  size_t i = 0;
  for (int64_t n = 0; n < x.n; ++n)
    for (int64_t c = 0; c < x.c; ++c)
      for (int64_t a = 0; a < oh; ++a)
        for (int64_t b = 0; b < ow; ++b) {
          double best = -std::numeric_limits<double>::infinity(), total = 0;
          int64_t inside = 0;
          for (int64_t kh = 0; kh < g.kh; ++kh)
            for (int64_t kw = 0; kw < g.kw; ++kw) {
              const int64_t ih = a * g.sh - g.ph + kh * g.dh, iw = b * g.sw - g.pw + kw * g.dw;
              if (ih < 0 || ih >= x.h || iw < 0 || iw >= x.w) continue;
              best = std::max(best, x.at(n, c, ih, iw));
              total += x.at(n, c, ih, iw);
              ++inside;
            }
          switch (kind) {
            case PoolKind::Max: out.v[i++] = best; break;
            case PoolKind::AvgIncludePad: out.v[i++] = total / static_cast<double>(g.kh * g.kw); break;
            case PoolKind::AvgExcludePad: out.v[i++] = total / static_cast<double>(inside); break;
          }
        }
  return out;
}

// ---------------------------------------------------------------- calling the ops
// Argument `a` (of `count` per-dimension values each nd long) as the op receives it: a per-dimension list,
// or with variant 1 a plain int.
tg::SpatialArg arg_at(const Params& p, size_t nd, size_t a) {
  const std::vector<int64_t> v(p.dims.begin() + static_cast<std::ptrdiff_t>(a * nd),
                               p.dims.begin() + static_cast<std::ptrdiff_t>((a + 1) * nd));
  if (p.variant == 1) return v[0];
  return v;
}

size_t spatial_dims(const Shape& x) { return x.size() - 2; }

Params window(std::vector<int64_t> dims, int64_t a = 1, int variant = 0, int64_t b = 0) {
  Params p;
  p.dims = std::move(dims);
  p.a = a;
  p.b = b;
  p.variant = variant;
  return p;
}

Params pad_value(Params p, double value) {
  p.s = value;
  return p;
}

Params with_output(Params p, Shape output_size) {
  p.shape = std::move(output_size);
  return p;
}

// Every row here promises a contiguous output.
OpSpec make(std::string name, std::vector<Dom> args, std::vector<Case> cases, OpFn fn, RefFn ref) {
  OpSpec s = make_spec(std::move(name), std::move(args), std::move(cases), std::move(fn), std::move(ref));
  s.out_contiguous = true;
  return s;
}

void add_im2col(std::vector<OpSpec>& t) {
  const std::vector<Field> order = {Kernel, Dil, Pad, Stride};
  t.push_back(make(
      "im2col", {Dom::Normal},
      {
          {SL{{1, 1, 4, 4}}, window({2, 2, 1, 1, 0, 0, 1, 1})},
          {SL{{1, 2, 3, 3}}, window({2, 2, 1, 1, 1, 1, 2, 2})},  // padding 1, stride 2
          {SL{{1, 1, 5, 4}}, window({2, 2, 2, 1, 0, 0, 1, 1})},  // dilation (2, 1)
          {SL{{2, 2, 5}}, window({3, 1, 0, 1})},                 // 1-D
          {SL{{2, 1, 7}}, window({2, 2, 1, 2})},                 // 1-D: dilation 2, padding 1, stride 2
          {SL{{1, 2, 1, 5}}, window({1, 3, 1, 1, 0, 0, 1, 1})},  // size-1 height
          {SL{{2, 3, 6, 7}}, window({3, 2, 1, 2, 1, 0, 2, 1})},
          {SL{{1, 2, 4, 4}}, window({3, 3, 1, 1, 1, 1, 2, 2}, 0, /*variant=*/1)},
          {SL{{0, 2, 4, 4}}, window({2, 2, 1, 1, 0, 0, 1, 1})},  // empty batch
          {SL{{1, 1, 3, 3}}, pad_value(window({2, 2, 1, 1, 1, 1, 1, 1}), -1.5)},
      },
      [](const TensorList& x, const Params& p) {
        const size_t nd = spatial_dims(x[0].shape());
        return tg::im2col(x[0], arg_at(p, nd, 0), arg_at(p, nd, 1), arg_at(p, nd, 2), arg_at(p, nd, 3), p.s);
      },
      [order](const Refs& x, const Params& p) {
        return im2col_ref(x[0], geo_from(p.dims, spatial_dims(x[0].shape), order), p.s);
      }));

  t.push_back(make(
      "col2im", {Dom::Normal},
      {
          {SL{{1, 4, 4}}, with_output(window({2, 2, 1, 1, 0, 0, 1, 1}), {3, 3})},
          {SL{{1, 8, 4}}, with_output(window({2, 2, 1, 1, 1, 1, 2, 2}), {3, 3})},  // padding 1, stride 2
          {SL{{1, 4, 4}}, with_output(window({2, 2, 2, 2, 0, 0, 1, 1}), {4, 4})},  // dilation 2
          {SL{{1, 6, 3}}, with_output(window({3, 1, 0, 1}), {5})},                 // 1-D
          {SL{{2, 2, 3}}, with_output(window({2, 2, 1, 2}), {5})},                 // 1-D: dilation, padding, stride
          {SL{{2, 18, 15}}, with_output(window({3, 2, 1, 2, 1, 0, 2, 1}), {6, 7})},
          {SL{{1, 9, 4}}, with_output(window({3, 3, 1, 1, 1, 1, 2, 2}, 0, /*variant=*/1), {4, 4})},
      },
      [](const TensorList& x, const Params& p) {
        const size_t nd = p.shape.size();
        return tg::col2im(x[0], p.shape, arg_at(p, nd, 0), arg_at(p, nd, 1), arg_at(p, nd, 2), arg_at(p, nd, 3));
      },
      [order](const Refs& x, const Params& p) {
        return col2im_ref(x[0], p.shape, geo_from(p.dims, p.shape.size(), order));
      }));
}

void add_conv(std::vector<OpSpec>& t) {
  const std::vector<Field> order = {Stride, Pad, Dil};
  for (bool with_bias : {false, true}) {
    for (size_t nd : {1, 2}) {
      std::vector<Case> cases;
      if (nd == 2 && !with_bias) {
        cases = {
            {SL{{1, 1, 4, 5}, {2, 1, 2, 2}}, window({1, 1, 0, 0, 1, 1})},     // batch 1
            {SL{{2, 1, 3, 4}, {2, 1, 2, 2}}, window({2, 2, 1, 1, 1, 1})},     // stride 2, padding 1
            {SL{{1, 1, 5, 5}, {1, 1, 2, 2}}, window({1, 1, 0, 0, 2, 2})},     // dilation 2
            {SL{{1, 2, 3, 4}, {2, 1, 2, 2}}, window({1, 1, 0, 0, 1, 1}, 2)},  // groups 2
            {SL{{1, 3, 1, 5}, {2, 3, 1, 3}}, window({1, 1, 0, 0, 1, 1})},     // size-1 height
            {SL{{2, 3, 2, 2}, {4, 3, 1, 1}}, window({1, 1, 0, 0, 1, 1})},     // 1x1 kernel: no im2col
            {SL{{2, 4, 6, 7}, {6, 2, 3, 3}}, window({2, 1, 1, 2, 1, 2}, 2)},  // everything at once
            {SL{{1, 2, 5, 5}, {2, 2, 3, 3}}, window({2, 2, 1, 1, 1, 1}, 1, /*variant=*/1)},
            {SL{{0, 2, 4, 4}, {3, 2, 2, 2}}, window({1, 1, 0, 0, 1, 1})},     // empty batch
            // 576 positions an image (more than a 32-wide panel's multiple), groups 2
            {SL{{2, 2, 24, 24}, {4, 1, 3, 3}}, window({1, 1, 1, 1, 1, 1}, 2)},
            // 64 channels a group, stride 1, where the input gradient is a convolution (forward values here; the
            // gradients in conv_input_grad_test.cpp): padding 1 and 2 with dilation 1 and 2, groups 2; and
            // padding 2 over a 2x2 kernel, more than dilation (K - 1)
            {SL{{1, 128, 4, 5}, {4, 64, 3, 3}}, window({1, 1, 1, 2, 1, 2}, 2)},
            {SL{{1, 64, 3, 3}, {2, 64, 2, 2}}, window({1, 1, 2, 2, 1, 1})},
        };
      } else if (nd == 2) {
        cases = {
            {SL{{1, 1, 4, 4}, {2, 1, 2, 2}, {2}}, window({1, 1, 0, 0, 1, 1})},
            {SL{{2, 2, 3, 3}, {2, 1, 2, 2}, {2}}, window({2, 2, 1, 1, 1, 1}, 2)},  // groups 2, stride 2, pad 1
            {SL{{1, 2, 1, 4}, {3, 2, 1, 2}, {3}}, window({1, 1, 0, 0, 1, 2})},     // size-1 height, dilation 2
            {SL{{2, 3, 5, 5}, {4, 3, 3, 3}, {4}}, window({1, 1, 1, 1, 1, 1})},
            {SL{{2, 1, 23, 23}, {2, 1, 3, 3}, {2}}, window({1, 1, 1, 1, 1, 1})},  // 529 positions an image
        };
      } else if (!with_bias) {
        cases = {
            {SL{{1, 2, 6}, {3, 2, 3}}, window({1, 0, 1})},
            {SL{{2, 2, 5}, {2, 1, 2}}, window({2, 1, 1}, 2)},  // groups 2, stride 2, padding 1
            {SL{{1, 1, 7}, {2, 1, 3}}, window({1, 0, 2})},     // dilation 2
            {SL{{2, 4, 9}, {6, 2, 3}}, window({2, 2, 2}, 2)},
            {SL{{2, 2, 600}, {3, 2, 3}}, window({1, 1, 1})},  // 600 positions
            {SL{{1, 64, 9}, {3, 64, 3}}, window({1, 2, 2})},  // 64 channels, stride 1 (see conv_input_grad_test)
        };
      } else {
        cases = {
            {SL{{1, 2, 5}, {2, 2, 2}, {2}}, window({1, 0, 1})},
            {SL{{2, 3, 1}, {2, 3, 1}, {2}}, window({1, 0, 1})},     // size-1 length
            {SL{{1, 2, 6}, {4, 1, 3}, {4}}, window({1, 1, 1}, 2)},  // groups 2, padding 1
            {SL{{3, 4, 8}, {4, 4, 3}, {4}}, window({3, 2, 1}, 1, /*variant=*/1)},
        };
      }
      std::vector<Dom> args = {Dom::Normal, Dom::Normal};
      if (with_bias) args.push_back(Dom::Normal);
      const std::string name = std::string(nd == 1 ? "conv1d" : "conv2d") + (with_bias ? "_bias" : "");
      t.push_back(make(
          name, args, cases,
          [nd](const TensorList& x, const Params& p) {
            const Tensor bias = x.size() > 2 ? x[2] : Tensor();
            const auto conv = nd == 1 ? tg::conv1d : tg::conv2d;
            return conv(x[0], x[1], bias, arg_at(p, nd, 0), arg_at(p, nd, 1), arg_at(p, nd, 2), p.a);
          },
          [nd, order](const Refs& x, const Params& p) {
            return conv_ref(x[0], x[1], x.size() > 2 ? &x[2] : nullptr, geo_from(p.dims, nd, order), p.a);
          }));
      t.back().f32_rtol = 1e-4;  // sums of up to 36 products
    }
  }
}

void add_pool(std::vector<OpSpec>& t) {
  for (size_t nd : {1, 2}) {
    const std::string suffix = nd == 1 ? "1d" : "2d";
    std::vector<Case> max_cases, avg_cases;
    if (nd == 2) {
      // kernel, stride, padding, dilation
      max_cases = {
          {SL{{1, 1, 4, 4}}, window({2, 2, 0, 0, 0, 0, 1, 1}, 0, /*variant=*/1)},  // stride = kernel
          {SL{{1, 2, 3, 4}}, window({2, 2, 1, 1, 0, 0, 1, 1})},                   // overlapping windows
          {SL{{2, 1, 3, 3}}, window({3, 3, 2, 2, 1, 1, 1, 1})},                   // -inf padding
          {SL{{1, 1, 5, 5}}, window({2, 2, 1, 1, 0, 0, 2, 2})},                   // dilation 2
          {SL{{2, 3, 6, 7}}, window({3, 2, 2, 1, 1, 1, 1, 2})},
          {SL{{2, 2, 1, 6}}, window({1, 3, 1, 3, 0, 1, 1, 1})},                   // size-1 height
          {SL{{0, 2, 4, 4}}, window({2, 2, 2, 2, 0, 0, 1, 1})},                   // empty batch
          {SL{{2, 3, 8, 36}}, window({2, 2, 2, 2, 0, 0, 1, 1})},                  // 2x2 / 2: the vector rows
      };
      // kernel, stride, padding; b = 1: count_include_pad = false
      avg_cases = {
          {SL{{1, 1, 4, 4}}, window({2, 2, 0, 0, 0, 0}, 0, /*variant=*/1)},
          {SL{{2, 1, 3, 3}}, window({3, 3, 2, 2, 1, 1})},
          {SL{{2, 1, 3, 3}}, window({3, 3, 2, 2, 1, 1}, 0, 0, /*exclude pad=*/1)},
          {SL{{1, 2, 3, 4}}, window({2, 3, 1, 1, 1, 1}, 0, 0, 1)},
          {SL{{2, 3, 6, 7}}, window({3, 2, 2, 1, 1, 1})},
          {SL{{2, 3, 6, 7}}, window({3, 2, 2, 1, 1, 1}, 0, 0, 1)},
      };
    } else {
      max_cases = {
          {SL{{1, 2, 6}}, window({2, 0, 0, 1}, 0, /*variant=*/1)},
          {SL{{2, 2, 5}}, window({3, 1, 1, 1})},  // padding 1, overlapping
          {SL{{1, 1, 9}}, window({3, 2, 0, 2})},  // dilation 2
          {SL{{3, 4, 10}}, window({4, 3, 2, 1})},
      };
      avg_cases = {
          {SL{{1, 2, 6}}, window({2, 0, 0}, 0, /*variant=*/1)},
          {SL{{2, 1, 5}}, window({3, 2, 1})},
          {SL{{2, 1, 5}}, window({3, 2, 1}, 0, 0, 1)},
          {SL{{3, 4, 10}}, window({4, 3, 2}, 0, 0, 1)},
      };
    }
    const std::vector<Field> max_order = {Kernel, Stride, Pad, Dil};
    t.push_back(make(
        "max_pool" + suffix, {Dom::Distinct}, max_cases,
        [nd](const TensorList& x, const Params& p) {
          const tg::SpatialArg stride = p.variant == 1 ? tg::SpatialArg() : arg_at(p, nd, 1);
          const auto pool = nd == 1 ? tg::max_pool1d : tg::max_pool2d;
          return pool(x[0], arg_at(p, nd, 0), stride, arg_at(p, nd, 2), arg_at(p, nd, 3));
        },
        [nd, max_order](const Refs& x, const Params& p) {
          Geo g = geo_from(p.dims, nd, max_order);
          if (p.variant == 1) g.sh = g.kh, g.sw = g.kw;
          return pool_ref(x[0], g, PoolKind::Max);
        }));
    const std::vector<Field> avg_order = {Kernel, Stride, Pad};
    t.push_back(make(
        "avg_pool" + suffix, {Dom::Normal}, avg_cases,
        [nd](const TensorList& x, const Params& p) {
          const tg::SpatialArg stride = p.variant == 1 ? tg::SpatialArg() : arg_at(p, nd, 1);
          const auto pool = nd == 1 ? tg::avg_pool1d : tg::avg_pool2d;
          return pool(x[0], arg_at(p, nd, 0), stride, arg_at(p, nd, 2), p.b == 0);
        },
        [nd, avg_order](const Refs& x, const Params& p) {
          Geo g = geo_from(p.dims, nd, avg_order);
          if (p.variant == 1) g.sh = g.kh, g.sw = g.kw;
          return pool_ref(x[0], g, p.b == 0 ? PoolKind::AvgIncludePad : PoolKind::AvgExcludePad);
        }));
  }
}

}  // namespace

void add_conv_ops(std::vector<OpSpec>& table) {
  add_im2col(table);
  add_conv(table);
  add_pool(table);
}

}  // namespace tgtest
