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
};

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t nbytes) = 0;
  virtual void deallocate(void* ptr, size_t nbytes) = 0;
  virtual AllocatorStats stats() const = 0;
  // Sets the peak to the current usage, so a later peak measures one region of code.
  virtual void reset_peak() = 0;
};

// The process-wide CPU allocator: 64-byte aligned (a cache line, and an AVX-512 register) blocks.
Allocator& cpu_allocator();

}  // namespace tg
