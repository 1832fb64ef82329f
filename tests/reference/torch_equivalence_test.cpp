// tensorgrad against PyTorch 1.13 in float64, on values PyTorch computed (tests/reference/make_torch_reference.py
// wrote torch_reference.safetensors; rerun it with python3-torch to regenerate): CTC loss and its gradient,
// MultiheadAttention and TransformerEncoderLayer (post- and pre-norm) with key padding masks, torchaudio's
// ConformerLayer, their outputs and the gradients of the inputs and of every parameter, with PyTorch's weights
// loaded by name.
#include <gtest/gtest.h>

#include <tensorgrad/tensorgrad.h>

#include "support/oracle.h"

namespace {

using tg::DType;
using tg::Tensor;

const tg::StateDict& reference() {
  static const tg::StateDict tensors = tg::load_safetensors(TG_TEST_REFERENCE_DIR "/torch_reference.safetensors").tensors;
  return tensors;
}

const Tensor& torch_value(const std::string& name) {
  const auto it = reference().find(name);
  if (it == reference().end()) throw std::runtime_error("torch_reference.safetensors has no tensor " + name);
  return it->second;
}

// The entries under `prefix`, the prefix removed (a module's state dict).
tg::StateDict with_prefix(const std::string& prefix) {
  tg::StateDict out;
  for (const auto& [name, t] : reference())
    if (name.compare(0, prefix.size(), prefix) == 0) out[name.substr(prefix.size())] = t;
  return out;
}

// Relative error at most 1e-10 of the largest magnitude (PyTorch and tensorgrad sum in different orders), with an
// absolute floor of 1e-13 for values that are zero up to rounding (e.g. the gradient of a bias that feeds a
// BatchNorm).
void expect_close(const Tensor& got, const Tensor& want, const std::string& what) {
  ASSERT_TRUE(got.defined()) << what << " is undefined";
  ASSERT_EQ(got.shape(), want.shape()) << what;
  double scale = 1e-300;
  for (double v : tgtest::to_doubles(want)) scale = std::max(scale, std::abs(v));
  const std::string diff =
      tgtest::compare(tgtest::to_ref(got), tgtest::to_ref(want), {1e-10, std::max(1e-10 * scale, 1e-13)});
  EXPECT_TRUE(diff.empty()) << what << ": " << diff;
}

TEST(TorchEquivalence, CtcLossValuesAndGradient) {
  const Tensor targets = torch_value("ctc.targets"), input_lengths = torch_value("ctc.input_lengths");
  const Tensor target_lengths = torch_value("ctc.target_lengths");
  // The padded targets, and the same labels concatenated (torch's other form).
  std::vector<int64_t> concatenated;
  const auto padded = targets.to_vector<int64_t>();
  const auto lengths = target_lengths.to_vector<int64_t>();
  for (size_t n = 0; n < lengths.size(); ++n)
    for (int64_t s = 0; s < lengths[n]; ++s) concatenated.push_back(padded[n * static_cast<size_t>(targets.size(1)) + static_cast<size_t>(s)]);
  for (const Tensor& t : {targets, tg::from_vector<int64_t>(concatenated)}) {
    const Tensor logits = torch_value("ctc.logits").detach().requires_grad_(true);
    const Tensor lp = tg::log_softmax(logits, 2);
    expect_close(lp, torch_value("ctc.log_probs"), "log_softmax");
    auto loss = [&](tg::Reduction r) {
      tg::CtcLossOptions o;
      o.reduction = r;
      return tg::ctc_loss(lp, t, input_lengths, target_lengths, o);
    };
    expect_close(loss(tg::Reduction::None), torch_value("ctc.loss_none"), "ctc loss (none)");
    expect_close(loss(tg::Reduction::Sum), torch_value("ctc.loss_sum"), "ctc loss (sum)");
    const Tensor mean = loss(tg::Reduction::Mean);
    expect_close(mean, torch_value("ctc.loss_mean"), "ctc loss (mean)");
    mean.backward();
    // Through log_softmax: PyTorch's ctc_loss backward returns the logits' gradient as the log_probs' one (see
    // make_torch_reference.py); tensorgrad's is the true one. They agree on the logits.
    expect_close(logits.grad(), torch_value("ctc.grad_mean"), "d mean / d logits");
  }
}

TEST(TorchEquivalence, MultiheadAttentionOutputsAndGradients) {
  tg::nn::MultiheadAttention mha(8, 2, {.dtype = DType::Float64});
  mha.load_state_dict(with_prefix("mha.state."));
  const Tensor q = torch_value("mha.query").detach().requires_grad_(true), k = torch_value("mha.key").detach().requires_grad_(true),
               v = torch_value("mha.value").detach().requires_grad_(true);
  const auto out = mha.forward(q, k, v, torch_value("mha.key_padding_mask"));
  expect_close(out.output, torch_value("mha.output"), "output");
  expect_close(out.weights, torch_value("mha.weights"), "head-averaged weights");
  tg::sum(out.output * torch_value("mha.probe")).backward();
  expect_close(q.grad(), torch_value("mha.grad_query"), "d/d query");
  expect_close(k.grad(), torch_value("mha.grad_key"), "d/d key");
  expect_close(v.grad(), torch_value("mha.grad_value"), "d/d value");
  for (const auto& [name, p] : mha.named_parameters()) expect_close(p.grad(), torch_value("mha.grad." + name), "d/d " + name);
}

TEST(TorchEquivalence, TransformerEncoderLayerPostAndPreNorm) {
  for (const std::string prefix : {"tel_post", "tel_pre"}) {
    tg::nn::TransformerEncoderLayer layer(
        8, 2, {.dim_feedforward = 16, .dropout = 0.0, .norm_first = prefix == "tel_pre", .dtype = DType::Float64});
    layer.load_state_dict(with_prefix(prefix + ".state."));
    layer.train();
    const Tensor src = torch_value(prefix + ".src").detach().requires_grad_(true);
    const Tensor y = layer.forward(src, {}, torch_value(prefix + ".key_padding_mask"));
    expect_close(y, torch_value(prefix + ".output"), prefix + " output");
    tg::sum(y * torch_value(prefix + ".probe")).backward();
    expect_close(src.grad(), torch_value(prefix + ".grad_src"), prefix + " d/d src");
    int64_t checked = 0;
    for (const auto& [name, p] : layer.named_parameters()) {
      expect_close(p.grad(), torch_value(prefix + ".grad." + name), prefix + " d/d " + name);
      ++checked;
    }
    EXPECT_EQ(checked, 12) << "every parameter of the layer";
  }
}

// torchaudio's ConformerLayer, train mode, no padding mask: output, input and parameter gradients, and the
// BatchNorm running statistics after the step.
TEST(TorchEquivalence, ConformerBlockMatchesTorchaudio) {
  tg::nn::ConformerBlock block(8, 2, {.ffn_dim = 16, .depthwise_kernel_size = 3, .dropout = 0.0, .dtype = DType::Float64});
  block.load_state_dict(with_prefix("conformer.state."));
  block.train();
  // torchaudio is time-first [T, N, D]; the block takes [N, T, D].
  const Tensor x = tg::transpose(torch_value("conformer.input"), 0, 1).contiguous().requires_grad_(true);
  const Tensor y = block.forward(x, {});
  expect_close(tg::transpose(y, 0, 1), torch_value("conformer.output"), "output");
  tg::sum(tg::transpose(y, 0, 1) * torch_value("conformer.probe")).backward();
  expect_close(tg::transpose(x.grad(), 0, 1), torch_value("conformer.grad_input"), "d/d input");
  int64_t checked = 0;
  for (const auto& [name, p] : block.named_parameters()) {
    expect_close(p.grad(), torch_value("conformer.grad." + name), "d/d " + name);
    ++checked;
  }
  EXPECT_EQ(checked, 30);
  for (const auto& [name, b] : block.named_buffers())
    if (name.find("running") != std::string::npos) expect_close(b, torch_value("conformer.after." + name), name);
}

}  // namespace
