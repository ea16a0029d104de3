#!/usr/bin/env python3
"""Generate the MLX convolution fixtures: tests/fixtures/conformance/conv.txt, replayed on both
devices by tests/conformance.rs (file format: see tools/gen_conformance.py's docstring).

Usage:  python3 tools/gen_conv_fixtures.py [out_dir]

Covers conv1d/2d/3d, conv_general (asymmetric and negative padding, kernel and input dilation,
groups, flip) and conv_transpose1d/2d/3d (output_padding), in float32, float16 and bfloat16, with
sizes from 1x1 kernels to odd extents, strided and transposed (non-contiguous) operands, and the
cases MLX rejects. Deterministic (the shared generator's seeded numpy Generator).
"""

import os
import sys

import mlx.core as mx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_conformance as gc  # noqa: E402

Arg = gc.Arg
O = gc.Out()
FAM = "conv"


def t(v, n):
    return tuple(v) if isinstance(v, (list, tuple)) else (v,) * n


def conv_nd(nd, dt, x, w, stride=1, padding=0, dilation=1, groups=1, xview=None, wview=None):
    fn = {1: mx.conv1d, 2: mx.conv2d, 3: mx.conv3d}[nd]
    s, p, d = t(stride, nd), t(padding, nd), t(dilation, nd)
    O.case(FAM, "conv%dd" % nd,
           lambda a, b: fn(a, b, stride=s if nd > 1 else s[0], padding=p if nd > 1 else p[0],
                           dilation=d if nd > 1 else d[0], groups=groups),
           [Arg(dt, x, view=xview), Arg(dt, w, view=wview)],
           stride=list(s), padding=list(p), dilation=list(d), groups=groups)


def general(dt, x, w, stride=1, lo=0, hi=0, kdil=1, idil=1, groups=1, flip=False, wdt=None):
    nd = len(x) - 2
    s, l, h, kd, idl = t(stride, nd), t(lo, nd), t(hi, nd), t(kdil, nd), t(idil, nd)
    O.case(FAM, "conv_general",
           lambda a, b: mx.conv_general(a, b, stride=list(s), padding=(list(l), list(h)),
                                        kernel_dilation=list(kd), input_dilation=list(idl),
                                        groups=groups, flip=flip),
           [Arg(dt, x), Arg(wdt or dt, w)],
           stride=list(s), padding_lo=list(l), padding_hi=list(h), kernel_dilation=list(kd),
           input_dilation=list(idl), groups=groups, flip=flip)


def transpose_nd(nd, dt, x, w, stride=1, padding=0, dilation=1, output_padding=0, groups=1):
    fn = {1: mx.conv_transpose1d, 2: mx.conv_transpose2d, 3: mx.conv_transpose3d}[nd]
    s, p, d, op = t(stride, nd), t(padding, nd), t(dilation, nd), t(output_padding, nd)
    un = (lambda v: v) if nd > 1 else (lambda v: v[0])
    O.case(FAM, "conv_transpose%dd" % nd,
           lambda a, b: fn(a, b, stride=un(s), padding=un(p), dilation=un(d),
                           output_padding=un(op), groups=groups),
           [Arg(dt, x), Arg(dt, w)],
           stride=list(s), padding=list(p), dilation=list(d), output_padding=list(op),
           groups=groups)


