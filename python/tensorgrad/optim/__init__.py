"""Optimizers, as torch.optim: SGD, Adam, AdamW, RMSprop (the C++ ones; step() runs without the GIL).

    opt = tensorgrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    opt.zero_grad(); loss.backward(); opt.step()
"""
from .. import _C
from . import lr_scheduler  # noqa: F401

Optimizer = _C.optim.Optimizer
clip_grad_norm_ = _C.optim.clip_grad_norm_
grad_norm = _C.optim.grad_norm


def _params(params):
    params = list(params)
    if params and isinstance(params[0], dict):
        raise TypeError("parameter groups (dicts) are not supported; pass one list of tensors")
    return params


class SGD(_C.optim.SGD):
    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(_params(params), lr, momentum, dampening, weight_decay, nesterov)


class Adam(_C.optim.Adam):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        super().__init__(_params(params), lr, tuple(betas), eps, weight_decay, amsgrad)


class AdamW(_C.optim.AdamW):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(_params(params), lr, tuple(betas), eps, weight_decay, amsgrad)


class RMSprop(_C.optim.RMSprop):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        super().__init__(_params(params), lr, alpha, eps, weight_decay, momentum, centered)
