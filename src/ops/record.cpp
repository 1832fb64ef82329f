#include "record.h"

#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/reduce.h>
#include <tensorgrad/ops/view.h>

namespace tg::ops {

bool needs_grad(std::initializer_list<Tensor> inputs) {
  if (!GradMode::enabled()) return false;
  for (const auto& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

bool needs_grad(const TensorList& inputs) {
  if (!GradMode::enabled()) return false;
  for (const auto& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

bool needs_tangent(std::initializer_list<Tensor> inputs) {
  if (!TangentMode::enabled()) return false;
  for (const auto& t : inputs)
    if (has_tangent(t)) return true;
  return false;
}

bool needs_tangent(const TensorList& inputs) {
  if (!TangentMode::enabled()) return false;
  for (const auto& t : inputs)
    if (has_tangent(t)) return true;
  return false;
}

void push_tangent(const TensorList& inputs, const Tensor& out, const JvpFn& jvp) {
  if (!is_floating(out.dtype())) return;  // integer and bool results have no derivative
  TensorList tangents;
  tangents.reserve(inputs.size());
  for (const auto& t : inputs) tangents.push_back(has_tangent(t) ? t.tangent() : Tensor());
  Tensor tangent;
  {
    NoTangentGuard no_tangent;
    tangent = jvp(tangents);
    if (!tangent.defined()) return;
    if (tangent.shape() != out.shape()) tangent = expand(tangent, out.shape());
    if (tangent.dtype() != out.dtype()) tangent = to(tangent, out.dtype());
  }
  out.set_tangent(tangent);
}

Tensor sum_defined(std::initializer_list<Tensor> terms) {
  Tensor total;
  for (const auto& t : terms) {
    if (!t.defined()) continue;
    total = total.defined() ? add(total, t) : t;
  }
  return total;
}

void record(const char* name, const TensorList& inputs, const Tensor& out, VjpFn vjp, SaveList save) {
  auto node = std::make_shared<FunctionNode>(name, std::move(vjp));
  node->reserve_edges(inputs.size());
  for (const auto& t : inputs) node->add_next_edge(gradient_edge(t), InputMeta{t.shape(), t.dtype()});
  for (const auto& t : save.inputs) node->save(t);
  auto& meta = out.impl().autograd_meta();
  TG_CHECK(is_floating(out.dtype()), "tg::", name, ": cannot record gradients for an output of dtype ",
           dtype_name(out.dtype()));
  meta.requires_grad = true;
  meta.grad_fn = node;
  meta.output_nr = 0;
  if (save.output) node->save(out, /*is_output=*/true);
}

void mark_view(const Tensor& out) {
  if (out.requires_grad()) out.impl().autograd_meta().is_view = true;
}

void check_same_device(const char* op, std::initializer_list<Tensor> tensors) {
  const Tensor* first = nullptr;
  for (const Tensor& t : tensors) {
    if (!t.defined()) continue;
    if (first == nullptr) first = &t;
    else
      TG_CHECK(t.device() == first->device(), op, ": expected all tensors on one device, got ", first->device(),
               " (shape ", first->shape(), ") and ", t.device(), " (shape ", t.shape(), "); move them with .to(device)");
  }
}

int64_t first_out_of_range(const Tensor& index, int64_t low, int64_t high) {
  if (index.numel() == 0) return -1;
  NoGradGuard no_grad;
  NoTangentGuard no_tangent;
  const Tensor flat = reshape(index, {-1});
  const Tensor bad = maximum(lt(flat, Scalar(low)), ge(flat, Scalar(high)));  // bool: or
  const int64_t first = argmax(bad.to(DType::Int64)).item<int64_t>();     // the first true one, or 0
  const int64_t v = flat.slice(0, first, first + 1).item<int64_t>();
  return v >= low && v < high ? -1 : first;
}

Tensor cast_raw(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  Tensor out = Tensor::empty(x.shape(), dtype, x.device());
  kernels::copy(x.shape(), arg(out), arg(x));
  return out;
}

}  // namespace tg::ops
