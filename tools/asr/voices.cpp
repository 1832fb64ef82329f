// The voice catalogue (voices.h). espeak-ng 1.51's variants that sound like people (robots, whispers and
// effects left out), crossed with its English accents; flite's built-in voices.
#include "voices.h"

#include <array>

namespace tg::asr {

namespace {

constexpr std::array<const char*, 7> kAccents = {"en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp",
                                                 "en-gb-x-gbcwmd", "en-029"};
// Held out: never heard in training.
constexpr std::array<const char*, 9> kTestVariants = {"f3", "m5", "Annie", "Michael", "belinda", "david", "iven3",
                                                      "steph2", "victor"};
constexpr std::array<const char*, 6> kDevVariants = {"f4", "m6", "Jacky", "caleb", "norbert", "shelby"};
constexpr std::array<const char*, 58> kTrainVariants = {
    "f1",     "f2",      "f5",      "m1",      "m2",     "m3",     "m4",     "m7",      "m8",    "Alex",
    "Alicia", "Andrea",  "Andy",    "Denis",   "Diogo",  "Gene",   "Gene2",  "Henrique", "Hugo", "Lee",
    "Marco",  "Mario",   "Mike",    "Nguyen",  "adam",   "anika",  "antonio", "aunty",   "benjamin", "boris",
    "ed",     "edward",  "edward2", "grandma", "grandpa", "gustave", "iven",  "iven2",   "iven4", "john",
    "linda",  "marcelo", "max",     "michel",  "miguel", "pablo",  "paul",   "pedro",   "quincy", "rob",
    "robert", "sandro",  "steph",   "steph3",  "travis", "zac",    "klatt",  "klatt2"};

template <size_t N>
void add_espeak(std::vector<Voice>& out, const std::array<const char*, N>& variants) {
  for (const char* accent : kAccents)
    for (const char* variant : variants) out.push_back({"espeak-ng", std::string(accent) + "+" + variant});
}

}  // namespace

const char* split_name(Split s) {
  switch (s) {
    case Split::Train: return "train";
    case Split::Dev: return "dev";
    case Split::Test: return "test";
  }
  return "?";
}

std::vector<Voice> voices(Split split) {
  std::vector<Voice> out;
  switch (split) {
    case Split::Train:
      add_espeak(out, kTrainVariants);
      for (const char* v : {"kal", "awb", "kal16"}) out.push_back({"flite", v});
      break;
    case Split::Dev:
      add_espeak(out, kDevVariants);
      out.push_back({"flite", "rms"});
      break;
    case Split::Test:
      add_espeak(out, kTestVariants);
      out.push_back({"flite", "slt"});
      break;
  }
  return out;
}

}  // namespace tg::asr
