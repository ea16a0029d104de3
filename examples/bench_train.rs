//! Training-step benchmark (the transforms issue's row): `value_and_grad` + an SGD update of an
//! MLP 784→1024→1024→10 (relu, softmax cross-entropy), batch 256, f32, on the CPU and GPU 0.
//! The same step under `compile` (`/compiled` rows). Also the CPU cost of building the backward graph per primitive (no evaluation).
//!
//! ```text
//! cargo run --release --example bench_train -- [--device cpu|gpu|all] [--steps N]
//! ```
//! Prints `name seconds` lines (`cpu/train/mlp784/f32 0.00123`) that compare with
//! `scripts/train_ref.py` (MLX and torch, same model and batch, same machine).

use std::time::Instant;
use wmx::{self as mx, Array, Device, DeviceType, Dtype};

const DIMS: [i32; 4] = [784, 1024, 1024, 10];
const BATCH: i32 = 256;

fn loss_fn(p: &[Array]) -> mx::Result<Array> {
    // p = [w0, b0, w1, b1, w2, b2, x, onehot]
    let mut h = p[6].clone();
    for l in 0..3 {
        h = mx::add(&mx::matmul(&h, &p[2 * l], None)?, &p[2 * l + 1], None)?;
        if l < 2 {
            h = mx::maximum(&h, 0.0, None)?;
        }
    }
    let lse = mx::logsumexp(&h, &[-1], false, None)?;
    let picked = mx::sum(&mx::multiply(&h, &p[7], None)?, &[-1], false, None)?;
    mx::mean(&mx::subtract(&lse, &picked, None)?, &[], false, None)
}

fn setup(dev: Device) -> mx::Result<Vec<Array>> {
    let _g = mx::stream(dev);
    let keys = mx::random::split(&mx::random::key(0), 8, None)?;
    let key = |i: i32| mx::take(&keys, &Array::scalar(i), 0, None);
    let mut p = Vec::new();
    for l in 0..3 {
        let scale = (2.0 / DIMS[l] as f32).sqrt();
        p.push(mx::random::normal(
            &[DIMS[l], DIMS[l + 1]],
            Dtype::Float32,
            Some(0.0),
            Some(scale),
            Some(&key(l as i32)?),
            None,
        )?);
        p.push(mx::zeros(&[DIMS[l + 1]], Dtype::Float32, None)?);
    }
    p.push(mx::random::normal(
        &[BATCH, DIMS[0]],
        Dtype::Float32,
        None,
        None,
        Some(&key(6)?),
        None,
    )?);
    let labels = mx::random::randint(0, 10, &[BATCH], Dtype::Int32, Some(&key(7)?), None)?;
    let classes = mx::arange(0.0, 10.0, 1.0, Dtype::Int32, None)?;
    let onehot = mx::astype(
        &mx::equal(&mx::expand_dims(&labels, &[1], None)?, &classes, None)?,
        Dtype::Float32,
        None,
    )?;
    p.push(onehot);
    mx::eval(p.iter())?;
    Ok(p)
}

/// One SGD step: `[loss, w0', b0', .., b2']` from `[w0, b0, .., b2, x, onehot]`.
fn sgd_step(p: &[Array]) -> mx::Result<Vec<Array>> {
    let (loss, g) = mx::value_and_grad_argnums(loss_fn, &[0, 1, 2, 3, 4, 5])(p)?;
    let mut out = vec![loss];
    for (k, gk) in g.iter().enumerate() {
        out.push(mx::subtract(&p[k], &mx::multiply(gk, 0.05, None)?, None)?);
    }
    Ok(out)
}

