"""The op table mirrored against PyTorch 1.13 (in the spirit of tinygrad's test_ops): every row runs the same
function in both libraries on the same float64 inputs and compares the outputs and the gradients of
sum(output * w) with respect to every input, for a random w."""
import numpy as np
import pytest

import tensorgrad as tg
import tensorgrad.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

def torch_causal_attention(q, k, v):
    # torch 1.13 has no scaled_dot_product_attention: its definition, written out.
    scores = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5
    causal = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).tril()
    return scores.masked_fill(~causal, float("-inf")).softmax(-1) @ v


# (name, tensorgrad function, torch function, input shapes, how to draw inputs)
#   draw: "normal", "positive" (in [0.5, 2]), "unit" (in (-0.9, 0.9)), "away" (|x| in [0.3, 2]: no kinks)
OPS = [
    ("neg", lambda x: -x, lambda x: -x, [(3, 4)], "normal"),
    ("abs", tg.abs, torch.abs, [(3, 4)], "away"),
    ("exp", tg.exp, torch.exp, [(3, 4)], "normal"),
    ("log", tg.log, torch.log, [(3, 4)], "positive"),
    ("log1p", tg.log1p, torch.log1p, [(3, 4)], "positive"),
    ("sqrt", tg.sqrt, torch.sqrt, [(3, 4)], "positive"),
    ("rsqrt", tg.rsqrt, torch.rsqrt, [(3, 4)], "positive"),
    ("sin", tg.sin, torch.sin, [(3, 4)], "normal"),
    ("cos", tg.cos, torch.cos, [(3, 4)], "normal"),
    ("tanh", tg.tanh, torch.tanh, [(3, 4)], "normal"),
    ("sigmoid", tg.sigmoid, torch.sigmoid, [(3, 4)], "normal"),
    ("relu", tg.relu, torch.relu, [(3, 4)], "away"),
    ("gelu", tg.gelu, TF.gelu, [(3, 4)], "normal"),
    ("gelu_tanh", F.gelu_tanh, lambda x: TF.gelu(x, approximate="tanh"), [(3, 4)], "normal"),
    ("silu", tg.silu, TF.silu, [(3, 4)], "normal"),
    ("square", tg.square, torch.square, [(3, 4)], "normal"),
    ("reciprocal", tg.reciprocal, torch.reciprocal, [(3, 4)], "away"),
    ("erf", tg.erf, torch.erf, [(3, 4)], "normal"),
    ("softplus", lambda x: F.softplus(x, beta=2.0), lambda x: TF.softplus(x, beta=2.0), [(3, 4)], "normal"),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.1), lambda x: TF.leaky_relu(x, 0.1), [(3, 4)], "away"),
    ("elu", F.elu, TF.elu, [(3, 4)], "away"),
    ("glu", F.glu, TF.glu, [(3, 4)], "normal"),
    ("add_broadcast", lambda a, b: a + b, lambda a, b: a + b, [(3, 4), (4,)], "normal"),
    ("sub_scalar", lambda a: 2 - a, lambda a: 2 - a, [(3, 4)], "normal"),
    ("mul_broadcast", lambda a, b: a * b, lambda a, b: a * b, [(2, 3, 4), (3, 1)], "normal"),
    ("div", lambda a, b: a / b, lambda a, b: a / b, [(3, 4), (3, 4)], "away"),
    ("rdiv_scalar", lambda a: 1.5 / a, lambda a: 1.5 / a, [(3, 4)], "away"),
    ("pow_tensor", lambda a, b: a ** b, lambda a, b: a ** b, [(3, 4), (3, 4)], "positive"),
    ("pow_scalar", lambda a: a ** 3, lambda a: a ** 3, [(3, 4)], "normal"),
    ("maximum", tg.maximum, torch.maximum, [(3, 4), (3, 4)], "normal"),
    ("minimum", tg.minimum, torch.minimum, [(3, 4), (3, 4)], "normal"),
    ("where", lambda a, b: tg.where(a > 0, a, b), lambda a, b: torch.where(a > 0, a, b), [(3, 4), (3, 4)], "away"),
    ("matmul", lambda a, b: a @ b, lambda a, b: a @ b, [(5, 3), (3, 4)], "normal"),
    ("matmul_batched", tg.matmul, torch.matmul, [(2, 5, 3), (3, 4)], "normal"),
    ("linear", F.linear, TF.linear, [(5, 3), (4, 3), (4,)], "normal"),
    ("einsum", lambda a, b: tg.einsum("bij,bjk->bik", a, b), lambda a, b: torch.einsum("bij,bjk->bik", a, b),
     [(2, 3, 4), (2, 4, 5)], "normal"),
    ("sum", lambda x: x.sum(), lambda x: x.sum(), [(3, 4)], "normal"),
    ("sum_dim", lambda x: x.sum(1, keepdim=True), lambda x: x.sum(1, keepdim=True), [(3, 4)], "normal"),
    ("mean_dims", lambda x: x.mean((0, 2)), lambda x: x.mean((0, 2)), [(2, 3, 4)], "normal"),
    ("prod", lambda x: x.prod(1), lambda x: x.prod(1), [(3, 4)], "away"),
    ("max_dim", lambda x: x.max(1)[0], lambda x: x.max(1)[0], [(3, 4)], "normal"),
    ("min_all", lambda x: x.min(), lambda x: x.min(), [(3, 4)], "normal"),
    ("var", lambda x: x.var(1), lambda x: x.var(1), [(3, 4)], "normal"),
    ("std", lambda x: x.std(), lambda x: x.std(), [(3, 4)], "normal"),
    ("logsumexp", lambda x: x.logsumexp(1), lambda x: x.logsumexp(1), [(3, 4)], "normal"),
    ("softmax", lambda x: x.softmax(-1), lambda x: x.softmax(-1), [(3, 4)], "normal"),
    ("log_softmax", lambda x: F.log_softmax(x, 0), lambda x: TF.log_softmax(x, 0), [(3, 4)], "normal"),
    ("cumsum", lambda x: x.cumsum(1), lambda x: x.cumsum(1), [(3, 4)], "normal"),
    ("reshape_permute", lambda x: x.reshape(4, 3).permute(1, 0), lambda x: x.reshape(4, 3).permute(1, 0), [(3, 4)], "normal"),
    ("transpose_contiguous", lambda x: x.transpose(0, 2).contiguous(), lambda x: x.transpose(0, 2).contiguous(),
     [(2, 3, 4)], "normal"),
    ("expand", lambda x: x.expand(3, 4), lambda x: x.expand(3, 4), [(3, 1)], "normal"),
    ("slicing", lambda x: x[1:, ::2], lambda x: x[1:, ::2], [(3, 4)], "normal"),
    ("ellipsis_none", lambda x: x[..., 1, None], lambda x: x[..., 1, None], [(2, 3, 4)], "normal"),
    ("index_list", lambda x: x[[2, 0, 2]], lambda x: x[[2, 0, 2]], [(3, 4)], "normal"),
    ("cat", lambda a, b: tg.cat([a, b], 1), lambda a, b: torch.cat([a, b], 1), [(3, 4), (3, 2)], "normal"),
    ("stack", lambda a, b: tg.stack([a, b], 0), lambda a, b: torch.stack([a, b], 0), [(3, 4), (3, 4)], "normal"),
    ("split", lambda x: x.split(2, 1)[1], lambda x: x.split(2, 1)[1], [(3, 5)], "normal"),
    ("flip", lambda x: x.flip(1), lambda x: x.flip(1), [(3, 4)], "normal"),
    ("repeat", lambda x: x.repeat(2, 1), lambda x: x.repeat(2, 1), [(3, 4)], "normal"),
    ("tril", lambda x: x.tril(), lambda x: x.tril(), [(4, 4)], "normal"),
    ("clamp", lambda x: x.clamp(-0.5, 0.5), lambda x: x.clamp(-0.5, 0.5), [(3, 4)], "away"),
    ("pad", lambda x: F.pad(x, (1, 2)), lambda x: TF.pad(x, (1, 2)), [(3, 4)], "normal"),
    ("layer_norm", lambda x, w, b: F.layer_norm(x, (4,), w, b), lambda x, w, b: TF.layer_norm(x, (4,), w, b),
     [(3, 4), (4,), (4,)], "normal"),
    ("group_norm", lambda x: F.group_norm(x, 2), lambda x: TF.group_norm(x, 2), [(2, 4, 3)], "normal"),
    ("batch_norm_train", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
     lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True), [(4, 3), (3,), (3,)], "normal"),
    ("conv1d", lambda x, w, b: F.conv1d(x, w, b, padding=1), lambda x, w, b: TF.conv1d(x, w, b, padding=1),
     [(2, 3, 7), (4, 3, 3), (4,)], "normal"),
    ("conv2d_strided", lambda x, w: F.conv2d(x, w, stride=2, padding=1), lambda x, w: TF.conv2d(x, w, stride=2, padding=1),
     [(2, 3, 6, 5), (4, 3, 3, 3)], "normal"),
    ("conv2d_groups", lambda x, w: F.conv2d(x, w, groups=2), lambda x, w: TF.conv2d(x, w, groups=2),
     [(1, 4, 5, 5), (6, 2, 3, 3)], "normal"),
    ("max_pool2d", lambda x: F.max_pool2d(x, 2), lambda x: TF.max_pool2d(x, 2), [(2, 3, 4, 6)], "normal"),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 3, 2, 1), lambda x: TF.avg_pool2d(x, 3, 2, 1), [(2, 3, 5, 5)], "normal"),
    ("max_pool1d", lambda x: F.max_pool1d(x, 3, 2), lambda x: TF.max_pool1d(x, 3, 2), [(2, 3, 9)], "normal"),
    ("mse_loss", F.mse_loss, TF.mse_loss, [(3, 4), (3, 4)], "normal"),
    ("bce_with_logits", F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits,
     [(3, 4), (3, 4)], "unit"),
    ("attention", lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
     lambda q, k, v: torch_causal_attention(q, k, v), [(2, 5, 4), (2, 5, 4), (2, 5, 4)], "normal"),
]


