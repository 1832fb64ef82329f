// ctc_loss: shape and dtype checks, the per-sample losses (and, when a gradient or tangent is wanted, their
// closed-form gradient) from the ctc kernel, then zero_infinity and the reduction as ordinary ops.
#include <tensorgrad/ops/ctc.h>

#include <cmath>
#include <limits>

#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/reduce.h>
#include <tensorgrad/ops/view.h>

#include "profiling.h"
#include "record.h"

namespace tg {

namespace {

void check_lengths(const Tensor& lengths, int64_t batch, const char* name) {
  TG_CHECK(lengths.defined() && lengths.dtype() == DType::Int64 && lengths.dim() == 1 && lengths.size(0) == batch,
           "tg::ctc_loss: ", name, " must be int64 [N] with N = ", batch, ", got ",
           lengths.defined() ? dtype_name(lengths.dtype()) : "undefined", " ",
           lengths.defined() ? lengths.shape() : Shape{});
}

}  // namespace

Tensor ctc_loss(const Tensor& log_probs, const Tensor& targets, const Tensor& input_lengths,
                const Tensor& target_lengths, const CtcLossOptions& options) {
  TG_PROFILE_OP("ctc_loss", log_probs, targets);
  const char* op = "tg::ctc_loss";
  TG_CHECK(log_probs.defined() && log_probs.dim() == 3 && is_floating(log_probs.dtype()), op,
           ": log_probs must be float [T, N, C], got ", log_probs.defined() ? dtype_name(log_probs.dtype()) : "undefined",
           " ", log_probs.defined() ? log_probs.shape() : Shape{});
  const int64_t T = log_probs.size(0), N = log_probs.size(1), C = log_probs.size(2);
  TG_CHECK(targets.defined() && targets.dtype() == DType::Int64 && (targets.dim() == 1 || targets.dim() == 2), op,
           ": targets must be int64 [N, S] (padded) or 1-D (concatenated), got ",
           targets.defined() ? dtype_name(targets.dtype()) : "undefined", " ", targets.defined() ? targets.shape() : Shape{});
  TG_CHECK(targets.dim() == 1 || targets.size(0) == N, op, ": targets ", targets.shape(), " and log_probs ",
           log_probs.shape(), " disagree on the batch size");
  check_lengths(input_lengths, N, "input_lengths");
  check_lengths(target_lengths, N, "target_lengths");
  TG_CHECK(options.blank >= 0 && options.blank < C, op, ": blank ", options.blank, " is not a class of [0, ", C, ")");
  TG_CHECK(options.reduction == Reduction::None || options.reduction == Reduction::Mean ||
               options.reduction == Reduction::Sum,
           op, ": invalid reduction value ", static_cast<int>(options.reduction));
  ops::check_same_device(op, {log_probs, targets, input_lengths, target_lengths});

  const bool wants_grad = ops::needs_grad({log_probs}), wants_tangent = ops::needs_tangent({log_probs});
  const kernels::CtcProblem problem{.time = T, .batch = N, .classes = C,
                                    .max_target = targets.dim() == 2 ? targets.size(1) : targets.size(0),
                                    .concatenated = targets.dim() == 1, .blank = options.blank};
  Tensor nll = Tensor::empty({N}, log_probs.dtype(), log_probs.device());
  Tensor grad;  // d nll[n] / d log_probs, [T, N, C]
  if (wants_grad || wants_tangent) grad = Tensor::empty({T, N, C}, log_probs.dtype(), log_probs.device());
  kernels::ctc_loss(problem, ops::arg(log_probs), ops::arg(targets), ops::arg(input_lengths), ops::arg(target_lengths),
                    ops::arg(nll), ops::arg_or_none(grad));

  Tensor per_sample;
  {
    NoGradGuard no_grad;
    NoTangentGuard no_tangent;
    per_sample = nll;
    if (options.zero_infinity) {
      const Tensor impossible = eq(nll, Scalar(std::numeric_limits<double>::infinity()));
      per_sample = where(impossible, Scalar(0.0), nll);
      if (grad.defined()) grad = where(unsqueeze(unsqueeze(impossible, 0), 2), Scalar(0.0), grad);
    }
  }
  if (wants_tangent)
    ops::push_tangent({log_probs}, per_sample, [&](const TensorList& t) { return sum(grad * t[0], {0, 2}); });
  if (wants_grad) {
    ops::record(
        "ctc_loss", {log_probs}, per_sample,
        [](const Tensor& g, const TensorList& saved) -> TensorList {
          Tensor dx;
          {
            NoGradGuard no_grad;
            dx = saved[0] * unsqueeze(unsqueeze(g, 0), 2);
          }
          // A recorded backward (create_graph) works, but differentiating it again would need the derivative
          // of the recursion itself: that node says so instead of giving a silently wrong zero.
          const Tensor& x = saved[1];
          if (ops::needs_grad({g, x}))
            ops::record("ctc_loss_backward", {g, x}, dx, [](const Tensor&, const TensorList&) -> TensorList {
              TG_FAIL("tg::ctc_loss: second-order gradients are not supported (its gradient is computed in closed "
                      "form by the alpha-beta recursion)");
            });
          return {dx};
        },
        {{grad, log_probs}});
  }
  switch (options.reduction) {
    case Reduction::None: return per_sample;
    case Reduction::Sum: return sum(per_sample);
    case Reduction::Mean: break;
  }
  const Tensor divisor = maximum(target_lengths, Scalar(int64_t{1})).to(per_sample.dtype());
  return mean(per_sample / divisor);
}

}  // namespace tg
