// Op-spec table rows for the ops sequence models add: activations (softplus, leaky_relu, elu, glu, gelu_tanh),
// masking (masked_fill, tril, triu, clamp, any, all), split / chunk / unbind, flip, repeat, cumsum, group_norm and
// rms_norm, depthwise_conv1d, einsum and scaled_dot_product_attention. References are direct loops on doubles;
// none calls a tg op.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "ops/op_table.h"

namespace tgtest {

namespace {

using tg::TensorList;

constexpr auto make = &make_spec;

Params ps(double s, int64_t a = 0, int64_t b = 0, int variant = 0) {
  Params p;
  p.s = s;
  p.a = a;
  p.b = b;
  p.variant = variant;
  return p;
}

const std::vector<Case>& elementwise_cases(const Params& p) {
  static std::vector<Case> cases;
  cases = {{SL{{3, 4}}, p}, {SL{{2, 3, 2}}, p}, {SL{{5}}, p}, {SL{Shape{}}, p}, {SL{{0, 3}}, p}};
  return cases;
}

// out = x's elements picked along `dim` at `picks` (row-major).
RefArg take(const RefArg& x, int64_t dim, const std::vector<int64_t>& picks) {
  Shape shape = x.shape;
  shape[at(dim)] = static_cast<int64_t>(picks.size());
  return generate(shape, [&](const Index& i) {
    Index src = i;
    src[at(dim)] = picks[at(i[at(dim)])];
    return x.v[at(ravel(src, x.shape))];
  });
}

int64_t wrap_dim(int64_t d, const RefArg& x) { return wrap(d, static_cast<int64_t>(x.shape.size())); }

void add_activations(std::vector<OpSpec>& t) {
  // Params.s: beta, Params.b: threshold (softplus); slope (leaky_relu); alpha (elu).
  for (const Params& p : {ps(1.0, 0, 20), ps(2.0, 0, 1)}) {
    OpSpec s = make(
        p.s == 1.0 ? "softplus" : "softplus_beta2_threshold1", {Dom::Normal}, elementwise_cases(p),
        [](const TensorList& x, const Params& q) { return tg::softplus(x[0], q.s, static_cast<double>(q.b)); },
        [](const Refs& x, const Params& q) {
          return map1(x[0], [&](double v) {
            return v * q.s > static_cast<double>(q.b) ? v : std::log1p(std::exp(q.s * v)) / q.s;
          });
        });
    t.push_back(s);
  }
  t.push_back(make("leaky_relu", {Dom::NonZero}, elementwise_cases(ps(0.1)),
                   [](const TensorList& x, const Params& q) { return tg::leaky_relu(x[0], q.s); },
                   [](const Refs& x, const Params& q) { return map1(x[0], [&](double v) { return v > 0 ? v : q.s * v; }); }));
  t.push_back(make("elu", {Dom::NonZero}, elementwise_cases(ps(0.7)),
                   [](const TensorList& x, const Params& q) { return tg::elu(x[0], q.s); },
                   [](const Refs& x, const Params& q) {
                     return map1(x[0], [&](double v) { return v > 0 ? v : q.s * (std::exp(v) - 1); });
                   }));
  t.push_back(make("gelu_tanh", {Dom::Normal}, elementwise_cases(ps(0)),
                   [](const TensorList& x, const Params&) { return tg::gelu_tanh(x[0]); },
                   [](const Refs& x, const Params&) {
                     return map1(x[0], [](double v) {
                       return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
                     });
                   }));
  // Params.a: dim.
  t.push_back(make(
      "glu", {Dom::Normal}, {{SL{{3, 4}}, ps(0, -1)}, {SL{{4, 3}}, ps(0, 0)}, {SL{{2, 6, 2}}, ps(0, 1)}, {SL{{2}}, ps(0, 0)}},
      [](const TensorList& x, const Params& q) { return tg::glu(x[0], q.a); },
      [](const Refs& x, const Params& q) {
        const int64_t d = wrap_dim(q.a, x[0]), h = x[0].shape[at(d)] / 2;
        std::vector<int64_t> first(at(h)), second(at(h));
        std::iota(first.begin(), first.end(), 0);
        std::iota(second.begin(), second.end(), h);
        return map2(take(x[0], d, first), take(x[0], d, second),
                    [](double a, double b) { return a / (1 + std::exp(-b)); });
      }));
}

void add_masking(std::vector<OpSpec>& t) {
  t.push_back(make("masked_fill", {Dom::Normal, Dom::Bool},
                   {{SL{{3, 4}, {3, 4}}, ps(-1.5)}, {SL{{3, 4}, {4}}, ps(2)}, {SL{{2, 3, 2}, {3, 1}}, ps(0)},
                    {SL{{5}, Shape{}}, ps(7)}},
                   [](const TensorList& x, const Params& q) { return tg::masked_fill(x[0], x[1], q.s); },
                   [](const Refs& x, const Params& q) {
                     return generate(x[0].shape, [&](const Index& i) {
                       return x[1].v[at(broadcast_source(i, x[1].shape))] != 0 ? q.s : x[0].v[at(ravel(i, x[0].shape))];
                     });
                   }));
  for (bool lower : {true, false}) {
    // Params.a: diagonal.
    t.push_back(make(lower ? "tril" : "triu", {Dom::Normal},
                     {{SL{{3, 4}}, ps(0, 0)}, {SL{{4, 3}}, ps(0, 1)}, {SL{{2, 3, 3}}, ps(0, -1)}, {SL{{3, 5}}, ps(0, 3)}},
                     [lower](const TensorList& x, const Params& q) { return lower ? tg::tril(x[0], q.a) : tg::triu(x[0], q.a); },
                     [lower](const Refs& x, const Params& q) {
                       const size_t r = x[0].shape.size();
                       return generate(x[0].shape, [&](const Index& i) {
                         const int64_t off = i[r - 1] - i[r - 2];
                         const bool keep = lower ? off <= q.a : off >= q.a;
                         return keep ? x[0].v[at(ravel(i, x[0].shape))] : 0.0;
                       });
                     }));
  }
  // variant 0: both bounds [-0.5, 0.8]; 1: min only; 2: max only.
  OpSpec clamp = make("clamp", {Dom::NonZero},
                      {{SL{{3, 4}}, ps(0, 0, 0, 0)}, {SL{{2, 3, 2}}, ps(0, 0, 0, 1)}, {SL{{5}}, ps(0, 0, 0, 2)},
                       {SL{Shape{}}, ps(0, 0, 0, 0)}},
                      [](const TensorList& x, const Params& q) {
                        const std::optional<double> lo = q.variant == 2 ? std::nullopt : std::optional<double>(-0.5);
                        const std::optional<double> hi = q.variant == 1 ? std::nullopt : std::optional<double>(0.8);
                        return tg::clamp(x[0], lo, hi);
                      },
                      [](const Refs& x, const Params& q) {
                        return map1(x[0], [&](double v) {
                          if (q.variant != 2) v = std::max(v, -0.5);
                          if (q.variant != 1) v = std::min(v, 0.8);
                          return v;
                        });
                      });
  t.push_back(clamp);
  t.push_back(make("clamp_tensor", {Dom::Distinct, Dom::Distinct, Dom::Distinct},
                   {{SL{{3, 4}, {3, 4}, {3, 4}}}, {SL{{3, 4}, {4}, {3, 1}}}, {SL{{5}, Shape{}, {5}}}},
                   [](const TensorList& x, const Params&) { return tg::clamp(x[0], x[1], x[2]); },
                   [](const Refs& x, const Params&) {
                     return map3(x[0], x[1], x[2], [](double v, double lo, double hi) { return std::min(std::max(v, lo), hi); });
                   }));
  for (bool is_any : {true, false}) {
    // dims in Params.dims (empty: all), keepdim.
    Params all_dims, dim1, keep;
    dim1.dims = {1};
    keep.dims = {0};
    keep.keepdim = true;
    OpSpec s = make(is_any ? "any" : "all", {Dom::Discrete},
                    {{SL{{3, 4}}, all_dims}, {SL{{3, 4}}, dim1}, {SL{{2, 3, 2}}, keep}, {SL{{0, 3}}, all_dims}},
                    [is_any](const TensorList& x, const Params& q) {
                      const Tensor in = x[0] > 0.25;  // Discrete values: some rows all false, some all true
                      return is_any ? tg::any(in, q.dims, q.keepdim) : tg::all(in, q.dims, q.keepdim);
                    },
                    [is_any](const Refs& x, const Params& q) {
                      return reduce(x[0], q.dims, q.keepdim, [is_any](const std::vector<double>& v) {
                        bool acc = !is_any;
                        for (double e : v) acc = is_any ? (acc || e > 0.25) : (acc && e > 0.25);
                        return acc ? 1.0 : 0.0;
                      });
                    });
    s.out = OutKind::Bool;
    s.vjp = s.second_order = false;
    t.push_back(s);
  }
}

void add_rearranging(std::vector<OpSpec>& t) {
  // split: Params.a dim, Params.b which piece, Params.c split size (variant 0) or sizes in dims (variant 1).
  Params s2 = ps(0, 1, 2, 0), s_sizes = ps(0, 0, 1, 1), s_last = ps(0, -1, 0, 0);
  s2.c = 2;
  s_last.c = 3;
  s_sizes.dims = {1, 3, 0};
  t.push_back(make(
      "split", {Dom::Normal}, {{SL{{3, 5}}, s2}, {SL{{4, 2}}, s_sizes}, {SL{{2, 3, 7}}, s_last}},
      [](const TensorList& x, const Params& q) {
        const auto pieces = q.variant == 0 ? tg::split(x[0], q.c, q.a) : tg::split(x[0], q.dims, q.a);
        return pieces.at(at(q.b));
      },
      [](const Refs& x, const Params& q) {
        const int64_t d = wrap_dim(q.a, x[0]), n = x[0].shape[at(d)];
        int64_t start = 0, len = 0;
        if (q.variant == 0) {
          start = q.b * q.c;
          len = std::min(q.c, n - start);
        } else {
          for (int64_t i = 0; i < q.b; ++i) start += q.dims[at(i)];
          len = q.dims[at(q.b)];
        }
        std::vector<int64_t> picks(at(len));
        std::iota(picks.begin(), picks.end(), start);
        return take(x[0], d, picks);
      }));
  // chunk: Params.a dim, Params.b piece, Params.c chunks. 5 in 3 chunks: 2, 2, 1.
  Params c1 = ps(0, 0, 2), c2 = ps(0, 1, 1);
  c1.c = 3;
  c2.c = 2;
  t.push_back(make(
      "chunk", {Dom::Normal}, {{SL{{5, 2}}, c1}, {SL{{2, 4}}, c2}, {SL{{3, 3, 2}}, c1}},
      [](const TensorList& x, const Params& q) { return tg::chunk(x[0], q.c, q.a).at(at(q.b)); },
      [](const Refs& x, const Params& q) {
        const int64_t d = wrap_dim(q.a, x[0]), n = x[0].shape[at(d)], size = (n + q.c - 1) / q.c;
        const int64_t start = q.b * size, len = std::min(size, n - start);
        std::vector<int64_t> picks(at(len));
        std::iota(picks.begin(), picks.end(), start);
        return take(x[0], d, picks);
      }));
  t.push_back(make(
      "unbind", {Dom::Normal}, {{SL{{3, 4}}, ps(0, 0, 2)}, {SL{{3, 4}}, ps(0, 1, 0)}, {SL{{2, 3, 2}}, ps(0, -1, 1)}},
      [](const TensorList& x, const Params& q) { return tg::unbind(x[0], q.a).at(at(q.b)); },
      [](const Refs& x, const Params& q) {
        const int64_t d = wrap_dim(q.a, x[0]);
        RefArg out = take(x[0], d, {q.b});
        out.shape.erase(out.shape.begin() + d);
        return out;
      }));
  // flip: dims in Params.dims.
  Params f0, f01, flast;
  f0.dims = {0};
  f01.dims = {0, 1};
  flast.dims = {-1};
  t.push_back(make(
      "flip", {Dom::Normal}, {{SL{{3, 4}}, f0}, {SL{{3, 4}}, f01}, {SL{{2, 3, 2}}, flast}, {SL{{1, 5}}, f01}},
      [](const TensorList& x, const Params& q) { return tg::flip(x[0], q.dims); },
      [](const Refs& x, const Params& q) {
        return generate(x[0].shape, [&](const Index& i) {
          Index src = i;
          for (int64_t dim : q.dims) {
            const auto d = at(wrap_dim(dim, x[0]));
            src[d] = x[0].shape[d] - 1 - i[d];
          }
          return x[0].v[at(ravel(src, x[0].shape))];
        });
      }));
  // repeat: repeats in Params.dims.
  Params r1, r2, r3;
  r1.dims = {2, 1};
  r2.dims = {2, 1, 3};
  r3.dims = {1, 0};
  t.push_back(make(
      "repeat", {Dom::Normal}, {{SL{{2, 3}}, r1}, {SL{{2, 3}}, r2}, {SL{{3}}, r1}, {SL{{2, 2}}, r3}},
      [](const TensorList& x, const Params& q) { return tg::repeat(x[0], q.dims); },
      [](const Refs& x, const Params& q) {
        const size_t lead = q.dims.size() - x[0].shape.size();
        Shape out(q.dims.size());
        for (size_t d = 0; d < out.size(); ++d) out[d] = q.dims[d] * (d < lead ? 1 : x[0].shape[d - lead]);
        return generate(out, [&](const Index& i) {
          Index src(x[0].shape.size());
          for (size_t d = 0; d < src.size(); ++d) src[d] = i[d + lead] % x[0].shape[d];
          return x[0].v[at(ravel(src, x[0].shape))];
        });
      }));
  // cumsum: Params.a dim; a 600-long row crosses the 256-element blocks.
  OpSpec cs = make(
      "cumsum", {Dom::Normal}, {{SL{{3, 4}}, ps(0, 1)}, {SL{{3, 4}}, ps(0, 0)}, {SL{{2, 3, 2}}, ps(0, -2)}, {SL{{7}}, ps(0, 0)},
                                {SL{{2, 600}}, ps(0, 1)}, {SL{{0, 3}}, ps(0, 1)}},
      [](const TensorList& x, const Params& q) { return tg::cumsum(x[0], q.a); },
      [](const Refs& x, const Params& q) {
        const auto d = at(wrap_dim(q.a, x[0]));
        return generate(x[0].shape, [&](const Index& i) {
          Index src = i;
          double s = 0;
          for (int64_t k = 0; k <= i[d]; ++k) {
            src[d] = k;
            s += x[0].v[at(ravel(src, x[0].shape))];
          }
          return s;
        });
      });
  cs.f32_rtol = 1e-4;
  cs.half_ulps = 24;  // a running sum of up to 600 terms, each block total rounded once more
  t.push_back(cs);
}

// The positions of a row (along dim d, at the other coordinates of `at_index`) in sorted order, stable.
std::vector<int64_t> sorted_positions(const RefArg& x, size_t d, const Index& at_index, bool descending) {
  const int64_t n = x.shape[d];
  std::vector<int64_t> order(at(n));
  std::iota(order.begin(), order.end(), 0);
  Index i = at_index;
  auto value = [&](int64_t j) {
    i[d] = j;
    return x.v[at(ravel(i, x.shape))];
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return descending ? value(a) > value(b) : value(a) < value(b); });
  return order;
}

// sort / topk: Params.a dim, Params.b k (-1: all), Params.variant 1: descending (largest); Params.c 1: indices.
RefArg sorted_ref(const Refs& xs, const Params& q) {
  const RefArg& x = xs[0];
  const auto d = at(wrap_dim(q.a, x));
  Shape out = x.shape;
  if (q.b >= 0) out[d] = q.b;
  return generate(out, [&](const Index& i) {
    const std::vector<int64_t> order = sorted_positions(x, d, i, q.variant == 1);
    const int64_t pos = order[at(i[d])];
    if (q.c == 1) return static_cast<double>(pos);
    Index src = i;
    src[d] = pos;
    return x.v[at(ravel(src, x.shape))];
  });
}

void add_sorting(std::vector<OpSpec>& t) {
  auto p = [](int64_t dim, int64_t k, int descending, int64_t indices = 0) {
    Params q = ps(0, dim, k, descending);
    q.c = indices;
    return q;
  };
  t.push_back(make("sort", {Dom::Distinct},
                   {{SL{{3, 4}}, p(-1, -1, 0)}, {SL{{3, 4}}, p(0, -1, 1)}, {SL{{2, 3, 2}}, p(1, -1, 0)}, {SL{{6}}, p(0, -1, 1)}},
                   [](const TensorList& x, const Params& q) { return tg::sort(x[0], q.a, q.variant == 1).values; },
                   sorted_ref));
  OpSpec idx = make("argsort", {Dom::Distinct},
                    {{SL{{3, 4}}, p(-1, -1, 0, 1)}, {SL{{3, 4}}, p(0, -1, 1, 1)}, {SL{{2, 3, 2}}, p(1, -1, 1, 1)}},
                    [](const TensorList& x, const Params& q) { return tg::argsort(x[0], q.a, q.variant == 1); },
                    sorted_ref);
  idx.out = OutKind::Int64;
  idx.vjp = idx.second_order = false;
  t.push_back(idx);
  t.push_back(make("topk", {Dom::Distinct},
                   {{SL{{3, 5}}, p(-1, 2, 1)}, {SL{{4, 3}}, p(0, 1, 0)}, {SL{{2, 3, 4}}, p(2, 3, 1)}, {SL{{5}}, p(0, 0, 1)},
                    {SL{{5}}, p(0, 5, 0)}},
                   [](const TensorList& x, const Params& q) { return tg::topk(x[0], q.b, q.a, q.variant == 1).values; },
                   sorted_ref));
}

// einsum by brute force: every assignment of every label, the product of the operands' entries added into the
// output entry its output labels pick.
RefArg einsum_ref(const std::string& equation, const Refs& xs) {
  const size_t arrow = equation.find("->");
  std::vector<std::string> inputs;
  size_t start = 0;
  const std::string lhs = equation.substr(0, arrow);
  for (size_t comma; (comma = lhs.find(',', start)) != std::string::npos; start = comma + 1)
    inputs.push_back(lhs.substr(start, comma - start));
  inputs.push_back(lhs.substr(start));
  std::string labels, output = equation.substr(arrow + 2);
  std::vector<int64_t> extent;
  for (size_t k = 0; k < inputs.size(); ++k)
    for (size_t i = 0; i < inputs[k].size(); ++i)
      if (labels.find(inputs[k][i]) == std::string::npos) {
        labels.push_back(inputs[k][i]);
        extent.push_back(xs[k].shape[i]);
      }
  Shape out_shape;
  for (char c : output) out_shape.push_back(extent[labels.find(c)]);
  RefArg out{out_shape, std::vector<double>(at(count(out_shape)), 0.0)};
  Shape all(extent.begin(), extent.end());
  for (int64_t flat = 0; flat < count(all); ++flat) {
    const Index v = unravel(flat, all);
    double term = 1;
    for (size_t k = 0; k < inputs.size(); ++k) {
      Index idx;
      for (char c : inputs[k]) idx.push_back(v[labels.find(c)]);
      term *= xs[k].v[at(ravel(idx, xs[k].shape))];
    }
    Index o;
    for (char c : output) o.push_back(v[labels.find(c)]);
    out.v[at(ravel(o, out_shape))] += term;
  }
  return out;
}

const std::vector<std::string>& einsum_equations() {
  static const std::vector<std::string> eqs = {
      "ij,jk->ik", "bij,bjk->bik", "bhld,bhsd->bhls", "i,j->ij", "ij,ij->i", "ijk,k->ij", "ab,cd->", "ij,jk->ki",
      "ij->ji", "ijk->k", "ij->"};
  return eqs;
}

// depthwise_conv1d: x [N, C, L], w [C, 1, K], b [C]; Params.a stride, .b padding, .c dilation, variant 1: bias.
void add_depthwise(std::vector<OpSpec>& t) {
  auto q = [](int64_t stride, int64_t padding, int64_t dilation, int bias) {
    Params p = ps(0, stride, padding, bias);
    p.c = dilation;
    return p;
  };
  OpSpec s = make(
      "depthwise_conv1d", {Dom::Normal, Dom::Normal, Dom::Normal},
      {{SL{{2, 3, 7}, {3, 1, 3}, {3}}, q(1, 1, 1, 1)}, {SL{{1, 2, 9}, {2, 1, 5}, {2}}, q(1, 2, 1, 0)},
       {SL{{2, 2, 8}, {2, 1, 3}, {2}}, q(1, 2, 2, 1)}, {SL{{1, 3, 6}, {3, 1, 2}, {3}}, q(1, 0, 1, 0)},
       {SL{{2, 2, 9}, {2, 1, 3}, {2}}, q(2, 1, 1, 1)}, {SL{{1, 4, 40}, {4, 1, 15}, {4}}, q(1, 7, 1, 1)}},
      [](const TensorList& x, const Params& p) {
        return tg::depthwise_conv1d(x[0], x[1], p.variant == 1 ? x[2] : Tensor(), p.a, p.b, p.c);
      },
      [](const Refs& x, const Params& p) {
        const int64_t n = x[0].shape[0], c = x[0].shape[1], len = x[0].shape[2], k = x[1].shape[2];
        const int64_t out_len = (len + 2 * p.b - p.c * (k - 1) - 1) / p.a + 1;
        return generate({n, c, out_len}, [&](const Index& i) {
          double acc = p.variant == 1 ? x[2].v[at(i[1])] : 0.0;
          for (int64_t j = 0; j < k; ++j) {
            const int64_t src = i[2] * p.a - p.b + j * p.c;
            if (src >= 0 && src < len) acc += x[1].v[at(i[1] * k + j)] * x[0].v[at((i[0] * c + i[1]) * len + src)];
          }
          return acc;
        });
      });
  s.f32_rtol = 1e-4;
  t.push_back(s);
}

// scaled_dot_product_attention over broadcast batch dims. Params.variant: 0 plain, 1 causal, 2 scale = s.
void add_attention(std::vector<OpSpec>& t) {
  auto v = [](int variant, double scale = 0) { return ps(scale, 0, 0, variant); };
  OpSpec s = make(
      "scaled_dot_product_attention", {Dom::Normal, Dom::Normal, Dom::Normal},
      {{SL{{2, 3, 4}, {2, 5, 4}, {2, 5, 3}}, v(0)}, {SL{{2, 2, 3, 4}, {2, 1, 5, 4}, {1, 2, 5, 2}}, v(0)},
       {SL{{1, 4, 3}, {1, 4, 3}, {1, 4, 2}}, v(1)}, {SL{{3, 2}, {6, 2}, {6, 3}}, v(2, 0.3)},
       {SL{{1, 1, 2}, {1, 3, 2}, {1, 3, 1}}, v(1)}},
      [](const TensorList& x, const Params& p) {
        tg::AttentionOptions o;
        o.is_causal = p.variant == 1;
        if (p.variant == 2) o.scale = p.s;
        return tg::scaled_dot_product_attention(x[0], x[1], x[2], o);
      },
      [](const Refs& x, const Params& p) {
        const size_t r = x[0].shape.size();
        const Shape qb(x[0].shape.begin(), x[0].shape.end() - 2), kb(x[1].shape.begin(), x[1].shape.end() - 2),
            vb(x[2].shape.begin(), x[2].shape.end() - 2);
        const Shape batch = broadcast_all({qb, kb, vb});
        const int64_t L = x[0].shape[r - 2], E = x[0].shape[r - 1], S = x[1].shape[x[1].shape.size() - 2];
        const int64_t F = x[2].shape.back();
        const double scale = p.variant == 2 ? p.s : 1.0 / std::sqrt(static_cast<double>(E));
        Shape out_shape = batch;
        out_shape.push_back(L);
        out_shape.push_back(F);
        return generate(out_shape, [&](const Index& i) {
          const Index b(i.begin(), i.end() - 2);
          const int64_t row = i[i.size() - 2], f = i.back();
          const int64_t qo = broadcast_source(b, qb), ko = broadcast_source(b, kb), vo = broadcast_source(b, vb);
          std::vector<double> w(at(S), -INFINITY);
          double m = -INFINITY;
          for (int64_t j = 0; j < S; ++j) {
            if (p.variant == 1 && j > row) continue;
            double dot = 0;
            for (int64_t e = 0; e < E; ++e) dot += x[0].v[at((qo * L + row) * E + e)] * x[1].v[at((ko * S + j) * E + e)];
            w[at(j)] = dot * scale;
            m = std::max(m, w[at(j)]);
          }
          double z = 0, acc = 0;
          for (int64_t j = 0; j < S; ++j) {
            const double e = std::exp(w[at(j)] - m);
            z += e;
            acc += e * x[2].v[at((vo * S + j) * F + f)];
          }
          return acc / z;
        });
      });
  s.f32_rtol = 1e-4;
  t.push_back(s);
}

void add_einsum(std::vector<OpSpec>& t) {
  auto eq = [](int v) {
    Params q;
    q.variant = v;
    return q;
  };
  // Params.variant: the equation's index in einsum_equations().
  OpSpec two = make("einsum", {Dom::Normal, Dom::Normal},
                    {{SL{{3, 4}, {4, 2}}, eq(0)}, {SL{{2, 3, 4}, {2, 4, 2}}, eq(1)}, {SL{{2, 2, 3, 2}, {2, 2, 4, 2}}, eq(2)},
                     {SL{{3}, {4}}, eq(3)}, {SL{{3, 4}, {3, 4}}, eq(4)}, {SL{{2, 3, 4}, {4}}, eq(5)}, {SL{{2, 3}, {2, 2}}, eq(6)},
                     {SL{{3, 4}, {4, 2}}, eq(7)}, {SL{{0, 4}, {4, 2}}, eq(0)}},
                    [](const TensorList& x, const Params& q) { return tg::einsum(einsum_equations()[at(q.variant)], {x[0], x[1]}); },
                    [](const Refs& x, const Params& q) { return einsum_ref(einsum_equations()[at(q.variant)], x); });
  two.f32_rtol = 1e-4;
  t.push_back(two);
  t.push_back(make("einsum_one_operand", {Dom::Normal}, {{SL{{3, 4}}, eq(8)}, {SL{{2, 3, 4}}, eq(9)}, {SL{{3, 4}}, eq(10)}},
                   [](const TensorList& x, const Params& q) { return tg::einsum(einsum_equations()[at(q.variant)], {x[0]}); },
                   [](const Refs& x, const Params& q) { return einsum_ref(einsum_equations()[at(q.variant)], x); }));
}

// x [N, C, *], groups of C / G channels; the biased variance over each (n, group).
void add_norms(std::vector<OpSpec>& t) {
  // Params.a: groups; variant bit 1: weight, bit 2: bias; Params.s: eps.
  OpSpec gn = make(
      "group_norm", {Dom::Normal, Dom::Normal, Dom::Normal},
      {{SL{{2, 4, 3}, {4}, {4}}, ps(1e-5, 2, 0, 3)}, {SL{{3, 6}, {6}, {6}}, ps(1e-5, 3, 0, 1)},
       {SL{{2, 4, 2, 2}, {4}, {4}}, ps(0.1, 1, 0, 3)}, {SL{{1, 3, 5}, {3}, {3}}, ps(1e-5, 3, 0, 0)}},
      [](const TensorList& x, const Params& q) {
        return tg::group_norm(x[0], q.a, q.variant & 1 ? x[1] : Tensor(), q.variant & 2 ? x[2] : Tensor(), q.s);
      },
      [](const Refs& x, const Params& q) {
        const int64_t n = x[0].shape[0], c = x[0].shape[1], per_channel = count(x[0].shape) / std::max<int64_t>(n * c, 1);
        const int64_t group = c / q.a * per_channel;
        RefArg out = x[0];
        for (int64_t g = 0; g < n * q.a; ++g) {
          double mean = 0, var = 0;
          for (int64_t i = 0; i < group; ++i) mean += x[0].v[at(g * group + i)];
          mean /= static_cast<double>(group);
          for (int64_t i = 0; i < group; ++i) var += std::pow(x[0].v[at(g * group + i)] - mean, 2);
          var /= static_cast<double>(group);
          for (int64_t i = 0; i < group; ++i) {
            const int64_t flat = g * group + i, channel = (flat / per_channel) % c;
            double y = (x[0].v[at(flat)] - mean) / std::sqrt(var + q.s);
            if (q.variant & 1) y *= x[1].v[at(channel)];
            if (q.variant & 2) y += x[2].v[at(channel)];
            out.v[at(flat)] = y;
          }
        }
        return out;
      });
  gn.f32_rtol = 1e-4;
  t.push_back(gn);
  // Params.a: trailing dims normalised; variant 1: weight; Params.s: eps.
  OpSpec rms = make(
      "rms_norm", {Dom::Normal, Dom::Normal},
      {{SL{{3, 4}, {4}}, ps(1e-6, 1, 0, 1)}, {SL{{2, 3, 4}, {3, 4}}, ps(1e-6, 2, 0, 1)}, {SL{{5}, {5}}, ps(0.1, 1, 0, 0)},
       {SL{{2, 3}, {3}}, ps(1e-6, 1, 0, 0)}},
      [](const TensorList& x, const Params& q) {
        const Shape normalized(x[0].shape().end() - q.a, x[0].shape().end());
        return tg::rms_norm(x[0], normalized, q.variant & 1 ? x[1] : Tensor(), q.s);
      },
      [](const Refs& x, const Params& q) {
        int64_t group = 1;
        for (size_t d = x[0].shape.size() - at(q.a); d < x[0].shape.size(); ++d) group *= x[0].shape[d];
        RefArg out = x[0];
        for (int64_t g = 0; g * group < count(x[0].shape); ++g) {
          double ms = 0;
          for (int64_t i = 0; i < group; ++i) ms += std::pow(x[0].v[at(g * group + i)], 2);
          const double scale = 1 / std::sqrt(ms / static_cast<double>(group) + q.s);
          for (int64_t i = 0; i < group; ++i)
            out.v[at(g * group + i)] = x[0].v[at(g * group + i)] * scale * (q.variant & 1 ? x[1].v[at(i)] : 1.0);
        }
        return out;
      });
  rms.f32_rtol = 1e-4;
  t.push_back(rms);
}

}  // namespace

void add_sequence_ops(std::vector<OpSpec>& table) {
  add_activations(table);
  add_masking(table);
  add_rearranging(table);
  add_norms(table);
  add_sorting(table);
  add_einsum(table);
  add_depthwise(table);
  add_attention(table);
}

}  // namespace tgtest
