#pragma once
// Gradient checkpointing: trade compute for memory by keeping only a function's inputs and recomputing its
// inside during backward; and a report of what a graph keeps for backward.
#include <string>
#include <vector>

#include <tensorgrad/autograd/gradcheck.h>
#include <tensorgrad/core/tensor.h>

namespace tg {

// fn(inputs), recorded as one node that saves only `inputs`. Its VJP runs fn again with grad mode on and
// differentiates the recomputed graph, so the intermediate activations live only while that segment's
// backward runs. `params` are tensors fn uses without receiving them (a layer's weights): they get gradients
// through the node too. fn must be deterministic (no dropout: the generator is not replayed); the
// gradients are then bitwise those of the plain run.
Tensor checkpoint(const DifferentiableFn& fn, const TensorList& inputs, const TensorList& params = {});

// One tensor a node keeps for backward.
struct SavedEntry {
  std::string op;  // the node that saved it
  Shape shape;
  DType dtype = DType::Float32;
  int64_t bytes = 0;  // numel * itemsize of the saved view
};

struct SavedReport {
  std::vector<SavedEntry> entries;  // in reverse topological order from the outputs
  int64_t total_bytes = 0;          // of distinct storages: views and tensors saved twice count once
  std::string table() const;        // one line per entry and the total
};

// What the graph behind `outputs` holds for backward, so memory use can be explained.
SavedReport saved_tensors(const TensorList& outputs);

}  // namespace tg
