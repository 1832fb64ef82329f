#pragma once
// float32 exp, log, sigmoid, tanh and silu's gradient as straight-line code (no branches, no libm calls), so a loop
// over them vectorises: the compiler turns the selects into masks and every lane runs the same instructions.
// Accuracy against the correctly rounded result (tests/kernels/vector_math_test.cpp sweeps 2 million inputs and
// random bit patterns): exp and log within 1 ulp, sigmoid and tanh within 2 ulp, subnormal results within one
// subnormal step; NaN in, NaN out; exp(+large) = inf, exp(-large) = 0. The float64 ops stay on libm.
#include <bit>
#include <cstdint>
#include <limits>

namespace tg::kernels::cpu {

// Cephes' expf: x = n ln2 + r with |r| <= ln2 / 2 (ln2 split in two so n ln2 is exact), e^r by a degree-7
// polynomial, and 2^n applied as two exact powers of two so that n down to -150 (subnormal results) and up
// to 128 stays representable.
inline float exp_f32(float x) {
  constexpr float kOverflow = 88.72283935546875f;  // the largest x with a finite expf
  constexpr float kUnderflow = -104.0f;            // below: rounds to 0
  const bool is_nan = x != x;
  float xc = is_nan ? 0.0f : x;
  xc = xc < kUnderflow ? kUnderflow : xc;
  xc = xc > kOverflow ? kOverflow : xc;
  const float t = xc * 1.44269504088896341f + 0.5f;
  int32_t n = static_cast<int32_t>(t);  // truncation; one less for negative non-integers gives floor
  n -= static_cast<float>(n) > t ? 1 : 0;
  const float nf = static_cast<float>(n);
  float r = xc - nf * 0.693359375f;
  r = r - nf * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  float y = p * r * r + r + 1.0f;
  const int32_t half = n / 2;
  y *= std::bit_cast<float>(static_cast<uint32_t>(half + 127) << 23);
  y *= std::bit_cast<float>(static_cast<uint32_t>(n - half + 127) << 23);
  y = x > kOverflow ? std::numeric_limits<float>::infinity() : y;
  y = x < kUnderflow ? 0.0f : y;
  return is_nan ? x : y;
}

// Cephes' logf: x = 2^e m with m in [sqrt(1/2), sqrt(2)), log(m) = f - f^2 / 2 + f^3 P(f) for f = m - 1 (a
// degree-8 polynomial), and e ln2 added in two parts (ln2 split so e ln2's high part is exact). The exponent is
// kept as a float (small integers, exact), so the vector code needs no integer arithmetic beyond the bit fields.
// Subnormal x is scaled by 2^23 first; x < 0 and NaN give NaN, +-0 gives -inf, +inf gives +inf.
inline float log_f32(float x) {
  constexpr float kMinNormal = 1.17549435e-38f;
  const bool subnormal = x < kMinNormal;  // (zero and negatives too: their result is replaced below)
  const float xs = subnormal ? x * 8388608.0f : x;
  const uint32_t bits = std::bit_cast<uint32_t>(xs);
  float e = static_cast<float>(static_cast<int32_t>((bits >> 23) & 0xffu)) - 126.0f;
  e = subnormal ? e - 23.0f : e;
  float m = std::bit_cast<float>((bits & 0x007fffffu) | 0x3f000000u);  // [0.5, 1)
  const bool low = m < 0.707106781186547524f;
  e = low ? e - 1.0f : e;
  m = low ? (m + m) - 1.0f : m - 1.0f;
  const float z = m * m;
  float p = 7.0376836292e-2f;
  p = p * m - 1.1514610310e-1f;
  p = p * m + 1.1676998740e-1f;
  p = p * m - 1.2420140846e-1f;
  p = p * m + 1.4249322787e-1f;
  p = p * m - 1.6668057665e-1f;
  p = p * m + 2.0000714765e-1f;
  p = p * m - 2.4999993993e-1f;
  p = p * m + 3.3333331174e-1f;
  float y = p * m * z;
  y = y + e * -2.12194440e-4f;
  y = y - 0.5f * z;
  float r = m + y;
  r = r + e * 0.693359375f;
  r = x < 0.0f ? std::numeric_limits<float>::quiet_NaN() : r;
  r = x == 0.0f ? -std::numeric_limits<float>::infinity() : r;
  r = x == std::numeric_limits<float>::infinity() ? x : r;
  return x != x ? x : r;
}

// 1 / (1 + e^-x) from e = e^-|x| in (0, 1]: 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0, so neither
// side divides by an overflowed exponential.
inline float sigmoid_f32(float x) {
  const float ax = x < 0.0f ? -x : x;
  const float e = exp_f32(-ax);
  const float d = 1.0f + e;
  return x < 0.0f ? e / d : (x == x ? 1.0f / d : x);
}

// silu's gradient g * silu'(x), silu'(x) = s (1 + x (1 - s)) with s = sigmoid(x): one pass instead of the
// six a composed backward takes (sigmoid, two subtractions, an add, two products).
inline float silu_grad_f32(float g, float x) {
  const float s = sigmoid_f32(x);
  return g * (s * (1.0f + x * (1.0f - s)));
}

// Cephes' tanhf: an odd polynomial below |x| = 0.625, where 1 - 2 / (e^2|x| + 1) would cancel, and that
// formula above it (e^2|x| = inf gives exactly 1).
inline float tanh_f32(float x) {
  const float ax = x < 0.0f ? -x : x;
  const float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const float small = p * z * x + x;
  const float big = 1.0f - 2.0f / (exp_f32(2.0f * ax) + 1.0f);
  const float signed_big = x < 0.0f ? -big : big;
  return ax < 0.625f ? small : (x == x ? signed_big : x);
}

}  // namespace tg::kernels::cpu
