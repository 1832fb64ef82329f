#pragma once
// A training checkpoint: model and optimizer state, the run's settings, epochs done, generator state and
// the metrics so far, in one safetensors file (tensors under "model." and "optimizer.", the rest in the
// string metadata), written atomically.
#include <cstdint>
#include <string>
#include <vector>

#include <tensorgrad/core/random.h>
#include <tensorgrad/core/state_dict.h>
#include <tensorgrad/nn/module.h>
#include <tensorgrad/optim/optimizer.h>

#include "report.h"

namespace tg::train {

// What fixes a run's result besides the number of epochs.
struct RunConfig {
  std::string model = "mlp";
  std::string optimizer = "sgd";
  int64_t batch_size = 128;
  double lr = 0.1;
  double momentum = 0.9;
  double weight_decay = 0.0;
  uint64_t seed = 0;
  int64_t train_limit = 0;  // 0 = the whole training set
  int64_t world_size = 1;   // data-parallel ranks: the data order depends on it, so a resume must match
  // "unit": pixels scaled to [0, 1]; "standard": then standardised with the training set's mean and std.
  std::string inputs = "unit";
};

struct Checkpoint {
  RunConfig config;
  int64_t epochs_done = 0;
  uint64_t rng_seed = 0, rng_offset = 0;
  std::vector<EpochMetrics> history;
  StateDict model, optimizer;
  // --dist ps only: the gradients applied from each rank (index 0, the server, is 0); empty otherwise. Worker w
  // resumes at its ps_pushes[w]-th batch.
  std::vector<int64_t> ps_pushes;
};

void save_checkpoint(const std::string& path, const nn::Module& model, const optim::Optimizer& optimizer,
                     const RunConfig& config, int64_t epochs_done, const Generator& gen,
                     const std::vector<EpochMetrics>& history, const std::vector<int64_t>& ps_pushes = {});

// Throws tg::Error naming the file (and, from the safetensors reader, the byte offset) when the file is
// missing, damaged, or not a tensorgrad training checkpoint.
Checkpoint load_checkpoint(const std::string& path);

}  // namespace tg::train
