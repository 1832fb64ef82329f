// Method forms of the free functions in tensorgrad/ops, so `x.reshape(s)` and `tg::reshape(x, s)` agree.
// The in-place methods live in inplace.cpp, backward() in tg_autograd.
#include <tensorgrad/ops/reduce.h>
#include <tensorgrad/ops/view.h>

namespace tg {

Tensor Tensor::reshape(const Shape& shape) const { return tg::reshape(*this, shape); }
Tensor Tensor::view(const Shape& shape) const { return tg::view(*this, shape); }
Tensor Tensor::permute(const std::vector<int64_t>& dims) const { return tg::permute(*this, dims); }
Tensor Tensor::transpose(int64_t dim0, int64_t dim1) const { return tg::transpose(*this, dim0, dim1); }

Tensor Tensor::t() const {
  TG_CHECK(dim() <= 2, "tg::Tensor::t: expected a tensor with at most 2 dimensions, got shape ", shape(),
           "; use transpose or permute");
  return dim() < 2 ? tg::transpose(*this, 0, 0) : tg::transpose(*this, 0, 1);
}

Tensor Tensor::expand(const Shape& shape) const { return tg::expand(*this, shape); }
Tensor Tensor::slice(int64_t dim, int64_t start, int64_t end, int64_t step) const {
  return tg::slice(*this, dim, start, end, step);
}
Tensor Tensor::narrow(int64_t dim, int64_t start, int64_t length) const { return tg::narrow(*this, dim, start, length); }
Tensor Tensor::squeeze(int64_t dim) const { return tg::squeeze(*this, dim); }
Tensor Tensor::unsqueeze(int64_t dim) const { return tg::unsqueeze(*this, dim); }
Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const { return tg::flatten(*this, start_dim, end_dim); }
Tensor Tensor::contiguous() const { return tg::contiguous(*this); }
Tensor Tensor::clone() const { return tg::clone(*this); }
Tensor Tensor::to(DType dtype) const { return tg::to(*this, dtype); }
Tensor Tensor::to(Device device) const { return tg::to(*this, device); }

Tensor Tensor::sum() const { return tg::sum(*this); }
Tensor Tensor::sum(const std::vector<int64_t>& dims, bool keepdim) const { return tg::sum(*this, dims, keepdim); }
Tensor Tensor::mean() const { return tg::mean(*this); }
Tensor Tensor::mean(const std::vector<int64_t>& dims, bool keepdim) const { return tg::mean(*this, dims, keepdim); }

}  // namespace tg
