// launch_matmul: chooses the GEMM kernel for a problem (docs/CUDA.md, "GEMM"). 16-byte-aligned operands with
// a contiguous dimension take the fast kernels (tensor cores for bf16 / fp16, 128 x 128 CUDA-core tiles for
// float32) when they fill the GPU; everything else, and float64, takes the strided kernel. A float32 / float64
// product with few output tiles and a long k is split along k (split-K) first.
#include <algorithm>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>

#include "gemm_common.cuh"
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

int multiprocessors() {
  static const int sms = [] {
    int device = 0, count = 0;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device);
    return count > 0 ? count : 1;
  }();
  return sms;
}

// The tiles a 128 x 128 kernel would launch, against the GPU's multiprocessors: below about one wave the
// strided kernel's 4x more (64 x 64) tiles keep more of the GPU busy.
bool fills_gpu(const MatmulArgs& g) {
  return ((g.m + 127) / 128) * ((g.n + 127) / 128) * g.batch.numel >= multiprocessors();
}

// The fast kernels' variants in Auto: chosen by tg_cuda_check's timings on the H200 (docs/CUDA.md).
constexpr FastVariant kFastDefault{16, 1, 128};

// Split-K: a single product with fewer 64 x 64 output tiles than half the multiprocessors and a long k (a
// convolution's weight gradient, [Cout, Cin KH KW] summed over N OH OW, has one to a few tiles and k in the
// hundred thousands) would run on a few multiprocessors for milliseconds. Its k is cut into S equal chunks
// (S divides k; about two tiles per multiprocessor, chunks of at least 512), computed as S batched products
// into a workspace, then summed in chunk order (so the result does not depend on scheduling).
int64_t split_count(const MatmulArgs& g) {
  if (g.batch.numel != 1 || g.k < 2048) return 1;
  const int64_t tiles = ((g.m + 63) / 64) * ((g.n + 63) / 64), sms = multiprocessors();
  if (2 * tiles >= sms) return 1;
  int64_t s = std::min<int64_t>((2 * sms + tiles - 1) / tiles, g.k / 512);
  while (s > 1 && g.k % s != 0) --s;
  return s;
}

// The split products' workspace: one device buffer, grown when a larger one is needed (cudaFree waits for the
// kernels that used it). Every launch is on the legacy default stream, so consecutive products reuse it in
// order.
void* split_workspace(size_t bytes) {
  static std::mutex mutex;
  static void* buffer = nullptr;
  static size_t size = 0;
  std::lock_guard<std::mutex> lock(mutex);
  if (bytes > size) {
    if (buffer != nullptr) check(cudaFree(buffer), "matmul: freeing the split-K workspace");
    buffer = nullptr;
    check(cudaMalloc(&buffer, bytes), "matmul: the split-K workspace");
    size = bytes;
  }
  return buffer;
}

// C = the sum over `splits` m x n partial products (contiguous, one after another), then the epilogue.
template <class T>
__global__ void sum_splits(int64_t m, int64_t n, int64_t splits, const T* parts,
                           const __grid_constant__ MatmulOperand c, const T* bias, int64_t bias_stride,
                           int activation) {
  T* out = static_cast<T*>(c.data);
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < m * n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = i / n, col = i % n;
    T v = parts[i];
    for (int64_t s = 1; s < splits; ++s) v += parts[s * m * n + i];
    if (bias != nullptr) v += bias[col * bias_stride];
    out[r * c.row_stride + col * c.col_stride] = activate(v, activation);
  }
}

template <class T>
void launch_split(const MatmulArgs& g, int64_t splits, FastVariant variant, int dtype) {
  const int64_t chunk = g.k / splits;
  T* parts = static_cast<T*>(split_workspace(static_cast<size_t>(splits * g.m * g.n) * sizeof(T)));
  Geometry batch;
  batch.ndim = 1;
  batch.sizes[0] = splits;
  batch.numel = splits;
  MatmulOperand c, a = g.a, b = g.b;
  c.data = parts;
  c.batch_strides[0] = g.m * g.n;
  c.row_stride = g.n;
  c.col_stride = 1;
  a.batch_strides[0] = chunk * g.a.col_stride;  // chunk s reads A's columns and B's rows s*chunk..
  b.batch_strides[0] = chunk * g.b.row_stride;
  launch_matmul(dtype, batch, g.m, g.n, chunk, c, a, b, nullptr, 1, 0, MatmulKernel::Auto, variant);
  sum_splits<T><<<blocks_for(g.m * g.n), kThreads>>>(g.m, g.n, splits, parts, g.c, static_cast<const T*>(g.bias),
                                                     g.bias_stride, g.activation);
  check_launch("matmul (split-K sum)");
}

}  // namespace

void launch_matmul(int dtype, const Geometry& batch, int64_t m, int64_t n, int64_t k, const MatmulOperand& c,
                   const MatmulOperand& a, const MatmulOperand& b, const void* bias, int64_t bias_stride,
                   int activation, MatmulKernel kernel, FastVariant variant) {
  if (m == 0 || n == 0 || batch.numel == 0) return;
  MatmulArgs g{batch, m, n, k, c, a, b, bias, bias_stride, activation, false};
  if (kernel == MatmulKernel::Auto && (dtype == kFloat32 || dtype == kFloat64)) {
    if (const int64_t splits = split_count(g); splits > 1) {
      if (dtype == kFloat32)
        launch_split<float>(g, splits, variant, dtype);
      else
        launch_split<double>(g, splits, variant, dtype);
      return;
    }
  }
  const bool half = dtype == kBFloat16 || dtype == kFloat16;
  const int elem = half ? 2 : dtype == kFloat32 ? 4 : 8, vec = 16 / elem;
  const int a_layout = layout(a, batch, vec, elem), b_layout = layout(b, batch, vec, elem);
  // C written a 16-byte vector (float32) or a 4-byte pair (16-bit) at a time.
  const int c_vec = half ? 2 : 4;
  g.c_vectors =
      c.col_stride == 1 && reinterpret_cast<uintptr_t>(c.data) % (c_vec * elem) == 0 && c.row_stride % c_vec == 0;
  for (int d = 0; d < batch.ndim; ++d)
    if (batch.sizes[d] > 1 && c.batch_strides[d] % c_vec != 0) g.c_vectors = false;
  const bool fast_layout = dtype != kFloat64 && a_layout >= 0 && b_layout >= 0 && k > 0 && k < (int64_t{1} << 31);
  const bool forced = kernel == MatmulKernel::Fast;
  if (forced && !fast_layout)
    throw std::runtime_error("tg::cuda: matmul: the fast kernel cannot read these operands' layout");
  if (fast_layout && (forced || (kernel == MatmulKernel::Auto && fills_gpu(g)))) {
    if (half)
      launch_mma_16bit(dtype, g, a_layout == 1, b_layout == 1, variant.tile_n ? variant.tile_n : kFastDefault.tile_n);
    else
      launch_simt_f32(g, a_layout == 1, b_layout == 1, variant.slice ? variant : kFastDefault);
    return;
  }
  launch_strided(dtype, g);
}

}  // namespace tg::cuda::detail
