// DistributedDataParallel: gradient buckets reduced from post-accumulate hooks during backward.
#include <tensorgrad/dist/ddp.h>

#include <chrono>
#include <cstring>
#include <sstream>

#include <tensorgrad/base/error.h>
#include <tensorgrad/core/graph.h>

namespace tg::dist {

namespace {

template <class T>
void divide_into(const T* in, T* out, int64_t n, T divisor) {
  for (int64_t i = 0; i < n; ++i) out[i] = in[i] / divisor;
}

struct Bucket {
  std::vector<size_t> params;     // indices into State::params, in fill order
  std::vector<int64_t> offsets;   // element offset of each in `flat`
  Tensor flat;                    // the packed gradients
  std::vector<Tensor> views;      // each parameter's part of `flat`, in its shape (gradient_as_bucket_view)
  Tensor residual;                // TopK's error feedback (float32 buckets only)
  int64_t pending = 0;            // gradients not yet ready this step
  WorkHandle work;
  std::string label;
};

// A parameter's gradient into its part of a bucket, divided by `divisor`; zeros for a parameter that got no
// gradient this step. With gradient_as_bucket_view the gradient may already be that part (the parameter was
// unused and its .grad not cleared).
void pack(const Tensor& grad, const Tensor& part, int divisor) {
  const size_t bytes = static_cast<size_t>(part.numel()) * itemsize(part.dtype());
  if (!grad.defined()) {
    std::memset(part.data_ptr(), 0, bytes);
    return;
  }
  TG_CHECK(grad.dtype() == part.dtype() && grad.shape() == part.shape(), "tg::dist::DistributedDataParallel: a ",
           dtype_name(grad.dtype()), grad.shape(), " gradient for a ", dtype_name(part.dtype()), part.shape(),
           " parameter");
  const bool same_layout = grad.is_contiguous();
  if (!same_layout) copy_to_contiguous(grad, part.data_ptr());
  const void* from = same_layout ? grad.data_ptr() : part.data_ptr();
  if (divisor == 1) {
    if (from != part.data_ptr()) std::memcpy(part.data_ptr(), from, bytes);
  } else if (part.dtype() == DType::Float32) {
    divide_into(static_cast<const float*>(from), part.data<float>(), part.numel(), static_cast<float>(divisor));
  } else {
    divide_into(static_cast<const double*>(from), part.data<double>(), part.numel(), static_cast<double>(divisor));
  }
}

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
      for (size_t j = 0; j < b.params.size(); ++j) {
        const Tensor& p = params[b.params[j]].second;
        b.views.push_back(b.flat.narrow(0, b.offsets[j], p.numel()).view(p.shape()));
      }
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
    while (next_to_launch < hook_launchable() && buckets[next_to_launch].pending == 0) launch(next_to_launch++);
    comm->poll();
  }

  // Buckets a gradient hook may start. The last one is left to synchronize(), which every rank reaches with every
  // other bucket started, so it can take the blocking call (on MPI's fast path, twice as fast as the non-blocking
  // one for large buckets: docs/DISTRIBUTED.md); in a feed-forward model backward has no work left to overlap it
  // with by the time it is ready. Compressed buckets have no blocking form.
  size_t hook_launchable() const {
    return options.compression.kind == CompressionKind::None ? buckets.size() - 1 : buckets.size();
  }

  // `blocking`: reduce now with the communicator's blocking all_reduce (MPI_Allreduce on the fast path) instead of
  // starting a non-blocking one. Only for buckets every rank starts in synchronize(), in order (all of them with
  // overlap off, the last one with overlap on): one rank may start any other bucket from a hook (non-blocking)
  // that another starts in synchronize(), and MPI never matches a blocking collective with a non-blocking one.
  void launch(size_t i, bool blocking = false) {
    Bucket& b = buckets[i];
    const size_t item = itemsize(b.flat.dtype());
    const bool compressed = options.compression.kind != CompressionKind::None;
    // Uncompressed buckets are divided by the world size while they are packed (as torch's default hook does),
    // so the reduction is a plain sum and no pass over the bucket follows it.
    const int world = compressed ? 1 : comm->world_size();
    for (size_t j = 0; j < b.params.size(); ++j) {
      const Tensor& p = params[b.params[j]].second;
      pack(p.grad(), b.views[j], world);
    }
    b.flat.storage()->bump_version();
    const int64_t bytes = b.flat.numel() * static_cast<int64_t>(item);
    stats.gradient_bytes += bytes;
    ++stats.collectives;
    if (!compressed) {
      if (blocking) comm->all_reduce(b.flat, ReduceOp::Sum, b.label);
      else b.work = comm->all_reduce_async(b.flat, ReduceOp::Sum, b.label);
      stats.bytes_sent += bytes;
    } else {
      int64_t sent = 0;
      b.work = compressed_average_async(*comm, b.flat, b.residual, options.compression, b.label, sent);
      stats.bytes_sent += sent;
    }
  }

  void synchronize() {
    const auto start = std::chrono::steady_clock::now();
    const bool uncompressed = options.compression.kind == CompressionKind::None;
    for (; next_to_launch < buckets.size(); ++next_to_launch)
      launch(next_to_launch, uncompressed && (!options.overlap || next_to_launch + 1 == buckets.size()));
    for (Bucket& b : buckets) {
      if (b.work) b.work->wait();
      b.work.reset();
      for (size_t j = 0; j < b.params.size(); ++j) {
        const Tensor& p = params[b.params[j]].second;
        if (options.gradient_as_bucket_view) {
          p.set_grad(b.views[j]);
          continue;
        }
        Tensor g = p.grad();
        if (!g.defined() || !g.is_contiguous() || g.shape() != p.shape() || g.dtype() != p.dtype() ||
            g.storage() == b.flat.storage()) {
          g = Tensor::empty(p.shape(), p.dtype());
          p.set_grad(g);
        }
        copy_to_contiguous(b.views[j], g.data_ptr());
        g.storage()->bump_version();
      }
      b.flat.storage()->bump_version();
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
