#!/usr/bin/env python3
"""Regenerate docs/OPS.md: every public function of mlx.core (plus mlx.core.random and
mlx.core.linalg.norm) with its status in wmx.

Usage:  python3 tools/gen_coverage.py        (writes docs/OPS.md; needs the mlx package)

An op counts as implemented when src/ defines `pub fn <name>` in a module that src/lib.rs
re-exports (`pub use ops::<m>::*`, `pub mod random`) or directly in lib.rs; a wmx op runs on
both devices by construction, so it is marked CPU and GPU. MLX names that wmx spells
differently are mapped in ALIASES. Everything else is "planned" unless NOT_PLANNED gives a
reason.
"""

import os
import re
import inspect

import mlx.core as mx

import gen_nn_coverage

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
OUT = os.path.join(REPO, "docs", "OPS.md")

ALIASES = {
    "where": "where_",
    # MLX's array-API aliases (the same function object in mlx.core) of ops wmx has
    "acos": "arccos", "acosh": "arccosh", "asin": "arcsin", "asinh": "arcsinh",
    "atan": "arctan", "atan2": "arctan2", "atanh": "arctanh", "pow": "power",
    "bitwise_left_shift": "left_shift", "bitwise_right_shift": "right_shift",
    "cumulative_sum": "cumsum", "cumulative_prod": "cumprod",
}
NOT_PLANNED = {
    "fft": "FFT module", "distributed": "multi-device communication (separate project)",
    "metal": "Apple Metal specific", "cuda": "CUDA specific",
    "compile": "graph compilation (later)", "export_function": "graph export",
    "import_function": "graph export", "exporter": "graph export",
    "export_to_dot": "graph export", "load": "file IO (npy/safetensors/gguf)",
    "save": "file IO", "savez": "file IO", "savez_compressed": "file IO",
    "save_safetensors": "file IO", "save_gguf": "file IO", "quantize": "quantization (later)",
    "dequantize": "quantization (later)", "quantized_matmul": "quantization (later)",
    "gather_qmm": "quantization (later)", "gather_mm": "MoE kernels (later)",
    "block_masked_mm": "MoE kernels (later)", "segmented_mm": "MoE kernels (later)",
    "hadamard_transform": "specialised kernel (later)", "from_fp8": "fp8 (no wmx dtype)",
    "to_fp8": "fp8 (no wmx dtype)", "set_wired_limit": "Apple unified memory",
    "disable_compile": "graph compilation", "enable_compile": "graph compilation",
}


def wmx_exports():
    """Names of the public functions wmx re-exports at the crate root (and wmx::random)."""
    src = os.path.join(REPO, "src")
    lib = open(os.path.join(src, "lib.rs")).read()
    root, rand = set(), set()
    fn = re.compile(r"^\s*pub fn ([a-z_0-9]+)", re.M)
    mac = re.compile(r"^\s*(?:///.*\n\s*)*([a-z_0-9]+) => [A-Z][A-Za-z0-9]*;", re.M)
    root |= set(fn.findall(lib))
    # `pub use module::{a, b, ...};` re-exports (eval, new_stream, memory API...)
    for group in re.findall(r"pub use [a-z_:]+::\{([^}]*)\};", lib):
        root |= {n.strip() for n in group.split(",") if re.fullmatch(r"[a-z_0-9]+", n.strip())}
    for m in re.findall(r"pub use ops::([a-z_]+)::\*;", lib):
        text = open(os.path.join(src, "ops", m + ".rs")).read()
        root |= set(fn.findall(text))
        root |= set(mac.findall(text))  # unary_fns!/binary_fns!/reduce_fns! tables
    if "pub mod random;" in lib:
        rand |= set(fn.findall(open(os.path.join(src, "random.rs")).read()))
    linalg = set()
    # `pub mod linalg { pub use crate::ops::<module>::{..., norm}; }` in lib.rs
    block = re.search(r"pub mod linalg \{(.*?)\n\}", lib, re.S)
    for m in re.findall(r"pub use crate::ops::([a-z_]+)::", block.group(1) if block else ""):
        linalg |= set(fn.findall(open(os.path.join(src, "ops", m + ".rs")).read()))
    return root, rand, linalg


# Ops whose outputs carry no gradient (MLX gives zero cotangents or refuses): comparisons,
# integer/bool results, indices, creation from constants, random bits.
NON_DIFF = {
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "array_equal",
    "allclose", "isclose", "logical_and", "logical_or", "logical_not", "logical_xor",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_invert", "left_shift", "right_shift",
    "floor_divide", "argmax", "argmin", "argsort", "argpartition", "searchsorted", "isnan",
    "isinf", "isfinite", "isposinf", "isneginf", "all", "any", "arange", "zeros", "ones", "full",
    "eye", "identity", "linspace", "tri", "zeros_like", "ones_like", "trunc",
}
# Everything else that wmx implements and that is not an array op (eval, devices, memory...).
NOT_OPS = {
    "eval", "async_eval", "synchronize", "new_stream", "default_stream", "set_default_stream",
    "stream", "default_device", "set_default_device", "device_count", "device_info",
    "get_active_memory", "get_peak_memory", "reset_peak_memory", "get_cache_memory",
    "set_cache_limit", "set_memory_limit", "clear_cache", "grad", "value_and_grad", "vjp", "jvp",
    "vmap", "checkpoint", "custom_function", "stop_gradient", "promote_types",
}


