// In-place ops. Outside autograd they write straight into the tensor's storage. When the write must be
// recorded, the new value is computed out of place from a clone of the old one (so nodes that saved the
// old value still see it), written into the storage, and the tensor's history is rebased onto the new node.
// Every write bumps the storage's version counter, which is how backward detects a saved tensor that changed.
#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/view.h>

#include "profiling.h"
#include "record.h"

namespace tg {

namespace {

void check_writable(const Tensor& self, const char* op, bool records) {
  if (!records) return;
  TG_CHECK(!(self.is_leaf() && self.requires_grad()), "tg::", op, ": a leaf tensor that requires grad (shape ",
           self.shape(), ") is used in an in-place operation; wrap the update in tg::NoGradGuard");
  TG_CHECK(!(self.impl().autograd && self.impl().autograd->is_view), "tg::", op,
           ": in-place modification of a view of a tensor that requires grad is not supported (shape ",
           self.shape(), "); clone() it first");
}

void check_result_fits(const Tensor& self, const Tensor& value, const char* op) {
  TG_CHECK(is_broadcastable_to(value.shape(), self.shape()), "tg::", op, ": a value of shape ", value.shape(),
           " cannot be written into a tensor of shape ", self.shape());
  const DType result = promote_types(self.dtype(), value.dtype());
  TG_CHECK(result == self.dtype() || (is_floating(self.dtype()) && is_floating(value.dtype())), "tg::", op,
           ": the result has dtype ", dtype_name(result), ", which cannot be written into a ", dtype_name(self.dtype()),
           " tensor");
}

// Writes `value` (already computed, broadcastable to self) into self's storage and takes over its history.
void assign(Tensor& self, const Tensor& value, bool records) {
  // A value that aliases self (x.add_(x.t())) is copied first, so the write cannot read what it just wrote.
  const Tensor src = value.storage() == self.storage() ? clone(value.detach()) : value;
  kernels::copy(self.shape(), ops::arg(self), ops::arg(src, self.shape()));
  self.storage()->bump_version();
  if (!records) return;
  auto& meta = self.impl().autograd_meta();
  meta.requires_grad = value.requires_grad();
  meta.grad_fn = value.grad_fn();
  meta.output_nr = value.output_nr();
}

// `detached` (self cut from the graph) carrying self's tangent, so the new value's tangent includes it.
Tensor with_tangent_of(const Tensor& self, Tensor detached) {
  if (ops::has_tangent(self)) detached.set_tangent(self.tangent());
  return detached;
}

// After the write, self's tangent is the new value's (none when the value has none, as after fill_).
void take_tangent(const Tensor& self, const Tensor& value) {
  if (!ops::has_tangent(value)) {
    self.set_tangent(Tensor());
    return;
  }
  NoTangentGuard no_tangent;
  self.set_tangent(contiguous(expand(to(value.tangent(), self.dtype()), self.shape())));
}

// The common path of every in-place op: `compute(old_value)` is the new value, recorded when needed.
template <class F>
Tensor& apply_inplace(Tensor& self, const char* op, std::initializer_list<Tensor> others, F compute) {
  TG_PROFILE_OP(op, self, TensorList(others));
  TensorList inputs{self};
  inputs.insert(inputs.end(), others.begin(), others.end());
  const bool records = ops::needs_grad(inputs);
  const bool tangents = ops::needs_tangent(inputs);
  check_writable(self, op, records);
  if (!records) {
    NoGradGuard no_grad;
    const Tensor value = compute(tangents ? with_tangent_of(self, self.detach()) : self.detach());
    check_result_fits(self, value, op);
    assign(self, value, false);
    if (tangents) take_tangent(self, value);
    return self;
  }
  const Tensor value = compute(self.requires_grad() ? clone(self) : with_tangent_of(self, self.detach()));
  check_result_fits(self, value, op);
  assign(self, expand(to(value, self.dtype()), self.shape()), true);
  if (tangents) take_tangent(self, value);
  return self;
}

}  // namespace

Tensor& Tensor::add_(const Tensor& other, double alpha) {
  return apply_inplace(*this, "add_", {other}, [&](const Tensor& old) {
    return alpha == 1.0 ? add(old, other) : add(old, mul(other, alpha));
  });
}

Tensor& Tensor::sub_(const Tensor& other, double alpha) {
  return apply_inplace(*this, "sub_", {other}, [&](const Tensor& old) {
    return alpha == 1.0 ? sub(old, other) : sub(old, mul(other, alpha));
  });
}

Tensor& Tensor::mul_(const Tensor& other) {
  return apply_inplace(*this, "mul_", {other}, [&](const Tensor& old) { return mul(old, other); });
}

Tensor& Tensor::mul_(double value) {
  return apply_inplace(*this, "mul_", {}, [&](const Tensor& old) { return mul(old, value); });
}

Tensor& Tensor::div_(const Tensor& other) {
  return apply_inplace(*this, "div_", {other}, [&](const Tensor& old) { return div(old, other); });
}

Tensor& Tensor::fill_(double value) {
  // The old value no longer matters: its gradient is zero, which old * 0 expresses within the graph.
  return apply_inplace(*this, "fill_", {}, [&](const Tensor& old) {
    return old.requires_grad() ? add(mul(old, 0.0), value) : full({}, value, old.dtype(), old.device());
  });
}

Tensor& Tensor::zero_() { return fill_(0.0); }

Tensor& Tensor::copy_(const Tensor& src) {
  return apply_inplace(*this, "copy_", {src}, [&](const Tensor& old) {
    const Tensor cast = tg::to(src, old.dtype());
    return old.requires_grad() ? add(mul(old, 0.0), cast) : cast;
  });
}

}  // namespace tg
