#include "ops/op_table.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <ostream>
#include <stdexcept>

namespace tgtest {

namespace {

using tg::TensorList;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double at(const RefArg& x, const Index& idx) { return x.v[static_cast<size_t>(ravel(idx, x.shape))]; }
int64_t rank(const RefArg& x) { return static_cast<int64_t>(x.shape.size()); }

// ---------------------------------------------------------------- scalar math
double sigmoid_ref(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double sign_ref(double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); }

double sum_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}
double mean_of(const std::vector<double>& v) { return sum_of(v) / static_cast<double>(v.size()); }
double var_of(const std::vector<double>& v, int64_t correction) {
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return s / static_cast<double>(static_cast<int64_t>(v.size()) - correction);
}
double logsumexp_of(const std::vector<double>& v) {
  if (v.empty()) return -std::numeric_limits<double>::infinity();
  const double m = *std::max_element(v.begin(), v.end());
  double s = 0;
  for (double x : v) s += std::exp(x - m);
  return m + std::log(s);
}
// First position of the extreme (strict comparison keeps the first of ties).
double arg_extreme(const std::vector<double>& v, bool want_max) {
  size_t best = 0;
  for (size_t i = 1; i < v.size(); ++i)
    if (want_max ? v[i] > v[best] : v[i] < v[best]) best = i;
  return static_cast<double>(best);
}

// ---------------------------------------------------------------- index helpers for references
// out has x's shape with `dim` resized to picks.size(); out[.., i, ..] = x[.., picks[i], ..].
RefArg take_along(const RefArg& x, int64_t dim, const std::vector<int64_t>& picks) {
  Shape shape = x.shape;
  shape[static_cast<size_t>(dim)] = static_cast<int64_t>(picks.size());
  return generate(shape, [&](const Index& i) {
    Index src = i;
    src[static_cast<size_t>(dim)] = picks[static_cast<size_t>(i[static_cast<size_t>(dim)])];
    return at(x, src);
  });
}

RefArg with_shape(RefArg x, Shape shape) {
  x.shape = std::move(shape);
  return x;
}

Shape resolve_reshape(const Shape& target, int64_t numel) {
  Shape out = target;
  int64_t known = 1;
  int64_t hole = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) hole = static_cast<int64_t>(i);
    else known *= out[i];
  }
  if (hole >= 0) out[static_cast<size_t>(hole)] = known == 0 ? 0 : numel / known;
  return out;
}

RefArg matmul_ref(const RefArg& a, const RefArg& b) {
  Shape as = a.shape, bs = b.shape;
  const bool a_vec = as.size() == 1, b_vec = bs.size() == 1;
  if (a_vec) as.insert(as.begin(), 1);
  if (b_vec) bs.push_back(1);
  const int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  const Shape a_batch(as.begin(), as.end() - 2), b_batch(bs.begin(), bs.end() - 2);
  const Shape batch = broadcast_all({a_batch, b_batch});
  Shape full = batch;
  full.push_back(m);
  full.push_back(n);
  RefArg out = generate(full, [&](const Index& i) {
    const Index bi(i.begin(), i.end() - 2);
    const int64_t ao = broadcast_source(bi, a_batch) * m * k, bo = broadcast_source(bi, b_batch) * k * n;
    const int64_t row = i[i.size() - 2], col = i.back();
    double s = 0;
    for (int64_t t = 0; t < k; ++t)
      s += a.v[static_cast<size_t>(ao + row * k + t)] * b.v[static_cast<size_t>(bo + t * n + col)];
    return s;
  });
  Shape shape = batch;
  if (!a_vec) shape.push_back(m);
  if (!b_vec) shape.push_back(n);
  return with_shape(out, shape);
}

RefArg softmax_ref(const RefArg& x, int64_t dim, bool log) {
  const auto d = static_cast<size_t>(wrap(dim, rank(x)));
  return generate(x.shape, [&](const Index& i) {
    std::vector<double> row;
    Index j = i;
    for (j[d] = 0; j[d] < x.shape[d]; ++j[d]) row.push_back(at(x, j));
    const double lse = logsumexp_of(row);
    return log ? at(x, i) - lse : std::exp(at(x, i) - lse);
  });
}

RefArg cat_ref(const Refs& xs, int64_t dim) {
  const auto d = static_cast<size_t>(wrap(dim, rank(xs[0])));
  Shape shape = xs[0].shape;
  shape[d] = 0;
  for (const auto& x : xs) shape[d] += x.shape[d];
  return generate(shape, [&](const Index& i) {
    Index j = i;
    for (const auto& x : xs) {
      if (j[d] < x.shape[d]) return at(x, j);
      j[d] -= x.shape[d];
    }
    return kNaN;
  });
}

RefArg stack_ref(const Refs& xs, int64_t dim) {
  const auto d = static_cast<size_t>(wrap(dim, rank(xs[0]) + 1));
  Shape shape = xs[0].shape;
  shape.insert(shape.begin() + static_cast<std::ptrdiff_t>(d), static_cast<int64_t>(xs.size()));
  return generate(shape, [&](const Index& i) {
    Index j = i;
    j.erase(j.begin() + static_cast<std::ptrdiff_t>(d));
    return at(xs[static_cast<size_t>(i[d])], j);
  });
}

RefArg pad_ref(const RefArg& x, const std::vector<int64_t>& pads, double value) {
  Shape shape = x.shape;
  std::vector<int64_t> before(shape.size(), 0);
  for (size_t p = 0; p + 1 < pads.size(); p += 2) {
    const size_t d = shape.size() - 1 - p / 2;
    before[d] = pads[p];
    shape[d] += pads[p] + pads[p + 1];
  }
  return generate(shape, [&](const Index& i) {
    Index j = i;
    for (size_t d = 0; d < j.size(); ++d) {
      j[d] -= before[d];
      if (j[d] < 0 || j[d] >= x.shape[d]) return value;
    }
    return at(x, j);
  });
}

RefArg gather_ref(const RefArg& x, int64_t dim, const RefArg& index) {
  const auto d = static_cast<size_t>(wrap(dim, rank(x)));
  return generate(index.shape, [&](const Index& i) {
    Index j = i;
    j[d] = static_cast<int64_t>(at(index, i));
    return at(x, j);
  });
}

RefArg scatter_add_ref(const RefArg& self, int64_t dim, const RefArg& index, const RefArg& src) {
  const auto d = static_cast<size_t>(wrap(dim, rank(self)));
  RefArg out = self;
  for (int64_t n = 0; n < count(index.shape); ++n) {
    Index j = unravel(n, index.shape);
    const double add = at(src, j);
    j[d] = static_cast<int64_t>(index.v[static_cast<size_t>(n)]);
    out.v[static_cast<size_t>(ravel(j, self.shape))] += add;
  }
  return out;
}

