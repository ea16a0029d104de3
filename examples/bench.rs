//! The benchmark table (issue #5, "Harness"): elementwise, reductions, softmax, matmul, random
//! and overhead rows on the CPU and GPU 0, with GB/s or GFLOP/s and the percentage of a reference
//! (numpy or torch) measured on the same machine.
//!
//! ```text
//! cargo run --release --example bench -- [--device cpu|gpu|all] [--quick | --large] [--probes]
//!     [--ref FILE]... [--only TEXT]... [--keep-cache] [--cache-limit GIB] [--batch-gib GIB]
//!     [--list]
//! ```
//!
//! Every row has a name `device/op/size/dtype` (`cpu/add/2^24/f32`, `gpu/matmul/4096^3/f16`);
//! `--list` prints the names instead of measuring, and `--ref FILE` reads `name seconds` lines
//! (what `scripts/numpy_ref.py` and `scripts/torch_ref.py` write for those names) to fill the
//! `% ref` column (reference time / wmx time) and, from the reference's longest `copy` row, the
//! `% copy` column (the row's bandwidth as a share of the reference's device copy bandwidth).
//!
//! Method: inputs are random (uniform in [-1, 1), never zeros); each row
//! cycles through 3 distinct input arrays so consecutive results do not find their inputs in
//! cache. On a GPU, after a warm-up, k independent results are evaluated in ONE eval, k grown
//! until one eval lasts about 20 ms (at most 4 GiB of results, `--batch-gib` to change), so the
//! eval's submit-and-wait round trip (~0.1 ms) is amortised; the time shown is the median over such evals divided by k.
//! On the CPU, whose round trip is a few µs, each eval computes one result (as numpy's call does). Two overhead rows are
//! the exceptions: `chain` (1,000 dependent adds of 256 elements in one eval, time per add) and
//! `tiny` (one eval of one 1-element add: the full round trip).

#[path = "../benches/common/mod.rs"]
mod common;

use common::{dtype_name, kind, pow2_label, random, rotation};
use std::collections::HashMap;
use std::time::Instant;
use wmx::{self as mx, Array, Device, DeviceType, Dtype};

const USAGE: &str = "usage: bench [--device cpu|gpu|all] [--quick | --large] [--probes] \
[--ref FILE]... [--only TEXT]... [--keep-cache] [--cache-limit GIB] [--batch-gib GIB] [--list]
  --device    which devices (default all: the CPU, and GPU 0 when an adapter exists)
  --quick     one small size per row (seconds)
  --large     the issue's sizes: 2^28 elements, 16384^2 rows, 8192^2 softmax, 4096^3 and 8192^3 matmul
  --probes    extra diagnostic rows at the largest sizes (a + a, offset inputs, broadcast copy)
  --ref FILE  `name seconds` lines from scripts/numpy_ref.py or scripts/torch_ref.py (repeatable)
  --only TEXT measure only rows whose name contains TEXT (repeatable)
  --keep-cache  keep freed GPU buffers between rows instead of clearing the cache after each
              row (fewer fresh allocations from the driver)
  --cache-limit GIB  wmx's buffer cache limit (default: the memory limit), still cleared per row
  --batch-gib GIB  most GiB of results in one GPU eval (default 4; the round trip is amortised
              over the batch: 1 GiB results batch 4 by default, 16 with --batch-gib 16)
  --list      print the row names (device/op/size/dtype) and exit";

/// One eval of a batch should last about this long, so the round trip is a small fraction.
const BATCH_SECS: f64 = 0.02;
/// Most results evaluated together.
const MAX_BATCH: usize = 256;
/// Most bytes of results alive at once in a GPU batch, by default (`--batch-gib`).
const GPU_BATCH_BYTES: f64 = (4u64 << 30) as f64;

/// What a row's rate counts.
#[derive(Clone, Copy)]
enum Work {
    /// Bytes read and written by one result (ideal traffic).
    Bytes(f64),
    /// Floating-point operations of one result.
    Flops(f64),
    /// No rate (overhead rows).
    None,
}

/// The sizes of each family for one mode.
struct Sizes {
    /// Vector lengths (log2) of add, copy, exp and sum.
    vec_log2: &'static [u32],
    /// Square matrices for the broadcast add and the row sums.
    rows: &'static [usize],
    /// Square matrices for softmax over rows.
    softmax: &'static [usize],
    /// Square f32 matmuls (d^3).
    matmul_f32: &'static [usize],
    /// Square f16 matmuls (d^3).
    matmul_f16: &'static [usize],
    /// Length (log2) of the uniform draw.
    uniform_log2: u32,
}

