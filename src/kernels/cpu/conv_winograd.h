#pragma once
// Winograd's minimal filtering F(2x2, 3x3) for the forward and the weight gradient of a 3x3, stride-1 float32
// convolution (conv_winograd.cpp): 16 multiplies a 2x2 output tile and input channel where the GEMM over im2col
// does 36.
#include <tensorgrad/kernels/kernels.h>

namespace tg::kernels::cpu {

// conv_gemm's Forward (out[g] (M x N OH OW) = a[g] (M x Cin/G 9) cols[g] + bias, the same operands, strides and
// result layout) where kernels.h's conv_gemm_is_winograd holds; summed in another order: within float32 rounding
// of the definition, not the implicit GEMM's bits. Deterministic: the same bits on any thread count.
void conv_winograd(const ConvGemmProblem& p, const StridedArg& out, const StridedArg& a, const StridedArg& x,
                   const StridedArg& bias = {});

// conv_gemm's WeightGrad (out[g] (M x Cin/G 9) = a[g] (M x N OH OW) cols[g]^T, a the output's gradient) by the same
// transforms: within float32 rounding of the definition, the same bits on any thread count (the tiles are summed
// in chunks fixed by the problem, the chunks then in order).
void conv_winograd_weight_grad(const ConvGemmProblem& p, const StridedArg& out, const StridedArg& a,
                               const StridedArg& x);

}  // namespace tg::kernels::cpu
