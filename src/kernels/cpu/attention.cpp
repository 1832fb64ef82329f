// The CPU's fused scaled dot-product attention (flash attention, FlashAttention-2's loop order), float32 and
// float64. Every block product is the GEMM's own micro-kernel on operands packed once per batch entry, so
// nothing of size [L, S] is ever allocated: the scratch is O((L + S) (E + Ev)) per thread plus a few
// [br, bc] score tiles.
//
// Forward, per (batch entry, block of br queries): for each block of bc keys, S = (scale q) k^T (+ mask),
// the running row max m and sum l rescaled as the max grows (online softmax), O = O * e^(m_old - m_new) +
// e^(S - m_new) v; finally out = O / l and lse = m + log l (+inf for a row with every key excluded: its output
// is zero and, since e^(s - inf) = 0, so is every gradient through it). Rows are independent: any thread
// count gives the same bits.
//
// Backward, per batch entry (entries spread over threads; within one, a fixed order: the same bits for any
// thread count): D = rowsum(dO * O); for each key block j, for each query block i, recompute S, then
// P = e^(S - lse), dP = dO v^T, dS = P (dP - D), and accumulate dV_j += P^T dO, dK_j += dS^T (scale q),
// dQ_i += dS k (times scale on the way out).
#include "attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "gemm.h"
#include "isa_clones.h"
#include "parallel.h"
#include "unary.h"

