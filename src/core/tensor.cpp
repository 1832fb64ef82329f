#include <tensorgrad/core/graph.h>
#include <tensorgrad/core/tensor.h>

#include <cstring>
#include <ostream>

#include <tensorgrad/profiler/record.h>

namespace tg {

// ---- Storage ----
namespace {
// Storage's constructor is protected; this lets make_shared put the object and its reference counts in one
// allocation.
struct MadeStorage final : Storage {};
}  // namespace

std::shared_ptr<Storage> Storage::allocate(size_t nbytes, Allocator& allocator) {
  std::shared_ptr<Storage> s = std::make_shared<MadeStorage>();
  s->data_ = allocator.allocate(nbytes);
  s->nbytes_ = nbytes;
  s->allocator_ = &allocator;
  s->device_ = allocator.device();
  TG_PROFILE_ALLOCATION(static_cast<int64_t>(nbytes));
  return s;
}

std::shared_ptr<Storage> Storage::wrap(void* data, size_t nbytes, std::function<void(void*)> deleter) {
  std::shared_ptr<Storage> s = std::make_shared<MadeStorage>();
  s->data_ = data;
  s->nbytes_ = nbytes;
  s->deleter_ = std::move(deleter);
  return s;
}

Storage::~Storage() {
  if (allocator_) {
    allocator_->deallocate(data_, nbytes_);
    TG_PROFILE_FREE(static_cast<int64_t>(nbytes_));
  } else if (deleter_) {
    deleter_(data_);
  }
}

// ---- TensorImpl ----
TensorImpl::TensorImpl(std::shared_ptr<Storage> s, Shape sh, Strides st, int64_t off, DType dt)
    : storage(std::move(s)), shape(std::move(sh)), strides(std::move(st)), offset(off), dtype(dt) {}

TensorImpl::~TensorImpl() = default;

AutogradMeta& TensorImpl::autograd_meta() {
  if (!autograd) autograd = std::make_unique<AutogradMeta>();
  return *autograd;
}

// ---- Tensor: geometry and data ----
Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t s : shape) TG_CHECK(s >= 0, "tg::empty: negative dimension in shape ", shape);
  auto storage = Storage::allocate(static_cast<size_t>(numel_of(shape)) * itemsize(dtype), allocator_for(device));
  return Tensor(std::make_shared<TensorImpl>(std::move(storage), shape, contiguous_strides(shape), 0, dtype));
}

Tensor Tensor::as_strided(const Shape& shape, const Strides& strides, int64_t offset) const {
  return Tensor(std::make_shared<TensorImpl>(impl().storage, shape, strides, offset, impl().dtype));
}

void Tensor::throw_undefined() { TG_FAIL("tg::Tensor: operation on an undefined tensor"); }

int64_t Tensor::size(int64_t d) const { return impl().shape[wrap_dim(d, dim(), "tg::Tensor::size")]; }
int64_t Tensor::stride(int64_t d) const { return impl().strides[wrap_dim(d, dim(), "tg::Tensor::stride")]; }

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  const auto& sh = shape();
  const auto& st = strides();
  for (size_t i = sh.size(); i-- > 0;) {
    if (sh[i] == 1) continue;
    if (st[i] != expected) return numel() == 0;
    expected *= sh[i];
  }
  return true;
}

void* Tensor::data_ptr() const {
  return static_cast<char*>(impl().storage->data()) + impl().offset * static_cast<int64_t>(itemsize(dtype()));
}

int64_t Tensor::element_offset(const std::vector<int64_t>& index) const {
  TG_CHECK(static_cast<int64_t>(index.size()) == dim(), "tg::Tensor::at: expected ", dim(),
           " indices for a tensor of shape ", shape(), ", got ", index.size());
  int64_t off = 0;
  for (size_t d = 0; d < index.size(); ++d) {
    const int64_t n = shape()[d];
    const int64_t i = index[d] < 0 ? index[d] + n : index[d];
    TG_CHECK(i >= 0 && i < n, "tg::Tensor::at: index ", index[d], " out of range for dimension ", d,
             " of size ", n, " (shape ", shape(), ")");
    off += i * strides()[d];
  }
  return off;
}

