#!/usr/bin/env python3
"""Generate the MLX fixtures that tests/nn_mlx.rs replays on wmx's nn, losses and optimizers.

Usage:  python3 tools/gen_nn_fixtures.py [out_dir]      (default: tests/fixtures/nn/)

Needs `mlx` (the CPU build is enough) and numpy. Deterministic: fixed seeds; re-running with the
same MLX version reproduces the files byte for byte.

FORMAT (one file per group: layers.txt, losses.txt, optimizers.txt, init.txt):
  case <name> <kind> [key=value ...]     a case; `kind` tells the test what to build
  arr <label> <dtype> (<shape>) : <hex>  an array: f32 bits as 8 hex digits (int32 for `int32`)
Labels: `p.<param name>` parameters to load into the layer (MLX's dotted names), `x`, `x2`...
inputs, `y` the forward output, `c` a cotangent, `g.<name>` the gradient of sum(y * c) with
respect to a parameter (MLX's nn.value_and_grad) and `gx` with respect to the input, `s.<name>`
state after the forward pass (BatchNorm's running statistics). Optimizer cases: `p.<name>`
initial parameters, `g<k>.<name>` the gradients of step k, `r<k>.<name>` the parameters after
step k, `lr<k>` the learning rate used at step k.
"""

import os
import sys

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
import numpy as np
from mlx.utils import tree_flatten, tree_unflatten

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "nn")
rng = np.random.default_rng(20261204)


def arr_line(label, a):
    a = np.array(a)
    if a.dtype == np.bool_:
        a = a.astype(np.int32)
    if np.issubdtype(a.dtype, np.integer):
        dt, bits = "int32", a.astype(np.int32).view(np.uint32)
    else:
        dt, bits = "float32", a.astype(np.float32).view(np.uint32)
    shape = "(" + ",".join(str(d) for d in a.shape) + ")"
    return f"arr {label} {dt} {shape} : " + " ".join(f"{b:08x}" for b in bits.reshape(-1))


