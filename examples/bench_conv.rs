//! Convolution benchmark: a ResNet layer, conv2d 3x3 64->64 over 56x56, batch 64, stride 1,
//! padding 1 (channels-last, MLX's layout), forward and forward+backward (the gradients with
//! respect to both the input and the weight, given a random cotangent), f32 and f16.
//!
//! ```text
//! cargo run --release --example bench_conv -- [--device cpu|gpu] [--iters N] [--batch B]
//! ```
//! Prints `device/conv3x3/<pass>/<dtype> ms_per_iter TFLOP/s` lines after warmup, comparable with
//! `scripts/conv_ref.py` (torch cuDNN channels_last on a GPU, or MLX on the CPU; same layer).

use std::time::Instant;
use wmx::{self as mx, Array, Device, Dtype};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// Seconds per iteration of `step` (each evaluates its outputs), after `warm` untimed runs.
fn time(iters: usize, warm: usize, step: &dyn Fn() -> mx::Result<Vec<Array>>) -> mx::Result<f64> {
    for _ in 0..warm {
        let outs = step()?;
        mx::eval(&outs)?;
    }
    let t = Instant::now();
    for _ in 0..iters {
        let outs = step()?;
        mx::eval(&outs)?;
    }
    Ok(t.elapsed().as_secs_f64() / iters as f64)
}

fn main() -> mx::Result<()> {
    let dev = match arg("--device").as_deref() {
        Some("cpu") => Device::cpu(),
        Some("gpu") | None => Device::gpu(0),
        Some(other) => panic!("--device cpu|gpu, got {other}"),
    };
    let default_iters = if dev == Device::cpu() { 3 } else { 20 };
    let iters: usize = arg("--iters").map_or(default_iters, |s| s.parse().expect("--iters N"));
    let batch: i32 = arg("--batch").map_or(64, |s| s.parse().expect("--batch B"));
    let (h, c, k) = (56, 64, 3);
    let _g = mx::stream(dev);
    let key = mx::random::key(0);
    let keys = mx::random::split(&key, 3, None)?;
    let pick = |i: i32| mx::take(&keys, &Array::scalar(i), 0, None);
    let x32 = mx::random::normal(
        &[batch, h, h, c],
        Dtype::Float32,
        None,
        None,
        Some(&pick(0)?),
        None,
    )?;
    let scale = (2.0 / (k * k * c) as f32).sqrt();
    let w32 = mx::random::normal(
        &[c, k, k, c],
        Dtype::Float32,
        Some(0.0),
        Some(scale),
        Some(&pick(1)?),
        None,
    )?;
    let g32 = mx::random::normal(
        &[batch, h, h, c],
        Dtype::Float32,
        None,
        None,
        Some(&pick(2)?),
        None,
    )?;
    let flop = 2.0 * (batch * h * h) as f64 * c as f64 * (k * k * c) as f64;
    let name = if dev == Device::cpu() { "cpu" } else { "gpu" };
    for dt in [Dtype::Float32, Dtype::Float16] {
        let (x, w, g) = (
            mx::astype(&x32, dt, None)?,
            mx::astype(&w32, dt, None)?,
            mx::astype(&g32, dt, None)?,
        );
        mx::eval([&x, &w, &g])?;
        let conv = |p: &[Array]| {
            Ok(vec![mx::conv2d(
                &p[0],
                &p[1],
                (1, 1),
                (1, 1),
                (1, 1),
                1,
                None,
            )?])
        };
        let fwd = time(iters, 2, &|| conv(&[x.clone(), w.clone()]))?;
        let bwd = time(iters, 2, &|| {
            let (outs, grads) = mx::vjp(conv, &[x.clone(), w.clone()], &[g.clone()])?;
            Ok(outs.into_iter().chain(grads).collect())
        })?;
        let short = if dt == Dtype::Float32 { "f32" } else { "f16" };
        println!(
            "{name}/conv3x3/forward/{short} {:.3} ms {:.2} TFLOP/s",
            fwd * 1e3,
            flop / fwd / 1e12
        );
        println!(
            "{name}/conv3x3/forward+backward/{short} {:.3} ms {:.2} TFLOP/s",
            bwd * 1e3,
            3.0 * flop / bwd / 1e12
        );
    }
    Ok(())
}
