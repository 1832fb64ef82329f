// The backend-independent parts of Communicator: blocking forms, options, argument checks.
#include <tensorgrad/dist/communicator.h>

#include <cstdlib>
#include <sstream>

#include <tensorgrad/base/error.h>

#include "work.h"

namespace tg::dist {

const char* reduce_op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum: return "sum";
    case ReduceOp::Avg: return "avg";
    case ReduceOp::Max: return "max";
  }
  return "?";
}

void Communicator::set_timeout(double seconds) {
  TG_CHECK(seconds > 0, "tg::dist::Communicator::set_timeout: the timeout must be positive, got ", seconds);
  options_.timeout_seconds = seconds;
}

void Communicator::all_reduce(const Tensor& tensor, ReduceOp op, const std::string& label) {
  all_reduce_async(tensor, op, label)->wait();
}
void Communicator::broadcast(const Tensor& tensor, int root, const std::string& label) {
  broadcast_async(tensor, root, label)->wait();
}
void Communicator::all_gather(const Tensor& input, const Tensor& output, const std::string& label) {
  all_gather_async(input, output, label)->wait();
}
void Communicator::reduce_scatter(const Tensor& input, const Tensor& output, ReduceOp op, const std::string& label) {
  reduce_scatter_async(input, output, op, label)->wait();
}
void Communicator::send(const Tensor& tensor, int dst, int tag, const std::string& label) {
  send_async(tensor, dst, tag, label)->wait();
}
void Communicator::recv(const Tensor& tensor, int src, int tag, const std::string& label) {
  recv_async(tensor, src, tag, label)->wait();
}
void Communicator::barrier(const std::string& label) { barrier_async(label)->wait(); }

CommOptions options_from_env() {
  CommOptions options;
  if (const char* timeout = std::getenv("TG_DIST_TIMEOUT")) {
    char* end = nullptr;
    const double seconds = std::strtod(timeout, &end);
    TG_CHECK(end != timeout && *end == '\0' && seconds > 0, "tg::dist: TG_DIST_TIMEOUT must be a positive number of "
             "seconds, got \"", timeout, "\"");
    options.timeout_seconds = seconds;
  }
  if (const char* verify = std::getenv("TG_DIST_VERIFY")) options.verify_collectives = std::string(verify) == "1";
  if (const char* progress = std::getenv("TG_DIST_PROGRESS")) options.progress_thread = std::string(progress) == "1";
  if (const char* fast = std::getenv("TG_DIST_FAST_PATH")) options.blocking_fast_path = std::string(fast) != "0";
  return options;
}

std::shared_ptr<Communicator> init(CommOptions options) {
  if (mpi_built() && launched_by_mpi()) return make_mpi_communicator(options);
  return make_local_communicator(options);
}

namespace detail {

bool buffer_ok(const Tensor& t) {
  return t.defined() && t.device().type == DeviceType::CPU && t.is_contiguous() &&
         (t.dtype() == DType::Float32 || t.dtype() == DType::Float64 || t.dtype() == DType::Int64);
}

void check_buffer(const Tensor& t, const std::string& what) {
  TG_CHECK(t.defined(), "tg::dist: ", what, ": the tensor is undefined");
  TG_CHECK(t.device().type == DeviceType::CPU, "tg::dist: ", what, ": only CPU tensors are supported");
  TG_CHECK(t.is_contiguous(), "tg::dist: ", what, ": the tensor (shape ", t.shape(), ") must be contiguous; "
           "call .contiguous() and copy the result back");
  TG_CHECK(t.dtype() == DType::Float32 || t.dtype() == DType::Float64 || t.dtype() == DType::Int64, "tg::dist: ",
           what, ": dtype ", dtype_name(t.dtype()), " is not supported (float32, float64, int64)");
}

std::string tensor_summary(const Tensor& t) {
  std::ostringstream os;
  os << dtype_name(t.dtype()) << shape_str(t.shape());
  return os.str();
}

std::string call_description(const std::string& op, const std::string& label, uint64_t call, const std::string& extra) {
  std::ostringstream os;
  os << op;
  if (!label.empty()) os << " '" << label << "'";
  if (call > 0 || !extra.empty()) {
    os << " (";
    if (call > 0) os << "call #" << call << (extra.empty() ? "" : ", ");
    os << extra << ")";
  }
  return os.str();
}

}  // namespace detail
}  // namespace tg::dist
