// The production CPU GEMM: the five loops and threading (see gemm.h) over gemm_pack.h's packing; which
// micro-kernel runs is gemm_kernels.cpp's. Only the micro-kernels (and the store of a tile with a bias a row,
// cloned per ISA) are per ISA; everything here is portable C++ compiled with the project's flags.
#include "gemm.h"

#include "gemm_pack.h"
#include "isa_clones.h"
#include "../half_staging.h"

#include "parallel.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>

#include <tensorgrad/base/error.h>
#include <tensorgrad/base/threads.h>

#include "../epilogue.h"
#include "../ref/ref_kernels.h"

namespace tg::kernels::cpu {

namespace {

constexpr int64_t kMaxTile = 512;  // MR * NR of the largest micro-kernel (the edge-tile scratch buffer)

int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }
int64_t ceil_div(int64_t x, int64_t y) { return (x + y - 1) / y; }

// ---------------------------------------------------------------------------------------------------------
// One 2-D product with everything resolved.

// T: the compute type (C, the packed panels, the micro-kernel); S: A's and B's element type.
template <class T, class S = T>
struct Plan {
  MicroKernelFn<T> kernel;
  PackFn<T, S> pack_a, pack_b;
  int64_t mr, nr, mc, kc, nc;
  int64_t m, n, k;
  int64_t crs, ccs, ars, acs, brs, bcs;  // row / column strides of C, A, B
  // Epilogue: C[i, j] = act(C[i, j] + bias[i * bias_rs + j * bias_cs]) once the sum is complete.
  bool epilogue = false;
  const T* bias = nullptr;
  int64_t bias_rs = 0, bias_cs = 0;
  Activation activation = Activation::None;
  // C = alpha * A B + beta * C: alpha scales each packed panel of A; a C that is kept (beta != 0, already
  // multiplied by beta) is accumulated into from the first k block on.
  T alpha = T(1);
  bool keep_c = false;
  // A gathered operand (gemm_gathered_b) in the place of A or B (A after C was turned round); null: in memory.
  const GatheredOperand<T>* gathered_a = nullptr;
  const GatheredOperand<T>* gathered_b = nullptr;

  // Pack-buffer sizes (elements) for a thread that owns `rows` x `cols` of C, rounded to a cache line.
  int64_t a_buffer(int64_t rows) const { return round_up(round_up(std::min(mc, rows), mr) * std::min(kc, k), 16); }
  int64_t b_buffer(int64_t cols) const { return round_up(round_up(std::min(nc, cols), nr) * std::min(kc, k), 16); }
};

// c[i * rs + j] = (accumulate ? c[i * rs + j] : 0) + tile[i * nr + j] + bias[i * bias_rs] for a rows x cols tile
// computed aside (one bias value a row: a convolution's channel), in the micro-kernel's vector width. Stored once:
// adding the bias after the micro-kernel's own store read C back before its lines had arrived (C is written for
// the first time), which cost as much as the whole k = 9 GEMM of a first convolution layer.
template <class T>
inline __attribute__((always_inline)) void store_with_row_bias_impl(T* c, const T* tile, int64_t rows, int64_t cols,
                                                                    int64_t rs, int64_t nr, const T* bias,
                                                                    int64_t bias_rs, bool accumulate) {
  for (int64_t i = 0; i < rows; ++i) {
    T* __restrict row = c + i * rs;
    const T* __restrict t = tile + i * nr;
    const T b = bias[i * bias_rs];
    if (accumulate)
      for (int64_t j = 0; j < cols; ++j) row[j] = (row[j] + t[j]) + b;
    else
      for (int64_t j = 0; j < cols; ++j) row[j] = t[j] + b;
  }
}
TG_ISA_CLONES void store_with_row_bias(float* c, const float* tile, int64_t rows, int64_t cols, int64_t rs, int64_t nr,
                                       const float* bias, int64_t bias_rs, bool accumulate) {
  store_with_row_bias_impl(c, tile, rows, cols, rs, nr, bias, bias_rs, accumulate);
}
TG_ISA_CLONES void store_with_row_bias(double* c, const double* tile, int64_t rows, int64_t cols, int64_t rs,
                                       int64_t nr, const double* bias, int64_t bias_rs, bool accumulate) {
  store_with_row_bias_impl(c, tile, rows, cols, rs, nr, bias, bias_rs, accumulate);
}

// The epilogue over a rows x cols tile of C whose element (0, 0) is C[i0, j0]; with bias_done, its activation only.
template <class T, class S>
void finish_tile(const Plan<T, S>& pl, T* c, int64_t rows, int64_t cols, int64_t i0, int64_t j0,
                 bool bias_done = false) {
  for (int64_t i = 0; i < rows; ++i) {
    T* row = c + i * pl.crs;
    if (pl.bias != nullptr && !bias_done) {
      const T* bias = pl.bias + (i0 + i) * pl.bias_rs + j0 * pl.bias_cs;
      for (int64_t j = 0; j < cols; ++j) row[j * pl.ccs] += bias[j * pl.bias_cs];
    }
    if (pl.activation == Activation::Relu)
      for (int64_t j = 0; j < cols; ++j) row[j * pl.ccs] = relu_value(row[j * pl.ccs]);
    else if (pl.activation == Activation::Gelu)
      for (int64_t j = 0; j < cols; ++j) row[j * pl.ccs] = gelu_value(row[j * pl.ccs]);
  }
}

// The rows x cols part of a tile computed aside (row stride nr) into C: stored, or added to what C holds.
template <class T, class S>
void store_tile_part(const Plan<T, S>& pl, T* c, const T* tile, int64_t nr, int64_t rows, int64_t cols,
                     bool accumulate) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      T& out = c[i * pl.crs + j * pl.ccs];
      out = accumulate ? out + tile[i * nr + j] : tile[i * nr + j];
    }
}

