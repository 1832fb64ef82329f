// The CPU where (where.h). Selection moves bits, so one loop per element size serves every dtype, and every
// clone gives the reference's bits.
#include "where.h"

#include <bit>
#include <cstring>
#include <type_traits>

#include <tensorgrad/kernels/strided_loop.h>

#include "isa_clones.h"

namespace tg::kernels::cpu {

namespace {

// o[i] = c[i] ? a[i * a_step] : b[i * b_step] with a and b each contiguous (step 1) or one value (step 0).
// A mask blend rather than `?:`, which compilers may turn into a branch.
template <class Bits>
inline __attribute__((always_inline)) void blend_loop(int64_t n, Bits* o, const uint8_t* c, const Bits* a,
                                                      int64_t a_step, const Bits* b, int64_t b_step) {
  auto blend = [](uint8_t ci, Bits x, Bits y) {
    const Bits take = Bits{0} - static_cast<Bits>(ci != 0);
    return static_cast<Bits>((x & take) | (y & ~take));
  };
  if (a_step == 1 && b_step == 1) {
    for (int64_t i = 0; i < n; ++i) o[i] = blend(c[i], a[i], b[i]);
  } else if (a_step == 1) {
    const Bits y = b[0];
    for (int64_t i = 0; i < n; ++i) o[i] = blend(c[i], a[i], y);
  } else if (b_step == 1) {
    const Bits x = a[0];
    for (int64_t i = 0; i < n; ++i) o[i] = blend(c[i], x, b[i]);
  } else {
    const Bits x = a[0], y = b[0];
    for (int64_t i = 0; i < n; ++i) o[i] = blend(c[i], x, y);
  }
}

TG_ISA_CLONES void blend(int64_t n, uint8_t* o, const uint8_t* c, const uint8_t* a, int64_t as, const uint8_t* b,
                         int64_t bs) {
  blend_loop(n, o, c, a, as, b, bs);
}
TG_ISA_CLONES void blend(int64_t n, uint16_t* o, const uint8_t* c, const uint16_t* a, int64_t as, const uint16_t* b,
                         int64_t bs) {
  blend_loop(n, o, c, a, as, b, bs);
}
TG_ISA_CLONES void blend(int64_t n, uint32_t* o, const uint8_t* c, const uint32_t* a, int64_t as, const uint32_t* b,
                         int64_t bs) {
  blend_loop(n, o, c, a, as, b, bs);
}
TG_ISA_CLONES void blend(int64_t n, uint64_t* o, const uint8_t* c, const uint64_t* a, int64_t as, const uint64_t* b,
                         int64_t bs) {
  blend_loop(n, o, c, a, as, b, bs);
}

template <class Bits>
void where_bits(const Shape& shape, const StridedArg& out, const StridedArg& cond, const StridedArg& a,
                const StridedArg& b) {
  Bits* po = static_cast<Bits*>(out.data);
  // bool is one byte holding 0 or 1 (static_assert below); read as bytes so the loops vectorise.
  const auto* pc = static_cast<const uint8_t*>(cond.data);
  const Bits* pa = static_cast<const Bits*>(a.data);
  const Bits* pb = static_cast<const Bits*>(b.data);
  for_each_run<4>(shape, {out.strides.data(), cond.strides.data(), a.strides.data(), b.strides.data()},
                  [&](int64_t n, auto off, auto s) {
                    Bits* o = po + off[0];
                    const uint8_t* c = pc + off[1];
                    const Bits* x = pa + off[2];
                    const Bits* y = pb + off[3];
                    const bool unit_out = s[0] == 1 || n == 1;
                    const int64_t as = n == 1 ? 1 : s[2], bs = n == 1 ? 1 : s[3];
                    const bool simple = unit_out && (as == 0 || as == 1) && (bs == 0 || bs == 1);
                    if (simple && (s[1] == 0 || n == 1)) {  // one condition for the run: copy or fill
                      const Bits* from = c[0] != 0 ? x : y;
                      if ((c[0] != 0 ? as : bs) == 1) {
                        std::memcpy(o, from, static_cast<size_t>(n) * sizeof(Bits));
                      } else {
                        const Bits v = from[0];
                        for (int64_t i = 0; i < n; ++i) o[i] = v;
                      }
                    } else if (simple && s[1] == 1) {
                      blend(n, o, c, x, as, y, bs);
                    } else {
                      for (int64_t i = 0; i < n; ++i)
                        o[i * s[0]] = c[i * s[1]] != 0 ? x[i * s[2]] : y[i * s[3]];
                    }
                  });
}

// o[i] = k[i] ? x[i] / d : +0 over contiguous runs. The quotient is taken in every lane and masked by its bits
// (as where's blend: a `?:` on a bool here vectorised poorly, 2.6x slower than where(keep, x / q, 0)).
template <class T>
inline __attribute__((always_inline)) void masked_divide_loop(int64_t n, T* __restrict o, const uint8_t* __restrict k,
                                                              const T* __restrict x, T d) {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  for (int64_t i = 0; i < n; ++i) {
    const Bits take = Bits{0} - static_cast<Bits>(k[i] != 0);
    o[i] = std::bit_cast<T>(static_cast<Bits>(std::bit_cast<Bits>(x[i] / d) & take));
  }
}
TG_ISA_CLONES void masked_divide_run(int64_t n, float* o, const uint8_t* k, const float* x, float d) {
  masked_divide_loop(n, o, k, x, d);
}
TG_ISA_CLONES void masked_divide_run(int64_t n, double* o, const uint8_t* k, const double* x, double d) {
  masked_divide_loop(n, o, k, x, d);
}

template <class T>
void masked_divide_typed(const Shape& shape, const StridedArg& out, const StridedArg& keep, const StridedArg& x,
                         double divisor) {
  T* po = static_cast<T*>(out.data);
  const auto* pk = static_cast<const uint8_t*>(keep.data);
  const T* px = static_cast<const T*>(x.data);
  const T d = static_cast<T>(divisor);
  for_each_run<3>(shape, {out.strides.data(), keep.strides.data(), x.strides.data()}, [&](int64_t n, auto off, auto s) {
    T* o = po + off[0];
    const uint8_t* k = pk + off[1];
    const T* v = px + off[2];
    const bool apart = o + n <= v || v + n <= o;
    if ((n == 1 || (s[0] == 1 && s[1] == 1 && s[2] == 1)) && apart) return masked_divide_run(n, o, k, v, d);
    for (int64_t i = 0; i < n; ++i) {  // strided, or in place: element by element, read before written
      const T q = v[i * s[2]] / d;
      o[i * s[0]] = k[i * s[1]] != 0 ? q : T(0);
    }
  });
}

}  // namespace

void masked_divide(const Shape& shape, const StridedArg& out, const StridedArg& keep, const StridedArg& x,
                   double divisor) {
  if (x.dtype == DType::Float32) return masked_divide_typed<float>(shape, out, keep, x, divisor);
  if (x.dtype == DType::Float64) return masked_divide_typed<double>(shape, out, keep, x, divisor);
  ref::masked_divide(shape, out, keep, x, divisor);
}

void where(const Shape& shape, const StridedArg& out, const StridedArg& cond, const StridedArg& a,
           const StridedArg& b) {
  static_assert(sizeof(bool) == 1);
  switch (itemsize(a.dtype)) {
    case 1: return where_bits<uint8_t>(shape, out, cond, a, b);
    case 2: return where_bits<uint16_t>(shape, out, cond, a, b);
    case 4: return where_bits<uint32_t>(shape, out, cond, a, b);
    case 8: return where_bits<uint64_t>(shape, out, cond, a, b);
    default: return ref::where(shape, out, cond, a, b);
  }
}

}  // namespace tg::kernels::cpu
