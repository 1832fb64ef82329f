#include <tensorgrad/base/error.h>
#include <tensorgrad/core/random.h>
#include <tensorgrad/data/dataloader.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <numeric>
#include <thread>

namespace tg {

// ---- the shuffle ----

namespace {

// 64-bit words from Philox4x32-10 keyed by the seed, with the epoch in the upper half of the counter.
class EpochStream {
 public:
  EpochStream(uint64_t seed, uint64_t epoch)
      : key_{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)},
        epoch_lo_(static_cast<uint32_t>(epoch)),
        epoch_hi_(static_cast<uint32_t>(epoch >> 32)) {}
  uint64_t next() {
    if (used_ == 2) {
      block_ = philox4x32({static_cast<uint32_t>(counter_), static_cast<uint32_t>(counter_ >> 32), epoch_lo_, epoch_hi_},
                          key_);
      ++counter_;
      used_ = 0;
    }
    const uint64_t word = (uint64_t{block_[2 * used_]} << 32) | block_[2 * used_ + 1];
    ++used_;
    return word;
  }
  // Uniform in [0, bound) for bound >= 1, by rejecting the incomplete top range of 64-bit words.
  uint64_t below(uint64_t bound) {
    const uint64_t reject_from = UINT64_MAX - UINT64_MAX % bound;  // multiple of bound (or max)
    while (true) {
      const uint64_t w = next();
      if (w < reject_from) return w % bound;
    }
  }

 private:
  std::array<uint32_t, 2> key_;
  uint32_t epoch_lo_, epoch_hi_;
  std::array<uint32_t, 4> block_{};
  uint64_t counter_ = 0;
  int used_ = 2;
};

void check_options(const DataLoaderOptions& o) {
  TG_CHECK(o.batch_size >= 1, "tg::DataLoader: batch_size must be at least 1, got ", o.batch_size);
  TG_CHECK(o.world_size >= 1, "tg::DataLoader: world_size must be at least 1, got ", o.world_size);
  TG_CHECK(o.rank >= 0 && o.rank < o.world_size, "tg::DataLoader: rank must be in [0, world_size = ", o.world_size,
           "), got ", o.rank);
  TG_CHECK(o.prefetch >= 0, "tg::DataLoader: prefetch must be >= 0 (0 = synchronous), got ", o.prefetch);
}

int64_t samples_per_rank(int64_t n, const DataLoaderOptions& o) {
  if (n == 0) return 0;
  return o.drop_last ? n / o.world_size : (n + o.world_size - 1) / o.world_size;
}

int64_t batches_for(int64_t samples, const DataLoaderOptions& o) {
  return o.drop_last ? samples / o.batch_size : (samples + o.batch_size - 1) / o.batch_size;
}

std::vector<int64_t> rank_indices(int64_t n, const DataLoaderOptions& o, int64_t epoch) {
  TG_CHECK(epoch >= 0, "tg::DataLoader: epoch must be >= 0, got ", epoch);
  std::vector<int64_t> order;
  if (o.shuffle) order = shuffled_indices(n, o.seed, static_cast<uint64_t>(epoch));
  else {
    order.resize(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), int64_t{0});
  }
  const int64_t per_rank = samples_per_rank(n, o);
  std::vector<int64_t> mine(static_cast<size_t>(per_rank));
  for (int64_t k = 0; k < per_rank; ++k)  // wraps around to pad the last round (only without drop_last)
    mine[static_cast<size_t>(k)] = order[static_cast<size_t>((o.rank + k * o.world_size) % n)];
  return mine;
}

}  // namespace

std::vector<int64_t> shuffled_indices(int64_t n, uint64_t seed, uint64_t epoch) {
  TG_CHECK(n >= 0, "tg::shuffled_indices: n must be >= 0, got ", n);
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  EpochStream stream(seed, epoch);
  for (int64_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(stream.below(static_cast<uint64_t>(i) + 1));
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
  }
  return order;
}

// ---- Normalize ----

