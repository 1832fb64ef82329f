// Recording: the process-wide on/off switch, and each thread's buffer for the running session. Opening or
// closing an event touches only the calling thread's buffer; the registry lock is taken once per thread
// per session.
#include "session.h"

#include <chrono>

#include <tensorgrad/base/error.h>

namespace tg::profiler::detail {

std::atomic<bool> g_profiling{false};

namespace {

std::atomic<DeviceTimer*> g_device_timer{nullptr};

std::mutex g_registry_mutex;
std::atomic<uint64_t> g_session{0};  // id of the running (or last) session; written under g_registry_mutex
std::vector<std::shared_ptr<ThreadBuffer>> g_buffers;  // the running session's buffers
std::atomic<uint32_t> g_next_thread{0};

uint32_t this_thread_number() {
  thread_local const uint32_t number = g_next_thread.fetch_add(1, std::memory_order_relaxed) + 1;
  return number;
}

struct ThreadState {
  std::shared_ptr<ThreadBuffer> buffer;
  uint64_t session = 0;
  ~ThreadState();
};
// Trivially destructible, so still readable while other thread_locals (which may free tensors) are destroyed.
thread_local bool t_state_destroyed = false;
ThreadState::~ThreadState() { t_state_destroyed = true; }

ThreadState* thread_state() {
  if (t_state_destroyed) return nullptr;
  thread_local ThreadState state;
  return &state;
}

// The calling thread's buffer in the running session, registered on first use; null when no session runs.
ThreadBuffer* current_buffer(ThreadState& state) {
  std::lock_guard lock(g_registry_mutex);
  if (!g_profiling.load(std::memory_order_relaxed)) return nullptr;
  if (state.session != g_session || !state.buffer) {
    state.buffer = std::make_shared<ThreadBuffer>();
    state.buffer->thread = this_thread_number();
    state.session = g_session;
    g_buffers.push_back(state.buffer);
  }
  return state.buffer.get();
}

// Fast path without the registry lock: the thread's buffer belongs to the running session.
ThreadBuffer* buffer_for_recording(ThreadState& state) {
  if (state.buffer && state.session == g_session.load(std::memory_order_acquire)) return state.buffer.get();
  return current_buffer(state);
}

}  // namespace

int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

uint64_t begin_session() {
  std::lock_guard lock(g_registry_mutex);
  TG_CHECK(!g_profiling.load(), "tg::profiler::Profile: another Profile is already running (one at a time)");
  const uint64_t session = g_session.load() + 1;
  g_buffers.clear();
  g_session.store(session, std::memory_order_release);
  g_profiling.store(true, std::memory_order_release);
  return session;
}

std::vector<std::shared_ptr<ThreadBuffer>> end_session(uint64_t session) {
  std::lock_guard lock(g_registry_mutex);
  if (session != g_session || !g_profiling.load()) return {};
  g_profiling.store(false, std::memory_order_release);
  return std::move(g_buffers);
}

OpenedEvent open_event(EventInfo&& info) {
  ThreadState* state = thread_state();
  if (state == nullptr) return {};
  ThreadBuffer* buffer = buffer_for_recording(*state);
  if (buffer == nullptr) return {};
  std::lock_guard lock(buffer->mutex);
  const auto index = static_cast<int64_t>(buffer->events.size());
  RawEvent& e = buffer->events.emplace_back();
  e.info = std::move(info);
  e.parent = buffer->open.empty() ? -1 : buffer->open.back();
  buffer->open.push_back(index);
  if (e.info.kind != EventKind::User)
    if (DeviceTimer* timer = g_device_timer.load(std::memory_order_acquire)) e.device_start = timer->mark();
  e.start_ns = now_ns();  // last, so the bookkeeping above is not charged to the event
  return {index, state->session};
}

void close_event(OpenedEvent opened) noexcept {
  const int64_t end = now_ns();
  ThreadState* state = thread_state();
  if (state == nullptr || !state->buffer || state->session != opened.session) return;
  ThreadBuffer& buffer = *state->buffer;
  std::lock_guard lock(buffer.mutex);
  if (buffer.open.empty() || buffer.open.back() != opened.index) return;  // cannot happen with RAII scopes
  buffer.open.pop_back();
  RawEvent& e = buffer.events[static_cast<size_t>(opened.index)];
  e.end_ns = end;
  if (e.parent >= 0) buffer.events[static_cast<size_t>(e.parent)].children_ns += end - e.start_ns;
  if (e.device_start >= 0)
    if (DeviceTimer* timer = g_device_timer.load(std::memory_order_acquire)) e.device_end = timer->mark();
}

void record_memory(int64_t allocated, int64_t freed) noexcept {
  ThreadState* state = thread_state();
  if (state == nullptr) return;
  ThreadBuffer* buffer = nullptr;
  try {
    buffer = buffer_for_recording(*state);
  } catch (...) {  // out of memory registering the buffer: drop the record rather than fail a free
    return;
  }
  if (buffer == nullptr) return;
  std::lock_guard lock(buffer->mutex);
  buffer->bytes_allocated += allocated;
  buffer->bytes_freed += freed;
  if (!buffer->open.empty()) {
    RawEvent& e = buffer->events[static_cast<size_t>(buffer->open.back())];
    e.bytes_allocated += allocated;
    e.bytes_freed += freed;
  }
}

}  // namespace tg::profiler::detail

namespace tg::profiler {

void set_device_timer(DeviceTimer* timer) noexcept { detail::g_device_timer.store(timer, std::memory_order_release); }
DeviceTimer* device_timer() noexcept { return detail::g_device_timer.load(std::memory_order_acquire); }

}  // namespace tg::profiler
