#!/usr/bin/env python3
"""The `mlx.nn` / `mlx.optimizers` part of docs/OPS.md (tools/gen_coverage.py calls `section()`).

Every public class and function of mlx.nn, mlx.nn.losses, mlx.nn.init and mlx.optimizers, with
its wmx name and status. A name counts as implemented when src/nn or src/optimizers defines it
(`pub struct`, `pub fn`, or an entry of the layer/activation macro tables); it counts as checked
against MLX when tests/fixtures/nn (tools/gen_nn_fixtures.py) has cases for it.
"""

import inspect
import os
import re

import mlx.nn as nn
import mlx.optimizers as optim

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

RENAME = {
    "ReLU": "Relu", "ReLU6": "Relu6", "ReLU2": "Relu2", "LeakyReLU": "LeakyRelu", "ELU": "Elu",
    "SELU": "Selu", "CELU": "Celu", "GELU": "Gelu", "SiLU": "Silu", "GLU": "Glu", "PReLU": "PRelu",
    "RMSNorm": "RmsNorm", "SGD": "Sgd", "RMSprop": "RmsProp", "Module": "Module",
    "Optimizer": "Optimizer",
}
NOT_PLANNED = {
    "quantize": "quantization (later)", "QuantizedLinear": "quantization (later)",
    "QuantizedEmbedding": "quantization (later)", "QQLinear": "quantization (later)",
    "QuantizedAllToShardedLinear": "quantization (later)",
    "QuantizedShardedToAllLinear": "quantization (later)",
    "AllToShardedLinear": "tensor-parallel sharding (later)",
    "ShardedToAllLinear": "tensor-parallel sharding (later)",
    "FullyShardedModule": "tensor-parallel sharding (later)",
    "fully_shard": "tensor-parallel sharding (later)",
}
# Fixture kinds named differently from the MLX name they check.
ALIAS = {"MultiHeadAttention": "mha", "binary_cross_entropy": "bce", "cosine_similarity_loss": "cosine",
         "kl_div_loss": "kl_div", "clip_grad_norm": "clip", "cosine_decay": "sgd_cosine",
         "step_decay": "sgd_step_decay", "join_schedules": "adam_joined", "linear_schedule": "adam_joined",
         "exponential_decay": "adam_joined", "value_and_grad": "linear"}
SKIP = {"get_args", "tree_flatten", "tree_map", "tree_merge", "tree_reduce", "tree_unflatten"}


def snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def wmx_names():
    names = set()
    for sub in ("nn", "optimizers"):
        for root, _, files in os.walk(os.path.join(REPO, "src", sub)):
            for f in files:
                text = open(os.path.join(root, f)).read()
                names |= set(re.findall(r"pub (?:struct|trait|fn|enum) ([A-Za-z_0-9]+)", text))
                names |= set(re.findall(r"^\s+([A-Z][A-Za-z0-9]+)(?: \{[^}]*\})? =>", text, re.M))
                names |= set(re.findall(r"^\s+([A-Z][A-Za-z0-9]+), (?:[A-Z][a-z]+|\d|\")", text, re.M))
    return names


def fixture_words():
    words = set()
    d = os.path.join(REPO, "tests", "fixtures", "nn")
    for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        for line in open(os.path.join(d, f)):
            if line.startswith("case "):
                words |= set(re.split(r"[ =_,]", line.strip()))
                words.add(line.split()[1])
                words.add(line.split()[2])
                words |= {p.split("=", 1)[1] for p in line.split()[3:] if p.startswith("fn=")}
    return words


def entries():
    rows = []
    def add(module, obj_name, is_class):
        if obj_name.startswith("_") or obj_name in SKIP:
            return
        rows.append((module, obj_name, RENAME.get(obj_name, obj_name) if is_class else obj_name))
    for n, v in sorted(vars(nn).items()):
        if inspect.isclass(v) or inspect.isfunction(v):
            add("mlx.nn", n, inspect.isclass(v))
    for n, v in sorted(vars(nn.losses).items()):
        if inspect.isfunction(v):
            add("mlx.nn.losses", n, False)
    for n, v in sorted(vars(nn.init).items()):
        if inspect.isfunction(v):
            add("mlx.nn.init", n, False)
    for n, v in sorted(vars(optim).items()):
        if (inspect.isclass(v) or inspect.isfunction(v)) and n != "Module":
            add("mlx.optimizers", n, inspect.isclass(v))
    return rows


def section():
    have, fx = wmx_names(), fixture_words()
    lines, done = [], 0
    rows = entries()
    for module, name, w in rows:
        if w in have:
            done += 1
            cands = {name.lower(), snake(name), snake(w), w.lower(), name.removesuffix("_loss"),
                     ALIAS.get(name, "")}
            checked = bool(cands & fx)
            status = "✔ CPU ✔ GPU" + (" · MLX fixtures" if checked else "")
            lines.append(f"| `{module}.{name}` | `{w}` | {status} |")
        elif name in NOT_PLANNED:
            lines.append(f"| `{module}.{name}` | | not planned: {NOT_PLANNED[name]} |")
        else:
            lines.append(f"| `{module}.{name}` | | planned |")
    head = [
        "", "## mlx.nn and mlx.optimizers", "",
        "`wmx::nn` (layers, activations, `nn::losses`, `nn::init`) and `wmx::optimizers`, composites "
        "of the ops above, so they run on both devices and differentiate through the transforms. "
        "\"MLX fixtures\": outputs, gradients and optimizer steps compared with MLX's on both devices "
        "by tests/nn_mlx.rs (fixtures from `tools/gen_nn_fixtures.py`). Rust names: MLX's, in "
        "Rust's case (`ReLU` is `Relu`, `SGD` is `Sgd`).", "",
        f"{len(rows)} names: {done} implemented.", "",
        "| MLX | wmx | status |", "|---|---|---|",
    ]
    return "\n".join(head + lines) + "\n"


if __name__ == "__main__":
    print(section())
