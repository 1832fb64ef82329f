// float32 <-> bfloat16 / float16 conversion loops. bfloat16 is float32's top half, so its casts are integer
// arithmetic the compiler vectorises as written. float16 needs F16C (vcvtps2ph / vcvtph2ps, x86-64-v3), chosen
// at run time so the library stays baseline x86-64; without it the scalar casts run. F16C rounds to nearest
// even, converts subnormals exactly and keeps a NaN's sign and top payload bits as a quiet NaN: the same bits
// as core/half.h (tests/kernels/half_convert_test.cpp checks every float16 pattern and random float32 ones).
#include "half_convert.h"
#include "isa_clones.h"

#include <immintrin.h>

#include <tensorgrad/core/half.h>

namespace tg::kernels::cpu {

namespace {

TG_ISA_CLONES void bf16_from_f32_run(uint16_t* __restrict o, const float* __restrict s, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = float_to_bfloat16_bits(s[i]);
}

TG_ISA_CLONES void f32_from_bf16_run(float* __restrict o, const uint16_t* __restrict s, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = bfloat16_bits_to_float(s[i]);
}

void bf16_from_f32(uint16_t* o, const float* s, int64_t n, int64_t os, int64_t ss) {
  if (os == 1 && ss == 1) return bf16_from_f32_run(o, s, n);
  for (int64_t i = 0; i < n; ++i) o[i * os] = float_to_bfloat16_bits(s[i * ss]);
}

void f32_from_bf16(float* o, const uint16_t* s, int64_t n, int64_t os, int64_t ss) {
  if (os == 1 && ss == 1) return f32_from_bf16_run(o, s, n);
  for (int64_t i = 0; i < n; ++i) o[i * os] = bfloat16_bits_to_float(s[i * ss]);
}

bool has_f16c() {
  static const bool yes = __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx");
  return yes;
}

__attribute__((target("avx,f16c"))) void f16_from_f32_f16c(uint16_t* o, const float* s, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(s + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(o + i), h);
  }
  for (; i < n; ++i) o[i] = float_to_float16_bits(s[i]);
}

__attribute__((target("avx,f16c"))) void f32_from_f16_f16c(float* o, const uint16_t* s, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(o + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i))));
  for (; i < n; ++i) o[i] = float16_bits_to_float(s[i]);
}

void f16_from_f32(uint16_t* o, const float* s, int64_t n, int64_t os, int64_t ss) {
  if (os == 1 && ss == 1 && has_f16c()) return f16_from_f32_f16c(o, s, n);
  for (int64_t i = 0; i < n; ++i) o[i * os] = float_to_float16_bits(s[i * ss]);
}

void f32_from_f16(float* o, const uint16_t* s, int64_t n, int64_t os, int64_t ss) {
  if (os == 1 && ss == 1 && has_f16c()) return f32_from_f16_f16c(o, s, n);
  for (int64_t i = 0; i < n; ++i) o[i * os] = float16_bits_to_float(s[i * ss]);
}

}  // namespace

void to_float(const bfloat16* src, float* out, int64_t n) {
  f32_from_bf16_run(out, reinterpret_cast<const uint16_t*>(src), n);
}
void to_float(const float16* src, float* out, int64_t n) {
  f32_from_f16(out, reinterpret_cast<const uint16_t*>(src), n, 1, 1);
}

bool is_half_conversion(DType out, DType src) {
  return (out == DType::Float32 && is_half(src)) || (src == DType::Float32 && is_half(out));
}

void convert_half(const Shape& shape, const StridedArg& out, const StridedArg& src) {
  auto* o = static_cast<char*>(out.data);
  const auto* s = static_cast<const char*>(src.data);
  const size_t osize = itemsize(out.dtype), ssize = itemsize(src.dtype);
  for_each_run<2>(shape, {out.strides.data(), src.strides.data()}, [&](int64_t n, auto off, auto st) {
    void* dst = o + off[0] * static_cast<int64_t>(osize);
    const void* from = s + off[1] * static_cast<int64_t>(ssize);
    switch (out.dtype) {
      case DType::BFloat16:
        return bf16_from_f32(static_cast<uint16_t*>(dst), static_cast<const float*>(from), n, st[0], st[1]);
      case DType::Float16:
        return f16_from_f32(static_cast<uint16_t*>(dst), static_cast<const float*>(from), n, st[0], st[1]);
      default:
        if (src.dtype == DType::BFloat16)
          return f32_from_bf16(static_cast<float*>(dst), static_cast<const uint16_t*>(from), n, st[0], st[1]);
        return f32_from_f16(static_cast<float*>(dst), static_cast<const uint16_t*>(from), n, st[0], st[1]);
    }
  });
}

}  // namespace tg::kernels::cpu
