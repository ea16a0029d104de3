#!/usr/bin/env python3
"""Generate bit-exact fixtures for `mx::random` from the reference MLX package.

Usage:  python3 tools/gen_random_fixtures.py [out_path]
Default out_path: tests/fixtures/random/mlx_random.txt (relative to the repo root).

Requires the `mlx` Python package (CPU build is fine).  Raw `bits` cases need
`g++`: the Python binding does not expose `mx.random.bits`, so this script
builds tools/mlx_bits_helper.cpp against the libmlx.so + headers shipped inside
the installed wheel (same library, same code path).  Without g++ the `bits`
cases are skipped (a `# note:` header line says so); everything else still works.

FILE FORMAT (UTF-8 text, '\n' line ends)
---------------------------------------
* Lines starting with '#' are comments / header.  Header lines of the form
  `# key: value` carry metadata (mlx_version, generator, format).
* Every other line is one case with exactly 6 TAB-separated fields:

      <name> \t <op> \t <params> \t <dtype> \t <shape> \t <values>

  name   : unique case id, [A-Za-z0-9_.-]+
  op     : key | split | bits | uniform | normal | truncated_normal | gumbel |
           laplace | randint | bernoulli | categorical | permutation |
           global_key | error
  params : `k=v` pairs separated by ';' (may be empty).  Values never contain
           ';', TAB or '='.  Common keys:
             seed=<u64 decimal>          the seed the key was made from
             key=<hex8>,<hex8>           the key array (uint32[2]) as passed
             keys=<hex8>,...;key_shape=B,2   batched keys (vmap), row-major
             width=1|2|4                  (bits)
             num=<int>                    (split)
             shape=<d0,d1,..>|scalar      the `shape` argument passed (if any)
             <arg>=<v0,v1,...>            a scalar or array argument, values in
                                          Python repr (round-trip f64 / int);
             <arg>_dtype=<dtype>          the mx dtype of that argument array
             <arg>_shape=<d0,..>|scalar   its shape ('scalar' == 0-d)
             axis=<int>, num_samples=<int>, loc=, scale= ...
             global_seed=<u64>;call=<i>;recipe=<r>  see "global" below
           Arguments not listed were left at MLX's Python defaults.
  dtype  : output dtype: float32 float16 bfloat16 uint32 uint16 uint8 int32
           int64 bool; or `error` for error cases.
  shape  : output shape, comma separated; EMPTY field == 0-d scalar shape [].
           "0" means a 1-d array with zero elements.
  values : row-major (C order) elements, space separated, as raw storage bit
           patterns in lower-case hex WITHOUT 0x and zero padded to the storage
           width: 8 digits for 4-byte types (float32 bits, uint32, int32 two's
           complement), 4 for 2-byte (float16/bfloat16 bits, uint16), 2 for
           1-byte (uint8, bool as 00/01), 16 for int64.  Empty for 0 elements.
           For dtype `error` the field is `<PythonExceptionType>: <message>`.

Global-key cases (op = uniform/normal/global_key with `global_seed=`):
  `mx.random.seed(S)` is called, then the calls of recipe `r` are made with
  key=None in order; the case with call=i is the output of the i-th call
  (0-based).  op=global_key gives the key that call i implicitly used
  (== mx.random.split(state)[1], with state advanced to split(state)[0]).
"""

import os
import platform
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import mlx.core as mx

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_OUT = os.path.join(REPO, "tests", "fixtures", "random", "mlx_random.txt")

SEEDS = [0, 1, 42, 12345678901, 2**40 + 7, 2**64 - 1]
SHAPES = [[], [1], [3], [7], [2, 3], [4, 5], [33], [1000]]
FLOAT_DTYPES = [("float32", mx.float32), ("float16", mx.float16), ("bfloat16", mx.bfloat16)]

