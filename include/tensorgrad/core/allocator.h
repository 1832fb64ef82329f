#pragma once
// Every tensor byte goes through an Allocator, so current and peak bytes are always known
// (gradient checkpointing proves its savings with them; the profiler reports them).
#include <atomic>
#include <cstddef>
#include <cstdint>

#include <tensorgrad/core/device.h>

namespace tg {

struct AllocatorStats {
  int64_t current_bytes = 0;
  int64_t peak_bytes = 0;
  int64_t allocations = 0;  // number of allocate() calls since start
  int64_t cached_bytes = 0;  // freed blocks kept for reuse (not counted in current_bytes)
};

// One allocator per device type, behind this interface. Besides memory, a device's allocator moves bytes
// between its memory and the host's (as c10::Allocator::copy_data), which is all the core needs to copy a
// tensor across devices, read an item() or print; everything else a device does goes through its kernels.
class Allocator {
 public:
  explicit Allocator(Device device = kCPU) : device_(device) {}
  virtual ~Allocator() = default;
  // Not virtual: read on every allocation.
  Device device() const { return device_; }
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
  // dst (this device) <- src (host memory), and dst (host memory) <- src (this device); nbytes each.
  // Blocking: the bytes are in place when the call returns. The CPU's are memcpy.
  virtual void copy_from_host(void* dst, const void* src, size_t nbytes) const;
  virtual void copy_to_host(void* dst, const void* src, size_t nbytes) const;

 private:
  Device device_;
};

// The process-wide CPU allocator: 64-byte aligned (a cache line, and an AVX-512 register) blocks, with freed
// blocks cached by size for reuse. current/peak bytes count what tensors hold, not the cache.
Allocator& cpu_allocator();

// The allocator of a device type: the CPU's always; another type's once its backend has registered one.
// Asking for a type without one throws tg::Error naming the device ("... tensorgrad was built without a
// backend for cuda"). Registration is a documented setting done once, before that device is used (the
// registry is read without a lock); the allocator must outlive every tensor on that device.
Allocator& allocator_for(Device device);
bool has_allocator(DeviceType type);
void register_allocator(DeviceType type, Allocator* allocator);

}  // namespace tg
