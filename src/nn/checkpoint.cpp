#include <tensorgrad/nn/checkpoint.h>

#include <algorithm>

#include <tensorgrad/autograd/checkpoint.h>

namespace tg::nn {

Tensor checkpoint_sequential(Sequential& model, int64_t segments, const Tensor& input) {
  const auto n = static_cast<int64_t>(model.size());
  TG_CHECK(segments >= 1, "tg::nn::checkpoint_sequential: segments must be positive, got ", segments);
  segments = std::min(segments, std::max<int64_t>(n, 1));
  Tensor x = input;
  for (int64_t s = 0; s < segments; ++s) {
    // Segment s holds layers [begin, end): sizes differ by at most one.
    const int64_t begin = s * n / segments, end = (s + 1) * n / segments;
    auto run = [&model, begin, end](const TensorList& in) {
      Tensor h = in[0];
      for (int64_t i = begin; i < end; ++i) h = model[static_cast<size_t>(i)](h);
      return h;
    };
    if (s + 1 == segments) return run({x});
    TensorList params;
    for (int64_t i = begin; i < end; ++i)
      for (const auto& p : model[static_cast<size_t>(i)].parameters()) params.push_back(p);
    x = checkpoint(run, {x}, params);
  }
  return x;
}

}  // namespace tg::nn