def draw(rng, shape, how):
    if how == "positive":
        return rng.uniform(0.5, 2.0, shape)
    if how == "unit":
        return rng.uniform(-0.9, 0.9, shape)
    if how == "away":
        return rng.uniform(0.3, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    return rng.standard_normal(shape)


@pytest.mark.parametrize("name,tg_fn,torch_fn,shapes,how", OPS, ids=[row[0] for row in OPS])
def test_forward_and_gradients_match_torch(name, tg_fn, torch_fn, shapes, how, rng):
    arrays = [draw(rng, s, how) for s in shapes]
    tg_in = [tg.tensor(a, requires_grad=True) for a in arrays]
    torch_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    tg_out = tg_fn(*tg_in)
    torch_out = torch_fn(*torch_in)
    assert tuple(tg_out.shape) == tuple(torch_out.shape), name
    assert tg_out.dtype == tg.float64
    np.testing.assert_allclose(tg_out.detach().numpy(), torch_out.detach().numpy(), rtol=1e-9, atol=1e-10, err_msg=name)
    w = rng.standard_normal(tuple(torch_out.shape))
    (tg_out * tg.tensor(w)).sum().backward()
    (torch_out * torch.tensor(w)).sum().backward()
    for i, (a, b) in enumerate(zip(tg_in, torch_in)):
        assert a.grad is not None, f"{name}: no gradient for input {i}"
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-8, atol=1e-9,
                                   err_msg=f"{name}: gradient of input {i}")


