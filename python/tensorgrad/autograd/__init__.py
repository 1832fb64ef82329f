"""Autograd: gradients of lists of tensors, custom functions, forward mode and the functional API.

    tensorgrad.autograd.grad(outputs, inputs, create_graph=True)   # tuple of gradients
    tensorgrad.autograd.functional.hvp(f, x, v)                    # Hessian-vector product
    class Square(tensorgrad.autograd.Function): ...                 # forward and backward in Python
"""
from .. import _C
from . import functional  # noqa: F401

grad = _C.autograd.grad
backward = _C.autograd.backward
gradcheck = _C.autograd.gradcheck


class FunctionCtx:
    """What forward hands to backward: ctx.save_for_backward(*tensors) (checked for in-place writes before
    backward reads them as ctx.saved_tensors) and any other attribute set on it."""

    def __init__(self):
        self.to_save = ()
        self.saved_tensors = ()

    def save_for_backward(self, *tensors):
        self.to_save = tensors


class Function:
    """A differentiable function written in Python, as torch.autograd.Function:

        class Cube(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x * x

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return grad * 3 * x * x

        y = Cube.apply(x)

    forward runs without recording; backward returns one gradient (or None) per forward argument, and may
    itself be differentiated again when written with tensor ops (create_graph=True)."""

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("subclasses of tensorgrad.autograd.Function define forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("subclasses of tensorgrad.autograd.Function define backward(ctx, grad)")

    @classmethod
    def apply(cls, *args):
        ctx = FunctionCtx()
        positions = [i for i, a in enumerate(args) if isinstance(a, _C.Tensor)]

        def forward(inputs):
            call = list(args)
            for p, t in zip(positions, inputs):
                call[p] = t
            out = cls.forward(ctx, *call)
            if not isinstance(out, _C.Tensor):
                raise TypeError(f"{cls.__name__}.forward must return one Tensor, got {type(out).__name__}")
            saved, ctx.to_save = list(ctx.to_save), ()  # the node keeps them (version-checked), not ctx
            return out, saved

        def backward(grad_output, saved):
            ctx.saved_tensors = tuple(saved)
            try:
                grads = cls.backward(ctx, grad_output)
            finally:
                ctx.saved_tensors = ()  # ctx would otherwise keep the output (and the graph) alive through the node
            if not isinstance(grads, (tuple, list)):
                grads = (grads,)
            if len(grads) != len(args):
                raise TypeError(f"{cls.__name__}.backward returned {len(grads)} gradients for {len(args)} arguments")
            return [grads[p] for p in positions]

        return _C.autograd.custom_function(cls.__name__, [args[p] for p in positions], forward, backward)
