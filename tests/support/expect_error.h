#pragma once
// Checks that a call throws tg::Error whose message contains given pieces (a stand-in for GMock's
// EXPECT_THAT(msg, HasSubstr(..)), since the suite links GTest only).
#include <exception>
#include <initializer_list>
#include <string>

#include <gtest/gtest.h>
#include <tensorgrad/base/error.h>

namespace tgtest {

// The tg::Error message thrown by fn, or a bracketed note saying what happened instead.
template <class F>
std::string error_message(F&& fn) {
  try {
    fn();
  } catch (const tg::Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<threw a non-tg::Error exception: ") + e.what() + ">";
  }
  return "<no exception thrown>";
}

inline ::testing::AssertionResult contains_all(const std::string& message, std::initializer_list<std::string> parts) {
  for (const auto& part : parts)
    if (message.find(part) == std::string::npos)
      return ::testing::AssertionFailure() << "message \"" << message << "\" lacks \"" << part << "\"";
  return ::testing::AssertionSuccess();
}

}  // namespace tgtest

// EXPECT_TG_ERROR(tg::matmul(a, b), "tg::matmul", "[2, 3]"): the statement throws tg::Error and its
// message contains every listed piece.
#define EXPECT_TG_ERROR(statement, ...) \
  EXPECT_TRUE(::tgtest::contains_all(::tgtest::error_message([&] { (void)(statement); }), {__VA_ARGS__}))
