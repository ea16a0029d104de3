#!/usr/bin/env python3
"""Generate the MLX conformance fixtures that tests/conformance.rs replays on wmx.

Usage:  python3 tools/gen_conformance.py [out_dir]
Default out_dir: tests/fixtures/conformance/ (one .txt file per op family).

Needs the `mlx` Python package (the CPU build is enough) and numpy. Deterministic: every random
input comes from one numpy Generator with a fixed seed, and the cases are emitted in a fixed
order, so re-running the script with the same MLX version reproduces the files byte for byte.

FILE FORMAT (UTF-8 text, '\\n' line ends; parsed by hand in tests/conformance.rs)
-----------------------------------------------------------------------------
* Blank lines and lines starting with '#' are comments (the header records the MLX version).
* A case is a `case` line followed by its `in` lines and then either `out` lines or one `err`
  line:

    case <id> <op> [<key>=<value> ...]
    in <dtype> <shape> <view> : <hex> <hex> ...
    out <dtype> <shape> : <hex> <hex> ...
    err <MLX's error message>

  id     : unique, `<op>.<n>` (n counts that op's cases in emission order).
  op     : the wmx/MLX function name (`add`, `sum`, `cumsum`, `linalg_norm`...).
  params : space-separated `key=value`; a value never contains spaces. Lists are comma
           separated (`axes=0,2`; an empty list is `axes=`), `none` is Python's None, booleans
           are `true`/`false`, floats are Python reprs (`inf`, `-inf`, `nan` allowed), dtypes are
           MLX names (`float16`). Each op's keys are listed in the runner's dispatch table.
  dtype  : bool uint8 uint32 int32 float16 bfloat16 float32 (wmx's dtypes; cases whose MLX
           inputs or outputs need another dtype, e.g. int64, are not emitted).
  shape  : `(2,3,4)`; `()` is 0-d; `(0,)` has no elements.
  view   : `-` or `;`-joined steps applied in order to the base array (given by dtype, shape
           and values) before the op sees it, identically in MLX and in the runner:
             slice(<start>:<stop>:<step>,...)   one triple per axis (basic slicing, step != 0;
                                                stop may be negative as in Python)
             transpose(<perm>)                  e.g. transpose(1,0,2)
             broadcast(<shape>)                 broadcast_to that shape (stride-0 axes)
  hex    : row-major elements as raw storage bits, lower-case, zero padded to the storage
           width (2 digits for bool/uint8, 4 for float16/bfloat16, 8 for the rest); NaN
           payloads and -0.0 survive. `out` lines may repeat (multi-output ops: split, divmod,
           unstack, meshgrid), in MLX's order.
  err    : the case expects the op (or its evaluation) to fail; the message is MLX's, for
           reference only (wmx words its own errors).
"""

import math
import os
import sys

import numpy as np
import mlx.core as mx

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_OUT = os.path.join(REPO, "tests", "fixtures", "conformance")

DT = {
    "bool": mx.bool_, "uint8": mx.uint8, "uint32": mx.uint32, "int32": mx.int32,
    "float16": mx.float16, "bfloat16": mx.bfloat16, "float32": mx.float32,
}
NAME = {v: k for k, v in DT.items()}
ALL = list(DT)
FLOATS = ["float16", "bfloat16", "float32"]
INTS = ["uint8", "uint32", "int32"]
NUMERIC = INTS + FLOATS
NAN, INF = float("nan"), float("inf")

rng = np.random.default_rng(20261125)

# Edge values per dtype (floats are float32 values cast to the dtype with astype, so f16
# overflows to inf and tiny values flush exactly as MLX stores them).
EDGE = {
    "float32": [0.0, -0.0, INF, -INF, NAN, 1.0, -1.0, 0.5, -2.5, 3.0e38, -3.0e38, 1.0e-38,
                1.4e-45, -1.4e-45, 65504.0, 1.0e-7, 100.0, -100.0, 88.5, -104.0],
    "int32": [0, 1, -1, 2, -2, 7, -7, 100, -100, 255, 256, 65535, 2**31 - 1, -(2**31)],
    "uint32": [0, 1, 2, 7, 100, 255, 256, 65535, 2**31, 2**32 - 1],
    "uint8": [0, 1, 2, 7, 100, 127, 128, 200, 255],
    "bool": [False, True],
}
EDGE["float16"] = EDGE["float32"] + [6.0e-8, 70000.0]
EDGE["bfloat16"] = EDGE["float32"]
# Shorter lists for the all-pairs edge cases of binary ops.
EDGE2 = {
    "float32": [0.0, -0.0, INF, -INF, NAN, 1.0, -1.0, 2.5, -0.5, 3.0e38, 1.0e-38, 1.4e-45],
    "int32": [0, 1, -1, 7, -7, 2**31 - 1, -(2**31)],
    "uint32": [0, 1, 7, 2**31, 2**32 - 1],
    "uint8": [0, 1, 7, 128, 255],
    "bool": [False, True],
}
EDGE2["float16"] = EDGE2["float32"] + [65504.0, 6.0e-8]
EDGE2["bfloat16"] = EDGE2["float32"]

NP = {"bool": np.bool_, "uint8": np.uint8, "uint32": np.uint32, "int32": np.int32}


def values(dt, n, kind="any"):
    """n deterministic values for dtype `dt` from the domain `kind` (numpy array)."""
    if dt == "bool":
        return rng.integers(0, 2, n).astype(np.bool_)
    if dt in NP:
        lo, hi = {
            "any": {"uint8": (0, 256), "uint32": (0, 1000), "int32": (-50, 50)},
            "pos": {"uint8": (1, 50), "uint32": (1, 1000), "int32": (1, 100)},
            "nonzero": {"uint8": (1, 256), "uint32": (1, 1000), "int32": (1, 50)},
            "small": {"uint8": (0, 5), "uint32": (0, 6), "int32": (-3, 6)},
            "exp": {"uint8": (0, 4), "uint32": (0, 6), "int32": (0, 6)},
            "shift": {"uint8": (0, 8), "uint32": (0, 32), "int32": (0, 31)},
            "unit": {"uint8": (0, 2), "uint32": (0, 2), "int32": (-1, 2)},
            "gt1": {"uint8": (1, 20), "uint32": (1, 20), "int32": (1, 20)},
        }[kind][dt]
        v = rng.integers(lo, hi, n)
        if kind == "nonzero" and dt == "int32":
            v = v * rng.choice([-1, 1], n)
        return v.astype(NP[dt])
    if kind == "any":
        v = rng.standard_normal(n) * 3
    elif kind == "pos":
        v = np.abs(rng.standard_normal(n)) * 3 + 0.05
    elif kind == "nonzero":
        v = (np.abs(rng.standard_normal(n)) * 3 + 0.25) * rng.choice([-1, 1], n)
    elif kind == "unit":
        v = rng.uniform(-0.99, 0.99, n)
    elif kind == "gt1":
        v = 1.0 + np.abs(rng.standard_normal(n)) * 3
    elif kind in ("small", "exp", "shift"):
        v = rng.uniform(-3, 3, n)
    else:
        raise ValueError(kind)
    return v.astype(np.float32)


def mk(dt, vals, shape):
    """An MLX array of dtype `dt` holding `vals` (floats cast from float32 with astype)."""
    vals = np.asarray(vals)
    if dt in NP:
        a = mx.array(vals.astype(NP[dt]).reshape(shape))
    else:
        a = mx.array(vals.astype(np.float32).reshape(shape)).astype(DT[dt])
    return a


def bits(a):
    """Row-major storage bits of an MLX array as hex strings."""
    a = mx.flatten(a) if a.ndim != 1 else a
    dt = a.dtype
    if dt == mx.bool_:
        u, w = np.array(a.astype(mx.uint8)), 2
    elif dt == mx.uint8:
        u, w = np.array(a), 2
    elif dt in (mx.float16, mx.bfloat16):
        u, w = np.array(mx.contiguous(a).view(mx.uint16)), 4
    elif dt in (mx.uint32, mx.int32, mx.float32):
        u, w = np.array(mx.contiguous(a).view(mx.uint32)), 8
    else:
        raise TypeError(dt)
    return " ".join(format(int(x), "0%dx" % w) for x in u.reshape(-1))