const QUICK: Sizes = Sizes {
    vec_log2: &[20],
    rows: &[1024],
    softmax: &[1024],
    matmul_f32: &[256],
    matmul_f16: &[256],
    uniform_log2: 20,
};
const DEFAULT: Sizes = Sizes {
    vec_log2: &[20, 24],
    rows: &[1024, 4096],
    softmax: &[1024, 4096],
    matmul_f32: &[256, 1024, 2048],
    matmul_f16: &[256, 1024],
    uniform_log2: 24,
};
const LARGE: Sizes = Sizes {
    vec_log2: &[20, 24, 28],
    rows: &[4096, 16384],
    softmax: &[4096, 8192],
    matmul_f32: &[1024, 4096, 8192],
    matmul_f16: &[1024, 4096],
    uniform_log2: 26,
};

/// Options and references of one run.
struct Bench {
    refs: HashMap<String, f64>,
    only: Vec<String>,
    list: bool,
    /// Keep the buffer cache between rows (`--keep-cache`).
    keep_cache: bool,
    /// Most bytes of results in one GPU eval (`--batch-gib`).
    gpu_batch_bytes: f64,
    /// Seconds of measurement per row (after calibration).
    row_secs: f64,
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut which, mut sizes, mut probes) = ("all".to_string(), &DEFAULT, false);
    let mut bench = Bench {
        refs: HashMap::new(),
        only: vec![],
        list: false,
        keep_cache: false,
        gpu_batch_bytes: GPU_BATCH_BYTES,
        row_secs: 0.5,
    };
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| {
            args.next()
                .unwrap_or_else(|| fail(&format!("{flag} needs a value")))
        };
        match arg.as_str() {
            "--device" => which = value("--device"),
            "--quick" => (sizes, bench.row_secs) = (&QUICK, 0.2),
            "--large" => sizes = &LARGE,
            "--probes" => probes = true,
            "--ref" => read_refs(&value("--ref"), &mut bench.refs),
            "--only" => bench.only.push(value("--only")),
            "--list" => bench.list = true,
            "--batch-gib" => {
                let gib: u64 = value("--batch-gib")
                    .parse()
                    .unwrap_or_else(|_| fail("--batch-gib takes whole GiB"));
                bench.gpu_batch_bytes = (gib.max(1) << 30) as f64;
            }
            "--cache-limit" => {
                let gib: u64 = value("--cache-limit")
                    .parse()
                    .unwrap_or_else(|_| fail("--cache-limit takes whole GiB"));
                mx::set_cache_limit(gib << 30);
            }
            "--keep-cache" => bench.keep_cache = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return;
            }
            other => fail(&format!("unknown argument `{other}`")),
        }
    }
    let devices = match which.as_str() {
        "cpu" => vec![Device::cpu()],
        "gpu" if bench.list => vec![Device::gpu(0)],
        "gpu" if !common::has_gpu() => fail("--device gpu: wgpu found no GPU adapter"),
        "gpu" => vec![Device::gpu(0)],
        "all" if bench.list => vec![Device::cpu(), Device::gpu(0)],
        "all" => common::devices(),
        other => fail(&format!("--device {other}: expected cpu, gpu or all")),
    };
    if !bench.list {
        for &dev in &devices {
            let info = mx::device_info(dev).unwrap();
            println!(
                "# {} = {} ({}, {})",
                kind(dev),
                info.name,
                info.backend,
                info.device_type
            );
        }
        println!(
            "| op         | size         | dtype | device |          time |              rate |  % ref | % copy |"
        );
        println!(
            "|------------|--------------|-------|--------|---------------|-------------------|--------|--------|"
        );
    }
    for &dev in &devices {
        elementwise(&bench, dev, sizes);
        reductions(&bench, dev, sizes);
        matmuls(&bench, dev, sizes);
        uniform(&bench, dev, sizes);
        overhead(&bench, dev);
        if probes {
            probe_rows(&bench, dev, sizes);
        }
    }
}

fn fail(message: &str) -> ! {
    eprintln!("bench: {message}\n{USAGE}");
    std::process::exit(2)
}

