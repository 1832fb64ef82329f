#pragma once
// tg::Error and the TG_CHECK macro: every user-facing failure names the op, the offending shapes/dtypes
// and the source location, so a message alone is enough to find the bad call.
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace tg {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

inline void put(std::ostream& os, const std::vector<int64_t>& v) {
  os << '[';
  for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  os << ']';
}
template <class T>
void put(std::ostream& os, const T& v) {
  os << v;
}

template <class... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (put(os, args), ...);
  return os.str();
}

[[noreturn]] void fail(const char* file, int line, const std::string& message);

}  // namespace detail
}  // namespace tg

// TG_CHECK(cond, "tg::op: what went wrong: ", shape_a, " vs ", shape_b);
#define TG_CHECK(cond, ...)                                                         \
  do {                                                                              \
    if (!(cond)) ::tg::detail::fail(__FILE__, __LINE__, ::tg::detail::concat(__VA_ARGS__)); \
  } while (0)

#define TG_FAIL(...) ::tg::detail::fail(__FILE__, __LINE__, ::tg::detail::concat(__VA_ARGS__))
