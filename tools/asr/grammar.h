#pragma once
// The corpus's sentences: a seeded grammar of what people say to a small voice interface. Digit strings as
// people read them ("oh" as well as "zero"), numbers in words, playing cards, directions and short commands.
// Text uses only the model's characters: a-z, space and the apostrophe.
#include <cstdint>
#include <random>
#include <string>

namespace tg::asr {

// One sentence drawn from `rng` (the same engine state gives the same sentence).
std::string random_sentence(std::mt19937_64& rng);

// 0 <= n <= 999999 in words, American style: "three hundred forty two", "twelve thousand five".
std::string number_in_words(int64_t n);

}  // namespace tg::asr
