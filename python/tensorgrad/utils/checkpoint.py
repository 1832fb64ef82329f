"""Gradient checkpointing: run a function without keeping its intermediate values; backward recomputes them."""
from .. import _C


def checkpoint(function, *args, params=None):
    """function(*args) whose intermediates are recomputed in backward. Parameters the function uses that are
    not among args must be named in params (a Module's parameters are found when function is a Module)."""
    if params is None and hasattr(function, "parameters"):
        params = list(function.parameters())
    return _C.autograd.checkpoint(function, list(args), list(params or []))
