// Sharing memory with NumPy (the buffer protocol and arrays that keep the tensor alive) and with any DLPack
// consumer or producer, PyTorch among them. Nothing here copies: a view's strides and offset travel as they
// are, and the other side's memory stays alive as long as a tensor uses it.
#include <cstring>
#include <functional>

#include "bindings.h"
#include "gil.h"

namespace tg::python {

namespace {

// ---- DLPack: the ABI-stable structs of dlpack.h (v0.8; the layout every consumer reads) ----
enum DLDeviceType : int32_t { kDLCPU = 1, kDLCUDA = 2 };
struct DLDevice {
  int32_t device_type;
  int32_t device_id;
};
enum DLDataTypeCode : uint8_t { kDLInt = 0, kDLUInt = 1, kDLFloat = 2, kDLBfloat = 4, kDLBool = 6 };
struct DLDataType {
  uint8_t code;
  uint8_t bits;
  uint16_t lanes;
};
struct DLTensor {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;  // in elements; null means compact row-major
  uint64_t byte_offset;
};
struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor* self);
};

// What an exported tensor's DLManagedTensor owns: the storage (not the tensor: set_data_ may give the tensor
// new memory later, e.g. Module.to(dtype), while the consumer still reads the old) and the shape arrays.
struct Exported {
  std::shared_ptr<Storage> storage;
  std::vector<int64_t> shape, strides;
  DLManagedTensor managed{};
};

DLDataType dl_dtype(DType d) {
  switch (d) {
    case DType::Bool: return {kDLBool, 8, 1};
    case DType::Int64: return {kDLInt, 64, 1};
    case DType::Float32: return {kDLFloat, 32, 1};
    case DType::Float64: return {kDLFloat, 64, 1};
    case DType::BFloat16: return {kDLBfloat, 16, 1};
    case DType::Float16: return {kDLFloat, 16, 1};
  }
  return {kDLFloat, 32, 1};
}

DType dtype_from_dl(DLDataType t) {
  if (t.lanes != 1) throw py::type_error("tensorgrad.from_dlpack: vector element types are not supported");
  if (t.code == kDLFloat && t.bits == 32) return DType::Float32;
  if (t.code == kDLFloat && t.bits == 64) return DType::Float64;
  if (t.code == kDLFloat && t.bits == 16) return DType::Float16;
  if (t.code == kDLBfloat && t.bits == 16) return DType::BFloat16;
  if (t.code == kDLInt && t.bits == 64) return DType::Int64;
  if (t.code == kDLBool && t.bits == 8) return DType::Bool;
  throw py::type_error("tensorgrad.from_dlpack: element type (code " + std::to_string(t.code) + ", " +
                       std::to_string(t.bits) + " bits) has no tensorgrad dtype (float32/64, float16, bfloat16, "
                       "int64, bool)");
}

// A tensor over memory another library owns: `first` is the element at index (0, ..., 0) and the strides (in
// elements, any sign) are the other library's. The storage spans the lowest to the highest element the view
// reaches; `release` runs when the last tensor over it goes.
Tensor tensor_over_memory(char* first, const Shape& shape, const Strides& strides, DType dtype,
                          std::function<void(void*)> release) {
  int64_t low = 0, high = 0;
  bool empty = false;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0) empty = true;
    const int64_t reach = (shape[d] - 1) * strides[d];
    (reach < 0 ? low : high) += reach;
  }
  const auto item = static_cast<int64_t>(itemsize(dtype));
  const size_t nbytes = empty ? 0 : static_cast<size_t>((high - low + 1) * item);
  auto storage = Storage::wrap(first + low * item, nbytes, std::move(release));
  return Tensor(std::make_shared<TensorImpl>(storage, shape, strides, -low, dtype));
}

