// The CPU allocator's byte counters: current bytes follow tensor lifetimes, peak bytes the maximum since
// the last reset_peak(). Tests measure differences, so other live tensors in the process do not matter.
#include <gtest/gtest.h>

#include <tensorgrad/tensorgrad.h>

namespace {

using tg::DType;
using tg::Tensor;

int64_t current() { return tg::cpu_allocator().stats().current_bytes; }
int64_t peak() { return tg::cpu_allocator().stats().peak_bytes; }

TEST(CoreAllocator, CurrentBytesRiseAndFallWithTheTensor) {
  const int64_t base = current();
  const int64_t allocations = tg::cpu_allocator().stats().allocations;
  {
    Tensor t = Tensor::empty({256, 256}, DType::Float32);
    EXPECT_EQ(current() - base, 256 * 256 * 4);
    EXPECT_EQ(tg::cpu_allocator().stats().allocations - allocations, 1);
    Tensor d = tg::zeros({10}, DType::Float64);
    EXPECT_EQ(current() - base, 256 * 256 * 4 + 10 * 8);
  }
  EXPECT_EQ(current(), base);
}

TEST(CoreAllocator, ViewsDoNotAllocateAndKeepStorageAlive) {
  const int64_t base = current();
  Tensor view;
  {
    Tensor t = tg::zeros({100, 10});
    const int64_t with_t = current();
    EXPECT_EQ(with_t - base, 4000);
    view = tg::transpose(tg::narrow(t, 0, 10, 20), 0, 1);
    EXPECT_EQ(current(), with_t);
  }
  EXPECT_EQ(current() - base, 4000);  // the view still holds the storage
  view = Tensor();
  EXPECT_EQ(current(), base);
}

TEST(CoreAllocator, ResetPeakAndPeakTracksTheMaximum) {
  tg::cpu_allocator().reset_peak();
  const int64_t base = current();
  EXPECT_EQ(peak(), base);
  {
    Tensor a = Tensor::empty({1 << 18}, DType::Float32);  // 1 MiB
    Tensor b = Tensor::empty({1 << 18}, DType::Float64);  // 2 MiB
    EXPECT_EQ(peak() - base, 3 << 20);
  }
  EXPECT_EQ(current(), base);
  EXPECT_EQ(peak() - base, 3 << 20);  // peak survives the frees
  {
    Tensor c = Tensor::empty({1 << 18}, DType::Float32);
    EXPECT_EQ(peak() - base, 3 << 20);  // below the earlier maximum: unchanged
  }
  tg::cpu_allocator().reset_peak();
  EXPECT_EQ(peak(), current());
  {
    Tensor c = Tensor::empty({1 << 10}, DType::Int64);
    EXPECT_EQ(peak() - base, 8 << 10);
  }
}

TEST(CoreAllocator, BlocksAreCacheLineAligned) {
  for (int64_t n : {1, 3, 17, 1000}) {
    Tensor t = Tensor::empty({n}, DType::Bool);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.storage()->data()) % 64, 0u) << "n = " << n;
  }
}

TEST(CoreAllocator, StorageVersionIsSharedByViews) {
  Tensor x = tg::zeros({4});
  Tensor v = tg::narrow(x, 0, 1, 2);
  const uint64_t before = x.version();
  v.fill_(1.0);
  EXPECT_GT(x.version(), before);
  EXPECT_EQ(x.version(), v.version());
}

// Freed blocks are cached by size and handed out again; current bytes count only what tensors hold.
TEST(CoreAllocator, CachedBlocksAreReusedAndNotCounted) {
  tg::Allocator& a = tg::cpu_allocator();
  const bool was_caching = a.caching();
  a.set_caching(true);
  const int64_t base = current();
  void* first = nullptr;
  {
    Tensor t = Tensor::empty({1 << 16}, DType::Float32);
    first = t.data_ptr();
  }
  EXPECT_EQ(current(), base);
  EXPECT_GE(a.stats().cached_bytes, 4 << 16);
  {
    Tensor again = Tensor::empty({1 << 16}, DType::Float32);  // the same size class: the cached block
    EXPECT_EQ(again.data_ptr(), first);
    EXPECT_EQ(current() - base, 4 << 16);
    Tensor near = Tensor::empty({(1 << 16) - 3}, DType::Float32);  // rounds to the same class, none cached now
    EXPECT_NE(near.data_ptr(), first);
  }
  a.empty_cache();
  EXPECT_EQ(a.stats().cached_bytes, 0);
  a.set_caching(false);
  {
    Tensor t = Tensor::empty({1 << 16}, DType::Float32);
  }
  EXPECT_EQ(a.stats().cached_bytes, 0);  // not caching: the block went back to the system
  a.set_caching(was_caching);
}

}  // namespace
