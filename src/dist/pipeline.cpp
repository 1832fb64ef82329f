// GPipe: all micro-batches forward, then all backward, with activations and their gradients as messages.
#include <tensorgrad/dist/pipeline.h>

#include <tensorgrad/autograd/engine.h>
#include <tensorgrad/base/error.h>
#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/view.h>

namespace tg::dist {
namespace {
constexpr int64_t kMaxDims = 8;
int forward_tag(int64_t m) { return static_cast<int>(4 * m); }
int backward_tag(int64_t m) { return static_cast<int>(4 * m + 2); }
}  // namespace

Pipeline::Pipeline(std::shared_ptr<Communicator> comm, StageFn stage, PipelineOptions options)
    : comm_(std::move(comm)), stage_(std::move(stage)), options_(options) {
  TG_CHECK(comm_ != nullptr && stage_, "tg::dist::Pipeline: needs a communicator and a stage function");
  TG_CHECK(options_.micro_batches >= 1, "tg::dist::Pipeline: micro_batches must be >= 1, got ", options_.micro_batches);
}

// A header (dims, then dtype) precedes every tensor, so a stage need not know its neighbour's shapes. The
// header tag is the data tag + 1.
void Pipeline::send_tensor(const Tensor& t, int dst, int tag, std::vector<WorkHandle>& pending) {
  TG_CHECK(t.dim() <= kMaxDims, "tg::dist::Pipeline: activations of ", t.dim(), " dimensions (at most ", kMaxDims, ")");
  Tensor header = Tensor::empty({kMaxDims + 2}, DType::Int64);
  int64_t* h = header.data<int64_t>();
  h[0] = t.dim();
  for (int64_t d = 0; d < t.dim(); ++d) h[1 + d] = t.size(d);
  h[kMaxDims + 1] = static_cast<int64_t>(t.dtype());
  Tensor data = t.detach().contiguous();
  pending.push_back(comm_->send_async(header, dst, tag + 1, "pipeline header"));
  pending.push_back(comm_->send_async(data, dst, tag, "pipeline tensor"));
}

Tensor Pipeline::recv_tensor(int src, int tag) {
  Tensor header = Tensor::empty({kMaxDims + 2}, DType::Int64);
  comm_->recv(header, src, tag + 1, "pipeline header");
  const int64_t* h = header.data<int64_t>();
  Shape shape(h + 1, h + 1 + h[0]);
  Tensor data = Tensor::empty(shape, static_cast<DType>(h[kMaxDims + 1]));
  comm_->recv(data, src, tag, "pipeline tensor");
  return data;
}

Tensor Pipeline::step(const Tensor& inputs, const Tensor& targets, const LossFn& loss_fn) {
  const int rank = comm_->rank();
  const int64_t m_count = options_.micro_batches;
  std::vector<Tensor> stage_inputs(static_cast<size_t>(m_count)), stage_outputs(static_cast<size_t>(m_count));
  std::vector<WorkHandle> pending;
  Tensor loss_sum;
  if (is_first() || is_last()) {
    const Tensor& batch = is_first() ? inputs : targets;
    TG_CHECK(batch.defined() && batch.dim() >= 1 && batch.size(0) % m_count == 0, "tg::dist::Pipeline::step: the batch (",
             batch.defined() ? shape_str(batch.shape()) : "undefined", ") must split into ", m_count,
             " equal micro-batches along dim 0");
  }
  const int64_t micro = is_first() ? inputs.size(0) / m_count : (is_last() ? targets.size(0) / m_count : 0);

  for (int64_t m = 0; m < m_count; ++m) {
    Tensor x = is_first() ? inputs.narrow(0, m * micro, micro).contiguous() : recv_tensor(rank - 1, forward_tag(m));
    if (!is_first()) x.requires_grad_();  // its gradient goes back to the previous stage
    Tensor y = stage_(x);
    stage_inputs[static_cast<size_t>(m)] = x;
    if (is_last()) {
      Tensor loss = loss_fn(y, targets.narrow(0, m * micro, micro).contiguous()) / static_cast<double>(m_count);
      stage_outputs[static_cast<size_t>(m)] = loss;
      const Tensor detached = loss.detach();
      loss_sum = loss_sum.defined() ? loss_sum + detached : detached;
    } else {
      stage_outputs[static_cast<size_t>(m)] = y;
      send_tensor(y, rank + 1, forward_tag(m), pending);
    }
  }
  for (int64_t m = m_count - 1; m >= 0; --m) {
    const Tensor& y = stage_outputs[static_cast<size_t>(m)];
    if (is_last()) tg::backward({y});
    else tg::backward({y}, {recv_tensor(rank + 1, backward_tag(m))});
    if (!is_first()) {
      const Tensor g = stage_inputs[static_cast<size_t>(m)].grad();
      TG_CHECK(g.defined(), "tg::dist::Pipeline: stage ", rank, "'s output does not depend on its input");
      send_tensor(g, rank - 1, backward_tag(m), pending);
    }
    stage_outputs[static_cast<size_t>(m)] = Tensor();  // frees this micro-batch's graph
  }
  for (auto& w : pending) w->wait();
  return loss_sum;
}

}  // namespace tg::dist
