// x[...] and x[...] = v with NumPy's rules: ints, slices (step > 0), None, Ellipsis and one advanced index
// (an int64 index tensor or list, or a bool mask) per expression. Basic indexing gives views; an advanced
// index gathers (index_select), so the result is differentiable either way.
#include "bindings.h"

namespace tg::python {

namespace {

enum class Kind { Int, Slice, None, Ellipsis, IndexTensor, Mask };

struct Item {
  Kind kind;
  py::object object;
  Tensor tensor;  // IndexTensor / Mask
  int64_t dims_used() const {
    switch (kind) {
      case Kind::Int:
      case Kind::Slice:
      case Kind::IndexTensor: return 1;
      case Kind::Mask: return tensor.dim();
      default: return 0;
    }
  }
};

Tensor as_index_tensor(const py::handle& h) {
  if (py::isinstance<Tensor>(h)) return h.cast<Tensor>();
  // A list or a NumPy array of ints or bools.
  py::array a = py::array::ensure(h);
  if (!a) throw py::index_error("tensorgrad.Tensor indexing: cannot read an index from " +
                                std::string(py::str(py::type::of(h).attr("__name__"))));
  if (a.dtype().kind() == 'b') {
    py::array_t<bool, py::array::c_style | py::array::forcecast> b(a);
    std::vector<bool> v(b.data(), b.data() + b.size());
    return from_vector<bool>(v, Shape(b.shape(), b.shape() + b.ndim()));
  }
  if (a.dtype().kind() != 'i' && a.dtype().kind() != 'u')
    throw py::index_error("tensorgrad.Tensor indexing: index arrays must hold ints or bools");
  py::array_t<int64_t, py::array::c_style | py::array::forcecast> i(a);
  std::vector<int64_t> v(i.data(), i.data() + i.size());
  return from_vector<int64_t>(v, Shape(i.shape(), i.shape() + i.ndim()));
}

std::vector<Item> parse(const py::handle& index) {
  std::vector<Item> items;
  auto add = [&](const py::handle& h) {
    if (PyBool_Check(h.ptr()))
      throw py::index_error("tensorgrad.Tensor indexing: a Python bool is not an index (use a bool tensor as a mask)");
    if (PyIndex_Check(h.ptr()) && !py::isinstance<Tensor>(h)) items.push_back({Kind::Int, py::reinterpret_borrow<py::object>(h), {}});
    else if (py::isinstance<py::slice>(h)) items.push_back({Kind::Slice, py::reinterpret_borrow<py::object>(h), {}});
    else if (h.is_none()) items.push_back({Kind::None, py::none(), {}});
    else if (h.ptr() == Py_Ellipsis) items.push_back({Kind::Ellipsis, py::none(), {}});
    else {
      Tensor t = as_index_tensor(h);
      if (t.dtype() == DType::Bool) items.push_back({Kind::Mask, py::none(), t});
      else if (t.dtype() == DType::Int64) items.push_back({Kind::IndexTensor, py::none(), t});
      else throw py::index_error("tensorgrad.Tensor indexing: index tensors must be int64 or bool, got " +
                                 std::string(dtype_name(t.dtype())));
    }
  };
  if (py::isinstance<py::tuple>(index))
    for (const auto& h : py::reinterpret_borrow<py::tuple>(index)) add(h);
  else
    add(index);
  int advanced = 0, ellipses = 0;
  for (const auto& it : items) {
    advanced += it.kind == Kind::IndexTensor || it.kind == Kind::Mask;
    ellipses += it.kind == Kind::Ellipsis;
  }
  if (advanced > 1)
    throw py::index_error("tensorgrad.Tensor indexing: one index tensor or mask per expression is supported, got " +
                          std::to_string(advanced));
  if (ellipses > 1) throw py::index_error("tensorgrad.Tensor indexing: an index can only have a single ellipsis");
  // NumPy treats ints as advanced indices once an index tensor is present: x[0, :, [0, 1]] moves the advanced
  // dimensions to the front. That reordering is not implemented: refuse it rather than answer differently.
  if (advanced == 1) {
    bool seen_int = false, seen_break_after_int = false;
    for (const auto& it : items) {
      if (it.kind == Kind::Int) seen_int = true;
      else if (it.kind == Kind::IndexTensor || it.kind == Kind::Mask) {
        if (seen_break_after_int)
          throw py::index_error("tensorgrad.Tensor indexing: an int and an index tensor separated by a slice is not "
                                "supported (NumPy would move their dimensions first); index in two steps");
      } else if (seen_int) {
        seen_break_after_int = true;
      }
    }
  }
  return items;
}

// The flat positions of the true elements of a bool mask, as an int64 tensor.
Tensor true_positions(const Tensor& mask) {
  const std::vector<bool> m = mask.contiguous().to_vector<bool>();
  std::vector<int64_t> positions;
  for (size_t i = 0; i < m.size(); ++i)
    if (m[i]) positions.push_back(static_cast<int64_t>(i));
  return from_vector<int64_t>(positions, {static_cast<int64_t>(positions.size())});
}

struct Indexed {
  Tensor result;
  bool advanced = false;
};

Indexed apply_index(const Tensor& self, const std::vector<Item>& items) {
  int64_t used = 0;
  for (const auto& it : items) used += it.dims_used();
  if (used > self.dim())
    throw py::index_error("tensorgrad.Tensor indexing: too many indices for a tensor of " + std::to_string(self.dim()) +
                          " dimensions (" + std::to_string(used) + " given)");
  Tensor t = self;
  int64_t d = 0;  // the dimension of `t` the next item applies to
  bool advanced = false;
  for (const auto& it : items) {
    switch (it.kind) {
      case Kind::Int: {
        const int64_t size = t.size(d), i = it.object.cast<int64_t>();
        if (i < -size || i >= size)
          throw py::index_error("tensorgrad.Tensor indexing: index " + std::to_string(i) + " is out of bounds for dimension " +
                                std::to_string(d) + " of size " + std::to_string(size));
        t = select(t, d, i);
        break;
      }
      case Kind::Slice: {
        py::ssize_t start, stop, step, length;
        if (!py::reinterpret_borrow<py::slice>(it.object).compute(static_cast<py::ssize_t>(t.size(d)), &start, &stop, &step, &length))
          throw py::error_already_set();
        if (step <= 0) throw py::value_error("tensorgrad.Tensor indexing: slice steps must be positive");
        if (!(start == 0 && step == 1 && length == t.size(d))) t = t.slice(d, start, start + length * step, step);
        ++d;
        break;
      }
      case Kind::None: t = t.unsqueeze(d++); break;
      case Kind::Ellipsis: d += self.dim() - used; break;  // the dimensions no other item consumes
      case Kind::IndexTensor: {
        // Negative entries count from the end, as in NumPy.
        const Tensor idx = where(it.tensor < 0, it.tensor + t.size(d), it.tensor);
        Shape out_shape = t.shape();
        out_shape.erase(out_shape.begin() + d);
        out_shape.insert(out_shape.begin() + d, idx.shape().begin(), idx.shape().end());
        t = index_select(t, d, idx.reshape({-1})).reshape(out_shape);
        d += idx.dim();
        advanced = true;
        break;
      }
      case Kind::Mask: {
        const Tensor& mask = it.tensor;
        for (int64_t k = 0; k < mask.dim(); ++k)
          if (mask.size(k) != t.size(d + k))
            throw py::index_error("tensorgrad.Tensor indexing: a mask of shape " + shape_str(mask.shape()) +
                                  " does not match the indexed dimensions of shape " + shape_str(t.shape()) +
                                  " at dimension " + std::to_string(d + k));
        t = index_select(t.flatten(d, d + mask.dim() - 1), d, true_positions(mask));
        d += 1;
        advanced = true;
        break;
      }
    }
  }
  return {t, advanced};
}

}  // namespace

void bind_indexing(py::class_<Tensor>& tensor) {
  tensor.def("__getitem__", [](const Tensor& self, const py::handle& index) { return apply_index(self, parse(index)).result; },
             py::arg("index"));
  tensor.def(
      "__setitem__",
      [](Tensor& self, const py::handle& index, const py::handle& value) {
        const std::vector<Item> items = parse(index);
        for (const auto& it : items) {
          if (it.kind == Kind::IndexTensor)
            throw py::index_error("tensorgrad.Tensor.__setitem__: assignment through an index tensor is not supported; "
                                  "use scatter_add, or a bool mask");
          if (it.kind == Kind::Mask) {
            // x[mask] = v over leading dimensions: a where() over the whole tensor, written back in place.
            if (items.size() != 1)
              throw py::index_error("tensorgrad.Tensor.__setitem__: a mask must be the whole index");
            Tensor mask = it.tensor;
            if (mask.dim() > self.dim())
              throw py::index_error("tensorgrad.Tensor.__setitem__: a mask of shape " + shape_str(mask.shape()) +
                                    " has more dimensions than the tensor's " + shape_str(self.shape()));
            while (mask.dim() < self.dim()) mask = mask.unsqueeze(mask.dim());
            const Tensor v = tensor_or_scalar(value, self, "__setitem__");
            bool broadcasts = v.dim() <= self.dim();
            for (int64_t k = 1; broadcasts && k <= v.dim(); ++k)
              broadcasts = v.size(-k) == 1 || v.size(-k) == self.size(-k);
            if (!broadcasts)
              throw py::index_error("tensorgrad.Tensor.__setitem__: x[mask] = v takes a number or a tensor that "
                                    "broadcasts to x (shape " + shape_str(self.shape()) + "), got shape " +
                                    shape_str(v.shape()) + "; assigning the selected elements in order is not supported");
            self.copy_(where(mask, v.to(self.dtype()), self));
            return;
          }
        }
        Tensor view = apply_index(self, items).result;
        if (py::isinstance<Tensor>(value)) view.copy_(value.cast<Tensor>().to(view.dtype()).expand(view.shape()));
        else view.fill_(scalar_from(value, "__setitem__").value());
      },
      py::arg("index"), py::arg("value"));
}

}  // namespace tg::python