RefArg one_hot_ref(const RefArg& labels, int64_t num_classes) {
  if (num_classes < 0) {
    double top = -1;
    for (double v : labels.v) top = std::max(top, v);
    num_classes = static_cast<int64_t>(top) + 1;
  }
  Shape shape = labels.shape;
  shape.push_back(num_classes);
  return generate(shape, [&](const Index& i) {
    const Index j(i.begin(), i.end() - 1);
    return at(labels, j) == static_cast<double>(i.back()) ? 1.0 : 0.0;
  });
}

RefArg sum_to_ref(const RefArg& x, const Shape& target) {
  RefArg out{target, std::vector<double>(static_cast<size_t>(count(target)), 0.0)};
  for (int64_t n = 0; n < count(x.shape); ++n)
    out.v[static_cast<size_t>(broadcast_source(unravel(n, x.shape), target))] += x.v[static_cast<size_t>(n)];
  return out;
}

// ---------------------------------------------------------------- random shape cases
// Drawn once when the table is built, from a seed derived from the op name, so every run sees the same
// shapes and a failure message (which prints them) is enough to reproduce.
struct ShapeRng {
  std::mt19937 rng;
  explicit ShapeRng(const std::string& name) : rng(seed(name)) {}
  static uint32_t seed(const std::string& s) {
    uint32_t h = 2166136261u;
    for (unsigned char ch : s) h = (h ^ ch) * 16777619u;
    return h ^ 0x5bd1e995u;
  }
  int64_t below(int64_t n) { return static_cast<int64_t>(rng() % static_cast<uint32_t>(n)); }
  bool chance(int64_t one_in) { return below(one_in) == 0; }
  // Rank in [min_rank, max_rank], sizes mostly 2..4, sometimes 1, rarely 0; at most 48 elements.
  Shape shape(int64_t min_rank, int64_t max_rank, bool allow_zero) {
    for (;;) {
      Shape s(static_cast<size_t>(min_rank + below(max_rank - min_rank + 1)));
      for (auto& d : s) d = allow_zero && chance(12) ? 0 : chance(4) ? 1 : 2 + below(3);
      if (count(s) <= 48) return s;
    }
  }
  // A shape that broadcasts to `s`: some dims set to 1, some leading dims dropped.
  Shape broadcastable(const Shape& s) {
    Shape out(s.begin() + below(static_cast<int64_t>(s.size()) + 1), s.end());
    for (auto& d : out)
      if (chance(3)) d = 1;
    return out;
  }
};

constexpr int kRandomCases = 4;

void add_random_elementwise(OpSpec& s) {
  ShapeRng r(s.name);
  for (int i = 0; i < kRandomCases; ++i) {
    const Shape full = r.shape(0, 4, true);
    Case c;
    for (size_t a = 0; a < s.args.size(); ++a) c.shapes.push_back(a == 0 || r.chance(2) ? r.broadcastable(full) : full);
    if (c.shapes.size() > 1 && r.chance(2)) std::swap(c.shapes[0], c.shapes[1]);
    c.p = s.cases[static_cast<size_t>(i) % s.cases.size()].p;
    s.cases.push_back(c);
  }
}

// Random axes (possibly all) and keepdim; groups of at least `min_group` elements.
void add_random_reductions(OpSpec& s, bool allow_empty, int64_t min_group) {
  ShapeRng r(s.name);
  for (int i = 0; i < kRandomCases;) {
    Case c{{r.shape(1, 4, allow_empty)}, s.cases[0].p};
    const Shape& x = c.shapes[0];
    c.p.dims.clear();
    int64_t group = 1;
    for (int64_t d = 0; d < static_cast<int64_t>(x.size()); ++d)
      if (r.chance(2)) c.p.dims.push_back(r.chance(2) ? d : d - static_cast<int64_t>(x.size()));
    if (c.p.dims.empty()) group = count(x);
    for (int64_t d : c.p.dims) group *= x[static_cast<size_t>(wrap(d, static_cast<int64_t>(x.size())))];
    if (group < min_group) continue;
    c.p.keepdim = r.chance(2);
    s.cases.push_back(c);
    ++i;
  }
}

void add_random_softmax(OpSpec& s) {
  ShapeRng r(s.name);
  for (int i = 0; i < kRandomCases; ++i) {
    Case c{{r.shape(1, 4, true)}, {}};
    const auto rank = static_cast<int64_t>(c.shapes[0].size());
    c.p.a = r.below(2 * rank) - rank;
    s.cases.push_back(c);
  }
}

void add_random_matmul(OpSpec& s) {
  ShapeRng r(s.name);
  for (int i = 0; i < 2 * kRandomCases; ++i) {
    const int64_t m = 1 + r.below(4), n = 1 + r.below(4), k = r.chance(8) ? 0 : 1 + r.below(4);
    const Shape batch = r.shape(0, 2, false);
    Shape a = r.broadcastable(batch), b = r.broadcastable(batch);
    if (r.chance(4)) a = {k};
    else a.insert(a.end(), {m, k});
    if (r.chance(4)) b = {k};
    else b.insert(b.end(), {k, n});
    s.cases.push_back({{a, b}});
  }
}

// ---------------------------------------------------------------- spec builders
using UnaryTg = Tensor (*)(const Tensor&);

const std::vector<Case>& unary_cases() {
  static const std::vector<Case> cases = {
      {SL{Shape{}}}, {SL{{5}}}, {SL{{3, 4}}}, {SL{{2, 3, 4}}}, {SL{{0, 3}}}, {SL{{1, 4}}},
  };
  return cases;
}

OpSpec unary(std::string name, UnaryTg op, std::function<double(double)> f, Dom dom, bool int_ok = false) {
  OpSpec s;
  s.name = std::move(name);
  s.args = {dom};
  s.cases = unary_cases();
  s.fn = [op](const TensorList& x, const Params&) { return op(x[0]); };
  s.ref = [f](const Refs& x, const Params&) { return map1(x[0], f); };
  s.promo = Promo::Unary;
  s.int_ok = int_ok;
  add_random_elementwise(s);
  return s;
}

