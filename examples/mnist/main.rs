//! Trains an MLP or a small CNN (LeNet-style) on real handwritten digits with `wmx::nn` and
//! `wmx::optimizers`, on the CPU or a GPU.
//!
//! ```sh
//! cargo run --release --example mnist                          # MLP on the bundled UCI digits
//! cargo run --release --example mnist -- --model cnn --device cpu
//! cargo run --release --example mnist -- --data ~/mnist        # the four MNIST IDX files (.gz or raw)
//! cargo run --release --example mnist -- --checkpoint ck.safetensors --epochs 5
//! cargo run --release --example mnist -- --resume ck.safetensors --epochs 10
//! ```
//!
//! Prints per-epoch loss and accuracy with a progress bar, writes the curves as SVG
//! (`--plot`, default `mnist.svg`), checkpoints model and optimizer in safetensors, and ends
//! with `test accuracy: 0.xxx`.

mod idx;

use indicatif::{ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::path::PathBuf;
use wmx::nn::{self, Module, UnaryModule};
use wmx::optimizers::{Adam, Optimizer};
use wmx::{self as mx, Array, Device, Dtype};

struct Args {
    device: Device,
    model: String,
    epochs: usize,
    batch: usize,
    lr: f32,
    seed: u64,
    data: PathBuf,
    checkpoint: Option<PathBuf>,
    resume: Option<PathBuf>,
    plot: PathBuf,
    quiet: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        device: mx::default_device(),
        model: "mlp".into(),
        epochs: 0,
        batch: 32,
        lr: 1e-3,
        seed: 0,
        data: PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/mnist/digits"
        )),
        checkpoint: None,
        resume: None,
        plot: PathBuf::from("mnist.svg"),
        quiet: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--device" => {
                a.device = match val()?.as_str() {
                    "cpu" => Device::cpu(),
                    "gpu" => Device::gpu(0),
                    d => return Err(format!("--device {d}: use cpu or gpu")),
                }
            }
            "--model" => a.model = val()?,
            "--epochs" => a.epochs = val()?.parse().map_err(|e| format!("--epochs: {e}"))?,
            "--batch" => a.batch = val()?.parse().map_err(|e| format!("--batch: {e}"))?,
            "--lr" => a.lr = val()?.parse().map_err(|e| format!("--lr: {e}"))?,
            "--seed" => a.seed = val()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--data" => a.data = PathBuf::from(val()?),
            "--checkpoint" => a.checkpoint = Some(PathBuf::from(val()?)),
            "--resume" => a.resume = Some(PathBuf::from(val()?)),
            "--plot" => a.plot = PathBuf::from(val()?),
            "--quiet" => a.quiet = true,
            f => {
                return Err(format!(
                    "unknown flag {f} (see the header of examples/mnist/main.rs)"
                ));
            }
        }
    }
    if a.model != "mlp" && a.model != "cnn" {
        return Err(format!("--model {}: use mlp or cnn", a.model));
    }
    if a.epochs == 0 {
        a.epochs = if a.model == "mlp" { 40 } else { 30 };
    }
    Ok(a)
}

/// Linear layers with ReLU between them.
struct Mlp {
    layers: Vec<nn::Linear>,
}
wmx::module!(Mlp { layers });

impl UnaryModule for Mlp {
    fn forward(&self, x: &Array) -> mx::Result<Array> {
        let x = mx::reshape(x, &[x.shape()[0], -1], None)?;
        let mut h = x;
        for (i, l) in self.layers.iter().enumerate() {
            h = l.forward(&h)?;
            if i + 1 < self.layers.len() {
                h = nn::relu(&h)?;
            }
        }
        Ok(h)
    }
}

/// Two 3×3 convolutions with max pooling, then two linear layers (channels-last input).
struct Cnn {
    conv1: nn::Conv2d,
    conv2: nn::Conv2d,
    fc1: nn::Linear,
    fc2: nn::Linear,
    pool: nn::MaxPool2d,
}
wmx::module!(Cnn {
    conv1,
    conv2,
    fc1,
    fc2
});

impl UnaryModule for Cnn {
    fn forward(&self, x: &Array) -> mx::Result<Array> {
        let h = self.pool.forward(&nn::relu(&self.conv1.forward(x)?)?)?;
        let h = self.pool.forward(&nn::relu(&self.conv2.forward(&h)?)?)?;
        let h = mx::reshape(&h, &[h.shape()[0], -1], None)?;
        self.fc2.forward(&nn::relu(&self.fc1.forward(&h)?)?)
    }
}

