"""A short training run end to end from Python: Fashion-MNIST through the DataLoader, the example script
itself, and the loss going down."""
import pathlib
import subprocess
import sys

import pytest

import tensorgrad as tg
from tensorgrad import nn
from tensorgrad.utils.data import DataLoader, TensorDataset

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_dataloader_batches_shuffles_per_epoch_and_reproduces():
    x = tg.arange(10, dtype=tg.float32).reshape(10, 1)
    y = tg.arange(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True, seed=1)
    assert len(loader) == 3
    first = [b.tolist() for _, b in loader]
    second = [b.tolist() for _, b in loader]
    assert [len(b) for b in first] == [4, 4, 2]
    assert sorted(sum(first, [])) == list(range(10))
    assert first != second  # the next pass is the next epoch
    loader.set_epoch(0)
    assert [b.tolist() for _, b in loader] == first
    it = iter(loader)  # every pass started advances the epoch, whether it runs to the end or not
    next(it)
    assert loader.epoch == 2
    for _ in it:
        pass
    with pytest.raises(StopIteration):
        next(it)


def test_a_small_mlp_learns_fashion_mnist():
    try:
        train = tg.datasets.FashionMNIST(train=True)
    except tg.Error as e:
        pytest.fail(f"Fashion-MNIST (Debian's dataset-fashion-mnist) is not readable: {e}")
    data = TensorDataset(train.inputs[:2048], train.targets[:2048])
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = tg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for epoch in range(3):
        total = 0.0
        for x, y in DataLoader(data, batch_size=64, shuffle=True, seed=epoch):
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        losses.append(total)
    assert losses[-1] < 0.7 * losses[0], losses


def test_the_example_trains_and_saves(tmp_path):
    out = tmp_path / "mlp.safetensors"
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "python" / "train_mlp.py"), "--train-limit", "3000", "--epochs", "3", "--lr", "0.05",
                             "--save", str(out)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip().splitlines()[-1]
    accuracy = float(line.split("test accuracy ")[1].split("%")[0])
    assert accuracy > 65.0, line  # 3 epochs of 3000 images reach ~74%
    state = tg.load(out)
    assert tuple(state["fc1.weight"].shape) == (512, 784)
