#pragma once
// The reading side of the profiler, in the spirit of torch.profiler:
//
//   tg::profiler::Profile prof;            // starts recording
//   ... run some steps ...
//   prof.stop();
//   std::cout << prof.key_averages().table("self_cpu_time_total", 10);
//   prof.export_chrome_trace("trace.json");  // open in https://ui.perfetto.dev or chrome://tracing
//
// Definitions (docs/PROFILING.md explains how to read the table):
//   total time of an event = end - start (wall clock, steady_clock);
//   self time              = total time minus the total times of its direct children (the events opened
//                            and closed on the same thread while it was the innermost open scope);
//   self memory            = bytes allocated minus bytes freed by Storage on that thread while the event
//                            was the innermost open scope.
// Every thread that runs ops while a Profile is running is recorded; OpenMP workers inside one kernel
// are not (they run no ops).
#include <cstdint>
#include <string>
#include <vector>

#include <tensorgrad/profiler/record.h>

namespace tg::profiler {

struct Event {
  std::string name;
  EventKind kind = EventKind::Op;
  std::string input_shapes;
  std::string input_dtypes;
  int64_t start_ns = 0;  // since the Profile started
  int64_t end_ns = 0;
  uint32_t thread = 0;   // small per-process thread number (1, 2, ... in order of first use)
  int64_t parent = -1;   // index into Profile::events() of the enclosing event on the same thread, or -1
  int depth = 0;         // 0 for events with no parent
  int64_t flops = 0;
  int64_t self_ns = 0;
  int64_t bytes_allocated = 0;  // self: while this event was the innermost open scope
  int64_t bytes_freed = 0;
  // Device time (a DeviceTimer was registered, e.g. by the CUDA backend): of the event, and less the device
  // times of the events nested in it whose nearest enclosing device-timed event it is; -1 when the event has
  // none (user ranges, no device timer, or a reading the device could not give).
  int64_t device_ns = -1;
  int64_t self_device_ns = -1;

  int64_t total_ns() const { return end_ns - start_ns; }
};

// One row of key_averages(): every event with the same name (and input shapes, when grouped by them).
struct OpStats {
  std::string name;
  std::string input_shapes;  // only when grouped by input shape
  int64_t count = 0;
  int64_t self_ns = 0;
  int64_t total_ns = 0;  // sums every call's total: an op nested in itself is counted at every level
  int64_t flops = 0;
  int64_t bytes_allocated = 0;
  int64_t bytes_freed = 0;
  int64_t device_ns = 0;       // summed over the calls with device time
  int64_t self_device_ns = 0;

  int64_t avg_ns() const { return count ? total_ns / count : 0; }
  int64_t avg_device_ns() const { return count ? device_ns / count : 0; }
  int64_t self_memory() const { return bytes_allocated - bytes_freed; }
  // flops / total time, in GFLOP/s; 0 when the op counts no flops.
  double gflops_per_second() const;
};

class KeyAverages {
 public:
  KeyAverages(std::vector<OpStats> rows, int64_t self_total_ns, bool by_input_shape, std::string device = {},
              int64_t self_device_total_ns = 0)
      : rows_(std::move(rows)),
        self_total_ns_(self_total_ns),
        by_input_shape_(by_input_shape),
        device_(std::move(device)),
        self_device_total_ns_(self_device_total_ns) {}

  const std::vector<OpStats>& rows() const { return rows_; }
  // The sum of every event's self time: the denominator of both percentage columns.
  int64_t self_total_ns() const { return self_total_ns_; }

  // The device the events were timed on ("CUDA"), empty when none was.
  const std::string& device() const { return device_; }
  int64_t self_device_total_ns() const { return self_device_total_ns_; }

  // The table torch.profiler prints: Name, Self CPU %, Self CPU, CPU total %, CPU total, CPU time avg, then
  // where a device timed the events Self CUDA, Self CUDA %, CUDA total, CUDA time avg, then Self Mem, # of
  // Calls, GFLOP/s (and Input Shapes when grouped by them), rows sorted descending by `sort_by`:
  // self_cpu_time_total | cpu_time_total | cpu_time_avg | self_device_time_total | device_time_total | count |
  // self_cpu_memory_usage | flops (torch's self_cuda_time_total / cuda_time_total are accepted too).
  // row_limit <= 0 prints every row. Throws tg::Error for an unknown sort key.
  std::string table(const std::string& sort_by = "self_cpu_time_total", int row_limit = 0) const;

 private:
  std::vector<OpStats> rows_;
  int64_t self_total_ns_;
  bool by_input_shape_;
  std::string device_;
  int64_t self_device_total_ns_;
};

// Records every op, backward node and user range on every thread from construction until stop() (or
// destruction). One Profile at a time: starting a second while one runs throws tg::Error.
class Profile {
 public:
  Profile();
  ~Profile();
  Profile(const Profile&) = delete;
  Profile& operator=(const Profile&) = delete;

  // Stops recording and collects the events; later calls do nothing. Events still open at this moment
  // (a scope that outlives the profile) are dropped.
  void stop();
  bool running() const { return running_; }

  // The finished events, ordered by (thread, start); parents come before their children.
  const std::vector<Event>& events() const;
  // From construction to stop().
  int64_t duration_ns() const { return duration_ns_; }
  // Every byte Storage took and gave back on any thread during the profile, whether or not a scope was open.
  int64_t bytes_allocated() const { return bytes_allocated_; }
  int64_t bytes_freed() const { return bytes_freed_; }

  KeyAverages key_averages(bool group_by_input_shape = false) const;
  // Chrome trace-event JSON: one complete ("X") event per recorded event, microsecond timestamps.
  void export_chrome_trace(const std::string& path) const;

 private:
  bool running_ = false;
  uint64_t session_ = 0;
  int64_t start_ns_ = 0;
  int64_t duration_ns_ = 0;
  std::string device_;  // the DeviceTimer's name, when one timed the events
  int64_t bytes_allocated_ = 0;
  int64_t bytes_freed_ = 0;
  std::vector<Event> events_;
};

const char* kind_name(EventKind kind);

}  // namespace tg::profiler
