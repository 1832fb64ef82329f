// Edit distance, WER and CER (see error_rate.h).
#include <tensorgrad/nn/error_rate.h>

#include <algorithm>
#include <limits>
#include <sstream>

#include <tensorgrad/base/error.h>

namespace tg::nn {

namespace {

// One row of the dynamic programme at a time: O(|ref| |hyp|) time, O(|hyp|) memory.
template <class T>
int64_t levenshtein(const std::vector<T>& ref, const std::vector<T>& hyp) {
  std::vector<int64_t> row(hyp.size() + 1);
  for (size_t j = 0; j <= hyp.size(); ++j) row[j] = static_cast<int64_t>(j);
  for (size_t i = 1; i <= ref.size(); ++i) {
    int64_t diagonal = row[0];
    row[0] = static_cast<int64_t>(i);
    for (size_t j = 1; j <= hyp.size(); ++j) {
      const int64_t up = row[j];
      row[j] = std::min({up + 1, row[j - 1] + 1, diagonal + (ref[i - 1] == hyp[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[hyp.size()];
}

// The code points of UTF-8 text (a malformed byte counts as one character).
std::vector<int64_t> code_points(const std::string& text) {
  std::vector<int64_t> out;
  for (size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    const size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 1;
    int64_t cp = len == 1 ? b : b & (0xFF >> (len + 1));
    size_t k = 1;
    for (; k < len && i + k < text.size() && (static_cast<unsigned char>(text[i + k]) >> 6) == 0x2; ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    out.push_back(k == len ? cp : b);
    i += k == len ? len : 1;
  }
  return out;
}

template <class Split>
double error_rate(const std::vector<std::string>& refs, const std::vector<std::string>& hyps, Split split,
                  const char* op) {
  TG_CHECK(refs.size() == hyps.size(), op, ": ", refs.size(), " references but ", hyps.size(), " hypotheses");
  int64_t edits = 0, length = 0;
  for (size_t i = 0; i < refs.size(); ++i) {
    const auto r = split(refs[i]);
    edits += edit_distance(r, split(hyps[i]));
    length += static_cast<int64_t>(r.size());
  }
  if (length == 0) return edits == 0 ? 0.0 : std::numeric_limits<double>::infinity();
  return static_cast<double>(edits) / static_cast<double>(length);
}

}  // namespace

int64_t edit_distance(const std::vector<int64_t>& ref, const std::vector<int64_t>& hyp) { return levenshtein(ref, hyp); }
int64_t edit_distance(const std::vector<std::string>& ref, const std::vector<std::string>& hyp) {
  return levenshtein(ref, hyp);
}

std::vector<std::string> split_words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

double word_error_rate(const std::vector<std::string>& refs, const std::vector<std::string>& hyps) {
  return error_rate(refs, hyps, split_words, "tg::nn::word_error_rate");
}

double char_error_rate(const std::vector<std::string>& refs, const std::vector<std::string>& hyps) {
  return error_rate(refs, hyps, code_points, "tg::nn::char_error_rate");
}

}  // namespace tg::nn
