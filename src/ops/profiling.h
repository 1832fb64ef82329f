#pragma once
// Profiler hooks for op functions: one line at the top of an op opens a range named after the op, with its
// input shapes and dtypes (and FLOPs for the GEMM-based ops). The description is built only while a
// tg::profiler::Profile runs; otherwise the line costs one relaxed atomic load, and nothing at all when the
// build sets TG_PROFILER=OFF.
#include <string>

#include <tensorgrad/ops/conv.h>
#include <tensorgrad/profiler/record.h>

#include <tensorgrad/core/tensor.h>

namespace tg::ops {

void add_profiled_input(profiler::EventInfo& info, const Tensor& t);
void add_profiled_input(profiler::EventInfo& info, const TensorList& ts);
void finish_profiled_inputs(profiler::EventInfo& info);

template <class... Inputs>
void describe_op(profiler::EventInfo& info, const char* name, const Inputs&... inputs) {
  info.name = name;
  info.kind = profiler::EventKind::Op;
  (add_profiled_input(info, inputs), ...);
  finish_profiled_inputs(info);
}

// FLOPs (a multiply-add counts 2) of the GEMMs these ops run; 0 when the operands are malformed (the op
// itself reports that).
int64_t matmul_flops(const Tensor& a, const Tensor& b);
int64_t linear_flops(const Tensor& x, const Tensor& weight);
int64_t conv_flops(const Tensor& x, const Tensor& weight, const SpatialArg& stride, const SpatialArg& padding,
                   const SpatialArg& dilation);

}  // namespace tg::ops

// TG_PROFILE_OP("matmul", a, b);  inputs are Tensors or TensorLists (undefined tensors show as []).
#define TG_PROFILE_OP(name, ...)                                            \
  TG_PROFILE_RANGE([&](::tg::profiler::EventInfo& tg_profiled_op) {          \
    ::tg::ops::describe_op(tg_profiled_op, name __VA_OPT__(, ) __VA_ARGS__); \
  })
// TG_PROFILE_OP_FLOPS("matmul", ops::matmul_flops(a, b), a, b);  the count is evaluated only while profiling.
#define TG_PROFILE_OP_FLOPS(name, flop_count, ...)                               \
  TG_PROFILE_RANGE([&](::tg::profiler::EventInfo& tg_profiled_op) {          \
    ::tg::ops::describe_op(tg_profiled_op, name __VA_OPT__(, ) __VA_ARGS__); \
    tg_profiled_op.flops = (flop_count);                                        \
  })
