#!/usr/bin/env python3
"""Generate the MLX gradient fixtures that tests/grad_mlx.rs replays on wmx's transforms.

Usage:  python3 tools/gen_grad_fixtures.py [out_dir]
Default out_dir: tests/fixtures/grad/ (one .txt file per op family).

Needs the `mlx` Python package (the CPU build is enough) and numpy. Deterministic (fixed seed,
fixed emission order): re-running with the same MLX version reproduces the files byte for byte.

FILE FORMAT: the conformance format of tools/gen_conformance.py (see its docstring: `case`,
`in`, `out`, `err` lines, hex storage bits, view recipes, `key=value` params), extended with
these params on every `case` line:

  transform=vjp|jvp|vmap  which transform the case applies to the op
  nargs=<n>           the first n `in` lines are the op's arguments (with their views), in the
                      order the op takes them; the op's own params follow (`axes=`, `axis=`...,
                      named as in the conformance fixtures)
  argnums=<i,j,..>    vjp/jvp: which arguments are primals; the others are constants closed over
                      by the function (integer indices, scalar bounds, a `where` condition)
  nout=<n>            how many outputs the op has (split has several)
  in_axes=<a,..>      vmap: one entry per argument, an axis or `none` (unmapped)
  out_axes=<a,..>     vmap: one entry per output

  vjp : `in` lines = the nargs arguments, then one cotangent per output (view `-`);
        `out` lines = the op's nout outputs, then one vjp per primal (argnums order).
  jvp : `in` lines = the nargs arguments, then one tangent per primal (argnums order);
        `out` lines = the op's nout outputs, then one jvp per output.
  vmap: `in` lines = the nargs batched arguments; `out` lines = the vmapped outputs.
  err : MLX raised (message for reference; wmx must fail too).

Where MLX has no JVP rule (cumprod, cummax, cummin, scatter: "not implemented"), the jvp case is
still emitted, with `ref=vjp` and a `# MLX jvp: <error>` comment line before it: its expected
jvp is J t, with J's rows taken from MLX's vjp of one-hot cotangents (the same convention at ties
as MLX's vjp).

`divmod`: MLX's DivMod has zero derivatives for both outputs and a broken vmap (a garbage axis),
so besides the raw MLX vjp/jvp cases (KNOWN_DIFFS in tests/grad_mlx.rs) its cases carry
`ref=floor_divide,remainder`: the expected results are MLX's for (floor_divide(a, b),
remainder(a, b)), the same function with MLX's own rules.

Ops whose result order is unspecified are recorded composed with a sort along the same axis,
so the cotangents do not depend on the arrangement: `topk` is sort(topk(a)) (as in the
conformance fixtures) and `partition` is sort(partition(a)). `gather` is MLX C++'s gather
(result shape idx.shape + slice_sizes): Python's a[i, j] reshaped to that layout.
`scatter`/`scatter_add` index axis 0 with a 1-D index; updates have shape
idx.shape + a.shape[1:] (Python's a.at[idx]), as in the conformance fixtures.
"""

import os
import sys

import numpy as np
import mlx.core as mx

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_conformance as gc  # noqa: E402  (reused: Arg, bits, fmt_shape, fmt_val, values)

REPO = os.path.dirname(HERE)
DEFAULT_OUT = os.path.join(REPO, "tests", "fixtures", "grad")
NAME = gc.NAME
Arg = gc.Arg
gc.rng = np.random.default_rng(20261126)  # the generator's own stream (gc.values draws from it)
B = 2  # vmap batch size


def as_list(r):
    return list(r) if isinstance(r, (list, tuple)) else [r]


def fresh(dt, shape, kind="any"):
    return Arg(dt, shape, kind=kind)


class Out:
    def __init__(self):
        self.files, self.count = {}, {}

    def _emit(self, family, op, mode, params, args, extra, body):
        n = self.count.get(op, 0)
        self.count[op] = n + 1
        head = "case %s.%d %s transform=%s" % (op, n, op, mode)
        for k, v in params.items():
            head += " %s=%s" % (k, gc.fmt_val(v))
        lines = [head] + [a.line() for a in args + extra] + body
        self.files.setdefault(family, []).append("\n".join(lines))

    def grad(self, family, op, fn, args, argnums=None, modes=("vjp", "jvp"), **params):
        """vjp and/or jvp cases of `fn(*args)` w.r.t. the arguments `argnums` (default: all)."""
        if argnums is None:
            argnums = list(range(len(args)))
        mx.synchronize()
        ins = [a.mlx() for a in args]
        mx.eval(ins)
        outs = as_list(fn(*ins))
        mx.eval(outs)

        def g(*p):
            full = list(ins)
            for k, i in enumerate(argnums):
                full[i] = p[k]
            return as_list(fn(*full))

        primals = [ins[i] for i in argnums]
        for mode in modes:
            if mode == "vjp":
                extra = [Arg(NAME[o.dtype] if o.dtype in NAME else "float32", o.shape)
                         for o in outs]
            else:
                extra = [Arg(NAME[p.dtype], p.shape) for p in primals]
            ps = dict(nargs=len(args), argnums=argnums, nout=len(outs), **params)
            try:
                ex = [e.mlx() for e in extra]
                o, r = (mx.vjp if mode == "vjp" else mx.jvp)(g, primals, ex)
                res = list(o) + list(r)
                mx.eval(res)
                if any(x.dtype not in NAME for x in res):
                    raise RuntimeError("result dtype not in wmx: %s" % [x.dtype for x in res])
                body = ["out %s %s : %s" % (NAME[x.dtype], gc.fmt_shape(x.shape), gc.bits(x))
                        for x in res]
            except Exception as e:
                msg = " ".join(str(e).split()) or type(e).__name__
                if mode == "jvp" and "not" in msg.lower() and "implemented" in msg:
                    body = self._jvp_from_vjp(g, primals, ex, outs)
                    ps["ref"] = "vjp"
                    self.files.setdefault(family, []).append("# MLX jvp: " + msg)
                else:
                    body = ["err " + msg]
            self._emit(family, op, mode, ps, args, extra, body)

    @staticmethod
    def _jvp_from_vjp(g, primals, tangents, outs):
        """`out` lines for outs and J t, J built row by row from MLX's vjp (float32 accumulation)."""
        lines = ["out %s %s : %s" % (NAME[o.dtype], gc.fmt_shape(o.shape), gc.bits(o)) for o in outs]
        for k, o in enumerate(outs):
            res = np.zeros(o.size, np.float64)
            for j in range(o.size):
                cots = [mx.zeros(x.shape, x.dtype) for x in outs]
                one = np.zeros(o.size, np.float32)
                one[j] = 1.0
                cots[k] = mx.array(one.reshape(o.shape)).astype(o.dtype)
                _, rows = mx.vjp(g, primals, cots)
                res[j] = sum(float(mx.sum(r.astype(mx.float32) * t.astype(mx.float32)))
                             for r, t in zip(rows, tangents))
            y = mx.array(res.astype(np.float32).reshape(o.shape)).astype(o.dtype)
            lines.append("out %s %s : %s" % (NAME[o.dtype], gc.fmt_shape(o.shape), gc.bits(y)))
        return lines

    def vmap(self, family, op, fn, shapes, in_axes, dts=None, kinds=None, vals=None, **params):
        """A vmap case: the unbatched argument shapes, each batched (size B) at its in_axis."""
        args = []
        for i, (s, ax) in enumerate(zip(shapes, in_axes)):
            dt = dts[i] if dts else "float32"
            kind = kinds[i] if kinds else "any"
            s = list(s)
            if ax is not None:
                s.insert(ax % (len(s) + 1), B)
            if vals and vals[i] is not None:
                args.append(Arg(dt, s, vals=vals[i](s)))
            else:
                args.append(Arg(dt, s, kind=kind))
        mx.synchronize()
        ins = [a.mlx() for a in args]
        mx.eval(ins)
        # probe the output count with the unbatched function on slices of the inputs
        probe = [x if ax is None else mx.take(x, 0, axis=ax) for x, ax in zip(ins, in_axes)]
        nout = len(as_list(fn(*probe)))
        out_axes = params.pop("out_axes", [0] * nout)
        ps = dict(nargs=len(args), nout=nout, in_axes=list(in_axes), out_axes=list(out_axes),
                  **params)
        try:
            f = mx.vmap(lambda *a: tuple(as_list(fn(*a))), in_axes=tuple(in_axes),
                        out_axes=tuple(out_axes))
            res = list(f(*ins))
            mx.eval(res)
            body = ["out %s %s : %s" % (NAME[x.dtype], gc.fmt_shape(x.shape), gc.bits(x))
                    for x in res]
        except Exception as e:
            body = ["err " + (" ".join(str(e).split()) or type(e).__name__)]
        self._emit(family, op, "vmap", ps, args, [], body)

    def write(self, out_dir):
        os.makedirs(out_dir, exist_ok=True)
        for fam, cases in sorted(self.files.items()):
            with open(os.path.join(out_dir, fam + ".txt"), "w") as f:
                f.write("# MLX gradient cases (vjp/jvp/vmap), family %s (%d cases)\n"
                        % (fam, len(cases)))
                f.write("# mlx_version: %s\n" % mx.__version__)
                f.write("# generator: tools/gen_grad_fixtures.py (format: see its docstring)\n")
                for c in cases:
                    f.write(c + "\n")