/// Adds the `name seconds` lines of `path` to `refs` (blank lines and `#` comments skipped).
fn read_refs(path: &str, refs: &mut HashMap<String, f64>) {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| fail(&format!("--ref {path}: {e}")));
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut it = line.split_whitespace();
        match (it.next(), it.next().and_then(|s| s.parse::<f64>().ok())) {
            (Some(name), Some(secs)) if secs > 0.0 => {
                refs.insert(name.to_string(), secs);
            }
            _ => eprintln!("bench: --ref {path}: skipped line `{line}`"),
        }
    }
}

/// Row sizes: `2^k` for vectors, `RxC` for matrices, `d^3` for matmuls.
fn square(r: usize) -> String {
    format!("{r}x{r}")
}

fn cube(d: usize) -> String {
    format!("{d}^3")
}

fn elementwise(b: &Bench, dev: Device, sizes: &Sizes) {
    for &l in sizes.vec_log2 {
        let n = 1usize << l;
        let (size, shape, bytes) = (pow2_label(n), [n as i32], n as f64 * 4.0);
        b.row(
            dev,
            "add",
            &size,
            Dtype::Float32,
            Work::Bytes(3.0 * bytes),
            bytes,
            || {
                let x = rotation(dev, &shape, Dtype::Float32, 1);
                move |i| mx::add(&x[i % 3], &x[(i + 1) % 3], dev).unwrap()
            },
        );
        b.row(
            dev,
            "copy",
            &size,
            Dtype::Float32,
            Work::Bytes(2.0 * bytes),
            bytes,
            || {
                let x = rotation(dev, &shape, Dtype::Float32, 1);
                move |i| mx::contiguous(&x[i % 3], dev).unwrap()
            },
        );
        b.row(
            dev,
            "exp",
            &size,
            Dtype::Float32,
            Work::Bytes(2.0 * bytes),
            bytes,
            || {
                let x = rotation(dev, &shape, Dtype::Float32, 1);
                move |i| mx::exp(&x[i % 3], dev).unwrap()
            },
        );
    }
    for &r in sizes.rows {
        let bytes = (r * r) as f64 * 4.0;
        b.row(
            dev,
            "add_bcast",
            &square(r),
            Dtype::Float32,
            Work::Bytes(2.0 * bytes),
            bytes,
            || {
                let m = rotation(dev, &[r as i32, r as i32], Dtype::Float32, 1);
                let v = rotation(dev, &[r as i32], Dtype::Float32, 10);
                move |i| mx::add(&m[i % 3], &v[i % 3], dev).unwrap()
            },
        );
    }
}

fn reductions(b: &Bench, dev: Device, sizes: &Sizes) {
    for &l in sizes.vec_log2 {
        let n = 1usize << l;
        b.row(
            dev,
            "sum",
            &pow2_label(n),
            Dtype::Float32,
            Work::Bytes(4.0 * n as f64),
            4.0,
            || {
                let x = rotation(dev, &[n as i32], Dtype::Float32, 1);
                move |i| mx::sum(&x[i % 3], &[], false, dev).unwrap()
            },
        );
    }
    for &r in sizes.rows {
        let work = Work::Bytes((r * r) as f64 * 4.0);
        b.row(
            dev,
            "rowsum",
            &square(r),
            Dtype::Float32,
            work,
            r as f64 * 4.0,
            || {
                let m = rotation(dev, &[r as i32, r as i32], Dtype::Float32, 1);
                move |i| mx::sum(&m[i % 3], &[1], false, dev).unwrap()
            },
        );
    }
    for &r in sizes.softmax {
        let bytes = (r * r) as f64 * 4.0;
        b.row(
            dev,
            "softmax",
            &square(r),
            Dtype::Float32,
            Work::Bytes(2.0 * bytes),
            bytes,
            || {
                let m = rotation(dev, &[r as i32, r as i32], Dtype::Float32, 1);
                move |i| mx::softmax(&m[i % 3], &[-1], dev).unwrap()
            },
        );
    }
}

fn matmuls(b: &Bench, dev: Device, sizes: &Sizes) {
    for (dtype, dims) in [
        (Dtype::Float32, sizes.matmul_f32),
        (Dtype::Float16, sizes.matmul_f16),
    ] {
        for &d in dims {
            let flops = Work::Flops(2.0 * (d as f64).powi(3));
            let out = (d * d * dtype.size()) as f64;
            b.row(dev, "matmul", &cube(d), dtype, flops, out, || {
                let x = rotation(dev, &[d as i32, d as i32], dtype, 1);
                move |i| mx::matmul(&x[i % 3], &x[(i + 1) % 3], dev).unwrap()
            });
        }
    }
}