def rnd(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


class Writer:
    def __init__(self, name):
        self.lines = [f"# MLX nn fixtures: {name}", f"# mlx_version: {mx.__version__}",
                      "# generator: tools/gen_nn_fixtures.py (format: see its docstring)"]
        self.name = name

    def case(self, name, kind, **kw):
        extra = " ".join(f"{k}={v}" for k, v in kw.items())
        self.lines.append(f"case {name} {kind} {extra}".rstrip())

    def arr(self, label, a):
        self.lines.append(arr_line(label, np.array(a)))

    def save(self):
        os.makedirs(OUT, exist_ok=True)
        with open(os.path.join(OUT, self.name + ".txt"), "w") as f:
            f.write("\n".join(self.lines) + "\n")


def randomize(model):
    """Replaces every parameter with fixed random values (so the test can load them)."""
    params = tree_flatten(model.parameters())
    new = [(k, mx.array(np.abs(rnd(*v.shape)) + 0.5 if k.endswith("running_var") else rnd(*v.shape, scale=0.5)))
           for k, v in params]
    model.update(tree_unflatten(new))


def layer_case(w, name, kind, model, xs, train=True, grads=True, **kw):
    randomize(model)
    model.train(train)
    w.case(name, kind, training=int(train), **kw)
    for k, v in tree_flatten(model.parameters()):
        w.arr("p." + k, v)
    xs = [mx.array(x) for x in xs]
    for i, x in enumerate(xs):
        w.arr("x" if i == 0 else f"x{i + 1}", x)
    before = dict(tree_flatten(model.parameters()))
    y = model(*xs)
    w.arr("y", y)
    if kind.startswith("batch_norm"):
        for k in ("running_mean", "running_var"):
            if k in model:
                w.arr("s." + k, model[k])
        model.update(tree_unflatten(list(before.items())))
    if grads:
        c = mx.array(rnd(*y.shape))
        w.arr("c", c)

        def loss(m, *xs):
            return (m(*xs) * c).sum()

        if tree_flatten(model.trainable_parameters()):
            _, g = nn.value_and_grad(model, loss)(model, *xs)
            for k, v in tree_flatten(g):
                w.arr("g." + k, v)
        if xs[0].dtype == mx.float32:
            gx = mx.grad(lambda x0: (model(x0, *xs[1:]) * c).sum())(xs[0])
            w.arr("gx", gx)


def layers():
    w = Writer("layers")
    x = rnd(2, 3, 5)
    layer_case(w, "linear", "linear", nn.Linear(5, 4), [x], dims="5,4", bias=1)
    layer_case(w, "linear_nobias", "linear", nn.Linear(5, 3, bias=False), [x[0]], dims="5,3", bias=0)
    layer_case(w, "bilinear", "bilinear", nn.Bilinear(5, 4, 3), [x, rnd(2, 3, 4)], dims="5,4,3", bias=1)
    idx = np.array([[0, 3, 3], [7, 1, 0]], np.int32)
    layer_case(w, "embedding", "embedding", nn.Embedding(8, 4), [idx], dims="8,4")
    layer_case(w, "layer_norm", "layer_norm", nn.LayerNorm(5), [x], dims=5, affine=1, bias=1, eps=1e-5)
    layer_case(w, "layer_norm_plain", "layer_norm", nn.LayerNorm(5, affine=False), [x], dims=5, affine=0, bias=0, eps=1e-5)
    layer_case(w, "rms_norm", "rms_norm", nn.RMSNorm(5, eps=1e-6), [x], dims=5, eps=1e-6)
    xg = rnd(2, 3, 3, 6)
    layer_case(w, "group_norm", "group_norm", nn.GroupNorm(3, 6), [xg], groups=3, dims=6, pytorch=0)
    layer_case(w, "group_norm_pt", "group_norm", nn.GroupNorm(2, 6, pytorch_compatible=True), [xg], groups=2, dims=6, pytorch=1)
    layer_case(w, "batch_norm_train", "batch_norm", nn.BatchNorm(6), [xg], features=6)
    layer_case(w, "batch_norm_eval", "batch_norm", nn.BatchNorm(6), [xg], train=False, features=6)
    layer_case(w, "batch_norm_2d", "batch_norm", nn.BatchNorm(5, momentum=0.3), [rnd(7, 5)], features=5, momentum=0.3)
    xp = rnd(2, 7, 3)
    layer_case(w, "max_pool1d", "max_pool1d", nn.MaxPool1d(3, stride=2, padding=1), [xp], kernel=3, stride=2, padding=1)
    layer_case(w, "avg_pool1d", "avg_pool1d", nn.AvgPool1d(2), [xp], kernel=2, stride=2, padding=0)
    xq = rnd(2, 6, 5, 3)
    layer_case(w, "max_pool2d", "max_pool2d", nn.MaxPool2d(2), [xq], kernel="2,2", stride="2,2", padding="0,0")
    layer_case(w, "max_pool2d_pad", "max_pool2d", nn.MaxPool2d((3, 2), stride=(2, 1), padding=(1, 1)), [xq], kernel="3,2", stride="2,1", padding="1,1")
    layer_case(w, "avg_pool2d", "avg_pool2d", nn.AvgPool2d(3, stride=2, padding=1), [xq], kernel="3,3", stride="2,2", padding="1,1")
    q = rnd(2, 4, 8)
    kv = rnd(2, 6, 8)
    mha = nn.MultiHeadAttention(8, 2)
    layer_case(w, "mha", "mha", mha, [q, kv, kv], dims=8, heads=2, mask=0)
    mha2 = nn.MultiHeadAttention(8, 4, bias=True)
    mask = nn.MultiHeadAttention.create_additive_causal_mask(4)
    randomize(mha2)
    w.case("mha_causal", "mha", dims=8, heads=4, bias=1, mask=1)
    for k, v in tree_flatten(mha2.parameters()):
        w.arr("p." + k, v)
    w.arr("x", q)
    w.arr("y", mha2(mx.array(q), mx.array(q), mx.array(q), mask))
    layer_case(w, "prelu", "prelu", nn.PReLU(5), [x], params=5)
    layer_case(w, "conv1d", "conv1d", nn.Conv1d(5, 4, 3, stride=2, padding=1), [rnd(2, 9, 5)], dims="5,4", kernel=3, stride=2, padding=1, dilation=1, groups=1)
    layer_case(w, "conv2d", "conv2d", nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2), [rnd(2, 7, 6, 4)],
               dims="4,6", kernel="3,2", stride="2,1", padding="1,0", dilation="1,2", groups=2)
    layer_case(w, "conv3d", "conv3d", nn.Conv3d(2, 3, 2, padding=1), [rnd(1, 3, 4, 3, 2)], dims="2,3", kernel="2,2,2", stride="1,1,1", padding="1,1,1", dilation="1,1,1", groups=1)
    layer_case(w, "conv_transpose1d", "conv_transpose1d", nn.ConvTranspose1d(3, 2, 3, stride=2, padding=1, output_padding=1), [rnd(2, 5, 3)],
               dims="3,2", kernel=3, stride=2, padding=1, dilation=1, output_padding=1)
    layer_case(w, "conv_transpose2d", "conv_transpose2d", nn.ConvTranspose2d(3, 4, (3, 2), stride=(2, 2), padding=(1, 0), output_padding=(1, 0)), [rnd(2, 4, 3, 3)],
               dims="3,4", kernel="3,2", stride="2,2", padding="1,0", dilation="1,1", output_padding="1,0")
    layer_case(w, "instance_norm", "instance_norm", nn.InstanceNorm(6, affine=True), [xg], dims=6)
    xr = rnd(2, 4, 5, 6, 3)
    layer_case(w, "max_pool3d", "max_pool3d", nn.MaxPool3d(2, stride=(1, 2, 2), padding=(0, 1, 1)), [xr], kernel="2,2,2", stride="1,2,2", padding="0,1,1")
    layer_case(w, "avg_pool3d", "avg_pool3d", nn.AvgPool3d((2, 3, 2)), [xr], kernel="2,3,2", stride="2,3,2", padding="0,0,0")
    seq = nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 2))
    layer_case(w, "sequential", "sequential", seq, [x])
    xa = np.linspace(-4, 4, 33, dtype=np.float32).reshape(3, 11)
    acts = {
        "relu": nn.relu, "relu6": nn.relu6, "leaky_relu": lambda v: nn.leaky_relu(v, 0.1),
        "elu": lambda v: nn.elu(v, 0.7), "selu": nn.selu, "celu": lambda v: nn.celu(v, 1.3),
        "softplus": nn.softplus, "softsign": nn.softsign, "sigmoid": nn.sigmoid, "tanh": nn.tanh,
        "silu": nn.silu, "log_sigmoid": nn.log_sigmoid, "gelu": nn.gelu, "gelu_approx": nn.gelu_approx,
        "gelu_fast_approx": nn.gelu_fast_approx, "mish": nn.mish, "hardswish": nn.hardswish,
        "log_softmax": lambda v: nn.log_softmax(v, axis=-1), "relu2": nn.relu2,
        "hard_tanh": lambda v: nn.hard_tanh(v, -0.5, 2.0), "hard_shrink": lambda v: nn.hard_shrink(v, 0.7),
        "softshrink": lambda v: nn.softshrink(v, 0.7), "softmin": lambda v: nn.softmin(v, axis=-1), "glu": lambda v: nn.glu(mx.concatenate([v, v[:, ::-1]], axis=-1)),
    }
    for n, f in acts.items():
        w.case("act_" + n, "activation", fn=n)
        xa_m = mx.array(xa)
        w.arr("x", xa)
        w.arr("y", f(xa_m))
        w.arr("gx", mx.grad(lambda v: f(v).sum())(xa_m))
    w.save()


