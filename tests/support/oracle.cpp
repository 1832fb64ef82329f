#include "support/oracle.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

namespace tgtest {

namespace {

// std::mt19937's output sequence is fixed by the standard, unlike the std distributions, so values are
// derived from it by hand and the suite draws the same numbers with every standard library.
double unit(std::mt19937& rng) { return static_cast<double>(rng()) / 4294967296.0; }

Index row_major_strides(const Shape& shape) {
  Index strides(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= std::max<int64_t>(shape[i], 1);
  }
  return strides;
}

// Writes `values` (row-major over view's shape) through the view's own strides.
void write_through(const Tensor& view, const std::vector<double>& values) {
  const Shape& shape = view.shape();
  const auto& strides = view.strides();
  tg::visit_dtype(view.dtype(), [&]<class T>(tg::TypeTag<T>) {
    T* base = static_cast<T*>(view.data_ptr());
    for (int64_t n = 0; n < count(shape); ++n) {
      const Index idx = unravel(n, shape);
      int64_t off = 0;
      for (size_t d = 0; d < idx.size(); ++d) off += idx[d] * strides[d];
      if constexpr (std::is_same_v<T, bool>) base[off] = values[static_cast<size_t>(n)] != 0.0;
      else base[off] = static_cast<T>(values[static_cast<size_t>(n)]);
    }
  });
}

// Fills a whole buffer with values a correct op never reads: reading one shows up as NaN or out of range.
void poison(const Tensor& buffer) {
  tg::visit_dtype(buffer.dtype(), [&]<class T>(tg::TypeTag<T>) {
    T* p = static_cast<T*>(buffer.data_ptr());
    T bad;
    if constexpr (std::is_same_v<T, bool>) bad = true;
    else if constexpr (std::is_integral_v<T>) bad = std::numeric_limits<T>::max() / 3;
    else bad = static_cast<T>(std::numeric_limits<double>::quiet_NaN());
    std::fill(p, p + buffer.numel(), bad);
  });
}

Tensor strided_view(const Shape& shape, DType dtype) {
  constexpr int64_t kSkip = 3;
  Tensor buffer = Tensor::empty({2 * count(shape) + kSkip}, dtype);
  poison(buffer);
  Index strides = row_major_strides(shape);
  for (auto& s : strides) s *= 2;
  return buffer.as_strided(shape, strides, kSkip);
}

}  // namespace

std::vector<double> to_doubles(const Tensor& t) {
  return tg::visit_dtype(t.dtype(), [&]<class T>(tg::TypeTag<T>) {
    const std::vector<T> raw = t.template to_vector<T>();
    std::vector<double> out;
    out.reserve(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) out.push_back(static_cast<double>(raw[i]));
    return out;
  });
}

RefArg to_ref(const Tensor& t) { return {t.shape(), to_doubles(t)}; }

const char* layout_name(Layout layout) {
  switch (layout) {
    case Layout::Contiguous: return "contiguous";
    case Layout::Transposed: return "transposed";
    case Layout::Strided: return "strided";
    case Layout::Expanded: return "expanded";
  }
  return "?";
}

Tensor make_tensor(const Shape& shape, const std::vector<double>& values, DType dtype, Layout layout) {
  if (static_cast<int64_t>(values.size()) != count(shape))
    throw std::invalid_argument("make_tensor: " + std::to_string(values.size()) + " values for shape " +
                                shape_string(shape));
  const size_t r = shape.size();
  if (layout == Layout::Transposed && r < 2) layout = Layout::Strided;
  size_t expand_dim = r;
  if (layout == Layout::Expanded) {
    for (size_t d = 0; d < r; ++d)
      if (shape[d] > 1) {
        expand_dim = d;
        break;
      }
    if (expand_dim == r) layout = Layout::Strided;
  }
  switch (layout) {
    case Layout::Contiguous: {
      Tensor t = Tensor::empty(shape, dtype);
      write_through(t, values);
      return t;
    }
    case Layout::Transposed: {
      Shape physical = shape;
      std::swap(physical[r - 1], physical[r - 2]);
      Tensor buffer = Tensor::empty(physical, dtype);
      Index strides = row_major_strides(physical);
      std::swap(strides[r - 1], strides[r - 2]);
      Tensor view = buffer.as_strided(shape, strides, 0);
      write_through(view, values);
      return view;
    }
    case Layout::Strided: {
      Tensor view = strided_view(shape, dtype);
      write_through(view, values);
      return view;
    }
    case Layout::Expanded: {
      Shape base_shape = shape;
      base_shape[expand_dim] = 1;
      std::vector<double> base(static_cast<size_t>(count(base_shape)));
      for (int64_t n = 0; n < count(base_shape); ++n) base[static_cast<size_t>(n)] =
          values[static_cast<size_t>(ravel(unravel(n, base_shape), shape))];
      Tensor buffer = Tensor::empty(base_shape, dtype);
      write_through(buffer, base);
      Index strides = row_major_strides(base_shape);
      strides[expand_dim] = 0;
      return buffer.as_strided(shape, strides, 0);
    }
  }
  return {};
}

Tensor make_tensor(const RefArg& arg, DType dtype, Layout layout) {
  return make_tensor(arg.shape, arg.v, dtype, layout);
}

std::vector<double> uniform(std::mt19937& rng, int64_t n, double lo, double hi) {
  std::vector<double> out(static_cast<size_t>(n));
  for (auto& x : out) x = lo + (hi - lo) * unit(rng);
  return out;
}

std::vector<double> away_from_zero(std::mt19937& rng, int64_t n, double lo, double hi) {
  std::vector<double> out = uniform(rng, n, lo, hi);
  for (auto& x : out)
    if (rng() & 1u) x = -x;
  return out;
}

std::vector<double> distinct(std::mt19937& rng, int64_t n, double gap) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
  std::vector<double> out(static_cast<size_t>(n));
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = (static_cast<double>(order[i]) - 0.5 * static_cast<double>(n - 1)) * gap + 0.2 * gap * unit(rng);
  return out;
}

