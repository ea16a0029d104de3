//! Behaviour of `wmx::nn` and `wmx::optimizers` beyond single-layer numbers (those are in
//! tests/nn_mlx.rs): the parameter tree and its names, freezing, strict updates and weight
//! loading, train/eval propagation, Dropout keys, `value_and_grad` leaving the model as it
//! was, BatchNorm under a gradient, optimizer errors, and training that converges, on both
//! devices.

mod common;

use wmx::nn::{self, Module, Params, UnaryModule};
use wmx::optimizers::{self as opt, Optimizer};
use wmx::{self as mx, Array, Dtype};

struct Block {
    lin: nn::Linear,
    norm: nn::BatchNorm,
    drop: nn::Dropout,
}
wmx::module!(Block { lin, norm, drop });

struct Net {
    blocks: Vec<Block>,
    head: Option<nn::Linear>,
    scale: nn::Param,
}
wmx::module!(Net {
    blocks,
    head,
    scale
});

impl UnaryModule for Net {
    fn forward(&self, x: &Array) -> mx::Result<Array> {
        let mut h = x.clone();
        for b in &self.blocks {
            h = b
                .drop
                .forward(&nn::relu(&b.norm.forward(&b.lin.forward(&h)?)?)?)?;
        }
        let h = self.head.as_ref().unwrap().forward(&h)?;
        mx::multiply(&h, &*self.scale, None)
    }
}

fn net(key: u64) -> Net {
    let ks = nn::init::split_keys(Some(&mx::random::key(key)), 3).unwrap();
    let block = |i: usize, d_in: i32| Block {
        lin: nn::Linear::new(d_in, 8, true, ks[i].as_ref()).unwrap(),
        norm: nn::BatchNorm::new(8, 1e-5, 0.1, true, true).unwrap(),
        drop: nn::Dropout::new(0.25, Some(&mx::random::key(99 + i as u64))).unwrap(),
    };
    Net {
        blocks: vec![block(0, 4), block(1, 8)],
        head: Some(nn::Linear::new(8, 3, false, ks[2].as_ref()).unwrap()),
        scale: nn::Param::new(Array::scalar(1.5f32)),
    }
}

fn data(n: i32) -> (Array, Array) {
    let k = mx::random::key(5);
    let x = mx::random::normal(&[n, 4], Dtype::Float32, None, None, Some(&k), None).unwrap();
    // Three classes from the signs of two features: learnable by the net.
    let x0 = mx::greater(
        mx::index(&x, &[(..).into(), 0.into()], None).unwrap(),
        0.0,
        None,
    )
    .unwrap();
    let x1 = mx::greater(
        mx::index(&x, &[(..).into(), 1.into()], None).unwrap(),
        0.0,
        None,
    )
    .unwrap();
    let y = mx::add(
        mx::astype(&x0, Dtype::Int32, None).unwrap(),
        mx::astype(&x1, Dtype::Int32, None).unwrap(),
        None,
    )
    .unwrap();
    (x, y)
}

#[test]
fn names_follow_mlx() {
    let m = net(0);
    let names: Vec<String> = m.parameters().into_keys().collect();
    assert_eq!(
        names,
        [
            "blocks.0.lin.bias",
            "blocks.0.lin.weight",
            "blocks.0.norm.bias",
            "blocks.0.norm.running_mean",
            "blocks.0.norm.running_var",
            "blocks.0.norm.weight",
            "blocks.1.lin.bias",
            "blocks.1.lin.weight",
            "blocks.1.norm.bias",
            "blocks.1.norm.running_mean",
            "blocks.1.norm.running_var",
            "blocks.1.norm.weight",
            "head.weight",
            "scale",
        ]
    );
    let trainable: Vec<String> = m.trainable_parameters().into_keys().collect();
    assert!(
        !trainable.iter().any(|n| n.contains("running")),
        "{trainable:?}"
    );
    assert_eq!(
        m.num_parameters(),
        4 * 8 + 8 + 8 * 8 + 8 + 4 * (8 + 8) + 8 * 3 + 1
    );
}

