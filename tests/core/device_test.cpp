// A second device driven through every layer on a CPU-only machine: a test backend registers an allocator
// (host memory, with its own byte counters and a count of host transfers) and kernels for the PrivateUse1
// device type, exactly what a GPU backend does. Then factories, ops, autograd, .to(), item() and printing
// run there, and the errors for missing kernels and mixed devices are checked.
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>

#include <gtest/gtest.h>

#include <tensorgrad/kernels/kernel_tables.h>
#include <tensorgrad/tensorgrad.h>

#include "../support/expect_error.h"

namespace {

using tg::Device;
using tg::DeviceType;
using tg::DType;
using tg::Tensor;
using tgtest::contains_all;
using tgtest::error_message;

constexpr Device kTestDevice{DeviceType::PrivateUse1, 0};

// Host memory presented as another device's: counted separately from the CPU's, and every byte that
// crosses to or from the host is counted too.
class TestDeviceAllocator final : public tg::Allocator {
 public:
  TestDeviceAllocator() : Allocator(kTestDevice) {}
  void* allocate(size_t nbytes) override {
    void* p = std::aligned_alloc(64, (std::max<size_t>(nbytes, 1) + 63) / 64 * 64);
    std::lock_guard lock(mutex_);
    stats_.current_bytes += static_cast<int64_t>(nbytes);
    stats_.peak_bytes = std::max(stats_.peak_bytes, stats_.current_bytes);
    ++stats_.allocations;
    return p;
  }
  void deallocate(void* ptr, size_t nbytes) override {
    std::free(ptr);
    std::lock_guard lock(mutex_);
    stats_.current_bytes -= static_cast<int64_t>(nbytes);
  }
  tg::AllocatorStats stats() const override {
    std::lock_guard lock(mutex_);
    return stats_;
  }
  void reset_peak() override {
    std::lock_guard lock(mutex_);
    stats_.peak_bytes = stats_.current_bytes;
  }
  void copy_from_host(void* dst, const void* src, size_t nbytes) const override {
    transferred += static_cast<int64_t>(nbytes);
    if (nbytes != 0) std::memcpy(dst, src, nbytes);
  }
  void copy_to_host(void* dst, const void* src, size_t nbytes) const override {
    transferred += static_cast<int64_t>(nbytes);
    if (nbytes != 0) std::memcpy(dst, src, nbytes);
  }
  mutable int64_t transferred = 0;

 private:
  mutable std::mutex mutex_;
  tg::AllocatorStats stats_;
};

TestDeviceAllocator& test_allocator() {
  static auto* a = new TestDeviceAllocator;  // outlives every tensor on the device
  return *a;
}

// Every CPU kernel of a table, registered for the test device too.
template <class Table>
void mirror_cpu(Table& table) {
  using Op = typename Table::OpType;
  for (int op = 0; op < Table::kOpCount; ++op)
    for (int d = 0; d < tg::kNumDTypes; ++d) {
      const auto o = static_cast<Op>(op);
      const auto dt = static_cast<DType>(d);
      if (table.supports(o, DeviceType::CPU, dt)) table.add(o, DeviceType::PrivateUse1, dt, table.find(o, DeviceType::CPU, dt));
    }
}

// The test backend's kernels: the CPU's (its memory is host memory), except the unary family, left out so a
// missing kernel can be seen.
void register_test_kernels(tg::kernels::KernelTables& t) {
  mirror_cpu(t.copy);
  mirror_cpu(t.fill);
  mirror_cpu(t.binary);
  mirror_cpu(t.where);
  mirror_cpu(t.reduce);
  mirror_cpu(t.softmax);
  mirror_cpu(t.matmul);
  mirror_cpu(t.index);
  mirror_cpu(t.window);
  mirror_cpu(t.random);
  mirror_cpu(t.sequence);
  mirror_cpu(t.sgd_update);
  mirror_cpu(t.adam_update);
}

class CoreDevice : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    static std::once_flag once;
    std::call_once(once, [] {
      tg::register_allocator(DeviceType::PrivateUse1, &test_allocator());
      tg::kernels::register_backend(&register_test_kernels);
    });
  }
};

