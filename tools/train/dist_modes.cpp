// tg_train's --dist ps and --dist pipeline runs (dist_modes.h).
#include "dist_modes.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <functional>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "common.h"
#include "models.h"

namespace tg::train {

// --dist ps: rank 0 serves the parameters and applies each pushed gradient with the optimizer; ranks 1..N-1
// train on their shards of the data without waiting for each other. Rank 0 reports at the end, and with --save
// writes a checkpoint (atomically) each time another epoch's worth of updates has been applied, and at the end.
int run_parameter_server(const CLI::App& app, Flags flags, const std::shared_ptr<dist::Communicator>& comm) {
  TG_CHECK(comm->world_size() >= 2, "--dist ps needs a server and at least one worker: mpirun -np N with N >= 2");
  flags.config.world_size = comm->world_size();
  // Every rank reads the checkpoint: the server for the parameters, the optimizer state and the progress, each
  // worker for where it stopped in its data.
  std::unique_ptr<Checkpoint> resumed;
  if (!flags.resume.empty()) {
    resumed = std::make_unique<Checkpoint>(load_checkpoint(flags.resume));
    adopt_checkpoint_config(app, flags, resumed->config, flags.resume);
    TG_CHECK(!resumed->ps_pushes.empty(), "the checkpoint ", flags.resume, " was not written by --dist ps; resume it "
             "the way it was trained");
  }
  const RunConfig& config = flags.config;
  if (flags.threads > 0) set_num_threads(flags.threads);
  const bool server = comm->rank() == 0;
  const int workers = comm->world_size() - 1;
  Generator gen(config.seed);
  auto model = make_model(config.model, gen);
  auto optimizer = make_optimizer(config, model->parameters());
  dist::ServerProgress progress;
  if (resumed) {
    model->load_state_dict(resumed->model);
    optimizer->load_state_dict(resumed->optimizer);
    progress.pushes = resumed->ps_pushes;
    for (int64_t c : progress.pushes) progress.updates += c;
  }
  dist::ParameterServer ps(comm, model->parameters(), {.staleness_bound = flags.staleness_bound});
  auto [train_set, test_set] = load_data_sets(flags, config);
  // Every worker's shard has the same number of batches per epoch.
  auto worker_loader = [&](int worker) {
    return DataLoader(TensorDataset(train_set.images, train_set.labels),
                      {.batch_size = config.batch_size, .shuffle = true, .seed = config.seed, .rank = worker,
                       .world_size = workers});
  };
  if (!server) {
    const DataLoader loader = worker_loader(comm->rank() - 1);
    const int64_t skip = resumed ? resumed->ps_pushes[static_cast<size_t>(comm->rank())] : 0;
    int64_t batch = 0;
    for (int64_t epoch = 0; epoch < flags.epochs; ++epoch) {
      const int64_t batches = static_cast<int64_t>(loader.epoch(epoch).size());
      if (batch + batches <= skip) {  // a whole epoch already applied before the checkpoint
        batch += batches;
        continue;
      }
      for (Batch& b : loader.epoch(epoch)) {
        if (batch++ < skip) continue;
        ps.pull();
        model->zero_grad();
        cross_entropy((*model)(b.inputs), b.targets).backward();
        ps.push();
      }
    }
    ps.finish();
    return 0;
  }
  const int64_t updates_per_epoch = static_cast<int64_t>(worker_loader(0).epoch(0).size()) * workers;
  auto save = [&](const dist::ServerProgress& p) {
    save_checkpoint(flags.save, *model, *optimizer, config, 0, gen, {}, p.pushes);
  };
  std::function<void(const dist::ServerProgress&)> after_update;
  if (!flags.save.empty())
    after_update = [&](const dist::ServerProgress& p) {
      if (p.updates % updates_per_epoch == 0) save(p);
      progress = p;
    };
  std::printf("tensorgrad %s on Fashion-MNIST with a parameter server: %d workers, %s lr %g, batch %lld per worker, "
              "%lld epochs, staleness bound %lld\n",
              config.model.c_str(), workers, config.optimizer.c_str(), config.lr,
              static_cast<long long>(config.batch_size), static_cast<long long>(flags.epochs),
              static_cast<long long>(flags.staleness_bound));
  if (resumed)
    std::printf("resumed from %s after %lld updates\n", flags.resume.c_str(), static_cast<long long>(progress.updates));
  std::fflush(stdout);
  const auto start = std::chrono::steady_clock::now();
  const dist::StalenessStats stats = ps.serve([&] { optimizer->step(); }, after_update, progress);
  if (!flags.save.empty() && progress.updates % updates_per_epoch != 0) save(progress);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const Evaluation test = evaluate(*model, test_set);
  std::string histogram;
  for (size_t k = 0; k < stats.histogram.size(); ++k) {  // appended piece by piece: GCC 12 -Wrestrict false positive
    if (k > 0) histogram += ' ';
    histogram += std::to_string(k) + ':' + std::to_string(stats.histogram[k]);
  }
  std::printf("%lld updates in %.1f s; staleness mean %.2f, max %lld (staleness:count %s); %lld pulls held back "
              "by the bound\n",
              static_cast<long long>(stats.updates), seconds, stats.mean_staleness,
              static_cast<long long>(stats.max_staleness), histogram.c_str(),
              static_cast<long long>(stats.deferred_pulls));
  std::printf("final test loss %.4f, test accuracy %.2f%%\n", test.loss, 100 * test.accuracy);
  return 0;
}

namespace {

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
}  // namespace

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
  auto [train_set, test_set] = load_data_sets(flags, config);
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

int run_tensor_parallel(const Flags& flags, const std::shared_ptr<dist::Communicator>& comm) {
  TG_CHECK(flags.save.empty() && flags.resume.empty(), "--save and --resume are not supported with --dist tp");
  const RunConfig& config = flags.config;
  TG_CHECK(config.model == "mlp", "--dist tp splits the mlp model only, not ", config.model);
  const int world = comm->world_size();
  TG_CHECK(512 % world == 0, "--dist tp: ", world, " ranks do not divide the MLP's 512 hidden features evenly "
           "(use 1, 2, 4, 8, ... ranks)");
  if (flags.threads > 0) set_num_threads(flags.threads);
  const bool leader = comm->rank() == 0;
  // Every rank builds the whole model from the seed (the 1-process run's initial weights) and keeps its shards.
  Generator gen(config.seed);
  auto model = make_model(config.model, gen);
  auto& fc1 = dynamic_cast<nn::Linear&>((*model)[1]);
  auto& fc2 = dynamic_cast<nn::Linear&>((*model)[3]);
  auto& fc3 = (*model)[5];
  const Tensor w1 = dist::shard(fc1.weight, 0, *comm).requires_grad_();  // [512 / N, 784]: output features
  const Tensor b1 = dist::shard(fc1.bias, 0, *comm).requires_grad_();
  const Tensor w2 = dist::shard(fc2.weight, 1, *comm).requires_grad_();  // [256, 512 / N]: input features
  const Tensor b2 = fc2.bias.detach().clone().requires_grad_();          // whole, added once after the reduce
  std::vector<Tensor> params{w1, b1, w2, b2};
  for (const Tensor& p : fc3.parameters()) params.push_back(p);          // replicated: same gradient everywhere
  auto optimizer = make_optimizer(config, params);
  auto forward = [&](const Tensor& images) {
    Tensor h = relu(dist::column_parallel_linear(images.flatten(1), w1, b1, *comm));
    h = relu(dist::row_parallel_linear(h, w2, b2, *comm));
    return fc3(h);
  };
  // The whole model on rank 0, from the shards: all_gather stacks along dim 0, so fc2's column blocks travel
  // transposed.
  auto gather_model = [&] {
    NoGradGuard no_grad;
    Tensor full_w1 = Tensor::empty(fc1.weight.shape(), DType::Float32), full_b1 = Tensor::empty(fc1.bias.shape());
    comm->all_gather(w1.detach(), full_w1, "tp fc1.weight");
    comm->all_gather(b1.detach(), full_b1, "tp fc1.bias");
    Tensor full_w2t = Tensor::empty({fc2.weight.size(1), fc2.weight.size(0)}, DType::Float32);
    comm->all_gather(w2.detach().transpose(0, 1).contiguous(), full_w2t, "tp fc2.weight");
    fc1.weight.detach().copy_(full_w1);
    fc1.bias.detach().copy_(full_b1);
    fc2.weight.detach().copy_(full_w2t.transpose(0, 1));
    fc2.bias.detach().copy_(b2.detach());
  };
  auto [train_set, test_set] = load_data_sets(flags, config);
  if (leader) {
    std::printf("tensorgrad mlp on Fashion-MNIST, tensor parallel over %d ranks (784-512 by output features, 512-256 "
                "by input features), %s lr %g, batch %lld\n",
                world, config.optimizer.c_str(), config.lr, static_cast<long long>(config.batch_size));
    std::fflush(stdout);
  }
  // Every rank sees every batch, in the 1-process run's order.
  DataLoader loader(TensorDataset(train_set.images, train_set.labels),
                    {.batch_size = config.batch_size, .shuffle = true, .seed = config.seed});
  double accuracy = 0;
  for (int64_t epoch = 0; epoch < flags.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    double loss_sum = 0;
    int64_t seen = 0;
    for (Batch& b : loader.epoch(epoch)) {
      const Tensor loss = cross_entropy(forward(b.inputs), b.targets);
      optimizer->zero_grad();
      loss.backward();
      optimizer->step();
      const int64_t n = b.targets.size(0);
      loss_sum += loss.item() * static_cast<double>(n);
      seen += n;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    gather_model();
    if (!leader) continue;
    const Evaluation test = evaluate(*model, test_set);
    accuracy = test.accuracy;
    std::printf("epoch %lld/%lld  train loss %.4f  test loss %.4f  test acc %.2f%%  %.1f s\n",
                static_cast<long long>(epoch + 1), static_cast<long long>(flags.epochs),
                loss_sum / static_cast<double>(seen), test.loss, 100 * test.accuracy, seconds);
    std::fflush(stdout);
  }
  if (leader) std::printf("final test accuracy %.2f%%\n", 100 * accuracy);
  return 0;
}

}  // namespace tg::train