DTYPE_NAMES = {
    mx.float32: "float32", mx.float16: "float16", mx.bfloat16: "bfloat16",
    mx.uint32: "uint32", mx.uint16: "uint16", mx.uint8: "uint8",
    mx.int32: "int32", mx.int64: "int64", mx.bool_: "bool",
    mx.uint64: "uint64", mx.int8: "int8", mx.int16: "int16",
}

# ----------------------------------------------------------------- formatting


def shape_str(shape):
    return ",".join(str(int(d)) for d in shape)


def shape_param(shape):
    return "scalar" if len(shape) == 0 else shape_str(shape)


def hex_values(a):
    """Raw storage bit patterns of an mx.array, row-major."""
    a = mx.contiguous(a) if hasattr(mx, "contiguous") else a
    dt = a.dtype
    if dt == mx.bool_:
        a = a.astype(mx.uint8)
        dt = mx.uint8
    view = {1: mx.uint8, 2: mx.uint16, 4: mx.uint32, 8: mx.uint64}[dt.size]
    raw = np.array(a.view(view) if dt != view else a).reshape(-1)
    width = 2 * dt.size
    return " ".join(format(int(v), "0%dx" % width) for v in raw)


def key_words(k):
    w = np.array(k).reshape(-1)
    return ",".join(format(int(x), "08x") for x in w)


def fmt_scalar(v):
    return repr(float(v)) if isinstance(v, float) else str(int(v))


def arg_params(name, v):
    """Describe an argument exactly as it is passed to MLX."""
    if isinstance(v, mx.array):
        flat = np.array(v.astype(mx.float32) if v.dtype in (mx.bfloat16,) else v).reshape(-1)
        vals = ",".join(fmt_scalar(x.item()) for x in flat)
        return "%s=%s;%s_dtype=%s;%s_shape=%s" % (
            name, vals, name, DTYPE_NAMES[v.dtype], name, shape_param(v.shape))
    if isinstance(v, bool):
        raise TypeError("bool args not used")
    if isinstance(v, float):
        return "%s=%s;%s_dtype=float32;%s_shape=scalar" % (name, repr(v), name, name)
    if isinstance(v, int):
        return "%s=%d;%s_dtype=int32;%s_shape=scalar" % (name, v, name, name)
    raise TypeError(type(v))


class Writer:
    def __init__(self):
        self.lines = []
        self.meta = []
        self.names = set()

    def case(self, name, op, params, out):
        assert name not in self.names, name
        self.names.add(name)
        mx.eval(out)
        self.lines.append("\t".join([
            name, op, params, DTYPE_NAMES[out.dtype], shape_str(out.shape),
            hex_values(out)]))

    def raw(self, name, op, params, dtype, shape, values):
        assert name not in self.names, name
        self.names.add(name)
        self.lines.append("\t".join([name, op, params, dtype, shape, values]))

    def error(self, name, op, params, fn):
        try:
            r = fn()
            mx.eval(r)
        except Exception as e:  # noqa: BLE001
            msg = str(e).replace("\t", " ").replace("\n", " ")
            self.raw(name, op, params, "error", "", "%s: %s" % (type(e).__name__, msg))
            return
        raise AssertionError("expected an error for " + name)


def kp(seed):
    k = mx.random.key(seed)
    return k, "seed=%d;key=%s" % (seed, key_words(k))


def sname(shape):
    return "s" + ("x".join(str(d) for d in shape) if shape else "scalar")


# ------------------------------------------------------------- bits helper


