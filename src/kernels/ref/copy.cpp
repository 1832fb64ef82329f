#include "ref_kernels.h"

namespace tg::kernels::ref {

namespace {

template <class Out, class In>
Out cast_value(In v) {
  if constexpr (std::is_same_v<Out, bool>) return v != In(0);
  else return static_cast<Out>(v);
}

template <class In>
void copy_from(const Shape& shape, const StridedArg& out, const StridedArg& src, bool accumulate) {
  visit_dtype(out.dtype, [&]<class Out>(TypeTag<Out>) {
    if (!accumulate) {
      map1<Out, In>(shape, out, src, [](In v) { return cast_value<Out>(v); });
      return;
    }
    TG_CHECK((!std::is_same_v<Out, bool>), "tg::copy: cannot accumulate into a bool tensor");
    Out* o = static_cast<Out*>(out.data);
    const In* s = static_cast<const In*>(src.data);
    for_each_run<2>(shape, {out.strides.data(), src.strides.data()}, [&](int64_t n, auto off, auto st) {
      for (int64_t i = 0; i < n; ++i) {
        Out& dst = o[off[0] + i * st[0]];
        if constexpr (std::is_same_v<Out, bool>) dst = dst || cast_value<bool>(s[off[1] + i * st[1]]);
        else dst = static_cast<Out>(dst + cast_value<Out>(s[off[1] + i * st[1]]));
      }
    });
  });
}

template <class T>
void fill_typed(const Shape& shape, const StridedArg& out, double value) {
  const T v = cast_value<T>(value);
  T* o = static_cast<T*>(out.data);
  for_each_run<1>(shape, {out.strides.data()}, [&](int64_t n, auto off, auto st) {
    for (int64_t i = 0; i < n; ++i) o[off[0] + i * st[0]] = v;
  });
}

}  // namespace

void copy(const Shape& shape, const StridedArg& out, const StridedArg& src, bool accumulate) {
  visit_dtype(src.dtype, [&]<class T>(TypeTag<T>) { copy_from<T>(shape, out, src, accumulate); });
}
void fill(const Shape& shape, const StridedArg& out, double value) {
  visit_dtype(out.dtype, [&]<class T>(TypeTag<T>) { fill_typed<T>(shape, out, value); });
}

void register_copy(KernelTables& t) {
  // Every dtype, the 16-bit ones included: casts to and from them are these kernels.
  for (int i = 0; i < kNumDTypes; ++i) {
    const auto d = static_cast<DType>(i);
    t.copy.add(DeviceType::CPU, d, &copy);
    t.fill.add(DeviceType::CPU, d, &fill);
  }
}

}  // namespace tg::kernels::ref
