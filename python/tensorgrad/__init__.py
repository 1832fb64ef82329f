"""tensorgrad: tensors, autograd, layers and optimizers, with PyTorch's names.

    import tensorgrad as tg
    x = tg.randn(4, 3, requires_grad=True)
    loss = (x @ tg.ones(3, 2)).tanh().sum()
    loss.backward()          # x.grad

The compiled core is tensorgrad._C (C++ bindings); this package arranges it the way PyTorch users expect:
tensorgrad.nn, tensorgrad.nn.functional, tensorgrad.optim, tensorgrad.autograd, tensorgrad.utils.data,
tensorgrad.profiler. Errors from the core raise tensorgrad.Error (a RuntimeError) with the core's message.
"""
from . import _C
from ._C import (  # noqa: F401  (the public API)
    Error, Tensor, Node, Generator, device, dtype,
    tensor, from_numpy, from_dlpack, to_dlpack,
    zeros, ones, empty, full, zeros_like, ones_like, full_like, empty_like, arange, linspace, eye,
    rand, randn, randint, manual_seed, default_generator,
    get_default_dtype, set_default_dtype, promote_types, set_num_threads, get_num_threads,
    neg, abs, exp, log, log1p, sqrt, rsqrt, sin, cos, tanh, sigmoid, relu, gelu, silu, square, reciprocal, sign,
    erf, floor, ceil, round, add, sub, mul, div, pow, maximum, minimum, eq, ne, lt, le, gt, ge,
    matmul, cat, stack, where, einsum, clamp, masked_fill, gather, index_select, tril, triu, flatten, transpose,
    softmax, log_softmax, cumsum, sum, mean, prod, logsumexp, any, all, max, min, var, std, argmax, argmin,
    reshape, permute, squeeze, unsqueeze, split, chunk, unbind, sort, argsort, topk, flip, narrow, select, clone,
    detach, save_safetensors, load_safetensors, memory,
)

bool_ = dtype.bool_
int64 = long = dtype.int64
float32 = float = dtype.float32
float64 = double = dtype.float64
bfloat16 = dtype.bfloat16
float16 = half = dtype.float16


__version__ = "0.1.0"


class _GradMode:
    """Sets grad mode to `_enabled` for a `with` block (restoring the previous mode after it), or for a
    function when used as a decorator."""

    _enabled = True

    def __enter__(self):
        self._previous = _C.autograd.is_grad_enabled()
        _C.autograd.set_grad_enabled(self._enabled)

    def __exit__(self, *exc):
        _C.autograd.set_grad_enabled(self._previous)
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Context manager (and decorator): ops run inside record nothing for backward."""

    _enabled = False


class enable_grad(_GradMode):
    """Context manager (and decorator): recording back on inside a no_grad region."""

    _enabled = True


class set_grad_enabled(_GradMode):
    """tensorgrad.set_grad_enabled(False) as a call (it applies at once, as torch's) or as a context manager
    (the previous mode comes back at the end of the block)."""

    def __init__(self, mode):
        self._enabled = bool(mode)
        self._previous = _C.autograd.is_grad_enabled()
        _C.autograd.set_grad_enabled(self._enabled)

    def __enter__(self):
        pass  # already applied by the call


def is_grad_enabled():
    return _C.autograd.is_grad_enabled()


def save(state_dict, path, metadata=None):
    """Saves a dict of tensors (a state_dict) as safetensors."""
    save_safetensors(dict(state_dict), str(path), dict(metadata or {}))


def load(path):
    """Loads a dict of tensors saved by tensorgrad.save (or any safetensors file)."""
    tensors, _ = load_safetensors(str(path))
    return tensors


from . import autograd, datasets, nn, optim, profiler, utils  # noqa: E402,F401