const std::vector<Case>& binary_cases() {
  static const std::vector<Case> cases = {
      {SL{{3, 4}, {3, 4}}},  {SL{{3, 1}, {1, 4}}}, {SL{{2, 3, 4}, {4}}}, {SL{Shape{}, {2, 3}}},
      {SL{{0, 3}, {1, 3}}},  {SL{{5}, Shape{}}},   {SL{{2, 1, 3}, {4, 1}}},
  };
  return cases;
}

using BinaryTg = Tensor (*)(const Tensor&, const Tensor&);

OpSpec binary(std::string name, BinaryTg op, std::function<double(double, double)> f, Dom da, Dom db,
              Promo promo = Promo::Binary) {
  OpSpec s;
  s.name = std::move(name);
  s.args = {da, db};
  s.cases = binary_cases();
  s.fn = [op](const TensorList& x, const Params&) { return op(x[0], x[1]); };
  s.ref = [f](const Refs& x, const Params&) { return map2(x[0], x[1], f); };
  s.promo = promo;
  add_random_elementwise(s);
  return s;
}

OpSpec comparison(std::string name, BinaryTg op, std::function<bool(double, double)> f) {
  OpSpec s = binary(std::move(name), op, [f](double a, double b) { return f(a, b) ? 1.0 : 0.0; }, Dom::Discrete,
                    Dom::Discrete, Promo::Comparison);
  s.out = OutKind::Bool;
  s.vjp = s.second_order = false;
  return s;
}

// Scalar overloads: variant 0 calls the named function, 1 the operator (tensor op scalar), 2 the reversed
// operator (scalar op tensor).
OpSpec scalar_op(std::string name, Dom dom, std::vector<Case> cases,
                 std::function<Tensor(const Tensor&, tg::Scalar, int)> fn,
                 std::function<double(double, double, int)> f) {
  OpSpec s;
  s.name = std::move(name);
  s.args = {dom};
  s.cases = std::move(cases);
  s.fn = [fn](const TensorList& x, const Params& p) { return fn(x[0], tg::Scalar(p.s), p.variant); };
  s.ref = [f](const Refs& x, const Params& p) {
    return map1(x[0], [&](double v) { return f(v, p.s, p.variant); });
  };
  s.promo = Promo::ScalarOp;
  add_random_elementwise(s);
  return s;
}

std::vector<Case> scalar_cases(double s0, double s1, double s2) {
  Params p0, p1, p2;
  p0.s = s0;
  p1.s = s1;
  p1.variant = 1;
  p2.s = s2;
  p2.variant = 2;
  return {{SL{{3, 4}}, p0}, {SL{Shape{}}, p1}, {SL{{2, 3, 2}}, p2}, {SL{{0, 2}}, p0}, {SL{{5}}, p1}};
}

Params reduce_params(std::vector<int64_t> dims, bool keepdim, int64_t correction = 1) {
  Params p;
  p.dims = std::move(dims);
  p.keepdim = keepdim;
  p.a = correction;
  return p;
}

std::vector<Case> reduction_cases(bool allow_empty) {
  std::vector<Case> cases = {
      {SL{{3, 4}}, reduce_params({}, false)},         {SL{{3, 4}}, reduce_params({1}, true)},
      {SL{{2, 3, 4}}, reduce_params({0, 2}, false)},  {SL{{2, 3, 4}}, reduce_params({-1}, true)},
      {SL{{4, 1, 3}}, reduce_params({1, 2}, false)},  {SL{{2, 5}}, reduce_params({0}, false)},
  };
  if (allow_empty) {
    cases.push_back({SL{Shape{}}, reduce_params({}, false)});
    cases.push_back({SL{{0, 3}}, reduce_params({0}, false)});
    cases.push_back({SL{{0, 3}}, reduce_params({1}, true)});
  }
  return cases;
}

using ReduceTg = Tensor (*)(const Tensor&, const std::vector<int64_t>&, bool);

OpSpec reduction(std::string name, ReduceTg op, std::function<double(const std::vector<double>&)> f, Dom dom,
                 bool allow_empty) {
  OpSpec s;
  s.name = std::move(name);
  s.args = {dom};
  s.cases = reduction_cases(allow_empty);
  s.fn = [op](const TensorList& x, const Params& p) { return op(x[0], p.dims, p.keepdim); };
  s.ref = [f](const Refs& x, const Params& p) { return reduce(x[0], p.dims, p.keepdim, f); };
  add_random_reductions(s, allow_empty, allow_empty ? 0 : 1);
  return s;
}

OpSpec statistic(std::string name, bool is_std) {
  OpSpec s;
  s.name = std::move(name);
  s.args = {Dom::Normal};
  // Every reduced group has at least two elements, so correction 1 never divides by zero.
  s.cases = {
      {SL{{3, 4}}, reduce_params({}, false, 1)},       {SL{{3, 4}}, reduce_params({1}, true, 0)},
      {SL{{2, 3, 4}}, reduce_params({0, 2}, false, 1)}, {SL{{2, 3, 4}}, reduce_params({-1}, false, 1)},
      {SL{{5, 2}}, reduce_params({0}, true, 0)},
  };
  s.fn = [is_std](const TensorList& x, const Params& p) {
    return is_std ? tg::std(x[0], p.dims, p.a, p.keepdim) : tg::var(x[0], p.dims, p.a, p.keepdim);
  };
  s.ref = [is_std](const Refs& x, const Params& p) {
    return reduce(x[0], p.dims, p.keepdim, [&](const std::vector<double>& v) {
      const double var = var_of(v, p.a);
      return is_std ? std::sqrt(var) : var;
    });
  };
  s.f32_rtol = 1e-4;
  add_random_reductions(s, false, 2);
  return s;
}

OpSpec arg_reduction(std::string name, bool want_max) {
  OpSpec s;
  s.name = std::move(name);
  s.args = {Dom::Distinct};
  Params flat, d1, dneg;
  d1.variant = dneg.variant = 1;
  d1.a = 1;
  d1.keepdim = true;
  dneg.a = -1;
  s.cases = {{SL{{3, 4}}, flat}, {SL{{3, 4}}, d1}, {SL{{2, 3, 4}}, dneg}, {SL{{2, 3, 4}}, d1}, {SL{{7}}, flat}};
  s.fn = [want_max](const TensorList& x, const Params& p) {
    if (p.variant == 0) return want_max ? tg::argmax(x[0]) : tg::argmin(x[0]);
    return want_max ? tg::argmax(x[0], p.a, p.keepdim) : tg::argmin(x[0], p.a, p.keepdim);
  };
  s.ref = [want_max](const Refs& x, const Params& p) {
    const std::vector<int64_t> dims = p.variant == 0 ? std::vector<int64_t>{} : std::vector<int64_t>{p.a};
    return reduce(x[0], dims, p.variant != 0 && p.keepdim,
                  [&](const std::vector<double>& v) { return arg_extreme(v, want_max); });
  };
  s.out = OutKind::Int64;
  s.vjp = s.second_order = false;
  return s;
}

