#include <tensorgrad/base/error.h>
#include <tensorgrad/nn/pool.h>
#include <tensorgrad/ops/pool.h>

namespace tg::nn {

namespace {

std::string spatial_str(const SpatialArg& a) {
  if (a.empty()) return "None";
  std::string out;
  for (int64_t v : a.values()) out += (out.empty() ? "" : ", ") + std::to_string(v);
  return a.values().size() == 1 ? out : "(" + out + ")";
}

}  // namespace

Tensor MaxPool2d::forward(const Tensor& input) { return max_pool2d(input, kernel_, stride_, padding_, dilation_); }

std::string MaxPool2d::extra_repr() const {
  return "kernel_size=" + spatial_str(kernel_) + ", stride=" + spatial_str(stride_.empty() ? kernel_ : stride_) +
         ", padding=" + spatial_str(padding_);
}

Tensor AvgPool2d::forward(const Tensor& input) {
  return avg_pool2d(input, kernel_, stride_, padding_, count_include_pad_);
}

std::string AvgPool2d::extra_repr() const {
  return "kernel_size=" + spatial_str(kernel_) + ", stride=" + spatial_str(stride_.empty() ? kernel_ : stride_) +
         ", padding=" + spatial_str(padding_);
}

}  // namespace tg::nn
