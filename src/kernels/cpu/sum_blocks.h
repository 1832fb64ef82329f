#pragma once
// The double sum of n float32 (reduce.cpp's block of a whole-tensor or row sum), in the order reduce.cpp's
// scalar rule fixes: element i goes into lane i % 32 for the first n - n % 32 elements, the rest into one tail
// accumulator in order, the 32 lanes are folded pairwise (lane l += lane l + w for w = 16, 8, 4, 2, 1) and the
// tail added last. One version per ISA (sum_blocks_<isa>.cpp, each built with its flags), chosen by CPUID;
// each gives exactly the scalar rule's bits. They exist because GCC vectorises the scalar rule with 512-bit
// loads split by extracts, which the float -> double conversions' port cannot absorb (57 -> 49 us for 1M floats
// on Zen 5): here each conversion reads its floats straight from memory.
#include <cstdint>

namespace tg::kernels::cpu {

using SumBlockF32 = double (*)(const float* row, int64_t n);

// The rule itself, as reduce.cpp writes it (compiled per ISA by target_clones): the fallback on other CPUs, and
// what the per-ISA versions are tested against.
double sum_block_f32_scalar_rule(const float* row, int64_t n);

namespace isa {
extern const SumBlockF32 avx2_sum_block_f32;    // null when sum_blocks_avx2.cpp was built for another target
extern const SumBlockF32 avx512_sum_block_f32;  // null when sum_blocks_avx512.cpp was built for another target
}  // namespace isa

}  // namespace tg::kernels::cpu