py::capsule to_dlpack(const Tensor& t) {
  if (!t.is_cpu())
    throw py::type_error("tensorgrad.Tensor.__dlpack__: only CPU tensors can be exported, this one is on " +
                         std::string(device_type_name(t.device().type)));
  auto* e = new Exported{t.storage(), t.shape(), t.strides(), {}};
  DLTensor& dl = e->managed.dl_tensor;
  dl.data = t.data_ptr();
  dl.device = {kDLCPU, 0};
  dl.ndim = static_cast<int32_t>(t.dim());
  dl.dtype = dl_dtype(t.dtype());
  dl.shape = e->shape.data();
  dl.strides = e->strides.data();
  dl.byte_offset = 0;
  e->managed.manager_ctx = e;
  e->managed.deleter = [](DLManagedTensor* self) { delete static_cast<Exported*>(self->manager_ctx); };
  // A consumer renames the capsule "used_dltensor" and calls the deleter itself; one never consumed is
  // deleted here.
  return py::capsule(&e->managed, "dltensor", [](PyObject* capsule) {
    if (PyCapsule_IsValid(capsule, "dltensor")) {
      auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule, "dltensor"));
      if (managed != nullptr && managed->deleter != nullptr) managed->deleter(managed);
    }
  });
}

Tensor from_dlpack(const py::object& source) {
  py::object capsule = source;
  if (py::hasattr(source, "__dlpack__")) {
    py::tuple device = source.attr("__dlpack_device__")();
    if (device[0].cast<int>() != kDLCPU)
      throw py::type_error("tensorgrad.from_dlpack: only CPU memory can be shared, the source is on DLPack device type " +
                           std::to_string(device[0].cast<int>()));
    capsule = source.attr("__dlpack__")();
  }
  if (!PyCapsule_IsValid(capsule.ptr(), "dltensor"))
    throw py::type_error("tensorgrad.from_dlpack: expected an object with __dlpack__ or an unused DLPack capsule");
  auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule.ptr(), "dltensor"));
  const DLTensor& dl = managed->dl_tensor;
  if (dl.device.device_type != kDLCPU)
    throw py::type_error("tensorgrad.from_dlpack: only CPU memory can be shared");
  const DType dtype = dtype_from_dl(dl.dtype);
  Shape shape(dl.shape, dl.shape + dl.ndim);
  Strides strides(static_cast<size_t>(dl.ndim));
  if (dl.strides != nullptr) strides.assign(dl.strides, dl.strides + dl.ndim);
  else strides = contiguous_strides(shape);
  PyCapsule_SetName(capsule.ptr(), "used_dltensor");
  return tensor_over_memory(static_cast<char*>(dl.data) + dl.byte_offset, shape, strides, dtype, [managed](void*) {
    if (managed->deleter != nullptr) {
      py::gil_scoped_acquire gil;  // the producer's deleter may drop Python objects
      managed->deleter(managed);
    }
  });
}

// NumPy's dtype for a tensorgrad dtype (bfloat16 has none).
py::dtype numpy_dtype(DType d) {
  switch (d) {
    case DType::Bool: return py::dtype::of<bool>();
    case DType::Int64: return py::dtype::of<int64_t>();
    case DType::Float32: return py::dtype::of<float>();
    case DType::Float64: return py::dtype::of<double>();
    case DType::Float16: return py::dtype("float16");
    case DType::BFloat16: break;
  }
  throw py::type_error("tensorgrad.Tensor.numpy: NumPy has no bfloat16; convert first, e.g. x.float().numpy()");
}

std::vector<py::ssize_t> byte_strides(const Tensor& t) {
  std::vector<py::ssize_t> s;
  for (int64_t st : t.strides()) s.push_back(static_cast<py::ssize_t>(st * static_cast<int64_t>(itemsize(t.dtype()))));
  return s;
}

py::array to_numpy(const Tensor& t) {
  if (!t.is_cpu())
    throw py::type_error("tensorgrad.Tensor.numpy: the tensor is on " + std::string(device_type_name(t.device().type)) +
                         "; copy it to the CPU first with .cpu()");
  if (t.requires_grad())
    throw py::type_error("tensorgrad.Tensor.numpy: the tensor requires grad; use x.detach().numpy() (the array "
                         "would let its values change behind autograd's back)");
  // The capsule keeps the storage (not the tensor, whose memory set_data_ may replace) alive as long as the
  // array.
  py::capsule owner(new std::shared_ptr<Storage>(t.storage()),
                    [](void* p) { delete static_cast<std::shared_ptr<Storage>*>(p); });
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
  return py::array(numpy_dtype(t.dtype()), shape, byte_strides(t), t.data_ptr(), owner);
}

}  // namespace

