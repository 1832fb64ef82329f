#pragma once
// The 16-bit floating element types: bfloat16 (8 exponent bits, 7 mantissa bits: float32's range, ~3 decimal
// digits) and float16 (IEEE binary16: 5 exponent bits, 10 mantissa bits, largest finite 65504, subnormals
// down to 2^-24). Both are storage formats: every tensorgrad op computes on them in float32 and rounds the
// result back (docs/DTYPES.md).
//
// Float32 -> 16 bits rounds to nearest, ties to even; NaN stays a (quiet) NaN with its sign, infinities stay
// infinities, and a finite value that rounds past the largest finite one becomes an infinity. 16 bits ->
// float32 is exact. The casts are inline and branch-light so the loops that call them vectorise.
#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

namespace tg {

inline uint16_t float_to_bfloat16_bits(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  const uint32_t rounded = (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16;  // to nearest, ties to even
  const uint32_t quiet_nan = (bits >> 16) | 0x40u;
  // A select, not a branch, so loops of it vectorise.
  return static_cast<uint16_t>((bits & 0x7FFFFFFFu) > 0x7F800000u ? quiet_nan : rounded);
}

inline float bfloat16_bits_to_float(uint16_t bits) { return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16); }

inline uint16_t float_to_float16_bits(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  const auto sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t abs = bits & 0x7FFFFFFFu;
  if (abs > 0x7F800000u) return sign | 0x7E00u | static_cast<uint16_t>((abs >> 13) & 0x1FFu);  // quiet NaN
  if (abs >= 0x477FF000u) return sign | 0x7C00u;  // rounds to above 65504: infinity
  if (abs < 0x38800000u) {  // below 2^-14: a subnormal float16 (or zero)
    // The value in units of 2^-24, rounded to nearest even by the float adder: adding 0.5 (2^-1) aligns the
    // mantissa so the hardware rounding drops exactly the bits a float16 subnormal cannot hold.
    const float scaled = std::bit_cast<float>(abs) + 0.5f;
    return sign | static_cast<uint16_t>(std::bit_cast<uint32_t>(scaled) - 0x3F000000u);
  }
  // Normal: rebias the exponent (127 -> 15) and round the 23-bit mantissa to 10 bits, ties to even; a carry out
  // of the mantissa correctly bumps the exponent.
  const uint32_t rebased = abs - (112u << 23);
  const uint32_t rounded = rebased + 0xFFFu + ((rebased >> 13) & 1u);
  return sign | static_cast<uint16_t>(rounded >> 13);
}

inline float float16_bits_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1Fu, mantissa = h & 0x3FFu;
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24, exact in float32
    const float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-8f;
    return std::bit_cast<float>(std::bit_cast<uint32_t>(magnitude) | sign);
  }
  if (exponent == 31) return std::bit_cast<float>(sign | 0x7F800000u | (mantissa << 13));  // inf, NaN
  return std::bit_cast<float>(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

// The element types. Conversion from float (and so from any arithmetic type) is explicit and rounds as above;
// conversion to float is implicit and exact, so generic code reads a 16-bit element as a float and
// `static_cast<T>(x)` writes one.
struct bfloat16 {
  uint16_t bits = 0;
  bfloat16() = default;
  explicit bfloat16(float value) : bits(float_to_bfloat16_bits(value)) {}
  operator float() const { return bfloat16_bits_to_float(bits); }
  static bfloat16 from_bits(uint16_t b) {
    bfloat16 v;
    v.bits = b;
    return v;
  }
};

struct float16 {
  uint16_t bits = 0;
  float16() = default;
  explicit float16(float value) : bits(float_to_float16_bits(value)) {}
  operator float() const { return float16_bits_to_float(bits); }
  static float16 from_bits(uint16_t b) {
    float16 v;
    v.bits = b;
    return v;
  }
};

static_assert(sizeof(bfloat16) == 2 && sizeof(float16) == 2);

template <class T>
inline constexpr bool is_half_v = std::is_same_v<T, bfloat16> || std::is_same_v<T, float16>;

}  // namespace tg
