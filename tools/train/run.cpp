// tg_train's run loop (run.h).
#include "run.h"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "common.h"
#include "models.h"
#include "progress.h"
#include "report.h"
#include "step_profiler.h"

namespace tg::train {

int run(const CLI::App& app, Flags flags, const std::shared_ptr<dist::Communicator>& comm) {
  const bool leader = comm == nullptr || comm->rank() == 0;  // prints and writes files
  if (comm) flags.config.world_size = comm->world_size();
  std::unique_ptr<Checkpoint> resumed;
  if (!flags.resume.empty()) {
    resumed = std::make_unique<Checkpoint>(load_checkpoint(flags.resume));
    adopt_checkpoint_config(app, flags, resumed->config, flags.resume);
    TG_CHECK(resumed->ps_pushes.empty(), "the checkpoint ", flags.resume, " was written by --dist ps; resume it with "
             "--dist ps");
    TG_CHECK(resumed->epochs_done < flags.epochs, "the checkpoint ", flags.resume, " has already trained ",
             resumed->epochs_done, " epochs; ask for more with --epochs N (N > ", resumed->epochs_done, ")");
  }
  const RunConfig& config = flags.config;
  if (flags.out_dir.empty()) flags.out_dir = "runs/" + config.model;
  if (flags.threads > 0) set_num_threads(flags.threads);

  auto [train_set, test_set] = load_data_sets(flags, config);

  const Device device = training_device(flags);
  Generator gen(config.seed);
  auto model = make_model(config.model, gen);
  model->to(device);  // before the optimizer: its state is made where the parameters are
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
              "batch %lld, %s inputs, %d threads, seed %llu%s\n",
              config.model.c_str(), static_cast<long long>(train_set.labels.size(0)),
              static_cast<long long>(test_set.labels.size(0)), static_cast<long long>(model->num_parameters()),
              config.optimizer.c_str(), config.lr, static_cast<long long>(config.batch_size), config.inputs.c_str(),
              num_threads(),
              static_cast<unsigned long long>(config.seed),
              device.is_cpu() ? "" : (", on " + flags.device).c_str());
  if (comm && leader)
    std::printf("data parallel over %d ranks (%s): per-rank batch %lld, buckets of %lld KiB, overlap %s, compression %s, "
                "progress thread %s\n",
                comm->world_size(), comm->backend().c_str(), static_cast<long long>(config.batch_size),
                static_cast<long long>(flags.bucket_kb), flags.overlap ? "on" : "off", flags.compression.c_str(),
                flags.progress_thread.c_str());
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
    // On a GPU the loss and the correct count stay there, summed, and are read (which waits for the GPU) only
    // every 50 steps and at the end of the epoch, so the host queues steps ahead of the device.
    Tensor device_loss_sum, device_correct;
    for (Batch& b : pass) {
      step_profiler.step_begins();
      Tensor logits, loss;
      const Tensor targets = on_device(b.targets, device);
      {
        TG_PROFILE_SCOPE("train_step");
        {
          TG_PROFILE_SCOPE("forward");
          logits = (*model)(on_device(b.inputs, device));
          loss = cross_entropy(logits, targets);
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
      if (device.is_cpu()) {
        const double batch_loss = loss.item();
        TG_CHECK(std::isfinite(batch_loss), "epoch ", epoch + 1, " batch ", done + 1, ": the loss is ", batch_loss,
                 "; try a smaller --lr");
        loss_sum += batch_loss * static_cast<double>(n);
        NoGradGuard no_grad;
        correct += sum(eq(argmax(logits.detach(), 1), targets)).item<int64_t>();
      } else {
        NoGradGuard no_grad;
        const Tensor batch_loss = loss.detach().to(DType::Float64) * static_cast<double>(n);
        const Tensor batch_correct = sum(eq(argmax(logits.detach(), 1), targets));
        device_loss_sum = device_loss_sum.defined() ? device_loss_sum + batch_loss : batch_loss;
        device_correct = device_correct.defined() ? device_correct + batch_correct : batch_correct;
      }
      seen += n;
      ++done;
      const bool totals_known = device.is_cpu() || done % 50 == 0 || done == static_cast<int64_t>(pass.size());
      if (!device.is_cpu() && totals_known) {
        loss_sum = device_loss_sum.item();
        correct = device_correct.item<int64_t>();
        TG_CHECK(std::isfinite(loss_sum), "epoch ", epoch + 1, " by batch ", done, ": the loss is ", loss_sum,
                 "; try a smaller --lr");
      }
      if (progress && totals_known) bar.update(done, seen, loss_sum / static_cast<double>(seen));
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
    const Evaluation test = evaluate(*model, test_set, device);
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

}  // namespace tg::train
