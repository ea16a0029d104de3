#!/usr/bin/env python3
"""Loads the files wmx wrote (tests/fixtures/io/wmx, kept byte-identical to what wmx writes by
tests/io.rs) in numpy, MLX and the python safetensors package, and checks every value against
the arrays of `wmx_arrays` in tests/io.rs, restated here.

Run from the repository root: python3 tools/check_io_fixtures.py   (exit status 1 on a mismatch)
"""
import os
import sys

import mlx.core as mx
import numpy as np

DIR = os.path.join("tests", "fixtures", "io", "wmx")


def bf16(values):
    """float32 values rounded to bfloat16 (round to nearest even), as float32."""
    bits = np.array(values, dtype=np.float32).view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16 << 16
    return bits.astype(np.uint32).view(np.float32)


EXPECTED = {
    "f32": (np.float32, np.array([[-0.5, -0.25, 0.0], [0.25, 0.5, 0.75]], np.float32)),
    "f32_t": (np.float32, np.arange(12, dtype=np.float32).reshape(3, 4).T),
    "i32": (np.int32, np.array([-3, -1, 0, 2, 2**31 - 1, -(2**31)], np.int32)),
    "u32": (np.uint32, np.array([0, 1, 2**32 - 1], np.uint32)),
    "u8": (np.uint8, np.array([0, 7, 255], np.uint8)),
    "bool": (np.bool_, np.array([[True, False], [True, True]])),
    "f16": (np.float16, np.array([0.5, -1.5, 65504, 2.0**-10], np.float16)),
    "bf16": ("bfloat16", bf16([1.0, -2.5, 3.0e38, 0.0078125]).reshape(2, 2)),
    "scalar": (np.float32, np.array(3.25, np.float32)),
    "empty": (np.float32, np.zeros((0, 3), np.float32)),
}
MX = {np.float32: mx.float32, np.int32: mx.int32, np.uint32: mx.uint32, np.uint8: mx.uint8,
      np.bool_: mx.bool_, np.float16: mx.float16, "bfloat16": mx.bfloat16}

failures = []
checks = 0


def check(where, name, got_dtype_ok, got, want):
    global checks
    checks += 1
    got = np.asarray(got)
    if not got_dtype_ok or got.shape != want.shape or not np.array_equal(got, want):
        failures.append(f"{where} {name}: dtype ok={got_dtype_ok} shape {got.shape} vs "
                        f"{want.shape}\n  got {got.reshape(-1)[:8]}\n want {want.reshape(-1)[:8]}")


def from_numpy(name, a):
    """numpy's view of a wmx array: bfloat16 is MLX's '<V2', two raw bytes per element."""
    dtype, want = EXPECTED[name]
    if dtype == "bfloat16":
        ok = a.dtype == np.dtype("V2")
        as_f32 = (a.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
        return ok, as_f32
    return a.dtype == np.dtype(dtype), a


def from_mlx(name, a):
    dtype, want = EXPECTED[name]
    ok = a.dtype == MX[dtype]
    return ok, np.array(a.astype(mx.float32) if dtype == "bfloat16" else a)


def main():
    for name in EXPECTED:
        path = os.path.join(DIR, name + ".npy")
        check("numpy np.load", name, *from_numpy(name, np.load(path)), EXPECTED[name][1])
        check("mlx mx.load", name, *from_mlx(name, mx.load(path)), EXPECTED[name][1])
    for file in ("all.npz", "all_compressed.npz"):
        path = os.path.join(DIR, file)
        with np.load(path) as z:
            assert sorted(z.files) == sorted(EXPECTED), (file, z.files)
            for name in EXPECTED:
                check(f"numpy np.load {file}", name, *from_numpy(name, z[name]), EXPECTED[name][1])
        loaded = mx.load(path)
        assert sorted(loaded) == sorted(EXPECTED), (file, list(loaded))
        for name in EXPECTED:
            check(f"mlx mx.load {file}", name, *from_mlx(name, loaded[name]), EXPECTED[name][1])
    path = os.path.join(DIR, "all.safetensors")
    arrays, meta = mx.load(path, return_metadata=True)
    if meta != {"format": "wmx"}:
        failures.append(f"mlx safetensors metadata {meta}")
    for name in EXPECTED:
        check("mlx mx.load all.safetensors", name, *from_mlx(name, arrays[name]), EXPECTED[name][1])
    try:
        from safetensors import safe_open
    except ImportError:
        print("safetensors (python) not installed: that check skipped")
    else:
        with safe_open(path, framework="numpy") as f:
            if f.metadata() != {"format": "wmx"}:
                failures.append(f"safetensors metadata {f.metadata()}")
        # numpy has no bfloat16: the package refuses that tensor, the others must load.
        header_names = [n for n in EXPECTED if n != "bf16"]
        with safe_open(path, framework="numpy") as f:
            for name in header_names:
                a = f.get_tensor(name)
                check("python safetensors", name, *from_numpy(name, a), EXPECTED[name][1])
    for f in failures:
        print("FAIL", f)
    print(f"{checks} checks, {len(failures)} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
