#pragma once
// vector_math.h's float32 exp, log, sigmoid, tanh, silu and silu's gradient over whole vectors, for the per-ISA
// translation units (vector_math_avx2.cpp, vector_math_avx512.cpp): the same operations in the same order, each
// a separate IEEE multiply, add, subtract or divide (those files are built with -ffp-contract=off), so every lane
// gives exactly the bits of the scalar function. GCC does not if-convert the scalar bodies in AVX2 / AVX-512 target
// clones, so the wide versions are written against a small vector interface `Ops`:
//   V (float lanes), I (int32 lanes), M (a lane mask); L lanes; load, store, set1, add, sub, mul, div;
//   lt, gt, eq, unordered -> M; select(m, a, b) = m ? a : b; floor; to_int (exact for integral values);
//   to_float; int_add, int_sub, int_and, int_or, int_sra1 (arithmetic shift right by 1), int_sign (x >> 31),
//   int_shl23, int_srl23 (logical shift right by 23), as_float and as_int (bit casts).
#include <cstdint>
#include <limits>

namespace tg::kernels::cpu::simd {

template <class Ops>
struct VectorMath {
  using V = typename Ops::V;

  static V exp(V x) {
    const V overflow = Ops::set1(88.72283935546875f), underflow = Ops::set1(-104.0f);
    const auto is_nan = Ops::unordered(x, x);
    V xc = Ops::select(is_nan, Ops::set1(0.0f), x);
    xc = Ops::select(Ops::lt(xc, underflow), underflow, xc);
    xc = Ops::select(Ops::gt(xc, overflow), overflow, xc);
    const V t = Ops::add(Ops::mul(xc, Ops::set1(1.44269504088896341f)), Ops::set1(0.5f));
    const V nf = Ops::floor(t);
    const auto n = Ops::to_int(nf);
    V r = Ops::sub(xc, Ops::mul(nf, Ops::set1(0.693359375f)));
    r = Ops::sub(r, Ops::mul(nf, Ops::set1(-2.12194440e-4f)));
    V p = Ops::set1(1.9875691500e-4f);
    p = Ops::add(Ops::mul(p, r), Ops::set1(1.3981999507e-3f));
    p = Ops::add(Ops::mul(p, r), Ops::set1(8.3334519073e-3f));
    p = Ops::add(Ops::mul(p, r), Ops::set1(4.1665795894e-2f));
    p = Ops::add(Ops::mul(p, r), Ops::set1(1.6666665459e-1f));
    p = Ops::add(Ops::mul(p, r), Ops::set1(5.0000001201e-1f));
    V y = Ops::add(Ops::add(Ops::mul(Ops::mul(p, r), r), r), Ops::set1(1.0f));
    // half = n / 2 rounded toward zero, as C++'s integer division.
    const auto half = Ops::int_sra1(Ops::int_sub(n, Ops::int_sign(n)));
    const auto bias = Ops::int_set1(127);
    y = Ops::mul(y, Ops::as_float(Ops::int_shl23(Ops::int_add(half, bias))));
    y = Ops::mul(y, Ops::as_float(Ops::int_shl23(Ops::int_add(Ops::int_sub(n, half), bias))));
    y = Ops::select(Ops::gt(x, overflow), Ops::set1(std::numeric_limits<float>::infinity()), y);
    y = Ops::select(Ops::lt(x, underflow), Ops::set1(0.0f), y);
    return Ops::select(is_nan, x, y);
  }

