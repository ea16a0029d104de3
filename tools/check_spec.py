#!/usr/bin/env python3
"""Independent re-implementation of tools/RANDOM_SPEC.md, checked bit-exactly
against tests/fixtures/random/mlx_random.txt.

Uses only numpy + the C math library through ctypes (logf, log1pf, fmaf are the
exact functions MLX's x86-64/Linux CPU backend calls).  mlx is NOT imported.

Usage: python3 tools/check_spec.py [fixture_path]
Exit status 0 iff every checked case matched.
"""

import ctypes
import ctypes.util
import os
import sys
from collections import defaultdict

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_FIX = os.path.join(os.path.dirname(HERE), "tests", "fixtures", "random", "mlx_random.txt")

libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
for _n in ("logf", "log1pf"):
    getattr(libm, _n).restype = ctypes.c_float
    getattr(libm, _n).argtypes = [ctypes.c_float]
libm.fmaf.restype = ctypes.c_float
libm.fmaf.argtypes = [ctypes.c_float, ctypes.c_float, ctypes.c_float]

F32 = np.float32
U32 = np.uint32

# --------------------------------------------------------------- threefry


def rotl(x, r):
    return (x << U32(r)) | (x >> U32(32 - r))


def threefry2x32(k0, k1, c0, c1):
    """Threefry-2x32, 20 rounds. k0,k1 scalars; c0,c1 uint32 arrays."""
    with np.errstate(over="ignore"):
        k0, k1 = U32(k0), U32(k1)
        ks = [k0, k1, U32(k0 ^ k1 ^ U32(0x1BD11BDA))]
        rot = [(13, 15, 26, 6), (17, 29, 16, 24)]
        x0 = (np.asarray(c0, dtype=U32) + ks[0]).astype(U32)
        x1 = (np.asarray(c1, dtype=U32) + ks[1]).astype(U32)
        for i in range(5):
            for r in rot[i % 2]:
                x0 = (x0 + x1).astype(U32)
                x1 = rotl(x1, r)
                x1 = x1 ^ x0
            x0 = (x0 + ks[(i + 1) % 3]).astype(U32)
            x1 = (x1 + ks[(i + 2) % 3] + U32(i + 1)).astype(U32)
        return x0, x1


def bits_one_key(k0, k1, nbytes):
    """Raw byte stream (little endian) for one key and `nbytes` output bytes."""
    W = (nbytes + 3) // 4          # 32-bit words needed
    if W == 0:
        return b""
    H = (W + 1) // 2               # = ceil(W/2): counter offset of 2nd half
    half = W // 2                  # number of full counter pairs
    words = np.zeros(W, dtype=U32)
    j = np.arange(half, dtype=U32)
    a, b = threefry2x32(k0, k1, j, j + U32(H))
    words[:half] = a
    words[H:H + half] = b
    if W % 2 == 1:                 # middle word: counter (half, 0), 1st output
        a, _ = threefry2x32(k0, k1, np.array([half], dtype=U32), np.array([0], dtype=U32))
        words[half] = a[0]
    return words.astype("<u4").tobytes()[:nbytes]


def bits(key, shape, width):
    """key: array (..., 2) uint32. Output shape key.shape[:-1] + shape."""
    key = np.asarray(key, dtype=U32)
    n = int(np.prod(shape)) if len(shape) else 1
    dt = {1: "<u1", 2: "<u2", 4: "<u4"}[width]
    ks = key.reshape(-1, 2)
    raw = b"".join(bits_one_key(k[0], k[1], n * width) for k in ks)
    return np.frombuffer(raw, dtype=dt).reshape(tuple(key.shape[:-1]) + tuple(shape))


def key_from_seed(seed):
    return np.array([(seed >> 32) & 0xFFFFFFFF, seed & 0xFFFFFFFF], dtype=U32)


def split(key, num=2):
    return bits(key, [num, 2], 4)

# ------------------------------------------------------------ float helpers


def f32_to_bf16_bits(x):
    u = np.asarray(x, dtype=F32).view(U32).astype(np.uint64)
    r = ((u + ((u >> 16) & 1) + 0x7FFF) >> 16).astype(np.uint16)
    return np.where(np.isnan(np.asarray(x, dtype=F32)), np.uint16(0x7FC0), r)


