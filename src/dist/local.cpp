// The world of one: every collective is the identity (or a copy), and send/recv to oneself go through a
// mailbox, so a program written for N ranks runs unchanged in one process.
#include <cstring>
#include <deque>
#include <map>

#include <tensorgrad/base/error.h>
#include <tensorgrad/dist/communicator.h>

#include "work.h"

namespace tg::dist {
namespace {

using detail::check_buffer;
using detail::DoneWork;

void copy_bytes(const Tensor& src, const Tensor& dst, const std::string& what) {
  TG_CHECK(src.dtype() == dst.dtype() && src.numel() == dst.numel(), "tg::dist: ", what, ": input ",
           detail::tensor_summary(src), " and output ", detail::tensor_summary(dst),
           " must have the same dtype and number of elements in a world of one");
  if (src.numel() > 0 && src.data_ptr() != dst.data_ptr())
    std::memcpy(dst.data_ptr(), src.data_ptr(), static_cast<size_t>(src.numel()) * itemsize(src.dtype()));
}

class LocalCommunicator;

// A receive completes once the matching send has been posted to the mailbox.
class LocalRecv final : public detail::PolledWork {
 public:
  LocalRecv(std::string description, double timeout, std::map<int, std::deque<Tensor>>& mailbox, Tensor out, int tag)
      : PolledWork(std::move(description), timeout), mailbox_(mailbox), out_(std::move(out)), tag_(tag) {}

 protected:
  bool poll_once() override {
    auto it = mailbox_.find(tag_);
    if (it == mailbox_.end() || it->second.empty()) return false;
    Tensor message = std::move(it->second.front());
    it->second.pop_front();
    copy_bytes(message, out_, describe());
    return true;
  }
  std::string timeout_report() override { return ": nothing was sent to rank 0 with this tag in the world of one"; }

 private:
  std::map<int, std::deque<Tensor>>& mailbox_;
  Tensor out_;
  int tag_;
};

class LocalCommunicator final : public Communicator {
 public:
  explicit LocalCommunicator(CommOptions options) : Communicator(options) {}
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  std::string backend() const override { return "local"; }

  WorkHandle all_reduce_async(const Tensor& tensor, ReduceOp op, const std::string& label) override {
    const std::string what = describe("all_reduce(" + std::string(reduce_op_name(op)) + ")", label, tensor);
    check_buffer(tensor, what);
    TG_CHECK(op != ReduceOp::Avg || tensor.dtype() != DType::Int64, "tg::dist: ", what,
             ": avg needs a floating tensor");
    return std::make_shared<DoneWork>(what);
  }
  WorkHandle broadcast_async(const Tensor& tensor, int root, const std::string& label) override {
    const std::string what = describe("broadcast from " + std::to_string(root), label, tensor);
    check_buffer(tensor, what);
    check_rank(root, what);
    return std::make_shared<DoneWork>(what);
  }
  WorkHandle all_gather_async(const Tensor& input, const Tensor& output, const std::string& label) override {
    const std::string what = describe("all_gather", label, input);
    check_buffer(input, what);
    check_buffer(output, what);
    copy_bytes(input, output, what);
    return std::make_shared<DoneWork>(what);
  }
  WorkHandle reduce_scatter_async(const Tensor& input, const Tensor& output, ReduceOp op,
                                  const std::string& label) override {
    const std::string what = describe("reduce_scatter(" + std::string(reduce_op_name(op)) + ")", label, output);
    check_buffer(input, what);
    check_buffer(output, what);
    copy_bytes(input, output, what);
    return std::make_shared<DoneWork>(what);
  }
  WorkHandle send_async(const Tensor& tensor, int dst, int tag, const std::string& label) override {
    const std::string what = detail::call_description("send to " + std::to_string(dst) + " tag " + std::to_string(tag),
                                                      label, 0, detail::tensor_summary(tensor));
    check_buffer(tensor, what);
    check_rank(dst, what);
    TG_CHECK(tag >= 0, "tg::dist: ", what, ": tags must be >= 0");
    Tensor copy = Tensor::empty(tensor.shape(), tensor.dtype());
    copy_bytes(tensor, copy, what);
    mailbox_[tag].push_back(copy);
    return std::make_shared<DoneWork>(what);
  }
  WorkHandle recv_async(const Tensor& tensor, int src, int tag, const std::string& label) override {
    const std::string what = detail::call_description("recv from " + std::to_string(src) + " tag " + std::to_string(tag),
                                                      label, 0, detail::tensor_summary(tensor));
    check_buffer(tensor, what);
    check_rank(src, what);
    auto work = std::make_shared<LocalRecv>(what, options_.timeout_seconds, mailbox_, tensor, tag);
    work->test();
    return work;
  }
  WorkHandle barrier_async(const std::string& label) override {
    return std::make_shared<DoneWork>(detail::call_description("barrier", label, ++calls_, ""));
  }

 private:
  std::string describe(const std::string& op, const std::string& label, const Tensor& t) {
    return detail::call_description(op, label, ++calls_, t.defined() ? detail::tensor_summary(t) : "undefined");
  }
  static void check_rank(int r, const std::string& what) {
    TG_CHECK(r == 0, "tg::dist: ", what, ": rank ", r, " does not exist in a world of one");
  }

  uint64_t calls_ = 0;
  std::map<int, std::deque<Tensor>> mailbox_;
};

}  // namespace

std::shared_ptr<Communicator> make_local_communicator(CommOptions options) {
  return std::make_shared<LocalCommunicator>(options);
}

}  // namespace tg::dist
