#pragma once
// Pipeline parallelism with the GPipe schedule: a model cut into consecutive stages, stage r on rank r.
//
//   tg::dist::Pipeline pipe(comm, [&](const Tensor& x) { return my_layers(x); }, {.micro_batches = 4});
//   Tensor loss = pipe.step(inputs, targets, loss_fn);   // inputs read on rank 0, targets on the last rank
//   optimizer.step();                                    // each rank updates its own stage's parameters
//
// step() splits the batch into equal micro-batches along dim 0; every micro-batch goes forward through all
// stages (activations sent rank r -> r + 1, preceded by a small header with their shape and dtype), then
// backward in reverse order (activation gradients sent r + 1 -> r). Each micro-batch's loss is its mean
// divided by the number of micro-batches, so the parameter gradients accumulated over micro-batches are those
// of the mean loss over the whole batch: the same as one process running the unsplit model, up to summation
// order. `loss_fn` must be a mean over the batch dimension.
#include <functional>
#include <memory>

#include <tensorgrad/dist/communicator.h>

namespace tg::dist {

struct PipelineOptions {
  int64_t micro_batches = 4;
};

class Pipeline {
 public:
  using StageFn = std::function<Tensor(const Tensor&)>;
  using LossFn = std::function<Tensor(const Tensor& output, const Tensor& targets)>;

  Pipeline(std::shared_ptr<Communicator> comm, StageFn stage, PipelineOptions options = {});

  // One forward and backward pass over the batch; parameter gradients accumulate into .grad (zero them
  // before). Returns the batch's mean loss on the last rank, an undefined tensor elsewhere.
  Tensor step(const Tensor& inputs, const Tensor& targets, const LossFn& loss_fn);

  bool is_first() const { return comm_->rank() == 0; }
  bool is_last() const { return comm_->rank() == comm_->world_size() - 1; }

 private:
  void send_tensor(const Tensor& t, int dst, int tag, std::vector<WorkHandle>& pending);
  Tensor recv_tensor(int src, int tag);

  std::shared_ptr<Communicator> comm_;
  StageFn stage_;
  PipelineOptions options_;
};

}  // namespace tg::dist
