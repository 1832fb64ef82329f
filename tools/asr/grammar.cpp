// The sentence grammar (grammar.h).
#include "grammar.h"

#include <array>
#include <vector>

#include <tensorgrad/base/error.h>

namespace tg::asr {

namespace {

constexpr std::array<const char*, 20> kSmall = {"zero",    "one",     "two",       "three",    "four",
                                                "five",    "six",     "seven",     "eight",    "nine",
                                                "ten",     "eleven",  "twelve",    "thirteen", "fourteen",
                                                "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
constexpr std::array<const char*, 10> kTens = {"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy",
                                               "eighty", "ninety"};

template <size_t N>
const char* pick(std::mt19937_64& rng, const std::array<const char*, N>& words) {
  return words[std::uniform_int_distribution<size_t>(0, N - 1)(rng)];
}
int64_t uniform(std::mt19937_64& rng, int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }

std::string below_thousand(int64_t n) {
  std::string out;
  if (n >= 100) {
    out = kSmall[static_cast<size_t>(n / 100)];
    out += " hundred";
    n %= 100;
    if (n == 0) return out;
    out += " ";
  }
  if (n < 20) return out += kSmall[static_cast<size_t>(n)];
  out += kTens[static_cast<size_t>(n / 10)];
  if (n % 10 != 0) {
    out += ' ';
    out += kSmall[static_cast<size_t>(n % 10)];
  }
  return out;
}

std::string digits(std::mt19937_64& rng) {
  const int64_t count = uniform(rng, 3, 7);
  const bool says_oh = uniform(rng, 0, 1) == 1;  // one reader keeps one habit through the string
  std::string out;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t d = uniform(rng, 0, 9);
    if (i > 0) out += " ";
    out += d == 0 && says_oh ? "oh" : kSmall[static_cast<size_t>(d)];
  }
  return out;
}

std::string number(std::mt19937_64& rng) {
  static constexpr std::array<const char*, 4> kLead = {"", "number ", "the number ", "about "};
  const int64_t magnitude = uniform(rng, 0, 3);
  const int64_t limits[] = {20, 100, 1000, 100000};
  std::string out = pick(rng, kLead);
  return out += number_in_words(uniform(rng, 0, limits[magnitude] - 1));
}

std::string card(std::mt19937_64& rng) {
  static constexpr std::array<const char*, 13> kRank = {"ace", "two", "three", "four", "five", "six", "seven",
                                                        "eight", "nine", "ten", "jack", "queen", "king"};
  static constexpr std::array<const char*, 4> kSuit = {"hearts", "diamonds", "clubs", "spades"};
  static constexpr std::array<const char*, 5> kLead = {"", "the ", "play the ", "draw the ", "i've got the "};
  std::string out = pick(rng, kLead);
  out += pick(rng, kRank);
  out += " of ";
  return out += pick(rng, kSuit);
}

std::string direction(std::mt19937_64& rng) {
  static constexpr std::array<const char*, 5> kVerb = {"turn", "go", "move", "head", "walk"};
  static constexpr std::array<const char*, 10> kWhere = {"left", "right", "north", "south", "east",
                                                         "west", "forward", "back", "up", "down"};
  static constexpr std::array<const char*, 3> kUnit = {"steps", "blocks", "meters"};
  std::string out = pick(rng, kVerb);
  out += ' ';
  out += pick(rng, kWhere);
  if (uniform(rng, 0, 2) == 0) {
    out += ' ';
    out += number_in_words(uniform(rng, 2, 20));
    out += ' ';
    out += pick(rng, kUnit);
  }
  return out;
}

std::string command(std::mt19937_64& rng) {
  static constexpr std::array<const char*, 24> kCommands = {
      "stop",           "start",          "pause",           "yes",             "no",
      "cancel",         "next",           "previous",        "repeat that",     "volume up",
      "volume down",    "lights on",      "lights off",      "open the door",   "close the window",
      "play music",     "call home",      "what's the time", "don't do that",   "that's right",
      "it's too loud",  "let's go",       "turn it off",     "i can't hear you"};
  return pick(rng, kCommands);
}

}  // namespace

std::string number_in_words(int64_t n) {
  TG_CHECK(n >= 0 && n <= 999999, "number_in_words: ", n, " is outside [0, 999999]");
  if (n < 1000) return below_thousand(n);
  std::string out = below_thousand(n / 1000);
  out += " thousand";
  if (n % 1000 != 0) {
    out += ' ';
    out += below_thousand(n % 1000);
  }
  return out;
}

std::string random_sentence(std::mt19937_64& rng) {
  switch (uniform(rng, 0, 4)) {
    case 0: return digits(rng);
    case 1: return number(rng);
    case 2: return card(rng);
    case 3: return direction(rng);
    default: return command(rng);
  }
}

}  // namespace tg::asr