// Asks for `rows` runs of `row_bytes` (a tile of C) `stride_bytes` apart, before the tile is computed aside, as the
// micro-kernel does for a tile it stores itself, where C's rows are pages apart: without it, storing the tiles of a
// convolution's output over a short k (the ASR model's first layer, 1 -> 144 channels, k = 9, 8000-float rows)
// waited on each line in turn, 20-24 ms a batch against 9.5 with it. With rows closer than a page (the CNN's conv1,
// 784-float rows) the same requests cost 8% (1.22 -> 1.32 ms), so they are made only for rows a page or more apart.
// The empty asm keeps the loops: GCC deletes a loop whose only statements are prefetches (it has no side effects).
inline void prefetch_tile(const void* c, int64_t rows, int64_t row_bytes, int64_t stride_bytes) {
  if (stride_bytes < 4096) return;
  for (int64_t i = 0; i < rows; ++i) {
    const char* row = static_cast<const char*>(c) + i * stride_bytes;
    for (int64_t off = 0; off < row_bytes; off += 64) {
      __builtin_prefetch(row + off, 1, 2);
      asm volatile("");
    }
    __builtin_prefetch(row + row_bytes - 1, 1, 2);
  }
}

// Runs the micro-kernels over one packed mc x nc block of C, whose element (0, 0) is C[i0, j0].
// accumulate: add to C (later kc blocks); last: the final kc block, after which each tile gets the epilogue.
template <class T, class S>
void macro_kernel(const Plan<T, S>& pl, int64_t mc, int64_t nc, int64_t kc, const T* ap, const T* bp, T* c,
                  bool accumulate, bool last, int64_t i0, int64_t j0) {
  const bool finish = last && pl.epilogue;
  // A bias a row on unit-stride columns is added as the tile is stored (store_with_row_bias).
  const bool row_bias = finish && pl.bias != nullptr && pl.ccs == 1 && pl.bias_cs == 0;
  alignas(64) T tile[kMaxTile];
  const int64_t mr = pl.mr, nr = pl.nr;
  for (int64_t jr = 0; jr < nc; jr += nr) {
    const int64_t cols = std::min(nr, nc - jr);
    for (int64_t ir = 0; ir < mc; ir += mr) {
      const int64_t rows = std::min(mr, mc - ir);
      T* cij = c + ir * pl.crs + jr * pl.ccs;
      const T* a = ap + ir * kc;
      const T* b = bp + jr * kc;
      if (row_bias) {  // the same sums as below, then + bias
        prefetch_tile(cij, rows, cols * int64_t{sizeof(T)}, pl.crs * int64_t{sizeof(T)});
        pl.kernel(kc, a, b, tile, nr, false);
        store_with_row_bias(cij, tile, rows, cols, pl.crs, nr, pl.bias + (i0 + ir) * pl.bias_rs, pl.bias_rs,
                            accumulate);
        if (pl.activation != Activation::None) finish_tile(pl, cij, rows, cols, i0 + ir, j0 + jr, true);
        continue;
      }
      if (rows == mr && cols == nr && pl.ccs == 1) {
        pl.kernel(kc, a, b, cij, pl.crs, accumulate);
        if (finish) finish_tile(pl, cij, rows, cols, i0 + ir, j0 + jr);
        continue;
      }
      // Edge tile or C with a non-unit column stride: compute the full tile aside, store what belongs to C.
      // The sums are formed exactly as in the direct path, so results do not depend on where a tile falls.
      pl.kernel(kc, a, b, tile, nr, false);
      store_tile_part(pl, cij, tile, nr, rows, cols, accumulate);
      if (finish) finish_tile(pl, cij, rows, cols, i0 + ir, j0 + jr);
    }
  }
}

// The columns of B the short-C path packs at once: ~192 (a few panels), at most ~256 KB packed. One panel at a
// time read only NR elements (64-192 bytes) of each of kc rows of a row-major B per visit, a row apart: too short
// a run for the prefetchers, so the loads waited on memory. (Requesting the next group's rows during this group's
// tiles as well: 9 x 25088 x 64 +12-16%, but 64-row products up to 13% slower; not done.)
// On the 2-core VM, one thread: 64 x 25088 x 288 71-99 -> 92-105 GFLOP/s on AVX2, 141-147 -> 149-163 on AVX-512;
// 9 x 25088 x 64 33 -> 49 and 42 -> 54; products whose B is in cache were unchanged within the spread.
template <class T, class S>
int64_t short_c_panel_group(const Plan<T, S>& pl, int64_t kc) {
  constexpr int64_t kColumns = 192, kPackedBytes = int64_t{256} << 10;
  const int64_t by_cache = kPackedBytes / (kc * int64_t{sizeof(T)});
  return std::max<int64_t>(1, std::min(kColumns, by_cache) / pl.nr) * pl.nr;
}

