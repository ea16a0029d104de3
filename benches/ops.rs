//! First benchmark harness (no extra dependencies): elementwise add and exp, a full sum, and
//! matmul, on the CPU and on GPU 0, printed as a table with GB/s or GFLOP/s.
//! Run: `cargo bench --bench ops` (`-- quick` for fewer sizes, `-- large gpu` on a big GPU, `-- cpu` for the CPU rows only). Inputs are random, not zeros;
//! each timing evaluates a fresh graph over pre-evaluated inputs after a warm-up.

use std::time::{Duration, Instant};
use wmx::{self as mx, Array, Device, DeviceType, Dtype};

fn random(n: usize, seed: u64) -> Vec<f32> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect()
}

fn on(dev: Device, v: &[f32], shape: &[i32]) -> Array {
    let a = mx::contiguous(&Array::from_slice(v, shape), dev).unwrap();
    mx::eval([&a]).unwrap();
    a
}

/// Median seconds of `f` (which must evaluate its result) over enough runs to fill ~0.3 s.
fn time(mut f: impl FnMut()) -> f64 {
    f();
    let start = Instant::now();
    f();
    let once = start.elapsed().max(Duration::from_micros(1));
    let reps = ((0.3 / once.as_secs_f64()) as usize).clamp(3, 200);
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(|a, b| a.total_cmp(b));
    t[t.len() / 2]
}

fn row(op: &str, size: &str, dev: Device, secs: f64, amount: f64, unit: &str) {
    let name = mx::device_info(dev).map(|i| i.name).unwrap_or_default();
    println!(
        "| {op:8} | {size:>12} | {name:32} | {:>10.1} µs | {:>9.1} {unit} |",
        secs * 1e6,
        amount / secs / 1e9
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "quick");
    // `large` (the GPU machine): 2^28 elements and 4096^3 matmul; `gpu`: skip the CPU rows.
    let large = args.iter().any(|a| a == "large");
    let mut devices = if args.iter().any(|a| a == "gpu") {
        vec![]
    } else {
        vec![Device::cpu()]
    };
    if mx::device_count(DeviceType::Gpu) > 0 && !args.iter().any(|a| a == "cpu") {
        devices.push(Device::gpu(0));
    }
    println!(
        "| op       |         size | device                           |          time |        rate |"
    );
    println!(
        "|----------|--------------|----------------------------------|---------------|-------------|"
    );
    for &dev in &devices {
        let sizes: &[usize] = if quick {
            &[1 << 20]
        } else if large {
            &[1 << 20, 1 << 24, 1 << 28]
        } else {
            &[1 << 20, 1 << 24]
        };
        for &n in sizes {
            let a = on(dev, &random(n, 1), &[n as i32]);
            let b = on(dev, &random(n, 2), &[n as i32]);
            let bytes = 12.0 * n as f64;
            let t = time(|| mx::eval([&mx::add(&a, &b, dev).unwrap()]).unwrap());
            row(
                "add",
                &format!("2^{}", n.trailing_zeros()),
                dev,
                t,
                bytes,
                "GB/s",
            );
            if large && n == 1 << 28 && dev != Device::cpu() {
                // Probes for the two-input bandwidth gap: one buffer read twice, and a second
                // input that starts 1 MiB, then 4.25 KiB, into its buffer.
                let t = time(|| mx::eval([&mx::add(&a, &a, dev).unwrap()]).unwrap());
                row("add_same", "2^28", dev, t, 12.0 * n as f64, "GB/s");
                let half = n / 2;
                let (ha, hb) = (
                    on(dev, &random(half, 11), &[half as i32]),
                    on(dev, &random(half, 12), &[half as i32]),
                );
                let t = time(|| mx::eval([&mx::add(&ha, &hb, dev).unwrap()]).unwrap());
                row("add", "2^27", dev, t, 12.0 * half as f64, "GB/s");
                drop((ha, hb));
                for (name, shift) in [("add_sh1M", 1 << 18), ("add_sh4k", 1088)] {
                    let wide = on(dev, &random(n + shift, 9), &[(n + shift) as i32]);
                    let end = (n + shift) as i32;
                    let shifted = mx::slice(&wide, &[shift as i32], &[end], &[], dev).unwrap();
                    let t = time(|| mx::eval([&mx::add(&a, &shifted, dev).unwrap()]).unwrap());
                    row(name, "2^28", dev, t, 12.0 * n as f64, "GB/s");
                }
            }
            let t = time(|| mx::eval([&mx::exp(&a, dev).unwrap()]).unwrap());
            row(
                "exp",
                &format!("2^{}", n.trailing_zeros()),
                dev,
                t,
                8.0 * n as f64,
                "GB/s",
            );
            let t = time(|| mx::eval([&mx::sum(&a, &[], false, dev).unwrap()]).unwrap());
            row(
                "sum",
                &format!("2^{}", n.trailing_zeros()),
                dev,
                t,
                4.0 * n as f64,
                "GB/s",
            );
        }
        let dims: &[usize] = if quick {
            &[256]
        } else if large {
            &[256, 1024, 4096]
        } else if dev == Device::cpu() {
            &[256, 1024, 2048]
        } else {
            &[256, 1024]
        };
        for &d in dims {
            let a = on(dev, &random(d * d, 3), &[d as i32, d as i32]);
            let b = on(dev, &random(d * d, 4), &[d as i32, d as i32]);
            let t = time(|| mx::eval([&mx::matmul(&a, &b, dev).unwrap()]).unwrap());
            row(
                "matmul",
                &format!("{d}^3"),
                dev,
                t,
                2.0 * (d * d * d) as f64,
                "GFLOP/s",
            );
        }
        if large && dev != Device::cpu() {
            big_gpu_rows(dev);
        }
        // Random generation (MLX-exact uniform f32): bytes written per second.
        let n: usize = if quick {
            1 << 20
        } else if large {
            1 << 26
        } else {
            1 << 24
        };
        let key = wmx::random::key(0);
        let t = time(|| {
            mx::eval([&wmx::random::uniform(
                0.0,
                1.0,
                &[n as i32],
                Dtype::Float32,
                Some(&key),
                dev,
            )
            .unwrap()])
            .unwrap()
        });
        row(
            "uniform",
            &format!("2^{}", n.trailing_zeros()),
            dev,
            t,
            4.0 * n as f64,
            "GB/s",
        );
        // Overhead: 1000 chained small adds in one eval (time per op).
        let s = on(dev, &[1.0; 256], &[256]);
        let t = time(|| {
            let mut x = s.clone();
            for _ in 0..1000 {
                x = mx::add(&x, &s, dev).unwrap();
            }
            mx::eval([&x]).unwrap();
        });
        row("chain/op", "256 x 1000", dev, t / 1000.0, 1.0, "Gop/s");
        // Launch overhead: one tiny op per eval.
        let s = on(dev, &[1.0], &[1]);
        let t = time(|| mx::eval([&mx::add(&s, &s, dev).unwrap()]).unwrap());
        row("tiny op", "1", dev, t, 1.0, "Gop/s");
    }
}

