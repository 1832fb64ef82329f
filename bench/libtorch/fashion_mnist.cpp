// libtorch baseline for bench/train_epoch.sh: one Fashion-MNIST training epoch of tg_train's reference
// models and recipes (mlp: SGD lr 0.1 momentum 0.9, pixels in [0, 1]; cnn: Adam lr 1e-3, standardised pixels;
// batch 128, shuffled), evaluation excluded from the time. Prints one line:
//   libtorch <model> epoch_seconds=<s> test_accuracy=<a> threads=<n>
#include <torch/torch.h>
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

std::vector<uint8_t> read_gz(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) throw std::runtime_error("cannot open " + path);
  std::vector<uint8_t> out;
  uint8_t buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.insert(out.end(), buf, buf + n);
  gzclose(f);
  if (n < 0) throw std::runtime_error("cannot decompress " + path);
  return out;
}

uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }

// IDX file -> tensor of its dims (uint8 values).
torch::Tensor read_idx(const std::string& path) {
  const std::vector<uint8_t> raw = read_gz(path);
  if (raw.size() < 4) throw std::runtime_error(path + ": too short for an IDX header");
  const int ndim = raw[3];
  std::vector<int64_t> dims;
  for (int d = 0; d < ndim; ++d) dims.push_back(be32(raw.data() + 4 + 4 * d));
  const size_t offset = 4 + 4 * static_cast<size_t>(ndim);
  return torch::from_blob(const_cast<uint8_t*>(raw.data() + offset), dims, torch::kUInt8).clone();
}

torch::nn::Sequential make_model(const std::string& name) {
  namespace nn = torch::nn;
  if (name == "mlp")
    return nn::Sequential(nn::Flatten(), nn::Linear(784, 512), nn::ReLU(), nn::Linear(512, 256), nn::ReLU(),
                          nn::Linear(256, 10));
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 32, 3).padding(1)), nn::ReLU(), nn::MaxPool2d(2),
                        nn::Conv2d(nn::Conv2dOptions(32, 64, 3).padding(1)), nn::ReLU(), nn::MaxPool2d(2),
                        nn::Flatten(), nn::Linear(3136, 128), nn::ReLU(), nn::Linear(128, 10));
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_name = "mlp", data_dir = "/usr/share/datasets/fashion-mnist";
  int threads = 2, seed = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--model") model_name = value();
    else if (a == "--threads") threads = std::stoi(value());
    else if (a == "--seed") seed = std::stoi(value());
    else if (a == "--data-dir") data_dir = value();
    else {
      std::fprintf(stderr, "usage: libtorch_fashion_mnist [--model mlp|cnn] [--threads N] [--seed S] [--data-dir D]\n");
      return 2;
    }
  }
  if (model_name != "mlp" && model_name != "cnn") {
    std::fprintf(stderr, "libtorch_fashion_mnist: --model must be mlp or cnn, got %s\n", model_name.c_str());
    return 2;
  }
  torch::set_num_threads(threads);
  torch::manual_seed(seed);
  auto x = read_idx(data_dir + "/train-images-idx3-ubyte.gz").to(torch::kFloat32).div_(255.0).unsqueeze(1);
  auto y = read_idx(data_dir + "/train-labels-idx1-ubyte.gz").to(torch::kInt64);
  auto xt = read_idx(data_dir + "/t10k-images-idx3-ubyte.gz").to(torch::kFloat32).div_(255.0).unsqueeze(1);
  auto yt = read_idx(data_dir + "/t10k-labels-idx1-ubyte.gz").to(torch::kInt64);
  if (model_name == "cnn") {
    const double mean = x.mean().item<double>(), std = x.std().item<double>();
    x = (x - mean) / std;
    xt = (xt - mean) / std;
  }
  auto model = make_model(model_name);
  std::unique_ptr<torch::optim::Optimizer> opt;
  if (model_name == "mlp")
    opt = std::make_unique<torch::optim::SGD>(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  else
    opt = std::make_unique<torch::optim::Adam>(model->parameters(), torch::optim::AdamOptions(1e-3));
  const int64_t n = y.size(0);
  const auto order = torch::randperm(n);
  const auto start = std::chrono::steady_clock::now();
  model->train();
  for (int64_t i = 0; i < n; i += 128) {
    const auto idx = order.slice(0, i, std::min(n, i + 128));
    auto loss = torch::nn::functional::cross_entropy(model->forward(x.index_select(0, idx)), y.index_select(0, idx));
    opt->zero_grad();
    loss.backward();
    opt->step();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  model->eval();
  torch::NoGradGuard no_grad;
  int64_t correct = 0;
  for (int64_t i = 0; i < yt.size(0); i += 1000) {
    const auto logits = model->forward(xt.slice(0, i, i + 1000));
    correct += (logits.argmax(1) == yt.slice(0, i, i + 1000)).sum().item<int64_t>();
  }
  std::printf("libtorch %s epoch_seconds=%.3f test_accuracy=%.4f threads=%d\n", model_name.c_str(), seconds,
              static_cast<double>(correct) / static_cast<double>(yt.size(0)), threads);
  return 0;
}
