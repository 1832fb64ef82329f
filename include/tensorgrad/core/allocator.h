#pragma once
// Every tensor byte goes through an Allocator, so current and peak bytes are always known
// (gradient checkpointing proves its savings with them; the profiler reports them).
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace tg {

struct AllocatorStats {
  int64_t current_bytes = 0;
  int64_t peak_bytes = 0;
  int64_t allocations = 0;  // number of allocate() calls since start
  int64_t cached_bytes = 0;  // freed blocks kept for reuse (not counted in current_bytes)
};

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t nbytes) = 0;
  virtual void deallocate(void* ptr, size_t nbytes) = 0;
  virtual AllocatorStats stats() const = 0;
  // Sets the peak to the current usage, so a later peak measures one region of code.
  virtual void reset_peak() = 0;
  // Returns the blocks kept for reuse to the system.
  virtual void empty_cache() {}
  // Whether freed blocks are kept for reuse (a documented setting; on by default, off under AddressSanitizer
  // so a use after free is still caught). Turning it off empties the cache.
  virtual void set_caching(bool) {}
  virtual bool caching() const { return false; }
};

// The process-wide CPU allocator: 64-byte aligned (a cache line, and an AVX-512 register) blocks, with freed
// blocks cached by size for reuse. current/peak bytes count what tensors hold, not the cache.
Allocator& cpu_allocator();

}  // namespace tg
