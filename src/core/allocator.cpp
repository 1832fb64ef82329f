#include <tensorgrad/base/error.h>
#include <tensorgrad/core/allocator.h>

#include <algorithm>
#include <cstdlib>
#include <new>

namespace tg {

namespace {

class CountingCpuAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes) override {
    constexpr size_t kAlign = 64;
    const size_t rounded = (std::max<size_t>(nbytes, 1) + kAlign - 1) / kAlign * kAlign;
    void* ptr = std::aligned_alloc(kAlign, rounded);
    TG_CHECK(ptr != nullptr, "tg::cpu_allocator: out of memory allocating ", nbytes, " bytes (currently ",
             current_.load(), " bytes in use)");
    const int64_t now = current_.fetch_add(static_cast<int64_t>(nbytes)) + static_cast<int64_t>(nbytes);
    int64_t peak = peak_.load();
    while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
    }
    allocations_.fetch_add(1);
    return ptr;
  }
  void deallocate(void* ptr, size_t nbytes) override {
    std::free(ptr);
    current_.fetch_sub(static_cast<int64_t>(nbytes));
  }
  AllocatorStats stats() const override { return {current_.load(), peak_.load(), allocations_.load()}; }
  void reset_peak() override { peak_.store(current_.load()); }

 private:
  std::atomic<int64_t> current_{0};
  std::atomic<int64_t> peak_{0};
  std::atomic<int64_t> allocations_{0};
};

}  // namespace

Allocator& cpu_allocator() {
  static CountingCpuAllocator allocator;
  return allocator;
}

}  // namespace tg
