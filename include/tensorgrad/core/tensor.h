#pragma once
// Tensor: a cheap handle (shared_ptr<TensorImpl>). A view shares Storage and has its own shape,
// strides (in elements) and offset. Autograd state (grad, grad_fn, hooks) hangs off the impl.
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <vector>

#include <tensorgrad/core/allocator.h>
#include <tensorgrad/core/device.h>
#include <tensorgrad/core/dtype.h>
#include <tensorgrad/core/shape.h>

namespace tg {

// A block of memory shared by a tensor and all its views. The version counter lives here, so an in-place
// write through any view is seen by every saved reference to the same memory.
class Storage {
 public:
  static std::shared_ptr<Storage> allocate(size_t nbytes, Allocator& allocator = cpu_allocator());
  // Wraps memory the caller owns; `deleter` (may be empty: non-owning) runs when the last view goes.
  static std::shared_ptr<Storage> wrap(void* data, size_t nbytes, std::function<void(void*)> deleter);
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage();

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }
  uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

 protected:
  Storage() = default;  // protected so allocate/wrap can make_shared a derived type (one allocation)

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_{};
  uint64_t version_ = 0;
  Allocator* allocator_ = nullptr;
  std::function<void(void*)> deleter_;
};

class Node;
class Tensor;
struct AutogradMeta;
using TensorList = std::vector<Tensor>;
// Called with a tensor's gradient during backward; may return a replacement (or an undefined Tensor to keep it).
using GradHook = std::function<Tensor(const Tensor&)>;
// Called with a leaf after the engine has accumulated a backward pass's gradient into its .grad() (as torch's
// register_post_accumulate_grad_hook): the moment that gradient is final for the pass, e.g. to start its
// all-reduce while the rest of backward runs.
using PostAccumulateGradHook = std::function<void(const Tensor& leaf)>;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Strides strides;
  int64_t offset = 0;  // in elements
  DType dtype = DType::Float32;
  std::unique_ptr<AutogradMeta> autograd;  // null for tensors that never took part in autograd

  TensorImpl(std::shared_ptr<Storage> s, Shape sh, Strides st, int64_t off, DType dt);
  ~TensorImpl();
  AutogradMeta& autograd_meta();  // created on first use
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // Fresh, uninitialised, contiguous tensor, from `device`'s allocator.
  static Tensor empty(const Shape& shape, DType dtype = DType::Float32, Device device = kCPU);
  // A view of the same storage with different geometry (no autograd: ops wrap this).
  Tensor as_strided(const Shape& shape, const Strides& strides, int64_t offset) const;

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  const Strides& strides() const { return impl().strides; }
  int64_t dim() const { return static_cast<int64_t>(impl().shape.size()); }
  int64_t size(int64_t d) const;
  int64_t stride(int64_t d) const;
  int64_t offset() const { return impl().offset; }
  int64_t numel() const { return numel_of(impl().shape); }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device(); }
  bool is_cpu() const { return device().type == DeviceType::CPU; }
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const { return impl().storage; }
  uint64_t version() const { return impl().storage->version(); }
  // Inline: every accessor goes through it, and a tiny op makes dozens of calls.
  TensorImpl& impl() const {
    if (impl_ == nullptr) [[unlikely]] throw_undefined();
    return *impl_;
  }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& other) const { return impl_ == other.impl_; }

  void* data_ptr() const;
  template <class T>
  T* data() const {
    TG_CHECK(dtype_of<T>() == dtype(), "tg::Tensor::data: requested ", dtype_name(dtype_of<T>()),
             " from a tensor of dtype ", dtype_name(dtype()));
    return static_cast<T*>(data_ptr());
  }
  // Element access by index (negative indices count from the end); CPU tensors only. Writes through the reference do not
  // bump the version counter: use it to fill fresh tensors, not to edit tensors autograd has saved.
  template <class T>
  T& at(std::initializer_list<int64_t> index) const {
    return data<T>()[element_offset(std::vector<int64_t>(index))];
  }
  int64_t element_offset(const std::vector<int64_t>& index) const;  // relative to data_ptr(), in elements
  double item() const;  // the single element of a one-element tensor, as double (copied to the host if needed)
  template <class T>
  T item() const {
    return static_cast<T>(item());
  }
  template <class T>
  std::vector<T> to_vector() const;  // all elements in logical (row-major) order, on the host

  // ---- autograd state (data only; the engine lives in tg_autograd) ----
  bool requires_grad() const;
  Tensor& requires_grad_(bool flag = true);
  // Replaces this leaf's values, dtype and memory with `src`'s (same shape), keeping its identity and
  // requires_grad, and drops its gradient: what nn::Module::to(dtype) does to each parameter, so handles held
  // elsewhere see the new data. Call it before any graph records the tensor (as torch's `p.data = ...`).
  void set_data_(const Tensor& src);
  Tensor grad() const;  // undefined until a backward pass reaches this tensor
  void set_grad(const Tensor& grad) const;
  void zero_grad() const;  // drops the gradient (set-to-none semantics, as torch's default)
  const std::shared_ptr<Node>& grad_fn() const;
  uint32_t output_nr() const;
  bool is_leaf() const;
  void register_hook(GradHook hook) const;
  void register_post_accumulate_grad_hook(PostAccumulateGradHook hook) const;  // leaves that require grad only
  void retain_grad() const;  // keep .grad() for a non-leaf after backward
  // A tensor sharing storage but cut from the graph (and without a tangent).
  Tensor detach() const;

  // ---- forward mode: the tangent (directional derivative) carried beside the value ----
  // Ops whose inputs carry tangents give their output one by the op's JVP rule (see tg::jvp). Undefined
  // when the tensor carries none, which forward mode reads as a zero tangent.
  Tensor tangent() const;
  // Attaches `tangent` (same shape and floating dtype); an undefined one removes it.
  void set_tangent(const Tensor& tangent) const;

  // ---- defined in tg_autograd ----
  void backward(const Tensor& gradient = {}, bool retain_graph = false, bool create_graph = false) const;

  // ---- defined in tg_ops (method forms of the free functions in tensorgrad/ops) ----
  Tensor reshape(const Shape& shape) const;
  Tensor view(const Shape& shape) const;
  Tensor permute(const std::vector<int64_t>& dims) const;
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor t() const;
  Tensor expand(const Shape& shape) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor contiguous() const;
  Tensor clone() const;
  Tensor to(DType dtype) const;
  // A copy on `device` (this tensor itself when it is there already); differentiable, like torch's .to().
  Tensor to(Device device) const;
  Tensor cpu() const { return to(kCPU); }
  Tensor sum() const;
  Tensor sum(const std::vector<int64_t>& dims, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(const std::vector<int64_t>& dims, bool keepdim = false) const;
  Tensor& add_(const Tensor& other, double alpha = 1.0);
  Tensor& sub_(const Tensor& other, double alpha = 1.0);
  Tensor& mul_(const Tensor& other);
  Tensor& mul_(double value);
  Tensor& div_(const Tensor& other);
  Tensor& zero_();
  Tensor& fill_(double value);
  Tensor& copy_(const Tensor& src);

 private:
  [[noreturn]] static void throw_undefined();
  std::shared_ptr<TensorImpl> impl_;
};

