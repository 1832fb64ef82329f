// Counter-based random fills in vector lanes (random.h). Philox4x32-10 is integer arithmetic (32 x 32 -> 64
// multiplies, xors, adds), so every clone gives core/random.cpp's words exactly; the conversions below are
// exact too (a 24-bit integer to float, and an integer comparison equal to the reference's double one).
#include "random.h"

#include <algorithm>
#include <cmath>

#include <tensorgrad/core/random.h>

#include "cpu_features.h"
#include "isa_clones.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace tg::kernels::cpu {

namespace {

constexpr int64_t kChunkBlocks = 256;  // blocks per buffer of words (4 KiB on the stack)

constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;

// words[4 * i + j] = word j of Philox block (first + i), for i < count: philox4x32 (core/random.cpp) of
// counter {index, index >> 32, 0, 0} and key {seed, seed >> 32}.
void philox_scalar(uint64_t seed, uint64_t first, int64_t count, uint32_t* words) {
  for (int64_t i = 0; i < count; ++i) {
    const uint64_t index = first + static_cast<uint64_t>(i);
    const auto w = philox4x32({static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32), 0, 0},
                              {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)});
    std::copy(w.begin(), w.end(), words + 4 * i);
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
// The same in vector lanes, one block per 32-bit lane. x86 has no high-half 32-bit multiply: the even lanes'
// 64-bit products come from one mul_epu32, the odd lanes' from another on the operand shifted down; the low
// halves from mullo. Blocks past `count` in the last pass are computed and not stored.
#define TG_PHILOX_LANES(ISA, VEC, LANES, LOAD_IDX, MUL, MULLO, SRLI, SLLI_XOR_HI, SET1, XOR, STOREU)              \
  __attribute__((target(ISA))) void philox_##VEC(uint64_t seed, uint64_t first, int64_t count,          \
                                                       uint32_t* words) {                                      \
    alignas(64) uint32_t lo_index[LANES], hi_index[LANES], out[4][LANES];                                     \
    for (int64_t c0 = 0; c0 < count; c0 += LANES) {                                                           \
      for (int j = 0; j < LANES; ++j) {                                                                       \
        const uint64_t index = first + static_cast<uint64_t>(c0 + j);                                         \
        lo_index[j] = static_cast<uint32_t>(index);                                                           \
        hi_index[j] = static_cast<uint32_t>(index >> 32);                                                     \
      }                                                                                                       \
      auto x0 = LOAD_IDX(lo_index), x1 = LOAD_IDX(hi_index), x2 = SET1(0), x3 = SET1(0);                      \
      uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);                     \
      const auto m0 = SET1(static_cast<int>(kMul0)), m1 = SET1(static_cast<int>(kMul1));                      \
      for (int round = 0; round < 10; ++round) {                                                              \
        /* hi(m * x): even lanes' high halves shifted down, odd lanes' products already in place */          \
        const auto hi0 = SLLI_XOR_HI(MUL(x0, m0), MUL(SRLI(x0, 32), m0));                                     \
        const auto hi1 = SLLI_XOR_HI(MUL(x2, m1), MUL(SRLI(x2, 32), m1));                                     \
        const auto lo0 = MULLO(x0, m0), lo1 = MULLO(x2, m1);                                                  \
        x0 = XOR(XOR(hi1, x1), SET1(static_cast<int>(k0)));                                                   \
        x1 = lo1;                                                                                             \
        x2 = XOR(XOR(hi0, x3), SET1(static_cast<int>(k1)));                                                   \
        x3 = lo0;                                                                                             \
        k0 += kWeyl0;                                                                                         \
        k1 += kWeyl1;                                                                                         \
      }                                                                                                       \
      STOREU(out[0], x0);                                                                                     \
      STOREU(out[1], x1);                                                                                     \
      STOREU(out[2], x2);                                                                                     \
      STOREU(out[3], x3);                                                                                     \
      const int64_t m = std::min<int64_t>(LANES, count - c0);                                                 \
      for (int64_t j = 0; j < m; ++j)                                                                         \
        for (int w = 0; w < 4; ++w) words[4 * (c0 + j) + w] = out[w][j];                                     \
    }                                                                                                         \
  }

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*(), which -Wmaybe-uninitialized flags at -O3.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#define TG_LOAD512(p) _mm512_load_si512(p)
#define TG_HI512(even, odd) _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd)
#define TG_STORE512(p, v) _mm512_store_si512(p, v)
TG_PHILOX_LANES("avx512f", avx512, 16, TG_LOAD512, _mm512_mul_epu32, _mm512_mullo_epi32, _mm512_srli_epi64,
                TG_HI512, _mm512_set1_epi32, _mm512_xor_si512, TG_STORE512)
