// The MPI backend: non-blocking MPI collectives (MPI_Iallreduce, ...) on a private duplicate of
// MPI_COMM_WORLD, completed by polling MPI_Test against a deadline instead of blocking in MPI_Wait, so a rank
// that never arrives turns into an error. Two more duplicates carry the fingerprint check of
// verify_collectives and the "what are you waiting on" messages exchanged after a timeout; they never mix
// with the data traffic. All MPI calls come from the thread that initialised MPI (MPI_THREAD_FUNNELED), except
// with a progress thread (MPI_THREAD_MULTIPLE), which only calls MPI_Iprobe on a fourth duplicate to drive
// Open MPI's progress engine.
//
// The blocking fast path (CommOptions::blocking_fast_path): the blocking collectives call MPI_Allreduce,
// MPI_Bcast, ... directly (Open MPI's tuned algorithms; libnbc's non-blocking ones were 1.3-2.2x slower from 16K
// floats up on 2 ranks, docs/DISTRIBUTED.md), with a Watchdog armed around the call. On expiry the watchdog
// thread reports the call and ends the process. Thread levels: under MPI_THREAD_FUNNELED only the main thread
// may call MPI, and it is inside MPI_Allreduce at that very moment, so the watchdog calls no MPI function (no
// MPI_Abort, no asking the other ranks): it prints and calls std::_Exit(3), and mpirun, seeing a rank exit
// without MPI_Finalize, kills the rest of the job. Under MPI_THREAD_MULTIPLE (progress thread on) it may: it
// runs diagnose() (what the other ranks are waiting on), prints, and calls MPI_Abort(MPI_COMM_WORLD, 3). Either
// way nothing is unwound: the stuck call never returns.
#include <tensorgrad/dist/communicator.h>

#include <cstdio>
#include <cstdlib>

#include <tensorgrad/base/error.h>

#ifdef TG_WITH_MPI
#include <mpi.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstring>
#include <deque>
#include <map>
#include <sstream>
#include <thread>
#include <vector>

#include "termination.h"
#include "watchdog.h"
#include "work.h"
#endif

namespace tg::dist {

bool launched_by_mpi() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"})
    if (std::getenv(var) != nullptr) return true;
  return false;
}

#ifndef TG_WITH_MPI

bool mpi_built() { return false; }

std::shared_ptr<Communicator> make_mpi_communicator(CommOptions) {
  TG_FAIL("tg::dist: this tensorgrad was built without MPI; install libopenmpi-dev and openmpi-bin and reconfigure");
}

void abort_job(int exit_code) {
  std::fflush(nullptr);
  std::_Exit(exit_code);
}

#else

bool mpi_built() { return true; }

namespace {

using detail::check_buffer;
using detail::tensor_summary;

void check_mpi(int rc, const std::string& what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(rc, text, &length);
  TG_FAIL("tg::dist: ", what, ": MPI error: ", std::string(text, static_cast<size_t>(length)));
}

// MPI is initialised once per process and finalised at exit (the runtime is process-wide by nature). The
// first request decides the thread level: MPI_THREAD_MULTIPLE when a progress thread is wanted.
class MpiRuntime {
 public:
  static int ensure(bool want_multiple) {
    static MpiRuntime runtime(want_multiple);
    return runtime.provided_;
  }
  ~MpiRuntime() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (owns_ && !finalized) MPI_Finalize();
  }

 private:
  explicit MpiRuntime(bool want_multiple) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized) {
      MPI_Query_thread(&provided_);
      return;
    }
    check_mpi(MPI_Init_thread(nullptr, nullptr, want_multiple ? MPI_THREAD_MULTIPLE : MPI_THREAD_FUNNELED, &provided_),
              "MPI_Init_thread");
    owns_ = true;
  }
  bool owns_ = false;
  int provided_ = MPI_THREAD_SINGLE;
};

bool mpi_finalized() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  return finalized != 0;
}

MPI_Datatype mpi_type(DType dtype) {
  switch (dtype) {
    case DType::Float32: return MPI_FLOAT;
    case DType::Float64: return MPI_DOUBLE;
    case DType::Int64: return MPI_INT64_T;
    default: TG_FAIL("tg::dist: no MPI type for ", dtype_name(dtype));
  }
}