  static V log(V x) {
    const V min_normal = Ops::set1(1.17549435e-38f), zero = Ops::set1(0.0f), one = Ops::set1(1.0f);
    const auto subnormal = Ops::lt(x, min_normal);
    const V xs = Ops::select(subnormal, Ops::mul(x, Ops::set1(8388608.0f)), x);
    const auto bits = Ops::as_int(xs);
    V e = Ops::sub(Ops::to_float(Ops::int_and(Ops::int_srl23(bits), Ops::int_set1(0xff))), Ops::set1(126.0f));
    e = Ops::select(subnormal, Ops::sub(e, Ops::set1(23.0f)), e);
    V m = Ops::as_float(Ops::int_or(Ops::int_and(bits, Ops::int_set1(0x007fffff)), Ops::int_set1(0x3f000000)));
    const auto low = Ops::lt(m, Ops::set1(0.707106781186547524f));
    e = Ops::select(low, Ops::sub(e, one), e);
    m = Ops::select(low, Ops::sub(Ops::add(m, m), one), Ops::sub(m, one));
    const V z = Ops::mul(m, m);
    V p = Ops::set1(7.0376836292e-2f);
    p = Ops::sub(Ops::mul(p, m), Ops::set1(1.1514610310e-1f));
    p = Ops::add(Ops::mul(p, m), Ops::set1(1.1676998740e-1f));
    p = Ops::sub(Ops::mul(p, m), Ops::set1(1.2420140846e-1f));
    p = Ops::add(Ops::mul(p, m), Ops::set1(1.4249322787e-1f));
    p = Ops::sub(Ops::mul(p, m), Ops::set1(1.6668057665e-1f));
    p = Ops::add(Ops::mul(p, m), Ops::set1(2.0000714765e-1f));
    p = Ops::sub(Ops::mul(p, m), Ops::set1(2.4999993993e-1f));
    p = Ops::add(Ops::mul(p, m), Ops::set1(3.3333331174e-1f));
    V y = Ops::mul(Ops::mul(p, m), z);
    y = Ops::add(y, Ops::mul(e, Ops::set1(-2.12194440e-4f)));
    y = Ops::sub(y, Ops::mul(Ops::set1(0.5f), z));
    V r = Ops::add(m, y);
    r = Ops::add(r, Ops::mul(e, Ops::set1(0.693359375f)));
    const V inf = Ops::set1(std::numeric_limits<float>::infinity());
    r = Ops::select(Ops::lt(x, zero), Ops::set1(std::numeric_limits<float>::quiet_NaN()), r);
    r = Ops::select(Ops::eq(x, zero), Ops::sub(zero, inf), r);
    r = Ops::select(Ops::eq(x, inf), x, r);
    return Ops::select(Ops::unordered(x, x), x, r);
  }

  static V sigmoid(V x) {
    const V zero = Ops::set1(0.0f), one = Ops::set1(1.0f);
    const auto negative = Ops::lt(x, zero);
    const V ax = Ops::select(negative, Ops::sub(zero, x), x);
    const V e = exp(Ops::sub(zero, ax));
    const V d = Ops::add(one, e);
    // e / d or 1 / d as one division with the numerator chosen first: the divider is the slowest unit here (a
    // 512-bit division every ~10-16 cycles), and two of them a vector made sigmoid and silu 1.5x exp's time.
    const V q = Ops::div(Ops::select(negative, e, one), d);
    return Ops::select(Ops::unordered(x, x), x, q);
  }

  static V tanh(V x) {
    const V zero = Ops::set1(0.0f), one = Ops::set1(1.0f);
    const auto negative = Ops::lt(x, zero);
    const V ax = Ops::select(negative, Ops::sub(zero, x), x);
    const V z = Ops::mul(x, x);
    V p = Ops::set1(-5.70498872745e-3f);
    p = Ops::add(Ops::mul(p, z), Ops::set1(2.06390887954e-2f));
    p = Ops::sub(Ops::mul(p, z), Ops::set1(5.37397155531e-2f));
    p = Ops::add(Ops::mul(p, z), Ops::set1(1.33314422036e-1f));
    p = Ops::sub(Ops::mul(p, z), Ops::set1(3.33332819422e-1f));
    const V small = Ops::add(Ops::mul(Ops::mul(p, z), x), x);
    const V big = Ops::sub(one, Ops::div(Ops::set1(2.0f), Ops::add(exp(Ops::mul(Ops::set1(2.0f), ax)), one)));
    const V signed_big = Ops::select(negative, Ops::sub(zero, big), big);
    const V large_side = Ops::select(Ops::unordered(x, x), x, signed_big);
    return Ops::select(Ops::lt(ax, Ops::set1(0.625f)), small, large_side);
  }

  static V silu(V x) { return Ops::mul(x, sigmoid(x)); }

