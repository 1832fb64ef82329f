// The CUDA backend against the CPU: every registered family, forward and backward through ops, on the GPU
// when there is one. Without one, the GPU tests skip with one line saying so, and the tests that need no
// GPU (device discovery, the errors a program without a GPU gets) run.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <tuple>

#include <tensorgrad/cuda/cuda.h>
#include <tensorgrad/tensorgrad.h>

namespace tg {
namespace {

constexpr Device kCuda{DeviceType::CUDA, 0};

#define TG_REQUIRE_GPU()                                                                     \
  do {                                                                                       \
    if (!cuda::is_available()) GTEST_SKIP() << "no CUDA GPU on this machine: GPU test skipped"; \
    cuda::init();                                                                            \
  } while (0)

void expect_close(const Tensor& gpu, const Tensor& cpu, double tol, const std::string& what) {
  ASSERT_EQ(gpu.device(), kCuda) << what;
  ASSERT_EQ(gpu.shape(), cpu.shape()) << what;
  ASSERT_EQ(gpu.dtype(), cpu.dtype()) << what;
  const std::vector<double> g = gpu.cpu().to(DType::Float64).contiguous().to_vector<double>();
  const std::vector<double> c = cpu.to(DType::Float64).contiguous().to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i) {
    if (std::isnan(c[i])) {
      EXPECT_TRUE(std::isnan(g[i])) << what << " [" << i << "]";
      continue;
    }
    EXPECT_NEAR(g[i], c[i], tol * (1 + std::abs(c[i]))) << what << " [" << i << "]";
  }
}

TEST(CudaBackend, DiscoveryNeedsNoGpuAndInitSaysWhyWithoutOne) {
  const int n = cuda::device_count();  // must not throw, GPU or not
  EXPECT_GE(n, 0);
  if (n > 0) GTEST_SKIP() << "a GPU is present: the no-GPU error path is not reachable here";
  try {
    cuda::init();
    FAIL() << "init() succeeded without a GPU";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no CUDA device"), std::string::npos) << e.what();
  }
  try {
    zeros({2}, DType::Float32, kCuda);
    FAIL() << "a CUDA tensor without the backend";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cuda"), std::string::npos) << e.what();
  }
}

TEST(CudaBackend, CopiesRoundTripAndTheAllocatorCounts) {
  TG_REQUIRE_GPU();
  Generator gen(1);
  Tensor x = randn({37, 5}, DType::Float32, gen);
  Tensor g = x.to(kCuda);
  EXPECT_EQ(g.device(), kCuda);
  EXPECT_EQ(g.cpu().to_vector<float>(), x.to_vector<float>());
  EXPECT_EQ(g.transpose(0, 1).contiguous().cpu().to_vector<float>(), x.transpose(0, 1).contiguous().to_vector<float>());
  const AllocatorStats before = allocator_for(kCuda).stats();
  { Tensor big = zeros({1024, 1024}, DType::Float32, kCuda); }
  const AllocatorStats after = allocator_for(kCuda).stats();
  EXPECT_EQ(after.current_bytes, before.current_bytes);
  EXPECT_GE(after.peak_bytes, before.current_bytes + 4 * 1024 * 1024);
  EXPECT_GE(after.cached_bytes, 4 * 1024 * 1024);
  EXPECT_EQ(g.to(DType::Float64).cpu().to_vector<double>(), x.to(DType::Float64).to_vector<double>());
}

TEST(CudaBackend, ElementwiseOpsMatchTheCpu) {
  TG_REQUIRE_GPU();
  Generator gen(2);
  Tensor a = randn({4, 1, 6}, DType::Float64, gen), b = rand({5, 1}, DType::Float64, gen) + 0.5;
  Tensor ga = a.to(kCuda), gb = b.to(kCuda);
  expect_close(ga + gb, a + b, 1e-15, "add broadcast");
  expect_close(ga * gb - gb / 3.0, a * b - b / 3.0, 1e-15, "mul sub div");
  expect_close(pow(gb, ga), pow(b, a), 1e-13, "pow");
  expect_close(maximum(ga, gb), maximum(a, b), 0, "maximum");
  expect_close(ga > gb, a > b, 0, "gt");
  expect_close(where(ga > 0, ga, gb), where(a > 0, a, b), 0, "where");
  for (auto [name, fn] : std::vector<std::pair<const char*, Tensor (*)(const Tensor&)>>{
           {"exp", &exp}, {"tanh", &tanh}, {"sigmoid", &sigmoid}, {"gelu", &gelu}, {"silu", &silu}, {"erf", &erf},
           {"abs", &abs}, {"sin", &sin}, {"relu", &relu}, {"round", &round}, {"sign", &sign}}) {
    expect_close(fn(ga), fn(a), 1e-14, name);
  }
  expect_close(log(gb), log(b), 1e-14, "log");
  expect_close(ga.transpose(0, 2).contiguous(), a.transpose(0, 2).contiguous(), 0, "transposed copy");
  expect_close(arange(0.0, 5.0, 0.5, DType::Float32, kCuda), arange(0.0, 5.0, 0.5, DType::Float32), 0, "arange");
  expect_close(arange(0.1, 7.3, 0.7, DType::Float64, kCuda), arange(0.1, 7.3, 0.7, DType::Float64), 0,
               "arange, inexact step");
  Tensor i = arange(10, kCuda);
  expect_close(i * 3 - 1, arange(10) * 3 - 1, 0, "int64");
}

TEST(CudaBackend, ReductionsAndSoftmaxMatchTheCpu) {
  TG_REQUIRE_GPU();
  Generator gen(3);
  Tensor x = randn({3, 700, 5}, DType::Float64, gen);
  Tensor g = x.to(kCuda);
  expect_close(sum(g), sum(x), 1e-13, "sum all");
  expect_close(sum(g, {1}), sum(x, {1}), 1e-13, "sum dim 1");
  expect_close(mean(g, {0, 2}, true), mean(x, {0, 2}, true), 1e-13, "mean keepdim");
  expect_close(max(g, {1}), max(x, {1}), 0, "max");
  expect_close(argmax(g, 1), argmax(x, 1), 0, "argmax");
  expect_close(argmin(g, 2), argmin(x, 2), 0, "argmin");
  expect_close(softmax(g, 1), softmax(x, 1), 1e-14, "softmax");
  expect_close(log_softmax(g, 2), log_softmax(x, 2), 1e-14, "log_softmax");
  Tensor ties = from_vector<double>({1, 3, 3, 2, 3}, {5}).to(kCuda);
  EXPECT_EQ(argmax(ties).item<int64_t>(), 1);  // the first maximum, as the CPU
}

TEST(CudaBackend, MatmulMatchesTheCpuOnStridedBatchedAndEdgeShapes) {
  TG_REQUIRE_GPU();
  Generator gen(4);
  for (auto [m, n, k] : std::vector<std::array<int64_t, 3>>{{1, 1, 1}, {65, 63, 17}, {128, 256, 64}, {7, 300, 129}}) {
    Tensor a = randn({m, k}, DType::Float32, gen), b = randn({k, n}, DType::Float32, gen);
    expect_close(matmul(a.to(kCuda), b.to(kCuda)), matmul(a, b), 1e-4, "matmul " + std::to_string(m));
    // Column-major operands: a transposed copy on the GPU, transposed back as a view (strides (1, rows)).
    expect_close(matmul(a.t().contiguous().to(kCuda).t(), b.t().contiguous().to(kCuda).t()), matmul(a, b), 1e-4,
                 "transposed operands");
  }
  Tensor a = randn({3, 2, 9, 11}, DType::Float64, gen), b = randn({11, 4}, DType::Float64, gen);
  expect_close(matmul(a.to(kCuda), b.to(kCuda)), matmul(a, b), 1e-12, "batched with broadcast");
  Tensor x = randn({16, 32}, DType::Float32, gen), w = randn({8, 32}, DType::Float32, gen),
         bias = randn({8}, DType::Float32, gen);
  expect_close(linear(x.to(kCuda), w.to(kCuda), bias.to(kCuda)), linear(x, w, bias), 1e-4, "linear (bias epilogue)");
}

// Large enough for the fast kernels (a wave of 128 x 128 tiles), in every operand layout, and the linear
// layer's three products (x W^T, g W, g^T x), whose operands are transposed views.
TEST(CudaBackend, FastMatmulKernelsMatchTheCpuInEveryLayout) {
  TG_REQUIRE_GPU();
  Generator gen(6);
  // Sizes in multiples of 8, not of the tiles (the fast kernels, edge tiles included), then odd ones (whose
  // strides send them to the strided kernel).
  for (auto [dtype, m, n, k] : std::vector<std::tuple<DType, int64_t, int64_t, int64_t>>{
           {DType::Float32, 1560, 1544, 200}, {DType::BFloat16, 1560, 1544, 200}, {DType::Float16, 1560, 1544, 200},
           {DType::Float32, 1553, 1541, 201}, {DType::BFloat16, 1553, 1541, 201}}) {
    const double tol = dtype == DType::Float32 ? 1e-4 : dtype == DType::BFloat16 ? 2e-2 : 4e-3;
    Tensor a = randn({m, k}, DType::Float32, gen).to(dtype), b = randn({k, n}, DType::Float32, gen).to(dtype);
    // Expected: the product of the rounded inputs, in float64, rounded to the dtype as the GPU's output is.
    const Tensor ref = matmul(a.to(DType::Float64), b.to(DType::Float64)).to(dtype);
    const Tensor ga = a.to(kCuda), gb = b.to(kCuda);
    const Tensor gat = a.t().contiguous().to(kCuda).t(), gbt = b.t().contiguous().to(kCuda).t();
    const std::string name = dtype_name(dtype);
    // Entries are sums of k unit-normal products, about sqrt(k) ~ 14 in size: compared after dividing by it
    // (in float32: the GPU has no 16-bit arithmetic kernels yet, only copies and matmul).
    const Tensor scaled_ref = ref.to(DType::Float32) / 14.0;
    auto check = [&](const Tensor& p, const char* layout) {
      ASSERT_EQ(p.dtype(), dtype);
      expect_close(p.to(DType::Float32) / 14.0, scaled_ref, tol, name + layout);
    };
    check(matmul(ga, gb), " row-major");
    check(matmul(gat, gb), " A column-major");
    check(matmul(ga, gbt), " B column-major");
    check(matmul(gat, gbt), " both column-major");
  }
  // Few output tiles and a long k (a convolution's weight gradient): split along k, summed in order.
  for (auto [dtype, m, n, k] : std::vector<std::tuple<DType, int64_t, int64_t, int64_t>>{
           {DType::Float32, 32, 9, 100352}, {DType::Float32, 64, 288, 25088}, {DType::Float64, 20, 30, 6000}}) {
    const Tensor a = randn({m, k}, dtype, gen), b = randn({k, n}, dtype, gen);
    const double scale = std::sqrt(static_cast<double>(k));
    expect_close(matmul(a.to(kCuda), b.to(kCuda)) / scale, matmul(a, b) / scale, dtype == DType::Float32 ? 1e-5 : 1e-12,
                 "split-K " + std::to_string(k));
    expect_close(matmul(a.t().contiguous().to(kCuda).t(), b.to(kCuda)) / scale, matmul(a, b) / scale,
                 dtype == DType::Float32 ? 1e-5 : 1e-12, "split-K, A column-major " + std::to_string(k));
  }
  Tensor x = randn({4096, 96}, DType::Float32, gen).requires_grad_(), w = randn({160, 96}, DType::Float32, gen);
  Tensor gx = x.detach().to(kCuda).requires_grad_(), gw = w.to(kCuda).requires_grad_();
  Tensor wc = w.requires_grad_();
  Tensor g = randn({4096, 160}, DType::Float32, gen);
  sum(linear(x, wc) * g).backward();
  sum(linear(gx, gw) * g.to(kCuda)).backward();
  expect_close(gx.grad(), x.grad(), 1e-4, "linear input gradient");
  expect_close(gw.grad() / 64.0, wc.grad() / 64.0, 1e-4, "linear weight gradient");
}

// The CNN's families on the GPU: im2col / col2im (a convolution and both its gradients, strided, padded and
// dilated), max pooling and its gradient (scatter_add), cross-entropy (gather, scatter_add), in float64.
TEST(CudaBackend, ConvolutionPoolingAndCrossEntropyMatchTheCpu) {
  TG_REQUIRE_GPU();
  Generator gen(8);
  const Tensor x = randn({3, 4, 11, 10}, DType::Float64, gen), w1 = randn({6, 4, 3, 3}, DType::Float64, gen);
  const Tensor b1 = randn({6}, DType::Float64, gen), w2 = randn({5, 6, 3, 2}, DType::Float64, gen);
  const Tensor targets = randint(0, 20, {3}, gen);
  auto run = [&](Device d) {
    Tensor xd = x.to(d).requires_grad_(), w1d = w1.to(d).requires_grad_(), b1d = b1.to(d).requires_grad_();
    Tensor w2d = w2.to(d).requires_grad_();
    Tensor y = relu(conv2d(xd, w1d, b1d, 1, 1));                                  // [3, 6, 11, 10]
    Tensor z = conv2d(y, w2d, {}, {2, 1}, {1, 0}, {1, 2});                        // [3, 5, 6, 8]
    Tensor p = max_pool2d(z, 2, 2);                                               // [3, 5, 3, 4]
    Tensor logits = reshape(p, {3, 60}).slice(1, 0, 20);
    Tensor loss = cross_entropy(logits, targets.to(d));
    loss.backward();
    return std::vector<Tensor>{loss, y, z, p, xd.grad(), w1d.grad(), b1d.grad(), w2d.grad()};
  };
  const auto gpu = run(kCuda), cpu = run(kCPU);
  const char* names[] = {"loss", "conv", "strided dilated conv", "max_pool", "x grad", "w1 grad", "b1 grad", "w2 grad"};
  for (size_t i = 0; i < gpu.size(); ++i) expect_close(gpu[i], cpu[i], 1e-12, names[i]);
  // gather / scatter_add directly, with repeated indices (atomic adds on the GPU).
  const Tensor src = randn({4, 7}, DType::Float64, gen), idx = randint(0, 3, {4, 7}, gen);
  expect_close(scatter_add(zeros({4, 3}, DType::Float64, kCuda), 1, idx.to(kCuda), src.to(kCuda)),
               scatter_add(zeros({4, 3}, DType::Float64), 1, idx, src), 1e-13, "scatter_add, repeated indices");
  const Tensor rows = randint(0, 4, {2, 7}, gen);
  expect_close(gather(src.to(kCuda), 0, rows.to(kCuda)), gather(src, 0, rows), 0, "gather");
}

// tg_train's CNN (3x3 convolutions, ReLU, 2x2 max pooling, two linear layers) trained three Adam steps, and an
// SGD-with-momentum model three steps, on the GPU and on the CPU from the same weights, in float64.
TEST(CudaBackend, OptimizerStepsOnTheGpuMatchTheCpu) {
  TG_REQUIRE_GPU();
  auto make = [] {
    Generator init(11);
    auto net = std::make_shared<nn::Sequential>();
    net->push_back(std::make_shared<nn::Conv2d>(1, 4, 3, nn::ConvOptions{.padding = 1}, init));
    net->push_back(std::make_shared<nn::ReLU>());
    net->push_back(std::make_shared<nn::MaxPool2d>(2));
    net->push_back(std::make_shared<nn::Flatten>());
    net->push_back(std::make_shared<nn::Linear>(4 * 4 * 4, 10, nn::LinearOptions{}, init));
    net->to(DType::Float64);
    return net;
  };
  Generator gen(12);
  const Tensor x = randn({8, 1, 8, 8}, DType::Float64, gen), y = randint(0, 10, {8}, gen);
  for (const char* which : {"adam", "sgd"}) {
    std::vector<Tensor> losses[2], weights[2];
    for (int on_gpu = 0; on_gpu < 2; ++on_gpu) {
      const Device d = on_gpu ? kCuda : kCPU;
      auto net = make();
      net->to(d);
      std::unique_ptr<optim::Optimizer> opt;
      if (std::string(which) == "adam")
        opt = std::make_unique<optim::Adam>(net->parameters(), optim::AdamOptions{.lr = 1e-2, .weight_decay = 1e-3});
      else
        opt = std::make_unique<optim::SGD>(net->parameters(), optim::SGDOptions{.lr = 0.1, .momentum = 0.9});
      for (int step = 0; step < 3; ++step) {
        Tensor loss = cross_entropy((*net)(x.to(d)), y.to(d));
        opt->zero_grad();
        loss.backward();
        opt->step();
        losses[on_gpu].push_back(loss.detach());
      }
      weights[on_gpu] = net->parameters();
    }
    for (size_t i = 0; i < losses[0].size(); ++i)
      expect_close(losses[1][i], losses[0][i], 1e-12, std::string(which) + " loss " + std::to_string(i));
    for (size_t i = 0; i < weights[0].size(); ++i)
      expect_close(weights[1][i].detach(), weights[0][i].detach(), 1e-10,
                   std::string(which) + " weight " + std::to_string(i));
  }
}

TEST(CudaBackend, RandomFillsAreTheCpusNumbers) {
  TG_REQUIRE_GPU();
  Generator g1(7), g2(7);
  EXPECT_EQ(rand({1001}, DType::Float32, g1, kCuda).cpu().to_vector<float>(),
            rand({1001}, DType::Float32, g2).to_vector<float>());
  EXPECT_EQ(randint(0, 10, {99}, g1, kCuda).cpu().to_vector<int64_t>(), randint(0, 10, {99}, g2).to_vector<int64_t>());
  expect_close(randn({513}, DType::Float64, g1, kCuda), randn({513}, DType::Float64, g2), 1e-12, "randn");
}

TEST(CudaBackend, ATrainingStepOnTheGpuMatchesTheCpu) {
  TG_REQUIRE_GPU();
  Generator gen(5);
  Tensor x = randn({64, 20}, DType::Float64, gen), y = randn({64, 3}, DType::Float64, gen);
  Tensor w1 = randn({16, 20}, DType::Float64, gen) * 0.3, w2 = randn({3, 16}, DType::Float64, gen) * 0.3;
  auto step = [&](Device device) {
    Tensor a = w1.to(device).requires_grad_(), b = w2.to(device).requires_grad_();
    Tensor loss = mean(square(linear(tanh(linear(x.to(device), a)), b) - y.to(device)));
    loss.backward();
    return std::vector<Tensor>{loss, a.grad(), b.grad()};
  };
  const auto gpu = step(kCuda), cpu = step(kCPU);
  for (size_t i = 0; i < gpu.size(); ++i) expect_close(gpu[i], cpu[i], 1e-12, "step tensor " + std::to_string(i));
}

}  // namespace
}  // namespace tg