def transform_checks():
    """{op: set of transforms} checked against MLX (tests/fixtures/grad) and by the
    dot-product/finite-difference property test (tests/grad_props)."""
    mlx, props = {}, set()
    gdir = os.path.join(REPO, "tests", "fixtures", "grad")
    for fn in sorted(os.listdir(gdir)) if os.path.isdir(gdir) else []:
        for line in open(os.path.join(gdir, fn)):
            if line.startswith("case "):
                parts = line.split()
                t = [p.split("=", 1)[1] for p in parts[3:] if p.startswith("transform=")]
                mlx.setdefault(parts[2], set()).update(t)
    pdir = os.path.join(REPO, "tests", "grad_props")
    for fn in sorted(os.listdir(pdir)) if os.path.isdir(pdir) else []:
        props |= set(re.findall(r'case\("([a-z_0-9]+)', open(os.path.join(pdir, fn)).read()))
    return mlx, props


def rules_cell(name, wmx_name, have, mlx, props):
    if not have or name in NOT_OPS or wmx_name in NOT_OPS:
        return ""
    if wmx_name in NON_DIFF:
        return "zero (no gradient)"
    t = mlx.get(wmx_name, set()) | mlx.get(name, set())
    marks = " ".join(("✔" if x in t else ("✔ prop" if wmx_name in props else "·")) + " " + x
                     for x in ("vjp", "jvp", "vmap"))
    return marks + (" (MLX)" if t else "")


def public(mod):
    return sorted(n for n, v in vars(mod).items()
                  if not n.startswith("_") and callable(v) and not inspect.isclass(v))


def main():
    root, rand, linalg = wmx_exports()
    mlx, props = transform_checks()
    rows = []
    def status(name, have):
        if have:
            return "✔ CPU ✔ GPU"
        if name in NOT_PLANNED:
            return "not planned: " + NOT_PLANNED[name]
        return "planned"
    for n in public(mx):
        w = ALIASES.get(n, n)
        rows.append(("mlx.core." + n, status(n, w in root), rules_cell(n, w, w in root, mlx, props)))
    for n in public(mx.random):
        rows.append(("mlx.core.random." + n, status(n, n in rand), "zero (no gradient)" if n in rand else ""))
    rows.append(("mlx.core.linalg.norm", status("norm", "norm" in linalg),
                 rules_cell("linalg_norm", "norm", "norm" in linalg, mlx, props)))
    for n in public(mx.linalg):
        if n != "norm":
            rows.append(("mlx.core.linalg." + n, "not planned: decompositions/solvers (later)", ""))
    # mlx.core.fast: wmx::fast (src/fast/mod.rs); MLX fixtures and vjps in tests/fast_mlx.rs.
    fast_src = open(os.path.join(os.path.dirname(__file__), "..", "src", "fast", "mod.rs")).read()
    fast_fns = set(re.findall(r"^pub fn (\w+)", fast_src, re.M))
    for n in public(mx.fast):
        rows.append(("mlx.core.fast." + n, status(n, n in fast_fns),
                     "vjp ✔ (tests/fast_mlx.rs) · jvp · vmap" if n in fast_fns else ""))
    done = sum(1 for _, s, _ in rows if s.startswith("✔"))
    planned = sum(1 for _, s, _ in rows if s == "planned")
    diff = [r for r in rows if r[2] and not r[2].startswith("zero")]
    full = [r for r in diff if "·" not in r[2]]
    with open(OUT, "w") as f:
        f.write("# MLX op coverage\n\n")
        f.write("Generated by `python3 tools/gen_coverage.py` from mlx %s and the Rust sources; "
                "do not edit by hand, rerun the script after adding ops.\n\n" % mx.__version__)
        f.write("A wmx op runs on both devices by construction (CPU kernels and WGSL kernels, "
                "or a composite of them). Conformance against MLX: tests/conformance.rs.\n\n")
        f.write("%d functions: %d implemented, %d planned, %d not planned.\n\n"
                % (len(rows), done, planned, len(rows) - done - planned))
        f.write("Transforms: every primitive has a vjp, jvp and vmap rule (src/transforms/), so every "
                "op has all three. The last column says how each is checked: ✔ against MLX's own "
                "results (tests/fixtures/grad, `tools/gen_grad_fixtures.py`), ✔ prop by the "
                "dot-product and finite-difference property test (tests/grad_props), · not checked "
                "yet. %d of %d differentiable ops have all three checked.\n\n" % (len(full), len(diff)))
        f.write("| MLX function | wmx | vjp · jvp · vmap |\n|---|---|---|\n")
        for n, s, r in rows:
            f.write("| `%s` | %s | %s |\n" % (n, s, r))
        f.write(gen_nn_coverage.section())
    print("%s: %d functions, %d implemented, %d planned" % (OUT, len(rows), done, planned))


if __name__ == "__main__":
    main()
