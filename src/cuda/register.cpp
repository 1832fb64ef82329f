// The CUDA backend's registration: its allocator, and its kernels in each family's table, each a thin
// adapter from the kernel layer's StridedArg to the plain launch structs of launch.h.
#include <tensorgrad/cuda/cuda.h>

#include <cuda_runtime.h>

#include <initializer_list>
#include <mutex>
#include <stdexcept>

#include <tensorgrad/base/error.h>
#include <tensorgrad/kernels/kernel_tables.h>

#include "allocator.h"
#include "launch.h"
#include "profiler_timer.h"

namespace tg::cuda {

namespace {

using namespace tg::kernels;
using detail::Geometry;
using detail::Operand;

Geometry geometry(const Shape& shape, const char* op) {
  TG_CHECK(shape.size() <= static_cast<size_t>(detail::kMaxDims), "tg::", op, ": the CUDA kernels take at most ",
           detail::kMaxDims, " dimensions, got shape ", shape);
  Geometry g;
  g.ndim = static_cast<int>(shape.size());
  g.numel = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    g.sizes[d] = shape[d];
    g.numel *= shape[d];
  }
  return g;
}

// Merges adjacent dimensions that every operand walks as one (stride[d] == stride[d+1] * size[d+1]) and drops
// size-1 ones, so an elementwise kernel's index arithmetic (a 64-bit division and remainder per dimension and
// operand, for every element) runs over as few dimensions as the layouts allow: contiguous operands become 1-D,
// a bias broadcast over [N, C, H, W] becomes [N, C, H W].
void collapse(Geometry& g, std::initializer_list<Operand*> operands) {
  Geometry merged;
  int64_t strides[4][detail::kMaxDims] = {};  // per operand, innermost merged dimension first
  int count = 0;
  for (int d = g.ndim - 1; d >= 0; --d) {
    if (g.sizes[d] == 1) continue;
    bool joins = count > 0;
    int i = 0;
    for (const Operand* o : operands) {
      joins = joins && o->strides[d] == strides[i][count - 1] * merged.sizes[count - 1];
      ++i;
    }
    if (joins) {
      merged.sizes[count - 1] *= g.sizes[d];
      continue;
    }
    merged.sizes[count] = g.sizes[d];
    i = 0;
    for (const Operand* o : operands) strides[i++][count] = o->strides[d];
    ++count;
  }
  if (count == 0) {  // every dimension has size 1 (or there are none): one element
    merged.sizes[0] = 1;
    count = 1;
  }
  g.ndim = count;
  for (int d = 0; d < count; ++d) {
    g.sizes[d] = merged.sizes[count - 1 - d];
    int i = 0;
    for (Operand* o : operands) o->strides[d] = strides[i++][count - 1 - d];
  }
}

Operand operand(const StridedArg& a) {
  Operand o;
  o.data = a.data;
  o.dtype = static_cast<int>(a.dtype);
  for (size_t d = 0; d < a.strides.size() && d < static_cast<size_t>(detail::kMaxDims); ++d)
    o.strides[d] = a.strides[d];
  return o;
}

// Runs a launch, turning its std::runtime_error into tg::Error.
template <class F>
void launch(F&& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    TG_FAIL(e.what());
  }
}

