#pragma once
// The weight gradient of a stride-1 or stride-2 convolution with few taps a filter (Cin / G x KH x KW <= 16: the
// CNN's first layer, 1 x 3 x 3; the ASR model's stride-2 first layer), summed straight from the image and the
// output's gradient (conv_direct_weight_grad.cpp): each filter tap is a dot product of the gradient's rows with the
// image's rows shifted by the tap (with stride 2, the rows of one of the image's four even / odd phases), taken 16
// output columns at a time. As a GEMM its short side is those few taps, so the GEMM spends its time transposing and
// copying the gradient (the whole of it, for a few multiply-adds an element) rather than multiplying.
#include <cstdint>

#include <tensorgrad/kernels/kernels.h>

namespace tg::kernels::cpu {

// The taps (Cin / G x KH x KW) a filter may have on this path: one accumulator each, in registers.
constexpr int kMaxDirectTaps = 16;
// Output columns a step: lane l of every step sums over the same columns on every ISA (16 lanes of AVX-512, two
// halves of 8 with AVX2, 16 scalars without), so the result has the same bits on every CPU.
constexpr int kDirectLanes = 16;

// Whether conv_gemm computes this problem's float32 WeightGrad here: stride 1 (any dilation and padding) or stride 2
// in both dims (no dilation, any padding), at most kMaxDirectTaps taps, and output rows that fill at least 3/4 of
// their 16-column steps (out_w 12-16, 24-32, ...; shorter rows would leave most lanes idle), the padded copy of
// the image within 256 MiB.
bool conv_weight_grad_is_direct(const ConvGemmProblem& p, DType dtype);

// conv_gemm's WeightGrad (out[g] (M x Cin/G KH KW) = a[g] (M x N OH OW) cols[g]^T, a the output's gradient with
// unit-stride positions) where conv_weight_grad_is_direct holds: within float32 rounding of the definition (each
// lane's products summed in float over an image's rows, the images' lane sums in double, then the 16 lanes in
// order), the same bits on any thread count and any CPU.
void conv_direct_weight_grad(const ConvGemmProblem& p, const StridedArg& out, const StridedArg& a,
                             const StridedArg& x);

// One image's contribution to one result row, over a padded image whose every tap's rows lie inside:
struct DirectImageRowArgs {
  const float* g;            // the gradient's out_h x out_w plane of this image and result row
  const float* x;            // the group's first input channel of the padded image; its rows row_stride apart
  int64_t out_h, out_w, row_stride;
  const int64_t* offsets;    // tap j = (c, r, s): c plane + r dilation_h row_stride + s dilation_w
  int taps;                  // channels kernel_h kernel_w, at most kMaxDirectTaps
  int channels, kernel_h, kernel_w;
  int64_t dilation_h;
};
// For each tap j and lane l < 16,
//   tot[j * 16 + l] += sum over 16-column steps s, then output rows r < out_h (that order) of
//                      g[r * out_w + 16 s + l] * x[r * row_stride + offsets[j] + 16 s + l]
// over columns 16 s + l < out_w (the others add fma(0, 0, .)), each sum in float, added to tot as a double.
using DirectImageRow = void (*)(const DirectImageRowArgs& args, double* tot);

namespace isa {
// Null when conv_direct_weight_grad_<isa>.cpp was built for another target.
extern const DirectImageRow avx2_direct_image_row;
extern const DirectImageRow avx512_direct_image_row;
}  // namespace isa
// The portable version (std::fma, one lane at a time): the same bits as the ISA versions.
void portable_direct_image_row(const DirectImageRowArgs& args, double* tot);

}  // namespace tg::kernels::cpu