Params ints(int64_t a, int64_t b = 0, int64_t c = 0, int64_t d = 0) {
  Params p;
  p.a = a;
  p.b = b;
  p.c = c;
  p.d = d;
  return p;
}
Params target(Shape shape) {
  Params p;
  p.shape = std::move(shape);
  return p;
}
Params with_dims(std::vector<int64_t> dims, double s = 0) {
  Params p;
  p.dims = std::move(dims);
  p.s = s;
  return p;
}
Params pow_exponent(double s, int v) {
  Params p;
  p.s = s;
  p.variant = v;
  return p;
}
Params variant(int v, int64_t a = 0) {
  Params p = ints(a);
  p.variant = v;
  return p;
}

constexpr auto spec = &make_spec;

// ---------------------------------------------------------------- the table
void add_unary(std::vector<OpSpec>& t) {
  t.push_back(unary("neg", tg::neg, [](double x) { return -x; }, Dom::Normal, true));
  t.push_back(unary("abs", tg::abs, [](double x) { return std::abs(x); }, Dom::NonZero, true));
  t.push_back(unary("exp", tg::exp, [](double x) { return std::exp(x); }, Dom::Normal));
  t.push_back(unary("log", tg::log, [](double x) { return std::log(x); }, Dom::Positive));
  t.push_back(unary("log1p", tg::log1p, [](double x) { return std::log1p(x); }, Dom::AboveMinusOne));
  t.push_back(unary("sqrt", tg::sqrt, [](double x) { return std::sqrt(x); }, Dom::Positive));
  t.push_back(unary("rsqrt", tg::rsqrt, [](double x) { return 1.0 / std::sqrt(x); }, Dom::Positive));
  t.push_back(unary("sin", tg::sin, [](double x) { return std::sin(x); }, Dom::Normal));
  t.push_back(unary("cos", tg::cos, [](double x) { return std::cos(x); }, Dom::Normal));
  t.push_back(unary("tanh", tg::tanh, [](double x) { return std::tanh(x); }, Dom::Normal));
  t.push_back(unary("sigmoid", tg::sigmoid, sigmoid_ref, Dom::Normal));
  t.push_back(unary("relu", tg::relu, [](double x) { return x > 0 ? x : 0.0; }, Dom::NonZero, true));
  t.push_back(unary("gelu", tg::gelu, [](double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); },
                    Dom::Normal));
  t.push_back(unary("silu", tg::silu, [](double x) { return x * sigmoid_ref(x); }, Dom::Normal));
  t.push_back(unary("square", tg::square, [](double x) { return x * x; }, Dom::Normal, true));
  t.push_back(unary("reciprocal", tg::reciprocal, [](double x) { return 1.0 / x; }, Dom::NonZero));
  t.push_back(unary("sign", tg::sign, sign_ref, Dom::NonZero, true));
  t.push_back(unary("erf", tg::erf, [](double x) { return std::erf(x); }, Dom::Normal));
  t.push_back(unary("floor", tg::floor, [](double x) { return std::floor(x); }, Dom::Normal, true));
  t.push_back(unary("ceil", tg::ceil, [](double x) { return std::ceil(x); }, Dom::Normal, true));
  t.push_back(unary("round", tg::round, [](double x) { return std::nearbyint(x); }, Dom::Normal, true));
}

void add_binary(std::vector<OpSpec>& t) {
  t.push_back(binary("add", tg::add, std::plus<double>(), Dom::Normal, Dom::Normal));
  t.push_back(binary("sub", tg::sub, std::minus<double>(), Dom::Normal, Dom::Normal));
  t.push_back(binary("mul", tg::mul, std::multiplies<double>(), Dom::Normal, Dom::Normal));
  t.push_back(binary("div", tg::div, std::divides<double>(), Dom::Normal, Dom::NonZero, Promo::TrueDiv));
  t.push_back(binary("pow", tg::pow, [](double a, double b) { return std::pow(a, b); }, Dom::Positive, Dom::Normal));
  t.push_back(binary("maximum", tg::maximum, [](double a, double b) { return std::max(a, b); }, Dom::Distinct,
                     Dom::Distinct));
  t.push_back(binary("minimum", tg::minimum, [](double a, double b) { return std::min(a, b); }, Dom::Distinct,
                     Dom::Distinct));

  // Scalar overloads, through the named function, the operator and the reversed operator.
  t.push_back(scalar_op(
      "add_scalar", Dom::Normal, scalar_cases(1.5, -0.75, 2.0),
      [](const Tensor& x, tg::Scalar s, int v) { return v == 0 ? tg::add(x, s) : v == 1 ? x + s : s + x; },
      [](double x, double s, int) { return x + s; }));
  t.push_back(scalar_op(
      "sub_scalar", Dom::Normal, scalar_cases(1.5, -0.75, 2.0),
      [](const Tensor& x, tg::Scalar s, int v) { return v == 0 ? tg::sub(x, s) : v == 1 ? x - s : s - x; },
      [](double x, double s, int v) { return v == 2 ? s - x : x - s; }));
  t.push_back(scalar_op(
      "mul_scalar", Dom::Normal, scalar_cases(1.5, -0.75, 2.0),
      [](const Tensor& x, tg::Scalar s, int v) { return v == 0 ? tg::mul(x, s) : v == 1 ? x * s : s * x; },
      [](double x, double s, int) { return x * s; }));
  t.push_back(scalar_op(
      "div_scalar", Dom::NonZero, scalar_cases(1.5, -0.75, 2.0),
      [](const Tensor& x, tg::Scalar s, int v) { return v == 0 ? tg::div(x, s) : v == 1 ? x / s : s / x; },
      [](double x, double s, int v) { return v == 2 ? s / x : x / s; }));
  // variant 1 passes the exponent as a C++ integer (Scalar kind Integral).
  t.push_back(scalar_op(
      "pow_scalar", Dom::Positive,
      {{SL{{3, 4}}, pow_exponent(0.5, 0)}, {SL{{3, 4}}, pow_exponent(3, 1)}, {SL{Shape{}}, pow_exponent(-1.5, 0)},
       {SL{{2, 3}}, pow_exponent(2, 0)}, {SL{{0, 2}}, pow_exponent(2.5, 0)}},
      [](const Tensor& x, tg::Scalar s, int v) {
        return v == 1 ? tg::pow(x, tg::Scalar(static_cast<int64_t>(s.value()))) : tg::pow(x, s);
      },
      [](double x, double s, int v) { return std::pow(x, v == 1 ? std::trunc(s) : s); }));
  // Distinct values lie on a 0.1 grid plus up to 0.02: 0.037 keeps at least 0.013 from each of them.
  t.push_back(scalar_op(
      "maximum_scalar", Dom::Distinct, scalar_cases(0.037, -0.163, 0.237),
      [](const Tensor& x, tg::Scalar s, int) { return tg::maximum(x, s); },
      [](double x, double s, int) { return std::max(x, s); }));
  t.push_back(scalar_op(
      "minimum_scalar", Dom::Distinct, scalar_cases(0.037, -0.163, 0.237),
      [](const Tensor& x, tg::Scalar s, int) { return tg::minimum(x, s); },
      [](double x, double s, int) { return std::min(x, s); }));
}

