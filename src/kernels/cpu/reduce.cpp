// Fast CPU sum / max / min for float32 and float64. The reference kernel walks the reduced elements once per
// output element, through a nested strided loop each time; this one walks the input once in memory order.
// After merging dimensions that are adjacent in memory, every innermost run of the input is unit-stride and
// either reduced (a row folded into one accumulator, e.g. a bias gradient over H*W) or kept (a row added
// element-wise into a row of accumulators, e.g. a bias gradient over the batch). Accumulators are a dense
// buffer of the output's size: double for sums (as the reference, so float32 sums keep their accuracy), the
// element type for max and min. Other layouts and ops go to the reference kernel.
// Sums of unit-stride rows are folded in fixed blocks of kSumBlock elements, each block by a loop compiled per
// ISA (float32: sum_blocks.h's per-ISA files, float64: GCC target_clones; chosen by CPUID) and the block partials added
// in order; a whole-tensor sum computes its blocks on several threads. The blocks do not depend on the thread
// count, so neither does the result. Other reductions split their outputs over threads (the largest kept dim),
// each output reduced by one thread in the one order.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include <tensorgrad/base/threads.h>

#include "cpu_buffer.h"
#include "cpu_features.h"
#include "isa_clones.h"
#include "parallel.h"
#include "reduce.h"
#include "sum_blocks.h"

namespace tg::kernels::cpu {

namespace {

struct Dim {
  int64_t size = 1, in_stride = 0, acc_stride = 0;
  bool reduced = false;
};

// The input's dims (size-1 dims dropped), merged where two neighbours are both reduced or both kept and
// contiguous with each other in the input. acc strides are row-major over the kept dims.
std::vector<Dim> merged_dims(const Shape& shape, const std::vector<bool>& reduce_dims, const Strides& in_strides) {
  std::vector<Dim> dims;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    Dim next{shape[d], in_strides[d], 0, reduce_dims[d]};
    if (!dims.empty() && dims.back().reduced == next.reduced && dims.back().in_stride == next.in_stride * next.size) {
      dims.back().size *= next.size;
      dims.back().in_stride = next.in_stride;
    } else {
      dims.push_back(next);
    }
  }
  int64_t acc = 1;
  for (size_t d = dims.size(); d-- > 0;) {
    if (dims[d].reduced) continue;
    dims[d].acc_stride = acc;
    acc *= dims[d].size;
  }
  return dims;
}

template <class A>
struct SumOp {
  static A identity() { return A(0); }
  static A combine(A acc, A v) { return acc + v; }
};
// NaN wins (and stays): a comparison with NaN is false, so the NaN test keeps it, as the reference does.
template <class A>
struct MaxOp {
  static A identity() { return -std::numeric_limits<A>::infinity(); }
  static A combine(A acc, A v) { return (v > acc || v != v) ? v : acc; }
};
template <class A>
struct MinOp {
  static A identity() { return std::numeric_limits<A>::infinity(); }
  static A combine(A acc, A v) { return (v < acc || v != v) ? v : acc; }
};

// Folds one unit-stride row into a value, with independent lanes so the compiler can vectorise it.
template <class Op, class A, class T>
A fold_row(const T* row, int64_t n) {
  constexpr int kLanes = 16;
  A lanes[kLanes];
  for (A& l : lanes) l = Op::identity();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) lanes[l] = Op::combine(lanes[l], static_cast<A>(row[i + l]));
  A acc = Op::identity();
  for (; i < n; ++i) acc = Op::combine(acc, static_cast<A>(row[i]));
  for (A l : lanes) acc = Op::combine(acc, l);
  return acc;
}

constexpr int64_t kSumBlock = int64_t{1} << 16;  // elements per block partial (256 KiB of float32)
constexpr int64_t kReduceGrain = int64_t{1} << 16;  // input elements a thread at least

