// sgd_update_ / adam_update_: checks, then one kernel call over contiguous buffers. A strided operand (rare:
// parameters, their gradients and zeros_like state are contiguous) is updated through a contiguous copy that
// is written back, so the rule still runs in the kernel alone.
#include <tensorgrad/ops/optimizer_update.h>

#include <vector>

#include <tensorgrad/ops/view.h>

#include "profiling.h"
#include "record.h"

namespace tg {

namespace {

struct Operand {
  Tensor* tensor;  // null or undefined: absent
  const char* name;
  bool written;
};

// Runs `kernel(args)` with contiguous stand-ins for strided operands, then writes those back and bumps the
// version of every written tensor.
template <class Kernel>
void run_update(const char* op, const std::vector<Operand>& operands, Kernel kernel) {
  const Tensor& param = *operands[0].tensor;
  TG_CHECK(param.defined(), op, ": the parameter is undefined");
  TG_CHECK(is_floating(param.dtype()), op, ": the parameter must be a floating dtype (float32, float64, bfloat16, float16), got ",
           dtype_name(param.dtype()), " (shape ", param.shape(), ")");
  TG_CHECK(!GradMode::enabled() || !param.requires_grad(), op, ": the parameter (shape ", param.shape(),
           ") requires grad; run the update under tg::NoGradGuard");
  std::vector<Tensor> dense(operands.size());
  std::vector<kernels::StridedArg> args(operands.size());
  for (size_t i = 0; i < operands.size(); ++i) {
    const Tensor* t = operands[i].tensor;
    if (t == nullptr || !t->defined()) continue;
    TG_CHECK(t->shape() == param.shape(), op, ": ", operands[i].name, " has shape ", t->shape(),
             " but the parameter has shape ", param.shape());
    TG_CHECK(t->dtype() == param.dtype(), op, ": ", operands[i].name, " is ", dtype_name(t->dtype()),
             " but the parameter is ", dtype_name(param.dtype()));
    TG_CHECK(t->device() == param.device(), op, ": ", operands[i].name, " is on ", t->device(),
             " but the parameter is on ", param.device());
    dense[i] = t->is_contiguous() ? *t : contiguous(t->detach());
    args[i] = ops::arg(dense[i]);
  }
  kernel(param.numel(), args);
  for (size_t i = 0; i < operands.size(); ++i) {
    Tensor* t = operands[i].tensor;
    if (t == nullptr || !t->defined() || !operands[i].written) continue;
    if (!dense[i].same(*t)) {
      NoGradGuard no_grad;
      t->copy_(dense[i]);  // bumps the version itself
    } else {
      t->storage()->bump_version();
    }
  }
}

}  // namespace

void sgd_update_(Tensor& param, const Tensor& grad, Tensor& momentum_buffer, const SgdCoefficients& c) {
  TG_PROFILE_OP("sgd_update_", param);
  TG_CHECK(grad.defined(), "tg::sgd_update_: the gradient is undefined");
  TG_CHECK(c.momentum == 0.0 || momentum_buffer.defined(), "tg::sgd_update_: momentum ", c.momentum,
           " needs a momentum buffer");
  Tensor g = grad;
  run_update("tg::sgd_update_",
             {{&param, "param", true}, {&g, "grad", false}, {c.momentum != 0.0 ? &momentum_buffer : nullptr,
                                                           "momentum_buffer", true}},
             [&](int64_t n, const std::vector<kernels::StridedArg>& a) { kernels::sgd_update(n, c, a[0], a[1], a[2]); });
}

void adam_update_(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq, Tensor& max_exp_avg_sq,
                  const AdamCoefficients& c) {
  TG_PROFILE_OP("adam_update_", param);
  TG_CHECK(grad.defined() && exp_avg.defined() && exp_avg_sq.defined(),
           "tg::adam_update_: the gradient, exp_avg and exp_avg_sq must all be defined");
  Tensor g = grad;
  run_update("tg::adam_update_",
             {{&param, "param", true},
              {&g, "grad", false},
              {&exp_avg, "exp_avg", true},
              {&exp_avg_sq, "exp_avg_sq", true},
              {&max_exp_avg_sq, "max_exp_avg_sq", true}},
             [&](int64_t n, const std::vector<kernels::StridedArg>& a) {
               kernels::adam_update(n, c, a[0], a[1], a[2], a[3], a[4]);
             });
}

}  // namespace tg
