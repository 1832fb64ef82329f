// tg_asr: speech recognition end to end (docs/ASR.md). Subcommands:
//   make-corpus   synthesise a speech corpus with espeak-ng and flite (corpus.h)
//   train         train a Conformer-CTC on it (train.h)
//   eval          WER and CER of a checkpoint on a manifest
//   transcribe    one line of text per audio file
//   profile       the per-op table of one forward and one training step (profile.h)
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <tensorgrad/base/threads.h>
#include <tensorgrad/io/safetensors.h>
#include <tensorgrad/nn/ctc_decoding.h>
#include <tensorgrad/tensorgrad.h>

#include "corpus.h"
#include "dataset.h"
#include "profile.h"
#include "train.h"
#include "vocabulary.h"

namespace {

// The model's shape, the same flags for train and profile.
void add_model_options(CLI::App* cmd, tg::asr::ModelConfig& model) {
  cmd->add_option("--d-model", model.d_model, "Model width")->capture_default_str();
  cmd->add_option("--layers", model.layers, "Conformer blocks")->capture_default_str();
  cmd->add_option("--heads", model.heads, "Attention heads")->capture_default_str();
  cmd->add_option("--ffn", model.ffn_dim, "Feed-forward width")->capture_default_str();
  cmd->add_option("--kernel", model.kernel, "Depthwise convolution kernel")->capture_default_str();
  cmd->add_option("--subsampling-channels", model.subsampling_channels, "Channels of the 4x subsampling")->capture_default_str();
  cmd->add_option("--dropout", model.dropout, "Dropout")->capture_default_str();
  cmd->add_option("--attention-dropout", model.attention_dropout,
                        "Dropout on the attention weights (0 keeps the fused attention kernel)")->capture_default_str();

}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tg_asr: a Conformer-CTC speech recogniser, from a corpus it synthesises to transcripts"};
  app.require_subcommand(1);

  tg::asr::CorpusOptions corpus;
  CLI::App* make_corpus = app.add_subcommand(
      "make-corpus",
      "Synthesise a speech corpus (espeak-ng and flite voices, background noise) into --out: 16 kHz WAV files and "
      "train/dev/test.jsonl manifests, split by voice");
  make_corpus->add_option("--out", corpus.out_dir, "Output directory")->required();
  make_corpus->add_option("--hours", corpus.hours, "Hours of audio over the three splits")
      ->capture_default_str()->check(CLI::PositiveNumber);
  make_corpus->add_option("--seed", corpus.seed, "The same seed makes the same corpus")->capture_default_str();
  make_corpus->add_option("--jobs", corpus.jobs, "Synthesiser processes at once")->capture_default_str()->check(CLI::PositiveNumber);
  make_corpus->add_option("--dev-fraction", corpus.dev_fraction, "Share of utterances in dev")->capture_default_str();
  make_corpus->add_option("--test-fraction", corpus.test_fraction, "Share of utterances in test")->capture_default_str();