#define TG_LOAD256(p) _mm256_load_si256(reinterpret_cast<const __m256i*>(p))
#define TG_HI256(even, odd) _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA)
#define TG_STORE256(p, v) _mm256_store_si256(reinterpret_cast<__m256i*>(p), v)
TG_PHILOX_LANES("avx2", avx2, 8, TG_LOAD256, _mm256_mul_epu32, _mm256_mullo_epi32, _mm256_srli_epi64, TG_HI256,
                _mm256_set1_epi32, _mm256_xor_si256, TG_STORE256)
#pragma GCC diagnostic pop
#undef TG_PHILOX_LANES
#endif

PhiloxWords choose_philox_words() {
  return widest_supported<PhiloxWords>(philox_words_avx512, philox_words_avx2, philox_words_scalar);
}

void philox_words(uint64_t seed, uint64_t first, int64_t count, uint32_t* words) {
  static const PhiloxWords chosen = choose_philox_words();  // CPUID once
  chosen(seed, first, count, words);
}

// The reference keeps a draw when uniform_float(w) = (w >> 8) * 2^-24 >= threshold, in double. Both sides are
// exact, so that is (w >> 8) >= ceil(threshold * 2^24), an integer comparison (0 keeps all, 2^24 + 1 none).
uint32_t keep_from(double threshold) {
  const double t = std::ceil(threshold * 16777216.0);
  if (t <= 0) return 0;  // (a NaN threshold never gets here: random_range leaves it to the reference)
  return t > 16777216.0 ? 16777217u : static_cast<uint32_t>(t);
}

TG_ISA_CLONES void bernoulli_from_words(int64_t n, bool* out, const uint32_t* w, uint32_t keep) {
  for (int64_t i = 0; i < n; ++i) out[i] = (w[i] >> 8) >= keep;
}

TG_ISA_CLONES void uniform_from_words(int64_t n, float* out, const uint32_t* w) {
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(w[i] >> 8) * (1.0f / 16777216.0f);
}

}  // namespace

const PhiloxWords philox_words_scalar = &philox_scalar;
#if defined(__x86_64__) && defined(__GNUC__)
const PhiloxWords philox_words_avx2 = &philox_avx2;
const PhiloxWords philox_words_avx512 = &philox_avx512;
#else
const PhiloxWords philox_words_avx2 = nullptr;
const PhiloxWords philox_words_avx512 = nullptr;
#endif

void random_range(RandomOp op, const StridedArg& out, int64_t n, const RandomParams& params, int64_t first_block,
                  int64_t last_block) {
  const bool bernoulli = op == RandomOp::Bernoulli && out.dtype == DType::Bool && !std::isnan(params.threshold);
  const bool uniform = op == RandomOp::Uniform && out.dtype == DType::Float32;
  if (!bernoulli && !uniform) return ref::random_range(op, out, n, params, first_block, last_block);
  // One draw (one 32-bit word) per element: element e comes from word e of the fill.
  const uint32_t keep = bernoulli ? keep_from(params.threshold) : 0;
  uint32_t words[4 * kChunkBlocks];
  for (int64_t b = first_block; b < last_block; b += kChunkBlocks) {
    const int64_t blocks = std::min(kChunkBlocks, last_block - b);
    philox_words(params.seed, params.first_block + static_cast<uint64_t>(b), blocks, words);
    const int64_t e0 = 4 * b, count = std::min(4 * blocks, n - e0);
    if (bernoulli)
      bernoulli_from_words(count, static_cast<bool*>(out.data) + e0, words, keep);
    else
      uniform_from_words(count, static_cast<float*>(out.data) + e0, words);
  }
}

}  // namespace tg::kernels::cpu
