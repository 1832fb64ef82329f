#pragma once
// Where a tensor's memory lives. A device type is a slot in every kernel table and in the allocator
// registry: a backend plugs in by registering an allocator (core/allocator.h) and its kernels
// (kernels/kernel_tables.h) under its type, and nothing above the kernel layer changes.
#include <cstdint>
#include <iosfwd>

namespace tg {

// CUDA is the GPU backend's slot; PrivateUse1 is a slot for a backend kept outside the tree (PyTorch's name
// for the same idea); the tests use it to drive a second device through every dispatch path on a CPU-only
// machine.
enum class DeviceType : uint8_t { CPU, CUDA, PrivateUse1 };
inline constexpr int kNumDeviceTypes = 3;

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;
  constexpr Device() = default;
  constexpr Device(DeviceType t, int i = 0) : type(t), index(i) {}  // NOLINT: implicit, as torch.device
  bool operator==(const Device&) const = default;
  bool is_cpu() const { return type == DeviceType::CPU; }
};

inline constexpr Device kCPU{};

const char* device_type_name(DeviceType type);  // "cpu", "cuda", "privateuse1"
// Parses "cpu", "cuda", "cuda:1", "privateuse1:0"; throws tg::Error naming the text otherwise.
Device parse_device(const char* text);
std::ostream& operator<<(std::ostream& os, Device d);  // cpu, cuda:0 (the CPU has no index)

}  // namespace tg