void copy(const Shape& s, const StridedArg& out, const StridedArg& src, bool accumulate) {
  TG_CHECK(!(accumulate && out.dtype == DType::Bool), "tg::copy: cannot accumulate into a bool tensor");
  Geometry g = geometry(s, "copy");
  Operand o = operand(out), i = operand(src);
  collapse(g, {&o, &i});
  launch([&] { detail::launch_copy(g, o, i, accumulate); });
}
void fill(const Shape& s, const StridedArg& out, double value) {
  Geometry g = geometry(s, "fill");
  Operand o = operand(out);
  collapse(g, {&o});
  launch([&] { detail::launch_fill(g, o, value); });
}
void unary(UnaryOp op, const Shape& s, const StridedArg& out, const StridedArg& in) {
  Geometry g = geometry(s, op_name(op));
  Operand o = operand(out), i = operand(in);
  collapse(g, {&o, &i});
  launch([&] { detail::launch_unary(static_cast<int>(op), g, o, i); });
}
void binary(BinaryOp op, const Shape& s, const StridedArg& out, const StridedArg& a, const StridedArg& b) {
  Geometry g = geometry(s, op_name(op));
  Operand o = operand(out), x = operand(a), y = operand(b);
  collapse(g, {&o, &x, &y});
  launch([&] { detail::launch_binary(static_cast<int>(op), g, o, x, y); });
}
void where(const Shape& s, const StridedArg& out, const StridedArg& cond, const StridedArg& a, const StridedArg& b) {
  Geometry g = geometry(s, "where");
  Operand o = operand(out), c = operand(cond), x = operand(a), y = operand(b);
  collapse(g, {&o, &c, &x, &y});
  launch([&] { detail::launch_where(g, o, c, x, y); });
}
void sequence(const Shape& s, const StridedArg& out, double start, double step) {
  TG_CHECK(s.size() == 1, "tg::sequence: expected a 1-D output, got shape ", s);
  launch([&] { detail::launch_sequence(s[0], operand(out), start, step); });
}
void random(RandomOp op, const Shape& s, const StridedArg& out, const RandomParams& r) {
  launch([&] {
    detail::launch_random(static_cast<int>(op), numel_of(s), operand(out), r.seed, r.first_block, r.threshold, r.low,
                          r.range);
  });
}
void reduce(ReduceOp op, const Shape& in_shape, const std::vector<bool>& reduce_dims, const StridedArg& out,
            const StridedArg& in) {
  Shape outer = in_shape, inner = in_shape;
  for (size_t d = 0; d < in_shape.size(); ++d) (reduce_dims[d] ? outer : inner)[d] = 1;
  launch([&] {
    detail::launch_reduce(static_cast<int>(op), geometry(outer, op_name(op)), operand(out), operand(in),
                          geometry(inner, op_name(op)), in.strides.data());
  });
}
void softmax(SoftmaxOp op, const Shape& s, int64_t dim, const StridedArg& out, const StridedArg& in) {
  Shape rows = s;
  const auto d = static_cast<size_t>(dim);
  rows[d] = 1;
  launch([&] {
    detail::launch_softmax(op == SoftmaxOp::LogSoftmax, geometry(rows, op_name(op)), s[d], operand(out), out.strides[d],
                           operand(in), in.strides[d]);
  });
}
detail::MatmulOperand matrix(const StridedArg& a, size_t batch_dims) {
  detail::MatmulOperand m;
  m.data = a.data;
  for (size_t d = 0; d < batch_dims; ++d) m.batch_strides[d] = a.strides[d];
  m.row_stride = a.strides[batch_dims];
  m.col_stride = a.strides[batch_dims + 1];
  return m;
}
void matmul(const Shape& batch, int64_t m, int64_t n, int64_t k, const StridedArg& c, const StridedArg& a,
            const StridedArg& b, const MatmulEpilogue& e) {
  const size_t nb = batch.size();
  const Geometry g = geometry(batch, "matmul");  // checks nb <= kMaxDims before matrix() copies the strides
  launch([&] {
    detail::launch_matmul(static_cast<int>(c.dtype), g, m, n, k, matrix(c, nb), matrix(a, nb), matrix(b, nb), e.bias,
                          e.bias_stride, static_cast<int>(e.activation));
  });
}

constexpr std::initializer_list<DType> kComputeDTypes = {DType::Bool, DType::Int64, DType::Float32, DType::Float64};
constexpr std::initializer_list<DType> kAllDTypes = {DType::Bool,     DType::Int64,    DType::Float32,
                                                     DType::Float64,  DType::BFloat16, DType::Float16};

