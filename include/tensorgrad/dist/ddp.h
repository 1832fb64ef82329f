#pragma once
// Synchronous data parallel training (as torch.nn.parallel.DistributedDataParallel), over tensors:
//
//   auto comm = tg::dist::init();
//   tg::dist::DistributedDataParallel ddp(comm, model.named_parameters(), {}, model.named_buffers());
//   DataLoader loader(data, {.batch_size = B, .shuffle = true, .rank = comm->rank(), .world_size = comm->world_size()});
//   for (Batch& b : loader.epoch(e)) {
//     optimizer.zero_grad();
//     cross_entropy(model(b.inputs), b.targets).backward();   // buckets are all-reduced while backward runs
//     ddp.synchronize();                                       // waits for them: .grad = the average over ranks
//     optimizer.step();
//   }
//
// Construction broadcasts every parameter and buffer from rank 0, so all ranks start identical.
// Gradients are grouped into buckets of about `bucket_bytes`, filled in reverse registration order (the order
// backward produces them for a feed-forward model). A post-accumulate hook on each parameter marks its
// gradient ready; when every gradient of a bucket is ready, and every earlier bucket has started (so all ranks
// start the same collectives in the same order), the bucket's gradients are packed into one flat buffer and
// its all-reduce starts without blocking, overlapping the rest of backward (each gradient is divided by the
// world size as it is packed, so the reduction is a sum). The last bucket is left to synchronize(), which starts
// what is left (a parameter that got no gradient contributes zeros), reduces the last bucket with the
// communicator's blocking all_reduce (MPI's blocking fast path, CommOptions::blocking_fast_path), waits for the
// others, and makes the averages the .grad tensors. With overlap off every bucket is reduced in synchronize(),
// after backward, one after the other with the blocking all_reduce.
//
// One backward per synchronize(): with overlap on, a gradient that arrives twice before synchronize() throws
// (accumulating over several backward passes needs overlap off).
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <tensorgrad/dist/communicator.h>
#include <tensorgrad/dist/compression.h>

namespace tg::dist {

using NamedTensorList = std::vector<std::pair<std::string, Tensor>>;

struct DDPOptions {
  int64_t bucket_bytes = 256 << 10;  // a bucket closes once it holds at least this many bytes
  bool overlap = true;             // start each bucket's all-reduce during backward
  // After synchronize(), each .grad is a view of its part of the bucket (as torch's gradient_as_bucket_view):
  // no copy out of the bucket, and no second copy of the gradients in memory. The next step's reduction
  // overwrites that memory, so a .grad kept past the next backward changes with it; turn this off to get
  // .grad tensors of their own.
  bool gradient_as_bucket_view = true;
  CompressionOptions compression{};
};

struct DDPStats {
  int64_t steps = 0;                 // synchronize() calls
  int64_t collectives = 0;           // bucket reductions started
  int64_t gradient_bytes = 0;        // uncompressed gradient bytes reduced by this rank (all steps)
  int64_t bytes_sent = 0;            // bytes this rank handed to the communicator (after compression)
  double exposed_seconds = 0;        // time synchronize() spent starting and waiting: communication not hidden
};

class DistributedDataParallel {
 public:
  DistributedDataParallel(std::shared_ptr<Communicator> comm, NamedTensorList parameters, DDPOptions options = {},
                          NamedTensorList buffers = {});
  ~DistributedDataParallel();
  DistributedDataParallel(const DistributedDataParallel&) = delete;
  DistributedDataParallel& operator=(const DistributedDataParallel&) = delete;

  // After backward, before the optimizer step: every parameter's .grad becomes the average over ranks.
  void synchronize();
  // Rank 0's parameters and buffers to every rank (done by the constructor; call again after loading a
  // checkpoint on rank 0 only).
  void broadcast_state();

  // The parameter names in each bucket, in reduction order.
  std::vector<std::vector<std::string>> bucket_names() const;
  const DDPStats& stats() const;
  Communicator& communicator() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace tg::dist
