// The training loop, evaluation and checkpoints (train.h).
#include "train.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <sstream>
#include <thread>

#include <tensorgrad/audio/augment.h>
#include <tensorgrad/base/threads.h>
#include <tensorgrad/dist/communicator.h>
#include <tensorgrad/dist/ddp.h>
#include <tensorgrad/io/safetensors.h>
#include <tensorgrad/nn/ctc_decoding.h>
#include <tensorgrad/nn/error_rate.h>
#include <tensorgrad/optim/adam.h>
#include <tensorgrad/optim/clip.h>
#include <tensorgrad/optim/schedule.h>
#include <tensorgrad/tensorgrad.h>

#include "dataset.h"
#include "vocabulary.h"

namespace tg::asr {

namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

struct EpochRow {
  int64_t epoch = 0;
  double train_loss = 0, dev_loss = 0, dev_cer = 0, dev_wer = 0, seconds = 0, lr = 0;
};

std::string metrics_csv(const std::vector<EpochRow>& rows) {
  std::ostringstream s;
  s << "epoch,train_loss,dev_loss,dev_cer,dev_wer,seconds,lr\n";
  for (const EpochRow& r : rows)
    s << r.epoch << ',' << r.train_loss << ',' << r.dev_loss << ',' << r.dev_cer << ',' << r.dev_wer << ',' << r.seconds
      << ',' << r.lr << '\n';
  return s.str();
}

std::vector<EpochRow> parse_metrics(const std::string& csv) {
  std::vector<EpochRow> rows;
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    EpochRow r;
    char comma = 0;
    std::istringstream f(line);
    f >> r.epoch >> comma >> r.train_loss >> comma >> r.dev_loss >> comma >> r.dev_cer >> comma >> r.dev_wer >> comma >>
        r.seconds >> comma >> r.lr;
    rows.push_back(r);
  }
  return rows;
}

// Two panels: losses (train, dev) and dev error rates (CER, WER), by epoch.
std::string metrics_svg(const std::vector<EpochRow>& rows) {
  const double W = 640, H = 260, pad = 40;
  std::ostringstream s;
  s << "<svg xmlns='http://www.w3.org/2000/svg' width='" << 2 * W << "' height='" << H << "' font-family='sans-serif' font-size='12'>\n";
  auto panel = [&](double x0, const char* title, auto get_a, auto get_b, const char* a_name, const char* b_name) {
    double top = 1e-9;
    for (const EpochRow& r : rows) top = std::max({top, get_a(r), get_b(r)});
    const double n = std::max<double>(static_cast<double>(rows.size()) - 1, 1);
    auto line = [&](auto get, const char* color) {
      s << "<polyline fill='none' stroke='" << color << "' stroke-width='2' points='";
      for (size_t i = 0; i < rows.size(); ++i)
        s << x0 + pad + (W - 2 * pad) * static_cast<double>(i) / n << ',' << H - pad - (H - 2 * pad) * get(rows[i]) / top << ' ';
      s << "'/>\n";
    };
    s << "<text x='" << x0 + pad << "' y='20'>" << title << " (top " << top << ")</text>\n";
    s << "<rect x='" << x0 + pad << "' y='" << pad << "' width='" << W - 2 * pad << "' height='" << H - 2 * pad
      << "' fill='none' stroke='#999'/>\n";
    line(get_a, "#1f77b4");
    line(get_b, "#d62728");
    s << "<text x='" << x0 + pad << "' y='" << H - 10 << "' fill='#1f77b4'>" << a_name << "</text><text x='" << x0 + pad + 120
      << "' y='" << H - 10 << "' fill='#d62728'>" << b_name << "</text>\n";
  };
  panel(0, "loss by epoch", [](const EpochRow& r) { return r.train_loss; }, [](const EpochRow& r) { return r.dev_loss; },
        "train", "dev");
  panel(W, "dev error rate by epoch", [](const EpochRow& r) { return r.dev_cer; }, [](const EpochRow& r) { return r.dev_wer; },
        "CER", "WER");
  s << "</svg>\n";
  return s.str();
}

void write_atomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
    TG_CHECK(out.good(), "tg_asr: cannot write ", tmp.string());
  }
  fs::rename(tmp, path);
}

