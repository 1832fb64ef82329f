#pragma once
// Asynchronous data parallel training with a parameter server: rank 0 holds the parameters and applies
// every gradient a worker pushes as soon as it arrives; workers (ranks 1..N-1) pull the current parameters,
// compute a gradient on their own data, push it, and go on, with no global barrier.
//
//   tg::dist::ParameterServer ps(comm, model.parameters(), {.staleness_bound = 2});
//   if (comm->rank() == 0) {
//     auto stats = ps.serve([&] { optimizer.step(); });  // until every worker has called finish()
//   } else {
//     for (...) { ps.pull(); compute loss; loss.backward(); ps.push(); }
//     ps.finish();
//   }
//
// Staleness of an update = the number of updates the server applied between the worker's pull and its push
// (0 = as fresh as synchronous SGD). With a staleness bound s (stale-synchronous parallel), a worker that has
// pushed c gradients gets its next pull answered only once every worker has pushed at least c - s: no worker
// runs more than s steps ahead of the slowest. Without a bound (-1), workers never wait for each other.
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <tensorgrad/dist/communicator.h>

namespace tg::dist {

struct ParameterServerOptions {
  int64_t staleness_bound = -1;  // -1: fully asynchronous
};

// Where an asynchronous run stands: with the parameters and the update rule's state, what a checkpoint needs to
// resume the run with the same number of workers. Worker w resumes at its pushes[w]-th batch: the gradients it
// computed after the checkpoint was taken are lost with the job, so they are computed again.
struct ServerProgress {
  int64_t updates = 0;          // gradients applied since the run began (the parameters' version)
  std::vector<int64_t> pushes;  // per rank, the gradients applied from it; pushes[0] (the server) is 0
};

struct StalenessStats {
  int64_t updates = 0;
  int64_t max_staleness = 0;
  double mean_staleness = 0;
  std::vector<int64_t> histogram;  // histogram[s] = updates applied with staleness s
  int64_t max_clock_gap = 0;       // largest (pulling worker's pushes - slowest worker's pushes) when a pull was answered
  int64_t deferred_pulls = 0;      // pulls held back by the staleness bound
};

class ParameterServer {
 public:
  ParameterServer(std::shared_ptr<Communicator> comm, std::vector<Tensor> parameters, ParameterServerOptions options = {});

  // Rank 0: answers pulls and applies pushes until every worker has finished. `apply` is called with each
  // pushed gradient in the parameters' .grad (e.g. optimizer.step()); then `after_update` (optional) with the
  // progress so far, where a checkpoint can be written (parameters, update rule state and the progress).
  // `resume`: the progress of the checkpoint this run continues (the parameters and the update rule's state
  // restored by the caller); it must have one entry per rank of this world. The statistics count this call's
  // updates only.
  StalenessStats serve(const std::function<void()>& apply,
                       const std::function<void(const ServerProgress&)>& after_update = {},
                       const ServerProgress& resume = {});

  // Workers: the server's current parameters into the local ones; then their .grad to the server.
  void pull();
  void push();
  void finish();

 private:
  int64_t flat_numel() const;
  void pack(bool gradients, const Tensor& flat) const;
  void unpack(const Tensor& flat, bool gradients) const;

  std::shared_ptr<Communicator> comm_;
  std::vector<Tensor> params_;
  ParameterServerOptions options_;
  int64_t pulled_version_ = 0;
};

}  // namespace tg::dist
