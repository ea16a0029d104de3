#!/usr/bin/env python3
"""The reference for examples/mnist.rs: the same MLP or CNN, batch, optimizer (Adam, lr 1e-3,
MLX's defaults: no bias correction) and data (the IDX files of examples/mnist/digits/ or
--data DIR), trained in MLX (CPU here) or PyTorch (the GPU machine), timing each epoch.

Usage:  python3 scripts/mnist_ref.py --framework mlx|torch [--model mlp|cnn] [--epochs N]
                                      [--device cpu|cuda] [--data DIR]
Prints one line per epoch (`epoch k: loss, test accuracy, ms`) and the median epoch time.
"""

import argparse
import gzip
import os
import struct
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def idx(path, ndim):
    raw = gzip.open(path + ".gz").read() if os.path.exists(path + ".gz") else open(path, "rb").read()
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw[4 + 4 * ndim:], np.uint8).reshape(dims)


def load(d, prefix):
    x = idx(os.path.join(d, f"{prefix}-images-idx3-ubyte"), 3).astype(np.float32)
    x /= 16.0 if x.max() <= 16 else 255.0
    y = idx(os.path.join(d, f"{prefix}-labels-idx1-ubyte"), 1).astype(np.int32)
    return x[..., None], y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--framework", default="mlx")
    ap.add_argument("--model", default="mlp")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--data", default=os.path.join(HERE, "..", "examples", "mnist", "digits"))
    a = ap.parse_args()
    xtr, ytr = load(a.data, "train")
    xte, yte = load(a.data, "t10k")
    rows, cols = xtr.shape[1], xtr.shape[2]
    hidden = 128 if rows * cols <= 64 else 512
    flat = (rows // 4) * (cols // 4) * 32
    rng = np.random.default_rng(0)
    times = []
    if a.framework == "mlx":
        import mlx.core as mx
        import mlx.nn as nn
        import mlx.optimizers as optim
        mx.set_default_device(mx.cpu if a.device == "cpu" else mx.gpu)

        class Mlp(nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = [nn.Linear(rows * cols, hidden), nn.Linear(hidden, hidden), nn.Linear(hidden, 10)]

            def __call__(self, x):
                x = x.reshape(x.shape[0], -1)
                for l in self.layers[:-1]:
                    x = nn.relu(l(x))
                return self.layers[-1](x)

        class Cnn(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
                self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
                self.fc1 = nn.Linear(flat, 128)
                self.fc2 = nn.Linear(128, 10)
                self.pool = nn.MaxPool2d(2)

            def __call__(self, x):
                x = self.pool(nn.relu(self.conv1(x)))
                x = self.pool(nn.relu(self.conv2(x)))
                return self.fc2(nn.relu(self.fc1(x.reshape(x.shape[0], -1))))

        model = Mlp() if a.model == "mlp" else Cnn()
        opt = optim.Adam(1e-3)
        step = nn.value_and_grad(model, lambda m, x, y: nn.losses.cross_entropy(m(x), y, reduction="mean"))
        Xtr, Ytr, Xte, Yte = map(mx.array, (xtr, ytr, xte, yte))
        for e in range(a.epochs):
            perm = mx.array(rng.permutation(len(ytr)).astype(np.uint32))
            t = time.perf_counter()
            total = 0.0
            for s in range(0, len(ytr), a.batch):
                ids = perm[s:s + a.batch]
                loss, g = step(model, Xtr[ids], Ytr[ids])
                opt.update(model, g)
                mx.eval(model.parameters(), opt.state, loss)
                total += loss.item()
            ms = (time.perf_counter() - t) * 1e3
            acc = (mx.argmax(model(Xte), axis=1) == Yte).mean().item()
            times.append(ms)
            print(f"epoch {e + 1}: loss {total / -(-len(ytr) // a.batch):.4f}, test accuracy {acc:.4f}, {ms:.1f} ms")
    else:
        import torch
        import torch.nn as tnn
        import torch.nn.functional as F
        dev = torch.device(a.device)
        if a.model == "mlp":
            model = tnn.Sequential(tnn.Flatten(), tnn.Linear(rows * cols, hidden), tnn.ReLU(),
                                   tnn.Linear(hidden, hidden), tnn.ReLU(), tnn.Linear(hidden, 10))
        else:
            model = tnn.Sequential(tnn.Conv2d(1, 16, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                                   tnn.Conv2d(16, 32, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                                   tnn.Flatten(), tnn.Linear(flat, 128), tnn.ReLU(), tnn.Linear(128, 10))
        model = model.to(dev)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        layout = (lambda x: x.permute(0, 3, 1, 2).contiguous())
        Xtr, Xte = layout(torch.tensor(xtr)).to(dev), layout(torch.tensor(xte)).to(dev)
        Ytr, Yte = torch.tensor(ytr, dtype=torch.long).to(dev), torch.tensor(yte, dtype=torch.long).to(dev)
        for e in range(a.epochs):
            perm = torch.tensor(rng.permutation(len(ytr)), device=dev)
            if dev.type == "cuda":
                torch.cuda.synchronize()
            t = time.perf_counter()
            total = torch.zeros((), device=dev)
            for s in range(0, len(ytr), a.batch):
                ids = perm[s:s + a.batch]
                loss = F.cross_entropy(model(Xtr[ids]), Ytr[ids])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += loss.detach()
            if dev.type == "cuda":
                torch.cuda.synchronize()
            ms = (time.perf_counter() - t) * 1e3
            with torch.no_grad():
                acc = (model(Xte).argmax(1) == Yte).float().mean().item()
            times.append(ms)
            print(f"epoch {e + 1}: loss {total.item() / -(-len(ytr) // a.batch):.4f}, test accuracy {acc:.4f}, {ms:.1f} ms")
    print(f"median epoch: {sorted(times)[len(times) // 2]:.1f} ms ({a.framework} {a.model} on {a.device})")


if __name__ == "__main__":
    main()