TEST(CoreDeviceNames, ParseAndPrint) {
  EXPECT_EQ(tg::parse_device("cpu"), tg::kCPU);
  EXPECT_EQ(tg::parse_device("cuda:1"), Device(DeviceType::CUDA, 1));
  EXPECT_EQ(tg::parse_device("privateuse1"), kTestDevice);
  std::ostringstream os;
  os << tg::kCPU << " " << Device(DeviceType::CUDA, 2);
  EXPECT_EQ(os.str(), "cpu cuda:2");
  EXPECT_TRUE(contains_all(error_message([] { tg::parse_device("tpu:0"); }), {"tg::parse_device", "unknown device 'tpu:0'"}));
  EXPECT_TRUE(contains_all(error_message([] { tg::parse_device("cuda:x"); }), {"bad device index", "cuda:x"}));
  EXPECT_TRUE(contains_all(error_message([] { tg::parse_device("cpu:1"); }), {"only index 0"}));
}

TEST(CoreDeviceNames, ADeviceWithoutABackendIsAClearError) {
  if (tg::has_allocator(DeviceType::CUDA)) GTEST_SKIP() << "a CUDA backend is registered in this build";
  EXPECT_TRUE(contains_all(error_message([] { tg::zeros({2}, DType::Float32, Device(DeviceType::CUDA)); }),
                           {"no allocator for device cuda:0", "without a backend for cuda"}));
}

TEST_F(CoreDevice, FactoriesAllocateThereAndValuesReadBack) {
  const int64_t before = test_allocator().stats().current_bytes;
  const int64_t cpu_before = tg::cpu_allocator().stats().current_bytes;
  {
    const Tensor z = tg::full({3, 4}, 2.5, DType::Float32, kTestDevice);
    EXPECT_EQ(z.device(), kTestDevice);
    EXPECT_FALSE(z.is_cpu());
    EXPECT_EQ(test_allocator().stats().current_bytes - before, 48);
    EXPECT_EQ(tg::cpu_allocator().stats().current_bytes, cpu_before);  // nothing on the CPU
    EXPECT_EQ(z.to_vector<float>(), std::vector<float>(12, 2.5f));
    EXPECT_EQ(tg::arange(5, kTestDevice).to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 4}));
    EXPECT_EQ(tg::eye(2, 2, DType::Float64, kTestDevice).to_vector<double>(), (std::vector<double>{1, 0, 0, 1}));
    EXPECT_EQ(tg::zeros_like(z).device(), kTestDevice);
    EXPECT_EQ(tg::from_vector<float>({1, 2, 3}, {}, kTestDevice).to_vector<float>(), (std::vector<float>{1, 2, 3}));
  }
  EXPECT_EQ(test_allocator().stats().current_bytes, before);
}

TEST_F(CoreDevice, RandomNumbersAreTheSameOnEveryDevice) {
  tg::Generator a(7), b(7);
  const Tensor on_cpu = tg::randn({1000}, DType::Float32, a);
  const Tensor there = tg::randn({1000}, DType::Float32, b, kTestDevice);
  EXPECT_EQ(there.device(), kTestDevice);
  EXPECT_EQ(on_cpu.to_vector<float>(), there.to_vector<float>());
  EXPECT_EQ(a.offset(), b.offset());
}

TEST_F(CoreDevice, OpsRunThereAndToMovesBack) {
  const Tensor x = tg::from_vector<float>({1, 2, 3, 4}, {2, 2}).to(kTestDevice);
  const Tensor y = tg::matmul(x, x) + 1.0;
  EXPECT_EQ(y.device(), kTestDevice);
  const Tensor back = y.to(tg::kCPU);
  EXPECT_TRUE(back.is_cpu());
  EXPECT_EQ(back.to_vector<float>(), (std::vector<float>{8, 11, 16, 23}));
  EXPECT_DOUBLE_EQ(tg::sum(y).item(), 58.0);
  EXPECT_TRUE(x.to(kTestDevice).same(x));  // already there: no copy
  std::ostringstream os;
  os << y;
  EXPECT_NE(os.str().find("device=privateuse1:0"), std::string::npos) << os.str();
  // A strided view crosses as its logical elements.
  EXPECT_EQ(x.t().cpu().to_vector<float>(), (std::vector<float>{1, 3, 2, 4}));
}

