#pragma once
#include "../ref/ref_kernels.h"

namespace tg::kernels::cpu {

// The convolution's GEMMs with the im2col matrix gathered from the image while the GEMM packs its panels
// (conv_gemm.cpp): kernels.h's conv_gemm for float32 / float64.
void conv_gemm(ConvGemmOp op, const ConvGemmProblem& p, const StridedArg& out, const StridedArg& a,
               const StridedArg& x);

}  // namespace tg::kernels::cpu
