#pragma once
// Running a command-line tool from a test: its exit status and everything it printed; and reading a file
// whole. The tool tests (tests/tools/) share these.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace tgtest {

struct CommandResult {
  int status;          // the exit status, -1 when the command did not exit normally
  std::string output;  // stdout and stderr together
};

// Runs `command` through the shell with stderr joined to stdout.
inline CommandResult run_command(const std::string& command) {
  std::FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace tgtest
