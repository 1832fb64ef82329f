// operator<< for tensors: values in nested brackets, then shape and dtype; large tensors are elided
// to the first and last few entries of each dimension, as NumPy and PyTorch print them.
#include <tensorgrad/core/graph.h>
#include <tensorgrad/core/tensor.h>

#include <iomanip>
#include <ostream>

namespace tg {

namespace {

constexpr int64_t kElideThreshold = 1000;
constexpr int64_t kEdgeItems = 3;

void print_element(std::ostream& os, const Tensor& t, int64_t offset) {
  visit_dtype(t.dtype(), [&]<class T>(TypeTag<T>) {
    const T v = static_cast<const T*>(t.data_ptr())[offset];
    if constexpr (std::is_same_v<T, bool>) os << (v ? "true" : "false");
    else if constexpr (std::is_same_v<T, int64_t>) os << v;
    else os << std::setprecision(std::is_same_v<T, double> ? 10 : std::is_same_v<T, float> ? 6 : 4)
            << static_cast<double>(v);
  });
}

void print_dim(std::ostream& os, const Tensor& t, size_t d, int64_t offset, bool elide, int indent) {
  if (d == static_cast<size_t>(t.dim())) {
    print_element(os, t, offset);
    return;
  }
  const int64_t n = t.shape()[d];
  os << '[';
  for (int64_t i = 0; i < n; ++i) {
    if (elide && n > 2 * kEdgeItems && i == kEdgeItems) {
      os << "..., ";
      if (d + 1 < static_cast<size_t>(t.dim())) os << '\n' << std::string(static_cast<size_t>(indent + 1), ' ');
      i = n - kEdgeItems - 1;
      continue;
    }
    print_dim(os, t, d + 1, offset + i * t.strides()[d], elide, indent + 1);
    if (i + 1 < n) {
      os << ',';
      if (d + 1 < static_cast<size_t>(t.dim())) os << '\n' << std::string(static_cast<size_t>(indent + 1), ' ');
      else os << ' ';
    }
  }
  os << ']';
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (!t.defined()) return os << "tensor(undefined)";
  const auto flags = os.flags();
  const auto precision = os.precision();
  os << "tensor(";
  print_dim(os, host_view(t), 0, 0, t.numel() > kElideThreshold, 7);
  os << ", shape=" << shape_str(t.shape()) << ", dtype=" << dtype_name(t.dtype());
  if (!t.is_cpu()) os << ", device=" << t.device();
  if (t.grad_fn()) os << ", grad_fn=" << t.grad_fn()->name();
  else if (t.requires_grad()) os << ", requires_grad=true";
  os << ')';
  os.flags(flags);
  os.precision(precision);
  return os;
}

}  // namespace tg
