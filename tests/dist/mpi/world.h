#pragma once
// The communicator shared by the tests of tg_dist_tests, which run under mpirun (every rank runs every test,
// in the same order, so every collective in a test is matched on all ranks).
#include <memory>

#include <tensorgrad/dist/communicator.h>

namespace tgtest {
tg::dist::Communicator& world();
}