/// The large GPU targets: broadcast add, row sums and softmax over big matrices, f32
/// matmul at 8192^3 and f16 matmul at 4096^3.
fn big_gpu_rows(dev: Device) {
    let r = 16384usize;
    let m = on(dev, &random(r * r, 5), &[r as i32, r as i32]);
    let v = on(dev, &random(r, 6), &[r as i32]);
    let n = (r * r) as f64;
    let t = time(|| mx::eval([&mx::add(&m, &v, dev).unwrap()]).unwrap());
    row("add_bcast", "16384^2", dev, t, 8.0 * n, "GB/s");
    // Probe: the strided path with one broadcast input and no second input.
    let bv = mx::broadcast_to(&v, &[r as i32, r as i32], dev).unwrap();
    let t = time(|| mx::eval([&mx::contiguous(&bv, dev).unwrap()]).unwrap());
    row("copy_bcast", "16384^2", dev, t, 4.0 * n, "GB/s");
    let t = time(|| mx::eval([&mx::sum(&m, &[1], false, dev).unwrap()]).unwrap());
    row("rowsum", "16384^2", dev, t, 4.0 * n, "GB/s");
    drop(m);
    let s = 8192usize;
    let x = on(dev, &random(s * s, 7), &[s as i32, s as i32]);
    let t = time(|| mx::eval([&mx::softmax(&x, &[-1], dev).unwrap()]).unwrap());
    row("softmax", "8192^2", dev, t, 8.0 * (s * s) as f64, "GB/s");
    let y = on(dev, &random(s * s, 8), &[s as i32, s as i32]);
    let t = time(|| mx::eval([&mx::matmul(&x, &y, dev).unwrap()]).unwrap());
    row(
        "matmul",
        "8192^3",
        dev,
        t,
        2.0 * (s as f64).powi(3),
        "GFLOP/s",
    );
    drop((x, y));
    let d = 4096usize;
    let half = |seed| {
        let a = mx::astype(
            &on(dev, &random(d * d, seed), &[d as i32, d as i32]),
            Dtype::Float16,
            dev,
        )
        .unwrap();
        mx::eval([&a]).unwrap();
        a
    };
    let (a, b) = (half(9), half(10));
    let t = time(|| mx::eval([&mx::matmul(&a, &b, dev).unwrap()]).unwrap());
    row(
        "mm_f16",
        "4096^3",
        dev,
        t,
        2.0 * (d as f64).powi(3),
        "GFLOP/s",
    );
}
