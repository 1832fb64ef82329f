#pragma once
#include "../ref/ref_kernels.h"

namespace tg::kernels::cpu {

// Depthwise 1-D convolution, threaded over (n, c) rows (depthwise.cpp).
void depthwise_conv1d(const DepthwiseProblem& p, const StridedArg& out, const StridedArg& x, const StridedArg& w);

}  // namespace tg::kernels::cpu
