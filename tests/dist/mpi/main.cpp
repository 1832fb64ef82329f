// gtest main for the tests that need several processes. ctest starts it through mpirun with 2 and 3 ranks.
// Collectives verify their fingerprints and time out after 20 s, so a test failing on one rank turns into
// errors on all ranks instead of a hang. Only rank 0 prints the per-test lines; failures print on every rank.
#include <gtest/gtest.h>

#include <tensorgrad/tensorgrad.h>

#include "world.h"

namespace tgtest {
namespace {
std::shared_ptr<tg::dist::Communicator> shared_world;
}
tg::dist::Communicator& world() { return *shared_world; }
}  // namespace tgtest

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (!tg::dist::launched_by_mpi()) {
    std::fprintf(stderr, "tg_dist_tests must run under mpirun (e.g. mpirun -np 2 %s)\n", argv[0]);
    return 2;
  }
  // TG_DIST_PROGRESS (set by ctest: off for 2 ranks, on for 3) picks the thread level and the progress thread.
  tg::dist::CommOptions options = tg::dist::options_from_env();
  options.timeout_seconds = 20;
  options.verify_collectives = true;
  tgtest::shared_world = tg::dist::make_mpi_communicator(options);
  if (tgtest::shared_world->rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  const int status = RUN_ALL_TESTS();
  // Every rank's verdict decides everyone's exit code.
  tg::Tensor failed = tg::from_vector(std::vector<int64_t>{status != 0 ? 1 : 0});
  tgtest::world().all_reduce(failed, tg::dist::ReduceOp::Max, "exit status");
  if (failed.item<int64_t>() != 0 && status == 0)
    std::fprintf(stderr, "rank %d: passed, but another rank failed\n", tgtest::world().rank());
  tgtest::shared_world.reset();
  return failed.item<int64_t>() != 0 ? 1 : 0;
}
