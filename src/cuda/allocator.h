#pragma once
// The CUDA allocator (allocator.cpp).
#include <mutex>
#include <unordered_map>
#include <vector>

#include <tensorgrad/core/allocator.h>

namespace tg::cuda::detail {

class CudaAllocator final : public Allocator {
 public:
  CudaAllocator() : Allocator(Device(DeviceType::CUDA, 0)) {}
  void* allocate(size_t nbytes) override;
  void deallocate(void* ptr, size_t nbytes) override;
  AllocatorStats stats() const override;
  void reset_peak() override;
  void empty_cache() override;
  void set_caching(bool on) override;
  bool caching() const override;
  void copy_from_host(void* dst, const void* src, size_t nbytes) const override;
  void copy_to_host(void* dst, const void* src, size_t nbytes) const override;

 private:
  void release_cached_locked();

  mutable std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;  // by rounded size
  std::unordered_map<void*, size_t> sizes_;              // live blocks
  int64_t current_ = 0, peak_ = 0, allocations_ = 0, cached_ = 0;
  bool caching_ = true;
};

}  // namespace tg::cuda::detail