fn uniform(b: &Bench, dev: Device, sizes: &Sizes) {
    let n = 1usize << sizes.uniform_log2;
    let bytes = n as f64 * 4.0;
    b.row(
        dev,
        "uniform",
        &pow2_label(n),
        Dtype::Float32,
        Work::Bytes(bytes),
        bytes,
        || {
            let keys: Vec<Array> = (0..3).map(mx::random::key).collect();
            move |i| {
                let key = Some(&keys[i % 3]);
                mx::random::uniform(0.0f32, 1.0f32, &[n as i32], Dtype::Float32, key, dev).unwrap()
            }
        },
    );
}

/// `chain`: 1,000 dependent adds of 256 elements in one eval, per add; `tiny`: one eval of a
/// 1-element add (the whole round trip).
fn overhead(b: &Bench, dev: Device) {
    const CHAIN: usize = 1000;
    b.measure(
        dev,
        "chain",
        "256x1000",
        Dtype::Float32,
        Work::None,
        CHAIN,
        || {
            let s = random(dev, &[256], Dtype::Float32, 1);
            move |_| {
                let mut x = s.clone();
                for _ in 0..CHAIN {
                    x = mx::add(&x, &s, dev).unwrap();
                }
                x
            }
        },
    );
    b.measure(dev, "tiny", "1", Dtype::Float32, Work::None, 1, || {
        let s = random(dev, &[1], Dtype::Float32, 1);
        move |_| mx::add(&s, &s, dev).unwrap()
    });
}

/// Diagnostic rows at the largest sizes: one buffer read twice, a second input that starts
/// 1 MiB or 4.25 KiB into its buffer, and a broadcast row copied out (no second input).
fn probe_rows(b: &Bench, dev: Device, sizes: &Sizes) {
    let n = 1usize << sizes.vec_log2.last().copied().unwrap_or(20);
    let (size, bytes) = (pow2_label(n), n as f64 * 4.0);
    b.row(
        dev,
        "add_same",
        &size,
        Dtype::Float32,
        Work::Bytes(3.0 * bytes),
        bytes,
        || {
            let x = rotation(dev, &[n as i32], Dtype::Float32, 1);
            move |i| mx::add(&x[i % 3], &x[i % 3], dev).unwrap()
        },
    );
    for (name, shift) in [("add_off1M", 1usize << 18), ("add_off4k", 1088)] {
        b.row(
            dev,
            name,
            &size,
            Dtype::Float32,
            Work::Bytes(3.0 * bytes),
            bytes,
            || {
                let x = rotation(dev, &[n as i32], Dtype::Float32, 1);
                let wide = rotation(dev, &[(n + shift) as i32], Dtype::Float32, 10);
                let end = (n + shift) as i32;
                let y: Vec<Array> = wide
                    .iter()
                    .map(|w| mx::slice(w, &[shift as i32], &[end], &[], dev).unwrap())
                    .collect();
                move |i| mx::add(&x[i % 3], &y[i % 3], dev).unwrap()
            },
        );
    }
    let r = sizes.rows.last().copied().unwrap_or(1024);
    let bytes = (r * r) as f64 * 4.0;
    b.row(
        dev,
        "copy_bcast",
        &square(r),
        Dtype::Float32,
        Work::Bytes(bytes),
        bytes,
        || {
            let v = rotation(dev, &[r as i32], Dtype::Float32, 10);
            move |i| {
                let full = mx::broadcast_to(&v[i % 3], &[r as i32, r as i32], dev).unwrap();
                mx::contiguous(&full, dev).unwrap()
            }
        },
    );
}

impl Bench {
    /// A batched row: `setup` makes the inputs and returns `build(i)`, the i-th result (lazy);
    /// `out_bytes` is one result's size (it bounds the batch).
    #[allow(clippy::too_many_arguments)]
    fn row<F: Fn(usize) -> Array>(
        &self,
        dev: Device,
        op: &str,
        size: &str,
        dtype: Dtype,
        work: Work,
        out_bytes: f64,
        setup: impl FnOnce() -> F,
    ) {
        // The CPU's eval round trip is a few µs: one result per eval, like numpy's one call
        // (the output buffer comes back from the host cache). A GPU batches up to 4 GiB.
        let max_batch = match dev.kind {
            DeviceType::Cpu => 1,
            DeviceType::Gpu => {
                ((self.gpu_batch_bytes / out_bytes.max(1.0)) as usize).clamp(1, MAX_BATCH)
            }
        };
        self.run(dev, op, size, dtype, work, max_batch, 1, setup);
    }