Tensor Normalize::operator()(const Tensor& input) const {
  constexpr const char* op = "tg::Normalize";
  TG_CHECK(input.defined(), op, ": undefined input");
  TG_CHECK(!mean.empty() && mean.size() == std.size(), op, ": mean and std must be non-empty and of the same length, "
           "got ", mean.size(), " and ", std.size());
  for (double s : std) TG_CHECK(s != 0.0, op, ": std must be non-zero");
  const int64_t channels = static_cast<int64_t>(mean.size());
  int64_t inner = input.numel();  // elements per (n, c) run
  int64_t outer = 1;
  if (channels > 1) {
    TG_CHECK(input.dim() >= 2 && input.size(1) == channels, op, ": ", channels, " means/stds need inputs of shape "
             "[N, ", channels, ", ...], got ", input.shape());
    outer = input.size(0);
    inner = input.size(0) * channels == 0 ? 0 : input.numel() / (input.size(0) * channels);
  }
  return visit_floating(input.dtype(), op, [&]<class T>(TypeTag<T>) {
    // A contiguous copy of a strided input first (gather_rows over all rows).
    Tensor x = input;
    if (!x.is_contiguous()) {
      std::vector<int64_t> all(static_cast<size_t>(x.size(0)));
      std::iota(all.begin(), all.end(), int64_t{0});
      x = gather_rows(x, all, op);
    }
    Tensor out = Tensor::empty(x.shape(), x.dtype());
    const T* in = x.data<T>();
    T* o = out.data<T>();
    for (int64_t b = 0; b < outer; ++b)
      for (int64_t c = 0; c < channels; ++c) {
        const T m = static_cast<T>(mean[static_cast<size_t>(c)]);
        const T s = static_cast<T>(std[static_cast<size_t>(c)]);
        const int64_t base = (b * channels + c) * inner;
        for (int64_t k = 0; k < inner; ++k) o[base + k] = (in[base + k] - m) / s;
      }
    return out;
  });
}

// ---- one epoch ----

struct DataLoader::EpochState {
  std::shared_ptr<const Dataset> dataset;
  DataLoaderOptions options;
  std::vector<int64_t> indices;  // this rank's visiting order
  int64_t num_batches = 0;

  // consumer side
  bool started = false;
  int64_t next_batch = 0;  // index of the batch the next advance() delivers
  bool finished = false;   // no current batch: past the end, or failed
  Batch current;

  // prefetch thread
  std::thread worker;
  std::mutex mutex;
  std::condition_variable ready;     // a batch, an error or the end is available
  std::condition_variable not_full;  // the queue has room, or stop was asked
  std::deque<Batch> queue;
  std::exception_ptr error;
  bool stop = false;
  bool worker_done = false;

  Batch make_batch(int64_t b) const {
    const int64_t begin = b * options.batch_size;
    const int64_t end = std::min<int64_t>(begin + options.batch_size, static_cast<int64_t>(indices.size()));
    Batch batch = dataset->get_batch(std::span<const int64_t>(indices.data() + begin, static_cast<size_t>(end - begin)));
    if (options.transform) {
      batch.inputs = options.transform(batch.inputs);
      TG_CHECK(batch.inputs.defined(), "tg::DataLoader: the transform returned an undefined tensor for batch ", b);
    }
    return batch;
  }

