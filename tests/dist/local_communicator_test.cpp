// The world-of-one communicator and the parts of tg::dist that need no other process.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <tensorgrad/tensorgrad.h>

#include "support/expect_error.h"

namespace tg::dist {
namespace {

TEST(LocalCommunicator, CollectivesAreTheIdentityInAWorldOfOne) {
  auto comm = make_local_communicator();
  EXPECT_EQ(comm->rank(), 0);
  EXPECT_EQ(comm->world_size(), 1);
  Tensor t = from_vector(std::vector<float>{1, -2, 3});
  comm->all_reduce(t, ReduceOp::Avg);
  comm->broadcast(t, 0);
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{1, -2, 3}));
  Tensor gathered = zeros({3});
  comm->all_gather(t, gathered);
  EXPECT_EQ(gathered.to_vector<float>(), (std::vector<float>{1, -2, 3}));
  Tensor part = zeros({3});
  comm->reduce_scatter(gathered, part, ReduceOp::Sum);
  EXPECT_EQ(part.to_vector<float>(), (std::vector<float>{1, -2, 3}));
  comm->barrier();
}

TEST(LocalCommunicator, SendToSelfIsReceivedInOrderPerTag) {
  auto comm = make_local_communicator();
  comm->send(from_vector(std::vector<double>{1, 2}), 0, 5);
  comm->send(from_vector(std::vector<double>{3, 4}), 0, 5);
  Tensor a = zeros({2}, DType::Float64), b = zeros({2}, DType::Float64);
  auto work = comm->recv_async(a, 0, 5);
  EXPECT_TRUE(work->test());
  comm->recv(b, 0, 5);
  EXPECT_EQ(a.to_vector<double>(), (std::vector<double>{1, 2}));
  EXPECT_EQ(b.to_vector<double>(), (std::vector<double>{3, 4}));
}

TEST(LocalCommunicator, RecvWithoutSendTimesOutNamingTheCall) {
  auto comm = make_local_communicator({.timeout_seconds = 0.05});
  Tensor t = zeros({2});
  EXPECT_TRUE(tgtest::contains_all(tgtest::error_message([&] { comm->recv(t, 0, 9, "activations"); }),
                                   {"recv from 0 tag 9 'activations'", "did not complete within 0.05 s"}));
}

TEST(LocalCommunicator, RejectsBadArguments) {
  auto comm = make_local_communicator();
  Tensor t = zeros({2, 3});
  EXPECT_TRUE(tgtest::contains_all(tgtest::error_message([&] { comm->all_reduce(t.t(), ReduceOp::Sum, "w"); }),
                                   {"all_reduce(sum) 'w'", "contiguous"}));
  EXPECT_TRUE(tgtest::contains_all(tgtest::error_message([&] { comm->broadcast(t, 1); }),
                                   {"rank 1 does not exist"}));
  Tensor ints = zeros({2}, DType::Int64);
  EXPECT_TRUE(tgtest::contains_all(tgtest::error_message([&] { comm->all_reduce(ints, ReduceOp::Avg); }),
                                   {"avg needs a floating tensor"}));
  EXPECT_TRUE(tgtest::contains_all(tgtest::error_message([&] { comm->all_reduce(zeros({2}, DType::Bool), ReduceOp::Sum); }),
                                   {"dtype bool is not supported"}));
}

TEST(DistInit, FallsBackToAWorldOfOneOutsideMpirun) {
  if (launched_by_mpi()) GTEST_FAIL() << "the unit tests are not meant to run under mpirun";
  EXPECT_EQ(init()->backend(), "local");
}

// The 16-bit compressions round with core/half.h's casts, tested exhaustively in tests/core/half_test.cpp.

