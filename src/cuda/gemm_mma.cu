// The bf16 / fp16 GEMM on the tensor cores (docs/CUDA.md): float32 accumulation, 128 x kBN (128 or 256) tiles of
// C per 256-thread block (8 warps of 64 x kBN / 4), k in slices of 32 brought into shared memory by cp.async through a
// 4-stage pipeline, fragments read with ldmatrix (.trans where the operand's layout is the other one) and
// multiplied by mma.sync m16n8k16. Shared-memory rows are padded by 16 bytes so ldmatrix's eight row reads
// fall in distinct banks. Operands: A with k or m contiguous, B with n or k contiguous, the other stride a
// multiple of 8 elements and every matrix 16-byte aligned (gemm.cu checks); chunks past an edge are
// zero-filled by cp.async's source size. Hopper's wgmma with the TMA is the next rung.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <type_traits>

#include "gemm_common.cuh"
#include "gemm_kernels.h"

namespace tg::cuda::detail {

namespace {

constexpr int kBM = 128, kBK = 32, kStages = 4;
constexpr int kPad = 8;  // elements (16 bytes) added to every shared row
// Elements of one stage's tile of an operand with `rows` rows (m or n) in either layout ([rows][k] or
// [k][rows]), whichever is larger; A's is 128 x 40 = 5120.
constexpr int tile_elems(int rows) {
  return rows * (kBK + kPad) > kBK * (rows + kPad) ? rows * (kBK + kPad) : kBK * (rows + kPad);
}
template <int kBN>
constexpr int smem_bytes() {
  return kStages * (tile_elems(kBM) + tile_elems(kBN)) * 2;  // 2-byte elements: 81920 (kBN 128), 122880 (256)
}

__device__ inline unsigned smem_address(const void* p) { return static_cast<unsigned>(__cvta_generic_to_shared(p)); }

// Copies 16 bytes from global to shared memory, of which `bytes` (0..16) are read and the rest zero-filled.
__device__ inline void copy16(void* dst, const void* src, int bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_address(dst)), "l"(src), "r"(bytes));
}
__device__ inline void commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ inline void wait_groups() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

template <bool kTrans>
__device__ inline void ldmatrix_x4(unsigned (&r)[4], const void* p) {
  if constexpr (kTrans)
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_address(p)));
  else
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_address(p)));
}

