// safetensors: a file written byte by byte from the spec loads right and our writer reproduces it exactly;
// round trips of every dtype, 0-d, size-0 and strided tensors; atomic saves; and damaged files, each a
// tg::Error naming the file and a byte offset (and never an out-of-bounds read: run under ASan).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <tensorgrad/tensorgrad.h>
#include <vector>

#include "support/expect_error.h"

namespace {

namespace fs = std::filesystem;
using tg::DType;
using tg::StateDict;
using tg::Tensor;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "tg-io-test-XXXXXX").string();
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
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path_)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  fs::path path_;
};

std::string read_raw(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_raw(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string le64(uint64_t n) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out;
}

// A file from a header text (not padded) and a data buffer.
std::string file_bytes(const std::string& header, const std::string& data) {
  return le64(header.size()) + header + data;
}

// ---- the spec, by hand ----

// {"a": F32 [[1.5, -2], [0.25, 100]], "step": I64 scalar -7}, metadata {"format": "pt"}.
std::string hand_written_file() {
  const std::string header =
      R"({"__metadata__":{"format":"pt"},)"
      R"("a":{"data_offsets":[0,16],"dtype":"F32","shape":[2,2]},)"
      R"("step":{"data_offsets":[16,24],"dtype":"I64","shape":[]}})";  // 145 bytes
  EXPECT_EQ(header.size(), 145u);
  const std::string padding(7, ' ');  // to 152, a multiple of 8
  const std::string length("\x98\x00\x00\x00\x00\x00\x00\x00", 8);  // 152, little-endian
  const std::string a("\x00\x00\xc0\x3f"   // 1.5f
                      "\x00\x00\x00\xc0"   // -2.0f
                      "\x00\x00\x80\x3e"   // 0.25f
                      "\x00\x00\xc8\x42",  // 100.0f
                      16);
  const std::string step("\xf9\xff\xff\xff\xff\xff\xff\xff", 8);  // -7
  return length + header + padding + a + step;
}

TEST(IoSafetensors, HandWrittenFileLoads) {
  TempDir dir;
  const std::string path = dir.file("hand.safetensors");
  write_raw(path, hand_written_file());
  const tg::SafetensorsFile f = tg::load_safetensors(path);
  ASSERT_EQ(f.tensors.size(), 2u);
  const Tensor& a = f.tensors.at("a");
  EXPECT_EQ(a.dtype(), DType::Float32);
  EXPECT_EQ(a.shape(), (tg::Shape{2, 2}));
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{1.5f, -2.0f, 0.25f, 100.0f}));
  const Tensor& step = f.tensors.at("step");
  EXPECT_EQ(step.dtype(), DType::Int64);
  EXPECT_EQ(step.dim(), 0);
  EXPECT_EQ(step.item<int64_t>(), -7);
  EXPECT_EQ(f.metadata, (std::map<std::string, std::string>{{"format", "pt"}}));
}

TEST(IoSafetensors, WriterProducesTheHandWrittenBytes) {
  StateDict sd;
  sd["step"] = tg::scalar_tensor(-7, DType::Int64);
  sd["a"] = tg::from_vector<float>({1.5f, -2.0f, 0.25f, 100.0f}, {2, 2});
  EXPECT_EQ(tg::to_safetensors_bytes(sd, {{"format", "pt"}}), hand_written_file());
  TempDir dir;
  const std::string path = dir.file("ours.safetensors");
  tg::save_safetensors(path, sd, {{"format", "pt"}});
  EXPECT_EQ(read_raw(path), hand_written_file());
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"ours.safetensors"}));  // no temporary file left
}

TEST(IoSafetensors, ReadsOtherKeyOrdersAndWhitespace) {
  // The order Python's safetensors writes ("dtype", "shape", "data_offsets"), with spaces and no metadata.
  const std::string header = R"({ "x" : {"dtype": "F64", "shape": [2], "data_offsets": [0, 16]} }   )";
  const std::string data("\x00\x00\x00\x00\x00\x00\xf0\x3f"   // 1.0
                         "\x00\x00\x00\x00\x00\x00\x00\xc0",  // -2.0
                         16);
  const tg::SafetensorsFile f = tg::from_safetensors_bytes(file_bytes(header, data), "x.safetensors");
  EXPECT_EQ(f.tensors.at("x").to_vector<double>(), (std::vector<double>{1.0, -2.0}));
  EXPECT_TRUE(f.metadata.empty());
}

// ---- round trips ----