// C[i0:i1, j0:j1] = A[i0:i1, :] B[:, j0:j1] of batch entry `entry` with the caller's pack buffers.
template <class T, class S>
void gemm_rect(const Plan<T, S>& pl, int64_t entry, T* c, const S* a, const S* b, int64_t i0, int64_t i1, int64_t j0,
               int64_t j1, T* abuf, T* bbuf) {
  auto pack_a = [&](int64_t ic, int64_t mc, int64_t pc, int64_t kc) {
    if (pl.gathered_a != nullptr)
      pl.gathered_a->pack(pl.gathered_a->context, entry, ic, mc, pc, kc, static_cast<int>(pl.mr), abuf);
    else
      pl.pack_a(mc, kc, a + ic * pl.ars + pc * pl.acs, pl.ars, pl.acs, abuf);
    if (pl.alpha != T(1))
      for (int64_t i = 0, packed = round_up(mc, pl.mr) * kc; i < packed; ++i) abuf[i] *= pl.alpha;
  };
  auto pack_b = [&](int64_t jc, int64_t nc, int64_t pc, int64_t kc) {
    if (pl.gathered_b != nullptr)
      pl.gathered_b->pack(pl.gathered_b->context, entry, jc, nc, pc, kc, static_cast<int>(pl.nr), bbuf);
    else
      pl.pack_b(kc, nc, b + pc * pl.brs + jc * pl.bcs, pl.brs, pl.bcs, bbuf);
  };
  // All of the rectangle's rows in one A block (a short C, e.g. a convolution's Cout x N OH OW): each B
  // panel is used by those few rows only, so a few panels are packed just before they use them, while they are
  // in L1 / L2, instead of packing a whole KC x NC block first and reading it back from L2 / L3 (the order
  // OpenBLAS uses for such shapes).
  if (i1 - i0 <= pl.mc) {
    const int64_t mc = i1 - i0;
    for (int64_t jc = j0; jc < j1; jc += pl.nc) {
      const int64_t nc = std::min(pl.nc, j1 - jc);
      for (int64_t pc = 0; pc < pl.k; pc += pl.kc) {
        const int64_t kc = std::min(pl.kc, pl.k - pc);
        pack_a(i0, mc, pc, kc);
        const int64_t group = short_c_panel_group(pl, kc);
        for (int64_t jr = 0; jr < nc; jr += group) {
          const int64_t cols = std::min(group, nc - jr);
          pack_b(jc + jr, cols, pc, kc);
          macro_kernel(pl, mc, cols, kc, abuf, bbuf, c + i0 * pl.crs + (jc + jr) * pl.ccs, pc > 0 || pl.keep_c,
                       pc + kc == pl.k, i0, jc + jr);
        }
      }
    }
    return;
  }
  for (int64_t jc = j0; jc < j1; jc += pl.nc) {
    const int64_t nc = std::min(pl.nc, j1 - jc);
    for (int64_t pc = 0; pc < pl.k; pc += pl.kc) {
      const int64_t kc = std::min(pl.kc, pl.k - pc);
      pack_b(jc, nc, pc, kc);
      for (int64_t ic = i0; ic < i1; ic += pl.mc) {
        const int64_t mc = std::min(pl.mc, i1 - ic);
        pack_a(ic, mc, pc, kc);
        macro_kernel(pl, mc, nc, kc, abuf, bbuf, c + ic * pl.crs + jc * pl.ccs, pc > 0 || pl.keep_c,
                     pc + kc == pl.k, ic, jc);
      }
    }
  }
}

// Elements of the narrow path's packed B: every k block's kc-deep panels, one block after the other.
template <class T>
int64_t narrow_bpack_size(const Plan<T, T>& pl, const NarrowShape<T>& ns) {
  return round_up(ceil_div(pl.k, pl.kc) * pl.kc * round_up(pl.n, ns.nr), 16);
}

