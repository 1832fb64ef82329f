"""tensorgrad.nn from Python: Module subclassed in Python, the C++ layers inside it, state dicts through
safetensors, train/eval, optimizers and schedules."""
import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.norm = nn.BatchNorm2d(4)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(4 * 6 * 6, 3))
        self.temperature = nn.Parameter(tg.ones(1))
        self.register_buffer("calls", tg.zeros(1))
        self.note = "plain attribute"

    def forward(self, x):
        self.calls += 1
        return self.head(self.norm(self.conv(x)).relu()) / self.temperature


def test_parameters_buffers_and_modules_are_registered_by_assignment():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["temperature", "conv.weight", "conv.bias", "norm.weight", "norm.bias", "head.2.weight", "head.2.bias"]
    assert [n for n, _ in net.named_buffers()] == ["calls", "norm.running_mean", "norm.running_var",
                                                  "norm.num_batches_tracked"]
    assert net.note == "plain attribute"
    assert net.num_parameters() == 1 + 4 * 9 + 4 + 4 + 4 + 144 * 3 + 3
    with pytest.raises(TypeError, match="Parameter or None expected"):
        net.temperature = tg.ones(1)
    assert "Conv2d" in repr(net) and "(head): Sequential" in repr(net)


def test_train_and_eval_reach_the_cpp_layers():
    net = Net()
    x = tg.randn(8, 1, 6, 6)
    net.eval()
    assert not net.training and not net.head[1].training
    a, b = net(x), net(x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())  # no dropout, running stats
    net.train()
    c, d = net(x), net(x)
    assert not np.array_equal(c.detach().numpy(), d.detach().numpy())
    assert net.calls.item() == 4.0


def test_state_dict_round_trip_through_safetensors(tmp_path):
    torch_net, other = Net(), Net()
    torch_net(tg.randn(2, 1, 6, 6))
    path = tmp_path / "net.safetensors"
    tg.save(torch_net.state_dict(), path)
    other.load_state_dict(tg.load(path))
    for (n, a), (_, b) in zip(torch_net.state_dict().items(), other.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=n)
    state = tg.load(path)
    del state["conv.bias"]
    state["extra"] = tg.ones(1)
    with pytest.raises(KeyError, match=r"missing keys \['conv.bias'\], unexpected keys \['extra'\]"):
        other.load_state_dict(state)
    state = tg.load(path)
    state["head.2.bias"] = tg.zeros(4)  # wrong shape, after conv.* in the module's order
    other.conv.weight.data = tg.zeros(4, 1, 3, 3)
    with pytest.raises(ValueError, match=r"head.2.bias has shape \(4,\)"):
        other.load_state_dict(state)
    assert other.conv.weight.abs().sum().item() == 0.0  # nothing was copied
    with pytest.raises(tg.Error, match="safetensors"):
        path.write_bytes(b"\x05\x00\x00\x00\x00\x00\x00\x00{bad}")
        tg.load(path)


def test_sequential_pools_before_the_relu_with_the_same_values_and_gradients():
    # Windows with a tied positive maximum, all negative, a zero maximum, a NaN, one positive value.
    values = [[1.0, 3.0, -1.0, -2.0, 0.0, -1.0],
              [3.0, 2.0, -3.0, -4.0, -5.0, 0.0],
              [float("nan"), 2.0, -1.0, 5.0, 0.5, -0.5],
              [1.0, float("nan"), -2.0, -6.0, 0.25, 0.5]]
    weights = tg.tensor([[[[0.5, -1.5, 2.0], [0.25, -3.0, 1.25]]]])

    def run(layers):
        x = tg.tensor([[values]]).requires_grad_(True)
        y = layers(x)
        (y * weights).sum().backward()
        return y.detach().numpy(), x.grad.numpy()

    in_order = run(lambda x: nn.MaxPool2d(2)(nn.ReLU()(x)))
    sequential = run(nn.Sequential(nn.ReLU(), nn.MaxPool2d(2)))
    for a, b in zip(in_order, sequential):
        np.testing.assert_array_equal(a, b)
    # The one difference, documented: a window whose maximum is -0 gives -0 (the relu ran after the pooling).
    pooled = nn.Sequential(nn.ReLU(), nn.MaxPool2d(2))(tg.tensor([[[[-1.0, -0.0], [-2.0, -3.0]]]])).item()
    assert pooled == 0.0 and np.signbit(pooled)


def test_optimizers_and_schedules():
    w = nn.Parameter(tg.tensor([1.0, -1.0]))
    opt = tg.optim.SGD([w], lr=0.1, momentum=0.9)
    sched = tg.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    lrs = []
    for _ in range(4):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
        sched.step()
        lrs.append(opt.lr)
    assert lrs == [0.1, 0.05, 0.05, 0.025]
    assert abs(w[0].item()) < 1.0
    for cls in (tg.optim.Adam, tg.optim.AdamW, tg.optim.RMSprop):
        p = nn.Parameter(tg.tensor([3.0]))
        o = cls([p], lr=0.1)
        for _ in range(20):
            o.zero_grad()
            (p * p).sum().backward()
            o.step()
        assert abs(p.item()) < 3.0, cls.__name__
    cos = tg.optim.lr_scheduler.CosineAnnealingLR(tg.optim.SGD([nn.Parameter(tg.ones(1))], lr=1.0), T_max=4)
    for _ in range(4):
        cos.step()
    assert cos.get_last_lr()[0] == pytest.approx(0.0, abs=1e-12)


def test_sgd_matches_torch_step_for_step():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    w0, x = rng.standard_normal((3, 4)), rng.standard_normal((5, 4))
    a = nn.Parameter(tg.tensor(w0))
    b = torch.tensor(w0, requires_grad=True)
    oa = tg.optim.Adam([a], lr=0.01, weight_decay=0.1)
    ob = torch.optim.Adam([b], lr=0.01, weight_decay=0.1)
    for _ in range(5):
        oa.zero_grad()
        ob.zero_grad()
        (tg.tensor(x) @ a.T).tanh().sum().backward()
        (torch.tensor(x) @ b.T).tanh().sum().backward()
        oa.step()
        ob.step()
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10)


def test_profiler_records_ops_and_user_ranges(tmp_path):
    from tensorgrad import profiler

    x = tg.randn(16, 16, requires_grad=True)
    with profiler.profile() as prof:
        with profiler.record_function("my_block"):
            (x @ x).relu().sum().backward()
    table = prof.key_averages().table(row_limit=20)
    assert "matmul" in table and "my_block" in table
    prof.export_chrome_trace(tmp_path / "trace.json")
    assert (tmp_path / "trace.json").stat().st_size > 100
