#pragma once
#include "../ref/ref_kernels.h"

namespace tg::kernels::cpu {

// Fused (flash) attention on the GEMM micro-kernel, float32 and float64 (attention.cpp).
void attention_forward(const AttentionProblem& p, const AttentionArgs& a);
void attention_backward(const AttentionProblem& p, const AttentionArgs& a);

}  // namespace tg::kernels::cpu
