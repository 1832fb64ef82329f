#pragma once
// Communicator: collectives and point-to-point messages over tensors, for processes that train together.
//
//   auto comm = tg::dist::init();                  // MPI under mpirun (when built with MPI), else a world of one
//   comm->all_reduce(grad, tg::dist::ReduceOp::Avg);
//   auto work = comm->all_reduce_async(bucket, tg::dist::ReduceOp::Sum, "bucket 3");
//   ...                                            // compute while it runs
//   work->wait();                                  // throws tg::Error after CommOptions::timeout_seconds
//
// Every operation works in place on contiguous CPU tensors (float32, float64 or int64) and has a blocking form
// and a non-blocking `_async` form returning a Work handle. Every rank must issue the same collectives in the
// same order, with the same shapes and dtypes; the `label` names the call in error messages ("bucket 3",
// "param fc1.weight"). Collectives are numbered per communicator (call #1, #2, ...) so reports can say which
// call each rank is in.
//
// Faults. A wait gives up after `timeout_seconds` and throws a tg::Error naming the collective, its label, its
// call number, and what each other rank reported: the call it is stuck in (a mismatch shows as two different
// calls) or that it never answered (dead, hung, or busy outside the communicator). With `verify_collectives`
// every collective first exchanges a small fingerprint (operation, call number, dtype, element count, root,
// label) so ranks calling different collectives fail at once with each rank's call listed instead of
// corrupting data or deadlocking; it costs one extra small all-gather per collective.
//
// Two paths (MPI). The `_async` forms, and the blocking forms with `blocking_fast_path` off, start a non-blocking
// MPI operation (MPI_Iallreduce, ...) and wait by polling it against the deadline; a timeout throws the
// tg::Error described above, with every other rank's answer. With `blocking_fast_path` on (the default), the
// blocking collectives (all_reduce, broadcast, all_gather, reduce_scatter, barrier) call the blocking MPI
// function (MPI_Allreduce, ...), which Open MPI runs with faster algorithms than its non-blocking ones, under a
// watchdog thread: if the call has not returned after `timeout_seconds`, the watchdog prints the same kind of
// description (collective, label, call number, dtype and shape, rank) to stderr and ends the process with exit
// code 3, so mpirun ends the whole job: under MPI_THREAD_MULTIPLE it first asks the other ranks which call they
// are in and ends with MPI_Abort; otherwise it may call no MPI function and ends with std::_Exit. It cannot
// throw (the calling thread is inside MPI). send/recv always
// take the polled path. Blocking and non-blocking MPI collectives never match each other, so the option must
// be the same on every rank (verify_collectives reports a difference).
#include <cstdint>
#include <memory>
#include <string>

#include <tensorgrad/core/tensor.h>

namespace tg::dist {

enum class ReduceOp { Sum, Avg, Max };
const char* reduce_op_name(ReduceOp op);

// A handle on a non-blocking operation. The tensors it reads and writes are kept alive until it completes;
// do not touch them before wait() returns.
class Work {
 public:
  virtual ~Work() = default;
  // Makes progress and tells whether it has finished (never blocks).
  virtual bool test() = 0;
  // Blocks until done; throws tg::Error on timeout or failure. Waiting again is a no-op.
  virtual void wait() = 0;
  // "all_reduce(avg) 'bucket 3' #12, float32[65536]"
  virtual std::string describe() const = 0;
};
using WorkHandle = std::shared_ptr<Work>;

struct CommOptions {
  double timeout_seconds = 300;    // per wait; env TG_DIST_TIMEOUT overrides the default
  bool verify_collectives = false; // fingerprint check before each collective; env TG_DIST_VERIFY=1
  // MPI: a background thread that keeps non-blocking operations moving (Open MPI advances them only inside
  // MPI calls) while the caller computes, waking every 50 us while any is in flight. Needs
  // MPI_THREAD_MULTIPLE, so it must be asked for by the first communicator of the process (without it the
  // communicator warns and runs without the thread); env TG_DIST_PROGRESS=1. On two ranks sharing two cores
  // it halved the MLP's DDP epoch (docs/DISTRIBUTED.md).
  bool progress_thread = false;
  // Blocking collectives call the blocking MPI function under a watchdog that ends the job on timeout (see
  // above) instead of polling a non-blocking one and throwing; env TG_DIST_FAST_PATH=0 turns it off. Must be the
  // same on every rank. The world of one ignores it.
  bool blocking_fast_path = true;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  virtual std::string backend() const = 0;  // "mpi" or "local"
  const CommOptions& options() const { return options_; }
  void set_timeout(double seconds);