template <class T>
__device__ inline void mma16816(float (&d)[4], const unsigned (&a)[4], unsigned b0, unsigned b1) {
  if constexpr (std::is_same_v<T, __nv_bfloat16>)
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  else
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Issues the cp.async copies of one k slice (starting at p0) of A and B into shared tiles As, Bs. Layouts in
// shared memory follow the global ones: A as [m][k] (k contiguous) or [k][m]; B as [k][n] or [n][k].
template <class T, bool kAContiguousK, bool kBContiguousN, int kBN>
__device__ inline void load_slice(T* As, T* Bs, const T* A, const T* B, const MatmulArgs& g, int64_t row0, int64_t col0,
                                  int64_t p0, int tid) {
  const int64_t m = g.m, n = g.n, k = g.k;
  auto bytes_of = [](bool in_rows, int64_t remaining) {
    return in_rows && remaining > 0 ? static_cast<int>(remaining >= 8 ? 16 : remaining * 2) : 0;
  };
#pragma unroll
  for (int i = 0; i < 2; ++i) {  // A: 512 chunks of 8 elements, 2 per thread
    const int chunk = tid + i * 256;
    if constexpr (kAContiguousK) {
      const int r = chunk >> 2, q = (chunk & 3) * 8;
      const int64_t gr = row0 + r, gq = p0 + q;
      const int bytes = bytes_of(gr < m, k - gq);
      copy16(As + r * (kBK + kPad) + q, bytes ? A + gr * g.a.row_stride + gq : A, bytes);
    } else {
      const int q = chunk >> 4, r = (chunk & 15) * 8;
      const int64_t gq = p0 + q, gr = row0 + r;
      const int bytes = bytes_of(gq < k, m - gr);
      copy16(As + q * (kBM + kPad) + r, bytes ? A + gq * g.a.col_stride + gr : A, bytes);
    }
  }
#pragma unroll
  for (int i = 0; i < kBN / 64; ++i) {  // B: kBN * 4 chunks, kBN / 64 per thread
    const int chunk = tid + i * 256;
    if constexpr (kBContiguousN) {
      constexpr int chunks_per_row = kBN / 8;
      const int q = chunk / chunks_per_row, cc = (chunk % chunks_per_row) * 8;
      const int64_t gq = p0 + q, gc = col0 + cc;
      const int bytes = bytes_of(gq < k, n - gc);
      copy16(Bs + q * (kBN + kPad) + cc, bytes ? B + gq * g.b.row_stride + gc : B, bytes);
    } else {
      const int cc = chunk >> 2, q = (chunk & 3) * 8;
      const int64_t gc = col0 + cc, gq = p0 + q;
      const int bytes = bytes_of(gc < n, k - gq);
      copy16(Bs + cc * (kBK + kPad) + q, bytes ? B + gc * g.b.col_stride + gq : B, bytes);
    }
  }
}

template <class T, bool kAContiguousK, bool kBContiguousN, int kBN>
__global__ void __launch_bounds__(256) gemm_mma(const __grid_constant__ MatmulArgs g) {
  constexpr int kStageElems = tile_elems(kBM) + tile_elems(kBN), kWarpN = kBN / 4, kNT = kWarpN / 8;
  extern __shared__ __align__(16) unsigned char smem[];
  T* const tiles = reinterpret_cast<T*>(smem);  // stage s: A at tiles + s * kStageElems, B after it
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int wm = (warp >> 2) * 64, wn = (warp & 3) * kWarpN;  // this warp's 64 x kWarpN piece of the tile
  const int64_t row0 = static_cast<int64_t>(blockIdx.x) * kBM, col0 = static_cast<int64_t>(blockIdx.y) * kBN;
  const int64_t slices = (g.k + kBK - 1) / kBK;
  for (int64_t z = blockIdx.z; z < g.batch.numel; z += gridDim.z) {
    const T* A = static_cast<const T*>(g.a.data) + batch_offset(z, g.batch, g.a.batch_strides);
    const T* B = static_cast<const T*>(g.b.data) + batch_offset(z, g.batch, g.b.batch_strides);
    T* C = static_cast<T*>(g.c.data) + batch_offset(z, g.batch, g.c.batch_strides);
    float acc[4][kNT][4] = {};  // [m16 tile][n8 tile][fragment]
#pragma unroll
    for (int s = 0; s < kStages - 1; ++s) {
      if (s < slices)
        load_slice<T, kAContiguousK, kBContiguousN, kBN>(
            tiles + s * kStageElems, tiles + s * kStageElems + tile_elems(kBM), A, B, g, row0, col0, s * kBK, tid);
      commit();
    }
    for (int64_t t = 0; t < slices; ++t) {
      wait_groups<kStages - 2>();  // slice t has landed (one group is committed per slice, empty ones included)
      __syncthreads();             // ... for every thread, and slice t-1's stage is free to refill
      const int64_t next = t + kStages - 1;
      if (next < slices) {
        const int s = static_cast<int>(next % kStages);
        load_slice<T, kAContiguousK, kBContiguousN, kBN>(
            tiles + s * kStageElems, tiles + s * kStageElems + tile_elems(kBM), A, B, g, row0, col0, next * kBK, tid);
      }
      commit();
      const int s = static_cast<int>(t % kStages);
      const T* As = tiles + s * kStageElems;
      const T* Bs = As + tile_elems(kBM);
#pragma unroll
      for (int kk = 0; kk < kBK; kk += 16) {
        unsigned af[4][4], bf[kNT / 2][4];
#pragma unroll
        for (int mt = 0; mt < 4; ++mt) {
          const int base = wm + mt * 16;
          if constexpr (kAContiguousK)
            ldmatrix_x4<false>(af[mt],
                               As + (base + (lane & 7) + ((lane >> 3) & 1) * 8) * (kBK + kPad) + kk + (lane >> 4) * 8);
          else
            ldmatrix_x4<true>(af[mt],
                              As + (kk + (lane & 7) + (lane >> 4) * 8) * (kBM + kPad) + base + ((lane >> 3) & 1) * 8);
        }
#pragma unroll
        for (int np = 0; np < kNT / 2; ++np) {
          const int base = wn + np * 16;
          if constexpr (kBContiguousN)
            ldmatrix_x4<true>(bf[np],
                              Bs + (kk + (lane & 7) + ((lane >> 3) & 1) * 8) * (kBN + kPad) + base + (lane >> 4) * 8);
          else
            ldmatrix_x4<false>(bf[np],
                               Bs + (base + (lane & 7) + (lane >> 4) * 8) * (kBK + kPad) + kk + ((lane >> 3) & 1) * 8);
        }
#pragma unroll
        for (int mt = 0; mt < 4; ++mt)
#pragma unroll
          for (int nt = 0; nt < kNT; ++nt)
            mma16816<T>(acc[mt][nt], af[mt], bf[nt >> 1][(nt & 1) * 2], bf[nt >> 1][(nt & 1) * 2 + 1]);
      }
    }
    wait_groups<0>();
    __syncthreads();  // the next batch matrix's first loads must not overwrite stages still being read
    const T* bias = static_cast<const T*>(g.bias);
#pragma unroll
    for (int mt = 0; mt < 4; ++mt)
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int64_t r = row0 + wm + mt * 16 + (lane >> 2) + half * 8;
        if (r >= g.m) continue;
        T* out = C + r * g.c.row_stride;
#pragma unroll
        for (int nt = 0; nt < kNT; ++nt) {
          const int64_t col = col0 + wn + nt * 8 + (lane & 3) * 2;
          float v[2] = {acc[mt][nt][half * 2], acc[mt][nt][half * 2 + 1]};
#pragma unroll
          for (int j = 0; j < 2; ++j) {
            if (bias != nullptr && col + j < g.n) v[j] += static_cast<float>(bias[(col + j) * g.bias_stride]);
            v[j] = activate(v[j], g.activation);
          }
          if (g.c_vectors && col + 1 < g.n) {
            T pair[2] = {T(v[0]), T(v[1])};
            *reinterpret_cast<unsigned*>(out + col) = *reinterpret_cast<const unsigned*>(pair);
          } else {
            for (int j = 0; j < 2 && col + j < g.n; ++j) out[(col + j) * g.c.col_stride] = T(v[j]);
          }
        }
      }
  }  // batch matrices
}

