// Autograd from Python: grad mode, backward and grad over lists, the functional API (jvp, vjp, hvp, jacrev,
// jacfwd, hessian, Hutchinson), checkpointing and custom functions whose forward and backward are Python.
#include "bindings.h"
#include "gil.h"

namespace tg::python {

namespace {

TensorList tensors_or_empty(const py::object& value) {
  if (value.is_none()) return {};
  if (py::isinstance<Tensor>(value)) return {value.cast<Tensor>()};
  TensorList out;
  for (const auto& item : value) out.push_back(item.is_none() ? Tensor() : item.cast<Tensor>());
  return out;
}

py::object none_if_undefined(const Tensor& t) { return t.defined() ? py::cast(t) : py::none(); }

py::list list_with_nones(const TensorList& ts) {
  py::list out;
  for (const auto& t : ts) out.append(none_if_undefined(t));
  return out;
}

// A Python function of one or more tensors as the C++ DifferentiableFn (a list of tensors -> a tensor).
DifferentiableFn differentiable(py::function f) {
  auto fn = share_with_gil(std::move(f));
  return [fn](const TensorList& inputs) {
    py::gil_scoped_acquire gil;
    py::tuple args(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) args[i] = py::cast(inputs[i]);
    return (*fn)(*args).cast<Tensor>();
  };
}

// A Python function of one tensor as the C++ TensorFn.
TensorFn tensor_fn(py::function f) {
  auto fn = share_with_gil(std::move(f));
  return [fn](const Tensor& t) {
    py::gil_scoped_acquire gil;
    return (*fn)(t).cast<Tensor>();
  };
}

HvpMode hvp_mode(const std::string& mode) {
  if (mode == "forward_over_reverse") return HvpMode::ForwardOverReverse;
  if (mode == "reverse_over_reverse") return HvpMode::ReverseOverReverse;
  throw py::value_error("hvp: mode must be 'forward_over_reverse' or 'reverse_over_reverse', got '" + mode + "'");
}

}  // namespace

void bind_autograd(py::module_& m, py::module_& ag) {
  ag.def("is_grad_enabled", &GradMode::enabled);
  ag.def("set_grad_enabled", &GradMode::set_enabled, py::arg("enabled"),
         "Turns recording for backward on or off on this thread (tensorgrad.no_grad() wraps it).");
  ag.def("is_forward_enabled", &TangentMode::enabled);
  ag.def("set_forward_enabled", &TangentMode::set_enabled, py::arg("enabled"));
  ag.def("backward", [](const py::object& tensors, const py::object& grads, bool retain_graph, bool create_graph) {
           TensorList outs = tensors_or_empty(tensors), gs = tensors_or_empty(grads);
           py::gil_scoped_release release;
           backward(outs, gs, retain_graph, create_graph);
         },
         py::arg("tensors"), py::arg("grad_tensors") = py::none(), py::arg("retain_graph") = false,
         py::arg("create_graph") = false);
  ag.def("grad", [](const py::object& outputs, const py::object& inputs, const py::object& grad_outputs,
                    const py::object& retain_graph, bool create_graph, bool allow_unused) {
           TensorList outs = tensors_or_empty(outputs), ins = tensors_or_empty(inputs), gs = tensors_or_empty(grad_outputs);
           GradOptions o;
           o.create_graph = create_graph;
           o.retain_graph = retain_graph.is_none() ? create_graph : retain_graph.cast<bool>();
           o.allow_unused = allow_unused;
           TensorList got;
           {
             py::gil_scoped_release release;
             got = grad(outs, ins, gs, o);
           }
           return py::tuple(list_with_nones(got));
         },
         py::arg("outputs"), py::arg("inputs"), py::arg("grad_outputs") = py::none(), py::arg("retain_graph") = py::none(),
         py::arg("create_graph") = false, py::arg("allow_unused") = false,
         "The gradients of the outputs with respect to the inputs, as a tuple (torch.autograd.grad).");

  // ---- the functional API: f is a Python function of tensors ----
  ag.def("jvp", [](py::function f, const py::object& primals, const py::object& tangents) {
           auto [out, tangent] = jvp(differentiable(std::move(f)), tensors_or_empty(primals), tensors_or_empty(tangents));
           return py::make_tuple(out, none_if_undefined(tangent));
         },
         py::arg("func"), py::arg("inputs"), py::arg("v"),
         "(f(inputs), J v): one forward pass carrying tangents (forward mode).");
  ag.def("vjp", [](py::function f, const Tensor& x, const py::object& v) {
           VjpResult r = vjp(tensor_fn(std::move(f)), x);
           Tensor u = v.is_none() ? ones_like(r.value) : v.cast<Tensor>();
           return py::make_tuple(r.value, r.pullback(u));
         },
         py::arg("func"), py::arg("inputs"), py::arg("v") = py::none(), "(f(x), v^T J), v defaulting to ones.");
  ag.def("hvp", [](py::function f, const Tensor& x, const Tensor& v, const std::string& mode) {
           return hvp(tensor_fn(std::move(f)), x, v, hvp_mode(mode));
         },
         py::arg("func"), py::arg("inputs"), py::arg("v"), py::arg("mode") = "forward_over_reverse",
         "The Hessian of the scalar f at x times v, without forming the Hessian.");
  ag.def("jacrev", [](py::function f, const Tensor& x) { return jacrev(tensor_fn(std::move(f)), x); },
         py::arg("func"), py::arg("inputs"), "The Jacobian, one reverse pass per output element.");
  ag.def("jacfwd", [](py::function f, const Tensor& x) { return jacfwd(tensor_fn(std::move(f)), x); },
         py::arg("func"), py::arg("inputs"), "The Jacobian, one forward pass per input element.");
  ag.def("hessian", [](py::function f, const Tensor& x) { return hessian(tensor_fn(std::move(f)), x); },
         py::arg("func"), py::arg("inputs"), "The Hessian of a scalar function (forward over reverse).");
  ag.def("hessian_trace", [](py::function f, const Tensor& x, int64_t samples, uint64_t seed) {
           Generator gen(seed);
           TraceEstimate e = hessian_trace(tensor_fn(std::move(f)), x, samples, gen);
           return py::make_tuple(e.estimate, e.standard_error);
         },
         py::arg("func"), py::arg("inputs"), py::arg("samples") = 64, py::arg("seed") = 0,
         "Hutchinson's estimate of tr(H) and its standard error, from Rademacher probes.");
  ag.def("gradcheck", [](py::function f, const py::object& inputs, double eps, double atol, double rtol) {
           GradcheckResult r = gradcheck(differentiable(std::move(f)), tensors_or_empty(inputs), {eps, atol, rtol});
           if (!r.ok) throw py::value_error("gradcheck failed: " + r.message);
           return true;
         },
         py::arg("func"), py::arg("inputs"), py::arg("eps") = 1e-6, py::arg("atol") = 1e-5, py::arg("rtol") = 1e-3,
         "Compares the analytic Jacobian with central differences (use float64 inputs); raises on a mismatch.");
  ag.def("checkpoint", [](py::function f, const py::object& inputs, const py::object& params) {
           return checkpoint(differentiable(std::move(f)), tensors_or_empty(inputs), tensors_or_empty(params));
         },
         py::arg("function"), py::arg("inputs"), py::arg("params") = py::none(),
         "f(*inputs) without keeping its intermediate values: they are recomputed during backward.");

  // ---- custom functions: forward(inputs) -> (output, saved), backward(grad, saved) -> grads ----
  ag.def("custom_function", [](const std::string& name, const std::vector<Tensor>& inputs, py::function forward,
                               py::function backward) {
           auto fwd = share_with_gil(std::move(forward));
           auto bwd = share_with_gil(std::move(backward));
           return custom_function(
               name, inputs,
               [fwd](const TensorList& in) {
                 py::gil_scoped_acquire gil;
                 py::tuple r = (*fwd)(in);
                 return CustomForwardResult{r[0].cast<Tensor>(), tensors_or_empty(r[1])};
               },
               [bwd, name](const Tensor& g, const TensorList& saved) {
                 py::gil_scoped_acquire gil;
                 py::object r = (*bwd)(g, list_with_nones(saved));
                 return tensors_or_empty(r);
               });
         },
         py::arg("name"), py::arg("inputs"), py::arg("forward"), py::arg("backward"));
  (void)m;
}

}  // namespace tg::python
