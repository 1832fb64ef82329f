// tensorgrad._C: the compiled core of the Python package (python/tensorgrad wraps it).
#include "bindings.h"

namespace tg::python {

namespace {
std::string device_text(const Device& d) {
  std::string s = device_type_name(d.type);
  if (!d.is_cpu()) s += ":" + std::to_string(d.index);
  return s;
}
}  // namespace

void bind_dtypes_and_devices(py::module_& m) {
  py::enum_<DType> dtype(m, "dtype", "An element type: tensorgrad.float32, float64, bfloat16, float16, int64, bool_.");
  dtype.value("bool_", DType::Bool)
      .value("int64", DType::Int64)
      .value("float32", DType::Float32)
      .value("float64", DType::Float64)
      .value("bfloat16", DType::BFloat16)
      .value("float16", DType::Float16);
  // Assigned, not def'd: def would chain these behind the enum's own __repr__ / __str__ as overloads.
  dtype.attr("__repr__") = py::cpp_function([](DType d) { return std::string("tensorgrad.") + dtype_name(d); },
                                            py::is_method(dtype));
  dtype.attr("__str__") = dtype.attr("__repr__");
  dtype.def_property_readonly("itemsize", [](DType d) { return itemsize(d); }, "Bytes per element.");
  dtype.def_property_readonly("is_floating_point", [](DType d) { return is_floating(d); });
  m.def("promote_types", &promote_types, py::arg("a"), py::arg("b"), "The dtype a binary op of the two computes in.");
  m.def("get_default_dtype", &default_float_dtype, "The dtype of floating tensors made from Python floats.");
  m.def("set_default_dtype", &set_default_float_dtype, py::arg("dtype"),
        "Sets the dtype of floating tensors made from Python floats (float32 or float64).");

  py::class_<Device>(m, "device", "Where a tensor's memory lives: tensorgrad.device('cpu'), device('cuda:0').")
      .def(py::init([](const std::string& text) { return parse_device(text.c_str()); }), py::arg("type"))
      .def(py::init([](const std::string& type, int index) {
             Device d = parse_device(type.c_str());
             d.index = index;
             return d;
           }),
           py::arg("type"), py::arg("index"))
      .def_property_readonly("type", [](const Device& d) { return std::string(device_type_name(d.type)); })
      .def_property_readonly("index", [](const Device& d) -> py::object {
        return d.is_cpu() ? py::none() : py::cast(d.index);
      })
      .def("__eq__", [](const Device& a, const py::object& b) {
        if (py::isinstance<py::str>(b)) return a == parse_device(b.cast<std::string>().c_str());
        return py::isinstance<Device>(b) && a == b.cast<Device>();
      })
      .def("__hash__", [](const Device& d) { return static_cast<int>(d.type) * 1024 + d.index; })
      .def("__str__", &device_text)
      .def("__repr__", [](const Device& d) { return "device('" + device_text(d) + "')"; });
  py::implicitly_convertible<py::str, Device>();
}

}  // namespace tg::python

PYBIND11_MODULE(_C, m) {
  namespace py = pybind11;
  using namespace tg::python;
  m.doc() = "tensorgrad's compiled core. Use the package `tensorgrad`, which wraps it.";
  // tg::Error -> tensorgrad.Error, a RuntimeError with the same message (op, shapes, dtypes, where).
  py::register_exception<tg::Error>(m, "Error", PyExc_RuntimeError);
  bind_dtypes_and_devices(m);
  py::class_<tg::Tensor> tensor(m, "Tensor",
                                "A strided view of shared memory, with autograd state (tensorgrad.Tensor).");
  bind_tensor(m, tensor);
  bind_indexing(tensor);
  bind_memory_sharing(m, tensor);
  py::module_ functional = m.def_submodule("functional", "Differentiable functions (tensorgrad.nn.functional).");
  bind_functions(m, functional);
  py::module_ autograd = m.def_submodule("autograd", "Autograd: gradients, forward mode, custom functions.");
  bind_autograd(m, autograd);
  py::module_ nn = m.def_submodule("nn", "The C++ layers (tensorgrad.nn wraps them as Modules).");
  bind_nn(nn);
  py::module_ optim = m.def_submodule("optim", "Optimizers and learning-rate schedules.");
  bind_optim(optim);
  bind_data_io_profiler(m);
}