// A C of a few of the narrow shape's NR-wide panels (a 10-class layer: n = 10; a 64-channel convolution's
// positions x Cout), row-major A: B (k x n, small) packed whole, each k block's panels after the last block's,
// and A read in place, MR rows of C at a time. Packing A would transpose all of it (m x k) for a few columns of C,
// which cost more than the multiplies (tensorgrad-bench gemm, 128x10x256: 0.86x OpenBLAS). The k blocks, the
// tiles' sums and their stores are the packed path's, so are the bits. Each thread packs B into its own
// `scratch_per_thread` elements: read from another core's cache, one packed copy made two threads slower than one.
template <class T>
void gemm_narrow(const Plan<T, T>& pl, const NarrowShape<T>& ns, T* c, const T* a, const T* b, T* scratch,
                 int64_t scratch_per_thread, int threads) {
  const int64_t mr = ns.mr, nr = ns.nr, blocks = ceil_div(pl.k, pl.kc), groups = ceil_div(pl.m, mr);
  const int64_t block_size = pl.kc * round_up(pl.n, nr);  // one k block's panels
  parallel_for(groups, threads, [&](int64_t first, int64_t last, int part) {
    T* bpack = scratch + part * scratch_per_thread;
    T* edge = bpack + narrow_bpack_size(pl, ns);
    for (int64_t blk = 0; blk < blocks; ++blk) {
      const int64_t pc = blk * pl.kc;
      pl.pack_b(std::min(pl.kc, pl.k - pc), pl.n, b + pc * pl.brs, pl.brs, pl.bcs, bpack + blk * block_size);
    }
    alignas(64) T tile[kMaxTile];
    for (int64_t grp = first; grp < last; ++grp) {
      const int64_t i0 = grp * mr, rows = std::min(mr, pl.m - i0);
      const T* a_rows = a + i0 * pl.ars;
      int64_t lda = pl.ars;
      if (rows < mr) {  // the last, partial group: its rows and zero rows in a buffer of its own
        std::fill(edge, edge + mr * pl.k, T(0));
        for (int64_t i = 0; i < rows; ++i) std::copy(a_rows + i * pl.ars, a_rows + i * pl.ars + pl.k, edge + i * pl.k);
        a_rows = edge;
        lda = pl.k;
      }
      T* c_rows = c + i0 * pl.crs;
      for (int64_t j0 = 0; j0 < pl.n; j0 += nr) {
        const int64_t cols = std::min(nr, pl.n - j0);
        for (int64_t blk = 0; blk < blocks; ++blk) {
          const int64_t pc = blk * pl.kc, kc = std::min(pl.kc, pl.k - pc);
          const bool accumulate = pc > 0 || pl.keep_c;
          const T* panel = bpack + blk * block_size + j0 * kc;
          if (rows == mr && cols == nr) {
            ns.fn(kc, a_rows + pc, lda, panel, c_rows + j0, pl.crs, accumulate);
          } else {
            ns.fn(kc, a_rows + pc, lda, panel, tile, nr, false);
            store_tile_part(pl, c_rows + j0, tile, nr, rows, cols, accumulate);
          }
        }
        if (pl.epilogue) finish_tile(pl, c_rows + j0, rows, cols, i0, j0);
      }
    }
  });
}

// How a thread grid splits one m x n product: tm row groups times tn column groups, in whole micro-tiles.
struct Grid {
  int tm = 1, tn = 1;
};

// Picks tm * tn <= threads minimising the busiest thread's cost per unit of k: its share of C (multiply-adds)
// plus the rows and columns it packs, weighted (packing moves memory, the micro-kernel does ~16-64 FMAs per
// cycle).
Grid choose_grid(int threads, int64_t m, int64_t n, int64_t mr, int64_t nr) {
  const int64_t units_m = ceil_div(m, mr), units_n = ceil_div(n, nr);
  constexpr double kPackWeight = 16.0;
  Grid best;
  double best_cost = -1;
  for (int tm = 1; tm <= threads; ++tm) {
    const int tn = threads / tm;
    if (tm > units_m || tn > units_n) continue;
    const double rows = static_cast<double>(ceil_div(units_m, tm) * mr);
    const double cols = static_cast<double>(ceil_div(units_n, tn) * nr);
    const double cost = rows * cols + kPackWeight * (rows + cols);
    if (best_cost < 0 || cost < best_cost) {
      best_cost = cost;
      best = {tm, tn};
    }
  }
  return best;
}

// [begin, end) of part `i` of `parts` over `units` micro-tiles of size `unit`, clipped to `size`.
std::pair<int64_t, int64_t> split(int64_t size, int64_t unit, int parts, int i) {
  const int64_t units = ceil_div(size, unit);
  const int64_t base = units / parts, extra = units % parts;
  const int64_t begin = i * base + std::min<int64_t>(i, extra);
  const int64_t end = begin + base + (i < extra ? 1 : 0);
  return {std::min(size, begin * unit), std::min(size, end * unit)};
}

// Element offsets of batch entry `index` (row-major over batch_shape) for each operand.
struct BatchOffsets {
  int64_t c = 0, a = 0, b = 0;
};
BatchOffsets batch_offsets(const Shape& batch_shape, const StridedArg& c, const StridedArg& a, const StridedArg& b,
                           int64_t index) {
  BatchOffsets off;
  for (size_t d = batch_shape.size(); d-- > 0;) {
    const int64_t i = index % batch_shape[d];
    index /= batch_shape[d];
    off.c += i * c.strides[d];
    off.a += i * a.strides[d];
    off.b += i * b.strides[d];
  }
  return off;
}

struct AlignedFree {
  void operator()(void* p) const { std::free(p); }
};

// Pack buffers belong to the calling thread and only grow, so the same shapes every training step reuse the
// same warm pages instead of faulting in fresh ones. A nested call on the same thread (none today) would get
// a buffer of its own rather than share the one in use.
class PackScratch {
 public:
  class Lease {
   public:
    Lease(PackScratch* owner, std::unique_ptr<std::byte, AlignedFree> own, std::byte* data)
        : owner_(owner), own_(std::move(own)), data_(data) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (owner_ != nullptr) owner_->in_use_ = false;
    }
    template <class T>
    T* get() const {
      return reinterpret_cast<T*>(data_);
    }