def bf16_bits_to_f32(b):
    return (np.asarray(b, dtype=np.uint32) << 16).astype(U32).view(F32)


def round_to(x, dtype):
    """Round float32 values to dtype; return float32 holding the rounded value."""
    x = np.asarray(x, dtype=F32)
    if dtype == "float32":
        return x
    if dtype == "float16":
        return x.astype(np.float16).astype(F32)
    if dtype == "bfloat16":
        return bf16_bits_to_f32(f32_to_bf16_bits(x))
    raise ValueError(dtype)


def storage_hex(x, dtype):
    x = np.asarray(x)
    if dtype == "float32":
        v = x.astype(F32).view(U32)
        return [format(int(t), "08x") for t in v.reshape(-1)]
    if dtype == "float16":
        v = x.astype(F32).astype(np.float16).view(np.uint16)
        return [format(int(t), "04x") for t in v.reshape(-1)]
    if dtype == "bfloat16":
        v = f32_to_bf16_bits(x.astype(F32))
        return [format(int(t), "04x") for t in v.reshape(-1)]
    if dtype in ("uint32", "int32"):
        return [format(int(t) & 0xFFFFFFFF, "08x") for t in x.reshape(-1)]
    if dtype == "uint16":
        return [format(int(t), "04x") for t in x.reshape(-1)]
    if dtype in ("uint8", "bool"):
        return [format(int(t) & 0xFF, "02x") for t in x.reshape(-1)]
    if dtype == "int64":
        return [format(int(t) & 0xFFFFFFFFFFFFFFFF, "016x") for t in x.reshape(-1)]
    raise ValueError(dtype)


BELOW_ONE = {"float32": F32(np.nextafter(F32(1), F32(0))),
             "float16": F32(1 - 2.0 ** -11), "bfloat16": F32(1 - 2.0 ** -8)}


def uniform01_f32(key, shape, dtype):
    """bits -> float32 in [0,1), clamped to the largest dtype value below 1 (still f32)."""
    b = bits(key, shape, 4)
    u = b.astype(F32) / F32(4294967296.0)         # uint32 -> f32 (RNE), / 2^32 exact
    return np.minimum(u, BELOW_ONE[dtype]).astype(F32)


def uniform(key, shape, dtype, low, high):
    """low/high: float32 arrays/scalars holding values already cast to dtype."""
    lo = round_to(low, dtype)
    hi = round_to(high, dtype)
    rng = round_to(hi - lo, dtype)
    u = round_to(uniform01_f32(key, shape, dtype), dtype)
    return round_to(round_to(rng * u, dtype) + lo, dtype)


fmaf = libm.fmaf


def erfinv_f32(a):
    a = F32(a)
    t = F32(fmaf(a, F32(0.0) - a, 1.0))
    t = F32(libm.logf(t))
    if abs(t) > F32(6.125):
        cs = [3.03697567e-10, 2.93243101e-8, 1.22150334e-6, 2.84108955e-5, 3.93552968e-4,
              3.02698812e-3, 4.83185798e-3, -2.64646143e-1, 8.40016484e-1]
    else:
        cs = [5.43877832e-9, 1.43285448e-7, 1.22774793e-6, 1.12963626e-7, -5.61530760e-5,
              -1.47697632e-4, 2.31468678e-3, 1.15392581e-2, -2.32015476e-1, 8.86226892e-1]
    p = F32(cs[0])
    for c in cs[1:]:
        p = F32(fmaf(p, t, F32(c)))
    return F32(a * p)


def mlx_exp_f32(x):
    x = F32(x)
    if np.isnan(x):
        return x
    if x > F32(88.0):
        return F32(np.inf)
    if x < F32(-88.0):
        return F32(0.0)
    y = F32(x * F32(1.442695))
    ipart = F32(np.floor(float(y) + 0.5))       # NB: x + 0.5 is evaluated in double
    fpart = F32(y - ipart)
    p = F32(1.535336188319500e-4)
    for c in (1.339887440266574e-3, 9.618437357674640e-3, 5.550332471162809e-2,
              2.402264791363012e-1, 6.931472028550421e-1, 1.0):
        p = F32(fmaf(p, fpart, F32(c)))
    two = np.array([(int(ipart) + 127) << 23], dtype=np.int64).astype(np.uint32).view(F32)[0]
    return F32(two * p)


