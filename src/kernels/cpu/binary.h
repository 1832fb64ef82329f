#pragma once
#include "../ref/ref_kernels.h"

namespace tg::kernels::cpu {

// Registers the fast float32 / float64 add, sub, mul and div (replacing the reference ones registered
// before; the other binary ops and layouts other than one contiguous run still run the reference loop).
void register_binary(KernelTables& t);

}  // namespace tg::kernels::cpu
