#pragma once
// KernelTable: one op family's kernels, an array indexed by (op, device type, dtype). A lookup is one array
// read (no strings, no maps: a tiny op's dispatch is on its hot path), and an empty slot is a clear error
// naming the op, the dtype and the device.
#include <array>
#include <cstddef>
#include <cstdint>

#include <tensorgrad/base/error.h>
#include <tensorgrad/core/device.h>
#include <tensorgrad/core/dtype.h>

namespace tg::kernels {

// The op enum of a family whose table holds a single kernel (copy, fill, where, matmul).
enum class SingleOp : uint8_t { Kernel };

// Op is the family's enum, OpCount the number of its values (declared beside the enum), Fn the kernel's
// function-pointer type. OpName(op) names an op in error messages.
template <class Op, int OpCount, class Fn>
class KernelTable {
 public:
  using OpType = Op;
  using FnType = Fn;
  static constexpr int kOpCount = OpCount;

  constexpr explicit KernelTable(const char* family) : family_(family) {}

  void add(Op op, DeviceType device, DType dtype, Fn fn) { slots_[slot(op, device, dtype)] = fn; }
  void add(DeviceType device, DType dtype, Fn fn) requires(OpCount == 1) { add(Op{}, device, dtype, fn); }
  void remove(Op op, DeviceType device, DType dtype) { slots_[slot(op, device, dtype)] = nullptr; }

  bool supports(Op op, DeviceType device, DType dtype) const { return slots_[slot(op, device, dtype)] != nullptr; }
  bool supports(DeviceType device, DType dtype) const requires(OpCount == 1) { return supports(Op{}, device, dtype); }

  // The kernel for (op, device, dtype); throws tg::Error when there is none. `op_label` names the op in that
  // message (the family's op_name(op), or the family itself for a single-kernel family).
  Fn find(Op op, DeviceType device, DType dtype, const char* op_label = nullptr) const {
    const Fn fn = slots_[slot(op, device, dtype)];
    if (fn == nullptr) [[unlikely]] missing(op_label, device, dtype);
    return fn;
  }
  Fn find(DeviceType device, DType dtype) const requires(OpCount == 1) { return find(Op{}, device, dtype); }

  const char* family() const { return family_; }

 private:
  static size_t slot(Op op, DeviceType device, DType dtype) {
    return (static_cast<size_t>(op) * kNumDeviceTypes + static_cast<size_t>(device)) * kNumDTypes +
           static_cast<size_t>(dtype);
  }
  [[noreturn]] void missing(const char* op_label, DeviceType device, DType dtype) const {
    TG_FAIL("tg::", op_label != nullptr ? op_label : family_, ": no ", family_, " kernel for dtype ",
            dtype_name(dtype), " on device ", device_type_name(device));
  }

  const char* family_;
  std::array<Fn, static_cast<size_t>(OpCount) * kNumDeviceTypes * kNumDTypes> slots_{};
};

}  // namespace tg::kernels