void add_comparisons(std::vector<OpSpec>& t) {
  t.push_back(comparison("eq", tg::eq, [](double a, double b) { return a == b; }));
  t.push_back(comparison("ne", tg::ne, [](double a, double b) { return a != b; }));
  t.push_back(comparison("lt", tg::lt, [](double a, double b) { return a < b; }));
  t.push_back(comparison("le", tg::le, [](double a, double b) { return a <= b; }));
  t.push_back(comparison("gt", tg::gt, [](double a, double b) { return a > b; }));
  t.push_back(comparison("ge", tg::ge, [](double a, double b) { return a >= b; }));
}

void add_where(std::vector<OpSpec>& t) {
  t.push_back(spec(
      "where", {Dom::Bool, Dom::Normal, Dom::Normal},
      {{SL{{3, 4}, {3, 4}, {3, 4}}}, {SL{{3, 1}, {1, 4}, {3, 4}}}, {SL{{2, 3, 4}, {4}, Shape{}}},
       {SL{Shape{}, {2, 2}, {2, 2}}}, {SL{{0, 2}, {1, 2}, {0, 2}}}},
      [](const TensorList& x, const Params&) { return tg::where(x[0], x[1], x[2]); },
      [](const Refs& x, const Params&) {
        return map3(x[0], x[1], x[2], [](double c, double a, double b) { return c != 0 ? a : b; });
      }));
  add_random_elementwise(t.back());
  // variant 0: where(cond, tensor, scalar); variant 1: where(cond, scalar, tensor).
  Params p0, p1;
  p0.s = 0.5;
  p1.s = -1.25;
  p1.variant = 1;
  t.push_back(spec(
      "where_scalar", {Dom::Bool, Dom::Normal},
      {{SL{{3, 4}, {3, 4}}, p0}, {SL{{3, 1}, {1, 4}}, p1}, {SL{{2, 3}, Shape{}}, p0}, {SL{{4}, {2, 4}}, p1}},
      [](const TensorList& x, const Params& p) {
        return p.variant == 0 ? tg::where(x[0], x[1], tg::Scalar(p.s)) : tg::where(x[0], tg::Scalar(p.s), x[1]);
      },
      [](const Refs& x, const Params& p) {
        return map2(x[0], x[1], [&](double c, double v) {
          return (c != 0) == (p.variant == 0) ? v : p.s;
        });
      }));
  add_random_elementwise(t.back());
}

void add_reductions(std::vector<OpSpec>& t) {
  t.push_back(reduction("sum", tg::sum, sum_of, Dom::Normal, true));
  t.push_back(reduction("mean", tg::mean, mean_of, Dom::Normal, true));
  t.push_back(reduction(
      "prod", tg::prod,
      [](const std::vector<double>& v) {
        double p = 1;
        for (double x : v) p *= x;
        return p;
      },
      Dom::NonZero, true));
  t.push_back(reduction(
      "max", tg::max, [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); },
      Dom::Distinct, false));
  t.push_back(reduction(
      "min", tg::min, [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); },
      Dom::Distinct, false));
  t.push_back(statistic("var", false));
  t.push_back(statistic("std", true));
  t.push_back(reduction("logsumexp", tg::logsumexp, logsumexp_of, Dom::Normal, true));
  t.push_back(arg_reduction("argmax", true));
  t.push_back(arg_reduction("argmin", false));
  t.push_back(spec(
      "sum_to", {Dom::Normal},
      {{SL{{3, 4}}, target({1, 4})}, {SL{{2, 3, 4}}, target({3, 1})}, {SL{{2, 3}}, target({})},
       {SL{{3, 4}}, target({3, 4})}, {SL{{2, 0, 3}}, target({1, 3})}},
      [](const TensorList& x, const Params& p) { return tg::sum_to(x[0], p.shape); },
      [](const Refs& x, const Params& p) { return sum_to_ref(x[0], p.shape); }));
}

