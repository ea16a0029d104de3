//! matmul_f16 — times wmx's f16 matmul on GPU 0 (the cooperative-matrix kernel where the device
//! offers it; `WMX_COOP_VARIANT=<name>` picks its tiling, `WMX_NO_COOP=1` the tiled kernels).
//! Each round evaluates `count` independent n×n×n products of rotated inputs in ONE eval, so
//! the ~100 µs submit round trip is amortised; the best and median of the rounds are printed as
//! µs per matmul and TFLOP/s, with the kernel that ran.
//!
//! Run: `cargo run --release --example matmul_f16 [-- n [count [rounds]]]` (default 4096 20 5;
//! use 256 on lavapipe).

use std::time::Instant;
use wmx::{self as mx, Device, Dtype};

fn arg(i: usize, default: usize) -> usize {
    std::env::args()
        .nth(i)
        .map(|s| s.parse().expect("numeric argument"))
        .unwrap_or(default)
}

fn main() -> mx::Result<()> {
    let (n, count, rounds) = (arg(1, 4096), arg(2, 20), arg(3, 5));
    let gpu = Device::gpu(0);
    let info = mx::device_info(gpu)?;
    println!(
        "{} ({}), cooperative_matrix {}",
        info.name, info.backend, info.cooperative_matrix
    );
    let input = |seed: u64| -> mx::Result<mx::Array> {
        let k = mx::random::key(seed);
        mx::random::uniform(
            -1.0,
            1.0,
            &[n as i32, n as i32],
            Dtype::Float16,
            Some(&k),
            gpu,
        )
    };
    let a = [input(0)?, input(1)?];
    let b = [input(2)?, input(3)?];
    mx::eval(a.iter().chain(b.iter()))?;
    // Warm-up: pipelines built, buffers pooled.
    let w = mx::matmul(&a[0], &b[0], gpu)?;
    mx::eval([&w])?;
    drop(w);
    let flops = 2.0 * (n as f64).powi(3);
    let mut per = Vec::new();
    for _ in 0..rounds {
        let cs = (0..count)
            .map(|i| mx::matmul(&a[i % 2], &b[(i / 2) % 2], gpu))
            .collect::<mx::Result<Vec<_>>>()?;
        let t = Instant::now();
        mx::eval(cs.iter())?;
        per.push(t.elapsed().as_secs_f64() / count as f64);
    }
    per.sort_by(f64::total_cmp);
    let kernel = mx::kernels_built(gpu)
        .into_iter()
        .filter(|k| k.starts_with("matmul"))
        .collect::<Vec<_>>()
        .join(",");
    let variant = std::env::var("WMX_COOP_VARIANT").unwrap_or_else(|_| "(default)".into());
    println!(
        "variant {variant} kernel {kernel}: n {n} x{count}: best {:.1} us ({:.1} TFLOP/s), median {:.1} us ({:.1} TFLOP/s)",
        per[0] * 1e6,
        flops / per[0] / 1e12,
        per[per.len() / 2] * 1e6,
        flops / per[per.len() / 2] / 1e12
    );
    Ok(())
}
