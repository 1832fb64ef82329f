#pragma once
// Fashion-MNIST (Xiao, Rasul and Vollgraf 2017) from the files of Debian's package dataset-fashion-mnist
// (`apt-get install dataset-fashion-mnist`); tensorgrad never downloads data.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <tensorgrad/core/tensor.h>

namespace tg {

inline constexpr const char* kFashionMnistDefaultDir = "/usr/share/datasets/fashion-mnist";
inline constexpr int64_t kFashionMnistClasses = 10;

struct FashionMnist {
  Tensor images;  // float32 [N, 1, 28, 28], pixel / 255, in [0, 1]
  Tensor labels;  // int64 [N], in [0, 10)
};

// $TG_FASHION_MNIST_DIR when set and not empty, else kFashionMnistDefaultDir.
std::string fashion_mnist_dir();

// Loads split "train" (60000 items: train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz) or "test"
// (10000 items: t10k-*) from `dir` (fashion_mnist_dir() when empty). Checks that both files exist (the
// error names the package to install), that images are N x 28 x 28, that the image and label counts
// agree, and that every label is below 10 (the error names the file, the item and its byte offset).
FashionMnist load_fashion_mnist(const std::string& split = "train", const std::string& dir = "");

// "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot".
const std::array<std::string_view, 10>& fashion_mnist_classes();

}  // namespace tg
