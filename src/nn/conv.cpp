#include <tensorgrad/base/error.h>
#include <tensorgrad/nn/conv.h>
#include <tensorgrad/nn/init.h>
#include <tensorgrad/ops/creation.h>

#include <cmath>
#include <functional>

namespace tg::nn {

namespace {

std::string spatial_str(const SpatialArg& a) {
  std::string out;
  for (int64_t v : a.values()) out += (out.empty() ? "" : ", ") + std::to_string(v);
  return a.values().size() == 1 ? out : "(" + out + ")";
}

// Expands an int-or-tuple kernel size to `dims` values.
std::vector<int64_t> kernel_dims(const SpatialArg& k, size_t dims, const char* layer) {
  TG_CHECK(k.values().size() == 1 || k.values().size() == dims, "nn::", layer, ": kernel_size needs 1 or ", dims,
           " values, got ", k.values().size());
  std::vector<int64_t> out(dims, k.values().front());
  if (k.values().size() == dims) out = k.values();
  for (int64_t v : out) TG_CHECK(v > 0, "nn::", layer, ": kernel_size must be positive, got ", spatial_str(k));
  return out;
}

// Builds weight [out, in / groups, *kernel] and bias [out] with PyTorch's default initialisation.
void make_conv_parameters(Tensor& weight, Tensor& bias, int64_t in_channels, int64_t out_channels,
                          const std::vector<int64_t>& kernel, const ConvOptions& options, Generator& gen,
                          const char* layer,
                          const std::function<Tensor(const std::string&, Tensor)>& register_parameter) {
  TG_CHECK(in_channels > 0 && out_channels > 0, "nn::", layer, ": channels must be positive, got in_channels=",
           in_channels, ", out_channels=", out_channels);
  TG_CHECK(options.groups > 0 && in_channels % options.groups == 0 && out_channels % options.groups == 0, "nn::",
           layer, ": in_channels=", in_channels, " and out_channels=", out_channels, " must be divisible by groups=",
           options.groups);
  Shape shape{out_channels, in_channels / options.groups};
  int64_t fan_in = in_channels / options.groups;
  for (int64_t k : kernel) {
    shape.push_back(k);
    fan_in *= k;
  }
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  weight = register_parameter("weight", empty(shape, options.dtype));
  init::uniform_(weight, -bound, bound, gen);
  if (options.bias) {
    bias = register_parameter("bias", empty({out_channels}, options.dtype));
    init::uniform_(bias, -bound, bound, gen);
  }
}

std::string conv_repr(int64_t in, int64_t out, const Tensor& weight, const ConvOptions& o) {
  std::string k;
  for (int64_t d = 2; d < weight.dim(); ++d) k += (k.empty() ? "" : ", ") + std::to_string(weight.size(d));
  if (weight.dim() > 3) k = "(" + k + ")";
  std::string s = detail::concat(in, ", ", out, ", kernel_size=", k, ", stride=", spatial_str(o.stride));
  if (o.padding.values() != std::vector<int64_t>{0}) s += ", padding=" + spatial_str(o.padding);
  if (o.dilation.values() != std::vector<int64_t>{1}) s += ", dilation=" + spatial_str(o.dilation);
  if (o.groups != 1) s += detail::concat(", groups=", o.groups);
  if (!o.bias) s += ", bias=false";
  return s;
}

}  // namespace

Conv1d::Conv1d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, ConvOptions options, Generator& gen)
    : Module("Conv1d"), in_channels_(in_channels), out_channels_(out_channels), options_(options) {
  make_conv_parameters(weight, bias, in_channels, out_channels, kernel_dims(kernel_size, 1, "Conv1d"),
                       options, gen, "Conv1d",
                       [this](const std::string& n, Tensor t) { return register_parameter(n, std::move(t)); });
}

Tensor Conv1d::forward(const Tensor& input) {
  return conv1d(input, weight, bias, options_.stride, options_.padding, options_.dilation, options_.groups);
}

std::string Conv1d::extra_repr() const { return conv_repr(in_channels_, out_channels_, weight, options_); }

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, SpatialArg kernel_size, ConvOptions options,
               Generator& gen)
    : Module("Conv2d"), in_channels_(in_channels), out_channels_(out_channels), options_(options) {
  make_conv_parameters(weight, bias, in_channels, out_channels, kernel_dims(kernel_size, 2, "Conv2d"),
                       options, gen, "Conv2d",
                       [this](const std::string& n, Tensor t) { return register_parameter(n, std::move(t)); });
}

Tensor Conv2d::forward(const Tensor& input) {
  return conv2d(input, weight, bias, options_.stride, options_.padding, options_.dilation, options_.groups);
}

std::string Conv2d::extra_repr() const { return conv_repr(in_channels_, out_channels_, weight, options_); }

}  // namespace tg::nn