namespace tg::kernels::cpu {

namespace {

constexpr int64_t kQueryBlock = 64;  // br, rounded up to the micro-kernel's MR
constexpr int64_t kKeyBlock = 256;   // bc, rounded up to a multiple of both MR and NR

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// ---- row operations on one score tile row (float32 vectorised per ISA; float64 plain) ----
// Sums and maxima run in 16 independent lanes (then combined), so the compiler vectorises them without being
// allowed to reassociate.
constexpr int kLanes = 16;
TG_ISA_CLONES float row_max(const float* x, int64_t n) {
  float lanes[kLanes];
  for (float& l : lanes) l = -std::numeric_limits<float>::infinity();
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int u = 0; u < kLanes; ++u) lanes[u] = x[j + u] > lanes[u] ? x[j + u] : lanes[u];
  float m = -std::numeric_limits<float>::infinity();
  for (; j < n; ++j) m = x[j] > m ? x[j] : m;
  for (float l : lanes) m = l > m ? l : m;
  return m;
}
double row_max(const double* x, int64_t n) {
  double m = -std::numeric_limits<double>::infinity();
  for (int64_t j = 0; j < n; ++j) m = x[j] > m ? x[j] : m;
  return m;
}
// x = e^(x - shift), returning the sum: unary.h's one-pass exp_f32_shifted_sum (the widest vectors this CPU
// has, vector_math.h's exp_f32 bits).
float exp_shifted(float* x, float shift, int64_t n) { return exp_f32_shifted_sum(x, shift, n); }
double exp_shifted(double* x, double shift, int64_t n) {
  double sum = 0;
  for (int64_t j = 0; j < n; ++j) sum += (x[j] = std::exp(x[j] - shift));
  return sum;
}
// ds = p * (dp - d), written over dp.
TG_ISA_CLONES void softmax_grad(const float* __restrict p, float* __restrict dp, float d, int64_t n) {
  for (int64_t j = 0; j < n; ++j) dp[j] = p[j] * (dp[j] - d);
}
void softmax_grad(const double* __restrict p, double* __restrict dp, double d, int64_t n) {
  for (int64_t j = 0; j < n; ++j) dp[j] = p[j] * (dp[j] - d);
}
TG_ISA_CLONES void scale_row(float* x, float f, int64_t n) {
  for (int64_t j = 0; j < n; ++j) x[j] *= f;
}
void scale_row(double* x, double f, int64_t n) {
  for (int64_t j = 0; j < n; ++j) x[j] *= f;
}

// ---- packing into the micro-kernel's panel layouts (gemm.h) ----
// A: rows in MR-tall panels, dst[(r / mr) * mr * depth + p * mr + r % mr] = src[r * rs + p * ds] (0 for r >= rows).
template <class T>
void pack_a(T* dst, const T* src, int64_t rows, int64_t rows_padded, int64_t depth, int64_t rs, int64_t ds, int64_t mr,
            T factor = T(1)) {
  for (int64_t r0 = 0; r0 < rows_padded; r0 += mr, dst += mr * depth) {
    const int64_t live = std::clamp<int64_t>(rows - r0, 0, mr);
    if (ds == 1) {  // rows contiguous in the source: read each row once, write it down its panel column
      for (int64_t i = 0; i < live; ++i) {
        const T* s = src + (r0 + i) * rs;
        for (int64_t p = 0; p < depth; ++p) dst[p * mr + i] = s[p] * factor;
      }
      for (int64_t i = live; i < mr; ++i)
        for (int64_t p = 0; p < depth; ++p) dst[p * mr + i] = T(0);
      continue;
    }
    for (int64_t p = 0; p < depth; ++p) {
      T* d = dst + p * mr;
      const T* s = src + r0 * rs + p * ds;
      if (rs == 1 && live == mr) {
        for (int64_t i = 0; i < mr; ++i) d[i] = s[i] * factor;
        continue;
      }
      for (int64_t i = 0; i < live; ++i) d[i] = s[i * rs] * factor;
      for (int64_t i = live; i < mr; ++i) d[i] = T(0);
    }
  }
}
// B: columns in NR-wide panels of depth_padded rows, dst[(c / nr) * nr * depth_padded + p * nr + c % nr] =
// src[p * ds + c * cs] (0 beyond depth or cols).
template <class T>
void pack_b(T* dst, const T* src, int64_t depth, int64_t depth_padded, int64_t cols, int64_t cols_padded, int64_t ds,
            int64_t cs, int64_t nr, T factor = T(1)) {
  for (int64_t c0 = 0; c0 < cols_padded; c0 += nr, dst += nr * depth_padded) {
    const int64_t live = std::clamp<int64_t>(cols - c0, 0, nr);
    for (int64_t p = 0; p < depth_padded; ++p) {
      T* d = dst + p * nr;
      const T* s = src + p * ds + c0 * cs;
      const int64_t n = p < depth ? live : 0;
      for (int64_t j = 0; j < n; ++j) d[j] = s[j * cs] * factor;
      for (int64_t j = n; j < nr; ++j) d[j] = T(0);
    }
  }
}
// A from a row-major tile (ld columns): rows x depth as is, or its transpose (the tile's columns become rows);
// rows past `rows` are zeros.
template <class T>
void pack_tile_a(T* dst, const T* tile, int64_t ld, int64_t rows, int64_t rows_padded, int64_t depth, bool transposed,
                 int64_t mr) {
  if (!transposed) return pack_a(dst, tile, rows, rows_padded, depth, ld, 1, mr);
  pack_a(dst, tile, rows, rows_padded, depth, 1, ld, mr);
}

// One operand's [rows, cols] matrix of batch entry b.
struct Matrix {
  const void* data;
  int64_t row_stride, col_stride;
};
Matrix matrix(const StridedArg& x, const AttentionProblem& p, int64_t b, size_t elem) {
  const size_t nb = p.batch.size();
  return {static_cast<const char*>(x.data) + ref::batch_offset(p.batch, b, x.strides) * static_cast<int64_t>(elem),
          x.strides[nb], x.strides[nb + 1]};
}

template <class T>
class Attention {
 public:
  Attention(const AttentionProblem& p, const AttentionArgs& a)
      : p_(p), a_(a), uk_(default_micro_kernel<T>()), mr_(uk_.mr), nr_(uk_.nr),
        ku_(std::lcm(int64_t{uk_.mr}, int64_t{uk_.nr})), br_(round_up(kQueryBlock, mr_)), bc_(round_up(kKeyBlock, ku_)),
        Lp_(round_up(p.queries, mr_)), Sp_(round_up(p.keys, ku_)), Ep_(round_up(p.head_dim, nr_)),
        Evp_(round_up(p.value_dim, nr_)), nb_(p.batch.size()) {}

