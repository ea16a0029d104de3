"""Reference timings with torch on the same GPU (device machine): copy, add, exp, sum, row sums,
softmax, and matmul f32 (TF32 off) / f16. Prints one `ref <name> <seconds>` line per case."""
import sys
import time

import torch


def bench(fn, reps=50):
    fn()
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - t) / reps


def main():
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = "cuda"
    for n in (1 << 20, 1 << 24, 1 << 28):
        a = torch.rand(n, device=dev)
        b = torch.rand(n, device=dev)
        print(f"ref add 2^{n.bit_length() - 1} {bench(lambda: a + b):.9f}")
        print(f"ref exp 2^{n.bit_length() - 1} {bench(lambda: torch.exp(a)):.9f}")
        print(f"ref sum 2^{n.bit_length() - 1} {bench(lambda: a.sum()):.9f}")
        print(f"ref copy 2^{n.bit_length() - 1} {bench(lambda: a.clone()):.9f}")
    for d in (256, 1024, 4096):
        x = torch.rand(d, d, device=dev)
        y = torch.rand(d, d, device=dev)
        print(f"ref matmul {d}^3 {bench(lambda: x @ y, 20):.9f}")
        xh, yh = x.half(), y.half()
        print(f"ref matmul_f16 {d}^3 {bench(lambda: xh @ yh, 20):.9f}")
    r = 16384
    m = torch.rand(r, r, device=dev)
    v = torch.rand(r, device=dev)
    print(f"ref add_bcast 16384^2 {bench(lambda: m + v, 20):.9f}")
    print(f"ref rowsum 16384^2 {bench(lambda: m.sum(1), 20):.9f}")
    del m
    x = torch.rand(8192, 8192, device=dev)
    print(f"ref softmax 8192^2 {bench(lambda: torch.softmax(x, -1), 20):.9f}")
    y = torch.rand(8192, 8192, device=dev)
    print(f"ref matmul 8192^3 {bench(lambda: x @ y, 5):.9f}")
    del x, y
    n = 1 << 26
    print(f"ref uniform 2^26 {bench(lambda: torch.rand(n, device=dev)):.9f}")
    c = torch.ones(256, device=dev)

    def chain():
        x = c
        for _ in range(1000):
            x = x + c
        return x

    print(f"ref chain/op 256x1000 {bench(chain, 5) / 1000:.9f}")
    s = torch.rand(1, device=dev)
    print(f"ref tiny 1 {bench(lambda: (s + s).item(), 200):.9f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
