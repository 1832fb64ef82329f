// The alphabet (vocabulary.h).
#include "vocabulary.h"

#include <tensorgrad/base/error.h>

namespace tg::asr {

std::vector<int64_t> encode(const std::string& text) {
  std::vector<int64_t> ids;
  ids.reserve(text.size());
  for (char c : text) {
    if (c == ' ') ids.push_back(1);
    else if (c == '\'') ids.push_back(2);
    else if (c >= 'a' && c <= 'z') ids.push_back(3 + (c - 'a'));
    else TG_FAIL("tg_asr: the character '", c, "' of \"", text, "\" is outside the alphabet (a-z, space, apostrophe)");
  }
  return ids;
}

std::string decode(const std::vector<int64_t>& ids) {
  std::string text;
  for (int64_t id : ids) {
    TG_CHECK(id > kBlank && id < kClasses, "tg_asr: class id ", id, " is not a character");
    text += id == 1 ? ' ' : id == 2 ? '\'' : static_cast<char>('a' + (id - 3));
  }
  return text;
}

}  // namespace tg::asr
