#pragma once
#include "../ref/ref_kernels.h"

namespace tg::kernels::cpu {

// Blocks [first_block, last_block) of a random fill (ref::random_range's contract: element i of the whole fill
// of n at out.data[i]). Philox runs sixteen counters side by side in ISA-cloned loops, so the uniform float32
// fill and the Bernoulli mask (dropout) vectorise; they give the reference's bits. The other fills go to the
// reference. Single-threaded: register.cpp splits the blocks over threads.
void random_range(RandomOp op, const StridedArg& out, int64_t n, const RandomParams& params, int64_t first_block,
                  int64_t last_block);

// Philox4x32-10 words of blocks [first, first + count) (words[4 * i + j] = word j of block first + i) with the
// key from `seed`, per ISA: what random_range draws from, exposed so a test can hold every ISA present to
// core/random.cpp's philox4x32. The vector ones are null where the compiler cannot build them.
using PhiloxWords = void (*)(uint64_t seed, uint64_t first, int64_t count, uint32_t* words);
extern const PhiloxWords philox_words_scalar, philox_words_avx2, philox_words_avx512;

}  // namespace tg::kernels::cpu