TEST(Compression, TopKSendsTheLargestAndFeedsTheRestBack) {
  auto comm = make_local_communicator();
  Tensor flat = from_vector(std::vector<float>{0.1f, -5, 0.2f, 3});
  Tensor residual = zeros({4});
  int64_t bytes = 0;
  compressed_average_async(*comm, flat, residual, {.kind = CompressionKind::TopK, .topk_ratio = 0.5}, "b", bytes)->wait();
  EXPECT_EQ(bytes, 2 * 12);
  EXPECT_EQ(flat.to_vector<float>(), (std::vector<float>{0, -5, 0, 3}));
  EXPECT_EQ(residual.to_vector<float>(), (std::vector<float>{0.1f, 0, 0.2f, 0}));
  // Next step: the held-back values are added to the new gradient before choosing.
  Tensor next = from_vector(std::vector<float>{0.1f, 0, 0.1f, 0});
  compressed_average_async(*comm, next, residual, {.kind = CompressionKind::TopK, .topk_ratio = 0.5}, "b", bytes)->wait();
  EXPECT_EQ(next.to_vector<float>(), (std::vector<float>{0.2f, 0, 0.3f, 0}));
  EXPECT_EQ(residual.to_vector<float>(), (std::vector<float>{0, 0, 0, 0}));
}

TEST(DistributedDataParallel, BucketsFollowReverseRegistrationOrderAndSize) {
  auto comm = make_local_communicator();
  Tensor a = zeros({100}).requires_grad_(), b = zeros({100}).requires_grad_(), c = zeros({300}).requires_grad_();
  DistributedDataParallel ddp(comm, {{"a", a}, {"b", b}, {"c", c}}, {.bucket_bytes = 800});
  // c (1200 bytes) fills a bucket alone; b and a (400 bytes each) share the next.
  EXPECT_EQ(ddp.bucket_names(), (std::vector<std::vector<std::string>>{{"c"}, {"b", "a"}}));
}

TEST(DistributedDataParallel, InAWorldOfOneGradientsAreUnchangedAndUnusedOnesBecomeZero) {
  auto comm = make_local_communicator();
  Tensor w = from_vector(std::vector<float>{1, 2}).requires_grad_();
  Tensor unused = from_vector(std::vector<float>{7}).requires_grad_();
  DistributedDataParallel ddp(comm, {{"w", w}, {"unused", unused}}, {.bucket_bytes = 4});
  sum(w * w).backward();
  ddp.synchronize();
  EXPECT_EQ(w.grad().to_vector<float>(), (std::vector<float>{2, 4}));
  EXPECT_EQ(unused.grad().to_vector<float>(), (std::vector<float>{0}));
  EXPECT_EQ(ddp.stats().collectives, 2);
  // With overlap on, a second backward before synchronize() is refused rather than reduced half-done.
  sum(w).backward();
  EXPECT_TRUE(tgtest::contains_all(tgtest::error_message([&] { sum(w).backward(); }),
                                   {"parameter w", "second gradient before synchronize()"}));
}

// gradient_as_bucket_view: after synchronize() the gradients of a bucket are views of one buffer, laid out in
// the bucket's order; turned off, each .grad has memory of its own. The values are the same either way.
TEST(DistributedDataParallel, GradientsBecomeViewsOfTheirBucketUnlessTurnedOff) {
  auto comm = make_local_communicator();
  for (bool as_view : {true, false}) {
    Tensor w = from_vector(std::vector<float>{1, 2}).requires_grad_();
    Tensor v = from_vector(std::vector<float>{3, 4, 5}).requires_grad_();
    DistributedDataParallel ddp(comm, {{"w", w}, {"v", v}}, {.gradient_as_bucket_view = as_view});
    ASSERT_EQ(ddp.bucket_names(), (std::vector<std::vector<std::string>>{{"v", "w"}}));
    for (int step = 1; step <= 2; ++step) {
      w.zero_grad();
      v.zero_grad();
      sum((w * w) * static_cast<double>(step)).backward();
      sum(v * 3.0).backward();
      ddp.synchronize();
      EXPECT_EQ(w.grad().to_vector<float>(), (std::vector<float>{2.0f * step, 4.0f * step}));
      EXPECT_EQ(v.grad().to_vector<float>(), (std::vector<float>{3, 3, 3}));
      const bool shared = w.grad().storage() == v.grad().storage();
      EXPECT_EQ(shared, as_view) << "step " << step;
      if (as_view) {  // v first (reverse registration order), then w
        EXPECT_EQ(static_cast<const float*>(w.grad().data_ptr()), static_cast<const float*>(v.grad().data_ptr()) + 3);
      }
    }
  }
}

}  // namespace
}  // namespace tg::dist
