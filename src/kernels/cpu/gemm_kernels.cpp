// Which micro-kernel the GEMM driver (gemm.cpp) runs: the catalogue of kernels this CPU can execute (the
// portable one here, the per-ISA ones in gemm_<isa>.cpp), the default chosen once from it, $TG_GEMM_KERNEL and
// the tune file (gemm_tuning.h), and the companion tile shape a product's C fits better.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cpu_features.h"
#include "gemm.h"
#include "gemm_tuning.h"

namespace tg::kernels::cpu {

namespace {

// The portable micro-kernel: GCC/Clang vector extensions at 16 bytes (SSE2, NEON), MR = 4 rows by NR = two
// vectors. The compiler maps it onto whatever SIMD the baseline target has.

template <class T>
void generic_micro_kernel(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, bool accumulate) {
  using V = typename Vec16<T>::type;
  constexpr int kLanes = 16 / sizeof(T);
  constexpr int MR = 4, NR = 2 * kLanes;
  V acc[MR][2] = {};
  for (int64_t p = 0; p < kc; ++p) {
    V b0, b1;
    std::memcpy(&b0, b + p * NR, sizeof(V));
    std::memcpy(&b1, b + p * NR + kLanes, sizeof(V));
    for (int i = 0; i < MR; ++i) {
      const T ai = a[p * MR + i];
      acc[i][0] += ai * b0;
      acc[i][1] += ai * b1;
    }
  }
  for (int i = 0; i < MR; ++i) {
    T* row = c + i * ldc;
    for (int h = 0; h < 2; ++h) {
      V v = acc[i][h];
      if (accumulate) {
        V old;
        std::memcpy(&old, row + h * kLanes, sizeof(V));
        v = old + v;
      }
      std::memcpy(row + h * kLanes, &v, sizeof(V));
    }
  }
}

template <class T>
MicroKernel<T> generic_kernel() {
  MicroKernel<T> k;
  k.name = "generic";
  k.mr = 4;
  k.nr = 32 / static_cast<int>(sizeof(T));
  k.fn = &generic_micro_kernel<T>;
  k.blocking = {64, 256, 4096};
  return k;
}

// The micro-kernels use FMA besides the vector width.
bool cpu_has_avx2_fma() { return cpu_has_avx2() && cpu_has_fma(); }
bool cpu_has_avx512_fma() { return cpu_has_avx512f() && cpu_has_fma(); }

// The padded multiply-adds (per unit of k) of an m x n C in mr x nr tiles, in the orientation the driver uses.
int64_t oriented_tiles_area(int64_t m, int64_t n, int64_t mr, int64_t nr, bool column_major_c) {
  return turned_round(m, n, mr, nr, column_major_c) ? padded_tiles_area(n, m, mr, nr) : padded_tiles_area(m, n, mr, nr);
}

// Each kernel's blocking fitted to the L1 and L2 this CPU reports (sysconf reads them from CPUID; 0 when not).
template <class T>
std::vector<MicroKernel<T>> fitted_to_caches(std::vector<MicroKernel<T>> kernels) {
  static const int64_t l1 = std::max<long>(sysconf(_SC_LEVEL1_DCACHE_SIZE), 0);
  static const int64_t l2 = std::max<long>(sysconf(_SC_LEVEL2_CACHE_SIZE), 0);
  for (MicroKernel<T>& k : kernels)
    k.blocking = blocking_for_caches(k.blocking, k.mr, k.nr, static_cast<int64_t>(sizeof(T)), l1, l2);
  return kernels;
}

}  // namespace

GemmBlocking blocking_for_caches(GemmBlocking defaults, int mr, int nr, int64_t element_bytes, int64_t l1_bytes,
                                 int64_t l2_bytes) {
  GemmBlocking b = defaults;
  if (l1_bytes > 0) {
    const int64_t kc = l1_bytes * 15 / 16 / ((mr + nr) * element_bytes) / 16 * 16;
    b.kc = std::clamp<int64_t>(kc, 64, std::max<int64_t>(defaults.kc, 64));
  }
  if (l2_bytes > 0) {
    const int64_t mc = l2_bytes / 4 / (b.kc * element_bytes) / mr * mr;
    b.mc = std::clamp<int64_t>(mc, mr, std::max<int64_t>(defaults.mc, mr));
  }
  return b;
}

template <>
std::vector<MicroKernel<float>> available_micro_kernels<float>() {
  std::vector<MicroKernel<float>> out{generic_kernel<float>()};
  if (isa::avx2_f32 != nullptr && cpu_has_avx2_fma())
    out.push_back({"avx2", 6, 16, isa::avx2_f32, {120, 256, 4080}, {"avx2 4x24", 4, 24, isa::avx2_f32_4x24},
                   {6, 16, isa::avx2_f32_6x16_strided_a}, {}});
  if (isa::avx512_f32 != nullptr && cpu_has_avx512_fma())
    out.push_back({"avx512", 12, 32, isa::avx512_f32, {120, 256, 4096}, {"avx512 8x48", 8, 48, isa::avx512_f32_8x48},
                   {16, 16, isa::avx512_f32_16x16_strided_a}, {12, 32, isa::avx512_f32_12x32_strided_a}});
  return fitted_to_caches(std::move(out));
}

template <>
std::vector<MicroKernel<double>> available_micro_kernels<double>() {
  std::vector<MicroKernel<double>> out{generic_kernel<double>()};
  if (isa::avx2_f64 != nullptr && cpu_has_avx2_fma())
    out.push_back({"avx2", 6, 8, isa::avx2_f64, {96, 256, 4080}, {}, {}, {}});
  if (isa::avx512_f64 != nullptr && cpu_has_avx512_fma())
    out.push_back({"avx512", 12, 16, isa::avx512_f64, {96, 192, 4096}, {}, {}, {}});
  return fitted_to_caches(std::move(out));
}

template <class T>
const MicroKernel<T>& default_micro_kernel() {
  static const MicroKernel<T> chosen = [] {
    std::string message;
    MicroKernel<T> k = choose_micro_kernel<T>(available_micro_kernels<T>(), std::getenv("TG_GEMM_KERNEL"),
                                              gemm_tune_file_path(), gemm_tune_file_path_is_explicit(), &message);
    if (!message.empty()) std::fprintf(stderr, "tensorgrad: %s\n", message.c_str());
    return k;
  }();
  return chosen;
}

template <class T>
MicroKernel<T> tile_shape_for(const MicroKernel<T>& kernel, int64_t m, int64_t n, bool column_major_c) {
  const TileShape<T>& other = kernel.companion;
  if (other.fn == nullptr) return kernel;
  const int64_t own = oriented_tiles_area(m, n, kernel.mr, kernel.nr, column_major_c);
  const int64_t alternative = oriented_tiles_area(m, n, other.mr, other.nr, column_major_c);
  if (alternative >= own) return kernel;
  return with_tile_shape(kernel, other);
}

template const MicroKernel<float>& default_micro_kernel<float>();
template const MicroKernel<double>& default_micro_kernel<double>();
template MicroKernel<float> tile_shape_for(const MicroKernel<float>&, int64_t, int64_t, bool);
template MicroKernel<double> tile_shape_for(const MicroKernel<double>&, int64_t, int64_t, bool);

}  // namespace tg::kernels::cpu