def test_cross_entropy_and_nll_match_torch(rng):
    logits = rng.standard_normal((5, 7))
    targets = np.array([0, 6, 3, 3, 1])
    a = tg.tensor(logits, requires_grad=True)
    b = torch.tensor(logits, requires_grad=True)
    for kwargs in ({}, {"label_smoothing": 0.1}, {"reduction": "sum"}):
        la = F.cross_entropy(a, tg.tensor(targets), **kwargs)
        lb = TF.cross_entropy(b, torch.tensor(targets), **kwargs)
        assert la.item() == pytest.approx(lb.item(), rel=1e-12)
    a.grad = None
    F.nll_loss(a.log_softmax(1), tg.tensor(targets)).backward()
    b.grad = None
    TF.nll_loss(b.log_softmax(1), torch.tensor(targets)).backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10)


def test_ctc_loss_matches_torch(rng):
    T, N, C, S = 12, 2, 5, 4
    # Through log_softmax: torch's CTC backward assumes normalised log-probabilities and returns a gradient
    # that is only right after that chain (ours is the exact one), so the logits' gradients are compared.
    logits = rng.standard_normal((T, N, C))
    targets = np.array([[1, 2, 2, 3], [4, 1, 0, 0]])
    in_len, tgt_len = np.array([12, 10]), np.array([4, 2])
    a = tg.tensor(logits, requires_grad=True)
    b = torch.tensor(logits, requires_grad=True)
    la = F.ctc_loss(a.log_softmax(2), tg.tensor(targets), tg.tensor(in_len), tg.tensor(tgt_len))
    lb = TF.ctc_loss(b.log_softmax(2), torch.tensor(targets), torch.tensor(in_len), torch.tensor(tgt_len))
    assert la.item() == pytest.approx(lb.item(), rel=1e-10)
    la.backward()
    lb.backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_float32_ops_take_float32_and_python_numbers_keep_the_dtype():
    x = tg.ones(2, 3)
    assert x.dtype == tg.float32
    assert (x * 2).dtype == tg.float32
    assert (x * 2.5 + 1).dtype == tg.float32
    assert (tg.arange(3) * 2).dtype == tg.int64
    assert (tg.arange(3) / 2).dtype == tg.float32
    assert (tg.arange(3) > 1).dtype == tg.bool_
    assert tg.tensor([1.0, 2.0]).dtype == tg.float32
    assert tg.tensor(np.array([1.0, 2.0])).dtype == tg.float64
    assert tg.tensor([1, 2]).dtype == tg.int64
    assert tg.tensor([True, False]).dtype == tg.bool_
