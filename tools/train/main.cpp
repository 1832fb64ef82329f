// tg_train: trains a classifier on Fashion-MNIST and reports per-epoch loss and accuracy.
#include <CLI/CLI.hpp>
#include <tensorgrad/tensorgrad.h>

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <thread>

#include "checkpoint.h"
#include "models.h"
#include "progress.h"
#include "report.h"
#include "step_profiler.h"

namespace {

using namespace tg;
using namespace tg::train;

struct Flags {
  RunConfig config;
  int64_t epochs = 5;
  int threads = 0;
  std::string save, resume, data_dir, out_dir;
  int64_t test_limit = 0;
  bool progress = true;
  std::string dist = "none";
  int64_t bucket_kb = 256;
  bool overlap = true;
  std::string compression = "none";
  double topk_ratio = 0.01;
  int64_t staleness_bound = -1;
  bool progress_thread = true;
  int64_t micro_batches = 4;
  bool profile = false;
  int64_t profile_steps = 10;
};

constexpr int64_t kProfileWarmupSteps = 2;

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

struct Evaluation {
  double loss, accuracy;
};

Evaluation evaluate(nn::Module& model, const FashionMnist& data) {
  NoGradGuard no_grad;
  model.eval();
  DataLoader loader(TensorDataset(data.images, data.labels), {.batch_size = 1000, .prefetch = 1});
  double loss_sum = 0;
  int64_t correct = 0;
  for (Batch& b : loader.epoch(0)) {
    const Tensor logits = model(b.inputs);
    loss_sum += cross_entropy(logits, b.targets, {.reduction = Reduction::Sum}).item();
    correct += sum(eq(argmax(logits, 1), b.targets)).item<int64_t>();
  }
  model.train();
  const auto n = static_cast<double>(data.labels.size(0));
  return {loss_sum / n, static_cast<double>(correct) / n};
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

// Sums per-rank counters so every rank (and rank 0's report) sees the totals over all ranks.
void sum_over_ranks(dist::Communicator* comm, std::vector<double>& values) {
  if (comm == nullptr) return;
  Tensor t = from_vector(values);
  t = t.to(DType::Float64).contiguous();
  comm->all_reduce(t, dist::ReduceOp::Sum, "epoch metrics");
  values = t.to_vector<double>();
}

// --dist ps: rank 0 serves the parameters and applies each pushed gradient with the optimizer; ranks 1..N-1
// train on their shards of the data without waiting for each other. Rank 0 reports at the end.
int run_parameter_server(const Flags& flags, const std::shared_ptr<dist::Communicator>& comm) {
  TG_CHECK(comm->world_size() >= 2, "--dist ps needs a server and at least one worker: mpirun -np N with N >= 2");
  TG_CHECK(flags.save.empty() && flags.resume.empty(), "--save and --resume are not supported with --dist ps");
  const RunConfig& config = flags.config;
  if (flags.threads > 0) set_num_threads(flags.threads);
  const bool server = comm->rank() == 0;
  const int workers = comm->world_size() - 1;
  Generator gen(config.seed);
  auto model = make_model(config.model, gen);
  auto optimizer = make_optimizer(config, model->parameters());
  dist::ParameterServer ps(comm, model->parameters(), {.staleness_bound = flags.staleness_bound});
  FashionMnist train_set = first_examples(load_fashion_mnist("train", flags.data_dir), config.train_limit);
  FashionMnist test_set = first_examples(load_fashion_mnist("test", flags.data_dir), flags.test_limit);
  if (config.inputs == "standard") standardise(train_set, test_set);
  if (!server) {
    DataLoader loader(TensorDataset(train_set.images, train_set.labels),
                      {.batch_size = config.batch_size, .shuffle = true, .seed = config.seed,
                       .rank = comm->rank() - 1, .world_size = workers});
    for (int64_t epoch = 0; epoch < flags.epochs; ++epoch)
      for (Batch& b : loader.epoch(epoch)) {
        ps.pull();
        model->zero_grad();
        cross_entropy((*model)(b.inputs), b.targets).backward();
        ps.push();
      }
    ps.finish();
    return 0;
  }
  std::printf("tensorgrad %s on Fashion-MNIST with a parameter server: %d workers, %s lr %g, batch %lld per worker, "
              "%lld epochs, staleness bound %lld\n",
              config.model.c_str(), workers, config.optimizer.c_str(), config.lr,
              static_cast<long long>(config.batch_size), static_cast<long long>(flags.epochs),
              static_cast<long long>(flags.staleness_bound));
  std::fflush(stdout);
  const auto start = std::chrono::steady_clock::now();
  const dist::StalenessStats stats = ps.serve([&] { optimizer->step(); });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const Evaluation test = evaluate(*model, test_set);
  std::string histogram;
  for (size_t k = 0; k < stats.histogram.size(); ++k)
    histogram += (k ? " " : "") + std::to_string(k) + ":" + std::to_string(stats.histogram[k]);
  std::printf("%lld updates in %.1f s; staleness mean %.2f, max %lld (staleness:count %s); %lld pulls held back "
              "by the bound\n",
              static_cast<long long>(stats.updates), seconds, stats.mean_staleness,
              static_cast<long long>(stats.max_staleness), histogram.c_str(),
              static_cast<long long>(stats.deferred_pulls));
  std::printf("final test loss %.4f, test accuracy %.2f%%\n", test.loss, 100 * test.accuracy);
  return 0;
}

// Layers [first, last) of the model for each rank: contiguous runs with about equal parameter counts.
std::vector<std::pair<size_t, size_t>> split_layers(const nn::Sequential& model, int ranks) {
  TG_CHECK(static_cast<size_t>(ranks) <= model.size(), "--dist pipeline: ", ranks, " ranks but the model has only ",
           model.size(), " layers");
  const double total = static_cast<double>(model.num_parameters());
  std::vector<std::pair<size_t, size_t>> stages;
  size_t first = 0;
  double seen = 0;
  for (size_t i = 0; i < model.size(); ++i) {
    seen += static_cast<double>(model[i].num_parameters());
    const int stage = static_cast<int>(stages.size());
    const size_t layers_left = model.size() - i - 1, stages_left = static_cast<size_t>(ranks - stage - 1);
    const bool enough = seen >= total * (stage + 1) / ranks;
    if (stage < ranks - 1 && (enough || layers_left == stages_left)) {
      stages.emplace_back(first, i + 1);
      first = i + 1;
    }
  }
  stages.emplace_back(first, model.size());
  return stages;
}

// --dist pipeline: the model's layers split across the ranks, GPipe micro-batches. Every rank builds the whole
// model from the seed and trains its own stage; after each epoch every stage's parameters are broadcast from
// their owner so rank 0 holds the whole trained model to evaluate.
int run_pipeline(const Flags& flags, const std::shared_ptr<dist::Communicator>& comm) {
  TG_CHECK(flags.save.empty() && flags.resume.empty(), "--save and --resume are not supported with --dist pipeline");
  const RunConfig& config = flags.config;
  if (flags.threads > 0) set_num_threads(flags.threads);
  const bool leader = comm->rank() == 0;
  Generator gen(config.seed);
  auto model = make_model(config.model, gen);
  const auto stages = split_layers(*model, comm->world_size());
  const auto [first, last] = stages[static_cast<size_t>(comm->rank())];
  std::vector<Tensor> mine;
  for (size_t i = first; i < last; ++i)
    for (const Tensor& p : (*model)[i].parameters()) mine.push_back(p);
  std::unique_ptr<optim::Optimizer> optimizer;
  if (!mine.empty()) optimizer = make_optimizer(config, mine);
  dist::Pipeline pipe(
      comm,
      [&, first = first, last = last](const Tensor& x) {
        Tensor h = x;
        for (size_t i = first; i < last; ++i) h = (*model)[i](h);
        return h;
      },
      {.micro_batches = flags.micro_batches});
  FashionMnist train_set = first_examples(load_fashion_mnist("train", flags.data_dir), config.train_limit);
  FashionMnist test_set = first_examples(load_fashion_mnist("test", flags.data_dir), flags.test_limit);
  if (config.inputs == "standard") standardise(train_set, test_set);
  if (leader) {
    std::printf("tensorgrad %s on Fashion-MNIST, pipeline over %d ranks (GPipe, %lld micro-batches), %s lr %g, batch "
                "%lld; stages (layers):",
                config.model.c_str(), comm->world_size(), static_cast<long long>(flags.micro_batches),
                config.optimizer.c_str(), config.lr, static_cast<long long>(config.batch_size));
    for (const auto& [a, b] : stages) std::printf(" [%zu, %zu)", a, b);
    std::printf("\n");
    std::fflush(stdout);
  }
  DataLoader loader(TensorDataset(train_set.images, train_set.labels),
                    {.batch_size = config.batch_size, .shuffle = true, .seed = config.seed, .drop_last = true});
  auto loss_fn = [](const Tensor& logits, const Tensor& targets) { return cross_entropy(logits, targets); };
  double accuracy = 0;
  for (int64_t epoch = 0; epoch < flags.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    double loss_sum = 0, batches = 0;
    for (Batch& b : loader.epoch(epoch)) {
      if (optimizer) optimizer->zero_grad();
      const Tensor loss = pipe.step(b.inputs, b.targets, loss_fn);
      if (optimizer) optimizer->step();
      if (loss.defined()) loss_sum += loss.item();
      batches += 1;
    }
    std::vector<double> totals{loss_sum};
    sum_over_ranks(comm.get(), totals);  // only the last rank has the loss
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (size_t stage = 0; stage < stages.size(); ++stage)
      for (size_t i = stages[stage].first; i < stages[stage].second; ++i)
        for (const auto& [name, p] : (*model)[i].named_parameters()) comm->broadcast(p, static_cast<int>(stage), name);
    if (!leader) continue;
    const Evaluation test = evaluate(*model, test_set);
    accuracy = test.accuracy;
    std::printf("epoch %lld/%lld  train loss %.4f  test loss %.4f  test acc %.2f%%  %.1f s\n",
                static_cast<long long>(epoch + 1), static_cast<long long>(flags.epochs), totals[0] / batches, test.loss,
                100 * test.accuracy, seconds);
    std::fflush(stdout);
  }
  if (leader) std::printf("final test accuracy %.2f%%\n", 100 * accuracy);
  return 0;
}

int run(const CLI::App& app, Flags flags, const std::shared_ptr<dist::Communicator>& comm) {
  const bool leader = comm == nullptr || comm->rank() == 0;  // prints and writes files
  if (comm) flags.config.world_size = comm->world_size();
  // Ranks share the machine's cores unless told otherwise (on several machines, pass --threads).
  if (comm && app.count("--threads") == 0)
    flags.threads = std::max(1, flags.threads / comm->world_size());
  std::unique_ptr<Checkpoint> resumed;
  if (!flags.resume.empty()) {
    resumed = std::make_unique<Checkpoint>(load_checkpoint(flags.resume));
    adopt_checkpoint_config(app, flags, resumed->config, flags.resume);
    TG_CHECK(resumed->epochs_done < flags.epochs, "the checkpoint ", flags.resume, " has already trained ",
             resumed->epochs_done, " epochs; ask for more with --epochs N (N > ", resumed->epochs_done, ")");
  }
  const RunConfig& config = flags.config;
  if (flags.out_dir.empty()) flags.out_dir = "runs/" + config.model;
  if (flags.threads > 0) set_num_threads(flags.threads);

  FashionMnist train_set = first_examples(load_fashion_mnist("train", flags.data_dir), config.train_limit);
  FashionMnist test_set = first_examples(load_fashion_mnist("test", flags.data_dir), flags.test_limit);
  if (config.inputs == "standard") standardise(train_set, test_set);

  Generator gen(config.seed);
  auto model = make_model(config.model, gen);
  auto optimizer = make_optimizer(config, model->parameters());
  std::vector<EpochMetrics> history;
  int64_t start_epoch = 0;
  if (resumed) {
    model->load_state_dict(resumed->model);
    optimizer->load_state_dict(resumed->optimizer);
    gen.set_state(resumed->rng_seed, resumed->rng_offset);
    history = resumed->history;
    start_epoch = resumed->epochs_done;
  }
  std::unique_ptr<dist::DistributedDataParallel> ddp;
  if (comm)
    ddp = std::make_unique<dist::DistributedDataParallel>(
        comm, model->named_parameters(),
        dist::DDPOptions{.bucket_bytes = flags.bucket_kb * 1024,
                         .overlap = flags.overlap,
                         .compression = {.kind = dist::parse_compression(flags.compression), .topk_ratio = flags.topk_ratio}},
        model->named_buffers());
  if (leader) std::filesystem::create_directories(flags.out_dir);
  const std::string csv_path = flags.out_dir + "/metrics.csv", svg_path = flags.out_dir + "/metrics.svg";

  if (leader) std::printf("tensorgrad %s on Fashion-MNIST: %lld train / %lld test images, %lld parameters, %s lr %g, "
              "batch %lld, %s inputs, %d threads, seed %llu\n",
              config.model.c_str(), static_cast<long long>(train_set.labels.size(0)),
              static_cast<long long>(test_set.labels.size(0)), static_cast<long long>(model->num_parameters()),
              config.optimizer.c_str(), config.lr, static_cast<long long>(config.batch_size), config.inputs.c_str(),
              num_threads(),
              static_cast<unsigned long long>(config.seed));
  if (comm && leader)
    std::printf("data parallel over %d ranks (%s): per-rank batch %lld, buckets of %lld KiB, overlap %s, compression %s\n",
                comm->world_size(), comm->backend().c_str(), static_cast<long long>(config.batch_size),
                static_cast<long long>(flags.bucket_kb), flags.overlap ? "on" : "off", flags.compression.c_str());
  if (resumed && leader)
    std::printf("resumed from %s after epoch %lld\n", flags.resume.c_str(), static_cast<long long>(start_epoch));

  DataLoader loader(TensorDataset(train_set.images, train_set.labels),
                    {.batch_size = config.batch_size,
                     .shuffle = true,
                     .seed = config.seed,
                     .rank = comm ? comm->rank() : 0,
                     .world_size = comm ? comm->world_size() : 1});
  const bool progress = flags.progress && leader;
  const bool interactive = progress && ::isatty(::fileno(stdout));
  // Under --dist, rank 0 profiles (and owns the output folder).
  StepProfiler step_profiler(kProfileWarmupSteps, flags.profile && leader ? flags.profile_steps : 0,
                             flags.out_dir + "/trace.json");
  for (int64_t epoch = start_epoch; epoch < flags.epochs; ++epoch) {
    char label[64];
    std::snprintf(label, sizeof label, "epoch %lld/%lld", static_cast<long long>(epoch + 1),
                  static_cast<long long>(flags.epochs));
    auto pass = loader.epoch(epoch);
    ProgressBar bar(label, pass.size(), interactive);
    const auto start = std::chrono::steady_clock::now();
    double loss_sum = 0;
    int64_t seen = 0, correct = 0, done = 0;
    for (Batch& b : pass) {
      step_profiler.step_begins();
      Tensor logits, loss;
      {
        TG_PROFILE_SCOPE("train_step");
        {
          TG_PROFILE_SCOPE("forward");
          logits = (*model)(b.inputs);
          loss = cross_entropy(logits, b.targets);
        }
        {
          TG_PROFILE_SCOPE("backward");
          optimizer->zero_grad();
          loss.backward();
        }
        if (ddp) {
          TG_PROFILE_SCOPE("ddp.synchronize");
          ddp->synchronize();
        }
        TG_PROFILE_SCOPE("optimizer.step");
        optimizer->step();
      }
      const int64_t n = b.targets.size(0);
      const double batch_loss = loss.item();
      TG_CHECK(std::isfinite(batch_loss), "epoch ", epoch + 1, " batch ", done + 1, ": the loss is ", batch_loss,
               "; try a smaller --lr");
      loss_sum += batch_loss * static_cast<double>(n);
      {
        NoGradGuard no_grad;
        correct += sum(eq(argmax(logits.detach(), 1), b.targets)).item<int64_t>();
      }
      seen += n;
      ++done;
      if (progress) bar.update(done, seen, loss_sum / static_cast<double>(seen));
      step_profiler.step_ends();
    }
    step_profiler.finish();
    if (progress) bar.finish();
    std::vector<double> totals{loss_sum, static_cast<double>(correct), static_cast<double>(seen)};
    sum_over_ranks(comm.get(), totals);
    loss_sum = totals[0];
    correct = static_cast<int64_t>(totals[1]);
    seen = static_cast<int64_t>(totals[2]);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!leader) continue;  // the models are identical: rank 0 evaluates, reports and saves
    const Evaluation test = evaluate(*model, test_set);
    EpochMetrics m;
    m.epoch = static_cast<int>(epoch + 1);
    m.train_loss = loss_sum / static_cast<double>(seen);
    m.train_accuracy = static_cast<double>(correct) / static_cast<double>(seen);
    m.test_loss = test.loss;
    m.test_accuracy = test.accuracy;
    m.seconds = seconds;
    m.samples_per_second = static_cast<double>(seen) / seconds;
    m.lr = optimizer->lr();
    history.push_back(m);
    std::printf("epoch %d/%lld  train loss %.4f  train acc %.2f%%  test loss %.4f  test acc %.2f%%  %.1f s "
                "(%.0f samples/s)\n",
                m.epoch, static_cast<long long>(flags.epochs), m.train_loss, 100 * m.train_accuracy, m.test_loss,
                100 * m.test_accuracy, m.seconds, m.samples_per_second);
    std::fflush(stdout);
    write_file_atomically(csv_path, metrics_csv(history));
    write_file_atomically(svg_path, metrics_svg(history, "tensorgrad " + config.model + " on Fashion-MNIST"));
    if (!flags.save.empty()) save_checkpoint(flags.save, *model, *optimizer, config, epoch + 1, gen, history);
  }
  if (ddp && leader) {
    const auto& st = ddp->stats();
    std::printf("rank 0 communication: %lld all-reduces, %.1f MB of gradients, %.1f MB sent, %.2f s not hidden by "
                "backward\n",
                static_cast<long long>(st.collectives), static_cast<double>(st.gradient_bytes) / 1e6,
                static_cast<double>(st.bytes_sent) / 1e6, st.exposed_seconds);
  }
  if (!leader) return 0;
  std::printf("final test accuracy %.2f%%; metrics in %s and %s%s%s\n", 100 * history.back().test_accuracy,
              csv_path.c_str(), svg_path.c_str(), flags.save.empty() ? "" : "; checkpoint in ",
              flags.save.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Trains a classifier on Fashion-MNIST (from Debian's dataset-fashion-mnist package) with tensorgrad.\n"
      "Prints a progress bar per epoch, then train loss/accuracy, test loss/accuracy and time; writes\n"
      "metrics.csv and metrics.svg (loss and accuracy curves) to --out after every epoch.",
      "tg_train"};
  Flags flags;
  app.add_option("--model", flags.config.model,
                 "mlp: 784-512-256-10 with ReLU (default: SGD lr 0.1, momentum 0.9); cnn: two 3x3 conv + maxpool "
                 "blocks (32, 64 channels), then 3136-128-10 (default: Adam lr 1e-3)")
      ->check(CLI::IsMember({"mlp", "cnn"}))
      ->capture_default_str();
  app.add_option("--epochs", flags.epochs, "total number of epochs (a resumed run continues up to this many)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--batch-size", flags.config.batch_size, "examples per optimizer step")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--lr", flags.config.lr, "learning rate (default: 0.1 for sgd, 1e-3 for adam/adamw/rmsprop)")
      ->check(CLI::PositiveNumber);
  app.add_option("--optimizer", flags.config.optimizer, "sgd | adam | adamw | rmsprop (default: sgd for mlp, adam for cnn)")
      ->check(CLI::IsMember({"sgd", "adam", "adamw", "rmsprop"}));
  app.add_option("--inputs", flags.config.inputs,
                 "unit: pixels scaled to [0, 1]; standard: then standardised with the training set's mean and std "
                 "(default: unit for mlp, standard for cnn)")
      ->check(CLI::IsMember({"unit", "standard"}));
  app.add_option("--momentum", flags.config.momentum, "momentum for sgd and rmsprop")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--weight-decay", flags.config.weight_decay, "weight decay (L2 for sgd/adam/rmsprop, decoupled for adamw)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  flags.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  app.add_option("--threads", flags.threads, "CPU threads for the kernels")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--seed", flags.config.seed, "seed for the initial weights and the data order")->capture_default_str();
  app.add_option("--save", flags.save, "write a checkpoint here after every epoch (atomically: a crash never leaves a "
                                       "half-written file)");
  app.add_option("--resume", flags.resume,
                 "continue the run saved in this checkpoint up to --epochs; the result is the same as an "
                 "uninterrupted run")
      ->check(CLI::ExistingFile);
  app.add_option("--data-dir", flags.data_dir, "folder with the Fashion-MNIST .gz files (default: $TG_FASHION_MNIST_DIR, "
                                               "else /usr/share/datasets/fashion-mnist)");
  app.add_option("--out", flags.out_dir, "folder for metrics.csv and metrics.svg (default: runs/<model>)");
  app.add_option("--train-limit", flags.config.train_limit, "train on the first N images only (0: all 60000)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--test-limit", flags.test_limit, "evaluate on the first N test images only (0: all 10000)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_flag("!--no-progress", flags.progress, "no progress bar, only the per-epoch summary lines");
  app.add_option("--dist", flags.dist,
                 "none | ddp: synchronous data parallel over the ranks of `mpirun -np N tg_train --dist ddp ...` "
                 "(--batch-size is per rank; rank 0 prints and writes checkpoints) | ps: asynchronous, rank 0 serves "
                 "the parameters and ranks 1..N-1 train | pipeline: the model's layers split across the ranks, GPipe "
                 "micro-batches (--batch-size is the whole batch)")
      ->check(CLI::IsMember({"none", "ddp", "ps", "pipeline"}))
      ->capture_default_str();
  app.add_option("--bucket-kb", flags.bucket_kb, "ddp: gradient bucket size in KiB")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("!--no-overlap", flags.overlap, "ddp: all-reduce every bucket after backward instead of during it");
  app.add_flag("!--no-progress-thread", flags.progress_thread,
               "ddp/ps: no background thread moving MPI's non-blocking all-reduces along during backward (by "
               "default there is one; it needs MPI_THREAD_MULTIPLE)");
  app.add_option("--compression", flags.compression, "ddp: none | fp16 | bf16 | topk (with error feedback)")
      ->check(CLI::IsMember({"none", "fp16", "bf16", "topk"}))
      ->capture_default_str();
  app.add_option("--micro-batches", flags.micro_batches, "pipeline: micro-batches per batch (must divide --batch-size)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--staleness-bound", flags.staleness_bound,
                 "ps: no worker runs more than this many updates ahead of the slowest (-1: no bound)")
      ->check(CLI::Range(int64_t{-1}, int64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--topk-ratio", flags.topk_ratio, "ddp with topk: fraction of each bucket sent per step")
      ->check(CLI::Range(1e-6, 1.0))
      ->capture_default_str();
  app.add_flag("--profile", flags.profile,
               "profile training steps 3 to 2 + --profile-steps with tg::profiler: print the per-op table (as "
               "torch.profiler) and write a Chrome trace to <out>/trace.json (docs/PROFILING.md)");
  app.add_option("--profile-steps", flags.profile_steps, "how many steps --profile records")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  // Per-model defaults apply only where the flag was not given.
  const bool cnn = flags.config.model == "cnn";
  if (app.count("--optimizer") == 0) flags.config.optimizer = cnn ? "adam" : "sgd";
  if (app.count("--inputs") == 0) flags.config.inputs = cnn ? "standard" : "unit";
  if (app.count("--lr") == 0) flags.config.lr = flags.config.optimizer == "sgd" ? 0.1 : 1e-3;
  std::shared_ptr<dist::Communicator> comm;
  try {
    if (flags.dist != "none") {
      dist::CommOptions options = dist::options_from_env();
      options.progress_thread = flags.progress_thread;
      comm = dist::init(options);
    }
    if (flags.dist == "ps" || flags.dist == "pipeline") {
      if (app.count("--threads") == 0) flags.threads = std::max(1, flags.threads / comm->world_size());
      return flags.dist == "ps" ? run_parameter_server(flags, comm) : run_pipeline(flags, comm);
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