  void forward() {
    const int64_t entries = numel_of(p_.batch), blocks = (p_.queries + br_ - 1) / br_;
    const int64_t macs = entries * p_.queries * p_.keys * (p_.head_dim + p_.value_dim);
    parallel_for(entries * blocks, threads_for(macs, int64_t{1} << 20), [&](int64_t first, int64_t last, int) {
      ForwardScratch s(*this);
      for (int64_t item = first; item < last; ++item) forward_block(s, item / blocks, (item % blocks) * br_);
    });
  }

  void backward() {
    const int64_t entries = numel_of(p_.batch);
    const int64_t macs = entries * p_.queries * p_.keys * (3 * p_.head_dim + 2 * p_.value_dim);
    parallel_for(entries, threads_for(macs, int64_t{1} << 20), [&](int64_t first, int64_t last, int) {
      BackwardScratch s(*this);
      for (int64_t b = first; b < last; ++b) backward_entry(s, b);
    });
  }

 private:

  static constexpr T kNegInf = -std::numeric_limits<T>::infinity();
  static constexpr T kInf = std::numeric_limits<T>::infinity();

  const T* at(const Matrix& m, int64_t r, int64_t c) const {
    return static_cast<const T*>(m.data) + r * m.row_stride + c * m.col_stride;
  }

  // Mask, causality and padding applied to row `i` (global query index) of a score tile covering keys
  // [j0, j0 + cols); entries [cols, cols_padded) are padding.
  void mask_row(T* row, int64_t b, int64_t i, int64_t j0, int64_t cols, int64_t cols_padded) const {
    int64_t visible = cols;
    if (p_.causal) visible = std::clamp<int64_t>(i - j0 + 1, 0, cols);
    if (a_.mask.data != nullptr) {
      const int64_t base = ref::batch_offset(p_.batch, b, a_.mask.strides) + i * a_.mask.strides[nb_] + j0 * a_.mask.strides[nb_ + 1];
      const int64_t step = a_.mask.strides[nb_ + 1];
      if (a_.mask.dtype == DType::Bool) {
        const bool* m = static_cast<const bool*>(a_.mask.data) + base;
        for (int64_t c = 0; c < visible; ++c) row[c] = m[c * step] ? row[c] : kNegInf;
      } else {
        const T* m = static_cast<const T*>(a_.mask.data) + base;
        for (int64_t c = 0; c < visible; ++c) row[c] += m[c * step];
      }
    }
    for (int64_t c = visible; c < cols_padded; ++c) row[c] = kNegInf;
  }

  // S tile [rows_padded, cols_padded] (ld bc) = A (packed rows from row0, depth) x B (packed cols from col0).
  void tile_product(T* tile, int64_t ld, const T* a, int64_t row0, int64_t rows_padded, const T* b, int64_t col0,
                    int64_t cols_padded, int64_t depth, bool accumulate) const {
    for (int64_t ir = 0; ir < rows_padded; ir += mr_)
      for (int64_t jr = 0; jr < cols_padded; jr += nr_)
        uk_.fn(depth, a + (row0 + ir) * depth, b + (col0 + jr) * depth, tile + ir * ld + jr, ld, accumulate);
  }
  // C [rows_padded, cols_padded] (ld) += A (packed, depth) x B panels of depth_total rows read from row p0.
  void accumulate_product(T* c, int64_t ld, const T* a, int64_t rows_padded, int64_t depth, const T* b,
                          int64_t depth_total, int64_t p0, int64_t cols_padded) const {
    for (int64_t ir = 0; ir < rows_padded; ir += mr_)
      for (int64_t jr = 0; jr < cols_padded; jr += nr_)
        uk_.fn(depth, a + ir * depth, b + jr * depth_total + p0 * nr_, c + ir * ld + jr, ld, true);
  }