template <class T, bool kAContiguousK, bool kBContiguousN, int kBN>
void launch(const MatmulArgs& g) {
  auto* kernel = &gemm_mma<T, kAContiguousK, kBContiguousN, kBN>;
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem_bytes<kBN>()),
        "matmul (tensor cores): shared-memory size");
  kernel<<<mma_16bit_grid(g, kBN), 256, smem_bytes<kBN>()>>>(g);
}

template <class T, int kBN>
void launch_layouts(const MatmulArgs& g, bool a_contiguous_k, bool b_contiguous_n) {
  if (a_contiguous_k && b_contiguous_n)
    launch<T, true, true, kBN>(g);
  else if (a_contiguous_k)
    launch<T, true, false, kBN>(g);
  else if (b_contiguous_n)
    launch<T, false, true, kBN>(g);
  else
    launch<T, false, false, kBN>(g);
}

template <class T>
void launch_widths(const MatmulArgs& g, bool a_contiguous_k, bool b_contiguous_n, int tile_n) {
  if (tile_n == 256)
    launch_layouts<T, 256>(g, a_contiguous_k, b_contiguous_n);
  else
    launch_layouts<T, 128>(g, a_contiguous_k, b_contiguous_n);
}

}  // namespace

dim3 mma_16bit_grid(const MatmulArgs& g, int tile_n) {
  return dim3(static_cast<unsigned>((g.m + kBM - 1) / kBM), static_cast<unsigned>((g.n + tile_n - 1) / tile_n),
              static_cast<unsigned>(g.batch.numel < 65535 ? g.batch.numel : 65535));
}

void launch_mma_16bit(int dtype, const MatmulArgs& g, bool a_contiguous_k, bool b_contiguous_n, int tile_n) {
  if (dtype == kBFloat16)
    launch_widths<__nv_bfloat16>(g, a_contiguous_k, b_contiguous_n, tile_n);
  else if (dtype == kFloat16)
    launch_widths<__half>(g, a_contiguous_k, b_contiguous_n, tile_n);
  else
    throw std::runtime_error("tg::cuda: the tensor-core matmul takes bf16 or fp16");
  check_launch("matmul (tensor cores)");
}

}  // namespace tg::cuda::detail
