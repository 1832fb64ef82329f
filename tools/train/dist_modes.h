#pragma once
// tg_train's --dist ps and --dist pipeline runs (--dist ddp is the ordinary run loop with DDP, run.h).
#include <memory>

#include <tensorgrad/tensorgrad.h>

#include "flags.h"

namespace CLI {
class App;
}

namespace tg::train {

// --dist ps: rank 0 serves the parameters and applies each pushed gradient with the optimizer; ranks 1..N-1
// train on their shards of the data without waiting for each other. Rank 0 reports at the end and writes the
// checkpoints (--save); --resume continues a --dist ps run with the same number of ranks.
int run_parameter_server(const CLI::App& app, Flags flags, const std::shared_ptr<dist::Communicator>& comm);

// --dist pipeline: the model's layers split across the ranks, GPipe micro-batches.
int run_pipeline(const Flags& flags, const std::shared_ptr<dist::Communicator>& comm);

// --dist tp: the MLP's 784-512 Linear split by output features (column parallel) and its 512-256 Linear by input
// features (row parallel, one all-reduce forward), the last Linear replicated; every rank runs the whole batch.
// Rank 0 gathers the shards after each epoch to evaluate and print the epoch line.
int run_tensor_parallel(const Flags& flags, const std::shared_ptr<dist::Communicator>& comm);

}  // namespace tg::train
