#pragma once
// The model's output alphabet: the CTC blank (0), space, apostrophe and a-z (29 classes).
#include <cstdint>
#include <string>
#include <vector>

namespace tg::asr {

inline constexpr int64_t kBlank = 0;
inline constexpr int64_t kClasses = 29;

// Text -> class ids; a character outside the alphabet is a tg::Error naming it and the text.
std::vector<int64_t> encode(const std::string& text);
// Class ids (no blanks) -> text.
std::string decode(const std::vector<int64_t>& ids);

}  // namespace tg::asr
