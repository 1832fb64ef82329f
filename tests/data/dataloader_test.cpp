// TensorDataset and DataLoader: coverage, seeded order, drop_last, rank sharding, prefetch equivalence,
// exceptions from the prefetch thread, and clean shutdown mid-epoch.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <numeric>
#include <set>
#include <stdexcept>
#include <tensorgrad/tensorgrad.h>
#include <thread>
#include <vector>

#include "support/expect_error.h"

namespace {

using tg::Batch;
using tg::DataLoader;
using tg::DataLoaderOptions;
using tg::DType;
using tg::Tensor;
using tg::TensorDataset;

// Example i has inputs (i, i + 0.5) and target 7 i, so a batch shows which examples it holds.
TensorDataset numbered(int64_t n) {
  Tensor x = Tensor::empty({n, 2}, DType::Float32);
  Tensor y = Tensor::empty({n}, DType::Int64);
  for (int64_t i = 0; i < n; ++i) {
    x.data<float>()[2 * i] = static_cast<float>(i);
    x.data<float>()[2 * i + 1] = static_cast<float>(i) + 0.5f;
    y.data<int64_t>()[i] = 7 * i;
  }
  return TensorDataset(x, y);
}

// Checks that a batch's tensors hold exactly the examples its indices name; returns the indices.
std::vector<int64_t> checked_indices(const Batch& b) {
  const auto k = static_cast<int64_t>(b.indices.size());
  EXPECT_EQ(b.inputs.shape(), (tg::Shape{k, 2}));
  EXPECT_EQ(b.targets.shape(), (tg::Shape{k}));
  EXPECT_TRUE(b.inputs.is_contiguous());
  const std::vector<float> x = b.inputs.to_vector<float>();
  const std::vector<int64_t> y = b.targets.to_vector<int64_t>();
  for (int64_t j = 0; j < k; ++j) {
    const int64_t i = b.indices[static_cast<size_t>(j)];
    EXPECT_EQ(x[static_cast<size_t>(2 * j)], static_cast<float>(i));
    EXPECT_EQ(x[static_cast<size_t>(2 * j + 1)], static_cast<float>(i) + 0.5f);
    EXPECT_EQ(y[static_cast<size_t>(j)], 7 * i);
  }
  return b.indices;
}

// All indices of one epoch, in order, and the batch sizes.
std::vector<int64_t> run_epoch(const DataLoader& loader, int64_t epoch, std::vector<int64_t>* sizes = nullptr) {
  std::vector<int64_t> seen;
  for (Batch& b : loader.epoch(epoch)) {
    const std::vector<int64_t> idx = checked_indices(b);
    seen.insert(seen.end(), idx.begin(), idx.end());
    if (sizes) sizes->push_back(static_cast<int64_t>(idx.size()));
  }
  return seen;
}

TEST(DataTensorDataset, GathersRowsOfAnyDtypeAndViews) {
  Tensor base = tg::arange(0.0, 24.0, 1.0, DType::Float64).reshape({4, 6});
  Tensor x = base.transpose(0, 1);  // [6, 4], non-contiguous
  Tensor y = tg::from_vector<bool>({true, false, true, true, false, false});
  TensorDataset ds(x, y);
  EXPECT_EQ(ds.size(), 6);
  const std::vector<int64_t> idx = {5, 0, 5};
  Batch b = ds.get_batch(idx);
  EXPECT_EQ(b.inputs.shape(), (tg::Shape{3, 4}));
  EXPECT_EQ(b.inputs.to_vector<double>(), (std::vector<double>{5, 11, 17, 23, 0, 6, 12, 18, 5, 11, 17, 23}));
  EXPECT_EQ(b.targets.to_vector<bool>(), (std::vector<bool>{false, true, false}));
  EXPECT_EQ(b.indices, idx);
  // gather_rows directly on a strided source
  EXPECT_EQ(tg::gather_rows(x, std::vector<int64_t>{1}).to_vector<double>(), (std::vector<double>{1, 7, 13, 19}));
}

TEST(DataTensorDataset, Errors) {
  EXPECT_TG_ERROR(TensorDataset(tg::zeros({3, 2}), tg::zeros({4})), "tg::TensorDataset", "[3, 2]", "[4]");
  EXPECT_TG_ERROR(TensorDataset(tg::scalar_tensor(1.0), tg::zeros({1})), "tg::TensorDataset", "dimension 0");
  TensorDataset ds = numbered(5);
  EXPECT_TG_ERROR(ds.get_batch(std::vector<int64_t>{1, 5}), "index 5", "position 1", "5 examples");
  EXPECT_TG_ERROR(ds.get_batch(std::vector<int64_t>{-1}), "index -1");
}

TEST(DataLoader, CoversEveryIndexExactlyOncePerEpoch) {
  DataLoader loader(numbered(103), {.batch_size = 10, .shuffle = true, .seed = 5});
  EXPECT_EQ(loader.size(), 11);
  EXPECT_EQ(loader.num_samples(), 103);
  for (int64_t epoch : {0, 1, 2}) {
    std::vector<int64_t> sizes;
    std::vector<int64_t> seen = run_epoch(loader, epoch, &sizes);
    EXPECT_EQ(static_cast<int64_t>(sizes.size()), loader.size());
    EXPECT_EQ(sizes.back(), 3);
    std::vector<int64_t> sorted = seen;
    std::sort(sorted.begin(), sorted.end());
    std::vector<int64_t> all(103);
    std::iota(all.begin(), all.end(), int64_t{0});
    EXPECT_EQ(sorted, all);
    EXPECT_NE(seen, all) << "shuffle left the order unchanged";
    EXPECT_EQ(seen, loader.epoch_indices(epoch));
  }
}

TEST(DataLoader, UnshuffledOrderIsSequential) {
  DataLoader loader(numbered(7), {.batch_size = 3, .prefetch = 0});
  EXPECT_EQ(run_epoch(loader, 4), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6}));
}

