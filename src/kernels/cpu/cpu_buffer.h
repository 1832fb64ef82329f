#pragma once
// A block of the CPU allocator's memory (its cached blocks: the same scratch every training step reuses warm
// pages), given back when it goes out of scope, so a later allocation that throws leaks nothing.
#include <cstddef>

#include <tensorgrad/core/allocator.h>

namespace tg::kernels::cpu {

class CpuBuffer {
 public:
  explicit CpuBuffer(size_t bytes) : bytes_(bytes), data_(cpu_allocator().allocate(bytes)) {}
  ~CpuBuffer() { cpu_allocator().deallocate(data_, bytes_); }
  CpuBuffer(const CpuBuffer&) = delete;
  CpuBuffer& operator=(const CpuBuffer&) = delete;
  template <class T>
  T* as() const {
    return static_cast<T*>(data_);
  }

 private:
  size_t bytes_;
  void* data_;
};

}  // namespace tg::kernels::cpu
