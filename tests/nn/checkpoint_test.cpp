// Gradient checkpointing: bitwise-identical gradients, the saved-tensor report, and the memory it saves,
// measured with the allocator's peak-bytes counter.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include <tensorgrad/tensorgrad.h>

namespace tg {
namespace {

std::shared_ptr<nn::Sequential> mlp(int64_t layers, int64_t width, DType dtype, uint64_t seed, bool relu = false) {
  Generator gen(seed);
  auto model = std::make_shared<nn::Sequential>();
  for (int64_t i = 0; i < layers; ++i) {
    model->push_back(std::make_shared<nn::Linear>(width, width, nn::LinearOptions{true, dtype}, gen));
    if (relu) model->push_back(std::make_shared<nn::ReLU>());
    else model->push_back(std::make_shared<nn::Tanh>());
  }
  return model;
}

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  if (!a.defined() || !b.defined() || a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  const Tensor ca = a.contiguous(), cb = b.contiguous();
  return std::memcmp(ca.data_ptr(), cb.data_ptr(), static_cast<size_t>(ca.numel()) * itemsize(ca.dtype())) == 0;
}

TEST(Checkpoint, GradientsAreBitwiseThoseOfThePlainRun) {
  auto model = mlp(8, 16, DType::Float32, 1);
  Generator gen(2);
  const Tensor input = randn({12, 16}, DType::Float32, gen);
  for (int64_t segments : {1, 2, 3, 8}) {
    SCOPED_TRACE("segments " + std::to_string(segments));
    Tensor x1 = input.detach().requires_grad_();
    model->zero_grad();
    const Tensor y1 = (*model)(x1);
    sum(y1 * y1).backward();
    std::vector<Tensor> plain;
    for (const auto& p : model->parameters()) plain.push_back(p.grad().clone());

    Tensor x2 = input.detach().requires_grad_();
    model->zero_grad();
    const Tensor y2 = nn::checkpoint_sequential(*model, segments, x2);
    EXPECT_TRUE(bitwise_equal(y1, y2)) << "forward values differ";
    sum(y2 * y2).backward();
    EXPECT_TRUE(bitwise_equal(x1.grad(), x2.grad())) << "input gradient differs";
    const auto params = model->parameters();
    for (size_t i = 0; i < params.size(); ++i) EXPECT_TRUE(bitwise_equal(plain[i], params[i].grad())) << "parameter " << i;
  }
}

TEST(Checkpoint, GradcheckAndSecondOrderThroughTheRecomputation) {
  const DifferentiableFn inner = [](const TensorList& xs) { return tanh(matmul(xs[0], xs[1])) * xs[0]; };
  Generator gen(3);
  Tensor a = randn({3, 3}, DType::Float64, gen).requires_grad_();
  Tensor b = randn({3, 3}, DType::Float64, gen).requires_grad_();
  const DifferentiableFn checkpointed = [&inner](const TensorList& xs) { return checkpoint(inner, xs); };
  EXPECT_TRUE(gradcheck(checkpointed, {a, b}).ok);
  EXPECT_TRUE(gradgradcheck(checkpointed, {a, b}).ok);
}

TEST(Checkpoint, SavedTensorReportListsOnlyTheSegmentInputs) {
  auto model = mlp(4, 8, DType::Float32, 4);
  Generator gen(5);
  const Tensor x = randn({5, 8}, DType::Float32, gen).requires_grad_();
  const SavedReport plain = saved_tensors({(*model)(x)});
  ASSERT_FALSE(plain.entries.empty());
  bool saw_matmul = false;
  for (const auto& e : plain.entries) saw_matmul |= e.op == "matmul";
  EXPECT_TRUE(saw_matmul) << plain.table();
  EXPECT_NE(plain.table().find("total"), std::string::npos);

  const SavedReport ckpt = saved_tensors({nn::checkpoint_sequential(*model, 4, x)});
  int checkpoints = 0;
  for (const auto& e : ckpt.entries) {
    if (e.op != "checkpoint") continue;
    ++checkpoints;
    EXPECT_EQ(e.shape, (Shape{5, 8}));
    EXPECT_EQ(e.bytes, 5 * 8 * 4);
  }
  EXPECT_EQ(checkpoints, 3) << ckpt.table();  // the last segment runs plainly
  EXPECT_LT(ckpt.total_bytes, plain.total_bytes);
}

// Peak bytes allocated between the start of the forward pass and the end of backward.
int64_t peak_of_step(const std::function<Tensor(const Tensor&)>& forward, const Tensor& input) {
  Tensor x = input.detach().requires_grad_();
  cpu_allocator().reset_peak();
  const int64_t before = cpu_allocator().stats().current_bytes;
  {
    const Tensor y = forward(x);
    sum(y).backward();
  }
  return cpu_allocator().stats().peak_bytes - before;
}

TEST(Checkpoint, ThirtyTwoLayerMlpPeakFallsThreefoldWithSqrtSegments) {
  // Frozen weights, so the peak is activations (and the transient gradients of one layer), not weight grads.
  // A ReLU MLP keeps two tensors per layer (matmul's input, relu's input); a checkpoint keeps one per
  // segment, and sqrt(32) ~ 6 segments.
  auto model = mlp(32, 32, DType::Float32, 6, /*relu=*/true);
  for (auto& p : model->parameters()) p.requires_grad_(false);
  Generator gen(7);
  const Tensor input = randn({256, 32}, DType::Float32, gen);
  const int64_t plain = peak_of_step([&](const Tensor& x) { return (*model)(x); }, input);
  const int64_t ckpt = peak_of_step([&](const Tensor& x) { return nn::checkpoint_sequential(*model, 6, x); }, input);
  EXPECT_GE(static_cast<double>(plain) / static_cast<double>(ckpt), 3.0) << "plain " << plain << " bytes, checkpointed "
                                                                         << ckpt << " bytes";
}

}  // namespace
}  // namespace tg
