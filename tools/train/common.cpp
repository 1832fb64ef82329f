// What tg_train's run modes share (common.h).
#include "common.h"

#include <CLI/CLI.hpp>
#ifdef TG_TRAIN_WITH_CUDA
#include <tensorgrad/cuda/cuda.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <thread>

namespace tg::train {

std::unique_ptr<optim::Optimizer> make_optimizer(const RunConfig& c, std::vector<Tensor> params) {
  if (c.optimizer == "sgd")
    return std::make_unique<optim::SGD>(std::move(params),
                                        optim::SGDOptions{.lr = c.lr, .momentum = c.momentum, .weight_decay = c.weight_decay});
  if (c.optimizer == "adam")
    return std::make_unique<optim::Adam>(std::move(params), optim::AdamOptions{.lr = c.lr, .weight_decay = c.weight_decay});
  if (c.optimizer == "adamw")
    return std::make_unique<optim::AdamW>(std::move(params),
                                          optim::AdamWOptions{.lr = c.lr, .weight_decay = c.weight_decay});
  if (c.optimizer == "rmsprop")
    return std::make_unique<optim::RMSprop>(
        std::move(params), optim::RMSpropOptions{.lr = c.lr, .weight_decay = c.weight_decay, .momentum = c.momentum});
  TG_FAIL("unknown optimizer \"", c.optimizer, "\"");
}

// The first `limit` examples (all when limit is 0 or larger than the set).
FashionMnist first_examples(const FashionMnist& data, int64_t limit) {
  if (limit <= 0 || limit >= data.labels.size(0)) return data;
  return {data.images.narrow(0, 0, limit).contiguous(), data.labels.narrow(0, 0, limit).contiguous()};
}

// Standardises both sets with the training images' mean and standard deviation (PyTorch's
// transforms.Normalize with the statistics of the data actually trained on).
void standardise(FashionMnist& train, FashionMnist& test) {
  const Tensor mean = tg::mean(train.images), deviation = tg::std(train.images);
  train.images = (train.images - mean) / deviation;
  test.images = (test.images - mean) / deviation;
}

DataSets load_data_sets(const Flags& flags, const RunConfig& config) {
  DataSets sets{first_examples(load_fashion_mnist("train", flags.data_dir), config.train_limit),
                first_examples(load_fashion_mnist("test", flags.data_dir), flags.test_limit)};
  if (config.inputs == "standard") standardise(sets.train, sets.test);
  return sets;
}

Evaluation evaluate(nn::Module& model, const FashionMnist& data, Device device) {
  NoGradGuard no_grad;
  model.eval();
  DataLoader loader(TensorDataset(data.images, data.labels), {.batch_size = 1000, .prefetch = 1});
  double loss_sum = 0;
  int64_t correct = 0;
  for (Batch& b : loader.epoch(0)) {
    const Tensor targets = on_device(b.targets, device);
    const Tensor logits = model(on_device(b.inputs, device));
    loss_sum += cross_entropy(logits, targets, {.reduction = Reduction::Sum}).item();
    correct += sum(eq(argmax(logits, 1), targets)).item<int64_t>();
  }
  model.train();
  const auto n = static_cast<double>(data.labels.size(0));
  return {loss_sum / n, static_cast<double>(correct) / n};
}

Device training_device(const Flags& flags) {
  if (flags.device == "cpu") return kCPU;
  TG_CHECK(flags.dist == "none" && flags.save.empty() && flags.resume.empty(), "--device ", flags.device,
           " does not work with --dist, --save or --resume yet: train on the CPU for those");
#ifdef TG_TRAIN_WITH_CUDA
  cuda::init();  // a tg::Error saying why when no GPU can be used
  return Device(DeviceType::CUDA, 0);
#else
  TG_FAIL("--device cuda: this tg_train was built without the CUDA backend (configure with -DTG_CUDA=ON where "
          "nvcc is installed)");
#endif
}

// Resuming takes the run's settings from the checkpoint; a flag given explicitly must agree with it.
void adopt_checkpoint_config(const CLI::App& app, Flags& flags, const RunConfig& saved, const std::string& path) {
  auto check = [&](const char* flag, bool given, bool same, const std::string& mine, const std::string& theirs) {
    TG_CHECK(!given || same, flag, " ", mine, " contradicts the checkpoint ", path, ", which was trained with ", theirs,
             " (drop the flag to continue that run)");
  };
  const RunConfig& c = flags.config;
  check("--model", app.count("--model") > 0, c.model == saved.model, c.model, saved.model);
  check("--optimizer", app.count("--optimizer") > 0, c.optimizer == saved.optimizer, c.optimizer, saved.optimizer);
  check("--batch-size", app.count("--batch-size") > 0, c.batch_size == saved.batch_size, std::to_string(c.batch_size),
        std::to_string(saved.batch_size));
  check("--lr", app.count("--lr") > 0, c.lr == saved.lr, std::to_string(c.lr), std::to_string(saved.lr));
  check("--seed", app.count("--seed") > 0, c.seed == saved.seed, std::to_string(c.seed), std::to_string(saved.seed));
  check("--train-limit", app.count("--train-limit") > 0, c.train_limit == saved.train_limit,
        std::to_string(c.train_limit), std::to_string(saved.train_limit));
  check("--inputs", app.count("--inputs") > 0, c.inputs == saved.inputs, c.inputs, saved.inputs);
  check("--momentum", app.count("--momentum") > 0, c.momentum == saved.momentum, std::to_string(c.momentum),
        std::to_string(saved.momentum));
  check("--weight-decay", app.count("--weight-decay") > 0, c.weight_decay == saved.weight_decay,
        std::to_string(c.weight_decay), std::to_string(saved.weight_decay));
  TG_CHECK(c.world_size == saved.world_size, "the checkpoint ", path, " was trained on ", saved.world_size,
           " rank(s) and this run has ", c.world_size, "; the data order depends on it, so resume with mpirun -np ",
           saved.world_size);
  flags.config = saved;
}

namespace {

// Ranks of this job on this node, from the launcher's environment (Open MPI's OMPI_COMM_WORLD_LOCAL_SIZE,
// MPICH's MPI_LOCALNRANKS); 0 when it does not say.
int ranks_on_this_node() {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"})
    if (const char* value = std::getenv(name)) {
      const int n = std::atoi(value);
      if (n > 0) return n;
    }
  return 0;
}

}  // namespace

int plan_rank_threads(const CLI::App& app, Flags& flags) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int local = ranks_on_this_node();
  if (app.count("--threads") == 0 && local > 0) flags.threads = std::max(1, cores / local);
  if (flags.progress_thread == "auto")
    flags.progress_thread = local > 0 && local * flags.threads < cores ? "on" : "off";
  return local;
}

// Sums per-rank counters so every rank (and rank 0's report) sees the totals over all ranks.
void sum_over_ranks(dist::Communicator* comm, std::vector<double>& values) {
  if (comm == nullptr) return;
  Tensor t = from_vector(values);
  t = t.to(DType::Float64).contiguous();
  comm->all_reduce(t, dist::ReduceOp::Sum, "epoch metrics");
  values = t.to_vector<double>();
}

}  // namespace tg::train
