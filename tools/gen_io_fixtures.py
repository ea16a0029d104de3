#!/usr/bin/env python3
"""Writes the array and weight files that wmx must read (tests/io.rs), made by numpy, MLX and
the python `safetensors` package, into tests/fixtures/io/foreign/, with expected.txt: one line per
array, tab-separated `file  name  dtype  shape  values` (row-major, space-separated floats;
name `-` for a .npy), per metadata pair `file  @meta  key  value`, or per file that must fail
`file  @error  text-the-error-contains`.

Run from the repository root: python3 tools/gen_io_fixtures.py
Needs numpy, mlx and safetensors (pip install safetensors).
"""
import os

import mlx.core as mx
import numpy as np
from safetensors.numpy import save_file

OUT = os.path.join("tests", "fixtures", "io", "foreign")


def values(shape, dtype, seed):
    """Small deterministic values that every dtype represents exactly."""
    n = int(np.prod(shape)) if len(shape) else 1
    i = np.arange(n, dtype=np.float64)
    if dtype == "bool":
        v = ((i + seed) % 3 == 0).astype(np.float64)
    elif dtype in ("uint8", "uint32"):
        v = (i * 7 + seed) % 250
    elif dtype == "int32":
        v = (i * 7 + seed) % 50 - 25
    else:
        v = (i - n / 2 + seed) * 0.25
    return v.reshape(shape)


NP = {
    "bool": np.bool_,
    "uint8": np.uint8,
    "uint32": np.uint32,
    "int32": np.int32,
    "float16": np.float16,
    "float32": np.float32,
}
MX = {
    "bool": mx.bool_,
    "uint8": mx.uint8,
    "uint32": mx.uint32,
    "int32": mx.int32,
    "float16": mx.float16,
    "bfloat16": mx.bfloat16,
    "float32": mx.float32,
}

expected = {}


def entry(v, dtype):
    return {"dtype": dtype, "shape": list(v.shape), "values": [float(x) for x in v.reshape(-1)]}


def npy(name, shape, dtype, seed, store=None, version=None):
    v = values(shape, dtype, seed)
    a = v.astype(NP[dtype])
    if store is not None:
        a = store(a)
    path = os.path.join(OUT, name)
    if version is None:
        np.save(path, a)
    else:
        with open(path, "wb") as f:
            np.lib.format.write_array(f, a, version=version)
    expected[name] = {"array": entry(v, dtype)}


