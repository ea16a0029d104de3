#!/usr/bin/env python3
"""Reference timings for examples/bench_conv.rs: conv2d 3x3 64->64 over 56x56, batch 64, stride 1,
padding 1; forward, and forward+backward (gradients of the input and the weight for a random
cotangent); float32 and float16. Prints lines in bench_conv's format.

  python3 scripts/conv_ref.py torch [--batch B] [--iters N]   # torch on CUDA: cuDNN, channels_last
  python3 scripts/conv_ref.py mlx   [--batch B] [--iters N]   # MLX on its default device (CPU here)

torch float32 is timed twice: with cuDNN's TF32 tensor cores (torch's default for convolutions,
`f32tf32`) and with TF32 off (`f32`, true float32 like wmx's kernel).
"""

import argparse
import time


def torch_ref(batch, iters):
    import torch

    torch.backends.cudnn.benchmark = True
    dev = torch.device("cuda")
    flop = 2.0 * batch * 56 * 56 * 64 * 9 * 64
    for label, dt, tf32 in [("f32tf32", torch.float32, True), ("f32", torch.float32, False),
                            ("f16", torch.float16, False)]:
        torch.backends.cudnn.allow_tf32 = tf32
        g = torch.Generator(device=dev).manual_seed(0)
        x = torch.randn(batch, 64, 56, 56, device=dev, generator=g).to(dt)
        x = x.to(memory_format=torch.channels_last)
        w = (torch.randn(64, 64, 3, 3, device=dev, generator=g) * (2.0 / 576) ** 0.5).to(dt)
        w = w.to(memory_format=torch.channels_last)
        ct = torch.randn(batch, 64, 56, 56, device=dev, generator=g).to(dt)
        ct = ct.to(memory_format=torch.channels_last)
        conv = lambda a, b: torch.nn.functional.conv2d(a, b, stride=1, padding=1)

        def fwd():
            with torch.no_grad():
                conv(x, w)

        def both():
            xa = x.detach().requires_grad_(True)
            wa = w.detach().requires_grad_(True)
            y = conv(xa, wa)
            y.backward(ct)

        for name, fn, mult in [("forward", fwd, 1), ("forward+backward", both, 3)]:
            for _ in range(5):
                fn()
            torch.cuda.synchronize()
            t = time.perf_counter()
            for _ in range(iters):
                fn()
            torch.cuda.synchronize()
            s = (time.perf_counter() - t) / iters
            print("torch/conv3x3/%s/%s %.3f ms %.2f TFLOP/s" % (name, label, s * 1e3,
                                                                mult * flop / s / 1e12))


def mlx_ref(batch, iters):
    import mlx.core as mx

    flop = 2.0 * batch * 56 * 56 * 64 * 9 * 64
    dev = mx.default_device()
    for label, dt in [("f32", mx.float32), ("f16", mx.float16)]:
        k = mx.random.split(mx.random.key(0), 3)
        x = mx.random.normal((batch, 56, 56, 64), key=k[0]).astype(dt)
        w = (mx.random.normal((64, 3, 3, 64), key=k[1]) * (2.0 / 576) ** 0.5).astype(dt)
        ct = mx.random.normal((batch, 56, 56, 64), key=k[2]).astype(dt)
        mx.eval(x, w, ct)
        conv = lambda a, b: mx.conv2d(a, b, stride=1, padding=1)

        def fwd():
            mx.eval(conv(x, w))

        def both():
            out, grads = mx.vjp(lambda a, b: conv(a, b), [x, w], [ct])
            mx.eval(out, grads)

        for name, fn, mult in [("forward", fwd, 1), ("forward+backward", both, 3)]:
            for _ in range(2):
                fn()
            t = time.perf_counter()
            for _ in range(iters):
                fn()
            s = (time.perf_counter() - t) / iters
            print("mlx-%s/conv3x3/%s/%s %.3f ms %.2f TFLOP/s" % (dev, name, label, s * 1e3,
                                                                 mult * flop / s / 1e12))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("framework", choices=["torch", "mlx"])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--iters", type=int, default=None)
    a = ap.parse_args()
    if a.framework == "torch":
        torch_ref(a.batch, a.iters or 50)
    else:
        mlx_ref(a.batch, a.iters or 3)


if __name__ == "__main__":
    main()
