#pragma once
#include "../ref/ref_kernels.h"

namespace tg::kernels::cpu {

// Registers the vectorisable float32 exp, sigmoid and tanh (replacing the reference ones registered before).
void register_unary(KernelTables& t);

}  // namespace tg::kernels::cpu
