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

Tensor filled(const Shape& shape, double value, DType dtype, const char* op) {
  TG_PROFILE_OP(op + 4);  // op is "tg::zeros" etc.: the event takes the name after "tg::"
  check_shape(shape, op);
  Tensor out = Tensor::empty(shape, dtype);
  kernels::fill(shape, ops::arg(out), value);
  return out;
}

// Writes value_of(i) (a double) into element i of a fresh 1-D tensor.
template <class F>
Tensor from_index(int64_t n, DType dtype, F value_of) {
  Tensor out = Tensor::empty({n}, dtype);
  visit_dtype(dtype, [&]<class T>(TypeTag<T>) {
    T* p = out.data<T>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(value_of(i));
  });
  return out;
}

// Counter-based draws: a draw of n numbers reserves ceil(n / per_block) Philox blocks, and element i reads
// block first + i / per_block, so every element is a pure function of (seed, offset at call, i).
template <class T, class F>
Tensor draw(const Shape& shape, DType dtype, Generator& gen, int64_t per_block, F make) {
  Tensor out = Tensor::empty(shape, dtype);
  const int64_t n = out.numel();
  const uint64_t blocks = static_cast<uint64_t>((n + per_block - 1) / per_block);
  const uint64_t first = gen.reserve(blocks);
  T* p = out.data<T>();
  for (uint64_t b = 0; b < blocks; ++b) {
    const int64_t base = static_cast<int64_t>(b) * per_block;
    make(gen.block(first + b), p + base, std::min(per_block, n - base));
  }
  return out;
}

// (0, 1] rather than [0, 1), so Box-Muller never takes log(0).
inline double open_low_float(uint32_t bits) { return 1.0 - static_cast<double>(uniform_float(bits)); }
inline double open_low_double(uint32_t hi, uint32_t lo) { return 1.0 - uniform_double(hi, lo); }

inline void box_muller(double u1, double u2, double& z0, double& z1) {
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  const double r = std::sqrt(-2.0 * std::log(u1));
  z0 = r * std::cos(kTwoPi * u2);
  z1 = r * std::sin(kTwoPi * u2);
}

}  // namespace

Tensor empty(const Shape& shape, DType dtype) {
  TG_PROFILE_OP("empty");
  check_shape(shape, "tg::empty");
  return Tensor::empty(shape, dtype);
}

Tensor zeros(const Shape& shape, DType dtype) { return filled(shape, 0.0, dtype, "tg::zeros"); }
Tensor ones(const Shape& shape, DType dtype) { return filled(shape, 1.0, dtype, "tg::ones"); }
Tensor full(const Shape& shape, double value, DType dtype) { return filled(shape, value, dtype, "tg::full"); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype()); }
Tensor full_like(const Tensor& t, double value) { return full(t.shape(), value, t.dtype()); }
Tensor scalar_tensor(double value, DType dtype) { return filled({}, value, dtype, "tg::scalar_tensor"); }

Tensor arange(int64_t end) {
  TG_CHECK(end >= 0, "tg::arange: end must be >= 0 for arange(end), got ", end);
  return from_index(end, DType::Int64, [](int64_t i) { return i; });
}

Tensor arange(double start, double end, double step, DType dtype) {
  TG_PROFILE_OP("arange");
  TG_CHECK(std::isfinite(start) && std::isfinite(end) && std::isfinite(step), "tg::arange: start, end and step "
           "must be finite, got start=", start, " end=", end, " step=", step);
  TG_CHECK(step != 0.0, "tg::arange: step must be nonzero");
  TG_CHECK((step > 0 && end >= start) || (step < 0 && end <= start), "tg::arange: step ", step,
           " has the wrong sign for the range from ", start, " to ", end);
  TG_CHECK(dtype != DType::Bool, "tg::arange: dtype bool is not supported");
  const auto n = static_cast<int64_t>(std::ceil((end - start) / step));
  return from_index(n, dtype, [&](int64_t i) { return start + static_cast<double>(i) * step; });
}

Tensor linspace(double start, double end, int64_t steps, DType dtype) {
  TG_PROFILE_OP("linspace");
  TG_CHECK(steps >= 0, "tg::linspace: number of steps must be >= 0, got ", steps);
  TG_CHECK(dtype != DType::Bool, "tg::linspace: dtype bool is not supported");
  if (steps == 1) return from_index(1, dtype, [&](int64_t) { return start; });
  const double step = (end - start) / static_cast<double>(steps - 1);
  // Fill the second half backwards from `end` (as PyTorch does), so the last value is exactly `end`.
  const int64_t half = steps / 2;
  return from_index(steps, dtype, [&](int64_t i) {
    return i < half ? start + step * static_cast<double>(i) : end - step * static_cast<double>(steps - 1 - i);
  });
}