def losses():
    w = Writer("losses")
    L = nn.losses
    logits = mx.array(rnd(4, 5, scale=2.0))
    idx = mx.array(np.array([0, 4, 2, 2], np.int32))
    probs = mx.softmax(mx.array(rnd(4, 5)), axis=-1)
    wts = mx.array(np.abs(rnd(4)))
    x1, x2 = mx.array(rnd(3, 4)), mx.array(rnd(3, 4))
    bin_t = mx.array((rng.random((3, 4)) > 0.5).astype(np.float32))
    pr = mx.sigmoid(x1)
    logp = nn.log_softmax(mx.array(rnd(3, 4)), axis=-1)
    x3 = mx.array(rnd(3, 4))
    pm1 = mx.array(np.where(rng.random((3, 4)) > 0.5, 1.0, -1.0).astype(np.float32))
    var = mx.array(np.abs(rnd(3, 4)) + 0.1)
    logq = nn.log_softmax(mx.array(rnd(3, 4)), axis=-1)

    def emit(name, fn, inputs, **kw):
        w.case(name, fn, **kw)
        for i, a in enumerate(inputs):
            w.arr(f"x{i + 1}", a)

    for red in ("none", "mean", "sum"):
        cases = [
            ("ce_idx", "cross_entropy", [logits, idx], lambda: L.cross_entropy(logits, idx, reduction=red), dict(smoothing=0.0)),
            ("ce_probs", "cross_entropy", [logits, probs], lambda: L.cross_entropy(logits, probs, reduction=red), dict(smoothing=0.0)),
            ("ce_smooth_w", "cross_entropy_w", [logits, idx, wts], lambda: L.cross_entropy(logits, idx, weights=wts, label_smoothing=0.2, reduction=red), dict(smoothing=0.2)),
            ("bce_logits", "bce", [x1, bin_t], lambda: L.binary_cross_entropy(x1, bin_t, reduction=red), dict(logits=1)),
            ("bce_probs", "bce", [pr, bin_t], lambda: L.binary_cross_entropy(pr, bin_t, with_logits=False, reduction=red), dict(logits=0)),
            ("nll", "nll", [nn.log_softmax(logits), idx], lambda: L.nll_loss(nn.log_softmax(logits), idx, reduction=red), {}),
            ("mse", "mse", [x1, x2], lambda: L.mse_loss(x1, x2, reduction=red), {}),
            ("l1", "l1", [x1, x2], lambda: L.l1_loss(x1, x2, reduction=red), {}),
            ("smooth_l1", "smooth_l1", [x1, x2], lambda: L.smooth_l1_loss(x1, x2, beta=0.6, reduction=red), dict(beta=0.6)),
            ("huber", "huber", [x1, x2], lambda: L.huber_loss(x1, x2, delta=0.8, reduction=red), dict(delta=0.8)),
            ("kl_div", "kl_div", [logp, logq], lambda: L.kl_div_loss(logp, logq, reduction=red), {}),
            ("cosine", "cosine", [x1, x2], lambda: L.cosine_similarity_loss(x1, x2, reduction=red), dict(axis=1)),
            ("hinge", "hinge", [x1, pm1], lambda: L.hinge_loss(x1, pm1, reduction=red), {}),
            ("log_cosh", "log_cosh", [x1, x2], lambda: L.log_cosh_loss(x1, x2, reduction=red), {}),
            ("margin_ranking", "margin_ranking", [x1, x2, pm1], lambda: L.margin_ranking_loss(x1, x2, pm1, margin=0.3, reduction=red), dict(margin=0.3)),
            ("triplet", "triplet", [x1, x2, x3], lambda: L.triplet_loss(x1, x2, x3, p=3, margin=0.5, reduction=red), dict(p=3, margin=0.5)),
            ("gaussian_nll", "gaussian_nll", [x1, x2, var], lambda: L.gaussian_nll_loss(x1, x2, var, full=True, reduction=red), dict(full=1)),
        ]
        for name, fn, inputs, f, kw in cases:
            emit(f"{name}_{red}", fn, inputs, reduction=red, **kw)
            y = f()
            w.arr("y", y)
            if red != "none":
                g = mx.grad(lambda a: {"cross_entropy": lambda: L.cross_entropy(a, inputs[1], reduction=red),
                                       "cross_entropy_w": lambda: L.cross_entropy(a, idx, weights=wts, label_smoothing=0.2, reduction=red),
                                       "bce": lambda: L.binary_cross_entropy(a, bin_t, with_logits=kw.get("logits", 1) == 1, reduction=red),
                                       "nll": lambda: L.nll_loss(a, idx, reduction=red),
                                       "mse": lambda: L.mse_loss(a, x2, reduction=red),
                                       "l1": lambda: L.l1_loss(a, x2, reduction=red),
                                       "smooth_l1": lambda: L.smooth_l1_loss(a, x2, beta=0.6, reduction=red),
                                       "huber": lambda: L.huber_loss(a, x2, delta=0.8, reduction=red),
                                       "kl_div": lambda: L.kl_div_loss(a, logq, reduction=red),
                                       "cosine": lambda: L.cosine_similarity_loss(a, x2, reduction=red),
                                       "hinge": lambda: L.hinge_loss(a, pm1, reduction=red),
                                       "log_cosh": lambda: L.log_cosh_loss(a, x2, reduction=red),
                                       "margin_ranking": lambda: L.margin_ranking_loss(a, x2, pm1, margin=0.3, reduction=red),
                                       "triplet": lambda: L.triplet_loss(a, x2, x3, p=3, margin=0.5, reduction=red),
                                       "gaussian_nll": lambda: L.gaussian_nll_loss(a, x2, var, full=True, reduction=red)}[fn]())(inputs[0])
                w.arr("gx", g)
    w.save()


