#include <tensorgrad/base/error.h>
#include <tensorgrad/data/dataset.h>

#include <cstring>

namespace tg {

namespace {

Tensor contiguous_copy(const Tensor& t) {
  Tensor out = Tensor::empty(t.shape(), t.dtype());
  copy_to_contiguous(t, static_cast<char*>(out.data_ptr()));
  return out;
}

}  // namespace

Tensor gather_rows(const Tensor& source, std::span<const int64_t> indices, const char* op) {
  TG_CHECK(source.defined(), op, ": undefined tensor");
  TG_CHECK(source.dim() >= 1, op, ": expected a tensor with at least one dimension (examples along dim 0), got a 0-d "
           "tensor");
  TG_CHECK(source.device().type == DeviceType::CPU, op, ": expected a CPU tensor, got ", source.device());
  const int64_t rows = source.size(0);
  Shape shape = source.shape();
  shape[0] = static_cast<int64_t>(indices.size());
  Tensor out = Tensor::empty(shape, source.dtype());
  const int64_t row_elems = rows > 0 ? source.numel() / rows : numel_of(Shape(shape.begin() + 1, shape.end()));
  const size_t row_bytes = static_cast<size_t>(row_elems) * itemsize(source.dtype());
  char* dst = static_cast<char*>(out.data_ptr());
  const bool contiguous = source.is_contiguous();
  const char* src = static_cast<const char*>(source.data_ptr());
  const Shape row_shape(source.shape().begin() + 1, source.shape().end());
  const Strides row_strides(source.strides().begin() + 1, source.strides().end());
  for (size_t k = 0; k < indices.size(); ++k, dst += row_bytes) {
    const int64_t i = indices[k];
    TG_CHECK(i >= 0 && i < rows, op, ": index ", i, " (position ", k, " of the batch) is out of range for ", rows,
             " examples (shape ", source.shape(), ")");
    if (row_bytes == 0) continue;
    if (contiguous) std::memcpy(dst, src + static_cast<size_t>(i) * row_bytes, row_bytes);
    else copy_to_contiguous(source.as_strided(row_shape, row_strides, source.offset() + i * source.stride(0)), dst);
  }
  return out;
}

TensorDataset::TensorDataset(Tensor inputs, Tensor targets) {
  constexpr const char* op = "tg::TensorDataset";
  TG_CHECK(inputs.defined() && targets.defined(), op, ": inputs and targets must be defined tensors");
  TG_CHECK(inputs.dim() >= 1 && targets.dim() >= 1, op, ": inputs and targets need a dimension 0 indexing the "
           "examples, got shapes ", inputs.shape(), " and ", targets.shape());
  TG_CHECK(inputs.size(0) == targets.size(0), op, ": inputs and targets must have the same size in dimension 0, got "
           "shapes ", inputs.shape(), " and ", targets.shape());
  TG_CHECK(inputs.device().type == DeviceType::CPU && targets.device().type == DeviceType::CPU, op,
           ": expected CPU tensors, got ", inputs.device(), " and ", targets.device());
  inputs_ = inputs.is_contiguous() ? inputs.detach() : contiguous_copy(inputs);
  targets_ = targets.is_contiguous() ? targets.detach() : contiguous_copy(targets);
  size_ = inputs.size(0);
}

Batch TensorDataset::get_batch(std::span<const int64_t> indices) const {
  Batch batch;
  batch.inputs = gather_rows(inputs_, indices, "tg::TensorDataset::get_batch (inputs)");
  batch.targets = gather_rows(targets_, indices, "tg::TensorDataset::get_batch (targets)");
  batch.indices.assign(indices.begin(), indices.end());
  return batch;
}

}  // namespace tg