struct AutogradMeta {
  bool requires_grad = false;
  bool retains_grad = false;
  bool is_view = false;  // created by a view op from a tensor that requires grad
  Tensor grad;
  std::shared_ptr<Node> grad_fn;
  uint32_t output_nr = 0;
  std::weak_ptr<Node> grad_accumulator;
  std::vector<GradHook> hooks;  // leaf hooks; non-leaf hooks live on grad_fn
  Tensor tangent;               // forward mode: d(this)/d(direction), set by JVP rules or tg::jvp
  std::vector<PostAccumulateGradHook> post_accumulate_hooks;
};

// Prints shape, dtype and values (elided to the first and last 3 per dimension when large).
std::ostream& operator<<(std::ostream& os, const Tensor& t);

extern template std::vector<bool> Tensor::to_vector<bool>() const;
extern template std::vector<int64_t> Tensor::to_vector<int64_t>() const;
extern template std::vector<float> Tensor::to_vector<float>() const;
extern template std::vector<double> Tensor::to_vector<double>() const;
extern template std::vector<bfloat16> Tensor::to_vector<bfloat16>() const;
extern template std::vector<float16> Tensor::to_vector<float16>() const;

// Copies the logical elements of `src` (any strides, any device) into contiguous host memory at `dst` (numel *
// itemsize bytes), running the innermost dimension as one memcpy when it is contiguous. Outside autograd; for
// I/O and batching.
void copy_to_contiguous(const Tensor& src, void* dst);
// `t` itself when it is on the CPU; otherwise a CPU tensor with the same shape, strides and offset over a host
// copy of the storage bytes the view spans (outside autograd). What printing, item() and to_vector() read.
Tensor host_view(const Tensor& t);

}  // namespace tg