def main():
    os.makedirs(OUT, exist_ok=True)
    # numpy: every wmx dtype, orders, byte orders, versions, 0-d and empty arrays.
    npy("np_f32.npy", (2, 3), "float32", 0)
    npy("np_f16.npy", (5,), "float16", 1)
    npy("np_i32.npy", (2, 2, 2), "int32", 2)
    npy("np_u32.npy", (4,), "uint32", 3)
    npy("np_u8.npy", (3, 2), "uint8", 4)
    npy("np_bool.npy", (7,), "bool", 0)
    npy("np_f32_scalar.npy", (), "float32", 5)
    npy("np_f32_empty.npy", (0, 3), "float32", 0)
    npy("np_f32_fortran.npy", (3, 4), "float32", 6, store=np.asfortranarray)
    npy("np_i32_fortran3d.npy", (2, 3, 2), "int32", 1, store=np.asfortranarray)
    npy("np_i32_big_endian.npy", (5,), "int32", 7, store=lambda a: a.astype(">i4"))
    npy("np_f16_big_endian_fortran.npy", (2, 3), "float16", 8,
        store=lambda a: np.asfortranarray(a.astype(">f2")))
    npy("np_f32_v2.npy", (2, 2), "float32", 9, version=(2, 0))
    npy("np_f32_v3.npy", (3,), "float32", 10, version=(3, 0))
    # Dtypes wmx lacks: an Err naming the dtype.
    np.save(os.path.join(OUT, "np_i64.npy"), np.arange(3, dtype=np.int64))
    expected["np_i64.npy"] = {"error": "'<i8' (int64)"}
    np.save(os.path.join(OUT, "np_f64.npy"), np.arange(3, dtype=np.float64))
    expected["np_f64.npy"] = {"error": "'<f8' (float64)"}

    # numpy .npz, stored and deflated.
    arrays = {"a": ((2, 3), "float32", 0), "b": ((4,), "int32", 1), "c": ((), "uint8", 2),
              "mask": ((2, 2), "bool", 1)}
    vals = {k: values(s, d, seed) for k, (s, d, seed) in arrays.items()}
    for name, fn in (("np_savez.npz", np.savez), ("np_savez_compressed.npz", np.savez_compressed)):
        fn(os.path.join(OUT, name), **{k: vals[k].astype(NP[arrays[k][1]]) for k in arrays})
        expected[name] = {"arrays": {k: entry(vals[k], arrays[k][1]) for k in arrays}}

    # MLX: .npy (bf16 as '<V2'), .npz and .safetensors with metadata.
    mx_arrays = {"w": ((2, 3), "float32", 0), "h": ((4,), "float16", 1),
                 "bf": ((3, 2), "bfloat16", 2), "ids": ((5,), "int32", 3),
                 "u": ((2,), "uint32", 4), "bytes": ((3,), "uint8", 5), "flag": ((2,), "bool", 2)}
    mvals = {k: values(s, d, seed) for k, (s, d, seed) in mx_arrays.items()}
    marr = {k: mx.array(mvals[k].astype(np.float32)).astype(MX[mx_arrays[k][1]]) for k in mx_arrays}
    mx.save(os.path.join(OUT, "mlx_f32.npy"), marr["w"])
    expected["mlx_f32.npy"] = {"array": entry(mvals["w"], "float32")}
    mx.save(os.path.join(OUT, "mlx_bf16.npy"), marr["bf"])
    expected["mlx_bf16.npy"] = {"array": entry(mvals["bf"], "bfloat16")}
    mx.savez(os.path.join(OUT, "mlx_savez.npz"), **{k: marr[k] for k in ("w", "ids", "flag")})
    expected["mlx_savez.npz"] = {"arrays": {k: entry(mvals[k], mx_arrays[k][1])
                                            for k in ("w", "ids", "flag")}}
    mx.savez_compressed(os.path.join(OUT, "mlx_savez_compressed.npz"),
                        **{k: marr[k] for k in ("w", "h")})
    expected["mlx_savez_compressed.npz"] = {"arrays": {k: entry(mvals[k], mx_arrays[k][1])
                                                       for k in ("w", "h")}}
    meta = {"format": "mlx", "epoch": "3"}
    mx.save_safetensors(os.path.join(OUT, "mlx.safetensors"), marr, metadata=meta)
    expected["mlx.safetensors"] = {
        "arrays": {k: entry(mvals[k], mx_arrays[k][1]) for k in mx_arrays}, "metadata": meta}
    mx.save_safetensors(os.path.join(OUT, "mlx_nometa.safetensors"), {"w": marr["w"]})
    expected["mlx_nometa.safetensors"] = {"arrays": {"w": entry(mvals["w"], "float32")},
                                          "metadata": {}}

    # The python safetensors package (numpy front end).
    st = {"weight": ((3, 2), "float32", 0), "half": ((2, 2), "float16", 1),
          "tokens": ((4,), "int32", 2), "scalar": ((), "float32", 3),
          "empty": ((0, 2), "float32", 0), "mask": ((3,), "bool", 2)}
    svals = {k: values(s, d, seed) for k, (s, d, seed) in st.items()}
    smeta = {"source": "safetensors-python"}
    save_file({k: svals[k].astype(NP[st[k][1]]) for k in st},
              os.path.join(OUT, "py.safetensors"), metadata=smeta)
    expected["py.safetensors"] = {"arrays": {k: entry(svals[k], st[k][1]) for k in st},
                                  "metadata": smeta}
    save_file({"position_ids": np.arange(4, dtype=np.int64)},
              os.path.join(OUT, "py_i64.safetensors"))
    expected["py_i64.safetensors"] = {
        "error": "Tensor 'position_ids' has dtype I64, which wmx does not support."}

    lines = []
    for file in sorted(expected):
        e = expected[file]
        arrays = {"-": e["array"]} if "array" in e else e.get("arrays", {})
        for name in sorted(arrays):
            a = arrays[name]
            shape = "(" + ",".join(str(d) for d in a["shape"]) + ")"
            vals = " ".join(repr(v) for v in a["values"])
            lines.append(f"{file}\t{name}\t{a['dtype']}\t{shape}\t{vals}")
        for k in sorted(e.get("metadata", {})):
            lines.append(f"{file}\t@meta\t{k}\t{e['metadata'][k]}")
        if "metadata" in e and not e["metadata"]:
            lines.append(f"{file}\t@meta\t\t")
        if "error" in e:
            lines.append(f"{file}\t@error\t{e['error']}")
    with open(os.path.join(OUT, "expected.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"wrote {len(expected)} files + expected.txt to {OUT} ({total} bytes)")


if __name__ == "__main__":
    main()
