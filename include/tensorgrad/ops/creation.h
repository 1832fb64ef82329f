#pragma once
// Tensor factories. Each takes the dtype and then the device of the result (CPU unless given), as PyTorch's
// tensor options do; the *_like forms copy both from their argument. Random factories draw from a
// counter-based generator (the default one unless given), so values depend only on the seed and the element
// index, never on thread count or device.
#include <vector>

#include <tensorgrad/core/random.h>
#include <tensorgrad/core/tensor.h>

namespace tg {

Tensor empty(const Shape& shape, DType dtype = DType::Float32, Device device = kCPU);
Tensor zeros(const Shape& shape, DType dtype = DType::Float32, Device device = kCPU);
Tensor ones(const Shape& shape, DType dtype = DType::Float32, Device device = kCPU);
Tensor full(const Shape& shape, double value, DType dtype = DType::Float32, Device device = kCPU);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);
Tensor empty_like(const Tensor& t);
Tensor scalar_tensor(double value, DType dtype = DType::Float32, Device device = kCPU);

// [0, end) as int64, like torch.arange(5).
Tensor arange(int64_t end, Device device = kCPU);
// start, start + step, ... while < end (> end for a negative step).
Tensor arange(double start, double end, double step, DType dtype = DType::Float32, Device device = kCPU);
Tensor linspace(double start, double end, int64_t steps, DType dtype = DType::Float32, Device device = kCPU);
Tensor eye(int64_t n, int64_t m = -1, DType dtype = DType::Float32, Device device = kCPU);

// Copies `values` (row-major) into a new tensor of `shape` (1-D when shape is empty and values are not) on
// `device`.
template <class T>
Tensor from_vector(const std::vector<T>& values, Shape shape = {}, Device device = kCPU);
// Wraps memory the caller owns, without copying; the caller keeps it alive while the tensor lives.
Tensor from_blob(void* data, const Shape& shape, DType dtype, const Strides& strides = {});

Tensor rand(const Shape& shape, DType dtype = DType::Float32, Generator& gen = default_generator(),
            Device device = kCPU);
Tensor randn(const Shape& shape, DType dtype = DType::Float32, Generator& gen = default_generator(),
             Device device = kCPU);
// Integers uniform in [low, high).
Tensor randint(int64_t low, int64_t high, const Shape& shape, Generator& gen = default_generator(),
               Device device = kCPU);

extern template Tensor from_vector<bool>(const std::vector<bool>&, Shape, Device);
extern template Tensor from_vector<int64_t>(const std::vector<int64_t>&, Shape, Device);
extern template Tensor from_vector<float>(const std::vector<float>&, Shape, Device);
extern template Tensor from_vector<double>(const std::vector<double>&, Shape, Device);
extern template Tensor from_vector<bfloat16>(const std::vector<bfloat16>&, Shape, Device);
extern template Tensor from_vector<float16>(const std::vector<float16>&, Shape, Device);

}  // namespace tg