def erf_f32(x):
    v = F32(x)
    t = F32(F32(1.0) / F32(fmaf(F32(0.3275911), abs(v), 1.0)))
    r = F32(fmaf(F32(1.061405429), t, F32(-1.453152027)))
    for c in (1.421413741, -0.284496736, 0.254829592):
        r = F32(fmaf(r, t, F32(c)))
    e = F32(-mlx_exp_f32(F32(-v) * v))
    return F32(fmaf(F32(e * t), r, 1.0))


def vec(f, x):
    x = np.asarray(x, dtype=F32)
    return np.array([f(v) for v in x.reshape(-1)], dtype=F32).reshape(x.shape)


def erf_dtype(x, dtype):
    res = round_to(vec(erf_f32, x), dtype)
    return np.where(np.asarray(x) > 0, res, -res).astype(F32)

# ----------------------------------------------------------------- ops


SQRT2 = 1.4142135623730951


def op_normal(key, shape, dtype, loc=None, scale=None):
    lo = F32(np.nextafter(F32(-1), F32(0)))
    s = uniform(key, shape, "float32", lo, F32(1.0))
    sc = round_to(F32(SQRT2), dtype)
    if scale is not None:
        sc = round_to(sc * round_to(F32(scale), dtype), dtype)
    e = round_to(vec(erfinv_f32, s), dtype)
    out = round_to(sc * e, dtype)
    if loc is not None:
        out = round_to(round_to(F32(loc), dtype) + out, dtype)
    return out


def op_truncnorm(key, shape, dtype, lower, upper):
    sq = round_to(F32(SQRT2), dtype)
    lt, ut = round_to(lower, dtype), round_to(upper, dtype)
    a = erf_dtype(round_to(lt / sq, dtype), dtype)
    b = erf_dtype(round_to(ut / sq, dtype), dtype)
    if shape is None:
        shape = list(np.broadcast_shapes(np.shape(lt), np.shape(ut)))
    u = uniform(key, shape, dtype, a, b)
    out = round_to(sq * round_to(vec(erfinv_f32, u), dtype), dtype)
    out = np.minimum(ut, out)
    return np.maximum(out, lt).astype(F32)


def op_gumbel(key, shape, dtype):
    u = uniform(key, shape, dtype, F32(0), F32(1))
    with np.errstate(divide="ignore"):
        l1 = round_to(vec(libm.logf, u), dtype)
        l2 = round_to(vec(libm.logf, -l1), dtype)
    return (-l2).astype(F32)


def op_laplace(key, shape, dtype, loc=0.0, scale=1.0):
    lo = F32(np.nextafter(F32(-1), F32(0)))
    s = uniform(key, shape, "float32", lo, F32(1.0))
    lg = vec(libm.log1pf, F32(-1.0) * np.abs(s))
    out = round_to(np.sign(s).astype(F32) * lg, dtype)
    if scale != 1.0:
        out = round_to(round_to(F32(scale), dtype) * out, dtype)
    if loc != 0.0:
        out = round_to(round_to(F32(loc), dtype) + out, dtype)
    return out


def f32_to_int(x, dtype):
    x = np.asarray(x, dtype=F32)
    if dtype == "int32":
        ok = (x >= -2.0 ** 31) & (x < 2.0 ** 31)
        return np.where(ok, np.where(ok, x, 0).astype(np.int64), -2 ** 31).astype(np.int64)
    if dtype == "int64":
        return x.astype(np.int64)
    if dtype in ("uint8", "uint32"):
        bitsz = 8 if dtype == "uint8" else 32
        return (x.astype(np.int64) & ((1 << bitsz) - 1)).astype(np.int64)
    if dtype == "bool":
        return (x != 0).astype(np.int64)
    raise ValueError(dtype)


