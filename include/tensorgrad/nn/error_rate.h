#pragma once
// Edit distance and the error rates speech recognition is scored by: WER (words) and CER (characters), as
// sums of edits over sums of reference lengths across a corpus (jiwer's and torchmetrics' definition).
#include <cstdint>
#include <string>
#include <vector>

namespace tg::nn {

// Levenshtein distance: the fewest substitutions, insertions and deletions turning ref into hyp.
int64_t edit_distance(const std::vector<int64_t>& ref, const std::vector<int64_t>& hyp);
int64_t edit_distance(const std::vector<std::string>& ref, const std::vector<std::string>& hyp);

// The whitespace-separated words of a string.
std::vector<std::string> split_words(const std::string& text);

// Corpus word / character error rate: sum of edit distances over the total reference length (words, or
// Unicode code points, spaces included). refs and hyps
// pair up one to one; an empty corpus reference gives 0 when every hypothesis is empty too, else infinity.
double word_error_rate(const std::vector<std::string>& refs, const std::vector<std::string>& hyps);
double char_error_rate(const std::vector<std::string>& refs, const std::vector<std::string>& hyps);

}  // namespace tg::nn
