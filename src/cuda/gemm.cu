// The first rung of the GPU GEMM: shared-memory tiles with register blocking. Each 256-thread block computes
// a 64 x 64 tile of C, each thread a 4 x 4 sub-tile, stepping over k in slices of 16 that the block stages in
// shared memory; operands are read through their strides (transposed views need no copy) and batches run
// as the grid's z dimension. The bias / activation epilogue is applied as the tile is stored. Tensor cores
// (bf16/fp16 mma, wgmma with the TMA) and vectorised loads are the next rungs (docs/CUDA.md).
#include <cmath>
#include <string>

#include "device_index.cuh"

namespace tg::cuda::detail {

namespace {

constexpr int BM = 64, BN = 64, BK = 16, TM = 4, TN = 4;

__device__ inline int64_t batch_offset(int64_t z, const Geometry& batch, const int64_t* strides) {
  return batch.ndim == 0 ? 0 : offset_of(z, batch, strides);
}

template <class T>
__device__ T activate(T v, int activation) {
  if (activation == 1) return v < T(0) ? T(0) : v;
  if (activation == 2) return T(0.5) * v * (T(1) + erf(v * T(0.70710678118654752440)));
  return v;
}

template <class T>
__global__ void __launch_bounds__(256) gemm_tiled(Geometry batch, int64_t m, int64_t n, int64_t k, MatmulOperand c,
                                                  MatmulOperand a, MatmulOperand b, const T* bias,
                                                  int64_t bias_stride, int activation) {
  __shared__ T As[BK][BM + 1];  // +1: no bank conflicts on the transposed store
  __shared__ T Bs[BK][BN];
  // Row tiles on x (up to 2^31 - 1 of them: linear() flattens batch x time into m), column tiles on y, batch
  // matrices on z in steps of gridDim.z (more than 65535 of them loop).
  const int64_t row0 = static_cast<int64_t>(blockIdx.x) * BM, col0 = static_cast<int64_t>(blockIdx.y) * BN;
  const int tid = threadIdx.x;
  for (int64_t z = blockIdx.z; z < batch.numel; z += gridDim.z) {
  const T* A = static_cast<const T*>(a.data) + batch_offset(z, batch, a.batch_strides);
  const T* B = static_cast<const T*>(b.data) + batch_offset(z, batch, b.batch_strides);
  T* C = static_cast<T*>(c.data) + batch_offset(z, batch, c.batch_strides);
  const int tr = tid / (BN / TN), tc = tid % (BN / TN);  // this thread's 4 x 4 sub-tile
  T acc[TM][TN] = {};
  for (int64_t p0 = 0; p0 < k; p0 += BK) {
    // Stage A[row0:+BM, p0:+BK] and B[p0:+BK, col0:+BN]: 1024 elements each, 4 per thread; zeros past the edges.
    for (int e = tid; e < BM * BK; e += blockDim.x) {
      const int r = e / BK, q = e % BK;
      const int64_t gr = row0 + r, gq = p0 + q;
      As[q][r] = (gr < m && gq < k) ? A[gr * a.row_stride + gq * a.col_stride] : T(0);
    }
    for (int e = tid; e < BK * BN; e += blockDim.x) {
      const int q = e / BN, cc = e % BN;
      const int64_t gq = p0 + q, gc = col0 + cc;
      Bs[q][cc] = (gq < k && gc < n) ? B[gq * b.row_stride + gc * b.col_stride] : T(0);
    }
    __syncthreads();
#pragma unroll
    for (int q = 0; q < BK; ++q) {
      T av[TM], bv[TN];
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
  for (int i = 0; i < TM; ++i) {
    const int64_t r = row0 + tr * TM + i;
    if (r >= m) continue;
    for (int j = 0; j < TN; ++j) {
      const int64_t col = col0 + tc * TN + j;
      if (col >= n) continue;
      T v = acc[i][j];
      if (bias != nullptr) v += bias[col * bias_stride];
      C[r * c.row_stride + col * c.col_stride] = activate(v, activation);
    }
  }
  }  // batch matrices
}

}  // namespace

void launch_matmul(int dtype, const Geometry& batch, int64_t m, int64_t n, int64_t k, const MatmulOperand& c,
                   const MatmulOperand& a, const MatmulOperand& b, const void* bias, int64_t bias_stride,
                   int activation) {
  if (m == 0 || n == 0 || batch.numel == 0) return;
  const int64_t row_tiles = (m + BM - 1) / BM, col_tiles = (n + BN - 1) / BN;
  if (row_tiles > 2147483647 || col_tiles > 65535)
    throw std::runtime_error("tg::cuda: matmul too large for one launch (" + std::to_string(m) + " x " +
                             std::to_string(n) + ")");
  const dim3 grid(static_cast<unsigned>(row_tiles), static_cast<unsigned>(col_tiles),
                  static_cast<unsigned>(batch.numel < 65535 ? batch.numel : 65535));
  if (dtype == kFloat32)
    gemm_tiled<float><<<grid, 256>>>(batch, m, n, k, c, a, b, static_cast<const float*>(bias), bias_stride, activation);
  else if (dtype == kFloat64)
    gemm_tiled<double><<<grid, 256>>>(batch, m, n, k, c, a, b, static_cast<const double*>(bias), bias_stride, activation);
  else
    throw std::runtime_error("tg::cuda: matmul takes float32 or float64");
  check_launch("matmul");
}

}  // namespace tg::cuda::detail