def int_to_int(x, dtype):
    x = np.asarray(x, dtype=np.int64)
    if dtype == "bool":
        return (x != 0).astype(np.int64)
    if dtype == "int64":
        return x
    nb = {"int32": 32, "uint32": 32, "uint8": 8}[dtype]
    m = x & ((1 << nb) - 1)
    if dtype == "int32":
        m = np.where(m >= 2 ** 31, m - 2 ** 32, m)
    return m


def op_randint(key, shape, dtype, low, high):
    low = np.asarray(low, dtype=np.int64)
    high = np.asarray(high, dtype=np.int64)
    u = uniform(key, shape, "float32", low.astype(F32), high.astype(F32))
    out = f32_to_int(np.floor(u), dtype)
    hi = int_to_int(high - 1, dtype)      # integer casts, no float round trip
    lo = int_to_int(low, dtype)
    return np.maximum(np.minimum(out, hi), lo)


def op_bernoulli(key, shape, p):
    p = np.asarray(p, dtype=F32)
    if shape is None:
        shape = list(p.shape)
    upper = F32(4294967808.0)
    b = bits(key, shape, 4).astype(F32)
    return (b < (p * upper).astype(F32)).astype(np.int64)


def op_permutation_n(key, n):
    b = bits(key, [n], 4)
    return np.argsort(b, kind="stable").astype(np.int64)


def op_categorical(key, logits, axis=-1, shape=None, num_samples=None):
    logits = np.asarray(logits, dtype=F32)
    nd = logits.ndim
    axis = axis + nd if axis < 0 else axis
    if num_samples is not None:
        logits = logits[..., None]
        shp = list(logits.shape)
        del shp[axis]
        shp[-1] = num_samples
        shape = shp
    elif shape is None:
        shape = list(logits.shape)
        del shape[axis]
    n = logits.shape[axis]
    if n > 0 and logits.size == n and len(shape) > 0:
        # inverse-CDF path
        x = logits.reshape(n)
        m = x.max()
        if np.isinf(m):
            w = (x == m).astype(F32)
        else:
            w = vec(mlx_exp_f32, (x - m).astype(F32))
        cdf = np.zeros(n, dtype=F32)
        acc = F32(0)
        for i in range(n):
            cdf[i] = acc
            acc = F32(acc + w[i])
        tot = acc
        u = (uniform(key, shape, "float32", F32(0), F32(1)) * tot).astype(F32)
        idx = np.searchsorted(cdf, u, side="right").astype(np.int64) - 1
        return idx
    gshape = list(shape)
    offset = axis + len(shape) - logits.ndim + 1
    gshape.insert(offset, logits.shape[axis])
    g = op_gumbel(key, gshape, "float32")
    return np.argmax((g + logits).astype(F32), axis=offset).astype(np.int64)

# ---------------------------------------------------------------- fixtures


def parse_params(s):
    d = {}
    if s:
        for kv in s.split(";"):
            k, v = kv.split("=", 1)
            d[k] = v
    return d


def parse_shape(s):
    if s in ("", "scalar"):
        return []
    return [int(x) for x in s.split(",")]


def arg(d, name):
    """Return the argument as numpy array (value cast to its dtype) or None."""
    if name not in d:
        return None
    vals = [float(v) for v in d[name].split(",")]
    shp = parse_shape(d.get(name + "_shape", "scalar"))
    dt = d.get(name + "_dtype", "float32")
    if dt in ("int32", "int64", "uint32"):
        return np.array(vals, dtype=np.int64).reshape(shp)
    return round_to(np.array(vals, dtype=F32), dt).reshape(shp)


def key_of(d):
    if "keys" in d:
        w = [int(x, 16) for x in d["keys"].split(",")]
        return np.array(w, dtype=U32).reshape(parse_shape(d["key_shape"]))
    return np.array([int(x, 16) for x in d["key"].split(",")], dtype=U32)


