#pragma once
#include "../ref/ref_kernels.h"

namespace tg::kernels::cpu {

// kernels.h's conv_gemm for float32 / float64: a weight gradient with few taps a filter where
// conv_weight_grad_is_direct holds (float32, stride 1, <= 16 taps: conv_direct_weight_grad.h); where
// kernels::conv_gemm_is_winograd holds (3x3, stride 1, float32, 16+ channels) the forward and weight gradient by
// Winograd (conv_winograd.h); everything else by conv_gemm_implicit.
void conv_gemm(ConvGemmOp op, const ConvGemmProblem& p, const StridedArg& out, const StridedArg& a,
               const StridedArg& x, const StridedArg& bias);

// The convolution's GEMMs with the im2col matrix gathered from the image while the GEMM packs its panels
// (conv_gemm.cpp): the same bits as the GEMM over the materialised matrix (the bias added to each finished sum),
// except a weight gradient of a small result (64 x 64 a group at most) over many positions (16384 or more), summed
// by chunks of positions.
void conv_gemm_implicit(ConvGemmOp op, const ConvGemmProblem& p, const StridedArg& out, const StridedArg& a,
                        const StridedArg& x, const StridedArg& bias = {});

}  // namespace tg::kernels::cpu