   private:
    PackScratch* owner_;
    std::unique_ptr<std::byte, AlignedFree> own_;
    std::byte* data_;
  };

  static Lease lease(size_t bytes) {
    thread_local PackScratch scratch;
    bytes = static_cast<size_t>(round_up(static_cast<int64_t>(std::max<size_t>(bytes, 1)), 64));
    if (scratch.in_use_) {
      auto own = allocate(bytes);
      std::byte* data = own.get();
      return Lease(nullptr, std::move(own), data);
    }
    if (scratch.capacity_ < bytes) {
      scratch.block_.reset();
      scratch.block_ = allocate(bytes);
      scratch.capacity_ = bytes;
    }
    scratch.in_use_ = true;
    return Lease(&scratch, nullptr, scratch.block_.get());
  }

 private:
  static std::unique_ptr<std::byte, AlignedFree> allocate(size_t bytes) {
    auto* p = static_cast<std::byte*>(std::aligned_alloc(64, bytes));
    if (p == nullptr) throw std::bad_alloc();
    return std::unique_ptr<std::byte, AlignedFree>(p);
  }

  std::unique_ptr<std::byte, AlignedFree> block_;
  size_t capacity_ = 0;
  bool in_use_ = false;
};

template <class T>
void check_operand(const StridedArg& arg, size_t dims, const char* which) {
  TG_CHECK(arg.dtype == dtype_of<T>(), "tg::matmul: gemm over ", dtype_name(dtype_of<T>()), " got a ",
           dtype_name(arg.dtype), " operand ", which);
  TG_CHECK(arg.strides.size() == dims, "tg::matmul: operand ", which, " has ", arg.strides.size(),
           " strides, expected ", dims);
}

}  // namespace

// How the driver orients C (declared in gemm.h; gemm_kernels.cpp chooses tile shapes by them).
int64_t padded_tiles_area(int64_t m, int64_t n, int64_t mr, int64_t nr) {
  return ceil_div(m, mr) * mr * ceil_div(n, nr) * nr;
}

bool is_column_major(int64_t row_stride, int64_t col_stride, int64_t n) {
  return col_stride != 1 && row_stride == 1 && n > 1;
}

bool turned_round(int64_t m, int64_t n, int64_t mr, int64_t nr, bool column_major_c) {
  return column_major_c || (n < nr && 10 * padded_tiles_area(n, m, mr, nr) <= 8 * padded_tiles_area(m, n, mr, nr));
}

template <class T>
NarrowShape<T> narrow_shape_for(const MicroKernel<T>& kernel, int64_t m, int64_t n, int64_t k) {
  auto allowed = [&](const NarrowShape<T>& shape) {
    return shape.fn != nullptr && shape.mr * shape.nr <= kMaxTile && n <= kNarrowMaxColumns &&
           k * round_up(n, shape.nr) * int64_t{sizeof(T)} <= kNarrowMaxPackedB;
  };
  const NarrowShape<T>& narrow = kernel.narrow;
  const NarrowShape<T>& wide = kernel.narrow_wide;
  if (!allowed(wide)) return allowed(narrow) ? narrow : NarrowShape<T>{};
  if (!allowed(narrow)) return wide;
  // The wide tile does more multiply-adds a load (AVX-512 12 x 32 against 16 x 16: 3136x64x288 at 160 against 130
  // GFLOP/s), worth up to a quarter more padded multiply-adds; past that (n = 10, or 48 = three 16-wide panels
  // against two 32-wide), the narrow one.
  return 4 * padded_tiles_area(m, n, wide.mr, wide.nr) <= 5 * padded_tiles_area(m, n, narrow.mr, narrow.nr) ? wide
                                                                                                            : narrow;
}
template NarrowShape<float> narrow_shape_for(const MicroKernel<float>&, int64_t, int64_t, int64_t);
template NarrowShape<double> narrow_shape_for(const MicroKernel<double>&, int64_t, int64_t, int64_t);

// ---------------------------------------------------------------------------------------------------------

namespace {

// The GEMM over A and B of element type S, computing and writing C in T (S = T, or 16-bit S with T = float).
// With `gathered_b`, B is packed by it and b_arg only gives the dimensions of its (zero) strides.
template <class T, class S>
void gemm_impl(const Shape& batch_shape, int64_t m, int64_t n, int64_t k, const StridedArg& c_arg,
               const StridedArg& a_arg, const StridedArg& b_arg, const MicroKernel<T>& kernel,
               const GemmBlocking& blocking, const GemmOptions& options,
               const GatheredOperand<T>* gathered_b = nullptr) {
  const size_t nb = batch_shape.size();
  check_operand<T>(c_arg, nb + 2, "C");
  check_operand<S>(a_arg, nb + 2, "A");
  if (gathered_b == nullptr) check_operand<S>(b_arg, nb + 2, "B");
  TG_CHECK(m >= 0 && n >= 0 && k >= 0, "tg::matmul: negative size m=", m, " n=", n, " k=", k);
  TG_CHECK(kernel.fn != nullptr && kernel.mr > 0 && kernel.nr > 0 && kernel.mr * kernel.nr <= kMaxTile,
           "tg::matmul: invalid micro-kernel '", kernel.name, "'");
  int64_t batch = 1;
  for (int64_t d : batch_shape) batch *= d;
  if (batch == 0 || m == 0 || n == 0) return;

  T* const c0 = static_cast<T*>(c_arg.data);
  const S* a0 = static_cast<const S*>(a_arg.data);
  const S* b0 = static_cast<const S*>(b_arg.data);

  const MatmulEpilogue& epilogue = options.epilogue;
  const auto beta = static_cast<T>(options.beta);
  // beta == 0 never reads C (a NaN there does not leak into the result, as in BLAS); otherwise C = beta * C
  // first, and the products are added to it.
  if (k == 0 || (beta != T(0) && beta != T(1))) {
    for (int64_t e = 0; e < batch; ++e) {
      T* c = c0 + batch_offsets(batch_shape, c_arg, a_arg, b_arg, e).c;
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          T& out = c[i * c_arg.strides[nb] + j * c_arg.strides[nb + 1]];
          out = beta == T(0) ? T(0) : beta * out;
        }
      if (k == 0 && options.bias_per_row)  // C^T's columns are C's rows
        apply_epilogue<T>(epilogue, c, n, m, c_arg.strides[nb + 1], c_arg.strides[nb], 0);
      else if (k == 0)
        apply_epilogue<T>(epilogue, c, m, n, c_arg.strides[nb], c_arg.strides[nb + 1], 0);
    }
    if (k == 0) return;  // an empty sum: C = act(beta C + bias)
  }

