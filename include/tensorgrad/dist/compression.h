#pragma once
// Gradient compression for the all-reduce of data parallel training.
//
// None      : all_reduce(avg) of the float values.
// Float16 / BFloat16 : each rank rounds its gradients to 16 bits (the dtype casts of core/half.h), the ranks all-gather
//             the 16-bit words, and every rank sums them in rank order in float32 (the same order everywhere,
//             so every rank gets the same result) and divides by the world size. Half the bytes of float32.
// TopK      : each rank sends only the k = ceil(ratio * n) largest-magnitude entries of (gradient + residual)
//             as (index, value) pairs; what it did not send stays in its residual and is added to the next
//             step's gradient (error feedback), so nothing is lost, only delayed. 12 bytes per entry sent.
#include <cstdint>
#include <string>
#include <vector>

#include <tensorgrad/dist/communicator.h>

namespace tg::dist {

enum class CompressionKind { None, Float16, BFloat16, TopK };

struct CompressionOptions {
  CompressionKind kind = CompressionKind::None;
  double topk_ratio = 0.01;  // fraction of entries each rank sends per bucket (TopK)
};

// "none", "fp16", "bf16", "topk"; throws tg::Error for anything else.
CompressionKind parse_compression(const std::string& name);
const char* compression_name(CompressionKind kind);

// Averages `flat` (contiguous float32) over the ranks with the given compression; `residual` (same shape,
// zeros at first) holds TopK's error feedback between calls. Returns a handle whose completion writes the
// result into `flat`; `bytes_sent` gets the bytes this rank contributes.
WorkHandle compressed_average_async(Communicator& comm, const Tensor& flat, const Tensor& residual,
                                    const CompressionOptions& options, const std::string& label, int64_t& bytes_sent);

}  // namespace tg::dist
