#pragma once
#include "../ref/ref_kernels.h"

namespace tg::kernels::cpu {

// One sample of the CTC loss (and gradient) by the scaled forward-backward recursions: probabilities, not
// logarithms, normalised every frame (ctc.cpp). Falls back to the reference log-space recursion for a sample
// whose scaled values underflow, so results agree with ref::ctc_sample to rounding.
void ctc_sample(const CtcProblem& p, int64_t n, const StridedArg& log_probs, const StridedArg& targets,
                const StridedArg& input_lengths, const StridedArg& target_lengths, const StridedArg& nll,
                const StridedArg& grad);

}  // namespace tg::kernels::cpu
