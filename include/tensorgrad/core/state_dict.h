#pragma once
// A named set of tensors: a module's parameters and buffers, an optimizer's state, or a whole checkpoint.
// Ordered by name so files written from it are byte-for-byte reproducible.
#include <map>
#include <string>

#include <tensorgrad/core/tensor.h>

namespace tg {

using StateDict = std::map<std::string, Tensor>;

}  // namespace tg
