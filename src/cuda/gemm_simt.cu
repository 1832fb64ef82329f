// The float32 GEMM on the CUDA cores (rung 3 of the GPU ladder; docs/CUDA.md): 128 x 128 tiles of C per
// 256-thread block, 8 x 8 per thread, k in slices of kBK (8 or 16) staged in shared memory through 16-byte
// loads, two stages (the next slice is read into registers while the current one is multiplied, so one
// barrier per slice). Each thread owns rows {4ty..4ty+3, 64+4ty..} and columns {4tx..4tx+3, 64+4tx..}: every
// shared-memory read is a 16-byte one that a warp's threads share or spread over all banks.
// Operands: A with k or m contiguous, B with n or k contiguous (the four combinations are template
// arguments, so transposed operands need no copy), the other stride a multiple of 4 and every matrix 16-byte
// aligned (gemm.cu checks; other layouts take the strided rung). Tiles that cross an edge load element by
// element with zeros past it.
#include "gemm_common.cuh"
#include "gemm_kernels.h"

namespace tg::cuda::detail {

namespace {

constexpr int kBM = 128, kBN = 128;
constexpr int kPitch = kBM + 4;  // 132 floats: the transposed (scalar) stores of two k groups hit distinct banks

// Loads 4 elements that are contiguous in memory, starting at p, of which `valid` (0..4) exist; zeros past them.
__device__ inline float4 load4(const float* p, int valid) {
  if (valid >= 4) return *reinterpret_cast<const float4*>(p);
  float v[4] = {0, 0, 0, 0};
#pragma unroll
  for (int i = 0; i < 4; ++i)
    if (i < valid) v[i] = p[i];
  return make_float4(v[0], v[1], v[2], v[3]);
}

__device__ inline int clamp4(int64_t remaining) { return remaining >= 4 ? 4 : (remaining > 0 ? int(remaining) : 0); }

// One thread's part in bringing an operand's k slices (128 rows or columns x kBK) into shared memory: kBK / 8
// runs of 4 elements that are contiguous in memory per slice, either along k (the operand's k stride is 1) or
// along its other dimension (m of A, n of B). What does not change from slice to slice is set once.
template <bool kContiguousK, int kBK>
struct SliceReader {
  static constexpr int kRuns = kBK / 8;
  const float* p[kRuns];  // this thread's runs in the current slice
  int64_t step;           // from one slice to the next
  int q[kRuns];           // the k of each run's first element in the current slice (gemm.cu: k < 2^31)
  int valid[kRuns];       // along k: 4 if the run's row (column) exists, else 0; else: how many of the 4 exist