#[test]
fn freeze_by_name_path_and_all() {
    let mut m = net(0);
    m.freeze(Some(&["blocks.0"])).unwrap();
    assert!(
        m.trainable_parameters()
            .keys()
            .all(|k| !k.starts_with("blocks.0."))
    );
    m.unfreeze(None).unwrap();
    // BatchNorm statistics stay frozen whatever unfreeze does, as in MLX.
    assert!(
        m.trainable_parameters()
            .keys()
            .all(|k| !k.contains("running"))
    );
    m.freeze(Some(&["bias"])).unwrap();
    assert!(
        m.trainable_parameters()
            .keys()
            .all(|k| !k.ends_with(".bias"))
    );
    let e = m.freeze(Some(&["blocks.7"])).unwrap_err().to_string();
    assert!(e.contains("blocks.7"), "{e}");
}

#[test]
fn update_and_load_are_strict() {
    let mut m = net(0);
    let bad = Params::from([("head.wieght".to_string(), Array::scalar(0.0f32))]);
    let e = m.update(&bad).unwrap_err().to_string();
    assert!(
        e.contains("head.wieght") && e.contains("head.weight"),
        "{e}"
    );
    let mut p = m.parameters();
    p.insert(
        "head.weight".into(),
        mx::zeros(&[3, 9], Dtype::Float32, None).unwrap(),
    );
    p.remove("scale");
    p.insert("extra".into(), Array::scalar(1.0f32));
    let e = m.load_params(&p, true).unwrap_err().to_string();
    assert!(
        e.contains("missing [\"scale\"]")
            && e.contains("unexpected [\"extra\"]")
            && e.contains("head.weight: [3, 9]"),
        "{e}"
    );
    // Nothing was changed by the failed loads.
    assert_eq!(m.parameters()["head.weight"].shape(), &[3, 8]);
}