std::string hhmmss(double seconds) {
  const auto s = static_cast<int64_t>(std::max(seconds, 0.0));
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600), static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  else std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  return buf;
}

struct DevResult {
  double loss = 0, cer = 0, wer = 0;
};

DevResult run_dev(ConformerCtc& model, const FeatureSet& dev, int64_t max_frames, int64_t beam) {
  model.eval();
  NoGradGuard no_grad;
  std::vector<std::string> refs, hyps;
  double loss_sum = 0;
  int64_t n = 0;
  for (const auto& indices : make_batches(dev, max_frames, 0, 0, /*shuffle=*/false)) {
    const Batch b = collate(dev, indices);
    const auto out = model.forward(b.features, b.lengths);
    const Tensor lp = transpose(out.log_probs, 0, 1).contiguous();  // [T, N, C]
    const Tensor losses = ctc_loss(lp, b.targets, out.lengths, b.target_lengths,
                                   {.reduction = Reduction::None, .zero_infinity = true});
    const auto per = losses.to(DType::Float64).to_vector<double>();
    const auto tl = b.target_lengths.to_vector<int64_t>();
    for (size_t i = 0; i < per.size(); ++i) loss_sum += per[i] / static_cast<double>(std::max<int64_t>(tl[i], 1));
    n += static_cast<int64_t>(per.size());
    std::vector<std::vector<int64_t>> decoded;
    if (beam > 1) {
      const auto lens = out.lengths.to_vector<int64_t>();
      for (size_t i = 0; i < indices.size(); ++i) {
        const Tensor one = narrow(select(lp, 1, static_cast<int64_t>(i)), 0, 0, lens[i]);
        decoded.push_back(nn::ctc_prefix_beam_search(one, {.beam_width = beam}).front().labels);
      }
    } else {
      decoded = nn::ctc_greedy_decode(lp, out.lengths, kBlank);
    }
    for (size_t i = 0; i < indices.size(); ++i) {
      refs.push_back(dev.texts[indices[i]]);
      hyps.push_back(decode(decoded[i]));
    }
  }
  model.train();
  return {loss_sum / static_cast<double>(std::max<int64_t>(n, 1)), nn::char_error_rate(refs, hyps),
          nn::word_error_rate(refs, hyps)};
}

void save_checkpoint(const fs::path& path, const ConformerCtc& model, const optim::Optimizer& opt,
                     const optim::Scheduler& sched, const TrainOptions& o, int world_size, int64_t epochs_done,
                     const std::vector<EpochRow>& rows) {
  StateDict tensors;
  for (const auto& [k, v] : model.state_dict()) tensors["model." + k] = v;
  for (const auto& [k, v] : opt.state_dict()) tensors["optimizer." + k] = v;
  for (const auto& [k, v] : sched.state_dict()) tensors["scheduler." + k] = v;
  std::map<std::string, std::string> meta = o.model.to_metadata();
  meta["train.epochs"] = std::to_string(o.epochs);
  meta["train.max_frames"] = std::to_string(o.max_frames);
  meta["train.lr"] = std::to_string(o.lr);
  meta["train.warmup_steps"] = std::to_string(o.warmup_steps);
  meta["train.weight_decay"] = std::to_string(o.weight_decay);
  meta["train.clip"] = std::to_string(o.clip);
  meta["train.spec_augment"] = o.spec_augment ? "1" : "0";
  meta["epochs_done"] = std::to_string(epochs_done);
  meta["seed"] = std::to_string(o.seed);
  meta["train.world_size"] = std::to_string(world_size);
  meta["metrics"] = metrics_csv(rows);
  save_safetensors(path.string(), tensors, meta);
}