// A double sum of n <= kSumBlock elements with 32 independent lanes (4 AVX-512 registers: the adds' latency
// hidden), lanes combined in a fixed order.
template <class T>
inline __attribute__((always_inline)) double sum_block_impl(const T* row, int64_t n) {
  constexpr int kLanes = 32;
  double lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) lanes[l] += static_cast<double>(row[i + l]);
  double acc = 0;
  for (; i < n; ++i) acc += static_cast<double>(row[i]);
  for (int w = kLanes / 2; w > 0; w /= 2)
    for (int l = 0; l < w; ++l) lanes[l] += lanes[l + w];
  return acc + lanes[0];
}
TG_ISA_CLONES double sum_block(const double* row, int64_t n) { return sum_block_impl(row, n); }

}  // namespace

TG_ISA_CLONES double sum_block_f32_scalar_rule(const float* row, int64_t n) { return sum_block_impl(row, n); }

namespace {

// float32: the CPU's version of the same rule from sum_blocks.h (same bits), else the clones above.
double sum_block(const float* row, int64_t n) {
  static const SumBlockF32 chosen =
      widest_supported<SumBlockF32>(isa::avx512_sum_block_f32, isa::avx2_sum_block_f32, &sum_block_f32_scalar_rule);
  return chosen(row, n);
}

// Sum of a unit-stride row: its blocks' partials added in order. With `threads` > 1 the blocks are computed
// by an OpenMP team (same blocks, same order of addition: the same result).
template <class T>
double sum_row(const T* row, int64_t n, int threads = 1) {
  const int64_t blocks = (n + kSumBlock - 1) / kSumBlock;
  if (blocks <= 1) return n > 0 ? sum_block(row, n) : 0.0;
  if (threads <= 1) {
    double acc = 0;
    for (int64_t b = 0; b < blocks; ++b) acc += sum_block(row + b * kSumBlock, std::min(kSumBlock, n - b * kSumBlock));
    return acc;
  }
  std::vector<double> partial(static_cast<size_t>(blocks));
  parallel_for(blocks, threads, [&](int64_t first, int64_t last, int) {
    for (int64_t b = first; b < last; ++b)
      partial[static_cast<size_t>(b)] = sum_block(row + b * kSumBlock, std::min(kSumBlock, n - b * kSumBlock));
  });
  double acc = 0;
  for (double p : partial) acc += p;
  return acc;
}

template <class Op, class A, class T>
A fold_reduced_row(const T* row, int64_t n) {
  if constexpr (std::is_same_v<Op, SumOp<double>>) return sum_row(row, n);
  else return fold_row<Op, A>(row, n);
}

// Adds a unit-stride row into a row of double accumulators (a sum whose innermost dim is kept: a bias gradient
// over the batch), one copy per ISA: compiled for baseline x86-64 it converted and added two elements a step, ~1
// cycle an element (a [1600, 576] column sum took 240 us on one thread). Each element's adds are the same.
template <class T>
inline __attribute__((always_inline)) void add_row_impl(double* __restrict out, const T* __restrict row, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] += static_cast<double>(row[i]);
}
TG_ISA_CLONES void add_row(double* out, const float* row, int64_t n) { add_row_impl(out, row, n); }
TG_ISA_CLONES void add_row(double* out, const double* row, int64_t n) { add_row_impl(out, row, n); }

