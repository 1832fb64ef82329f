#pragma once
#include "../ref/ref_kernels.h"

namespace tg::kernels::cpu {

// The optimizer updates in one vectorised pass per parameter, threaded (float32 / float64).
void sgd_update(int64_t n, const SgdCoefficients& c, const StridedArg& param, const StridedArg& grad,
                const StridedArg& momentum_buffer);
void adam_update(int64_t n, const AdamCoefficients& c, const StridedArg& param, const StridedArg& grad,
                 const StridedArg& exp_avg, const StridedArg& exp_avg_sq, const StridedArg& max_exp_avg_sq);

}  // namespace tg::kernels::cpu