fn run(dev: Device, steps: usize, compiled: bool) -> mx::Result<()> {
    let mut p = setup(dev)?;
    let _g = mx::stream(dev);
    let step = mx::value_and_grad_argnums(loss_fn, &[0, 1, 2, 3, 4, 5]);
    let cstep = mx::compile(sgd_step);
    let mut times = Vec::new();
    // Per step: building the graph (the call), `eval`, and the loss's `item`.
    let mut phases: [Vec<f64>; 3] = Default::default();
    let mut first_loss = 0.0;
    let mut loss_v = 0.0;
    for i in 0..steps + 5 {
        if i == 5 {
            mx::gpu_kernel_times()?; // WMX_PROFILE: count the timed steps only
        }
        let t = Instant::now();
        let loss = if compiled {
            let mut out = cstep(&p)?;
            let loss = out.remove(0);
            for (k, w) in out.into_iter().enumerate() {
                p[k] = w;
            }
            loss
        } else {
            let (loss, g) = step(&p)?;
            for (k, gk) in g.iter().enumerate() {
                p[k] = mx::subtract(&p[k], &mx::multiply(gk, 0.05, None)?, None)?;
            }
            loss
        };
        let built = t.elapsed().as_secs_f64();
        mx::eval(p[..6].iter().chain([&loss]))?;
        let evaluated = t.elapsed().as_secs_f64();
        loss_v = loss.item::<f32>()?;
        if i == 0 {
            first_loss = loss_v;
        }
        if i >= 5 {
            let total = t.elapsed().as_secs_f64();
            times.push(total);
            phases[0].push(built);
            phases[1].push(evaluated - built);
            phases[2].push(total - evaluated);
        }
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let phase = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2] * 1e6
    };
    let [b, e, r] = &mut phases;
    let (b, e, r) = (phase(b), phase(e), phase(r));
    print_profile(steps)?;
    let name = match dev.kind {
        DeviceType::Cpu => "cpu",
        DeviceType::Gpu => "gpu",
    };
    let tag = if compiled { "/compiled" } else { "" };
    println!("{name}/train/mlp784/f32{tag} {median:.6}");
    eprintln!(
        "  {name}{tag}: {:.3} ms/step (median of {steps}; build {b:.0} µs, eval {e:.0} µs, \
         item {r:.0} µs), loss {first_loss:.4} -> {loss_v:.4}",
        median * 1e3
    );
    if compiled {
        return Ok(());
    }

    // Graph building: value_and_grad and the update, without evaluation, per node created.
    let before = mx::live_nodes();
    let t = Instant::now();
    let reps = 50;
    let mut keep = Vec::new();
    for _ in 0..reps {
        let (l, g) = step(&p)?;
        keep.push((l, g));
    }
    let build = t.elapsed().as_secs_f64();
    let nodes = mx::live_nodes().saturating_sub(before).max(1);
    println!("{name}/build/per-node {:.9}", build / nodes as f64);
    eprintln!(
        "  {name}: graph building {:.2} µs per node ({} nodes per step)",
        build / nodes as f64 * 1e6,
        nodes / reps
    );
    Ok(())
}

/// With `WMX_PROFILE=1` (see `wmx::set_gpu_profiling`): the GPU time per step of each kernel
/// over the timed steps.
fn print_profile(steps: usize) -> mx::Result<()> {
    let times = mx::gpu_kernel_times()?;
    let total: f64 = times.iter().map(|k| k.seconds).sum();
    if !times.is_empty() {
        eprintln!("  GPU time per step: {:.1} µs", total / steps as f64 * 1e6);
    }
    for k in times.iter().take(20) {
        eprintln!(
            "    {:>8.1} µs {:>5.1} dispatches  {}",
            k.seconds / steps as f64 * 1e6,
            k.count as f64 / steps as f64,
            k.kernel
        );
    }
    Ok(())
}

fn main() -> mx::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let get = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let which = get("--device").unwrap_or_else(|| "all".into());
    let steps: usize = get("--steps").and_then(|s| s.parse().ok()).unwrap_or(30);
    if which == "cpu" || which == "all" {
        run(Device::cpu(), steps, false)?;
        run(Device::cpu(), steps, true)?;
    }
    if (which == "gpu" || which == "all") && mx::device_count(DeviceType::Gpu) > 0 {
        eprintln!("  gpu: {}", mx::device_info(Device::gpu(0))?.name);
        run(Device::gpu(0), steps, false)?;
        run(Device::gpu(0), steps, true)?;
    }
    Ok(())
}