// Column sums of a [rows, cols] block (rows `stride` apart) into acc, 64 columns at a time in registers down all the
// rows (eight independent chains of AVX-512 adds), one copy per ISA: row by row through memory the accumulators
// were loaded and stored again for every row, and a [1600, 144] bias gradient took 30 us. Each column's adds are
// in the same order (row by row), so the bits are add_row's.
template <class T>
inline __attribute__((always_inline)) void column_sums_impl(const T* in, int64_t rows, int64_t stride, int64_t cols,
                                                            double* __restrict acc) {
  auto chunk = [&]<int W>(int64_t c) {
    double a[W];
#pragma GCC unroll 64
    for (int j = 0; j < W; ++j) a[j] = acc[c + j];
    for (int64_t r = 0; r < rows; ++r) {
      const T* __restrict row = in + r * stride + c;
#pragma GCC unroll 64
      for (int j = 0; j < W; ++j) a[j] += static_cast<double>(row[j]);
    }
#pragma GCC unroll 64
    for (int j = 0; j < W; ++j) acc[c + j] = a[j];
  };
  int64_t c = 0;
  for (; c + 64 <= cols; c += 64) chunk.template operator()<64>(c);
  for (; c + 8 <= cols; c += 8) chunk.template operator()<8>(c);
  for (; c < cols; ++c) chunk.template operator()<1>(c);
}
TG_ISA_CLONES void column_sums(const float* in, int64_t rows, int64_t stride, int64_t cols, double* acc) {
  column_sums_impl(in, rows, stride, cols, acc);
}
TG_ISA_CLONES void column_sums(const double* in, int64_t rows, int64_t stride, int64_t cols, double* acc) {
  column_sums_impl(in, rows, stride, cols, acc);
}

// Walks the input once in memory order (its outer dims as an odometer, last fastest), folding or adding each
// innermost run into the accumulators, with dims[split] restricted to [begin, end): a thread's share.
template <class Op, class A, class T>
void reduce_rows(const std::vector<Dim>& all_dims, const T* in, A* acc, size_t split, int64_t begin, int64_t end) {
  std::vector<Dim> dims = all_dims;
  dims[split].size = end - begin;
  in += begin * dims[split].in_stride;
  acc += begin * dims[split].acc_stride;
  if constexpr (std::is_same_v<Op, SumOp<double>>) {
    if (dims.size() == 2 && dims[0].reduced && !dims[1].reduced)  // [rows, cols] summed over its rows
      return column_sums(in, dims[0].size, dims[0].in_stride, dims[1].size, acc);
  }
  const Dim inner = dims.back();
  const size_t outer_rank = dims.size() - 1;
  std::vector<int64_t> counter(outer_rank, 0);
  int64_t in_off = 0, acc_off = 0;
  while (true) {
    const T* row = in + in_off;
    if (inner.reduced) {
      acc[acc_off] = Op::combine(acc[acc_off], fold_reduced_row<Op, A>(row, inner.size));
    } else if constexpr (std::is_same_v<Op, SumOp<double>>) {
      add_row(acc + acc_off, row, inner.size);
    } else {
      A* out = acc + acc_off;
      for (int64_t i = 0; i < inner.size; ++i) out[i] = Op::combine(out[i], static_cast<A>(row[i]));
    }
    // Odometer over the outer dims, last fastest.
    size_t d = outer_rank;
    while (d > 0) {
      --d;
      in_off += dims[d].in_stride;
      acc_off += dims[d].acc_stride;
      if (++counter[d] < dims[d].size) break;
      in_off -= dims[d].in_stride * dims[d].size;
      acc_off -= dims[d].acc_stride * dims[d].size;
      counter[d] = 0;
      if (d == 0) return;
    }
    if (outer_rank == 0) return;
  }
}

// reduce_rows over threads: the largest kept dim is split into one range a thread, so each thread owns its
// outputs and sums each of them in the same order as one thread would (the same bits for any thread count).
// Row sums ([16, 100, 144] over the last dim, LayerNorm's backward) and column sums (bias gradients) had run on
// one thread whatever the setting. A kept innermost dim is split at whole cache lines of the accumulators (which
// start on one): two threads adding into the same line every row made two threads 3x slower than one.
// Rethrowing: reduce_rows allocates its odometer on the worker threads.
template <class Op, class A, class T>
void reduce_rows_threaded(const std::vector<Dim>& dims, const T* in, A* acc, int64_t elements) {
  size_t split = 0;
  for (size_t d = 0; d < dims.size(); ++d)
    if (!dims[d].reduced && (dims[split].reduced || dims[d].size > dims[split].size)) split = d;
  const int threads = dims[split].reduced ? 1 : threads_for(elements, kReduceGrain);
  const int64_t size = dims[split].size;
  const int64_t unit = split + 1 == dims.size() ? 64 / static_cast<int64_t>(sizeof(A)) : 1;
  parallel_for_rethrowing((size + unit - 1) / unit, threads, [&](int64_t first, int64_t last, int) {
    reduce_rows<Op>(dims, in, acc, split, first * unit, std::min(size, last * unit));
  });
}

