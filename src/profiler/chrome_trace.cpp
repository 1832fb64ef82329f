// Profile::export_chrome_trace: the trace-event JSON format read by Perfetto and chrome://tracing.
// Written by hand (the profiler depends on base only); strings are escaped per RFC 8259.
#include <tensorgrad/profiler/profile.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <set>

#include <tensorgrad/base/error.h>

namespace tg::profiler {

namespace {

void put_string(std::ostream& out, const std::string& s) {
  out << '"';
  for (const char c : s) {
    switch (c) {
      case '"': out << "\\\""; break;
      case '\\': out << "\\\\"; break;
      case '\n': out << "\\n"; break;
      case '\t': out << "\\t"; break;
      case '\r': out << "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out << buf;
        } else {
          out << c;
        }
    }
  }
  out << '"';
}

// Microseconds with nanosecond digits: the unit trace-event timestamps use.
std::string micros(int64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(ns) / 1e3);
  return buf;
}

const char* category(EventKind kind) {
  switch (kind) {
    case EventKind::Op: return "cpu_op";
    case EventKind::Backward: return "backward";
    case EventKind::User: return "user_annotation";
  }
  return "?";
}

}  // namespace

void Profile::export_chrome_trace(const std::string& path) const {
  const auto& all = events();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  TG_CHECK(out.good(), "tg::profiler::Profile::export_chrome_trace: cannot open ", path, " for writing");
  const long pid = static_cast<long>(::getpid());
  out << "{\"displayTimeUnit\": \"ms\", \"traceEvents\": [\n";
  std::set<uint32_t> threads;
  bool first = true;
  for (const Event& e : all) {
    threads.insert(e.thread);
    out << (first ? "" : ",\n") << "{\"ph\": \"X\", \"name\": ";
    first = false;
    put_string(out, e.name);
    out << ", \"cat\": \"" << category(e.kind) << "\", \"pid\": " << pid << ", \"tid\": " << e.thread
        << ", \"ts\": " << micros(e.start_ns) << ", \"dur\": " << micros(e.total_ns()) << ", \"args\": {";
    out << "\"Self time (us)\": " << micros(e.self_ns);
    if (!e.input_shapes.empty()) {
      out << ", \"Input Dims\": ";
      put_string(out, e.input_shapes);
      out << ", \"Input type\": ";
      put_string(out, e.input_dtypes);
    }
    if (e.flops > 0) out << ", \"FLOPs\": " << e.flops;
    if (e.device_ns >= 0) out << ", \"Device time (us)\": " << micros(e.device_ns);
    if (e.bytes_allocated || e.bytes_freed)
      out << ", \"Self bytes allocated\": " << e.bytes_allocated << ", \"Self bytes freed\": " << e.bytes_freed;
    out << "}}";
  }
  for (uint32_t t : threads) {
    out << (first ? "" : ",\n") << "{\"ph\": \"M\", \"name\": \"thread_name\", \"pid\": " << pid
        << ", \"tid\": " << t << ", \"args\": {\"name\": \"thread " << t << "\"}}";
    first = false;
  }
  out << "\n]}\n";
  out.flush();
  TG_CHECK(out.good(), "tg::profiler::Profile::export_chrome_trace: writing ", path, " failed");
}

}  // namespace tg::profiler