// The generator's seed for one rank's epoch: SplitMix64 of the three, so nearby seeds, ranks and epochs give
// unrelated Philox keys.
uint64_t stream_seed(uint64_t seed, int rank, int64_t epoch) {
  uint64_t z = seed ^ (static_cast<uint64_t>(rank) << 40) ^ static_cast<uint64_t>(epoch) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

StateDict with_prefix(const StateDict& all, const std::string& prefix) {
  StateDict out;
  for (const auto& [k, v] : all)
    if (k.rfind(prefix, 0) == 0) out[k.substr(prefix.size())] = v;
  return out;
}

// --dist ddp: every rank runs this on its share of each epoch's batches; rank 0 prints, evaluates on dev and
// writes the checkpoint and metrics.
int train_ranks(const TrainOptions& o, const std::shared_ptr<dist::Communicator>& comm) {
  const int rank = comm ? comm->rank() : 0, world = comm ? comm->world_size() : 1;
  const bool leader = rank == 0;
  if (o.threads > 0) set_num_threads(o.threads);
  else if (world > 1)  // ranks share the machine's cores unless --threads says otherwise
    set_num_threads(std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / world));
  std::FILE* log = leader ? stdout : nullptr;
  const fs::path checkpoint = fs::path(o.out) / "checkpoint.safetensors";
  if (leader) {
    fs::create_directories(o.out);
    std::printf("tg_asr train: corpus %s, %d threads", o.corpus.c_str(), num_threads());
    if (comm) std::printf(", data parallel over %d ranks (%s)", world, comm->backend().c_str());
    std::printf("\n");
  }
  // Rank 0 computes and caches the features first; the others then read its cache.
  auto load_all = [&](const char* split) { return load_features((fs::path(o.corpus) / split).string(), num_threads(), log); };
  FeatureSet train_set, dev_set;
  if (leader) {
    train_set = load_all("train.jsonl");
    dev_set = load_all("dev.jsonl");
  }
  if (comm) comm->barrier("feature caches");
  if (!leader) train_set = load_all("train.jsonl");
  if (leader)
    std::printf("train: %zu utterances (%.1f min of audio); dev: %zu\n", train_set.features.size(),
                static_cast<double>(train_set.total_frames) / 6000.0, dev_set.features.size());

  TrainOptions opts = o;
  SafetensorsFile resumed;
  if (o.resume) {
    TG_CHECK(fs::exists(checkpoint), "tg_asr train --resume: no checkpoint at ", checkpoint.string());
    resumed = load_safetensors(checkpoint.string());
    // The run continues with the settings it started with (the schedule depends on them).
    const auto& m = resumed.metadata;
    opts.model = ModelConfig::from_metadata(m);
    opts.epochs = std::stoll(m.at("train.epochs"));
    opts.max_frames = std::stoll(m.at("train.max_frames"));
    opts.lr = std::stod(m.at("train.lr"));
    opts.warmup_steps = std::stoll(m.at("train.warmup_steps"));
    opts.weight_decay = std::stod(m.at("train.weight_decay"));
    opts.clip = std::stod(m.at("train.clip"));
    opts.spec_augment = m.at("train.spec_augment") == "1";
    opts.seed = std::stoull(m.at("seed"));
    // Which batches a step sees depends on the number of ranks (checkpoints from before --dist had one).
    const auto ws = m.find("train.world_size");
    const int saved_world = ws == m.end() ? 1 : std::stoi(ws->second);
    TG_CHECK(saved_world == world, "tg_asr train --resume: ", checkpoint.string(), " was written by a run on ",
             saved_world, " rank(s); resume it on ", saved_world, ", not ", world);
  }
  Generator gen(opts.seed);
  ConformerCtc model(opts.model, gen);
  model.train();
  if (leader)
    std::printf("model: %lld parameters (d_model %lld, %lld blocks, %lld heads, kernel %lld)\n",
                static_cast<long long>(model.num_parameters()), static_cast<long long>(opts.model.d_model),
                static_cast<long long>(opts.model.layers), static_cast<long long>(opts.model.heads),
                static_cast<long long>(opts.model.kernel));
  optim::AdamW opt(model.parameters(), optim::AdamWOptions{.lr = opts.lr, .beta1 = 0.9, .beta2 = 0.98, .eps = 1e-9,
                                                           .weight_decay = opts.weight_decay});
  // A step takes one batch on every rank (the gradients averaged): the last world_size - 1 batches of an epoch
  // at most are left out, in a different place each epoch.
  const auto steps_in = [&](int64_t epoch) {
    return static_cast<int64_t>(make_batches(train_set, opts.max_frames, opts.seed, epoch).size()) / world;
  };
  const int64_t steps_per_epoch = steps_in(0);
  TG_CHECK(steps_per_epoch > 0, "tg_asr train: ", world, " ranks but only ",
           make_batches(train_set, opts.max_frames, opts.seed, 0).size(), " batches in an epoch");
  const int64_t total_steps = steps_per_epoch * opts.epochs;
  const double peak = opts.lr;
  const int64_t warmup = std::min(opts.warmup_steps, std::max<int64_t>(total_steps / 4, 1));
  optim::Scheduler sched(opt, optim::LambdaLR([=](int64_t t) {
    if (t < warmup) return peak * static_cast<double>(t + 1) / static_cast<double>(warmup);
    const double progress = static_cast<double>(t - warmup) / static_cast<double>(std::max<int64_t>(total_steps - warmup, 1));
    return peak * (0.02 + 0.98 * 0.5 * (1 + std::cos(std::numbers::pi * std::min(progress, 1.0))));
  }));
  std::vector<EpochRow> rows;
  int64_t first_epoch = 0;
  if (o.resume) {
    // Every rank reads the same checkpoint, so parameters and optimizer state start equal everywhere.
    model.load_state_dict(with_prefix(resumed.tensors, "model."));
    opt.load_state_dict(with_prefix(resumed.tensors, "optimizer."));
    sched.load_state_dict(with_prefix(resumed.tensors, "scheduler."));
    first_epoch = std::stoll(resumed.metadata.at("epochs_done"));
    rows = parse_metrics(resumed.metadata.at("metrics"));
    if (leader) std::printf("resumed from %s after epoch %lld\n", checkpoint.c_str(), static_cast<long long>(first_epoch));
  }
  std::unique_ptr<dist::DistributedDataParallel> ddp;
  if (comm) ddp = std::make_unique<dist::DistributedDataParallel>(comm, model.named_parameters(), dist::DDPOptions{},
                                                                  model.named_buffers());
  audio::SpecAugmentOptions augment;
  augment.freq_masks = 2;
  augment.freq_width = 15;
  augment.time_masks = 2;
  augment.time_width = 0.05;
  const auto run_start = clock_type::now();
  const int64_t run_steps = (opts.epochs - first_epoch) * steps_per_epoch;  // about: epochs differ by a step or so
  int64_t steps_done = 0;
  for (int64_t epoch = first_epoch; epoch < opts.epochs; ++epoch) {
    const auto start = clock_type::now();
    // Dropout and SpecAugment draw from a stream of their own per (seed, rank, epoch): a resumed run draws what
    // the uninterrupted one drew, and ranks draw differently.
    gen.set_state(stream_seed(opts.seed, rank, epoch), 0);
    const auto batches = make_batches(train_set, opts.max_frames, opts.seed, epoch);
    const int64_t steps = static_cast<int64_t>(batches.size()) / world;
    double loss_sum = 0, utterances = 0;
    int64_t next_report = 1;
    for (int64_t step = 0; step < steps; ++step) {
      const auto& indices = batches[static_cast<size_t>(step * world + rank)];
      Batch b = collate(train_set, indices);
      if (opts.spec_augment) b.features = audio::spec_augment(b.features, augment, gen, b.lengths);
      const auto out = model.forward(b.features, b.lengths);
      const Tensor lp = transpose(out.log_probs, 0, 1);
      const Tensor loss = ctc_loss(lp, b.targets, out.lengths, b.target_lengths, {.zero_infinity = true});
      opt.zero_grad();
      loss.backward();
      if (ddp) ddp->synchronize();
      optim::clip_grad_norm(model.parameters(), opts.clip);
      opt.step();
      sched.step();
      ++steps_done;
      loss_sum += loss.item() * static_cast<double>(indices.size());
      utterances += static_cast<double>(indices.size());
      const double done = static_cast<double>(step + 1) / static_cast<double>(steps);
      if (leader && opts.progress && (done * 10 >= static_cast<double>(next_report) || step + 1 == steps)) {
        next_report = static_cast<int64_t>(done * 10) + 1;
        const double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
        const double run_elapsed = std::chrono::duration<double>(clock_type::now() - run_start).count();
        const double run_done = static_cast<double>(steps_done) / static_cast<double>(std::max<int64_t>(run_steps, 1));
        // Rank 0's loss; the utterance rate of all ranks together.
        std::printf("epoch %lld/%lld %3.0f%% | loss %.3f | %.1f utt/s | lr %.2e | ETA %s (run %s)\n",
                    static_cast<long long>(epoch + 1), static_cast<long long>(opts.epochs), 100 * done,
                    loss_sum / utterances, utterances * world / elapsed, sched.lr(),
                    hhmmss(elapsed / done - elapsed).c_str(), hhmmss(run_elapsed / run_done - run_elapsed).c_str());
        std::fflush(stdout);
      }
    }
    if (comm) {
      std::vector<double> totals{loss_sum, utterances};
      Tensor t = from_vector(totals);
      comm->all_reduce(t, dist::ReduceOp::Sum, "epoch loss");
      totals = t.to_vector<double>();
      loss_sum = totals[0];
      utterances = totals[1];
      ddp->broadcast_state();  // BatchNorm's running statistics: rank 0's everywhere, as the checkpoint has them
    }
    const bool stop = o.stop_after > 0 && epoch + 1 - first_epoch >= o.stop_after && epoch + 1 < opts.epochs;
    if (leader) {
      const DevResult dev = run_dev(model, dev_set, opts.max_frames, 1);
      EpochRow row{epoch + 1, loss_sum / std::max(utterances, 1.0), dev.loss, dev.cer, dev.wer,
                   std::chrono::duration<double>(clock_type::now() - start).count(), sched.lr()};
      rows.push_back(row);
      std::printf("epoch %lld: train loss %.4f, dev loss %.4f, dev CER %.2f%%, dev WER %.2f%%, %.0f s (total %s)\n",
                  static_cast<long long>(row.epoch), row.train_loss, row.dev_loss, 100 * row.dev_cer, 100 * row.dev_wer,
                  row.seconds, hhmmss(std::chrono::duration<double>(clock_type::now() - run_start).count()).c_str());
      std::fflush(stdout);
      save_checkpoint(checkpoint, model, opt, sched, opts, world, epoch + 1, rows);
      write_atomically(fs::path(o.out) / "metrics.csv", metrics_csv(rows));
      write_atomically(fs::path(o.out) / "metrics.svg", metrics_svg(rows));
      if (stop)
        std::printf("stopping after %lld epochs (--stop-after); continue with --resume\n",
                    static_cast<long long>(o.stop_after));
    }
    if (stop) break;
  }
  if (comm) comm->barrier("end of training");  // the other ranks wait for rank 0's last checkpoint
  return 0;
}

}  // namespace

