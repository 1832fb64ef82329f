#pragma once
// DataLoader: batches of a Dataset in a seeded, resumable order, sharded across ranks, prefetched by a
// background thread.
//
//   tg::DataLoader loader(tg::TensorDataset(images, labels), {.batch_size = 64, .shuffle = true, .seed = 1});
//   for (int64_t epoch = 0; epoch < 5; ++epoch)
//     for (tg::Batch& batch : loader.epoch(epoch)) step(batch.inputs, batch.targets);
//
// Order. With shuffle, the epoch's permutation is a Fisher-Yates shuffle whose draws come from Philox4x32-10
// with key = seed and counter = (draw block, epoch) (see shuffled_indices); it depends only on
// (seed, epoch, dataset size), so a run resumed at epoch e sees the same order as the original run.
// Without shuffle the order is 0, 1, ..., N-1.
//
// Sharding. With world_size w > 1 the order is first made a multiple of w: padded by wrapping around to its
// start (as torch's DistributedSampler), or, with drop_last, cut to floor(N / w) * w. Rank r then takes
// positions r, r + w, r + 2w, ... so the ranks' shards are disjoint except for the padding, and every rank
// gets the same number of examples and of batches.
//
// Batches. Consecutive runs of batch_size examples of the rank's shard; the last one is shorter unless
// drop_last drops it. Inputs and targets are gathered into new contiguous tensors (one memcpy per row),
// then `transform` (if set) is applied to the inputs.
//
// Prefetch. With prefetch > 0 a background thread builds batches ahead into a queue of at most `prefetch`
// batches (plus the one it is building); prefetch = 0 builds each batch on the consumer's thread. Both give
// identical batches. An exception thrown while building a batch (by the dataset or the transform) reaches
// the consumer when it asks for that batch, as the original exception object. Leaving a loop early or
// destroying the epoch (or the loader) mid-epoch stops the thread and joins it; a batch being built is
// finished first.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <vector>

#include <tensorgrad/core/tensor.h>
#include <tensorgrad/data/dataset.h>

namespace tg {

// A function applied to each batch of inputs (on the prefetch thread when prefetching).
using Transform = std::function<Tensor(const Tensor&)>;

// (x - mean[c]) / std[c] for floating inputs of shape [N, C, ...] (c indexes dimension 1); a single mean
// and std apply to every element. Returns a new contiguous tensor of the input's dtype.
struct Normalize {
  std::vector<double> mean;
  std::vector<double> std;
  Tensor operator()(const Tensor& input) const;
};

struct DataLoaderOptions {
  int64_t batch_size = 1;
  bool shuffle = false;
  uint64_t seed = 0;
  bool drop_last = false;   // drop the last incomplete batch (and, sharded, the tail beyond a multiple of w)
  int64_t rank = 0;         // this process's shard, in [0, world_size)
  int64_t world_size = 1;
  int64_t prefetch = 2;     // batches built ahead by a background thread; 0 = synchronous
  Transform transform{};    // applied to each batch's inputs; may be empty
};

// The permutation of [0, n) for (seed, epoch): Fisher-Yates, i from n-1 down to 1 swapping i with j uniform
// in [0, i] (unbiased, by rejection), drawing 64-bit words from philox4x32(counter = {block lo, block hi,
// epoch lo, epoch hi}, key = {seed lo, seed hi}) in order.
std::vector<int64_t> shuffled_indices(int64_t n, uint64_t seed, uint64_t epoch);

class DataLoader {
 public:
  struct EpochState;

  // An input iterator over one epoch's batches. Dereferencing gives the current batch, which may be moved
  // from; ++ fetches the next one (waiting for the prefetch thread, or rethrowing its exception).
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    using pointer = Batch*;
    using reference = Batch&;

    Iterator() = default;
    Batch& operator*() const;
    Batch* operator->() const { return &**this; }
    Iterator& operator++();
    bool operator==(const Iterator& other) const;

   private:
    friend class DataLoader;
    explicit Iterator(EpochState* state) : state_(state) {}
    bool at_end() const;
    EpochState* state_ = nullptr;
  };

  // One pass over the data. Starts the prefetch thread on creation; can be iterated once. Destroying it
  // stops and joins the thread. Holds its own reference to the dataset and copy of the options, so it may
  // outlive the loader.
  class Epoch {
   public:
    Epoch(Epoch&&) noexcept;
    Epoch& operator=(Epoch&&) noexcept;
    ~Epoch();
    Iterator begin();
    Iterator end() { return Iterator(); }
    int64_t size() const;  // number of batches

   private:
    friend class DataLoader;
    explicit Epoch(std::unique_ptr<EpochState> state);
    std::unique_ptr<EpochState> state_;
  };

  DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options = {});
  DataLoader(TensorDataset dataset, DataLoaderOptions options = {});
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // The batches of epoch `epoch` (order seeded by (seed, epoch)).
  Epoch epoch(int64_t epoch) const;

  // The epoch iterated by `for (Batch& b : loader)`; 0 until set. begin() starts a fresh pass (stopping any
  // pass the loader itself was running).
  void set_epoch(int64_t epoch);
  int64_t current_epoch() const { return epoch_; }
  Iterator begin();
  Iterator end() { return Iterator(); }

  int64_t size() const;         // batches per epoch for this rank (the same on every rank)
  int64_t num_samples() const;  // examples per epoch for this rank
  const DataLoaderOptions& options() const { return options_; }
  const Dataset& dataset() const { return *dataset_; }

  // The dataset indices this rank visits in `epoch`, in order (before batching).
  std::vector<int64_t> epoch_indices(int64_t epoch) const;

 private:
  std::shared_ptr<const Dataset> dataset_;
  DataLoaderOptions options_;
  int64_t epoch_ = 0;
  std::unique_ptr<Epoch> active_;  // the pass run by begin()
};

}  // namespace tg
