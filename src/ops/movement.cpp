// Joining (cat, stack), padding and indexing (index_select, gather, scatter_add, one_hot).
#include <algorithm>

#include <tensorgrad/kernels/kernel_tables.h>
#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/movement.h>
#include <tensorgrad/ops/reduce.h>
#include <tensorgrad/ops/view.h>

#include "gather_vjp.h"
#include "profiling.h"
#include "record.h"

namespace tg {

namespace {

// A kernel argument for the part of `t` that starts at element `first` (relative to t's data) and spans `shape`.
kernels::StridedArg sub_arg(const Tensor& t, int64_t first) {
  char* base = static_cast<char*>(t.data_ptr()) + first * static_cast<int64_t>(itemsize(t.dtype()));
  return {base, t.strides(), t.dtype(), t.device().type};
}

// The index kernels have no bool instantiation: bool data goes through int64 and back.
DType index_dtype(DType d) { return d == DType::Bool ? DType::Int64 : d; }

// 0-d operands of gather/scatter_add are handled as 1-element 1-D ones.
Tensor at_least_1d(const Tensor& t) { return t.dim() > 0 ? t : t.as_strided({1}, {1}, t.offset()); }

void check_index_dtype(const Tensor& index, const char* op) {
  TG_CHECK(index.dtype() == DType::Int64, op, ": index must be int64, got ", dtype_name(index.dtype()));
}

// Raw gather over index's shape: out[i] = x[i with index[i] at dim].
Tensor gather_raw(const Tensor& x, int64_t dim, const Tensor& index) {
  const Tensor xk = ops::cast_raw(x, index_dtype(x.dtype()));
  Tensor out = Tensor::empty(index.shape(), xk.dtype(), xk.device());
  kernels::gather(index.shape(), dim, xk.size(dim), ops::arg(out), ops::arg(xk), ops::arg(index));
  return ops::cast_raw(out, x.dtype());
}

}  // namespace

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  TG_PROFILE_OP("cat", tensors);
  TG_CHECK(!tensors.empty(), "tg::cat: expected a non-empty list of tensors");
  const Tensor& first = tensors[0];
  TG_CHECK(first.dim() > 0, "tg::cat: zero-dimensional tensors cannot be concatenated");
  const int64_t d = wrap_dim(dim, first.dim(), "tg::cat");
  Shape shape = first.shape();
  shape[static_cast<size_t>(d)] = 0;
  DType dt = first.dtype();
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    TG_CHECK(t.dim() == first.dim(), "tg::cat: tensor ", i, " has shape ", t.shape(), " but tensor 0 has shape ",
             first.shape(), "; all need the same number of dimensions");
    for (int64_t k = 0; k < t.dim(); ++k)
      TG_CHECK(k == d || t.size(k) == first.size(k), "tg::cat: tensor ", i, " has shape ", t.shape(),
               " but tensor 0 has shape ", first.shape(), "; sizes must match except in dimension ", d);
    shape[static_cast<size_t>(d)] += t.size(d);
    dt = promote_types(dt, t.dtype());
    TG_CHECK(t.device() == first.device(), "tg::cat: tensor ", i, " is on ", t.device(), " but tensor 0 is on ",
             first.device(), "; move them to one device first");
  }

  Tensor out = Tensor::empty(shape, dt, first.device());
  std::vector<int64_t> offsets, sizes;
  int64_t offset = 0;
  for (const Tensor& t : tensors) {
    offsets.push_back(offset);
    sizes.push_back(t.size(d));
    if (t.numel() > 0) kernels::copy(t.shape(), sub_arg(out, offset * out.stride(d)), ops::arg(t));
    offset += t.size(d);
  }
  if (ops::needs_tangent(tensors)) {
    ops::push_tangent(tensors, out, [&](const TensorList& t) {
      TensorList parts;
      for (size_t i = 0; i < t.size(); ++i) parts.push_back(t[i].defined() ? t[i] : zeros_like(tensors[i]));
      return cat(parts, d);
    });
  }

  if (ops::needs_grad(tensors)) {
    std::vector<bool> wanted;
    for (const Tensor& t : tensors) wanted.push_back(t.requires_grad());
    ops::record("cat", tensors, out, [d, offsets, sizes, wanted](const Tensor& g, const TensorList&) -> TensorList {
      TensorList grads(offsets.size());
      for (size_t i = 0; i < offsets.size(); ++i)
        if (wanted[i]) grads[i] = narrow(g, d, offsets[i], sizes[i]);
      return grads;
    });
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  TG_PROFILE_OP("stack", tensors);
  TG_CHECK(!tensors.empty(), "tg::stack: expected a non-empty list of tensors");
  const Tensor& first = tensors[0];
  const int64_t d = wrap_dim(dim, first.dim() + 1, "tg::stack");
  std::vector<Tensor> parts;
  for (size_t i = 0; i < tensors.size(); ++i) {
    TG_CHECK(tensors[i].shape() == first.shape(), "tg::stack: tensor ", i, " has shape ", tensors[i].shape(),
             " but tensor 0 has shape ", first.shape(), "; all need the same shape");
    parts.push_back(unsqueeze(tensors[i], d));
  }
  return cat(parts, d);
}

Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, double value) {
  TG_PROFILE_OP("pad", x);
  TG_CHECK(pads.size() % 2 == 0, "tg::pad: pads must come in (before, after) pairs, got ", pads);
  TG_CHECK(static_cast<int64_t>(pads.size() / 2) <= x.dim(), "tg::pad: ", pads.size() / 2,
           " padded dimensions requested for a tensor of shape ", x.shape());
  for (int64_t p : pads) TG_CHECK(p >= 0, "tg::pad: negative padding is not supported, got ", pads);
  // before[d] for each dim, from pads listed last dim first.
  std::vector<int64_t> before(static_cast<size_t>(x.dim()), 0);
  Shape shape = x.shape();
  for (size_t i = 0; i < pads.size() / 2; ++i) {
    const size_t d = static_cast<size_t>(x.dim()) - 1 - i;
    before[d] = pads[2 * i];
    shape[d] += pads[2 * i] + pads[2 * i + 1];
  }

  Tensor out = Tensor::empty(shape, x.dtype(), x.device());
  kernels::fill(shape, ops::arg(out), value);
  int64_t first = 0;
  for (size_t d = 0; d < before.size(); ++d) first += before[d] * out.strides()[d];
  kernels::copy(x.shape(), sub_arg(out, first), ops::arg(x));
  if (ops::needs_tangent({x})) ops::push_tangent({x}, out, [&](const TensorList& t) { return pad(t[0], pads, 0.0); });

  if (ops::needs_grad({x})) {
    const Shape in_shape = x.shape();
    ops::record("pad", {x}, out, [before, in_shape](const Tensor& g, const TensorList&) -> TensorList {
      Tensor grad = g;
      for (size_t d = 0; d < before.size(); ++d)
        if (grad.size(static_cast<int64_t>(d)) != in_shape[d])
          grad = narrow(grad, static_cast<int64_t>(d), before[d], in_shape[d]);
      return {grad};
    });
  }
  return out;
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  TG_PROFILE_OP("index_select", x, index);
  check_index_dtype(index, "tg::index_select");
  TG_CHECK(index.dim() <= 1, "tg::index_select: index must be 1-D, got shape ", index.shape());
  TG_CHECK(x.dim() >= 1, "tg::index_select: input must have at least 1 dimension, got shape ", x.shape());
  const int64_t d = wrap_dim(dim, x.dim(), "tg::index_select");
  const Tensor idx = at_least_1d(index);
  const int64_t size = x.size(d);
  ops::check_same_device("tg::index_select", x, index);
  if (const int64_t i = ops::first_out_of_range(idx, 0, size); i >= 0)
    TG_FAIL("tg::index_select: index ", idx.slice(0, i, i + 1).item<int64_t>(), " is out of range for dimension ", d,
            " of size ", size, " (input shape ", x.shape(), ")");

  // A gather whose index is `idx` along d, broadcast (stride 0) over every other dim.
  Shape out_shape = x.shape();
  out_shape[static_cast<size_t>(d)] = idx.size(0);
  Strides idx_strides(out_shape.size(), 0);
  idx_strides[static_cast<size_t>(d)] = idx.stride(0);
  const Tensor idx_b = idx.as_strided(out_shape, idx_strides, idx.offset());
  Tensor out = gather_raw(x, d, idx_b);
  if (ops::needs_tangent({x})) {
    ops::push_tangent({x}, out, [&](const TensorList& t) { return index_select(t[0], d, index); });
  }

  if (ops::needs_grad({x})) {
    const Shape in_shape = x.shape();
    Shape idx_view(out_shape.size(), 1);
    idx_view[static_cast<size_t>(d)] = idx.size(0);
    ops::record(
        "index_select", {x}, out,
        [d, in_shape, idx_view](const Tensor& g, const TensorList& saved) -> TensorList {
          const Tensor spread = expand(reshape(saved[0], idx_view), g.shape());
          return {scatter_add(zeros(in_shape, g.dtype(), g.device()), d, spread, g)};
        },
        {{idx}});
  }
  return out;
}