int train(const TrainOptions& o) {
  if (o.dist == "none") return train_ranks(o, nullptr);
  const std::shared_ptr<dist::Communicator> comm = dist::init();
  try {
    return train_ranks(o, comm);
  } catch (const std::exception& e) {
    if (comm->world_size() == 1) throw;
    // One rank failing must end the job: the others would wait in their next collective for ever.
    std::fflush(stdout);
    std::fprintf(stderr, "tg_asr train: rank %d: %s\n", comm->rank(), e.what());
    dist::abort_job(1);
  }
}

std::unique_ptr<ConformerCtc> load_model(const std::string& checkpoint) {
  const SafetensorsFile file = load_safetensors(checkpoint);
  auto model = std::make_unique<ConformerCtc>(ModelConfig::from_metadata(file.metadata));
  model->load_state_dict(with_prefix(file.tensors, "model."));
  model->eval();
  return model;
}

EvalResult evaluate(const std::string& checkpoint, const std::string& manifest, int64_t beam, int threads) {
  if (threads > 0) set_num_threads(threads);
  const auto model = load_model(checkpoint);
  const FeatureSet set = load_features(manifest, num_threads(), stdout);
  const DevResult r = run_dev(*model, set, 12000, beam);
  return {r.wer, r.cer, static_cast<int64_t>(set.features.size())};
}

}  // namespace tg::asr
