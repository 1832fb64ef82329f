#pragma once
// Kernel tables keyed by (op, device, dtype), with a supports() query. Backends register into them
// when a table is first used (no static initialisers, which static libraries would silently drop).
#include <functional>
#include <map>
#include <string>
#include <tuple>

#include <tensorgrad/core/tensor.h>

namespace tg::kernels {

template <class Fn>
class KernelTable {
 public:
  explicit KernelTable(std::string family) : family_(std::move(family)) {}
  void add(const std::string& op, DeviceType device, DType dtype, Fn fn) { table_[{op, device, dtype}] = fn; }
  bool supports(const std::string& op, DeviceType device, DType dtype) const {
    return table_.count({op, device, dtype}) != 0;
  }
  Fn find(const std::string& op, DeviceType device, DType dtype) const {
    auto it = table_.find({op, device, dtype});
    TG_CHECK(it != table_.end(), "tg::", op, ": no ", family_, " kernel for dtype ", dtype_name(dtype),
             " on device ", Device{device, 0});
    return it->second;
  }

 private:
  std::string family_;
  std::map<std::tuple<std::string, DeviceType, DType>, Fn> table_;
};

}  // namespace tg::kernels
