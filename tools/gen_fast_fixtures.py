#!/usr/bin/env python3
"""MLX fixtures for tests/fast_mlx.rs: mx.fast.rms_norm, layer_norm, rope and
scaled_dot_product_attention outputs, and vjps (gradient of sum(y * c)).

Usage: python3 tools/gen_fast_fixtures.py   (writes tests/fixtures/fast/fast.txt)
Format: as tools/gen_nn_fixtures.py: `case <name> <kind> k=v ...` then `arr <label> <dtype> (<shape>) : <hex bits>`,
written back to back: <dtype> is float32 (8 hex digits per value) or, for arrays of a
half-precision case dtype, float16 / bfloat16 (4 hex digits: the value's own 16 bits), which
keeps the file small.
Inputs are generated in the case's dtype; outputs are stored in theirs (f32 gradients as f32).
"""
import os
import mlx.core as mx
import numpy as np

rng = np.random.default_rng(13)
lines = [f"# mlx_version: {mx.__version__}", "# generator: tools/gen_fast_fixtures.py"]
DT = {"f32": mx.float32, "f16": mx.float16, "bf16": mx.bfloat16}


def arr(label, a):
    shape = "(" + ",".join(str(d) for d in a.shape) + ")"
    if isinstance(a, mx.array) and a.dtype == mx.float16:
        bits = np.array(a, dtype=np.float16).view(np.uint16).reshape(-1)
        lines.append(f"arr {label} float16 {shape} : " + "".join(f"{b:04x}" for b in bits))
        return
    if isinstance(a, mx.array) and a.dtype == mx.bfloat16:
        # A bfloat16 is the top half of the float32 of the same value.
        bits = np.array(a.astype(mx.float32), dtype=np.float32).view(np.uint32).reshape(-1) >> 16
        lines.append(f"arr {label} bfloat16 {shape} : " + "".join(f"{b:04x}" for b in bits))
        return
    a = np.array(a.astype(mx.float32) if isinstance(a, mx.array) else a, dtype=np.float32)
    lines.append(f"arr {label} float32 {shape} : " + "".join(f"{b:08x}" for b in a.view(np.uint32).reshape(-1)))


def rnd(shape, dt, scale=1.0):
    return mx.array((rng.standard_normal(shape) * scale).astype(np.float32)).astype(DT[dt])


def case(name, kind, f, inputs, **kw):
    lines.append(f"case {name} {kind} " + " ".join(f"{k}={v}" for k, v in kw.items()))
    for k, v in inputs.items():
        if v is not None:
            arr(k, v)
    keys = [k for k, v in inputs.items() if v is not None and k != "mask"]
    y = f(*[inputs[k] for k in keys])
    arr("y", y)
    # The cotangent is cos(0, 1, 2, ...) in y's shape (the test makes the same).
    c = mx.array(np.cos(np.arange(y.size)).astype(np.float32).reshape(y.shape))
    if kw.get("dtype") == "f32":
        _, g = mx.vjp(lambda *a: [f(*a)], [inputs[k] for k in keys], [c])
        for k, gi in zip(keys, g):
            arr("g" + k, gi)


for dt in ["f32", "f16", "bf16"]:
    for n in [1, 7, 33]:
        for hw in [0, 1]:
            x, w = rnd((2, n), dt), (rnd((n,), dt) if hw else None)
            case(f"rms_{dt}_{n}_{hw}", "rms_norm", lambda x, *w: mx.fast.rms_norm(x, w[0] if w else None, 1e-5),
                 {"x": x, "w": w}, dtype=dt, eps=1e-5)
            for hb in [0, 1]:
                b = rnd((n,), dt) if hb else None
                def ln(x, *p, hw=hw, hb=hb):
                    return mx.fast.layer_norm(x, p[0] if hw else None, p[-1] if hb else None, 1e-5)
                case(f"ln_{dt}_{n}_{hw}{hb}", "layer_norm", ln, {"x": x, "w": w, "b": b}, dtype=dt, eps=1e-5, hw=hw, hb=hb)
for dt in ["f32", "f16", "bf16"]:
    for trad in [0, 1]:
        for (D, dims, base, scale, off, fr) in [(8, 8, 10000.0, 1.0, 0, 0), (16, 8, 500.0, 0.5, 3, 0), (12, 12, 0, 1.0, 7, 1)]:
            x = rnd((2, 3, 5, D), dt)
            freqs = mx.array(np.exp(rng.uniform(0, 3, dims // 2)).astype(np.float32)) if fr else None
            f = lambda x, b=base, fr=freqs, dims=dims, trad=trad, scale=scale, off=off: mx.fast.rope(
                x, dims, traditional=bool(trad), base=None if fr is not None else b, scale=scale, offset=off, freqs=fr)
            case(f"rope_{dt}_{trad}_{D}_{dims}_{fr}", "rope", f, {"x": x, "freqs": freqs} if fr else {"x": x},
                 dtype=dt, dims=dims, trad=trad, base=base, scale=scale, offset=off)
for dt in ["f32", "f16", "bf16"]:
    for (B, hq, hk, lq, lk, D, mask) in [(1, 2, 2, 5, 5, 32, "none"), (2, 4, 2, 3, 7, 64, "causal"),
                                          (1, 2, 1, 6, 4, 80, "causal"), (1, 2, 2, 4, 9, 128, "bool"),
                                          (1, 4, 4, 5, 5, 32, "add")]:
        if D == 128 and dt != "f32":
            continue
        q, k, v = rnd((B, hq, lq, D), dt), rnd((B, hk, lk, D), dt), rnd((B, hk, lk, D), dt)
        m = None
        if mask == "bool":
            m = mx.array(rng.uniform(size=(lq, lk)) > 0.3)
        if mask == "add":
            m = rnd((1, hq, lq, lk), dt)
        sc = 1.0 / np.sqrt(D)
        mm = "causal" if mask == "causal" else m
        f = lambda q, k, v, mm=mm, sc=sc: mx.fast.scaled_dot_product_attention(q, k, v, scale=sc, mask=mm)
        ins = {"q": q, "k": k, "v": v}
        if m is not None:
            ins["mask"] = m
        case(f"sdpa_{dt}_{hq}_{hk}_{lq}_{lk}_{D}_{mask}", "sdpa", f, ins, dtype=dt, scale=repr(float(sc)), mask=mask)

os.makedirs("tests/fixtures/fast", exist_ok=True)
open("tests/fixtures/fast/fast.txt", "w").write("\n".join(lines) + "\n")
