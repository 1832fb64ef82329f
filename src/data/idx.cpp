#include <tensorgrad/base/error.h>
#include <tensorgrad/data/idx.h>

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <string>

namespace tg {

namespace {

constexpr const char* kOp = "tg::read_idx";

std::string hex_bytes(const unsigned char* bytes, size_t n) {
  std::string out;
  char buf[4];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", bytes[i]);
    if (i) out += ' ';
    out += buf;
  }
  return out;
}

// A gzip stream read sequentially, counting decompressed bytes so that every error can give its offset.
class GzReader {
 public:
  explicit GzReader(const std::string& path) : path_(path) {
    errno = 0;
    file_ = gzopen(path.c_str(), "rb");
    if (!file_) {
      const int err = errno;
      TG_FAIL(kOp, ": ", path, ": cannot open: ", err ? std::strerror(err) : "out of memory",
              err == ENOENT ? ". IDX datasets come from Debian packages; for Fashion-MNIST install "
                              "dataset-fashion-mnist (apt-get install dataset-fashion-mnist); nothing is "
                              "ever downloaded"
                            : "");
    }
    gzbuffer(file_, 1 << 18);
  }
  ~GzReader() {
    if (file_) gzclose_r(file_);
  }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;

  int64_t offset() const { return offset_; }
  bool compressed() const { return gzdirect(file_) == 0; }

  // Reads up to n bytes; returns how many were read (fewer only at the end of the stream). Throws on
  // corrupt or truncated gzip data.
  size_t read(void* dst, size_t n) {
    size_t done = 0;
    while (done < n) {
      const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - done, 1u << 30));
      const int got = gzread(file_, static_cast<char*>(dst) + done, chunk);
      if (got < 0) fail_gzip();
      done += static_cast<size_t>(got);
      offset_ += got;
      if (static_cast<unsigned>(got) < chunk) {
        // End of stream, or an error zlib reports only through gzerror (a truncated compressed file).
        int errnum = Z_OK;
        gzerror(file_, &errnum);
        if (errnum != Z_OK) fail_gzip();
        break;
      }
    }
    return done;
  }

 private:
  [[noreturn]] void fail_gzip() {
    int errnum = Z_OK;
    const char* msg = gzerror(file_, &errnum);
    if (errnum == Z_ERRNO)
      TG_FAIL(kOp, ": ", path_, ": read error after decompressed byte ", offset_, ": ", std::strerror(errno));
    if (errnum == Z_BUF_ERROR)
      TG_FAIL(kOp, ": ", path_, ": corrupt gzip data: the compressed stream is truncated (it ends at decompressed "
              "byte ", offset_, "): ", msg ? msg : "unexpected end of file");
    TG_FAIL(kOp, ": ", path_, ": corrupt gzip data at or after decompressed byte ", offset_, ": ",
            msg ? msg : "unknown zlib error");
  }

  std::string path_;
  gzFile file_ = nullptr;
  int64_t offset_ = 0;
};

}  // namespace

IdxArray read_idx(const std::string& path) {
  GzReader in(path);
  const char* plain_note = "";

  unsigned char magic[4];
  const size_t got_magic = in.read(magic, 4);
  if (!in.compressed()) plain_note = " (the file is not gzip-compressed; read as plain IDX)";
  TG_CHECK(got_magic == 4, kOp, ": ", path, ": truncated at byte ", got_magic,
           ": expected the 4-byte IDX magic number, the file has ", got_magic, " bytes", plain_note);
  TG_CHECK(magic[0] == 0 && magic[1] == 0, kOp, ": ", path, ": bad magic at byte 0: expected 00 00 08 <ndims>, got ",
           hex_bytes(magic, 4), plain_note);
  TG_CHECK(magic[2] == 0x08, kOp, ": ", path, ": unsupported IDX type code 0x", hex_bytes(magic + 2, 1),
           " at byte 2: only 0x08 (unsigned byte) is supported",
           magic[2] == 0x09   ? " (0x09 is signed byte)"
           : magic[2] == 0x0B ? " (0x0b is int16)"
           : magic[2] == 0x0C ? " (0x0c is int32)"
           : magic[2] == 0x0D ? " (0x0d is float32)"
           : magic[2] == 0x0E ? " (0x0e is float64)"
                              : " (and 0x09 0x0b 0x0c 0x0d 0x0e exist in the format)");
  const int ndims = magic[3];
  TG_CHECK(ndims >= 1 && ndims <= 4, kOp, ": ", path, ": bad number of dimensions ", ndims,
           " at byte 3: expected 1 to 4");

  IdxArray out;
  out.data_offset = 4 + 4 * ndims;
  unsigned char dim_bytes[16];
  const size_t got_dims = in.read(dim_bytes, static_cast<size_t>(4 * ndims));
  TG_CHECK(got_dims == static_cast<size_t>(4 * ndims), kOp, ": ", path, ": truncated at byte ", 4 + got_dims,
           ": expected ", ndims, " big-endian uint32 dimensions at bytes 4..", out.data_offset, ", the file ends");
  uint64_t total = 1;
  bool overflow = false;
  for (int d = 0; d < ndims; ++d) {
    const unsigned char* b = dim_bytes + 4 * d;
    const uint64_t size = (uint64_t{b[0]} << 24) | (uint64_t{b[1]} << 16) | (uint64_t{b[2]} << 8) | b[3];
    out.dims.push_back(static_cast<int64_t>(size));
    overflow = overflow || __builtin_mul_overflow(total, size, &total);
  }
  TG_CHECK(!overflow && total <= static_cast<uint64_t>(INT64_MAX), kOp, ": ", path, ": dims ", out.dims,
           " at bytes 4..", out.data_offset, " describe more items than fit in 64 bits");

  // Read in chunks, growing the buffer, so a corrupt size fails as "truncated" rather than as a huge
  // allocation.
  constexpr uint64_t kChunk = uint64_t{1} << 24;
  uint64_t have = 0;
  out.data.reserve(static_cast<size_t>(std::min(total, kChunk)));
  while (have < total) {
    const uint64_t want = std::min(total - have, kChunk);
    out.data.resize(static_cast<size_t>(have + want));
    const size_t got = in.read(out.data.data() + have, static_cast<size_t>(want));
    have += got;
    if (got < want) {
      TG_FAIL(kOp, ": ", path, ": truncated at byte ", out.data_offset + static_cast<int64_t>(have), ": expected ",
              total, " data bytes (dims ", out.dims, ") from byte ", out.data_offset, ", the file ends after ", have,
              " of them", plain_note);
    }
  }

  unsigned char extra[4096];
  const size_t trailing = in.read(extra, sizeof extra);
  if (trailing > 0) {
    uint64_t count = trailing;
    while (true) {  // count them, for the message
      const size_t more = in.read(extra, sizeof extra);
      count += more;
      if (more < sizeof extra) break;
    }
    TG_FAIL(kOp, ": ", path, ": trailing garbage at byte ", out.data_offset + static_cast<int64_t>(total), ": ",
            count, " bytes follow the ", total, " data bytes of dims ", out.dims, plain_note);
  }
  return out;
}

}  // namespace tg