void add_views(std::vector<OpSpec>& t) {
  t.push_back(spec(
      "reshape", {Dom::Normal},
      {{SL{{2, 3, 4}}, target({6, 4})}, {SL{{2, 3, 4}}, target({4, -1})}, {SL{{12}}, target({3, 1, 4})},
       {SL{Shape{}}, target({1})}, {SL{{1}}, target({})}, {SL{{3, 0}}, target({0, 5})}},
      [](const TensorList& x, const Params& p) { return tg::reshape(x[0], p.shape); },
      [](const Refs& x, const Params& p) { return with_shape(x[0], resolve_reshape(p.shape, count(x[0].shape))); }));
  t.push_back(spec(
      "permute", {Dom::Normal},
      {{SL{{2, 3, 4}}, with_dims({2, 0, 1})}, {SL{{3, 4}}, with_dims({1, 0})}, {SL{{2, 1, 3}}, with_dims({1, 2, 0})},
       {SL{{2, 3, 4}}, with_dims({-1, 0, 1})}, {SL{Shape{}}, with_dims({})}, {SL{{0, 2}}, with_dims({1, 0})}},
      [](const TensorList& x, const Params& p) { return tg::permute(x[0], p.dims); },
      [](const Refs& x, const Params& p) {
        std::vector<size_t> perm;
        for (int64_t d : p.dims) perm.push_back(static_cast<size_t>(wrap(d, rank(x[0]))));
        Shape shape;
        for (size_t d : perm) shape.push_back(x[0].shape[d]);
        return generate(shape, [&](const Index& i) {
          Index src(i.size());
          for (size_t k = 0; k < perm.size(); ++k) src[perm[k]] = i[k];
          return at(x[0], src);
        });
      }));
  t.push_back(spec(
      "transpose", {Dom::Normal},
      {{SL{{2, 3, 4}}, ints(0, 2)}, {SL{{3, 4}}, ints(-1, -2)}, {SL{{5}}, ints(0, 0)}, {SL{{2, 3, 4}}, ints(1, 2)}},
      [](const TensorList& x, const Params& p) { return tg::transpose(x[0], p.a, p.b); },
      [](const Refs& x, const Params& p) {
        const auto a = static_cast<size_t>(wrap(p.a, rank(x[0]))), b = static_cast<size_t>(wrap(p.b, rank(x[0])));
        Shape shape = x[0].shape;
        std::swap(shape[a], shape[b]);
        return generate(shape, [&](const Index& i) {
          Index src = i;
          std::swap(src[a], src[b]);
          return at(x[0], src);
        });
      }));
  t.push_back(spec(
      "expand", {Dom::Normal},
      {{SL{{3, 1}}, target({3, 4})}, {SL{{1, 4}}, target({2, 3, 4})}, {SL{{3, 1}}, target({-1, 5})},
       {SL{Shape{}}, target({2, 2})}, {SL{{2, 1}}, target({2, 0})}, {SL{{2, 3}}, target({2, 3})}},
      [](const TensorList& x, const Params& p) { return tg::expand(x[0], p.shape); },
      [](const Refs& x, const Params& p) {
        Shape shape = p.shape;
        const size_t lead = shape.size() - x[0].shape.size();
        for (size_t i = 0; i < x[0].shape.size(); ++i)
          if (shape[lead + i] == -1) shape[lead + i] = x[0].shape[i];
        return generate(shape, [&](const Index& i) { return x[0].v[static_cast<size_t>(broadcast_source(i, x[0].shape))]; });
      }));
  // a = dim, b = start, c = end, d = step (Python semantics: negative bounds count from the end, clamp).
  t.push_back(spec(
      "slice", {Dom::Normal},
      {{SL{{6, 4}}, ints(0, 1, 5, 2)}, {SL{{3, 8}}, ints(1, -6, -1, 3)}, {SL{{5, 3}}, ints(0, -100, 100, 1)},
       {SL{{4, 5}}, ints(1, 3, 2, 1)}, {SL{{4, 5}}, ints(-1, 0, 5, 7)}, {SL{{2, 7, 2}}, ints(1, 2, 7, 2)}},
      [](const TensorList& x, const Params& p) { return tg::slice(x[0], p.a, p.b, p.c, p.d); },
      [](const Refs& x, const Params& p) {
        const int64_t dim = wrap(p.a, rank(x[0])), n = x[0].shape[static_cast<size_t>(dim)];
        auto clamp = [n](int64_t i) { return std::clamp<int64_t>(i < 0 ? i + n : i, 0, n); };
        std::vector<int64_t> picks;
        for (int64_t i = clamp(p.b); i < clamp(p.c); i += p.d) picks.push_back(i);
        return take_along(x[0], dim, picks);
      }));
  t.push_back(spec(
      "narrow", {Dom::Normal},
      {{SL{{4, 5}}, ints(1, 1, 3)}, {SL{{4, 5}}, ints(0, 0, 0)}, {SL{{4, 5}}, ints(-1, 2, 3)}, {SL{{3}}, ints(0, 2, 1)}},
      [](const TensorList& x, const Params& p) { return tg::narrow(x[0], p.a, p.b, p.c); },
      [](const Refs& x, const Params& p) {
        std::vector<int64_t> picks(static_cast<size_t>(p.c));
        std::iota(picks.begin(), picks.end(), p.b);
        return take_along(x[0], wrap(p.a, rank(x[0])), picks);
      }));
  t.push_back(spec(
      "select", {Dom::Normal},
      {{SL{{3, 4}}, ints(0, 2)}, {SL{{2, 3, 4}}, ints(1, 0)}, {SL{{2, 3, 4}}, ints(-1, 3)}, {SL{{5}}, ints(0, 1)}},
      [](const TensorList& x, const Params& p) { return tg::select(x[0], p.a, p.b); },
      [](const Refs& x, const Params& p) {
        const int64_t dim = wrap(p.a, rank(x[0]));
        RefArg out = take_along(x[0], dim, {p.b});
        out.shape.erase(out.shape.begin() + dim);
        return out;
      }));
  // variant 0: squeeze(x) (every size-1 dim); variant 1: squeeze(x, a).
  t.push_back(spec(
      "squeeze", {Dom::Normal},
      {{SL{{1, 3, 1, 4}}, variant(0)}, {SL{{1, 3, 1, 4}}, variant(1, 2)}, {SL{{3, 4}}, variant(1, 0)},
       {SL{{1}}, variant(0)}, {SL{{1, 3, 1}}, variant(1, -1)}, {SL{{2, 0, 1}}, variant(0)}},
      [](const TensorList& x, const Params& p) { return p.variant == 0 ? tg::squeeze(x[0]) : tg::squeeze(x[0], p.a); },
      [](const Refs& x, const Params& p) {
        Shape shape;
        const int64_t dim = wrap(p.a, rank(x[0]));
        for (size_t d = 0; d < x[0].shape.size(); ++d) {
          const bool drop = x[0].shape[d] == 1 && (p.variant == 0 || static_cast<int64_t>(d) == dim);
          if (!drop) shape.push_back(x[0].shape[d]);
        }
        return with_shape(x[0], shape);
      }));
  t.push_back(spec(
      "unsqueeze", {Dom::Normal},
      {{SL{{3, 4}}, ints(0)}, {SL{{3, 4}}, ints(2)}, {SL{{3, 4}}, ints(-1)}, {SL{Shape{}}, ints(0)}, {SL{{2, 3}}, ints(-2)}},
      [](const TensorList& x, const Params& p) { return tg::unsqueeze(x[0], p.a); },
      [](const Refs& x, const Params& p) {
        Shape shape = x[0].shape;
        shape.insert(shape.begin() + wrap(p.a, rank(x[0]) + 1), 1);
        return with_shape(x[0], shape);
      }));
  t.push_back(spec(
      "flatten", {Dom::Normal},
      {{SL{{2, 3, 4}}, ints(0, -1)}, {SL{{2, 3, 4}}, ints(1, 2)}, {SL{{2, 3, 4, 5}}, ints(1, 2)},
       {SL{Shape{}}, ints(0, -1)}, {SL{{2, 3}}, ints(1, 1)}, {SL{{2, 0, 3}}, ints(0, 1)}},
      [](const TensorList& x, const Params& p) { return tg::flatten(x[0], p.a, p.b); },
      [](const Refs& x, const Params& p) {
        if (x[0].shape.empty()) return with_shape(x[0], {1});
        const int64_t a = wrap(p.a, rank(x[0])), b = wrap(p.b, rank(x[0]));
        Shape shape(x[0].shape.begin(), x[0].shape.begin() + a);
        int64_t n = 1;
        for (int64_t d = a; d <= b; ++d) n *= x[0].shape[static_cast<size_t>(d)];
        shape.push_back(n);
        shape.insert(shape.end(), x[0].shape.begin() + b + 1, x[0].shape.end());
        return with_shape(x[0], shape);
      }));
  const std::vector<Case> copy_cases = {{SL{{3, 4}}}, {SL{{2, 3, 4}}}, {SL{{0, 2}}}, {SL{Shape{}}}, {SL{{1, 5}}}};
  t.push_back(spec("contiguous", {Dom::Normal}, copy_cases,
                   [](const TensorList& x, const Params&) { return tg::contiguous(x[0]); },
                   [](const Refs& x, const Params&) { return x[0]; }));
  t.push_back(spec("clone", {Dom::Normal}, copy_cases,
                   [](const TensorList& x, const Params&) { return tg::clone(x[0]); },
                   [](const Refs& x, const Params&) { return x[0]; }));
}

