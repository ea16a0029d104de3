"""CPU reference timings with numpy (OpenBLAS) for the rows of `examples/bench.rs`.

Reads row names (`cpu/add/2^24/f32`, one a line, as `bench --list --device cpu` prints them)
from the files given or from stdin, and prints `name seconds` for each row numpy can do (the
file `bench --ref` reads). Random data, 3 input arrays cycled (as the bench does), median of
repeated calls after a warm-up. Rows numpy has no fair counterpart for (f16 matmul, probes with
offsets) are skipped.

    target/release/examples/bench --list --device cpu | python3 scripts/numpy_ref.py > ref.txt
"""
import fileinput
import time

import numpy as np

ROT = 3


def bench(fn, target=0.3):
    """Median seconds of fn(i) (i cycles the inputs) over enough calls to fill ~target s."""
    fn(0)
    t = time.perf_counter()
    fn(1)
    once = max(time.perf_counter() - t, 1e-7)
    reps = int(min(1000, max(3, target / once)))
    times = []
    for i in range(reps):
        t = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]


def parse_size(size):
    """`2^k` -> (2^k,), `RxC` -> (R, C), `d^3` -> (d,), `n` -> (n,)."""
    if size.endswith("^3"):
        return (int(size[:-2]),)
    if "^" in size:
        base, exp = size.split("^")
        return (int(base) ** int(exp),)
    return tuple(int(p) for p in size.split("x"))


def case(op, dims, dtype, rng):
    """The function fn(i) timed for one row, or None when numpy has no counterpart."""
    if dtype != "f32":
        return None

    def rot(shape):
        return [rng.random(shape, dtype=np.float32) * 2 - 1 for _ in range(ROT)]

    if op in ("add", "copy", "exp", "sum", "add_same"):
        x = rot(dims[0])
        return {
            "add": lambda i: np.add(x[i % ROT], x[(i + 1) % ROT]),
            "add_same": lambda i: np.add(x[i % ROT], x[i % ROT]),
            "copy": lambda i: x[i % ROT].copy(),
            "exp": lambda i: np.exp(x[i % ROT]),
            "sum": lambda i: x[i % ROT].sum(),
        }[op]
    if op in ("add_bcast", "rowsum", "softmax"):
        m, v = rot(dims), rot(dims[1])

        def softmax(a):
            e = np.exp(a - a.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)

        return {
            "add_bcast": lambda i: m[i % ROT] + v[i % ROT],
            "rowsum": lambda i: m[i % ROT].sum(axis=1),
            "softmax": lambda i: softmax(m[i % ROT]),
        }[op]
    if op == "copy_bcast":
        v = rot(dims[1])
        return lambda i: np.broadcast_to(v[i % ROT], dims).copy()
    if op == "matmul":
        d = dims[0]
        x = rot((d, d))
        return lambda i: x[i % ROT] @ x[(i + 1) % ROT]
    if op == "uniform":
        return lambda i: rng.random(dims[0], dtype=np.float32)
    if op == "chain":
        s = rot(dims[0])[0]

        def chain(i):
            x = s
            for _ in range(dims[1]):
                x = x + s
            return x

        return chain
    if op == "tiny":
        s = rot(1)[0]
        return lambda i: s + s
    return None


def main():
    rng = np.random.default_rng(0)
    for line in fileinput.input():
        name = line.strip()
        if not name or name.startswith("#"):
            continue
        device, op, size, dtype = name.split("/")
        if device != "cpu":
            continue
        dims = parse_size(size)
        fn = case(op, dims, dtype, rng)
        if fn is None:
            continue
        secs = bench(fn)
        if op == "chain":
            secs /= dims[1]
        print(f"{name} {secs:.9f}", flush=True)


if __name__ == "__main__":
    main()
