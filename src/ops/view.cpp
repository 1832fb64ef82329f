#include <tensorgrad/ops/view.h>

#include <algorithm>
#include <optional>

#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/reduce.h>

#include "profiling.h"
#include "record.h"

namespace tg {

namespace {

// A view's JVP: the same view taken of the tangent (which may be laid out differently from x).
using ViewOfTangent = std::function<Tensor(const Tensor& tangent)>;

// A view of x's storage recorded as op `name`; the VJP maps the view's gradient back to x's shape.
Tensor make_view(const char* name, const Tensor& x, const Shape& shape, const Strides& strides, int64_t offset,
                 VjpFn vjp, const ViewOfTangent& jvp) {
  Tensor out = x.as_strided(shape, strides, offset);
  if (ops::needs_tangent({x})) ops::push_tangent({x}, out, [&](const TensorList& t) { return jvp(t[0]); });
  if (ops::needs_grad({x})) {
    ops::record(name, {x}, out, std::move(vjp));
    ops::mark_view(out);
  }
  return out;
}

VjpFn reshape_back(const Shape& input_shape) {
  return [input_shape](const Tensor& g, const TensorList&) -> TensorList { return {reshape(g, input_shape)}; };
}

// Dims of ops that index into a dimension (slice, narrow, select) need a tensor with at least one.
int64_t wrap_indexed_dim(const Tensor& x, int64_t dim, const char* op) {
  TG_CHECK(x.dim() > 0, op, ": cannot index into a 0-d tensor");
  return wrap_dim(dim, x.dim(), op);
}

// Resolves a single -1 and checks the element count.
Shape infer_shape(const Tensor& x, const Shape& requested, const char* op) {
  Shape shape = requested;
  int64_t infer_at = -1;
  int64_t known = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == -1) {
      TG_CHECK(infer_at < 0, op, ": only one dimension can be -1, got ", requested);
      infer_at = static_cast<int64_t>(d);
      continue;
    }
    TG_CHECK(shape[d] >= 0, op, ": invalid dimension ", shape[d], " in shape ", requested);
    known *= shape[d];
  }
  const int64_t n = x.numel();
  if (infer_at >= 0) {
    TG_CHECK(known != 0, op, ": cannot reshape a tensor of shape ", x.shape(), " (", n, " elements) to ",
             requested, ": the -1 dimension could be any size");
    TG_CHECK(n % known == 0, op, ": cannot reshape a tensor of shape ", x.shape(), " (", n, " elements) to ",
             requested);
    shape[static_cast<size_t>(infer_at)] = n / known;
  } else {
    TG_CHECK(known == n, op, ": cannot reshape a tensor of shape ", x.shape(), " (", n, " elements) to ",
             requested);
  }
  return shape;
}

// Strides that read a tensor of old_shape/old_strides as new_shape without copying, if any exist
// (PyTorch's computeStride): old dims are grouped into chunks that are contiguous among themselves, and
// each chunk must be covered exactly by a run of new dims.
std::optional<Strides> compute_strides(const Shape& old_shape, const Strides& old_strides, const Shape& new_shape) {
  if (old_shape.empty()) return Strides(new_shape.size(), 1);
  const int64_t n = numel_of(old_shape);
  if (n == 0) return old_shape == new_shape ? old_strides : contiguous_strides(new_shape);
  Strides new_strides(new_shape.size());
  auto view_d = static_cast<int64_t>(new_shape.size()) - 1;
  int64_t chunk_base_stride = old_strides.back();
  int64_t tensor_numel = 1;
  int64_t view_numel = 1;
  for (auto tensor_d = static_cast<int64_t>(old_shape.size()) - 1; tensor_d >= 0; --tensor_d) {
    const auto td = static_cast<size_t>(tensor_d);
    tensor_numel *= old_shape[td];
    const bool chunk_ends =
        tensor_d == 0 || (old_shape[td - 1] != 1 && old_strides[td - 1] != tensor_numel * chunk_base_stride);
    if (!chunk_ends) continue;
    while (view_d >= 0 && (view_numel < tensor_numel || new_shape[static_cast<size_t>(view_d)] == 1)) {
      new_strides[static_cast<size_t>(view_d)] = view_numel * chunk_base_stride;
      view_numel *= new_shape[static_cast<size_t>(view_d)];
      --view_d;
    }
    if (view_numel != tensor_numel) return std::nullopt;
    if (tensor_d > 0) {
      chunk_base_stride = old_strides[td - 1];
      tensor_numel = 1;
      view_numel = 1;
    }
  }
  if (view_d != -1) return std::nullopt;
  return new_strides;
}