detail::Window window_of(const WindowGeometry& g) {
  return {g.batch,    g.channels, g.in_h,     g.in_w,     g.out_h, g.out_w, g.kernel_h,
          g.kernel_w, g.stride_h, g.stride_w, g.pad_h,    g.pad_w, g.dilation_h, g.dilation_w};
}
void window(WindowOp op, const WindowGeometry& g, const StridedArg& out, const StridedArg& in, double pad_value) {
  launch([&] { detail::launch_window(static_cast<int>(op), window_of(g), operand(out), operand(in), pad_value); });
}
void max_pool(const WindowGeometry& g, const StridedArg& values, const StridedArg& index, const StridedArg& x) {
  launch([&] { detail::launch_max_pool(window_of(g), operand(values), operand(index), operand(x)); });
}
void index(IndexOp op, const Shape& s, int64_t dim, int64_t dim_size, const StridedArg& out, const StridedArg& in,
           const StridedArg& idx) {
  launch([&] {
    detail::launch_index(static_cast<int>(op), geometry(s, op_name(op)), static_cast<int>(dim), dim_size, operand(out),
                         operand(in), operand(idx));
  });
}
void sgd_update(int64_t n, const SgdCoefficients& c, const StridedArg& param, const StridedArg& grad,
                const StridedArg& buffer) {
  const detail::SgdArgs a{c.lr, c.momentum, c.dampening, c.weight_decay, c.nesterov};
  launch([&] { detail::launch_sgd(static_cast<int>(param.dtype), n, a, param.data, grad.data, buffer.data); });
}
void adam_update(int64_t n, const AdamCoefficients& c, const StridedArg& param, const StridedArg& grad,
                 const StridedArg& exp_avg, const StridedArg& exp_avg_sq, const StridedArg& max_exp_avg_sq) {
  const detail::AdamArgs a{c.lr_over_bias_correction1, c.one_minus_beta1, c.one_minus_beta2, c.bias_correction2_sqrt,
                           c.eps, c.weight_decay, c.decoupled_decay, c.decoupled};
  launch([&] {
    detail::launch_adam(static_cast<int>(param.dtype), n, a, param.data, grad.data, exp_avg.data, exp_avg_sq.data,
                        max_exp_avg_sq.data);
  });
}

// Adds `fn` for CUDA at every (op, dtype) the CPU has among the dtypes these kernels take: which op takes
// which dtype is stated once, by the reference kernels (registered for the CPU before any backend), not
// copied here.
template <class Table>
void mirror_cpu(Table& table, typename Table::FnType fn, std::initializer_list<DType> dtypes = kComputeDTypes) {
  for (DType d : dtypes)
    for (int i = 0; i < Table::kOpCount; ++i) {
      const auto op = static_cast<typename Table::OpType>(i);
      if (table.supports(op, DeviceType::CPU, d)) table.add(op, DeviceType::CUDA, d, fn);
    }
}

void register_kernels(KernelTables& t) {
  mirror_cpu(t.copy, &copy, kAllDTypes);
  mirror_cpu(t.fill, &fill, kAllDTypes);
  mirror_cpu(t.where, &where);
  mirror_cpu(t.unary, &unary);
  mirror_cpu(t.binary, &binary);
  // No CUDA kernel for silu's fused gradient yet (elementwise.cu's ops stop at Ge): silu's VJP composes it
  // from sigmoid and products on a device without one.
  for (DType d : kComputeDTypes) t.binary.remove(BinaryOp::SiluGrad, DeviceType::CUDA, d);
  mirror_cpu(t.reduce, &reduce);
  mirror_cpu(t.softmax, &softmax);
  mirror_cpu(t.random, &random);
  mirror_cpu(t.sequence, &sequence);
  mirror_cpu(t.window, &window);
  mirror_cpu(t.max_pool, &max_pool);
  mirror_cpu(t.index, &index);
  mirror_cpu(t.sgd_update, &sgd_update);
  mirror_cpu(t.adam_update, &adam_update);
  // Not mirrored: the CPU also multiplies int64 matrices, which these GEMMs do not.
  for (DType d : {DType::Float32, DType::Float64, DType::BFloat16, DType::Float16})
    t.matmul.add(DeviceType::CUDA, d, &matmul);
}

}  // namespace

int device_count() { return detail::device_count(); }

void init() {
  static std::once_flag once;
  TG_CHECK(device_count() > 0, "tg::cuda::init: no CUDA device can be used (no GPU, or no driver); the CUDA "
                               "backend needs one");
  std::call_once(once, [] {
    auto* allocator = new detail::CudaAllocator();  // lives as long as the process: tensors may outlive main's locals
    register_allocator(DeviceType::CUDA, allocator);
    kernels::register_backend(&register_kernels);
    profiler::set_device_timer(&detail::cuda_timer());  // the profiler's CUDA columns
  });
}

std::string device_name(int index) {
  TG_CHECK(index >= 0 && index < device_count(), "tg::cuda::device_name: no CUDA device ", index, " (", device_count(),
           " present)");
  cudaDeviceProp prop{};
  const cudaError_t e = cudaGetDeviceProperties(&prop, index);
  TG_CHECK(e == cudaSuccess, "tg::cuda::device_name: ", cudaGetErrorString(e));
  return prop.name;
}

void synchronize() {
  const cudaError_t e = cudaDeviceSynchronize();
  TG_CHECK(e == cudaSuccess, "tg::cuda::synchronize: a kernel failed: ", cudaGetErrorString(e));
}

}  // namespace tg::cuda
