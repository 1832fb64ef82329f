"""Fashion-MNIST with a 784-512-256-10 MLP, written the way a PyTorch user writes it (tg_train --model mlp
runs the same model and recipe from C++).

    PYTHONPATH=build/python python3 examples/python/train_mlp.py [--epochs 1] [--threads 2]
"""
import argparse
import time

import tensorgrad as tg
from tensorgrad import nn
from tensorgrad.datasets import FashionMNIST
from tensorgrad.utils.data import DataLoader


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 512)
        self.fc2 = nn.Linear(512, 256)
        self.fc3 = nn.Linear(256, 10)

    def forward(self, x):
        x = x.flatten(1)
        x = self.fc1(x).relu()
        x = self.fc2(x).relu()
        return self.fc3(x)


def evaluate(model, loader):
    model.eval()
    correct = total = 0
    with tg.no_grad():
        for x, y in loader:
            correct += (model(x).argmax(1) == y).sum().item()
            total += len(y)
    model.train()
    return correct / total


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--threads", type=int, default=0, help="kernel threads (default: tensorgrad's, all cores)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-limit", type=int, default=0, help="use only the first N training images (0: all)")
    p.add_argument("--save", default="", help="write the trained weights here (safetensors)")
    a = p.parse_args()

    if a.threads > 0:
        tg.set_num_threads(a.threads)
    tg.manual_seed(a.seed)
    train, test = FashionMNIST(train=True), FashionMNIST(train=False)
    if a.train_limit:
        train = tg.utils.data.TensorDataset(train.inputs[: a.train_limit], train.targets[: a.train_limit])
    train_loader = DataLoader(train, batch_size=a.batch_size, shuffle=True, seed=a.seed)
    test_loader = DataLoader(test, batch_size=1000)

    model = MLP()
    opt = tg.optim.SGD(model.parameters(), lr=a.lr, momentum=0.9)
    for epoch in range(1, a.epochs + 1):
        start = time.perf_counter()
        total = 0.0
        for x, y in train_loader:
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        seconds = time.perf_counter() - start
        accuracy = evaluate(model, test_loader)
        print(f"epoch {epoch}/{a.epochs}: loss {total / len(train_loader):.4f}, test accuracy {100 * accuracy:.2f}%, "
              f"{seconds:.3f} s", flush=True)
    if a.save:
        tg.save(model.state_dict(), a.save)


if __name__ == "__main__":
    main()
