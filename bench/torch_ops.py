#!/usr/bin/python3
"""PyTorch side of `tensorgrad-bench ops`: the same cases, timed the same way (interleaved rounds, median of
samples, each sample repeating the call for >= --min-time seconds and reporting the mean per call).

  /usr/bin/python3 bench/torch_ops.py [--threads 1,2] [--reps 15] [--min-time 0.02] [--numel 1048576] [--tsv]

Cases (see bench/tensorgrad_bench/ops_bench.cpp):
  tiny_add            c = a + b on float32 tensors of shape [1], no requires_grad; `c` is rebound every
                      iteration, which frees the previous result: op + freeing its output.
  tiny_add_grad       a and b require grad; results go into a pre-sized list and the chunk's results (and
                      their graph nodes) are freed after the clock stops: forward op only.
  tiny_add_grad_free  the same, `c` rebound every iteration: op + graph teardown.
  add_1m              c = a + b on contiguous float32 vectors, a new output every call.
  sum_1m              s = a.sum().
  ctc_fwd_bwd         ctc_loss (mean) and backward to log_probs: T 200, batch 16, 32 classes, targets of 40,
                      float32; the gradient is dropped after each call.
  conformer_fwd_bwd   torchaudio's ConformerLayer (d_model 144, 4 heads, feed-forward 576, depthwise kernel 31,
                      dropout 0, train mode) on [200, 16, 144] float32: forward, sum, backward; grads set to
                      None. Skipped when torchaudio is missing.
  attention_L512, attention_L2048
                      the core of multi_head_attention_forward (torch.nn.functional._scaled_dot_product_attention:
                      bmm, softmax, bmm) forward and backward with a fixed random grad_out, on q, k, v
                      [2 * 4, L, 64] float32 (batch 2, 4 heads), L = S, no mask; grads set to None.
Times include the Python interpreter's own loop cost; `loop_baseline` (the same loop storing a constant
into the list) says how much that is.
"""
import argparse
import statistics
import sys
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--min-time", type=float, default=0.02)
    ap.add_argument("--numel", type=int, default=1 << 20)
    ap.add_argument("--tsv", action="store_true")
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(",")]

    clock = time.perf_counter
    a1 = torch.full((1,), 1.5)
    b1 = torch.full((1,), 2.25)
    ga = torch.full((1,), 1.5, requires_grad=True)
    gb = torch.full((1,), 2.25, requires_grad=True)
    gen = torch.Generator().manual_seed(1234)
    x = torch.rand(args.numel, generator=gen)
    y = torch.rand(args.numel, generator=gen)

    ctc_lp = torch.randn(200, 16, 32, generator=gen).log_softmax(2).detach().requires_grad_(True)
    ctc_targets = torch.randint(1, 32, (16, 40), generator=gen)
    ctc_in = torch.full((16,), 200, dtype=torch.int64)
    ctc_tl = torch.full((16,), 40, dtype=torch.int64)
    assert torch.isfinite(torch.nn.functional.ctc_loss(ctc_lp, ctc_targets, ctc_in, ctc_tl))

    try:
        import torchaudio
        conformer = torchaudio.models.conformer.ConformerLayer(144, 576, 4, 31, dropout=0.0)
        conformer.train()
        conformer_x = torch.randn(200, 16, 144, generator=gen)
    except ImportError:
        conformer = None

    attention = {}
    for L in (512, 2048):
        qkv = [torch.randn(8, L, 64, generator=gen).requires_grad_(True) for _ in range(3)]
        attention[L] = (qkv, torch.randn(8, L, 64, generator=gen))

    # Validate what is timed.
    assert (a1 + b1).item() == 3.75 and (ga + gb).requires_grad
    assert torch.equal(x + y, torch.add(x, y))
    assert abs(x.sum().item() - x.double().sum().item()) <= 1e-5 * abs(x.double().sum().item())

    chunk = 1000
    slots = [None] * chunk
    rng = range(chunk)

    def tiny_add(n):
        t0 = clock()
        for _ in rng:
            c = a1 + b1
        return clock() - t0, chunk

    def tiny_add_grad(n):
        t0 = clock()
        for i in rng:
            slots[i] = ga + gb
        t1 = clock()
        for i in rng:
            slots[i] = None  # untimed teardown
        return t1 - t0, chunk

    def tiny_add_grad_free(n):
        t0 = clock()
        for _ in rng:
            c = ga + gb
        return clock() - t0, chunk

    def loop_baseline(n):
        t0 = clock()
        for i in rng:
            slots[i] = a1
        t1 = clock()
        for i in rng:
            slots[i] = None
        return t1 - t0, chunk

    def add_1m(n):
        t0 = clock()
        c = x + y
        return clock() - t0, 1

    def sum_1m(n):
        t0 = clock()
        s = x.sum()
        return clock() - t0, 1

    def conformer_fwd_bwd(n):
        t0 = clock()
        conformer(conformer_x, None).sum().backward()
        conformer.zero_grad(set_to_none=True)
        return clock() - t0, 1

    def attention_case(L):
        (q, k, v), go = attention[L]

        def run(n):
            t0 = clock()
            out, _ = torch.nn.functional._scaled_dot_product_attention(q, k, v, None, 0.0)
            out.backward(go)
            q.grad = k.grad = v.grad = None
            return clock() - t0, 1
        return run

    def ctc_fwd_bwd(n):
        t0 = clock()
        torch.nn.functional.ctc_loss(ctc_lp, ctc_targets, ctc_in, ctc_tl).backward()
        ctc_lp.grad = None
        return clock() - t0, 1

    cases = [("tiny_add", tiny_add), ("tiny_add_grad", tiny_add_grad), ("tiny_add_grad_free", tiny_add_grad_free),
             ("add_1m", add_1m), ("sum_1m", sum_1m), ("ctc_fwd_bwd", ctc_fwd_bwd), ("loop_baseline", loop_baseline)]
    if conformer is not None:
        cases.append(("conformer_fwd_bwd", conformer_fwd_bwd))
    cases += [("attention_L512", attention_case(512)), ("attention_L2048", attention_case(2048))]

    def sample(fn, min_time):
        timed, calls = 0.0, 0
        start = clock()
        while True:
            t, n = fn(0)
            timed += t
            calls += n
            if clock() - start >= min_time:
                return timed / calls

    for t in threads:
        torch.set_num_threads(t)
        for _, fn in cases:
            sample(fn, 0.01)
    samples = {(t, name): [] for t in threads for name, _ in cases}
    for _ in range(args.reps):
        for t in threads:
            torch.set_num_threads(t)
            for name, fn in cases:
                samples[(t, name)].append(sample(fn, args.min_time) * 1e6)

    if args.tsv:
        for t in threads:
            for name, _ in cases:
                print(f"{name}\t{t}\t{statistics.median(samples[(t, name)]):.6f}")
        return
    print(f"# torch {torch.__version__} ops (us per call, median of {args.reps})\n")
    print("| case | threads | us per call (median) | min | max |\n|---|---:|---:|---:|---:|")
    for name, _ in cases:
        for t in threads:
            s = samples[(t, name)]
            print(f"| {name} | {t} | {statistics.median(s):.4f} | {min(s):.4f} | {max(s):.4f} |")


if __name__ == "__main__":
    sys.exit(main())
