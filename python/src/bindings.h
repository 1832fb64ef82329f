#pragma once
// What the binding files share: the pybind11 includes, conversions from Python arguments (shapes, dims,
// dtypes, devices, scalars) and one bind_* function per file, called in order by module.cpp.
#include <optional>
#include <string>
#include <vector>

#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <tensorgrad/tensorgrad.h>

namespace tg::python {

namespace py = pybind11;

// A shape from f(2, 3), f((2, 3)), f([2, 3]) or f(tg.Size): a lone sequence argument is the shape itself.
Shape shape_from_args(const py::args& args, const char* what);
// An int or a sequence of ints (torch's `dim` arguments); None -> empty (all dims).
std::vector<int64_t> dims_from(const py::object& dims, const char* what);
std::vector<int64_t> ints_from(const py::handle& value, const char* what);
// A dtype argument: tg.float32 and friends, or None for `fallback`.
DType dtype_or(const py::object& dtype, DType fallback);
// A device argument: tg.device, a string such as "cpu" or "cuda:0", or None for the CPU.
Device device_from(const py::object& device);
// Python bool / int / float (or anything with __index__ / __float__) as a tg::Scalar; throws TypeError
// naming `op` otherwise.
Scalar scalar_from(const py::handle& value, const char* op);
// `value` as a tensor: a Tensor itself, or a Python number as a 0-d tensor of the dtype it would take beside
// `like` (so x * 2 stays float32).
Tensor tensor_or_scalar(const py::handle& value, const Tensor& like, const char* op);

// A tensor over a NumPy array's memory (memory_sharing.cpp); a read-only array only when the caller copies.
Tensor tensor_over_numpy(const py::array& array, bool allow_readonly);

// Each file binds one part of the API into `m` (sub-modules made by module.cpp).
void bind_dtypes_and_devices(py::module_& m);
void bind_tensor(py::module_& m, py::class_<Tensor>& tensor);
void bind_indexing(py::class_<Tensor>& tensor);
void bind_memory_sharing(py::module_& m, py::class_<Tensor>& tensor);
void bind_functions(py::module_& m, py::module_& functional);
void bind_autograd(py::module_& m, py::module_& autograd);
void bind_nn(py::module_& nn);
void bind_optim(py::module_& optim);
void bind_data_io_profiler(py::module_& m);

}  // namespace tg::python
