"""Layers as in torch.nn. Module is subclassed in Python the way PyTorch users do:

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 256)          # registered by assignment
            self.scale = nn.Parameter(tg.ones(1))
        def forward(self, x):
            return self.fc1(x).relu() * self.scale

The built-in layers (Linear, Conv2d, LayerNorm, MultiheadAttention, ConformerBlock, ...) are the C++ ones,
wrapped: their parameters are the C++ layer's own tensors, and their forward runs without the GIL.
"""
from collections import OrderedDict

from .. import _C
from . import functional  # noqa: F401
from . import functional as F

Tensor = _C.Tensor


class Parameter(_C.Tensor):
    """A tensor that a Module registers as a parameter when assigned to one of its attributes. It is the same
    tensor (memory and autograd state) as the one it wraps, with requires_grad set."""

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = _C.empty(0)
        super().__init__(data.detach() if data.requires_grad and data.grad_fn is not None else data)
        self.requires_grad_(requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """The base of every layer: parameters, buffers and sub-modules registered by attribute assignment,
    state_dict / load_state_dict, train / eval, and __call__ -> forward."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # ---- registration ----
    def __setattr__(self, name, value):
        params = self.__dict__.get("_parameters")
        if params is None:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before assigning attributes")
        if isinstance(value, (Parameter, Module)):
            for table in (params, self._buffers, self._modules):
                table.pop(name, None)
            self.__dict__.pop(name, None)
            (params if isinstance(value, Parameter) else self._modules)[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter '{name}' "
                                "(tensorgrad.nn.Parameter or None expected)")
            params[name] = None
        elif name in self._buffers:
            self._buffers[name] = value
        elif name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as child module '{name}' "
                                "(tensorgrad.nn.Module or None expected)")
            self._modules[name] = None
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        d = self.__dict__
        for table in ("_parameters", "_buffers", "_modules"):
            if table in d and name in d[table]:
                return d[table][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for table in (self._parameters, self._buffers, self._modules):
            if name in table:
                del table[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        self._parameters[name] = param if param is None or isinstance(param, Parameter) else Parameter(param)

    def register_buffer(self, name, tensor):
        self._buffers[name] = tensor

    def add_module(self, name, module):
        self._modules[name] = module

    # ---- running ----
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ---- traversal ----
    def named_children(self):
        return iter(self._modules.items())

    def children(self):
        return iter(self._modules.values())

    def named_modules(self, prefix=""):
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(prefix + ("." if prefix else "") + name)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_parameters(self, prefix=""):
        for name, p in self._parameters.items():
            if p is not None:
                yield prefix + name, p
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_parameters(prefix + name + ".")

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def named_buffers(self, prefix=""):
        for name, b in self._buffers.items():
            if b is not None:
                yield prefix + name, b
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_buffers(prefix + name + ".")

    def buffers(self):
        return [b for _, b in self.named_buffers()]

    def num_parameters(self):
        return sum(p.numel() for p in self.parameters())

    # ---- state ----
    def state_dict(self):
        """Parameters and buffers by dotted name, detached (they share memory with the module's tensors)."""
        out = OrderedDict()
        for name, t in self.named_parameters():
            out[name] = t.detach()
        for name, t in self.named_buffers():
            out[name] = t.detach()
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copies the values in; with strict, missing and unexpected names are an error (listing them all). A
        name whose shape differs is an error too, raised before anything changes."""
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing keys {missing}, unexpected keys {unexpected}")
        # Every shape is checked before anything is copied, so a bad state dict leaves the module as it was.
        for name, t in own.items():
            if name in state_dict and tuple(state_dict[name].shape) != tuple(t.shape):
                raise ValueError(f"{type(self).__name__}.load_state_dict: {name} has shape "
                                 f"{tuple(state_dict[name].shape)} in the state dict but {tuple(t.shape)} in the module")
        from .. import no_grad  # the package imports nn while it loads

        with no_grad():
            for name, t in own.items():
                if name in state_dict:
                    t.copy_(state_dict[name].to(t.dtype))
        return missing, unexpected

    def train(self, mode=True):
        object.__setattr__(self, "training", bool(mode))
        for m in self._modules.values():
            if m is not None:
                m.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    def to(self, dtype):
        """Converts every floating parameter and buffer to dtype, in place (the same tensors, new values)."""
        for p in list(self._parameters.values()) + list(self._buffers.values()):
            if p is not None and p.is_floating_point():
                p.data = p.to(dtype)
        for m in self._modules.values():
            if m is not None:
                m.to(dtype)
        return self

    def apply(self, fn):
        for m in self._modules.values():
            if m is not None:
                m.apply(fn)
        fn(self)
        return self

    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


class _CppLayer(Module):
    """A C++ layer as a Module: its parameters and buffers are the C++ layer's (under the C++ names)."""

    _cpp_class = None

    def __init__(self, *args, **kwargs):
        super().__init__()
        impl = self._cpp_class(*args, **kwargs)
        object.__setattr__(self, "_impl", impl)
        for name, t in impl.named_parameters():
            if "." not in name:
                object.__setattr__(self, name, t)  # layer.weight, layer.bias
        for name, t in impl.named_buffers():
            if "." not in name:
                object.__setattr__(self, name, t)

    def forward(self, x):
        return self._impl(x)

    def __setattr__(self, name, value):
        impl = self.__dict__.get("_impl")
        if impl is not None and any(name == n for n, _ in list(impl.named_parameters()) + list(impl.named_buffers())):
            raise AttributeError(f"{type(self).__name__}.{name} is the C++ layer's own tensor and cannot be replaced; "
                                 f"assign its values with `layer.{name}.data = t` (one tensor shared by two C++ layers "
                                 "is not supported)")
        super().__setattr__(name, value)

    def named_parameters(self, prefix=""):
        for name, p in self._impl.named_parameters():
            yield prefix + name, p
        yield from super().named_parameters(prefix)

    def named_buffers(self, prefix=""):
        for name, b in self._impl.named_buffers():
            yield prefix + name, b
        yield from super().named_buffers(prefix)

    def train(self, mode=True):
        self._impl.train(mode)
        return super().train(mode)

    def to(self, dtype):
        self._impl.to(dtype)
        return super().to(dtype)

    def __repr__(self):
        return repr(self._impl)


def _layer(name, cpp, doc):
    return type(name, (_CppLayer,), {"_cpp_class": cpp, "__doc__": doc, "__module__": __name__})


Linear = _layer("Linear", _C.nn.Linear, "y = x W^T + b; Linear(in_features, out_features, bias=True).")
Conv1d = _layer("Conv1d", _C.nn.Conv1d, "Conv1d(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias).")
Conv2d = _layer("Conv2d", _C.nn.Conv2d, "Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias).")
MaxPool2d = _layer("MaxPool2d", _C.nn.MaxPool2d, "MaxPool2d(kernel_size, stride=None, padding=0, dilation=1).")
AvgPool2d = _layer("AvgPool2d", _C.nn.AvgPool2d, "AvgPool2d(kernel_size, stride=None, padding=0, count_include_pad=True).")
BatchNorm1d = _layer("BatchNorm1d", _C.nn.BatchNorm1d, "BatchNorm1d(num_features, eps, momentum, affine, track_running_stats).")
BatchNorm2d = _layer("BatchNorm2d", _C.nn.BatchNorm2d, "BatchNorm2d(num_features, eps, momentum, affine, track_running_stats).")
LayerNorm = _layer("LayerNorm", _C.nn.LayerNorm, "LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True).")
Dropout = _layer("Dropout", _C.nn.Dropout, "Dropout(p=0.5): zeroes elements with probability p in training mode.")
Embedding = _layer("Embedding", _C.nn.Embedding, "Embedding(num_embeddings, embedding_dim).")
ConformerEncoder = _layer("ConformerEncoder", _C.nn.ConformerEncoder,
                          "Conv2d subsampling and Conformer blocks: forward(features[, lengths]) -> output (, lengths).")


class _MultiInputLayer(_CppLayer):
    def forward(self, *inputs):
        if len(inputs) == 1:
            return self._impl(inputs[0])
        return self._impl.forward_many(list(inputs))


class MultiheadAttention(_CppLayer):
    """MultiheadAttention(embed_dim, num_heads, dropout=0.0, bias=True, batch_first=False);
    forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None) -> (output, weights)."""

    _cpp_class = _C.nn.MultiheadAttention

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None):
        out, weights = self._impl.forward_many([query, key, value, key_padding_mask, attn_mask])
        return out, (weights if need_weights else None)


class TransformerEncoderLayer(_MultiInputLayer):
    """TransformerEncoderLayer(d_model, nhead, dropout=0.1, activation='relu', ...); forward(src, src_mask=None,
    src_key_padding_mask=None)."""

    _cpp_class = _C.nn.TransformerEncoderLayer

    def forward(self, src, src_mask=None, src_key_padding_mask=None):
        if src_mask is None and src_key_padding_mask is None:
            return self._impl(src)
        return self._impl.forward_many([src, src_mask, src_key_padding_mask])[0]


class ConformerBlock(_CppLayer):
    """ConformerBlock(d_model, num_heads, ffn_dim=576, depthwise_kernel_size=31, dropout=0.1);
    forward(x [N, T, D], key_padding_mask=None)."""

    _cpp_class = _C.nn.ConformerBlock

    def forward(self, x, key_padding_mask=None):
        if key_padding_mask is None:
            return self._impl(x)
        return self._impl.forward_many([x, key_padding_mask])[0]


class _Function(Module):
    """A parameter-free layer that applies one function (no C++ object: one call fewer per step)."""

    _fn = None

    def forward(self, x):
        return type(self)._fn(x)


ReLU = type("ReLU", (_Function,), {"_fn": staticmethod(_C.relu), "__module__": __name__})
GELU = type("GELU", (_Function,), {"_fn": staticmethod(_C.gelu), "__module__": __name__})
SiLU = type("SiLU", (_Function,), {"_fn": staticmethod(_C.silu), "__module__": __name__})
Tanh = type("Tanh", (_Function,), {"_fn": staticmethod(_C.tanh), "__module__": __name__})
Sigmoid = type("Sigmoid", (_Function,), {"_fn": staticmethod(_C.sigmoid), "__module__": __name__})


class Identity(Module):
    def forward(self, x):
        return x


class Flatten(Module):
    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class ModuleList(Module):
    """Modules held in order, named 0, 1, ... in the state dict; indexable and iterable."""

    def __init__(self, modules=()):
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def __getitem__(self, i):
        return list(self._modules.values())[i]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class Sequential(ModuleList):
    """Modules applied in order: Sequential(a, b, c) or Sequential(OrderedDict(name=module, ...))."""

    def __init__(self, *modules):
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            super().__init__()
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            super().__init__(modules)

    def forward(self, x):
        # A ReLU directly followed by a MaxPool2d runs as the pooling then the relu, as the C++ Sequential does
        # (src/nn/container.cpp): the same values and gradients, a quarter of the relu's work.
        modules = list(self._modules.values())
        i = 0
        while i < len(modules):
            if i + 1 < len(modules) and type(modules[i]) is ReLU and type(modules[i + 1]) is MaxPool2d:
                x = modules[i](modules[i + 1](x))
                i += 2
            else:
                x = modules[i](x)
                i += 1
        return x


class CrossEntropyLoss(Module):
    def __init__(self, reduction="mean", label_smoothing=0.0, ignore_index=-100):
        super().__init__()
        self.reduction, self.label_smoothing, self.ignore_index = reduction, label_smoothing, ignore_index

    def forward(self, input, target):
        return F.cross_entropy(input, target, reduction=self.reduction, label_smoothing=self.label_smoothing,
                               ignore_index=self.ignore_index)


class MSELoss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class CTCLoss(Module):
    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        super().__init__()
        self.blank, self.reduction, self.zero_infinity = blank, reduction, zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=self.blank,
                          reduction=self.reduction, zero_infinity=self.zero_infinity)


padding_mask = _C.nn.padding_mask
