// Every collective against values each rank can compute for all ranks, for float32, float64 and int64.
#include <gtest/gtest.h>

#include <cstring>

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

// Non-blocking sums of at least 16384 elements run as a ring of point-to-point messages (mpi.cpp,
// ring_all_reduce): exact on integer-valued data for every dtype and for chunk sizes that do not divide evenly,
// two rings in flight at once kept apart, and on random data every rank ends with the same bits.
TEST(MpiCollectives, LargeNonBlockingSumsRunAsARingAndGiveEveryRankTheSameBits) {
  const int n = world().world_size(), me = world().rank();
  for (DType dtype : {DType::Float32, DType::Float64, DType::Int64}) {
    for (int64_t count : {int64_t{16384}, int64_t{3 * 16384 + 1}}) {
      Tensor a = contribution_tensor(me, count, dtype), b = contribution_tensor(me, count + 7, dtype);
      WorkHandle first = world().all_reduce_async(a, ReduceOp::Sum, "ring a");
      WorkHandle second = world().all_reduce_async(b, ReduceOp::Sum, "ring b");
      second->wait();
      first->wait();
      for (const Tensor& t : {a, b}) {
        const auto got = t.to(DType::Float64).to_vector<double>();
        for (int64_t i = 0; i < t.numel(); ++i) {
          double expected = 0;
          for (int r = 0; r < n; ++r) expected += contribution(r, i);
          ASSERT_EQ(got[static_cast<size_t>(i)], expected) << dtype_name(dtype) << " count " << t.numel() << " element " << i;
        }
      }
    }
  }
  Generator gen(17 + static_cast<uint64_t>(me));
  Tensor avg = randn({50001}, DType::Float32, gen);
  const Tensor own = avg.clone();
  world().all_reduce_async(avg, ReduceOp::Avg, "ring avg")->wait();
  Tensor every = zeros({n, 50001});
  world().all_gather(avg.reshape({1, 50001}), every, "ring results");
  const float* rows = every.data<float>();
  for (int r = 1; r < n; ++r)
    ASSERT_EQ(std::memcmp(rows + static_cast<ptrdiff_t>(r) * 50001, rows, 50001 * sizeof(float)), 0)
        << "rank " << r << " got other bits than rank 0";
  Tensor mean_check = own.clone();  // the average is within float rounding of the exact one
  world().all_reduce(mean_check, ReduceOp::Avg, "blocking avg");
  EXPECT_LT(max(abs(avg - mean_check)).item(), 1e-5);
}

// The blocking forms run MPI_Allreduce & co. on the fast path and MPI_Iallreduce & co. on the polled path; both
// must give every collective's exact result (integer-valued data, so summation order cannot matter).
TEST(MpiCollectives, BlockingCollectivesGiveTheSameResultsOnTheFastAndThePolledPath) {
  const int n = world().world_size(), me = world().rank();
  std::vector<std::vector<double>> results[2];
  for (bool fast : {true, false}) {
    auto comm = make_mpi_communicator({.timeout_seconds = 20, .verify_collectives = true, .blocking_fast_path = fast});
    auto& out = results[fast ? 1 : 0];
    Tensor sum = contribution_tensor(me, 1000, DType::Float32), avg = contribution_tensor(me, 9, DType::Float64),
           max = contribution_tensor(me, 9, DType::Int64);
    comm->all_reduce(sum, ReduceOp::Sum, "sum");
    comm->all_reduce(avg, ReduceOp::Avg, "avg");
    comm->all_reduce(max, ReduceOp::Max, "max");
    Tensor bcast = full({3}, me == n - 1 ? 4.5 : -1.0);
    comm->broadcast(bcast, n - 1, "bcast");
    Tensor gathered = zeros({n, 2}, DType::Int64);
    comm->all_gather(full({1, 2}, me + 1.0, DType::Int64), gathered, "gather");
    Tensor scattered = zeros({2}, DType::Float64);
    comm->reduce_scatter(contribution_tensor(me, 2 * n, DType::Float64), scattered, ReduceOp::Avg, "scatter");
    comm->barrier("done");
    for (const Tensor& t : {sum, avg, max, bcast, gathered, scattered})
      out.push_back(t.to(DType::Float64).contiguous().to_vector<double>());
    EXPECT_THROW(comm->all_reduce(max, ReduceOp::Avg, "int avg"), Error);
    EXPECT_THROW(comm->broadcast(bcast, n, "no such root"), Error);
  }
  EXPECT_EQ(results[0], results[1]);
  auto expected_sum = [&](int64_t i) {
    double s = 0;
    for (int r = 0; r < n; ++r) s += contribution(r, i);
    return s;
  };
  const auto& fast = results[1];
  for (int64_t i = 0; i < 1000; ++i) ASSERT_EQ(fast[0][static_cast<size_t>(i)], expected_sum(i)) << "sum element " << i;
  for (int64_t i = 0; i < 9; ++i) EXPECT_DOUBLE_EQ(fast[1][static_cast<size_t>(i)], expected_sum(i) / n);
  for (int64_t i = 0; i < 9; ++i) {
    double m = -1e300;
    for (int r = 0; r < n; ++r) m = std::max(m, contribution(r, i));
    EXPECT_EQ(fast[2][static_cast<size_t>(i)], m);
  }
  EXPECT_EQ(fast[3], std::vector<double>(3, 4.5));
  for (int r = 0; r < n; ++r) EXPECT_EQ(fast[4][2 * static_cast<size_t>(r)], r + 1.0);
  for (int64_t i = 0; i < 2; ++i) EXPECT_DOUBLE_EQ(fast[5][static_cast<size_t>(i)], expected_sum(2 * me + i) / n);
}

}  // namespace
}  // namespace tg::dist
