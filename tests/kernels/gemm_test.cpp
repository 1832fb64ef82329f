// The production CPU GEMM (src/kernels/cpu/gemm.cpp) against the reference matmul kernel (the oracle), for every
// micro-kernel this CPU can run, plus the thread and flush-to-zero settings it honours.
//
// Most comparisons use small integer values, so every product and partial sum is exact and the GEMM must equal
// the reference bit for bit whatever its summation order. Real-valued inputs are compared with the rounding
// bound |got - ref| <= 2 k eps sum_p |a_ip||b_pj| (each of the two within k eps sum|a||b| of the exact value).
// Results for 1, 2, 3 and 4 threads must be bitwise identical: the k loop is never split across threads, so each
// element is summed in the same order.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <tensorgrad/base/threads.h>
#include <tensorgrad/tensorgrad.h>

#include "../../src/kernels/cpu/gemm.h"
#include "../../src/kernels/ref/ref_kernels.h"

namespace {

using tg::DType;
using tg::Shape;
using tg::kernels::StridedArg;
namespace cpu = tg::kernels::cpu;

// The reference kernel, called directly (not through the registry, which routes float32/float64 to the GEMM).
auto ref_matmul(DType dtype) {
  const tg::kernels::MatmulFn fn = tg::kernels::reference_tables().matmul.find(tg::DeviceType::CPU, dtype);
  return [fn](const tg::Shape& batch, int64_t m, int64_t n, int64_t k, const StridedArg& c, const StridedArg& a,
              const StridedArg& b) { fn(batch, m, n, k, c, a, b, {}); };
}

int64_t product(const Shape& s) {
  int64_t p = 1;
  for (int64_t d : s) p *= d;
  return p;
}

std::string shape_str(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// How an operand's matrices sit in memory.
enum class Layout {
  RowMajor,    // contiguous
  Transposed,  // stored column-major: the transposed view of a contiguous matrix
  Sliced,      // every other row and column of a wider buffer, after an offset
  Reversed,    // negative strides in both dims (element (0, 0) at the end of the buffer)
};
constexpr Layout kLayouts[] = {Layout::RowMajor, Layout::Transposed, Layout::Sliced, Layout::Reversed};
const char* layout_name(Layout l) {
  switch (l) {
    case Layout::RowMajor: return "row-major";
    case Layout::Transposed: return "transposed";
    case Layout::Sliced: return "sliced";
    case Layout::Reversed: return "reversed";
  }
  return "?";
}

// A strided matrix stack (batch..., rows, cols) over its own buffer, like a tg::matmul operand: batch dims
// flagged in `broadcast` get stride 0 (one matrix shared along them).
template <class T>
struct Operand {
  std::vector<T> buffer;
  T* origin = nullptr;
  Shape batch;
  int64_t rows = 0, cols = 0;
  tg::Strides strides;  // batch..., row, col

  StridedArg arg() const { return {const_cast<T*>(origin), strides, tg::dtype_of<T>()}; }
  // Element (i, j) of batch entry e (row-major over the batch shape).
  T at(int64_t e, int64_t i, int64_t j) const {
    int64_t off = 0;
    for (size_t d = batch.size(); d-- > 0;) {
      off += (e % batch[d]) * strides[d];
      e /= batch[d];
    }
    return origin[off + i * strides[batch.size()] + j * strides[batch.size() + 1]];
  }
};

template <class T>
Operand<T> make_operand(const Shape& batch, int64_t rows, int64_t cols, Layout layout,
                        const std::vector<bool>& broadcast, std::mt19937& rng, bool integers) {
  Operand<T> op;
  op.batch = batch;
  op.rows = rows;
  op.cols = cols;
  int64_t rs = cols, cs = 1, base = 0, footprint = rows * cols;
  switch (layout) {
    case Layout::RowMajor: break;
    case Layout::Transposed: rs = 1, cs = rows; break;
    case Layout::Sliced:
      rs = 2 * (2 * cols + 1), cs = 2, base = 3;
      footprint = base + rows * rs;
      break;
    case Layout::Reversed:
      rs = -cols, cs = -1, base = std::max<int64_t>(rows * cols - 1, 0);
      break;
  }
  footprint = std::max<int64_t>(footprint, 1);
  tg::Strides batch_strides(batch.size(), 0);
  int64_t stride = footprint, matrices = 1;
  for (size_t d = batch.size(); d-- > 0;) {
    if (d < broadcast.size() && broadcast[d]) continue;
    batch_strides[d] = stride;
    stride *= batch[d];
    matrices *= batch[d];
  }
  op.buffer.resize(static_cast<size_t>(std::max<int64_t>(matrices * footprint, 1)));
  std::uniform_int_distribution<int> small(-3, 3);
  std::uniform_real_distribution<double> real(-1.0, 1.0);
  for (T& v : op.buffer) v = integers ? T(small(rng)) : T(real(rng));
  op.origin = op.buffer.data() + base;
  op.strides = batch_strides;
  op.strides.push_back(rs);
  op.strides.push_back(cs);
  return op;
}

// How C sits in memory; the buffer starts as NaN, so an element the kernel forgets to write shows up.
enum class OutLayout { RowMajor, ColMajor, Strided };

template <class T>
struct Output {
  std::vector<T> buffer;
  Shape batch;
  int64_t m = 0, n = 0;
  tg::Strides strides;
  StridedArg arg() { return {buffer.data(), strides, tg::dtype_of<T>()}; }
  // Element (i, j) of batch entry e.
  T at(int64_t e, int64_t i, int64_t j) const {
    int64_t off = 0;
    for (size_t d = batch.size(); d-- > 0;) {
      off += (e % batch[d]) * strides[d];
      e /= batch[d];
    }
    return buffer[off + i * strides[batch.size()] + j * strides[batch.size() + 1]];
  }
};

template <class T>
Output<T> make_output(const Shape& batch, int64_t m, int64_t n, OutLayout layout = OutLayout::RowMajor) {
  Output<T> out;
  out.batch = batch;
  out.m = m;
  out.n = n;
  int64_t rs = n, cs = 1, footprint = m * n;
  if (layout == OutLayout::ColMajor) rs = 1, cs = m;
  if (layout == OutLayout::Strided) rs = 3 * n + 1, cs = 3, footprint = m * rs;
  footprint = std::max<int64_t>(footprint, 1);
  out.strides.assign(batch.size(), 0);
  int64_t stride = footprint;
  for (size_t d = batch.size(); d-- > 0;) {
    out.strides[d] = stride;
    stride *= batch[d];
  }
  out.strides.push_back(rs);
  out.strides.push_back(cs);
  out.buffer.assign(static_cast<size_t>(std::max<int64_t>(stride, 1)), std::numeric_limits<T>::quiet_NaN());
  return out;
}

struct Case {
  Case(Shape batch_ = {}, int64_t m_ = 1, int64_t n_ = 1, int64_t k_ = 1, Layout la_ = Layout::RowMajor,
       Layout lb_ = Layout::RowMajor, std::vector<bool> bcast_a_ = {}, std::vector<bool> bcast_b_ = {})
      : batch(std::move(batch_)), m(m_), n(n_), k(k_), la(la_), lb(lb_), bcast_a(std::move(bcast_a_)),
        bcast_b(std::move(bcast_b_)) {}
  Shape batch;
  int64_t m, n, k;
  Layout la, lb;
  std::vector<bool> bcast_a, bcast_b;  // batch dims along which A / B are broadcast (stride 0)
  OutLayout lc = OutLayout::RowMajor;
};

std::string describe(const Case& c) {
  return "batch " + shape_str(c.batch) + " m=" + std::to_string(c.m) + " n=" + std::to_string(c.n) +
         " k=" + std::to_string(c.k) + " A " + layout_name(c.la) + " B " + layout_name(c.lb);
}

template <class T>
struct Problem {
  Operand<T> a, b;
};

template <class T>
Problem<T> make_problem(const Case& c, uint32_t seed, bool integers) {
  std::mt19937 rng(seed);
  Problem<T> p{make_operand<T>(c.batch, c.m, c.k, c.la, c.bcast_a, rng, integers),
               make_operand<T>(c.batch, c.k, c.n, c.lb, c.bcast_b, rng, integers)};
  return p;
}

// Runs the GEMM and the reference on the same operands and compares every element: exactly for integer
// inputs, within the rounding bound otherwise. Returns the GEMM's output for further checks.
template <class T>
Output<T> check_against_ref(const Case& c, const Problem<T>& p, bool integers, const cpu::MicroKernel<T>& kernel,
                            const cpu::GemmBlocking& blocking, int threads, const std::string& context) {
  Output<T> got = make_output<T>(c.batch, c.m, c.n, c.lc);
  Output<T> want = make_output<T>(c.batch, c.m, c.n, c.lc);
  cpu::gemm<T>(c.batch, c.m, c.n, c.k, got.arg(), p.a.arg(), p.b.arg(), kernel, blocking,
               cpu::GemmOptions{threads, 1});
  ref_matmul(tg::dtype_of<T>())(c.batch, c.m, c.n, c.k, want.arg(), p.a.arg(), p.b.arg());
  const int64_t batch = product(c.batch);
  const double eps = std::numeric_limits<T>::epsilon();
  int failures = 0;
  for (int64_t e = 0; e < batch && failures < 3; ++e)
    for (int64_t i = 0; i < c.m && failures < 3; ++i)
      for (int64_t j = 0; j < c.n && failures < 3; ++j) {
        const double g = got.at(e, i, j), w = want.at(e, i, j);
        double tol = 0;
        if (!integers) {
          double bound = 0;
          for (int64_t q = 0; q < c.k; ++q) bound += std::abs(double(p.a.at(e, i, q)) * double(p.b.at(e, q, j)));
          tol = 2.0 * double(c.k) * eps * bound;
        }
        if (!(std::abs(g - w) <= tol)) {
          ADD_FAILURE() << context << " kernel " << kernel.name << " threads " << threads << ": " << describe(c)
                        << ": C[" << e << "][" << i << "][" << j << "] = " << g << ", reference " << w;
          ++failures;
        }
      }
  return got;
}

cpu::GemmBlocking tiny_blocking() { return {1, 5, 1}; }  // mc / nc round up to one micro-tile; kc = 5

// Every micro-kernel this CPU can run and every companion tile shape (gemm.h's TileShape) as a kernel of its own.
template <class T>
std::vector<cpu::MicroKernel<T>> every_tile_shape() {
  std::vector<cpu::MicroKernel<T>> out;
  for (const cpu::MicroKernel<T>& kernel : cpu::available_micro_kernels<T>()) {
    out.push_back(kernel);
    if (kernel.companion.fn != nullptr) out.push_back(cpu::with_tile_shape(kernel, kernel.companion));
  }
  return out;
}

template <class T>
class KernelsGemm : public ::testing::Test {};
using FloatTypes = ::testing::Types<float, double>;
TYPED_TEST_SUITE(KernelsGemm, FloatTypes);

// Sizes around the micro-tile and block edges, every layout pairing, every kernel, default and tiny blocks.
TYPED_TEST(KernelsGemm, MatchesReferenceExactlyAcrossShapesLayoutsAndKernels) {
  using T = TypeParam;
  int index = 0;
  for (const cpu::MicroKernel<T>& kernel : every_tile_shape<T>()) {
    const int64_t mr = kernel.mr, nr = kernel.nr;
    for (const cpu::GemmBlocking& blocking : {kernel.blocking, tiny_blocking(), cpu::GemmBlocking{2 * mr + 1, 7, nr + 3}})
      for (int64_t m : {int64_t{1}, mr - 1, mr, mr + 1, 2 * mr + 3, int64_t{37}})
        for (int64_t n : {int64_t{1}, nr - 1, nr, nr + 1, 2 * nr + 5})
          for (int64_t k : {1, 2, 5, 6, 17}) {
            Case c;
            c.m = m, c.n = n, c.k = k;
            c.la = kLayouts[index % 4];
            c.lb = kLayouts[(index / 4) % 4];
            ++index;
            check_against_ref<T>(c, make_problem<T>(c, index, true), true, kernel, blocking, 1, "shapes");
          }
  }
}

TYPED_TEST(KernelsGemm, RealValuesWithinRoundingBound) {
  using T = TypeParam;
  const Case cases[] = {
      {{}, 67, 131, 300, Layout::RowMajor, Layout::RowMajor},
      {{}, 128, 96, 515, Layout::Transposed, Layout::RowMajor},  // x^T @ g
      {{}, 50, 97, 260, Layout::RowMajor, Layout::Transposed},   // g @ W^T
      {{}, 33, 40, 700, Layout::Sliced, Layout::Reversed},
  };
  int seed = 100;
  for (const cpu::MicroKernel<T>& kernel : every_tile_shape<T>())
    for (const Case& c : cases)
      check_against_ref<T>(c, make_problem<T>(c, ++seed, false), false, kernel, kernel.blocking, 1, "real");
}

// A kernel's companion tile shape is taken where it pads C less (64 rows: 8- or 4-row tiles fit, 12- and 6-row
// ones pad), not where the kernel itself fits better (256 x 256), and it gives the kernel's bits exactly: each
// element is summed in the same order whatever the tile shape, C's layout (a column-major C is computed as C^T)
// or the thread count, so the choice never changes a result.
TYPED_TEST(KernelsGemm, CompanionTileShapeFitsCAndGivesTheSameBits) {
  using T = TypeParam;
  for (const cpu::MicroKernel<T>& kernel : cpu::available_micro_kernels<T>()) {
    if (kernel.companion.fn == nullptr) continue;
    SCOPED_TRACE(kernel.name);
    EXPECT_EQ(cpu::tile_shape_for(kernel, 64, 480, false).mr, kernel.companion.mr);
    EXPECT_EQ(cpu::tile_shape_for(kernel, 256, 256, false).mr, kernel.mr);
    EXPECT_EQ(cpu::tile_shape_for(kernel, 480, 64, true).mr, kernel.companion.mr);  // C^T is 64 x 480
    const cpu::MicroKernel<T> companion = cpu::tile_shape_for(kernel, 64, 480, false);
    // 110 x 200 x 270: deeper than KC by a little, where a depth rule that looked at the tile shape would block k
    // differently for the two shapes (one 270-deep block with 8-row tiles, 256 + 14 with 12-row ones).
    for (const Case& c : {Case{{}, 64, 480, 300}, Case{{}, 110, 200, 270},
                          Case{{2}, 61, 97, 515, Layout::Transposed, Layout::Sliced}}) {
      const Problem<T> p = make_problem<T>(c, 7, false);
      std::vector<T> first;  // the kernel's result on one thread, in row-major order
      for (int threads : {1, 2})
        for (OutLayout layout : {OutLayout::RowMajor, OutLayout::ColMajor}) {
          Output<T> own = make_output<T>(c.batch, c.m, c.n, layout), other = make_output<T>(c.batch, c.m, c.n, layout);
          cpu::gemm<T>(c.batch, c.m, c.n, c.k, own.arg(), p.a.arg(), p.b.arg(), kernel, kernel.blocking, {threads, 1});
          cpu::gemm<T>(c.batch, c.m, c.n, c.k, other.arg(), p.a.arg(), p.b.arg(), companion, kernel.blocking,
                       {threads, 1});
          std::vector<T> own_rows, other_rows;
          for (int64_t e = 0; e < product(c.batch); ++e)
            for (int64_t i = 0; i < c.m; ++i)
              for (int64_t j = 0; j < c.n; ++j) {
                own_rows.push_back(own.at(e, i, j));
                other_rows.push_back(other.at(e, i, j));
              }
          if (first.empty()) first = own_rows;
          const std::string where = describe(c) + " threads " + std::to_string(threads) +
                                    (layout == OutLayout::ColMajor ? " column-major C" : " row-major C");
          EXPECT_EQ(std::memcmp(own_rows.data(), other_rows.data(), own_rows.size() * sizeof(T)), 0) << where;
          EXPECT_EQ(std::memcmp(own_rows.data(), first.data(), own_rows.size() * sizeof(T)), 0)
              << where << " differs from one thread, row-major";
        }
    }
  }
}

TYPED_TEST(KernelsGemm, ZeroAndOneSizes) {
  using T = TypeParam;
  const cpu::MicroKernel<T>& kernel = cpu::default_micro_kernel<T>();
  // k == 0: C is all zeros (overwriting the NaN it starts with), for every output layout and batch.
  for (OutLayout lc : {OutLayout::RowMajor, OutLayout::ColMajor, OutLayout::Strided}) {
    Case c;
    c.batch = {2};
    c.m = 3, c.n = 5, c.k = 0, c.lc = lc;
    const Output<T> got = check_against_ref<T>(c, make_problem<T>(c, 1, true), true, kernel, kernel.blocking, 2, "k=0");
    for (int64_t e = 0; e < 2; ++e)
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t j = 0; j < 5; ++j) EXPECT_EQ(got.at(e, i, j), T(0));
  }
  // Empty outputs: nothing to write, nothing read out of bounds.
  for (const Case& c : {Case{{}, 0, 5, 3}, Case{{}, 4, 0, 3}, Case{{}, 0, 0, 0}, Case{{0}, 4, 5, 3}, Case{{3, 0}, 2, 2, 2}}) {
    Output<T> out = make_output<T>(c.batch, c.m, c.n);
    const Problem<T> p = make_problem<T>(c, 2, true);
    cpu::gemm<T>(c.batch, c.m, c.n, c.k, out.arg(), p.a.arg(), p.b.arg(), kernel, kernel.blocking, {2, 1});
    for (T v : out.buffer) EXPECT_TRUE(std::isnan(v)) << describe(c);
  }
  // Size-1 everything, with and without batch dims of size 1.
  for (const Case& c : {Case{{}, 1, 1, 1}, Case{{1}, 1, 1, 1}, Case{{1, 1}, 1, 7, 1}, Case{{1}, 9, 1, 4}})
    check_against_ref<T>(c, make_problem<T>(c, 3, true), true, kernel, kernel.blocking, 1, "ones");
}

TYPED_TEST(KernelsGemm, BatchedWithBroadcastBatchDims) {
  using T = TypeParam;
  std::vector<Case> cases;
  cases.push_back({{2, 3}, 7, 9, 11, Layout::RowMajor, Layout::Transposed, {false, true}, {true, false}});
  cases.push_back({{4}, 13, 17, 5, Layout::Sliced, Layout::RowMajor, {true}, {}});   // A shared
  cases.push_back({{3}, 20, 33, 19, Layout::RowMajor, Layout::Reversed, {}, {true}});  // B shared (x @ W)
  cases.push_back({{1, 3}, 6, 16, 8, Layout::Transposed, Layout::Transposed, {}, {}});
  cases.push_back({{5}, 1, 40, 30, Layout::RowMajor, Layout::RowMajor, {}, {}});
  int seed = 10;
  for (const cpu::MicroKernel<T>& kernel : cpu::available_micro_kernels<T>())
    for (const Case& c : cases)
      for (int threads : {1, 2, 3}) {
        check_against_ref<T>(c, make_problem<T>(c, ++seed, true), true, kernel, kernel.blocking, threads, "batched");
        check_against_ref<T>(c, make_problem<T>(c, ++seed, true), true, kernel, tiny_blocking(), threads, "batched");
      }
}

// Column-major C is computed as C^T = B^T A^T; other strides go through the edge-tile path.
TYPED_TEST(KernelsGemm, OutputLayouts) {
  using T = TypeParam;
  for (const cpu::MicroKernel<T>& kernel : cpu::available_micro_kernels<T>())
    for (OutLayout lc : {OutLayout::ColMajor, OutLayout::Strided})
      for (const Case& base : {Case{{}, 29, 35, 13}, Case{{2}, 1, 35, 13}, Case{{}, 29, 1, 13}}) {
        Case c = base;
        c.lc = lc;
        c.la = Layout::Transposed;
        check_against_ref<T>(c, make_problem<T>(c, 7, true), true, kernel, kernel.blocking, 2, "out layout");
        check_against_ref<T>(c, make_problem<T>(c, 8, true), true, kernel, tiny_blocking(), 1, "out layout");
      }
}

// 1, 2, 3 and 4 threads split C differently (a grid of rectangles, or whole batch entries) but sum every
// element in the same order: the results are bitwise identical, for real-valued inputs too.
TYPED_TEST(KernelsGemm, ThreadCountDoesNotChangeResults) {
  using T = TypeParam;
  const std::vector<Case> cases = {
      {{}, 100, 130, 70, Layout::RowMajor, Layout::RowMajor},
      {{}, 37, 300, 41, Layout::Transposed, Layout::RowMajor},
      {{}, 300, 20, 41, Layout::RowMajor, Layout::Transposed},
      {{3}, 31, 45, 29, Layout::RowMajor, Layout::RowMajor, {}, {true}},  // whole entries per thread
      {{2}, 31, 45, 29, Layout::Sliced, Layout::RowMajor},
      {{5}, 31, 45, 29, Layout::RowMajor, Layout::Reversed},
  };
  int seed = 50;
  for (const cpu::MicroKernel<T>& kernel : cpu::available_micro_kernels<T>())
    for (const cpu::GemmBlocking& blocking : {kernel.blocking, cpu::GemmBlocking{2 * kernel.mr, 16, 2 * kernel.nr}})
      for (const Case& c : cases) {
        const Problem<T> p = make_problem<T>(c, ++seed, false);
        const Output<T> one = check_against_ref<T>(c, p, false, kernel, blocking, 1, "threads");
        for (int threads : {2, 3, 4}) {
          const Output<T> many = check_against_ref<T>(c, p, false, kernel, blocking, threads, "threads");
          EXPECT_TRUE(many.buffer == one.buffer || std::any_of(one.buffer.begin(), one.buffer.end(), [](T v) {
                        return std::isnan(v);
                      })) << "kernel " << kernel.name << " threads " << threads << ": " << describe(c);
        }
      }
}

// k is cut into blocks of equal depth: KC 16 on k = 50 sums in four blocks of 13 (not 16 + 16 + 16 + 2, whose
// last pass reads and writes all of C for two steps of k), so it gives KC 13's bits exactly, and KC 17 (three
// blocks of 17, 17, 16) gives other bits: a driver that cut 16 + 16 + 16 + 2 would fail the first check, one
// that ignored KC the second.
TYPED_TEST(KernelsGemm, KBlocksHaveEqualDepth) {
  using T = TypeParam;
  const Case c{{}, 37, 45, 50};
  const Problem<T> p = make_problem<T>(c, 77, false);
  for (const cpu::MicroKernel<T>& kernel : cpu::available_micro_kernels<T>()) {
    SCOPED_TRACE(kernel.name);
    auto with_kc = [&](int64_t kc) {
      return check_against_ref<T>(c, p, false, kernel, {kernel.mr, kc, kernel.nr}, 1, "k blocks").buffer;
    };
    EXPECT_EQ(with_kc(16), with_kc(13));
    EXPECT_NE(with_kc(16), with_kc(17));
  }
}

// A larger product checked without a second GEMM: C x == A (B x) for a random vector x, in double.
TYPED_TEST(KernelsGemm, RandomProjection) {
  using T = TypeParam;
  const int64_t m = 300, n = 257, k = 700;
  std::mt19937 rng(77);
  const Case c{{}, m, n, k, Layout::Transposed, Layout::RowMajor};
  const Problem<T> p = make_problem<T>(c, 78, false);
  Output<T> out = make_output<T>({}, m, n);
  tg::kernels::matmul({}, m, n, k, out.arg(), p.a.arg(), p.b.arg());  // through the registry
  std::normal_distribution<double> normal;
  std::vector<double> x(n), bx(k, 0.0), bx_abs(k, 0.0);
  for (double& v : x) v = normal(rng);
  for (int64_t q = 0; q < k; ++q)
    for (int64_t j = 0; j < n; ++j) {
      bx[q] += double(p.b.at(0, q, j)) * x[j];
      bx_abs[q] += std::abs(double(p.b.at(0, q, j)) * x[j]);
    }
  const double eps = std::numeric_limits<T>::epsilon();
  for (int64_t i = 0; i < m; ++i) {
    double cx = 0, abx = 0, bound = 0;
    for (int64_t j = 0; j < n; ++j) cx += double(out.at(0, i, j)) * x[j];
    for (int64_t q = 0; q < k; ++q) {
      abx += double(p.a.at(0, i, q)) * bx[q];
      bound += std::abs(double(p.a.at(0, i, q))) * bx_abs[q];
    }
    ASSERT_NEAR(cx, abx, 2.0 * k * eps * bound) << "row " << i;
  }
}

// The registry routes float32 / float64 to the GEMM (bitwise what cpu::gemm gives) and int64 to the reference.
// A C of at most kNarrowMaxColumns columns over a row-major A (gemm.h's NarrowShape: A read in place, not
// packed) gives the packed path's bits: the same k blocks and the same sums, on one and two threads, with a
// partial last group of rows, partial last panels, several panels, a batch, a bias and a kept C (beta = 1). The
// packed path is the same kernel with its narrow shapes removed.
TEST(KernelsGemmNarrow, NarrowCGivesThePackedPathsBits) {
  int checked = 0;
  for (const cpu::MicroKernel<float>& kernel : cpu::available_micro_kernels<float>()) {
    if (kernel.narrow.fn == nullptr) continue;
    SCOPED_TRACE(kernel.name);
    cpu::MicroKernel<float> packed = kernel;
    packed.narrow = {};
    packed.narrow_wide = {};
    const int64_t mr = kernel.narrow.mr, nr = kernel.narrow.nr;
    for (int64_t m : {int64_t{1}, mr - 1, mr, mr + 1, int64_t{64}, int64_t{128}})
      for (int64_t n : {int64_t{1}, int64_t{10}, nr, nr + 1, int64_t{48}, int64_t{64}})
        for (int64_t k : {int64_t{1}, int64_t{10}, int64_t{256}, int64_t{270}, int64_t{784}})
          for (Layout lb : {Layout::RowMajor, Layout::Transposed}) {
            ASSERT_NE(cpu::narrow_shape_for(kernel, m, n, k).fn, nullptr) << m << "x" << n << "x" << k;
            const Case c{{2}, m, n, k, Layout::RowMajor, lb};
            const Problem<float> p = make_problem<float>(c, static_cast<int>(m * 7 + n * 3 + k), false);
            std::vector<float> bias(static_cast<size_t>(n));
            for (int64_t j = 0; j < n; ++j) bias[static_cast<size_t>(j)] = 0.25f * static_cast<float>(j) - 1.0f;
            for (int threads : {1, 2})
              for (int variant = 0; variant < 3; ++variant) {  // plain, with a bias, accumulating into C
                cpu::GemmOptions options{threads, 1};
                if (variant == 1) options.epilogue = {bias.data(), 1, tg::kernels::Activation::Relu};
                if (variant == 2) options.beta = 1.0;
                Output<float> narrow = make_output<float>(c.batch, m, n), wide = make_output<float>(c.batch, m, n);
                for (size_t i = 0; i < narrow.buffer.size(); ++i) narrow.buffer[i] = wide.buffer[i] = 0.5f * float(i % 7);
                cpu::gemm<float>(c.batch, m, n, k, narrow.arg(), p.a.arg(), p.b.arg(), kernel, kernel.blocking, options);
                cpu::gemm<float>(c.batch, m, n, k, wide.arg(), p.a.arg(), p.b.arg(), packed, kernel.blocking, options);
                EXPECT_EQ(std::memcmp(narrow.buffer.data(), wide.buffer.data(), narrow.buffer.size() * sizeof(float)), 0)
                    << describe(c) << " threads " << threads << " variant " << variant;
                ++checked;
              }
          }
  }
  if (checked == 0) GTEST_SKIP() << "no micro-kernel with a narrow shape on this CPU";
}

// Which narrow shape a C gets: the wide one unless it pads C's tiles by over a quarter more; none past
// kNarrowMaxColumns columns or once the packed B would pass kNarrowMaxPackedB.
TEST(KernelsGemmNarrow, WideShapeUnlessItPadsAQuarterMoreWithinTheLimits) {
  const cpu::StridedAKernelFn<float> never_called = [](int64_t, const float*, int64_t, const float*, float*, int64_t,
                                                       bool) {};
  cpu::MicroKernel<float> kernel;
  kernel.narrow = {16, 16, never_called};
  kernel.narrow_wide = {12, 32, never_called};
  auto shape = [&](int64_t m, int64_t n, int64_t k) {
    const cpu::NarrowShape<float> s = cpu::narrow_shape_for(kernel, m, n, k);
    return s.fn == nullptr ? std::string("none") : std::to_string(s.mr) + "x" + std::to_string(s.nr);
  };
  EXPECT_EQ(shape(128, 10, 256), "16x16");   // 16 columns padded against 32
  EXPECT_EQ(shape(3136, 64, 288), "12x32");  // 8 rows padded (3136 = 261 x 12 + 4) against none: within a quarter
  EXPECT_EQ(shape(48, 64, 288), "12x32");
  EXPECT_EQ(shape(128, 24, 288), "12x32");   // 32 columns padded either way
  EXPECT_EQ(shape(128, 48, 256), "16x16");   // 48 columns: three 16-wide panels, two 32-wide ones pad 16
  EXPECT_EQ(shape(8, 64, 256), "12x32");     // 8 rows: padded to 12 against 16
  EXPECT_EQ(shape(128, 65, 256), "none");    // past kNarrowMaxColumns
  const int64_t deepest = cpu::kNarrowMaxPackedB / (64 * int64_t{sizeof(float)});
  EXPECT_EQ(shape(128, 64, deepest), "12x32");
  EXPECT_EQ(shape(128, 64, deepest + 1), "none");  // B packed whole would pass kNarrowMaxPackedB
  EXPECT_EQ(shape(128, 16, deepest + 1), "16x16");  // a narrower B still fits
  kernel.narrow_wide = {};
  EXPECT_EQ(shape(3136, 64, 288), "16x16");
}

TEST(KernelsGemmRegistry, DispatchesFloatToGemmAndInt64ToRef) {
  const Case c{{2}, 23, 41, 37, Layout::Transposed, Layout::RowMajor};
  {
    const Problem<float> p = make_problem<float>(c, 5, false);
    Output<float> via_registry = make_output<float>(c.batch, c.m, c.n), direct = make_output<float>(c.batch, c.m, c.n);
    tg::kernels::matmul(c.batch, c.m, c.n, c.k, via_registry.arg(), p.a.arg(), p.b.arg());
    cpu::gemm<float>(c.batch, c.m, c.n, c.k, direct.arg(), p.a.arg(), p.b.arg());
    EXPECT_EQ(via_registry.buffer, direct.buffer);
  }
  {
    const Problem<int64_t> p = make_problem<int64_t>(c, 6, true);
    Output<int64_t> via_registry = make_output<int64_t>(c.batch, c.m, c.n), ref = make_output<int64_t>(c.batch, c.m, c.n);
    tg::kernels::matmul(c.batch, c.m, c.n, c.k, via_registry.arg(), p.a.arg(), p.b.arg());
    ref_matmul(DType::Int64)(c.batch, c.m, c.n, c.k, ref.arg(), p.a.arg(), p.b.arg());
    EXPECT_EQ(via_registry.buffer, ref.buffer);
  }
}

// tg::matmul with the transposed views an MLP's backward pass makes (x^T @ g, g @ W^T), checked exactly on
// integer values against sums done here.
TEST(KernelsGemmMatmul, TransposedViewsInBackwardShapes) {
  std::mt19937 rng(9);
  std::uniform_int_distribution<int> small(-3, 3);
  auto filled = [&](const Shape& shape, DType dtype) {
    std::vector<double> v(static_cast<size_t>(product(shape)));
    for (double& x : v) x = small(rng);
    return tg::from_vector(v, shape).to(dtype);
  };
  for (DType dtype : {DType::Float32, DType::Float64}) {
    const tg::Tensor x = filled({64, 100}, dtype), g = filled({64, 48}, dtype), w = filled({100, 48}, dtype);
    const tg::Tensor gw = tg::matmul(tg::transpose(x, 0, 1), g);  // [100, 48]
    const tg::Tensor gx = tg::matmul(g, tg::transpose(w, 0, 1));  // [64, 100]
    auto values = [](const tg::Tensor& t) { return t.to(DType::Float64).to_vector<double>(); };
    const std::vector<double> xv = values(x), gv = values(g), wv = values(w);
    const std::vector<double> gwv = values(gw), gxv = values(gx);
    for (int64_t i = 0; i < 100; ++i)
      for (int64_t j = 0; j < 48; ++j) {
        double s = 0;
        for (int64_t b = 0; b < 64; ++b) s += xv[b * 100 + i] * gv[b * 48 + j];
        ASSERT_EQ(gwv[i * 48 + j], s) << "x^T @ g at " << i << ", " << j;
      }
    for (int64_t b = 0; b < 64; ++b)
      for (int64_t i = 0; i < 100; ++i) {
        double s = 0;
        for (int64_t j = 0; j < 48; ++j) s += gv[b * 48 + j] * wv[i * 48 + j];
        ASSERT_EQ(gxv[b * 100 + i], s) << "g @ W^T at " << b << ", " << i;
      }
  }
}

// ---- the global settings the GEMM honours ----

// Restores the thread count and flush mode a test changes.
class KernelsGemmSettings : public ::testing::Test {
 protected:
  void TearDown() override {
    tg::set_num_threads(saved_threads_);
    tg::set_flush_denormal(saved_flush_);
  }
  int saved_threads_ = tg::num_threads();
  bool saved_flush_ = tg::flush_denormal();
};

TEST_F(KernelsGemmSettings, NumThreads) {
  EXPECT_GE(tg::num_threads(), 1);
  tg::set_num_threads(3);
  EXPECT_EQ(tg::num_threads(), 3);
  EXPECT_EQ(tg::threads_for(1000, 100), 3);
  EXPECT_EQ(tg::threads_for(250, 100), 2);
  EXPECT_EQ(tg::threads_for(10, 100), 1);
  EXPECT_THROW(tg::set_num_threads(0), tg::Error);
  EXPECT_EQ(tg::num_threads(), 3);
  tg::set_num_threads(1);
  EXPECT_EQ(tg::threads_for(int64_t{1} << 40, 1), 1);
}

// The setting reaches the OpenMP workers: products of two 1e-20f are subnormal (1e-40) and flush to 0, on
// every thread, for every kernel; switching it off gives them back.
TEST_F(KernelsGemmSettings, FlushDenormalReachesEveryThread) {
  if (!tg::flush_denormal_supported()) GTEST_SKIP() << "no flush-to-zero control on this target";
  EXPECT_TRUE(tg::flush_denormal()) << "on by default";
  const int64_t m = 40, n = 40, k = 1;
  std::vector<float> a(m * k, 1e-20f), b(k * n, 1e-20f), c(m * n);
  const StridedArg ca{c.data(), {n, 1}, DType::Float32}, aa{a.data(), {k, 1}, DType::Float32},
      ba{b.data(), {n, 1}, DType::Float32};
  for (const cpu::MicroKernel<float>& kernel : cpu::available_micro_kernels<float>())
    for (bool flush : {false, true, false, true}) {
      tg::set_flush_denormal(flush);
      cpu::gemm<float>({}, m, n, k, ca, aa, ba, kernel, {8, 8, 8}, {2, 1});
      for (float v : c) ASSERT_EQ(v == 0.0f, flush) << kernel.name << ": " << v;
    }
  // Denormals-are-zero: a subnormal input reads as 0.
  tg::set_flush_denormal(true);
  std::fill(a.begin(), a.end(), 1e-40f);
  std::fill(b.begin(), b.end(), 1e10f);
  cpu::gemm<float>({}, m, n, k, ca, aa, ba, cpu::default_micro_kernel<float>(), {8, 8, 8}, {2, 1});
  for (float v : c) ASSERT_EQ(v, 0.0f);
  tg::set_flush_denormal(false);
  cpu::gemm<float>({}, m, n, k, ca, aa, ba, cpu::default_micro_kernel<float>(), {8, 8, 8}, {2, 1});
  for (float v : c) ASSERT_NEAR(v, 1e-30f, 1e-33f);
}

}  // namespace
