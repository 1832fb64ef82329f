// Every collective against values each rank can compute for all ranks, for float32, float64 and int64.
#include <gtest/gtest.h>

#include <tensorgrad/tensorgrad.h>

#include "world.h"

namespace tg::dist {
namespace {

using tgtest::world;

// Rank r's contribution: (r + 1) * (i + 1) - 2 r at element i (max over ranks is not the last rank's).
double contribution(int r, int64_t i) { return (r + 1.0) * (static_cast<double>(i) + 1.0) - 2.0 * r * (i % 2); }

Tensor contribution_tensor(int r, int64_t n, DType dtype) {
  std::vector<double> v;
  for (int64_t i = 0; i < n; ++i) v.push_back(contribution(r, i));
  return from_vector(v).to(dtype).contiguous();
}

TEST(MpiCollectives, AllReduceSumAvgMaxOverDtypes) {
  const int world_size = world().world_size();
  for (DType dtype : {DType::Float32, DType::Float64, DType::Int64}) {
    for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Avg, ReduceOp::Max}) {
      if (op == ReduceOp::Avg && dtype == DType::Int64) continue;
      const int64_t n = 1000;
      Tensor t = contribution_tensor(world().rank(), n, dtype);
      world().all_reduce(t, op, "values");
      const auto got = t.to(DType::Float64).to_vector<double>();
      for (int64_t i = 0; i < n; ++i) {
        double expected = op == ReduceOp::Max ? -1e300 : 0;
        for (int r = 0; r < world_size; ++r)
          expected = op == ReduceOp::Max ? std::max(expected, contribution(r, i)) : expected + contribution(r, i);
        if (op == ReduceOp::Avg) expected /= world_size;
        ASSERT_NEAR(got[static_cast<size_t>(i)], expected, 1e-5 * std::abs(expected))
            << dtype_name(dtype) << " " << reduce_op_name(op) << " element " << i;
      }
    }
  }
}

TEST(MpiCollectives, NonBlockingOperationsCompleteInAnyWaitOrder) {
  Tensor a = full({5}, world().rank() + 1.0), b = full({7}, 2.0 * world().rank(), DType::Float64);
  auto wa = world().all_reduce_async(a, ReduceOp::Sum, "a");
  auto wb = world().all_reduce_async(b, ReduceOp::Max, "b");
  wb->wait();
  wa->wait();
  EXPECT_TRUE(wa->test());
  const int n = world().world_size();
  EXPECT_EQ(a.to_vector<float>(), std::vector<float>(5, static_cast<float>(n * (n + 1) / 2)));
  EXPECT_EQ(b.to_vector<double>(), std::vector<double>(7, 2.0 * (n - 1)));
}

TEST(MpiCollectives, BroadcastFromTheLastRank) {
  const int root = world().world_size() - 1;
  Tensor t = full({2, 3}, world().rank() == root ? 4.5 : -1.0, DType::Float64);
  world().broadcast(t, root, "t");
  EXPECT_EQ(t.to_vector<double>(), std::vector<double>(6, 4.5));
}

TEST(MpiCollectives, AllGatherStacksInRankOrder) {
  const int n = world().world_size();
  Tensor mine = from_vector(std::vector<int64_t>{world().rank(), 10 + world().rank()}, {1, 2});
  Tensor all = zeros({n, 2}, DType::Int64);
  world().all_gather(mine, all, "rows");
  std::vector<int64_t> expected;
  for (int r = 0; r < n; ++r) expected.insert(expected.end(), {r, 10 + r});
  EXPECT_EQ(all.to_vector<int64_t>(), expected);
}

TEST(MpiCollectives, ReduceScatterGivesEachRankItsReducedRows) {
  const int n = world().world_size(), me = world().rank();
  Tensor input = contribution_tensor(me, 3 * n, DType::Float32).reshape({n, 3}).contiguous();
  Tensor output = zeros({1, 3});
  world().reduce_scatter(input, output, ReduceOp::Avg, "rows");
  const auto got = output.to_vector<float>();
  for (int64_t j = 0; j < 3; ++j) {
    double expected = 0;
    for (int r = 0; r < n; ++r) expected += contribution(r, me * 3 + j);
    EXPECT_NEAR(got[static_cast<size_t>(j)], expected / n, 1e-5) << j;
  }
}

TEST(MpiCollectives, SendRecvAroundARing) {
  const int n = world().world_size(), me = world().rank();
  Tensor out = full({4}, 100.0 + me, DType::Float64), in = zeros({4}, DType::Float64);
  auto recv = world().recv_async(in, (me + n - 1) % n, 11, "ring");
  auto send = world().send_async(out, (me + 1) % n, 11, "ring");
  recv->wait();
  send->wait();
  EXPECT_EQ(in.to_vector<double>(), std::vector<double>(4, 100.0 + (me + n - 1) % n));
  world().barrier("after ring");
}

TEST(MpiCollectives, WrongShapesAreReportedBeforeMpiSeesThem) {
  Tensor in = zeros({2}), wrong = zeros({3});
  EXPECT_THROW(world().all_gather(in, wrong, "rows"), Error);
  EXPECT_THROW(world().send(in, world().rank(), 0), Error);
}

}  // namespace
}  // namespace tg::dist
