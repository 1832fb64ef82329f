// The CUDA device's allocator: cudaMalloc'd blocks cached by rounded size for reuse (cudaMalloc and cudaFree
// synchronise the device, so a training step that allocated fresh every time would stall on each), with
// current / peak / cached byte counters as the CPU's. Blocks are used on the legacy default stream, so a block
// freed and handed out again is ordered after every kernel that used it.
#include "allocator.h"

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include <tensorgrad/base/error.h>

namespace tg::cuda::detail {

int device_count() noexcept {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();  // no driver or no device: not an error to keep
    return 0;
  }
  return n;
}

void check(int cuda_error, const char* what) {
  if (cuda_error != cudaSuccess)
    throw std::runtime_error(std::string("tg::cuda: ") + what + ": " +
                             cudaGetErrorString(static_cast<cudaError_t>(cuda_error)));
}

namespace {

// 512-byte granules (cudaMalloc aligns to 256 anyway) up to 1 MiB, then whole MiB: few distinct sizes, so a
// step's tensors find their blocks again in the next step.
size_t rounded(size_t nbytes) {
  constexpr size_t kSmall = 512, kLarge = size_t{1} << 20;
  if (nbytes <= kLarge) return (nbytes + kSmall - 1) / kSmall * kSmall;
  return (nbytes + kLarge - 1) / kLarge * kLarge;
}

}  // namespace

void* CudaAllocator::allocate(size_t nbytes) {
  if (nbytes == 0) return nullptr;
  const size_t size = rounded(nbytes);
  std::lock_guard<std::mutex> lock(mutex_);
  void* ptr = nullptr;
  auto it = free_.find(size);
  if (it != free_.end() && !it->second.empty()) {
    ptr = it->second.back();
    it->second.pop_back();
    cached_ -= static_cast<int64_t>(size);
  } else {
    cudaError_t e = cudaMalloc(&ptr, size);
    if (e == cudaErrorMemoryAllocation) {  // give the cache back and try once more
      (void)cudaGetLastError();
      release_cached_locked();
      e = cudaMalloc(&ptr, size);
    }
    if (e != cudaSuccess) {
      (void)cudaGetLastError();
      TG_FAIL("tg::cuda: cannot allocate ", nbytes, " bytes on the GPU (", cudaGetErrorString(e), "); ", current_,
              " bytes in use by tensors, ", cached_, " cached");
    }
  }
  sizes_[ptr] = size;
  current_ += static_cast<int64_t>(size);
  peak_ = std::max(peak_, current_);
  ++allocations_;
  return ptr;
}

void CudaAllocator::deallocate(void* ptr, size_t /*nbytes*/) {
  if (ptr == nullptr) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = sizes_.find(ptr);
  if (it == sizes_.end()) return;  // not ours: nothing sane to do in a destructor path
  const size_t size = it->second;
  sizes_.erase(it);
  current_ -= static_cast<int64_t>(size);
  if (caching_) {
    free_[size].push_back(ptr);
    cached_ += static_cast<int64_t>(size);
  } else {
    cudaFree(ptr);
  }
}

AllocatorStats CudaAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {current_, peak_, allocations_, cached_};
}

void CudaAllocator::reset_peak() {
  std::lock_guard<std::mutex> lock(mutex_);
  peak_ = current_;
}

void CudaAllocator::release_cached_locked() {
  for (auto& [size, blocks] : free_)
    for (void* p : blocks) cudaFree(p);
  free_.clear();
  cached_ = 0;
}

void CudaAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  release_cached_locked();
}

void CudaAllocator::set_caching(bool on) {
  std::lock_guard<std::mutex> lock(mutex_);
  caching_ = on;
  if (!on) release_cached_locked();
}

bool CudaAllocator::caching() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return caching_;
}

void CudaAllocator::copy_from_host(void* dst, const void* src, size_t nbytes) const {
  if (nbytes == 0) return;
  const cudaError_t e = cudaMemcpy(dst, src, nbytes, cudaMemcpyHostToDevice);
  if (e != cudaSuccess) TG_FAIL("tg::cuda: copying ", nbytes, " bytes to the GPU failed: ", cudaGetErrorString(e));
}

void CudaAllocator::copy_to_host(void* dst, const void* src, size_t nbytes) const {
  if (nbytes == 0) return;
  // Waits for the kernels queued before it (same stream), so the bytes are the results.
  const cudaError_t e = cudaMemcpy(dst, src, nbytes, cudaMemcpyDeviceToHost);
  if (e != cudaSuccess)
    TG_FAIL("tg::cuda: copying ", nbytes, " bytes from the GPU failed: ", cudaGetErrorString(e),
            " (an earlier kernel may have failed: run with CUDA_LAUNCH_BLOCKING=1 to find it)");
}

}  // namespace tg::cuda::detail
