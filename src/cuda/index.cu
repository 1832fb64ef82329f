// Index kernels: gather, scatter_add, scatter_add into zeros (kernels.h; kernels/ref/index.cpp is the oracle),
// one thread per element of the index tensor. scatter_add adds atomically (several elements may hit one
// target), so its float sums can differ in order, and in the last bits, from the CPU's; an index out of range
// is skipped (gather writes 0), since raising the CPU's error would mean waiting for the kernel.
#include "device_index.cuh"

namespace tg::cuda::detail {

namespace {

__device__ inline void add_to(float* p, float v) { atomicAdd(p, v); }
__device__ inline void add_to(double* p, double v) { atomicAdd(p, v); }
__device__ inline void add_to(int64_t* p, int64_t v) {
  atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));  // two's complement
}

// dense: the operand laid over the index's shape (gather's output, scatter's source); indexed: the other one,
// whose strides over that shape have 0 at dim and whose real stride along dim is dim_stride.
template <class T, bool kScatter>
__global__ void index_kernel(const __grid_constant__ Geometry shape, const __grid_constant__ Operand dense,
                             const __grid_constant__ Operand indexed, const __grid_constant__ Operand index,
                             int64_t dim_size, int64_t dim_stride) {
  T* d = static_cast<T*>(dense.data);
  T* x = static_cast<T*>(indexed.data);
  const int64_t* idx = static_cast<const int64_t*>(index.data);
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < shape.numel;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t j = idx[offset_of(i, shape, index.strides)];
    const bool ok = j >= 0 && j < dim_size;
    T* target = x + offset_of(i, shape, indexed.strides) + (ok ? j : 0) * dim_stride;
    T& value = d[offset_of(i, shape, dense.strides)];
    if constexpr (kScatter) {
      if (ok) add_to(target, value);
    } else {
      value = ok ? *target : T(0);
    }
  }
}

}  // namespace

void launch_index(int op, const Geometry& shape, int dim, int64_t dim_size, const Operand& out, const Operand& in,
                  const Operand& index) {
  // gather: out dense, in indexed; scatter_add (into zeros): in (the source) dense, out indexed.
  const bool scatter = op != 0;
  Operand indexed = scatter ? out : in;
  const Operand& dense = scatter ? in : out;
  const int64_t dim_stride = indexed.strides[dim];
  if (op == 2) {  // zeros over the output's shape: the index's shape with dim_size along dim
    Geometry out_shape = shape;
    out_shape.sizes[dim] = dim_size;
    out_shape.numel = 1;
    for (int d = 0; d < out_shape.ndim; ++d) out_shape.numel *= out_shape.sizes[d];
    launch_fill(out_shape, out, 0.0);
  }
  if (shape.numel == 0) return;
  indexed.strides[dim] = 0;
  const unsigned blocks = blocks_for(shape.numel);
  switch (in.dtype) {
    case kInt64:
      if (scatter)
        index_kernel<int64_t, true><<<blocks, kThreads>>>(shape, dense, indexed, index, dim_size, dim_stride);
      else
        index_kernel<int64_t, false><<<blocks, kThreads>>>(shape, dense, indexed, index, dim_size, dim_stride);
      break;
    case kFloat32:
      if (scatter)
        index_kernel<float, true><<<blocks, kThreads>>>(shape, dense, indexed, index, dim_size, dim_stride);
      else
        index_kernel<float, false><<<blocks, kThreads>>>(shape, dense, indexed, index, dim_size, dim_stride);
      break;
    case kFloat64:
      if (scatter)
        index_kernel<double, true><<<blocks, kThreads>>>(shape, dense, indexed, index, dim_size, dim_stride);
      else
        index_kernel<double, false><<<blocks, kThreads>>>(shape, dense, indexed, index, dim_size, dim_stride);
      break;
    default:
      throw std::runtime_error("tg::cuda: gather / scatter_add take int64, float32 or float64");
  }
  check_launch(scatter ? "scatter_add" : "gather");
}

}  // namespace tg::cuda::detail
