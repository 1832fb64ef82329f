// The C++ layers, constructed with torch's argument names. tensorgrad.nn (Python) wraps each one in a
// Module, so a model mixes them freely with layers written in Python.
#include <sstream>

#include "bindings.h"

namespace tg::python {

namespace {

using nn::Module;

Generator& gen_or_default(const py::object& gen) { return gen.is_none() ? default_generator() : gen.cast<Generator&>(); }

py::list named(const nn::NamedTensors& tensors) {
  py::list out;
  for (const auto& [name, t] : tensors) out.append(py::make_tuple(name, t));
  return out;
}

// Every layer's forward runs without the GIL: nothing in it calls back into Python.
Tensor forward(Module& m, const Tensor& x) {
  py::gil_scoped_release release;
  return m.forward(x);
}

}  // namespace

void bind_nn(py::module_& nn) {
  py::class_<Module, std::shared_ptr<Module>>(nn, "Module", "A C++ layer: parameters, buffers and forward.")
      .def("forward", &forward, py::arg("input"))
      .def("__call__", &forward, py::arg("input"))
      .def("forward_many", [](Module& m, const py::list& inputs) {
             TensorList in;
             for (const auto& item : inputs) in.push_back(item.is_none() ? Tensor() : item.cast<Tensor>());
             TensorList out;
             {
               py::gil_scoped_release release;
               out = m.forward_many(in);
             }
             py::list result;
             for (const auto& t : out) result.append(t.defined() ? py::cast(t) : py::none());
             return result;
           }, py::arg("inputs"),
           "Layers with several inputs or outputs (attention, the Conformer) take and give lists (None: absent).")
      .def("named_parameters", [](const Module& m) { return named(m.named_parameters()); })
      .def("named_buffers", [](const Module& m) { return named(m.named_buffers()); })
      .def("state_dict", &Module::state_dict)
      .def("load_state_dict", &Module::load_state_dict, py::arg("state_dict"), py::arg("strict") = true)
      .def("train", &Module::train, py::arg("mode") = true)
      .def("is_training", &Module::is_training)
      .def("to", [](Module& m, DType d) { m.to(d); }, py::arg("dtype"))
      .def("num_parameters", &Module::num_parameters)
      .def_property_readonly("type_name", &Module::type_name)
      .def("extra_repr", &Module::extra_repr)
      .def("__repr__", [](const Module& m) {
        std::ostringstream os;
        os << m;
        return os.str();
      });

  py::class_<nn::Linear, Module, std::shared_ptr<nn::Linear>>(nn, "Linear")
      .def(py::init([](int64_t in, int64_t out, bool bias, const py::object& dtype, const py::object& gen) {
             return std::make_shared<nn::Linear>(in, out, nn::LinearOptions{bias, dtype_or(dtype, DType::Float32)},
                                                 gen_or_default(gen));
           }),
           py::arg("in_features"), py::arg("out_features"), py::arg("bias") = true, py::kw_only(),
           py::arg("dtype") = py::none(), py::arg("generator") = py::none());
  auto conv_options = [](const py::object& stride, const py::object& padding, const py::object& dilation, int64_t groups,
                         bool bias, const py::object& dtype) {
    nn::ConvOptions o;
    o.stride = SpatialArg(ints_from(stride, "stride"));
    o.padding = SpatialArg(ints_from(padding, "padding"));
    o.dilation = SpatialArg(ints_from(dilation, "dilation"));
    o.groups = groups;
    o.bias = bias;
    o.dtype = dtype_or(dtype, DType::Float32);
    return o;
  };
  py::class_<nn::Conv1d, Module, std::shared_ptr<nn::Conv1d>>(nn, "Conv1d")
      .def(py::init([conv_options](int64_t in, int64_t out, int64_t k, const py::object& stride, const py::object& padding,
                                   const py::object& dilation, int64_t groups, bool bias, const py::object& dtype,
                                   const py::object& gen) {
             return std::make_shared<nn::Conv1d>(in, out, k, conv_options(stride, padding, dilation, groups, bias, dtype),
                                                 gen_or_default(gen));
           }),
           py::arg("in_channels"), py::arg("out_channels"), py::arg("kernel_size"), py::arg("stride") = 1,
           py::arg("padding") = 0, py::arg("dilation") = 1, py::arg("groups") = 1, py::arg("bias") = true, py::kw_only(),
           py::arg("dtype") = py::none(), py::arg("generator") = py::none());
  py::class_<nn::Conv2d, Module, std::shared_ptr<nn::Conv2d>>(nn, "Conv2d")
      .def(py::init([conv_options](int64_t in, int64_t out, const py::object& k, const py::object& stride,
                                   const py::object& padding, const py::object& dilation, int64_t groups, bool bias,
                                   const py::object& dtype, const py::object& gen) {
             return std::make_shared<nn::Conv2d>(in, out, SpatialArg(ints_from(k, "kernel_size")),
                                                 conv_options(stride, padding, dilation, groups, bias, dtype),
                                                 gen_or_default(gen));
           }),
           py::arg("in_channels"), py::arg("out_channels"), py::arg("kernel_size"), py::arg("stride") = 1,
           py::arg("padding") = 0, py::arg("dilation") = 1, py::arg("groups") = 1, py::arg("bias") = true, py::kw_only(),
           py::arg("dtype") = py::none(), py::arg("generator") = py::none());
  auto spatial_or_empty = [](const py::object& v, const char* what) {
    return v.is_none() ? SpatialArg() : SpatialArg(ints_from(v, what));
  };
  py::class_<nn::MaxPool2d, Module, std::shared_ptr<nn::MaxPool2d>>(nn, "MaxPool2d")
      .def(py::init([spatial_or_empty](const py::object& k, const py::object& s, const py::object& p, const py::object& d) {
             return std::make_shared<nn::MaxPool2d>(spatial_or_empty(k, "kernel_size"), spatial_or_empty(s, "stride"),
                                                    spatial_or_empty(p, "padding"), spatial_or_empty(d, "dilation"));
           }),
           py::arg("kernel_size"), py::arg("stride") = py::none(), py::arg("padding") = 0, py::arg("dilation") = 1);
  py::class_<nn::AvgPool2d, Module, std::shared_ptr<nn::AvgPool2d>>(nn, "AvgPool2d")
      .def(py::init([spatial_or_empty](const py::object& k, const py::object& s, const py::object& p, bool include_pad) {
             return std::make_shared<nn::AvgPool2d>(spatial_or_empty(k, "kernel_size"), spatial_or_empty(s, "stride"),
                                                    spatial_or_empty(p, "padding"), include_pad);
           }),
           py::arg("kernel_size"), py::arg("stride") = py::none(), py::arg("padding") = 0,
           py::arg("count_include_pad") = true);
  auto bn_options = [](double eps, double momentum, bool affine, bool track) {
    nn::BatchNormOptions o;
    o.eps = eps;
    o.momentum = momentum;
    o.affine = affine;
    o.track_running_stats = track;
    return o;
  };
  py::class_<nn::BatchNorm, Module, std::shared_ptr<nn::BatchNorm>>(nn, "_BatchNorm");
  py::class_<nn::BatchNorm1d, nn::BatchNorm, std::shared_ptr<nn::BatchNorm1d>>(nn, "BatchNorm1d")
      .def(py::init([bn_options](int64_t n, double eps, double momentum, bool affine, bool track) {
             return std::make_shared<nn::BatchNorm1d>(n, bn_options(eps, momentum, affine, track));
           }),
           py::arg("num_features"), py::arg("eps") = 1e-5, py::arg("momentum") = 0.1, py::arg("affine") = true,
           py::arg("track_running_stats") = true);
  py::class_<nn::BatchNorm2d, nn::BatchNorm, std::shared_ptr<nn::BatchNorm2d>>(nn, "BatchNorm2d")
      .def(py::init([bn_options](int64_t n, double eps, double momentum, bool affine, bool track) {
             return std::make_shared<nn::BatchNorm2d>(n, bn_options(eps, momentum, affine, track));
           }),
           py::arg("num_features"), py::arg("eps") = 1e-5, py::arg("momentum") = 0.1, py::arg("affine") = true,
           py::arg("track_running_stats") = true);
  py::class_<nn::LayerNorm, Module, std::shared_ptr<nn::LayerNorm>>(nn, "LayerNorm")
      .def(py::init([](const py::object& shape, double eps, bool affine) {
             nn::LayerNormOptions o;
             o.eps = eps;
             o.elementwise_affine = affine;
             return std::make_shared<nn::LayerNorm>(ints_from(shape, "normalized_shape"), o);
           }),
           py::arg("normalized_shape"), py::arg("eps") = 1e-5, py::arg("elementwise_affine") = true);
  py::class_<nn::Dropout, Module, std::shared_ptr<nn::Dropout>>(nn, "Dropout")
      .def(py::init([](double p, const py::object& gen) { return std::make_shared<nn::Dropout>(p, gen_or_default(gen)); }),
           py::arg("p") = 0.5, py::kw_only(), py::arg("generator") = py::none(),
           py::keep_alive<1, 3>());  // the layer draws from the generator at every forward
  py::class_<nn::Embedding, Module, std::shared_ptr<nn::Embedding>>(nn, "Embedding")
      .def(py::init([](int64_t n, int64_t dim, const py::object& dtype, const py::object& gen) {
             return std::make_shared<nn::Embedding>(n, dim, dtype_or(dtype, DType::Float32), gen_or_default(gen));
           }),
           py::arg("num_embeddings"), py::arg("embedding_dim"), py::kw_only(), py::arg("dtype") = py::none(),
           py::arg("generator") = py::none());
  py::class_<nn::Flatten, Module, std::shared_ptr<nn::Flatten>>(nn, "Flatten")
      .def(py::init<int64_t, int64_t>(), py::arg("start_dim") = 1, py::arg("end_dim") = -1);
  py::class_<nn::ReLU, Module, std::shared_ptr<nn::ReLU>>(nn, "ReLU").def(py::init<>());
  py::class_<nn::GELU, Module, std::shared_ptr<nn::GELU>>(nn, "GELU").def(py::init<>());
  py::class_<nn::SiLU, Module, std::shared_ptr<nn::SiLU>>(nn, "SiLU").def(py::init<>());
  py::class_<nn::Tanh, Module, std::shared_ptr<nn::Tanh>>(nn, "Tanh").def(py::init<>());
  py::class_<nn::Sigmoid, Module, std::shared_ptr<nn::Sigmoid>>(nn, "Sigmoid").def(py::init<>());
  py::class_<nn::MultiheadAttention, Module, std::shared_ptr<nn::MultiheadAttention>>(nn, "MultiheadAttention")
      .def(py::init([](int64_t embed_dim, int64_t heads, double dropout, bool bias, bool batch_first, const py::object& gen) {
             nn::MultiheadAttentionOptions o;
             o.bias = bias;
             o.dropout = dropout;
             o.batch_first = batch_first;
             return std::make_shared<nn::MultiheadAttention>(embed_dim, heads, o, gen_or_default(gen));
           }),
           py::arg("embed_dim"), py::arg("num_heads"), py::arg("dropout") = 0.0, py::arg("bias") = true,
           py::arg("batch_first") = false, py::kw_only(), py::arg("generator") = py::none(), py::keep_alive<1, 7>());
  py::class_<nn::TransformerEncoderLayer, Module, std::shared_ptr<nn::TransformerEncoderLayer>>(nn, "TransformerEncoderLayer")
      .def(py::init([](int64_t d_model, int64_t nhead, double dropout, const std::string& activation, double eps,
                       bool batch_first, bool norm_first, const py::object& gen) {
             nn::TransformerEncoderLayerOptions o;
             o.dropout = dropout;
             if (activation != "relu" && activation != "gelu")
               throw py::value_error("TransformerEncoderLayer: activation must be 'relu' or 'gelu', got '" + activation + "'");
             o.gelu = activation == "gelu";
             o.layer_norm_eps = eps;
             o.batch_first = batch_first;
             o.norm_first = norm_first;
             return std::make_shared<nn::TransformerEncoderLayer>(d_model, nhead, o, gen_or_default(gen));
           }),
           py::arg("d_model"), py::arg("nhead"), py::arg("dropout") = 0.1, py::arg("activation") = "relu",
           py::arg("layer_norm_eps") = 1e-5, py::arg("batch_first") = false, py::arg("norm_first") = false, py::kw_only(),
           py::arg("generator") = py::none(), py::keep_alive<1, 9>());
  py::class_<nn::ConformerBlock, Module, std::shared_ptr<nn::ConformerBlock>>(nn, "ConformerBlock")
      .def(py::init([](int64_t d_model, int64_t heads, int64_t ffn_dim, int64_t kernel, double dropout, bool rel,
                       const py::object& gen) {
             nn::ConformerBlockOptions o;
             o.ffn_dim = ffn_dim;
             o.depthwise_kernel_size = kernel;
             o.dropout = dropout;
             o.relative_positions = rel;
             return std::make_shared<nn::ConformerBlock>(d_model, heads, o, gen_or_default(gen));
           }),
           py::arg("d_model"), py::arg("num_heads"), py::arg("ffn_dim") = 576, py::arg("depthwise_kernel_size") = 31,
           py::arg("dropout") = 0.1, py::arg("relative_positions") = false, py::kw_only(), py::arg("generator") = py::none(),
           py::keep_alive<1, 8>());
  py::class_<nn::ConformerEncoder, Module, std::shared_ptr<nn::ConformerEncoder>>(nn, "ConformerEncoder")
      .def(py::init([](int64_t feat_in, int64_t d_model, int64_t layers, int64_t heads, int64_t ffn_dim, int64_t channels,
                       int64_t kernel, double dropout, bool rel, const py::object& gen) {
             nn::ConformerEncoderOptions o;
             o.feat_in = feat_in;
             o.d_model = d_model;
             o.num_layers = layers;
             o.num_heads = heads;
             o.ffn_dim = ffn_dim;
             o.subsampling_channels = channels;
             o.depthwise_kernel_size = kernel;
             o.dropout = dropout;
             o.relative_positions = rel;
             return std::make_shared<nn::ConformerEncoder>(o, gen_or_default(gen));
           }),
           py::arg("feat_in") = 80, py::arg("d_model") = 144, py::arg("num_layers") = 16, py::arg("num_heads") = 4,
           py::arg("ffn_dim") = 576, py::arg("subsampling_channels") = 144, py::arg("depthwise_kernel_size") = 31,
           py::arg("dropout") = 0.1, py::arg("relative_positions") = false, py::kw_only(), py::arg("generator") = py::none(),
           py::keep_alive<1, 11>());
  nn.def("padding_mask", &nn::padding_mask, py::arg("lengths"), py::arg("time"),
         "A [N, T] bool mask, true at the padded frames of each sequence.");
}

}  // namespace tg::python