def optimizers():
    w = Writer("optimizers")
    shapes = {"a": (3, 4), "b": (5,), "c.d": (2, 3, 2)}
    configs = [
        ("sgd", lambda: optim.SGD(0.1), {}),
        ("sgd_momentum", lambda: optim.SGD(0.1, momentum=0.9, weight_decay=0.01, dampening=0.1), dict(momentum=0.9, weight_decay=0.01, dampening=0.1)),
        ("sgd_nesterov", lambda: optim.SGD(0.05, momentum=0.8, nesterov=True), dict(momentum=0.8, nesterov=1)),
        ("sgd_cosine", lambda: optim.SGD(optim.cosine_decay(0.1, 4, 0.01)), dict(schedule="cosine")),
        ("rmsprop", lambda: optim.RMSprop(0.01, alpha=0.9), dict(alpha=0.9)),
        ("adagrad", lambda: optim.Adagrad(0.1), {}),
        ("adadelta", lambda: optim.AdaDelta(0.5, rho=0.8), dict(rho=0.8)),
        ("adam", lambda: optim.Adam(0.01), {}),
        ("adam_bc", lambda: optim.Adam(0.01, betas=[0.8, 0.9], bias_correction=True), dict(betas="0.8,0.9", bias_correction=1)),
        ("adam_joined", lambda: optim.Adam(optim.join_schedules([optim.linear_schedule(0.0, 0.02, 2), optim.exponential_decay(0.02, 0.5)], [2])), dict(schedule="joined")),
        ("adamw", lambda: optim.AdamW(0.01, weight_decay=0.1), dict(weight_decay=0.1)),
        ("adamax", lambda: optim.Adamax(0.02), {}),
        ("lion", lambda: optim.Lion(0.01, weight_decay=0.1), dict(weight_decay=0.1)),
        ("adafactor", lambda: optim.Adafactor(), {}),
        ("adafactor_lr", lambda: optim.Adafactor(learning_rate=0.01, relative_step=False, beta_1=0.9, weight_decay=0.01), dict(lr=0.01, beta_1=0.9, weight_decay=0.01)),
        ("sgd_step_decay", lambda: optim.SGD(optim.step_decay(0.1, 0.5, 2)), dict(schedule="step")),
        ("muon", lambda: optim.Muon(0.02), {}),
        ("muon_plain", lambda: optim.Muon(0.02, momentum=0.9, weight_decay=0.0, nesterov=False), dict(momentum=0.9)),
    ]
    for name, make, kw in configs:
        opt = make()
        params = {k: mx.array(rnd(*s)) for k, s in shapes.items()}
        w.case(name, name.split("_")[0] if name not in ("sgd_cosine", "adam_joined", "sgd_step_decay") else name, **kw)
        for k, v in params.items():
            w.arr("p." + k, v)
        tree = tree_unflatten(list(params.items()))
        for step in range(3):
            grads = {k: mx.array(rnd(*s)) for k, s in shapes.items()}
            for k, v in grads.items():
                w.arr(f"g{step}.{k}", v)
            tree = opt.apply_gradients(tree_unflatten(list(grads.items())), tree)
            mx.eval(tree, opt.state)
            if "learning_rate" in opt.state:
                w.arr(f"lr{step}", opt.learning_rate)
            for k, v in tree_flatten(tree):
                w.arr(f"r{step}.{k}", v)
    # clip_grad_norm
    grads = {"a": mx.array(rnd(3, 4)), "b": mx.array(rnd(5))}
    for mn in (0.5, 100.0):
        clipped, norm = optim.clip_grad_norm(grads, mn)
        w.case(f"clip_{mn}", "clip", max_norm=mn)
        for k, v in grads.items():
            w.arr("g." + k, v)
        w.arr("norm", norm)
        for k, v in tree_flatten(clipped):
            w.arr("r." + k, v)
    w.save()


