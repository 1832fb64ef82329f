#pragma once
#include "../ref/ref_kernels.h"

namespace tg::kernels::cpu {

// float32 layer normalisation (kernels::layer_norm_forward / layer_norm_backward), vectorised per ISA and
// threaded over blocks of rows; float64 runs the reference kernel.
void layer_norm_forward(const LayerNormProblem& p, const LayerNormArgs& a);
void layer_norm_backward(const LayerNormProblem& p, const LayerNormArgs& a);

}  // namespace tg::kernels::cpu