O = Out()
LOW = ["float16", "bfloat16"]

# ----------------------------------------------------------------------------------------------
# Elementwise: unary, binary, clip, where.

UNARY = [
    ("abs", mx.abs, "any"), ("negative", mx.negative, "any"), ("exp", mx.exp, "any"),
    ("log", mx.log, "pos"), ("log1p", mx.log1p, "pos"), ("log2", mx.log2, "pos"),
    ("log10", mx.log10, "pos"), ("expm1", mx.expm1, "any"), ("sqrt", mx.sqrt, "pos"),
    ("rsqrt", mx.rsqrt, "pos"), ("square", mx.square, "any"),
    ("reciprocal", mx.reciprocal, "nonzero"), ("sin", mx.sin, "any"), ("cos", mx.cos, "any"),
    ("tan", mx.tan, "unit"), ("arcsin", mx.arcsin, "unit"), ("arccos", mx.arccos, "unit"),
    ("arctan", mx.arctan, "any"), ("sinh", mx.sinh, "unit"), ("cosh", mx.cosh, "unit"),
    ("tanh", mx.tanh, "any"), ("arcsinh", mx.arcsinh, "any"), ("arccosh", mx.arccosh, "gt1"),
    ("arctanh", mx.arctanh, "unit"), ("sigmoid", mx.sigmoid, "any"), ("erf", mx.erf, "any"),
    ("erfinv", mx.erfinv, "unit"), ("degrees", mx.degrees, "any"),
    ("radians", mx.radians, "any"),
    ("sign", mx.sign, "any"), ("floor", mx.floor, "any"), ("ceil", mx.ceil, "any"),
    ("round", lambda a: mx.round(a, 0), "any"),
]
UNARY_LOW = {"abs", "exp", "log", "sqrt", "square", "sin", "tanh", "sigmoid", "erf",
             "reciprocal", "rsqrt"}


