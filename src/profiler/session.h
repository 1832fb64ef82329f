#pragma once
// Shared by the recording side (session.cpp) and the reading side (profile.cpp): per-thread event buffers
// of one profiling session.
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include <tensorgrad/profiler/record.h>

namespace tg::profiler::detail {

struct RawEvent {
  EventInfo info;
  int64_t start_ns = 0;  // steady_clock, absolute
  int64_t end_ns = -1;   // -1 while open
  int64_t parent = -1;   // index in the same buffer
  int64_t children_ns = 0;
  int64_t bytes_allocated = 0;
  int64_t bytes_freed = 0;
  int64_t device_start = -1, device_end = -1;  // DeviceTimer marks of ops and backward nodes; -1: none
};

// One thread's events in one session. Only its thread appends; the mutex (uncontended while recording)
// orders those writes against the collection in Profile::stop.
struct ThreadBuffer {
  std::mutex mutex;
  uint32_t thread = 0;
  std::vector<RawEvent> events;
  std::vector<int64_t> open;  // indices of the open events, innermost last
  int64_t bytes_allocated = 0;
  int64_t bytes_freed = 0;
};

int64_t now_ns() noexcept;
// Starts a session (throws tg::Error if one is running) and returns its id.
uint64_t begin_session();
// Stops the session and hands over every buffer that took part in it.
std::vector<std::shared_ptr<ThreadBuffer>> end_session(uint64_t session);

}  // namespace tg::profiler::detail
