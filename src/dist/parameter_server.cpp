// The parameter server's event loop: one outstanding header receive per worker, polled; pulls that would let
// a worker run more than the staleness bound ahead are parked until the slowest worker catches up.
#include <tensorgrad/dist/parameter_server.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <thread>

#include <tensorgrad/base/error.h>
#include <tensorgrad/ops/creation.h>

namespace tg::dist {
namespace {
enum Kind : int64_t { kPull = 1, kPush = 2, kFinish = 3 };
constexpr int kRequestTag = 100, kGradientTag = 101, kParamsTag = 102, kVersionTag = 103;
}  // namespace

ParameterServer::ParameterServer(std::shared_ptr<Communicator> comm, std::vector<Tensor> parameters,
                                 ParameterServerOptions options)
    : comm_(std::move(comm)), params_(std::move(parameters)), options_(options) {
  TG_CHECK(comm_ != nullptr && comm_->world_size() >= 2, "tg::dist::ParameterServer: needs a server and at least one "
           "worker (world of ", comm_ ? comm_->world_size() : 0, ")");
  TG_CHECK(!params_.empty(), "tg::dist::ParameterServer: no parameters");
  for (const auto& p : params_)
    TG_CHECK(p.dtype() == DType::Float32 && p.is_contiguous(), "tg::dist::ParameterServer: parameters must be "
             "contiguous float32, got ", dtype_name(p.dtype()), shape_str(p.shape()));
}

int64_t ParameterServer::flat_numel() const {
  int64_t n = 0;
  for (const auto& p : params_) n += p.numel();
  return n;
}

void ParameterServer::pack(bool gradients, const Tensor& flat) const {
  float* out = flat.data<float>();
  for (const auto& p : params_) {
    const Tensor src = gradients ? p.grad() : p;
    if (src.defined()) copy_to_contiguous(src, out);
    else std::memset(out, 0, static_cast<size_t>(p.numel()) * sizeof(float));
    out += p.numel();
  }
}

void ParameterServer::unpack(const Tensor& flat, bool gradients) const {
  const float* in = flat.data<float>();
  for (const auto& p : params_) {
    Tensor dst = p;
    if (gradients) {
      dst = p.grad();
      if (!dst.defined() || !dst.is_contiguous()) {
        dst = Tensor::empty(p.shape(), p.dtype());
        p.set_grad(dst);
      }
    }
    std::memcpy(dst.data_ptr(), in, static_cast<size_t>(p.numel()) * sizeof(float));
    dst.storage()->bump_version();
    in += p.numel();
  }
}

StalenessStats ParameterServer::serve(const std::function<void()>& apply,
                                      const std::function<void(const ServerProgress&)>& after_update,
                                      const ServerProgress& resume) {
  TG_CHECK(comm_->rank() == 0, "tg::dist::ParameterServer::serve: runs on rank 0, not ", comm_->rank());
  const int workers = comm_->world_size() - 1;
  ServerProgress progress = resume;
  if (progress.pushes.empty()) progress.pushes.assign(static_cast<size_t>(workers) + 1, 0);
  TG_CHECK(static_cast<int64_t>(progress.pushes.size()) == workers + 1, "tg::dist::ParameterServer::serve: the run "
           "to resume had ", progress.pushes.size() - 1, " worker(s) and this one has ", workers,
           "; each worker's place in its data depends on it, so resume with mpirun -np ", progress.pushes.size());
  int64_t pushed = 0;
  for (int64_t c : progress.pushes) pushed += c;
  TG_CHECK(progress.pushes[0] == 0 && pushed == progress.updates && progress.updates >= 0,
           "tg::dist::ParameterServer::serve: inconsistent progress to resume: ", progress.updates,
           " updates but the per-rank pushes add up to ", pushed);
  StalenessStats stats;
  int64_t& version = progress.updates;
  int64_t staleness_sum = 0;
  std::vector<int64_t>& pushes = progress.pushes;
  std::vector<bool> finished(static_cast<size_t>(workers) + 1, false);
  std::vector<Tensor> requests(static_cast<size_t>(workers) + 1);
  std::vector<WorkHandle> waiting(static_cast<size_t>(workers) + 1);
  std::deque<int> parked;  // workers whose pull waits for the slowest to catch up
  const Tensor flat = Tensor::empty({flat_numel()}, DType::Float32);
  auto post = [&](int w) {
    requests[static_cast<size_t>(w)] = Tensor::empty({2}, DType::Int64);
    waiting[static_cast<size_t>(w)] = comm_->recv_async(requests[static_cast<size_t>(w)], w, kRequestTag, "ps request");
  };
  auto slowest = [&] {
    int64_t low = INT64_MAX;
    for (int w = 1; w <= workers; ++w)
      if (!finished[static_cast<size_t>(w)]) low = std::min(low, pushes[static_cast<size_t>(w)]);
    return low;
  };
  auto answer_pull = [&](int w) {
    const int64_t low = slowest();
    stats.max_clock_gap = std::max(stats.max_clock_gap, pushes[static_cast<size_t>(w)] - low);
    pack(false, flat);
    comm_->send(from_vector(std::vector<int64_t>{version}), w, kVersionTag, "ps version");
    comm_->send(flat, w, kParamsTag, "ps parameters");
  };
  auto may_answer = [&](int w) {
    return options_.staleness_bound < 0 || pushes[static_cast<size_t>(w)] - slowest() <= options_.staleness_bound;
  };
  for (int w = 1; w <= workers; ++w) post(w);
  int active = workers;
  while (active > 0) {
    bool progressed = false;
    for (int w = 1; w <= workers; ++w) {
      auto& work = waiting[static_cast<size_t>(w)];
      if (!work || !work->test()) continue;
      progressed = true;
      const int64_t* request = requests[static_cast<size_t>(w)].data<int64_t>();
      const int64_t kind = request[0], pulled = request[1];
      work.reset();
      if (kind == kPull) {
        if (may_answer(w)) answer_pull(w);
        else {
          parked.push_back(w);
          ++stats.deferred_pulls;
        }
      } else if (kind == kPush) {
        comm_->recv(flat, w, kGradientTag, "ps gradient");
        unpack(flat, true);
        apply();
        const int64_t staleness = version - pulled;
        ++version;
        ++pushes[static_cast<size_t>(w)];
        ++stats.updates;
        staleness_sum += staleness;
        stats.max_staleness = std::max(stats.max_staleness, staleness);
        if (static_cast<int64_t>(stats.histogram.size()) <= staleness) stats.histogram.resize(staleness + 1, 0);
        ++stats.histogram[static_cast<size_t>(staleness)];
        if (after_update) after_update(progress);
      } else {
        TG_CHECK(kind == kFinish, "tg::dist::ParameterServer: unknown request ", kind, " from rank ", w);
        finished[static_cast<size_t>(w)] = true;
        --active;
      }
      if (!finished[static_cast<size_t>(w)]) post(w);
      // A push or a finish may let parked pulls through.
      for (size_t i = parked.size(); i-- > 0;) {
        const int p = parked.front();
        parked.pop_front();
        if (may_answer(p)) answer_pull(p);
        else parked.push_back(p);
      }
    }
    if (!progressed) std::this_thread::yield();
  }
  stats.mean_staleness = stats.updates ? static_cast<double>(staleness_sum) / static_cast<double>(stats.updates) : 0;
  return stats;
}

void ParameterServer::pull() {
  comm_->send(from_vector(std::vector<int64_t>{kPull, 0}), 0, kRequestTag, "ps pull");
  Tensor version = Tensor::empty({1}, DType::Int64);
  comm_->recv(version, 0, kVersionTag, "ps version");
  pulled_version_ = version.data<int64_t>()[0];
  Tensor flat = Tensor::empty({flat_numel()}, DType::Float32);
  comm_->recv(flat, 0, kParamsTag, "ps parameters");
  unpack(flat, false);
}

void ParameterServer::push() {
  Tensor flat = Tensor::empty({flat_numel()}, DType::Float32);
  pack(true, flat);
  comm_->send(from_vector(std::vector<int64_t>{kPush, pulled_version_}), 0, kRequestTag, "ps push");
  comm_->send(flat, 0, kGradientTag, "ps gradient");
}

void ParameterServer::finish() { comm_->send(from_vector(std::vector<int64_t>{kFinish, 0}), 0, kRequestTag, "ps finish"); }

}  // namespace tg::dist
