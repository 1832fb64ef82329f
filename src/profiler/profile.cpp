// Profile: starts a session, and at stop() turns each thread's raw events into Events with self times.
#include <tensorgrad/profiler/profile.h>

#include <algorithm>
#include <map>
#include <tuple>

#include <tensorgrad/base/error.h>

#include "session.h"

namespace tg::profiler {

const char* kind_name(EventKind kind) {
  switch (kind) {
    case EventKind::Op: return "op";
    case EventKind::Backward: return "backward";
    case EventKind::User: return "user";
  }
  return "?";
}

Profile::Profile() {
  start_ns_ = detail::now_ns();  // before recording starts, so no event starts earlier
  session_ = detail::begin_session();
  running_ = true;
}

Profile::~Profile() {
  if (running_) stop();
}

void Profile::stop() {
  if (!running_) return;
  auto buffers = detail::end_session(session_);
  running_ = false;
  int64_t end = detail::now_ns();
  DeviceTimer* timer = device_timer();
  std::sort(buffers.begin(), buffers.end(), [](const auto& a, const auto& b) { return a->thread < b->thread; });
  for (const auto& buffer : buffers) {
    std::lock_guard lock(buffer->mutex);
    bytes_allocated_ += buffer->bytes_allocated;
    bytes_freed_ += buffer->bytes_freed;
    // Buffer order is start order, so a parent is always converted before its children.
    std::vector<int64_t> global(buffer->events.size(), -1);
    for (size_t i = 0; i < buffer->events.size(); ++i) {
      const detail::RawEvent& raw = buffer->events[i];
      if (raw.end_ns < 0) continue;  // still open: dropped, its finished children become top-level
      Event e;
      e.name = raw.info.name;
      e.kind = raw.info.kind;
      e.input_shapes = raw.info.input_shapes;
      e.input_dtypes = raw.info.input_dtypes;
      e.flops = raw.info.flops;
      e.start_ns = raw.start_ns - start_ns_;
      e.end_ns = raw.end_ns - start_ns_;
      e.thread = buffer->thread;
      e.parent = raw.parent >= 0 ? global[static_cast<size_t>(raw.parent)] : -1;
      e.depth = e.parent >= 0 ? events_[static_cast<size_t>(e.parent)].depth + 1 : 0;
      e.self_ns = raw.end_ns - raw.start_ns - raw.children_ns;
      e.bytes_allocated = raw.bytes_allocated;
      e.bytes_freed = raw.bytes_freed;
      if (timer != nullptr && raw.device_start >= 0 && raw.device_end >= 0) {
        e.device_ns = timer->elapsed_ns(raw.device_start, raw.device_end);  // -1 when the device could not say
        if (e.device_ns >= 0) {
          e.self_device_ns = e.device_ns;
          // The self device time of the nearest enclosing event that has one (user ranges between have none):
          // less this event's, so no device time is counted twice.
          for (int64_t up = e.parent; up >= 0; up = events_[static_cast<size_t>(up)].parent) {
            Event& ancestor = events_[static_cast<size_t>(up)];
            if (ancestor.device_ns < 0) continue;
            ancestor.self_device_ns -= e.device_ns;
            break;
          }
          device_ = timer->name();
        }
      }
      end = std::max(end, raw.end_ns);  // a scope may close between end_session and this copy
      global[i] = static_cast<int64_t>(events_.size());
      events_.push_back(std::move(e));
    }
  }
  if (timer != nullptr) timer->release_all();
  duration_ns_ = end - start_ns_;
}

const std::vector<Event>& Profile::events() const {
  TG_CHECK(!running_, "tg::profiler::Profile::events: the profile is still running; call stop() first");
  return events_;
}

double OpStats::gflops_per_second() const {
  return flops > 0 && total_ns > 0 ? static_cast<double>(flops) / static_cast<double>(total_ns) : 0.0;
}

KeyAverages Profile::key_averages(bool group_by_input_shape) const {
  std::map<std::tuple<std::string, std::string>, size_t> row_of;
  std::vector<OpStats> rows;
  int64_t self_total = 0, self_device_total = 0;
  for (const Event& e : events()) {
    const auto key = std::make_tuple(e.name, group_by_input_shape ? e.input_shapes : std::string());
    auto [it, inserted] = row_of.try_emplace(key, rows.size());
    if (inserted) {
      rows.emplace_back();
      rows.back().name = e.name;
      rows.back().input_shapes = std::get<1>(key);
    }
    OpStats& r = rows[it->second];
    ++r.count;
    r.self_ns += e.self_ns;
    r.total_ns += e.total_ns();
    r.flops += e.flops;
    r.bytes_allocated += e.bytes_allocated;
    r.bytes_freed += e.bytes_freed;
    self_total += e.self_ns;
    if (e.device_ns >= 0) {
      r.device_ns += e.device_ns;
      r.self_device_ns += e.self_device_ns;
      self_device_total += e.self_device_ns;
    }
  }
  return KeyAverages(std::move(rows), self_total, group_by_input_shape, device_, self_device_total);
}

}  // namespace tg::profiler
