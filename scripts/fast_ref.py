#!/usr/bin/env python3
"""torch reference for examples/bench_fast.rs (same shapes): rms_norm / layer_norm over
8192x8192 f32 and x.clone() (GB/s, bytes read + written), causal F.scaled_dot_product_attention
B4 H32 L4096 D128 in f16 and f32 (TFLOP/s, 4*B*H*L^2*D / 2). Usage: python3 scripts/fast_ref.py [--small]"""
import sys, time
import torch
import torch.nn.functional as F

torch.backends.cuda.matmul.allow_tf32 = False
small = "--small" in sys.argv
dev = "cuda"


def bench(f, iters=20):
    f(); torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(iters):
        f()
    torch.cuda.synchronize()
    return (time.perf_counter() - t) / iters


n = 512 if small else 8192
x = torch.randn(n, n, device=dev)
w = torch.randn(n, device=dev)
gb = 2 * n * n * 4 / 1e9
for name, f in [("copy", lambda: x.clone()),
                ("rms_norm", lambda: F.rms_norm(x, (n,), w, 1e-5)),
                ("layer_norm", lambda: F.layer_norm(x, (n,), w, w, 1e-5))]:
    t = bench(f)
    print(f"torch/{name}/{n}x{n}/f32 {t:.6f} {gb / t:.1f} GB/s")
b, h, l, d = (1, 4, 256, 128) if small else (4, 32, 4096, 128)
for dt in [torch.float16, torch.float32]:
    q, k, v = (torch.randn(b, h, l, d, device=dev, dtype=dt) for _ in range(3))
    t = bench(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True), 10)
    print(f"torch/sdpa_causal/B{b}H{h}L{l}D{d}/{dt} {t:.6f} {4 * b * h * l * l * d / 2 / t / 1e12:.2f} TFLOP/s")
