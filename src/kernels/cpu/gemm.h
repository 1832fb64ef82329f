#pragma once
// The production CPU GEMM (internal to tg_kernels; tests and benchmarks include it directly).
//
// BLIS structure: five loops around an MR x NR micro-kernel.
//   jc (NC columns of C) > pc (KC of the inner dimension: pack B[kc x nc] into NR-wide panels)
//     > ic (MC rows: pack A[mc x kc] into MR-tall panels) > jr (NR) > ir (MR): micro-kernel.
// Packing reads any strides, so transposed or sliced operands cost nothing beyond the packing. Only the
// micro-kernel is per ISA (generic vector-extension C++, AVX2+FMA, AVX-512 in their own translation units with
// their own flags), chosen at run time from what the CPU supports. Block sizes are data (GemmBlocking).
//
// Threads: one OpenMP region per call (num_threads from tg::threads_for, so small products stay on the calling
// thread). C is split into independent rectangles, one per thread (or whole batch entries per thread when the
// batch divides evenly or is >= 4x the threads), each thread with its own pack buffers; the k loop is never
// split, so every element of C is summed in the same order whatever the thread count: results are bitwise
// identical for 1, 2, 3, ... threads (for a fixed micro-kernel and blocking). Different micro-kernels (or KC)
// may differ by rounding. Pack buffers are per-call scratch (aligned_alloc), not counted by tg's allocator.
#include <cstdint>
#include <vector>

#include <tensorgrad/kernels/kernels.h>
#include <tensorgrad/kernels/strided_loop.h>