void expect_same(const Tensor& got, const Tensor& want, const std::string& name) {
  SCOPED_TRACE(name);
  ASSERT_EQ(got.dtype(), want.dtype());
  ASSERT_EQ(got.shape(), want.shape());
  EXPECT_TRUE(got.is_contiguous());
  tg::visit_dtype(want.dtype(), [&]<class T>(tg::TypeTag<T>) { EXPECT_EQ(got.to_vector<T>(), want.to_vector<T>()); });
}

StateDict all_kinds() {
  tg::Generator gen(11);
  StateDict sd;
  sd["f32"] = tg::randn({3, 4}, DType::Float32, gen);
  sd["f64_scalar"] = tg::scalar_tensor(3.25, DType::Float64);
  sd["i64"] = tg::from_vector<int64_t>({-5, 0, 7, INT64_MIN, INT64_MAX});
  sd["bool"] = tg::from_vector<bool>({true, false, false, true, true, false}, {2, 3});
  sd["empty_f32"] = tg::zeros({0, 3});
  sd["empty_bool"] = tg::zeros({0}, DType::Bool);
  sd["view_transposed"] = tg::randn({3, 5}, DType::Float64, gen).transpose(0, 1);
  sd["view_strided"] = tg::arange(20).slice(0, 1, 20, 3);
  sd["view_expanded"] = tg::from_vector<float>({1, 2, 3}, {1, 3}).expand({4, 3});
  sd["view_offset"] = tg::randn({4, 6}, DType::Float32, gen).narrow(1, 2, 3);
  sd["bool_scalar"] = tg::scalar_tensor(1, DType::Bool);
  sd["bf16"] = tg::randn({2, 3}, DType::BFloat16, gen);
  sd["f16_view_transposed"] = tg::randn({3, 2}, DType::Float16, gen).transpose(0, 1);
  sd["unicode \xc3\xa9 \"name\""] = tg::ones({2});
  EXPECT_FALSE(sd["view_transposed"].is_contiguous());
  EXPECT_FALSE(sd["view_strided"].is_contiguous());
  EXPECT_FALSE(sd["view_expanded"].is_contiguous());
  EXPECT_FALSE(sd["view_offset"].is_contiguous());
  return sd;
}

TEST(IoSafetensors, RoundTripAllDtypesScalarsEmptyAndViews) {
  const StateDict sd = all_kinds();
  const std::map<std::string, std::string> meta = {{"epoch", "3"}, {"note", "h\xc3\xa9llo \"q\"\n\t"}};
  TempDir dir;
  const std::string path = dir.file("all.safetensors");
  tg::save_safetensors(path, sd, meta);
  for (const tg::SafetensorsFile& f : {tg::load_safetensors(path), tg::from_safetensors_bytes(read_raw(path))}) {
    ASSERT_EQ(f.tensors.size(), sd.size());
    for (const auto& [name, t] : sd) expect_same(f.tensors.at(name), t, name);
    EXPECT_EQ(f.metadata, meta);
  }
  const std::string bytes = read_raw(path);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<size_t>(i)]);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(bytes, tg::to_safetensors_bytes(sd, meta));  // deterministic
}

TEST(IoSafetensors, EmptyStateDict) {
  const std::string bytes = tg::to_safetensors_bytes({});
  EXPECT_EQ(bytes, le64(8) + "{}      ");
  const tg::SafetensorsFile f = tg::from_safetensors_bytes(bytes);
  EXPECT_TRUE(f.tensors.empty());
  EXPECT_TRUE(f.metadata.empty());
}

TEST(IoSafetensors, WriterErrors) {
  StateDict sd;
  sd["__metadata__"] = tg::ones({1});
  EXPECT_TG_ERROR(tg::to_safetensors_bytes(sd), "__metadata__", "reserved");
  StateDict undefined;
  undefined["w"] = Tensor();
  EXPECT_TG_ERROR(tg::to_safetensors_bytes(undefined), "'w'", "undefined");
  StateDict bad_utf8;
  bad_utf8["\xff"] = tg::ones({1});
  EXPECT_TG_ERROR(tg::to_safetensors_bytes(bad_utf8), "UTF-8");
}

// ---- atomic writes ----

StateDict small_checkpoint() {
  StateDict sd;
  sd["w"] = tg::from_vector<float>({1, 2, 3});
  return sd;
}

StateDict large_checkpoint() {
  StateDict sd;
  sd["big"] = tg::ones({100000});
  return sd;
}