Tensor copy_of(const Tensor& x) {
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  kernels::copy(x.shape(), ops::arg(out), ops::arg(x));
  return out;
}

// Gradient of a strided window (slice, narrow, select): zeros of the input's shape with g written into the
// window at `start` with `step` along `dim`. Its own VJP is the slice again, so higher orders work.
Tensor slice_backward(const Tensor& g, const Shape& input_shape, int64_t dim, int64_t start, int64_t step) {
  Tensor out = zeros(input_shape, g.dtype(), g.device());
  Strides window_strides = out.strides();
  const auto d = static_cast<size_t>(dim);
  window_strides[d] *= step;
  Tensor window = out.as_strided(g.shape(), window_strides, start * out.strides()[d]);
  kernels::copy(g.shape(), ops::arg(window), ops::arg(g));
  if (ops::needs_tangent({g})) {
    ops::push_tangent({g}, out, [&](const TensorList& t) { return slice_backward(t[0], input_shape, dim, start, step); });
  }
  if (ops::needs_grad({g})) {
    const int64_t len = g.shape()[d];
    const int64_t end = len == 0 ? start : start + (len - 1) * step + 1;
    ops::record("slice_backward", {g}, out, [dim, start, end, step](const Tensor& gg, const TensorList&) -> TensorList {
      return {slice(gg, dim, start, end, step)};
    });
  }
  return out;
}

// The window [start, start + length * step) along `dim` (bounds already resolved), recorded as `op`.
Tensor window_view(const Tensor& x, const char* op, int64_t dim, int64_t start, int64_t length, int64_t step) {
  const auto d = static_cast<size_t>(dim);
  Shape shape = x.shape();
  Strides strides = x.strides();
  shape[d] = length;
  const int64_t offset = x.offset() + start * strides[d];
  strides[d] *= step;
  const Shape input_shape = x.shape();
  return make_view(op, x, shape, strides, offset,
                   [input_shape, dim, start, step](const Tensor& g, const TensorList&) -> TensorList {
                     return {slice_backward(g, input_shape, dim, start, step)};
                   },
                   [op, dim, start, length, step](const Tensor& t) { return window_view(t, op, dim, start, length, step); });
}

}  // namespace

Tensor reshape(const Tensor& x, Shape shape) {
  TG_PROFILE_OP("reshape", x);
  shape = infer_shape(x, shape, "tg::reshape");
  if (auto strides = compute_strides(x.shape(), x.strides(), shape))
    return make_view("reshape", x, shape, *strides, x.offset(), reshape_back(x.shape()),
                     [&shape](const Tensor& t) { return reshape(t, shape); });
  // No strides describe the result: copy into a fresh contiguous tensor of the new shape.
  Tensor out = Tensor::empty(shape, x.dtype(), x.device());
  kernels::copy(x.shape(), ops::arg(out.as_strided(x.shape(), contiguous_strides(x.shape()), 0)), ops::arg(x));
  if (ops::needs_tangent({x})) ops::push_tangent({x}, out, [&](const TensorList& t) { return reshape(t[0], shape); });
  if (ops::needs_grad({x})) ops::record("reshape", {x}, out, reshape_back(x.shape()));
  return out;
}