MPI_Op mpi_op(ReduceOp op) { return op == ReduceOp::Max ? MPI_MAX : MPI_SUM; }

int mpi_count(const Tensor& t, const std::string& what) {
  TG_CHECK(t.numel() <= INT_MAX, "tg::dist: ", what, ": ", t.numel(), " elements exceed MPI's int count");
  return static_cast<int>(t.numel());
}

template <class T>
void divide_elements(T* __restrict p, int64_t n, T divisor) {
  for (int64_t i = 0; i < n; ++i) p[i] /= divisor;
}

// Avg = Sum, then this. The element count and the pointer are locals so the loop vectorises: written with
// t.numel() in the condition it could not (a store through p might change it) and took 1 ms of scalar
// divisions per 400K floats, four times the all-reduce itself.
void divide_in_place(const Tensor& t, int divisor) {
  if (t.dtype() == DType::Float32) divide_elements(t.data<float>(), t.numel(), static_cast<float>(divisor));
  else divide_elements(t.data<double>(), t.numel(), static_cast<double>(divisor));
}

template <class T>
void add_typed(T* __restrict into, const T* __restrict from, int64_t n) {
  for (int64_t i = 0; i < n; ++i) into[i] += from[i];
}

void add_elements(DType dtype, void* into, const void* from, int64_t n) {
  switch (dtype) {
    case DType::Float32: return add_typed(static_cast<float*>(into), static_cast<const float*>(from), n);
    case DType::Float64: return add_typed(static_cast<double*>(into), static_cast<const double*>(from), n);
    case DType::Int64: return add_typed(static_cast<int64_t*>(into), static_cast<const int64_t*>(from), n);
    default: TG_FAIL("tg::dist: cannot add ", dtype_name(dtype));
  }
}

constexpr int kDiagnosisBytes = 512;
constexpr int kDiagnosisTag = 7;
constexpr int kFingerprintBytes = 256;
constexpr int kWatchdogExitCode = 3;
// Polled sums of at least this many elements take ring_all_reduce instead of MPI_Iallreduce (measured: see there).
constexpr int64_t kRingMinElements = 16384;

class MpiCommunicator;

class MpiWork final : public detail::PolledWork {
 public:
  // Runs each time every current request has completed: starts the next step's requests and returns true, or
  // returns false when the schedule is over (the ring all-reduce's steps; single-call operations have none).
  using Advance = std::function<bool(MPI_Request* requests)>;
  static constexpr int kRequests = 2;  // a step is at most a send and a receive

  MpiWork(std::shared_ptr<MpiCommunicator> comm, std::string description, std::vector<Tensor> keep_alive,
          std::function<void()> finish, Advance advance = {});
  ~MpiWork() override;
  MPI_Request* request() { return requests_.data(); }

 protected:
  bool poll_once() override;
  void on_complete() override {
    if (finish_) finish_();
  }
  std::string timeout_report() override;

 private:
  std::shared_ptr<MpiCommunicator> comm_;
  std::array<MPI_Request, kRequests> requests_{MPI_REQUEST_NULL, MPI_REQUEST_NULL};
  std::vector<Tensor> keep_alive_;  // the buffers MPI reads and writes
  std::function<void()> finish_;
  Advance advance_;
};

