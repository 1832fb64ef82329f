#pragma once
// bfloat16 and float16 in host memory: each family's 16-bit slots run a float32 kernel on float32 copies of the
// 16-bit operands and round the outputs back (half_staging.cpp). copy, fill and where move 16-bit values
// natively and are not staged.
#include <tensorgrad/kernels/kernel_tables.h>

namespace tg::kernels {

// Which float32 kernels the staged 16-bit kernels call: the reference ones (ref/register.cpp adds these, the
// oracle) or the CPU's production ones (cpu/register.cpp adds these over them).
enum class HalfStaging : uint8_t { Reference, Production };

// Fills the CPU's bfloat16 and float16 slots of every family whose float32 slot is filled; call it after the
// float32 kernels are registered.
void register_half_staging(KernelTables& t, HalfStaging over);

}  // namespace tg::kernels
