#include <gtest/gtest.h>
#include <tensorgrad/tensorgrad.h>

#include <cmath>
#include <cstring>
#include <sstream>

#include "support/expect_error.h"

namespace {

using tg::Tensor;
using namespace tg::nn;

std::shared_ptr<Sequential> mlp(tg::Generator& gen) {
  return std::make_shared<Sequential>(std::make_shared<Linear>(4, 3, LinearOptions{}, gen), std::make_shared<ReLU>(),
                                      std::make_shared<Linear>(3, 2, LinearOptions{.bias = false}, gen));
}

// A module with a buffer and a nested child, to see how names compose.
class Block : public Module {
 public:
  explicit Block(tg::Generator& gen) : Module("Block") {
    scale = register_parameter("scale", tg::ones({2}));
    count = register_buffer("count", tg::zeros({1}, tg::DType::Int64));
    body = register_module("body", std::make_shared<Linear>(2, 2, LinearOptions{}, gen));
  }
  Tensor forward(const Tensor& x) override { return body->forward(x) * scale; }
  Tensor scale, count;
  std::shared_ptr<Linear> body;
};

std::vector<std::string> names(const NamedTensors& list) {
  std::vector<std::string> out;
  for (const auto& e : list) out.push_back(e.first);
  return out;
}

TEST(NnModule, NamesFollowRegistrationOrderAndNesting) {
  tg::Generator gen(1);
  auto net = mlp(gen);
  EXPECT_EQ(names(net->named_parameters()), (std::vector<std::string>{"0.weight", "0.bias", "2.weight"}));
  EXPECT_EQ(net->num_parameters(), 4 * 3 + 3 + 3 * 2);
  Block block(gen);
  EXPECT_EQ(names(block.named_parameters()), (std::vector<std::string>{"scale", "body.weight", "body.bias"}));
  EXPECT_EQ(names(block.named_buffers()), (std::vector<std::string>{"count"}));
  for (const auto& p : block.parameters()) EXPECT_TRUE(p.requires_grad());
  EXPECT_FALSE(block.count.requires_grad());
}

TEST(NnModule, ParametersShareStorageWithTheLayer) {
  tg::Generator gen(1);
  Linear layer(3, 2, {}, gen);
  Tensor w = layer.parameters()[0];
  EXPECT_TRUE(w.same(layer.weight));
  tg::sum(layer.forward(tg::ones({1, 3}))).backward();
  ASSERT_TRUE(layer.weight.grad().defined());
  EXPECT_TRUE(w.grad().defined());
  layer.zero_grad();
  EXPECT_FALSE(layer.weight.grad().defined());
}

TEST(NnModule, LinearMatchesAHandComputedProduct) {
  tg::Generator gen(3);
  Linear layer(2, 3, {.dtype = tg::DType::Float64}, gen);
  layer.load_state_dict({{"weight", tg::from_vector<double>({1, 2, 3, 4, 5, 6}, {3, 2})},
                         {"bias", tg::from_vector<double>({0.5, -1, 2}, {3})}});
  const Tensor y = layer(tg::from_vector<double>({1, -1, 2, 0.5}, {2, 2}));
  // [1, -1]: 1-2+0.5, 3-4-1, 5-6+2; [2, 0.5]: 2+1+0.5, 6+2-1, 10+3+2
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{-0.5, -2, 1, 3.5, 7, 15}));
}

TEST(NnModule, LinearInitIsBoundedByOneOverSqrtFanIn) {
  tg::Generator gen(7);
  Linear layer(100, 50, {}, gen);
  const auto w = layer.weight.to_vector<float>();
  const double bound = 0.1;
  double max_abs = 0, sum_sq = 0;
  for (float v : w) {
    max_abs = std::max(max_abs, std::abs(static_cast<double>(v)));
    sum_sq += static_cast<double>(v) * v;
  }
  EXPECT_LE(max_abs, bound);
  EXPECT_GT(max_abs, 0.95 * bound);
  // U(-b, b) has variance b^2 / 3; 5000 draws put the sample variance within a few percent.
  EXPECT_NEAR(sum_sq / static_cast<double>(w.size()), bound * bound / 3, 0.1 * bound * bound / 3);
  tg::Generator same(7);
  Linear again(100, 50, {}, same);
  EXPECT_EQ(again.weight.to_vector<float>(), w);
}

