#!/usr/bin/env python3
"""References for examples/bench_train.rs: the same MLP training step (784-1024-1024-10, relu,
softmax cross-entropy, batch 256, f32, value_and_grad + SGD) in MLX (its CPU build here, or
whatever device it has) and in torch (CPU, and CUDA when present). Prints `name seconds`
lines with the bench's names (median step time).

Usage: python3 scripts/train_ref.py [--steps N]
"""
import sys
import time

STEPS = int(sys.argv[sys.argv.index("--steps") + 1]) if "--steps" in sys.argv else 30
DIMS = [784, 1024, 1024, 10]
B = 256


def median(ts):
    ts = sorted(ts)
    return ts[len(ts) // 2]


def mlx_ref():
    try:
        import mlx.core as mx
    except ImportError:
        return
    mx.random.seed(0)
    params = []
    for i in range(3):
        params += [mx.random.normal((DIMS[i], DIMS[i + 1])) * (2.0 / DIMS[i]) ** 0.5, mx.zeros((DIMS[i + 1],))]
    x = mx.random.normal((B, DIMS[0]))
    onehot = (mx.random.randint(0, 10, (B,))[:, None] == mx.arange(10)).astype(mx.float32)

    def loss(ps):
        h = x
        for l in range(3):
            h = h @ ps[2 * l] + ps[2 * l + 1]
            if l < 2:
                h = mx.maximum(h, 0)
        return mx.mean(mx.logsumexp(h, axis=-1) - mx.sum(h * onehot, axis=-1))

    vg = mx.value_and_grad(loss)
    ts = []
    for i in range(STEPS + 5):
        t = time.perf_counter()
        l, g = vg(params)
        params = [p - 0.05 * gi for p, gi in zip(params, g)]
        mx.eval(params, l)
        if i >= 5:
            ts.append(time.perf_counter() - t)
    dev = "cpu" if "cpu" in str(mx.default_device()).lower() else "gpu"
    print(f"mlx-{dev}/train/mlp784/f32 {median(ts):.6f}")


def torch_ref():
    try:
        import torch
    except ImportError:
        return
    devs = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for dev in devs:
        torch.manual_seed(0)
        ps = []
        for i in range(3):
            ps += [(torch.randn(DIMS[i], DIMS[i + 1], device=dev) * (2.0 / DIMS[i]) ** 0.5).requires_grad_(),
                   torch.zeros(DIMS[i + 1], device=dev, requires_grad=True)]
        x = torch.randn(B, DIMS[0], device=dev)
        y = torch.randint(0, 10, (B,), device=dev)
        ts = []
        for i in range(STEPS + 5):
            if dev == "cuda":
                torch.cuda.synchronize()
            t = time.perf_counter()
            h = x
            for l in range(3):
                h = h @ ps[2 * l] + ps[2 * l + 1]
                if l < 2:
                    h = torch.relu(h)
            loss = torch.nn.functional.cross_entropy(h, y)
            gs = torch.autograd.grad(loss, ps)
            with torch.no_grad():
                for p, g in zip(ps, gs):
                    p -= 0.05 * g
            _ = loss.item()
            if i >= 5:
                ts.append(time.perf_counter() - t)
        name = "gpu" if dev == "cuda" else "cpu"
        print(f"torch-{name}/train/mlp784/f32 {median(ts):.6f}")


if __name__ == "__main__":
    mlx_ref()
    torch_ref()
