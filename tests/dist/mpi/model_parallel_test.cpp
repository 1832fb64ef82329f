// Tensor-parallel Linear against the unsplit layer, GPipe gradients against one process, and the parameter
// server's staleness bound and convergence.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <thread>

#include <tensorgrad/tensorgrad.h>

#include "world.h"

namespace tg::dist {
namespace {

using tgtest::world;

std::shared_ptr<Communicator> shared_world() { return std::shared_ptr<Communicator>(&world(), [](Communicator*) {}); }

double max_abs_difference(const Tensor& a, const Tensor& b) {
  const auto x = a.to(DType::Float64).contiguous().to_vector<double>(), y = b.to(DType::Float64).contiguous().to_vector<double>();
  EXPECT_EQ(x.size(), y.size());
  double worst = 0;
  for (size_t i = 0; i < std::min(x.size(), y.size()); ++i) worst = std::max(worst, std::abs(x[i] - y[i]));
  return worst;
}

Tensor leaf(const Tensor& t) { return t.detach().clone().requires_grad_(); }

// The Megatron MLP block y = relu(x A^T + a) B^T + b with A split by rows (column parallel) and B by columns
// (row parallel), against the same block unsplit. Float64: the only difference is that the hidden sum of the
// second product is split into N partial sums, so results agree to ~1e-15; 1e-12 leaves a wide margin.
TEST(MpiTensorParallel, ColumnThenRowSplitMatchesTheUnsplitBlock) {
  const int64_t n = world().world_size(), in = 5, hidden = 4 * n, out = 3;
  Generator gen(7);
  const Tensor x0 = randn({6, in}, DType::Float64, gen), a0 = randn({hidden, in}, DType::Float64, gen),
               ab0 = randn({hidden}, DType::Float64, gen), b0 = randn({out, hidden}, DType::Float64, gen),
               bb0 = randn({out}, DType::Float64, gen);
  Tensor x = leaf(x0), a = leaf(a0), ab = leaf(ab0), b = leaf(b0), bb = leaf(bb0);
  const Tensor y = linear(relu(linear(x, a, ab)), b, bb);
  sum(y * y).backward();

  Tensor xs = leaf(x0), as = leaf(shard(a0, 0, world())), abs_ = leaf(shard(ab0, 0, world())),
         bs = leaf(shard(b0, 1, world())), bbs = leaf(bb0);
  const Tensor ys = row_parallel_linear(relu(column_parallel_linear(xs, as, abs_, world())), bs, bbs, world());
  sum(ys * ys).backward();

  EXPECT_LT(max_abs_difference(ys, y), 1e-12);
  EXPECT_LT(max_abs_difference(xs.grad(), x.grad()), 1e-12);  // all-reduced in copy_to_tensor_parallel's backward
  EXPECT_LT(max_abs_difference(as.grad(), shard(a.grad(), 0, world())), 1e-12);
  EXPECT_LT(max_abs_difference(abs_.grad(), shard(ab.grad(), 0, world())), 1e-12);
  EXPECT_LT(max_abs_difference(bs.grad(), shard(b.grad(), 1, world())), 1e-12);
  EXPECT_LT(max_abs_difference(bbs.grad(), bb.grad()), 1e-12);
}

// Stage r = tanh(x W_r^T + c_r); one stage per rank. Float64 gradients of the mean loss equal the
// single-process ones up to the order in which micro-batch contributions are summed (1e-16 relative).
TEST(MpiPipeline, GPipeGradientsEqualTheSingleProcessRun) {
  const int n = world().world_size();
  const int64_t width = 4, batch = 8;
  Generator gen(11);
  std::vector<Tensor> weights, biases;
  for (int r = 0; r < n; ++r) {
    weights.push_back(randn({width, width}, DType::Float64, gen) * 0.7);
    biases.push_back(randn({width}, DType::Float64, gen) * 0.1);
  }
  const Tensor inputs = randn({batch, width}, DType::Float64, gen), targets = randn({batch, width}, DType::Float64, gen);
  auto mse = [](const Tensor& out, const Tensor& t) { return mean((out - t) * (out - t)); };

  std::vector<Tensor> ref_w, ref_b;
  Tensor h = inputs;
  for (int r = 0; r < n; ++r) {
    ref_w.push_back(leaf(weights[static_cast<size_t>(r)]));
    ref_b.push_back(leaf(biases[static_cast<size_t>(r)]));
    h = tanh(linear(h, ref_w.back(), ref_b.back()));
  }
  const Tensor ref_loss = mse(h, targets);
  ref_loss.backward();

  const size_t me = static_cast<size_t>(world().rank());
  Tensor w = leaf(weights[me]), c = leaf(biases[me]);
  Pipeline pipe(shared_world(), [&](const Tensor& x) { return tanh(linear(x, w, c)); }, {.micro_batches = 4});
  const Tensor loss = pipe.step(inputs, targets, mse);
  EXPECT_LT(max_abs_difference(w.grad(), ref_w[me].grad()), 1e-13);
  EXPECT_LT(max_abs_difference(c.grad(), ref_b[me].grad()), 1e-13);
  if (pipe.is_last()) EXPECT_NEAR(loss.item(), ref_loss.item(), 1e-14);
  else EXPECT_FALSE(loss.defined());
}

// Least squares y = x w* with a server and N - 1 workers; worker 1 is slowed down. With bound s no worker is
// ever answered more than s pushes ahead of the slowest; all updates are counted; the loss falls.
TEST(MpiParameterServer, StalenessBoundHoldsAndTrainingConverges) {
  const int n = world().world_size();
  for (int64_t bound : {int64_t{0}, int64_t{2}}) {
    Tensor w = zeros({1, 3}).requires_grad_();
    const Tensor truth = from_vector(std::vector<float>{1.0f, -2.0f, 0.5f}, {1, 3});
    ParameterServer ps(shared_world(), {w}, {.staleness_bound = bound});
    const int64_t steps = 20;
    if (world().rank() == 0) {
      const StalenessStats stats = ps.serve([&] {
        NoGradGuard no_grad;
        w.sub_(w.grad(), 0.1);
      });
      EXPECT_EQ(stats.updates, steps * (n - 1));
      EXPECT_LE(stats.max_clock_gap, bound);
      int64_t counted = 0;
      for (int64_t c : stats.histogram) counted += c;
      EXPECT_EQ(counted, stats.updates);
      const double error = max_abs_difference(w, truth);
      EXPECT_LT(error, 0.2) << "bound " << bound;
    } else {
      Generator gen(static_cast<uint64_t>(world().rank()) + 100 * static_cast<uint64_t>(bound));
      for (int64_t s = 0; s < steps; ++s) {
        ps.pull();
        const Tensor x = randn({16, 3}, DType::Float32, gen);
        const Tensor y = linear(x, truth.detach());
        w.zero_grad();
        mean((linear(x, w) - y) * (linear(x, w) - y)).backward();
        if (world().rank() == 1) std::this_thread::sleep_for(std::chrono::milliseconds(2));
        ps.push();
      }
      ps.finish();
    }
    world().barrier("after parameter server");
  }
}

// A run checkpointed after K updates and resumed from that progress: the workers start again at their pushes[w]-th
// batch and the run ends with every worker's batches applied once. With one worker (2 ranks) the schedule is
// sequential, so the resumed run ends bit-identical to the uninterrupted one. A progress from another world size
// is refused.
TEST(MpiParameterServer, AResumedRunContinuesFromTheCheckpointedProgress) {
  const int n = world().world_size(), me = world().rank();
  const int64_t steps = 20, total = steps * (n - 1), checkpoint_at = total / 2 + 1;
  const Tensor truth = from_vector(std::vector<float>{1.0f, -2.0f, 0.5f}, {1, 3});
  auto sgd = [](Tensor& w) {
    NoGradGuard no_grad;
    w.sub_(w.grad(), 0.1);
  };
  auto work = [&](ParameterServer& ps, const Tensor& w, int64_t first) {
    for (int64_t s = first; s < steps; ++s) {
      ps.pull();
      Generator gen(static_cast<uint64_t>(me * 1000 + s));  // batch s of this worker, whenever it is computed
      const Tensor x = randn({16, 3}, DType::Float32, gen);
      w.zero_grad();
      mean((linear(x, w) - linear(x, truth)) * (linear(x, w) - linear(x, truth))).backward();
      ps.push();
    }
    ps.finish();
  };
  // The uninterrupted run, with a snapshot of the parameters and the progress after `checkpoint_at` updates.
  Tensor w = zeros({1, 3}).requires_grad_();
  Tensor snapshot;
  ServerProgress saved;
  {
    ParameterServer ps(shared_world(), {w}, {.staleness_bound = 0});
    if (me == 0) {
      ps.serve([&] { sgd(w); }, [&](const ServerProgress& p) {
        if (p.updates == checkpoint_at) {
          snapshot = w.detach().clone();
          saved = p;
        }
      });
      ASSERT_TRUE(snapshot.defined());
      const ServerProgress other_world{.updates = 0, .pushes = std::vector<int64_t>(static_cast<size_t>(n) + 1, 0)};
      EXPECT_THROW(ps.serve([] {}, {}, other_world), Error);  // refused before any message
    } else {
      work(ps, w, 0);
    }
  }
  // Every rank learns where it stopped, as every rank would read it from the checkpoint file.
  Tensor pushes = zeros({n}, DType::Int64);
  if (me == 0) pushes.copy_(from_vector(saved.pushes));
  world().broadcast(pushes, 0, "progress");
  const auto where = pushes.to_vector<int64_t>();
  // The resumed run.
  Tensor resumed = me == 0 ? snapshot.clone().requires_grad_() : zeros({1, 3}).requires_grad_();
  ParameterServer ps(shared_world(), {resumed}, {.staleness_bound = 0});
  if (me == 0) {
    ServerProgress last;
    const StalenessStats stats = ps.serve([&] { sgd(resumed); }, [&](const ServerProgress& p) { last = p; }, saved);
    EXPECT_EQ(stats.updates, total - checkpoint_at);
    EXPECT_EQ(last.updates, total);
    for (int r = 1; r < n; ++r) EXPECT_EQ(last.pushes[static_cast<size_t>(r)], steps) << "rank " << r;
    if (n == 2) {
      EXPECT_EQ(max_abs_difference(resumed, w), 0.0);
    }
    EXPECT_LT(max_abs_difference(resumed, truth), 0.2);
  } else {
    EXPECT_GT(where[static_cast<size_t>(me)], 0);
    work(ps, resumed, where[static_cast<size_t>(me)]);
  }
  world().barrier("after the resumed parameter server");
}

}  // namespace
}  // namespace tg::dist
