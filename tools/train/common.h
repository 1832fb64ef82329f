#pragma once
// What tg_train's run modes share: the optimizer from the flags, the data sets, evaluation, resuming, and the
// sum of per-rank counters.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <tensorgrad/tensorgrad.h>

#include "checkpoint.h"
#include "flags.h"

namespace CLI {
class App;
}

namespace tg::train {

constexpr int64_t kProfileWarmupSteps = 2;

std::unique_ptr<optim::Optimizer> make_optimizer(const RunConfig& c, std::vector<Tensor> params);

// The first `limit` examples (all when limit is 0 or larger than the set).
FashionMnist first_examples(const FashionMnist& data, int64_t limit);

// Standardises both sets with the training images' mean and standard deviation (PyTorch's
// transforms.Normalize with the statistics of the data actually trained on).
void standardise(FashionMnist& train, FashionMnist& test);

// The run's training and test sets: loaded from flags.data_dir, cut to --train-limit / --test-limit and, with
// --inputs standard, standardised.
struct DataSets {
  FashionMnist train, test;
};
DataSets load_data_sets(const Flags& flags, const RunConfig& config);

struct Evaluation {
  double loss, accuracy;
};

// On `device` (the model's): each batch of 1000 is copied there.
Evaluation evaluate(nn::Module& model, const FashionMnist& data, Device device = kCPU);

// t on `device`: t itself on the CPU (no "to" op recorded in a CPU profile), else a copy there.
inline Tensor on_device(const Tensor& t, Device device) { return device.is_cpu() ? t : t.to(device); }

// The device --device names, made ready (the CUDA backend initialised); a clear error where this build or
// machine has none, or where a flag given with it does not work there yet.
Device training_device(const Flags& flags);

// Resuming takes the run's settings from the checkpoint; a flag given explicitly must agree with it.
void adopt_checkpoint_config(const CLI::App& app, Flags& flags, const RunConfig& saved, const std::string& path);

// Under --dist, before the communicator exists: each rank's kernel threads (without --threads, an equal
// share of this node's cores) and, for --progress-thread auto, whether a progress thread gets a core of its
// own. Resolves flags.progress_thread to "on" or "off". Returns the ranks on this node as the launcher's
// environment gives them (OMPI_COMM_WORLD_LOCAL_SIZE, MPI_LOCALNRANKS), 0 when it does not say.
int plan_rank_threads(const CLI::App& app, Flags& flags);

// Sums per-rank counters so every rank (and rank 0's report) sees the totals over all ranks.
void sum_over_ranks(dist::Communicator* comm, std::vector<double>& values);

}  // namespace tg::train
