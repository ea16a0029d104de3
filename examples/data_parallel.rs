//! Data-parallel training with `wmx::distributed`: a small MLP (16 -> 32 -> 4, tanh) learns a
//! synthetic 4-class problem (made deterministically with `wmx::random`, the same on every rank).
//! Each rank computes the gradient of the mean loss on its shard of the data; the gradients are
//! averaged with `average_gradients`, so every step equals a full-batch step. At the end the
//! program checks that every rank holds identical weights (`all_max == all_min`) and that they
//! match a single-process run of the same training (computed here on each rank, without
//! communication), and exits non-zero otherwise.
//!
//! Run alone: `cargo run --release --example data_parallel`
//! On 4 ranks: `cargo build --release --features mpi --example data_parallel &&
//! mpirun -np 4 target/release/examples/data_parallel` (add `--cpu` to train on the CPU).

use std::collections::BTreeMap;
use wmx::distributed::{self as dist, Group};
use wmx::{self as mx, Array, Device, Dtype, Result};

const N: i32 = 1024;
const FEATURES: i32 = 16;
const HIDDEN: i32 = 32;
const CLASSES: i32 = 4;
const STEPS: usize = 100;
const LR: f32 = 0.5;

type Params = BTreeMap<String, Array>;

/// The data set: class centres, a label per point, and points scattered around their centre.
fn dataset(d: Device) -> Result<(Array, Array)> {
    let k = mx::random::split(&mx::random::key(7), 3, d)?;
    let part = |i: i32| mx::take(&k, &Array::scalar(i), 0, d);
    let centres = mx::random::normal(
        &[CLASSES, FEATURES],
        Dtype::Float32,
        None,
        None,
        Some(&part(0)?),
        d,
    )?;
    let labels = mx::random::randint(0, CLASSES, &[N], Dtype::Int32, Some(&part(1)?), d)?;
    let noise = mx::random::normal(
        &[N, FEATURES],
        Dtype::Float32,
        None,
        Some(1.5),
        Some(&part(2)?),
        d,
    )?;
    let x = mx::add(&mx::take(&centres, &labels, 0, d)?, &noise, d)?;
    Ok((x, labels))
}

fn init_params(d: Device) -> Result<Params> {
    let k = mx::random::split(&mx::random::key(1), 2, d)?;
    let part = |i: i32| mx::take(&k, &Array::scalar(i), 0, d);
    let mut p = Params::new();
    p.insert(
        "l1.weight".into(),
        mx::random::normal(
            &[FEATURES, HIDDEN],
            Dtype::Float32,
            None,
            Some(0.25),
            Some(&part(0)?),
            d,
        )?,
    );
    p.insert("l1.bias".into(), mx::zeros(&[HIDDEN], Dtype::Float32, d)?);
    p.insert(
        "l2.weight".into(),
        mx::random::normal(
            &[HIDDEN, CLASSES],
            Dtype::Float32,
            None,
            Some(0.18),
            Some(&part(1)?),
            d,
        )?,
    );
    p.insert("l2.bias".into(), mx::zeros(&[CLASSES], Dtype::Float32, d)?);
    Ok(p)
}

const NAMES: [&str; 4] = ["l1.bias", "l1.weight", "l2.bias", "l2.weight"];

fn logits(p: &[Array], x: &Array, d: Device) -> Result<Array> {
    // p in NAMES order (the BTreeMap's).
    let h = mx::tanh(&mx::add(&mx::matmul(x, &p[1], d)?, &p[0], d)?, d)?;
    mx::add(&mx::matmul(&h, &p[3], d)?, &p[2], d)
}

/// Mean cross-entropy of the batch.
fn loss(p: &[Array], x: &Array, y: &Array, d: Device) -> Result<Array> {
    let z = logits(p, x, d)?;
    let lse = mx::logsumexp(&z, &[-1], false, d)?;
    let picked = mx::take_along_axis(&z, &mx::expand_dims(y, &[-1], d)?, Some(-1), d)?;
    mx::mean(
        &mx::subtract(&lse, &mx::squeeze(&picked, &[-1], d)?, d)?,
        &[],
        false,
        d,
    )
}