  static V silu_grad(V g, V x) {
    const V s = sigmoid(x), one = Ops::set1(1.0f);
    return Ops::mul(g, Ops::mul(s, Ops::add(one, Ops::mul(x, Ops::sub(one, s)))));
  }
};

// out[i] = F(in[i]) for n floats: whole vectors, the tail through one zero-padded vector (no scalar
// function is called here: an inline function from a header compiled in an ISA's translation unit could be
// the copy the linker keeps for every caller).
template <class Ops, typename Ops::V (*F)(typename Ops::V)>
void run(float* out, const float* in, int64_t n) {
  int64_t i = 0;
  for (; i + 2 * Ops::L <= n; i += 2 * Ops::L) {  // two vectors a step: their dependency chains overlap
    const typename Ops::V a = F(Ops::load(in + i)), b = F(Ops::load(in + i + Ops::L));
    Ops::store(out + i, a);
    Ops::store(out + i + Ops::L, b);
  }
  for (; i + Ops::L <= n; i += Ops::L) Ops::store(out + i, F(Ops::load(in + i)));
  if (i == n) return;
  float lanes[Ops::L] = {};
  for (int64_t j = i; j < n; ++j) lanes[j - i] = in[j];
  Ops::store(lanes, F(Ops::load(lanes)));
  for (int64_t j = i; j < n; ++j) out[j] = lanes[j - i];
}

// out[i] = F(a[i], b[i]) for n floats, as run() does for one operand.
template <class Ops, typename Ops::V (*F)(typename Ops::V, typename Ops::V)>
void run2(float* out, const float* a, const float* b, int64_t n) {
  int64_t i = 0;
  for (; i + 2 * Ops::L <= n; i += 2 * Ops::L) {
    const typename Ops::V p = F(Ops::load(a + i), Ops::load(b + i));
    const typename Ops::V q = F(Ops::load(a + i + Ops::L), Ops::load(b + i + Ops::L));
    Ops::store(out + i, p);
    Ops::store(out + i + Ops::L, q);
  }
  for (; i + Ops::L <= n; i += Ops::L) Ops::store(out + i, F(Ops::load(a + i), Ops::load(b + i)));
  if (i == n) return;
  float la[Ops::L] = {}, lb[Ops::L] = {};
  for (int64_t j = i; j < n; ++j) la[j - i] = a[j], lb[j - i] = b[j];
  Ops::store(la, F(Ops::load(la), Ops::load(lb)));
  for (int64_t j = i; j < n; ++j) out[j] = la[j - i];
}

// x[i] = exp(x[i] - shift) in place, returning their sum (a softmax row: attention's online softmax). The
// padded last vector's spare lanes hold -inf, whose exp adds nothing.
template <class Ops>
float exp_shifted_sum(float* x, float shift, int64_t n) {
  using V = typename Ops::V;
  const V s = Ops::set1(shift);
  V acc = Ops::set1(0.0f);
  int64_t i = 0;
  for (; i + Ops::L <= n; i += Ops::L) {
    const V y = VectorMath<Ops>::exp(Ops::sub(Ops::load(x + i), s));
    Ops::store(x + i, y);
    acc = Ops::add(acc, y);
  }
  float lanes[Ops::L];
  if (i < n) {
    for (float& l : lanes) l = -std::numeric_limits<float>::infinity();
    for (int64_t j = i; j < n; ++j) lanes[j - i] = x[j];
    const V y = VectorMath<Ops>::exp(Ops::sub(Ops::load(lanes), s));
    acc = Ops::add(acc, y);
    Ops::store(lanes, y);
    for (int64_t j = i; j < n; ++j) x[j] = lanes[j - i];
  }
  Ops::store(lanes, acc);
  float sum = 0;
  for (float l : lanes) sum += l;
  return sum;
}

// The runs of one ISA (unary.cpp picks the widest the CPU has).
struct Runs {
  const char* isa;
  void (*exp)(float*, const float*, int64_t);
  void (*log)(float*, const float*, int64_t);
  void (*sigmoid)(float*, const float*, int64_t);
  void (*tanh)(float*, const float*, int64_t);
  void (*silu)(float*, const float*, int64_t);
  void (*silu_grad)(float* out, const float* grad, const float* x, int64_t n);
  float (*exp_shifted_sum)(float*, float, int64_t);
};

template <class Ops>
constexpr Runs runs_of(const char* isa) {
  using M = VectorMath<Ops>;
  return {isa,
          &run<Ops, &M::exp>,
          &run<Ops, &M::log>,
          &run<Ops, &M::sigmoid>,
          &run<Ops, &M::tanh>,
          &run<Ops, &M::silu>,
          &run2<Ops, &M::silu_grad>,
          &exp_shifted_sum<Ops>};
}

// Null when the library was built for a target without that ISA (vector_math_<isa>.cpp).
extern const Runs* const avx2_runs;
extern const Runs* const avx512_runs;

}  // namespace tg::kernels::cpu::simd
