#pragma once
// Reader for IDX files (the format of MNIST and Fashion-MNIST), gzip-compressed as distributed.
//
// An IDX file is: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions, then one
// big-endian uint32 per dimension, then prod(dims) items in row-major order. Only unsigned-byte files with
// 1 to 4 dimensions are accepted. Decompression goes through zlib (an uncompressed IDX file is read as is).
//
// Every error is a tg::Error naming the file and the byte offset in the *decompressed* stream, e.g.
//   tg::read_idx: /x/train-labels-idx1-ubyte.gz: truncated at byte 1242: expected 60000 data bytes
//   (dims [60000]) from byte 8, the file ends after 1234 of them
// Corrupt gzip data is reported as such, with the path. Nothing is ever downloaded.
#include <cstdint>
#include <string>
#include <vector>

#include <tensorgrad/core/shape.h>

namespace tg {

struct IdxArray {
  Shape dims;                  // 1 to 4 dimensions, as stored
  std::vector<uint8_t> data;   // exactly numel_of(dims) bytes, row-major
  int64_t data_offset = 0;     // where `data` starts in the decompressed stream (4 + 4 * dims.size())
};

// Reads an unsigned-byte IDX file (gzip-compressed or plain). Throws tg::Error on a missing file, corrupt
// gzip data, bad magic, another type code, a bad number of dimensions, a truncated payload, or bytes
// after the payload.
IdxArray read_idx(const std::string& path);

}  // namespace tg
