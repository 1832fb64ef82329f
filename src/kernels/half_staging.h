#pragma once
// bfloat16 and float16 in host memory: each family's 16-bit slots run a float32 kernel on float32 copies of the
// 16-bit operands and round the outputs back (half_staging.cpp). copy, fill and where move 16-bit values
// natively and are not staged.
#include <optional>

#include <tensorgrad/kernels/kernel_tables.h>

namespace tg::kernels {

// One operand of a staged call: `arg()` is what the float32 kernel sees. A 16-bit operand becomes a contiguous
// float32 buffer over `shape` (from the CPU allocator; filled from the operand when `load`, rounded back into it
// by `store()`); any other operand, or an absent one (null data), is passed through as it is.
class Staged {
 public:
  Staged(const Shape& shape, const StridedArg& operand, bool load);
  ~Staged();
  Staged(const Staged&) = delete;
  Staged& operator=(const Staged&) = delete;

  const StridedArg& arg() const { return staged_; }
  // The float32 buffer's strides over another view of the same elements: a reduction's output is written
  // through strides over the input's shape, zero in the reduced dims.
  StridedArg with_strides(Strides strides) const;
  void store() const;

 private:
  Shape shape_;
  StridedArg operand_;
  StridedArg staged_;
  void* buffer_ = nullptr;
  size_t bytes_ = 0;
};

// A matmul epilogue whose bias (n values of `dtype`, 16-bit or not) is staged to float32 like an operand.
class StagedEpilogue {
 public:
  StagedEpilogue(const MatmulEpilogue& epilogue, int64_t n, DType dtype, DeviceType device);
  const MatmulEpilogue& get() const { return epilogue_; }

 private:
  MatmulEpilogue epilogue_;
  std::optional<Staged> bias_;
};

// batch_shape followed by rows and cols: the shape of a (batched) matmul operand.
inline Shape matrix_shape(const Shape& batch, int64_t rows, int64_t cols) {
  Shape s = batch;
  s.push_back(rows);
  s.push_back(cols);
  return s;
}

// Which float32 kernels the staged 16-bit kernels call: the reference ones (ref/register.cpp adds these, the
// oracle) or the CPU's production ones (cpu/register.cpp adds these over them).
enum class HalfStaging : uint8_t { Reference, Production };

// Fills the CPU's bfloat16 and float16 slots of every family whose float32 slot is filled; call it after the
// float32 kernels are registered.
void register_half_staging(KernelTables& t, HalfStaging over);

}  // namespace tg::kernels
