#pragma once
// The recording side of the profiler: what hot code includes. A RecordScope is an RAII range that becomes
// one event while a Profile is running (see profile.h). When none is running, opening a scope costs one
// relaxed atomic load; when the build sets TG_PROFILER=OFF the TG_PROFILE_* macros expand to nothing.
#include <atomic>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

#ifndef TG_PROFILER_ENABLED
#define TG_PROFILER_ENABLED 1
#endif

namespace tg::profiler {

enum class EventKind : uint8_t {
  Op,        // a tensor op (forward)
  Backward,  // an autograd node applying its VJP, named "<forward op>_backward"
  User,      // a TG_PROFILE_SCOPE range
};

// What a scope says about itself when it opens, filled in only while profiling.
struct EventInfo {
  std::string name;
  EventKind kind = EventKind::Op;
  std::string input_shapes;  // e.g. "[[64, 784], [784, 256]]"; empty for user ranges
  std::string input_dtypes;  // e.g. "float32, float32"
  int64_t flops = 0;         // floating-point operations of the whole op (its children included); 0: not counted
};

// A device's clock, for the profiler's device-time columns (the CUDA backend registers one when it starts):
// mark() queues a timestamp behind the work queued on the device so far and returns a handle (-1: none);
// elapsed_ns() waits for two marks and gives the device time between them; release_all() ends a session's
// marks. An op's device time is thus the time from the device reaching its first mark to reaching its last:
// its kernels, and any gap in which the device waited for the host inside the op.
class DeviceTimer {
 public:
  virtual ~DeviceTimer() = default;
  virtual const char* name() const = 0;  // the columns' name, e.g. "CUDA"
  virtual int64_t mark() noexcept = 0;
  virtual int64_t elapsed_ns(int64_t from, int64_t to) = 0;
  virtual void release_all() noexcept = 0;
};
// A documented setting: the timer events are marked with while profiling (null: none; the last one set wins).
void set_device_timer(DeviceTimer* timer) noexcept;
DeviceTimer* device_timer() noexcept;

namespace detail {
// True while a Profile is running. The one process-wide switch, read with a relaxed load on every op.
extern std::atomic<bool> g_profiling;
struct OpenedEvent {
  int64_t index = -1;  // position in the opening thread's buffer
  uint64_t session = 0;
};
OpenedEvent open_event(EventInfo&& info);
void close_event(OpenedEvent opened) noexcept;
void record_memory(int64_t allocated, int64_t freed) noexcept;
}  // namespace detail

inline bool is_enabled() noexcept { return detail::g_profiling.load(std::memory_order_relaxed); }

// Whether this build records anything (CMake option TG_PROFILER).
constexpr bool compiled_in() noexcept { return TG_PROFILER_ENABLED != 0; }

// An RAII range. `describe(EventInfo&)` runs only while profiling, before the start time is taken, so
// formatting input shapes is not charged to the op itself.
class RecordScope {
 public:
  template <class Describe>
    requires std::is_invocable_v<Describe&, EventInfo&>
  explicit RecordScope(Describe&& describe) {
    if (is_enabled()) [[unlikely]] {
      EventInfo info;
      describe(info);
      opened_ = detail::open_event(std::move(info));
    }
  }
  // A user range.
  explicit RecordScope(const char* name) {
    if (is_enabled()) [[unlikely]]
      opened_ = detail::open_event(EventInfo{name, EventKind::User, {}, {}, 0});
  }
  ~RecordScope() {
    if (opened_.index >= 0) [[unlikely]] detail::close_event(opened_);
  }
  RecordScope(const RecordScope&) = delete;
  RecordScope& operator=(const RecordScope&) = delete;

 private:
  detail::OpenedEvent opened_;
};

// Storage calls these for every allocator-backed buffer it takes or gives back; while profiling, the bytes
// are charged to the calling thread's innermost open scope.
inline void record_allocation(int64_t nbytes) noexcept {
  if (is_enabled()) [[unlikely]] detail::record_memory(nbytes, 0);
}
inline void record_free(int64_t nbytes) noexcept {
  if (is_enabled()) [[unlikely]] detail::record_memory(0, nbytes);
}

}  // namespace tg::profiler

#define TG_PROFILER_CONCAT_INNER(a, b) a##b
#define TG_PROFILER_CONCAT(a, b) TG_PROFILER_CONCAT_INNER(a, b)

#if TG_PROFILER_ENABLED
// A user range over the rest of the enclosing block: TG_PROFILE_SCOPE("data loading");
#define TG_PROFILE_SCOPE(name) \
  ::tg::profiler::RecordScope TG_PROFILER_CONCAT(tg_profile_scope_, __LINE__) { name }
// A range described by a callable `(tg::profiler::EventInfo&) -> void` (ops and the engine use this).
#define TG_PROFILE_RANGE(...) \
  ::tg::profiler::RecordScope TG_PROFILER_CONCAT(tg_profile_range_, __LINE__) { __VA_ARGS__ }
#define TG_PROFILE_ALLOCATION(nbytes) ::tg::profiler::record_allocation(nbytes)
#define TG_PROFILE_FREE(nbytes) ::tg::profiler::record_free(nbytes)
#else
#define TG_PROFILE_SCOPE(name) static_cast<void>(0)
#define TG_PROFILE_RANGE(...) static_cast<void>(0)
#define TG_PROFILE_ALLOCATION(nbytes) static_cast<void>(0)
#define TG_PROFILE_FREE(nbytes) static_cast<void>(0)
#endif
