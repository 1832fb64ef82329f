// Python arguments -> tensorgrad's C++ types, with errors that name the argument.
#include "bindings.h"

namespace tg::python {

std::vector<int64_t> ints_from(const py::handle& value, const char* what) {
  if (PyIndex_Check(value.ptr())) return {value.cast<int64_t>()};
  if (!py::isinstance<py::sequence>(value) || py::isinstance<py::str>(value))
    throw py::type_error(std::string(what) + ": expected an int or a sequence of ints, got " +
                         std::string(py::str(py::type::of(value).attr("__name__"))));
  std::vector<int64_t> out;
  for (const auto& item : py::reinterpret_borrow<py::sequence>(value)) {
    if (!PyIndex_Check(item.ptr()))
      throw py::type_error(std::string(what) + ": expected ints, got " +
                           std::string(py::str(py::type::of(item).attr("__name__"))));
    out.push_back(item.cast<int64_t>());
  }
  return out;
}

Shape shape_from_args(const py::args& args, const char* what) {
  if (args.size() == 1 && !PyIndex_Check(args[0].ptr())) return ints_from(args[0], what);
  Shape shape;
  shape.reserve(args.size());
  for (const auto& a : args) {
    if (!PyIndex_Check(a.ptr()))
      throw py::type_error(std::string(what) + ": sizes must be ints, got " +
                           std::string(py::str(py::type::of(a).attr("__name__"))));
    shape.push_back(a.cast<int64_t>());
  }
  return shape;
}

std::vector<int64_t> dims_from(const py::object& dims, const char* what) {
  if (dims.is_none()) return {};
  return ints_from(dims, what);
}

DType dtype_or(const py::object& dtype, DType fallback) {
  if (dtype.is_none()) return fallback;
  return dtype.cast<DType>();
}

Device device_from(const py::object& device) {
  if (device.is_none()) return kCPU;
  if (py::isinstance<py::str>(device)) return parse_device(device.cast<std::string>().c_str());
  return device.cast<Device>();
}

Scalar scalar_from(const py::handle& value, const char* op) {
  PyObject* p = value.ptr();
  if (PyBool_Check(p)) return Scalar(p == Py_True);
  if (PyLong_Check(p)) {
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(p, &overflow);
    if (overflow != 0) return Scalar(PyLong_AsDouble(p));  // beyond int64: as a float, as NumPy would
    return Scalar(static_cast<int64_t>(v));
  }
  if (PyFloat_Check(p)) return Scalar(PyFloat_AS_DOUBLE(p));
  if (PyIndex_Check(p)) return Scalar(value.cast<int64_t>());  // NumPy integers
  if (PyNumber_Check(p) && py::hasattr(value, "__float__")) return Scalar(value.cast<double>());
  throw py::type_error(std::string(op) + ": expected a Tensor or a number, got " +
                       std::string(py::str(py::type::of(value).attr("__name__"))));
}

Tensor tensor_or_scalar(const py::handle& value, const Tensor& like, const char* op) {
  if (py::isinstance<Tensor>(value)) return value.cast<Tensor>();
  return scalar_like(scalar_from(value, op), like);
}

}  // namespace tg::python
