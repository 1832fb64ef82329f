// Differentiable collectives as graph nodes: the forward runs the collective, the node's VJP runs its
// conjugate (identity <-> all-reduce sum), so autograd handles tensor-parallel layers like any other op.
#include <tensorgrad/dist/tensor_parallel.h>

#include <tensorgrad/base/error.h>
#include <tensorgrad/core/graph.h>
#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/linalg.h>
#include <tensorgrad/ops/view.h>

namespace tg::dist {
namespace {

Tensor summed_over_ranks(const Tensor& x, Communicator& comm, const char* label) {
  Tensor out = x.detach().clone();  // a fresh buffer: the collective writes in place
  if (!out.is_contiguous()) out = out.contiguous();
  comm.all_reduce(out, ReduceOp::Sum, label);
  return out;
}

// Attaches a one-input node computing `vjp` to `out`, when `x` takes part in autograd.
Tensor with_gradient(const Tensor& x, Tensor out, const char* name, VjpFn vjp) {
  if (!GradMode::enabled() || !x.requires_grad()) return out;
  auto node = std::make_shared<FunctionNode>(name, std::move(vjp));
  node->add_next_edge(gradient_edge(x), InputMeta{x.shape(), x.dtype()});
  auto& meta = out.impl().autograd_meta();
  meta.requires_grad = true;
  meta.grad_fn = node;
  meta.output_nr = 0;
  return out;
}

}  // namespace

Tensor copy_to_tensor_parallel(const Tensor& x, Communicator& comm) {
  Tensor out = x.detach().clone();
  Communicator* c = &comm;
  return with_gradient(x, out, "copy_to_tensor_parallel", [c](const Tensor& g, const TensorList&) {
    return TensorList{summed_over_ranks(g, *c, "copy_to_tensor_parallel backward")};
  });
}

Tensor reduce_from_tensor_parallel(const Tensor& x, Communicator& comm) {
  Tensor out = summed_over_ranks(x, comm, "reduce_from_tensor_parallel");
  return with_gradient(x, out, "reduce_from_tensor_parallel",
                       [](const Tensor& g, const TensorList&) { return TensorList{g}; });
}

Tensor shard(const Tensor& full, int64_t dim, const Communicator& comm) {
  const int64_t d = dim < 0 ? dim + full.dim() : dim;
  TG_CHECK(d >= 0 && d < full.dim() && full.size(d) % comm.world_size() == 0, "tg::dist::shard: dimension ", dim,
           " of shape ", shape_str(full.shape()), " does not split into ", comm.world_size(), " equal blocks");
  const int64_t block = full.size(d) / comm.world_size();
  return full.detach().narrow(d, comm.rank() * block, block).contiguous();
}

Tensor column_parallel_linear(const Tensor& x, const Tensor& weight_shard, const Tensor& bias_shard, Communicator& comm) {
  return linear(copy_to_tensor_parallel(x, comm), weight_shard, bias_shard);
}

Tensor row_parallel_linear(const Tensor& x_shard, const Tensor& weight_shard, const Tensor& bias, Communicator& comm) {
  Tensor y = reduce_from_tensor_parallel(linear(x_shard, weight_shard), comm);
  return bias.defined() ? y + bias : y;
}

}  // namespace tg::dist