TEST(IoSafetensors, SaveReplacesTheFile) {
  TempDir dir;
  const std::string path = dir.file("ckpt.safetensors");
  tg::save_safetensors(path, small_checkpoint());
  tg::save_safetensors(path, large_checkpoint());
  EXPECT_EQ(tg::load_safetensors(path).tensors.at("big").numel(), 100000);
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"ckpt.safetensors"}));
}

TEST(IoSafetensors, SaveFailingPartwayLeavesOldFileUntouched) {
  TempDir dir;
  const std::string path = dir.file("ckpt.safetensors");
  tg::save_safetensors(path, small_checkpoint());
  const std::string before = read_raw(path);

  // Limit the size of files this process may write, so the write of the 400 kB checkpoint fails after 4 kB.
  rlimit old_limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  rlimit small = old_limit;
  small.rlim_cur = 4096;
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  const std::string message = tgtest::error_message([&] { tg::save_safetensors(path, large_checkpoint()); });
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  std::signal(SIGXFSZ, old_handler);

  EXPECT_TRUE(tgtest::contains_all(message, {"tg::save_safetensors", path, "failed at byte 4096", "unchanged"}));
  EXPECT_EQ(read_raw(path), before);
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"ckpt.safetensors"}));
}

TEST(IoSafetensors, SaveIntoMissingDirectoryFails) {
  TempDir dir;
  const std::string path = dir.file("no/such/dir/ckpt.safetensors");
  EXPECT_TG_ERROR(tg::save_safetensors(path, small_checkpoint()), path, "No such file or directory");
  EXPECT_TRUE(dir.entries().empty());
}

TEST(IoSafetensors, InvalidInputOrUnrenamableTargetLeavesOldFileUntouched) {
  TempDir dir;
  const std::string path = dir.file("ckpt.safetensors");
  tg::save_safetensors(path, small_checkpoint());
  const std::string before = read_raw(path);
  StateDict bad = large_checkpoint();
  bad["z"] = Tensor();  // checked before anything is written
  EXPECT_TG_ERROR(tg::save_safetensors(path, bad), path, "'z'");
  EXPECT_EQ(read_raw(path), before);

  // A directory in the way: the rename fails, the temporary file goes, the directory stays.
  const std::string blocked = dir.file("blocked");
  fs::create_directory(blocked);
  fs::create_directory(blocked + "/inside");
  EXPECT_TG_ERROR(tg::save_safetensors(blocked, small_checkpoint()), blocked, "renaming");
  EXPECT_TRUE(fs::is_directory(blocked + "/inside"));
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"blocked", "ckpt.safetensors"}));
}

// ---- damaged files ----

// Loads `bytes` from a file and returns the error message (both through the file and the in-memory parser).
std::string load_error(const std::string& bytes) {
  TempDir dir;
  const std::string path = dir.file("damaged.safetensors");
  write_raw(path, bytes);
  const std::string from_file = tgtest::error_message([&] { tg::load_safetensors(path); });
  const std::string from_memory = tgtest::error_message([&] { tg::from_safetensors_bytes(bytes, "mem.st"); });
  EXPECT_TRUE(tgtest::contains_all(from_file, {"tg::load_safetensors", path, "byte"}));
  EXPECT_TRUE(tgtest::contains_all(from_memory, {"tg::from_safetensors_bytes", "mem.st", "byte"}));
  return from_file;
}

const std::string kF32x4 = std::string(16, '\0');

TEST(IoSafetensors, DamagedTruncatedHeaderLength) {
  EXPECT_TRUE(tgtest::contains_all(load_error(std::string("\x10\x00\x00", 3)), {"truncated at byte 3", "8-byte"}));
  EXPECT_TRUE(tgtest::contains_all(load_error(""), {"truncated at byte 0"}));
}

TEST(IoSafetensors, DamagedHeaderLengthPastEndOfFile) {
  EXPECT_TRUE(tgtest::contains_all(load_error(le64(1000) + "{}"), {"header length at byte 0 is 1000", "10 bytes"}));
  EXPECT_TRUE(tgtest::contains_all(load_error(le64(UINT64_MAX) + "{}"), {"runs past the end"}));
}