Tensor eye(int64_t n, int64_t m, DType dtype) {
  TG_PROFILE_OP("eye");
  if (m == -1) m = n;
  TG_CHECK(n >= 0 && m >= 0, "tg::eye: sizes must be >= 0, got n=", n, " m=", m);
  Tensor out = zeros({n, m}, dtype);
  // The diagonal as a 1-D strided view: stride m + 1 steps one row down and one column right.
  const int64_t k = std::min(n, m);
  kernels::fill({k}, {out.data_ptr(), {m + 1}, dtype}, 1.0);
  return out;
}

template <class T>
Tensor from_vector(const std::vector<T>& values, Shape shape) {
  TG_PROFILE_OP("from_vector");
  const auto count = static_cast<int64_t>(values.size());
  if (shape.empty()) shape = {count};
  check_shape(shape, "tg::from_vector");
  TG_CHECK(numel_of(shape) == count, "tg::from_vector: ", count, " values do not fill shape ", shape, " (",
           numel_of(shape), " elements)");
  Tensor out = Tensor::empty(shape, dtype_of<T>());
  // std::copy rather than memcpy: std::vector<bool> is bit-packed.
  std::copy(values.begin(), values.end(), out.data<T>());
  return out;
}
template Tensor from_vector<bool>(const std::vector<bool>&, Shape);
template Tensor from_vector<int64_t>(const std::vector<int64_t>&, Shape);
template Tensor from_vector<float>(const std::vector<float>&, Shape);
template Tensor from_vector<double>(const std::vector<double>&, Shape);

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

Tensor rand(const Shape& shape, DType dtype, Generator& gen) {
  TG_PROFILE_OP("rand");
  check_shape(shape, "tg::rand");
  return visit_floating(dtype, "tg::rand", [&]<class T>(TypeTag<T>) {
    if constexpr (std::is_same_v<T, float>) {
      return draw<float>(shape, dtype, gen, 4, [](std::array<uint32_t, 4> w, float* p, int64_t k) {
        for (int64_t j = 0; j < k; ++j) p[j] = uniform_float(w[static_cast<size_t>(j)]);
      });
    } else {
      return draw<double>(shape, dtype, gen, 2, [](std::array<uint32_t, 4> w, double* p, int64_t k) {
        for (int64_t j = 0; j < k; ++j) p[j] = uniform_double(w[2 * static_cast<size_t>(j)], w[2 * static_cast<size_t>(j) + 1]);
      });
    }
  });
}

Tensor randn(const Shape& shape, DType dtype, Generator& gen) {
  TG_PROFILE_OP("randn");
  check_shape(shape, "tg::randn");
  return visit_floating(dtype, "tg::randn", [&]<class T>(TypeTag<T>) {
    if constexpr (std::is_same_v<T, float>) {
      // One block: two (u1, u2) pairs of 32-bit uniforms -> four normals.
      return draw<float>(shape, dtype, gen, 4, [](std::array<uint32_t, 4> w, float* p, int64_t k) {
        double z[4];
        box_muller(open_low_float(w[0]), uniform_float(w[1]), z[0], z[1]);
        box_muller(open_low_float(w[2]), uniform_float(w[3]), z[2], z[3]);
        for (int64_t j = 0; j < k; ++j) p[j] = static_cast<float>(z[j]);
      });
    } else {
      // One block: one (u1, u2) pair of 64-bit uniforms -> two normals.
      return draw<double>(shape, dtype, gen, 2, [](std::array<uint32_t, 4> w, double* p, int64_t k) {
        double z[2];
        box_muller(open_low_double(w[0], w[1]), uniform_double(w[2], w[3]), z[0], z[1]);
        for (int64_t j = 0; j < k; ++j) p[j] = z[j];
      });
    }
  });
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, Generator& gen) {
  TG_PROFILE_OP("randint");
  check_shape(shape, "tg::randint");
  TG_CHECK(high > low, "tg::randint: expected low < high, got low=", low, " high=", high);
  // Unsigned arithmetic: high - low may exceed INT64_MAX. 64 random bits per value keep the modulo bias
  // below range / 2^64.
  const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  return draw<int64_t>(shape, DType::Int64, gen, 2, [&](std::array<uint32_t, 4> w, int64_t* p, int64_t k) {
    for (int64_t j = 0; j < k; ++j) {
      const auto i = 2 * static_cast<size_t>(j);
      const uint64_t bits = static_cast<uint64_t>(w[i]) << 32 | w[i + 1];
      p[j] = static_cast<int64_t>(static_cast<uint64_t>(low) + bits % range);
    }
  });
}

}  // namespace tg
