// launch_matmul: chooses the GEMM kernel for a problem (docs/CUDA.md, "GEMM"). 16-byte-aligned operands with
// a contiguous dimension take the fast kernels (tensor cores for bf16 / fp16, 128 x 128 CUDA-core tiles for
// float32) when they fill the GPU; everything else, and float64, takes the strided kernel.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "gemm_kernels.h"

namespace tg::cuda::detail {

namespace {

// Whether matrix o can be read in aligned chunks of `vec` elements along the dimension whose stride is 1:
// its other stride, its batch strides and its address are all multiples of the chunk.
bool chunks_aligned(const MatmulOperand& o, int64_t other_stride, const Geometry& batch, int vec, int elem_bytes) {
  if (reinterpret_cast<uintptr_t>(o.data) % 16 != 0 || other_stride % vec != 0) return false;
  for (int d = 0; d < batch.ndim; ++d)
    if (batch.sizes[d] > 1 && o.batch_strides[d] % vec != 0) return false;
  return elem_bytes * vec == 16;
}

// Layout of a matrix for the fast kernels: 1 = rows contiguous (col_stride 1: A's k, B's n), 0 = columns
// contiguous (row_stride 1: A's m, B's k), -1 = neither, or not in aligned chunks.
int layout(const MatmulOperand& o, const Geometry& batch, int vec, int elem_bytes) {
  if (o.col_stride == 1 && chunks_aligned(o, o.row_stride, batch, vec, elem_bytes)) return 1;
  if (o.row_stride == 1 && chunks_aligned(o, o.col_stride, batch, vec, elem_bytes)) return 0;
  return -1;
}

// The tiles a 128 x 128 kernel would launch, against the GPU's multiprocessors: below about one wave the
// strided kernel's 4x more (64 x 64) tiles keep more of the GPU busy.
bool fills_gpu(const MatmulArgs& g) {
  static const int sms = [] {
    int device = 0, count = 0;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device);
    return count > 0 ? count : 1;
  }();
  return ((g.m + 127) / 128) * ((g.n + 127) / 128) * g.batch.numel >= sms;
}

// The float32 fast kernel's register budget in Auto (MatmulKernel::FastOneBlock): chosen by the benchmark on
// the H200 (docs/CUDA.md).
constexpr int kFloat32MinBlocks = 2;

}  // namespace

void launch_matmul(int dtype, const Geometry& batch, int64_t m, int64_t n, int64_t k, const MatmulOperand& c,
                   const MatmulOperand& a, const MatmulOperand& b, const void* bias, int64_t bias_stride,
                   int activation, MatmulKernel kernel) {
  if (m == 0 || n == 0 || batch.numel == 0) return;
  MatmulArgs g{batch, m, n, k, c, a, b, bias, bias_stride, activation, false};
  const bool half = dtype == kBFloat16 || dtype == kFloat16;
  const int elem = half ? 2 : dtype == kFloat32 ? 4 : 8, vec = 16 / elem;
  const int a_layout = layout(a, batch, vec, elem), b_layout = layout(b, batch, vec, elem);
  // C written a 16-byte vector (float32) or a 4-byte pair (16-bit) at a time.
  const int c_vec = half ? 2 : 4;
  g.c_vectors = c.col_stride == 1 && reinterpret_cast<uintptr_t>(c.data) % (c_vec * elem) == 0 &&
                c.row_stride % c_vec == 0;
  for (int d = 0; d < batch.ndim; ++d)
    if (batch.sizes[d] > 1 && c.batch_strides[d] % c_vec != 0) g.c_vectors = false;
  const bool fast_layout = dtype != kFloat64 && a_layout >= 0 && b_layout >= 0 && k > 0 && k < (int64_t{1} << 31);
  const bool forced = kernel == MatmulKernel::Fast || kernel == MatmulKernel::FastOneBlock;
  if (forced && !fast_layout)
    throw std::runtime_error("tg::cuda: matmul: the fast kernel cannot read these operands' layout");
  if (fast_layout && (forced || (kernel == MatmulKernel::Auto && fills_gpu(g)))) {
    if (half) launch_mma_16bit(dtype, g, a_layout == 1, b_layout == 1);
    else launch_simt_f32(g, a_layout == 1, b_layout == 1, kernel == MatmulKernel::FastOneBlock ? 1 : kFloat32MinBlocks);
    return;
  }
  launch_strided(dtype, g);
}

}  // namespace tg::cuda::detail
