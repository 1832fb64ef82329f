#include <tensorgrad/base/error.h>
#include <tensorgrad/data/fashion_mnist.h>
#include <tensorgrad/data/idx.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace tg {

namespace {
constexpr const char* kOp = "tg::load_fashion_mnist";
}

std::string fashion_mnist_dir() {
  const char* env = std::getenv("TG_FASHION_MNIST_DIR");
  return env && *env ? std::string(env) : std::string(kFashionMnistDefaultDir);
}

const std::array<std::string_view, 10>& fashion_mnist_classes() {
  static const std::array<std::string_view, 10> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                         "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

FashionMnist load_fashion_mnist(const std::string& split, const std::string& dir) {
  TG_CHECK(split == "train" || split == "test", kOp, ": split must be \"train\" or \"test\", got \"", split, "\"");
  const std::filesystem::path base = dir.empty() ? fashion_mnist_dir() : dir;
  const std::string prefix = split == "train" ? "train" : "t10k";
  const std::string images_path = (base / (prefix + "-images-idx3-ubyte.gz")).string();
  const std::string labels_path = (base / (prefix + "-labels-idx1-ubyte.gz")).string();
  for (const std::string& p : {images_path, labels_path}) {
    std::error_code ec;
    TG_CHECK(std::filesystem::exists(p, ec), kOp, ": ", p, ": no such file. Fashion-MNIST is read from the files of "
             "Debian's package dataset-fashion-mnist: install it with `apt-get install dataset-fashion-mnist` "
             "(files in ", kFashionMnistDefaultDir, "), or set TG_FASHION_MNIST_DIR to a directory holding ",
             prefix, "-images-idx3-ubyte.gz and ", prefix, "-labels-idx1-ubyte.gz; nothing is ever downloaded");
  }

  const IdxArray labels = read_idx(labels_path);
  TG_CHECK(labels.dims.size() == 1, kOp, ": ", labels_path, ": expected a 1-D label file, got dims ", labels.dims,
           " (bytes 4..", labels.data_offset, ")");
  const int64_t n = labels.dims[0];
  for (int64_t i = 0; i < n; ++i) {
    const unsigned label = labels.data[static_cast<size_t>(i)];
    TG_CHECK(label < kFashionMnistClasses, kOp, ": ", labels_path, ": label ", label, " of item ", i, " at byte ",
             labels.data_offset + i, " is out of range: Fashion-MNIST has ", kFashionMnistClasses, " classes");
  }

  const IdxArray images = read_idx(images_path);
  TG_CHECK(images.dims.size() == 3 && images.dims[1] == 28 && images.dims[2] == 28, kOp, ": ", images_path,
           ": expected images of dims [N, 28, 28], got dims ", images.dims, " (bytes 4..", images.data_offset, ")");
  TG_CHECK(images.dims[0] == n, kOp, ": the image and label counts differ: ", images_path, " has ", images.dims[0],
           " images (dims at byte 4), ", labels_path, " has ", n, " labels (dims at byte 4)");

  FashionMnist out;
  out.labels = Tensor::empty({n}, DType::Int64);
  int64_t* lab = out.labels.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) lab[i] = labels.data[static_cast<size_t>(i)];

  // A table gives exactly v / 255 (so 0 -> 0 and 255 -> 1 exactly) at the cost of a load.
  std::array<float, 256> scale{};
  for (int v = 0; v < 256; ++v) scale[static_cast<size_t>(v)] = static_cast<float>(v) / 255.0f;
  out.images = Tensor::empty({n, 1, 28, 28}, DType::Float32);
  float* img = out.images.data<float>();
  const uint8_t* src = images.data.data();
  const size_t count = images.data.size();
  for (size_t i = 0; i < count; ++i) img[i] = scale[src[i]];
  return out;
}

}  // namespace tg