TEST(NnModule, StateDictRoundTripsIntoAFreshModel) {
  tg::Generator a(1), b(2);
  auto src = mlp(a);
  auto dst = mlp(b);
  const Tensor x = tg::randn({5, 4}, tg::DType::Float32, a);
  EXPECT_NE(src->forward(x).to_vector<float>(), dst->forward(x).to_vector<float>());
  Tensor dst_weight = dst->parameters()[0];
  dst->load_state_dict(src->state_dict());
  EXPECT_EQ(src->forward(x).to_vector<float>(), dst->forward(x).to_vector<float>());
  EXPECT_TRUE(dst_weight.same(dst->parameters()[0]));  // loaded in place, not rebound
}

TEST(NnModule, LoadStateDictNamesEveryBadKeyAndChangesNothing) {
  tg::Generator gen(1);
  auto net = mlp(gen);
  const std::vector<float> before = net->parameters()[1].to_vector<float>();
  tg::StateDict sd = net->state_dict();
  for (auto& [k, v] : sd) v = v.clone();
  sd["0.bias"] = tg::zeros({3});
  sd.erase("2.weight");
  sd["3.weight"] = tg::zeros({1});
  sd["0.weight"] = tg::zeros({4, 3});
  EXPECT_TG_ERROR(net->load_state_dict(sd), "load_state_dict", "missing keys: [2.weight]",
                  "unexpected keys: [3.weight]", "mismatched: [0.weight: checkpoint [4, 3] vs model [3, 4]]");
  EXPECT_EQ(net->parameters()[1].to_vector<float>(), before);  // 0.bias was valid but still not loaded
  // Non-strict loading ignores unexpected keys but not missing ones.
  sd["2.weight"] = tg::zeros({2, 3});
  sd["0.weight"] = tg::zeros({3, 4});
  net->load_state_dict(sd, /*strict=*/false);
  EXPECT_EQ(net->parameters()[1].to_vector<float>(), (std::vector<float>{0, 0, 0}));
}

TEST(NnModule, TrainAndEvalReachEveryChild) {
  tg::Generator gen(1);
  auto net = mlp(gen);
  EXPECT_TRUE((*net)[0].is_training());
  net->eval();
  EXPECT_FALSE(net->is_training());
  for (size_t i = 0; i < net->size(); ++i) EXPECT_FALSE((*net)[i].is_training());
  net->train();
  EXPECT_TRUE((*net)[2].is_training());
}

TEST(NnModule, PrintsATree) {
  tg::Generator gen(1);
  auto net = mlp(gen);
  std::ostringstream os;
  os << *net;
  EXPECT_EQ(os.str(),
            "Sequential(\n"
            "  (0): Linear(in_features=4, out_features=3, bias=true)\n"
            "  (1): ReLU()\n"
            "  (2): Linear(in_features=3, out_features=2, bias=false)\n"
            ")");
}

TEST(NnModule, BadRegistrationsAndInputsThrow) {
  tg::Generator gen(1);
  EXPECT_TG_ERROR(Linear(0, 3, {}, gen), "nn::Linear", "in_features=0");
  Linear layer(3, 2, {}, gen);
  EXPECT_TG_ERROR(layer(tg::ones({4, 5})), "tg::linear", "[4, 5]", "[2, 3]");
  class Twice : public Module {
   public:
    Twice() : Module("Twice") {
      register_parameter("w", tg::ones({1}));
      register_parameter("w", tg::ones({1}));
    }
    Tensor forward(const Tensor& x) override { return x; }
  };
  EXPECT_TG_ERROR(Twice(), "nn::Twice", "\"w\" is already registered");
}

