// Large elementwise problems are split across threads (src/kernels/cpu/parallel.h). Each output
// element depends on its own inputs only, so 1, 2 and 3 threads must give bitwise the same tensors, for
// broadcast, transposed and sliced operands alike, and the split must cover every element exactly once.
#include <gtest/gtest.h>

#include <cstring>

#include <tensorgrad/base/threads.h>
#include <tensorgrad/tensorgrad.h>

namespace {

using tg::DType;
using tg::Tensor;

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  const Tensor x = a.contiguous(), y = b.contiguous();
  return x.shape() == y.shape() && x.dtype() == y.dtype() &&
         std::memcmp(x.data_ptr(), y.data_ptr(), static_cast<size_t>(x.numel()) * tg::itemsize(x.dtype())) == 0;
}

class ThreadCount {
 public:
  ThreadCount() : saved_(tg::num_threads()) {}
  ~ThreadCount() { tg::set_num_threads(saved_); }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;

 private:
  int saved_;
};

// compute() on 1 thread, then on 2 and 3: every result bitwise the same.
template <class Compute>
void expect_same_bits_on_any_thread_count(Compute compute) {
  tg::set_num_threads(1);
  const std::vector<Tensor> serial = compute();
  for (int threads : {2, 3}) {
    tg::set_num_threads(threads);
    const std::vector<Tensor> parallel = compute();
    for (size_t i = 0; i < serial.size(); ++i)
      EXPECT_TRUE(bitwise_equal(serial[i], parallel[i])) << "result " << i << " with " << threads << " threads";
  }
}

TEST(KernelsElementwise, ThreadCountDoesNotChangeResults) {
  ThreadCount restore;
  tg::Generator gen(5);
  // Above the 2 x 64K elements where a second thread starts.
  const Tensor a = tg::randn({700, 257}, DType::Float32, gen);
  const Tensor row = tg::randn({257}, DType::Float32, gen);
  const Tensor wide = tg::randn({257, 1401}, DType::Float32, gen);
  const Tensor transposed = tg::slice(tg::transpose(wide, 0, 1), 0, 1, 1401, 2);  // [700, 257], strided
  auto compute = [&] {
    return std::vector<Tensor>{a + row,           a * transposed,        tg::exp(transposed),
                               tg::relu(a - row), tg::where(a > 0, a, row), tg::to(a, DType::Float64),
                               tg::maximum(a, transposed)};
  };
  expect_same_bits_on_any_thread_count(compute);
  // Every element written exactly once: a fill then an accumulating copy of ones gives exactly 2 everywhere.
  tg::set_num_threads(2);
  Tensor t = tg::zeros({1000, 129}, DType::Float64);
  t.fill_(1.0);
  t.add_(tg::ones({129}, DType::Float64));
  EXPECT_EQ(tg::sum(t).item(), 2.0 * 1000 * 129);
  EXPECT_EQ(tg::min(t).item(), 2.0);
}

// gather / scatter_add split every dimension but the indexed one; the indices are checked before any
// thread starts, so a bad index is still a tg::Error, not a crash inside the parallel region.
TEST(KernelsElementwise, GatherAndScatterAddSplitAcrossThreads) {
  ThreadCount restore;
  tg::Generator gen(6);
  // The indexed dimension is the largest, the one an unrestricted split would cut.
  const Tensor x = tg::randn({16, 8, 3000}, DType::Float32, gen);
  const Tensor index = tg::randint(0, 3000, {16, 8, 2500}, gen);
  const Tensor src = tg::randn({16, 8, 2500}, DType::Float32, gen);
  const Tensor x0 = tg::randn({2400, 8, 30}, DType::Float32, gen);
  const Tensor index0 = tg::randint(0, 2400, {2000, 8, 30}, gen);
  const Tensor src0 = tg::randn({2000, 8, 30}, DType::Float32, gen);
  auto compute = [&] {
    return std::vector<Tensor>{tg::gather(x, 2, index), tg::scatter_add(x, 2, index, src),
                               tg::gather(x0, 0, index0), tg::scatter_add(tg::zeros({2400, 8, 30}), 0, index0, src0)};
  };
  expect_same_bits_on_any_thread_count(compute);
  tg::set_num_threads(2);
  Tensor bad = index.clone();
  bad.view({-1}).slice(0, 300000, 300001).fill_(3000);
  EXPECT_THROW(tg::gather(x, 2, bad), tg::Error);
  EXPECT_THROW(tg::scatter_add(x, 2, bad, src), tg::Error);
}

}  // namespace