class BitsHelper:
    def __init__(self):
        self.proc = None
        self.note = None
        gxx = shutil.which("g++") or shutil.which("c++")
        import mlx
        mlx_dir = os.path.dirname(os.path.abspath(mlx.__file__ or mx.__file__))
        inc, lib = os.path.join(mlx_dir, "include"), os.path.join(mlx_dir, "lib")
        if not gxx or not os.path.isdir(inc) or not os.path.isdir(lib):
            self.note = "bits cases skipped (no g++ or no mlx headers/lib in the wheel)"
            return
        self.tmp = tempfile.mkdtemp(prefix="mlx_bits_helper")
        exe = os.path.join(self.tmp, "mlx_bits_helper")
        cmd = [gxx, "-std=c++20", "-O1", "-I" + inc, os.path.join(HERE, "mlx_bits_helper.cpp"),
               "-L" + lib, "-lmlx", "-Wl,-rpath," + lib, "-o", exe]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            self.note = "bits cases skipped (helper build failed: %s)" % r.stderr[-300:].replace("\n", " ")
            return
        self.proc = subprocess.Popen([exe], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def bits(self, width, keys_flat, key_shape, shape):
        req = "%d %s %s %s\n" % (width, ",".join(str(int(x)) for x in keys_flat),
                                 shape_str(key_shape), shape_str(shape) if shape else "-")
        self.proc.stdin.write(req)
        self.proc.stdin.flush()
        resp = self.proc.stdout.readline().rstrip("\n")
        if resp.startswith("ERR "):
            raise ValueError(resp[4:])
        parts = resp.split(" ")
        assert parts[0] == "OK" and parts[1] == mx.__version__, resp
        out_shape = "" if parts[2] == "-" else parts[2]
        return out_shape, " ".join(parts[3:])


# ------------------------------------------------------------------- cases


def gen(w, helper):
    # ---- key
    for s in SEEDS + [2**32, 2**32 + 1, 2**63]:
        w.case("key_%d" % s, "key", "seed=%d" % s, mx.random.key(s))

    # ---- split
    for s in SEEDS:
        k, p = kp(s)
        for num in [1, 2, 3, 5, 8]:
            w.case("split_%d_n%d" % (s, num), "split", p + ";num=%d" % num, mx.random.split(k, num))
        w.case("split_%d_default" % s, "split", p, mx.random.split(k))
        # split of a split (chained) - key given explicitly
        k2 = mx.random.split(k)[1]
        w.case("split_%d_chain" % s, "split", "seed=%d;key=%s;num=2" % (s, key_words(k2)),
               mx.random.split(k2, 2))
    k, p = kp(0)
    w.case("split_0_n0", "split", p + ";num=0", mx.random.split(k, 0))

    # ---- bits (C++ helper)
    if helper.proc is not None:
        bit_shapes = SHAPES + [[0], [2], [4], [5], [6], [8], [9], [15], [16], [17], [3, 1], [2, 3, 5], [1001]]
        for s in SEEDS:
            k, p = kp(s)
            kw = np.array(k).tolist()
            for width in [1, 2, 4]:
                shapes = bit_shapes if s in (0, 2**40 + 7) else SHAPES
                for sh in shapes:
                    oshape, vals = helper.bits(width, kw, [2], sh)
                    dt = {1: "uint8", 2: "uint16", 4: "uint32"}[width]
                    w.raw("bits_%d_w%d_%s" % (s, width, sname(sh)), "bits",
                          p + ";width=%d;shape=%s" % (width, shape_param(sh)), dt, oshape, vals)
        # batched keys (vmap)
        bkeys = [0, 0, 1, 1, 0xDEADBEEF, 0x12345678]
        for width in [1, 2, 4]:
            for sh in [[], [3], [5], [2, 3]]:
                oshape, vals = helper.bits(width, bkeys, [3, 2], sh)
                dt = {1: "uint8", 2: "uint16", 4: "uint32"}[width]
                w.raw("bits_batched3_w%d_%s" % (width, sname(sh)), "bits",
                      "keys=%s;key_shape=3,2;width=%d;shape=%s" % (
                          ",".join("%08x" % x for x in bkeys), width, shape_param(sh)),
                      dt, oshape, vals)
        bkeys2 = list(range(12))
        oshape, vals = helper.bits(4, bkeys2, [3, 2, 2], [2])
        w.raw("bits_batched3x2_w4_s2", "bits",
              "keys=%s;key_shape=3,2,2;width=4;shape=2" % ",".join("%08x" % x for x in bkeys2),
              "uint32", oshape, vals)
        # errors that only the raw API can produce
        k, p = kp(0)
        try:
            helper.bits(3, np.array(k).tolist(), [2], [2])
            raise AssertionError("width 3 accepted")
        except ValueError as e:
            w.raw("err_bits_width3", "error", p + ";width=3;shape=2", "error", "", "ValueError: %s" % e)

    # batched keys through the Python API (vmap over uniform / split)
    bk = mx.array([0, 0, 1, 1, 0xDEADBEEF, 0x12345678], dtype=mx.uint32).reshape(3, 2)
    bkp = "keys=%s;key_shape=3,2" % key_words(bk)
    w.case("uniform_batched3_f32_s3", "uniform", bkp + ";shape=3",
           mx.vmap(lambda kk: mx.random.uniform(shape=[3], key=kk))(bk))
    w.case("split_batched3_n2", "split", bkp + ";num=2",
           mx.vmap(lambda kk: mx.random.split(kk, 2))(bk))

    # ---- uniform
    for s in SEEDS:
        k, p = kp(s)
        for dn, dt in FLOAT_DTYPES:
            for sh in SHAPES:
                w.case("uniform_%d_%s_%s" % (s, dn, sname(sh)), "uniform",
                       p + ";shape=%s" % shape_param(sh),
                       mx.random.uniform(shape=sh, dtype=dt, key=k))
    for s in SEEDS[:3]:
        k, p = kp(s)
        for dn, dt in FLOAT_DTYPES:
            for (lo, hi, tag) in [(-3.5, 7.25, "a"), (1, 0, "rev"), (-0.1, 0.1, "small"),
                                  (100.0, 100.5, "off"), (-1e4, 1e4, "wide")]:
                w.case("uniform_%d_%s_lohi_%s" % (s, dn, tag), "uniform",
                       p + ";%s;%s;shape=4,5" % (arg_params("low", lo), arg_params("high", hi)),
                       mx.random.uniform(lo, hi, shape=[4, 5], dtype=dt, key=k))
            lo = mx.array([-1.0, 0.0, 2.5, 10.0, -100.0], dtype=mx.float32)
            hi = mx.array([[1.0], [3.0], [1000.0]], dtype=mx.float32)
            w.case("uniform_%d_%s_lohi_arrays" % (s, dn), "uniform",
                   p + ";%s;%s;shape=3,5" % (arg_params("low", lo), arg_params("high", hi)),
                   mx.random.uniform(lo, hi, shape=[3, 5], dtype=dt, key=k))

    # ---- normal
    for s in SEEDS:
        k, p = kp(s)
        for dn, dt in FLOAT_DTYPES:
            for sh in SHAPES:
                w.case("normal_%d_%s_%s" % (s, dn, sname(sh)), "normal",
                       p + ";shape=%s" % shape_param(sh),
                       mx.random.normal(shape=sh, dtype=dt, key=k))
    for s in SEEDS[:3]:
        k, p = kp(s)
        for dn, dt in FLOAT_DTYPES:
            w.case("normal_%d_%s_locscale" % (s, dn), "normal",
                   p + ";shape=4,5;loc=1.5;scale=3.0",
                   mx.random.normal(shape=[4, 5], dtype=dt, loc=1.5, scale=3.0, key=k))
            w.case("normal_%d_%s_loc" % (s, dn), "normal", p + ";shape=7;loc=-2.0",
                   mx.random.normal(shape=[7], dtype=dt, loc=-2.0, key=k))
            w.case("normal_%d_%s_scale" % (s, dn), "normal", p + ";shape=7;scale=0.1",
                   mx.random.normal(shape=[7], dtype=dt, scale=0.1, key=k))

    # ---- truncated_normal
    for s in SEEDS:
        k, p = kp(s)
        for dn, dt in FLOAT_DTYPES:
            shapes = SHAPES if s in (0, 2**40 + 7) else SHAPES[:-1]
            for sh in shapes:
                w.case("truncnorm_%d_%s_%s" % (s, dn, sname(sh)), "truncated_normal",
                       p + ";%s;%s;shape=%s" % (arg_params("lower", -1.0), arg_params("upper", 2.0),
                                                shape_param(sh)),
                       mx.random.truncated_normal(-1.0, 2.0, shape=sh, dtype=dt, key=k))
    for s in SEEDS[:3]:
        k, p = kp(s)
        for dn, dt in FLOAT_DTYPES:
            w.case("truncnorm_%d_%s_b05_3" % (s, dn), "truncated_normal",
                   p + ";%s;%s;shape=4,5" % (arg_params("lower", 0.5), arg_params("upper", 3.0)),
                   mx.random.truncated_normal(0.5, 3.0, shape=[4, 5], dtype=dt, key=k))
            lo = mx.array([-2.0, -1.0, 0.0], dtype=mx.float32)
            hi = mx.array([2.0, 0.5, 1.0], dtype=mx.float32)
            w.case("truncnorm_%d_%s_arrays_noshape" % (s, dn), "truncated_normal",
                   p + ";%s;%s" % (arg_params("lower", lo), arg_params("upper", hi)),
                   mx.random.truncated_normal(lo, hi, dtype=dt, key=k))

    # ---- gumbel / laplace
    for s in SEEDS:
        k, p = kp(s)
        for dn, dt in FLOAT_DTYPES:
            shapes = SHAPES if s in (0, 2**40 + 7) else SHAPES[:-1]
            for sh in shapes:
                w.case("gumbel_%d_%s_%s" % (s, dn, sname(sh)), "gumbel",
                       p + ";shape=%s" % shape_param(sh),
                       mx.random.gumbel(shape=sh, dtype=dt, key=k))
                w.case("laplace_%d_%s_%s" % (s, dn, sname(sh)), "laplace",
                       p + ";shape=%s" % shape_param(sh),
                       mx.random.laplace(shape=sh, dtype=dt, key=k))
    for s in SEEDS[:3]:
        k, p = kp(s)
        for dn, dt in FLOAT_DTYPES:
            w.case("laplace_%d_%s_locscale" % (s, dn), "laplace",
                   p + ";shape=4,5;loc=1.5;scale=3.0",
                   mx.random.laplace(shape=[4, 5], dtype=dt, loc=1.5, scale=3.0, key=k))

    # ---- randint
    for s in SEEDS:
        k, p = kp(s)
        for sh in SHAPES:
            w.case("randint_%d_int32_0_10_%s" % (s, sname(sh)), "randint",
                   p + ";%s;%s;shape=%s" % (arg_params("low", 0), arg_params("high", 10), shape_param(sh)),
                   mx.random.randint(0, 10, shape=sh, key=k))
    for s in SEEDS[:3]:
        k, p = kp(s)
        for (lo, hi, tag) in [(-5, 5, "m5_5"), (-1000, 1000000, "wide"), (0, 1, "one"),
                              (-2**31, 2**31 - 1, "full"), (7, 3, "rev")]:
            w.case("randint_%d_int32_%s" % (s, tag), "randint",
                   p + ";%s;%s;shape=4,5" % (arg_params("low", lo), arg_params("high", hi)),
                   mx.random.randint(lo, hi, shape=[4, 5], key=k))
        for dn, dt, lo, hi in [("uint8", mx.uint8, 0, 256), ("uint8", mx.uint8, 10, 20),
                               ("uint32", mx.uint32, 0, 1000), ("int64", mx.int64, -50, 50),
                               ("bool", mx.bool_, 0, 2), ("int32", mx.int32, 0, 100)]:
            w.case("randint_%d_%s_%d_%d" % (s, dn, lo, hi), "randint",
                   p + ";%s;%s;shape=33" % (arg_params("low", lo), arg_params("high", hi)),
                   mx.random.randint(lo, hi, shape=[33], dtype=dt, key=k))
        lo = mx.array([0, 10, -10], dtype=mx.int32)
        hi = mx.array([[5, 20, 10], [1, 11, -9]], dtype=mx.int32)
        w.case("randint_%d_int32_arrays" % s, "randint",
               p + ";%s;%s;shape=2,3" % (arg_params("low", lo), arg_params("high", hi)),
               mx.random.randint(lo, hi, shape=[2, 3], key=k))

    # ---- bernoulli
    for s in SEEDS:
        k, p = kp(s)
        for sh in SHAPES:
            w.case("bernoulli_%d_p05_%s" % (s, sname(sh)), "bernoulli",
                   p + ";%s;shape=%s" % (arg_params("p", 0.5), shape_param(sh)),
                   mx.random.bernoulli(0.5, shape=sh, key=k))
    for s in SEEDS[:3]:
        k, p = kp(s)
        w.case("bernoulli_%d_default" % s, "bernoulli", p, mx.random.bernoulli(key=k))
        for pv in [0.0, 0.1, 0.9, 1.0, 2.0, -1.0]:
            w.case("bernoulli_%d_p%s" % (s, repr(pv).replace(".", "_").replace("-", "m")), "bernoulli",
                   p + ";%s;shape=33" % arg_params("p", pv),
                   mx.random.bernoulli(pv, shape=[33], key=k))
        pa = mx.array([[0.1, 0.2, 0.3, 0.4, 0.5], [0.6, 0.7, 0.8, 0.9, 0.95],
                       [0.0, 1.0, 0.25, 0.75, 0.5], [0.01, 0.99, 0.33, 0.66, 0.5]], dtype=mx.float32)
        w.case("bernoulli_%d_parray_noshape" % s, "bernoulli", p + ";" + arg_params("p", pa),
               mx.random.bernoulli(pa, key=k))
        pb = mx.array([0.1, 0.5, 0.9], dtype=mx.float32)
        w.case("bernoulli_%d_parray_bcast" % s, "bernoulli",
               p + ";%s;shape=4,3" % arg_params("p", pb), mx.random.bernoulli(pb, shape=[4, 3], key=k))
        ph = mx.array([0.1, 0.5, 0.9], dtype=mx.float16)
        w.case("bernoulli_%d_parray_f16" % s, "bernoulli", p + ";" + arg_params("p", ph),
               mx.random.bernoulli(ph, key=k))

    # ---- categorical
    l1 = mx.array([0.5, -1.0, 2.0, 0.0, 1.0], dtype=mx.float32)
    l2 = mx.array([[0.0, 1.0, 2.0, 3.0], [3.0, 2.0, 1.0, 0.0], [-1.0, 5.0, -1.0, 0.5]], dtype=mx.float32)
    linf = mx.array([-float("inf"), 0.0, -float("inf"), 1.0], dtype=mx.float32)
    for s in SEEDS[:4]:
        k, p = kp(s)
        w.case("categorical_%d_1d" % s, "categorical", p + ";" + arg_params("logits", l1),
               mx.random.categorical(l1, key=k))
        w.case("categorical_%d_1d_ns7" % s, "categorical", p + ";%s;num_samples=7" % arg_params("logits", l1),
               mx.random.categorical(l1, num_samples=7, key=k))
        w.case("categorical_%d_1d_ns1000" % s, "categorical",
               p + ";%s;num_samples=1000" % arg_params("logits", l1),
               mx.random.categorical(l1, num_samples=1000, key=k))
        w.case("categorical_%d_1d_shape2x3" % s, "categorical",
               p + ";%s;shape=2,3" % arg_params("logits", l1),
               mx.random.categorical(l1, shape=[2, 3], key=k))
        w.case("categorical_%d_1d_neginf_ns9" % s, "categorical",
               p + ";%s;num_samples=9" % arg_params("logits", linf),
               mx.random.categorical(linf, num_samples=9, key=k))
        w.case("categorical_%d_2d" % s, "categorical", p + ";" + arg_params("logits", l2),
               mx.random.categorical(l2, key=k))
        w.case("categorical_%d_2d_ns6" % s, "categorical",
               p + ";%s;num_samples=6" % arg_params("logits", l2),
               mx.random.categorical(l2, num_samples=6, key=k))
        w.case("categorical_%d_2d_axis0" % s, "categorical",
               p + ";%s;axis=0" % arg_params("logits", l2),
               mx.random.categorical(l2, axis=0, key=k))
        w.case("categorical_%d_2d_shape5x3" % s, "categorical",
               p + ";%s;shape=5,3" % arg_params("logits", l2),
               mx.random.categorical(l2, shape=[5, 3], key=k))
        l2row = mx.array([[0.0, 1.0, 2.0, 3.0]], dtype=mx.float32)
        w.case("categorical_%d_1x4_ns5" % s, "categorical",
               p + ";%s;num_samples=5" % arg_params("logits", l2row),
               mx.random.categorical(l2row, num_samples=5, key=k))

    # ---- permutation
    xa = mx.arange(20, dtype=mx.int32).reshape(4, 5)
    for s in SEEDS:
        k, p = kp(s)
        for n in [0, 1, 2, 3, 7, 10, 33, 1000]:
            w.case("permutation_%d_n%d" % (s, n), "permutation", p + ";x=%d" % n,
                   mx.random.permutation(n, key=k))
        w.case("permutation_%d_array_axis0" % s, "permutation", p + ";%s;axis=0" % arg_params("x", xa),
               mx.random.permutation(xa, key=k))
        w.case("permutation_%d_array_axis1" % s, "permutation", p + ";%s;axis=1" % arg_params("x", xa),
               mx.random.permutation(xa, axis=1, key=k))

    # ---- global key sequence
    recipes = {
        "uu": [("uniform", lambda: mx.random.uniform(shape=[3])),
               ("uniform", lambda: mx.random.uniform(shape=[3]))],
        "unu": [("uniform", lambda: mx.random.uniform(shape=[2, 3])),
                ("normal", lambda: mx.random.normal(shape=[4])),
                ("uniform", lambda: mx.random.uniform())],
    }
    recipe_desc = {"uu": "uniform(shape=3),uniform(shape=3)",
                   "unu": "uniform(shape=2,3),normal(shape=4),uniform(shape=scalar)"}
    for gs in [0, 3, 2**40 + 7]:
        for rname, calls in recipes.items():
            mx.random.seed(gs)
            state = mx.random.key(gs)
            for i, (op, fn) in enumerate(calls):
                out = fn()
                mx.eval(out)
                state, sub = mx.random.split(state)
                pp = "global_seed=%d;call=%d;recipe=%s" % (gs, i, rname)
                w.case("global_%d_%s_c%d" % (gs, rname, i), op, pp, out)
                w.case("global_%d_%s_c%d_key" % (gs, rname, i), "global_key", pp, sub)
    w.meta.append("# recipes: " + "; ".join("%s=%s" % kv for kv in recipe_desc.items()))

    # ---- errors
    k, p = kp(0)
    w.error("err_key_shape3", "error", "key=00000000,00000000,00000000;key_dtype=uint32;op=uniform",
            lambda: mx.random.uniform(key=mx.array([0, 0, 0], dtype=mx.uint32)))
    w.error("err_key_shape2x1", "error", "key=00000000,00000000;key_shape=2,1;op=uniform",
            lambda: mx.random.uniform(key=mx.array([[0], [0]], dtype=mx.uint32)))
    w.error("err_key_int32", "error", "key=00000000,00000000;key_dtype=int32;op=uniform",
            lambda: mx.random.uniform(key=mx.array([0, 0], dtype=mx.int32)))
    w.error("err_uniform_int_dtype", "error", p + ";op=uniform;dtype=int32;shape=2",
            lambda: mx.random.uniform(shape=[2], dtype=mx.int32, key=k))
    w.error("err_uniform_neg_dim", "error", p + ";op=uniform;shape=2,-3",
            lambda: mx.random.uniform(shape=[2, -3], key=k))
    w.error("err_uniform_bcast", "error", p + ";op=uniform;low_shape=3;shape=2",
            lambda: mx.random.uniform(low=mx.zeros([3]), shape=[2], key=k))
    w.error("err_uniform_bcast2", "error", p + ";op=uniform;low_shape=2,3;shape=3",
            lambda: mx.random.uniform(low=mx.zeros([2, 3]), shape=[3], key=k))
    w.error("err_uniform_float64", "error", p + ";op=uniform;dtype=float64",
            lambda: mx.random.uniform(dtype=mx.float64, key=k))
    w.error("err_normal_int", "error", p + ";op=normal;dtype=int32",
            lambda: mx.random.normal(dtype=mx.int32, key=k))
    w.error("err_randint_float", "error", p + ";op=randint;dtype=float32",
            lambda: mx.random.randint(0, 5, dtype=mx.float32, key=k))
    w.error("err_bernoulli_int_p", "error", p + ";op=bernoulli;p=1;p_dtype=int32",
            lambda: mx.random.bernoulli(1, key=k))
    w.error("err_bernoulli_shape", "error", p + ";op=bernoulli;p_shape=3;shape=2",
            lambda: mx.random.bernoulli(mx.array([0.1, 0.2, 0.3]), shape=[2], key=k))
    w.error("err_truncnorm_int", "error", p + ";op=truncated_normal;dtype=int32",
            lambda: mx.random.truncated_normal(0.0, 1.0, dtype=mx.int32, key=k))
    w.error("err_laplace_int", "error", p + ";op=laplace;dtype=int32",
            lambda: mx.random.laplace(dtype=mx.int32, key=k))
    w.error("err_gumbel_int", "error", p + ";op=gumbel;dtype=int32",
            lambda: mx.random.gumbel(dtype=mx.int32, key=k))
    w.error("err_categorical_axis", "error", p + ";op=categorical;logits_shape=3;axis=2",
            lambda: mx.random.categorical(mx.zeros([3]), axis=2, key=k))
    w.error("err_categorical_both", "error", p + ";op=categorical;logits_shape=3;shape=2;num_samples=2",
            lambda: mx.random.categorical(mx.zeros([3]), shape=[2], num_samples=2, key=k))
    w.error("err_categorical_shape", "error", p + ";op=categorical;logits_shape=2,3;shape=3",
            lambda: mx.random.categorical(mx.zeros([2, 3]), shape=[3], key=k))
    w.error("err_split_neg", "error", p + ";op=split;num=-1",
            lambda: mx.random.split(k, -1))


def main():
    out_path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    mx.set_default_device(mx.cpu)
    helper = BitsHelper()
    w = Writer()
    gen(w, helper)
    if helper.proc is not None:
        helper.proc.stdin.close()
        helper.proc.wait()
        shutil.rmtree(helper.tmp, ignore_errors=True)
    header = [
        "# mlx random fixtures (bit-exact). Generated by tools/gen_random_fixtures.py",
        "# mlx_version: %s" % mx.__version__,
        "# numpy_version: %s" % np.__version__,
        "# device: cpu; platform: %s %s %s (transcendentals use this libm's logf/log1pf)" % (
            platform.system(), platform.machine(), "-".join(platform.libc_ver())),
        "# format: name<TAB>op<TAB>params(k=v;...)<TAB>dtype<TAB>shape(d0,d1,..; empty=scalar)"
        "<TAB>values(raw storage bits, lower hex, space separated)",
        "# see the docstring of tools/gen_random_fixtures.py and tools/RANDOM_SPEC.md",
        "# cases: %d" % len(w.names),
    ]
    header += w.meta
    if helper.note:
        header.append("# note: " + helper.note)
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with open(out_path, "w") as f:
        f.write("\n".join(header + w.lines) + "\n")
    print("wrote %s (%d cases, %d bytes)" % (out_path, len(w.names), os.path.getsize(out_path)))


if __name__ == "__main__":
    main()