void add_movement(std::vector<OpSpec>& t) {
  const std::vector<Dom> three = {Dom::Normal, Dom::Normal, Dom::Normal};
  t.push_back(spec(
      "cat", three,
      {{SL{{2, 3}, {1, 3}, {4, 3}}, ints(0)}, {SL{{2, 1}, {2, 3}, {2, 0}}, ints(1)},
       {SL{{2, 3, 2}, {2, 3, 1}, {2, 3, 3}}, ints(-1)}, {SL{{0}, {3}, {2}}, ints(0)}},
      [](const TensorList& x, const Params& p) { return tg::cat({x[0], x[1], x[2]}, p.a); },
      [](const Refs& x, const Params& p) { return cat_ref(x, p.a); }));
  t.push_back(spec(
      "stack", three,
      {{SL{{2, 3}, {2, 3}, {2, 3}}, ints(0)}, {SL{{2, 3}, {2, 3}, {2, 3}}, ints(2)},
       {SL{{2, 3}, {2, 3}, {2, 3}}, ints(-1)}, {SL{Shape{}, Shape{}, Shape{}}, ints(0)},
       {SL{{0, 2}, {0, 2}, {0, 2}}, ints(1)}},
      [](const TensorList& x, const Params& p) { return tg::stack({x[0], x[1], x[2]}, p.a); },
      [](const Refs& x, const Params& p) { return stack_ref(x, p.a); }));
  t.push_back(spec(
      "pad", {Dom::Normal},
      {{SL{{3, 4}}, with_dims({1, 2})}, {SL{{2, 3}}, with_dims({0, 1, 2, 0}, 1.5)},
       {SL{{2, 3, 2}}, with_dims({1, 1, 1, 1, 1, 1}, -0.5)}, {SL{{0, 2}}, with_dims({1, 0, 1, 1})},
       {SL{{4}}, with_dims({0, 0})}},
      [](const TensorList& x, const Params& p) { return tg::pad(x[0], p.dims, p.s); },
      [](const Refs& x, const Params& p) { return pad_ref(x[0], p.dims, p.s); }));

  OpSpec index_select = spec(
      "index_select", {Dom::Normal, Dom::Index},
      {{SL{{4, 3}, {5}}, ints(0)}, {SL{{3, 4}, {2}}, ints(1)}, {SL{{2, 3, 4}, {6}}, ints(-1)},
       {SL{{4, 3}, {0}}, ints(0)}, {SL{{1, 3}, {3}}, ints(0)}},
      [](const TensorList& x, const Params& p) { return tg::index_select(x[0], p.a, x[1]); },
      [](const Refs& x, const Params& p) {
        std::vector<int64_t> picks;
        for (double v : x[1].v) picks.push_back(static_cast<int64_t>(v));
        return take_along(x[0], wrap(p.a, rank(x[0])), picks);
      });
  index_select.index_high = [](const Case& c) {
    return c.shapes[0][static_cast<size_t>(wrap(c.p.a, static_cast<int64_t>(c.shapes[0].size())))];
  };
  t.push_back(index_select);

  OpSpec gather = spec(
      "gather", {Dom::Normal, Dom::Index},
      {{SL{{3, 4}, {3, 5}}, ints(1)}, {SL{{4, 3}, {2, 3}}, ints(0)}, {SL{{2, 3, 4}, {2, 3, 2}}, ints(2)},
       {SL{{3, 4}, {2, 2}}, ints(1)}, {SL{{3, 4}, {3, 0}}, ints(-1)}},
      [](const TensorList& x, const Params& p) { return tg::gather(x[0], p.a, x[1]); },
      [](const Refs& x, const Params& p) { return gather_ref(x[0], p.a, x[1]); });
  gather.index_high = index_select.index_high;
  t.push_back(gather);

  OpSpec scatter = spec(
      "scatter_add", {Dom::Normal, Dom::Index, Dom::Normal},
      {{SL{{3, 4}, {3, 6}, {3, 6}}, ints(1)}, {SL{{4, 3}, {5, 3}, {5, 3}}, ints(0)},
       {SL{{2, 3, 4}, {2, 3, 2}, {2, 3, 2}}, ints(-1)}, {SL{{3, 4}, {3, 0}, {3, 0}}, ints(1)}},
      [](const TensorList& x, const Params& p) { return tg::scatter_add(x[0], p.a, x[1], x[2]); },
      [](const Refs& x, const Params& p) { return scatter_add_ref(x[0], p.a, x[1], x[2]); });
  scatter.index_high = index_select.index_high;
  t.push_back(scatter);

  OpSpec one_hot = spec(
      "one_hot", {Dom::Index},
      {{SL{{5}}, ints(4)}, {SL{{2, 3}}, ints(3)}, {SL{Shape{}}, ints(5)}, {SL{{6}}, ints(-1)}, {SL{{0}}, ints(3)}},
      [](const TensorList& x, const Params& p) { return tg::one_hot(x[0], p.a); },
      [](const Refs& x, const Params& p) { return one_hot_ref(x[0], p.a); });
  one_hot.index_high = [](const Case& c) { return c.p.a > 0 ? c.p.a : int64_t{6}; };
  one_hot.out = OutKind::Int64;
  one_hot.vjp = one_hot.second_order = false;
  t.push_back(one_hot);
}

