#pragma once
// Test oracle: builds tensors and computes expected values without going through the code under test.
// Tensors are filled through raw storage (Tensor::empty + as_strided from core), values come from a seeded
// std::mt19937 (never tg::rand*), and the reference helpers below do their own index arithmetic in double.
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <tensorgrad/tensorgrad.h>

namespace tgtest {

using tg::DType;
using tg::Shape;
using tg::Tensor;
using Index = std::vector<int64_t>;

// A tensor's logical content in float64: what every reference consumes and produces.
struct RefArg {
  Shape shape;
  std::vector<double> v;
};

// ---- reading tensors ----
// Every element in logical (row-major) order, converted to double, whatever the dtype and strides.
std::vector<double> to_doubles(const Tensor& t);
RefArg to_ref(const Tensor& t);

// ---- building tensors ----
// How the memory behind a test input is laid out. All layouts but Expanded hold exactly the given values.
enum class Layout {
  Contiguous,
  Transposed,  // stored with the last two dims swapped, viewed back (rank < 2: falls back to Strided)
  Strided,     // every other element of a larger buffer, after a skipped prefix, the gaps holding garbage
  Expanded,    // the first dim of size > 1 has stride 0: values along it are replaced by its slice 0
};
const char* layout_name(Layout layout);

// A tensor of `shape`/`dtype` holding `values` (row-major) in the given memory layout.
Tensor make_tensor(const Shape& shape, const std::vector<double>& values, DType dtype,
                   Layout layout = Layout::Contiguous);
Tensor make_tensor(const RefArg& arg, DType dtype, Layout layout = Layout::Contiguous);

// ---- seeded values ----
std::vector<double> uniform(std::mt19937& rng, int64_t n, double lo, double hi);
// |x| in [lo, hi] with a random sign: keeps finite differences away from kinks at 0.
std::vector<double> away_from_zero(std::mt19937& rng, int64_t n, double lo, double hi);
// n values pairwise at least `gap` apart, in random order, centred on 0.
std::vector<double> distinct(std::mt19937& rng, int64_t n, double gap);
// Drawn from a small set, so comparisons see ties.
std::vector<double> discrete(std::mt19937& rng, int64_t n, const std::vector<double>& choices);
std::vector<double> integers(std::mt19937& rng, int64_t n, int64_t lo, int64_t hi);  // in [lo, hi)

// ---- index arithmetic (independent of tg::broadcast_shapes & co) ----
int64_t count(const Shape& shape);
Index unravel(int64_t flat, const Shape& shape);
int64_t ravel(const Index& idx, const Shape& shape);
// NumPy broadcasting of several shapes; `ok` is false when they do not broadcast.
Shape broadcast_all(const std::vector<Shape>& shapes, bool* ok = nullptr);
// Row-major position in `in_shape` read by output index `out_idx` when `in_shape` is broadcast.
int64_t broadcast_source(const Index& out_idx, const Shape& in_shape);
int64_t wrap(int64_t dim, int64_t ndim);  // Python-style negative dims

// ---- reference building blocks ----
// out[i] = f(i) for every index of out_shape.
RefArg generate(const Shape& out_shape, const std::function<double(const Index&)>& f);
RefArg map1(const RefArg& x, const std::function<double(double)>& f);
RefArg map2(const RefArg& a, const RefArg& b, const std::function<double(double, double)>& f);
RefArg map3(const RefArg& a, const RefArg& b, const RefArg& c,
            const std::function<double(double, double, double)>& f);
// Reduces over `dims` (empty: all) calling f on the reduced values in row-major order.
RefArg reduce(const RefArg& x, std::vector<int64_t> dims, bool keepdim,
              const std::function<double(const std::vector<double>&)>& f);

// ---- comparison ----
struct Tolerance {
  double rtol;
  double atol;
};
// Empty when every element satisfies |got - want| <= atol + rtol * |want| (NaN matches NaN, inf matches the
// same inf); otherwise describes the first mismatches with their indices.
std::string compare(const RefArg& got, const RefArg& want, Tolerance tol);

std::string shape_string(const Shape& shape);

}  // namespace tgtest