TEST(DataLoader, OrderDependsOnlyOnSeedAndEpoch) {
  const DataLoaderOptions opts{.batch_size = 8, .shuffle = true, .seed = 42};
  DataLoader a(numbered(50), opts);
  DataLoader b(numbered(50), opts);
  EXPECT_EQ(run_epoch(a, 3), run_epoch(b, 3));
  EXPECT_EQ(run_epoch(a, 3), run_epoch(a, 3));
  EXPECT_NE(run_epoch(a, 3), run_epoch(a, 4));
  DataLoaderOptions other = opts;
  other.seed = 43;
  EXPECT_NE(run_epoch(a, 3), run_epoch(DataLoader(numbered(50), other), 3));

  // A resumed run: a fresh loader told the epoch sees what the original saw.
  DataLoader resumed(numbered(50), opts);
  resumed.set_epoch(3);
  std::vector<int64_t> seen;
  for (Batch& batch : resumed) seen.insert(seen.end(), batch.indices.begin(), batch.indices.end());
  EXPECT_EQ(seen, run_epoch(a, 3));
}

// The documented algorithm, pinned: these orders were computed independently (Philox4x32-10 in Python,
// Fisher-Yates as documented in dataloader.h), so a change to the shuffle breaks resumed runs loudly.
TEST(DataLoader, ShuffleGoldenOrders) {
  EXPECT_EQ(tg::shuffled_indices(10, 42, 0), (std::vector<int64_t>{6, 2, 1, 8, 4, 3, 0, 5, 7, 9}));
  EXPECT_EQ(tg::shuffled_indices(10, 42, 1), (std::vector<int64_t>{8, 0, 1, 5, 6, 3, 2, 4, 7, 9}));
  EXPECT_EQ(tg::shuffled_indices(10, 7, 0), (std::vector<int64_t>{6, 9, 0, 5, 7, 4, 1, 3, 8, 2}));
  EXPECT_TRUE(tg::shuffled_indices(0, 1, 0).empty());
  EXPECT_EQ(tg::shuffled_indices(1, 1, 0), (std::vector<int64_t>{0}));
}

