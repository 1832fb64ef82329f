"""The functional API, as torch.autograd.functional (and JAX's transforms): each takes a Python function of
tensors.

    value, jv = jvp(f, (x,), (v,))   # forward mode: one pass carrying tangents
    value, vj = vjp(f, x, v)         # reverse mode
    hvp(f, x, v)                     # Hessian-vector product (forward over reverse by default)
    jacobian(f, x), hessian(f, x)    # dense, for small problems
"""
from .. import _C


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def jvp(func, inputs, v):
    """(func(*inputs), J v)."""
    return _C.autograd.jvp(func, list(_as_tuple(inputs)), list(_as_tuple(v)))


def vjp(func, inputs, v=None):
    """(func(inputs), v^T J) for one input tensor; v defaults to ones."""
    return _C.autograd.vjp(func, inputs, v)


def hvp(func, inputs, v, mode="forward_over_reverse"):
    """(func(inputs), H v) for a scalar func of one tensor, without forming H. mode: forward_over_reverse
    or reverse_over_reverse."""
    from .. import no_grad

    with no_grad():
        value = func(inputs)
    return value, _C.autograd.hvp(func, inputs, v, mode)


def jacobian(func, inputs, strategy="reverse-mode"):
    """The Jacobian of func at inputs, shape out.shape + in.shape (reverse-mode or forward-mode)."""
    if strategy == "reverse-mode":
        return _C.autograd.jacrev(func, inputs)
    if strategy == "forward-mode":
        return _C.autograd.jacfwd(func, inputs)
    raise ValueError(f"jacobian: strategy must be 'reverse-mode' or 'forward-mode', got {strategy!r}")


jacrev = _C.autograd.jacrev
jacfwd = _C.autograd.jacfwd
hessian = _C.autograd.hessian
hessian_trace = _C.autograd.hessian_trace