std::vector<double> discrete(std::mt19937& rng, int64_t n, const std::vector<double>& choices) {
  std::vector<double> out(static_cast<size_t>(n));
  for (auto& x : out) x = choices[rng() % choices.size()];
  return out;
}

std::vector<double> integers(std::mt19937& rng, int64_t n, int64_t lo, int64_t hi) {
  std::vector<double> out(static_cast<size_t>(n));
  const auto span = static_cast<uint32_t>(hi - lo);
  for (auto& x : out) x = static_cast<double>(lo + static_cast<int64_t>(span == 0 ? 0 : rng() % span));
  return out;
}

int64_t count(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

Index unravel(int64_t flat, const Shape& shape) {
  Index idx(shape.size(), 0);
  for (size_t d = shape.size(); d-- > 0;) {
    if (shape[d] == 0) return idx;
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return idx;
}

int64_t ravel(const Index& idx, const Shape& shape) {
  int64_t flat = 0;
  for (size_t d = 0; d < shape.size(); ++d) flat = flat * shape[d] + idx[d];
  return flat;
}

Shape broadcast_all(const std::vector<Shape>& shapes, bool* ok) {
  size_t rank = 0;
  for (const auto& s : shapes) rank = std::max(rank, s.size());
  Shape out(rank, 1);
  if (ok) *ok = true;
  for (const auto& s : shapes) {
    for (size_t i = 0; i < s.size(); ++i) {
      int64_t& o = out[rank - s.size() + i];
      if (s[i] == o || s[i] == 1) continue;
      if (o == 1) o = s[i];
      else if (ok) *ok = false;
    }
  }
  return out;
}

int64_t broadcast_source(const Index& out_idx, const Shape& in_shape) {
  const size_t lead = out_idx.size() - in_shape.size();
  int64_t flat = 0;
  for (size_t i = 0; i < in_shape.size(); ++i)
    flat = flat * in_shape[i] + (in_shape[i] == 1 ? 0 : out_idx[lead + i]);
  return flat;
}

int64_t wrap(int64_t dim, int64_t ndim) { return dim < 0 ? dim + ndim : dim; }

RefArg generate(const Shape& out_shape, const std::function<double(const Index&)>& f) {
  RefArg out{out_shape, std::vector<double>(static_cast<size_t>(count(out_shape)))};
  for (int64_t n = 0; n < count(out_shape); ++n) out.v[static_cast<size_t>(n)] = f(unravel(n, out_shape));
  return out;
}

RefArg map1(const RefArg& x, const std::function<double(double)>& f) {
  RefArg out = x;
  for (auto& v : out.v) v = f(v);
  return out;
}

RefArg map2(const RefArg& a, const RefArg& b, const std::function<double(double, double)>& f) {
  const Shape shape = broadcast_all({a.shape, b.shape});
  return generate(shape, [&](const Index& i) {
    return f(a.v[static_cast<size_t>(broadcast_source(i, a.shape))],
             b.v[static_cast<size_t>(broadcast_source(i, b.shape))]);
  });
}

RefArg map3(const RefArg& a, const RefArg& b, const RefArg& c,
            const std::function<double(double, double, double)>& f) {
  const Shape shape = broadcast_all({a.shape, b.shape, c.shape});
  return generate(shape, [&](const Index& i) {
    return f(a.v[static_cast<size_t>(broadcast_source(i, a.shape))],
             b.v[static_cast<size_t>(broadcast_source(i, b.shape))],
             c.v[static_cast<size_t>(broadcast_source(i, c.shape))]);
  });
}

RefArg reduce(const RefArg& x, std::vector<int64_t> dims, bool keepdim,
              const std::function<double(const std::vector<double>&)>& f) {
  const auto rank = static_cast<int64_t>(x.shape.size());
  std::vector<bool> reduced(x.shape.size(), dims.empty());
  for (int64_t d : dims) reduced[static_cast<size_t>(wrap(d, rank))] = true;
  Shape kept = x.shape;
  for (size_t d = 0; d < kept.size(); ++d)
    if (reduced[d]) kept[d] = 1;
  std::vector<std::vector<double>> groups(static_cast<size_t>(count(kept)));
  for (int64_t n = 0; n < count(x.shape); ++n) {
    Index idx = unravel(n, x.shape);
    for (size_t d = 0; d < idx.size(); ++d)
      if (reduced[d]) idx[d] = 0;
    groups[static_cast<size_t>(ravel(idx, kept))].push_back(x.v[static_cast<size_t>(n)]);
  }
  RefArg out;
  for (size_t d = 0; d < kept.size(); ++d)
    if (keepdim || !reduced[d]) out.shape.push_back(kept[d]);
  for (const auto& g : groups) out.v.push_back(f(g));
  return out;
}

std::string shape_string(const Shape& shape) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << ']';
  return os.str();
}

std::string compare(const RefArg& got, const RefArg& want, Tolerance tol) {
  std::ostringstream os;
  if (got.shape != want.shape) {
    os << "shape " << shape_string(got.shape) << ", expected " << shape_string(want.shape);
    return os.str();
  }
  if (got.v.size() != want.v.size()) {
    os << got.v.size() << " values, expected " << want.v.size();
    return os.str();
  }
  int shown = 0, bad = 0;
  for (size_t i = 0; i < got.v.size(); ++i) {
    const double g = got.v[i], w = want.v[i];
    bool ok;
    if (std::isnan(w)) ok = std::isnan(g);
    else if (std::isinf(w)) ok = g == w;
    else ok = std::abs(g - w) <= tol.atol + tol.rtol * std::abs(w);  // false for a NaN g
    if (ok) continue;
    ++bad;
    if (shown++ < 5) {
      os.precision(17);
      os << "  at " << shape_string(unravel(static_cast<int64_t>(i), want.shape)) << ": got " << g << ", expected "
         << w << "\n";
    }
  }
  if (bad == 0) return {};
  return std::to_string(bad) + " of " + std::to_string(got.v.size()) + " values differ:\n" + os.str();
}

}  // namespace tgtest
