#include <tensorgrad/base/error.h>

#include <cstring>

namespace tg::detail {

void fail(const char* file, int line, const std::string& message) {
  // Keep paths short and stable: report from the project's src/ or include/ down.
  const char* shown = file;
  for (const char* marker : {"/src/", "/include/", "/tests/", "/examples/"}) {
    if (const char* at = std::strstr(file, marker)) {
      shown = at + 1;
      break;
    }
  }
  throw Error(message + " (at " + shown + ":" + std::to_string(line) + ")");
}

}  // namespace tg::detail
