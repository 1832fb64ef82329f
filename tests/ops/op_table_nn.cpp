// Op-spec table rows for the neural-network functional ops: losses, normalisation, dropout, embedding.
// References are direct loops on doubles; none calls a tg op.
#include <cmath>

#include "ops/op_table.h"

namespace tgtest {

namespace {

using tg::TensorList;

constexpr auto make = &make_spec;

// ---------------------------------------------------------------- reductions
// Params.a selects the reduction: 0 none, 1 mean, 2 sum.
tg::Reduction reduction_of(const Params& p) {
  return p.a == 0 ? tg::Reduction::None : p.a == 1 ? tg::Reduction::Mean : tg::Reduction::Sum;
}

// Reduces per-element losses; `divisor` is what Mean divides by.
RefArg reduce_ref(const RefArg& per_element, int64_t reduction, double divisor) {
  if (reduction == 0) return per_element;
  double s = 0;
  for (double v : per_element.v) s += v;
  return {Shape{}, {reduction == 2 ? s : s / divisor}};
}

Params loss_params(int64_t reduction, int64_t ignore_index = -100, double smoothing = 0) {
  Params p;
  p.a = reduction;
  p.b = ignore_index;
  p.s = smoothing;
  return p;
}

// ---------------------------------------------------------------- class-index losses
// x [N, C], targets [N]; Params.b = ignore_index, Params.s = label smoothing.
RefArg class_loss_ref(const RefArg& x, const RefArg& targets, const Params& p, bool from_logits) {
  const int64_t n = x.shape[0], c = x.shape[1];
  RefArg rows{{n}, std::vector<double>(at(n), 0.0)};
  int64_t counted = 0;
  for (int64_t i = 0; i < n; ++i) {
    const auto t = static_cast<int64_t>(targets.v[at(i)]);
    if (t == p.b) continue;
    ++counted;
    const double* row = x.v.data() + i * c;
    double lse = 0;
    if (from_logits) {
      double m = row[0];
      for (int64_t k = 1; k < c; ++k) m = std::max(m, row[k]);
      double s = 0;
      for (int64_t k = 0; k < c; ++k) s += std::exp(row[k] - m);
      lse = m + std::log(s);
    }
    // log-probability of class k
    auto logp = [&](int64_t k) { return row[k] - lse; };
    double smooth = 0;
    for (int64_t k = 0; k < c; ++k) smooth -= logp(k);
    rows.v[at(i)] = (1 - p.s) * -logp(t) + p.s / static_cast<double>(c) * smooth;
  }
  return reduce_ref(rows, p.a, static_cast<double>(counted));
}

std::function<int64_t(const Case&)> classes_high() {
  return [](const Case& c) { return c.shapes[0][1]; };
}

void add_cross_entropy(std::vector<OpSpec>& t) {
  // The first three small cases also run the second-order check.
  OpSpec s = make(
      "cross_entropy", {Dom::Normal, Dom::Index},
      {{SL{{4, 3}, {4}}, loss_params(1)},
       {SL{{5, 3}, {5}}, loss_params(2, -100, 0.1)},
       {SL{{6, 3}, {6}}, loss_params(0, 1, 0.2)},
       {SL{{8, 3}, {8}}, loss_params(1, 0)},
       {SL{{7, 4}, {7}}, loss_params(1, 2, 0.3)},
       {SL{{2, 5}, {2}}, loss_params(0)},
       {SL{{3, 1}, {3}}, loss_params(1, -100, 0.5)},
       {SL{{1, 6}, {1}}, loss_params(2, -100, 1.0)},
       {SL{{16, 10}, {16}}, loss_params(1, 3, 0.1)},
       {SL{{0, 3}, {0}}, loss_params(2)},
       {SL{{0, 3}, {0}}, loss_params(0)}},
      [](const TensorList& x, const Params& p) {
        return tg::cross_entropy(x[0], x[1], {.reduction = reduction_of(p), .label_smoothing = p.s, .ignore_index = p.b});
      },
      [](const Refs& x, const Params& p) { return class_loss_ref(x[0], x[1], p, true); });
  s.index_high = classes_high();
  t.push_back(s);
}

void add_nll_loss(std::vector<OpSpec>& t) {
  OpSpec s = make(
      "nll_loss", {Dom::Normal, Dom::Index},
      {{SL{{4, 3}, {4}}, loss_params(1)},
       {SL{{5, 4}, {5}}, loss_params(2)},
       {SL{{6, 3}, {6}}, loss_params(0, 2)},
       {SL{{8, 3}, {8}}, loss_params(1, 0)},
       {SL{{12, 7}, {12}}, loss_params(1)},
       {SL{{0, 2}, {0}}, loss_params(2)}},
      [](const TensorList& x, const Params& p) { return tg::nll_loss(x[0], x[1], reduction_of(p), p.b); },
      [](const Refs& x, const Params& p) { return class_loss_ref(x[0], x[1], p, false); });
  s.index_high = classes_high();
  t.push_back(s);
}

// ---------------------------------------------------------------- elementwise losses
void add_mse_loss(std::vector<OpSpec>& t) {
  t.push_back(make(
      "mse_loss", {Dom::Normal, Dom::Normal},
      {{SL{{3, 4}, {3, 4}}, loss_params(1)},
       {SL{{2, 3, 2}, {2, 3, 2}}, loss_params(2)},
       {SL{{5}, {5}}, loss_params(0)},
       {SL{Shape{}, Shape{}}, loss_params(1)},
       {SL{{6, 7}, {6, 7}}, loss_params(1)},
       {SL{{0, 3}, {0, 3}}, loss_params(2)},
       {SL{{0, 3}, {0, 3}}, loss_params(1)}},
      [](const TensorList& x, const Params& p) { return tg::mse_loss(x[0], x[1], reduction_of(p)); },
      [](const Refs& x, const Params& p) {
        RefArg sq = x[0];
        for (size_t i = 0; i < sq.v.size(); ++i) sq.v[i] = (x[0].v[i] - x[1].v[i]) * (x[0].v[i] - x[1].v[i]);
        return reduce_ref(sq, p.a, static_cast<double>(sq.v.size()));
      }));
}

// Params.variant 1: pass x[2] as pos_weight (broadcast against the logits); 0: no pos_weight.
void add_bce_with_logits(std::vector<OpSpec>& t) {
  auto with_pw = [](int64_t reduction, int pw) {
    Params p = loss_params(reduction);
    p.variant = pw;
    return p;
  };
  OpSpec s = make(
      "binary_cross_entropy_with_logits", {Dom::Normal, Dom::Normal, Dom::Positive},
      {{SL{{3, 4}, {3, 4}, {4}}, with_pw(1, 1)},
       {SL{{5}, {5}, {5}}, with_pw(0, 0)},
       {SL{{2, 3}, {2, 3}, {3}}, with_pw(2, 1)},
       {SL{{4, 2}, {4, 2}, {1}}, with_pw(0, 1)},
       {SL{{2, 2, 3}, {2, 2, 3}, {2, 1, 3}}, with_pw(1, 1)},
       {SL{{6, 5}, {6, 5}, {5}}, with_pw(1, 0)},
       {SL{Shape{}, Shape{}, Shape{}}, with_pw(2, 0)},
       {SL{{0, 3}, {0, 3}, {3}}, with_pw(2, 1)}},
      [](const TensorList& x, const Params& p) {
        return tg::binary_cross_entropy_with_logits(x[0], x[1], reduction_of(p), p.variant ? x[2] : Tensor());
      },
      [](const Refs& x, const Params& p) {
        RefArg loss = x[0];
        for (int64_t i = 0; i < count(loss.shape); ++i) {
          const double xi = x[0].v[at(i)], yi = x[1].v[at(i)];
          const double softplus_neg = std::max(-xi, 0.0) + std::log1p(std::exp(-std::abs(xi)));  // log(1 + e^-x)
          double pw = 1;
          if (p.variant) pw = x[2].v[at(broadcast_source(unravel(i, loss.shape), x[2].shape))];
          loss.v[at(i)] = (1 - yi) * xi + (1 + (pw - 1) * yi) * softplus_neg;
        }
        return reduce_ref(loss, p.a, static_cast<double>(loss.v.size()));
      });
  t.push_back(s);
}

// ---------------------------------------------------------------- normalisation
// Normalises x over the elements that share `group_of(i)`, then applies w / b picked by `param_of(i)`.
RefArg normalize_ref(const RefArg& x, const std::function<int64_t(int64_t)>& group_of, int64_t groups,
                     const RefArg* w, const RefArg* b, const std::function<int64_t(int64_t)>& param_of, double eps) {
  const int64_t n = count(x.shape);
  std::vector<double> sum(at(groups), 0.0), sq(at(groups), 0.0), cnt(at(groups), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    sum[at(group_of(i))] += x.v[at(i)];
    cnt[at(group_of(i))] += 1;
  }
  for (int64_t i = 0; i < n; ++i) {
    const int64_t g = group_of(i);
    const double d = x.v[at(i)] - sum[at(g)] / cnt[at(g)];
    sq[at(g)] += d * d;
  }
  RefArg out = x;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t g = group_of(i);
    const double mean = sum[at(g)] / cnt[at(g)], var = sq[at(g)] / cnt[at(g)];
    double y = (x.v[at(i)] - mean) / std::sqrt(var + eps);
    if (w) y *= w->v[at(param_of(i))];
    if (b) y += b->v[at(param_of(i))];
    out.v[at(i)] = y;
  }
  return out;
}

// Params.variant bit 0: pass weight; bit 1: pass bias. Params.s: eps (0 means the default 1e-5).
Params affine(int v, double eps = 0, Shape normalized = {}, int64_t training = 0) {
  Params p;
  p.variant = v;
  p.s = eps;
  p.shape = std::move(normalized);
  p.a = training;
  return p;
}
double eps_of(const Params& p) { return p.s > 0 ? p.s : 1e-5; }

void add_layer_norm(std::vector<OpSpec>& t) {
  OpSpec s = make(
      "layer_norm", {Dom::Normal, Dom::Normal, Dom::Normal},
      {{SL{{3, 4}, {4}, {4}}, affine(3, 0, {4})},
       {SL{{2, 3}, {3}, {3}}, affine(0, 0, {3})},
       {SL{{2, 2, 3}, {2, 3}, {2, 3}}, affine(1, 0, {2, 3})},
       {SL{{4, 3}, {3}, {3}}, affine(2, 0, {3})},
       {SL{{2, 3, 4}, {4}, {4}}, affine(3, 1e-3, {4})},
       {SL{{5}, {5}, {5}}, affine(3, 0, {5})},
       {SL{{5, 8}, {8}, {8}}, affine(3, 0, {8})},
       {SL{{2, 4, 3}, {4, 3}, {4, 3}}, affine(3, 0.1, {4, 3})},
       {SL{{3, 1}, {1}, {1}}, affine(3, 0, {1})},
       {SL{{0, 4}, {4}, {4}}, affine(3, 0, {4})}},
      [](const TensorList& x, const Params& p) {
        return tg::layer_norm(x[0], p.shape, p.variant & 1 ? x[1] : Tensor(), p.variant & 2 ? x[2] : Tensor(),
                              eps_of(p));
      },
      [](const Refs& x, const Params& p) {
        const int64_t group = count(p.shape);
        return normalize_ref(
            x[0], [group](int64_t i) { return i / group; }, group == 0 ? 0 : count(x[0].shape) / group,
            p.variant & 1 ? &x[1] : nullptr, p.variant & 2 ? &x[2] : nullptr,
            [group](int64_t i) { return i % group; }, eps_of(p));
      });
  s.f32_rtol = 1e-4;
  t.push_back(s);
}

// Fixed running statistics for channel c (buffers, so not table inputs: gradcheck would perturb them).
double running_mean_of(int64_t c) { return 0.3 * static_cast<double>(c) - 0.2; }
double running_var_of(int64_t c) { return 0.5 + 0.4 * static_cast<double>(c); }

// Params.a: training; Params.variant: weight / bias bits; Params.s: eps.
void add_batch_norm(std::vector<OpSpec>& t) {
  OpSpec s = make(
      "batch_norm", {Dom::Normal, Dom::Normal, Dom::Normal},
      {{SL{{4, 3}, {3}, {3}}, affine(3, 0, {}, 1)},
       {SL{{2, 3, 2}, {3}, {3}}, affine(0, 0, {}, 1)},
       {SL{{3, 2, 2}, {2}, {2}}, affine(1, 0, {}, 1)},
       {SL{{4, 3}, {3}, {3}}, affine(3, 0, {}, 0)},
       {SL{{2, 2, 3}, {2}, {2}}, affine(2, 0, {}, 0)},
       {SL{{3, 4}, {4}, {4}}, affine(2, 1e-3, {}, 1)},
       {SL{{2, 2, 2, 2}, {2}, {2}}, affine(3, 0, {}, 1)},
       {SL{{5, 2, 2, 2}, {2}, {2}}, affine(3, 0, {}, 1)},
       {SL{{3, 2, 5}, {2}, {2}}, affine(0, 0.1, {}, 0)}},
      [](const TensorList& x, const Params& p) {
        const int64_t c = x[0].size(1);
        std::vector<double> mean_values, var_values;
        for (int64_t k = 0; k < c; ++k) {
          mean_values.push_back(running_mean_of(k));
          var_values.push_back(running_var_of(k));
        }
        const Tensor rm = make_tensor({c}, mean_values, x[0].dtype());
        const Tensor rv = make_tensor({c}, var_values, x[0].dtype());
        return tg::batch_norm(x[0], rm, rv, p.variant & 1 ? x[1] : Tensor(), p.variant & 2 ? x[2] : Tensor(),
                              p.a != 0, 0.1, eps_of(p));
      },
      [](const Refs& x, const Params& p) {
        const Shape& shape = x[0].shape;
        const int64_t c = shape[1];
        int64_t inner = 1;
        for (size_t d = 2; d < shape.size(); ++d) inner *= shape[d];
        auto channel = [c, inner](int64_t i) { return (i / inner) % c; };
        const RefArg* w = p.variant & 1 ? &x[1] : nullptr;
        const RefArg* b = p.variant & 2 ? &x[2] : nullptr;
        if (p.a != 0) return normalize_ref(x[0], channel, c, w, b, channel, eps_of(p));
        RefArg out = x[0];
        for (int64_t i = 0; i < count(shape); ++i) {
          const int64_t k = channel(i);
          double y = (out.v[at(i)] - running_mean_of(k)) / std::sqrt(running_var_of(k) + eps_of(p));
          if (w) y *= w->v[at(k)];
          if (b) y += b->v[at(k)];
          out.v[at(i)] = y;
        }
        return out;
      });
  s.f32_rtol = 1e-4;
  t.push_back(s);
}

// ---------------------------------------------------------------- dropout
// Re-seeded on every call (a fresh generator with seed 1000 + Params.b), so the op is a deterministic
// function of x and finite differences apply. The reference rebuilds the documented mask: element i is kept
// when the uniform float of draw i % 4 of Philox block i / 4 is >= p. Params.a: training; Params.s: p.
void add_dropout(std::vector<OpSpec>& t) {
  auto dp = [](double prob, int64_t training, int64_t seed) {
    Params p;
    p.s = prob;
    p.a = training;
    p.b = seed;
    return p;
  };
  t.push_back(make(
      "dropout", {Dom::Normal},
      {{SL{{4, 5}}, dp(0.5, 1, 1)},
       {SL{{3, 4}}, dp(0.2, 1, 2)},
       {SL{{2, 3, 4}}, dp(0.7, 1, 3)},
       {SL{{5}}, dp(0.0, 1, 4)},
       {SL{{3, 4}}, dp(0.5, 0, 5)},
       {SL{{2, 3}}, dp(1.0, 1, 6)},
       {SL{{7}}, dp(0.5, 1, 7)},
       {SL{{8, 9}}, dp(0.3, 1, 8)},
       {SL{{0, 3}}, dp(0.5, 1, 9)}},
      [](const TensorList& x, const Params& p) {
        tg::Generator gen(1000 + static_cast<uint64_t>(p.b));
        return tg::dropout(x[0], p.s, p.a != 0, gen);
      },
      [](const Refs& x, const Params& p) {
        RefArg out = x[0];
        if (p.a == 0 || p.s == 0) return out;
        const uint64_t seed = 1000 + static_cast<uint64_t>(p.b);
        for (size_t i = 0; i < out.v.size(); ++i) {
          const uint64_t block = i / 4;
          const auto bits = tg::philox4x32({static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), 0, 0},
                                           {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)});
          const bool keep = p.s < 1 && static_cast<double>(tg::uniform_float(bits[i % 4])) >= p.s;
          out.v[i] = keep ? x[0].v[i] / (1 - p.s) : 0.0;
        }
        return out;
      }));
}

