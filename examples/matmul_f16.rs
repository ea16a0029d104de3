//! matmul_f16 — times wmx's f16 matmul on GPU 0 (the cooperative-matrix kernel where the device
//! offers it; `WMX_COOP_VARIANT=<name>` picks its tiling, `WMX_NO_COOP=1` the tiled kernels).
//! Each round evaluates `count` independent n×n×n products of rotated inputs in ONE eval, so
//! the ~100 µs submit round trip is amortised; the best and median of the rounds are printed as
//! µs per matmul and TFLOP/s, with the kernel that ran.
//!
//! Run: `cargo run --release --example matmul_f16 [-- n [count [rounds]]]` (default 4096 20 5;
//! use 256 on lavapipe). `n` may be `MxNxK` for an M×K by K×N product (a 512-token prompt's
//! projections: `512x2048x2048`, `512x8192x2048`; a decoded token's head: `1x128256x2048`).

use std::time::Instant;
use wmx::{self as mx, Device, Dtype};

fn arg(i: usize, default: usize) -> usize {
    std::env::args()
        .nth(i)
        .map(|s| s.parse().expect("numeric argument"))
        .unwrap_or(default)
}

/// The first argument: `n` (n×n×n) or `MxNxK`.
fn dims() -> [usize; 3] {
    let a = std::env::args().nth(1).unwrap_or_else(|| "4096".into());
    let d: Vec<usize> = a
        .split('x')
        .map(|s| s.parse().expect("numeric size"))
        .collect();
    match d[..] {
        [n] => [n, n, n],
        [m, n, k] => [m, n, k],
        _ => panic!("size: n or MxNxK"),
    }
}

fn main() -> mx::Result<()> {
    let [m, n, k] = dims();
    let (count, rounds) = (arg(2, 20), arg(3, 5));
    let gpu = Device::gpu(0);
    let info = mx::device_info(gpu)?;
    println!(
        "{} ({}), cooperative_matrix {}",
        info.name, info.backend, info.cooperative_matrix
    );
    let input = |seed: u64, rows: usize, cols: usize| -> mx::Result<mx::Array> {
        let key = mx::random::key(seed);
        mx::random::uniform(
            -1.0,
            1.0,
            &[rows as i32, cols as i32],
            Dtype::Float16,
            Some(&key),
            gpu,
        )
    };
    let a = [input(0, m, k)?, input(1, m, k)?];
    let b = [input(2, k, n)?, input(3, k, n)?];
    mx::eval(a.iter().chain(b.iter()))?;
    // Warm-up: pipelines built, buffers pooled.
    let w = mx::matmul(&a[0], &b[0], gpu)?;
    mx::eval([&w])?;
    drop(w);
    let flops = 2.0 * m as f64 * n as f64 * k as f64;
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
        "variant {variant} kernel {kernel}: {m}x{n}x{k} x{count}: best {:.1} us ({:.1} TFLOP/s), median {:.1} us ({:.1} TFLOP/s)",
        per[0] * 1e6,
        flops / per[0] / 1e12,
        per[per.len() / 2] * 1e6,
        flops / per[per.len() / 2] / 1e12
    );
    Ok(())
}