TEST(IoSafetensors, DamagedInvalidJson) {
  // The 'x' is at header position 6, file byte 14.
  EXPECT_TRUE(tgtest::contains_all(load_error(file_bytes(R"({"a": x})", "")), {"invalid JSON", "at byte 14"}));
  EXPECT_TRUE(tgtest::contains_all(load_error(file_bytes(R"({"a": {"dtype")", "")), {"invalid JSON"}));
  EXPECT_TRUE(tgtest::contains_all(load_error(file_bytes("", "")), {"invalid JSON", "at byte 8"}));
  EXPECT_TRUE(tgtest::contains_all(load_error(file_bytes(R"([1, 2])", "")), {"must be a JSON object", "byte 8"}));
  EXPECT_TRUE(tgtest::contains_all(load_error(file_bytes("{\"\xff\": 1}", "")), {"invalid JSON"}));
  EXPECT_TRUE(tgtest::contains_all(load_error(file_bytes(R"({} {})", "")), {"invalid JSON", "at byte 11"}));
}

// BF16 and F16 as the spec (and torch) store them: the 16-bit words little-endian. 1.0 is 0x3F80 in bfloat16 and
// 0x3C00 in float16; -2.5 is 0xC020 and 0xC100.
TEST(IoSafetensors, SixteenBitDtypesByHand) {
  const std::string header = R"({"b":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},)"
                             R"("h":{"dtype":"F16","shape":[2],"data_offsets":[4,8]}})";
  const std::string data("\x80\x3F\x20\xC0\x00\x3C\x00\xC1", 8);
  const tg::SafetensorsFile f = tg::from_safetensors_bytes(file_bytes(header, data));
  ASSERT_EQ(f.tensors.at("b").dtype(), DType::BFloat16);
  ASSERT_EQ(f.tensors.at("h").dtype(), DType::Float16);
  EXPECT_EQ(tg::to(f.tensors.at("b"), DType::Float32).to_vector<float>(), (std::vector<float>{1.0f, -2.5f}));
  EXPECT_EQ(tg::to(f.tensors.at("h"), DType::Float32).to_vector<float>(), (std::vector<float>{1.0f, -2.5f}));
  // And written back byte for byte.
  TempDir dir;
  const std::string path = dir.file("half.safetensors");
  tg::save_safetensors(path, f.tensors);
  const tg::SafetensorsFile again = tg::load_safetensors(path);
  EXPECT_EQ(again.tensors.at("b").to_vector<tg::bfloat16>()[1].bits, 0xC020);
  EXPECT_EQ(again.tensors.at("h").to_vector<tg::float16>()[1].bits, 0xC100);
}

TEST(IoSafetensors, DamagedUnknownDtype) {
  EXPECT_TRUE(tgtest::contains_all(
      load_error(file_bytes(R"({"a":{"dtype":"F17","shape":[4],"data_offsets":[0,16]}})", kF32x4)),
      {"tensor 'a' (header entry at byte 9)", "unknown dtype \"F17\""}));
  EXPECT_TRUE(tgtest::contains_all(
      load_error(file_bytes(R"({"a":{"dtype":"I16","shape":[8],"data_offsets":[0,16]}})", kF32x4)),
      {"tensor 'a'", "\"I16\" is not supported"}));
  EXPECT_TRUE(tgtest::contains_all(load_error(file_bytes(R"({"a":{"shape":[4],"data_offsets":[0,16]}})", kF32x4)),
                                   {"tensor 'a'", "\"dtype\""}));
}

TEST(IoSafetensors, DamagedShapeOffsetsAndMetadataTypes) {
  EXPECT_TRUE(tgtest::contains_all(
      load_error(file_bytes(R"({"a":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})", kF32x4)),
      {"tensor 'a'", "non-negative integers"}));
  EXPECT_TRUE(tgtest::contains_all(
      load_error(file_bytes(R"({"a":{"dtype":"F32","shape":[4.0],"data_offsets":[0,16]}})", kF32x4)),
      {"non-negative integers"}));
  EXPECT_TRUE(tgtest::contains_all(
      load_error(file_bytes(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}})",
                            kF32x4)),
      {"too large"}));
  EXPECT_TRUE(tgtest::contains_all(
      load_error(file_bytes(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[16]}})", kF32x4)),
      {"data_offsets"}));
  EXPECT_TRUE(tgtest::contains_all(
      load_error(file_bytes(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[16,0]}})", kF32x4)),
      {"begin after end"}));
  EXPECT_TRUE(tgtest::contains_all(load_error(file_bytes(R"({"__metadata__":{"k":1}})", "")),
                                   {"__metadata__", "at byte 9", "'k'", "must be a string"}));
  EXPECT_TRUE(tgtest::contains_all(load_error(file_bytes(R"({"a":[1]})", "")), {"tensor 'a'", "must be an object"}));
}