def gen_elementwise():
    F = "elementwise"
    for name, fn, kind in UNARY:
        p = {"decimals": 0} if name == "round" else {}
        O.grad(F, name, fn, [fresh("float32", (2, 3), kind)], **p)
        if name in UNARY_LOW:
            O.grad(F, name, fn, [Arg("float32", (4, 3), kind=kind, view=[("transpose", (1, 0))])],
                   modes=("vjp",), **p)
        O.vmap(F, name, fn, [(2, 3)], [1], kinds=[kind], **p)
        if name in UNARY_LOW:
            for dt in LOW:
                O.grad(F, name, fn, [fresh(dt, (5,), kind)], **p)
    # the derivative at the kinks and at zero
    O.grad(F, "abs", mx.abs, [Arg("float32", (4,), vals=[-1.0, 0.0, -0.0, 2.0])])
    O.grad(F, "sign", mx.sign, [Arg("float32", (3,), vals=[-2.0, 0.0, 2.0])])
    O.grad(F, "sqrt", mx.sqrt, [Arg("float32", (3,), vals=[0.0, 1.0, 4.0])], modes=("vjp",))

    BIN = [("add", mx.add, "any", "any"), ("subtract", mx.subtract, "any", "any"),
           ("multiply", mx.multiply, "any", "any"), ("divide", mx.divide, "any", "nonzero"),
           ("power", mx.power, "pos", "any"), ("maximum", mx.maximum, "any", "any"),
           ("minimum", mx.minimum, "any", "any"), ("logaddexp", mx.logaddexp, "any", "any"),
           ("arctan2", mx.arctan2, "any", "any"), ("remainder", mx.remainder, "any", "nonzero")]
    for name, fn, ka, kb in BIN:
        for sa, sb in [((2, 3), (2, 3)), ((2, 3), (3,)), ((3, 1), (1, 4))]:
            O.grad(F, name, fn, [fresh("float32", sa, ka), fresh("float32", sb, kb)])
        O.grad(F, name, fn, [Arg("float32", (4, 3), kind=ka, view=[("transpose", (1, 0))]),
                             Arg("float32", (1, 4), kind=kb, view=[("broadcast", (3, 4))])],
               modes=("vjp",))
        O.vmap(F, name, fn, [(2, 3), (3,)], [0, None], kinds=[ka, kb])
        O.vmap(F, name, fn, [(2, 3), (3,)], [1, 0], kinds=[ka, kb])
        if name in ("add", "multiply", "divide", "maximum", "power"):
            for dt in LOW:
                O.grad(F, name, fn, [fresh(dt, (2, 3), ka), fresh(dt, (3,), kb)])
    # ties and kinks: which argument gets the gradient
    tie_a = [1.0, 2.0, 2.0, 0.0, -0.0, -3.0]
    tie_b = [0.0, 2.0, 1.0, 0.0, 0.0, -3.0]
    for name, fn in [("maximum", mx.maximum), ("minimum", mx.minimum)]:
        O.grad(F, name, fn, [Arg("float32", (6,), vals=tie_a), Arg("float32", (6,), vals=tie_b)])
        # relu-like: maximum(x, 0) with x = 0 included (0 is a constant)
        O.grad(F, name, fn, [Arg("float32", (5,), vals=[-1.0, 0.0, -0.0, 1.0, 0.5]),
                             Arg("float32", (), vals=[0.0])], argnums=[0])
    O.grad(F, "logaddexp", mx.logaddexp, [Arg("float32", (3,), vals=[1.0, -2.0, 0.0]),
                                          Arg("float32", (3,), vals=[1.0, 3.0, 0.0])])
    O.grad(F, "power", mx.power, [Arg("float32", (4,), vals=[0.0, 0.0, 2.0, 1.0]),
                                  Arg("float32", (4,), vals=[2.0, 0.5, 0.0, 3.0])])
    O.grad(F, "remainder", mx.remainder, [Arg("float32", (4,), vals=[5.5, -5.5, 5.5, 6.0]),
                                          Arg("float32", (4,), vals=[2.0, 2.0, -2.0, 3.0])])
    O.grad(F, "arctan2", mx.arctan2, [Arg("float32", (4,), vals=[1.0, -1.0, 0.5, 2.0]),
                                      Arg("float32", (4,), vals=[-2.0, -1.0, 0.0, 3.0])])
    # clip: scalar bounds as constants, and bounds as primals (ties at the bounds)
    cx = [-2.0, -1.0, 0.0, 1.0, 2.0, 0.5]
    O.grad(F, "clip", lambda a, l, h: mx.clip(a, l, h),
           [Arg("float32", (6,), vals=cx), Arg("float32", (), vals=[-1.0]),
            Arg("float32", (), vals=[1.0])], argnums=[0], bounds="both")
    O.grad(F, "clip", lambda a, l, h: mx.clip(a, l, h),
           [Arg("float32", (6,), vals=cx), Arg("float32", (), vals=[-1.0]),
            Arg("float32", (), vals=[1.0])], bounds="both")
    O.grad(F, "clip", lambda a, l: mx.clip(a, l, None),
           [fresh("float32", (2, 3)), fresh("float32", (3,))], bounds="min")
    O.grad(F, "clip", lambda a, h: mx.clip(a, None, h),
           [fresh("float32", (2, 3)), fresh("float32", (2, 1))], bounds="max")
    O.vmap(F, "clip", lambda a, l, h: mx.clip(a, l, h), [(2, 3), (), ()], [1, None, 0],
           vals=[None, lambda s: [-1.0] * int(np.prod(s)), lambda s: [1.0] * int(np.prod(s))],
           bounds="both")
    for dt in LOW:
        O.grad(F, "clip", lambda a, l, h: mx.clip(a, l, h),
               [Arg(dt, (6,), vals=cx), Arg(dt, (), vals=[-1.0]), Arg(dt, (), vals=[1.0])],
               argnums=[0], bounds="both")
    # where: the condition is a constant, then a primal (MLX returns a bool zero cotangent)
    O.grad(F, "where", mx.where, [Arg("bool", (2, 3)), fresh("float32", (2, 3)),
                                  fresh("float32", (3,))], argnums=[1, 2])
    O.grad(F, "where", mx.where, [Arg("bool", (3, 1)), fresh("float32", (1, 4)),
                                  fresh("float32", ())], argnums=[1, 2])
    O.grad(F, "where", mx.where, [Arg("bool", (4,)), fresh("float32", (4,)),
                                  fresh("float32", (4,))], modes=("vjp",))
    O.vmap(F, "where", mx.where, [(2, 3), (2, 3), (3,)], [0, 1, None],
           dts=["bool", "float32", "float32"])
    O.grad(F, "where", mx.where, [Arg("bool", (5,)), fresh("bfloat16", (5,)),
                                  fresh("bfloat16", (5,))], argnums=[1, 2])


# ----------------------------------------------------------------------------------------------
# Reductions, softmax, scans, sorting.

def axes_kw(ax):
    return None if not ax else ax


def gen_reduce():
    F = "reduce"
    reds = [("sum", mx.sum), ("mean", mx.mean), ("prod", mx.prod), ("max", mx.max),
            ("min", mx.min), ("logsumexp", mx.logsumexp)]
    for name, fn in reds:
        kind = "nonzero" if name == "prod" else "any"
        for s, ax, kd in [((2, 3, 4), [1], False), ((2, 3, 4), [0, 2], True),
                          ((2, 3, 4), [-1], False), ((2, 3), [], False), ((5,), [0], True)]:
            f = lambda a, fn=fn, ax=ax, kd=kd: fn(a, axis=axes_kw(ax), keepdims=kd)
            O.grad(F, name, f, [fresh("float32", s, kind)], axes=ax, keepdims=kd)
        f = lambda a, fn=fn: fn(a, axis=[0, 2], keepdims=False)
        O.grad(F, name, f, [Arg("float32", (3, 4, 5), kind=kind, view=[
            ("slice", ((0, 3, 2), (3, -5, -1), (0, 5, 2))), ("transpose", (2, 0, 1))])],
            modes=("vjp",), axes=[0, 2], keepdims=False)
        O.vmap(F, name, lambda a, fn=fn: fn(a, axis=[0], keepdims=False), [(3, 4)], [1],
               kinds=[kind], axes=[0], keepdims=False)
        O.vmap(F, name, lambda a, fn=fn: fn(a, axis=[-1], keepdims=True), [(3, 4)], [0],
               kinds=[kind], axes=[-1], keepdims=True)
        if name in ("sum", "mean", "max", "logsumexp", "prod"):
            for dt in LOW:
                O.grad(F, name, lambda a, fn=fn: fn(a, axis=[1], keepdims=False),
                       [fresh(dt, (2, 4), kind)], axes=[1], keepdims=False)
    # prod with zeros: one zero in a row, two zeros in a row, all zeros
    pz = [1.5, 0.0, 2.0, -3.0, 0.0, 2.0, 0.0, 4.0, 0.0, 0.0, 0.0, 0.0, 2.0, 3.0, -1.0, 0.5]
    O.grad(F, "prod", lambda a: mx.prod(a, axis=[1], keepdims=False),
           [Arg("float32", (4, 4), vals=pz)], axes=[1], keepdims=False)
    O.grad(F, "prod", lambda a: mx.prod(a, axis=None, keepdims=False),
           [Arg("float32", (4,), vals=[2.0, 0.0, 3.0, 0.5])], axes=[], keepdims=False)
    # max/min ties (two and three tied maxima, and all equal)
    tv = [1.0, 3.0, 3.0, 0.0, 2.0, 2.0, 2.0, -1.0, 5.0, 5.0, 5.0, 5.0]
    for name, fn in [("max", mx.max), ("min", mx.min)]:
        v = tv if name == "max" else [-x for x in tv]
        O.grad(F, name, lambda a, fn=fn: fn(a, axis=[1], keepdims=False),
               [Arg("float32", (3, 4), vals=v)], axes=[1], keepdims=False)
        O.grad(F, name, lambda a, fn=fn: fn(a, axis=None, keepdims=True),
               [Arg("float32", (3, 4), vals=v)], axes=[], keepdims=True)
    for name, fn in [("var", mx.var), ("std", mx.std)]:
        for s, ax, kd, dd in [((7,), [], False, 0), ((2, 3, 4), [1], True, 1),
                              ((2, 3, 4), [0, -1], False, 0)]:
            O.grad(F, name, lambda a, fn=fn, ax=ax, kd=kd, dd=dd:
                   fn(a, axis=axes_kw(ax), keepdims=kd, ddof=dd),
                   [fresh("float32", s)], axes=ax, keepdims=kd, ddof=dd)
        O.vmap(F, name, lambda a, fn=fn: fn(a, axis=[1], keepdims=False, ddof=0), [(3, 4)], [1],
               axes=[1], keepdims=False, ddof=0)
        O.grad(F, name, lambda a, fn=fn: fn(a, axis=[1], keepdims=False, ddof=0),
               [fresh("bfloat16", (2, 4))], axes=[1], keepdims=False, ddof=0)
    for s, ax in [((7,), [0]), ((2, 3, 4), [-1]), ((2, 3, 4), [0, 2])]:
        O.grad(F, "softmax", lambda a, ax=ax: mx.softmax(a, axis=ax), [fresh("float32", s)], axes=ax)
    O.vmap(F, "softmax", lambda a: mx.softmax(a, axis=[0]), [(3, 4)], [1], axes=[0])
    for dt in LOW:
        O.grad(F, "softmax", lambda a: mx.softmax(a, axis=[-1]), [fresh(dt, (2, 5))], axes=[-1])