  // base: the matrix; ld: its stride that is not 1; outer0: the tile's first row (column); size: m (n).
  __device__ SliceReader(const float* base, int64_t ld, int64_t outer0, int64_t size, int tid) {
#pragma unroll
    for (int r = 0; r < kRuns; ++r) {
      if constexpr (kContiguousK) {  // run: one row (column), 4 consecutive k
        // kBK / 4 runs cover a row, so a pass of 256 threads covers 1024 / kBK rows.
        constexpr int runs_per_row = kBK / 4, rows_per_pass = 256 / runs_per_row;
        const int64_t row = outer0 + tid / runs_per_row + r * rows_per_pass;
        q[r] = (tid % runs_per_row) * 4;
        p[r] = base + row * ld + q[r];
        valid[r] = row < size ? 4 : 0;
      } else {  // run: one k, 4 consecutive rows (columns)
        const int64_t row = outer0 + (tid & 31) * 4;
        q[r] = (tid >> 5) + r * 8;
        p[r] = base + q[r] * ld + row;
        valid[r] = clamp4(size - row);
      }
    }
    step = kContiguousK ? kBK : kBK * ld;
  }
  __device__ void load(float4 (&v)[kRuns], int k) const {
#pragma unroll
    for (int r = 0; r < kRuns; ++r) {
      if constexpr (kContiguousK)
        v[r] = load4(p[r], valid[r] == 0 ? 0 : clamp4(k - q[r]));
      else
        v[r] = load4(p[r], q[r] < k ? valid[r] : 0);
    }
  }
  __device__ void advance() {
#pragma unroll
    for (int r = 0; r < kRuns; ++r) p[r] += step, q[r] += kBK;
  }
  // Stores the runs into the shared tile [k][m] (or [k][n]): transposed when they were contiguous along k.
  __device__ static void store(const float4 (&v)[kRuns], float (*tile)[kPitch], int tid) {
#pragma unroll
    for (int r = 0; r < kRuns; ++r) {
      if constexpr (kContiguousK) {
        constexpr int runs_per_row = kBK / 4, rows_per_pass = 256 / runs_per_row;
        const int row = tid / runs_per_row + r * rows_per_pass, k0 = (tid % runs_per_row) * 4;
        tile[k0][row] = v[r].x, tile[k0 + 1][row] = v[r].y, tile[k0 + 2][row] = v[r].z, tile[k0 + 3][row] = v[r].w;
      } else {
        *reinterpret_cast<float4*>(&tile[(tid >> 5) + r * 8][(tid & 31) * 4]) = v[r];
      }
    }
  }
};

// The i-th of a thread's 8 rows (or columns) within the tile, for thread coordinate t (ty or tx).
__device__ inline int owned(int t, int i) { return (i < 4 ? 0 : 64) + t * 4 + (i & 3); }

// kBK: the k slice (8 or 16: half the barriers per multiply-add); kMinBlocks: the blocks per multiprocessor
// the register budget is cut for (2: at most 128 registers a thread, which spills a little; 1: no spills, half
// the warps to hide latency). The benchmark runs the four (SimtShape).
template <bool kAContiguousK, bool kBContiguousN, int kBK, int kMinBlocks>
__global__ void __launch_bounds__(256, kMinBlocks)
    gemm_f32_128x128(const __grid_constant__ Geometry batch, int64_t m, int64_t n, int64_t k,
                     const __grid_constant__ MatmulOperand c, const __grid_constant__ MatmulOperand a,
                     const __grid_constant__ MatmulOperand b, const float* bias, int64_t bias_stride, int activation,
                     bool c_vectors) {
  __shared__ __align__(16) float As[2][kBK][kPitch];
  __shared__ __align__(16) float Bs[2][kBK][kPitch];
  const int tid = threadIdx.x, ty = tid >> 4, tx = tid & 15;
  const int64_t row0 = static_cast<int64_t>(blockIdx.x) * kBM, col0 = static_cast<int64_t>(blockIdx.y) * kBN;
  for (int64_t z = blockIdx.z; z < batch.numel; z += gridDim.z) {
    const float* A = static_cast<const float*>(a.data) + batch_offset(z, batch, a.batch_strides);
    const float* B = static_cast<const float*>(b.data) + batch_offset(z, batch, b.batch_strides);
    float* C = static_cast<float*>(c.data) + batch_offset(z, batch, c.batch_strides);
    float acc[8][8] = {};
    // A is read along k (row-major) or along m; B along n (row-major) or along k.
    using ReaderA = SliceReader<kAContiguousK, kBK>;
    using ReaderB = SliceReader<!kBContiguousN, kBK>;
    ReaderA ra(A, kAContiguousK ? a.row_stride : a.col_stride, row0, m, tid);
    ReaderB rb(B, kBContiguousN ? b.row_stride : b.col_stride, col0, n, tid);
    const int kk = static_cast<int>(k);
    float4 va[ReaderA::kRuns], vb[ReaderB::kRuns];
    ra.load(va, kk), rb.load(vb, kk);
    ReaderA::store(va, As[0], tid);
    ReaderB::store(vb, Bs[0], tid);
    __syncthreads();
    int stage = 0;
    for (int p0 = 0; p0 < kk; p0 += kBK) {
      const bool more = p0 + kBK < kk;
      if (more) {
        ra.advance(), rb.advance();
        ra.load(va, kk), rb.load(vb, kk);
      }
#pragma unroll
      for (int q = 0; q < kBK; ++q) {
        const float4 a0 = *reinterpret_cast<const float4*>(&As[stage][q][ty * 4]);
        const float4 a1 = *reinterpret_cast<const float4*>(&As[stage][q][64 + ty * 4]);
        const float4 b0 = *reinterpret_cast<const float4*>(&Bs[stage][q][tx * 4]);
        const float4 b1 = *reinterpret_cast<const float4*>(&Bs[stage][q][64 + tx * 4]);
        const float av[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
        const float bv[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
        for (int i = 0; i < 8; ++i)
#pragma unroll
          for (int j = 0; j < 8; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
      }
      if (more) {
        ReaderA::store(va, As[stage ^ 1], tid);
        ReaderB::store(vb, Bs[stage ^ 1], tid);
      }
      __syncthreads();  // the other stage is written and this one is read by every thread
      stage ^= 1;
    }
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const int64_t r = row0 + owned(ty, i);
      if (r >= m) continue;
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int64_t col = col0 + owned(tx, half * 4);
        float v[4];
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          v[j] = acc[i][half * 4 + j];
          if (bias != nullptr && col + j < n) v[j] += bias[(col + j) * bias_stride];
          v[j] = activate(v[j], activation);
        }
        float* out = C + r * c.row_stride;
        if (c_vectors && col + 3 < n) {
          *reinterpret_cast<float4*>(out + col) = make_float4(v[0], v[1], v[2], v[3]);
        } else {
#pragma unroll
          for (int j = 0; j < 4; ++j)
            if (col + j < n) out[(col + j) * c.col_stride] = v[j];
        }
      }
    }
  }  // batch matrices
}

template <bool kAContiguousK, bool kBContiguousN, int kBK, int kMinBlocks>
void launch(const dim3& grid, const MatmulArgs& g) {
  gemm_f32_128x128<kAContiguousK, kBContiguousN, kBK, kMinBlocks>
      <<<grid, 256>>>(g.batch, g.m, g.n, g.k, g.c, g.a, g.b, static_cast<const float*>(g.bias), g.bias_stride,
                      g.activation, g.c_vectors);
}

}  // namespace

dim3 simt_f32_grid(const MatmulArgs& g) {
  return dim3(static_cast<unsigned>((g.m + kBM - 1) / kBM), static_cast<unsigned>((g.n + kBN - 1) / kBN),
              static_cast<unsigned>(g.batch.numel < 65535 ? g.batch.numel : 65535));
}

template <int kBK, int kMinBlocks>
void launch_layouts(const dim3& grid, const MatmulArgs& g, bool a_contiguous_k, bool b_contiguous_n) {
  if (a_contiguous_k && b_contiguous_n)
    launch<true, true, kBK, kMinBlocks>(grid, g);
  else if (a_contiguous_k)
    launch<true, false, kBK, kMinBlocks>(grid, g);
  else if (b_contiguous_n)
    launch<false, true, kBK, kMinBlocks>(grid, g);
  else
    launch<false, false, kBK, kMinBlocks>(grid, g);
}

void launch_simt_f32(const MatmulArgs& g, bool a_contiguous_k, bool b_contiguous_n, FastVariant shape) {
  const dim3 grid = simt_f32_grid(g);
  if (shape.slice == 8 && shape.min_blocks == 1)
    launch_layouts<8, 1>(grid, g, a_contiguous_k, b_contiguous_n);
  else if (shape.slice == 8)
    launch_layouts<8, 2>(grid, g, a_contiguous_k, b_contiguous_n);
  else if (shape.min_blocks == 1)
    launch_layouts<16, 1>(grid, g, a_contiguous_k, b_contiguous_n);
  else
    launch_layouts<16, 2>(grid, g, a_contiguous_k, b_contiguous_n);
  check_launch("matmul (float32, 128x128 tiles)");
}

}  // namespace tg::cuda::detail