def fmt_shape(s):
    return "(" + ",".join(str(int(d)) for d in s) + ")"


def fmt_val(v):
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return ",".join(fmt_val(x) for x in v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        return repr(v)
    return str(v)


class Arg:
    """An input: base array (dtype, shape, values) plus a view recipe."""

    def __init__(self, dt, shape, vals=None, kind="any", view=None):
        shape = tuple(shape)
        n = int(np.prod(shape)) if shape else 1
        if vals is None:
            vals = values(dt, n, kind)
        self.dt, self.shape, self.view = dt, shape, view or []
        self.base = mk(dt, vals, shape)

    def mlx(self):
        a = self.base
        for step, p in self.view:
            if step == "slice":
                a = a[tuple(slice(*t) for t in p)]
            elif step == "transpose":
                a = mx.transpose(a, p)
            elif step == "broadcast":
                a = mx.broadcast_to(a, p)
        return a

    def line(self):
        if not self.view:
            v = "-"
        else:
            parts = []
            for step, p in self.view:
                if step == "slice":
                    parts.append("slice(" + ",".join("%d:%d:%d" % t for t in p) + ")")
                else:
                    parts.append("%s(%s)" % (step, ",".join(str(x) for x in p)))
            v = ";".join(parts)
        return "in %s %s %s : %s" % (self.dt, fmt_shape(self.shape), v, bits(self.base))


class Out:
    def __init__(self):
        self.files = {}
        self.count = {}
        self.skipped = 0

    def case(self, family, op, fn, args, **params):
        """Runs `fn` on the MLX inputs and records the case (or the error it raised)."""
        # MLX 0.32.4 sometimes hangs evaluating a zero-size result after many graphs;
        # evaluating the inputs and synchronising first avoids it
        mx.synchronize()
        try:
            ins = [a.mlx() for a in args]
            mx.eval(ins)
        except Exception as e:  # a bad view recipe is a generator bug
            raise RuntimeError("view failed for %s: %s" % (op, e))
        if os.environ.get("GEN_TRACE"):
            print("..", op, params, [(a.dt, a.shape, a.view) for a in args], file=sys.stderr, flush=True)
        try:
            r = fn(*ins)
            outs = list(r) if isinstance(r, (list, tuple)) else [r]
            mx.eval(outs)
            if any(o.dtype not in NAME for o in outs):
                self.skipped += 1
                return
            body = ["out %s %s : %s" % (NAME[o.dtype], fmt_shape(o.shape), bits(o)) for o in outs]
        except Exception as e:
            msg = " ".join(str(e).split()) or type(e).__name__
            body = ["err " + msg]
        n = self.count.get(op, 0)
        self.count[op] = n + 1
        head = "case %s.%d %s" % (op, n, op)
        for k, v in params.items():
            head += " %s=%s" % (k, fmt_val(v))
        lines = [head] + [a.line() for a in args] + body
        self.files.setdefault(family, []).append("\n".join(lines))

    def write(self, out_dir):
        os.makedirs(out_dir, exist_ok=True)
        for fam, cases in sorted(self.files.items()):
            with open(os.path.join(out_dir, fam + ".txt"), "w") as f:
                f.write("# MLX conformance cases, family %s (%d cases)\n" % (fam, len(cases)))
                f.write("# mlx_version: %s\n" % mx.__version__)
                f.write("# generator: tools/gen_conformance.py (format: see its docstring)\n")
                for c in cases:
                    f.write(c + "\n")


O = Out()

# ----------------------------------------------------------------------------------------------
# Shapes and views shared by the families.

SHAPES = [(), (0,), (1,), (7,), (2, 3, 4)]


def view_args(dt, kind):
    """Non-contiguous inputs: a transposed 2-D array, a strided slice, and slice+transpose 3-D."""
    return [
        Arg(dt, (3, 5), kind=kind, view=[("transpose", (1, 0))]),
        Arg(dt, (6, 7), kind=kind, view=[("slice", ((1, 5, 2), (6, 0, -3)))]),
        Arg(dt, (3, 4, 5), kind=kind,
            view=[("slice", ((0, 3, 2), (1, 4, 1), (0, 5, 2))), ("transpose", (2, 0, 1))]),
    ]


def edge_arg(dt, kind):
    vals = EDGE[dt]
    if kind in ("exp", "shift") and dt in INTS:
        return None
    return Arg(dt, (len(vals),), vals=vals)


# ----------------------------------------------------------------------------------------------
# Unary ops: (name, mlx function, input domain, dtypes). Float-only ops still get integer and
# bool inputs (MLX promotes them to float32) on a couple of shapes.

UNARY = [
    ("abs", mx.abs, "any", ALL), ("negative", mx.negative, "any", ALL),
    ("sign", mx.sign, "any", ALL), ("square", mx.square, "any", ALL),
    ("floor", mx.floor, "any", ALL), ("ceil", mx.ceil, "any", ALL),
    ("exp", mx.exp, "any", ALL), ("log", mx.log, "pos", ALL), ("sqrt", mx.sqrt, "pos", ALL),
    ("rsqrt", mx.rsqrt, "pos", ALL), ("reciprocal", mx.reciprocal, "nonzero", ALL),
    ("sin", mx.sin, "any", ALL), ("cos", mx.cos, "any", ALL), ("tanh", mx.tanh, "any", ALL),
    ("sigmoid", mx.sigmoid, "any", ALL), ("logical_not", mx.logical_not, "any", ALL),
    ("log1p", mx.log1p, "pos", ALL), ("erf", mx.erf, "any", ALL),
    ("erfinv", mx.erfinv, "unit", ALL),
    # pending in wmx at generation time (added on other branches)
    ("expm1", mx.expm1, "any", ALL), ("log2", mx.log2, "pos", ALL),
    ("log10", mx.log10, "pos", ALL), ("tan", mx.tan, "any", ALL),
    ("arcsin", mx.arcsin, "unit", ALL), ("arccos", mx.arccos, "unit", ALL),
    ("arctan", mx.arctan, "any", ALL), ("sinh", mx.sinh, "any", ALL),
    ("cosh", mx.cosh, "any", ALL), ("arcsinh", mx.arcsinh, "any", ALL),
    ("arccosh", mx.arccosh, "gt1", ALL), ("arctanh", mx.arctanh, "unit", ALL),
    ("trunc", mx.trunc, "any", ALL), ("degrees", mx.degrees, "any", ALL),
    ("radians", mx.radians, "any", ALL), ("isnan", mx.isnan, "any", ALL),
    ("isinf", mx.isinf, "any", ALL), ("isfinite", mx.isfinite, "any", ALL),
    ("isposinf", mx.isposinf, "any", ALL), ("isneginf", mx.isneginf, "any", ALL),
    ("bitwise_invert", mx.bitwise_invert, "any", ALL),
]


def gen_unary():
    for name, fn, kind, dts in UNARY:
        for dt in dts:
            shapes = SHAPES if dt in ("float32", "int32") else [(), (7,)]
            for s in shapes:
                O.case("unary", name, fn, [Arg(dt, s, kind=kind)])
            if dt in ("float32", "float16", "int32", "uint8"):
                for a in view_args(dt, kind)[:2 if dt != "float32" else 3]:
                    O.case("unary", name, fn, [a])
            e = edge_arg(dt, kind)
            if e is not None:
                O.case("unary", name, fn, [e])
    # round(a, decimals) and nan_to_num(a, nan, posinf, neginf)
    for dt in ALL:
        for d in ([0, 1, 2, -1] if dt in FLOATS else [0, -1]):
            O.case("unary", "round", lambda a, d=d: mx.round(a, d),
                   [Arg(dt, (11,), kind="any")], decimals=d)
        e = edge_arg(dt, "any")
        O.case("unary", "round", lambda a: mx.round(a, 0), [e], decimals=0)
    O.case("unary", "round", lambda a: mx.round(a, 0),
           [Arg("float32", (8,), vals=[0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, 4.5])], decimals=0)
    O.case("unary", "round", lambda a: mx.round(a, 0),
           [Arg("float32", (3, 5), view=[("transpose", (1, 0))])], decimals=0)
    for dt in ALL:
        for nan, pi, ni in [(0.0, None, None), (1.5, 100.0, -100.0), (-7.0, None, 3.0)]:
            e = edge_arg(dt, "any")
            O.case("unary", "nan_to_num", lambda a, n=nan, p=pi, q=ni: mx.nan_to_num(a, n, p, q),
                   [e], nan=nan, posinf=pi, neginf=ni)
    O.case("unary", "nan_to_num", lambda a: mx.nan_to_num(a),
           [Arg("float32", (4, 3), vals=[NAN, INF, -INF] * 4, view=[("transpose", (1, 0))])],
           nan=0.0, posinf=None, neginf=None)


# ----------------------------------------------------------------------------------------------
# Binary ops.

def binop(f):
    return lambda a, b: f(a, b)


BINARY = [
    ("add", mx.add, "any", "any"), ("subtract", mx.subtract, "any", "any"),
    ("multiply", mx.multiply, "any", "any"), ("divide", mx.divide, "any", "nonzero"),
    ("power", mx.power, "pos", "exp"), ("maximum", mx.maximum, "any", "any"),
    ("minimum", mx.minimum, "any", "any"), ("equal", mx.equal, "small", "small"),
    ("not_equal", mx.not_equal, "small", "small"), ("less", mx.less, "small", "small"),
    ("less_equal", mx.less_equal, "small", "small"), ("greater", mx.greater, "small", "small"),
    ("greater_equal", mx.greater_equal, "small", "small"),
    ("logical_and", mx.logical_and, "small", "small"),
    ("logical_or", mx.logical_or, "small", "small"),
    # pending
    ("floor_divide", mx.floor_divide, "any", "nonzero"),
    ("remainder", mx.remainder, "any", "nonzero"), ("divmod", mx.divmod, "any", "nonzero"),
    ("logaddexp", mx.logaddexp, "any", "any"), ("arctan2", mx.arctan2, "any", "any"),
    ("logical_xor", lambda a, b: mx.logical_xor(a, b) if hasattr(mx, "logical_xor")
     else mx.not_equal(a.astype(mx.bool_), b.astype(mx.bool_)), "small", "small"),
    ("bitwise_and", mx.bitwise_and, "any", "any"), ("bitwise_or", mx.bitwise_or, "any", "any"),
    ("bitwise_xor", mx.bitwise_xor, "any", "any"),
    ("left_shift", mx.left_shift, "any", "shift"),
    ("right_shift", mx.right_shift, "any", "shift"),
]

BIN_SHAPES = [((), ()), ((), (5,)), ((0,), (1,)), ((1,), (6,)), ((7,), (7,)),
              ((2, 3, 4), (3, 4)), ((3, 1), (1, 4)), ((2, 1, 4), (3, 1))]
MIXED = [("int32", "float16"), ("bool", "uint8"), ("uint8", "int32"), ("float16", "bfloat16"),
         ("uint32", "float32"), ("bool", "float32"), ("int32", "bfloat16")]
NO_INT_EDGE = {"divide", "floor_divide", "remainder", "divmod", "power", "left_shift",
               "right_shift"}


def gen_binary():
    for name, fn, ka, kb in BINARY:
        f = binop(fn)
        for dt in ALL:
            shapes = BIN_SHAPES if dt in ("float32", "int32") else BIN_SHAPES[1:2] + BIN_SHAPES[5:7]
            for sa, sb in shapes:
                O.case("binary", name, f, [Arg(dt, sa, kind=ka), Arg(dt, sb, kind=kb)])
            if dt in ("float32", "uint8", "float16"):
                a = Arg(dt, (4, 3), kind=ka, view=[("transpose", (1, 0))])
                b = Arg(dt, (3, 8), kind=kb, view=[("slice", ((0, 3, 1), (7, -9, -2)))])
                O.case("binary", name, f, [a, b])
                a = Arg(dt, (1, 4), kind=ka, view=[("broadcast", (3, 4))])
                b = Arg(dt, (4, 3), kind=kb, view=[("transpose", (1, 0))])
                O.case("binary", name, f, [a, b])
            # all pairs of edge values
            if not (dt in INTS + ["bool"] and name in NO_INT_EDGE):
                ev = EDGE2[dt]
                k = len(ev)
                O.case("binary", name, f, [Arg(dt, (k, 1), vals=ev), Arg(dt, (1, k), vals=ev)])
        for da, db in MIXED:
            O.case("binary", name, f, [Arg(da, (5,), kind=ka), Arg(db, (5,), kind=kb)])
        O.case("binary", name, f, [Arg("float32", (3,)), Arg("float32", (4,))])
    # integer division and shifts with signed edge values that are well defined
    for name, fn in [("floor_divide", mx.floor_divide), ("remainder", mx.remainder),
                     ("divmod", mx.divmod)]:
        a = [7, -7, 7, -7, 0, 100, -100, 2**31 - 1, -(2**31) + 1, 1]
        b = [2, 2, -2, -2, 3, 7, 7, 3, 3, -1]
        O.case("binary", name, binop(fn), [Arg("int32", (10,), vals=a), Arg("int32", (10,), vals=b)])
        O.case("binary", name, binop(fn), [
            Arg("float32", (8,), vals=[7.5, -7.5, 7.5, -7.5, 0.0, -0.0, 5.0, INF]),
            Arg("float32", (8,), vals=[2.0, 2.0, -2.0, -2.0, 3.0, 3.0, 0.0, 2.0])])
    for name, fn in [("isclose", mx.isclose), ("allclose", mx.allclose)]:
        for dt in ["float32", "float16", "bfloat16", "int32"]:
            for rtol, atol, eqn in [(1e-5, 1e-8, False), (1e-2, 0.5, True), (0.0, 0.0, False)]:
                a = Arg(dt, (len(EDGE2[dt]),), vals=EDGE2[dt])
                noise = [x * 1.001 if dt in FLOATS else x for x in EDGE2[dt]]
                b = Arg(dt, (len(EDGE2[dt]),), vals=noise)
                O.case("binary", name,
                       lambda x, y, r=rtol, t=atol, q=eqn: fn(x, y, rtol=r, atol=t, equal_nan=q),
                       [a, b], rtol=rtol, atol=atol, equal_nan=eqn)
            O.case("binary", name, lambda x, y: fn(x, y), [Arg(dt, (3, 1)), Arg(dt, (4,))],
                   rtol=1e-5, atol=1e-8, equal_nan=False)
    for dt in ["float32", "int32", "bool", "float16"]:
        for eqn in [False, True]:
            v = EDGE2[dt]
            O.case("binary", "array_equal", lambda x, y, q=eqn: mx.array_equal(x, y, equal_nan=q),
                   [Arg(dt, (len(v),), vals=v), Arg(dt, (len(v),), vals=v)], equal_nan=eqn)
        a = values(dt, 6)
        O.case("binary", "array_equal", lambda x, y: mx.array_equal(x, y),
               [Arg(dt, (2, 3), vals=a), Arg(dt, (3, 2), vals=a, view=[("transpose", (1, 0))])],
               equal_nan=False)
        O.case("binary", "array_equal", lambda x, y: mx.array_equal(x, y),
               [Arg(dt, (6,), vals=a), Arg(dt, (2, 3), vals=a)], equal_nan=False)
    # where and clip
    for dt in ALL:
        for sc, sx, sy in [((), (), ()), ((7,), (7,), (7,)), ((2, 3, 4), (3, 4), ()),
                           ((3, 1), (1, 4), (3, 4)), ((0,), (1,), (0,))]:
            O.case("binary", "where", mx.where,
                   [Arg("bool", sc), Arg(dt, sx), Arg(dt, sy)])
        e = EDGE[dt]
        O.case("binary", "where", mx.where,
               [Arg("bool", (len(e),)), Arg(dt, (len(e),), vals=e), Arg(dt, (len(e),), vals=e[::-1])])
    for dx, dy in MIXED[:4]:
        O.case("binary", "where", mx.where, [Arg("int32", (5,), kind="small"), Arg(dx, (5,)), Arg(dy, (5,))])
    O.case("binary", "where", mx.where,
           [Arg("bool", (4, 3), view=[("transpose", (1, 0))]),
            Arg("float32", (3, 8), view=[("slice", ((0, 3, 1), (0, 8, 2)))]), Arg("float32", (1,))])
    O.case("binary", "where", mx.where, [Arg("bool", (3,)), Arg("float32", (4,)), Arg("float32", (3,))])
    for dt in ALL:
        lo, hi = (-1.5, 2.0) if dt in FLOATS else (2, 100)
        if dt == "bool":
            lo, hi = False, True
        O.case("binary", "clip", lambda a, l, h: mx.clip(a, l, h),
               [Arg(dt, (len(EDGE[dt]),), vals=EDGE[dt]), Arg(dt, (), vals=[lo]), Arg(dt, (), vals=[hi])],
               bounds="both")
        O.case("binary", "clip", lambda a, l: mx.clip(a, l, None),
               [Arg(dt, (2, 3, 4)), Arg(dt, (4,))], bounds="min")
        O.case("binary", "clip", lambda a, h: mx.clip(a, None, h),
               [Arg(dt, (3, 5), view=[("transpose", (1, 0))]), Arg(dt, (), vals=[hi])], bounds="max")
    O.case("binary", "clip", lambda a, l, h: mx.clip(a, l, h),
           [Arg("int32", (6,)), Arg("float32", (), vals=[-1.5]), Arg("float32", (), vals=[2.5])],
           bounds="both")


# ----------------------------------------------------------------------------------------------
# Reductions, scans, sorting.

RED_SHAPES = [((), []), ((0,), []), ((1,), []), ((7,), []), ((7,), [0]), ((2, 3, 4), []),
              ((2, 3, 4), [1]), ((2, 3, 4), [0, 2]), ((2, 3, 4), [-1]), ((3, 0, 2), [1]),
              ((3, 0, 2), [0])]


def axes_arg(ax):
    return None if not ax else ax


def gen_reduce():
    reds = [("sum", mx.sum), ("prod", mx.prod), ("max", mx.max), ("min", mx.min),
            ("all", mx.all), ("any", mx.any), ("mean", mx.mean), ("logsumexp", mx.logsumexp)]
    for name, fn in reds:
        for dt in ALL:
            kind = "small" if name == "prod" else "any"
            for i, (s, ax) in enumerate(RED_SHAPES):
                if dt not in ("float32", "int32") and i not in (3, 6):
                    continue
                kd = i % 2 == 0
                O.case("reduce", name, lambda a, f=fn, ax=ax, kd=kd: f(a, axis=axes_arg(ax), keepdims=kd),
                       [Arg(dt, s, kind=kind)], axes=ax, keepdims=kd)
            v = Arg(dt, (3, 4, 5), kind=kind,
                    view=[("slice", ((0, 3, 2), (3, -5, -1), (0, 5, 2))), ("transpose", (2, 0, 1))])
            O.case("reduce", name, lambda a, f=fn: f(a, axis=[0, 2], keepdims=False), [v],
                   axes=[0, 2], keepdims=False)
            e = EDGE[dt]
            O.case("reduce", name, lambda a, f=fn: f(a, axis=None, keepdims=False),
                   [Arg(dt, (len(e),), vals=e)], axes=[], keepdims=False)
            O.case("reduce", name, lambda a, f=fn: f(a, axis=[0], keepdims=False),
                   [Arg(dt, (len(e), 2), vals=e + e[::-1])], axes=[0], keepdims=False)
        O.case("reduce", name, lambda a, f=fn: f(a, axis=[3], keepdims=False),
               [Arg("float32", (2, 3))], axes=[3], keepdims=False)
        O.case("reduce", name, lambda a, f=fn: f(a, axis=[0, 0], keepdims=False),
               [Arg("float32", (2, 3))], axes=[0, 0], keepdims=False)
    # a long row so that tree-shaped and sequential sums differ: tolerance must cover it
    O.case("reduce", "sum", lambda a: mx.sum(a, axis=[1]), [Arg("float32", (3, 1000))],
           axes=[1], keepdims=False)
    O.case("reduce", "sum", lambda a: mx.sum(a, axis=[0]), [Arg("float32", (1000, 3))],
           axes=[0], keepdims=False)
    for name, fn in [("var", mx.var), ("std", mx.std)]:
        for dt in ["float32", "float16", "bfloat16", "int32", "uint8", "bool"]:
            for s, ax, kd, dd in [((7,), [], False, 0), ((2, 3, 4), [1], True, 1),
                                  ((2, 3, 4), [0, 2], False, 0), ((1,), [], False, 1),
                                  ((0,), [], False, 0)]:
                if dt not in ("float32",) and s == (0,):
                    continue
                O.case("reduce", name, lambda a, f=fn, ax=ax, kd=kd, dd=dd:
                       f(a, axis=axes_arg(ax), keepdims=kd, ddof=dd),
                       [Arg(dt, s)], axes=ax, keepdims=kd, ddof=dd)
        O.case("reduce", name, lambda a, f=fn: f(a, axis=None, keepdims=False, ddof=0),
               [Arg("float32", (len(EDGE["float32"]),), vals=EDGE["float32"])], axes=[],
               keepdims=False, ddof=0)
    for dt in ["float32", "float16", "bfloat16", "int32", "uint8"]:
        for s, ax, kd in [((7,), [], False), ((6,), [], False), ((2, 3, 4), [1], True),
                          ((2, 3, 4), [0, 2], False), ((1,), [], False)]:
            O.case("reduce", "median", lambda a, ax=ax, kd=kd: mx.median(a, axis=axes_arg(ax), keepdims=kd),
                   [Arg(dt, s)], axes=ax, keepdims=kd)
    # arg reductions
    for name, fn in [("argmax", mx.argmax), ("argmin", mx.argmin)]:
        for dt in ALL:
            for s, ax, kd in [((1,), 0, False), ((7,), 0, True), ((2, 3, 4), 1, False),
                              ((2, 3, 4), -1, True), ((2, 3, 4), 0, False), ((3, 0), 0, False)]:
                if dt not in ("float32", "int32") and s != (2, 3, 4):
                    continue
                O.case("reduce", name, lambda a, f=fn, ax=ax, kd=kd: f(a, axis=ax, keepdims=kd),
                       [Arg(dt, s, kind="small")], axis=ax, keepdims=kd)
            e = EDGE[dt]
            O.case("reduce", name, lambda a, f=fn: f(a, axis=0, keepdims=False),
                   [Arg(dt, (len(e),), vals=e)], axis=0, keepdims=False)
            O.case("reduce", name, lambda a, f=fn: f(a, axis=1, keepdims=False),
                   [Arg(dt, (4, 3), kind="small", view=[("transpose", (1, 0))])], axis=1, keepdims=False)
        # ties: the first index wins
        O.case("reduce", name, lambda a, f=fn: f(a, axis=0, keepdims=False),
               [Arg("float32", (6,), vals=[1, 3, 3, 0, 0, 3])], axis=0, keepdims=False)
        O.case("reduce", name, lambda a, f=fn: f(a, axis=2, keepdims=False),
               [Arg("float32", (2, 3))], axis=2, keepdims=False)
    # softmax
    for dt in ["float32", "float16", "bfloat16", "int32", "bool"]:
        for s, ax in [((7,), [0]), ((2, 3, 4), [-1]), ((2, 3, 4), [0, 2]), ((1,), [0]),
                      ((0, 3), [1])]:
            O.case("reduce", "softmax", lambda a, ax=ax: mx.softmax(a, axis=ax), [Arg(dt, s)], axes=ax)
    O.case("reduce", "softmax", lambda a: mx.softmax(a, axis=[1]),
           [Arg("float32", (3, 4), vals=[0, 1, 2, 3, INF, 1, 2, 3, -INF, -INF, 0, 1])], axes=[1])
    O.case("reduce", "softmax", lambda a: mx.softmax(a, axis=[0]),
           [Arg("float32", (3, 5), view=[("transpose", (1, 0))])], axes=[0])
    # scans
    scans = [("cumsum", mx.cumsum), ("cumprod", mx.cumprod), ("cummax", mx.cummax),
             ("cummin", mx.cummin), ("logcumsumexp", mx.logcumsumexp)]
    for name, fn in scans:
        for dt in ALL:
            kind = "small" if name == "cumprod" else "any"
            opts = [((7,), 0, False, True), ((2, 3, 4), 1, True, True),
                    ((2, 3, 4), -1, False, False), ((2, 3, 4), None, False, True),
                    ((0,), 0, False, True), ((3, 5), 0, True, False)]
            for i, (s, ax, rev, inc) in enumerate(opts):
                if dt not in ("float32", "int32") and i not in (1, 2):
                    continue
                O.case("reduce", name, lambda a, f=fn, ax=ax, r=rev, c=inc: f(a, axis=ax, reverse=r, inclusive=c),
                       [Arg(dt, s, kind=kind)], axis=ax, reverse=rev, inclusive=inc)
            e = EDGE[dt]
            O.case("reduce", name, lambda a, f=fn: f(a, axis=0),
                   [Arg(dt, (len(e),), vals=e)], axis=0, reverse=False, inclusive=True)
        O.case("reduce", name, lambda a, f=fn: f(a, axis=1),
               [Arg("float32", (3, 5), view=[("transpose", (1, 0))])], axis=1, reverse=False,
               inclusive=True)
        O.case("reduce", name, lambda a, f=fn: f(a, axis=1, reverse=True),
               [Arg("float32", (200, 3), view=[("transpose", (1, 0))])], axis=1, reverse=True,
               inclusive=True)


def gen_sort():
    for name, fn in [("sort", mx.sort), ("argsort", mx.argsort)]:
        for dt in ALL:
            for s, ax in [((7,), 0), ((2, 3, 4), -1), ((2, 3, 4), 0), ((2, 3, 4), 1), ((1,), 0),
                          ((0,), 0), ((), None), ((300,), 0)]:
                if dt not in ("float32", "int32") and s not in ((2, 3, 4), (300,)):
                    continue
                if ax is None:
                    continue
                O.case("sort", name, lambda a, f=fn, ax=ax: f(a, axis=ax),
                       [Arg(dt, s, kind="small")], axis=ax)
            e = EDGE[dt]
            O.case("sort", name, lambda a, f=fn: f(a, axis=0), [Arg(dt, (len(e),), vals=e)], axis=0)
            O.case("sort", name, lambda a, f=fn: f(a, axis=0),
                   [Arg(dt, (4, 3), kind="small", view=[("transpose", (1, 0))])], axis=0)
        O.case("sort", name, lambda a, f=fn: f(a, axis=2), [Arg("float32", (3,))], axis=2)
    for name, fn in [("partition", mx.partition), ("argpartition", mx.argpartition)]:
        # only the value multiset on each side is specified; the runner compares `partition`
        # exactly only at kth and checks the sides, so cases use distinct values
        for dt in ["float32", "int32", "float16", "uint8"]:
            for s, kth, ax in [((7,), 3, 0), ((2, 3, 5), 0, -1), ((2, 5, 3), 4, 1), ((6,), -1, 0)]:
                n = int(np.prod(s))
                vals = rng.permutation(n).astype(np.float32) - (n // 2 if dt in ("float32", "int32", "float16") else 0)
                O.case("sort", name, lambda a, f=fn, k=kth, ax=ax: f(a, kth=k, axis=ax),
                       [Arg(dt, s, vals=vals)], kth=kth, axis=ax)
    for dt in ["float32", "int32", "float16", "bfloat16", "uint8", "uint32"]:
        for s, k, ax in [((7,), 3, 0), ((2, 3, 5), 2, -1), ((2, 5, 3), 1, 1), ((4,), 4, 0)]:
            n = int(np.prod(s))
            vals = rng.permutation(n).astype(np.float32)
            # MLX's topk returns the k largest in unspecified order: record them sorted
            O.case("sort", "topk", lambda a, k=k, ax=ax: mx.sort(mx.topk(a, k, axis=ax), axis=ax),
                   [Arg(dt, s, vals=vals)], k=k, axis=ax)
    O.case("sort", "topk", lambda a: mx.topk(a, 5, axis=0), [Arg("float32", (3,))], k=5, axis=0)
    for dt in ["float32", "int32", "uint8", "float16"]:
        for side in ["left", "right"]:
            seq = np.sort(values(dt, 9, "small"))
            O.case("sort", "searchsorted", lambda a, v, sd=side: mx.searchsorted(a, v, side=sd),
                   [Arg(dt, (9,), vals=seq), Arg(dt, (2, 4), kind="small")], side=side)
            O.case("sort", "searchsorted", lambda a, v, sd=side: mx.searchsorted(a, v, side=sd),
                   [Arg(dt, (0,)), Arg(dt, (3,), kind="small")], side=side)


# ----------------------------------------------------------------------------------------------
# Shape and view ops.

def gen_shape():
    dts = ["float32", "bool", "uint8", "int32", "bfloat16", "float16", "uint32"]
    for dt in dts:
        big = dt in ("float32", "int32")
        c = lambda op, fn, args, **p: O.case("shape", op, fn, args, **p)
        for s, ns in [((2, 3, 4), (4, -1)), ((6,), (2, 3)), ((), (1, 1)), ((0, 3), (3, 0, 5)),
                      ((2, 3), (7,))]:
            if big or ns == (4, -1):
                c("reshape", lambda a, ns=ns: mx.reshape(a, ns), [Arg(dt, s)], shape=ns)
        c("reshape", lambda a: mx.reshape(a, (-1,)),
          [Arg(dt, (3, 4), view=[("transpose", (1, 0))])], shape=[-1])
        for s, p in [((2, 3, 4), (2, 0, 1)), ((3, 5), (1, 0)), ((), ()), ((2, 3), (0, 0))]:
            if big or p == (2, 0, 1):
                c("transpose", lambda a, p=p: mx.transpose(a, p), [Arg(dt, s)], axes=p)
        for s, ns in [((3, 1), (2, 3, 4)), ((), (2, 2)), ((1,), (0,)), ((3,), (4,))]:
            if big or ns == (2, 3, 4):
                c("broadcast_to", lambda a, ns=ns: mx.broadcast_to(a, ns), [Arg(dt, s)], shape=ns)
        for s, ax in [((1, 3, 1), [0, 2]), ((1, 3, 1), []), ((2, 3), [0])]:
            if big or ax == [0, 2]:
                c("squeeze", lambda a, ax=ax: mx.squeeze(a, axis=axes_arg(ax)), [Arg(dt, s)], axes=ax)
        for s, ax in [((2, 3), [0, 3]), ((), [0]), ((2,), [-1]), ((2,), [5])]:
            if big or ax == [0, 3]:
                c("expand_dims", lambda a, ax=ax: mx.expand_dims(a, ax), [Arg(dt, s)], axes=ax)
        for s, st, en in [((2, 3, 4), 0, -1), ((2, 3, 4), 1, 2), ((), 0, -1), ((2, 3), 1, 0)]:
            if big or (st, en) == (1, 2):
                c("flatten", lambda a, st=st, en=en: mx.flatten(a, st, en), [Arg(dt, s)],
                  start_axis=st, end_axis=en)
        for s, sl in [((5, 6), ((1, 4, 1), (0, 6, 2))), ((7,), ((6, -8, -2),)),
                      ((2, 3, 4), ((0, 2, 1), (2, 0, -1), (1, 100, 2))), ((4,), ((3, 1, 1),))]:
            if big or len(sl) == 3:
                st_ = [t[0] for t in sl]
                sp = [t[1] for t in sl]
                sd = [t[2] for t in sl]
                c("slice", lambda a, sl=sl: a[tuple(slice(*t) for t in sl)], [Arg(dt, s)],
                  start=st_, stop=sp, strides=sd)
        for shapes, ax in [([(2, 3), (4, 3)], 0), ([(2, 3), (2, 1), (2, 0)], 1),
                           ([(2, 3, 4)] * 3, -1), ([(2, 3), (2, 4)], 0)]:
            if big or ax == -1:
                c("concatenate", lambda *a, ax=ax: mx.concatenate(a, axis=ax),
                  [Arg(dt, s) for s in shapes], axis=ax)
        for shapes, ax in [([(2, 3)] * 3, 0), ([(2, 3)] * 2, -1), ([(), ()], 0), ([(2,), (3,)], 0)]:
            if big or ax == -1:
                c("stack", lambda *a, ax=ax: mx.stack(a, axis=ax), [Arg(dt, s) for s in shapes], axis=ax)
        for s, n, ax in [((6, 2), 3, 0), ((2, 6), 2, -1), ((5,), 2, 0)]:
            if big or n == 2 and ax == -1:
                c("split", lambda a, n=n, ax=ax: mx.split(a, n, axis=ax), [Arg(dt, s)], num=n, axis=ax)
        for s, idx, ax in [((7,), [2, 5], 0), ((3, 4), [1, -1], 1), ((4,), [3, 1], 0)]:
            if big or ax == 1:
                c("split_at", lambda a, idx=idx, ax=ax: mx.split(a, idx, axis=ax), [Arg(dt, s)],
                  indices=idx, axis=ax)
        c("contiguous", mx.contiguous,
          [Arg(dt, (3, 4, 5), view=[("slice", ((2, -4, -1), (0, 4, 3), (1, 5, 1))), ("transpose", (1, 2, 0))])])
        c("contiguous", mx.contiguous, [Arg(dt, (3, 1), view=[("broadcast", (2, 3, 4))])])
    # astype: every pair, on edge values
    for src in ALL:
        for dst in ALL:
            e = EDGE[src]
            O.case("shape", "astype", lambda a, d=dst: a.astype(DT[d]), [Arg(src, (len(e),), vals=e)], dtype=dst)
        O.case("shape", "astype", lambda a: a.astype(mx.float16),
               [Arg(src, (3, 4), view=[("transpose", (1, 0))])], dtype="float16")
    O.case("shape", "astype", lambda a: a.astype(mx.int32),
           [Arg("float32", (10,), vals=[0.5, -0.5, 1.9999, -1.9999, 2.5, 1e9, -1e9, 16777217.0, 3.0, -3.0])],
           dtype="int32")
    # pending shape ops
    for dt in ["float32", "int32", "bool", "float16", "uint8"]:
        big = dt in ("float32", "int32")
        c = lambda op, fn, args, **p: O.case("shape", op, fn, args, **p)
        for s, a1, a2 in [((2, 3, 4), 0, 2), ((2, 3), -1, 0), ((2,), 0, 1)]:
            if big or a1 == 0 and a2 == 2:
                c("swapaxes", lambda a, x=a1, y=a2: mx.swapaxes(a, x, y), [Arg(dt, s)], axis1=a1, axis2=a2)
        for s, src, dst in [((2, 3, 4), 0, -1), ((2, 3, 4), 2, 0), ((2, 3), 0, 5)]:
            if big or src == 0:
                c("moveaxis", lambda a, x=src, y=dst: mx.moveaxis(a, x, y), [Arg(dt, s)],
                  source=src, destination=dst)
        for s, p in [((2, 3, 4), (1, 2, 0)), ((3, 5), (1, 0)), ((2, 3), (0,))]:
            if big or len(p) == 3:
                c("permute_dims", lambda a, p=p: mx.permute_dims(a, p), [Arg(dt, s)], axes=p)
        for name, fn in [("atleast_1d", mx.atleast_1d), ("atleast_2d", mx.atleast_2d),
                         ("atleast_3d", mx.atleast_3d)]:
            for s in [(), (3,), (2, 3), (2, 3, 4, 1)]:
                if big or s == (3,):
                    c(name, fn, [Arg(dt, s)])
        for s, reps in [((2, 3), [2]), ((3,), [2, 2]), ((2, 1, 2), [1, 3, 1]), ((2,), [0])]:
            if big or reps == [2, 2]:
                c("tile", lambda a, r=reps: mx.tile(a, r), [Arg(dt, s)], reps=reps)
        for s, r, ax in [((2, 3), 2, None), ((2, 3), 3, 1), ((3,), 0, 0), ((2, 3), 2, -1)]:
            if big or (r, ax) == (3, 1):
                c("repeat", lambda a, r=r, ax=ax: mx.repeat(a, r, axis=ax), [Arg(dt, s)], repeats=r, axis=ax)
        for s, pw, mode, cv in [((2, 3), [(1, 2), (0, 1)], "constant", 0), ((3,), [(2, 2)], "constant", 5),
                                ((3, 4), [(1, 1), (2, 2)], "edge", 0), ((4,), [(2, 3)], "reflect", 0),
                                ((4,), [(2, 3)], "symmetric", 0), ((0, 2), [(1, 1), (1, 1)], "constant", 1)]:
            if big or mode == "edge":
                flat = [x for p in pw for x in p]
                c("pad", lambda a, pw=pw, m=mode, v=cv: mx.pad(a, pw, mode=m, constant_values=v),
                  [Arg(dt, s)], pad_width=flat, mode=mode, value=float(cv))
        for s, sh, ax in [((7,), [2], None), ((2, 3, 4), [1], [1]), ((2, 3, 4), [-1, 5], [0, 2]),
                          ((2, 3), [4], None), ((0,), [1], None)]:
            if big or ax == [1]:
                c("roll", lambda a, sh=sh, ax=ax: mx.roll(a, tuple(sh) if len(sh) > 1 else sh[0],
                                                          axis=None if ax is None else (tuple(ax) if len(ax) > 1 else ax[0])),
                  [Arg(dt, s)], shift=sh, axes=ax)
        for s, ax in [((7,), None), ((2, 3, 4), [1]), ((2, 3, 4), [0, 2]), ((3, 5), [-1])]:
            if big or ax == [1]:
                c("flip", lambda a, ax=ax: mx.flip(a, axis=ax), [Arg(dt, s)], axes=ax)
        for s, ax in [((3, 2), 0), ((2, 3, 4), 1), ((2, 3), -1)]:
            if big or ax == 1:
                c("unstack", lambda a, ax=ax: mx.unstack(a, axis=ax), [Arg(dt, s)], axis=ax)
        for s, k in [((4,), 0), ((3,), 1), ((3, 4), 0), ((3, 4), -1), ((3, 4), 2)]:
            if big or s == (3, 4) and k == 0:
                c("diag", lambda a, k=k: mx.diag(a, k=k), [Arg(dt, s)], k=k)
        for s, off, a1, a2 in [((3, 4), 0, 0, 1), ((3, 4), 1, 0, 1), ((2, 3, 4), -1, 1, 2),
                               ((2, 3, 4), 0, 2, 0)]:
            if big or off == 1:
                c("diagonal", lambda a, o=off, x=a1, y=a2: mx.diagonal(a, o, x, y), [Arg(dt, s)],
                  offset=off, axis1=a1, axis2=a2)
        for s, off, a1, a2 in [((3, 4), 0, 0, 1), ((3, 4), 1, 0, 1), ((2, 3, 4), -1, 1, 2)]:
            if big or off == 1:
                c("trace", lambda a, o=off, x=a1, y=a2: mx.trace(a, o, x, y), [Arg(dt, s)],
                  offset=off, axis1=a1, axis2=a2)
        for name, fn in [("tril", mx.tril), ("triu", mx.triu)]:
            for s, k in [((3, 4), 0), ((4, 3), 1), ((2, 3, 3), -1), ((3,), 0)]:
                if big or k == 0 and s == (3, 4):
                    c(name, lambda a, f=fn, k=k: f(a, k), [Arg(dt, s)], k=k)
        for shapes, idx in [([(3,), (2,)], "xy"), ([(3,), (2,)], "ij"), ([(2,), (3,), (4,)], "xy"),
                            ([(3,)], "ij")]:
            if big or idx == "ij" and len(shapes) == 2:
                c("meshgrid", lambda *a, i=idx: mx.meshgrid(*a, indexing=i), [Arg(dt, s) for s in shapes],
                  indexing=idx)
        for s, shp, strd, off in [((12,), (3, 4), (4, 1), 0), ((12,), (3, 3), (1, 3), 1),
                                  ((3, 4), (2, 2), (0, 1), 5), ((6,), (4,), (-1,), 5)]:
            if big or strd == (1, 3):
                c("as_strided", lambda a, sh=shp, st=strd, o=off: mx.as_strided(a, sh, st, o), [Arg(dt, s)],
                  shape=shp, strides=strd, offset=off)
    for dt in ["float32", "int32", "bool", "float16", "bfloat16"]:
        for n, m, k in [(3, None, 0), (3, 4, 1), (4, 2, -1), (0, None, 0)]:
            O.case("creation", "tri", lambda n=n, m=m, k=k: mx.tri(n, m, k, dtype=DT[dt]), [],
                   n=n, m=m, k=k, dtype=dt)


# ----------------------------------------------------------------------------------------------
# Indexing: take, take_along_axis, put_along_axis, scatter family, slice_update.

def gen_index():
    for dt in ALL:
        big = dt in ("float32", "int32")
        for s, idx, ishape, ax in [((5,), [0, 4, -1, 2], (4,), 0), ((3, 4), [1, 0, 2, -3], (2, 2), 0),
                                   ((2, 3, 4), [3, 0], (2,), -1), ((2, 3, 4), [], (0,), 1),
                                   ((3, 4), [2], (), 1)]:
            if big or ax == -1:
                O.case("index", "take", lambda a, i, ax=ax: mx.take(a, i, axis=ax),
                       [Arg(dt, s), Arg("int32", ishape, vals=idx)], axis=ax)
        O.case("index", "take", lambda a, i: mx.take(a, i, axis=0),
               [Arg(dt, (4, 3), view=[("transpose", (1, 0))]), Arg("uint32", (3,), vals=[2, 0, 2])], axis=0)
    O.case("index", "take", lambda a, i: mx.take(a, i, axis=0),
           [Arg("float32", (3,)), Arg("uint8", (2,), vals=[2, 1])], axis=0)
    O.case("index", "take", lambda a, i: mx.take(a, i, axis=0),
           [Arg("float32", (3,)), Arg("float32", (2,), vals=[2, 1])], axis=0)
    O.case("index", "take", lambda a, i: mx.take(a, i, axis=2),
           [Arg("float32", (3,)), Arg("int32", (2,), vals=[2, 1])], axis=2)
    for dt in ["float32", "int32", "bool", "float16", "uint8"]:
        for s, ishape, ax in [((3, 4), (3, 2), 1), ((3, 4), (1, 4), 0), ((2, 3, 4), (2, 3, 1), -1),
                              ((5,), (3,), 0)]:
            n = s[ax]
            idx = rng.integers(-n, n, int(np.prod(ishape)))
            O.case("index", "take_along_axis", lambda a, i, ax=ax: mx.take_along_axis(a, i, axis=ax),
                   [Arg(dt, s), Arg("int32", ishape, vals=idx)], axis=ax)
            idx = np.array([rng.permutation(n)[:ishape[ax]] for _ in range(1)])  # distinct positions
            full = np.broadcast_to(np.expand_dims(np.arange(ishape[ax]), [d for d in range(len(s)) if d != (ax % len(s))]), ishape)
            pos = idx[0][full]
            O.case("index", "put_along_axis", lambda a, i, v, ax=ax: mx.put_along_axis(a, i, v, axis=ax),
                   [Arg(dt, s), Arg("int32", ishape, vals=pos.reshape(-1)), Arg(dt, ishape)], axis=ax)
    scat = [("scatter", lambda a, i, u: _scatter_set(a, i, u)),
            ("scatter_add", lambda a, i, u: a.at[i].add(u)),
            ("scatter_prod", lambda a, i, u: a.at[i].multiply(u)),
            ("scatter_max", lambda a, i, u: a.at[i].maximum(u)),
            ("scatter_min", lambda a, i, u: a.at[i].minimum(u))]
    for name, fn in scat:
        for dt in ["float32", "int32", "float16", "uint8", "bool"]:
            for s, idx in [((5,), [0, 3, 3, -1]), ((4, 3), [2, 0]), ((3, 2, 2), [1]), ((4,), [])]:
                if name == "scatter" and len(set(i % s[0] for i in idx)) != len(idx):
                    idx = sorted(set(i % s[0] for i in idx))
                ushape = (len(idx),) + s[1:]
                O.case("index", name, fn,
                       [Arg(dt, s, kind="small"), Arg("int32", (len(idx),), vals=idx), Arg(dt, ushape, kind="small")],
                       axis=0)
    for dt in ["float32", "int32", "bool", "float16", "uint8"]:
        for s, sl in [((5,), ((1, 3, 1),)), ((4, 5), ((0, 4, 2), (1, 5, 3))),
                      ((2, 3, 4), ((1, 2, 1), (0, 3, 1), (3, -1, -1)))]:
            ushape = tuple(len(range(*slice(*t).indices(d))) for t, d in zip(sl, s))
            O.case("index", "slice_update", lambda a, u, sl=sl: _slice_set(a, u, sl),
                   [Arg(dt, s), Arg(dt, ushape)],
                   start=[t[0] for t in sl], stop=[t[1] for t in sl], strides=[t[2] for t in sl])


def _scatter_set(a, i, u):
    b = mx.array(a)
    b[i] = u
    return b


def _slice_set(a, u, sl):
    b = mx.array(a)
    b[tuple(slice(*t) for t in sl)] = u
    return b


# ----------------------------------------------------------------------------------------------
# Creation ops (no array inputs, or *_like).

def gen_creation():
    for dt in ALL:
        for s in [(), (0,), (3,), (2, 3)]:
            O.case("creation", "zeros", lambda s=s, d=dt: mx.zeros(s, DT[d]), [], shape=s, dtype=dt)
            O.case("creation", "ones", lambda s=s, d=dt: mx.ones(s, DT[d]), [], shape=s, dtype=dt)
        for v in [0.0, -0.0, 2.5, -7.0, 1e10, INF, NAN, 300.0]:
            # mx.full(shape, python_float, dtype) returns float32 in MLX 0.32.4: cast the fill value
            O.case("creation", "full", lambda v=v, d=dt: mx.full((2, 2), mx.array(v).astype(DT[d])), [],
                   shape=(2, 2), value=v, dtype=dt)
        O.case("creation", "zeros_like", mx.zeros_like, [Arg(dt, (2, 3))])
        O.case("creation", "ones_like", mx.ones_like, [Arg(dt, (3, 4), view=[("transpose", (1, 0))])])
        for st, sp, step in [(0, 5, 1), (2, 11, 3), (5, 0, -1), (0.5, 3.0, 0.5), (3, 3, 1),
                             (-1, 1, 0.25), (0, 10, 100), (1, 0, 1)]:
            if dt == "bool":
                continue
            O.case("creation", "arange", lambda a=st, b=sp, c=step, d=dt: mx.arange(a, b, c, dtype=DT[d]), [],
                   start=float(st), stop=float(sp), step=float(step), dtype=dt)
        for st, sp, n in [(0, 1, 5), (-2.5, 2.5, 7), (3, -3, 4), (1, 1, 1), (0, 10, 0), (5, 6, 2)]:
            O.case("creation", "linspace", lambda a=st, b=sp, n=n, d=dt: mx.linspace(a, b, n, dtype=DT[d]), [],
                   start=float(st), stop=float(sp), num=n, dtype=dt)
        for n, m, k in [(3, None, 0), (2, 4, 1), (4, 3, -2), (0, None, 0), (3, 3, 5)]:
            O.case("creation", "eye", lambda n=n, m=m, k=k, d=dt: mx.eye(n, m, k, dtype=DT[d]), [],
                   n=n, m=m, k=k, dtype=dt)
        O.case("creation", "identity", lambda d=dt: mx.identity(3, dtype=DT[d]), [], n=3, dtype=dt)
    O.case("creation", "arange", lambda: mx.arange(0, 5, 0), [], start=0.0, stop=5.0, step=0.0, dtype="float32")
    O.case("creation", "arange", lambda: mx.arange(0, 5, 1, dtype=mx.bool_), [],
           start=0.0, stop=5.0, step=1.0, dtype="bool")
    O.case("creation", "zeros", lambda: mx.zeros((2, -1)), [], shape=(2, -1), dtype="float32")
    O.case("creation", "linspace", lambda: mx.linspace(0, 1, -1), [], start=0.0, stop=1.0, num=-1,
           dtype="float32")


# ----------------------------------------------------------------------------------------------
# Linear algebra: matmul, addmm, inner, outer, tensordot, einsum, linalg.norm.

def gen_linalg():
    for dt in ["float32", "float16", "bfloat16", "int32", "bool"]:
        for sa, sb in [((2, 3), (3, 4)), ((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)),
                       ((2, 1, 3, 4), (3, 4, 5)), ((0, 3), (3, 2)), ((2, 0), (0, 3)), ((1, 1), (1, 1)),
                       ((17, 33), (33, 9))]:
            if dt != "float32" and sa not in ((2, 3), (2, 1, 3, 4), (17, 33)):
                continue
            O.case("linalg", "matmul", mx.matmul, [Arg(dt, sa), Arg(dt, sb)])
    O.case("linalg", "matmul", mx.matmul,
           [Arg("float32", (4, 3), view=[("transpose", (1, 0))]),
            Arg("float32", (4, 10), view=[("slice", ((0, 4, 1), (0, 10, 2)))])])
    O.case("linalg", "matmul", mx.matmul,
           [Arg("float32", (3, 1), view=[("broadcast", (3, 4))]), Arg("float32", (4, 2))])
    O.case("linalg", "matmul", mx.matmul,
           [Arg("float32", (2, 2), vals=[INF, 1, NAN, 0]), Arg("float32", (2, 2), vals=[1, 0, 0, 1])])
    O.case("linalg", "matmul", mx.matmul, [Arg("float32", (2, 3)), Arg("float32", (4, 2))])
    O.case("linalg", "matmul", mx.matmul, [Arg("float32", ()), Arg("float32", (2, 2))])
    O.case("linalg", "matmul", mx.matmul, [Arg("float16", (2, 3)), Arg("bfloat16", (3, 2))])
    for dt in ["float32", "float16", "bfloat16"]:
        for sc, sa, sb, al, be in [((2, 4), (2, 3), (3, 4), 1.0, 1.0), ((4,), (2, 3), (3, 4), 0.5, 2.0),
                                   ((2, 1, 4), (2, 3), (3, 4), -1.0, 0.0)]:
            O.case("linalg", "addmm", lambda c, a, b, al=al, be=be: mx.addmm(c, a, b, alpha=al, beta=be),
                   [Arg(dt, sc), Arg(dt, sa), Arg(dt, sb)], alpha=al, beta=be)
    for dt in ["float32", "int32", "float16", "bool"]:
        for sa, sb in [((3,), (3,)), ((2, 3), (4, 3)), ((), (3,)), ((2, 3, 4), (4,))]:
            O.case("linalg", "inner", mx.inner, [Arg(dt, sa), Arg(dt, sb)])
        for sa, sb in [((3,), (4,)), ((2, 2), (3,)), ((), (3,)), ((0,), (2,))]:
            O.case("linalg", "outer", mx.outer, [Arg(dt, sa), Arg(dt, sb)])
    for dt in ["float32", "float16", "int32"]:
        for sa, sb, ax in [((2, 3, 4), (3, 4, 5), 2), ((2, 3), (3, 4), 1), ((2, 3), (4, 5), 0),
                           ((3, 4, 2), (4, 3, 5), [[0, 1], [1, 0]])]:
            kw = {"axes": ax} if isinstance(ax, int) else {"axes_a": ax[0], "axes_b": ax[1]}
            O.case("linalg", "tensordot", lambda a, b, ax=ax: mx.tensordot(a, b, axes=ax),
                   [Arg(dt, sa), Arg(dt, sb)], **kw)
    for dt in ["float32", "float16", "int32"]:
        for sub, shapes in [("ij,jk->ik", [(2, 3), (3, 4)]), ("ii->i", [(3, 3)]), ("ii", [(3, 3)]),
                            ("ij->ji", [(2, 3)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
                            ("i,j->ij", [(3,), (2,)]), ("ijk->", [(2, 3, 4)]), ("i,i", [(4,), (4,)])]:
            O.case("linalg", "einsum", lambda *a, sub=sub: mx.einsum(sub, *a), [Arg(dt, s) for s in shapes],
                   subscripts=sub)
    for dt in ["float32", "float16", "bfloat16"]:
        for s, ordv, ax, kd in [((7,), None, None, False), ((3, 4), None, None, False),
                                ((3, 4), "fro", None, True), ((7,), 1.0, None, False),
                                ((7,), INF, None, False), ((7,), -INF, None, False), ((7,), 0.0, None, False),
                                ((7,), 3.0, None, False), ((2, 3, 4), 2.0, [1], False),
                                ((2, 3, 4), None, [0, 2], True), ((3, 4), 1.0, [0, 1], False),
                                ((3, 4), INF, [0, 1], False), ((3, 4), -1.0, [0, 1], False)]:
            O.case("linalg", "linalg_norm", lambda a, o=ordv, ax=ax, kd=kd: mx.linalg.norm(a, o, ax, kd),
                   [Arg(dt, s)], ord=ordv, axes=ax, keepdims=kd)
    O.case("linalg", "linalg_norm", lambda a: mx.linalg.norm(a),
           [Arg("float32", (5,), vals=[3e20, 4e20, 0, 0, 0])], ord=None, axes=None, keepdims=False)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    if not os.environ.get("GEN_CONFORMANCE_CHILD"):
        # MLX 0.32.4's CPU stream sometimes deadlocks on a zero-size result (about one run in
        # two here). Generation is deterministic, so run it in a child process with a timeout
        # and retry: every attempt that finishes writes the same files.
        import subprocess
        env = dict(os.environ, GEN_CONFORMANCE_CHILD="1")
        for attempt in range(1, 9):
            try:
                r = subprocess.run([sys.executable, os.path.abspath(__file__), out_dir], env=env,
                                   timeout=90)
            except subprocess.TimeoutExpired:
                print("attempt %d hung in MLX; retrying" % attempt, file=sys.stderr)
                continue
            sys.exit(r.returncode)
        sys.exit("MLX hung on every attempt")
    gen_unary()
    gen_binary()
    gen_reduce()
    gen_sort()
    gen_shape()
    gen_index()
    gen_creation()
    gen_linalg()
    O.write(out_dir)
    total = sum(O.count.values())
    for op in sorted(O.count):
        print("%-16s %5d" % (op, O.count[op]))
    print("total %d cases (%d skipped: dtype not in wmx)" % (total, O.skipped))


if __name__ == "__main__":
    main()