def init():
    w = Writer("init")
    k = mx.random.key(7)
    shape = (6, 3, 4)
    fan_in, fan_out = 4 * 3, 6 * 3
    import math
    cases = [
        ("uniform", mx.random.uniform(-0.3, 0.7, shape, key=k), {}),
        ("normal", mx.random.normal(shape, scale=0.2, loc=0.1, key=k), {}),
        ("glorot_uniform", mx.random.uniform(-math.sqrt(6 / (fan_in + fan_out)) * 1.5, math.sqrt(6 / (fan_in + fan_out)) * 1.5, shape, key=k), dict(gain=1.5)),
        ("glorot_normal", mx.random.normal(shape, scale=math.sqrt(2 / (fan_in + fan_out)), key=k), dict(gain=1.0)),
        ("he_uniform", mx.random.uniform(-math.sqrt(3 / fan_out), math.sqrt(3 / fan_out), shape, key=k), dict(mode="fan_out")),
        ("he_normal", mx.random.normal(shape, scale=1 / math.sqrt(fan_in), key=k), dict(mode="fan_in")),
    ]
    for name, a, kw in cases:
        w.case(name, name, seed=7, shape="6,3,4", **kw)
        w.arr("y", a)
    w.save()


if __name__ == "__main__":
    layers()
    losses()
    optimizers()
    init()