  // `tensor` becomes the reduction over ranks of everyone's `tensor` (Avg: the sum divided by world_size).
  virtual WorkHandle all_reduce_async(const Tensor& tensor, ReduceOp op, const std::string& label = "") = 0;
  // `tensor` becomes rank `root`'s `tensor`.
  virtual WorkHandle broadcast_async(const Tensor& tensor, int root, const std::string& label = "") = 0;
  // `output` ([world_size * n0, ...]) becomes everyone's `input` ([n0, ...]) stacked along dim 0 in rank order.
  virtual WorkHandle all_gather_async(const Tensor& input, const Tensor& output, const std::string& label = "") = 0;
  // `output` ([n0, ...]) becomes the reduction over ranks of rows [rank * n0, (rank + 1) * n0) of `input`.
  virtual WorkHandle reduce_scatter_async(const Tensor& input, const Tensor& output, ReduceOp op,
                                          const std::string& label = "") = 0;
  // Point to point: `tag` (>= 0) pairs a send with its recv; shapes and dtypes must agree.
  virtual WorkHandle send_async(const Tensor& tensor, int dst, int tag, const std::string& label = "") = 0;
  virtual WorkHandle recv_async(const Tensor& tensor, int src, int tag, const std::string& label = "") = 0;
  virtual WorkHandle barrier_async(const std::string& label = "") = 0;

  // Lets in-flight operations advance (MPI progresses non-blocking collectives only when called); cheap.
  virtual void poll() {}

  // Blocking forms: by default the `_async` form and wait(); the MPI backend overrides the collectives with its
  // blocking fast path when CommOptions::blocking_fast_path is on.
  virtual void all_reduce(const Tensor& tensor, ReduceOp op, const std::string& label = "");
  virtual void broadcast(const Tensor& tensor, int root, const std::string& label = "");
  virtual void all_gather(const Tensor& input, const Tensor& output, const std::string& label = "");
  virtual void reduce_scatter(const Tensor& input, const Tensor& output, ReduceOp op, const std::string& label = "");
  void send(const Tensor& tensor, int dst, int tag, const std::string& label = "");
  void recv(const Tensor& tensor, int src, int tag, const std::string& label = "");
  virtual void barrier(const std::string& label = "");

 protected:
  explicit Communicator(CommOptions options) : options_(options) {}
  CommOptions options_;
};

// Options from the environment: TG_DIST_TIMEOUT (seconds), TG_DIST_VERIFY, TG_DIST_PROGRESS, TG_DIST_FAST_PATH (0/1).
CommOptions options_from_env();

// A world of one: collectives copy or leave their data as it is, send/recv to rank 0 go through a mailbox.
std::shared_ptr<Communicator> make_local_communicator(CommOptions options = options_from_env());

// True when tensorgrad was built with MPI.
bool mpi_built();
// True when this process was started by an MPI launcher (mpirun sets OMPI_COMM_WORLD_SIZE, PMI_SIZE, ...).
bool launched_by_mpi();
// The MPI world (initialises MPI on first use; finalised at exit). Throws tg::Error when built without MPI.
std::shared_ptr<Communicator> make_mpi_communicator(CommOptions options = options_from_env());
// MPI when built with it and launched by mpirun, else a world of one: the same program runs both ways.
std::shared_ptr<Communicator> init(CommOptions options = options_from_env());
// Ends the whole job after a fatal error on one rank (MPI_Abort), so the other ranks do not wait forever.
[[noreturn]] void abort_job(int exit_code);

}  // namespace tg::dist