def gen_scan():
    F = "scan"
    scans = [("cumsum", mx.cumsum), ("cumprod", mx.cumprod), ("cummax", mx.cummax),
             ("cummin", mx.cummin), ("logcumsumexp", mx.logcumsumexp)]
    for name, fn in scans:
        kind = "nonzero" if name == "cumprod" else "any"
        for s, ax, rev, inc in [((6,), 0, False, True), ((2, 5), 1, True, True),
                                ((2, 5), -1, False, False), ((3, 4), 0, True, False),
                                ((2, 3), None, False, True)]:
            f = lambda a, fn=fn, ax=ax, r=rev, c=inc: fn(a, axis=ax, reverse=r, inclusive=c)
            O.grad(F, name, f, [fresh("float32", s, kind)], axis=ax, reverse=rev, inclusive=inc)
        O.vmap(F, name, lambda a, fn=fn: fn(a, axis=0, reverse=False, inclusive=True), [(4, 3)],
               [1], kinds=[kind], axis=0, reverse=False, inclusive=True)
        O.grad(F, name, lambda a, fn=fn: fn(a, axis=1), [fresh("bfloat16", (2, 5), kind)],
               modes=("vjp",), axis=1, reverse=False, inclusive=True)
    # cumprod through zeros; cummax/cummin with ties
    for rev in (False, True):
        O.grad(F, "cumprod", lambda a, r=rev: mx.cumprod(a, axis=0, reverse=r),
               [Arg("float32", (6,), vals=[2.0, 0.0, 3.0, 0.5, 0.0, 4.0])],
               axis=0, reverse=rev, inclusive=True)
        O.grad(F, "cumprod", lambda a, r=rev: mx.cumprod(a, axis=0, reverse=r, inclusive=False),
               [Arg("float32", (5,), vals=[2.0, 0.0, 3.0, 0.5, -1.0])],
               modes=("vjp",), axis=0, reverse=rev, inclusive=False)
        tie = [1.0, 3.0, 3.0, 2.0, 3.0, 4.0, 4.0]
        for name, fn in [("cummax", mx.cummax), ("cummin", mx.cummin)]:
            v = tie if name == "cummax" else [-x for x in tie]
            O.grad(F, name, lambda a, fn=fn, r=rev: fn(a, axis=0, reverse=r),
                   [Arg("float32", (7,), vals=v)], axis=0, reverse=rev, inclusive=True)


def gen_sort():
    F = "sort"

    def distinct(s):
        n = int(np.prod(s))
        return (gc.rng.permutation(n).astype(np.float32) - n / 2) * 0.5

    for s, ax in [((7,), 0), ((2, 5), -1), ((4, 3), 0)]:
        O.grad(F, "sort", lambda a, ax=ax: mx.sort(a, axis=ax), [Arg("float32", s, vals=distinct(s))],
               axis=ax)
    O.grad(F, "sort", lambda a: mx.sort(a, axis=0),
           [Arg("float32", (6,), vals=[3.0, 1.0, 1.0, 2.0, 3.0, 0.0])], axis=0)
    O.vmap(F, "sort", lambda a: mx.sort(a, axis=0), [(5,)], [1], vals=[distinct], axis=0)
    O.grad(F, "sort", lambda a: mx.sort(a, axis=-1), [Arg("bfloat16", (2, 4), vals=distinct((2, 4)))],
           axis=-1)
    for s, k, ax in [((7,), 3, 0), ((2, 5), 2, -1), ((5, 3), 1, 0)]:
        O.grad(F, "topk", lambda a, k=k, ax=ax: mx.sort(mx.topk(a, k, axis=ax), axis=ax),
               [Arg("float32", s, vals=distinct(s))], k=k, axis=ax)
    O.vmap(F, "topk", lambda a: mx.sort(mx.topk(a, 2, axis=0), axis=0), [(5,)], [0],
           vals=[distinct], k=2, axis=0)
    for s, kth, ax in [((7,), 3, 0), ((2, 5), 1, -1), ((5, 3), -1, 0)]:
        O.grad(F, "partition", lambda a, k=kth, ax=ax: mx.sort(mx.partition(a, k, axis=ax), axis=ax),
               [Arg("float32", s, vals=distinct(s))], kth=kth, axis=ax)
    O.vmap(F, "partition", lambda a: mx.sort(mx.partition(a, 2, axis=0), axis=0), [(5,)], [1],
           vals=[distinct], kth=2, axis=0)


# ----------------------------------------------------------------------------------------------
# Linear algebra.