TEST(DataLoader, DropLastBatchCounts) {
  for (int64_t prefetch : {0, 2}) {
    DataLoader keep(numbered(10), {.batch_size = 4, .drop_last = false, .prefetch = prefetch});
    std::vector<int64_t> sizes;
    run_epoch(keep, 0, &sizes);
    EXPECT_EQ(keep.size(), 3);
    EXPECT_EQ(sizes, (std::vector<int64_t>{4, 4, 2}));

    DataLoader drop(numbered(10), {.batch_size = 4, .drop_last = true, .prefetch = prefetch});
    sizes.clear();
    run_epoch(drop, 0, &sizes);
    EXPECT_EQ(drop.size(), 2);
    EXPECT_EQ(sizes, (std::vector<int64_t>{4, 4}));

    DataLoader exact(numbered(8), {.batch_size = 4, .drop_last = true, .prefetch = prefetch});
    EXPECT_EQ(exact.size(), 2);
    DataLoader empty(numbered(0), {.batch_size = 4, .prefetch = prefetch});
    EXPECT_EQ(empty.size(), 0);
    EXPECT_TRUE(run_epoch(empty, 0).empty());
  }
}

TEST(DataLoader, ShardingAcrossThreeRanksIsDisjointAndEqual) {
  for (bool shuffle : {false, true}) {
    std::set<int64_t> all;
    std::vector<int64_t> batches;
    for (int64_t rank = 0; rank < 3; ++rank) {
      DataLoader loader(numbered(30),
                        {.batch_size = 4, .shuffle = shuffle, .seed = 9, .rank = rank, .world_size = 3});
      const std::vector<int64_t> mine = run_epoch(loader, 2);
      EXPECT_EQ(mine.size(), 10u);
      for (int64_t i : mine) EXPECT_TRUE(all.insert(i).second) << "index " << i << " on two ranks";
      batches.push_back(loader.size());
    }
    EXPECT_EQ(all.size(), 30u);
    EXPECT_EQ(batches, (std::vector<int64_t>{3, 3, 3}));
  }
}

TEST(DataLoader, ShardingPadsOrDropsUnevenSizes) {
  // 31 examples on 3 ranks: padded to 33 (every rank 11, all covered, two repeated), or cut to 30.
  std::multiset<int64_t> padded;
  std::set<int64_t> dropped;
  for (int64_t rank = 0; rank < 3; ++rank) {
    DataLoader pad(numbered(31), {.batch_size = 4, .shuffle = true, .seed = 1, .rank = rank, .world_size = 3});
    const std::vector<int64_t> mine = run_epoch(pad, 0);
    EXPECT_EQ(mine.size(), 11u);
    EXPECT_EQ(pad.size(), 3);
    padded.insert(mine.begin(), mine.end());

    DataLoader drop(numbered(31), {.batch_size = 4, .shuffle = true, .seed = 1, .drop_last = true, .rank = rank,
                                   .world_size = 3});
    const std::vector<int64_t> cut = run_epoch(drop, 0);
    EXPECT_EQ(cut.size(), 8u);  // 10 per rank, last incomplete batch of 2 dropped
    EXPECT_EQ(drop.num_samples(), 10);
    EXPECT_EQ(drop.size(), 2);
    for (int64_t i : drop.epoch_indices(0)) EXPECT_TRUE(dropped.insert(i).second);
  }
  EXPECT_EQ(padded.size(), 33u);
  EXPECT_EQ(std::set<int64_t>(padded.begin(), padded.end()).size(), 31u);
  EXPECT_EQ(dropped.size(), 30u);

  // More ranks than examples: every rank still gets one batch.
  for (int64_t rank = 0; rank < 5; ++rank) {
    DataLoader tiny(numbered(2), {.batch_size = 4, .rank = rank, .world_size = 5});
    EXPECT_EQ(run_epoch(tiny, 0).size(), 1u);
  }
}

