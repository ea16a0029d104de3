#!/usr/bin/env python3
"""torch reference for examples/bench_compile.rs (same shapes, same functions): x.clone(), gelu
(tanh form), the 10-op chain, a row mean of squares and a scaled softmax with a bias row over
8192x8192 f32 (GB/s of the bytes each must move; eager and with torch.compile when it works
here), and 1,000 dependent ops over 256 elements (us per op).
Usage: python3 scripts/compile_ref.py [--small]"""
import sys, time
import torch

small = "--small" in sys.argv
dev = "cuda"


def bench(f, iters=10, batch=16):
    f(); torch.cuda.synchronize()
    ts = []
    for _ in range(iters):
        t = time.perf_counter()
        for _ in range(batch):
            f()
        torch.cuda.synchronize()
        ts.append((time.perf_counter() - t) / batch)
    return sorted(ts)[len(ts) // 2]


def gelu(x):
    return 0.5 * x * (1 + torch.tanh(0.7978846 * (x + 0.044715 * x ** 3)))


def chain10(x):
    y = x * 1.0001
    y = y + 0.5
    y = y.abs().sqrt()
    y = y * x
    y = y - 0.25
    y = torch.tanh(y) * 2.0
    y = y + x
    return torch.clamp_min(y, 0.0)


def mean_sq(x):
    return (x * x).mean(-1, keepdim=True)


def softmax_scaled(x, b):
    return torch.softmax(x * 0.125 + b, -1)


def chain(x, n):
    y = x
    for k in range(n):
        m = k % 4
        y = y * 0.999 if m == 0 else y + 0.001 if m == 1 else torch.clamp_min(y, -1.0) if m == 2 else y - x
    return y


n = 1024 if small else 8192
x = torch.randn(n, n, device=dev)
gb = 2 * n * n * 4 / 1e9
b = torch.randn(n, device=dev)
# (name, function, bytes moved): the mean of squares reads the input once.
rows = [("copy", lambda: x.clone(), gb), ("gelu/eager", lambda: gelu(x), gb),
        ("chain10/eager", lambda: chain10(x), gb), ("mean_sq/eager", lambda: mean_sq(x), gb / 2),
        ("softmax_scaled/eager", lambda: softmax_scaled(x, b), gb)]
try:
    cg, cc, cm, cs = (torch.compile(f) for f in (gelu, chain10, mean_sq, softmax_scaled))
    cg(x); cc(x); cm(x); cs(x, b)
    rows += [("gelu/torch.compile", lambda: cg(x), gb), ("chain10/torch.compile", lambda: cc(x), gb),
             ("mean_sq/torch.compile", lambda: cm(x), gb / 2),
             ("softmax_scaled/torch.compile", lambda: cs(x, b), gb)]
except Exception as e:  # no triton / compiler on the machine
    print(f"torch.compile unavailable: {type(e).__name__}: {str(e)[:200]}", file=sys.stderr)
for name, f, size in rows:
    t = bench(f)
    print(f"torch/{name}/{n}x{n}/f32 {t:.6f} {size / t:.1f} GB/s")
s = torch.randn(256, device=dev)
t = bench(lambda: chain(s, 1000), iters=20, batch=1)
print(f"torch/chain1000/256/f32/eager {t:.6f} {t / 1000 * 1e6:.3f} us/op")