namespace {
// What self is. Zeros: a temporary no one else refers to (gather's VJP passes the zeros it has just made), so
// the sums go straight into it instead of into a copy of it: one pass over the input's size fewer. Unwritten: an
// empty contiguous temporary in the kernel's dtype that stands for zeros; scatter_add_into_zeros writes all of it.
enum class FreshSelf { No, Zeros, Unwritten };
Tensor scatter_add_impl(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src, FreshSelf fresh);
}  // namespace

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  TG_PROFILE_OP("gather", x, index);
  check_index_dtype(index, "tg::gather");
  TG_CHECK(index.dim() == x.dim(), "tg::gather: index of shape ", index.shape(),
           " needs as many dimensions as the input of shape ", x.shape());
  const int64_t d = wrap_dim(dim, x.dim(), "tg::gather");
  for (int64_t k = 0; k < x.dim(); ++k)
    TG_CHECK(k == d || index.size(k) <= x.size(k), "tg::gather: index of shape ", index.shape(),
             " is larger than the input of shape ", x.shape(), " in dimension ", k);
  const Tensor x1 = at_least_1d(x);
  Tensor out = gather_raw(x1, d, at_least_1d(index));
  if (x.dim() == 0) out = out.as_strided({}, {}, out.offset());
  if (ops::needs_tangent({x})) ops::push_tangent({x}, out, [&](const TensorList& t) { return gather(t[0], d, index); });

  if (ops::needs_grad({x})) {
    const Shape in_shape = x.shape();
    ops::record(
        "gather", {x}, out,
        [d, in_shape](const Tensor& g, const TensorList& saved) -> TensorList {
          return {ops::gather_vjp(in_shape, d, saved[0], g)};
        },
        {{index}});
  }
  return out;
}

