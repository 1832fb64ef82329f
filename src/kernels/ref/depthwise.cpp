// The reference depthwise 1-D convolution: the definition, one output at a time (see kernels.h).
#include "ref_kernels.h"

namespace tg::kernels::ref {

namespace {

template <class T>
void depthwise_typed(const DepthwiseProblem& p, const StridedArg& out, const StridedArg& x, const StridedArg& w) {
  const T* xp = static_cast<const T*>(x.data);
  const T* wp = static_cast<const T*>(w.data);
  T* op = static_cast<T*>(out.data);
  for (int64_t n = 0; n < p.batch; ++n)
    for (int64_t c = 0; c < p.channels; ++c)
      for (int64_t o = 0; o < p.out_length; ++o) {
        double acc = 0;
        for (int64_t k = 0; k < p.kernel; ++k) {
          const int64_t i = o * p.stride - p.padding + k * p.dilation;
          if (i >= 0 && i < p.length)
            acc += static_cast<double>(wp[c * w.strides[0] + k * w.strides[1]]) *
                   static_cast<double>(xp[n * x.strides[0] + c * x.strides[1] + i * x.strides[2]]);
        }
        op[n * out.strides[0] + c * out.strides[1] + o * out.strides[2]] = static_cast<T>(acc);
      }
}

void depthwise(const DepthwiseProblem& p, const StridedArg& out, const StridedArg& x, const StridedArg& w) {
  visit_floating(x.dtype, "tg::depthwise_conv1d",
                 [&]<class T>(TypeTag<T>) { depthwise_typed<T>(p, out, x, w); });
}

}  // namespace

void register_depthwise(KernelTables& t) {
  for (DType d : {DType::Float32, DType::Float64}) t.depthwise.add(DeviceType::CPU, d, &depthwise);
}

}  // namespace tg::kernels::ref