double Tensor::item() const {
  TG_CHECK(numel() == 1, "tg::Tensor::item: expected a tensor with one element, got shape ", shape());
  const Tensor host = host_view(*this);
  return visit_dtype(dtype(), [&]<class T>(TypeTag<T>) { return static_cast<double>(*static_cast<T*>(host.data_ptr())); });
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  TG_CHECK(dtype_of<T>() == dtype(), "tg::Tensor::to_vector: requested ", dtype_name(dtype_of<T>()),
           " from a tensor of dtype ", dtype_name(dtype()));
  std::vector<T> out;
  out.reserve(static_cast<size_t>(numel()));
  if (numel() == 0) return out;
  const Tensor host = host_view(*this);
  const T* base = static_cast<const T*>(host.data_ptr());
  std::vector<int64_t> idx(static_cast<size_t>(dim()), 0);
  for (int64_t n = 0; n < numel(); ++n) {
    int64_t off = 0;
    for (size_t d = 0; d < idx.size(); ++d) off += idx[d] * strides()[d];
    out.push_back(base[off]);
    for (size_t d = idx.size(); d-- > 0;) {
      if (++idx[d] < shape()[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}
template std::vector<bool> Tensor::to_vector<bool>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<bfloat16> Tensor::to_vector<bfloat16>() const;
template std::vector<float16> Tensor::to_vector<float16>() const;

// ---- Tensor: autograd state ----
bool Tensor::requires_grad() const { return impl().autograd && impl().autograd->requires_grad; }

Tensor& Tensor::requires_grad_(bool flag) {
  TG_CHECK(!flag || is_floating(dtype()), "tg::Tensor::requires_grad_: only floating tensors can require "
           "gradients, got dtype ", dtype_name(dtype()));
  TG_CHECK(is_leaf() || flag, "tg::Tensor::requires_grad_: cannot turn off requires_grad on a non-leaf "
           "tensor (use detach())");
  impl().autograd_meta().requires_grad = flag;
  return *this;
}

void Tensor::set_data_(const Tensor& src) {
  TG_CHECK(src.defined() && src.shape() == shape(), "tg::Tensor::set_data_: expected a tensor of shape ", shape(),
           ", got ", src.defined() ? detail::concat(src.shape()) : std::string("an undefined tensor"));
  TG_CHECK(is_leaf(), "tg::Tensor::set_data_: only a leaf tensor's data can be replaced");
  TG_CHECK(!requires_grad() || is_floating(src.dtype()), "tg::Tensor::set_data_: a tensor that requires grad "
           "needs floating data, got ", dtype_name(src.dtype()));
  TensorImpl& self = impl();
  self.storage = src.impl().storage;
  self.strides = src.impl().strides;
  self.offset = src.impl().offset;
  self.dtype = src.impl().dtype;
  if (self.autograd) self.autograd->grad = Tensor();
}

Tensor Tensor::grad() const { return impl().autograd ? impl().autograd->grad : Tensor(); }

void Tensor::set_grad(const Tensor& grad) const {
  if (grad.defined())
    TG_CHECK(grad.shape() == shape(), "tg::Tensor::set_grad: gradient of shape ", grad.shape(),
             " for a tensor of shape ", shape());
  impl().autograd_meta().grad = grad;
}

void Tensor::zero_grad() const {
  if (impl().autograd) impl().autograd->grad = Tensor();
}

const std::shared_ptr<Node>& Tensor::grad_fn() const {
  static const std::shared_ptr<Node> none;
  return impl().autograd ? impl().autograd->grad_fn : none;
}

uint32_t Tensor::output_nr() const { return impl().autograd ? impl().autograd->output_nr : 0; }

bool Tensor::is_leaf() const { return grad_fn() == nullptr; }

void Tensor::register_hook(GradHook hook) const {
  TG_CHECK(requires_grad(), "tg::Tensor::register_hook: cannot register a hook on a tensor that does not "
           "require grad (shape ", shape(), ")");
  if (is_leaf()) impl().autograd->hooks.push_back(std::move(hook));
  else grad_fn()->add_pre_hook(output_nr(), std::move(hook));
}

void Tensor::register_post_accumulate_grad_hook(PostAccumulateGradHook hook) const {
  TG_CHECK(requires_grad() && is_leaf(), "tg::Tensor::register_post_accumulate_grad_hook: needs a leaf that requires "
           "grad (shape ", shape(), ", ", is_leaf() ? "a leaf" : "not a leaf", ")");
  impl().autograd->post_accumulate_hooks.push_back(std::move(hook));
}

void Tensor::retain_grad() const {
  TG_CHECK(requires_grad(), "tg::Tensor::retain_grad: tensor does not require grad");
  if (is_leaf() || impl().autograd->retains_grad) return;
  impl().autograd->retains_grad = true;
  std::weak_ptr<TensorImpl> weak = impl_;
  grad_fn()->add_pre_hook(output_nr(), [weak](const Tensor& g) {
    // Holds the latest pass's gradient (no accumulation across passes, unlike a leaf's .grad).
    if (auto self = weak.lock()) self->autograd_meta().grad = g.detach();
    return Tensor();
  });
}

Tensor Tensor::tangent() const { return impl().autograd ? impl().autograd->tangent : Tensor(); }

void Tensor::set_tangent(const Tensor& tangent) const {
  if (!tangent.defined()) {
    if (impl().autograd) impl().autograd->tangent = Tensor();
    return;
  }
  TG_CHECK(is_floating(dtype()), "tg::set_tangent: a tensor of dtype ", dtype_name(dtype()),
           " cannot carry a tangent (shape ", shape(), ")");
  TG_CHECK(tangent.shape() == shape(), "tg::set_tangent: tangent of shape ", tangent.shape(),
           " for a tensor of shape ", shape());
  TG_CHECK(tangent.dtype() == dtype(), "tg::set_tangent: tangent of dtype ", dtype_name(tangent.dtype()),
           " for a tensor of dtype ", dtype_name(dtype()), " (convert it with .to() first)");
  impl().autograd_meta().tangent = tangent;
}

Tensor Tensor::detach() const {
  return Tensor(std::make_shared<TensorImpl>(impl().storage, impl().shape, impl().strides, impl().offset,
                                             impl().dtype));
}

// Copies the logical elements of `src` (any strides) into contiguous memory at dst, running the innermost
// dimension as one memcpy when it is contiguous.
void copy_to_contiguous(const Tensor& source, void* destination) {
  char* dst = static_cast<char*>(destination);
  const int64_t n = source.numel();
  if (n == 0) return;
  const Tensor src = host_view(source);
  const size_t item = itemsize(src.dtype());
  const char* base = static_cast<const char*>(src.data_ptr());
  if (src.is_contiguous()) {
    std::memcpy(dst, base, static_cast<size_t>(n) * item);
    return;
  }
  const Shape& shape = src.shape();
  const Strides& strides = src.strides();
  const size_t nd = shape.size();  // >= 1 here: a 0-d tensor is contiguous
  const int64_t inner = shape[nd - 1];
  const bool inner_contiguous = strides[nd - 1] == 1;
  std::vector<int64_t> idx(nd, 0);
  for (int64_t done = 0; done < n; done += inner) {
    int64_t off = 0;
    for (size_t d = 0; d + 1 < nd; ++d) off += idx[d] * strides[d];
    const char* row = base + off * static_cast<int64_t>(item);
    if (inner_contiguous) {
      std::memcpy(dst, row, static_cast<size_t>(inner) * item);
      dst += static_cast<size_t>(inner) * item;
    } else {
      for (int64_t k = 0; k < inner; ++k, dst += item)
        std::memcpy(dst, row + k * strides[nd - 1] * static_cast<int64_t>(item), item);
    }
    for (size_t d = nd - 1; d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

Tensor host_view(const Tensor& t) {
  if (t.is_cpu()) return t;
  // The span of storage the view reads: from its lowest to its highest element (strides are never negative).
  const size_t item = itemsize(t.dtype());
  int64_t extent = t.numel() == 0 ? 0 : 1;
  for (int64_t d = 0; d < t.dim() && extent > 0; ++d) extent += (t.shape()[static_cast<size_t>(d)] - 1) * t.strides()[static_cast<size_t>(d)];
  const size_t first = static_cast<size_t>(t.offset()) * item, bytes = static_cast<size_t>(extent) * item;
  TG_CHECK(first + bytes <= t.storage()->nbytes(), "tg::host_view: view of ", bytes, " bytes at byte ", first,
           " lies outside its storage of ", t.storage()->nbytes(), " bytes");
  auto host = Storage::allocate(bytes);
  allocator_for(t.device()).copy_to_host(host->data(), static_cast<const char*>(t.storage()->data()) + first, bytes);
  return Tensor(std::make_shared<TensorImpl>(std::move(host), t.shape(), t.strides(), 0, t.dtype()));
}

}  // namespace tg