Tensor scatter_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  return scatter_add_impl(self, dim, index, src, FreshSelf::No);
}

Tensor ops::gather_vjp(const Shape& shape, int64_t dim, const Tensor& index, const Tensor& g) {
  // Where the device has it, one kernel zeroes and scatters (the zeros are never a separate pass over memory);
  // it writes the index's extent (dim_size along dim), so only when that is all of the result.
  const DType kd = index_dtype(g.dtype());
  bool index_spans_result = index.dim() == static_cast<int64_t>(shape.size());
  const int64_t d = index_spans_result && index.dim() > 0 ? wrap_dim(dim, index.dim(), "tg::gather") : 0;
  for (int64_t k = 0; index_spans_result && k < index.dim(); ++k)
    index_spans_result = k == d || index.size(k) == shape[static_cast<size_t>(k)];
  if (g.dtype() == kd && index_spans_result &&
      kernels::kernel_tables().index.supports(kernels::IndexOp::ScatterAddIntoZeros, g.device().type, kd))
    return scatter_add_impl(Tensor::empty(shape, kd, g.device()), dim, index, g, FreshSelf::Unwritten);
  return scatter_add_impl(zeros(shape, g.dtype(), g.device()), dim, index, g, FreshSelf::Zeros);
}

namespace {

Tensor scatter_add_impl(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src, FreshSelf fresh) {
  TG_PROFILE_OP("scatter_add", self, index, src);
  check_index_dtype(index, "tg::scatter_add");
  TG_CHECK(index.dim() == self.dim() && src.dim() == self.dim(), "tg::scatter_add: self ", self.shape(),
           ", index ", index.shape(), " and src ", src.shape(), " need the same number of dimensions");
  const int64_t d = wrap_dim(dim, self.dim(), "tg::scatter_add");
  for (int64_t k = 0; k < self.dim(); ++k) {
    TG_CHECK(index.size(k) <= src.size(k), "tg::scatter_add: index of shape ", index.shape(),
             " is larger than src of shape ", src.shape(), " in dimension ", k);
    TG_CHECK(k == d || index.size(k) <= self.size(k), "tg::scatter_add: index of shape ", index.shape(),
             " is larger than self of shape ", self.shape(), " in dimension ", k);
  }
  const DType dt = promote_types(self.dtype(), src.dtype());
  const DType kd = index_dtype(dt);
  // A fresh copy of self (in the kernel's dtype) receives the sums, or self's own storage when it is fresh.
  Tensor acc = fresh == FreshSelf::Unwritten ? self.detach() : ops::cast_raw(self, kd);
  if (fresh != FreshSelf::Unwritten && acc.same(self)) {
    if (fresh == FreshSelf::Zeros && self.is_contiguous() && !self.requires_grad()) {
      acc = self.detach();
    } else {
      acc = Tensor::empty(self.shape(), kd, self.device());
      kernels::copy(self.shape(), ops::arg(acc), ops::arg(self));
    }
  }
  const Tensor src_k = ops::cast_raw(src, kd);
  const Tensor acc1 = at_least_1d(acc), src1 = at_least_1d(src_k), index1 = at_least_1d(index);
  if (fresh == FreshSelf::Unwritten)
    kernels::scatter_add_into_zeros(index1.shape(), d, acc1.size(d), ops::arg(acc1), ops::arg(src1), ops::arg(index1));
  else
    kernels::scatter_add(index1.shape(), d, acc1.size(d), ops::arg(acc1), ops::arg(src1), ops::arg(index1));
  Tensor out = ops::cast_raw(acc, dt);
  if (ops::needs_tangent({self, src})) {
    ops::push_tangent({self, src}, out, [&](const TensorList& t) {
      return scatter_add(t[0].defined() ? t[0] : zeros_like(self), d, index, t[1].defined() ? t[1] : zeros_like(src));
    });
  }

  if (ops::needs_grad({self, src})) {
    const Shape src_shape = src.shape();
    ops::record(
        "scatter_add", {self, src}, out,
        [d, src_shape](const Tensor& g, const TensorList& saved) -> TensorList {
          Tensor grad_src = gather(g, d, saved[0]);
          // src may be larger than index: its uncovered elements never reached the output.
          if (grad_src.shape() != src_shape) {
            std::vector<int64_t> pads;
            for (size_t k = src_shape.size(); k-- > 0;) {
              pads.push_back(0);
              pads.push_back(src_shape[k] - grad_src.shape()[k]);
            }
            grad_src = pad(grad_src, pads);
          }
          return {g, grad_src};
        },
        {{index}});
  }
  return out;
}

}  // namespace

