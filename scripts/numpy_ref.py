"""CPU reference timings with numpy (OpenBLAS) for the rows of `benches/ops.rs`.
Prints one `ref <op> <size> <seconds>` line per case (median of repeated runs, random data)."""
import time

import numpy as np


def bench(fn, target=0.3):
    fn()
    t = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t, 1e-6)
    reps = int(min(200, max(3, target / once)))
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]


def main():
    rng = np.random.default_rng(0)
    for n in (1 << 20, 1 << 24):
        a = rng.random(n, dtype=np.float32) - 0.5
        b = rng.random(n, dtype=np.float32) - 0.5
        e = n.bit_length() - 1
        print(f"ref add 2^{e} {bench(lambda: np.add(a, b)):.9f}")
        print(f"ref exp 2^{e} {bench(lambda: np.exp(a)):.9f}")
        print(f"ref sum 2^{e} {bench(lambda: a.sum()):.9f}")
    for d in (256, 1024, 2048):
        x = rng.random((d, d), dtype=np.float32)
        y = rng.random((d, d), dtype=np.float32)
        print(f"ref matmul {d}^3 {bench(lambda: x @ y):.9f}")


if __name__ == "__main__":
    main()