// ---------------------------------------------------------------- embedding
void add_embedding(std::vector<OpSpec>& t) {
  OpSpec s = make(
      "embedding", {Dom::Normal, Dom::Index},
      {{SL{{5, 3}, {4}}}, {SL{{4, 2}, {2, 3}}}, {SL{{6, 2}, Shape{}}}, {SL{{2, 3}, {3, 2, 2}}},
       {SL{{3, 4}, {0}}}, {SL{{1, 5}, {2, 2}}}, {SL{{10, 4}, {3, 3}}}},
      [](const TensorList& x, const Params&) { return tg::embedding(x[0], x[1]); },
      [](const Refs& x, const Params&) {
        const int64_t d = x[0].shape[1];
        Shape shape = x[1].shape;
        shape.push_back(d);
        return generate(shape, [&](const Index& i) {
          const Index pos(i.begin(), i.end() - 1);
          const auto row = static_cast<int64_t>(x[1].v[at(ravel(pos, x[1].shape))]);
          return x[0].v[at(row * d + i.back())];
        });
      });
  s.index_high = [](const Case& c) { return c.shapes[0][0]; };
  t.push_back(s);
}

}  // namespace

void add_nn_ops(std::vector<OpSpec>& table) {
  add_cross_entropy(table);
  add_nll_loss(table);
  add_mse_loss(table);
  add_bce_with_logits(table);
  add_layer_norm(table);
  add_batch_norm(table);
  add_dropout(table);
  add_embedding(table);
}

}  // namespace tgtest