Tensor view(const Tensor& x, Shape shape) {
  TG_PROFILE_OP("view", x);
  shape = infer_shape(x, shape, "tg::view");
  auto strides = compute_strides(x.shape(), x.strides(), shape);
  TG_CHECK(strides.has_value(), "tg::view: cannot view a tensor of shape ", x.shape(), " with strides ",
           x.strides(), " as ", shape, " without copying; use reshape");
  return make_view("view", x, shape, *strides, x.offset(), reshape_back(x.shape()),
                   [&shape](const Tensor& t) { return reshape(t, shape); });
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  TG_PROFILE_OP("permute", x);
  const int64_t n = x.dim();
  TG_CHECK(static_cast<int64_t>(dims.size()) == n, "tg::permute: permutation ", dims, " has ", dims.size(),
           " entries for a tensor of shape ", x.shape());
  std::vector<int64_t> inverse(dims.size(), -1);
  Shape shape(dims.size());
  Strides strides(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) {
    const auto d = static_cast<size_t>(wrap_dim(dims[i], n, "tg::permute"));
    TG_CHECK(inverse[d] < 0, "tg::permute: dimension ", d, " repeats in permutation ", dims);
    inverse[d] = static_cast<int64_t>(i);
    shape[i] = x.shape()[d];
    strides[i] = x.strides()[d];
  }
  return make_view("permute", x, shape, strides, x.offset(), [inverse](const Tensor& g, const TensorList&) -> TensorList {
    return {permute(g, inverse)};
  }, [&dims](const Tensor& t) { return permute(t, dims); });
}

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  TG_PROFILE_OP("transpose", x);
  dim0 = wrap_dim(dim0, x.dim(), "tg::transpose");
  dim1 = wrap_dim(dim1, x.dim(), "tg::transpose");
  Shape shape = x.shape();
  Strides strides = x.strides();
  if (x.dim() > 0) {
    std::swap(shape[static_cast<size_t>(dim0)], shape[static_cast<size_t>(dim1)]);
    std::swap(strides[static_cast<size_t>(dim0)], strides[static_cast<size_t>(dim1)]);
  }
  return make_view("transpose", x, shape, strides, x.offset(), [dim0, dim1](const Tensor& g, const TensorList&) -> TensorList {
    return {transpose(g, dim0, dim1)};
  }, [dim0, dim1](const Tensor& t) { return transpose(t, dim0, dim1); });
}

Tensor expand(const Tensor& x, const Shape& shape) {
  TG_PROFILE_OP("expand", x);
  TG_CHECK(shape.size() >= x.shape().size(), "tg::expand: cannot expand a tensor of shape ", x.shape(), " to ",
           shape, " (fewer dimensions)");
  const size_t lead = shape.size() - x.shape().size();
  Shape out_shape(shape.size());
  Strides strides(shape.size(), 0);
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i < lead) {
      TG_CHECK(shape[i] >= 0, "tg::expand: invalid size ", shape[i], " for new leading dimension ", i, " in ",
               shape, " (expanding ", x.shape(), ")");
      out_shape[i] = shape[i];
      continue;
    }
    const int64_t have = x.shape()[i - lead];
    const int64_t want = shape[i] == -1 ? have : shape[i];
    TG_CHECK(want == have || (have == 1 && want >= 0), "tg::expand: cannot expand a tensor of shape ", x.shape(),
             " to ", shape, " (dimension ", i, ": ", have, " to ", shape[i], ")");
    out_shape[i] = want;
    strides[i] = want == have ? x.strides()[i - lead] : 0;
  }
  const Shape input_shape = x.shape();
  return make_view("expand", x, out_shape, strides, x.offset(), [input_shape](const Tensor& g, const TensorList&) -> TensorList {
    return {sum_to(g, input_shape)};
  }, [&out_shape](const Tensor& t) { return expand(t, out_shape); });
}

