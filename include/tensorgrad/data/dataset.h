#pragma once
// Datasets: anything that can gather a batch of examples by index.
#include <cstdint>
#include <span>
#include <vector>

#include <tensorgrad/core/tensor.h>

namespace tg {

struct Batch {
  Tensor inputs;                 // [k, ...], a fresh contiguous tensor
  Tensor targets;                // [k, ...], a fresh contiguous tensor
  std::vector<int64_t> indices;  // the dataset indices of the k examples, in batch order
};

// A dataset of `size()` examples. get_batch is const and may be called from the DataLoader's prefetch
// thread, so an implementation must not mutate shared state without its own locking.
class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  // Gathers the examples at `indices` (each in [0, size())) into new tensors; fills Batch::indices.
  virtual Batch get_batch(std::span<const int64_t> indices) const = 0;
};

// (inputs, targets) tensors sharing dimension 0, which indexes the examples. Any dtype. Non-contiguous
// tensors are copied once into contiguous ones at construction, so a batch is gathered by one memcpy per
// row.
class TensorDataset : public Dataset {
 public:
  TensorDataset(Tensor inputs, Tensor targets);
  int64_t size() const override { return size_; }
  Batch get_batch(std::span<const int64_t> indices) const override;

  const Tensor& inputs() const { return inputs_; }
  const Tensor& targets() const { return targets_; }

 private:
  Tensor inputs_;
  Tensor targets_;
  int64_t size_ = 0;
};

// Copies rows `indices` of `source` (contiguous, at least 1-D, CPU) into a new contiguous tensor of shape
// [indices.size(), source.shape[1:]...], one memcpy per row. `op` names the caller in errors.
Tensor gather_rows(const Tensor& source, std::span<const int64_t> indices, const char* op = "tg::gather_rows");

}  // namespace tg