fn accuracy(p: &Params, x: &Array, y: &Array, d: Device) -> Result<f32> {
    let v: Vec<Array> = p.values().cloned().collect();
    let pred = mx::argmax(&logits(&v, x, d)?, -1, false, d)?;
    let hits = mx::equal(&mx::astype(&pred, Dtype::Int32, d)?, y, d)?;
    mx::mean(&mx::astype(&hits, Dtype::Float32, d)?, &[], false, d)?.item::<f32>()
}

/// `STEPS` steps of gradient descent on rows `lo..hi`, gradients averaged over `group` (`None`:
/// no communication, the single-process reference).
fn train(
    x: &Array,
    y: &Array,
    lo: i32,
    hi: i32,
    group: Option<&Group>,
    d: Device,
    log: bool,
) -> Result<Params> {
    let xs = mx::slice(x, &[lo, 0], &[hi, FEATURES], &[1, 1], d)?;
    let ys = mx::slice(y, &[lo], &[hi], &[1], d)?;
    let mut p = init_params(d)?;
    let (xc, yc) = (xs.clone(), ys.clone());
    let step = mx::value_and_grad_argnums(move |a: &[Array]| loss(a, &xc, &yc, d), &[0, 1, 2, 3]);
    for i in 0..STEPS {
        let args: Vec<Array> = p.values().cloned().collect();
        let (l, g) = step(&args)?;
        let grads: Params = NAMES.iter().map(|n| n.to_string()).zip(g).collect();
        let grads = match group {
            Some(gr) => dist::average_gradients(&grads, Some(gr), dist::ALL_REDUCE_SIZE, d)?,
            None => grads,
        };
        for (k, w) in p.iter_mut() {
            *w = mx::subtract(&*w, &mx::multiply(&grads[k], LR, d)?, d)?;
        }
        let all: Vec<&Array> = p.values().chain([&l]).collect();
        mx::eval(all)?;
        if log && (i % 25 == 0 || i == STEPS - 1) {
            // This rank's shard loss (the global loss is their mean).
            println!("step {i:3}: shard loss {:.4}", l.item::<f32>()?);
        }
    }
    Ok(p)
}

fn main() -> Result<()> {
    let d = if std::env::args().any(|a| a == "--cpu") {
        Device::cpu()
    } else {
        mx::default_device()
    };
    let g = dist::init(false)?;
    let (r, n) = (g.rank(), g.size());
    if N % n != 0 {
        eprintln!("{N} examples do not split evenly over {n} ranks");
        std::process::exit(2);
    }
    let (x, y) = dataset(d)?;
    let shard = N / n;
    let t0 = std::time::Instant::now();
    let p = train(&x, &y, r * shard, (r + 1) * shard, Some(&g), d, r == 0)?;
    let secs = t0.elapsed().as_secs_f64();

    // Every rank must hold the same weights: the elementwise max and min over ranks agree.
    let mut spread = 0.0f32;
    for w in p.values() {
        let hi = dist::all_max(w, Some(&g), d)?;
        let lo = dist::all_min(w, Some(&g), d)?;
        let diff = mx::max(&mx::abs(&mx::subtract(&hi, &lo, d)?, d)?, &[], false, d)?;
        spread = spread.max(diff.item::<f32>()?);
    }
    // The single-process run of the same training, for comparison.
    let single = train(&x, &y, 0, N, None, d, false)?;
    let mut dev = 0.0f32;
    for (k, w) in &p {
        let diff = mx::max(
            &mx::abs(&mx::subtract(w, &single[k], d)?, d)?,
            &[],
            false,
            d,
        )?;
        dev = dev.max(diff.item::<f32>()?);
    }
    let (acc, acc1) = (accuracy(&p, &x, &y, d)?, accuracy(&single, &x, &y, d)?);
    let ok = spread == 0.0 && dev < 1e-3 && (acc - acc1).abs() <= 2.0 / N as f32;
    if r == 0 {
        println!(
            "{n} rank(s) on {d}: {STEPS} steps in {secs:.2} s; accuracy {acc:.4} (single process \
             {acc1:.4}); weights differ across ranks by {spread:e}, from the single-process run \
             by {dev:.2e}: {}",
            if ok { "OK" } else { "MISMATCH" }
        );
    }
    if !ok {
        std::process::exit(1);
    }
    Ok(())
}