  struct ForwardScratch {
    explicit ForwardScratch(const Attention& at)
        : kt(static_cast<size_t>(at.Sp_ * at.p_.head_dim)), v(static_cast<size_t>(at.Sp_ * at.Evp_)),
          qa(static_cast<size_t>(at.br_ * at.p_.head_dim)), tile(static_cast<size_t>(at.br_ * at.bc_)),
          pa(static_cast<size_t>(at.br_ * at.bc_)), o(static_cast<size_t>(at.br_ * at.Evp_)),
          m(static_cast<size_t>(at.br_)), l(static_cast<size_t>(at.br_)) {}
    int64_t packed_entry = -1;
    std::vector<T> kt, v, qa, tile, pa, o, m, l;
  };

  void forward_block(ForwardScratch& s, int64_t b, int64_t i0) const {
    const int64_t E = p_.head_dim, Ev = p_.value_dim;
    const Matrix k = matrix(a_.k, p_, b, sizeof(T)), v = matrix(a_.v, p_, b, sizeof(T));
    if (s.packed_entry != b) {  // k^T and v, once per batch entry this thread meets
      pack_b(s.kt.data(), at(k, 0, 0), E, E, p_.keys, Sp_, k.col_stride, k.row_stride, nr_);
      pack_b(s.v.data(), at(v, 0, 0), p_.keys, Sp_, Ev, Evp_, v.row_stride, v.col_stride, nr_);
      s.packed_entry = b;
    }
    const int64_t rows = std::min(br_, p_.queries - i0), rows_p = round_up(rows, mr_);
    const Matrix q = matrix(a_.q, p_, b, sizeof(T));
    pack_a(s.qa.data(), at(q, i0, 0), rows, rows_p, E, q.row_stride, q.col_stride, mr_, static_cast<T>(p_.scale));
    std::fill(s.o.begin(), s.o.end(), T(0));
    std::fill(s.m.begin(), s.m.end(), kNegInf);
    std::fill(s.l.begin(), s.l.end(), T(0));
    const int64_t key_end = p_.causal ? std::min(p_.keys, i0 + rows) : p_.keys;
    for (int64_t j0 = 0; j0 < key_end; j0 += bc_) {
      const int64_t cols = std::min(bc_, key_end - j0), cols_p = round_up(cols, nr_);
      T* tile = s.tile.data();
      tile_product(tile, bc_, s.qa.data(), 0, rows_p, s.kt.data(), j0, cols_p, E, false);
      for (int64_t r = 0; r < rows_p; ++r) {
        T* row = tile + r * bc_;
        if (r >= rows) {
          std::fill(row, row + cols_p, T(0));
          continue;
        }
        mask_row(row, b, i0 + r, j0, cols, cols_p);
        const T m_old = s.m[static_cast<size_t>(r)];
        const T m_new = std::max(m_old, row_max(row, cols_p));
        if (m_new == kNegInf) {  // every key so far excluded: nothing to add
          std::fill(row, row + cols_p, T(0));
          continue;
        }
        const T sum = exp_shifted(row, m_new, cols_p);
        const T alpha = m_old == kNegInf ? T(0) : static_cast<T>(std::exp(m_old - m_new));
        if (alpha != T(1)) scale_row(s.o.data() + r * Evp_, alpha, Evp_);
        s.l[static_cast<size_t>(r)] = s.l[static_cast<size_t>(r)] * alpha + sum;
        s.m[static_cast<size_t>(r)] = m_new;
      }
      pack_tile_a(s.pa.data(), tile, bc_, rows_p, rows_p, cols_p, false, mr_);
      accumulate_product(s.o.data(), Evp_, s.pa.data(), rows_p, cols_p, s.v.data(), Sp_, j0, Evp_);
    }
    const int64_t ob = ref::batch_offset(p_.batch, b, a_.out.strides), lb = ref::batch_offset(p_.batch, b, a_.lse.strides);
    T* out = static_cast<T*>(a_.out.data) + ob;
    T* lse = static_cast<T*>(a_.lse.data) + lb;
    for (int64_t r = 0; r < rows; ++r) {
      const T l = s.l[static_cast<size_t>(r)];
      const T inv = l > T(0) ? T(1) / l : T(0);
      const int64_t i = i0 + r;
      for (int64_t c = 0; c < Ev; ++c)
        out[i * a_.out.strides[nb_] + c * a_.out.strides[nb_ + 1]] = s.o[static_cast<size_t>(r * Evp_ + c)] * inv;
      lse[i * a_.lse.strides[nb_]] = l > T(0) ? s.m[static_cast<size_t>(r)] + static_cast<T>(std::log(l)) : kInf;
    }
  }

