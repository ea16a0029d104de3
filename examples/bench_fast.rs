//! `fast` op benchmark (issue 13's rows): rms_norm and layer_norm over 8192×8192 f32 (GB/s,
//! bytes read + written, beside a plain copy's), and causal attention B4 H32 L4096 D128 in f16
//! and f32 (TFLOP/s counting 4·B·H·L²·D, halved for the causal mask, as torch's reference does).
//!
//! ```text
//! cargo run --release --example bench_fast -- [--device cpu|gpu] [--small] [--iters N]
//! ```
//! `--small` shrinks every size (a sanity run on lavapipe or the CPU). Prints `name seconds
//! rate` lines that compare with `scripts/fast_ref.py` (torch, same shapes, same machine).

use std::time::Instant;
use wmx::{self as mx, Array, Device, Dtype, fast};

/// Median seconds per result of `f` over `rounds` rounds, each evaluating `batch` results
/// together (one submit-and-wait spread over them, as torch's loop of launches before one
/// synchronize), after a warm-up round.
fn time(rounds: usize, batch: usize, f: &dyn Fn() -> mx::Result<Array>) -> mx::Result<f64> {
    let round = || -> mx::Result<f64> {
        let start = Instant::now();
        let outs = (0..batch).map(|_| f()).collect::<mx::Result<Vec<_>>>()?;
        mx::eval(&outs)?;
        Ok(start.elapsed().as_secs_f64() / batch as f64)
    };
    round()?;
    let mut t = (0..rounds.max(1))
        .map(|_| round())
        .collect::<mx::Result<Vec<_>>>()?;
    t.sort_by(f64::total_cmp);
    Ok(t[t.len() / 2])
}

fn main() -> mx::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |k: &str| {
        args.iter()
            .position(|a| a == k)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let dev = match arg("--device").as_deref() {
        Some("cpu") => Device::cpu(),
        _ => Device::gpu(0),
    };
    let small = args.iter().any(|a| a == "--small");
    let iters: usize = arg("--iters")
        .and_then(|v| v.parse().ok())
        .unwrap_or(if small { 3 } else { 20 });
    let key = mx::random::key(0);
    let n = if small { 512 } else { 8192 };
    let x = mx::random::normal(&[n, n], Dtype::Float32, None, None, Some(&key), dev)?;
    let w = mx::random::normal(&[n], Dtype::Float32, None, None, Some(&key), dev)?;
    mx::eval(&[x.clone(), w.clone()])?;
    let bytes = 2.0 * (n as f64) * (n as f64) * 4.0;
    type Row<'a> = (&'a str, Box<dyn Fn() -> mx::Result<Array> + 'a>);
    let rows: [Row; 3] = [
        ("copy", Box::new(|| mx::multiply(&x, 1.0f32, dev))),
        (
            "rms_norm",
            Box::new(|| fast::rms_norm(&x, Some(&w), 1e-5, dev)),
        ),
        (
            "layer_norm",
            Box::new(|| fast::layer_norm(&x, Some(&w), Some(&w), 1e-5, dev)),
        ),
    ];
    for (name, f) in rows.iter() {
        let t = time(iters.div_ceil(4), 16, f.as_ref())?;
        println!(
            "{dev:?}/{name}/{n}x{n}/f32 {t:.6} {:.1} GB/s",
            bytes / t / 1e9
        );
    }
    let (b, h, l, d) = if small {
        (1, 4, 256, 128)
    } else {
        (4, 32, 4096, 128)
    };
    for dt in [Dtype::Float16, Dtype::Float32] {
        let mk = |i: i32| -> mx::Result<Array> {
            let k = mx::random::split(&key, 3, None)?;
            let k = mx::take(&k, &Array::scalar(i), 0, None)?;
            mx::random::normal(&[b, h, l, d], dt, None, None, Some(&k), dev)
        };
        let (q, k, v) = (mk(0)?, mk(1)?, mk(2)?);
        mx::eval(&[q.clone(), k.clone(), v.clone()])?;
        let scale = 1.0 / (d as f32).sqrt();
        let f = || {
            fast::scaled_dot_product_attention(
                &q,
                &k,
                &v,
                scale,
                Some(fast::AttentionMask::Causal),
                dev,
            )
        };
        let t = time(3, iters.min(10), &f)?;
        let flops = 4.0 * (b * h) as f64 * (l as f64) * (l as f64) * d as f64 / 2.0;
        println!(
            "{dev:?}/sdpa_causal/B{b}H{h}L{l}D{d}/{dt:?} {t:.6} {:.2} TFLOP/s",
            flops / t / 1e12
        );
    }
    Ok(())
}
