// Losses: cross_entropy (fused log_softmax + NLL with label smoothing), nll_loss, mse_loss and
// binary_cross_entropy_with_logits. VJPs are written with tensor ops, so grad-of-grad works.
#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/loss.h>
#include <tensorgrad/ops/movement.h>
#include <tensorgrad/ops/reduce.h>
#include <tensorgrad/ops/softmax.h>
#include <tensorgrad/ops/view.h>

#include "profiling.h"
#include "record.h"

namespace tg {

const char* reduction_name(Reduction reduction) {
  switch (reduction) {
    case Reduction::None: return "none";
    case Reduction::Mean: return "mean";
    case Reduction::Sum: return "sum";
  }
  return "?";
}

namespace {

void check_reduction(Reduction r, const char* op) {
  TG_CHECK(r == Reduction::None || r == Reduction::Mean || r == Reduction::Sum, op, ": invalid reduction value ",
           static_cast<int>(r));
}

void check_floating(const Tensor& t, const char* op, const char* what) {
  TG_CHECK(t.defined(), op, ": ", what, " is undefined");
  TG_CHECK(is_floating(t.dtype()), op, ": ", what, " must be a floating dtype (float32, float64, bfloat16, float16), got ", dtype_name(t.dtype()),
           " (shape ", t.shape(), ")");
}

Tensor reduce_loss(const Tensor& per_element, Reduction r) {
  switch (r) {
    case Reduction::None: return per_element;
    case Reduction::Mean: return mean(per_element);
    case Reduction::Sum: return sum(per_element);
  }
  return per_element;
}

// ---------------------------------------------------------------- class-index targets
// Class targets as tensors on the input's device, so the losses run as ops there: no loop over target values
// on the host. Only the count of counted targets (a scalar the reductions divide by) and, on bad input, the
// first offending target come back to the host.
struct ClassTargets {
  Tensor valid;  // bool [N]: the target is not ignore_index
  Tensor safe;   // int64 [N]: the target where valid, 0 where ignored (so it can index a row)
  int64_t n = 0, classes = 0;
  int64_t counted = 0;  // targets that are not ignore_index
};

// Checks input [N, C] (floating) against targets int64 [N] with values in [0, C) or ignore_index.
ClassTargets check_class_targets(const Tensor& input, const Tensor& targets, int64_t ignore_index, const char* op,
                                 const char* input_name) {
  check_floating(input, op, input_name);
  TG_CHECK(targets.defined(), op, ": targets is undefined");
  TG_CHECK(input.dim() == 2, op, ": ", input_name, " must be 2-D [N, C], got shape ", input.shape());
  TG_CHECK(targets.dtype() == DType::Int64, op, ": targets must be int64 class indices, got ",
           dtype_name(targets.dtype()), " (shape ", targets.shape(), ")");
  TG_CHECK(targets.dim() == 1, op, ": targets must be 1-D [N], got shape ", targets.shape(), " for ", input_name,
           " ", input.shape());
  TG_CHECK(targets.size(0) == input.size(0), op, ": ", input_name, " ", input.shape(), " and targets ",
           targets.shape(), " disagree on the batch size");
  ops::check_same_device(op, input, targets);
  NoGradGuard no_grad;
  NoTangentGuard no_tangent;
  ClassTargets t;
  t.n = input.size(0);
  t.classes = input.size(1);
  t.valid = ne(targets, Scalar(ignore_index));
  t.safe = where(t.valid, targets, Scalar(int64_t{0}));
  t.counted = t.n == 0 ? 0 : sum(t.valid).item<int64_t>();
  if (const int64_t i = ops::first_out_of_range(t.safe, 0, t.classes); i >= 0) {
    TG_FAIL(op, ": target ", targets.slice(0, i, i + 1).item<int64_t>(), " at position ", i, " is out of range for ",
            t.classes, " classes (", input_name, " ", input.shape(), "); targets must be in [0, ", t.classes,
            ") or equal ignore_index ", ignore_index);
  }
  return t;
}

// The target distribution as an [N, C] tensor: on_value at each target's class plus off_value everywhere
// in its row; rows of ignored targets are all zero. `row_mask`, when given, receives [N, 1] with 1 for
// counted rows and 0 for ignored ones.
Tensor target_weights(const ClassTargets& t, double on_value, double off_value, DType dtype,
                      Tensor* row_mask = nullptr) {
  NoGradGuard no_grad;
  NoTangentGuard no_tangent;
  const Tensor mask = unsqueeze(t.valid, 1).to(dtype);
  const Tensor hot = one_hot(t.safe, t.classes).to(dtype);
  if (row_mask) *row_mask = mask;
  return (hot * on_value + off_value) * mask;
}

// Per-row losses [N] (zero in ignored rows) reduced as asked; a mean divides by the counted rows (0 / 0 = NaN
// when none is counted, as in PyTorch).
Tensor reduce_rows(const Tensor& rows, int64_t counted, Reduction r) {
  switch (r) {
    case Reduction::None: return rows;
    case Reduction::Mean: return sum(rows) / Scalar(static_cast<double>(counted));
    case Reduction::Sum: return sum(rows);
  }
  return rows;
}

// The upstream gradient as a factor for [N, C] per-row gradients.
Tensor row_scale(const Tensor& g, Reduction r, int64_t counted) {
  switch (r) {
    case Reduction::None: return unsqueeze(g, 1);
    case Reduction::Mean: return g / Scalar(static_cast<double>(counted));
    case Reduction::Sum: return g;
  }
  return g;
}

// The tangent of a per-row loss (rows [N]) after the reduction.
Tensor reduce_row_tangent(const Tensor& rows, Reduction r, int64_t counted) {
  switch (r) {
    case Reduction::None: return rows;
    case Reduction::Mean: return sum(rows) / Scalar(static_cast<double>(counted));
    case Reduction::Sum: return sum(rows);
  }
  return rows;
}

// softplus(z) = log(1 + exp(z)), stable, with VJP g * sigmoid(z) (itself differentiable).
Tensor softplus_op(const Tensor& z) {
  Tensor out;
  {
    NoGradGuard no_grad;
    NoTangentGuard no_tangent;
    out = relu(z) + log1p(exp(-abs(z)));
  }
  if (ops::needs_tangent({z})) ops::push_tangent({z}, out, [&](const TensorList& t) { return t[0] * sigmoid(z); });
  if (ops::needs_grad({z})) {
    ops::record(
        "softplus", {z}, out,
        [](const Tensor& g, const TensorList& saved) -> TensorList { return {g * sigmoid(saved[0])}; }, {{z}});
  }
  return out;
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, const CrossEntropyOptions& options) {
  TG_PROFILE_OP("cross_entropy", logits, targets);
  const char* op = "tg::cross_entropy";
  check_reduction(options.reduction, op);
  const double eps = options.label_smoothing;
  TG_CHECK(eps >= 0.0 && eps <= 1.0, op, ": label_smoothing must be in [0, 1], got ", eps);
  const int64_t ignore = options.ignore_index;
  const ClassTargets t = check_class_targets(logits, targets, ignore, op, "logits");
  const int64_t n = t.n, c = t.classes;

  // Per-row loss: -(1 - eps) * logp[target] - eps / C * sum_c logp[c], read straight from the log_softmax rows
  // (no [N, C] product: a -inf logit in another class leaves an unsmoothed loss finite).
  Tensor logp, out;
  {
    NoGradGuard no_grad;
    NoTangentGuard no_tangent;
    logp = log_softmax(logits, 1);  // fresh and contiguous
    Tensor rows = -squeeze(gather(logp, 1, unsqueeze(t.safe, 1)), 1);
    if (eps > 0) rows = rows * (1.0 - eps) - sum(logp, {1}) * (eps / static_cast<double>(c));
    out = reduce_rows(where(t.valid, rows, Scalar(0.0)), t.counted, options.reduction);
  }
  if (ops::needs_tangent({logits})) {
    // d loss_i = sum_c (softmax(x_i) * (row weight sum) - w_i)_c * tx_ic, as in the VJP.
    ops::push_tangent({logits}, out, [&](const TensorList& tl) {
      Tensor mask;
      const bool any_ignored = t.counted < n;
      const Tensor w = target_weights(t, 1.0 - eps, eps / static_cast<double>(c), logits.dtype(),
                                      any_ignored ? &mask : nullptr);
      Tensor p = exp(logp);
      if (any_ignored) p = p * mask;
      return reduce_row_tangent(sum((p - w) * tl[0], {1}), options.reduction, t.counted);
    });
  }

  if (ops::needs_grad({logits})) {
    const Reduction r = options.reduction;
    const bool any_ignored = t.counted < n;
    // d loss_i / d x_i = softmax(x_i) * (sum of the row's target weights) - w_i, the weight sum being 1 for a
    // counted row and 0 for an ignored one. The log_softmax of the forward pass is saved (as PyTorch does), so
    // a plain backward takes softmax as one exp of it; a recorded backward (create_graph) needs softmax as a
    // function of the logits and recomputes it with the differentiable op.
    ops::record(
        "cross_entropy", {logits}, out,
        [t, eps, r, any_ignored](const Tensor& g, const TensorList& saved) -> TensorList {
          const Tensor& x = saved[0];
          Tensor mask;
          const Tensor w = target_weights(t, 1.0 - eps, eps / static_cast<double>(t.classes), x.dtype(),
                                          any_ignored ? &mask : nullptr);
          Tensor p = GradMode::enabled() || ops::has_tangent(x) ? softmax(x, 1) : exp(saved[1]);
          if (any_ignored) p = p * mask;
          return {(p - w) * row_scale(g, r, t.counted)};
        },
        {{logits, logp}});
  }
  return out;
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& targets, Reduction reduction, int64_t ignore_index) {
  TG_PROFILE_OP("nll_loss", log_probs, targets);
  const char* op = "tg::nll_loss";
  check_reduction(reduction, op);
  const ClassTargets t = check_class_targets(log_probs, targets, ignore_index, op, "log_probs");
  Tensor out;
  {
    NoGradGuard no_grad;
    NoTangentGuard no_tangent;
    const Tensor rows = -squeeze(gather(log_probs, 1, unsqueeze(t.safe, 1)), 1);
    out = reduce_rows(where(t.valid, rows, Scalar(0.0)), t.counted, reduction);
  }
  if (ops::needs_tangent({log_probs})) {
    ops::push_tangent({log_probs}, out, [&](const TensorList& tl) {
      const Tensor w = target_weights(t, -1.0, 0.0, log_probs.dtype());
      return reduce_row_tangent(sum(w * tl[0], {1}), reduction, t.counted);
    });
  }

  if (ops::needs_grad({log_probs})) {
    const DType dtype = log_probs.dtype();
    ops::record("nll_loss", {log_probs}, out,
                [t, reduction, dtype](const Tensor& g, const TensorList&) -> TensorList {
                  const Tensor w = target_weights(t, -1.0, 0.0, dtype);
                  return {w * row_scale(g, reduction, t.counted)};
                });
  }
  return out;
}

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  TG_PROFILE_OP("mse_loss", input, target);
  const char* op = "tg::mse_loss";
  check_reduction(reduction, op);
  check_floating(input, op, "input");
  check_floating(target, op, "target");
  TG_CHECK(input.shape() == target.shape(), op, ": input ", input.shape(), " and target ", target.shape(),
           " must have the same shape");
  return reduce_loss(square(input - target), reduction);
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& targets, Reduction reduction,
                                        const Tensor& pos_weight) {
  TG_PROFILE_OP("binary_cross_entropy_with_logits", logits, targets, pos_weight);
  const char* op = "tg::binary_cross_entropy_with_logits";
  check_reduction(reduction, op);
  check_floating(logits, op, "logits");
  check_floating(targets, op, "targets");
  TG_CHECK(logits.shape() == targets.shape(), op, ": logits ", logits.shape(), " and targets ", targets.shape(),
           " must have the same shape");
  const bool has_pw = pos_weight.defined();
  if (has_pw) {
    check_floating(pos_weight, op, "pos_weight");
    TG_CHECK(is_broadcastable_to(pos_weight.shape(), logits.shape()), op, ": pos_weight ", pos_weight.shape(),
             " does not broadcast to logits ", logits.shape());
  }

  Tensor out;
  {
    NoGradGuard no_grad;
    NoTangentGuard no_tangent;
    const Tensor& x = logits;
    const Tensor& y = targets;
    // log1p(exp(-|x|)) + max(-x, 0) = softplus(-x), never overflowing.
    const Tensor tail = log1p(exp(-abs(x)));
    if (!has_pw) {
      out = relu(x) - x * y + tail;
    } else {
      const Tensor log_weight = (pos_weight - 1.0) * y + 1.0;
      out = (1.0 - y) * x + log_weight * (relu(-x) + tail);
    }
  }

  TensorList inputs{logits, targets};
  if (has_pw) inputs.push_back(pos_weight);
  if (ops::needs_tangent(inputs)) {
    // The partials of the VJP below, applied to the tangents (the op is elementwise).
    ops::push_tangent(inputs, out, [&](const TensorList& tl) {
      const Tensor& x = logits;
      const Tensor& y = targets;
      if (!has_pw)
        return ops::sum_defined({tl[0].defined() ? tl[0] * (sigmoid(x) - y) : Tensor(), tl[1].defined() ? -(tl[1] * x) : Tensor()});
      const Tensor& pw = pos_weight;
      const Tensor sp = relu(x) - x + log1p(exp(-abs(x)));  // softplus(-x)
      return ops::sum_defined({tl[0].defined() ? tl[0] * (((pw - 1.0) * y + 1.0) * sigmoid(x) - pw * y) : Tensor(),
                               tl[1].defined() ? tl[1] * ((pw - 1.0) * sp - x) : Tensor(),
                               tl[2].defined() ? tl[2] * y * sp : Tensor()});
    });
  }
  if (ops::needs_grad(inputs)) {
    const bool want_x = logits.requires_grad(), want_y = targets.requires_grad();
    const bool want_pw = has_pw && pos_weight.requires_grad();
    // With lw = 1 + (pw - 1) y:  dL/dx = lw sigmoid(x) - pw y  (sigmoid(x) - y without pos_weight),
    // dL/dy = -x + (pw - 1) softplus(-x),  dL/dpw = y softplus(-x).
    ops::record(
        "binary_cross_entropy_with_logits", inputs, out,
        [has_pw, want_x, want_y, want_pw](const Tensor& g, const TensorList& saved) -> TensorList {
          const Tensor& x = saved[0];
          const Tensor& y = saved[1];
          TensorList grads(has_pw ? 3 : 2);
          if (!has_pw) {
            if (want_x) grads[0] = g * (sigmoid(x) - y);
            if (want_y) grads[1] = -(g * x);
            return grads;
          }
          const Tensor& pw = saved[2];
          if (want_x) grads[0] = g * (((pw - 1.0) * y + 1.0) * sigmoid(x) - pw * y);
          if (want_y || want_pw) {
            const Tensor sp = softplus_op(-x);
            if (want_y) grads[1] = g * ((pw - 1.0) * sp - x);
            if (want_pw) grads[2] = g * y * sp;
          }
          return grads;
        },
        {inputs});
  }
  return reduce_loss(out, reduction);
}

}  // namespace tg
