// Filling fresh tensors: counter-based random numbers (rand, randn, randint, the dropout mask) and arithmetic
// sequences (arange, linspace). Each element is a pure function of its index, which is what lets the CPU
// kernels split them over threads and a GPU compute them in place with the same bits.
#include <cmath>

#include <tensorgrad/core/random.h>

#include "ref_kernels.h"

namespace tg::kernels::ref {

namespace {

// (0, 1] rather than [0, 1), so Box-Muller never takes log(0).
inline double open_low_float(uint32_t bits) { return 1.0 - static_cast<double>(uniform_float(bits)); }
inline double open_low_double(uint32_t hi, uint32_t lo) { return 1.0 - uniform_double(hi, lo); }

inline void box_muller(double u1, double u2, double& z0, double& z1) {
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  const double r = std::sqrt(-2.0 * std::log(u1));
  z0 = r * std::cos(kTwoPi * u2);
  z1 = r * std::sin(kTwoPi * u2);
}

inline std::array<uint32_t, 4> philox_block(uint64_t seed, uint64_t index) {
  return philox4x32({static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32), 0, 0},
                    {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)});
}

// Writes the values of blocks [b0, b1) of the fill into p (element i of the whole fill at p[i]); n elements
// in all. One draw per element for float32 and bool, two for float64 and int64.
template <class T>
void random_blocks_range(RandomOp op, const RandomParams& r, T* p, int64_t n, int64_t b0, int64_t b1) {
  constexpr bool kWideDraws = std::is_same_v<T, double> || std::is_same_v<T, int64_t>;
  constexpr int64_t per_block = kWideDraws ? 2 : 4;
  for (int64_t b = b0; b < b1; ++b) {
    const std::array<uint32_t, 4> w = philox_block(r.seed, r.first_block + static_cast<uint64_t>(b));
    const int64_t base = b * per_block, k = std::min(per_block, n - base);
    T v[per_block];
    if constexpr (std::is_same_v<T, int64_t>) {
      for (int64_t j = 0; j < per_block; ++j) {
        const uint64_t bits = static_cast<uint64_t>(w[2 * static_cast<size_t>(j)]) << 32 | w[2 * static_cast<size_t>(j) + 1];
        v[j] = static_cast<int64_t>(static_cast<uint64_t>(r.low) + bits % r.range);
      }
    } else if constexpr (std::is_same_v<T, bool>) {
      for (int64_t j = 0; j < 4; ++j) v[j] = static_cast<double>(uniform_float(w[static_cast<size_t>(j)])) >= r.threshold;
    } else if constexpr (std::is_same_v<T, float>) {
      if (op == RandomOp::Uniform) {
        for (int64_t j = 0; j < 4; ++j) v[j] = uniform_float(w[static_cast<size_t>(j)]);
      } else {  // two (u1, u2) pairs of 32-bit uniforms -> four normals
        double z[4];
        box_muller(open_low_float(w[0]), uniform_float(w[1]), z[0], z[1]);
        box_muller(open_low_float(w[2]), uniform_float(w[3]), z[2], z[3]);
        for (int64_t j = 0; j < 4; ++j) v[j] = static_cast<float>(z[j]);
      }
    } else {
      if (op == RandomOp::Uniform) {
        for (int64_t j = 0; j < 2; ++j) v[j] = uniform_double(w[2 * static_cast<size_t>(j)], w[2 * static_cast<size_t>(j) + 1]);
      } else {  // one (u1, u2) pair of 64-bit uniforms -> two normals
        box_muller(open_low_double(w[0], w[1]), uniform_double(w[2], w[3]), v[0], v[1]);
      }
    }
    for (int64_t j = 0; j < k; ++j) p[base + j] = v[j];
  }
}

bool random_supports(RandomOp op, DType d) {
  switch (op) {
    case RandomOp::Uniform:
    case RandomOp::Normal: return d == DType::Float32 || d == DType::Float64;
    case RandomOp::Integer: return d == DType::Int64;
    case RandomOp::Bernoulli: return d == DType::Bool;
  }
  return false;
}

}  // namespace

void random_range(RandomOp op, const StridedArg& out, int64_t n, const RandomParams& params, int64_t first_block,
                  int64_t last_block) {
  TG_CHECK(random_supports(op, out.dtype), "tg::", op_name(op), ": no random kernel for ", dtype_name(out.dtype));
  visit_compute_dtype(out.dtype, [&]<class T>(TypeTag<T>) {
    random_blocks_range<T>(op, params, static_cast<T*>(out.data), n, first_block, last_block);
  });
}

void random(RandomOp op, const Shape& shape, const StridedArg& out, const RandomParams& params) {
  const int64_t n = numel_of(shape);
  random_range(op, out, n, params, 0, static_cast<int64_t>(random_blocks(op, out.dtype, n)));
}

void sequence(const Shape& shape, const StridedArg& out, double start, double step) {
  TG_CHECK(shape.size() == 1, "tg::sequence: expected a 1-D output, got shape ", shape);
  const int64_t n = shape[0], stride = out.strides[0];
  visit_compute_dtype(out.dtype, [&]<class T>(TypeTag<T>) {
    T* p = static_cast<T*>(out.data);
    for (int64_t i = 0; i < n; ++i) p[i * stride] = static_cast<T>(start + static_cast<double>(i) * step);
  });
}

void register_creation(KernelTables& t) {
  for (int op = 0; op < kRandomOpCount; ++op)
    for (DType d : {DType::Bool, DType::Int64, DType::Float32, DType::Float64})
      if (random_supports(static_cast<RandomOp>(op), d)) t.random.add(static_cast<RandomOp>(op), DeviceType::CPU, d, &random);
  for (DType d : {DType::Int64, DType::Float32, DType::Float64}) t.sequence.add(DeviceType::CPU, d, &sequence);
}

}  // namespace tg::kernels::ref