void add_linalg(std::vector<OpSpec>& t) {
  t.push_back(spec(
      "matmul", {Dom::Normal, Dom::Normal},
      {{SL{{4}, {4}}}, {SL{{3}, {3, 2}}}, {SL{{2, 3}, {3}}}, {SL{{2, 3}, {3, 4}}}, {SL{{2, 2, 3}, {3, 2}}},
       {SL{{2, 1, 2, 3}, {3, 3, 2}}}, {SL{{3, 0}, {0, 2}}}, {SL{{0, 3}, {3, 2}}}, {SL{{1, 3}, {3, 1}}},
       {SL{{2, 3}, {2, 3, 2}}}},
      [](const TensorList& x, const Params&) { return tg::matmul(x[0], x[1]); },
      [](const Refs& x, const Params&) { return matmul_ref(x[0], x[1]); }));
  add_random_matmul(t.back());
  // y[..., o] = sum_i x[..., i] w[o, i] + b[o], by direct loops.
  const auto linear_ref = [](const Refs& x, bool with_bias) {
    const RefArg& in = x[0];
    const RefArg& w = x[1];
    const int64_t features = w.shape[1], outs = w.shape[0];
    Shape shape = in.shape;
    shape.back() = outs;
    return generate(shape, [&](const Index& idx) {
      Index src = idx;
      double acc = with_bias ? x[2].v[static_cast<size_t>(idx.back())] : 0.0;
      for (int64_t i = 0; i < features; ++i) {
        src.back() = i;
        acc += at(in, src) * at(w, {idx.back(), i});
      }
      return acc;
    });
  };
  t.push_back(spec(
      "linear", {Dom::Normal, Dom::Normal, Dom::Normal},
      {{SL{{2, 3}, {4, 3}, {4}}}, {SL{{3}, {2, 3}, {2}}}, {SL{{2, 2, 3}, {2, 3}, {2}}}, {SL{{0, 3}, {2, 3}, {2}}},
       {SL{{1, 1}, {1, 1}, {1}}}},
      [](const TensorList& x, const Params&) { return tg::linear(x[0], x[1], x[2]); },
      [linear_ref](const Refs& x, const Params&) { return linear_ref(x, true); }));
  t.push_back(spec(
      "linear_no_bias", {Dom::Normal, Dom::Normal},
      {{SL{{2, 3}, {4, 3}}}, {SL{{3}, {2, 3}}}, {SL{{2, 1, 3}, {2, 3}}}},
      [](const TensorList& x, const Params&) { return tg::linear(x[0], x[1]); },
      [linear_ref](const Refs& x, const Params&) { return linear_ref(x, false); }));
  for (bool log : {false, true}) {
    t.push_back(spec(
        log ? "log_softmax" : "softmax", {Dom::Normal},
        {{SL{{3, 4}}, ints(-1)}, {SL{{2, 3, 4}}, ints(1)}, {SL{{5}}, ints(0)}, {SL{{2, 3}}, ints(0)},
         {SL{{0, 3}}, ints(-1)}, {SL{{3, 1}}, ints(-1)}},
        [log](const TensorList& x, const Params& p) { return log ? tg::log_softmax(x[0], p.a) : tg::softmax(x[0], p.a); },
        [log](const Refs& x, const Params& p) { return softmax_ref(x[0], p.a, log); }));
    add_random_softmax(t.back());
  }
}

std::vector<OpSpec> build_table() {
  std::vector<OpSpec> t;
  add_unary(t);
  add_binary(t);
  add_comparisons(t);
  add_where(t);
  add_reductions(t);
  add_views(t);
  add_movement(t);
  add_linalg(t);
  add_conv_ops(t);
  add_nn_ops(t);
  add_sequence_ops(t);
  for (auto& s : t)
    if (s.name == "contiguous" || s.name == "clone") s.out_contiguous = true;
  return t;
}

}  // namespace

const std::vector<OpSpec>& op_table() {
  static const std::vector<OpSpec> table = build_table();
  return table;
}

void PrintTo(const OpSpec& spec, std::ostream* os) { *os << spec.name; }

std::vector<RefArg> draw_inputs(const OpSpec& spec, const Case& c, std::mt19937& rng) {
  if (c.shapes.size() != spec.args.size())
    throw std::invalid_argument(spec.name + ": case has " + std::to_string(c.shapes.size()) + " shapes for " +
                                std::to_string(spec.args.size()) + " inputs");
  int64_t n_distinct = 0;
  for (size_t i = 0; i < spec.args.size(); ++i)
    if (spec.args[i] == Dom::Distinct) n_distinct += count(c.shapes[i]);
  const std::vector<double> pool = distinct(rng, n_distinct, 0.1);
  size_t used = 0;

  std::vector<RefArg> out;
  for (size_t i = 0; i < spec.args.size(); ++i) {
    const int64_t n = count(c.shapes[i]);
    RefArg arg{c.shapes[i], {}};
    switch (spec.args[i]) {
      case Dom::Normal: arg.v = uniform(rng, n, -2, 2); break;
      case Dom::Positive: arg.v = uniform(rng, n, 0.5, 2.5); break;
      case Dom::NonZero: arg.v = away_from_zero(rng, n, 0.2, 2); break;
      case Dom::AboveMinusOne: arg.v = uniform(rng, n, -0.5, 2); break;
      case Dom::Distinct:
        arg.v.assign(pool.begin() + static_cast<std::ptrdiff_t>(used),
                     pool.begin() + static_cast<std::ptrdiff_t>(used + static_cast<size_t>(n)));
        used += static_cast<size_t>(n);
        break;
      case Dom::Discrete: arg.v = discrete(rng, n, {-1, -0.5, 0, 0.5, 1}); break;
      case Dom::Index: arg.v = integers(rng, n, 0, spec.index_high(c)); break;
      case Dom::Bool: arg.v = integers(rng, n, 0, 2); break;
    }
    out.push_back(std::move(arg));
  }
  return out;
}

OpSpec make_spec(std::string name, std::vector<Dom> args, std::vector<Case> cases, OpFn fn, RefFn ref) {
  OpSpec s;
  s.name = std::move(name);
  s.args = std::move(args);
  s.cases = std::move(cases);
  s.fn = std::move(fn);
  s.ref = std::move(ref);
  return s;
}

}  // namespace tgtest
