#pragma once
// GEMM autotuning results as data: which micro-kernel and which blocking (MC, KC, NC) to use per dtype, kept in
// a JSON cache file that `tensorgrad-tune gemm` writes and the library reads at its first GEMM.
//
// Where: $TG_GEMM_TUNE_FILE when set (set it empty to ignore every tune file), else
// $XDG_CACHE_HOME/tensorgrad/gemm.json, else $HOME/.cache/tensorgrad/gemm.json.
// Format (either dtype entry may be missing; "gflops" and "cpu" are informational):
//   {"format": "tensorgrad-gemm-tune", "version": 1, "cpu": "AMD EPYC ...",
//    "float32": {"kernel": "avx512", "mc": 120, "kc": 256, "nc": 4096, "gflops": 101.3},
//    "float64": {"kernel": "avx512", "mc": 96, "kc": 192, "nc": 4096}}
// A file that cannot be read, is not that format, or names a micro-kernel this CPU cannot run is ignored with
// one message on stderr naming the file and the problem; the built-in choice is used then. It never throws out
// of the GEMM.
#include <optional>
#include <string>
#include <vector>

#include "gemm.h"

namespace tg::kernels::cpu {

struct GemmTuneEntry {
  std::string kernel;  // a MicroKernel name: generic, avx2, avx512
  GemmBlocking blocking;
  double gflops = 0;  // what the tuner measured with it (informational)
};

struct GemmTuneFile {
  std::string cpu;
  std::optional<GemmTuneEntry> f32, f64;

  template <class T>
  const std::optional<GemmTuneEntry>& entry() const {
    if constexpr (sizeof(T) == sizeof(float)) return f32;
    else return f64;
  }
};

// The path to read and write (see above); empty when $TG_GEMM_TUNE_FILE is set to "".
std::string gemm_tune_file_path();
// True when the path came from $TG_GEMM_TUNE_FILE (so a missing file deserves a message).
bool gemm_tune_file_path_is_explicit();

// Throws tg::Error naming the file and what is wrong with it.
GemmTuneFile read_gemm_tune_file(const std::string& path);
// Creates the parent directories; throws tg::Error when the file cannot be written.
void write_gemm_tune_file(const std::string& path, const GemmTuneFile& file);

// The micro-kernel `entry` names, from `available`, with the entry's blocking. Throws tg::Error when this CPU
// has no such kernel or the blocking is out of range.
template <class T>
MicroKernel<T> tuned_micro_kernel(const std::vector<MicroKernel<T>>& available, const GemmTuneEntry& entry);

// The library's choice (default_micro_kernel): the best of `available`; then the kernel named by `kernel_env`
// ($TG_GEMM_KERNEL) if given and available; then the tune file at `tune_path` if it exists and agrees with
// kernel_env. Problems with the file go to *message (empty when none) and leave the earlier choice.
template <class T>
MicroKernel<T> choose_micro_kernel(const std::vector<MicroKernel<T>>& available, const char* kernel_env,
                                   const std::string& tune_path, bool report_missing_file, std::string* message);

}  // namespace tg::kernels::cpu
