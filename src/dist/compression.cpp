// Compressed averaging: 16-bit casts and top-k with error feedback, built on all_gather so every rank sums the
// same values in the same (rank) order and gets bit-identical results.
#include <tensorgrad/dist/compression.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include <tensorgrad/base/error.h>
#include <tensorgrad/core/half.h>

#include "work.h"

namespace tg::dist {

CompressionKind parse_compression(const std::string& name) {
  if (name == "none") return CompressionKind::None;
  if (name == "fp16") return CompressionKind::Float16;
  if (name == "bf16") return CompressionKind::BFloat16;
  if (name == "topk") return CompressionKind::TopK;
  TG_FAIL("tg::dist: unknown compression \"", name, "\" (none, fp16, bf16, topk)");
}

const char* compression_name(CompressionKind kind) {
  switch (kind) {
    case CompressionKind::None: return "none";
    case CompressionKind::Float16: return "fp16";
    case CompressionKind::BFloat16: return "bf16";
    case CompressionKind::TopK: return "topk";
  }
  return "?";
}

namespace {

// Wraps the all_gathers of a compressed reduction; completion decodes and averages into `flat`.
class CompressedWork final : public Work {
 public:
  CompressedWork(std::vector<WorkHandle> parts, std::function<void()> finish, std::string description)
      : parts_(std::move(parts)), finish_(std::move(finish)), description_(std::move(description)) {}
  bool test() override {
    if (done_) return true;
    for (auto& p : parts_)
      if (!p->test()) return false;
    complete();
    return true;
  }
  void wait() override {
    if (done_) return;
    for (auto& p : parts_) p->wait();
    complete();
  }
  std::string describe() const override { return description_; }