TEST(IoSafetensors, DamagedOffsetsOutOfRange) {
  EXPECT_TRUE(tgtest::contains_all(
      load_error(file_bytes(R"({"a":{"dtype":"F32","shape":[100],"data_offsets":[0,400]}})", kF32x4)),
      {"tensor 'a'", "run past the end of the data buffer, which has 16 bytes", "file byte"}));
  EXPECT_TRUE(tgtest::contains_all(
      load_error(file_bytes(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[18446744073709551615,)"
                            R"(18446744073709551615]}})",
                            "")),
      {"tensor 'a'", "run past the end"}));
}

TEST(IoSafetensors, DamagedSizeMismatch) {
  EXPECT_TRUE(tgtest::contains_all(
      load_error(file_bytes(R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})", std::string(12, '\0'))),
      {"tensor 'a'", "need 16 bytes", "hold 12"}));
}

TEST(IoSafetensors, DamagedOverlappingRanges) {
  const std::string header =
      R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})";
  EXPECT_TRUE(tgtest::contains_all(load_error(file_bytes(header, std::string(24, '\0'))),
                                   {"tensor 'b'", "overlap tensor 'a'", "[0, 16]"}));
  const std::string same =
      R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})";
  EXPECT_TRUE(tgtest::contains_all(load_error(file_bytes(same, kF32x4)), {"overlap"}));
}

TEST(IoSafetensors, DamagedHolesAndLeftoverBytes) {
  const std::string hole =
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})";
  EXPECT_TRUE(tgtest::contains_all(load_error(file_bytes(hole, std::string(20, '\0'))),
                                   {"bytes [8, 12) of the data buffer", "belong to no tensor", "'b'"}));
  EXPECT_TRUE(tgtest::contains_all(
      load_error(file_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", std::string(11, '\0'))),
      {"bytes [8, 11)", "unused bytes at the end"}));
}

TEST(IoSafetensors, DamagedTruncatedData) {
  const std::string good = tg::to_safetensors_bytes(small_checkpoint());
  EXPECT_TRUE(tgtest::contains_all(load_error(good.substr(0, good.size() - 3)),
                                   {"tensor 'w'", "run past the end", "truncated"}));
}

TEST(IoSafetensors, DamagedDuplicateNames) {
  const std::string header =
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})";
  EXPECT_TRUE(tgtest::contains_all(load_error(file_bytes(header, kF32x4)),
                                   {"duplicate name 'a' at byte 62", "first at byte 9"}));
}

TEST(IoSafetensors, DamagedBoolByte) {
  EXPECT_TRUE(tgtest::contains_all(
      load_error(file_bytes(R"({"m":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}})", std::string("\x01\x00\x02", 3))),
      {"tensor 'm'", "BOOL byte 2", "must be 0 or 1"}));
}

// Every prefix of a good file, and every single-byte change to its header, is either loaded or rejected with
// a tg::Error; nothing crashes or reads out of bounds (ASan checks the latter).
TEST(IoSafetensors, EveryTruncationAndHeaderByteFlipIsHandled) {
  const std::string good = tg::to_safetensors_bytes(all_kinds(), {{"k", "v"}});
  for (size_t len = 0; len < good.size(); ++len) {
    const std::string msg = tgtest::error_message([&] { tg::from_safetensors_bytes(good.substr(0, len), "cut"); });
    ASSERT_TRUE(tgtest::contains_all(msg, {"cut", "byte"})) << "length " << len;
  }
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(good[static_cast<size_t>(i)]);
  for (size_t pos = 0; pos < 8 + n; ++pos) {
    for (unsigned char flip : {0x01, 0x20, 0x80, 0xff}) {
      std::string bad = good;
      bad[pos] = static_cast<char>(bad[pos] ^ flip);
      try {
        (void)tg::from_safetensors_bytes(bad, "flipped");
      } catch (const tg::Error& e) {
        ASSERT_TRUE(tgtest::contains_all(e.what(), {"flipped", "byte"})) << "position " << pos;
      } catch (const std::exception& e) {
        FAIL() << "position " << pos << ": a non-tg::Error exception: " << e.what();
      }
    }
  }
}

TEST(IoSafetensors, MissingFile) {
  EXPECT_TG_ERROR(tg::load_safetensors("/nonexistent/dir/x.safetensors"), "/nonexistent/dir/x.safetensors",
                  "No such file");
}

}  // namespace