  Plan<T, S> pl;
  pl.kernel = kernel.fn;
  pl.mr = kernel.mr;
  pl.nr = kernel.nr;
  pl.pack_a = pack_a_for<T, S>(kernel.mr);
  pl.pack_b = pack_b_for<T, S>(kernel.nr);
  pl.mc = round_up(std::max<int64_t>(blocking.mc, 1), pl.mr);
  pl.kc = std::max<int64_t>(blocking.kc, 1);
  pl.nc = round_up(std::max<int64_t>(blocking.nc, 1), pl.nr);
  pl.m = m;
  pl.n = n;
  pl.k = k;
  pl.crs = c_arg.strides[nb];
  pl.ccs = c_arg.strides[nb + 1];
  pl.ars = a_arg.strides[nb];
  pl.acs = a_arg.strides[nb + 1];
  pl.brs = b_arg.strides[nb];
  pl.bcs = b_arg.strides[nb + 1];
  pl.epilogue = epilogue.bias != nullptr || epilogue.activation != Activation::None;
  pl.alpha = static_cast<T>(options.alpha);
  pl.keep_c = beta != T(0);
  pl.bias = static_cast<const T*>(epilogue.bias);
  (options.bias_per_row ? pl.bias_rs : pl.bias_cs) = epilogue.bias_stride;
  pl.activation = epilogue.activation;
  pl.gathered_b = gathered_b;
  const int64_t macs = batch * m * n * k;
  const int threads = options.threads > 0 ? options.threads : threads_for(macs, options.grain);
  // Entries of the batch are either shared out whole (enough of them to keep every thread busy) or computed
  // one after the other, each split over the threads.
  const bool by_batch = threads > 1 && (batch % threads == 0 || batch >= 4 * threads);
  // A narrow C over a row-major A: gemm_narrow (A read in place), not turned round. A C wider than one of the
  // shape's panels only where every thread gets rows or entries: gemm_narrow splits rows, the packed path also
  // columns.
  NarrowShape<T> narrow{};
  if constexpr (std::is_same_v<T, S>)
    if (pl.acs == 1 && pl.ccs == 1 && pl.alpha == T(1) && gathered_b == nullptr) {
      narrow = narrow_shape_for(kernel, m, n, k);
      if (narrow.fn != nullptr && n > narrow.nr && !by_batch && ceil_div(m, narrow.mr) < threads) narrow = {};
    }
  bool swapped = false;
  // Column-major C: compute C^T = B^T A^T instead, so the micro-kernel stores whole rows. A narrow C (n under
  // NR, e.g. a 10-class logits layer) is turned round too when that wastes clearly fewer multiply-adds on
  // padding: 128 x 10 fills 6 x 16 AVX2 tiles to 63% (12 x 32 AVX-512 tiles to 30%), its transpose 83% (83%).
  // The turned-round tiles are stored through the edge path (C^T has a column stride), which the margin
  // pays for. Every element is the same sum of the same products, so the result is unchanged.
  if (narrow.fn == nullptr && turned_round(m, n, pl.mr, pl.nr, is_column_major(pl.crs, pl.ccs, n))) {
    swapped = true;
    std::swap(pl.m, pl.n);
    std::swap(pl.crs, pl.ccs);
    std::swap(pl.ars, pl.bcs);
    std::swap(pl.acs, pl.brs);
    std::swap(pl.bias_rs, pl.bias_cs);  // the bias follows C's columns, now the rows
    std::swap(pl.gathered_a, pl.gathered_b);
  }
  // A short C whose whole short side, at full depth, holds no more than an A block's MC x KC elements (a
  // convolution's Cout x N OH OW with Cin KH KW over KC, e.g. 64 x 288; up to 3 KC deep, so a panel of B or the
  // A block may be up to 3x the KC-deep one's size, still within L2 for these short sides): one k block, so each
  // tile of C is written once instead of being read back and added to for each further block. Decided from the
  // problem and the blocking alone (not the tile shape, C's layout, or a thread's rectangle), so every tile
  // shape, layout and thread count gets the same sums. 16-bit operands keep KC: their packing converts at most
  // kMaxPackDepth steps at once.
  if constexpr (std::is_same_v<T, S>) {
    const int64_t short_side = std::min(m, n);
    if (short_side <= blocking.mc && k > blocking.kc && k <= 3 * blocking.kc &&
        short_side * k <= blocking.mc * blocking.kc)
      pl.kc = k;
  }
  // k blocks of equal depth: 784 = 4 x 196 instead of 3 x 256 + 16, whose last pass would read and write all of
  // C (and pack both operands) for 16 steps of k.
  pl.kc = ceil_div(k, ceil_div(k, pl.kc));
  // Rows a little over MC in one block: a 128-row C (a batch of 128) with MC = 120 made a second pass over every B
  // block for 8 rows. Blocks of A only decide which rows share a packed B block, never a sum, so no bits change.
  if (pl.m <= pl.mc + pl.mc / 4) pl.mc = std::max(pl.mc, round_up(pl.m, pl.mr));
  const StridedArg& a_use = swapped ? b_arg : a_arg;
  const StridedArg& b_use = swapped ? a_arg : b_arg;
  const S* a_base = swapped ? b0 : a0;
  const S* b_base = swapped ? a0 : b0;