namespace tg::kernels {


namespace cpu {

// A 16-byte vector of T (GCC/Clang vector extension): the register of the portable micro-kernel
// (gemm_kernels.cpp) and of the packing's transposes (gemm.cpp), mapped onto the baseline target's SIMD.
template <class T>
struct Vec16 {
  typedef T type __attribute__((vector_size(16)));
};

// Cache blocking: MC rows of A (an L2-resident block), KC of the inner dimension (an MR x KC sliver of A and
// a KC x NR sliver of B share L1), NC columns of B (an L3-resident block). The driver rounds mc up to a
// multiple of MR and nc to a multiple of NR.
struct GemmBlocking {
  int64_t mc = 96;
  int64_t kc = 256;
  int64_t nc = 4096;
};

// A kernel's blocking fitted to the data caches a CPU reports (bytes; 0: unknown, that level is left alone). The
// kernels' constants were measured best on cores with a 48 KB L1 and a 1-2 MB L2, where larger blocks gained
// nothing; they are the upper bounds, and a smaller cache shrinks them: KC so that an MR x KC sliver of A and a
// KC x NR sliver of B take at most 15/16 of L1 (a multiple of 16, at least 64), MC so that the MC x KC block of A
// takes at most a quarter of L2 (a multiple of MR, at least MR). NC stays: the L3 share a VM reports is no guide.
GemmBlocking blocking_for_caches(GemmBlocking defaults, int mr, int nr, int64_t element_bytes, int64_t l1_bytes,
                                 int64_t l2_bytes);

// c[i * ldc + j] (+)= sum_p a[p * MR + i] * b[p * NR + j] for i < MR, j < NR, over kc steps of packed panels.
// With accumulate == false, C is only written (never read).
template <class T>
using MicroKernelFn = void (*)(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, bool accumulate);

// The same ISA's kernel with another tile shape, for C whose rows it pads less (conv_gemm's Cout = 64 rows:
// 12-row tiles pad them to 72, 8-row tiles not at all). Every micro-kernel sums each element of C over k in
// the same order, one fused multiply-add per step, so the tile shape never changes a result's bits.
template <class T>
struct TileShape {
  const char* name = "";  // e.g. "avx512 8x48"
  int mr = 0, nr = 0;
  MicroKernelFn<T> fn = nullptr;
};

// The same sums with A read in place, row i of the micro-tile at a[i * lda + p] (a row-major A, unit column
// stride), B packed as for MicroKernelFn: for a C of at most NR columns (a 10-class layer), where packing A would
// transpose all of it for a few columns of C. One fused multiply-add a step, as every micro-kernel.
template <class T>
using StridedAKernelFn = void (*)(int64_t kc, const T* a, int64_t lda, const T* b, T* c, int64_t ldc,
                                  bool accumulate);
template <class T>
struct NarrowShape {
  int mr = 0, nr = 0;
  StridedAKernelFn<T> fn = nullptr;
};

// A C of at most this many columns over a row-major A is "narrow" (a 10-class layer; 32-64 channels or an
// attention head's width): the driver reads A in place (gemm.cpp's gemm_narrow) and packs B whole, which it does
// only while the packed B stays within kNarrowMaxPackedB bytes (it is read again for every MR rows of C).
inline constexpr int64_t kNarrowMaxColumns = 64;
inline constexpr int64_t kNarrowMaxPackedB = int64_t{512} << 10;

template <class T>
struct MicroKernel {
  const char* name = "";  // "generic", "avx2", "avx512"
  int mr = 0, nr = 0;
  MicroKernelFn<T> fn = nullptr;
  GemmBlocking blocking;  // the defaults tuned for this kernel
  TileShape<T> companion; // fn null: none
  NarrowShape<T> narrow;       // fn null: none (the driver then packs A for a narrow C too)
  NarrowShape<T> narrow_wide;  // fn null: none; wider tiles, for a C of several of `narrow`'s panels
};

// Every micro-kernel this CPU can run, portable first, best last.
template <class T>
std::vector<MicroKernel<T>> available_micro_kernels();
// The one tg::matmul uses: the last of available_micro_kernels(), unless TG_GEMM_KERNEL names another
// available one (generic / avx2 / avx512), read once.
template <class T>
const MicroKernel<T>& default_micro_kernel();

// `kernel` running `shape`'s micro-kernel (same name family, blocking and ISA), without a companion of its own.
template <class T>
MicroKernel<T> with_tile_shape(MicroKernel<T> kernel, const TileShape<T>& shape) {
  kernel.name = shape.name;
  kernel.mr = shape.mr;
  kernel.nr = shape.nr;
  kernel.fn = shape.fn;
  kernel.companion = {};
  return kernel;
}

// The tile shape the default paths (gemm without a kernel, matmul, gemm_gathered_b) give an m x n product:
// the kernel itself, or its companion where that pads C's tiles less (in the orientation the driver will use:
// column-major C and narrow C are turned round); a tie keeps the tuned kernel. The blocking stays the kernel's.
template <class T>
MicroKernel<T> tile_shape_for(const MicroKernel<T>& kernel, int64_t m, int64_t n, bool column_major_c);

// The narrow shape (A read in place) the driver gives an m x n x k product over a row-major A and C: of the
// kernel's narrow shapes allowed by kNarrowMaxColumns and kNarrowMaxPackedB, the wide one unless it pads C's tiles
// by over a quarter more than the narrow one; fn null when none is allowed. A narrow shape gives the same bits as
// the packed path (the same k blocks, one fused multiply-add a step).
template <class T>
NarrowShape<T> narrow_shape_for(const MicroKernel<T>& kernel, int64_t m, int64_t n, int64_t k);

// How the driver orients C: the multiply-adds an m x n C costs in whole mr x nr tiles, padding included (per
// unit of k); whether C is column-major; and whether the driver computes C^T = B^T A^T instead, for a
// column-major C or a narrow one (n under NR) whose transpose wastes clearly fewer multiply-adds on padding.
int64_t padded_tiles_area(int64_t m, int64_t n, int64_t mr, int64_t nr);
bool is_column_major(int64_t row_stride, int64_t col_stride, int64_t n);
bool turned_round(int64_t m, int64_t n, int64_t mr, int64_t nr, bool column_major_c);

struct GemmOptions {
  // 0: tg::threads_for(multiply-adds, grain), i.e. tg::num_threads() capped by the problem size.
  int threads = 0;
  // Multiply-adds per thread below which fewer threads are used. Starting a second thread costs ~1.5-2 us on the
  // 2-core VM (32^3: 0.8 us on one thread, 2.2 on two); 2^17 multiply-adds take ~2.3 us on one AVX-512 core and
  // ~3 us on AVX2, and from 2 x 2^17 on two threads were faster on both ISAs (64^3: 0.87x / 0.74x the one-thread
  // time; 128 x 10 x 256: 0.76x / 0.66x). It was 2^20, which kept every product under 2M multiply-adds on one thread.
  int64_t grain = int64_t{1} << 17;
  // Bias and activation applied to each tile of C right after its last k block is stored, while the tile is
  // still in L1 (the bias is the same for every batch entry).
  MatmulEpilogue epilogue = {};
  // The epilogue's bias is one value per row of C (a convolution's per-channel bias over Cout x positions)
  // instead of one per column.
  bool bias_per_row = false;
  // C = alpha * A B + beta * C (then the epilogue), as BLAS: beta == 0 does not read C; beta == 1 accumulates
  // into it (e.g. gradient accumulation without a temporary). C's batch entries must not overlap.
  double alpha = 1.0;
  double beta = 0.0;
};

// C[b, m, n] = sum_k A[b, m, k] B[b, k, n] with the kernel-layer matmul signature: strides per operand are
// (batch dims..., row, col), any values (0 for broadcast batch dims, negative, transposed). k == 0 writes
// zeros. T is float or double and must match the operands' dtype.
template <class T>
void gemm(const Shape& batch_shape, int64_t m, int64_t n, int64_t k, const StridedArg& c, const StridedArg& a,
          const StridedArg& b, const MicroKernel<T>& kernel, const GemmBlocking& blocking,
          const GemmOptions& options = {});
// The same with the default micro-kernel and its blocking.
template <class T>
void gemm(const Shape& batch_shape, int64_t m, int64_t n, int64_t k, const StridedArg& c, const StridedArg& a,
          const StridedArg& b);

// A GEMM operand that is not in memory but gathered while it is packed: an implicit GEMM's B, e.g. the im2col
// matrix of a convolution read straight from the image (conv_gemm.cpp), so the matrix is never written out.
// pack() fills panels of `width` lanes: out[(panel * depth + p) * width + j] = X(lane0 + panel * width + j,
// depth0 + p) for p < depth, with zeros past lane0 + lanes; X(lane, d) is B[d, lane] of batch entry `entry`
// (a lane is a column of B, the depth its rows). Called concurrently from the GEMM's threads.
template <class T>
struct GatheredOperand {
  void (*pack)(const void* context, int64_t entry, int64_t lane0, int64_t lanes, int64_t depth0, int64_t depth,
               int width, T* out) = nullptr;
  const void* context = nullptr;
};

// C[e] = A[e] B[e] for e < batch with B gathered: C and A strides are (batch, row, col). The same driver,
// blocking, threading and determinism as gemm() (the gathered B may end up as the packed A of C^T).
template <class T>
void gemm_gathered_b(int64_t batch, int64_t m, int64_t n, int64_t k, const StridedArg& c, const StridedArg& a,
                     const GatheredOperand<T>& b, const GemmOptions& options = {});

// The CPU float32 / float64 matmul kernel (MatmulFn): gemm<T> with the default micro-kernel, the epilogue
// applied to each tile of C as it is finished. cpu/register.cpp registers it; int64 stays on the reference.
void matmul(const Shape& batch_shape, int64_t m, int64_t n, int64_t k, const StridedArg& c, const StridedArg& a,
            const StridedArg& b, const MatmulEpilogue& epilogue);

// The per-ISA micro-kernels (defined in gemm_<isa>.cpp; null when that file was built for another target).
namespace isa {
extern const MicroKernelFn<float> avx2_f32;    // 6 x 16
extern const MicroKernelFn<float> avx2_f32_4x24;     // the avx2 kernel's companion
extern const MicroKernelFn<float> avx512_f32_8x48;   // the avx512 kernel's companion
extern const MicroKernelFn<double> avx2_f64;   // 6 x 8
extern const MicroKernelFn<float> avx512_f32;  // 12 x 32
extern const MicroKernelFn<double> avx512_f64; // 12 x 16
extern const StridedAKernelFn<float> avx2_f32_6x16_strided_a;     // the avx2 kernel's narrow shape
extern const StridedAKernelFn<float> avx512_f32_16x16_strided_a;  // the avx512 kernel's narrow shape
extern const StridedAKernelFn<float> avx512_f32_12x32_strided_a;  // and its wide one
}  // namespace isa

}  // namespace cpu
}  // namespace tg::kernels