def gen_linalg():
    F = "linalg"
    for sa, sb in [((2, 3), (3, 4)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 1, 2, 3), (3, 3, 2)),
                   ((3,), (3,))]:
        O.grad(F, "matmul", mx.matmul, [fresh("float32", sa), fresh("float32", sb)])
    O.grad(F, "matmul", mx.matmul, [Arg("float32", (4, 3), view=[("transpose", (1, 0))]),
                                    Arg("float32", (4, 6), view=[("slice", ((0, 4, 1), (0, 6, 2)))])],
           modes=("vjp",))
    O.grad(F, "matmul", mx.matmul, [fresh("float32", (2, 3)), fresh("float32", (3, 4))], argnums=[1])
    for dt in LOW:
        O.grad(F, "matmul", mx.matmul, [fresh(dt, (2, 3)), fresh(dt, (3, 4))])
    O.vmap(F, "matmul", mx.matmul, [(2, 3), (3, 4)], [0, None])
    O.vmap(F, "matmul", mx.matmul, [(2, 3), (3, 4)], [1, 2])
    for sc, sa, sb, al, be in [((2, 4), (2, 3), (3, 4), 1.0, 1.0), ((4,), (2, 3), (3, 4), 0.5, 2.0),
                               ((1, 4), (2, 3), (3, 4), -1.0, 0.0)]:
        O.grad(F, "addmm", lambda c, a, b, al=al, be=be: mx.addmm(c, a, b, alpha=al, beta=be),
               [fresh("float32", sc), fresh("float32", sa), fresh("float32", sb)], alpha=al, beta=be)
    O.vmap(F, "addmm", lambda c, a, b: mx.addmm(c, a, b, alpha=0.5, beta=2.0),
           [(2, 4), (2, 3), (3, 4)], [None, 0, 1], alpha=0.5, beta=2.0)
    for sa, sb in [((3,), (3,)), ((2, 3), (4, 3)), ((), (3,))]:
        O.grad(F, "inner", mx.inner, [fresh("float32", sa), fresh("float32", sb)])
    O.vmap(F, "inner", mx.inner, [(3,), (2, 3)], [0, None])
    for sa, sb in [((3,), (4,)), ((2, 2), (3,))]:
        O.grad(F, "outer", mx.outer, [fresh("float32", sa), fresh("float32", sb)])
    O.vmap(F, "outer", mx.outer, [(3,), (2,)], [None, 0])
    for sa, sb, ax in [((2, 3, 4), (3, 4, 2), 2), ((2, 3), (3, 4), 1), ((2, 3), (4, 2), 0),
                       ((3, 4, 2), (4, 3, 2), [[0, 1], [1, 0]])]:
        kw = {"axes": ax} if isinstance(ax, int) else {"axes_a": ax[0], "axes_b": ax[1]}
        O.grad(F, "tensordot", lambda a, b, ax=ax: mx.tensordot(a, b, axes=ax),
               [fresh("float32", sa), fresh("float32", sb)], **kw)
    O.vmap(F, "tensordot", lambda a, b: mx.tensordot(a, b, axes=1), [(2, 3), (3, 4)], [1, None], axes=1)
    for sub, shapes in [("ij,jk->ik", [(2, 3), (3, 4)]), ("ii->i", [(3, 3)]), ("ij->ji", [(2, 3)]),
                        ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]), ("i,j->ij", [(3,), (2,)]),
                        ("ijk->", [(2, 3, 4)]), ("i,i", [(4,), (4,)])]:
        O.grad(F, "einsum", lambda *a, sub=sub: mx.einsum(sub, *a), [fresh("float32", s) for s in shapes],
               subscripts=sub)
    O.vmap(F, "einsum", lambda a, b: mx.einsum("ij,jk->ik", a, b), [(2, 3), (3, 4)], [0, None],
           subscripts="ij,jk->ik")


# ----------------------------------------------------------------------------------------------
# Indexing.

def _scatter_set(a, i, u):
    b = mx.array(a)
    b[i] = u
    return b


def _slice_set(a, u, sl):
    b = mx.array(a)
    b[tuple(slice(*t) for t in sl)] = u
    return b


def _gather(a, idx, ss):
    """Python a[i0, i1, ..] in MLX C++'s gather layout: idx.shape + slice_sizes."""
    r = a[tuple(idx)]
    return mx.reshape(r, tuple(idx[0].shape) + tuple(ss))


def I(shape, vals):
    return Arg("int32", shape, vals=vals)


def gen_index():
    F = "index"
    for s, sl in [((5,), ((1, 4, 1),)), ((4, 5), ((0, 4, 2), (1, 5, 3))),
                  ((2, 3, 4), ((1, 2, 1), (2, 0, -1), (3, -5, -2)))]:
        O.grad(F, "slice", lambda a, sl=sl: a[tuple(slice(*t) for t in sl)], [fresh("float32", s)],
               start=[t[0] for t in sl], stop=[t[1] for t in sl], strides=[t[2] for t in sl])
    O.vmap(F, "slice", lambda a: a[1:4:2], [(5,)], [1], start=[1], stop=[4], strides=[2])
    for s, sl in [((5,), ((1, 3, 1),)), ((4, 5), ((0, 4, 2), (1, 5, 3))),
                  ((2, 3, 4), ((1, 2, 1), (0, 3, 1), (3, -1, -1)))]:
        us = tuple(len(range(*slice(*t).indices(d))) for t, d in zip(sl, s))
        O.grad(F, "slice_update", lambda a, u, sl=sl: _slice_set(a, u, sl),
               [fresh("float32", s), fresh("float32", us)],
               start=[t[0] for t in sl], stop=[t[1] for t in sl], strides=[t[2] for t in sl])
    O.vmap(F, "slice_update", lambda a, u: _slice_set(a, u, ((1, 3, 1),)), [(5,), (2,)], [0, None],
           start=[1], stop=[3], strides=[1])
    # take: the indices are constants (repeated and negative); then w.r.t. the indices (error)
    for s, idx, ish, ax in [((5,), [0, 4, -1, 2, 0], (5,), 0), ((3, 4), [1, 0, 2, 1], (2, 2), 0),
                            ((2, 3, 4), [3, 0, 3], (3,), -1)]:
        O.grad(F, "take", lambda a, i, ax=ax: mx.take(a, i, axis=ax),
               [fresh("float32", s), I(ish, idx)], argnums=[0], axis=ax)
    O.grad(F, "take", lambda a, i: mx.take(a, i, axis=0), [fresh("float32", (5,)), I((2,), [1, 3])],
           axis=0)
    O.vmap(F, "take", lambda a, i: mx.take(a, i, axis=0), [(4, 3), (2,)], [1, None],
           dts=["float32", "int32"], vals=[None, lambda s: [3, 0]], axis=0)
    O.vmap(F, "take", lambda a, i: mx.take(a, i, axis=0), [(4,), (3,)], [None, 0],
           dts=["float32", "int32"], vals=[None, lambda s: [0, 3, 3, 1, 2, 0]], axis=0)
    O.grad(F, "take", lambda a, i: mx.take(a, i, axis=1), [fresh("bfloat16", (2, 4)), I((3,), [0, 3, 3])],
           argnums=[0], axis=1)
    for s, ish, ax in [((3, 4), (3, 2), 1), ((3, 4), (2, 4), 0), ((2, 3, 4), (2, 3, 1), -1)]:
        n = s[ax]
        idx = gc.rng.integers(-n, n, int(np.prod(ish)))
        O.grad(F, "take_along_axis", lambda a, i, ax=ax: mx.take_along_axis(a, i, axis=ax),
               [fresh("float32", s), I(ish, idx)], argnums=[0], axis=ax)
        # distinct positions along the axis for put_along_axis
        full = np.broadcast_to(np.expand_dims(np.arange(ish[ax]),
                                              [d for d in range(len(s)) if d != ax % len(s)]), ish)
        pos = gc.rng.permutation(n)[:ish[ax]][full]
        O.grad(F, "put_along_axis", lambda a, i, v, ax=ax: mx.put_along_axis(a, i, v, axis=ax),
               [fresh("float32", s), I(ish, pos.reshape(-1)), fresh("float32", ish)], argnums=[0, 2],
               axis=ax)
    O.vmap(F, "take_along_axis", lambda a, i: mx.take_along_axis(a, i, axis=0), [(4, 3), (2, 3)],
           [1, None], dts=["float32", "int32"], vals=[None, lambda s: [0, 3, 1, 1, 2, 0]], axis=0)
    O.grad(F, "take_along_axis", lambda a, i: mx.take_along_axis(a, i, axis=0),
           [fresh("float32", (4,)), I((2,), [1, 2])], axis=0)
    # gather (a[i, j] with broadcast index arrays), repeated positions accumulate
    for s, idx, axes in [((3, 4), [[2, 0, 2], [1, 3, 1]], [0, 1]), ((3, 4, 2), [[1, 0, 1, 2]], [0]),
                         ((4, 3), [[0, 3], [2, 2]], [0, 1])]:
        ish = (len(idx[0]),)
        ss = [1 if d in axes else s[d] for d in range(len(s))]
        O.grad(F, "gather", lambda a, *ix, ss=ss: _gather(a, ix, ss),
               [fresh("float32", s)] + [I(ish, v) for v in idx], argnums=[0], axes=axes,
               slice_sizes=ss)
    O.grad(F, "gather", lambda a, i: _gather(a, [i], [1, 3]), [fresh("float32", (3, 3)), I((2,), [0, 2])],
           modes=("vjp",), axes=[0], slice_sizes=[1, 3])
    O.vmap(F, "gather", lambda a, i, j: _gather(a, [i, j], [1, 1]), [(3, 4), (2,), (2,)],
           [0, None, None], dts=["float32", "int32", "int32"],
           vals=[None, lambda s: [2, 0], lambda s: [1, 3]], axes=[0, 1], slice_sizes=[1, 1])
    # scatter (set) and scatter_add along axis 0 (repeated indices only for scatter_add)
    for s, idx in [((5,), [0, 3, -1]), ((4, 3), [2, 0]), ((3, 2, 2), [1])]:
        us = (len(idx),) + s[1:]
        O.grad(F, "scatter", _scatter_set, [fresh("float32", s), I((len(idx),), idx),
                                            fresh("float32", us)], argnums=[0, 2], axis=0)
    for s, idx in [((5,), [0, 3, 3, -1]), ((4, 3), [2, 0]), ((3, 2, 2), [1, 1])]:
        us = (len(idx),) + s[1:]
        O.grad(F, "scatter_add", lambda a, i, u: a.at[i].add(u),
               [fresh("float32", s), I((len(idx),), idx), fresh("float32", us)], argnums=[0, 2], axis=0)
    O.grad(F, "scatter_add", lambda a, i, u: a.at[i].add(u),
           [fresh("float32", (4,)), I((2,), [1, 1]), fresh("float32", (2,))], modes=("vjp",), axis=0)
    O.vmap(F, "scatter_add", lambda a, i, u: a.at[i].add(u), [(4,), (3,), (3,)], [0, None, 0],
           dts=["float32", "int32", "float32"], vals=[None, lambda s: [1, 3, 1], None], axis=0)
    O.vmap(F, "scatter", _scatter_set, [(4, 3), (2,), (2, 3)], [None, None, 1],
           dts=["float32", "int32", "float32"], vals=[None, lambda s: [3, 0], None], axis=0)


