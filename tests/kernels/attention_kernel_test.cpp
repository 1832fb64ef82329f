// The CPU's fused attention kernels (cpu/attention.cpp: blockwise online softmax on the GEMM micro-kernel)
// against the reference kernels (ref/attention.cpp: one query row at a time, in double): out, the per-row
// log-sum-exp and the three gradients, on shapes that are not multiples of the blocks or the micro-kernel's
// tile, with boolean, additive and causal masks, broadcast batch entries, transposed (strided) operands and
// fully masked rows; float32 and float64, 1 and 2 threads (the same bits on both).
#include <cmath>
#include <cstring>
#include <limits>

#include <gtest/gtest.h>

#include <tensorgrad/base/threads.h>
#include <tensorgrad/kernels/kernel_tables.h>
#include <tensorgrad/tensorgrad.h>

#include "support/kernel_args.h"

namespace {

using tg::DType;
using tg::Shape;
using tg::Tensor;
namespace k = tg::kernels;

constexpr tg::DeviceType kCpu = tg::DeviceType::CPU;

k::StridedArg arg(const Tensor& t, const Shape& shape) {
  return {t.data_ptr(), tg::broadcast_strides(t.shape(), t.strides(), shape), t.dtype()};
}
using tgtest::arg;

Shape matrix(Shape batch, int64_t rows, int64_t cols) {
  batch.push_back(rows);
  batch.push_back(cols);
  return batch;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  const Tensor x = a.contiguous(), y = b.contiguous();
  return x.shape() == y.shape() &&
         std::memcmp(x.data_ptr(), y.data_ptr(), static_cast<size_t>(x.numel()) * tg::itemsize(x.dtype())) == 0;
}

struct Case {
  const char* name;
  Shape batch;
  int64_t L, S, E, Ev;
  enum Mask { None, Bool, Additive } mask;
  bool causal;
  bool shared_kv;      // k and v broadcast over the last batch dim (one head's keys for every head)
  bool transposed_q;   // q read through a transposed [E, L] buffer (row stride 1)
};

struct Outputs {
  Tensor out, lse, dq, dk, dv;
};

Outputs run(const k::KernelTables& tables, const Case& c, DType dt, int threads, const Tensor& q, const Tensor& k_,
            const Tensor& v, const Tensor& mask, const Tensor& go) {
  const int saved = tg::num_threads();
  tg::set_num_threads(threads);
  const k::AttentionProblem p{.batch = c.batch, .queries = c.L, .keys = c.S, .head_dim = c.E, .value_dim = c.Ev,
                              .scale = 0.3, .causal = c.causal};
  Shape lse_shape = c.batch;
  lse_shape.push_back(c.L);
  Outputs o{tg::full(matrix(c.batch, c.L, c.Ev), 7.0, dt), tg::full(lse_shape, 7.0, dt),
            tg::full(matrix(c.batch, c.L, c.E), 7.0, dt), tg::full(matrix(c.batch, c.S, c.E), 7.0, dt),
            tg::full(matrix(c.batch, c.S, c.Ev), 7.0, dt)};
  k::AttentionArgs a{.q = arg(q, matrix(c.batch, c.L, c.E)), .k = arg(k_, matrix(c.batch, c.S, c.E)),
                     .v = arg(v, matrix(c.batch, c.S, c.Ev)),
                     .mask = mask.defined() ? arg(mask, matrix(c.batch, c.L, c.S)) : k::StridedArg{},
                     .out = arg(o.out), .lse = arg(o.lse)};
  tables.attention_forward.find(kCpu, dt)(p, a);
  a.grad_out = arg(go);
  a.grad_q = arg(o.dq);
  a.grad_k = arg(o.dk);
  a.grad_v = arg(o.dv);
  tables.attention_backward.find(kCpu, dt)(p, a);
  tg::set_num_threads(saved);
  return o;
}

TEST(KernelsAttention, FusedCpuKernelsMatchTheReference) {
  const std::vector<Case> cases = {
      {"one block", {2}, 5, 7, 3, 4, Case::None, false, false, false},
      {"several blocks, odd sizes", {3}, 150, 301, 17, 9, Case::None, false, false, false},
      {"boolean key padding", {2, 2}, 70, 260, 16, 16, Case::Bool, false, false, false},
      {"additive mask", {2}, 65, 33, 8, 40, Case::Additive, false, false, false},
      {"causal, square", {2}, 200, 200, 12, 12, Case::None, true, false, false},
      {"causal, more keys than queries", {1}, 40, 300, 6, 5, Case::Bool, true, false, false},
      {"shared k and v, transposed q", {2, 3}, 33, 45, 10, 7, Case::Bool, false, true, true},
      {"single query and key", {1}, 1, 1, 1, 1, Case::None, false, false, false},
  };
  tg::Generator gen(5);
  for (const Case& c : cases) {
    const int64_t B = tg::numel_of(c.batch);
    Shape kv_batch = c.batch;
    if (c.shared_kv) kv_batch.back() = 1;
    const Tensor q64 = c.transposed_q ? tg::transpose(tg::randn(matrix(c.batch, c.E, c.L), DType::Float64, gen), -2, -1)
                                      : tg::randn(matrix(c.batch, c.L, c.E), DType::Float64, gen);
    const Tensor k64 = tg::randn(matrix(kv_batch, c.S, c.E), DType::Float64, gen) * 2.0;
    const Tensor v64 = tg::randn(matrix(kv_batch, c.S, c.Ev), DType::Float64, gen);
    const Tensor go64 = tg::randn(matrix(c.batch, c.L, c.Ev), DType::Float64, gen);
    Tensor mask64;
    if (c.mask == Case::Bool) {
      // Key padding per batch entry (broadcast over queries), and query row 1 of entry 0 sees nothing.
      mask64 = tg::lt(tg::rand(matrix(c.batch, 1, c.S), DType::Float64, gen), tg::Scalar(0.8));
      mask64 = tg::expand(mask64, matrix(c.batch, c.L, c.S)).contiguous();
      if (c.L > 1) tg::narrow(tg::select(mask64.reshape({B, c.L, c.S}), 0, 0), 0, 1, 1).fill_(0.0);
    } else if (c.mask == Case::Additive) {
      mask64 = tg::randn(Shape{c.L, c.S}, DType::Float64, gen);
      mask64 = tg::where(tg::gt(mask64, tg::Scalar(1.5)), tg::Scalar(-std::numeric_limits<double>::infinity()), mask64);
    }
    for (DType dt : {DType::Float64, DType::Float32}) {
      const auto cast = [&](const Tensor& t) {
        if (!t.defined() || t.dtype() == DType::Bool) return t;
        return c.transposed_q && &t == &q64 ? tg::transpose(tg::transpose(t, -2, -1).contiguous().to(dt), -2, -1)
                                            : t.to(dt);
      };
      const Tensor q = cast(q64), k_ = cast(k64), v = cast(v64), go = cast(go64), mask = cast(mask64);
      const Outputs want = run(k::reference_tables(), c, dt, 1, q, k_, v, mask, go);
      const Outputs one = run(k::kernel_tables(), c, dt, 1, q, k_, v, mask, go);
      const Outputs two = run(k::kernel_tables(), c, dt, 2, q, k_, v, mask, go);
      const double tol = dt == DType::Float64 ? 1e-12 : 2e-5;
      const auto close = [&](const Tensor& got, const Tensor& ref, const char* what) {
        const auto g = got.to(DType::Float64).contiguous().to_vector<double>();
        const auto r = ref.to(DType::Float64).contiguous().to_vector<double>();
        double largest = 0;
        for (double x : r) largest = std::isfinite(x) ? std::max(largest, std::abs(x)) : largest;
        for (size_t i = 0; i < r.size(); ++i) {
          if (!std::isfinite(r[i])) {
            EXPECT_EQ(g[i], r[i]) << c.name << " " << what << " [" << i << "]";
          } else {
            ASSERT_NEAR(g[i], r[i], tol * (1 + largest)) << c.name << " " << what << " [" << i << "] " << tg::dtype_name(dt);
          }
        }
      };
      close(one.out, want.out, "out");
      close(one.lse, want.lse, "lse");
      close(one.dq, want.dq, "grad q");
      close(one.dk, want.dk, "grad k");
      close(one.dv, want.dv, "grad v");
      for (auto [a, b] : {std::pair{one.out, two.out}, {one.lse, two.lse}, {one.dq, two.dq}, {one.dk, two.dk},
                          {one.dv, two.dv}})
        EXPECT_TRUE(same_bits(a, b)) << c.name << ": 1 and 2 threads differ";
      if (c.mask == Case::Bool && c.L > 1) {  // the row with no key: zeros, lse +inf, no gradient
        const Tensor row = tg::select(tg::select(one.out.reshape({B, c.L, c.Ev}), 0, 0), 0, 1);
        EXPECT_EQ(tg::max(tg::abs(row.to(DType::Float64))).item(), 0.0) << c.name;
        EXPECT_TRUE(std::isinf(tg::select(tg::select(one.lse.reshape({B, c.L}), 0, 0), 0, 1).to(DType::Float64).item()));
        EXPECT_EQ(tg::max(tg::abs(tg::select(tg::select(one.dq.reshape({B, c.L, c.E}), 0, 0), 0, 1).to(DType::Float64))).item(), 0.0);
      }
    }
  }
}

}  // namespace