  auto offsets = [&](int64_t e) { return batch_offsets(batch_shape, c_arg, a_use, b_use, e); };

  if constexpr (std::is_same_v<T, S>) {
    if (narrow.fn != nullptr) {
      const NarrowShape<T>& ns = narrow;
      pl.pack_b = pack_b_for<T, S>(ns.nr);
      const int64_t per_thread = narrow_bpack_size(pl, ns) + round_up(ns.mr * k, 16);
      const int parts = by_batch ? threads : static_cast<int>(std::min<int64_t>(threads, ceil_div(pl.m, ns.mr)));
      const auto scratch = PackScratch::lease(static_cast<size_t>(per_thread * parts) * sizeof(T));
      if (by_batch) {  // whole entries a thread, each on that thread alone
        parallel_for(batch, threads, [&](int64_t first, int64_t last, int part) {
          for (int64_t e = first; e < last; ++e) {
            const BatchOffsets o = offsets(e);
            gemm_narrow(pl, ns, c0 + o.c, a_base + o.a, b_base + o.b, scratch.get<T>() + part * per_thread,
                        per_thread, 1);
          }
        });
        return;
      }
      for (int64_t e = 0; e < batch; ++e) {
        const BatchOffsets o = offsets(e);
        gemm_narrow(pl, ns, c0 + o.c, a_base + o.a, b_base + o.b, scratch.get<T>(), per_thread, parts);
      }
      return;
    }
  }

  if (threads <= 1) {
    apply_flush_denormal();
    const int64_t a_size = pl.a_buffer(pl.m);
    const auto scratch = PackScratch::lease(static_cast<size_t>(a_size + pl.b_buffer(pl.n)) * sizeof(T));
    T* abuf = scratch.get<T>();
    T* bbuf = abuf + a_size;
    for (int64_t e = 0; e < batch; ++e) {
      const BatchOffsets o = offsets(e);
      gemm_rect(pl, e, c0 + o.c, a_base + o.a, b_base + o.b, 0, pl.m, 0, pl.n, abuf, bbuf);
    }
    return;
  }

  // Per-thread pack buffers, carved out of one allocation made here (so a failure throws outside the
  // parallel region). Sized for the largest rectangle any thread can own: the whole matrix.
  const int64_t a_size = pl.a_buffer(pl.m), b_size = pl.b_buffer(pl.n);  // multiples of 16 elements
  const auto scratch = PackScratch::lease(static_cast<size_t>((a_size + b_size) * threads) * sizeof(T));

  // Each part (thread) packs into its own slice of the scratch.
  auto buffers = [&](int part) {
    T* abuf = scratch.get<T>() + (a_size + b_size) * part;
    return std::pair<T*, T*>{abuf, abuf + a_size};
  };
  if (by_batch) {
    parallel_for(batch, threads, [&](int64_t first, int64_t last, int part) {
      const auto [abuf, bbuf] = buffers(part);
      for (int64_t e = first; e < last; ++e) {
        const BatchOffsets o = offsets(e);
        gemm_rect(pl, e, c0 + o.c, a_base + o.a, b_base + o.b, 0, pl.m, 0, pl.n, abuf, bbuf);
      }
    });
    return;
  }
  // One rectangle of C per part, every batch entry in turn.
  const Grid grid = choose_grid(threads, pl.m, pl.n, pl.mr, pl.nr);
  parallel_for(grid.tm * grid.tn, threads, [&](int64_t first, int64_t last, int part) {
    const auto [abuf, bbuf] = buffers(part);
    for (int64_t cell = first; cell < last; ++cell) {
      const auto [i0, i1] = split(pl.m, pl.mr, grid.tm, static_cast<int>(cell / grid.tn));
      const auto [j0, j1] = split(pl.n, pl.nr, grid.tn, static_cast<int>(cell % grid.tn));
      if (i0 < i1 && j0 < j1)
        for (int64_t e = 0; e < batch; ++e) {
          const BatchOffsets o = offsets(e);
          gemm_rect(pl, e, c0 + o.c, a_base + o.a, b_base + o.b, i0, i1, j0, j1, abuf, bbuf);
        }
    }
  });
}

}  // namespace