device_tests! {
    fn value_and_grad_restores_the_model(dev: Device) {
        let _g = mx::stream(dev);
        let mut m = net(1);
        m.eval();
        let (x, y) = data(16);
        let before: Vec<u64> = m.parameters().values().map(|a| a.id()).collect();
        let loss = |m: &Net, (x, y): &(Array, Array)| {
            let l = nn::losses::cross_entropy(&m.forward(x)?, y, None, -1, 0.0, nn::losses::Reduction::Mean)?;
            Ok((l.clone(), mx::multiply(&l, 2.0, None)?))
        };
        let ((l, aux), g) = nn::value_and_grad(loss)(&mut m, &(x.clone(), y.clone())).unwrap();
        let after: Vec<u64> = m.parameters().values().map(|a| a.id()).collect();
        assert_eq!(before, after, "the model's arrays were swapped back");
        assert_eq!(aux.item::<f32>().unwrap(), 2.0 * l.item::<f32>().unwrap());
        // The same gradient through the plain transforms, scale by scale.
        let f = |p: &[Array]| {
            let mut m2 = net(1);
            m2.eval();
            m2.scale.set(p[0].clone());
            nn::losses::cross_entropy(&m2.forward(&x)?, &y, None, -1, 0.0, nn::losses::Reduction::Mean)
        };
        let gs = mx::grad_argnums(f, &[0])(&[Array::scalar(1.5f32)]).unwrap();
        let (a, b) = (g["scale"].item::<f32>().unwrap(), gs[0].item::<f32>().unwrap());
        assert!((a - b).abs() <= 1e-5 * b.abs().max(1.0), "{a} vs {b}");
    }

    fn dropout_keys_are_deterministic(dev: Device) {
        let _g = mx::stream(dev);
        let x = mx::ones(&[64], Dtype::Float32, None).unwrap();
        let a = nn::Dropout::new(0.5, Some(&mx::random::key(3))).unwrap();
        let b = nn::Dropout::new(0.5, Some(&mx::random::key(3))).unwrap();
        let (a1, b1) = (a.forward(&x).unwrap().to_vec::<f32>().unwrap(), b.forward(&x).unwrap().to_vec::<f32>().unwrap());
        assert_eq!(a1, b1, "same key, same mask");
        let a2 = a.forward(&x).unwrap().to_vec::<f32>().unwrap();
        assert_ne!(a1, a2, "the key advances between calls");
    }

    fn train_eval_reaches_nested_layers(dev: Device) {
        let _g = mx::stream(dev);
        let mut m = net(2);
        let (x, _) = data(32);
        m.eval();
        let e1 = m.forward(&x).unwrap().to_vec::<f32>().unwrap();
        let e2 = m.forward(&x).unwrap().to_vec::<f32>().unwrap();
        assert_eq!(e1, e2, "eval mode is deterministic");
        m.train(true);
        let t1 = m.forward(&x).unwrap().to_vec::<f32>().unwrap();
        assert_ne!(e1, t1, "training mode drops and uses batch statistics");
        let rm = m.parameters()["blocks.0.norm.running_mean"].to_vec::<f32>().unwrap();
        assert!(rm.iter().any(|&v| v != 0.0), "running statistics moved in training");
    }

    fn training_converges(dev: Device) {
        let _g = mx::stream(dev);
        let mut m = net(3);
        let (x, y) = data(128);
        let step = nn::value_and_grad(|m: &Net, (x, y): &(Array, Array)| {
            nn::losses::cross_entropy(&m.forward(x)?, y, None, -1, 0.0, nn::losses::Reduction::Mean)
        });
        let mut o = opt::AdamW::new(opt::join_schedules(
            vec![opt::linear_schedule(0.0, 0.03, 5).unwrap(), opt::cosine_decay(0.03, 100, 0.001).unwrap()],
            &[5],
        ).unwrap());
        let mut first = None;
        let mut last = 0.0;
        for _ in 0..60 {
            let (l, g) = step(&mut m, &(x.clone(), y.clone())).unwrap();
            let (g, _) = opt::clip_grad_norm(&g, 5.0).unwrap();
            o.update(&mut m, &g).unwrap();
            nn::eval_params(&m).unwrap();
            last = l.item::<f32>().unwrap();
            first.get_or_insert(last);
        }
        assert!(last < 0.5 * first.unwrap(), "loss {first:?} -> {last}");
        assert_eq!(o.step().item::<u32>().unwrap(), 60);
    }

    fn optimizer_errors_name_the_parameter(dev: Device) {
        let _g = mx::stream(dev);
        let p = Params::from([("w".to_string(), mx::zeros(&[2], Dtype::Float32, None).unwrap())]);
        let g = Params::from([("v".to_string(), mx::zeros(&[2], Dtype::Float32, None).unwrap())]);
        let e = opt::Adam::new(0.1).apply_gradients(&g, &p).unwrap_err().to_string();
        assert!(e.contains("'v'"), "{e}");
        let g = Params::from([("w".to_string(), mx::zeros(&[3], Dtype::Float32, None).unwrap())]);
        let e = opt::Sgd::new(0.1).apply_gradients(&g, &p).unwrap_err().to_string();
        assert!(e.contains("[3]") && e.contains("[2]"), "{e}");
        let e = opt::Adam::new(0.1).betas((1.0, 0.5)).apply_gradients(&p, &p).unwrap_err().to_string();
        assert!(e.contains("beta1"), "{e}");
        let e = opt::Adafactor::new().relative_step(false).apply_gradients(&p, &p).unwrap_err().to_string();
        assert!(e.contains("learning rate"), "{e}");
    }
}

#[test]
fn weights_round_trip_in_both_formats() {
    let m = net(4);
    for ext in ["safetensors", "npz"] {
        let p = std::env::temp_dir().join(format!("wmx_nn_weights_{}.{ext}", std::process::id()));
        m.save_weights(&p).unwrap();
        let mut m2 = net(5);
        m2.load_weights(&p, true).unwrap();
        for (k, v) in m.parameters() {
            assert_eq!(
                m2.parameters()[&k].to_vec::<f32>().unwrap(),
                v.to_vec::<f32>().unwrap(),
                "{k} via {ext}"
            );
        }
        std::fs::remove_file(&p).unwrap();
    }
}