    /// An unbatched row (one result per eval) whose time is divided by `per`.
    #[allow(clippy::too_many_arguments)]
    fn measure<F: Fn(usize) -> Array>(
        &self,
        dev: Device,
        op: &str,
        size: &str,
        dtype: Dtype,
        work: Work,
        per: usize,
        setup: impl FnOnce() -> F,
    ) {
        self.run(dev, op, size, dtype, work, 1, per, setup);
    }

    #[allow(clippy::too_many_arguments)]
    fn run<F: Fn(usize) -> Array>(
        &self,
        dev: Device,
        op: &str,
        size: &str,
        dtype: Dtype,
        work: Work,
        max_batch: usize,
        per: usize,
        setup: impl FnOnce() -> F,
    ) {
        let name = format!("{}/{op}/{size}/{}", kind(dev), dtype_name(dtype));
        if !self.only.is_empty() && !self.only.iter().any(|o| name.contains(o.as_str())) {
            return;
        }
        if self.list {
            println!("{name}");
            return;
        }
        let build = setup();
        let secs = seconds_per_result(&build, max_batch, self.row_secs) / per as f64;
        drop(build);
        if !self.keep_cache {
            mx::clear_cache();
        }
        let rate = match work {
            Work::Bytes(b) => format!("{:9.1} GB/s   ", b / secs / 1e9),
            Work::Flops(f) => format!("{:9.1} GFLOP/s", f / secs / 1e9),
            Work::None => String::new(),
        };
        let of_ref = self
            .refs
            .get(&name)
            .map(|r| format!("{:5.0}%", 100.0 * r / secs))
            .unwrap_or_default();
        let of_copy = match (work, self.copy_bandwidth(kind(dev))) {
            (Work::Bytes(b), Some(copy)) => format!("{:5.0}%", 100.0 * b / secs / copy),
            _ => String::new(),
        };
        println!(
            "| {op:10} | {size:12} | {:5} | {:6} | {:>10.1} µs | {rate:>17} | {of_ref:>6} | {of_copy:>6} |",
            dtype_name(dtype),
            kind(dev),
            secs * 1e6,
        );
    }

    /// Bytes per second (read + write) of the reference's `copy` row of the largest length for
    /// `kind` (small copies may run from cache, faster than memory).
    fn copy_bandwidth(&self, kind: &str) -> Option<f64> {
        let prefix = format!("{kind}/copy/2^");
        self.refs
            .iter()
            .filter_map(|(name, secs)| {
                let log2: u32 = name
                    .strip_prefix(&prefix)?
                    .split('/')
                    .next()?
                    .parse()
                    .ok()?;
                Some((log2, 8.0 * (1u64 << log2) as f64 / secs))
            })
            .max_by_key(|&(log2, _)| log2)
            .map(|(_, bandwidth)| bandwidth)
    }
}

/// Seconds per result: after a warm-up eval, k results (`build(j)` for consecutive j, so inputs
/// rotate) are evaluated in ONE eval, k grown (up to `max_batch`) until such an eval lasts about
/// `BATCH_SECS`; then the median, over evals filling about `row_secs`, of the eval's time / k.
fn seconds_per_result(build: &dyn Fn(usize) -> Array, max_batch: usize, row_secs: f64) -> f64 {
    let batch = |k: usize, first: usize| {
        let outs: Vec<Array> = (first..first + k).map(build).collect();
        let start = Instant::now();
        mx::eval(&outs).unwrap();
        start.elapsed().as_secs_f64()
    };
    batch(1, 0);
    let (mut k, mut t) = (1, batch(1, 1));
    for _ in 0..6 {
        if t >= BATCH_SECS || k >= max_batch {
            break;
        }
        k = ((k as f64 * 1.2 * BATCH_SECS / t).ceil() as usize).clamp(k + 1, max_batch);
        t = batch(k, 0);
    }
    let reps = ((row_secs / t) as usize).clamp(3, 100);
    let mut times: Vec<f64> = (0..reps).map(|r| batch(k, r * k) / k as f64).collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}
