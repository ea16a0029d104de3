//! Replays the MLX fixtures of tests/fixtures/nn/ (made by tools/gen_nn_fixtures.py) on wmx's
//! `nn` layers, activations, losses, initialisers and optimizers, on the CPU and the GPU:
//! forward outputs, the gradients `nn::value_and_grad` gives for each parameter and the input,
//! BatchNorm's running statistics, and three optimizer steps with their learning rates.

mod common;

use std::collections::BTreeMap;
use wmx::nn::losses::{self as L, Reduction};
use wmx::nn::{self, Module, Params, UnaryModule};
use wmx::optimizers::{self as opt, Optimizer};
use wmx::{Array, Device};

struct Case {
    name: String,
    kind: String,
    kv: BTreeMap<String, String>,
    arrs: BTreeMap<String, Array>,
}

impl Case {
    fn s(&self, k: &str) -> &str {
        self.kv
            .get(k)
            .map(|s| s.as_str())
            .unwrap_or_else(|| panic!("{}: no {k}", self.name))
    }
    fn f(&self, k: &str) -> f32 {
        self.s(k).parse().unwrap()
    }
    fn f_or(&self, k: &str, d: f32) -> f32 {
        self.kv.get(k).map(|v| v.parse().unwrap()).unwrap_or(d)
    }
    fn i(&self, k: &str) -> i32 {
        self.s(k).parse().unwrap()
    }
    fn b(&self, k: &str) -> bool {
        self.kv.get(k).is_some_and(|v| v == "1")
    }
    fn ints(&self, k: &str) -> Vec<i32> {
        self.s(k).split(',').map(|v| v.parse().unwrap()).collect()
    }
    fn a(&self, k: &str) -> &Array {
        self.arrs
            .get(k)
            .unwrap_or_else(|| panic!("{}: no array {k}", self.name))
    }
    fn with_prefix(&self, p: &str) -> Params {
        self.arrs
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(p).map(|n| (n.to_string(), v.clone())))
            .collect()
    }
}

fn load(file: &str) -> Vec<Case> {
    let path = format!("{}/tests/fixtures/nn/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut cases: Vec<Case> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("case ") {
            let mut it = rest.split_whitespace();
            let name = it.next().unwrap().to_string();
            let kind = it.next().unwrap().to_string();
            let kv = it
                .map(|t| {
                    let (k, v) = t.split_once('=').unwrap();
                    (k.to_string(), v.to_string())
                })
                .collect();
            cases.push(Case {
                name,
                kind,
                kv,
                arrs: BTreeMap::new(),
            });
        } else if let Some(rest) = line.strip_prefix("arr ") {
            let (head, data) = rest
                .split_once(" : ")
                .unwrap_or((rest.trim_end_matches(" :"), ""));
            let mut it = head.split_whitespace();
            let (label, dtype, shape) =
                (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
            let shape: Vec<i32> = shape
                .trim_matches(|c| c == '(' || c == ')')
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().unwrap())
                .collect();
            let bits: Vec<u32> = data
                .split_whitespace()
                .map(|h| u32::from_str_radix(h, 16).unwrap())
                .collect();
            let a = if dtype == "int32" {
                Array::from_slice(&bits.iter().map(|&b| b as i32).collect::<Vec<_>>(), &shape)
            } else {
                Array::from_slice(
                    &bits.iter().map(|&b| f32::from_bits(b)).collect::<Vec<_>>(),
                    &shape,
                )
            };
            cases.last_mut().unwrap().arrs.insert(label.to_string(), a);
        }
    }
    cases
}

fn close(what: &str, got: &Array, want: &Array, atol: f32, rtol: f32) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    let g = wmx::astype(got, wmx::Dtype::Float32, None)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    let w = wmx::astype(want, wmx::Dtype::Float32, None)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    for (i, (a, b)) in g.iter().zip(&w).enumerate() {
        let ok = (a - b).abs() <= atol + rtol * b.abs() || (a.is_nan() && b.is_nan());
        assert!(ok, "{what}[{i}]: got {a}, MLX {b}");
    }
}

