// Trains y = 3x - 2 with an installed tensorgrad: exits 0 only when autodiff, an op from every layer it
// touches and the optimizer work through the installed headers and libraries.
#include <cmath>
#include <cstdio>

#include <tensorgrad/tensorgrad.h>

int main() {
  tg::Generator gen(1);
  const tg::Tensor x = tg::randn({64, 1}, tg::DType::Float32, gen);
  const tg::Tensor y = x * 3.0 - 2.0;
  tg::nn::Linear model(1, 1, tg::nn::LinearOptions{}, gen);
  tg::optim::SGD opt(model.parameters(), tg::optim::SGDOptions{.lr = 0.1});
  double loss = 0;
  for (int step = 0; step < 200; ++step) {
    opt.zero_grad();
    const tg::Tensor l = tg::mse_loss(model.forward(x), y);
    l.backward();
    opt.step();
    loss = l.item();
  }
  const double w = model.parameters()[0].item(), b = model.parameters()[1].item();
  std::printf("consumer: w = %.4f, b = %.4f, loss = %.2e\n", w, b, loss);
  return std::abs(w - 3.0) < 1e-2 && std::abs(b + 2.0) < 1e-2 ? 0 : 1;
}