def run_case(op, d, dtype, shape):
    """Return list of hex strings, or None if the case is not covered here."""
    if op == "key":
        return storage_hex(key_from_seed(int(d["seed"])), "uint32")
    if "global_seed" in d:
        state = key_from_seed(int(d["global_seed"]))
        call = int(d["call"])
        recipe = d["recipe"]
        for _ in range(call + 1):
            ks = split(state)
            state, sub = ks[0], ks[1]
        if op == "global_key":
            return storage_hex(sub, "uint32")
        calls = {"uu": [("uniform", [3]), ("uniform", [3])],
                 "unu": [("uniform", [2, 3]), ("normal", [4]), ("uniform", [])]}[recipe]
        cop, cshape = calls[call]
        assert cop == op
        if op == "uniform":
            return storage_hex(uniform(sub, cshape, "float32", F32(0), F32(1)), dtype)
        return storage_hex(op_normal(sub, cshape, "float32"), dtype)
    key = key_of(d)
    sh = parse_shape(d["shape"]) if "shape" in d else None
    if op == "split":
        num = int(d.get("num", 2))
        if key.ndim == 2:
            return storage_hex(np.stack([split(k, num) for k in key]), "uint32")
        return storage_hex(split(key, num), "uint32")
    if op == "bits":
        return storage_hex(bits(key, sh, int(d["width"])), dtype)
    if op == "uniform":
        lo = arg(d, "low")
        hi = arg(d, "high")
        lo = F32(0) if lo is None else lo.astype(F32)
        hi = F32(1) if hi is None else hi.astype(F32)
        if key.ndim == 2:
            return storage_hex(np.stack([uniform(k, sh, dtype, lo, hi) for k in key]), dtype)
        return storage_hex(uniform(key, sh, dtype, lo, hi), dtype)
    if op == "normal":
        loc = float(d["loc"]) if "loc" in d else None
        scale = float(d["scale"]) if "scale" in d else None
        return storage_hex(op_normal(key, sh, dtype, loc, scale), dtype)
    if op == "truncated_normal":
        return storage_hex(op_truncnorm(key, sh, dtype, arg(d, "lower"), arg(d, "upper")), dtype)
    if op == "gumbel":
        return storage_hex(op_gumbel(key, sh, dtype), dtype)
    if op == "laplace":
        return storage_hex(op_laplace(key, sh, dtype, float(d.get("loc", 0.0)),
                                      float(d.get("scale", 1.0))), dtype)
    if op == "randint":
        return storage_hex(op_randint(key, sh, dtype, arg(d, "low"), arg(d, "high")), dtype)
    if op == "bernoulli":
        p = arg(d, "p")
        p = F32(0.5) if p is None else p
        return storage_hex(op_bernoulli(key, sh, p), dtype)
    if op == "permutation":
        if d.get("x_shape") is None:
            return storage_hex(op_permutation_n(key, int(d["x"])), dtype)
        x = arg(d, "x")
        axis = int(d.get("axis", 0))
        perm = op_permutation_n(key, x.shape[axis])
        return storage_hex(np.take(x, perm, axis=axis), dtype)
    if op == "categorical":
        ns = int(d["num_samples"]) if "num_samples" in d else None
        return storage_hex(op_categorical(key, arg(d, "logits"), int(d.get("axis", -1)), sh, ns), dtype)
    return None


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_FIX
    stats = defaultdict(lambda: [0, 0])
    fails = []
    skipped = 0
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            name, op, params, dtype, shape, values = line.split("\t")
            if dtype == "error":
                skipped += 1
                continue
            d = parse_params(params)
            got = run_case(op, d, dtype, shape)
            if got is None:
                skipped += 1
                continue
            want = values.split(" ") if values else []
            tag = "%s/%s" % (op, dtype)
            stats[tag][1] += 1
            if got == want:
                stats[tag][0] += 1
            else:
                nbad = sum(1 for a, b in zip(got, want) if a != b) + abs(len(got) - len(want))
                fails.append("%s: %d/%d elements differ" % (name, nbad, len(want)))
    for tag in sorted(stats):
        ok, tot = stats[tag]
        print("%-32s %4d/%4d bit-exact" % (tag, ok, tot))
    print("skipped (errors / unsupported): %d" % skipped)
    for fl in fails[:60]:
        print("FAIL", fl)
    print("TOTAL: %d failures" % len(fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
