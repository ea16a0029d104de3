//! Helpers shared by the per-family divan benches (`benches/*.rs`, helpers at the end) and the table of
//! `examples/bench.rs` (which includes this file with `#[path]`): the devices to measure, random
//! inputs (never zeros), rotated so consecutive results read different buffers.
#![allow(dead_code)]

use wmx::{self as mx, Array, Device, DeviceType, Dtype};

/// How many distinct input arrays a measurement cycles through.
pub const ROTATION: usize = 3;

/// The CPU, then GPU 0 when wgpu finds an adapter.
pub fn devices() -> Vec<Device> {
    let mut devices = vec![Device::cpu()];
    if has_gpu() {
        devices.push(Device::gpu(0));
    }
    devices
}

/// Whether wgpu found a GPU adapter (lavapipe counts).
pub fn has_gpu() -> bool {
    mx::device_count(DeviceType::Gpu) > 0
}

/// `cpu` or `gpu`: the device part of a row's name.
pub fn kind(dev: Device) -> &'static str {
    match dev.kind {
        DeviceType::Cpu => "cpu",
        DeviceType::Gpu => "gpu",
    }
}

/// Short dtype name used in row names (`f32`, `f16`...).
pub fn dtype_name(dtype: Dtype) -> &'static str {
    match dtype {
        Dtype::Bool => "bool",
        Dtype::Uint8 => "u8",
        Dtype::Uint32 => "u32",
        Dtype::Int32 => "i32",
        Dtype::Float16 => "f16",
        Dtype::Bfloat16 => "bf16",
        Dtype::Float32 => "f32",
    }
}

/// An evaluated array of `shape` on `dev`, uniform in [-1, 1), cast to `dtype`: made on a GPU by
/// wmx's own uniform, on the CPU by a host xorshift (wmx's Threefry is slow there).
pub fn random(dev: Device, shape: &[i32], dtype: Dtype, seed: u64) -> Array {
    let a = match dev.kind {
        DeviceType::Cpu => {
            let n = shape.iter().map(|&d| d as usize).product();
            Array::from_slice(&xorshift(n, seed), shape)
        }
        DeviceType::Gpu => {
            let key = mx::random::key(seed);
            mx::random::uniform(-1.0f32, 1.0f32, shape, Dtype::Float32, Some(&key), dev).unwrap()
        }
    };
    let a = if dtype == Dtype::Float32 {
        a
    } else {
        mx::astype(&a, dtype, dev).unwrap()
    };
    mx::eval([&a]).unwrap();
    a
}

/// `n` floats uniform in [-1, 1) from a xorshift64 stream seeded by `seed`.
fn xorshift(n: usize, seed: u64) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

/// `ROTATION` distinct random arrays of one shape (seeds `seed`, `seed + 1`...).
pub fn rotation(dev: Device, shape: &[i32], dtype: Dtype, seed: u64) -> Vec<Array> {
    (0..ROTATION as u64)
        .map(|i| random(dev, shape, dtype, seed + i))
        .collect()
}

/// `2^k` for a power of two, else the number: the size part of row names.
pub fn pow2_label(n: usize) -> String {
    if n.is_power_of_two() {
        format!("2^{}", n.trailing_zeros())
    } else {
        n.to_string()
    }
}

/// A divan argument: a device and a size (a length, or a square matrix's side).
#[derive(Clone, Copy, Debug)]
pub struct Case {
    /// Where the op runs.
    pub dev: Device,
    /// Length or side.
    pub n: usize,
}

impl std::fmt::Display for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", kind(self.dev), self.n)
    }
}

/// Every size on every device of `devices()` (GPU cases only when an adapter exists).
pub fn cases(sizes: &[usize]) -> Vec<Case> {
    devices()
        .into_iter()
        .flat_map(|dev| sizes.iter().map(move |&n| Case { dev, n }))
        .collect()
}

/// Runs the divan benches of the calling bench target: few samples and at most 1 s per case by
/// default (command-line options such as `--sample-count` or `--max-time` override them).
pub fn divan_main() {
    divan::Divan::default()
        .sample_count(20)
        .max_time(std::time::Duration::from_secs(1))
        .config_with_args()
        .main();
}

/// Times `eval` of `build(i)` (a lazy result; `i` counts up so inputs rotate), the graph built
/// outside the timing and the result dropped after it. Each eval is a full round trip.
pub fn bench_eval(
    bencher: divan::Bencher,
    counter: impl divan::counter::Counter,
    build: impl Fn(usize) -> Array,
) {
    let next = std::cell::Cell::new(0usize);
    bencher
        .counter(counter)
        .with_inputs(|| {
            let i = next.get();
            next.set(i + 1);
            build(i)
        })
        .bench_local_values(|out| {
            mx::eval([&out]).unwrap();
            out
        });
}
