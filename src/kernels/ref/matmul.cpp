#include "../epilogue.h"
#include "ref_kernels.h"

namespace tg::kernels::ref {

namespace {

// The reference rung: i-k-j order (unit stride over B's and C's rows when they are contiguous).
// Speed is the GEMM ladder's job; this one is the oracle it is checked against.
template <class T>
void matmul_2d(int64_t m, int64_t n, int64_t k, T* c, int64_t cs0, int64_t cs1, const T* a, int64_t as0,
               int64_t as1, const T* b, int64_t bs0, int64_t bs1) {
  for (int64_t i = 0; i < m; ++i) {
    T* crow = c + i * cs0;
    for (int64_t j = 0; j < n; ++j) crow[j * cs1] = T(0);
    for (int64_t p = 0; p < k; ++p) {
      const T aip = a[i * as0 + p * as1];
      const T* brow = b + p * bs0;
      if (cs1 == 1 && bs1 == 1)
        for (int64_t j = 0; j < n; ++j) crow[j] += aip * brow[j];
      else
        for (int64_t j = 0; j < n; ++j) crow[j * cs1] += aip * brow[j * bs1];
    }
  }
}

template <class T>
void matmul_typed(const Shape& batch_shape, int64_t m, int64_t n, int64_t k, const StridedArg& c,
                  const StridedArg& a, const StridedArg& b) {
  const size_t nb = batch_shape.size();
  T* c0 = static_cast<T*>(c.data);
  const T* a0 = static_cast<const T*>(a.data);
  const T* b0 = static_cast<const T*>(b.data);
  for_each_run<3>(batch_shape, {c.strides.data(), a.strides.data(), b.strides.data()},
                  [&](int64_t count, auto off, auto st) {
                    for (int64_t i = 0; i < count; ++i)
                      matmul_2d<T>(m, n, k, c0 + off[0] + i * st[0], c.strides[nb], c.strides[nb + 1],
                                   a0 + off[1] + i * st[1], a.strides[nb], a.strides[nb + 1],
                                   b0 + off[2] + i * st[2], b.strides[nb], b.strides[nb + 1]);
                  });
}

// The unfused definition of the fused matmul: the product, then the epilogue over every C matrix.
template <class T>
void matmul_fused_typed(const Shape& batch_shape, int64_t m, int64_t n, int64_t k, const StridedArg& c,
                        const StridedArg& a, const StridedArg& b, const MatmulEpilogue& epilogue) {
  matmul_typed<T>(batch_shape, m, n, k, c, a, b);
  if (epilogue.bias == nullptr && epilogue.activation == Activation::None) return;
  const size_t nb = batch_shape.size();
  T* c0 = static_cast<T*>(c.data);
  const int64_t* strides = c.strides.data();
  for_each_run<1>(batch_shape, {strides}, [&](int64_t count, auto off, auto st) {
    for (int64_t i = 0; i < count; ++i)
      apply_epilogue(epilogue, c0 + off[0] + i * st[0], m, n, c.strides[nb], c.strides[nb + 1], 0);
  });
}

}  // namespace

void register_matmul(KernelTables& t) {
  t.matmul.add(DeviceType::CPU, DType::Float32, &matmul_fused_typed<float>);
  t.matmul.add(DeviceType::CPU, DType::Float64, &matmul_fused_typed<double>);
  t.matmul.add(DeviceType::CPU, DType::Int64, &matmul_fused_typed<int64_t>);
}

}  // namespace tg::kernels::ref
