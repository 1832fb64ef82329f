#pragma once
// The GEMM kernels behind launch_matmul (gemm.cu chooses among them): one argument bundle, one launcher per
// kernel. Internal to the backend's .cu files.
#include <cuda_runtime.h>

#include "launch.h"

namespace tg::cuda::detail {

struct MatmulArgs {
  Geometry batch;
  int64_t m = 0, n = 0, k = 0;
  MatmulOperand c, a, b;
  const void* bias = nullptr;
  int64_t bias_stride = 1;
  int activation = 0;
  bool c_vectors = false;  // C's rows contiguous and aligned: the store may write several columns at once
};

// Rung 1: any strides and any of the backend's float dtypes (float32/float64, and bf16/fp16 accumulated in
// float32), 64 x 64 tiles.
void launch_strided(int dtype, const MatmulArgs& g);
// Rung 3: float32, 128 x 128 tiles, 16-byte loads; A with k (else m) contiguous, B with n (else k) contiguous;
// k in slices of `slice` (8 or 16), registers cut for min_blocks (1 or 2) blocks per multiprocessor.
void launch_simt_f32(const MatmulArgs& g, bool a_contiguous_k, bool b_contiguous_n, FastVariant variant);
dim3 simt_f32_grid(const MatmulArgs& g);
// Tensor cores: bf16 or fp16 operands, float32 accumulation, 128 x tile_n (128 or 256) x 32 tiles through a
// 4-stage cp.async pipeline and mma.sync m16n8k16; A with k (else m) contiguous, B with n (else k) contiguous.
void launch_mma_16bit(int dtype, const MatmulArgs& g, bool a_contiguous_k, bool b_contiguous_n, int tile_n);
dim3 mma_16bit_grid(const MatmulArgs& g, int tile_n);

}  // namespace tg::cuda::detail
