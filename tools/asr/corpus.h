#pragma once
// `tg_asr make-corpus`: a speech corpus synthesised on this machine. Each utterance is a sentence of the
// grammar (grammar.h) said by a voice of its split (voices.h) at a random speed and pitch, with silence
// around it, background noise at a random signal-to-noise ratio and a random gain, written as 16 kHz 16-bit
// WAV. Manifests: <out>/{train,dev,test}.jsonl, one JSON object per line: file (relative to <out>), seconds,
// text, voice. The same seed gives the same corpus (every random choice of utterance i comes from its own
// generator seeded by (seed, i), whatever the number of jobs).
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace tg::asr {

struct CorpusOptions {
  std::string out_dir;
  double hours = 1.0;            // total audio over the three splits
  uint64_t seed = 1;
  int jobs = 2;                  // synthesiser processes at once
  double dev_fraction = 0.08;    // of the utterances
  double test_fraction = 0.12;
};

struct CorpusReport {
  int64_t utterances[3] = {0, 0, 0};  // train, dev, test
  double seconds[3] = {0, 0, 0};
  std::vector<std::string> failures;  // "utterance 12 (espeak-ng:en-us+m3): why", each skipped
};

// Makes the corpus (creating out_dir; an existing manifest there is replaced), printing progress to
// `progress` (null: quiet). Throws tg::Error when nothing could be synthesised (e.g. espeak-ng missing).
CorpusReport make_corpus(const CorpusOptions& options, std::FILE* progress);

}  // namespace tg::asr