fn layer(c: &Case) -> Box<dyn UnaryModule> {
    let n = |k: &str| c.ints(k);
    match c.kind.as_str() {
        "linear" => {
            Box::new(nn::Linear::new(n("dims")[0], n("dims")[1], c.b("bias"), None).unwrap())
        }
        "instance_norm" => Box::new(nn::InstanceNorm::new(c.i("dims"), 1e-5, true).unwrap()),
        "max_pool3d" | "avg_pool3d" => {
            let p = |k: &str| (n(k)[0], n(k)[1], n(k)[2]);
            if c.kind == "max_pool3d" {
                Box::new(nn::MaxPool3d::new(p("kernel"), Some(p("stride")), p("padding")).unwrap())
            } else {
                Box::new(nn::AvgPool3d::new(p("kernel"), Some(p("stride")), p("padding")).unwrap())
            }
        }
        "conv1d" => Box::new(
            nn::Conv1d::with_groups(
                n("dims")[0],
                n("dims")[1],
                c.i("kernel"),
                c.i("groups"),
                true,
                None,
            )
            .unwrap()
            .stride(c.i("stride"))
            .padding(c.i("padding"))
            .dilation(c.i("dilation")),
        ),
        "conv2d" => {
            let p = |k: &str| (n(k)[0], n(k)[1]);
            Box::new(
                nn::Conv2d::with_groups(
                    n("dims")[0],
                    n("dims")[1],
                    p("kernel"),
                    c.i("groups"),
                    true,
                    None,
                )
                .unwrap()
                .stride(p("stride"))
                .padding(p("padding"))
                .dilation(p("dilation")),
            )
        }
        "conv3d" => {
            let p = |k: &str| (n(k)[0], n(k)[1], n(k)[2]);
            Box::new(
                nn::Conv3d::new(n("dims")[0], n("dims")[1], p("kernel"), None)
                    .unwrap()
                    .padding(p("padding")),
            )
        }
        "conv_transpose1d" => Box::new(
            nn::ConvTranspose1d::new(n("dims")[0], n("dims")[1], c.i("kernel"), None)
                .unwrap()
                .stride(c.i("stride"))
                .padding(c.i("padding"))
                .output_padding(c.i("output_padding")),
        ),
        "conv_transpose2d" => {
            let p = |k: &str| (n(k)[0], n(k)[1]);
            Box::new(
                nn::ConvTranspose2d::new(n("dims")[0], n("dims")[1], p("kernel"), None)
                    .unwrap()
                    .stride(p("stride"))
                    .padding(p("padding"))
                    .output_padding(p("output_padding")),
            )
        }
        "prelu" => Box::new(nn::PRelu::new(c.i("params"), 0.25).unwrap()),
        "embedding" => Box::new(nn::Embedding::new(n("dims")[0], n("dims")[1], None).unwrap()),
        "layer_norm" => Box::new(
            nn::LayerNorm::new(c.i("dims"), c.f("eps"), c.b("affine"), c.b("bias")).unwrap(),
        ),
        "rms_norm" => Box::new(nn::RmsNorm::new(c.i("dims"), c.f("eps")).unwrap()),
        "group_norm" => Box::new(
            nn::GroupNorm::new(c.i("groups"), c.i("dims"), 1e-5, true, c.b("pytorch")).unwrap(),
        ),
        "batch_norm" => Box::new(
            nn::BatchNorm::new(c.i("features"), 1e-5, c.f_or("momentum", 0.1), true, true).unwrap(),
        ),
        "max_pool1d" => Box::new(
            nn::MaxPool1d::new(c.i("kernel"), Some(c.i("stride")), c.i("padding")).unwrap(),
        ),
        "avg_pool1d" => Box::new(
            nn::AvgPool1d::new(c.i("kernel"), Some(c.i("stride")), c.i("padding")).unwrap(),
        ),
        "max_pool2d" | "avg_pool2d" => {
            let p = |k: &str| (n(k)[0], n(k)[1]);
            if c.kind == "max_pool2d" {
                Box::new(nn::MaxPool2d::new(p("kernel"), Some(p("stride")), p("padding")).unwrap())
            } else {
                Box::new(nn::AvgPool2d::new(p("kernel"), Some(p("stride")), p("padding")).unwrap())
            }
        }
        "sequential" => Box::new(
            nn::Sequential::new()
                .add(nn::Linear::new(5, 6, true, None).unwrap())
                .add(nn::Relu)
                .add(nn::Linear::new(6, 2, true, None).unwrap()),
        ),
        "activation" => Box::new(match c.s("fn") {
            "relu" => Act(nn::relu),
            "relu6" => Act(nn::relu6),
            "leaky_relu" => Act(|x| nn::leaky_relu(x, 0.1)),
            "elu" => Act(|x| nn::elu(x, 0.7)),
            "selu" => Act(nn::selu),
            "celu" => Act(|x| nn::celu(x, 1.3)),
            "softplus" => Act(nn::softplus),
            "softsign" => Act(nn::softsign),
            "sigmoid" => Act(nn::sigmoid),
            "tanh" => Act(nn::tanh),
            "silu" => Act(nn::silu),
            "log_sigmoid" => Act(nn::log_sigmoid),
            "gelu" => Act(nn::gelu),
            "gelu_approx" => Act(nn::gelu_approx),
            "gelu_fast_approx" => Act(nn::gelu_fast_approx),
            "mish" => Act(nn::mish),
            "hardswish" => Act(nn::hardswish),
            "log_softmax" => Act(|x| nn::log_softmax(x, -1)),
            "relu2" => Act(nn::relu2),
            "hard_tanh" => Act(|x| nn::hard_tanh(x, -0.5, 2.0)),
            "hard_shrink" => Act(|x| nn::hard_shrink(x, 0.7)),
            "softshrink" => Act(|x| nn::softshrink(x, 0.7)),
            "softmin" => Act(|x| nn::softmin(x, -1)),
            "glu" => Act(|x| {
                let rev = wmx::flip(x, Some(&[1]), None)?;
                nn::glu(&wmx::concatenate(&[x, &rev], -1, None)?, -1)
            }),
            other => panic!("activation {other}"),
        }),
        other => panic!("{}: kind {other}", c.name),
    }
}

