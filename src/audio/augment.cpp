// normalize_per_feature and spec_augment (augment.h): plain loops over a contiguous copy.
#include <tensorgrad/audio/augment.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <type_traits>

#include <tensorgrad/base/error.h>

namespace tg::audio {

namespace {

// f(the tensor's data as float* or double*), through the project's float32 / float64 dispatch.
template <class F>
void visit_float(const Tensor& t, const char* op, F&& f) {
  visit_floating(t.dtype(), op, [&]<class T>(TypeTag<T>) { f(static_cast<T*>(t.data_ptr())); });
}

}  // namespace

Tensor normalize_per_feature(const Tensor& features, double eps) {
  TG_CHECK(features.defined() && features.dim() == 2, "tg::audio::normalize_per_feature: features must be [frames, bins], got ",
           features.defined() ? features.shape() : Shape{});
  Tensor out = features.contiguous().clone();
  const int64_t T = out.size(0), F = out.size(1);
  visit_float(out, "tg::audio::normalize_per_feature", [&](auto* x) {
    for (int64_t f = 0; f < F; ++f) {
      double mean = 0, sq = 0;
      for (int64_t t = 0; t < T; ++t) mean += static_cast<double>(x[t * F + f]);
      mean /= static_cast<double>(std::max<int64_t>(T, 1));
      for (int64_t t = 0; t < T; ++t) sq += std::pow(static_cast<double>(x[t * F + f]) - mean, 2);
      const double stdev = T > 1 ? std::sqrt(sq / static_cast<double>(T - 1)) : 0.0;
      for (int64_t t = 0; t < T; ++t) {
        auto& v = x[t * F + f];
        v = static_cast<std::remove_reference_t<decltype(v)>>((static_cast<double>(v) - mean) / (stdev + eps));
      }
    }
  });
  return out;
}

Tensor spec_augment(const Tensor& features, const SpecAugmentOptions& o, Generator& gen, const Tensor& lengths) {
  TG_CHECK(features.defined() && (features.dim() == 2 || features.dim() == 3),
           "tg::audio::spec_augment: features must be [frames, bins] or [N, frames, bins], got ",
           features.defined() ? features.shape() : Shape{});
  TG_CHECK(o.freq_masks >= 0 && o.freq_width >= 0 && o.time_masks >= 0 && o.time_width >= 0,
           "tg::audio::spec_augment: mask counts and widths must be >= 0");
  Tensor out = features.contiguous().clone();
  const bool batched = out.dim() == 3;
  const int64_t N = batched ? out.size(0) : 1, T = out.size(-2), F = out.size(-1);
  std::vector<int64_t> len(static_cast<size_t>(N), T);
  if (lengths.defined()) {
    TG_CHECK(batched && lengths.dtype() == DType::Int64 && lengths.dim() == 1 && lengths.size(0) == N,
             "tg::audio::spec_augment: lengths must be int64 [N] beside [N, frames, bins] features");
    const Tensor l = lengths.contiguous();
    for (int64_t n = 0; n < N; ++n) len[static_cast<size_t>(n)] = std::clamp<int64_t>(static_cast<const int64_t*>(l.data_ptr())[n], 0, T);
  }
  // One engine seeded from the generator's stream: the masks are a function of the generator's state.
  const std::array<uint32_t, 4> draw = gen.block(gen.reserve(1));
  std::mt19937_64 rng(static_cast<uint64_t>(draw[0]) << 32 | draw[1]);
  visit_float(out, "tg::audio::spec_augment", [&](auto* x) {
    for (int64_t n = 0; n < N; ++n) {
      auto* e = x + n * T * F;
      const int64_t frames = len[static_cast<size_t>(n)];
      for (int64_t m = 0; m < o.freq_masks; ++m) {
        const int64_t w = std::uniform_int_distribution<int64_t>(0, std::min(o.freq_width, F))(rng);
        const int64_t f0 = std::uniform_int_distribution<int64_t>(0, F - w)(rng);
        for (int64_t t = 0; t < frames; ++t)
          for (int64_t f = f0; f < f0 + w; ++f) e[t * F + f] = 0;
      }
      if (frames == 0) continue;
      const auto max_w = std::max<int64_t>(1, static_cast<int64_t>(o.time_width * static_cast<double>(frames)));
      for (int64_t m = 0; m < o.time_masks; ++m) {
        const int64_t w = std::uniform_int_distribution<int64_t>(0, std::min(max_w, frames))(rng);
        const int64_t t0 = std::uniform_int_distribution<int64_t>(0, frames - w)(rng);
        for (int64_t t = t0; t < t0 + w; ++t)
          for (int64_t f = 0; f < F; ++f) e[t * F + f] = 0;
      }
    }
  });
  return out;
}

}  // namespace tg::audio
