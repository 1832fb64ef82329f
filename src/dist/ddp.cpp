// DistributedDataParallel: gradient buckets reduced from post-accumulate hooks during backward.
#include <tensorgrad/dist/ddp.h>

#include <chrono>
#include <cstring>
#include <sstream>

#include <tensorgrad/base/error.h>
#include <tensorgrad/core/graph.h>

namespace tg::dist {

namespace {

struct Bucket {
  std::vector<size_t> params;     // indices into State::params, in fill order
  std::vector<int64_t> offsets;   // element offset of each in `flat`
  Tensor flat;                    // the packed gradients
  Tensor residual;                // TopK's error feedback (float32 buckets only)
  int64_t pending = 0;            // gradients not yet ready this step
  WorkHandle work;
  std::string label;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

struct DistributedDataParallel::State {
  std::shared_ptr<Communicator> comm;
  NamedTensorList params, buffers;
  DDPOptions options;
  std::vector<Bucket> buckets;
  std::vector<size_t> bucket_of;  // per parameter
  std::vector<bool> ready;        // per parameter, this step
  size_t next_to_launch = 0;
  DDPStats stats;

  void build_buckets() {
    bucket_of.assign(params.size(), 0);
    ready.assign(params.size(), false);
    int64_t bytes = 0;
    // Reverse registration order: the last layer's gradients come first in backward.
    for (size_t k = params.size(); k-- > 0;) {
      const Tensor& p = params[k].second;
      const bool dtype_changes = !buckets.empty() && !buckets.back().params.empty() &&
                                 params[buckets.back().params.front()].second.dtype() != p.dtype();
      if (buckets.empty() || bytes >= options.bucket_bytes || dtype_changes) {
        buckets.emplace_back();
        bytes = 0;
      }
      Bucket& b = buckets.back();
      b.offsets.push_back(b.params.empty() ? 0 : b.offsets.back() + params[b.params.back()].second.numel());
      b.params.push_back(k);
      bucket_of[k] = buckets.size() - 1;
      bytes += p.numel() * static_cast<int64_t>(itemsize(p.dtype()));
    }
    for (size_t i = 0; i < buckets.size(); ++i) {
      Bucket& b = buckets[i];
      const Tensor& last = params[b.params.back()].second;
      const int64_t numel = b.offsets.back() + last.numel();
      b.flat = Tensor::empty({numel}, last.dtype());
      b.pending = static_cast<int64_t>(b.params.size());
      std::ostringstream label;
      label << "bucket " << i << " (" << params[b.params.front()].first;
      if (b.params.size() > 1) label << " .. " << params[b.params.back()].first;
      label << ")";
      b.label = label.str();
      if (options.compression.kind != CompressionKind::None) {
        TG_CHECK(last.dtype() == DType::Float32, "tg::dist::DistributedDataParallel: ",
                 compression_name(options.compression.kind), " compression needs float32 gradients; ", b.label,
                 " holds ", dtype_name(last.dtype()));
        if (options.compression.kind == CompressionKind::TopK) {
          b.residual = Tensor::empty({numel}, DType::Float32);
          std::memset(b.residual.data_ptr(), 0, static_cast<size_t>(numel) * sizeof(float));
        }
      }
    }
  }

  void on_gradient_ready(size_t index) {
    if (!options.overlap) return;
    TG_CHECK(!ready[index], "tg::dist::DistributedDataParallel: parameter ", params[index].first,
             " received a second gradient before synchronize(); with overlap on, call synchronize() after each "
             "backward (turn overlap off to accumulate over several backward passes)");
    ready[index] = true;
    Bucket& b = buckets[bucket_of[index]];
    --b.pending;
    while (next_to_launch < buckets.size() && buckets[next_to_launch].pending == 0) launch(next_to_launch++);
    comm->poll();
  }

  // `blocking`: reduce now with the communicator's blocking all_reduce (MPI_Allreduce on the fast path) instead of
  // starting a non-blocking one. Only with overlap off, where every rank starts every bucket here, in order: with
  // overlap on, one rank may start a bucket from a hook (non-blocking) that another starts in synchronize(), and
  // MPI never matches a blocking collective with a non-blocking one.
  void launch(size_t i, bool blocking = false) {
    Bucket& b = buckets[i];
    const size_t item = itemsize(b.flat.dtype());
    char* flat = static_cast<char*>(b.flat.data_ptr());
    for (size_t j = 0; j < b.params.size(); ++j) {
      const Tensor& p = params[b.params[j]].second;
      const Tensor g = p.grad();
      char* dst = flat + b.offsets[j] * static_cast<int64_t>(item);
      if (g.defined()) copy_to_contiguous(g, dst);
      else std::memset(dst, 0, static_cast<size_t>(p.numel()) * item);  // unused this step: contributes zero
    }
    const int64_t bytes = b.flat.numel() * static_cast<int64_t>(item);
    stats.gradient_bytes += bytes;
    ++stats.collectives;
    if (options.compression.kind == CompressionKind::None) {
      if (blocking) comm->all_reduce(b.flat, ReduceOp::Avg, b.label);
      else b.work = comm->all_reduce_async(b.flat, ReduceOp::Avg, b.label);
      stats.bytes_sent += bytes;
    } else {
      int64_t sent = 0;
      b.work = compressed_average_async(*comm, b.flat, b.residual, options.compression, b.label, sent);
      stats.bytes_sent += sent;
    }
  }

