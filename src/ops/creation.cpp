#include <tensorgrad/ops/creation.h>

#include <algorithm>
#include <cmath>

#include "profiling.h"
#include "record.h"

namespace tg {

namespace {

void check_shape(const Shape& shape, const char* op) {
  for (int64_t s : shape) TG_CHECK(s >= 0, op, ": negative dimension in shape ", shape);
}

Tensor filled(const Shape& shape, double value, DType dtype, Device device, const char* op) {
  TG_PROFILE_OP(op + 4);  // op is "tg::zeros" etc.: the event takes the name after "tg::"
  check_shape(shape, op);
  Tensor out = Tensor::empty(shape, dtype, device);
  kernels::fill(shape, ops::arg(out), value);
  return out;
}

// out[i] = start + i * step over a fresh 1-D tensor of n elements.
Tensor sequence(int64_t n, double start, double step, DType dtype, Device device) {
  Tensor out = Tensor::empty({n}, dtype, device);
  kernels::sequence(out.shape(), ops::arg(out), start, step);
  return out;
}

// Counter-based draws: a fill of n numbers reserves the Philox blocks it reads (kernels::random_blocks), so
// every element is a pure function of (seed, offset at call, i).
Tensor draw(kernels::RandomOp op, const Shape& shape, DType dtype, Device device, Generator& gen,
            kernels::RandomParams params = {}) {
  Tensor out = Tensor::empty(shape, dtype, device);
  params.seed = gen.seed();
  params.first_block = gen.reserve(kernels::random_blocks(op, dtype, out.numel()));
  kernels::random(op, shape, ops::arg(out), params);
  return out;
}

}  // namespace

Tensor empty(const Shape& shape, DType dtype, Device device) {
  TG_PROFILE_OP("empty");
  check_shape(shape, "tg::empty");
  return Tensor::empty(shape, dtype, device);
}

Tensor zeros(const Shape& shape, DType dtype, Device device) { return filled(shape, 0.0, dtype, device, "tg::zeros"); }
Tensor ones(const Shape& shape, DType dtype, Device device) { return filled(shape, 1.0, dtype, device, "tg::ones"); }
Tensor full(const Shape& shape, double value, DType dtype, Device device) {
  return filled(shape, value, dtype, device, "tg::full");
}
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype(), t.device()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype(), t.device()); }
Tensor full_like(const Tensor& t, double value) { return full(t.shape(), value, t.dtype(), t.device()); }
Tensor empty_like(const Tensor& t) { return empty(t.shape(), t.dtype(), t.device()); }
Tensor scalar_tensor(double value, DType dtype, Device device) {
  return filled({}, value, dtype, device, "tg::scalar_tensor");
}

Tensor arange(int64_t end, Device device) {
  TG_CHECK(end >= 0, "tg::arange: end must be >= 0 for arange(end), got ", end);
  return sequence(end, 0.0, 1.0, DType::Int64, device);
}

Tensor arange(double start, double end, double step, DType dtype, Device device) {
  TG_PROFILE_OP("arange");
  TG_CHECK(std::isfinite(start) && std::isfinite(end) && std::isfinite(step), "tg::arange: start, end and step "
           "must be finite, got start=", start, " end=", end, " step=", step);
  TG_CHECK(step != 0.0, "tg::arange: step must be nonzero");
  TG_CHECK((step > 0 && end >= start) || (step < 0 && end <= start), "tg::arange: step ", step,
           " has the wrong sign for the range from ", start, " to ", end);
  TG_CHECK(dtype != DType::Bool, "tg::arange: dtype bool is not supported");
  const auto n = static_cast<int64_t>(std::ceil((end - start) / step));
  return sequence(n, start, step, dtype, device);
}

Tensor linspace(double start, double end, int64_t steps, DType dtype, Device device) {
  TG_PROFILE_OP("linspace");
  TG_CHECK(steps >= 0, "tg::linspace: number of steps must be >= 0, got ", steps);
  TG_CHECK(dtype != DType::Bool, "tg::linspace: dtype bool is not supported");
  if (steps == 1) return sequence(1, start, 0.0, dtype, device);
  const double step = (end - start) / static_cast<double>(steps - 1);
  // The second half is filled backwards from `end` (as PyTorch does), so the last value is exactly `end`:
  // element steps-1-j of the second half is end - j * step.
  const int64_t half = steps / 2;
  Tensor out = Tensor::empty({steps}, dtype, device);
  kernels::sequence({half}, ops::arg(out), start, step);
  const int64_t rest = steps - half;
  const Tensor tail = out.as_strided({rest}, {-1}, steps - 1);
  kernels::sequence({rest}, {tail.data_ptr(), {-1}, dtype, out.device().type}, end, -step);
  return out;
}