// Sequential runs ReLU then MaxPool2d as the pooling then the relu (container.cpp). Against the layers called one
// by one: the same output and input gradient, bit for bit, on windows whose maximum is positive (some tied), not
// positive, zero, or NaN; the relu is the last node (it ran on the pooled tensor); a window whose maximum is -0 is
// the documented exception (-0 instead of +0).
TEST(NnModule, SequentialPoolsBeforeTheReluWithTheSameValuesAndGradients) {
  const float nan = std::nanf("");
  // One image, one channel, 4 x 6: six 2x2 windows.
  const std::vector<float> values = {
      1.0f,  3.0f,  -1.0f, -2.0f, 0.0f,  -1.0f,  // windows: (1 3 / 3 2) tied positive maximum,
      3.0f,  2.0f,  -3.0f, -4.0f, -5.0f, 0.0f,   // (-1 -2 / -3 -4) all negative, (0 -1 / -5 0) zero maximum
      nan,   2.0f,  -1.0f, 5.0f,  0.5f,  -0.5f,  // (nan 2 / 1 nan) NaN first, (-1 5 / -2 -6) one positive,
      1.0f,  nan,   -2.0f, -6.0f, 0.25f, 0.5f};  // (0.5 -0.5 / 0.25 0.5) tied positive in the last row
  const Tensor weights = tg::from_vector<float>({0.5f, -1.5f, 2.0f, 0.25f, -3.0f, 1.25f}, {1, 1, 2, 3});
  auto run = [&](bool sequential, Tensor& grad) {
    Tensor x = tg::from_vector<float>(values, {1, 1, 4, 6}).requires_grad_(true);
    ReLU relu;
    MaxPool2d pool(2);
    Sequential net(std::make_shared<ReLU>(), std::make_shared<MaxPool2d>(2));
    const Tensor y = sequential ? net(x) : pool(relu(x));
    tg::sum(y * weights).backward();
    grad = x.grad();
    return y;
  };
  Tensor grad_in_order, grad_sequential;
  const Tensor in_order = run(false, grad_in_order), sequential = run(true, grad_sequential);
  ASSERT_EQ(sequential.shape(), in_order.shape());
  const std::vector<float> a = in_order.to_vector<float>(), b = sequential.to_vector<float>();
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(std::memcmp(&a[i], &b[i], sizeof(float)) == 0) << "output " << i << ": " << a[i] << " vs " << b[i];
  const std::vector<float> ga = grad_in_order.to_vector<float>(), gb = grad_sequential.to_vector<float>();
  for (size_t i = 0; i < ga.size(); ++i)
    EXPECT_TRUE(std::memcmp(&ga[i], &gb[i], sizeof(float)) == 0) << "gradient " << i << ": " << ga[i] << " vs " << gb[i];
  EXPECT_EQ(sequential.grad_fn()->name(), "relu");
  EXPECT_NE(in_order.grad_fn()->name(), "relu");

  // A window whose maximum is -0: the relu of the pooled -0 is -0; the layers in order pool relu's +0 first.
  Sequential net(std::make_shared<ReLU>(), std::make_shared<MaxPool2d>(2));
  const float pooled = net(tg::from_vector<float>({-1.0f, -0.0f, -2.0f, -3.0f}, {1, 1, 2, 2})).item<float>();
  EXPECT_EQ(pooled, 0.0f);
  EXPECT_TRUE(std::signbit(pooled));
}

TEST(NnModule, FlattenKeepsTheBatchDim) {
  Flatten flatten;
  EXPECT_EQ(flatten(tg::zeros({2, 3, 4, 5})).shape(), (tg::Shape{2, 60}));
}

TEST(NnInit, KaimingAndXavierScales) {
  tg::Generator gen(11);
  Tensor w = tg::empty({200, 50, 3, 3});  // fan_in 450, fan_out 1800
  auto variance = [](const Tensor& t) {
    double s = 0;
    for (float v : t.to_vector<float>()) s += static_cast<double>(v) * v;
    return s / static_cast<double>(t.numel());
  };
  init::kaiming_normal_(w, gen);
  EXPECT_NEAR(variance(w), 2.0 / 450, 0.03 * 2.0 / 450);
  init::kaiming_uniform_(w, gen);
  EXPECT_NEAR(variance(w), 2.0 / 450, 0.03 * 2.0 / 450);
  init::xavier_uniform_(w, gen);
  EXPECT_NEAR(variance(w), 2.0 / (450 + 1800), 0.03 * 2.0 / 2250);
  init::xavier_normal_(w, gen);
  EXPECT_NEAR(variance(w), 2.0 / (450 + 1800), 0.03 * 2.0 / 2250);
  EXPECT_EQ(init::fans(w).in, 450);
  EXPECT_EQ(init::fans(w).out, 1800);
  Tensor v = tg::empty({3});
  EXPECT_TG_ERROR(init::kaiming_uniform_(v, gen), "nn::init", "[3]");
}

}  // namespace
