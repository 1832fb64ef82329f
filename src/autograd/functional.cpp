// The functional API: jvp, vjp, grad, value_and_grad, jacrev, jacfwd, hessian, hvp.
#include <tensorgrad/autograd/functional.h>

#include <tensorgrad/autograd/engine.h>
#include <tensorgrad/core/graph.h>
#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/movement.h>
#include <tensorgrad/ops/reduce.h>
#include <tensorgrad/ops/view.h>

namespace tg {

namespace {

// x cut from any graph, carrying `tangent` (cast to x's dtype).
Tensor dual(const Tensor& x, const Tensor& tangent, const char* op) {
  TG_CHECK(x.defined() && tangent.defined(), op, ": primal and tangent must be defined");
  TG_CHECK(is_floating(x.dtype()), op, ": a primal of dtype ", dtype_name(x.dtype()), " has no tangent (shape ",
           x.shape(), ")");
  TG_CHECK(tangent.shape() == x.shape(), op, ": tangent of shape ", tangent.shape(), " for a primal of shape ",
           x.shape());
  Tensor d = x.detach();
  d.set_tangent(to(tangent.detach(), x.dtype()));
  return d;
}

// The point at which reverse mode differentiates f: x itself when an outer reverse pass is being recorded
// through it (so the gradient stays a function of x), otherwise a fresh leaf carrying x's tangent.
struct ReversePoint {
  Tensor x;
  bool create_graph = false;
};

ReversePoint reverse_point(const Tensor& x, const char* op) {
  TG_CHECK(x.defined() && is_floating(x.dtype()), op, ": expected a floating input, got ",
           x.defined() ? dtype_name(x.dtype()) : "an undefined tensor");
  if (GradMode::enabled() && x.requires_grad()) return {x, true};
  Tensor leaf = x.detach();
  if (x.tangent().defined()) leaf.set_tangent(x.tangent());
  leaf.requires_grad_(true);
  return {leaf, false};
}

Tensor gradient_at(const Tensor& y, const ReversePoint& at, const Tensor& u, bool retain) {
  if (!y.requires_grad()) return zeros_like(at.x);  // f does not depend on x
  GradOptions options;
  options.create_graph = at.create_graph;
  options.retain_graph = retain;
  options.allow_unused = true;
  Tensor g = tg::grad(TensorList{y}, TensorList{at.x}, u.defined() ? TensorList{u} : TensorList{}, options)[0];
  return g.defined() ? g : zeros_like(at.x);
}

void check_scalar(const Tensor& y, const char* op) {
  TG_CHECK(y.defined() && y.numel() == 1, op, ": f must return a one-element tensor, got shape ",
           y.defined() ? y.shape() : Shape{});
}

// e_i shaped and typed like `like` (row-major position i).
Tensor basis_vector(const Tensor& like, int64_t i) {
  Tensor e = zeros({like.numel()}, DType::Float64);
  e.data<double>()[i] = 1.0;
  return reshape(to(e, like.dtype()), like.shape());
}

Shape concat_shapes(const Shape& a, const Shape& b) {
  Shape out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

}  // namespace

std::pair<Tensor, Tensor> jvp(const DifferentiableFn& f, const TensorList& primals, const TensorList& tangents) {
  TG_CHECK(primals.size() == tangents.size(), "tg::jvp: ", primals.size(), " primals but ", tangents.size(),
           " tangents");
  TensorList duals;
  for (size_t i = 0; i < primals.size(); ++i) duals.push_back(dual(primals[i], tangents[i], "tg::jvp"));
  const Tensor out = f(duals);
  TG_CHECK(out.defined(), "tg::jvp: f returned an undefined tensor");
  Tensor tangent = out.tangent();
  if (!tangent.defined()) tangent = zeros_like(out);  // f does not depend on the primals
  Tensor value = out.detach();
  if (out.requires_grad()) value = out;  // f closed over tensors that require grad: keep their graph
  value.set_tangent(Tensor());
  return {value, tangent};
}

std::pair<Tensor, Tensor> jvp(const TensorFn& f, const Tensor& x, const Tensor& v) {
  return jvp([&f](const TensorList& xs) { return f(xs[0]); }, TensorList{x}, TensorList{v});
}

VjpResult vjp(const TensorFn& f, const Tensor& x) {
  const ReversePoint at = reverse_point(x, "tg::vjp");
  Tensor y;
  {
    GradModeGuard grad_on(true);
    y = f(at.x);
  }
  TG_CHECK(y.defined(), "tg::vjp: f returned an undefined tensor");
  VjpResult r;
  r.value = at.create_graph ? y : y.detach();
  r.pullback = [y, at](const Tensor& u) {
    TG_CHECK(u.defined() && u.shape() == y.shape(), "tg::vjp: cotangent of shape ",
             u.defined() ? u.shape() : Shape{}, " for an output of shape ", y.shape());
    return gradient_at(y, at, u, /*retain=*/true);
  };
  return r;
}

std::pair<Tensor, Tensor> value_and_grad(const TensorFn& f, const Tensor& x) {
  const ReversePoint at = reverse_point(x, "tg::grad");
  Tensor y;
  {
    GradModeGuard grad_on(true);
    y = f(at.x);
  }
  check_scalar(y, "tg::grad");
  Tensor g = gradient_at(y, at, Tensor(), /*retain=*/false);
  return {at.create_graph ? y : y.detach(), g};
}

Tensor grad(const TensorFn& f, const Tensor& x) { return value_and_grad(f, x).second; }

Tensor jacrev(const TensorFn& f, const Tensor& x) {
  const VjpResult r = vjp(f, x);
  const int64_t m = r.value.numel();
  if (m == 0 || x.numel() == 0) return zeros(concat_shapes(r.value.shape(), x.shape()), x.dtype());
  TensorList rows;
  for (int64_t i = 0; i < m; ++i) rows.push_back(reshape(r.pullback(basis_vector(r.value, i)), {-1}));
  return reshape(stack(rows, 0), concat_shapes(r.value.shape(), x.shape()));
}

Tensor jacfwd(const TensorFn& f, const Tensor& x) {
  const int64_t n = x.numel();
  TensorList columns;
  Tensor value;
  for (int64_t j = 0; j < n; ++j) {
    auto [y, column] = jvp(f, x, basis_vector(x, j));
    value = y;
    columns.push_back(reshape(column, {-1}));
  }
  if (n == 0) value = f(x.detach());
  if (n == 0 || value.numel() == 0) return zeros(concat_shapes(value.shape(), x.shape()), x.dtype());
  return reshape(stack(columns, -1), concat_shapes(value.shape(), x.shape()));
}

Tensor hessian(const TensorFn& f, const Tensor& x) {
  return jacfwd([&f](const Tensor& xs) { return grad(f, xs); }, x);
}

Tensor hvp(const TensorFn& f, const Tensor& x, const Tensor& v, HvpMode mode) {
  TG_CHECK(v.defined() && v.shape() == x.shape(), "tg::hvp: direction of shape ", v.defined() ? v.shape() : Shape{},
           " for a point of shape ", x.shape());
  if (mode == HvpMode::ForwardOverReverse) return jvp([&f](const Tensor& xs) { return grad(f, xs); }, x, v).second;
  // Reverse over reverse: the gradient recorded as a function of x, then the gradient of <grad f, v>.
  Tensor leaf = x.detach();
  leaf.requires_grad_(true);
  GradModeGuard grad_on(true);
  const Tensor y = f(leaf);
  check_scalar(y, "tg::hvp");
  if (!y.requires_grad()) return zeros_like(x);
  GradOptions record;
  record.create_graph = true;
  record.allow_unused = true;
  const Tensor g = tg::grad(TensorList{y}, TensorList{leaf}, {}, record)[0];
  if (!g.defined() || !g.requires_grad()) return zeros_like(x);  // f is linear in x
  GradOptions second;
  second.allow_unused = true;
  const Tensor hv = tg::grad(TensorList{sum(g * to(v.detach(), x.dtype()))}, TensorList{leaf}, {}, second)[0];
  return hv.defined() ? hv : zeros_like(x);
}

}  // namespace tg
