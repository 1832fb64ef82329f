#pragma once
// N-d iteration over K strided operands, the engine under every reference kernel. Size-1 dimensions are
// dropped and adjacent dimensions that are contiguous for every operand are merged, so a fully
// contiguous loop becomes one flat run (the fast path) and a transposed one keeps its true inner stride.
#include <array>
#include <cstdint>
#include <vector>

#include <tensorgrad/core/device.h>
#include <tensorgrad/core/dtype.h>
#include <tensorgrad/core/shape.h>

namespace tg::kernels {

// One operand of a kernel: a pointer to its element (0, ..., 0) and strides in elements, one per loop dim,
// and the device whose memory `data` points into (the kernel tables dispatch on the output's).
struct StridedArg {
  void* data = nullptr;
  Strides strides;
  DType dtype = DType::Float32;
  DeviceType device = DeviceType::CPU;
};

namespace detail {
// A vector that keeps its first N elements inline: the loop state of for_each_run, so iterating a tensor of
// up to N merged dimensions allocates nothing (a 1-element op's whole kernel call used to be two heap
// allocations here).
template <class T, size_t N>
class InlineVec {
 public:
  void push_back(const T& v) {
    if (size_ < N) inline_[size_] = v;
    else {
      if (size_ == N) heap_.assign(inline_.begin(), inline_.end());
      heap_.push_back(v);
    }
    ++size_;
  }
  T* data() { return size_ <= N ? inline_.data() : heap_.data(); }
  T& operator[](size_t i) { return data()[i]; }
  T& back() { return data()[size_ - 1]; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  std::array<T, N> inline_{};
  std::vector<T> heap_;
  size_t size_ = 0;
};
}  // namespace detail

// Calls run(count, offsets, inner_strides) for each innermost 1-D run, in row-major logical order.
template <size_t K, class F>
void for_each_run(const Shape& shape, const std::array<const int64_t*, K>& strides, F&& run) {
  detail::InlineVec<int64_t, 6> sizes;
  detail::InlineVec<std::array<int64_t, K>, 6> st;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0) return;
    if (shape[d] == 1) continue;
    std::array<int64_t, K> s{};
    for (size_t k = 0; k < K; ++k) s[k] = strides[k][d];
    if (!sizes.empty()) {
      bool mergeable = true;
      for (size_t k = 0; k < K; ++k) mergeable &= st.back()[k] == s[k] * shape[d];
      if (mergeable) {
        sizes.back() *= shape[d];
        st.back() = s;
        continue;
      }
    }
    sizes.push_back(shape[d]);
    st.push_back(s);
  }
  std::array<int64_t, K> offsets{};
  if (sizes.empty()) {
    run(int64_t{1}, offsets, std::array<int64_t, K>{});
    return;
  }
  const size_t inner = sizes.size() - 1;
  if (inner == 0) {  // one flat run: the contiguous fast path
    run(sizes[0], offsets, st[0]);
    return;
  }
  detail::InlineVec<int64_t, 6> index;
  for (size_t d = 0; d < inner; ++d) index.push_back(0);
  while (true) {
    run(sizes[inner], offsets, st[inner]);
    size_t d = inner;
    while (d-- > 0) {
      for (size_t k = 0; k < K; ++k) offsets[k] += st[d][k];
      if (++index[d] < sizes[d]) break;
      for (size_t k = 0; k < K; ++k) offsets[k] -= st[d][k] * sizes[d];
      index[d] = 0;
    }
    if (d == static_cast<size_t>(-1)) return;
  }
}

// Typed elementwise loops with a unit-stride branch the compiler vectorises.
template <class Out, class In, class F>
void map1(const Shape& shape, const StridedArg& out, const StridedArg& in, F f) {
  Out* o = static_cast<Out*>(out.data);
  const In* a = static_cast<const In*>(in.data);
  for_each_run<2>(shape, {out.strides.data(), in.strides.data()}, [&](int64_t n, auto off, auto s) {
    Out* po = o + off[0];
    const In* pa = a + off[1];
    if (s[0] == 1 && s[1] == 1)
      for (int64_t i = 0; i < n; ++i) po[i] = f(pa[i]);
    else
      for (int64_t i = 0; i < n; ++i) po[i * s[0]] = f(pa[i * s[1]]);
  });
}

template <class Out, class A, class B, class F>
void map2(const Shape& shape, const StridedArg& out, const StridedArg& a, const StridedArg& b, F f) {
  Out* o = static_cast<Out*>(out.data);
  const A* pa0 = static_cast<const A*>(a.data);
  const B* pb0 = static_cast<const B*>(b.data);
  for_each_run<3>(shape, {out.strides.data(), a.strides.data(), b.strides.data()}, [&](int64_t n, auto off, auto s) {
    Out* po = o + off[0];
    const A* pa = pa0 + off[1];
    const B* pb = pb0 + off[2];
    if (s[0] == 1 && s[1] == 1 && s[2] == 1) {
      for (int64_t i = 0; i < n; ++i) po[i] = f(pa[i], pb[i]);
    } else if (s[0] == 1 && s[1] == 1 && s[2] == 0) {  // tensor op scalar: the vectorisable form
      const B bv = pb[0];
      for (int64_t i = 0; i < n; ++i) po[i] = f(pa[i], bv);
    } else if (s[0] == 1 && s[1] == 0 && s[2] == 1) {
      const A av = pa[0];
      for (int64_t i = 0; i < n; ++i) po[i] = f(av, pb[i]);
    } else
      for (int64_t i = 0; i < n; ++i) po[i * s[0]] = f(pa[i * s[1]], pb[i * s[2]]);
  });
}

// Three inputs (where's condition and both branches): unit stride everywhere, or one branch a scalar.
template <class Out, class A, class B, class C, class F>
void map3(const Shape& shape, const StridedArg& out, const StridedArg& a, const StridedArg& b, const StridedArg& c,
          F f) {
  Out* o = static_cast<Out*>(out.data);
  const A* pa0 = static_cast<const A*>(a.data);
  const B* pb0 = static_cast<const B*>(b.data);
  const C* pc0 = static_cast<const C*>(c.data);
  for_each_run<4>(shape, {out.strides.data(), a.strides.data(), b.strides.data(), c.strides.data()},
                  [&](int64_t n, auto off, auto s) {
                    Out* po = o + off[0];
                    const A* pa = pa0 + off[1];
                    const B* pb = pb0 + off[2];
                    const C* pc = pc0 + off[3];
                    if (s[0] == 1 && s[1] == 1 && s[2] == 1 && s[3] == 1) {
                      for (int64_t i = 0; i < n; ++i) po[i] = f(pa[i], pb[i], pc[i]);
                    } else if (s[0] == 1 && s[1] == 1 && s[2] == 1 && s[3] == 0) {
                      const C cv = pc[0];
                      for (int64_t i = 0; i < n; ++i) po[i] = f(pa[i], pb[i], cv);
                    } else if (s[0] == 1 && s[1] == 1 && s[2] == 0 && s[3] == 1) {
                      const B bv = pb[0];
                      for (int64_t i = 0; i < n; ++i) po[i] = f(pa[i], bv, pc[i]);
                    } else {
                      for (int64_t i = 0; i < n; ++i) po[i * s[0]] = f(pa[i * s[1]], pb[i * s[2]], pc[i * s[3]]);
                    }
                  });
}

}  // namespace tg::kernels