TEST(DataLoader, PrefetchOnAndOffGiveIdenticalBatches) {
  auto collect = [](int64_t prefetch) {
    DataLoader loader(numbered(57), {.batch_size = 5, .shuffle = true, .seed = 3, .prefetch = prefetch,
                                     .transform = tg::Normalize{{1.0}, {2.0}}});
    std::vector<std::vector<float>> out;
    for (Batch& b : loader.epoch(1)) {
      out.push_back(b.inputs.to_vector<float>());
      const std::vector<int64_t> y = b.targets.to_vector<int64_t>();
      out.emplace_back(y.begin(), y.end());
    }
    return out;
  };
  const auto sync = collect(0);
  EXPECT_EQ(sync.size(), 2u * 12u);
  for (int64_t prefetch : {1, 2, 7, 100}) EXPECT_EQ(collect(prefetch), sync) << "prefetch " << prefetch;
}

TEST(DataLoader, NormalizePerChannel) {
  Tensor x = tg::from_vector<float>({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2});  // [N=2, C=2, 2]
  Tensor y = tg::Normalize{{1.0, 5.0}, {1.0, 2.0}}(x);
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{0, 1, -1, -0.5f, 4, 5, 1, 1.5f}));
  Tensor strided = tg::from_vector<float>({1, 3, 2, 4, 5, 7, 6, 8}, {2, 2, 2}).transpose(1, 2);  // == x
  ASSERT_FALSE(strided.is_contiguous());
  Tensor z = tg::Normalize{{1.0, 5.0}, {1.0, 2.0}}(strided);
  EXPECT_EQ(z.to_vector<float>(), y.to_vector<float>());
  EXPECT_TG_ERROR(tg::Normalize({{0, 0, 0}, {1, 1, 1}})(x), "tg::Normalize", "[2, 2, 2]");
  EXPECT_TG_ERROR(tg::Normalize({{0}, {0}})(x), "tg::Normalize", "non-zero");
  EXPECT_TG_ERROR(tg::Normalize({{0}, {1}})(tg::zeros({2}, DType::Int64)), "tg::Normalize", "floating");
}

// A dataset that throws when asked for a given example.
class FailingDataset : public tg::Dataset {
 public:
  explicit FailingDataset(int64_t bad) : inner_(numbered(20)), bad_(bad) {}
  int64_t size() const override { return inner_.size(); }
  Batch get_batch(std::span<const int64_t> indices) const override {
    for (int64_t i : indices)
      if (i == bad_) throw std::runtime_error("cannot read example " + std::to_string(i));
    return inner_.get_batch(indices);
  }

 private:
  TensorDataset inner_;
  int64_t bad_;
};

TEST(DataLoader, WorkerExceptionReachesConsumer) {
  for (int64_t prefetch : {0, 1, 3}) {
    // The dataset fails on example 13 (batch 3 with batch_size 4, no shuffle): batches 0-2 arrive first.
    DataLoader loader(std::make_shared<FailingDataset>(13), {.batch_size = 4, .prefetch = prefetch});
    std::vector<int64_t> got;
    std::string message;
    try {
      for (Batch& b : loader.epoch(0)) got.push_back(b.indices.front());
    } catch (const std::runtime_error& e) {
      message = e.what();
    }
    EXPECT_EQ(message, "cannot read example 13") << "prefetch " << prefetch;
    EXPECT_EQ(got, (std::vector<int64_t>{0, 4, 8})) << "prefetch " << prefetch;

    // A tg::Error thrown by the transform keeps its type and message too.
    std::atomic<int> calls{0};
    DataLoader failing(numbered(20), {.batch_size = 4, .prefetch = prefetch, .transform = [&](const Tensor& x) {
                                        if (calls++ == 1) TG_FAIL("transform: bad batch");
                                        return x;
                                      }});
    EXPECT_TG_ERROR(
        [&] {
          for (Batch& b : failing.epoch(0)) (void)b;
        }(),
        "transform: bad batch");
  }
}

