#pragma once
// Counter-based random numbers (Philox4x32-10, Salmon et al. 2011, as in JAX, cuRAND and PyTorch's CUDA RNG).
// Element i of a draw depends only on (seed, the generator's offset, i), so results are the same for any
// thread count or partitioning.
#include <array>
#include <cstdint>

namespace tg {

std::array<uint32_t, 4> philox4x32(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key);

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : seed_(seed) {}
  uint64_t seed() const { return seed_; }
  // Number of 128-bit Philox blocks consumed so far; saving (seed, offset) saves the whole state.
  uint64_t offset() const { return offset_; }
  void set_state(uint64_t seed, uint64_t offset) {
    seed_ = seed;
    offset_ = offset;
  }
  // Reserves `blocks` consecutive counter blocks and returns the first; block b yields 4 uint32 draws.
  uint64_t reserve(uint64_t blocks) {
    const uint64_t first = offset_;
    offset_ += blocks;
    return first;
  }
  std::array<uint32_t, 4> block(uint64_t index) const;

 private:
  uint64_t seed_;
  uint64_t offset_ = 0;
};

// The generator used when none is passed: a documented process-wide setting (like torch.manual_seed),
// seeded with 0 at start so runs are reproducible by default.
Generator& default_generator();
void manual_seed(uint64_t seed);

// Uniform float in [0, 1) from 32 random bits (24 significant bits), and double from 64 bits (53).
inline float uniform_float(uint32_t bits) { return static_cast<float>(bits >> 8) * (1.0f / 16777216.0f); }
inline double uniform_double(uint32_t hi, uint32_t lo) {
  const uint64_t bits = (static_cast<uint64_t>(hi) << 32 | lo) >> 11;
  return static_cast<double>(bits) * (1.0 / 9007199254740992.0);
}

}  // namespace tg