# ----------------------------------------------------------------------------------------------
# Structure ops, astype, as_strided.

def gen_structure():
    F = "structure"
    f32 = lambda s: fresh("float32", s)
    G = lambda op, fn, shapes, vm=None, **p: (
        O.grad(F, op, fn, [f32(s) for s in shapes], **p),
        vm and O.vmap(F, op, fn, shapes, vm, **p))
    G("reshape", lambda a: mx.reshape(a, (4, -1)), [(2, 3, 4)], [1], shape=(4, -1))
    O.grad(F, "reshape", lambda a: mx.reshape(a, (-1,)),
           [Arg("float32", (3, 4), view=[("transpose", (1, 0))])], modes=("vjp",), shape=[-1])
    G("transpose", lambda a: mx.transpose(a, (2, 0, 1)), [(2, 3, 4)], [2], axes=(2, 0, 1))
    G("broadcast_to", lambda a: mx.broadcast_to(a, (2, 3, 4)), [(3, 1)], [0], shape=(2, 3, 4))
    G("broadcast_to", lambda a: mx.broadcast_to(a, (2, 3)), [()], None, shape=(2, 3))
    G("concatenate", lambda *a: mx.concatenate(a, axis=0), [(2, 3), (1, 3)], None, axis=0)
    G("concatenate", lambda *a: mx.concatenate(a, axis=-1), [(2, 3), (2, 1), (2, 2)], None, axis=-1)
    O.vmap(F, "concatenate", lambda *a: mx.concatenate(a, axis=0), [(2, 3), (1, 3)], [1, None], axis=0)
    G("stack", lambda *a: mx.stack(a, axis=1), [(2, 3), (2, 3)], [0, None], axis=1)
    G("split", lambda a: mx.split(a, 3, axis=0), [(6, 2)], [1], num=3, axis=0)
    G("split", lambda a: mx.split(a, 2, axis=-1), [(2, 4)], None, num=2, axis=-1)
    G("split_at", lambda a: mx.split(a, [1, 3], axis=1), [(2, 5)], None, indices=[1, 3], axis=1)
    G("squeeze", lambda a: mx.squeeze(a, axis=[0, 2]), [(1, 3, 1)], [1], axes=[0, 2])
    G("expand_dims", lambda a: mx.expand_dims(a, [0, 3]), [(2, 3)], [1], axes=[0, 3])
    G("flatten", lambda a: mx.flatten(a, 1, 2), [(2, 3, 4)], [0], start_axis=1, end_axis=2)
    G("pad", lambda a: mx.pad(a, [(1, 2), (0, 1)], mode="constant", constant_values=0),
      [(2, 3)], [1], pad_width=[1, 2, 0, 1], mode="constant", value=0.0)
    G("pad", lambda a: mx.pad(a, [(1, 1), (2, 2)], mode="edge"), [(3, 4)], None,
      pad_width=[1, 1, 2, 2], mode="edge", value=0.0)
    G("tile", lambda a: mx.tile(a, [2, 2]), [(3,)], [0], reps=[2, 2])
    G("tile", lambda a: mx.tile(a, [1, 3, 1]), [(2, 1, 2)], None, reps=[1, 3, 1])
    G("repeat", lambda a: mx.repeat(a, 3, axis=1), [(2, 3)], [0], repeats=3, axis=1)
    G("repeat", lambda a: mx.repeat(a, 2), [(2, 3)], None, repeats=2, axis=None)
    G("roll", lambda a: mx.roll(a, 2), [(7,)], [1], shift=[2], axes=None)
    G("roll", lambda a: mx.roll(a, (-1, 5), axis=(0, 2)), [(2, 3, 4)], None, shift=[-1, 5], axes=[0, 2])
    G("flip", lambda a: mx.flip(a, axis=[1]), [(2, 3, 4)], [1], axes=[1])
    G("flip", lambda a: mx.flip(a), [(3, 2)], None, axes=None)
    G("moveaxis", lambda a: mx.moveaxis(a, 0, -1), [(2, 3, 4)], [1], source=0, destination=-1)
    G("swapaxes", lambda a: mx.swapaxes(a, 0, 2), [(2, 3, 4)], [3], axis1=0, axis2=2)
    # astype between float dtypes (the cotangent comes back in the source dtype)
    for src, dst in [("float32", "float16"), ("float32", "bfloat16"), ("float16", "float32"),
                     ("bfloat16", "float16"), ("float16", "bfloat16")]:
        O.grad(F, "astype", lambda a, d=dst: a.astype(gc.DT[d]), [fresh(src, (2, 3))], dtype=dst)
    O.vmap(F, "astype", lambda a: a.astype(mx.float16), [(3,)], [1], dtype="float16")
    # as_strided: overlapping windows accumulate, a stride-0 axis, an offset
    for s, shp, strd, off in [((12,), (3, 4), (4, 1), 0), ((8,), (3, 4), (2, 1), 0),
                              ((3, 4), (2, 3), (0, 1), 5), ((6,), (4,), (-1,), 5)]:
        O.grad(F, "as_strided", lambda a, sh=shp, st=strd, o=off: mx.as_strided(a, sh, st, o),
               [f32(s)], shape=shp, strides=strd, offset=off)
    # low precision through a few structure ops
    for dt in LOW:
        O.grad(F, "transpose", lambda a: mx.transpose(a, (1, 0)), [fresh(dt, (2, 3))], axes=(1, 0))
        O.grad(F, "concatenate", lambda *a: mx.concatenate(a, axis=0), [fresh(dt, (1, 3)), fresh(dt, (2, 3))],
               axis=0)


