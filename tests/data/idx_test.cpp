// The IDX reader and the Fashion-MNIST loader on synthetic .gz files written here (good files, and each kind
// of damage), and on the real files of Debian's package dataset-fashion-mnist.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <tensorgrad/tensorgrad.h>
#include <vector>

#include "support/expect_error.h"

namespace {

namespace fs = std::filesystem;
using tg::DType;
using tg::Tensor;

// A fresh directory under $TMPDIR, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "tg-data-test-XXXXXX").string();
    EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

// The bytes of an IDX file: magic 00 00 <type> <ndims>, big-endian dims, then the payload.
std::string idx_bytes(const std::vector<uint32_t>& dims, const std::string& payload, unsigned char type = 0x08) {
  std::string out = {'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((d >> shift) & 0xff);
  return out + payload;
}

void write_gz(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  if (!bytes.empty()) {
    ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  }
  ASSERT_EQ(gzclose(f), Z_OK);
}

std::string read_raw(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_raw(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Deterministic bytes that do not compress to nothing (so corrupting the middle hits real deflate data).
std::string noise(size_t n, uint32_t seed = 1) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    out[i] = static_cast<char>(seed >> 24);
  }
  return out;
}

TEST(DataIdx, RoundTripThreeDims) {
  TempDir dir;
  const std::string path = dir.file("images.gz");
  std::string payload;
  for (int i = 0; i < 2 * 3 * 4; ++i) payload += static_cast<char>(i * 10);
  write_gz(path, idx_bytes({2, 3, 4}, payload));
  const tg::IdxArray a = tg::read_idx(path);
  EXPECT_EQ(a.dims, (tg::Shape{2, 3, 4}));
  EXPECT_EQ(a.data_offset, 16);
  ASSERT_EQ(a.data.size(), 24u);
  for (int i = 0; i < 24; ++i) EXPECT_EQ(a.data[static_cast<size_t>(i)], i * 10);
}

TEST(DataIdx, RoundTripOneDimAndLargeValues) {
  TempDir dir;
  const std::string path = dir.file("labels.gz");
  const std::string payload = noise(70000);
  write_gz(path, idx_bytes({70000}, payload));
  const tg::IdxArray a = tg::read_idx(path);
  EXPECT_EQ(a.dims, (tg::Shape{70000}));
  EXPECT_EQ(a.data_offset, 8);
  EXPECT_EQ(std::string(a.data.begin(), a.data.end()), payload);
}

TEST(DataIdx, ReadsUncompressedIdxToo) {
  TempDir dir;
  const std::string path = dir.file("plain-idx1-ubyte");
  write_raw(path, idx_bytes({3}, "\x01\x02\x03"));
  EXPECT_EQ(tg::read_idx(path).data, (std::vector<uint8_t>{1, 2, 3}));
}

TEST(DataIdx, BadMagic) {
  TempDir dir;
  const std::string path = dir.file("bad-magic.gz");
  std::string bytes = idx_bytes({4}, "abcd");
  bytes[1] = '\x01';
  write_gz(path, bytes);
  EXPECT_TG_ERROR(tg::read_idx(path), path, "bad magic at byte 0", "00 01 08 01");
}

TEST(DataIdx, WrongTypeCode) {
  TempDir dir;
  const std::string path = dir.file("floats.gz");
  write_gz(path, idx_bytes({1}, "abcd", 0x0D));
  EXPECT_TG_ERROR(tg::read_idx(path), path, "type code 0x0d", "byte 2", "float32", "0x08");
}

TEST(DataIdx, BadNumberOfDimensions) {
  TempDir dir;
  const std::string path = dir.file("dims.gz");
  write_gz(path, idx_bytes({1, 1, 1, 1, 1}, "a"));
  EXPECT_TG_ERROR(tg::read_idx(path), path, "number of dimensions 5 at byte 3");
  write_gz(path, idx_bytes({}, ""));
  EXPECT_TG_ERROR(tg::read_idx(path), path, "number of dimensions 0 at byte 3");
}

TEST(DataIdx, TruncatedHeader) {
  TempDir dir;
  const std::string path = dir.file("short.gz");
  write_gz(path, std::string("\0\0\x08", 3));
  EXPECT_TG_ERROR(tg::read_idx(path), path, "truncated at byte 3", "magic");
  write_gz(path, idx_bytes({60000}, "").substr(0, 6));
  EXPECT_TG_ERROR(tg::read_idx(path), path, "truncated at byte 6", "dimensions");
  write_gz(path, "");
  EXPECT_TG_ERROR(tg::read_idx(path), path, "truncated at byte 0");
}

TEST(DataIdx, TruncatedPayloadNamesPathAndOffset) {
  TempDir dir;
  const std::string path = dir.file("train-labels-idx1-ubyte.gz");
  write_gz(path, idx_bytes({60000}, std::string(1234, '\x05')));
  EXPECT_TG_ERROR(tg::read_idx(path), path, "truncated at byte 1242", "expected 60000 data bytes", "from byte 8",
                  "ends after 1234");
}

TEST(DataIdx, HugeDimsFailAsTruncatedNotAsAllocation) {
  TempDir dir;
  const std::string path = dir.file("huge.gz");
  write_gz(path, idx_bytes({0xffffffffu, 0x1000u}, "xyz"));
  EXPECT_TG_ERROR(tg::read_idx(path), path, "truncated at byte 15", "ends after 3");
  write_gz(path, idx_bytes({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, "xyz"));
  EXPECT_TG_ERROR(tg::read_idx(path), path, "more items than fit in 64 bits");
}

TEST(DataIdx, TrailingGarbage) {
  TempDir dir;
  const std::string path = dir.file("trailing.gz");
  write_gz(path, idx_bytes({2, 2}, "abcd") + "XYZ");
  EXPECT_TG_ERROR(tg::read_idx(path), path, "trailing garbage at byte 16", "3 bytes follow");
}

TEST(DataIdx, CorruptGzipData) {
  TempDir dir;
  const std::string path = dir.file("corrupt.gz");
  write_gz(path, idx_bytes({200, 100}, noise(20000)));
  std::string bytes = read_raw(path);
  ASSERT_GT(bytes.size(), 1000u);
  for (size_t i = bytes.size() / 2; i < bytes.size() / 2 + 64; ++i) bytes[i] = static_cast<char>(bytes[i] ^ 0x5a);
  write_raw(path, bytes);
  EXPECT_TG_ERROR(tg::read_idx(path), path, "corrupt gzip data", "decompressed byte");
}

TEST(DataIdx, CorruptGzipChecksum) {
  TempDir dir;
  const std::string path = dir.file("crc.gz");
  write_gz(path, idx_bytes({4}, "abcd"));
  std::string bytes = read_raw(path);
  bytes[bytes.size() - 8] = static_cast<char>(bytes[bytes.size() - 8] ^ 0xff);  // the CRC-32 in the trailer
  write_raw(path, bytes);
  EXPECT_TG_ERROR(tg::read_idx(path), path, "corrupt gzip data");
}

TEST(DataIdx, TruncatedGzipStream) {
  TempDir dir;
  const std::string path = dir.file("cut.gz");
  write_gz(path, idx_bytes({20000}, noise(20000)));
  const std::string bytes = read_raw(path);
  write_raw(path, bytes.substr(0, bytes.size() / 2));
  EXPECT_TG_ERROR(tg::read_idx(path), path, "corrupt gzip data", "truncated");
}

TEST(DataIdx, MissingFileNamesPathAndPackage) {
  TempDir dir;
  const std::string path = dir.file("nope-idx1-ubyte.gz");
  EXPECT_TG_ERROR(tg::read_idx(path), path, "No such file", "dataset-fashion-mnist",
                  "apt-get install dataset-fashion-mnist");
}

// ---- Fashion-MNIST on synthetic files ----

// Writes <prefix>-images-idx3-ubyte.gz (n x 28 x 28, pixel = (i + p) % 256) and <prefix>-labels-idx1-ubyte.gz.
void write_fashion(const TempDir& dir, const std::string& prefix, uint32_t n_images, const std::string& labels) {
  std::string pixels(static_cast<size_t>(n_images) * 784, '\0');
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<char>(i % 256);
  write_gz(dir.file(prefix + "-images-idx3-ubyte.gz"), idx_bytes({n_images, 28, 28}, pixels));
  write_gz(dir.file(prefix + "-labels-idx1-ubyte.gz"), idx_bytes({static_cast<uint32_t>(labels.size())}, labels));
}

TEST(DataFashionMnist, SyntheticRoundTrip) {
  TempDir dir;
  write_fashion(dir, "t10k", 3, std::string("\x09\x00\x04", 3));
  const tg::FashionMnist d = tg::load_fashion_mnist("test", dir.str());
  EXPECT_EQ(d.images.shape(), (tg::Shape{3, 1, 28, 28}));
  EXPECT_EQ(d.images.dtype(), DType::Float32);
  EXPECT_EQ(d.labels.shape(), (tg::Shape{3}));
  EXPECT_EQ(d.labels.dtype(), DType::Int64);
  EXPECT_EQ(d.labels.to_vector<int64_t>(), (std::vector<int64_t>{9, 0, 4}));
  const float* px = d.images.data<float>();
  EXPECT_EQ(px[0], 0.0f);
  EXPECT_EQ(px[1], 1.0f / 255.0f);
  EXPECT_EQ(px[255], 1.0f);  // exactly
  EXPECT_EQ(px[256], 0.0f);
}

TEST(DataFashionMnist, EnvironmentVariableOverridesDefaultDir) {
  TempDir dir;
  write_fashion(dir, "train", 2, std::string("\x01\x02", 2));
  const char* old = std::getenv("TG_FASHION_MNIST_DIR");
  const std::string saved = old ? old : "";
  ::setenv("TG_FASHION_MNIST_DIR", dir.str().c_str(), 1);
  EXPECT_EQ(tg::fashion_mnist_dir(), dir.str());
  const tg::FashionMnist d = tg::load_fashion_mnist("train");
  if (old) ::setenv("TG_FASHION_MNIST_DIR", saved.c_str(), 1);
  else ::unsetenv("TG_FASHION_MNIST_DIR");
  EXPECT_EQ(d.labels.to_vector<int64_t>(), (std::vector<int64_t>{1, 2}));
}

TEST(DataFashionMnist, LabelOutOfRangeNamesFileItemAndOffset) {
  TempDir dir;
  write_fashion(dir, "train", 4, std::string("\x01\x02\x0a\x03", 4));
  EXPECT_TG_ERROR(tg::load_fashion_mnist("train", dir.str()), dir.file("train-labels-idx1-ubyte.gz"), "label 10",
                  "item 2", "byte 10");
}

TEST(DataFashionMnist, MismatchedCounts) {
  TempDir dir;
  write_fashion(dir, "train", 3, std::string("\x01\x02", 2));
  EXPECT_TG_ERROR(tg::load_fashion_mnist("train", dir.str()), "counts differ", dir.file("train-images-idx3-ubyte.gz"),
                  "3 images", dir.file("train-labels-idx1-ubyte.gz"), "2 labels");
}

TEST(DataFashionMnist, WrongImageSize) {
  TempDir dir;
  write_gz(dir.file("train-images-idx3-ubyte.gz"), idx_bytes({1, 28, 27}, std::string(28 * 27, '\0')));
  write_gz(dir.file("train-labels-idx1-ubyte.gz"), idx_bytes({1}, std::string(1, '\0')));
  EXPECT_TG_ERROR(tg::load_fashion_mnist("train", dir.str()), "[N, 28, 28]", "[1, 28, 27]");
}

TEST(DataFashionMnist, MissingFilesNamePackage) {
  TempDir dir;
  EXPECT_TG_ERROR(tg::load_fashion_mnist("train", dir.str()), dir.file("train-images-idx3-ubyte.gz"),
                  "dataset-fashion-mnist", "apt-get install dataset-fashion-mnist", "TG_FASHION_MNIST_DIR");
  EXPECT_TG_ERROR(tg::load_fashion_mnist("validation", dir.str()), "\"train\" or \"test\"");
}

TEST(DataFashionMnist, ClassNames) {
  const auto& names = tg::fashion_mnist_classes();
  EXPECT_EQ(names[0], "T-shirt/top");
  EXPECT_EQ(names[9], "Ankle boot");
}

// ---- the real data set, from Debian's package dataset-fashion-mnist (installed here and on CI) ----

TEST(DataFashionMnist, RealDebianPackage) {
  const tg::FashionMnist train = tg::load_fashion_mnist("train", tg::kFashionMnistDefaultDir);
  const tg::FashionMnist test = tg::load_fashion_mnist("test", tg::kFashionMnistDefaultDir);
  EXPECT_EQ(train.images.shape(), (tg::Shape{60000, 1, 28, 28}));
  EXPECT_EQ(train.labels.shape(), (tg::Shape{60000}));
  EXPECT_EQ(test.images.shape(), (tg::Shape{10000, 1, 28, 28}));
  EXPECT_EQ(test.labels.shape(), (tg::Shape{10000}));

  std::vector<int64_t> per_class(10, 0), per_class_test(10, 0);
  for (int64_t label : train.labels.to_vector<int64_t>()) ++per_class[static_cast<size_t>(label)];
  for (int64_t label : test.labels.to_vector<int64_t>()) ++per_class_test[static_cast<size_t>(label)];
  EXPECT_EQ(per_class, std::vector<int64_t>(10, 6000));
  EXPECT_EQ(per_class_test, std::vector<int64_t>(10, 1000));

  EXPECT_EQ(train.labels.data<int64_t>()[0], 9);
  EXPECT_EQ(tg::fashion_mnist_classes()[9], "Ankle boot");

  for (const Tensor& images : {train.images, test.images}) {
    const float* px = images.data<float>();
    const auto [lo, hi] = std::minmax_element(px, px + images.numel());
    EXPECT_EQ(*lo, 0.0f);
    EXPECT_EQ(*hi, 1.0f);
  }
}

}  // namespace
