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

// A [G, M, N L] tensor as conv_gemm's 4-D (group, row, image, position) operand (kernels.h): its column n L + j
// is image n's position j.
inline tg::kernels::StridedArg by_image(const tg::Tensor& t, int64_t l) {
  const tg::Strides& s = t.strides();
  return {t.data_ptr(), {s[0], s[1], l * s[2], s[2]}, t.dtype(), t.device().type};
}

// An NC(H)W output or gradient [N, Cout, L] as conv_gemm's 4-D (group, row, image, position) operand.
inline tg::kernels::StridedArg nchw_arg(const tg::Tensor& t, int64_t groups) {
  const int64_t m = t.size(1) / groups;
  return {t.data_ptr(), {m * t.stride(1), t.stride(1), t.stride(0), t.stride(2)}, t.dtype(), t.device().type};
}
// [N, Cout, L] -> the GEMM's [G, M, N L] layout, contiguous.
inline tg::Tensor nchw_to_columns(const tg::Tensor& t, int64_t groups) {
  const int64_t n = t.size(0), cout = t.size(1), l = t.size(2);
  return t.reshape({n, groups, cout / groups, l})
      .permute({1, 2, 0, 3})
      .contiguous()
      .reshape({groups, cout / groups, n * l});
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