TEST_F(CoreDevice, AMissingKernelNamesTheOpTheDtypeAndTheDevice) {
  const Tensor x = tg::ones({3}, DType::Float32, kTestDevice);
  EXPECT_TRUE(contains_all(error_message([&] { tg::exp(x); }), {"tg::exp", "float32", "privateuse1"}));
}

TEST_F(CoreDevice, MixingDevicesIsAnErrorNamingTheOpAndBothDevices) {
  const Tensor a = tg::ones({3});
  const Tensor b = tg::ones({3}, DType::Float32, kTestDevice);
  EXPECT_TRUE(contains_all(error_message([&] { tg::add(a, b); }), {"tg::add", "cpu", "privateuse1:0"}));
  EXPECT_TRUE(contains_all(error_message([&] { tg::matmul(a.reshape({1, 3}), b.reshape({3, 1})); }),
                           {"tg::matmul", "cpu", "privateuse1:0"}));
  EXPECT_TRUE(contains_all(error_message([&] { tg::cat({a, b}, 0); }), {"tg::cat", "privateuse1:0"}));
  EXPECT_TRUE(contains_all(error_message([&] { tg::where(tg::gt(a, 0.0), a, b); }), {"tg::where", "privateuse1:0"}));
  // Below the ops, the kernel entry points refuse operands on two devices too.
  const Tensor out = tg::empty({3});
  EXPECT_TRUE(contains_all(error_message([&] {
                             tg::kernels::binary(tg::kernels::BinaryOp::Add, {3}, {out.data_ptr(), {1}, DType::Float32},
                                                 {a.data_ptr(), {1}, DType::Float32},
                                                 {b.data_ptr(), {1}, DType::Float32, DeviceType::PrivateUse1});
                           }),
                           {"tg::add", "different devices", "privateuse1"}));
}

TEST_F(CoreDevice, GradientsFlowBackAcrossTo) {
  Tensor x = tg::from_vector<double>({1, -2, 3}).requires_grad_();
  const Tensor y = x.to(kTestDevice);
  const Tensor loss = tg::sum(y * y * 0.5);
  EXPECT_EQ(loss.device(), kTestDevice);
  loss.backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_TRUE(x.grad().is_cpu());
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{1, -2, 3}));
}

TEST_F(CoreDevice, OptimizerUpdatesRunThereAsOps) {
  Tensor w = tg::ones({4}, DType::Float32, kTestDevice).requires_grad_();
  const Tensor x = tg::from_vector<float>({1, 2, 3, 4}).to(kTestDevice);
  tg::optim::SGD opt({w}, tg::optim::SGDOptions{.lr = 0.5, .momentum = 0.9});
  tg::sum(w * x).backward();
  opt.step();
  EXPECT_EQ(w.device(), kTestDevice);
  EXPECT_EQ(w.to_vector<float>(), (std::vector<float>{0.5f, 0.0f, -0.5f, -1.0f}));
  Tensor cpu_grad = tg::ones({4});
  Tensor buffer;
  tg::NoGradGuard no_grad;
  EXPECT_TRUE(contains_all(error_message([&] { tg::sgd_update_(w, cpu_grad, buffer, {.lr = 0.1}); }),
                           {"tg::sgd_update_", "grad is on cpu", "privateuse1:0"}));
}

TEST_F(CoreDevice, TransfersGoThroughTheDeviceAllocator) {
  const int64_t before = test_allocator().transferred;
  const Tensor x = tg::zeros({256}).to(kTestDevice);
  EXPECT_EQ(test_allocator().transferred - before, 1024);
  (void)x.to(tg::kCPU);
  EXPECT_EQ(test_allocator().transferred - before, 2048);
}

}  // namespace