 private:
  void complete() {
    done_ = true;
    finish_();
  }
  std::vector<WorkHandle> parts_;
  std::function<void()> finish_;
  std::string description_;
  bool done_ = false;
};

Tensor words_tensor(int64_t halves) { return Tensor::empty({(halves + 3) / 4}, DType::Int64); }

// The casts as template loops with the format fixed, so each vectorises (with the format chosen per element
// they did not, and the 16-bit reduction cost more than the float32 one it replaces: docs/DISTRIBUTED.md).
template <bool BF16>
void encode(const float* __restrict in, uint16_t* __restrict out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = BF16 ? float_to_bfloat16_bits(in[i]) : float_to_float16_bits(in[i]);
}

// result = (0 + rank 0's value + rank 1's + ...) / world, elementwise: the rank order every rank uses.
template <bool BF16>
void decode_average(const uint16_t* words, int64_t stride, int world, float* __restrict result, int64_t n) {
  std::fill(result, result + n, 0.0f);
  for (int r = 0; r < world; ++r) {
    const uint16_t* __restrict row = words + r * stride;
    for (int64_t i = 0; i < n; ++i) result[i] += BF16 ? bfloat16_bits_to_float(row[i]) : float16_bits_to_float(row[i]);
  }
  const float divisor = static_cast<float>(world);
  for (int64_t i = 0; i < n; ++i) result[i] /= divisor;
}

WorkHandle cast_average(Communicator& comm, const Tensor& flat, bool bf16, const std::string& label,
                        int64_t& bytes_sent) {
  const int64_t n = flat.numel();
  const int world = comm.world_size();
  Tensor mine = words_tensor(n);
  Tensor all = Tensor::empty({mine.numel() * world}, DType::Int64);
  auto* out = static_cast<uint16_t*>(mine.data_ptr());
  std::memset(out + n, 0, static_cast<size_t>(mine.numel() * 4 - n) * 2);  // the padding of the last word
  if (bf16) encode<true>(flat.data<float>(), out, n);
  else encode<false>(flat.data<float>(), out, n);
  bytes_sent = mine.numel() * 8;
  auto gather = comm.all_gather_async(mine, all, label + " (" + (bf16 ? "bf16" : "fp16") + ")");
  auto finish = [flat, all, n, world, bf16, stride = mine.numel() * 4] {
    const auto* words = static_cast<const uint16_t*>(all.data_ptr());
    if (bf16) decode_average<true>(words, stride, world, flat.data<float>(), n);
    else decode_average<false>(words, stride, world, flat.data<float>(), n);
  };
  return std::make_shared<CompressedWork>(std::vector<WorkHandle>{gather}, finish, gather->describe());
}

WorkHandle topk_average(Communicator& comm, const Tensor& flat, const Tensor& residual, double ratio,
                        const std::string& label, int64_t& bytes_sent) {
  TG_CHECK(ratio > 0 && ratio <= 1, "tg::dist: topk ratio must be in (0, 1], got ", ratio);
  TG_CHECK(residual.defined() && residual.numel() == flat.numel(), "tg::dist: topk needs a residual of ",
           flat.numel(), " elements");
  const int64_t n = flat.numel();
  const int64_t k = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(ratio * static_cast<double>(n))));
  const int world = comm.world_size();
  float* g = flat.data<float>();
  float* res = residual.data<float>();
  for (int64_t i = 0; i < n; ++i) res[i] += g[i];  // error feedback: what was held back before is due now
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  // Ties broken by index so the choice is deterministic.
  std::nth_element(order.begin(), order.begin() + (k - 1), order.end(), [res](int64_t a, int64_t b) {
    const float fa = std::fabs(res[a]), fb = std::fabs(res[b]);
    return fa != fb ? fa > fb : a < b;
  });
  Tensor indices = Tensor::empty({k}, DType::Int64), values = Tensor::empty({k}, DType::Float32);
  for (int64_t j = 0; j < k; ++j) {
    const int64_t i = order[static_cast<size_t>(j)];
    indices.data<int64_t>()[j] = i;
    values.data<float>()[j] = res[i];
    res[i] = 0;  // sent: no longer owed
  }
  Tensor all_indices = Tensor::empty({k * world}, DType::Int64), all_values = Tensor::empty({k * world}, DType::Float32);
  bytes_sent = k * 12;
  auto gi = comm.all_gather_async(indices, all_indices, label + " (topk indices)");
  auto gv = comm.all_gather_async(values, all_values, label + " (topk values)");
  auto finish = [flat, all_indices, all_values, n, k, world] {
    float* result = flat.data<float>();
    std::fill(result, result + n, 0.0f);
    for (int64_t j = 0; j < k * world; ++j) result[all_indices.data<int64_t>()[j]] += all_values.data<float>()[j];
    for (int64_t i = 0; i < n; ++i) result[i] /= static_cast<float>(world);
  };
  return std::make_shared<CompressedWork>(std::vector<WorkHandle>{gi, gv}, finish, gv->describe());
}

}  // namespace

WorkHandle compressed_average_async(Communicator& comm, const Tensor& flat, const Tensor& residual,
                                    const CompressionOptions& options, const std::string& label, int64_t& bytes_sent) {
  TG_CHECK(flat.dtype() == DType::Float32 && flat.is_contiguous() && flat.dim() == 1, "tg::dist: compressed "
           "averaging needs a flat contiguous float32 tensor, got ", dtype_name(flat.dtype()), shape_str(flat.shape()));
  switch (options.kind) {
    case CompressionKind::None: bytes_sent = flat.numel() * 4; return comm.all_reduce_async(flat, ReduceOp::Avg, label);
    case CompressionKind::Float16: return cast_average(comm, flat, false, label, bytes_sent);
    case CompressionKind::BFloat16: return cast_average(comm, flat, true, label, bytes_sent);
    case CompressionKind::TopK: return topk_average(comm, flat, residual, options.topk_ratio, label, bytes_sent);
  }
  TG_FAIL("tg::dist: unknown compression");
}

}  // namespace tg::dist