# ----------------------------------------------------------------------------------------------
# More ops (generated after the families above, so their cases and random draws are unchanged):
# layout (atleast_*, contiguous, permute_dims, unstack, meshgrid), diagonal (diag, diagonal,
# trace, tril, triu), composite (divmod, median, nan_to_num, linalg_norm).

# a strided 3-D view of a (2, 3, 4) base: sliced to (2, 3, 2) (a negative step, a step of 2),
# then transposed to (2, 2, 3)
S3 = (2, 3, 4)
STRIDED3 = [("slice", ((0, 2, 1), (2, -4, -1), (0, 4, 2))), ("transpose", (2, 0, 1))]


V, VJ = ("vjp",), ("vjp", "jvp")


def gen_layout():
    F = "layout"
    f32 = lambda s: fresh("float32", s)
    T32 = lambda: Arg("float32", (3, 2), view=[("transpose", (1, 0))])  # a transposed (2, 3)
    O.grad(F, "atleast_1d", mx.atleast_1d, [f32(())])
    O.grad(F, "atleast_1d", mx.atleast_1d, [T32()], modes=V)
    O.vmap(F, "atleast_1d", mx.atleast_1d, [()], [0])
    O.grad(F, "atleast_2d", mx.atleast_2d, [f32(())], modes=V)
    O.grad(F, "atleast_2d", mx.atleast_2d, [f32((3,))])
    O.grad(F, "atleast_2d", mx.atleast_2d, [T32()], modes=V)
    O.vmap(F, "atleast_2d", mx.atleast_2d, [(3,)], [1])
    O.grad(F, "atleast_3d", mx.atleast_3d, [f32((3,))])
    O.grad(F, "atleast_3d", mx.atleast_3d, [T32()], modes=V)
    O.vmap(F, "atleast_3d", mx.atleast_3d, [(3,)], [1])
    O.grad(F, "atleast_3d", mx.atleast_3d, [fresh("float16", (3,))], modes=V)
    O.grad(F, "contiguous", mx.contiguous, [Arg("float32", S3, view=STRIDED3)])
    O.grad(F, "contiguous", mx.contiguous, [Arg("float32", (3, 1), view=[("broadcast", (2, 3, 2))])],
           modes=V)
    O.vmap(F, "contiguous", mx.contiguous, [(2, 3)], [1])
    O.grad(F, "permute_dims", lambda a: mx.permute_dims(a, (-1, 0, -2)), [f32((2, 3, 2))],
           axes=(-1, 0, -2))
    O.grad(F, "permute_dims", lambda a: mx.permute_dims(a, (2, 0, 1)),
           [Arg("float32", S3, view=STRIDED3)], modes=V, axes=(2, 0, 1))
    O.vmap(F, "permute_dims", lambda a: mx.permute_dims(a, (1, 0)), [(2, 3)], [2], axes=(1, 0))
    for s, ax, m in [((3, 2), 0, VJ), ((2, 3, 2), 1, V)]:
        O.grad(F, "unstack", lambda a, ax=ax: mx.unstack(a, axis=ax), [f32(s)], modes=m, axis=ax)
    O.grad(F, "unstack", lambda a: mx.unstack(a, axis=0), [T32()], modes=V, axis=0)
    O.vmap(F, "unstack", lambda a: mx.unstack(a, axis=-1), [(2, 3)], [1], axis=-1)
    O.grad(F, "unstack", lambda a: mx.unstack(a, axis=1), [fresh("float16", (2, 2))], modes=V, axis=1)
    for shapes, idx, m in [([(3,), (2,)], "xy", VJ), ([(3,), (2,)], "ij", V),
                           ([(2,), (2,), (2,)], "xy", V)]:
        O.grad(F, "meshgrid", lambda *a, i=idx: mx.meshgrid(*a, indexing=i), [f32(s) for s in shapes],
               modes=m, indexing=idx)
    O.vmap(F, "meshgrid", lambda a, b: mx.meshgrid(a, b, indexing="ij"), [(3,), (2,)], [1, None],
           indexing="ij")


def gen_diagonal():
    F = "diagonal"
    f32 = lambda s: fresh("float32", s)
    for s, k, m in [((3,), 1, VJ), ((3,), -2, V), ((3, 4), -1, VJ)]:
        O.grad(F, "diag", lambda a, k=k: mx.diag(a, k=k), [f32(s)], modes=m, k=k)
    O.grad(F, "diag", lambda a: mx.diag(a, k=1), [Arg("float32", (4, 3), view=[("transpose", (1, 0))])],
           modes=V, k=1)
    O.vmap(F, "diag", lambda a: mx.diag(a, k=0), [(3, 4)], [2], k=0)
    O.vmap(F, "diag", lambda a: mx.diag(a, k=-1), [(2,)], [0], k=-1)
    for s, off, a1, a2, m in [((3, 4), 1, 0, 1, VJ), ((2, 3, 3), -1, 1, 2, V),
                              ((2, 3, 2), 1, -1, -3, V)]:
        O.grad(F, "diagonal", lambda a, o=off, x=a1, y=a2: mx.diagonal(a, o, x, y), [f32(s)],
               modes=m, offset=off, axis1=a1, axis2=a2)
    O.grad(F, "diagonal", lambda a: mx.diagonal(a, 0, 0, 2), [Arg("float32", S3, view=STRIDED3)],
           modes=V, offset=0, axis1=0, axis2=2)
    O.vmap(F, "diagonal", lambda a: mx.diagonal(a, 0, -1, 0), [(3, 3)], [1], offset=0, axis1=-1,
           axis2=0)
    for s, off, a1, a2, m in [((3, 4), 1, 0, 1, VJ), ((2, 3, 3), -1, 1, 2, V),
                              ((2, 3, 2), 0, -1, 0, V)]:
        O.grad(F, "trace", lambda a, o=off, x=a1, y=a2: mx.trace(a, o, x, y), [f32(s)],
               modes=m, offset=off, axis1=a1, axis2=a2)
    O.grad(F, "trace", lambda a: mx.trace(a, 0, 0, 1), [Arg("float32", (4, 3), view=[("transpose", (1, 0))])],
           modes=V, offset=0, axis1=0, axis2=1)
    O.vmap(F, "trace", lambda a: mx.trace(a, 0, 0, 1), [(3, 3)], [1], offset=0, axis1=0, axis2=1)
    O.grad(F, "trace", lambda a: mx.trace(a, 0, 0, 1), [fresh("float16", (3, 3))], offset=0, axis1=0,
           axis2=1)
    for name, fn in [("tril", mx.tril), ("triu", mx.triu)]:
        for s, k, m in [((3, 4), 1, VJ), ((2, 3, 3), -1, V)]:
            O.grad(F, name, lambda a, f=fn, k=k: f(a, k), [f32(s)], modes=m, k=k)
        if name == "tril":
            O.grad(F, name, lambda a, f=fn: f(a, 0), [Arg("float32", S3, view=STRIDED3)], modes=V, k=0)
        O.vmap(F, name, lambda a, f=fn: f(a, -1), [(3, 3)], [2], k=-1)
        O.grad(F, name, lambda a, f=fn: f(a, 0), [fresh("float16", (3, 3))], modes=V, k=0)


