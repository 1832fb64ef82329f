"""Per-call cost of a tiny op from Python, tensorgrad against PyTorch in the same process: an add of two
one-element tensors, without and with autograd recording (the second operand requires grad), and the add
plus a backward pass. Interleaved rounds; the median of each is printed.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_overhead.py [--rounds 7] [--calls 200000]
"""
import argparse
import statistics
import time

import tensorgrad as tg
import torch


def per_call_us(fn, calls):
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--calls", type=int, default=200000)
    a = p.parse_args()
    tg.set_num_threads(1)
    torch.set_num_threads(1)
    ta, tb = tg.ones(1), tg.ones(1)
    tw = tg.ones(1, requires_grad=True)
    pa, pb = torch.ones(1), torch.ones(1)
    pw = torch.ones(1, requires_grad=True)

    def tg_backward():
        (ta + tw).backward()

    def torch_backward():
        (pa + pw).backward()

    cases = [
        ("add, no autograd", lambda: ta + tb, lambda: pa + pb, 1),
        ("add, recorded", lambda: ta + tw, lambda: pa + pw, 1),
        ("add + backward", tg_backward, torch_backward, 10),
    ]
    print(f"{'case':<18} {'tensorgrad_us':>14} {'torch_us':>10} {'tg/torch':>9}")
    for name, f_tg, f_torch, divisor in cases:
        calls = a.calls // divisor
        tg_times, torch_times = [], []
        for _ in range(a.rounds):
            tg_times.append(per_call_us(f_tg, calls))
            torch_times.append(per_call_us(f_torch, calls))
        t, r = statistics.median(tg_times), statistics.median(torch_times)
        print(f"{name:<18} {t:14.3f} {r:10.3f} {t / r:9.2f}")


if __name__ == "__main__":
    main()