Tensor eye(int64_t n, int64_t m, DType dtype, Device device) {
  TG_PROFILE_OP("eye");
  if (m == -1) m = n;
  TG_CHECK(n >= 0 && m >= 0, "tg::eye: sizes must be >= 0, got n=", n, " m=", m);
  Tensor out = zeros({n, m}, dtype, device);
  // The diagonal as a 1-D strided view: stride m + 1 steps one row down and one column right.
  const int64_t k = std::min(n, m);
  kernels::fill({k}, ops::arg(out.as_strided({k}, {m + 1}, 0)), 1.0);
  return out;
}

template <class T>
Tensor from_vector(const std::vector<T>& values, Shape shape, Device device) {
  TG_PROFILE_OP("from_vector");
  const auto count = static_cast<int64_t>(values.size());
  if (shape.empty()) shape = {count};
  check_shape(shape, "tg::from_vector");
  TG_CHECK(numel_of(shape) == count, "tg::from_vector: ", count, " values do not fill shape ", shape, " (",
           numel_of(shape), " elements)");
  Tensor host = Tensor::empty(shape, dtype_of<T>());
  // std::copy rather than memcpy: std::vector<bool> is bit-packed.
  std::copy(values.begin(), values.end(), host.data<T>());
  return device.is_cpu() ? host : host.to(device);
}
template Tensor from_vector<bool>(const std::vector<bool>&, Shape, Device);
template Tensor from_vector<int64_t>(const std::vector<int64_t>&, Shape, Device);
template Tensor from_vector<float>(const std::vector<float>&, Shape, Device);
template Tensor from_vector<double>(const std::vector<double>&, Shape, Device);
template Tensor from_vector<bfloat16>(const std::vector<bfloat16>&, Shape, Device);
template Tensor from_vector<float16>(const std::vector<float16>&, Shape, Device);

Tensor from_blob(void* data, const Shape& shape, DType dtype, const Strides& strides) {
  check_shape(shape, "tg::from_blob");
  const Strides st = strides.empty() && !shape.empty() ? contiguous_strides(shape) : strides;
  TG_CHECK(st.size() == shape.size(), "tg::from_blob: ", st.size(), " strides ", st, " for shape ", shape);
  for (int64_t s : st) TG_CHECK(s >= 0, "tg::from_blob: negative stride in ", st, " (shape ", shape, ")");
  const int64_t n = numel_of(shape);
  TG_CHECK(data != nullptr || n == 0, "tg::from_blob: null data for shape ", shape);
  // Bytes spanned by the view: one past the element at the largest index.
  int64_t extent = n == 0 ? 0 : 1;
  if (n != 0)
    for (size_t d = 0; d < shape.size(); ++d) extent += (shape[d] - 1) * st[d];
  auto storage = Storage::wrap(data, static_cast<size_t>(extent) * itemsize(dtype), {});
  return Tensor(std::make_shared<TensorImpl>(std::move(storage), shape, st, 0, dtype));
}

Tensor rand(const Shape& shape, DType dtype, Generator& gen, Device device) {
  TG_PROFILE_OP("rand");
  check_shape(shape, "tg::rand");
  TG_CHECK(is_floating(dtype), "tg::rand: expected a floating dtype, got ", dtype_name(dtype));
  return draw(kernels::RandomOp::Uniform, shape, dtype, device, gen);
}

Tensor randn(const Shape& shape, DType dtype, Generator& gen, Device device) {
  TG_PROFILE_OP("randn");
  check_shape(shape, "tg::randn");
  TG_CHECK(is_floating(dtype), "tg::randn: expected a floating dtype, got ", dtype_name(dtype));
  return draw(kernels::RandomOp::Normal, shape, dtype, device, gen);
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, Generator& gen, Device device) {
  TG_PROFILE_OP("randint");
  check_shape(shape, "tg::randint");
  TG_CHECK(high > low, "tg::randint: expected low < high, got low=", low, " high=", high);
  // Unsigned arithmetic: high - low may exceed INT64_MAX. 64 random bits per value keep the modulo bias
  // below range / 2^64.
  const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  return draw(kernels::RandomOp::Integer, shape, DType::Int64, device, gen, {.low = low, .range = range});
}

}  // namespace tg
