// The optimizer updates as plain element loops over contiguous buffers, each element by the one statement of
// its rule (../update_rules.h), which the CPU's fused, threaded, vectorised kernels (cpu/fused_update.cpp)
// must reproduce.
#include "../update_rules.h"
#include "ref_kernels.h"

namespace tg::kernels::ref {

namespace {

template <class T>
void sgd_typed(int64_t n, const SgdCoefficients& c, const StridedArg& param, const StridedArg& grad,
               const StridedArg& buffer) {
  T* p = static_cast<T*>(param.data);
  const T* g = static_cast<const T*>(grad.data);
  T* buf = static_cast<T*>(buffer.data);
  for (int64_t i = 0; i < n; ++i) rules::sgd_element(c, p[i], g[i], buf != nullptr ? buf + i : nullptr);
}

template <class T>
void adam_typed(int64_t n, const AdamCoefficients& c, const StridedArg& param, const StridedArg& grad,
                const StridedArg& exp_avg, const StridedArg& exp_avg_sq, const StridedArg& max_exp_avg_sq) {
  T* p = static_cast<T*>(param.data);
  const T* g = static_cast<const T*>(grad.data);
  T* m = static_cast<T*>(exp_avg.data);
  T* v = static_cast<T*>(exp_avg_sq.data);
  T* vmax = static_cast<T*>(max_exp_avg_sq.data);
  for (int64_t i = 0; i < n; ++i) rules::adam_element(c, p[i], g[i], m[i], v[i], vmax != nullptr ? vmax + i : nullptr);
}

}  // namespace

void register_optimizer(KernelTables& t) {
  t.sgd_update.add(DeviceType::CPU, DType::Float32, &sgd_typed<float>);
  t.sgd_update.add(DeviceType::CPU, DType::Float64, &sgd_typed<double>);
  t.adam_update.add(DeviceType::CPU, DType::Float32, &adam_typed<float>);
  t.adam_update.add(DeviceType::CPU, DType::Float64, &adam_typed<double>);
}

}  // namespace tg::kernels::ref
