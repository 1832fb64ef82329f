// tg_asr: speech recognition end to end (docs/ASR.md). Subcommands:
//   make-corpus   synthesise a speech corpus with espeak-ng and flite (corpus.h)
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "corpus.h"

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
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tg_asr: %s\n", e.what());
    return 1;
  }
  return 0;
}