  tg::asr::TrainOptions train;
  CLI::App* train_cmd = app.add_subcommand("train", "Train a Conformer-CTC on a make-corpus directory");
  train_cmd->add_option("--corpus", train.corpus, "The make-corpus directory (train.jsonl, dev.jsonl)")->required();
  train_cmd->add_option("--out", train.out, "Checkpoint and metrics directory")->required();
  train_cmd->add_option("--epochs", train.epochs, "Epochs")->capture_default_str()->check(CLI::PositiveNumber);
  train_cmd->add_option("--max-frames", train.max_frames, "Padded feature frames per batch (10 ms each)")->capture_default_str();
  train_cmd->add_option("--lr", train.lr, "Peak learning rate (AdamW)")->capture_default_str();
  train_cmd->add_option("--warmup", train.warmup_steps, "Warm-up steps, then cosine decay")->capture_default_str();
  train_cmd->add_option("--weight-decay", train.weight_decay, "AdamW's decoupled weight decay")->capture_default_str();
  train_cmd->add_option("--clip", train.clip, "Gradient norm clipping")->capture_default_str();
  train_cmd->add_option("--seed", train.seed, "Seed of the initialisation, data order, SpecAugment and dropout")->capture_default_str();
  train_cmd->add_option("--threads", train.threads, "Threads (0: all cores)")->capture_default_str();
  train_cmd->add_flag("--resume", train.resume,
                      "Continue from <out>/checkpoint.safetensors with the settings saved in it (the same result as "
                      "an uninterrupted run)");
  train_cmd->add_option("--stop-after", train.stop_after, "Stop after this many epochs, as if interrupted")->capture_default_str();
  train_cmd->add_flag("!--no-spec-augment", train.spec_augment, "Train without SpecAugment");
  train_cmd->add_option("--dist", train.dist,
                        "none, or ddp: data parallel over the ranks of `mpirun -np N tg_asr train --dist ddp ...` (one "
                        "batch per rank and step, gradients averaged; threads default to the cores / N)")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "ddp"}));
  add_model_options(train_cmd, train.model);

  std::string eval_checkpoint, eval_manifest;
  int64_t beam = 1;
  int threads = 0;
  CLI::App* eval_cmd = app.add_subcommand("eval", "WER and CER of a checkpoint on a manifest");
  eval_cmd->add_option("checkpoint", eval_checkpoint, "A checkpoint.safetensors written by train")->required();
  eval_cmd->add_option("manifest", eval_manifest, "A .jsonl manifest (e.g. <corpus>/test.jsonl)")->required();
  eval_cmd->add_option("--beam", beam, "Prefix beam search width (1: greedy)")->capture_default_str();
  eval_cmd->add_option("--threads", threads, "Threads (0: all cores)")->capture_default_str();

  std::string model_path;
  std::vector<std::string> files;
  CLI::App* transcribe_cmd = app.add_subcommand("transcribe", "Print one line per audio file: the file, a tab, its text");
  transcribe_cmd->add_option("checkpoint", model_path, "A checkpoint.safetensors written by train")->required();
  transcribe_cmd->add_option("files", files, "Audio files (WAV, FLAC, ... any rate, mixed to mono)")->required();
  transcribe_cmd->add_option("--beam", beam, "Prefix beam search width (1: greedy)")->capture_default_str();
  transcribe_cmd->add_option("--threads", threads, "Threads (0: all cores)")->capture_default_str();

  tg::asr::ProfileOptions prof;
  CLI::App* profile_cmd = app.add_subcommand(
      "profile", "Per-op tables (self / total time, calls, shapes, FLOPs, GFLOP/s) of one forward and one training step");
  profile_cmd->add_option("--batch", prof.batch, "Utterances per batch")->capture_default_str();
  profile_cmd->add_option("--seconds", prof.seconds, "Seconds per utterance")->capture_default_str();
  profile_cmd->add_option("--threads", prof.threads, "Threads (0: all cores)")->capture_default_str();
  profile_cmd->add_option("--rows", prof.rows, "Rows per table (0: all)")->capture_default_str();
  profile_cmd->add_option("--trace", prof.trace, "Write the step's Chrome trace here");
  profile_cmd
      ->add_option("--time-steps", prof.time_steps,
                   "Instead of the tables, time this many training steps without the profiler and print the median")
      ->check(CLI::NonNegativeNumber);
  add_model_options(profile_cmd, prof.model);

  CLI11_PARSE(app, argc, argv);
  try {
    if (make_corpus->parsed()) {
      const tg::asr::CorpusReport r = tg::asr::make_corpus(corpus, stdout);
      for (const std::string& f : r.failures) std::fprintf(stderr, "make-corpus: skipped %s\n", f.c_str());
      const char* names[] = {"train", "dev", "test"};
      for (int s = 0; s < 3; ++s)
        std::printf("%-5s %6lld utterances %8.1f s\n", names[s], static_cast<long long>(r.utterances[s]), r.seconds[s]);
      std::printf("manifests: %s/{train,dev,test}.jsonl\n", corpus.out_dir.c_str());
    }
    if (train_cmd->parsed()) return tg::asr::train(train);
    if (profile_cmd->parsed()) return tg::asr::profile(prof);
    if (eval_cmd->parsed()) {
      const tg::asr::EvalResult r = tg::asr::evaluate(eval_checkpoint, eval_manifest, beam, threads);
      std::printf("%s: %lld utterances, WER %.2f%%, CER %.2f%% (%s)\n", eval_manifest.c_str(),
                  static_cast<long long>(r.utterances), 100 * r.wer, 100 * r.cer,
                  beam > 1 ? ("beam " + std::to_string(beam)).c_str() : "greedy");
    }
    if (transcribe_cmd->parsed()) {
      if (threads > 0) tg::set_num_threads(threads);
      const auto model = tg::asr::load_model(model_path);
      tg::NoGradGuard no_grad;
      int failures = 0;
      for (const std::string& f : files) {
        try {
          const tg::Tensor x = tg::unsqueeze(tg::asr::features_of_file(f), 0);
          const auto out = model->forward(x, tg::from_vector<int64_t>({x.size(1)}));
          const tg::Tensor lp = tg::select(out.log_probs, 0, 0);  // [T', C]
          std::vector<int64_t> ids;
          if (beam > 1) ids = tg::nn::ctc_prefix_beam_search(lp, {.beam_width = beam}).front().labels;
          else ids = tg::nn::ctc_greedy_decode(tg::unsqueeze(lp, 1)).front();
          std::printf("%s\t%s\n", f.c_str(), tg::asr::decode(ids).c_str());
        } catch (const std::exception& e) {
          std::fprintf(stderr, "tg_asr transcribe: %s\n", e.what());
          ++failures;
        }
      }
      return failures == 0 ? 0 : 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tg_asr: %s\n", e.what());
    return 1;
  }
  return 0;
}
