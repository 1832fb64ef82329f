"""PyTorch on the GPU, the reference bench/cuda/check.sh measures beside tensorgrad in the same run.

Prints one line per measurement:
    torch gemm dtype=float32 n=4096 tflops=... ms=...     (cuBLAS through torch.matmul; TF32 off for float32)
    torch cnn epoch_seconds=... steps=... device=cuda     (tg_train's Fashion-MNIST CNN and recipe: Adam 1e-3, batch 128)
The CNN epoch runs on random inputs of Fashion-MNIST's shape (60000 images 1x28x28, 10 classes): the GPU machine
has no copy of the data set, and the time of an epoch does not depend on the pixel values. Times are CUDA-event
medians after warm-up.
    python3 bench/cuda/torch_reference.py [--gemm-sizes 1024,2048,4096] [--bf16-sizes 4096,8192] [--cnn-epochs 2]
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def event_ms(fn, reps):
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def gemm(n, dtype, reps):
    a = torch.randn(n, n, device="cuda", dtype=dtype)
    b = torch.randn(n, n, device="cuda", dtype=dtype)
    ms = event_ms(lambda: torch.matmul(a, b), reps)
    print(f"torch gemm dtype={str(dtype).replace('torch.', '')} n={n} tflops={2 * n ** 3 / ms / 1e9:.1f} ms={ms:.3f}",
          flush=True)


def cnn_epoch(epochs):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10)).cuda()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(60000, 1, 28, 28, device="cuda")
    y = torch.randint(0, 10, (60000,), device="cuda")
    best = None
    for _ in range(epochs):  # the first epoch includes cuDNN's algorithm search; the best one is reported
        order = torch.randperm(60000, device="cuda")
        torch.cuda.synchronize()
        start = time.perf_counter()
        for i in range(0, 60000, 128):
            idx = order[i:i + 128]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        best = seconds if best is None else min(best, seconds)
    print(f"torch cnn epoch_seconds={best:.3f} steps={(60000 + 127) // 128} device=cuda loss={loss.item():.3f}",
          flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--gemm-sizes", default="1024,2048,4096")
    p.add_argument("--bf16-sizes", default="4096,8192")
    p.add_argument("--cnn-epochs", type=int, default=2)
    p.add_argument("--reps", type=int, default=20)
    a = p.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    print(f"torch {torch.__version__} on {torch.cuda.get_device_name()}", flush=True)
    for n in [int(s) for s in a.gemm_sizes.split(",") if s]:
        gemm(n, torch.float32, a.reps)
    for n in [int(s) for s in a.bf16_sizes.split(",") if s]:
        gemm(n, torch.bfloat16, a.reps)
    if a.cnn_epochs > 0:
        cnn_epoch(a.cnn_epochs)


if __name__ == "__main__":
    main()
