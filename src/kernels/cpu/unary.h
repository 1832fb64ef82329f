#pragma once
#include "../ref/ref_kernels.h"

namespace tg::kernels::cpu {

// float32 exp, log, sigmoid, tanh, silu and float32 / float64 relu as vectorised loops; every other (op, dtype) runs
// the reference loop. Single-threaded: register.cpp splits it.
void unary(UnaryOp op, const Shape& shape, const StridedArg& out, const StridedArg& in);

// float32 silu_grad(g, x) = g * silu'(x) (kernels::BinaryOp::SiluGrad): contiguous runs of both operands in the
// widest vectors, the rest (a broadcast operand, strides) element by element, the same bits either way.
// Single-threaded: register.cpp splits it (through cpu::binary).
void silu_grad_f32(const Shape& shape, const StridedArg& out, const StridedArg& grad, const StridedArg& x);

// out[i] = exp(in[i]) for n contiguous float32 (the vectorised exp_f32 of vector_math.h; softmax uses it).
void exp_f32_run(float* out, const float* in, int64_t n);
// x[i] = exp(x[i] - shift) (the same bits as exp_f32_run on the differences), returning their sum (in an
// order that depends on the ISA). One pass: attention's online softmax.
float exp_f32_shifted_sum(float* x, float shift, int64_t n);

}  // namespace tg::kernels::cpu
