#pragma once
// The corpus's voices: espeak-ng's English accents, each with its voice variants, and flite's voices; split
// by voice into train, dev and test, so the test voices never occur in training.
#include <cstdint>
#include <string>
#include <vector>

namespace tg::asr {

enum class Split { Train = 0, Dev = 1, Test = 2 };
const char* split_name(Split s);

struct Voice {
  std::string engine;  // "espeak-ng" or "flite"
  std::string name;    // espeak-ng: "<accent>+<variant>" (its -v argument); flite: its -voice argument
  std::string id() const { return engine + ":" + name; }
};

// Every voice of `split`. The split is fixed (not seeded): held-out variants across all accents plus one
// flite voice for test, others for dev, the rest for training.
std::vector<Voice> voices(Split split);

}  // namespace tg::asr
