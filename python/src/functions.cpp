// Module-level functions: tensor creation and randomness, the ops that are not methods (cat, where, einsum,
// ...) and tensorgrad.nn.functional. Arguments follow torch's names and defaults.
#include "bindings.h"

namespace tg::python {

namespace {

Reduction reduction_from(const std::string& name) {
  if (name == "mean") return Reduction::Mean;
  if (name == "sum") return Reduction::Sum;
  if (name == "none") return Reduction::None;
  throw py::value_error("reduction must be 'mean', 'sum' or 'none', got '" + name + "'");
}

SpatialArg spatial(const py::object& value, const char* what) {
  if (value.is_none()) return {};
  return SpatialArg(ints_from(value, what));
}

Tensor optional_tensor(const py::object& t) { return t.is_none() ? Tensor() : t.cast<Tensor>(); }

using ConvFn = Tensor (*)(const Tensor&, const Tensor&, const Tensor&, const SpatialArg&, const SpatialArg&,
                          const SpatialArg&, int64_t);

// F.conv1d / F.conv2d: the arguments read with the GIL, the convolution run without it.
template <ConvFn Conv>
Tensor convolution(const Tensor& x, const Tensor& w, const py::object& b, const py::object& stride,
                   const py::object& padding, const py::object& dilation, int64_t groups) {
  const Tensor bias = optional_tensor(b);
  const SpatialArg s = spatial(stride, "stride"), p = spatial(padding, "padding"), d = spatial(dilation, "dilation");
  py::gil_scoped_release release;
  return Conv(x, w, bias, s, p, d, groups);
}

Generator& generator_or_default(const py::object& gen) {
  return gen.is_none() ? default_generator() : gen.cast<Generator&>();
}

Tensor finish(Tensor t, bool requires_grad) {
  if (requires_grad) t.requires_grad_(true);
  return t;
}

// tensorgrad.tensor(data): a copy of nested lists, numbers, a NumPy array or another tensor. Python floats
// take the default float dtype; NumPy arrays keep theirs.
Tensor tensor_from_data(const py::object& data, const py::object& dtype, const py::object& device, bool requires_grad) {
  Tensor t;
  if (py::isinstance<Tensor>(data)) {
    t = data.cast<Tensor>().detach().clone();
  } else {
    const bool from_numpy_array = py::isinstance<py::array>(data);
    py::module_ np = py::module_::import("numpy");
    py::array array = np.attr("ascontiguousarray")(data);
    const char kind = array.dtype().kind();
    if (kind == 'f' && !from_numpy_array) array = array.attr("astype")(default_float_dtype() == DType::Float64 ? "float64" : "float32");
    else if ((kind == 'i' || kind == 'u') && array.itemsize() != 8) array = array.attr("astype")("int64");
    else if (kind == 'f' && array.itemsize() == 2) {
    } else if (kind != 'f' && kind != 'i' && kind != 'b' && kind != 'u')
      throw py::type_error("tensorgrad.tensor: cannot make a tensor from data of NumPy dtype " + std::string(py::str(array.dtype())));
    t = tensor_over_numpy(array, /*allow_readonly=*/true).clone();
  }
  if (!dtype.is_none()) t = t.to(dtype.cast<DType>());
  if (!device.is_none()) t = t.to(device_from(device));
  return finish(t, requires_grad);
}

}  // namespace

void bind_functions(py::module_& m, py::module_& F) {
  // ---- creation ----
  m.def("tensor", &tensor_from_data, py::arg("data"), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
        py::arg("requires_grad") = false,
        "A new tensor holding a copy of data (nested lists, numbers, a NumPy array or a tensor). Python floats "
        "take the default float dtype, ints int64, bools bool_; NumPy arrays keep their dtype.");
  auto filled = [](Tensor (*make)(const Shape&, DType, Device), const char* name) {
    return [make, name](const py::args& size, const py::object& dtype, const py::object& device, bool requires_grad) {
      return finish(make(shape_from_args(size, name), dtype_or(dtype, default_float_dtype()), device_from(device)),
                    requires_grad);
    };
  };
  m.def("zeros", filled(&tg::zeros, "zeros"), "zeros(*size, dtype=None, device=None, requires_grad=False)", py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
        py::arg("requires_grad") = false);
  m.def("ones", filled(&tg::ones, "ones"), "ones(*size, dtype=None, device=None, requires_grad=False)", py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
        py::arg("requires_grad") = false);
  m.def("empty", filled(&tg::empty, "empty"), "empty(*size, ...): uninitialised memory", py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
        py::arg("requires_grad") = false);
  m.def("full", [](const py::object& size, const py::handle& value, const py::object& dtype, const py::object& device,
                   bool requires_grad) {
          const Scalar s = scalar_from(value, "full");
          const DType fallback = s.kind() == Scalar::Kind::Floating ? default_float_dtype()
                                 : s.kind() == Scalar::Kind::Bool   ? DType::Bool
                                                                    : DType::Int64;
          return finish(full(ints_from(size, "full"), s.value(), dtype_or(dtype, fallback), device_from(device)), requires_grad);
        },
        py::arg("size"), py::arg("fill_value"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
        py::arg("requires_grad") = false);
  m.def("zeros_like", [](const Tensor& t, const py::object& dtype) { return zeros(t.shape(), dtype_or(dtype, t.dtype()), t.device()); },
        py::arg("input"), py::arg("dtype") = py::none());
  m.def("ones_like", [](const Tensor& t, const py::object& dtype) { return ones(t.shape(), dtype_or(dtype, t.dtype()), t.device()); },
        py::arg("input"), py::arg("dtype") = py::none());
  m.def("full_like", [](const Tensor& t, double v, const py::object& dtype) {
          return full(t.shape(), v, dtype_or(dtype, t.dtype()), t.device());
        },
        py::arg("input"), py::arg("fill_value"), py::arg("dtype") = py::none());
  m.def("empty_like", [](const Tensor& t) { return empty_like(t); }, py::arg("input"));
  m.def("arange", [](const py::handle& a, const py::object& b, const py::handle& step, const py::object& dtype,
                     const py::object& device, bool requires_grad) {
          // arange(end) or arange(start, end[, step]); ints give int64, floats the default float dtype.
          const Scalar start = b.is_none() ? Scalar(int64_t{0}) : scalar_from(a, "arange");
          const Scalar end = b.is_none() ? scalar_from(a, "arange") : scalar_from(b, "arange");
          const Scalar st = scalar_from(step, "arange");
          const bool all_int = start.kind() != Scalar::Kind::Floating && end.kind() != Scalar::Kind::Floating &&
                               st.kind() != Scalar::Kind::Floating;
          const DType d = dtype_or(dtype, all_int ? DType::Int64 : default_float_dtype());
          return finish(arange(start.value(), end.value(), st.value(), d, device_from(device)), requires_grad);
        },
        py::arg("start"), py::arg("end") = py::none(), py::arg("step") = 1, py::kw_only(), py::arg("dtype") = py::none(),
        py::arg("device") = py::none(), py::arg("requires_grad") = false);
  m.def("linspace", [](double a, double b, int64_t steps, const py::object& dtype) {
          return linspace(a, b, steps, dtype_or(dtype, default_float_dtype()));
        },
        py::arg("start"), py::arg("end"), py::arg("steps"), py::kw_only(), py::arg("dtype") = py::none());
  m.def("eye", [](int64_t n, const py::object& cols, const py::object& dtype) {
          return eye(n, cols.is_none() ? -1 : cols.cast<int64_t>(), dtype_or(dtype, default_float_dtype()));
        },
        py::arg("n"), py::arg("m") = py::none(), py::kw_only(), py::arg("dtype") = py::none());

  // ---- randomness: Philox, the same numbers for a seed whatever the thread count ----
  py::class_<Generator>(m, "Generator", "A counter-based Philox4x32-10 random number generator.")
      .def(py::init<uint64_t>(), py::arg("seed") = 0)
      .def("manual_seed", [](Generator& g, uint64_t seed) -> Generator& {
             g.set_state(seed, 0);
             return g;
           }, py::arg("seed"), py::return_value_policy::reference)
      .def("initial_seed", &Generator::seed)
      .def("get_state", [](const Generator& g) { return py::make_tuple(g.seed(), g.offset()); })
      .def("set_state", [](Generator& g, const py::tuple& s) { g.set_state(s[0].cast<uint64_t>(), s[1].cast<uint64_t>()); });
  m.def("manual_seed", &manual_seed, py::arg("seed"), "Seeds the default generator.");
  m.def("default_generator", &default_generator, py::return_value_policy::reference);
  auto random = [](Tensor (*draw)(const Shape&, DType, Generator&, Device), const char* name) {
    return [draw, name](const py::args& size, const py::object& dtype, const py::object& gen, const py::object& device,
                        bool requires_grad) {
      return finish(draw(shape_from_args(size, name), dtype_or(dtype, default_float_dtype()), generator_or_default(gen),
                         device_from(device)),
                    requires_grad);
    };
  };
  m.def("rand", random(&tg::rand, "rand"), "rand(*size, dtype=None, generator=None): uniform in [0, 1) (Philox)", py::kw_only(), py::arg("dtype") = py::none(), py::arg("generator") = py::none(),
        py::arg("device") = py::none(), py::arg("requires_grad") = false);
  m.def("randn", random(&tg::randn, "randn"), "randn(*size, dtype=None, generator=None): standard normal (Philox, Box-Muller)", py::kw_only(), py::arg("dtype") = py::none(), py::arg("generator") = py::none(),
        py::arg("device") = py::none(), py::arg("requires_grad") = false);
  m.def("randint", [](int64_t low, int64_t high, const py::object& size, const py::object& gen) {
          return randint(low, high, ints_from(size, "randint"), generator_or_default(gen));
        },
        py::arg("low"), py::arg("high"), py::arg("size"), py::kw_only(), py::arg("generator") = py::none());

  // ---- ops that are functions only ----
  m.def("matmul", [](const Tensor& a, const Tensor& b) { return matmul(a, b); }, py::arg("input"), py::arg("other"),
        py::call_guard<py::gil_scoped_release>());
  m.def("cat", [](const std::vector<Tensor>& ts, int64_t dim) { return cat(ts, dim); }, py::arg("tensors"), py::arg("dim") = 0);
  m.def("stack", [](const std::vector<Tensor>& ts, int64_t dim) { return stack(ts, dim); }, py::arg("tensors"), py::arg("dim") = 0);
  m.def("where", [](const Tensor& cond, const py::handle& a, const py::handle& b) {
          if (py::isinstance<Tensor>(a) && py::isinstance<Tensor>(b)) return where(cond, a.cast<Tensor>(), b.cast<Tensor>());
          if (py::isinstance<Tensor>(a)) return where(cond, a.cast<Tensor>(), scalar_from(b, "where"));
          if (py::isinstance<Tensor>(b)) return where(cond, scalar_from(a, "where"), b.cast<Tensor>());
          throw py::type_error("tensorgrad.where: at least one of input and other must be a Tensor");
        },
        py::arg("condition"), py::arg("input"), py::arg("other"));
  m.def("einsum", [](const std::string& eq, const py::args& operands) {
          std::vector<Tensor> ts;
          if (operands.size() == 1 && py::isinstance<py::sequence>(operands[0])) ts = operands[0].cast<std::vector<Tensor>>();
          else
            for (const auto& o : operands) ts.push_back(o.cast<Tensor>());
          return einsum(eq, ts);
        },
        py::arg("equation"));
  m.def("clamp", [](const Tensor& x, std::optional<double> lo, std::optional<double> hi) { return clamp(x, lo, hi); },
        py::arg("input"), py::arg("min") = py::none(), py::arg("max") = py::none());
  m.def("masked_fill", [](const Tensor& x, const Tensor& mask, double v) { return masked_fill(x, mask, v); },
        py::arg("input"), py::arg("mask"), py::arg("value"));
  m.def("gather", [](const Tensor& x, int64_t dim, const Tensor& i) { return gather(x, dim, i); }, py::arg("input"),
        py::arg("dim"), py::arg("index"));
  m.def("index_select", [](const Tensor& x, int64_t dim, const Tensor& i) { return index_select(x, dim, i); },
        py::arg("input"), py::arg("dim"), py::arg("index"));
  m.def("tril", [](const Tensor& x, int64_t d) { return tril(x, d); }, py::arg("input"), py::arg("diagonal") = 0);
  m.def("triu", [](const Tensor& x, int64_t d) { return triu(x, d); }, py::arg("input"), py::arg("diagonal") = 0);
  m.def("flatten", [](const Tensor& x, int64_t s, int64_t e) { return flatten(x, s, e); }, py::arg("input"),
        py::arg("start_dim") = 0, py::arg("end_dim") = -1);
  m.def("transpose", [](const Tensor& x, int64_t a, int64_t b) { return transpose(x, a, b); }, py::arg("input"),
        py::arg("dim0"), py::arg("dim1"));
  m.def("softmax", [](const Tensor& x, int64_t dim) { return softmax(x, dim); }, py::arg("input"), py::arg("dim"));
  m.def("log_softmax", [](const Tensor& x, int64_t dim) { return log_softmax(x, dim); }, py::arg("input"), py::arg("dim"));
  m.def("cumsum", [](const Tensor& x, int64_t dim) { return cumsum(x, dim); }, py::arg("input"), py::arg("dim"));
  for (const char* name : {"sum", "mean", "prod", "logsumexp", "any", "all", "max", "min", "var", "std", "argmax",
                           "argmin", "reshape", "permute", "squeeze", "unsqueeze", "split", "chunk", "unbind",
                           "sort", "argsort", "topk", "flip", "narrow", "select", "clone", "detach"}) {
    // The method of the same name, as a function of its first argument.
    m.def(name, [name](const py::args& args, const py::kwargs& kwargs) {
      if (args.size() == 0 || !py::isinstance<Tensor>(args[0]))
        throw py::type_error(std::string("tensorgrad.") + name + ": the first argument must be a Tensor");
      py::object method = args[0].attr(name);
      py::tuple rest(args.size() - 1);
      for (size_t i = 1; i < args.size(); ++i) rest[i - 1] = args[i];
      return method(*rest, **kwargs);
    });
  }

  // ---- tensorgrad.nn.functional ----
  F.def("linear", [](const Tensor& x, const Tensor& w, const std::optional<Tensor>& b) { return linear(x, w, b.value_or(Tensor())); },
        py::arg("input"), py::arg("weight"), py::arg("bias") = py::none(), py::call_guard<py::gil_scoped_release>());
  F.def("conv1d", &convolution<&tg::conv1d>, py::arg("input"), py::arg("weight"), py::arg("bias") = py::none(),
        py::arg("stride") = 1, py::arg("padding") = 0, py::arg("dilation") = 1, py::arg("groups") = 1);
  F.def("conv2d", &convolution<&tg::conv2d>, py::arg("input"), py::arg("weight"), py::arg("bias") = py::none(),
        py::arg("stride") = 1, py::arg("padding") = 0, py::arg("dilation") = 1, py::arg("groups") = 1);
  F.def("max_pool1d", [](const Tensor& x, const py::object& k, const py::object& s, const py::object& p, const py::object& d) {
          return max_pool1d(x, spatial(k, "kernel_size"), spatial(s, "stride"), spatial(p, "padding"), spatial(d, "dilation"));
        },
        py::arg("input"), py::arg("kernel_size"), py::arg("stride") = py::none(), py::arg("padding") = 0, py::arg("dilation") = 1);
  F.def("max_pool2d", [](const Tensor& x, const py::object& k, const py::object& s, const py::object& p, const py::object& d) {
          return max_pool2d(x, spatial(k, "kernel_size"), spatial(s, "stride"), spatial(p, "padding"), spatial(d, "dilation"));
        },
        py::arg("input"), py::arg("kernel_size"), py::arg("stride") = py::none(), py::arg("padding") = 0, py::arg("dilation") = 1);
  F.def("avg_pool1d", [](const Tensor& x, const py::object& k, const py::object& s, const py::object& p, bool count_include_pad) {
          return avg_pool1d(x, spatial(k, "kernel_size"), spatial(s, "stride"), spatial(p, "padding"), count_include_pad);
        },
        py::arg("input"), py::arg("kernel_size"), py::arg("stride") = py::none(), py::arg("padding") = 0,
        py::arg("count_include_pad") = true);
  F.def("avg_pool2d", [](const Tensor& x, const py::object& k, const py::object& s, const py::object& p, bool count_include_pad) {
          return avg_pool2d(x, spatial(k, "kernel_size"), spatial(s, "stride"), spatial(p, "padding"), count_include_pad);
        },
        py::arg("input"), py::arg("kernel_size"), py::arg("stride") = py::none(), py::arg("padding") = 0,
        py::arg("count_include_pad") = true);
  F.def("layer_norm", [](const Tensor& x, const py::object& shape, const py::object& w, const py::object& b, double eps) {
          return layer_norm(x, ints_from(shape, "normalized_shape"), optional_tensor(w), optional_tensor(b), eps);
        },
        py::arg("input"), py::arg("normalized_shape"), py::arg("weight") = py::none(), py::arg("bias") = py::none(),
        py::arg("eps") = 1e-5);
  F.def("batch_norm", [](const Tensor& x, const py::object& rm, const py::object& rv, const py::object& w, const py::object& b,
                         bool training, double momentum, double eps) {
          return batch_norm(x, optional_tensor(rm), optional_tensor(rv), optional_tensor(w), optional_tensor(b), training,
                            momentum, eps);
        },
        py::arg("input"), py::arg("running_mean"), py::arg("running_var"), py::arg("weight") = py::none(),
        py::arg("bias") = py::none(), py::arg("training") = false, py::arg("momentum") = 0.1, py::arg("eps") = 1e-5);
  F.def("group_norm", [](const Tensor& x, int64_t groups, const py::object& w, const py::object& b, double eps) {
          return group_norm(x, groups, optional_tensor(w), optional_tensor(b), eps);
        },
        py::arg("input"), py::arg("num_groups"), py::arg("weight") = py::none(), py::arg("bias") = py::none(),
        py::arg("eps") = 1e-5);
  F.def("rms_norm", [](const Tensor& x, const py::object& shape, const py::object& w, std::optional<double> eps) {
          return rms_norm(x, ints_from(shape, "normalized_shape"), optional_tensor(w), eps);
        },
        py::arg("input"), py::arg("normalized_shape"), py::arg("weight") = py::none(), py::arg("eps") = py::none());
  F.def("dropout", [](const Tensor& x, double p, bool training, const py::object& gen) {
          return dropout(x, p, training, generator_or_default(gen));
        },
        py::arg("input"), py::arg("p") = 0.5, py::arg("training") = true, py::arg("generator") = py::none());
  F.def("embedding", [](const Tensor& indices, const Tensor& weight) { return embedding(weight, indices); },
        py::arg("input"), py::arg("weight"));
  F.def("one_hot", [](const Tensor& labels, int64_t n) { return one_hot(labels, n); }, py::arg("input"),
        py::arg("num_classes") = -1);
  F.def("pad", [](const Tensor& x, const py::object& pads, double value) { return pad(x, ints_from(pads, "pad"), value); },
        py::arg("input"), py::arg("pad"), py::arg("value") = 0.0);
  F.def("softmax", [](const Tensor& x, int64_t dim) { return softmax(x, dim); }, py::arg("input"), py::arg("dim"));
  F.def("log_softmax", [](const Tensor& x, int64_t dim) { return log_softmax(x, dim); }, py::arg("input"), py::arg("dim"));
  for (const char* name : {"relu", "gelu", "silu", "sigmoid", "tanh"}) F.attr(name) = m.attr(name);
  F.def("gelu_tanh", [](const Tensor& x) { return gelu_tanh(x); }, py::arg("input"));
  F.def("softplus", [](const Tensor& x, double beta, double threshold) { return softplus(x, beta, threshold); },
        py::arg("input"), py::arg("beta") = 1.0, py::arg("threshold") = 20.0);
  F.def("leaky_relu", [](const Tensor& x, double slope) { return leaky_relu(x, slope); }, py::arg("input"),
        py::arg("negative_slope") = 0.01);
  F.def("elu", [](const Tensor& x, double alpha) { return elu(x, alpha); }, py::arg("input"), py::arg("alpha") = 1.0);
  F.def("glu", [](const Tensor& x, int64_t dim) { return glu(x, dim); }, py::arg("input"), py::arg("dim") = -1);
  F.def("cross_entropy", [](const Tensor& logits, const Tensor& targets, const std::string& reduction,
                            double label_smoothing, int64_t ignore_index) {
          return cross_entropy(logits, targets, {reduction_from(reduction), label_smoothing, ignore_index});
        },
        py::arg("input"), py::arg("target"), py::kw_only(), py::arg("reduction") = "mean", py::arg("label_smoothing") = 0.0,
        py::arg("ignore_index") = -100);
  F.def("nll_loss", [](const Tensor& lp, const Tensor& t, const std::string& reduction, int64_t ignore_index) {
          return nll_loss(lp, t, reduction_from(reduction), ignore_index);
        },
        py::arg("input"), py::arg("target"), py::kw_only(), py::arg("reduction") = "mean", py::arg("ignore_index") = -100);
  F.def("mse_loss", [](const Tensor& a, const Tensor& b, const std::string& reduction) {
          return mse_loss(a, b, reduction_from(reduction));
        },
        py::arg("input"), py::arg("target"), py::kw_only(), py::arg("reduction") = "mean");
  F.def("binary_cross_entropy_with_logits", [](const Tensor& a, const Tensor& b, const std::string& reduction,
                                               const py::object& pos_weight) {
          return binary_cross_entropy_with_logits(a, b, reduction_from(reduction), optional_tensor(pos_weight));
        },
        py::arg("input"), py::arg("target"), py::kw_only(), py::arg("reduction") = "mean", py::arg("pos_weight") = py::none());
  F.def("ctc_loss", [](const Tensor& log_probs, const Tensor& targets, const Tensor& input_lengths,
                       const Tensor& target_lengths, int64_t blank, const std::string& reduction, bool zero_infinity) {
          return ctc_loss(log_probs, targets, input_lengths, target_lengths, {blank, reduction_from(reduction), zero_infinity});
        },
        py::arg("log_probs"), py::arg("targets"), py::arg("input_lengths"), py::arg("target_lengths"),
        py::arg("blank") = 0, py::arg("reduction") = "mean", py::arg("zero_infinity") = false,
        py::call_guard<py::gil_scoped_release>());
  F.def("scaled_dot_product_attention", [](const Tensor& q, const Tensor& k, const Tensor& v, const py::object& mask,
                                           double dropout_p, bool is_causal, std::optional<double> scale) {
          AttentionOptions o;
          o.attn_mask = optional_tensor(mask);
          o.dropout_p = dropout_p;
          o.is_causal = is_causal;
          o.scale = scale;
          py::gil_scoped_release release;
          return scaled_dot_product_attention(q, k, v, o);
        },
        py::arg("query"), py::arg("key"), py::arg("value"), py::arg("attn_mask") = py::none(), py::arg("dropout_p") = 0.0,
        py::arg("is_causal") = false, py::arg("scale") = py::none());
  F.def("unfold", [](const Tensor& x, const py::object& k, const py::object& d, const py::object& p, const py::object& s) {
          return im2col(x, spatial(k, "kernel_size"), spatial(d, "dilation"), spatial(p, "padding"), spatial(s, "stride"));
        },
        py::arg("input"), py::arg("kernel_size"), py::arg("dilation") = 1, py::arg("padding") = 0, py::arg("stride") = 1);
}

}  // namespace tg::python