Tensor expand_as(const Tensor& x, const Tensor& other) { return expand(x, other.shape()); }

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  TG_PROFILE_OP("slice", x);
  dim = wrap_indexed_dim(x, dim, "tg::slice");
  TG_CHECK(step > 0, "tg::slice: step must be positive, got ", step);
  const int64_t n = x.shape()[static_cast<size_t>(dim)];
  auto clamp_bound = [n](int64_t b) { return std::clamp<int64_t>(b < 0 ? b + n : b, 0, n); };
  start = clamp_bound(start);
  end = std::max(clamp_bound(end), start);
  return window_view(x, "slice", dim, start, (end - start + step - 1) / step, step);
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  TG_PROFILE_OP("narrow", x);
  dim = wrap_indexed_dim(x, dim, "tg::narrow");
  const int64_t n = x.shape()[static_cast<size_t>(dim)];
  TG_CHECK(start >= -n && start <= n, "tg::narrow: start ", start, " out of range for dimension ", dim,
           " of size ", n, " (shape ", x.shape(), ")");
  if (start < 0) start += n;
  TG_CHECK(length >= 0 && start + length <= n, "tg::narrow: window [", start, ", ", start + length,
           ") out of range for dimension ", dim, " of size ", n, " (shape ", x.shape(), ")");
  return window_view(x, "narrow", dim, start, length, 1);
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  TG_PROFILE_OP("select", x);
  dim = wrap_indexed_dim(x, dim, "tg::select");
  const auto d = static_cast<size_t>(dim);
  const int64_t n = x.shape()[d];
  TG_CHECK(index >= -n && index < n, "tg::select: index ", index, " out of range for dimension ", dim,
           " of size ", n, " (shape ", x.shape(), ")");
  if (index < 0) index += n;
  Shape shape = x.shape();
  Strides strides = x.strides();
  const int64_t offset = x.offset() + index * strides[d];
  shape.erase(shape.begin() + dim);
  strides.erase(strides.begin() + dim);
  const Shape input_shape = x.shape();
  return make_view("select", x, shape, strides, offset,
                   [input_shape, dim, index](const Tensor& g, const TensorList&) -> TensorList {
                     return {slice_backward(unsqueeze(g, dim), input_shape, dim, index, 1)};
                   },
                   [dim, index](const Tensor& t) { return select(t, dim, index); });
}

Tensor squeeze(const Tensor& x) {
  TG_PROFILE_OP("squeeze", x);
  Shape shape;
  Strides strides;
  for (size_t d = 0; d < x.shape().size(); ++d) {
    if (x.shape()[d] == 1) continue;
    shape.push_back(x.shape()[d]);
    strides.push_back(x.strides()[d]);
  }
  return make_view("squeeze", x, shape, strides, x.offset(), reshape_back(x.shape()),
                   [&shape](const Tensor& t) { return reshape(t, shape); });
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  TG_PROFILE_OP("squeeze", x);
  dim = wrap_dim(dim, x.dim(), "tg::squeeze");
  Shape shape = x.shape();
  Strides strides = x.strides();
  if (x.dim() > 0 && shape[static_cast<size_t>(dim)] == 1) {
    shape.erase(shape.begin() + dim);
    strides.erase(strides.begin() + dim);
  }
  return make_view("squeeze", x, shape, strides, x.offset(), reshape_back(x.shape()),
                   [&shape](const Tensor& t) { return reshape(t, shape); });
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  TG_PROFILE_OP("unsqueeze", x);
  dim = wrap_dim(dim, x.dim() + 1, "tg::unsqueeze");
  const auto d = static_cast<size_t>(dim);
  Shape shape = x.shape();
  Strides strides = x.strides();
  // Any stride is valid for a size-1 dim; this one keeps a contiguous input contiguous.
  const int64_t stride = d < shape.size() ? shape[d] * strides[d] : 1;
  shape.insert(shape.begin() + dim, 1);
  strides.insert(strides.begin() + dim, stride);
  return make_view("unsqueeze", x, shape, strides, x.offset(), reshape_back(x.shape()),
                   [dim](const Tensor& t) { return unsqueeze(t, dim); });
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  TG_PROFILE_OP("flatten", x);
  if (x.dim() == 0) return reshape(x, {1});
  start_dim = wrap_dim(start_dim, x.dim(), "tg::flatten");
  end_dim = wrap_dim(end_dim, x.dim(), "tg::flatten");
  TG_CHECK(start_dim <= end_dim, "tg::flatten: start_dim ", start_dim, " comes after end_dim ", end_dim,
           " (shape ", x.shape(), ")");
  const auto& s = x.shape();
  Shape shape(s.begin(), s.begin() + start_dim);
  int64_t merged = 1;
  for (int64_t d = start_dim; d <= end_dim; ++d) merged *= s[static_cast<size_t>(d)];
  shape.push_back(merged);
  shape.insert(shape.end(), s.begin() + end_dim + 1, s.end());
  return reshape(x, shape);
}

