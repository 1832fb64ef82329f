// KeyAverages::table: the per-op summary in torch.profiler's layout.
#include <tensorgrad/profiler/profile.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <sstream>

#include <tensorgrad/base/error.h>

namespace tg::profiler {

namespace {

std::string format(const char* fmt, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, value);
  return buf;
}

std::string format_time(int64_t ns) {
  const double us = static_cast<double>(ns) / 1e3;
  if (std::abs(us) >= 1e6) return format("%.3fs", us / 1e6);
  if (std::abs(us) >= 1e3) return format("%.3fms", us / 1e3);
  return format("%.3fus", us);
}

std::string format_bytes(int64_t bytes) {
  const double b = static_cast<double>(bytes);
  if (std::abs(b) >= 1024.0 * 1024 * 1024) return format("%.2f GiB", b / (1024.0 * 1024 * 1024));
  if (std::abs(b) >= 1024.0 * 1024) return format("%.2f MiB", b / (1024.0 * 1024));
  if (std::abs(b) >= 1024.0) return format("%.2f KiB", b / 1024.0);
  return std::to_string(bytes) + " B";
}

std::string percent(int64_t part, int64_t whole) {
  return format("%.2f%%", whole > 0 ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0);
}

using SortKey = std::function<double(const OpStats&)>;

SortKey sort_key(const std::string& name) {
  if (name == "self_cpu_time_total") return [](const OpStats& r) { return static_cast<double>(r.self_ns); };
  if (name == "cpu_time_total") return [](const OpStats& r) { return static_cast<double>(r.total_ns); };
  if (name == "cpu_time_avg") return [](const OpStats& r) { return static_cast<double>(r.avg_ns()); };
  if (name == "count") return [](const OpStats& r) { return static_cast<double>(r.count); };
  if (name == "self_cpu_memory_usage") return [](const OpStats& r) { return static_cast<double>(r.self_memory()); };
  if (name == "flops") return [](const OpStats& r) { return static_cast<double>(r.flops); };
  if (name == "self_device_time_total" || name == "self_cuda_time_total")
    return [](const OpStats& r) { return static_cast<double>(r.self_device_ns); };
  if (name == "device_time_total" || name == "cuda_time_total")
    return [](const OpStats& r) { return static_cast<double>(r.device_ns); };
  TG_FAIL("tg::profiler::KeyAverages::table: unknown sort_by \"", name,
          "\"; use self_cpu_time_total, cpu_time_total, cpu_time_avg, self_device_time_total, device_time_total, "
          "count, self_cpu_memory_usage or flops");
}

}  // namespace

std::string KeyAverages::table(const std::string& sort_by, int row_limit) const {
  const SortKey key = sort_key(sort_by);
  std::vector<const OpStats*> sorted;
  for (const OpStats& r : rows_) sorted.push_back(&r);
  std::stable_sort(sorted.begin(), sorted.end(), [&](const OpStats* a, const OpStats* b) { return key(*a) > key(*b); });
  if (row_limit > 0 && sorted.size() > static_cast<size_t>(row_limit)) sorted.resize(static_cast<size_t>(row_limit));

  constexpr size_t kMaxName = 48;
  size_t name_width = 4;
  for (const OpStats* r : sorted) name_width = std::max(name_width, std::min(r->name.size(), kMaxName));
  const bool timed_on_device = !device_.empty();
  std::vector<std::string> headers{"Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"};
  if (timed_on_device)
    for (const char* h : {"Self %s", "Self %s %%", "%s total", "%s time avg"}) {
      char buf[48];
      std::snprintf(buf, sizeof buf, h, device_.c_str());
      headers.emplace_back(buf);
    }
  for (const char* h : {"Self Mem", "# of Calls", "GFLOP/s"}) headers.emplace_back(h);
  constexpr int kColumn = 12;
  std::ostringstream out;
  auto rule = [&] {
    out << std::string(name_width, '-');
    for (size_t i = 0; i < headers.size(); ++i) out << "  " << std::string(kColumn, '-');
    if (by_input_shape_) out << "  " << std::string(kColumn * 3, '-');
    out << '\n';
  };
  auto cell = [&](const std::string& s) {
    out << "  " << std::string(s.size() < kColumn ? kColumn - s.size() : 0, ' ') << s;
  };
  rule();
  out << "Name" << std::string(name_width - 4, ' ');
  for (const auto& h : headers) cell(h);
  if (by_input_shape_) out << "  Input Shapes";
  out << '\n';
  rule();
  for (const OpStats* r : sorted) {
    std::string name = r->name.size() > kMaxName ? r->name.substr(0, kMaxName - 3) + "..." : r->name;
    out << name << std::string(name_width - name.size(), ' ');
    cell(percent(r->self_ns, self_total_ns_));
    cell(format_time(r->self_ns));
    cell(percent(r->total_ns, self_total_ns_));
    cell(format_time(r->total_ns));
    cell(format_time(r->avg_ns()));
    if (timed_on_device) {
      cell(format_time(r->self_device_ns));
      cell(percent(r->self_device_ns, self_device_total_ns_));
      cell(format_time(r->device_ns));
      cell(format_time(r->avg_device_ns()));
    }
    cell(format_bytes(r->self_memory()));
    cell(std::to_string(r->count));
    cell(r->flops > 0 ? format("%.2f", r->gflops_per_second()) : "--");
    if (by_input_shape_) out << "  " << r->input_shapes;
    out << '\n';
  }
  rule();
  out << "Self CPU time total: " << format_time(self_total_ns_) << '\n';
  if (timed_on_device) out << "Self " << device_ << " time total: " << format_time(self_device_total_ns_) << '\n';
  return out.str();
}

}  // namespace tg::profiler