Tensor tensor_over_numpy(const py::array& array, bool allow_readonly) {
  if (!allow_readonly && !array.writeable())
    throw py::value_error("tensorgrad.from_numpy: the array is read-only and a tensor could write through it; "
                          "copy it first (tensorgrad.tensor(a) or np.array(a))");
  DType dtype;
  const char kind = array.dtype().kind();
  const auto item = array.itemsize();
  if (kind == 'f' && item == 4) dtype = DType::Float32;
  else if (kind == 'f' && item == 8) dtype = DType::Float64;
  else if (kind == 'f' && item == 2) dtype = DType::Float16;
  else if (kind == 'i' && item == 8) dtype = DType::Int64;
  else if (kind == 'b') dtype = DType::Bool;
  else
    throw py::type_error("tensorgrad.from_numpy: NumPy dtype " + std::string(py::str(array.dtype())) +
                         " has no tensorgrad dtype without a copy (float32/64, float16, int64, bool); convert it "
                         "with arr.astype(...) first");
  if (!array.dtype().attr("isnative").cast<bool>())
    throw py::type_error("tensorgrad.from_numpy: the array is not in the machine's byte order");
  Shape shape(array.shape(), array.shape() + array.ndim());
  Strides strides;
  for (py::ssize_t d = 0; d < array.ndim(); ++d) {
    const auto s = array.strides(d);
    if (s % item != 0)
      throw py::value_error("tensorgrad.from_numpy: a stride of " + std::to_string(s) +
                            " bytes is not a whole number of elements; copy the array first");
    strides.push_back(s / item);
  }
  auto keep = share_with_gil(py::object(array));  // the array (and whatever owns its memory) lives on
  return tensor_over_memory(static_cast<char*>(const_cast<void*>(array.data())), shape, strides, dtype,
                            [keep](void*) mutable { keep.reset(); });
}

namespace {

Tensor from_numpy(const py::array& array) { return tensor_over_numpy(array, false); }

}  // namespace

void bind_memory_sharing(py::module_& m, py::class_<Tensor>& tensor) {
  tensor.def("numpy", &to_numpy,
             "A NumPy array over the same memory (no copy): writes through either are seen by both.");
  // np.asarray(x) and np.array(x) (a copy) go through __array__. Not the buffer protocol: pybind11 2.10 calls a
  // buffer function without a try, so its errors (bfloat16, a GPU tensor) would end the process.
  tensor.def("__array__", [](const Tensor& t, const py::object& dtype) {
        py::array a = to_numpy(t);
        return dtype.is_none() ? a : py::array(a.attr("astype")(dtype));
      }, py::arg("dtype") = py::none());
  // NumPy defers binary operators to the tensor (np.float32(2) * x stays a tensor, with its graph).
  tensor.attr("__array_ufunc__") = py::none();
  tensor.def("__dlpack__", [](const Tensor& t, const py::object& /*stream*/) { return to_dlpack(t); },
             py::arg("stream") = py::none(), "A DLPack capsule over the same memory (torch.utils.dlpack.from_dlpack reads it).");
  tensor.def("__dlpack_device__", [](const Tensor& t) {
    if (!t.is_cpu()) return py::make_tuple(static_cast<int>(kDLCUDA), t.device().index);
    return py::make_tuple(static_cast<int>(kDLCPU), 0);
  });
  m.def("from_numpy", &from_numpy, py::arg("array"),
        "A tensor over a NumPy array's memory (no copy); the array stays alive while the tensor does.");
  m.def("from_dlpack", &from_dlpack, py::arg("source"),
        "A tensor over another library's memory (an object with __dlpack__, e.g. a torch tensor, or a capsule).");
  m.def("to_dlpack", &to_dlpack, py::arg("tensor"), "A DLPack capsule over the tensor's memory.");
}

}  // namespace tg::python