def gen():
    for dt in ["float32", "float16", "bfloat16"]:
        # 1-D
        conv_nd(1, dt, (2, 9, 3), (4, 3, 3))
        conv_nd(1, dt, (1, 7, 2), (3, 1, 2))
        conv_nd(1, dt, (2, 10, 4), (6, 3, 2), stride=2, padding=1, groups=2)
        conv_nd(1, dt, (1, 11, 3), (2, 3, 3), stride=3, padding=2, dilation=2)
        conv_nd(1, dt, (2, 8, 4), (4, 5, 1), padding=2, groups=4)  # depthwise
        # 2-D
        conv_nd(2, dt, (2, 6, 5, 3), (4, 3, 3, 3), padding=1)
        conv_nd(2, dt, (1, 1, 1, 5), (3, 1, 1, 5))  # 1x1 on 1x1
        conv_nd(2, dt, (2, 7, 9, 4), (5, 3, 2, 4), stride=(2, 3), padding=(1, 0), dilation=(1, 2))
        conv_nd(2, dt, (1, 8, 8, 6), (6, 3, 3, 2), stride=2, padding=1, groups=3)
        conv_nd(2, dt, (2, 5, 5, 8), (8, 3, 3, 1), padding=1, groups=8)  # depthwise
        conv_nd(2, dt, (1, 9, 7, 2), (3, 4, 4, 2), stride=3)  # stride not dividing evenly
        # 3-D
        conv_nd(3, dt, (1, 4, 5, 3, 2), (3, 2, 3, 2, 2), padding=(1, 0, 1))
        conv_nd(3, dt, (2, 5, 4, 6, 3), (2, 3, 1, 3, 3), stride=(2, 1, 2), dilation=(1, 2, 1))
        # conv_general: asymmetric padding, input dilation, flip
        general(dt, (2, 7, 3), (2, 3, 3), lo=2, hi=0, flip=True)
        general(dt, (1, 6, 5, 2), (3, 3, 2, 2), stride=(2, 1), lo=(0, 2), hi=(1, 0), kdil=(2, 1),
                idil=(1, 2))
        general(dt, (1, 5, 4, 4), (4, 2, 2, 2), lo=(1, 1), hi=(2, 0), idil=(3, 2), groups=2,
                flip=True)
        general(dt, (1, 3, 4, 3, 2), (2, 2, 2, 2, 2), stride=(1, 2, 1), lo=(1, 0, 2),
                hi=(0, 1, 1), idil=(2, 1, 2), flip=True)
        # transposed
        transpose_nd(1, dt, (2, 5, 3), (2, 3, 3), stride=2, padding=1, output_padding=1)
        transpose_nd(2, dt, (1, 4, 3, 4), (3, 3, 3, 4), stride=2, padding=1, output_padding=1)
        transpose_nd(2, dt, (2, 3, 3, 2), (2, 2, 3, 2), stride=(1, 2), dilation=(2, 1))
        transpose_nd(3, dt, (1, 2, 3, 2, 2), (2, 3, 2, 2, 2), stride=2, padding=(1, 0, 1),
                     output_padding=(1, 1, 0))
    # More than one GPU tile of rows; 130 output channels (the wide kernel, two column tiles).
    conv_nd(2, "float32", (1, 3, 3, 3), (130, 1, 1, 3))
    conv_nd(2, "float16", (1, 13, 12, 2), (5, 2, 2, 2), padding=(0, 1))
    # Strided and transposed operands.
    conv_nd(2, "float32", (2, 6, 10, 3), (4, 3, 3, 3),
            xview=[("slice", ((0, 2, 1), (0, 6, 1), (0, 10, 2), (0, 3, 1)))])
    conv_nd(1, "float32", (7, 5, 3), (3, 2, 3), xview=[("transpose", (1, 0, 2))],
            wview=[("slice", ((0, 3, 1), (1, -3, -1), (0, 3, 1)))])
    # Negative padding crops the input; mixed dtypes promote.
    general("float32", (1, 9, 2), (2, 3, 2), lo=-2, hi=-1)
    general("float32", (1, 7, 6, 1), (1, 2, 2, 1), lo=(-1, 1), hi=(0, -2), idil=(2, 1))
    general("float16", (1, 5, 2), (1, 3, 2), wdt="bfloat16")
    general("float32", (1, 5, 2), (1, 3, 2), wdt="int32")
    # Errors.
    general("int32", (1, 5, 2), (1, 3, 2))
    conv_nd(2, "float32", (1, 5, 5, 3), (2, 3, 3, 4))  # channel mismatch
    conv_nd(2, "float32", (1, 5, 5, 6), (4, 3, 3, 2), groups=4)  # groups not dividing C_in
    conv_nd(2, "float32", (1, 5, 5, 6), (5, 3, 3, 2), groups=3)  # groups not dividing C_out
    conv_nd(2, "float32", (1, 2, 2, 1), (1, 3, 3, 1))  # kernel larger than input
    conv_nd(1, "float32", (1, 5, 2), (1, 3, 2), stride=0)
    conv_nd(1, "float32", (1, 5, 2), (1, 3, 2), padding=-1)
    conv_nd(1, "float32", (1, 5, 2), (1, 3, 2), dilation=0)
    conv_nd(3, "float32", (1, 4, 4, 4, 2), (2, 3, 3, 3, 1), groups=2)  # grouped 3-D
    general("float32", (1, 5, 2), (1, 3, 2), lo=-6, hi=0)  # negative padding beyond the size
    O.case(FAM, "conv2d", lambda a, b: mx.conv2d(a, b), [Arg("float32", (5, 5, 3)),
                                                         Arg("float32", (2, 3, 3, 3))],
           stride=[1, 1], padding=[0, 0], dilation=[1, 1], groups=1)  # missing batch dim


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else gc.DEFAULT_OUT
    gen()
    O.write(out_dir)
    path = os.path.join(out_dir, FAM + ".txt")
    with open(path) as f:
        text = f.read().replace("generator: tools/gen_conformance.py", "generator: tools/gen_conv_fixtures.py")
    with open(path, "w") as f:
        f.write(text)
    for op in sorted(O.count):
        print("%-18s %4d" % (op, O.count[op]))


if __name__ == "__main__":
    main()
