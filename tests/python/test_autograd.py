"""Autograd from Python: backward and grad, no_grad, custom functions, the functional API against closed
forms and PyTorch, checkpointing."""
import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad.autograd import Function
from tensorgrad.autograd import functional as AF


def test_grad_of_grad_and_retain_graph():
    s = tg.tensor([2.0], dtype=tg.float64, requires_grad=True)
    (g,) = tg.autograd.grad(s ** 3, s, create_graph=True)
    assert g.item() == 12.0
    (gg,) = tg.autograd.grad(g, s)
    assert gg.item() == 12.0


def test_no_grad_and_set_grad_enabled():
    x = tg.ones(2, requires_grad=True)
    with tg.no_grad():
        y = x * 2
        with tg.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn.name() == "mul"
    with tg.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert tg.is_grad_enabled()
    tg.set_grad_enabled(False)  # as a call, it applies at once
    try:
        assert not tg.is_grad_enabled() and not (x * 2).requires_grad
    finally:
        tg.set_grad_enabled(True)
    assert tg.is_grad_enabled()

    @tg.no_grad()
    def f(t):
        return t * 3

    assert not f(x).requires_grad


def test_hooks_and_retain_grad():
    x = tg.ones(3, requires_grad=True)
    y = x * 2
    y.retain_grad()
    x.register_hook(lambda g: g * 10)
    y.sum().backward()
    assert y.grad.tolist() == [1.0, 1.0, 1.0]
    assert x.grad.tolist() == [20.0, 20.0, 20.0]


class Cube(Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x * x * x * scale

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x * ctx.scale, None


def test_custom_function_backward_and_grad_of_grad():
    x = tg.tensor([1.0, -2.0], dtype=tg.float64, requires_grad=True)
    y = Cube.apply(x, 2.0)
    assert y.grad_fn.name() == "Cube"
    (g,) = tg.autograd.grad(y.sum(), x, create_graph=True)
    assert g.tolist() == [6.0, 24.0]
    (gg,) = tg.autograd.grad(g.sum(), x)
    assert gg.tolist() == [12.0, -24.0]
    assert tg.autograd.gradcheck(lambda t: Cube.apply(t, 0.5), [tg.randn(3, dtype=tg.float64, requires_grad=True)])


def test_custom_function_errors_reach_python():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            raise ValueError("my backward failed")

    y = Wrong.apply(tg.ones(2, requires_grad=True))
    with pytest.raises(ValueError, match="my backward failed"):
        y.sum().backward()


def f_tanh_cubed(x):
    return (x.tanh() ** 3).sum()


def test_functional_api_against_closed_forms():
    x = tg.tensor([0.3, -0.7, 1.1], dtype=tg.float64)
    v = tg.tensor([1.0, 0.5, -2.0], dtype=tg.float64)
    t = np.tanh(x.numpy())
    d1 = 3 * t**2 * (1 - t**2)
    d2 = 6 * t * (1 - 2 * t**2) * (1 - t**2)
    value, jv = AF.jvp(f_tanh_cubed, x, v)
    assert value.item() == pytest.approx((t**3).sum())
    assert jv.item() == pytest.approx((d1 * v.numpy()).sum())
    _, vj = AF.vjp(f_tanh_cubed, x)
    np.testing.assert_allclose(vj.numpy(), d1, rtol=1e-12)
    for mode in ("forward_over_reverse", "reverse_over_reverse"):
        _, hv = AF.hvp(f_tanh_cubed, x, v, mode=mode)
        np.testing.assert_allclose(hv.numpy(), d2 * v.numpy(), rtol=1e-12)
    np.testing.assert_allclose(AF.hessian(f_tanh_cubed, x).numpy(), np.diag(d2), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(AF.jacobian(lambda a: a.tanh(), x).numpy(), np.diag(1 - t**2), rtol=1e-12)
    np.testing.assert_allclose(AF.jacobian(lambda a: a.tanh(), x, "forward-mode").numpy(), np.diag(1 - t**2), rtol=1e-12)
    estimate, stderr = AF.hessian_trace(f_tanh_cubed, x, samples=8)
    assert estimate == pytest.approx(d2.sum(), rel=1e-12)  # exact for a diagonal Hessian with +-1 probes
    assert stderr == pytest.approx(0.0, abs=1e-12)


def test_hvp_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    a, v = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))

    def loss_tg(w):
        return ((w @ w.T).sin() * w.sum(1)).sum()

    def loss_torch(w):
        return ((w @ w.T).sin() * w.sum(1)).sum()

    _, hv = AF.hvp(loss_tg, tg.tensor(a), tg.tensor(v))
    _, want = torch.autograd.functional.hvp(loss_torch, torch.tensor(a), torch.tensor(v))
    np.testing.assert_allclose(hv.numpy(), want.numpy(), rtol=1e-10)


def test_checkpoint_gives_the_same_gradients():
    from tensorgrad.utils.checkpoint import checkpoint

    layer = tg.nn.Linear(4, 4)
    x = tg.randn(2, 4, requires_grad=True)

    def block(t):
        return layer(t).tanh()

    checkpoint(block, x, params=layer.parameters()).sum().backward()
    got = [x.grad.numpy().copy()] + [p.grad.numpy().copy() for p in layer.parameters()]
    x.grad = None
    layer.zero_grad()
    block(x).sum().backward()
    want = [x.grad.numpy()] + [p.grad.numpy() for p in layer.parameters()]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6)


def test_a_function_that_saves_its_output_frees_its_graph():
    import gc
    import weakref

    class Marker:
        pass

    probes = []

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            ctx.marker = Marker()  # lives exactly as long as ctx, which the node's backward closure holds
            probes.append(weakref.ref(ctx.marker))
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

    x = tg.ones(3, requires_grad=True)
    y = Exp.apply(x)
    y.sum().backward(retain_graph=True)
    assert probes[0]() is not None
    del y
    gc.collect()
    assert probes[0]() is None, "the node (and the graph behind it) is still alive"
