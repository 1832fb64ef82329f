// tg_train's flags (flags.h).
#include "flags.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <thread>

namespace tg::train {

void add_flags(CLI::App& app, Flags& flags) {
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
                 "micro-batches (--batch-size is the whole batch) | tp: tensor parallel MLP, the first Linear split by "
                 "output features and the second by input features across the ranks (N must divide 512; --batch-size "
                 "is the whole batch)")
      ->check(CLI::IsMember({"none", "ddp", "ps", "pipeline", "tp"}))
      ->capture_default_str();
  app.add_option("--bucket-kb", flags.bucket_kb, "ddp: gradient bucket size in KiB")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("!--no-overlap", flags.overlap, "ddp: all-reduce every bucket after backward instead of during it");
  auto* progress_thread =
      app.add_option("--progress-thread", flags.progress_thread,
                     "ddp/ps: a background thread moving MPI's non-blocking operations along during backward (it "
                     "needs MPI_THREAD_MULTIPLE). auto: only when this node's ranks leave a core free for it "
                     "(ranks x --threads < cores), since it takes its time from backward otherwise")
          ->check(CLI::IsMember({"auto", "on", "off"}))
          ->capture_default_str();
  app.add_flag_callback("--no-progress-thread", [&flags] { flags.progress_thread = "off"; },
                        "the same as --progress-thread off")
      ->excludes(progress_thread);
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
  app.add_option("--device", flags.device,
                 "cpu | cuda: where the model trains (cuda: the first GPU, through tensorgrad's own CUDA kernels; "
                 "needs a build with the CUDA backend; not with --dist, --save or --resume yet)")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
  app.add_flag("--profile", flags.profile,
               "profile training steps 3 to 2 + --profile-steps with tg::profiler: print the per-op table (as "
               "torch.profiler) and write a Chrome trace to <out>/trace.json (docs/PROFILING.md)");
  app.add_option("--profile-steps", flags.profile_steps, "how many steps --profile records")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

void apply_model_defaults(const CLI::App& app, Flags& flags) {
  const bool cnn = flags.config.model == "cnn";
  if (app.count("--optimizer") == 0) flags.config.optimizer = cnn ? "adam" : "sgd";
  if (app.count("--inputs") == 0) flags.config.inputs = cnn ? "standard" : "unit";
  if (app.count("--lr") == 0) flags.config.lr = flags.config.optimizer == "sgd" ? 0.1 : 1e-3;
}

}  // namespace tg::train
