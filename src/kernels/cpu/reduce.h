#pragma once
#include "../ref/ref_kernels.h"

namespace tg::kernels::cpu {

// Registers the fast float32 / float64 sum, max and min (replacing the reference ones registered before;
// layouts they do not cover still run the reference loop).
void register_reduce(KernelTables& t);

}  // namespace tg::kernels::cpu
