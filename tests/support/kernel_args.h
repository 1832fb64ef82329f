#pragma once
// What the kernel-layer tests share: a tensor as a kernel operand, and a thread count for one scope.
#include <tensorgrad/base/threads.h>
#include <tensorgrad/kernels/kernels.h>
#include <tensorgrad/tensorgrad.h>

namespace tgtest {

// t as a kernel operand (its data, strides, dtype and device).
inline tg::kernels::StridedArg arg(const tg::Tensor& t) {
  return {t.data_ptr(), t.strides(), t.dtype(), t.device().type};
}

// tg::set_num_threads(n) until the end of the scope.
class Threads {
 public:
  explicit Threads(int n) : saved_(tg::num_threads()) { tg::set_num_threads(n); }
  ~Threads() { tg::set_num_threads(saved_); }
  Threads(const Threads&) = delete;
  Threads& operator=(const Threads&) = delete;

 private:
  int saved_;
};

}  // namespace tgtest
