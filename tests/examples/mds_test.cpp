// The MDS example's solver (examples/mds.h): coordinates recovered from squared distances by autodiff + Adam
// match the true points after Procrustes alignment.
#include <gtest/gtest.h>

#include "../../examples/mds.h"

namespace {

TEST(MdsExample, RecoversRandomPointsFromDistances) {
  tg::Generator gen(42);
  const auto v = tg::rand({12, 2}, tg::DType::Float64, gen).to_vector<double>();
  mds::Points truth;
  for (int i = 0; i < 12; ++i) truth.push_back({5 * v[static_cast<size_t>(2 * i)], 5 * v[static_cast<size_t>(2 * i + 1)]});
  const mds::Fit fit = mds::fit(mds::squared_distances(truth), 1500, 0.02, 7);
  ASSERT_EQ(fit.stress.size(), 1500u);
  EXPECT_LT(fit.stress.back(), 1e-4);
  EXPECT_LT(fit.stress.back(), fit.stress.front() * 1e-2) << "stress must fall";
  EXPECT_LT(mds::relative_error(mds::procrustes(fit.points, truth), truth), 1e-3);
}

TEST(MdsExample, ProcrustesUndoesRotationReflectionAndShift) {
  const mds::Points truth = {{0, 0}, {1, 0}, {0, 2}, {3, 1}};
  mds::Points moved;
  const double c = std::cos(0.7), s = std::sin(0.7);
  for (const auto& p : truth) moved.push_back({c * p[0] + s * p[1] + 5, s * p[0] - c * p[1] - 2});  // reflected
  EXPECT_LT(mds::relative_error(mds::procrustes(moved, truth), truth), 1e-12);
  EXPECT_GT(mds::relative_error(moved, truth), 0.5);
}

}  // namespace