TEST(DataLoader, FirstBatchFailureThrowsFromBegin) {
  DataLoader loader(std::make_shared<FailingDataset>(0), {.batch_size = 4});
  tg::DataLoader::Epoch epoch = loader.epoch(0);
  EXPECT_THROW(epoch.begin(), std::runtime_error);
}

TEST(DataLoader, EarlyBreakJoinsAndTheQueueIsBounded) {
  std::atomic<int64_t> built{0};
  DataLoaderOptions opts{.batch_size = 1, .prefetch = 3, .transform = [&](const Tensor& x) {
                           ++built;
                           return x;
                         }};
  DataLoader loader(numbered(1000), opts);
  int64_t consumed = 0;
  for (Batch& b : loader.epoch(0)) {
    (void)b;
    if (++consumed == 2) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the worker fill the queue
      break;
    }
  }
  // At most: the consumed ones, a full queue, and the one being built when the queue filled.
  EXPECT_LE(built.load(), consumed + opts.prefetch + 1);
  EXPECT_GE(built.load(), consumed);
  const int64_t after_break = built.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(built.load(), after_break) << "the worker kept running after the loop ended";
}

TEST(DataLoader, DestroyingMidEpochJoins) {
  // The loader iterated directly, destroyed with batches in flight and the worker blocked on a full queue.
  {
    auto loader = std::make_unique<DataLoader>(numbered(500), DataLoaderOptions{.batch_size = 2, .prefetch = 2});
    auto it = loader->begin();
    ++it;
    EXPECT_EQ(it->indices, (std::vector<int64_t>{2, 3}));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    loader.reset();
  }
  // Destroyed while the worker is inside a slow transform.
  {
    std::atomic<bool> started{false};
    DataLoader loader(numbered(50), {.batch_size = 5, .prefetch = 1, .transform = [&](const Tensor& x) {
                                       started = true;
                                       std::this_thread::sleep_for(std::chrono::milliseconds(30));
                                       return x;
                                     }});
    tg::DataLoader::Epoch epoch = loader.epoch(0);
    while (!started) std::this_thread::yield();
  }
  // An epoch never iterated, and an epoch object that outlives its loader.
  {
    auto loader = std::make_unique<DataLoader>(numbered(50), DataLoaderOptions{.batch_size = 5});
    tg::DataLoader::Epoch epoch = loader->epoch(1);
    loader.reset();
    int64_t n = 0;
    for (Batch& b : epoch) n += static_cast<int64_t>(b.indices.size());
    EXPECT_EQ(n, 50);
  }
}

TEST(DataLoader, RestartingTheLoaderStopsThePreviousPass) {
  DataLoader loader(numbered(40), {.batch_size = 4, .shuffle = true, .seed = 2});
  auto it = loader.begin();
  ++it;
  std::vector<int64_t> seen;
  for (Batch& b : loader) seen.insert(seen.end(), b.indices.begin(), b.indices.end());
  EXPECT_EQ(seen, loader.epoch_indices(0));
}

TEST(DataLoader, OptionErrors) {
  EXPECT_TG_ERROR(DataLoader(numbered(4), {.batch_size = 0}), "batch_size");
  EXPECT_TG_ERROR(DataLoader(numbered(4), {.rank = 3, .world_size = 3}), "rank", "world_size = 3");
  EXPECT_TG_ERROR(DataLoader(numbered(4), {.prefetch = -1}), "prefetch");
  DataLoader loader(numbered(4), {});
  EXPECT_TG_ERROR(loader.set_epoch(-1), "epoch");
  tg::DataLoader::Epoch epoch = loader.epoch(0);
  for (Batch& b : epoch) (void)b;
  EXPECT_TG_ERROR(epoch.begin(), "only once");
}

}  // namespace
