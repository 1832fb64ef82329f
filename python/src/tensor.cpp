// tensorgrad.Tensor: properties, autograd state, operators and methods. Each op that is both a function
// (tensorgrad.exp(x)) and a method (x.exp()) is listed once and bound twice.
#include <sstream>

#include "bindings.h"
#include "gil.h"

namespace tg::python {

namespace {

using UnaryFn = Tensor (*)(const Tensor&);
struct UnaryOp {
  const char* name;
  UnaryFn fn;
};
// Elementwise functions of one tensor: tensorgrad.<name>(x) and x.<name>().
const UnaryOp kUnaryOps[] = {
    {"neg", &tg::neg},         {"abs", &tg::abs},         {"exp", &tg::exp},         {"log", &tg::log},
    {"log1p", &tg::log1p},     {"sqrt", &tg::sqrt},       {"rsqrt", &tg::rsqrt},     {"sin", &tg::sin},
    {"cos", &tg::cos},         {"tanh", &tg::tanh},       {"sigmoid", &tg::sigmoid}, {"relu", &tg::relu},
    {"gelu", &tg::gelu},       {"silu", &tg::silu},       {"square", &tg::square},   {"reciprocal", &tg::reciprocal},
    {"sign", &tg::sign},       {"erf", &tg::erf},         {"floor", &tg::floor},     {"ceil", &tg::ceil},
    {"round", &tg::round},
};

using BinaryFn = Tensor (*)(const Tensor&, const Tensor&);
using BinaryScalarFn = Tensor (*)(const Tensor&, Scalar);
struct BinaryOp {
  const char* name;
  BinaryFn tensor_fn;
  BinaryScalarFn scalar_fn;
};
const BinaryOp kBinaryOps[] = {
    {"add", &tg::add, &tg::add},         {"sub", &tg::sub, &tg::sub},         {"mul", &tg::mul, &tg::mul},
    {"div", &tg::div, &tg::div},         {"pow", &tg::pow, &tg::pow},         {"maximum", &tg::maximum, &tg::maximum},
    {"minimum", &tg::minimum, &tg::minimum}, {"eq", &tg::eq, &tg::eq},     {"ne", &tg::ne, &tg::ne},
    {"lt", &tg::lt, &tg::lt},            {"le", &tg::le, &tg::le},            {"gt", &tg::gt, &tg::gt},
    {"ge", &tg::ge, &tg::ge},
};

// a <op> b where b is a Tensor or a Python number (one binding, no overload resolution: a tiny op's cost).
template <BinaryFn TensorFn, BinaryScalarFn ScalarFn>
Tensor binary(const Tensor& a, const py::handle& b) {
  if (py::isinstance<Tensor>(b)) return TensorFn(a, py::cast<const Tensor&>(b));
  return ScalarFn(a, scalar_from(b, "tensorgrad.Tensor"));
}
// b <op> a, for the reflected operators (2 - x).
template <BinaryFn TensorFn>
Tensor reflected(const Tensor& a, const py::handle& b) {
  return TensorFn(tensor_or_scalar(b, a, "tensorgrad.Tensor"), a);
}

Tensor binary_any(const BinaryOp& op, const Tensor& a, const py::handle& b) {
  if (py::isinstance<Tensor>(b)) return op.tensor_fn(a, py::cast<const Tensor&>(b));
  return op.scalar_fn(a, scalar_from(b, op.name));
}

// An in-place method or operator: f(self, other) writes into self, and self (the same Python object) is
// returned, as `x += y` and `x.mul_(y)` must.
template <class F>
auto in_place(F f) {
  return [f](py::object self, const py::handle& other) {
    f(self.cast<Tensor&>(), other);
    return self;
  };
}

py::tuple shape_tuple(const Shape& shape) {
  py::tuple t(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) t[i] = py::int_(shape[i]);
  return t;
}

py::object item_of(const Tensor& t) {
  // int64 read as int64, not through item()'s double (exact above 2^53).
  if (t.dtype() == DType::Int64) {
    if (t.numel() != 1) t.item();  // its error: not one element
    return py::int_(t.contiguous().to_vector<int64_t>()[0]);
  }
  const double v = t.item();
  if (t.dtype() == DType::Bool) return py::bool_(v != 0);
  return py::float_(v);
}

// Nested lists of Python numbers, as torch's tolist().
py::object to_list(const Tensor& t) {
  if (t.dim() == 0) return item_of(t);
  py::list out;
  for (int64_t i = 0; i < t.size(0); ++i) out.append(to_list(select(t, 0, i)));
  return out;
}

// torch's x.to(...): any mix of a dtype, a device (or its name) and another tensor (its dtype and device).
Tensor to_any(const Tensor& self, const py::args& args, const py::kwargs& kwargs) {
  std::optional<DType> dtype;
  std::optional<Device> device;
  for (const auto& a : args) {
    if (py::isinstance<DType>(a)) dtype = a.cast<DType>();
    else if (py::isinstance<Device>(a) || py::isinstance<py::str>(a)) device = device_from(py::reinterpret_borrow<py::object>(a));
    else if (py::isinstance<Tensor>(a)) {
      const auto& other = a.cast<const Tensor&>();
      dtype = other.dtype();
      device = other.device();
    } else {
      throw py::type_error("tensorgrad.Tensor.to: expected a dtype, a device or a Tensor, got " +
                           std::string(py::str(py::type::of(a).attr("__name__"))));
    }
  }
  if (kwargs.contains("dtype") && !kwargs["dtype"].is_none()) dtype = kwargs["dtype"].cast<DType>();
  if (kwargs.contains("device") && !kwargs["device"].is_none())
    device = device_from(py::reinterpret_borrow<py::object>(kwargs["device"]));
  Tensor out = self;
  if (device) out = out.to(*device);
  if (dtype) out = out.to(*dtype);
  return out;
}

// Reductions that take torch's dim=None | int | sequence and keepdim.
template <Tensor (*Fn)(const Tensor&, const Dims&, bool)>
auto reduction() {
  return [](const Tensor& x, const py::object& dim, bool keepdim) { return Fn(x, dims_from(dim, "dim"), keepdim); };
}

// torch's max/min: over everything -> a tensor; over one dim -> (values, indices).
template <Tensor (*Fn)(const Tensor&, const Dims&, bool), bool Max>
py::object extreme(const Tensor& x, const py::object& dim, bool keepdim) {
  if (dim.is_none()) return py::cast(Fn(x, {}, keepdim));
  if (!PyIndex_Check(dim.ptr())) {  // max(a, b): the elementwise maximum, as torch.max(a, b)
    const Tensor other = tensor_or_scalar(dim, x, Max ? "tensorgrad.max" : "tensorgrad.min");
    return py::cast(Max ? maximum(x, other) : minimum(x, other));
  }
  const int64_t d = dim.cast<int64_t>();
  Tensor values = Fn(x, {d}, keepdim);
  Tensor indices = Max ? argmax(x, d, keepdim) : argmin(x, d, keepdim);
  return py::make_tuple(values, indices);
}

}  // namespace

void bind_tensor(py::module_& m, py::class_<Tensor>& tensor) {
  // ---- what a tensor is ----
  tensor
      .def(py::init([](const Tensor& other) { return other; }), py::arg("other"),
           "A new handle on `other`'s tensor (the same memory and autograd state).")
      .def_property_readonly("shape", [](const Tensor& t) { return shape_tuple(t.shape()); })
      .def("size", [](const Tensor& t, const py::object& dim) -> py::object {
             if (dim.is_none()) return shape_tuple(t.shape());
             return py::int_(t.size(dim.cast<int64_t>()));
           }, py::arg("dim") = py::none())
      .def("stride", [](const Tensor& t, const py::object& dim) -> py::object {
             if (dim.is_none()) return shape_tuple(t.strides());
             return py::int_(t.stride(dim.cast<int64_t>()));
           }, py::arg("dim") = py::none(), "Strides in elements.")
      .def("dim", &Tensor::dim)
      .def_property_readonly("ndim", &Tensor::dim)
      .def("numel", &Tensor::numel)
      .def_property_readonly("dtype", &Tensor::dtype)
      .def_property_readonly("device", &Tensor::device)
      .def_property_readonly("is_cpu", &Tensor::is_cpu)
      .def("is_contiguous", &Tensor::is_contiguous)
      .def("storage_offset", &Tensor::offset, "Offset of the first element in its storage, in elements.")
      .def("element_size", [](const Tensor& t) { return itemsize(t.dtype()); })
      .def_property_readonly("nbytes", [](const Tensor& t) { return t.numel() * static_cast<int64_t>(itemsize(t.dtype())); })
      .def("data_ptr", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.data_ptr()); })
      .def("is_floating_point", [](const Tensor& t) { return is_floating(t.dtype()); })
      .def("item", &item_of, "The value of a one-element tensor as a Python number.")
      .def("tolist", &to_list, "The values as nested Python lists.")
      .def("__repr__", [](const Tensor& t) {
        std::ostringstream os;
        os << t;
        return os.str();
      })
      .def("__len__", [](const Tensor& t) {
        if (t.dim() == 0) throw py::type_error("len() of a 0-d tensor");
        return t.size(0);
      })
      .def("__iter__", [](const Tensor& t) {
        if (t.dim() == 0) throw py::type_error("iteration over a 0-d tensor");
        return py::iter(py::cast(unbind(t, 0)));
      })
      .def("__bool__", [](const Tensor& t) {
        if (t.numel() != 1)
          throw py::value_error("the truth value of a tensor with " + std::to_string(t.numel()) +
                                " elements is ambiguous");
        return t.item() != 0;
      })
      .def("__float__", [](const Tensor& t) { return t.item(); })
      .def("__int__", [](const Tensor& t) { return py::int_(item_of(t)); })
      .def("__hash__", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.impl_ptr().get()); },
           "Identity, as torch: tensors are dict keys by object, not by value.")
      .def("same", &Tensor::same, py::arg("other"), "Whether both handles are the same tensor.");

  // ---- autograd state ----
  tensor
      .def_property("requires_grad", &Tensor::requires_grad,
                    [](Tensor& t, bool flag) { t.requires_grad_(flag); })
      .def("requires_grad_", [](py::object self, bool flag) {
             self.cast<Tensor&>().requires_grad_(flag);
             return self;
           }, py::arg("requires_grad") = true)
      .def_property("grad",
                    [](const Tensor& t) -> py::object {
                      Tensor g = t.grad();
                      return g.defined() ? py::cast(g) : py::none();
                    },
                    [](const Tensor& t, const py::object& g) {
                      if (g.is_none()) t.zero_grad();
                      else t.set_grad(g.cast<Tensor>());
                    })
      .def_property_readonly("grad_fn", [](const Tensor& t) -> py::object {
        const auto& fn = t.grad_fn();
        return fn ? py::cast(fn) : py::none();
      })
      .def_property_readonly("is_leaf", &Tensor::is_leaf)
      .def("retain_grad", &Tensor::retain_grad)
      .def("detach", &Tensor::detach, "A tensor sharing this one's memory, cut from the graph.")
      .def_property("data", &Tensor::detach, [](Tensor& t, const Tensor& src) { t.set_data_(src); },
                    "The values without autograd; assigning replaces them (as torch's p.data = ...).")
      .def("register_hook", [](const Tensor& t, py::function fn) {
             auto hook = share_with_gil(std::move(fn));
             t.register_hook([hook](const Tensor& g) -> Tensor {
               py::gil_scoped_acquire gil;
               py::object r = (*hook)(g);
               return r.is_none() ? Tensor() : r.cast<Tensor>();
             });
           }, py::arg("hook"), "hook(grad) -> None or a replacement gradient, called during backward.")
      .def("backward", [](const Tensor& t, const py::object& gradient, bool retain_graph, bool create_graph) {
             Tensor g = gradient.is_none() ? Tensor() : gradient.cast<Tensor>();
             py::gil_scoped_release release;
             t.backward(g, retain_graph, create_graph);
           }, py::arg("gradient") = py::none(), py::arg("retain_graph") = false, py::arg("create_graph") = false)
      .def_property_readonly("tangent", [](const Tensor& t) -> py::object {
        Tensor v = t.tangent();
        return v.defined() ? py::cast(v) : py::none();
      }, "Forward mode: the tangent this tensor carries (None for zero).");

  py::class_<Node, std::shared_ptr<Node>>(m, "Node", "A node of the backward graph (a tensor's grad_fn).")
      .def("name", &Node::name)
      .def_property_readonly("next_functions", [](const Node& n) {
        py::list out;
        for (const auto& e : n.next_edges())
          out.append(py::make_tuple(e.node ? py::cast(e.node) : py::none(), e.input_nr));
        return py::tuple(out);
      })
      .def("__repr__", [](const Node& n) { return "<" + n.name() + ">"; });

  // ---- operators ----
  tensor
      .def("__add__", &binary<&tg::add, &tg::add>, py::is_operator())
      .def("__radd__", &binary<&tg::add, &tg::add>, py::is_operator())
      .def("__sub__", &binary<&tg::sub, &tg::sub>, py::is_operator())
      .def("__rsub__", &reflected<&tg::sub>, py::is_operator())
      .def("__mul__", &binary<&tg::mul, &tg::mul>, py::is_operator())
      .def("__rmul__", &binary<&tg::mul, &tg::mul>, py::is_operator())
      .def("__truediv__", &binary<&tg::div, &tg::div>, py::is_operator())
      .def("__rtruediv__", &reflected<&tg::div>, py::is_operator())
      .def("__pow__", &binary<&tg::pow, &tg::pow>, py::is_operator())
      .def("__rpow__", &reflected<&tg::pow>, py::is_operator())
      .def("__matmul__", [](const Tensor& a, const Tensor& b) { return matmul(a, b); }, py::is_operator())
      .def("__neg__", [](const Tensor& a) { return neg(a); })
      .def("__abs__", [](const Tensor& a) { return abs(a); })
      .def("__eq__", &binary<&tg::eq, &tg::eq>, py::is_operator())
      .def("__ne__", &binary<&tg::ne, &tg::ne>, py::is_operator())
      .def("__lt__", &binary<&tg::lt, &tg::lt>, py::is_operator())
      .def("__le__", &binary<&tg::le, &tg::le>, py::is_operator())
      .def("__gt__", &binary<&tg::gt, &tg::gt>, py::is_operator())
      .def("__ge__", &binary<&tg::ge, &tg::ge>, py::is_operator())
      .def("__iadd__", in_place([](Tensor& t, const py::handle& o) { t.add_(tensor_or_scalar(o, t, "+=")); }), py::is_operator())
      .def("__isub__", in_place([](Tensor& t, const py::handle& o) { t.sub_(tensor_or_scalar(o, t, "-=")); }), py::is_operator())
      .def("__imul__", in_place([](Tensor& t, const py::handle& o) { t.mul_(tensor_or_scalar(o, t, "*=")); }), py::is_operator())
      .def("__itruediv__", in_place([](Tensor& t, const py::handle& o) { t.div_(tensor_or_scalar(o, t, "/=")); }),
           py::is_operator());

  // pybind11 keeps a pointer to each docstring: they live in this static table.
  static std::vector<std::string> docs;
  docs.reserve(std::size(kUnaryOps) + std::size(kBinaryOps));
  for (const auto& op : kUnaryOps) {
    docs.push_back(std::string("Elementwise ") + op.name + " (differentiable; float dtypes, some ops int64 too).");
    m.def(op.name, op.fn, py::arg("input"), docs.back().c_str());
    tensor.def(op.name, op.fn, docs.back().c_str());
  }
  for (const auto& op : kBinaryOps) {
    const BinaryOp* p = &op;
    auto fn = [p](const Tensor& a, const py::handle& b) { return binary_any(*p, a, b); };
    docs.push_back(std::string("Elementwise ") + op.name +
                   " of two tensors (broadcast, NumPy's rules) or of a tensor and a Python number (which takes the "
                   "tensor's dtype).");
    m.def(op.name, fn, py::arg("input"), py::arg("other"), docs.back().c_str());
    tensor.def(op.name, fn, py::arg("other"), docs.back().c_str());
  }

  // ---- in place (each bumps the version counter, so a saved tensor written afterwards is caught) ----
  tensor
      .def("add_", [](py::object self, const py::handle& other, double alpha) {
             Tensor& t = self.cast<Tensor&>();
             t.add_(tensor_or_scalar(other, t, "add_"), alpha);
             return self;
           }, py::arg("other"), py::arg("alpha") = 1.0)
      .def("sub_", [](py::object self, const py::handle& other, double alpha) {
             Tensor& t = self.cast<Tensor&>();
             t.sub_(tensor_or_scalar(other, t, "sub_"), alpha);
             return self;
           }, py::arg("other"), py::arg("alpha") = 1.0)
      .def("mul_", in_place([](Tensor& t, const py::handle& o) { t.mul_(tensor_or_scalar(o, t, "mul_")); }), py::arg("other"))
      .def("div_", in_place([](Tensor& t, const py::handle& o) { t.div_(tensor_or_scalar(o, t, "div_")); }), py::arg("other"))
      .def("copy_", in_place([](Tensor& t, const py::handle& o) { t.copy_(py::cast<const Tensor&>(o)); }), py::arg("src"))
      .def("fill_", in_place([](Tensor& t, const py::handle& o) { t.fill_(scalar_from(o, "fill_").value()); }), py::arg("value"))
      .def("zero_", [](py::object self) {
        self.cast<Tensor&>().zero_();
        return self;
      });

  // ---- shape and views ----
  tensor
      .def("reshape", [](const Tensor& t, const py::args& s) { return t.reshape(shape_from_args(s, "reshape")); },
           "reshape(*shape) or reshape(shape): a view when the strides allow, else a copy; one size may be -1.")
      .def("view", [](const Tensor& t, const py::args& s) { return t.view(shape_from_args(s, "view")); },
           "view(*shape): like reshape, but always a view (raises when the strides do not allow one).")
      .def("permute", [](const Tensor& t, const py::args& s) { return t.permute(shape_from_args(s, "permute")); },
           "permute(*dims): a view with the dimensions reordered.")
      .def("expand", [](const Tensor& t, const py::args& s) { return t.expand(shape_from_args(s, "expand")); },
           "expand(*sizes): a view broadcast to sizes (stride 0 on new or size-1 dims); -1 keeps a dimension.")
      .def("repeat", [](const Tensor& t, const py::args& s) { return repeat(t, shape_from_args(s, "repeat")); },
           "repeat(*repeats): the tensor tiled repeats[d] times along each dimension (a copy).")
      .def("expand_as", [](const Tensor& t, const Tensor& o) { return expand_as(t, o); }, py::arg("other"))
      .def("view_as", [](const Tensor& t, const Tensor& o) { return t.view(o.shape()); }, py::arg("other"))
      .def("reshape_as", [](const Tensor& t, const Tensor& o) { return t.reshape(o.shape()); }, py::arg("other"))
      .def("transpose", &Tensor::transpose, py::arg("dim0"), py::arg("dim1"))
      .def("t", &Tensor::t)
      .def_property_readonly("T", [](const Tensor& t) {
        std::vector<int64_t> dims(static_cast<size_t>(t.dim()));
        for (size_t i = 0; i < dims.size(); ++i) dims[i] = t.dim() - 1 - static_cast<int64_t>(i);
        return t.permute(dims);
      })
      .def("narrow", &Tensor::narrow, py::arg("dim"), py::arg("start"), py::arg("length"))
      .def("select", [](const Tensor& t, int64_t dim, int64_t index) { return select(t, dim, index); },
           py::arg("dim"), py::arg("index"))
      .def("squeeze", [](const Tensor& t, const py::object& dim) {
             return dim.is_none() ? squeeze(t) : squeeze(t, dim.cast<int64_t>());
           }, py::arg("dim") = py::none())
      .def("unsqueeze", &Tensor::unsqueeze, py::arg("dim"))
      .def("flatten", &Tensor::flatten, py::arg("start_dim") = 0, py::arg("end_dim") = -1)
      .def("contiguous", &Tensor::contiguous)
      .def("clone", &Tensor::clone)
      .def("flip", [](const Tensor& t, const py::args& d) { return flip(t, shape_from_args(d, "flip")); })
      .def("split", [](const Tensor& t, const py::object& size, int64_t dim) {
             if (PyIndex_Check(size.ptr())) return split(t, size.cast<int64_t>(), dim);
             return split(t, ints_from(size, "split"), dim);
           }, py::arg("split_size_or_sections"), py::arg("dim") = 0)
      .def("chunk", [](const Tensor& t, int64_t chunks, int64_t dim) { return chunk(t, chunks, dim); },
           py::arg("chunks"), py::arg("dim") = 0)
      .def("unbind", [](const Tensor& t, int64_t dim) { return unbind(t, dim); }, py::arg("dim") = 0)
      .def("to", &to_any, "x.to(dtype), x.to(device), x.to(other), x.to(device, dtype) (keywords too).")
      .def("cpu", &Tensor::cpu)
      .def("float", [](const Tensor& t) { return t.to(DType::Float32); })
      .def("double", [](const Tensor& t) { return t.to(DType::Float64); })
      .def("half", [](const Tensor& t) { return t.to(DType::Float16); })
      .def("bfloat16", [](const Tensor& t) { return t.to(DType::BFloat16); })
      .def("long", [](const Tensor& t) { return t.to(DType::Int64); })
      .def("bool", [](const Tensor& t) { return t.to(DType::Bool); })
      .def("type_as", [](const Tensor& t, const Tensor& o) { return t.to(o.dtype()); }, py::arg("other"));

  // ---- reductions and the rest of the methods ----
  tensor
      .def("sum", reduction<&tg::sum>(), py::arg("dim") = py::none(), py::arg("keepdim") = false,
           "Sum over dim (an int, a sequence, or None for all); bool and int64 sum to int64.")
      .def("mean", reduction<&tg::mean>(), py::arg("dim") = py::none(), py::arg("keepdim") = false,
           "Mean over dim (an int, a sequence, or None for all).")
      .def("prod", reduction<&tg::prod>(), py::arg("dim") = py::none(), py::arg("keepdim") = false,
           "Product over dim.")
      .def("logsumexp", reduction<&tg::logsumexp>(), py::arg("dim") = py::none(), py::arg("keepdim") = false,
           "log(sum(exp(x))) over dim, computed stably.")
      .def("any", reduction<&tg::any>(), py::arg("dim") = py::none(), py::arg("keepdim") = false,
           "Whether any element is true (non-zero) over dim.")
      .def("all", reduction<&tg::all>(), py::arg("dim") = py::none(), py::arg("keepdim") = false,
           "Whether every element is true (non-zero) over dim.")
      .def("max", &extreme<&tg::max, true>, py::arg("dim") = py::none(), py::arg("keepdim") = false,
           "max() -> the largest element; max(dim) -> (values, indices); max(other) -> elementwise maximum.")
      .def("min", &extreme<&tg::min, false>, py::arg("dim") = py::none(), py::arg("keepdim") = false,
           "min() -> the smallest element; min(dim) -> (values, indices); min(other) -> elementwise minimum.")
      .def("var", [](const Tensor& x, const py::object& dim, int64_t correction, bool keepdim) {
             return var(x, dims_from(dim, "var"), correction, keepdim);
           }, py::arg("dim") = py::none(), py::arg("correction") = 1, py::arg("keepdim") = false)
      .def("std", [](const Tensor& x, const py::object& dim, int64_t correction, bool keepdim) {
             return tg::std(x, dims_from(dim, "std"), correction, keepdim);
           }, py::arg("dim") = py::none(), py::arg("correction") = 1, py::arg("keepdim") = false)
      .def("argmax", [](const Tensor& x, std::optional<int64_t> dim, bool keepdim) { return argmax(x, dim, keepdim); },
           py::arg("dim") = py::none(), py::arg("keepdim") = false)
      .def("argmin", [](const Tensor& x, std::optional<int64_t> dim, bool keepdim) { return argmin(x, dim, keepdim); },
           py::arg("dim") = py::none(), py::arg("keepdim") = false)
      .def("softmax", [](const Tensor& x, int64_t dim) { return softmax(x, dim); }, py::arg("dim"))
      .def("log_softmax", [](const Tensor& x, int64_t dim) { return log_softmax(x, dim); }, py::arg("dim"))
      .def("cumsum", [](const Tensor& x, int64_t dim) { return cumsum(x, dim); }, py::arg("dim"))
      .def("matmul", [](const Tensor& a, const Tensor& b) { return matmul(a, b); }, py::arg("other"))
      .def("clamp", [](const Tensor& x, std::optional<double> lo, std::optional<double> hi) { return clamp(x, lo, hi); },
           py::arg("min") = py::none(), py::arg("max") = py::none())
      .def("masked_fill", [](const Tensor& x, const Tensor& mask, double v) { return masked_fill(x, mask, v); },
           py::arg("mask"), py::arg("value"))
      .def("tril", [](const Tensor& x, int64_t d) { return tril(x, d); }, py::arg("diagonal") = 0)
      .def("triu", [](const Tensor& x, int64_t d) { return triu(x, d); }, py::arg("diagonal") = 0)
      .def("gather", [](const Tensor& x, int64_t dim, const Tensor& i) { return gather(x, dim, i); },
           py::arg("dim"), py::arg("index"))
      .def("index_select", [](const Tensor& x, int64_t dim, const Tensor& i) { return index_select(x, dim, i); },
           py::arg("dim"), py::arg("index"))
      .def("scatter_add", [](const Tensor& x, int64_t dim, const Tensor& i, const Tensor& s) {
             return scatter_add(x, dim, i, s);
           }, py::arg("dim"), py::arg("index"), py::arg("src"))
      .def("sort", [](const Tensor& x, int64_t dim, bool descending) {
             SortResult r = sort(x, dim, descending);
             return py::make_tuple(r.values, r.indices);
           }, py::arg("dim") = -1, py::arg("descending") = false)
      .def("argsort", [](const Tensor& x, int64_t dim, bool descending) { return argsort(x, dim, descending); },
           py::arg("dim") = -1, py::arg("descending") = false)
      .def("topk", [](const Tensor& x, int64_t k, int64_t dim, bool largest) {
             SortResult r = topk(x, k, dim, largest);
             return py::make_tuple(r.values, r.indices);
           }, py::arg("k"), py::arg("dim") = -1, py::arg("largest") = true);
}

}  // namespace tg::python
