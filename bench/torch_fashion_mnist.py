"""PyTorch baseline for bench/train_epoch.sh: the same data files, models and recipes as tg_train.

Times one training epoch (evaluation excluded) and prints one line:
    torch <model> epoch_seconds=<s> test_accuracy=<a> threads=<n>
Run with Debian's python3 (/usr/bin/python3), which sees the python3-torch package.
"""
import argparse
import gzip
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(data_dir, prefix):
    images = read_idx(f"{data_dir}/{prefix}-images-idx3-ubyte.gz").astype(np.float32) / 255.0
    labels = read_idx(f"{data_dir}/{prefix}-labels-idx1-ubyte.gz").astype(np.int64)
    return torch.from_numpy(images).unsqueeze(1), torch.from_numpy(labels)


def make_model(name):
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                             nn.Linear(256, 10))
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--inputs", choices=["unit", "standard"], default=None,
                   help="unit: pixels in [0, 1]; standard: then standardised with the training set's mean and std "
                        "(default: unit for mlp, standard for cnn, as tg_train)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    x, y = load(a.data_dir, "train")
    xt, yt = load(a.data_dir, "t10k")
    if (a.inputs or ("standard" if a.model == "cnn" else "unit")) == "standard":
        mean, std = x.mean().item(), x.std().item()
        x, xt = (x - mean) / std, (xt - mean) / std
    model = make_model(a.model)
    if a.model == "mlp":
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    order = torch.randperm(len(y))
    start = time.perf_counter()
    model.train()
    for i in range(0, len(y), 128):
        idx = order[i : i + 128]
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        correct = sum((model(xt[i : i + 1000]).argmax(1) == yt[i : i + 1000]).sum().item() for i in range(0, len(yt), 1000))
    print(f"torch {a.model} epoch_seconds={seconds:.3f} test_accuracy={correct / len(yt):.4f} threads={a.threads}")


if __name__ == "__main__":
    main()
