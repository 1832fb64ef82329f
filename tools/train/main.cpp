// tg_train: trains a classifier on Fashion-MNIST and reports per-epoch loss and accuracy.
#include <CLI/CLI.hpp>
#include <tensorgrad/tensorgrad.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "common.h"
#include "dist_modes.h"
#include "flags.h"
#include "run.h"

using namespace tg;
using namespace tg::train;

int main(int argc, char** argv) {
  CLI::App app{
      "Trains a classifier on Fashion-MNIST (from Debian's dataset-fashion-mnist package) with tensorgrad.\n"
      "Prints a progress bar per epoch, then train loss/accuracy, test loss/accuracy and time; writes\n"
      "metrics.csv and metrics.svg (loss and accuracy curves) to --out after every epoch.",
      "tg_train"};
  Flags flags;
  add_flags(app, flags);
  CLI11_PARSE(app, argc, argv);
  apply_model_defaults(app, flags);
  std::shared_ptr<dist::Communicator> comm;
  try {
    if (flags.dist != "none") {
      const int ranks_on_this_node = plan_rank_threads(app, flags);
      dist::CommOptions options = dist::options_from_env();
      options.progress_thread = flags.progress_thread == "on";
      comm = dist::init(options);
      // A launcher that does not say how many ranks share this node: assume all of them do.
      if (app.count("--threads") == 0 && ranks_on_this_node == 0)
        flags.threads = std::max(1, flags.threads / comm->world_size());
    }
    if (flags.dist == "ps" || flags.dist == "pipeline" || flags.dist == "tp") {
      if (flags.dist == "ps") return run_parameter_server(app, flags, comm);
      return flags.dist == "pipeline" ? run_pipeline(flags, comm) : run_tensor_parallel(flags, comm);
    }
    return run(app, flags, comm);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    if (comm && comm->world_size() > 1) {
      // One rank failing must end the job: the others would otherwise wait in their next collective.
      std::fprintf(stderr, "tg_train: rank %d: error: %s\n", comm->rank(), e.what());
      dist::abort_job(1);
    }
    std::fprintf(stderr, "tg_train: error: %s\n", e.what());
    return 1;
  }
}
