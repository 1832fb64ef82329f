// Reading and writing the GEMM tune file (see gemm_tuning.h).
#include "gemm_tuning.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include <tensorgrad/base/error.h>

namespace tg::kernels::cpu {

namespace {

constexpr const char* kFormat = "tensorgrad-gemm-tune";
constexpr int kVersion = 1;
// Beyond these a pack buffer would need gigabytes: such a file is a mistake, not a tuning.
constexpr int64_t kMaxMc = 1 << 14, kMaxKc = 1 << 14, kMaxNc = 1 << 20;

using nlohmann::json;

int64_t read_size(const json& entry, const char* key, int64_t max, const std::string& where) {
  TG_CHECK(entry.contains(key), where, ": missing \"", key, "\"");
  const json& v = entry.at(key);
  TG_CHECK(v.is_number_integer(), where, ": \"", key, "\" must be an integer, got ", v.dump());
  const int64_t x = v.get<int64_t>();
  TG_CHECK(x >= 1 && x <= max, where, ": \"", key, "\" = ", x, " is outside [1, ", max, "]");
  return x;
}

std::optional<GemmTuneEntry> read_entry(const json& root, const char* dtype, const std::string& path) {
  if (!root.contains(dtype)) return std::nullopt;
  const json& e = root.at(dtype);
  const std::string where = "GEMM tune file " + path + ", entry \"" + dtype + "\"";
  TG_CHECK(e.is_object(), where, ": expected an object, got ", e.dump());
  TG_CHECK(e.contains("kernel") && e.at("kernel").is_string(), where, ": \"kernel\" must be a micro-kernel name");
  GemmTuneEntry out;
  out.kernel = e.at("kernel").get<std::string>();
  out.blocking.mc = read_size(e, "mc", kMaxMc, where);
  out.blocking.kc = read_size(e, "kc", kMaxKc, where);
  out.blocking.nc = read_size(e, "nc", kMaxNc, where);
  if (e.contains("gflops") && e.at("gflops").is_number()) out.gflops = e.at("gflops").get<double>();
  return out;
}

json write_entry(const GemmTuneEntry& e) {
  return {{"kernel", e.kernel}, {"mc", e.blocking.mc}, {"kc", e.blocking.kc}, {"nc", e.blocking.nc}, {"gflops", e.gflops}};
}

}  // namespace

std::string gemm_tune_file_path() {
  if (const char* explicit_path = std::getenv("TG_GEMM_TUNE_FILE")) return explicit_path;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0')
    return std::string(xdg) + "/tensorgrad/gemm.json";
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
    return std::string(home) + "/.cache/tensorgrad/gemm.json";
  return {};
}

bool gemm_tune_file_path_is_explicit() { return std::getenv("TG_GEMM_TUNE_FILE") != nullptr; }

GemmTuneFile read_gemm_tune_file(const std::string& path) {
  std::ifstream in(path);
  TG_CHECK(in.good(), "GEMM tune file ", path, ": cannot be opened");
  json root;
  try {
    root = json::parse(in);
  } catch (const json::exception& e) {
    TG_FAIL("GEMM tune file ", path, ": not valid JSON (", e.what(), ")");
  }
  TG_CHECK(root.is_object() && root.value("format", std::string()) == kFormat, "GEMM tune file ", path,
           ": not a tensorgrad GEMM tune file (expected \"format\": \"", kFormat, "\")");
  TG_CHECK(root.contains("version") && root.at("version") == kVersion, "GEMM tune file ", path,
           ": unsupported version ", root.contains("version") ? root.at("version").dump() : "(none)", ", expected ",
           kVersion, " (re-run tensorgrad-tune gemm)");
  GemmTuneFile file;
  if (root.contains("cpu") && root.at("cpu").is_string()) file.cpu = root.at("cpu").get<std::string>();
  file.f32 = read_entry(root, "float32", path);
  file.f64 = read_entry(root, "float64", path);
  return file;
}

void write_gemm_tune_file(const std::string& path, const GemmTuneFile& file) {
  TG_CHECK(!path.empty(), "GEMM tune file: no path (TG_GEMM_TUNE_FILE is empty and HOME is not set)");
  json root = {{"format", kFormat}, {"version", kVersion}, {"cpu", file.cpu}};
  if (file.f32) root["float32"] = write_entry(*file.f32);
  if (file.f64) root["float64"] = write_entry(*file.f64);
  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  TG_CHECK(!ec, "GEMM tune file ", path, ": cannot create ", parent.string(), " (", ec.message(), ")");
  std::ofstream out(path);
  out << root.dump(2) << "\n";
  out.close();
  TG_CHECK(out.good(), "GEMM tune file ", path, ": cannot be written");
}

template <class T>
MicroKernel<T> tuned_micro_kernel(const std::vector<MicroKernel<T>>& available, const GemmTuneEntry& entry) {
  TG_CHECK(entry.blocking.mc >= 1 && entry.blocking.mc <= kMaxMc && entry.blocking.kc >= 1 &&
               entry.blocking.kc <= kMaxKc && entry.blocking.nc >= 1 && entry.blocking.nc <= kMaxNc,
           "GEMM tuning: blocking MC ", entry.blocking.mc, " KC ", entry.blocking.kc, " NC ", entry.blocking.nc,
           " out of range");
  std::string names;
  for (const MicroKernel<T>& k : available) {
    if (entry.kernel == k.name) {
      MicroKernel<T> out = k;
      out.blocking = entry.blocking;
      return out;
    }
    names += std::string(names.empty() ? "" : ", ") + k.name;
  }
  TG_FAIL("GEMM tuning: micro-kernel \"", entry.kernel, "\" is not available on this CPU (", dtype_name(dtype_of<T>()),
          " has: ", names, ")");
}

template <class T>
MicroKernel<T> choose_micro_kernel(const std::vector<MicroKernel<T>>& available, const char* kernel_env,
                                   const std::string& tune_path, bool report_missing_file, std::string* message) {
  message->clear();
  MicroKernel<T> chosen = available.back();
  if (kernel_env != nullptr)
    for (const MicroKernel<T>& k : available)
      if (std::string(kernel_env) == k.name) chosen = k;
  if (tune_path.empty()) return chosen;
  std::error_code ec;
  if (!std::filesystem::exists(tune_path, ec)) {
    if (report_missing_file) *message = "GEMM tune file " + tune_path + " does not exist; using built-in blocking";
    return chosen;
  }
  try {
    const GemmTuneFile file = read_gemm_tune_file(tune_path);
    const std::optional<GemmTuneEntry>& entry = file.entry<T>();
    if (!entry) return chosen;
    if (kernel_env != nullptr && entry->kernel != kernel_env) return chosen;  // TG_GEMM_KERNEL wins
    try {
      return tuned_micro_kernel(available, *entry);
    } catch (const Error& e) {
      *message = "GEMM tune file " + tune_path + ": " + e.what() + "; ignoring it";
      return chosen;
    }
  } catch (const Error& e) {
    *message = std::string(e.what()) + "; ignoring it";
  } catch (const std::exception& e) {
    *message = "GEMM tune file " + tune_path + ": " + e.what() + "; ignoring it";
  }
  return chosen;
}

template MicroKernel<float> tuned_micro_kernel(const std::vector<MicroKernel<float>>&, const GemmTuneEntry&);
template MicroKernel<double> tuned_micro_kernel(const std::vector<MicroKernel<double>>&, const GemmTuneEntry&);
template MicroKernel<float> choose_micro_kernel(const std::vector<MicroKernel<float>>&, const char*, const std::string&,
                                                bool, std::string*);
template MicroKernel<double> choose_micro_kernel(const std::vector<MicroKernel<double>>&, const char*,
                                                 const std::string&, bool, std::string*);

}  // namespace tg::kernels::cpu