/// An activation function as a parameterless module.
struct Act(fn(&Array) -> wmx::Result<Array>);
impl nn::Visit for Act {
    fn visit(&self, _: &mut nn::Visitor<'_>) {}
    fn visit_mut(&mut self, _: &mut nn::VisitorMut<'_>) {}
}
impl UnaryModule for Act {
    fn forward(&self, x: &Array) -> wmx::Result<Array> {
        (self.0)(x)
    }
}

fn check_unary_layer(c: &Case, dev: Device) {
    let (atol, rtol) = (2e-5, 2e-4);
    let mut m = layer(c);
    m.update(&c.with_prefix("p.")).unwrap();
    m.train(c.kv.get("training").is_none_or(|v| v == "1"));
    let x = c.a("x");
    let before = m.parameters();
    close(
        &format!("{} y on {dev}", c.name),
        &m.forward(x).unwrap(),
        c.a("y"),
        atol,
        rtol,
    );
    for (k, want) in c.with_prefix("s.") {
        close(
            &format!("{} {k} on {dev}", c.name),
            &m.parameters()[&k],
            &want,
            atol,
            rtol,
        );
    }
    m.update(&before).unwrap();
    if let Some(cot) = c.arrs.get("c") {
        #[allow(clippy::borrowed_box)] // `M` is `Box<dyn UnaryModule>`
        let loss = |m: &Box<dyn UnaryModule>, x: &Array| {
            wmx::sum(&wmx::multiply(&m.forward(x)?, cot, None)?, &[], false, None)
        };
        let (_, g) = nn::value_and_grad(loss)(&mut m, x).unwrap();
        let want = c.with_prefix("g.");
        assert_eq!(
            g.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "{}: gradient names",
            c.name
        );
        for (k, w) in &want {
            close(
                &format!("{} grad {k} on {dev}", c.name),
                &g[k],
                w,
                atol,
                rtol,
            );
        }
    }
    if let Some(gx) = c.arrs.get("gx") {
        let cot = c.arrs.get("c").cloned();
        let f = |x: &Array| {
            let y = m.forward(x)?;
            let y = match &cot {
                Some(c) => wmx::multiply(&y, c, None)?,
                None => y,
            };
            wmx::sum(&y, &[], false, None)
        };
        close(
            &format!("{} grad x on {dev}", c.name),
            &wmx::grad(f)(x).unwrap(),
            gx,
            atol,
            rtol,
        );
    }
}

fn check_layer(c: &Case, dev: Device) {
    let _g = wmx::stream(dev);
    match c.kind.as_str() {
        "bilinear" => {
            let d = c.ints("dims");
            let mut m = nn::Bilinear::new(d[0], d[1], d[2], c.b("bias"), None).unwrap();
            m.update(&c.with_prefix("p.")).unwrap();
            let (x, x2, cot) = (c.a("x"), c.a("x2"), c.a("c"));
            close(
                &format!("{} y on {dev}", c.name),
                &m.forward(x, x2).unwrap(),
                c.a("y"),
                2e-5,
                2e-4,
            );
            let loss = |m: &nn::Bilinear, (x, x2): &(Array, Array)| {
                wmx::sum(
                    &wmx::multiply(&m.forward(x, x2)?, cot, None)?,
                    &[],
                    false,
                    None,
                )
            };
            let (_, g) = nn::value_and_grad(loss)(&mut m, &(x.clone(), x2.clone())).unwrap();
            for (k, w) in c.with_prefix("g.") {
                close(
                    &format!("{} grad {k} on {dev}", c.name),
                    &g[&k],
                    &w,
                    2e-5,
                    2e-4,
                );
            }
        }
        "mha" => {
            let mut m =
                nn::MultiHeadAttention::new(c.i("dims"), c.i("heads"), c.b("bias"), None).unwrap();
            m.update(&c.with_prefix("p.")).unwrap();
            let x = c.a("x");
            let (k, v) = (c.arrs.get("x2").unwrap_or(x), c.arrs.get("x3").unwrap_or(x));
            let mask = c.b("mask").then(|| {
                nn::MultiHeadAttention::create_additive_causal_mask(
                    x.shape()[1],
                    wmx::Dtype::Float32,
                )
                .unwrap()
            });
            close(
                &format!("{} y on {dev}", c.name),
                &m.forward(x, k, v, mask.as_ref()).unwrap(),
                c.a("y"),
                2e-5,
                2e-4,
            );
            if let Some(cot) = c.arrs.get("c") {
                let loss = |m: &nn::MultiHeadAttention, x: &Array| {
                    wmx::sum(
                        &wmx::multiply(&m.forward(x, k, v, mask.as_ref())?, cot, None)?,
                        &[],
                        false,
                        None,
                    )
                };
                let (_, g) = nn::value_and_grad(loss)(&mut m, x).unwrap();
                for (name, w) in c.with_prefix("g.") {
                    close(
                        &format!("{} grad {name} on {dev}", c.name),
                        &g[&name],
                        &w,
                        2e-5,
                        2e-4,
                    );
                }
            }
        }
        _ => check_unary_layer(c, dev),
    }
}

fn reduction(c: &Case) -> Reduction {
    match c.s("reduction") {
        "none" => Reduction::None,
        "mean" => Reduction::Mean,
        _ => Reduction::Sum,
    }
}

fn loss_fn(c: &Case, x: &Array) -> wmx::Result<Array> {
    let r = reduction(c);
    let x2 = c.a("x2");
    match c.kind.as_str() {
        "cross_entropy" => L::cross_entropy(x, x2, None, -1, c.f("smoothing"), r),
        "cross_entropy_w" => L::cross_entropy(x, x2, Some(c.a("x3")), -1, c.f("smoothing"), r),
        "bce" => L::binary_cross_entropy(x, x2, None, c.b("logits"), r),
        "nll" => L::nll_loss(x, x2, -1, r),
        "mse" => L::mse_loss(x, x2, r),
        "l1" => L::l1_loss(x, x2, r),
        "smooth_l1" => L::smooth_l1_loss(x, x2, c.f("beta"), r),
        "huber" => L::huber_loss(x, x2, c.f("delta"), r),
        "kl_div" => L::kl_div_loss(x, x2, -1, r),
        "cosine" => L::cosine_similarity_loss(x, x2, c.i("axis"), 1e-8, r),
        "hinge" => L::hinge_loss(x, x2, r),
        "log_cosh" => L::log_cosh_loss(x, x2, r),
        "margin_ranking" => L::margin_ranking_loss(x, x2, c.a("x3"), c.f("margin"), r),
        "triplet" => L::triplet_loss(x, x2, c.a("x3"), -1, c.f("p"), c.f("margin"), 1e-6, r),
        "gaussian_nll" => L::gaussian_nll_loss(x, x2, c.a("x3"), c.b("full"), 1e-6, r),
        k => panic!("loss {k}"),
    }
}

fn check_loss(c: &Case, dev: Device) {
    let _g = wmx::stream(dev);
    let x = c.a("x1");
    close(
        &format!("{} on {dev}", c.name),
        &loss_fn(c, x).unwrap(),
        c.a("y"),
        2e-5,
        2e-4,
    );
    if let Some(gx) = c.arrs.get("gx") {
        let g = wmx::grad(|x: &Array| loss_fn(c, x))(x).unwrap();
        close(&format!("{} grad on {dev}", c.name), &g, gx, 2e-5, 2e-4);
    }
}

fn optimizer(c: &Case) -> Box<dyn Optimizer> {
    let f = |k: &str, d: f32| c.f_or(k, d);
    match c.name.as_str() {
        "sgd" => Box::new(opt::Sgd::new(0.1)),
        "sgd_momentum" => Box::new(
            opt::Sgd::new(0.1)
                .momentum(0.9)
                .weight_decay(0.01)
                .dampening(0.1),
        ),
        "sgd_nesterov" => Box::new(opt::Sgd::new(0.05).momentum(0.8).nesterov(true)),
        "sgd_cosine" => Box::new(opt::Sgd::new(opt::cosine_decay(0.1, 4, 0.01).unwrap())),
        "sgd_step_decay" => Box::new(opt::Sgd::new(opt::step_decay(0.1, 0.5, 2).unwrap())),
        "rmsprop" => Box::new(opt::RmsProp::new(0.01).alpha(f("alpha", 0.99))),
        "adagrad" => Box::new(opt::Adagrad::new(0.1)),
        "adadelta" => Box::new(opt::AdaDelta::new(0.5).rho(f("rho", 0.9))),
        "adam" => Box::new(opt::Adam::new(0.01)),
        "adam_bc" => Box::new(opt::Adam::new(0.01).betas((0.8, 0.9)).bias_correction(true)),
        "adam_joined" => {
            let s = opt::join_schedules(
                vec![
                    opt::linear_schedule(0.0, 0.02, 2).unwrap(),
                    opt::exponential_decay(0.02, 0.5),
                ],
                &[2],
            )
            .unwrap();
            Box::new(opt::Adam::new(s))
        }
        "adamw" => Box::new(opt::AdamW::new(0.01).weight_decay(0.1)),
        "adamax" => Box::new(opt::Adamax::new(0.02)),
        "lion" => Box::new(opt::Lion::new(0.01).weight_decay(0.1)),
        "adafactor" => Box::new(opt::Adafactor::new()),
        "adafactor_lr" => Box::new(
            opt::Adafactor::new()
                .learning_rate(0.01)
                .beta_1(Some(0.9))
                .weight_decay(0.01),
        ),
        "muon" => Box::new(opt::Muon::new(0.02)),
        "muon_plain" => Box::new(
            opt::Muon::new(0.02)
                .momentum(0.9)
                .weight_decay(0.0)
                .nesterov(false),
        ),
        n => panic!("optimizer {n}"),
    }
}

fn check_optimizer(c: &Case, dev: Device) {
    let _g = wmx::stream(dev);
    if c.kind == "clip" {
        let (clipped, norm) = opt::clip_grad_norm(&c.with_prefix("g."), c.f("max_norm")).unwrap();
        close(&format!("{} norm", c.name), &norm, c.a("norm"), 1e-5, 1e-5);
        for (k, w) in c.with_prefix("r.") {
            close(
                &format!("{} {k} on {dev}", c.name),
                &clipped[&k],
                &w,
                1e-6,
                1e-5,
            );
        }
        return;
    }
    let mut o = optimizer(c);
    let mut params = c.with_prefix("p.");
    for step in 0..3 {
        params = o
            .apply_gradients(&c.with_prefix(&format!("g{step}.")), &params)
            .unwrap();
        if let Some(lr) = c.arrs.get(&format!("lr{step}")) {
            close(
                &format!("{} lr{step} on {dev}", c.name),
                &o.learning_rate(),
                lr,
                1e-7,
                1e-5,
            );
        }
        for (k, w) in c.with_prefix(&format!("r{step}.")) {
            close(
                &format!("{} step {step} {k} on {dev}", c.name),
                &params[&k],
                &w,
                1e-5,
                1e-4,
            );
        }
    }
    // Saving and restoring the state mid-run continues identically.
    let state = o.state();
    let mut fresh = optimizer(c);
    fresh.set_state(&state).unwrap();
    let g = c.with_prefix("g0.");
    let a = o.apply_gradients(&g, &params).unwrap();
    let b = fresh.apply_gradients(&g, &params).unwrap();
    for (k, v) in &a {
        close(
            &format!("{} restored {k} on {dev}", c.name),
            &b[k],
            v,
            0.0,
            0.0,
        );
    }
}

fn check_init(c: &Case, dev: Device) {
    use nn::init::{self, FanMode};
    let _g = wmx::stream(dev);
    let k = wmx::random::key(c.i("seed") as u64);
    let shape = c.ints("shape");
    let f = wmx::Dtype::Float32;
    let mode = if c.kv.get("mode").map(|s| s.as_str()) == Some("fan_out") {
        FanMode::FanOut
    } else {
        FanMode::FanIn
    };
    let got = match c.kind.as_str() {
        "uniform" => init::uniform(-0.3, 0.7, &shape, f, Some(&k)),
        "normal" => init::normal(0.1, 0.2, &shape, f, Some(&k)),
        "glorot_uniform" => init::glorot_uniform(&shape, c.f("gain"), f, Some(&k)),
        "glorot_normal" => init::glorot_normal(&shape, c.f("gain"), f, Some(&k)),
        "he_uniform" => init::he_uniform(&shape, mode, 1.0, f, Some(&k)),
        "he_normal" => init::he_normal(&shape, mode, 1.0, f, Some(&k)),
        k => panic!("init {k}"),
    }
    .unwrap();
    close(&format!("{} on {dev}", c.name), &got, c.a("y"), 1e-6, 1e-5);
}

fn run_all(file: &str, check: fn(&Case, Device), dev: Device) {
    let cases = load(file);
    assert!(!cases.is_empty(), "{file}: no cases");
    for c in &cases {
        check(c, dev);
    }
    eprintln!("{file}: {} MLX cases passed on {dev}", cases.len());
}

device_tests! {
    fn layers_match_mlx(dev: Device) { run_all("layers.txt", check_layer, dev) }
    fn losses_match_mlx(dev: Device) { run_all("losses.txt", check_loss, dev) }
    fn optimizers_match_mlx(dev: Device) { run_all("optimizers.txt", check_optimizer, dev) }
    fn init_matches_mlx(dev: Device) { run_all("init.txt", check_init, dev) }
}