Tensor contiguous(const Tensor& x) {
  TG_PROFILE_OP("contiguous", x);
  if (x.is_contiguous()) return x;
  Tensor out = copy_of(x);
  if (ops::needs_tangent({x})) ops::push_tangent({x}, out, [](const TensorList& t) { return contiguous(t[0]); });
  if (ops::needs_grad({x}))
    ops::record("contiguous", {x}, out, [](const Tensor& g, const TensorList&) -> TensorList { return {g}; });
  return out;
}

Tensor clone(const Tensor& x) {
  TG_PROFILE_OP("clone", x);
  Tensor out = copy_of(x);
  if (ops::needs_tangent({x})) ops::push_tangent({x}, out, [](const TensorList& t) { return clone(t[0]); });
  if (ops::needs_grad({x}))
    ops::record("clone", {x}, out, [](const Tensor& g, const TensorList&) -> TensorList { return {g}; });
  return out;
}

Tensor to(const Tensor& x, DType dtype) {
  TG_PROFILE_OP("to", x);
  if (x.dtype() == dtype) return x;
  Tensor out = ops::cast_raw(x, dtype);
  if (ops::needs_tangent({x})) ops::push_tangent({x}, out, [dtype](const TensorList& t) { return to(t[0], dtype); });
  // A cast to an integral dtype ends the graph: such tensors never require grad.
  if (is_floating(dtype) && ops::needs_grad({x})) {
    const DType input_dtype = x.dtype();
    ops::record("to", {x}, out, [input_dtype](const Tensor& g, const TensorList&) -> TensorList {
      return {to(g, input_dtype)};
    });
  }
  return out;
}

namespace {

// A contiguous copy of x on `device`: the bytes move through the two devices' allocators (host memory in
// between when neither is the CPU); the layout is made contiguous on x's own device first.
Tensor copy_to_device(const Tensor& x, Device device) {
  const Tensor src = x.is_contiguous() ? x : copy_of(x);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), device);
  const size_t nbytes = static_cast<size_t>(x.numel()) * itemsize(x.dtype());
  if (nbytes == 0) return out;
  if (src.is_cpu()) {
    allocator_for(device).copy_from_host(out.data_ptr(), src.data_ptr(), nbytes);
  } else if (device.is_cpu()) {
    allocator_for(src.device()).copy_to_host(out.data_ptr(), src.data_ptr(), nbytes);
  } else {
    const Tensor staging = Tensor::empty(x.shape(), x.dtype());
    allocator_for(src.device()).copy_to_host(staging.data_ptr(), src.data_ptr(), nbytes);
    allocator_for(device).copy_from_host(out.data_ptr(), staging.data_ptr(), nbytes);
  }
  return out;
}

}  // namespace

Tensor to(const Tensor& x, Device device) {
  TG_PROFILE_OP("to", x);
  TG_CHECK(x.defined(), "tg::to: the tensor is undefined");
  if (x.device() == device) return x;
  Tensor out = copy_to_device(x, device);
  if (ops::needs_tangent({x})) ops::push_tangent({x}, out, [device](const TensorList& t) { return to(t[0], device); });
  if (ops::needs_grad({x})) {
    const Device input_device = x.device();
    ops::record("to", {x}, out, [input_device](const Tensor& g, const TensorList&) -> TensorList {
      return {to(g, input_device)};
    });
  }
  return out;
}

}  // namespace tg