class MpiCommunicator final : public Communicator, public std::enable_shared_from_this<MpiCommunicator> {
 public:
  explicit MpiCommunicator(CommOptions options) : Communicator(options) {
    const int provided = MpiRuntime::ensure(options.progress_thread);
    thread_multiple_ = provided == MPI_THREAD_MULTIPLE;
    if (options.progress_thread && provided != MPI_THREAD_MULTIPLE) {
      // Still correct without it, only slower: say so once and go on.
      std::fprintf(stderr, "tg::dist: no progress thread: it needs MPI_THREAD_MULTIPLE, and MPI runs at thread level "
                   "%d (the first communicator of the process decides)\n", provided);
      options_.progress_thread = false;
    }
    for (MPI_Comm* c : {&comm_, &verify_comm_, &diagnosis_comm_, &progress_comm_, &ring_comm_}) {
      check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, c), "MPI_Comm_dup");
      MPI_Comm_set_errhandler(*c, MPI_ERRORS_RETURN);
    }
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    detail::install_termination_report(rank_, size_);
    if (options_.progress_thread) progress_ = std::thread([this] { drive_progress(); });
  }

  ~MpiCommunicator() override {
    watchdog_.reset();
    stop_progress_ = true;
    if (progress_.joinable()) progress_.join();
    if (mpi_finalized()) return;
    // Operations abandoned after a timeout may still complete (a late rank arriving); give them the timeout.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(options_.timeout_seconds);
    while (!orphans_.empty() && std::chrono::steady_clock::now() < deadline) poll_orphans();
    if (!orphans_.empty()) {
      // MPI may still write into these buffers: keep them alive for the rest of the process.
      new std::vector<Orphan>(std::move(orphans_));
      return;
    }
    for (MPI_Comm* c : {&comm_, &verify_comm_, &diagnosis_comm_, &progress_comm_, &ring_comm_}) MPI_Comm_free(c);
  }

  int rank() const override { return rank_; }
  int world_size() const override { return size_; }
  std::string backend() const override { return "mpi"; }

  WorkHandle all_reduce_async(const Tensor& tensor, ReduceOp op, const std::string& label) override {
    const std::string what = collective("all_reduce(" + std::string(reduce_op_name(op)) + ")", label, tensor);
    TG_CHECK(op != ReduceOp::Avg || tensor.dtype() != DType::Int64, "tg::dist: ", what, ": avg needs a floating tensor");
    std::function<void()> finish;
    if (op == ReduceOp::Avg) finish = [tensor, n = size_] { divide_in_place(tensor, n); };
    if (op != ReduceOp::Max && size_ > 1 && tensor.numel() >= kRingMinElements)
      return ring_all_reduce(tensor, what, std::move(finish));
    return launch(what, {tensor}, std::move(finish), [&](MPI_Request* r) {
      return MPI_Iallreduce(MPI_IN_PLACE, tensor.data_ptr(), mpi_count(tensor, what), mpi_type(tensor.dtype()),
                            mpi_op(op), comm_, r);
    });
  }

  // A sum over the ranks as a ring of point-to-point messages on ring_comm_: N - 1 reduce-scatter steps (send one
  // chunk to the right, receive the next from the left into scratch, add it in), then N - 1 all-gather steps
  // (pass the finished chunks along), one chunk per rank. Each rank sends and receives 2 (N - 1) / N of the
  // buffer, as MPI's ring algorithm does, and every chunk is summed once, on one rank, in ring order, so every
  // rank gets the same bits. For the polled path's large all-reduces in place of MPI_Iallreduce, which Open MPI
  // runs through libnbc: 1.4-2x slower than this on 2 ranks from 100K floats (docs/DISTRIBUTED.md). The steps
  // advance when the work is polled (DDP's gradient hooks, wait()).
  WorkHandle ring_all_reduce(const Tensor& tensor, const std::string& what, std::function<void()> finish) {
    const int64_t n = mpi_count(tensor, what);  // the bound MPI_Iallreduce had; chunks then fit an int too
    const int world = size_, me = rank_, left = (me + world - 1) % world, right = (me + 1) % world;
    const int tag = static_cast<int>(calls_ % 32000);  // rings in flight at once never share a tag
    const DType dtype = tensor.dtype();
    const MPI_Datatype type = mpi_type(dtype);
    const int64_t item = static_cast<int64_t>(itemsize(dtype));
    char* base = static_cast<char*>(tensor.data_ptr());
    const Tensor scratch = Tensor::empty({(n + world - 1) / world}, dtype);
    const MPI_Comm ring = ring_comm_;
    // Chunk k (any integer, taken mod world): its first element and length.
    auto chunk = [n, world](int k) {
      k = ((k % world) + world) % world;
      const int64_t lo = n * k / world, hi = n * (k + 1) / world;
      return std::pair<int64_t, int>{lo, static_cast<int>(hi - lo)};
    };
    const int steps = 2 * (world - 1);
    auto start_step = [=](int s, MPI_Request* r) {
      const bool scatter = s < world - 1;
      const int a = scatter ? s : s - (world - 1);
      const auto [send_at, send_n] = chunk(scatter ? me - a : me + 1 - a);
      const auto [recv_at, recv_n] = chunk(scatter ? me - a - 1 : me - a);
      void* into = scatter ? scratch.data_ptr() : base + recv_at * item;
      check_mpi(MPI_Irecv(into, recv_n, type, left, tag, ring, &r[0]), what);
      check_mpi(MPI_Isend(base + send_at * item, send_n, type, right, tag, ring, &r[1]), what);
    };
    auto step = std::make_shared<int>(0);  // the step in flight
    auto advance = [=](MPI_Request* r) -> bool {
      if (*step < world - 1) {
        const auto [at, count] = chunk(me - *step - 1);
        add_elements(dtype, base + at * item, scratch.data_ptr(), count);
      }
      if (++*step == steps) return false;
      start_step(*step, r);
      return true;
    };
    return launch(what, {tensor, scratch}, std::move(finish),
                  [&](MPI_Request* r) {
                    start_step(0, r);
                    return MPI_SUCCESS;
                  },
                  std::move(advance));
  }

  WorkHandle broadcast_async(const Tensor& tensor, int root, const std::string& label) override {
    const std::string what = collective("broadcast from " + std::to_string(root), label, tensor);
    check_rank(root, what);
    return launch(what, {tensor}, {}, [&](MPI_Request* r) {
      return MPI_Ibcast(tensor.data_ptr(), mpi_count(tensor, what), mpi_type(tensor.dtype()), root, comm_, r);
    });
  }

  WorkHandle all_gather_async(const Tensor& input, const Tensor& output, const std::string& label) override {
    check_buffer(input, "all_gather '" + label + "' input");
    check_buffer(output, "all_gather '" + label + "' output");
    check_split(input, output, "all_gather '" + label + "'");
    const std::string what = collective("all_gather", label, input);
    return launch(what, {input, output}, {}, [&](MPI_Request* r) {
      const MPI_Datatype type = mpi_type(input.dtype());
      return MPI_Iallgather(input.data_ptr(), mpi_count(input, what), type, output.data_ptr(),
                            mpi_count(input, what), type, comm_, r);
    });
  }

  WorkHandle reduce_scatter_async(const Tensor& input, const Tensor& output, ReduceOp op,
                                  const std::string& label) override {
    check_buffer(input, "reduce_scatter '" + label + "' input");
    check_buffer(output, "reduce_scatter '" + label + "' output");
    check_split(output, input, "reduce_scatter '" + label + "'");
    const std::string what = collective("reduce_scatter(" + std::string(reduce_op_name(op)) + ")", label, output);
    TG_CHECK(op != ReduceOp::Avg || output.dtype() != DType::Int64, "tg::dist: ", what,
             ": avg needs a floating tensor");
    std::function<void()> finish;
    if (op == ReduceOp::Avg) finish = [output, n = size_] { divide_in_place(output, n); };
    return launch(what, {input, output}, std::move(finish), [&](MPI_Request* r) {
      return MPI_Ireduce_scatter_block(input.data_ptr(), output.data_ptr(), mpi_count(output, what),
                                       mpi_type(output.dtype()), mpi_op(op), comm_, r);
    });
  }

  WorkHandle send_async(const Tensor& tensor, int dst, int tag, const std::string& label) override {
    const std::string what = point_to_point("send to " + std::to_string(dst), tag, label, tensor, dst);
    return launch(what, {tensor}, {}, [&](MPI_Request* r) {
      return MPI_Isend(tensor.data_ptr(), mpi_count(tensor, what), mpi_type(tensor.dtype()), dst, tag, comm_, r);
    });
  }

  WorkHandle recv_async(const Tensor& tensor, int src, int tag, const std::string& label) override {
    const std::string what = point_to_point("recv from " + std::to_string(src), tag, label, tensor, src);
    return launch(what, {tensor}, {}, [&](MPI_Request* r) {
      return MPI_Irecv(tensor.data_ptr(), mpi_count(tensor, what), mpi_type(tensor.dtype()), src, tag, comm_, r);
    });
  }

  WorkHandle barrier_async(const std::string& label) override {
    const std::string what = detail::call_description("barrier", label, ++calls_, "");
    verify(what);
    return launch(what, {}, {}, [&](MPI_Request* r) { return MPI_Ibarrier(comm_, r); });
  }

  // The blocking fast path: blocking MPI collectives under the watchdog (see the top of this file). The call's
  // description is built only for a fingerprint check, a timeout or an error.
  void all_reduce(const Tensor& tensor, ReduceOp op, const std::string& label) override {
    if (!options_.blocking_fast_path) return Communicator::all_reduce(tensor, op, label);
    const uint64_t call = calls_ + 1;
    auto describe = [&] {
      return detail::call_description("all_reduce(" + std::string(reduce_op_name(op)) + ")", label, call,
                                      tensor_summary(tensor));
    };
    if (!detail::buffer_ok(tensor)) check_buffer(tensor, describe());
    if (op == ReduceOp::Avg && tensor.dtype() == DType::Int64)
      TG_FAIL("tg::dist: ", describe(), ": avg needs a floating tensor");
    const int count = count_or_fail(tensor, describe);
    blocking(describe, [&] {
      return MPI_Allreduce(MPI_IN_PLACE, tensor.data_ptr(), count, mpi_type(tensor.dtype()), mpi_op(op), comm_);
    });
    if (op == ReduceOp::Avg) divide_in_place(tensor, size_);
  }

  void broadcast(const Tensor& tensor, int root, const std::string& label) override {
    if (!options_.blocking_fast_path) return Communicator::broadcast(tensor, root, label);
    const uint64_t call = calls_ + 1;
    auto describe = [&] {
      return detail::call_description("broadcast from " + std::to_string(root), label, call, tensor_summary(tensor));
    };
    if (!detail::buffer_ok(tensor)) check_buffer(tensor, describe());
    if (root < 0 || root >= size_) check_rank(root, describe());
    const int count = count_or_fail(tensor, describe);
    blocking(describe, [&] { return MPI_Bcast(tensor.data_ptr(), count, mpi_type(tensor.dtype()), root, comm_); });
  }

  void all_gather(const Tensor& input, const Tensor& output, const std::string& label) override {
    if (!options_.blocking_fast_path) return Communicator::all_gather(input, output, label);
    if (!detail::buffer_ok(input) || !detail::buffer_ok(output) || !split_ok(input, output))
      return Communicator::all_gather(input, output, label);  // the polled path's checks throw the message
    const uint64_t call = calls_ + 1;
    auto describe = [&] { return detail::call_description("all_gather", label, call, tensor_summary(input)); };
    const int count = count_or_fail(input, describe);
    blocking(describe, [&] {
      const MPI_Datatype type = mpi_type(input.dtype());
      return MPI_Allgather(input.data_ptr(), count, type, output.data_ptr(), count, type, comm_);
    });
  }

  void reduce_scatter(const Tensor& input, const Tensor& output, ReduceOp op, const std::string& label) override {
    if (!options_.blocking_fast_path) return Communicator::reduce_scatter(input, output, op, label);
    if (!detail::buffer_ok(input) || !detail::buffer_ok(output) || !split_ok(output, input) ||
        (op == ReduceOp::Avg && output.dtype() == DType::Int64))
      return Communicator::reduce_scatter(input, output, op, label);  // the polled path's checks throw the message
    const uint64_t call = calls_ + 1;
    auto describe = [&] {
      return detail::call_description("reduce_scatter(" + std::string(reduce_op_name(op)) + ")", label, call,
                                      tensor_summary(output));
    };
    const int count = count_or_fail(output, describe);
    blocking(describe, [&] {
      return MPI_Reduce_scatter_block(input.data_ptr(), output.data_ptr(), count, mpi_type(output.dtype()),
                                      mpi_op(op), comm_);
    });
    if (op == ReduceOp::Avg) divide_in_place(output, size_);
  }

  void barrier(const std::string& label) override {
    if (!options_.blocking_fast_path) return Communicator::barrier(label);
    const uint64_t call = calls_ + 1;
    auto describe = [&] { return detail::call_description("barrier", label, call, ""); };
    blocking(describe, [&] { return MPI_Barrier(comm_); });
  }

  void poll() override {
    std::erase_if(in_flight_, [](const std::weak_ptr<MpiWork>& w) {
      auto work = w.lock();
      return !work || work->test();
    });
    poll_orphans();
  }

  // After a timeout: tells every other rank which call this rank is stuck in and listens for theirs, for up to
  // min(timeout, 10 s). A rank stuck in the same call answers with the same description; one stuck in another
  // call (a mismatch) answers with that one; a rank that never answers is dead, hung, or outside the communicator.
  std::string diagnose(const std::string& stuck_in) {
    auto& message = outbox_.emplace_back();
    std::snprintf(message.data(), message.size(), "%s", stuck_in.c_str());
    for (int r = 0; r < size_; ++r) {
      if (r == rank_) continue;
      MPI_Request request;
      if (MPI_Isend(message.data(), kDiagnosisBytes, MPI_CHAR, r, kDiagnosisTag, diagnosis_comm_, &request) ==
          MPI_SUCCESS)
        MPI_Request_free(&request);
    }
    std::map<int, std::string> heard;
    const double listen = std::min(options_.timeout_seconds, 10.0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(listen);
    while (std::chrono::steady_clock::now() < deadline) {
      for (int r = 0; r < size_; ++r) {
        int flag = 1;
        while (r != rank_ && flag) {
          MPI_Iprobe(r, kDiagnosisTag, diagnosis_comm_, &flag, MPI_STATUS_IGNORE);
          if (!flag) break;
          std::array<char, kDiagnosisBytes> buffer{};
          MPI_Recv(buffer.data(), kDiagnosisBytes, MPI_CHAR, r, kDiagnosisTag, diagnosis_comm_, MPI_STATUS_IGNORE);
          heard[r] = std::string(buffer.data(), strnlen(buffer.data(), buffer.size()));
        }
      }
      // Done early once everyone has answered with this very call (older answers may be stale).
      if (static_cast<int>(heard.size()) == size_ - 1 &&
          std::all_of(heard.begin(), heard.end(), [&](const auto& kv) { return kv.second == stuck_in; }))
        break;
      std::this_thread::yield();
    }
    std::ostringstream os;
    os << " on rank " << rank_ << " of " << size_ << ";";
    for (int r = 0; r < size_; ++r) {
      if (r == rank_) continue;
      os << " rank " << r << ": ";
      auto it = heard.find(r);
      if (it == heard.end()) os << "no answer within " << listen << " s (never arrived: dead, hung, or busy outside "
                                   "the communicator);";
      else if (it->second == stuck_in) os << "waiting on the same call;";
      else os << "waiting on " << it->second << " instead (mismatched calls);";
    }
    return os.str();
  }

  void adopt_orphan(MPI_Request request, std::vector<Tensor> keep_alive) {
    orphans_.push_back({request, std::move(keep_alive)});
    operation_started();
  }
  // In-flight operations, for the progress thread (orphans included: they still need progress).
  void operation_started() { in_flight_count_.fetch_add(1, std::memory_order_release); }
  void operation_finished() { in_flight_count_.fetch_sub(1, std::memory_order_release); }

 private:
  struct Orphan {
    MPI_Request request;
    std::vector<Tensor> keep_alive;
  };

  void poll_orphans() {
    std::erase_if(orphans_, [this](Orphan& o) {
      int flag = 0;
      const bool finished = MPI_Test(&o.request, &flag, MPI_STATUS_IGNORE) != MPI_SUCCESS || flag;
      if (finished) operation_finished();
      return finished;
    });
  }

  // Any MPI call runs Open MPI's progress engine for every pending operation of the process; an Iprobe on a
  // communicator nobody sends on is the cheapest such call.
  void drive_progress() {
    while (!stop_progress_.load(std::memory_order_acquire)) {
      if (in_flight_count_.load(std::memory_order_acquire) > 0) {
        int flag = 0;
        MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, progress_comm_, &flag, MPI_STATUS_IGNORE);
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      } else {
        std::this_thread::sleep_for(std::chrono::microseconds(500));
      }
    }
  }

  std::string collective(const std::string& op, const std::string& label, const Tensor& t) {
    check_buffer(t, op + (label.empty() ? "" : " '" + label + "'"));
    std::string what = detail::call_description(op, label, ++calls_, tensor_summary(t));
    verify(what);
    return what;
  }

  std::string point_to_point(const std::string& op, int tag, const std::string& label, const Tensor& t, int peer) {
    const std::string what =
        detail::call_description(op + " tag " + std::to_string(tag), label, 0, t.defined() ? tensor_summary(t) : "");
    check_buffer(t, what);
    check_rank(peer, what);
    TG_CHECK(peer != rank_, "tg::dist: ", what, ": rank ", rank_, " cannot message itself");
    TG_CHECK(tag >= 0, "tg::dist: ", what, ": tags must be >= 0");
    return what;
  }

  void check_rank(int r, const std::string& what) const {
    TG_CHECK(r >= 0 && r < size_, "tg::dist: ", what, ": rank ", r, " is outside the world of ", size_);
  }

  // `part` is one rank's share of `whole` ([world * n0, ...] against [n0, ...]).
  void check_split(const Tensor& part, const Tensor& whole, const std::string& what) const {
    TG_CHECK(part.dtype() == whole.dtype() && whole.numel() == part.numel() * size_, "tg::dist: ", what, ": ",
             tensor_summary(whole), " must hold ", size_, " x ", tensor_summary(part));
  }

  // Every rank exchanges the description of the collective it is about to start; any difference is reported
  // with each rank's call, on every rank, before the data collective could mismatch.
  void verify(const std::string& what) {
    if (!options_.verify_collectives || size_ == 1) return;
    Tensor mine = Tensor::empty({kFingerprintBytes / 8}, DType::Int64);
    Tensor all = Tensor::empty({static_cast<int64_t>(size_) * (kFingerprintBytes / 8)}, DType::Int64);
    std::memset(mine.data_ptr(), 0, kFingerprintBytes);
    std::snprintf(static_cast<char*>(mine.data_ptr()), kFingerprintBytes, "%s", what.c_str());
    auto work = std::make_shared<MpiWork>(shared_from_this(), "fingerprint check before " + what,
                                          std::vector<Tensor>{mine, all}, std::function<void()>{});
    check_mpi(MPI_Iallgather(mine.data_ptr(), kFingerprintBytes, MPI_BYTE, all.data_ptr(), kFingerprintBytes,
                             MPI_BYTE, verify_comm_, work->request()),
              work->describe());
    work->wait();
    const char* base = static_cast<const char*>(all.data_ptr());
    std::vector<std::string> calls;
    for (int r = 0; r < size_; ++r)
      calls.emplace_back(base + static_cast<ptrdiff_t>(r) * kFingerprintBytes,
                         strnlen(base + static_cast<ptrdiff_t>(r) * kFingerprintBytes, kFingerprintBytes));
    if (std::all_of(calls.begin(), calls.end(), [&](const std::string& c) { return c == calls[0]; })) return;
    std::ostringstream os;
    os << "tg::dist: mismatched collectives (seen by rank " << rank_ << " of " << size_ << "):";
    for (int r = 0; r < size_; ++r) os << " rank " << r << " calls " << calls[static_cast<size_t>(r)] << ";";
    TG_FAIL(os.str());
  }

  template <class Describe>
  int count_or_fail(const Tensor& t, const Describe& describe) const {
    if (t.numel() > INT_MAX) return mpi_count(t, describe());
    return static_cast<int>(t.numel());
  }

  bool split_ok(const Tensor& part, const Tensor& whole) const {
    return part.dtype() == whole.dtype() && whole.numel() == part.numel() * size_;
  }

  // Numbers the call, checks fingerprints when asked (marked "[blocking]": a rank on the other path, whose
  // MPI call would never match, shows as a mismatch), and runs `call` with the watchdog armed.
  template <class Describe, class Call>
  void blocking(const Describe& describe, Call&& call) {
    ++calls_;
    if (options_.verify_collectives && size_ > 1) verify(describe() + " [blocking]");
    if (!watchdog_)
      watchdog_ = std::make_unique<detail::Watchdog>(
          [this](const std::string& what, double timeout) { expire(what, timeout); });
    int rc;
    {
      // The guard outlives the watchdog's: a termination report the watchdog is printing finishes first.
      const detail::CallInProgress waiting;
      const detail::Watchdog::Guard<Describe> armed(*watchdog_, options_.timeout_seconds, describe);
      rc = call();
    }
    if (rc != MPI_SUCCESS) check_mpi(rc, describe());
  }

  // On the watchdog thread, while the caller is stuck in a blocking MPI call: report and end the job. Under
  // MPI_THREAD_MULTIPLE this thread may call MPI, so it first asks the other ranks which call they are in (as a
  // polled wait does; ranks stuck in a blocking call answer when their own watchdog fires, at about the same
  // time); the caller is inside MPI and cannot touch the communicator's state meanwhile (if its call completes
  // now, its disarm waits for the watchdog's lock, held until the end). Under MPI_THREAD_FUNNELED it may not.
  [[noreturn]] void expire(const std::string& what, double timeout) {
    if (thread_multiple_) {
      const std::string report = diagnose(what);
      std::fprintf(stderr, "tg::dist: %s did not complete within %g s%s (blocking fast path) ending the job with "
                   "MPI_Abort\n", what.c_str(), timeout, report.c_str());
    } else {
      std::fprintf(stderr,
                   "tg::dist: %s did not complete within %g s on rank %d of %d (blocking fast path at "
                   "MPI_THREAD_FUNNELED: the other ranks were not asked which call they are in; "
                   "TG_DIST_FAST_PATH=0 or the progress thread gives that report); ending the job with exit code "
                   "3\n", what.c_str(), timeout, rank_, size_);
    }
    std::fflush(nullptr);
    // MPI_Abort only where another thread may call MPI while the main thread is inside it.
    if (thread_multiple_) MPI_Abort(MPI_COMM_WORLD, kWatchdogExitCode);
    std::_Exit(kWatchdogExitCode);
  }

  template <class Start>
  WorkHandle launch(const std::string& what, std::vector<Tensor> keep_alive, std::function<void()> finish,
                    Start&& start, MpiWork::Advance advance = {}) {
    auto work = std::make_shared<MpiWork>(shared_from_this(), what, std::move(keep_alive), std::move(finish),
                                          std::move(advance));
    check_mpi(start(work->request()), what);
    // Finished or dropped handles leave the list here too, so blocking calls (which never poll) keep it short.
    if (in_flight_.size() >= 64)
      std::erase_if(in_flight_, [](const std::weak_ptr<MpiWork>& w) {
        auto held = w.lock();
        return !held || held->done();
      });
    in_flight_.push_back(work);
    return work;
  }

  MPI_Comm comm_ = MPI_COMM_NULL, verify_comm_ = MPI_COMM_NULL, diagnosis_comm_ = MPI_COMM_NULL,
           progress_comm_ = MPI_COMM_NULL, ring_comm_ = MPI_COMM_NULL;  // ring_comm_: ring_all_reduce's messages
  std::atomic<int64_t> in_flight_count_{0};
  std::atomic<bool> stop_progress_{false};
  std::thread progress_;
  std::unique_ptr<detail::Watchdog> watchdog_;  // started by the first fast-path call
  bool thread_multiple_ = false;
  int rank_ = 0, size_ = 1;
  uint64_t calls_ = 0;
  std::vector<std::weak_ptr<MpiWork>> in_flight_;
  std::vector<Orphan> orphans_;
  std::deque<std::array<char, kDiagnosisBytes>> outbox_;  // stable addresses for the freed diagnosis sends
};

