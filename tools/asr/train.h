#pragma once
// `tg_asr train`: Conformer-CTC on a corpus made by make-corpus. AdamW with linear warm-up then cosine decay,
// gradient clipping, SpecAugment and dropout; per epoch the dev loss and greedy CER / WER, metrics.csv and
// metrics.svg, and an atomic checkpoint; --resume continues a run exactly where its last checkpoint left it.
// Under `mpirun -np N ... --dist ddp` each step takes one batch per rank and averages the gradients
// (dist::DistributedDataParallel); rank 0 prints, evaluates and writes.
#include <cstdint>
#include <memory>
#include <string>

#include "model.h"

namespace tg::asr {

struct TrainOptions {
  std::string corpus;  // the make-corpus directory (train.jsonl, dev.jsonl)
  std::string out;     // checkpoints, metrics
  int64_t epochs = 28;
  int64_t max_frames = 8000;   // padded frames per batch
  double lr = 2e-3;            // peak
  int64_t warmup_steps = 300;
  double weight_decay = 1e-3;
  double clip = 5.0;
  bool spec_augment = true;
  uint64_t seed = 1;
  int threads = 0;  // 0: all cores
  bool resume = false;       // continue <out>/checkpoint.safetensors with the settings saved in it
  int64_t stop_after = 0;    // > 0: stop after this many epochs, as if interrupted (resume later)
  bool progress = true;
  std::string dist = "none";  // "ddp": data parallel over the ranks of mpirun (dist::init)
  ModelConfig model;
};

// Returns a process exit code.
int train(const TrainOptions& options);

struct EvalResult {
  double wer = 0, cer = 0;
  int64_t utterances = 0;
};
// The model of a checkpoint written by train, in eval mode.
std::unique_ptr<ConformerCtc> load_model(const std::string& checkpoint);

// WER and CER of the model in `checkpoint` on a manifest, greedy or with prefix beam search (beam > 1).
EvalResult evaluate(const std::string& checkpoint, const std::string& manifest, int64_t beam, int threads);

}  // namespace tg::asr