def gen_composite():
    F = "composite"
    f32 = lambda s, k="any": fresh("float32", s, k)
    # divmod: both outputs. MLX's DivMod gives zero derivatives for both outputs (the remainder's
    # are not zero: MLX's own remainder gives 1 and -floor(a/b)), and its vmap fails with a garbage
    # axis ("[moveaxis] Invalid axis <n>", a different n per run). So the MLX cases are recorded as
    # they are (tests/grad_mlx.rs lists them in KNOWN_DIFFS), and further cases take their
    # expected results from MLX's floor_divide and remainder (`ref=floor_divide,remainder`).
    fr = lambda a, b: (mx.floor_divide(a, b), mx.remainder(a, b))
    O.grad(F, "divmod", mx.divmod, [f32((2, 3)), f32((3,), "nonzero")])
    for sa, sb, m in [((2, 3), (3,), VJ)]:
        O.grad(F, "divmod", fr, [f32(sa), f32(sb, "nonzero")], modes=m, ref="floor_divide,remainder")
    O.files.setdefault(F, []).append(
        "# MLX vmap: DivMod's vmap fails ([moveaxis] Invalid axis <garbage>); the expected results "
        "are MLX's vmap of floor_divide and remainder")
    O.vmap(F, "divmod", fr, [(2, 3), (3,)], [1, None], kinds=["any", "nonzero"],
           ref="floor_divide,remainder")
    # median: odd and even counts, axes (negative too), keepdims; random values (no ties)
    for s, ax, kd, m in [((7,), [], False, VJ), ((6,), [], False, V), ((2, 3, 2), [1], True, V),
                         ((2, 3, 2), [0, -1], False, VJ)]:
        O.grad(F, "median", lambda a, ax=ax, kd=kd: mx.median(a, axis=axes_kw(ax), keepdims=kd),
               [f32(s)], modes=m, axes=ax, keepdims=kd)
    O.grad(F, "median", lambda a: mx.median(a, axis=[0], keepdims=False),
           [Arg("float32", (4, 3), view=[("transpose", (1, 0))])], modes=V, axes=[0], keepdims=False)
    O.vmap(F, "median", lambda a: mx.median(a, axis=[-1], keepdims=True), [(2, 4)], [1], axes=[-1],
           keepdims=True)
    O.grad(F, "median", lambda a: mx.median(a, axis=[1], keepdims=False), [fresh("float16", (2, 5))],
           modes=V, axes=[1], keepdims=False)
    # nan_to_num: the derivative passes through finite elements only
    nv = [1.5, NAN, INF, -INF, -2.0, 0.25, NAN, 3.0]
    for nan, pi, ni, m in [(0.0, None, None, VJ), (1.5, 100.0, -100.0, V)]:
        O.grad(F, "nan_to_num", lambda a, n=nan, p=pi, q=ni: mx.nan_to_num(a, n, p, q),
               [Arg("float32", (8,), vals=nv)], modes=m, nan=nan, posinf=pi, neginf=ni)
    O.grad(F, "nan_to_num", lambda a: mx.nan_to_num(a, 0.0, None, None),
           [Arg("float32", (4, 2), vals=nv, view=[("transpose", (1, 0))])], modes=V,
           nan=0.0, posinf=None, neginf=None)
    O.vmap(F, "nan_to_num", lambda a: mx.nan_to_num(a, -1.0, 5.0, -5.0), [(4,)], [1],
           vals=[lambda s: nv], nan=-1.0, posinf=5.0, neginf=-5.0)
    O.grad(F, "nan_to_num", lambda a: mx.nan_to_num(a, 0.0, None, None),
           [Arg("float16", (8,), vals=nv)], modes=V, nan=0.0, posinf=None, neginf=None)
    # linalg.norm: vector orders and matrix norms (wmx has no SVD: no matrix 2/nuc); inputs away
    # from zero (the kink of |x|) and, being random, from ties of the max/min
    nz = "nonzero"
    for s, o, ax, kd, m in [((5,), None, None, False, VJ), ((3, 3), "fro", None, True, VJ),
                            ((5,), 1.0, None, False, V), ((5,), INF, None, False, VJ),
                            ((5,), -INF, None, False, V), ((5,), 0.0, None, False, VJ),
                            ((5,), 3.0, None, False, VJ), ((5,), -1.0, None, False, V), ((2, 3, 2), 2.0, [-2], False, V),
                            ((2, 3, 2), "fro", [2, 1], False, V), ((3, 3), 1.0, [0, 1], False, VJ),
                            ((3, 3), INF, [0, 1], False, V),
                            ((2, 3, 2), -INF, [-1, 0], True, V)]:
        O.grad(F, "linalg_norm", lambda a, o=o, ax=ax, kd=kd: mx.linalg.norm(a, o, ax, kd),
               [f32(s, nz)], modes=m, ord=o, axes=ax, keepdims=kd)
    O.grad(F, "linalg_norm", lambda a: mx.linalg.norm(a, 1.0, [0], False),
           [Arg("float32", S3, kind=nz, view=STRIDED3)], modes=V, ord=1.0, axes=[0], keepdims=False)
    O.vmap(F, "linalg_norm", lambda a: mx.linalg.norm(a, 3.0, [-1], False), [(2, 3)], [0], kinds=[nz],
           ord=3.0, axes=[-1], keepdims=False)
    O.vmap(F, "linalg_norm", lambda a: mx.linalg.norm(a, INF, [0, 1], True), [(3, 2)], [1],
           kinds=[nz], ord=INF, axes=[0, 1], keepdims=True)
    O.grad(F, "linalg_norm", lambda a: mx.linalg.norm(a, None, [-1], False), [fresh("float16", (2, 4), nz)],
           ord=None, axes=[-1], keepdims=False)


NAN, INF = float("nan"), float("inf")


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    gen_elementwise()
    gen_reduce()
    gen_scan()
    gen_sort()
    gen_linalg()
    gen_index()
    gen_structure()
    gen_layout()
    gen_diagonal()
    gen_composite()
    O.write(out_dir)
    total = sum(O.count.values())
    for op in sorted(O.count):
        print("%-16s %5d" % (op, O.count[op]))
    print("total %d cases" % total)


if __name__ == "__main__":
    main()
