"""GPU reference timings with torch (CUDA, on the device machine) for the rows of `examples/bench.rs`.

Reads row names (`gpu/add/2^28/f32`, one a line, as `bench --list --device gpu --large` prints
them) from the files given or from stdin, and prints `name seconds` for each (the file
`bench --ref` reads); its `gpu/copy/...` rows (`x.clone()`) give the device copy bandwidth the
`% copy` column divides by. f32 matmul with TF32 off. Random data, 3 input arrays cycled (as the
bench does); after a warm-up, many calls between two `torch.cuda.synchronize()`, per call.

    .device/bench --list --device gpu --large | python3 scripts/torch_ref.py > torch.txt
"""
import fileinput
import time

import torch

ROT = 3
DEV = "cuda"
OFFSETS = {"add_off1M": 1 << 18, "add_off4k": 1088}


def bench(fn, target=0.3):
    """Seconds per fn(i) (i cycles the inputs): calls between two synchronizes filling ~target s."""
    fn(0)
    torch.cuda.synchronize()
    t = time.perf_counter()
    fn(1)
    torch.cuda.synchronize()
    once = max(time.perf_counter() - t, 1e-7)
    reps = int(min(1000, max(5, target / once)))
    t = time.perf_counter()
    for i in range(reps):
        fn(i)
    torch.cuda.synchronize()
    return (time.perf_counter() - t) / reps


def parse_size(size):
    """`2^k` -> (2^k,), `RxC` -> (R, C), `d^3` -> (d,), `n` -> (n,)."""
    if size.endswith("^3"):
        return (int(size[:-2]),)
    if "^" in size:
        base, exp = size.split("^")
        return (int(base) ** int(exp),)
    return tuple(int(p) for p in size.split("x"))


def case(op, dims, dtype):
    """The function fn(i) timed for one row, or None when torch has no counterpart."""
    dt = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}.get(dtype)
    if dt is None:
        return None

    def rot(shape):
        return [(torch.rand(shape, device=DEV) * 2 - 1).to(dt) for _ in range(ROT)]

    if op in ("add", "copy", "exp", "sum", "add_same"):
        x = rot(dims[0])
        return {
            "add": lambda i: x[i % ROT] + x[(i + 1) % ROT],
            "add_same": lambda i: x[i % ROT] + x[i % ROT],
            "copy": lambda i: x[i % ROT].clone(),
            "exp": lambda i: torch.exp(x[i % ROT]),
            "sum": lambda i: x[i % ROT].sum(),
        }[op]
    if op in OFFSETS:
        n, shift = dims[0], OFFSETS[op]
        x, wide = rot(n), rot(n + shift)
        return lambda i: x[i % ROT] + wide[i % ROT][shift:]
    if op in ("add_bcast", "rowsum", "softmax"):
        m, v = rot(dims), rot(dims[1])
        return {
            "add_bcast": lambda i: m[i % ROT] + v[i % ROT],
            "rowsum": lambda i: m[i % ROT].sum(1),
            "softmax": lambda i: torch.softmax(m[i % ROT], -1),
        }[op]
    if op == "copy_bcast":
        v = rot(dims[1])
        return lambda i: v[i % ROT].expand(*dims).contiguous()
    if op == "matmul":
        d = dims[0]
        x = rot((d, d))
        return lambda i: x[i % ROT] @ x[(i + 1) % ROT]
    if op == "uniform":
        return lambda i: torch.rand(dims[0], device=DEV, dtype=dt)
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
        return lambda i: (s + s).item()
    return None


def main():
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    names = []
    for line in fileinput.input():
        name = line.strip()
        if name and not name.startswith("#") and name.startswith("gpu/"):
            names.append(name)
    for name in names:
        _, op, size, dtype = name.split("/")
        dims = parse_size(size)
        fn = case(op, dims, dtype)
        if fn is None:
            continue
        secs = bench(fn)
        if op == "chain":
            secs /= dims[1]
        print(f"{name} {secs:.9f}", flush=True)
        del fn
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