fn build(kind: &str, rows: usize, cols: usize, key: &Array) -> mx::Result<Box<dyn UnaryModule>> {
    let ks = nn::init::split_keys(Some(key), 4)?;
    let k = |i: usize| ks[i].as_ref();
    let pixels = (rows * cols) as i32;
    Ok(if kind == "mlp" {
        let hidden = if pixels <= 64 { 128 } else { 512 };
        Box::new(Mlp {
            layers: vec![
                nn::Linear::new(pixels, hidden, true, k(0))?,
                nn::Linear::new(hidden, hidden, true, k(1))?,
                nn::Linear::new(hidden, 10, true, k(2))?,
            ],
        })
    } else {
        let flat = ((rows / 4) * (cols / 4) * 32) as i32;
        Box::new(Cnn {
            conv1: nn::Conv2d::new(1, 16, (3, 3), k(0))?.padding((1, 1)),
            conv2: nn::Conv2d::new(16, 32, (3, 3), k(1))?.padding((1, 1)),
            fc1: nn::Linear::new(flat, 128, true, k(2))?,
            fc2: nn::Linear::new(128, 10, true, k(3))?,
            pool: nn::MaxPool2d::new((2, 2), None, (0, 0))?,
        })
    })
}

/// `[n, rows, cols, 1]` images and int32 labels of one split.
fn arrays(s: &idx::Split) -> (Array, Array) {
    let n = s.len() as i32;
    let x = Array::from_slice(&s.images, &[n, s.rows as i32, s.cols as i32, 1]);
    (x, Array::from_slice(&s.labels, &[n]))
}

fn accuracy(model: &dyn UnaryModule, x: &Array, y: &Array) -> mx::Result<f32> {
    let n = x.shape()[0];
    let mut correct = 0i64;
    for start in (0..n).step_by(1000) {
        let end = (start + 1000).min(n);
        let xb = mx::slice(
            x,
            &[start, 0, 0, 0],
            &[end, x.shape()[1], x.shape()[2], 1],
            &[1, 1, 1, 1],
            None,
        )?;
        let yb = mx::slice(y, &[start], &[end], &[1], None)?;
        let pred = mx::argmax(&model.forward(&xb)?, 1, false, None)?;
        let hits = mx::sum(
            &mx::equal(&mx::astype(&pred, Dtype::Int32, None)?, &yb, None)?,
            &[],
            false,
            None,
        )?;
        correct += hits.item::<i32>()? as i64;
    }
    Ok(correct as f32 / n.max(1) as f32)
}

fn save_checkpoint(
    path: &PathBuf,
    model: &dyn UnaryModule,
    opt: &Adam,
    epoch: usize,
    kind: &str,
) -> mx::Result<()> {
    let mut all: HashMap<String, Array> = model.parameters().into_iter().collect();
    for (k, v) in opt.state() {
        all.insert(format!("optimizer.{k}"), v);
    }
    let meta = HashMap::from([
        ("epoch".to_string(), epoch.to_string()),
        ("model".to_string(), kind.to_string()),
    ]);
    mx::save_safetensors(path, &all, Some(&meta))
}

/// Loads a checkpoint into the model and optimizer; returns the epochs already done.
fn resume(
    path: &PathBuf,
    model: &mut dyn UnaryModule,
    opt: &mut Adam,
    kind: &str,
) -> mx::Result<usize> {
    let (arrays, meta) = mx::load_safetensors(path, None)?;
    if meta.get("model").map(|s| s.as_str()) != Some(kind) {
        return Err(mx::Error::Value {
            op: "mnist --resume",
            msg: format!(
                "{} holds a {:?} model, not {kind}",
                path.display(),
                meta.get("model")
            ),
        });
    }
    let (mut params, mut state) = (nn::Params::new(), nn::Params::new());
    for (k, v) in arrays {
        match k.strip_prefix("optimizer.") {
            Some(s) => state.insert(s.to_string(), v),
            None => params.insert(k, v),
        };
    }
    model.load_params(&params, true)?;
    opt.set_state(&state)?;
    Ok(meta.get("epoch").and_then(|e| e.parse().ok()).unwrap_or(0))
}

