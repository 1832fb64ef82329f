#pragma once
// What the speech model's input gets between the filterbank and the encoder: per-feature normalisation and
// SpecAugment (Park et al. 2019: zeroed bands of frequency bins and stretches of frames).
#include <cstdint>

#include <tensorgrad/core/random.h>
#include <tensorgrad/core/tensor.h>

namespace tg::audio {

// features [frames, bins] -> each bin shifted and scaled to mean 0 and standard deviation 1 over the frames
// (NeMo's "per_feature"; a bin that never varies becomes 0). A copy, float32 or float64 as given.
Tensor normalize_per_feature(const Tensor& features, double eps = 1e-5);

struct SpecAugmentOptions {
  int64_t freq_masks = 2;
  int64_t freq_width = 27;     // each band: a width drawn from [0, freq_width]
  int64_t time_masks = 2;
  double time_width = 0.05;    // each stretch: up to this fraction of the frames (at least 1 frame)
};

// features [frames, bins] (or [N, frames, bins], each example with its own masks; `lengths` int64 [N] keeps
// masks inside each example's real frames) with the masked entries set to 0, the normalised mean. A copy; the
// masks come from `gen`.
Tensor spec_augment(const Tensor& features, const SpecAugmentOptions& options, Generator& gen,
                    const Tensor& lengths = {});

}  // namespace tg::audio
