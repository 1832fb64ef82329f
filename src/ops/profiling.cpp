// Descriptions of op calls for the profiler: input shapes as "[[2, 3], [3]]", dtypes, GEMM FLOPs.
#include "profiling.h"

#include <algorithm>

namespace tg::ops {

namespace {

void append_separated(std::string& s, const std::string& part) {
  s += s.empty() ? "[" : ", ";
  s += part;
}

}  // namespace

void add_profiled_input(profiler::EventInfo& info, const Tensor& t) {
  append_separated(info.input_shapes, t.defined() ? shape_str(t.shape()) : "[]");
  if (!info.input_dtypes.empty()) info.input_dtypes += ", ";
  info.input_dtypes += t.defined() ? dtype_name(t.dtype()) : "undefined";
}

void add_profiled_input(profiler::EventInfo& info, const TensorList& ts) {
  for (const Tensor& t : ts) add_profiled_input(info, t);
}

void finish_profiled_inputs(profiler::EventInfo& info) { info.input_shapes += info.input_shapes.empty() ? "[]" : "]"; }

int64_t matmul_flops(const Tensor& a, const Tensor& b) {
  if (!a.defined() || !b.defined() || a.dim() < 1 || b.dim() < 1) return 0;
  const int64_t m = a.dim() >= 2 ? a.size(-2) : 1, k = a.size(-1), n = b.dim() >= 2 ? b.size(-1) : 1;
  const int64_t a_batch = std::max<int64_t>(a.dim() - 2, 0), b_batch = std::max<int64_t>(b.dim() - 2, 0);
  int64_t batch = 1;
  for (int64_t i = 0; i < std::max(a_batch, b_batch); ++i) {
    const int64_t da = i < a_batch ? a.size(a_batch - 1 - i) : 1, db = i < b_batch ? b.size(b_batch - 1 - i) : 1;
    if (da != db && da != 1 && db != 1) return 0;
    batch *= std::max(da, db);
  }
  return 2 * batch * m * n * k;
}

int64_t linear_flops(const Tensor& x, const Tensor& weight) {
  if (!x.defined() || !weight.defined() || weight.dim() != 2 || x.dim() < 1) return 0;
  int64_t rows = 1;
  for (int64_t d = 0; d + 1 < x.dim(); ++d) rows *= x.size(d);
  return 2 * rows * weight.size(0) * weight.size(1);
}

int64_t conv_flops(const Tensor& x, const Tensor& weight, const SpatialArg& stride, const SpatialArg& padding,
                   const SpatialArg& dilation) {
  if (!x.defined() || !weight.defined() || x.dim() < 3 || x.dim() != weight.dim()) return 0;
  const auto nd = static_cast<size_t>(x.dim() - 2);
  auto value = [nd](const SpatialArg& arg, size_t d) -> int64_t {
    const auto& v = arg.values();
    return v.size() == 1 ? v[0] : v.size() == nd ? v[d] : 0;
  };
  int64_t positions = 1, kernel = 1;
  for (size_t d = 0; d < nd; ++d) {
    const int64_t k = weight.size(static_cast<int64_t>(d) + 2), s = value(stride, d);
    if (s <= 0) return 0;
    const int64_t room = x.size(static_cast<int64_t>(d) + 2) + 2 * value(padding, d) - value(dilation, d) * (k - 1) - 1;
    if (room < 0) return 0;
    positions *= room / s + 1;
    kernel *= k;
  }
  return 2 * x.size(0) * weight.size(0) * positions * weight.size(1) * kernel;
}

}  // namespace tg::ops
