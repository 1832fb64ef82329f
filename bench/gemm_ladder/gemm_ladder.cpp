// The GEMM ladder's rungs (see gemm_ladder.h). The first three are plain loops compiled with the project's
// baseline flags; the rest call the production GEMM with a chosen micro-kernel, blocking and thread count.
#include "gemm_ladder.h"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include <tensorgrad/base/error.h>

#include "../../src/kernels/cpu/gemm.h"  // private to tg_kernels: gemm<T>, the micro-kernels, the tune file

namespace tg::kernels::cpu {

namespace {

template <class T>
void naive(const MatrixProduct<T>& p, int /*threads*/) {
  for (int64_t i = 0; i < p.m; ++i)
    for (int64_t j = 0; j < p.n; ++j) {
      T sum = 0;
      for (int64_t q = 0; q < p.k; ++q) sum += p.a[i * p.lda + q] * p.b[q * p.ldb + j];
      p.c[i * p.ldc + j] = sum;
    }
}

template <class T>
void zero_c(const MatrixProduct<T>& p) {
  for (int64_t i = 0; i < p.m; ++i) std::fill(p.c + i * p.ldc, p.c + i * p.ldc + p.n, T(0));
}

// c[i, j0:j1] += sum over q in [q0, q1) of a[i, q] * b[q, j0:j1], for rows [i0, i1).
template <class T>
void ikj_block(const MatrixProduct<T>& p, int64_t i0, int64_t i1, int64_t q0, int64_t q1, int64_t j0, int64_t j1) {
  for (int64_t i = i0; i < i1; ++i) {
    T* __restrict crow = p.c + i * p.ldc;
    for (int64_t q = q0; q < q1; ++q) {
      const T aiq = p.a[i * p.lda + q];
      const T* __restrict brow = p.b + q * p.ldb;
      for (int64_t j = j0; j < j1; ++j) crow[j] += aiq * brow[j];
    }
  }
}

template <class T>
void reordered(const MatrixProduct<T>& p, int /*threads*/) {
  zero_c(p);
  ikj_block(p, 0, p.m, 0, p.k, 0, p.n);
}

// Tiles sized for a few hundred KB of L2: a KB x NB block of B (128 KB of floats) is reused by every row of A.
template <class T>
void blocked(const MatrixProduct<T>& p, int /*threads*/) {
  constexpr int64_t MB = 64, KB = 128, NB = 256;
  zero_c(p);
  for (int64_t j0 = 0; j0 < p.n; j0 += NB)
    for (int64_t q0 = 0; q0 < p.k; q0 += KB)
      for (int64_t i0 = 0; i0 < p.m; i0 += MB)
        ikj_block(p, i0, std::min(i0 + MB, p.m), q0, std::min(q0 + KB, p.k), j0, std::min(j0 + NB, p.n));
}

template <class T>
StridedArg matrix(const T* data, int64_t ld) {
  return {const_cast<T*>(data), {ld, 1}, dtype_of<T>()};
}

// The production GEMM on one product with a given micro-kernel, blocking and thread count.
template <class T>
void run_gemm(const MatrixProduct<T>& p, const MicroKernel<T>& kernel, const GemmBlocking& blocking, int threads) {
  // Like tg::matmul: small products stay on fewer threads (the production grain), never more than asked.
  GemmOptions options;
  const int64_t macs = p.m * p.n * p.k;
  options.threads = static_cast<int>(std::clamp<int64_t>(macs / options.grain, 1, std::max(threads, 1)));
  gemm<T>({}, p.m, p.n, p.k, matrix(p.c, p.ldc), matrix(p.a, p.lda), matrix(p.b, p.ldb), kernel, blocking, options);
}

template <class T>
const MicroKernel<T>& kernel_named(const char* name) {
  static const std::vector<MicroKernel<T>> all = available_micro_kernels<T>();
  for (const MicroKernel<T>& k : all)
    if (std::string(k.name) == name) return k;
  TG_FAIL("gemm ladder: micro-kernel '", name, "' is not available on this CPU");
}

template <class T>
const MicroKernel<T>& best_builtin_kernel() {
  static const MicroKernel<T> best = available_micro_kernels<T>().back();
  return best;
}

template <class T, const char* Name>
void single_kernel(const MatrixProduct<T>& p, int /*threads*/) {
  const MicroKernel<T>& kernel = kernel_named<T>(Name);
  run_gemm(p, kernel, kernel.blocking, 1);
}

constexpr char kGeneric[] = "generic", kAvx2[] = "avx2", kAvx512[] = "avx512";
template <class T>
void packed_rung(const MatrixProduct<T>& p, int threads) { single_kernel<T, kGeneric>(p, threads); }
template <class T>
void avx2_rung(const MatrixProduct<T>& p, int threads) { single_kernel<T, kAvx2>(p, threads); }
template <class T>
void avx512_rung(const MatrixProduct<T>& p, int threads) { single_kernel<T, kAvx512>(p, threads); }

template <class T>
void threaded(const MatrixProduct<T>& p, int threads) {
  const MicroKernel<T>& kernel = best_builtin_kernel<T>();
  run_gemm(p, kernel, kernel.blocking, threads);
}

// What tg::matmul runs: the tuned kernel and blocking, with the kernel's companion tile shape where it fits C.
template <class T>
void tuned(const MatrixProduct<T>& p, int threads) {
  const MicroKernel<T> kernel = tile_shape_for(default_micro_kernel<T>(), p.m, p.n, false);
  run_gemm(p, kernel, kernel.blocking, threads);
}

// ---- Strassen, one level ----
// With h = ceil(size / 2), each operand splits into four h-sized quadrants (those past an odd edge read as
// zeros). Seven products M_i = (sum of A quadrants) (sum of B quadrants), each added with a sign into up to
// two quadrants of C:
//   M1 = (A11 + A22)(B11 + B22)  -> C11 +, C22 +        M5 = (A11 + A12) B22          -> C11 -, C12 +
//   M2 = (A21 + A22) B11         -> C21 +, C22 -        M6 = (A21 - A11)(B11 + B12)   -> C22 +
//   M3 = A11 (B12 - B22)         -> C12 +, C22 +        M7 = (A12 - A22)(B21 + B22)   -> C11 +
//   M4 = A22 (B21 - B11)         -> C11 +, C21 +
// Quadrants are numbered 0..3 = 11, 12, 21, 22.
struct Term {
  int quadrant = -1;  // -1: unused
  int sign = 0;
};
struct StrassenProduct {
  std::array<Term, 2> a, b, c;
};
constexpr StrassenProduct kStrassen[7] = {
    {{{{0, 1}, {3, 1}}}, {{{0, 1}, {3, 1}}}, {{{0, 1}, {3, 1}}}},
    {{{{2, 1}, {3, 1}}}, {{{0, 1}, {-1, 0}}}, {{{2, 1}, {3, -1}}}},
    {{{{0, 1}, {-1, 0}}}, {{{1, 1}, {3, -1}}}, {{{1, 1}, {3, 1}}}},
    {{{{3, 1}, {-1, 0}}}, {{{2, 1}, {0, -1}}}, {{{0, 1}, {2, 1}}}},
    {{{{0, 1}, {1, 1}}}, {{{3, 1}, {-1, 0}}}, {{{0, -1}, {1, 1}}}},
    {{{{2, 1}, {0, -1}}}, {{{0, 1}, {1, 1}}}, {{{3, 1}, {-1, 0}}}},
    {{{{1, 1}, {3, -1}}}, {{{2, 1}, {3, 1}}}, {{{0, 1}, {-1, 0}}}},
};

// out[rows_h x cols_h] = sum of the terms' quadrants of src (rows x cols, row stride ld), zero past the edges.
template <class T>
void quadrant_sum(const std::array<Term, 2>& terms, const T* src, int64_t ld, int64_t rows, int64_t cols,
                  int64_t rows_h, int64_t cols_h, T* out) {
  std::fill(out, out + rows_h * cols_h, T(0));
  for (const Term& t : terms) {
    if (t.quadrant < 0) continue;
    const int64_t r0 = (t.quadrant / 2) * rows_h, c0 = (t.quadrant % 2) * cols_h;
    const int64_t nr = std::min(rows_h, rows - r0), nc = std::min(cols_h, cols - c0);
    const T sign = T(t.sign);
    for (int64_t i = 0; i < nr; ++i) {
      const T* s = src + (r0 + i) * ld + c0;
      T* o = out + i * cols_h;
      for (int64_t j = 0; j < nc; ++j) o[j] += sign * s[j];
    }
  }
}

template <class T>
void strassen(const MatrixProduct<T>& p, int threads) {
  const int64_t mh = (p.m + 1) / 2, nh = (p.n + 1) / 2, kh = (p.k + 1) / 2;
  if (mh == 0 || nh == 0) return;
  if (kh == 0) {
    zero_c(p);
    return;
  }
  std::vector<T> sa(static_cast<size_t>(mh * kh)), sb(static_cast<size_t>(kh * nh)), prod(static_cast<size_t>(mh * nh));
  zero_c(p);
  for (const StrassenProduct& s : kStrassen) {
    quadrant_sum(s.a, p.a, p.lda, p.m, p.k, mh, kh, sa.data());
    quadrant_sum(s.b, p.b, p.ldb, p.k, p.n, kh, nh, sb.data());
    tuned<T>({mh, nh, kh, sa.data(), kh, sb.data(), nh, prod.data(), nh}, threads);
    for (const Term& t : s.c) {
      if (t.quadrant < 0) continue;
      const int64_t r0 = (t.quadrant / 2) * mh, c0 = (t.quadrant % 2) * nh;
      const int64_t nr = std::min(mh, p.m - r0), nc = std::min(nh, p.n - c0);
      const T sign = T(t.sign);
      for (int64_t i = 0; i < nr; ++i) {
        T* c = p.c + (r0 + i) * p.ldc + c0;
        const T* m = prod.data() + i * nh;
        for (int64_t j = 0; j < nc; ++j) c[j] += sign * m[j];
      }
    }
  }
}

#define TG_RUNG(name, adds, fn, threaded_rung, slow) \
  LadderRung { name, adds, &fn<float>, &fn<double>, threaded_rung, slow }

template <class T>
bool has_kernel(const char* name) {
  for (const MicroKernel<T>& k : available_micro_kernels<T>())
    if (std::string(k.name) == name) return true;
  return false;
}

}  // namespace

const std::vector<LadderRung>& gemm_ladder() {
  static const std::vector<LadderRung> rungs = [] {
    std::vector<LadderRung> out;
    out.push_back(TG_RUNG("naive", "i-j-k triple loop", naive, false, true));
    out.push_back(TG_RUNG("reordered", "i-k-j order: unit-stride inner loop, vectorised", reordered, false, true));
    out.push_back(TG_RUNG("blocked", "cache tiles (64 x 128 x 256)", blocked, false, false));
    out.push_back(TG_RUNG("packed", "packed panels + portable 4 x 2-vector micro-kernel", packed_rung, false, false));
    if (has_kernel<float>(kAvx2) && has_kernel<double>(kAvx2))
      out.push_back(TG_RUNG("avx2", "AVX2+FMA micro-kernel (6 x 16 floats)", avx2_rung, false, false));
    if (has_kernel<float>(kAvx512) && has_kernel<double>(kAvx512))
      out.push_back(TG_RUNG("avx512", "AVX-512 micro-kernel (12 x 32 floats)", avx512_rung, false, false));
    out.push_back(TG_RUNG("threaded", "OpenMP, 2-D grid over C, per-thread pack buffers", threaded, true, false));
    out.push_back(TG_RUNG("tuned", "micro-kernel and blocking from the tune file", tuned, true, false));
    out.push_back(TG_RUNG("strassen", "one Strassen level (7 half-size tuned products)", strassen, true, false));
    return out;
  }();
#undef TG_RUNG
  return rungs;
}

const LadderRung* find_rung(std::string_view name) {
  for (const LadderRung& r : gemm_ladder())
    if (name == r.name) return &r;
  return nullptr;
}

}  // namespace tg::kernels::cpu
