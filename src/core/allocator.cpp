#include <tensorgrad/base/error.h>
#include <tensorgrad/core/allocator.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace tg {

namespace {

#if defined(__SANITIZE_ADDRESS__)
// Under AddressSanitizer every block goes back to the system at once, so a use after free is reported
// instead of landing silently in a cached block.
constexpr bool kCacheByDefault = false;
#else
constexpr bool kCacheByDefault = true;
#endif

constexpr size_t kAlign = 64;
// Freed blocks beyond this many cached bytes go back to the system: a bound on what the cache can hold
// that no training step of the reference models comes near.
constexpr size_t kMaxCachedBytes = size_t{1} << 31;

// Block sizes are rounded to a cache line up to 4 KiB and to a quarter of a power of two above it, so a
// freed block fits the next request of about the same size (activations of the next batch) while wasting at
// most a fifth of a block.
size_t block_size(size_t nbytes) {
  const size_t n = std::max<size_t>(nbytes, 1);
  if (n <= 4096) return (n + kAlign - 1) / kAlign * kAlign;
  const size_t quarter = std::bit_floor(n - 1) / 4;
  return (n + quarter - 1) / quarter * quarter;
}

// Keeps freed blocks in per-size free lists and hands them out again: a training step allocates the same
// sizes every iteration, and fresh large blocks from the system cost page faults on first touch (15% of a
// CNN epoch's time before this cache).
class CachingCpuAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes) override {
    const size_t size = block_size(nbytes);
    void* ptr = take_cached(size);
    if (ptr == nullptr) {
      ptr = std::aligned_alloc(kAlign, size);
      if (ptr == nullptr) {  // the cache may hold enough memory: give it back and try once more
        empty_cache();
        ptr = std::aligned_alloc(kAlign, size);
      }
      TG_CHECK(ptr != nullptr, "tg::cpu_allocator: out of memory allocating ", nbytes, " bytes (currently ",
               current_.load(), " bytes in use)");
    }
    const int64_t now = current_.fetch_add(static_cast<int64_t>(nbytes)) + static_cast<int64_t>(nbytes);
    int64_t peak = peak_.load();
    while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
    }
    allocations_.fetch_add(1);
    return ptr;
  }

  void deallocate(void* ptr, size_t nbytes) override {
    current_.fetch_sub(static_cast<int64_t>(nbytes));
    const size_t size = block_size(nbytes);
    if (caching_) {
      std::lock_guard lock(mutex_);
      if (cached_bytes_ + size <= kMaxCachedBytes) {
        free_list(size).push_back(ptr);
        cached_bytes_ += size;
        return;
      }
    }
    std::free(ptr);
  }

  AllocatorStats stats() const override {
    std::lock_guard lock(mutex_);
    return {current_.load(), peak_.load(), allocations_.load(), static_cast<int64_t>(cached_bytes_)};
  }
  void reset_peak() override { peak_.store(current_.load()); }

  void empty_cache() override {
    std::lock_guard lock(mutex_);
    for (auto& [size, blocks] : free_blocks_)
      for (void* p : blocks) std::free(p);
    free_blocks_.clear();
    for (auto& blocks : small_blocks_) {
      for (void* p : blocks) std::free(p);
      blocks.clear();
    }
    cached_bytes_ = 0;
  }

  void set_caching(bool enabled) override {
    caching_ = enabled;
    if (!enabled) empty_cache();
  }
  bool caching() const override { return caching_; }

 private:
  void* take_cached(size_t size) {
    if (!caching_) return nullptr;
    std::lock_guard lock(mutex_);
    std::vector<void*>* blocks = nullptr;
    if (size <= kSmallMax) {
      blocks = &small_blocks_[size / kAlign];
    } else {
      auto it = free_blocks_.find(size);
      if (it == free_blocks_.end()) return nullptr;
      blocks = &it->second;
    }
    if (blocks->empty()) return nullptr;
    void* ptr = blocks->back();
    blocks->pop_back();
    cached_bytes_ -= size;
    return ptr;
  }

  // The free list for blocks of `size` (a block_size() value); call with mutex_ held.
  std::vector<void*>& free_list(size_t size) {
    return size <= kSmallMax ? small_blocks_[size / kAlign] : free_blocks_[size];
  }

  // Small blocks (every size up to 4 KiB is a multiple of kAlign) are indexed by size directly: a tiny op's
  // output then costs no hashing.
  static constexpr size_t kSmallMax = 4096;

  std::atomic<int64_t> current_{0};
  std::atomic<int64_t> peak_{0};
  std::atomic<int64_t> allocations_{0};
  std::atomic<bool> caching_{kCacheByDefault};
  mutable std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_blocks_;  // sizes above kSmallMax
  std::array<std::vector<void*>, kSmallMax / kAlign + 1> small_blocks_;
  size_t cached_bytes_ = 0;
};

}  // namespace

Allocator& cpu_allocator() {
  // Never destroyed: tensors in other static objects may be freed after main returns.
  static auto* allocator = new CachingCpuAllocator;
  return *allocator;
}

void Allocator::copy_from_host(void* dst, const void* src, size_t nbytes) const {
  if (nbytes != 0) std::memcpy(dst, src, nbytes);
}
void Allocator::copy_to_host(void* dst, const void* src, size_t nbytes) const {
  if (nbytes != 0) std::memcpy(dst, src, nbytes);
}

namespace {
std::array<Allocator*, kNumDeviceTypes>& device_allocators() {
  static std::array<Allocator*, kNumDeviceTypes> allocators{};
  return allocators;
}
}  // namespace

Allocator& allocator_for(Device device) {
  if (device.type == DeviceType::CPU) return cpu_allocator();
  Allocator* a = device_allocators()[static_cast<size_t>(device.type)];
  TG_CHECK(a != nullptr, "tg: no allocator for device ", device, ": tensorgrad was built without a backend for ",
           device_type_name(device.type), " (or it has not been registered)");
  return *a;
}

bool has_allocator(DeviceType type) {
  return type == DeviceType::CPU || device_allocators()[static_cast<size_t>(type)] != nullptr;
}

void register_allocator(DeviceType type, Allocator* allocator) {
  TG_CHECK(type != DeviceType::CPU, "tg::register_allocator: the CPU allocator is built in");
  TG_CHECK(allocator == nullptr || allocator->device().type == type, "tg::register_allocator: an allocator for ",
           device_type_name(allocator->device().type), " registered as ", device_type_name(type));
  device_allocators()[static_cast<size_t>(type)] = allocator;
}

}  // namespace tg