template <class T>
void gemm(const Shape& batch_shape, int64_t m, int64_t n, int64_t k, const StridedArg& c_arg,
          const StridedArg& a_arg, const StridedArg& b_arg, const MicroKernel<T>& kernel,
          const GemmBlocking& blocking, const GemmOptions& options) {
  gemm_impl<T, T>(batch_shape, m, n, k, c_arg, a_arg, b_arg, kernel, blocking, options);
}

// The default paths' kernel for C (the last two of its strides are its row and column strides).
template <class T>
MicroKernel<T> default_tile_shape(int64_t m, int64_t n, const StridedArg& c) {
  const size_t r = c.strides.size() - 2;
  return tile_shape_for(default_micro_kernel<T>(), m, n, is_column_major(c.strides[r], c.strides[r + 1], n));
}

template <class T>
void gemm(const Shape& batch_shape, int64_t m, int64_t n, int64_t k, const StridedArg& c, const StridedArg& a,
          const StridedArg& b) {
  const MicroKernel<T> kernel = default_tile_shape<T>(m, n, c);
  gemm<T>(batch_shape, m, n, k, c, a, b, kernel, kernel.blocking, GemmOptions{});
}

template <class T>
void gemm_gathered_b(int64_t batch, int64_t m, int64_t n, int64_t k, const StridedArg& c, const StridedArg& a,
                     const GatheredOperand<T>& b, const GemmOptions& options) {
  TG_CHECK(b.pack != nullptr, "tg::matmul: gathered operand without a pack function");
  static const T kNothing{};  // B's data pointer is never read; strides 0 keep every offset at it
  const StridedArg b_dims{const_cast<T*>(&kNothing), Strides{0, 0, 0}, dtype_of<T>(), c.device};
  const MicroKernel<T> kernel = default_tile_shape<T>(m, n, c);
  gemm_impl<T, T>(Shape{batch}, m, n, k, c, a, b_dims, kernel, kernel.blocking, options, &b);
}

template void gemm_gathered_b<float>(int64_t, int64_t, int64_t, int64_t, const StridedArg&, const StridedArg&,
                                     const GatheredOperand<float>&, const GemmOptions&);
template void gemm_gathered_b<double>(int64_t, int64_t, int64_t, int64_t, const StridedArg&, const StridedArg&,
                                      const GatheredOperand<double>&, const GemmOptions&);

template void gemm<float>(const Shape&, int64_t, int64_t, int64_t, const StridedArg&, const StridedArg&,
                          const StridedArg&, const MicroKernel<float>&, const GemmBlocking&, const GemmOptions&);
template void gemm<double>(const Shape&, int64_t, int64_t, int64_t, const StridedArg&, const StridedArg&,
                           const StridedArg&, const MicroKernel<double>&, const GemmBlocking&, const GemmOptions&);
template void gemm<float>(const Shape&, int64_t, int64_t, int64_t, const StridedArg&, const StridedArg&,
                          const StridedArg&);
template void gemm<double>(const Shape&, int64_t, int64_t, int64_t, const StridedArg&, const StridedArg&,
                           const StridedArg&);

namespace {

template <class T>
void gemm_fused(const Shape& batch_shape, int64_t m, int64_t n, int64_t k, const StridedArg& c, const StridedArg& a,
                const StridedArg& b, const MatmulEpilogue& epilogue) {
  const MicroKernel<T> kernel = default_tile_shape<T>(m, n, c);
  GemmOptions options;
  options.epilogue = epilogue;
  gemm<T>(batch_shape, m, n, k, c, a, b, kernel, kernel.blocking, options);
}

}  // namespace

// bfloat16 / float16: A and B are converted to float32 as they are packed; C and the bias are staged through
// float32 (half_staging.h), C rounded back once at the end.
template <class S>
void gemm_half(const Shape& batch_shape, int64_t m, int64_t n, int64_t k, const StridedArg& c, const StridedArg& a,
               const StridedArg& b, const MatmulEpilogue& epilogue) {
  const Staged c32(matrix_shape(batch_shape, m, n), c, false);
  const StagedEpilogue staged_epilogue(epilogue, n, c.dtype, c.device);
  GemmOptions options;
  options.epilogue = staged_epilogue.get();
  const MicroKernel<float> kernel = default_tile_shape<float>(m, n, c32.arg());
  gemm_impl<float, S>(batch_shape, m, n, k, c32.arg(), a, b, kernel, kernel.blocking, options);
  c32.store();
}

void matmul(const Shape& batch_shape, int64_t m, int64_t n, int64_t k, const StridedArg& c, const StridedArg& a,
            const StridedArg& b, const MatmulEpilogue& epilogue) {
  switch (a.dtype) {
    case DType::BFloat16: return gemm_half<bfloat16>(batch_shape, m, n, k, c, a, b, epilogue);
    case DType::Float16: return gemm_half<float16>(batch_shape, m, n, k, c, a, b, epilogue);
    default:
      visit_floating(a.dtype, "tg::matmul", [&]<class T>(TypeTag<T>) {
        gemm_fused<T>(batch_shape, m, n, k, c, a, b, epilogue);
      });
  }
}

}  // namespace tg::kernels::cpu
