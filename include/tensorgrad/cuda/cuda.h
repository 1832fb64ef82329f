#pragma once
// The CUDA backend (built with TG_CUDA; see docs/CUDA.md). It plugs into the core as every device does: an
// allocator for DeviceType::CUDA and kernels in each family's table (docs/ARCHITECTURE.md, "Adding a
// device"). Nothing above the kernel layer knows about it: after tg::cuda::init(), tensors made with
// Device(DeviceType::CUDA) or moved there with .to(...) run their ops on the GPU.
#include <string>

namespace tg::cuda {

// GPUs the CUDA runtime sees; 0 when there is none, or no driver (never throws).
int device_count();
inline bool is_available() { return device_count() > 0; }
// Registers the CUDA allocator and kernels (once; later calls do nothing). Throws tg::Error saying why when
// no GPU can be used (no device, no driver), so a program can fall back to the CPU.
void init();
// The name of GPU `index` ("NVIDIA H200"); throws tg::Error when there is no such device.
std::string device_name(int index = 0);
// Waits for every kernel queued so far (kernels run asynchronously; copies to the host wait by themselves).
void synchronize();

}  // namespace tg::cuda
