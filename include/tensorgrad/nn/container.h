#pragma once
// Sequential (children named "0", "1", ... run in order; a ReLU directly followed by a MaxPool2d runs as the
// pooling then the relu, the same values and gradients with a quarter of the relu's work: container.cpp) and Flatten.
#include <memory>

#include <tensorgrad/nn/module.h>

namespace tg::nn {

class Sequential : public Module {
 public:
  Sequential() : Module("Sequential") {}
  // std::make_shared<Sequential>(std::make_shared<Linear>(784, 10), std::make_shared<ReLU>(), ...)
  template <class... Layers>
  explicit Sequential(std::shared_ptr<Layers>... layers) : Module("Sequential") {
    (push_back(std::move(layers)), ...);
  }
  Sequential& push_back(std::shared_ptr<Module> layer);
  Tensor forward(const Tensor& input) override;
  size_t size() const { return layers_.size(); }
  Module& operator[](size_t i) const { return *layers_.at(i); }

 private:
  std::vector<std::shared_ptr<Module>> layers_;
};

// Merges dims start_dim..end_dim into one (a view when strides allow), as torch.nn.Flatten (start_dim 1).
class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1)
      : Module("Flatten"), start_dim_(start_dim), end_dim_(end_dim) {}
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

 private:
  int64_t start_dim_, end_dim_;
};

}  // namespace tg::nn