  void run_worker() {
    for (int64_t b = 0; b < num_batches; ++b) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (stop) break;
      }
      Batch batch;
      std::exception_ptr failure;
      try {
        batch = make_batch(b);
      } catch (...) {
        failure = std::current_exception();
      }
      std::unique_lock<std::mutex> lock(mutex);
      if (failure) {
        error = failure;
        break;
      }
      not_full.wait(lock, [&] { return stop || static_cast<int64_t>(queue.size()) < options.prefetch; });
      if (stop) break;
      queue.push_back(std::move(batch));
      ready.notify_one();
    }
    std::lock_guard<std::mutex> lock(mutex);
    worker_done = true;
    ready.notify_all();
  }

  void start() {
    if (options.prefetch > 0 && num_batches > 0) worker = std::thread([this] { run_worker(); });
  }

  void shutdown() {
    if (!worker.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(mutex);
      stop = true;
    }
    not_full.notify_all();
    worker.join();
  }

  ~EpochState() { shutdown(); }

  // Moves to the next batch (or to the end); rethrows a failure of the batch it was to deliver.
  void advance() {
    if (finished) return;
    if (next_batch >= num_batches) {
      finished = true;
      current = Batch();
      shutdown();
      return;
    }
    const int64_t b = next_batch++;
    if (!worker.joinable()) {
      try {
        current = make_batch(b);
      } catch (...) {
        finished = true;
        current = Batch();
        throw;
      }
      return;
    }
    std::unique_lock<std::mutex> lock(mutex);
    ready.wait(lock, [&] { return !queue.empty() || error || worker_done; });
    if (!queue.empty()) {
      current = std::move(queue.front());
      queue.pop_front();
      not_full.notify_one();
      return;
    }
    finished = true;
    current = Batch();
    if (error) {
      std::exception_ptr e = error;
      lock.unlock();
      shutdown();
      std::rethrow_exception(e);
    }
    TG_FAIL("tg::DataLoader: internal error: the prefetch thread ended before batch ", b, " of ", num_batches);
  }
};

// ---- Iterator ----

Batch& DataLoader::Iterator::operator*() const {
  TG_CHECK(!at_end(), "tg::DataLoader: dereferencing the end iterator of an epoch");
  return state_->current;
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  TG_CHECK(!at_end(), "tg::DataLoader: incrementing the end iterator of an epoch");
  state_->advance();
  return *this;
}

bool DataLoader::Iterator::at_end() const { return state_ == nullptr || state_->finished; }

bool DataLoader::Iterator::operator==(const Iterator& other) const {
  const bool a = at_end(), b = other.at_end();
  return a == b && (a || state_ == other.state_);
}

// ---- Epoch ----

DataLoader::Epoch::Epoch(std::unique_ptr<EpochState> state) : state_(std::move(state)) { state_->start(); }
DataLoader::Epoch::Epoch(Epoch&&) noexcept = default;
DataLoader::Epoch& DataLoader::Epoch::operator=(Epoch&&) noexcept = default;
DataLoader::Epoch::~Epoch() = default;

DataLoader::Iterator DataLoader::Epoch::begin() {
  TG_CHECK(state_ != nullptr, "tg::DataLoader::Epoch::begin: the epoch was moved from");
  TG_CHECK(!state_->started, "tg::DataLoader::Epoch::begin: an epoch can be iterated only once; ask the loader for "
           "epoch(e) again to repeat it");
  state_->started = true;
  state_->advance();
  return Iterator(state_.get());
}

int64_t DataLoader::Epoch::size() const { return state_ ? state_->num_batches : 0; }

// ---- DataLoader ----

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)), options_(std::move(options)) {
  TG_CHECK(dataset_ != nullptr, "tg::DataLoader: null dataset");
  check_options(options_);
}

DataLoader::DataLoader(TensorDataset dataset, DataLoaderOptions options)
    : DataLoader(std::make_shared<const TensorDataset>(std::move(dataset)), std::move(options)) {}

DataLoader::~DataLoader() = default;

int64_t DataLoader::num_samples() const { return samples_per_rank(dataset_->size(), options_); }
int64_t DataLoader::size() const { return batches_for(num_samples(), options_); }

std::vector<int64_t> DataLoader::epoch_indices(int64_t epoch) const {
  return rank_indices(dataset_->size(), options_, epoch);
}

DataLoader::Epoch DataLoader::epoch(int64_t epoch) const {
  auto state = std::make_unique<EpochState>();
  state->dataset = dataset_;
  state->options = options_;
  state->indices = rank_indices(dataset_->size(), options_, epoch);
  state->num_batches = batches_for(static_cast<int64_t>(state->indices.size()), options_);
  return Epoch(std::move(state));
}

void DataLoader::set_epoch(int64_t epoch) {
  TG_CHECK(epoch >= 0, "tg::DataLoader::set_epoch: epoch must be >= 0, got ", epoch);
  epoch_ = epoch;
}

DataLoader::Iterator DataLoader::begin() {
  active_.reset();  // stops a pass still running
  active_ = std::make_unique<Epoch>(epoch(epoch_));
  return active_->begin();
}

}  // namespace tg