template <class T>
void reduce_typed(ReduceOp op, const Shape& in_shape, const std::vector<bool>& reduce_dims, const StridedArg& out,
                  const StridedArg& in) {
  const std::vector<Dim> dims = merged_dims(in_shape, reduce_dims, in.strides);
  const bool fast = (op == ReduceOp::Sum || op == ReduceOp::Max || op == ReduceOp::Min) && !dims.empty() &&
                    dims.back().in_stride == 1 && numel_of(in_shape) > 0;
  if (!fast) return ref::reduce(op, in_shape, reduce_dims, out, in);
  int64_t kept = 1;
  for (const Dim& d : dims)
    if (!d.reduced) kept *= d.size;
  const T* src = static_cast<const T*>(in.data);
  // Writes the dense accumulators to `out` (strided over in_shape, 0 in the reduced dims).
  auto write = [&](const auto& acc) {
    Shape kept_shape;
    Strides out_strides;
    for (size_t d = 0; d < in_shape.size(); ++d) {
      if (reduce_dims[d] || in_shape[d] == 1) continue;
      kept_shape.push_back(in_shape[d]);
      out_strides.push_back(out.strides[d]);
    }
    T* dst = static_cast<T*>(out.data);
    size_t i = 0;
    for_each_run<1>(kept_shape, {out_strides.data()}, [&](int64_t n, auto off, auto st) {
      for (int64_t j = 0; j < n; ++j) dst[off[0] + j * st[0]] = static_cast<T>(acc[i++]);
    });
  };
  if (op == ReduceOp::Sum && dims.size() == 1 && dims[0].reduced) {
    // The whole tensor is one contiguous run reduced to one value: split its blocks across threads.
    const std::vector<double> acc{sum_row(src, dims[0].size, threads_for(dims[0].size, kReduceGrain))};
    write(acc);
  } else if (op == ReduceOp::Sum) {
    const CpuBuffer buffer(static_cast<size_t>(kept) * sizeof(double));  // on a cache line (the CPU allocator's)
    double* acc = buffer.as<double>();
    std::fill(acc, acc + kept, 0.0);
    reduce_rows_threaded<SumOp<double>>(dims, src, acc, numel_of(in_shape));
    write(acc);
  } else {
    const CpuBuffer buffer(static_cast<size_t>(kept) * sizeof(T));
    T* acc = buffer.as<T>();
    std::fill(acc, acc + kept, op == ReduceOp::Max ? MaxOp<T>::identity() : MinOp<T>::identity());
    if (op == ReduceOp::Max) reduce_rows_threaded<MaxOp<T>>(dims, src, acc, numel_of(in_shape));
    else reduce_rows_threaded<MinOp<T>>(dims, src, acc, numel_of(in_shape));
    write(acc);
  }
}

}  // namespace

void reduce(ReduceOp op, const Shape& in_shape, const std::vector<bool>& reduce_dims, const StridedArg& out,
            const StridedArg& in) {
  if (in.dtype == DType::Float32) return reduce_typed<float>(op, in_shape, reduce_dims, out, in);
  if (in.dtype == DType::Float64) return reduce_typed<double>(op, in_shape, reduce_dims, out, in);
  ref::reduce(op, in_shape, reduce_dims, out, in);
}

}  // namespace tg::kernels::cpu