Tensor one_hot(const Tensor& labels, int64_t num_classes) {
  TG_PROFILE_OP("one_hot", labels);
  TG_CHECK(labels.dtype() == DType::Int64, "tg::one_hot: labels must be int64, got ", dtype_name(labels.dtype()));
  if (num_classes == -1) {
    TG_CHECK(labels.numel() > 0, "tg::one_hot: cannot infer num_classes from empty labels of shape ", labels.shape());
    num_classes = max(labels).item<int64_t>() + 1;
  }
  TG_CHECK(num_classes >= 0, "tg::one_hot: num_classes must be non-negative or -1, got ", num_classes);
  if (const int64_t i = ops::first_out_of_range(labels, 0, num_classes); i >= 0)
    TG_FAIL("tg::one_hot: label ", reshape(labels, {-1}).slice(0, i, i + 1).item<int64_t>(),
            " is out of range for num_classes ", num_classes);

  Shape shape = labels.shape();
  shape.push_back(num_classes);
  Tensor out = zeros(shape, DType::Int64, labels.device());
  // A scatter of ones: the labels (with a trailing size-1 dim) index the new last dim.
  Shape index_shape = labels.shape();
  index_shape.push_back(1);
  Strides index_strides = labels.strides();
  index_strides.push_back(0);
  const Tensor index = labels.as_strided(index_shape, index_strides, labels.offset());
  const Tensor one = ones({}, DType::Int64, labels.device());
  const int64_t last = static_cast<int64_t>(index_shape.size()) - 1;
  kernels::scatter_add(index_shape, last, num_classes, ops::arg(out), ops::arg(one, index_shape), ops::arg(index));
  return out;
}

}  // namespace tg
