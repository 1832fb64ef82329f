// Rung 1 of the GPU GEMM ladder, kept as the kernel for any layout: shared-memory tiles with register
// blocking. Each 256-thread block computes a 64 x 64 tile of C, each thread a 4 x 4 sub-tile, stepping over k
// in slices of 16 that the block stages in shared memory; operands are read element by element through their
// strides and batches run as the grid's z dimension. bf16 / fp16 operands accumulate in float32.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "gemm_common.cuh"
#include "gemm_kernels.h"

namespace tg::cuda::detail {

namespace {

constexpr int BM = 64, BN = 64, BK = 16, TM = 4, TN = 4;

// T: the element type in memory; Acc: the type products accumulate in (float for 16-bit elements).
template <class T, class Acc>
__global__ void __launch_bounds__(256) gemm_strided(const __grid_constant__ MatmulArgs g) {
  __shared__ Acc As[BK][BM + 1];  // +1: no bank conflicts on the transposed store
  __shared__ Acc Bs[BK][BN];
  // Row tiles on x (up to 2^31 - 1 of them: linear() flattens batch x time into m), column tiles on y, batch
  // matrices on z in steps of gridDim.z (more than 65535 of them loop).
  const int64_t row0 = static_cast<int64_t>(blockIdx.x) * BM, col0 = static_cast<int64_t>(blockIdx.y) * BN;
  const int tid = threadIdx.x;
  const int64_t m = g.m, n = g.n, k = g.k;
  for (int64_t z = blockIdx.z; z < g.batch.numel; z += gridDim.z) {
    const T* A = static_cast<const T*>(g.a.data) + batch_offset(z, g.batch, g.a.batch_strides);
    const T* B = static_cast<const T*>(g.b.data) + batch_offset(z, g.batch, g.b.batch_strides);
    T* C = static_cast<T*>(g.c.data) + batch_offset(z, g.batch, g.c.batch_strides);
    const int tr = tid / (BN / TN), tc = tid % (BN / TN);  // this thread's 4 x 4 sub-tile
    Acc acc[TM][TN] = {};
    for (int64_t p0 = 0; p0 < k; p0 += BK) {
      // Stage A[row0:+BM, p0:+BK] and B[p0:+BK, col0:+BN]: 1024 elements each, 4 per thread; zeros past the edges.
      for (int e = tid; e < BM * BK; e += blockDim.x) {
        const int r = e / BK, q = e % BK;
        const int64_t gr = row0 + r, gq = p0 + q;
        As[q][r] = (gr < m && gq < k) ? static_cast<Acc>(A[gr * g.a.row_stride + gq * g.a.col_stride]) : Acc(0);
      }
      for (int e = tid; e < BK * BN; e += blockDim.x) {
        const int q = e / BN, cc = e % BN;
        const int64_t gq = p0 + q, gc = col0 + cc;
        Bs[q][cc] = (gq < k && gc < n) ? static_cast<Acc>(B[gq * g.b.row_stride + gc * g.b.col_stride]) : Acc(0);
      }
      __syncthreads();
#pragma unroll
      for (int q = 0; q < BK; ++q) {
        Acc av[TM], bv[TN];
#pragma unroll
        for (int i = 0; i < TM; ++i) av[i] = As[q][tr * TM + i];
#pragma unroll
        for (int j = 0; j < TN; ++j) bv[j] = Bs[q][tc * TN + j];
#pragma unroll
        for (int i = 0; i < TM; ++i)
#pragma unroll
          for (int j = 0; j < TN; ++j) acc[i][j] += av[i] * bv[j];
      }
      __syncthreads();
    }
    const T* bias = static_cast<const T*>(g.bias);
    for (int i = 0; i < TM; ++i) {
      const int64_t r = row0 + tr * TM + i;
      if (r >= m) continue;
      for (int j = 0; j < TN; ++j) {
        const int64_t col = col0 + tc * TN + j;
        if (col >= n) continue;
        Acc v = acc[i][j];
        if (bias != nullptr) v += static_cast<Acc>(bias[col * g.bias_stride]);
        C[r * g.c.row_stride + col * g.c.col_stride] = T(activate(v, g.activation));
      }
    }
  }  // batch matrices
}

}  // namespace

void launch_strided(int dtype, const MatmulArgs& g) {
  const int64_t row_tiles = (g.m + BM - 1) / BM, col_tiles = (g.n + BN - 1) / BN;
  if (row_tiles > 2147483647 || col_tiles > 65535)
    throw std::runtime_error("tg::cuda: matmul too large for one launch (" + std::to_string(g.m) + " x " +
                             std::to_string(g.n) + ")");
  const dim3 grid(static_cast<unsigned>(row_tiles), static_cast<unsigned>(col_tiles),
                  static_cast<unsigned>(g.batch.numel < 65535 ? g.batch.numel : 65535));
  switch (dtype) {
    case kFloat32:
      gemm_strided<float, float><<<grid, 256>>>(g);
      break;
    case kFloat64:
      gemm_strided<double, double><<<grid, 256>>>(g);
      break;
    case kBFloat16:
      gemm_strided<__nv_bfloat16, float><<<grid, 256>>>(g);
      break;
    case kFloat16:
      gemm_strided<__half, float><<<grid, 256>>>(g);
      break;
    default:
      throw std::runtime_error("tg::cuda: matmul takes float32, float64, bf16 or fp16");
  }
  check_launch("matmul (strided)");
}

}  // namespace tg::cuda::detail