  struct BackwardScratch {
    explicit BackwardScratch(const Attention& at) {
      const int64_t E = at.p_.head_dim, Ev = at.p_.value_dim;
      auto size = [](int64_t n) { return static_cast<size_t>(n); };
      qa.resize(size(at.Lp_ * E));
      qb.resize(size(at.Lp_ * at.Ep_));
      kt.resize(size(at.Sp_ * E));
      kb.resize(size(at.Sp_ * at.Ep_));
      vt.resize(size(at.Sp_ * Ev));
      doa.resize(size(at.Lp_ * Ev));
      dob.resize(size(at.Lp_ * at.Evp_));
      lse.resize(size(at.p_.queries));
      d.resize(size(at.p_.queries));
      dq.resize(size(at.Lp_ * at.Ep_));
      dk.resize(size(at.bc_ * at.Ep_));
      dv.resize(size(at.bc_ * at.Evp_));
      tile.resize(size(at.br_ * at.bc_));
      dp.resize(size(at.br_ * at.bc_));
      pt.resize(size(at.br_ * at.bc_));
      dst.resize(size(at.br_ * at.bc_));
      ds.resize(size(at.br_ * at.bc_));
    }
    std::vector<T> qa, qb, kt, kb, vt, doa, dob, lse, d, dq, dk, dv, tile, dp, pt, dst, ds;
  };