  void synchronize() {
    const auto start = std::chrono::steady_clock::now();
    const bool blocking = !options.overlap && options.compression.kind == CompressionKind::None;
    while (next_to_launch < buckets.size()) launch(next_to_launch++, blocking);
    for (Bucket& b : buckets) {
      if (b.work) b.work->wait();
      b.work.reset();
      const size_t item = itemsize(b.flat.dtype());
      const char* flat = static_cast<const char*>(b.flat.data_ptr());
      for (size_t j = 0; j < b.params.size(); ++j) {
        const Tensor& p = params[b.params[j]].second;
        Tensor g = p.grad();
        if (!g.defined() || !g.is_contiguous() || g.shape() != p.shape() || g.dtype() != p.dtype()) {
          g = Tensor::empty(p.shape(), p.dtype());
          p.set_grad(g);
        }
        std::memcpy(g.data_ptr(), flat + b.offsets[j] * static_cast<int64_t>(item),
                    static_cast<size_t>(p.numel()) * item);
        g.storage()->bump_version();
      }
      b.pending = static_cast<int64_t>(b.params.size());
    }
    ready.assign(params.size(), false);
    next_to_launch = 0;
    ++stats.steps;
    stats.exposed_seconds += seconds_since(start);
  }

  void broadcast_state() {
    for (const auto* list : {&params, &buffers})
      for (const auto& [name, t] : *list) {
        TG_CHECK(t.is_contiguous(), "tg::dist::DistributedDataParallel: ", name, " must be contiguous");
        comm->broadcast(t, 0, name);
        t.storage()->bump_version();
      }
  }
};

DistributedDataParallel::DistributedDataParallel(std::shared_ptr<Communicator> comm, NamedTensorList parameters,
                                                 DDPOptions options, NamedTensorList buffers)
    : state_(std::make_shared<State>()) {
  TG_CHECK(comm != nullptr, "tg::dist::DistributedDataParallel: no communicator");
  TG_CHECK(!parameters.empty(), "tg::dist::DistributedDataParallel: no parameters");
  TG_CHECK(options.bucket_bytes > 0, "tg::dist::DistributedDataParallel: bucket_bytes must be positive, got ",
           options.bucket_bytes);
  for (const auto& [name, p] : parameters)
    TG_CHECK(p.defined() && p.requires_grad() && p.is_leaf(), "tg::dist::DistributedDataParallel: parameter ", name,
             " must be a leaf that requires grad");
  state_->comm = std::move(comm);
  state_->params = std::move(parameters);
  state_->buffers = std::move(buffers);
  state_->options = options;
  state_->build_buckets();
  state_->broadcast_state();
  // The hooks hold the state weakly: they outlive this object on the parameters and then do nothing.
  std::weak_ptr<State> weak = state_;
  for (size_t i = 0; i < state_->params.size(); ++i)
    state_->params[i].second.register_post_accumulate_grad_hook([weak, i](const Tensor&) {
      if (auto state = weak.lock()) state->on_gradient_ready(i);
    });
}

DistributedDataParallel::~DistributedDataParallel() {
  // Buckets still in flight (an exception between backward and synchronize) must finish before their
  // buffers go; a failed wait here cannot be reported, so it is dropped.
  for (Bucket& b : state_->buckets)
    if (b.work) try {
        b.work->wait();
      } catch (const Error&) {
      }
}

void DistributedDataParallel::synchronize() { state_->synchronize(); }
void DistributedDataParallel::broadcast_state() { state_->broadcast_state(); }
const DDPStats& DistributedDataParallel::stats() const { return state_->stats; }
Communicator& DistributedDataParallel::communicator() const { return *state_->comm; }

std::vector<std::vector<std::string>> DistributedDataParallel::bucket_names() const {
  std::vector<std::vector<std::string>> out;
  for (const Bucket& b : state_->buckets) {
    out.emplace_back();
    for (size_t k : b.params) out.back().push_back(state_->params[k].first);
  }
  return out;
}

}  // namespace tg::dist
