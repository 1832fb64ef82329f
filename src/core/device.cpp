#include <tensorgrad/core/device.h>

#include <cstdlib>
#include <cstring>
#include <ostream>
#include <string>

#include <tensorgrad/base/error.h>

namespace tg {

const char* device_type_name(DeviceType type) {
  switch (type) {
    case DeviceType::CPU: return "cpu";
    case DeviceType::CUDA: return "cuda";
    case DeviceType::PrivateUse1: return "privateuse1";
  }
  return "?";
}

Device parse_device(const char* text) {
  const std::string s = text == nullptr ? "" : text;
  const size_t colon = s.find(':');
  const std::string name = s.substr(0, colon);
  for (int t = 0; t < kNumDeviceTypes; ++t) {
    const auto type = static_cast<DeviceType>(t);
    if (name != device_type_name(type)) continue;
    if (colon == std::string::npos) return Device(type, 0);
    const std::string index = s.substr(colon + 1);
    char* end = nullptr;
    const long i = std::strtol(index.c_str(), &end, 10);
    TG_CHECK(!index.empty() && *end == '\0' && i >= 0 && i < 1024, "tg::parse_device: bad device index in '", s,
             "' (expected e.g. cuda:0)");
    TG_CHECK(type != DeviceType::CPU || i == 0, "tg::parse_device: the CPU has only index 0, got '", s, "'");
    return Device(type, static_cast<int>(i));
  }
  TG_FAIL("tg::parse_device: unknown device '", s, "' (expected cpu, cuda, cuda:N or privateuse1:N)");
}

std::ostream& operator<<(std::ostream& os, Device d) {
  os << device_type_name(d.type);
  if (d.type != DeviceType::CPU) os << ':' << d.index;
  return os;
}

}  // namespace tg