fn plot(path: &PathBuf, losses: &[f32], accs: &[f32]) -> Result<(), Box<dyn std::error::Error>> {
    use plotters::prelude::*;
    let root = SVGBackend::new(path, (720, 360)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(360);
    let n = losses.len().max(1) as f32;
    let top = losses.iter().cloned().fold(0.0f32, f32::max).max(1e-3);
    let mut c = ChartBuilder::on(&left)
        .caption("training loss", ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(25)
        .y_label_area_size(40)
        .build_cartesian_2d(1f32..n, 0f32..top)?;
    c.configure_mesh().x_desc("epoch").draw()?;
    c.draw_series(LineSeries::new(
        losses.iter().enumerate().map(|(i, &l)| (i as f32 + 1.0, l)),
        &RED,
    ))?;
    let lo = accs.iter().cloned().fold(1.0f32, f32::min).min(0.9);
    let mut c = ChartBuilder::on(&right)
        .caption("test accuracy", ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(25)
        .y_label_area_size(40)
        .build_cartesian_2d(1f32..n, lo..1f32)?;
    c.configure_mesh().x_desc("epoch").draw()?;
    c.draw_series(LineSeries::new(
        accs.iter().enumerate().map(|(i, &a)| (i as f32 + 1.0, a)),
        &BLUE,
    ))?;
    root.present()?;
    Ok(())
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let _guard = mx::stream(args.device);
    let train = idx::load_split(&args.data, "train")?;
    let test = idx::load_split(&args.data, "t10k")?;
    println!(
        "{} model on {} | {} training and {} test images of {}x{} from {}",
        args.model,
        args.device,
        train.len(),
        test.len(),
        train.rows,
        train.cols,
        args.data.display()
    );
    let (xtr, ytr) = arrays(&train);
    let (xte, yte) = arrays(&test);
    let key = mx::random::key(args.seed);
    let mut model = build(&args.model, train.rows, train.cols, &key)?;
    let mut opt = Adam::new(args.lr);
    let mut start = 0;
    if let Some(p) = &args.resume {
        start = resume(p, model.as_mut(), &mut opt, &args.model)?;
        println!("resumed from {} after epoch {start}", p.display());
    }
    #[allow(clippy::borrowed_box)] // the model is a boxed layer: `M` is `Box<dyn UnaryModule>`
    let loss_fn = |m: &Box<dyn UnaryModule>, (x, y): &(Array, Array)| {
        nn::losses::cross_entropy(
            &m.forward(x)?,
            y,
            None,
            -1,
            0.0,
            nn::losses::Reduction::Mean,
        )
    };
    let step = nn::value_and_grad(loss_fn);
    let n = train.len();
    let batches = n.div_ceil(args.batch);
    let (mut losses, mut accs) = (Vec::new(), Vec::new());
    let mut acc = 0.0;
    for epoch in start..args.epochs {
        model.train(true);
        let ekey = mx::random::key(
            args.seed
                .wrapping_mul(1_000_003)
                .wrapping_add(epoch as u64 + 1),
        );
        let perm = mx::random::permutation(n as i32, 0, Some(&ekey), None)?.to_vec::<u32>()?;
        let bar = if args.quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(batches as u64)
        };
        bar.set_style(
            ProgressStyle::with_template("epoch {msg} [{bar:30}] {pos}/{len} {per_sec}")?
                .progress_chars("=> "),
        );
        bar.set_message(format!("{}", epoch + 1));
        let mut total = mx::zeros(&[], Dtype::Float32, None)?;
        let t0 = std::time::Instant::now();
        for b in 0..batches {
            let ids: Vec<u32> = perm[b * args.batch..((b + 1) * args.batch).min(n)].to_vec();
            let ids = Array::from_slice(&ids, &[ids.len() as i32]);
            let xb = mx::take(&xtr, &ids, 0, None)?;
            let yb = mx::take(&ytr, &ids, 0, None)?;
            let (l, grads) = step(&mut model, &(xb, yb))?;
            opt.update(&mut model, &grads)?;
            total = mx::add(&total, &l, None)?;
            let mut outs: Vec<Array> = model.parameters().into_values().collect();
            outs.extend(opt.state().into_values());
            outs.push(total.clone());
            mx::eval(&outs)?;
            bar.inc(1);
        }
        bar.finish_and_clear();
        let ms = t0.elapsed().as_secs_f64() * 1e3;
        model.eval();
        let mean_loss = total.item::<f32>()? / batches as f32;
        acc = accuracy(model.as_ref(), &xte, &yte)?;
        losses.push(mean_loss);
        accs.push(acc);
        println!(
            "epoch {:>3}: loss {mean_loss:.4}, test accuracy {acc:.4}, {ms:.1} ms",
            epoch + 1
        );
        if let Some(p) = &args.checkpoint {
            save_checkpoint(p, model.as_ref(), &opt, epoch + 1, &args.model)?;
        }
    }
    if !losses.is_empty() {
        plot(&args.plot, &losses, &accs)?;
        println!("curves written to {}", args.plot.display());
    } else {
        model.eval();
        acc = accuracy(model.as_ref(), &xte, &yte)?;
    }
    println!("test accuracy: {acc:.3}");
    Ok(())
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("mnist: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&args) {
        eprintln!("mnist: {e}");
        std::process::exit(1);
    }
}
