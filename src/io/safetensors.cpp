#include <tensorgrad/base/error.h>
#include <tensorgrad/io/safetensors.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

namespace tg {

static_assert(std::endian::native == std::endian::little,
              "tensorgrad's safetensors reader and writer copy tensor bytes as they are: a little-endian host is "
              "required (the format is little-endian)");

namespace {

using json = nlohmann::json;

constexpr const char* kMetadataKey = "__metadata__";

const char* safetensors_dtype(DType d) {
  switch (d) {
    case DType::Float32: return "F32";
    case DType::Float64: return "F64";
    case DType::Int64: return "I64";
    case DType::Bool: return "BOOL";
    case DType::BFloat16: return "BF16";
    case DType::Float16: return "F16";
  }
  TG_FAIL("tg::save_safetensors: invalid dtype value ", static_cast<int>(d));
}

// The safetensors dtypes tensorgrad has no type for.
bool is_other_safetensors_dtype(const std::string& s) {
  static const std::set<std::string> others = {"F8_E4M3", "F8_E5M2", "I8", "U8", "I16",
                                               "U16", "I32",  "U32",     "U64",     "C64", "F4", "F6_E2M3",
                                               "F6_E3M2", "F8_E8M0", "E8M0"};
  return others.count(s) > 0;
}

bool parse_dtype(const std::string& s, DType& out) {
  if (s == "F32") out = DType::Float32;
  else if (s == "F64") out = DType::Float64;
  else if (s == "I64") out = DType::Int64;
  else if (s == "BOOL") out = DType::Bool;
  else if (s == "BF16") out = DType::BFloat16;
  else if (s == "F16") out = DType::Float16;
  else return false;
  return true;
}

// ---- writing ----

struct WriteEntry {
  const Tensor* tensor;
  uint64_t nbytes;
};

struct WritePlan {
  std::string head;  // the 8-byte length, the JSON header and its padding
  std::vector<WriteEntry> entries;
  uint64_t total = 0;  // size of the whole file
};

WritePlan make_plan(const StateDict& tensors, const std::map<std::string, std::string>& metadata, const char* op,
                    const std::string& where) {
  WritePlan plan;
  json header = json::object();
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    TG_CHECK(name != kMetadataKey, op, ": ", where, ": a tensor cannot be named \"", kMetadataKey,
             "\" (the key is reserved for metadata)");
    TG_CHECK(t.defined(), op, ": ", where, ": tensor '", name, "' is undefined");
    TG_CHECK(t.device().type == DeviceType::CPU, op, ": ", where, ": tensor '", name, "' is on ", t.device(),
             "; only CPU tensors can be saved");
    const uint64_t nbytes = static_cast<uint64_t>(t.numel()) * itemsize(t.dtype());
    header[name] = json{{"dtype", safetensors_dtype(t.dtype())},
                        {"shape", t.shape()},
                        {"data_offsets", json::array({offset, offset + nbytes})}};
    plan.entries.push_back({&t, nbytes});
    offset += nbytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const json::exception& e) {
    TG_FAIL(op, ": ", where, ": tensor names and metadata must be valid UTF-8: ", e.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  const uint64_t n = text.size();
  plan.head.resize(8);
  for (int i = 0; i < 8; ++i) plan.head[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  plan.head += text;
  plan.total = plan.head.size() + offset;
  return plan;
}

// Calls write(bytes, n) for the whole file, in order.
void emit(const WritePlan& plan, const std::function<void(const char*, size_t)>& write) {
  write(plan.head.data(), plan.head.size());
  std::vector<char> scratch;
  for (const WriteEntry& e : plan.entries) {
    if (e.nbytes == 0) continue;
    if (e.tensor->is_contiguous()) {
      write(static_cast<const char*>(e.tensor->data_ptr()), e.nbytes);
    } else {
      scratch.resize(e.nbytes);
      copy_to_contiguous(*e.tensor, scratch.data());
      write(scratch.data(), e.nbytes);
    }
  }
}

// ---- reading ----

std::string json_error_text(const std::string& what) {
  // "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error ..." -> "syntax error ..."
  const size_t at = what.find("parse error");
  if (at == std::string::npos) return what;
  const size_t colon = what.find(": ", at);
  return colon == std::string::npos ? what : what.substr(colon + 2);
}

// The top-level keys of a JSON object text (already validated by the parser), with the offset of each key's
// opening quote, in document order (duplicates included).
std::vector<std::pair<std::string, size_t>> top_level_keys(std::string_view h) {
  std::vector<std::pair<std::string, size_t>> keys;
  int depth = 0;
  bool expect_key = false;
  for (size_t i = 0; i < h.size(); ++i) {
    const char c = h[i];
    if (c == '"') {
      size_t j = i + 1;
      while (j < h.size() && h[j] != '"') j += h[j] == '\\' ? 2 : 1;
      if (j >= h.size()) break;  // cannot happen for valid JSON
      if (depth == 1 && expect_key) {
        const std::string_view token = h.substr(i, j - i + 1);
        keys.emplace_back(json::parse(token.begin(), token.end()).get<std::string>(), i);
        expect_key = false;
      }
      i = j;
    } else if (c == '{' || c == '[') {
      ++depth;
      if (c == '{' && depth == 1) expect_key = true;
    } else if (c == '}' || c == ']') {
      --depth;
    } else if (c == ',' && depth == 1) {
      expect_key = true;
    }
  }
  return keys;
}

struct ReadEntry {
  std::string name;
  uint64_t key_at;  // file offset of the header entry
  DType dtype;
  Shape shape;
  uint64_t begin, end;  // relative to the data buffer
};

std::string quoted(const std::string& s) { return "'" + s + "'"; }

SafetensorsFile parse_file_checked(std::string_view bytes, const std::string& where, const char* op) {
  const uint64_t size = bytes.size();
  TG_CHECK(size >= 8, op, ": ", where, ": truncated at byte ", size, ": the file has ", size,
           " bytes, too few for the 8-byte little-endian header length at byte 0");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<size_t>(i)]);
  TG_CHECK(n <= size - 8, op, ": ", where, ": the header length at byte 0 is ", n,
           ", which runs past the end of the file: the header would span bytes 8 to 8 + ", n, " but the file has ",
           size, " bytes");
  const uint64_t buffer_start = 8 + n;
  const uint64_t buffer_size = size - buffer_start;
  const std::string_view text = bytes.substr(8, static_cast<size_t>(n));

  json header;
  try {
    header = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    const uint64_t at = 8 + (e.byte > 0 ? std::min<uint64_t>(e.byte - 1, n) : 0);
    TG_FAIL(op, ": ", where, ": invalid JSON header (bytes 8 to ", buffer_start, ") at byte ", at, ": ",
            json_error_text(e.what()));
  }
  TG_CHECK(header.is_object(), op, ": ", where, ": the header at byte 8 must be a JSON object, got a ",
           header.type_name());

  SafetensorsFile out;
  std::vector<ReadEntry> entries;
  std::map<std::string, uint64_t> seen;
  for (const auto& [name, pos] : top_level_keys(text)) {
    const uint64_t at = 8 + pos;
    const auto [it, fresh] = seen.emplace(name, at);
    TG_CHECK(fresh, op, ": ", where, ": duplicate name ", quoted(name), " at byte ", at, " (first at byte ", it->second,
             ")");
    const json& value = header.at(name);
    if (name == kMetadataKey) {
      TG_CHECK(value.is_object(), op, ": ", where, ": \"", kMetadataKey, "\" at byte ", at,
               " must be an object of strings, got a ", value.type_name());
      for (const auto& [k, v] : value.items()) {
        TG_CHECK(v.is_string(), op, ": ", where, ": \"", kMetadataKey, "\" at byte ", at, ": the value of ", quoted(k),
                 " must be a string, got a ", v.type_name());
        out.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    const std::string entry = "tensor " + quoted(name) + " (header entry at byte " + std::to_string(at) + ")";
    TG_CHECK(value.is_object(), op, ": ", where, ": ", entry, " must be an object, got a ", value.type_name());

    ReadEntry e{name, at, DType::Float32, {}, 0, 0};
    const auto dt = value.find("dtype");
    TG_CHECK(dt != value.end() && dt->is_string(), op, ": ", where, ": ", entry, " needs a string \"dtype\"");
    const std::string dtype = dt->get<std::string>();
    TG_CHECK(!is_other_safetensors_dtype(dtype), op, ": ", where, ": ", entry, ": dtype \"", dtype,
             "\" is not supported by tensorgrad (supported: F32, F64, I64, BOOL)");
    TG_CHECK(parse_dtype(dtype, e.dtype), op, ": ", where, ": ", entry, ": unknown dtype \"", dtype,
             "\" (supported: F32, F64, I64, BOOL)");

    const auto sh = value.find("shape");
    TG_CHECK(sh != value.end() && sh->is_array(), op, ": ", where, ": ", entry, " needs a \"shape\" array");
    uint64_t numel = 1, nonzero_product = 1;
    bool overflow = false;
    for (const json& d : *sh) {
      TG_CHECK(d.is_number_unsigned(), op, ": ", where, ": ", entry, ": shape ", sh->dump(),
               " must hold non-negative integers");
      const uint64_t v = d.get<uint64_t>();
      overflow = overflow || v > static_cast<uint64_t>(INT64_MAX) ||
                 (v != 0 && __builtin_mul_overflow(nonzero_product, v, &nonzero_product));
      numel *= v;  // only used when there is no overflow
      e.shape.push_back(static_cast<int64_t>(v));
    }
    uint64_t nbytes = 0;
    overflow = overflow || nonzero_product > static_cast<uint64_t>(INT64_MAX) ||
               __builtin_mul_overflow(numel, static_cast<uint64_t>(itemsize(e.dtype)), &nbytes);
    TG_CHECK(!overflow, op, ": ", where, ": ", entry, ": shape ", sh->dump(), " is too large");

    const auto offs = value.find("data_offsets");
    TG_CHECK(offs != value.end() && offs->is_array() && offs->size() == 2 && (*offs)[0].is_number_unsigned() &&
                 (*offs)[1].is_number_unsigned(),
             op, ": ", where, ": ", entry, " needs \"data_offsets\": [begin, end] of two non-negative integers, got ",
             offs == value.end() ? std::string("none") : offs->dump());
    e.begin = (*offs)[0].get<uint64_t>();
    e.end = (*offs)[1].get<uint64_t>();
    TG_CHECK(e.begin <= e.end, op, ": ", where, ": ", entry, ": data_offsets [", e.begin, ", ", e.end,
             "] have begin after end");
    TG_CHECK(e.end <= buffer_size, op, ": ", where, ": ", entry, ": data_offsets [", e.begin, ", ", e.end,
             "] run past the end of the data buffer, which has ", buffer_size, " bytes (file bytes ", buffer_start,
             " to ", size, "): the tensor would end at file byte ", e.end <= UINT64_MAX - buffer_start ?
             std::to_string(buffer_start + e.end) : std::string("beyond 2^64"), "; the file is truncated or the offsets are wrong");
    TG_CHECK(e.end - e.begin == nbytes, op, ": ", where, ": ", entry, ": dtype ", dtype, " and shape ", sh->dump(),
             " need ", nbytes, " bytes, but data_offsets [", e.begin, ", ", e.end, "] (file bytes ",
             buffer_start + e.begin, " to ", buffer_start + e.end, ") hold ", e.end - e.begin);
    entries.push_back(std::move(e));
  }

  // The tensors must tile the buffer: no overlap, no hole, nothing left over.
  std::vector<const ReadEntry*> order;
  for (const ReadEntry& e : entries) order.push_back(&e);
  std::sort(order.begin(), order.end(), [](const ReadEntry* a, const ReadEntry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t covered = 0;
  const ReadEntry* previous = nullptr;
  for (const ReadEntry* e : order) {
    TG_CHECK(e->begin >= covered, op, ": ", where, ": tensor ", quoted(e->name), " (header entry at byte ", e->key_at,
             "): data_offsets [", e->begin, ", ", e->end, "] (file bytes ", buffer_start + e->begin, " to ",
             buffer_start + e->end, ") overlap tensor ", quoted(previous ? previous->name : ""), " at [",
             previous ? previous->begin : 0, ", ", previous ? previous->end : 0, "]");
    TG_CHECK(e->begin == covered, op, ": ", where, ": bytes [", covered, ", ", e->begin,
             ") of the data buffer (file bytes ", buffer_start + covered, " to ", buffer_start + e->begin,
             ") belong to no tensor (a hole before tensor ", quoted(e->name), ")");
    covered = e->end;
    previous = e;
  }
  TG_CHECK(covered == buffer_size, op, ": ", where, ": bytes [", covered, ", ", buffer_size,
           ") of the data buffer (file bytes ", buffer_start + covered, " to ", size,
           ") belong to no tensor (unused bytes at the end of the file)");

  for (const ReadEntry& e : entries) {
    const char* src = bytes.data() + buffer_start + e.begin;
    const uint64_t nbytes = e.end - e.begin;
    if (e.dtype == DType::Bool) {
      for (uint64_t k = 0; k < nbytes; ++k) {
        const auto v = static_cast<unsigned char>(src[k]);
        TG_CHECK(v <= 1, op, ": ", where, ": tensor ", quoted(e.name), " (header entry at byte ", e.key_at,
                 "): BOOL byte ", static_cast<unsigned>(v), " at file byte ", buffer_start + e.begin + k,
                 " must be 0 or 1");
      }
    }
    Tensor t = Tensor::empty(e.shape, e.dtype);
    if (nbytes > 0) std::memcpy(t.data_ptr(), src, nbytes);
    out.tensors.emplace(e.name, std::move(t));
  }
  return out;
}

// Every check above throws tg::Error itself; this turns anything the JSON library might still throw into one.
SafetensorsFile parse_file(std::string_view bytes, const std::string& where, const char* op) {
  try {
    return parse_file_checked(bytes, where, op);
  } catch (const json::exception& e) {
    TG_FAIL(op, ": ", where, ": malformed header (from byte 8): ", e.what());
  }
}

std::string errno_text(int err) { return std::strerror(err); }

}  // namespace

// ---- public API ----

std::string to_safetensors_bytes(const StateDict& tensors, const std::map<std::string, std::string>& metadata) {
  const WritePlan plan = make_plan(tensors, metadata, "tg::to_safetensors_bytes", "<memory>");
  std::string out;
  out.reserve(plan.total);
  emit(plan, [&](const char* data, size_t n) { out.append(data, n); });
  return out;
}

SafetensorsFile from_safetensors_bytes(std::string_view bytes, const std::string& name_for_errors) {
  return parse_file(bytes, name_for_errors, "tg::from_safetensors_bytes");
}

void save_safetensors(const std::string& path, const StateDict& tensors,
                      const std::map<std::string, std::string>& metadata) {
  constexpr const char* op = "tg::save_safetensors";
  const WritePlan plan = make_plan(tensors, metadata, op, path);  // every check before touching the disk
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  TG_CHECK(fd >= 0, op, ": ", path, ": cannot create the temporary file ", tmp, ": ", errno_text(errno),
           " (nothing was written)");
  int open_fd = fd;
  uint64_t written = 0;
  try {
    emit(plan, [&](const char* data, size_t n) {
      while (n > 0) {
        const ssize_t got = ::write(fd, data, std::min<size_t>(n, size_t{1} << 30));
        if (got < 0 && errno == EINTR) continue;
        TG_CHECK(got > 0, op, ": ", path, ": write to ", tmp, " failed at byte ", written, " of ", plan.total, ": ",
                 got < 0 ? errno_text(errno) : std::string("no progress"), "; ", path, " is unchanged");
        data += got;
        n -= static_cast<size_t>(got);
        written += static_cast<uint64_t>(got);
      }
    });
    TG_CHECK(::fsync(fd) == 0, op, ": ", path, ": fsync of ", tmp, " failed after byte ", written, ": ",
             errno_text(errno), "; ", path, " is unchanged");
    open_fd = -1;
    TG_CHECK(::close(fd) == 0, op, ": ", path, ": closing ", tmp, " failed after byte ", written, ": ",
             errno_text(errno), "; ", path, " is unchanged");
    TG_CHECK(::rename(tmp.c_str(), path.c_str()) == 0, op, ": ", path, ": renaming ", tmp, " (", written,
             " bytes) over it failed: ", errno_text(errno), "; ", path, " is unchanged");
  } catch (...) {
    if (open_fd >= 0) ::close(open_fd);
    ::unlink(tmp.c_str());
    throw;
  }
  // Make the rename itself durable (best effort: some file systems refuse to fsync a directory).
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

SafetensorsFile load_safetensors(const std::string& path) {
  constexpr const char* op = "tg::load_safetensors";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  TG_CHECK(fd >= 0, op, ": ", path, ": cannot open: ", errno_text(errno));
  std::string bytes;
  try {
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) bytes.reserve(static_cast<size_t>(st.st_size));
    char buf[1 << 16];
    while (true) {
      const ssize_t got = ::read(fd, buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      TG_CHECK(got >= 0, op, ": ", path, ": read error at byte ", bytes.size(), ": ", errno_text(errno));
      if (got == 0) break;
      bytes.append(buf, static_cast<size_t>(got));
    }
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  return parse_file(bytes, path, op);
}

}  // namespace tg
