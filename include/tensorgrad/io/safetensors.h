#pragma once
// Tensors and state dicts in the safetensors format (https://github.com/huggingface/safetensors): plain data,
// readable by PyTorch, JAX and NumPy, and nothing is executed on load.
//
// File layout: an 8-byte little-endian uint64 N, then N bytes of UTF-8 JSON header, then the data buffer.
// The header maps each tensor name to {"data_offsets": [begin, end], "dtype": ..., "shape": [...]}, offsets
// relative to the start of the data buffer, plus an optional "__metadata__" object of string -> string.
// Data is little-endian, row-major. Supported dtypes: F32, F64, I64, BOOL (other safetensors dtypes are
// rejected with a clear error).
//
// Writing is canonical, so equal inputs give byte-identical files: compact JSON with keys sorted at every
// level, "__metadata__" only when metadata is given, tensors laid out back to back in sorted name order, the
// header padded with spaces to a multiple of 8 bytes. Non-contiguous tensors are saved by value.
//
// Loading validates everything before it copies any data and never reads outside the file: N fits in the
// file, the header is a JSON object (a parse error gives its offset), names are unique, dtypes are known,
// shapes are lists of non-negative integers, end - begin == numel * itemsize, offsets lie in the buffer, and
// the tensors cover the buffer exactly (no overlap, no hole, nothing after the last one); BOOL bytes are 0
// or 1. Every error is a tg::Error that names the file and a byte offset in it.
#include <map>
#include <string>
#include <string_view>

#include <tensorgrad/core/state_dict.h>

namespace tg {

struct SafetensorsFile {
  StateDict tensors;
  std::map<std::string, std::string> metadata;
};

// Writes atomically: the bytes go to `<path>.tmp-<pid>` in the same directory, which is flushed, fsynced and
// then renamed over `path`. On any failure the temporary file is removed and a file already at `path` is
// left as it was.
void save_safetensors(const std::string& path, const StateDict& tensors,
                      const std::map<std::string, std::string>& metadata = {});

SafetensorsFile load_safetensors(const std::string& path);

// The same, in memory: the exact bytes save_safetensors writes, and a parser of such bytes whose errors
// name `name_for_errors` where they would name the file.
std::string to_safetensors_bytes(const StateDict& tensors, const std::map<std::string, std::string>& metadata = {});
SafetensorsFile from_safetensors_bytes(std::string_view bytes, const std::string& name_for_errors = "<memory>");

}  // namespace tg