MpiWork::MpiWork(std::shared_ptr<MpiCommunicator> comm, std::string description, std::vector<Tensor> keep_alive,
                 std::function<void()> finish, Advance advance)
    : PolledWork(std::move(description), comm->options().timeout_seconds),
      comm_(std::move(comm)),
      keep_alive_(std::move(keep_alive)),
      finish_(std::move(finish)),
      advance_(std::move(advance)) {
  comm_->operation_started();  // balanced when it completes, or when it is dropped unfinished (below)
}

MpiWork::~MpiWork() {
  if (done() || mpi_finalized()) return;
  // Abandoned (after a timeout): the pending requests keep their buffers until MPI completes them. The later
  // steps of a schedule never start.
  for (MPI_Request& r : requests_)
    if (r != MPI_REQUEST_NULL) comm_->adopt_orphan(r, keep_alive_);
  comm_->operation_finished();
}

bool MpiWork::poll_once() {
  for (;;) {
    int flag = 0;
    check_mpi(MPI_Testall(kRequests, requests_.data(), &flag, MPI_STATUSES_IGNORE), describe());
    if (!flag) return false;
    if (!advance_ || !advance_(requests_.data())) break;
  }
  comm_->operation_finished();
  return true;
}

std::string MpiWork::timeout_report() { return comm_->diagnose(describe()); }

}  // namespace

std::shared_ptr<Communicator> make_mpi_communicator(CommOptions options) {
  return std::make_shared<MpiCommunicator>(options);
}

void abort_job(int exit_code) {
  std::fflush(nullptr);
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized && !mpi_finalized()) MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::_Exit(exit_code);
}

#endif  // TG_WITH_MPI

}  // namespace tg::dist