  void backward_entry(BackwardScratch& s, int64_t b) const {
    const int64_t L = p_.queries, S = p_.keys, E = p_.head_dim, Ev = p_.value_dim;
    const T scale = static_cast<T>(p_.scale);
    const Matrix q = matrix(a_.q, p_, b, sizeof(T)), k = matrix(a_.k, p_, b, sizeof(T)), v = matrix(a_.v, p_, b, sizeof(T));
    const Matrix go = matrix(a_.grad_out, p_, b, sizeof(T)), o = matrix(a_.out, p_, b, sizeof(T));
    pack_a(s.qa.data(), at(q, 0, 0), L, Lp_, E, q.row_stride, q.col_stride, mr_, scale);
    pack_b(s.qb.data(), at(q, 0, 0), L, Lp_, E, Ep_, q.row_stride, q.col_stride, nr_, scale);
    pack_b(s.kt.data(), at(k, 0, 0), E, E, S, Sp_, k.col_stride, k.row_stride, nr_);
    pack_b(s.kb.data(), at(k, 0, 0), S, Sp_, E, Ep_, k.row_stride, k.col_stride, nr_);
    pack_b(s.vt.data(), at(v, 0, 0), Ev, Ev, S, Sp_, v.col_stride, v.row_stride, nr_);
    pack_a(s.doa.data(), at(go, 0, 0), L, Lp_, Ev, go.row_stride, go.col_stride, mr_);
    pack_b(s.dob.data(), at(go, 0, 0), L, Lp_, Ev, Evp_, go.row_stride, go.col_stride, nr_);
    const T* lse = static_cast<const T*>(a_.lse.data) + ref::batch_offset(p_.batch, b, a_.lse.strides);
    for (int64_t i = 0; i < L; ++i) {
      s.lse[static_cast<size_t>(i)] = lse[i * a_.lse.strides[nb_]];
      T d = 0;
      for (int64_t c = 0; c < Ev; ++c) d += *at(go, i, c) * *at(o, i, c);
      s.d[static_cast<size_t>(i)] = d;
    }
    std::fill(s.dq.begin(), s.dq.end(), T(0));
    for (int64_t j0 = 0; j0 < S; j0 += bc_) {
      // Score tiles pad the keys to NR, the key-major packs (rows of the micro-kernel's A) to MR.
      const int64_t cols = std::min(bc_, S - j0), cols_p = round_up(cols, nr_), keys_a = round_up(cols, mr_);
      std::fill(s.dk.begin(), s.dk.end(), T(0));
      std::fill(s.dv.begin(), s.dv.end(), T(0));
      // Causal: query blocks that end before key j0 see none of this key block.
      for (int64_t i0 = p_.causal ? j0 / br_ * br_ : 0; i0 < L; i0 += br_) {
        const int64_t rows = std::min(br_, L - i0), rows_p = round_up(rows, mr_);
        T* tile = s.tile.data();
        T* dp = s.dp.data();
        tile_product(tile, bc_, s.qa.data(), i0, rows_p, s.kt.data(), j0, cols_p, E, false);
        tile_product(dp, bc_, s.doa.data(), i0, rows_p, s.vt.data(), j0, cols_p, Ev, false);
        for (int64_t r = 0; r < rows_p; ++r) {
          T* row = tile + r * bc_;
          T* dprow = dp + r * bc_;
          const T l = r < rows ? s.lse[static_cast<size_t>(i0 + r)] : kInf;
          if (l == kInf) {  // padding, or a row with every key excluded
            std::fill(row, row + cols_p, T(0));
            std::fill(dprow, dprow + cols_p, T(0));
            continue;
          }
          mask_row(row, b, i0 + r, j0, cols, cols_p);
          exp_shifted(row, l, cols_p);
          softmax_grad(row, dprow, s.d[static_cast<size_t>(i0 + r)], cols_p);
        }
        pack_tile_a(s.pt.data(), tile, bc_, cols, keys_a, rows_p, true, mr_);
        pack_tile_a(s.dst.data(), dp, bc_, cols, keys_a, rows_p, true, mr_);
        pack_tile_a(s.ds.data(), dp, bc_, rows_p, rows_p, cols_p, false, mr_);
        accumulate_product(s.dv.data(), Evp_, s.pt.data(), keys_a, rows_p, s.dob.data(), Lp_, i0, Evp_);
        accumulate_product(s.dk.data(), Ep_, s.dst.data(), keys_a, rows_p, s.qb.data(), Lp_, i0, Ep_);
        accumulate_product(s.dq.data() + i0 * Ep_, Ep_, s.ds.data(), rows_p, cols_p, s.kb.data(), Sp_, j0, Ep_);
      }
      write(a_.grad_k, b, j0, cols, E, s.dk.data(), Ep_, T(1));
      write(a_.grad_v, b, j0, cols, Ev, s.dv.data(), Evp_, T(1));
    }
    write(a_.grad_q, b, 0, L, E, s.dq.data(), Ep_, scale);
  }

  // rows [r0, r0 + rows) of batch entry b of `x` = factor * buf (row-major, ld).
  void write(const StridedArg& x, int64_t b, int64_t r0, int64_t rows, int64_t cols, const T* buf, int64_t ld,
             T factor) const {
    T* dst = static_cast<T*>(x.data) + ref::batch_offset(p_.batch, b, x.strides);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        dst[(r0 + r) * x.strides[nb_] + c * x.strides[nb_ + 1]] = buf[r * ld + c] * factor;
  }

  const AttentionProblem& p_;
  const AttentionArgs& a_;
  const MicroKernel<T>& uk_;
  const int64_t mr_, nr_, ku_, br_, bc_;
  const int64_t Lp_, Sp_, Ep_, Evp_;
  const size_t nb_;
};

}  // namespace

void attention_forward(const AttentionProblem& p, const AttentionArgs& a) {
  visit_floating(a.q.dtype, "tg::attention_forward", [&]<class T>(TypeTag<T>) { Attention<T>(p, a).forward(); });
}

void attention_backward(const AttentionProblem& p, const AttentionArgs& a) {
  visit_floating(a.q.dtype, "tg::attention_backward", [&]<class T>(TypeTag<T>) { Attention<T>(p, a).backward(); });
}

}  // namespace tg::kernels::cpu
