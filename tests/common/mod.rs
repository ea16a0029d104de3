//! Shared test helpers: the CPU/GPU instantiation macro, the GPU-availability rule
//! (`WMX_REQUIRE_GPU=1` turns a missing adapter into a failure), the tolerance table, and
//! reference rounding to each dtype.
#![allow(dead_code)]

use half::{bf16, f16};
use wmx::{Device, DeviceType, Dtype};

/// The GPU under test, or `None` (skip) when there is none and `WMX_REQUIRE_GPU` is not `1`.
pub fn gpu() -> Option<Device> {
    if wmx::device_count(DeviceType::Gpu) > 0 {
        return Some(Device::gpu(0));
    }
    if std::env::var("WMX_REQUIRE_GPU").as_deref() == Ok("1") {
        panic!(
            "WMX_REQUIRE_GPU=1 but wgpu found no GPU adapter (install mesa-vulkan-drivers for lavapipe)"
        );
    }
    eprintln!("no GPU adapter: GPU test skipped (set WMX_REQUIRE_GPU=1 to make this a failure)");
    None
}

/// Writes each test once, taking a `Device`, and instantiates it as `name::cpu` and `name::gpu`.
#[macro_export]
macro_rules! device_tests {
    ($($(#[$m:meta])* fn $name:ident($dev:ident: Device) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn run($dev: wmx::Device) $body
            #[test]
            fn cpu() { run(wmx::Device::cpu()) }
            #[test]
            fn gpu() { if let Some(d) = $crate::common::gpu() { run(d) } }
        }
    )*};
}

/// (atol, rtol) for comparing an op's result in `dtype` with an f64 reference.
pub fn tol(op: &str, dtype: Dtype) -> (f64, f64) {
    let transcendental = matches!(
        op,
        "exp"
            | "log"
            | "sin"
            | "cos"
            | "tanh"
            | "sigmoid"
            | "power"
            | "rsqrt"
            | "softmax"
            | "logsumexp"
            | "sqrt"
    );
    match dtype {
        Dtype::Float32 if transcendental => (1e-6, 2e-5),
        Dtype::Float32 if matches!(op, "sum" | "mean" | "matmul" | "prod") => (1e-4, 1e-4),
        Dtype::Float32 => (1e-6, 1e-6),
        Dtype::Float16 if matches!(op, "sum" | "mean" | "matmul" | "prod") => (1e-2, 5e-3),
        Dtype::Float16 => (1e-3, 2e-3),
        Dtype::Bfloat16 if matches!(op, "sum" | "mean" | "matmul" | "prod") => (5e-2, 2e-2),
        Dtype::Bfloat16 => (1e-2, 1.6e-2),
        Dtype::Bool | Dtype::Uint8 | Dtype::Uint32 | Dtype::Int32 => (0.0, 0.0),
    }
}

/// `x` rounded to what `dtype` can hold (integers truncate and wrap like `astype`).
pub fn round_to(x: f64, dtype: Dtype) -> f64 {
    match dtype {
        Dtype::Float32 => x as f32 as f64,
        Dtype::Float16 => f16::from_f64(x).to_f64(),
        Dtype::Bfloat16 => bf16::from_f64(x).to_f64(),
        Dtype::Int32 => x as i64 as i32 as f64,
        Dtype::Uint32 => x as i64 as u32 as f64,
        Dtype::Uint8 => x as i64 as u8 as f64,
        Dtype::Bool => (x != 0.0) as u8 as f64,
    }
}

/// Asserts elementwise closeness (NaN equals NaN, infinities must match exactly).
#[track_caller]
pub fn assert_close(what: &str, dtype: Dtype, got: &[f64], want: &[f64]) {
    assert_eq!(
        got.len(),
        want.len(),
        "{what}: length {} vs expected {}",
        got.len(),
        want.len()
    );
    let (atol, rtol) = tol(what.split_whitespace().next().unwrap_or(what), dtype);
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let ok = (g.is_nan() && w.is_nan())
            || (g.is_infinite() && g == w)
            || (w.is_finite() && (g - w).abs() <= atol + rtol * w.abs());
        assert!(
            ok,
            "{what} [{dtype}] element {i}: got {g}, expected {w} (atol {atol}, rtol {rtol})\n got: {got:?}\nwant: {want:?}"
        );
    }
}

/// The array's elements as f64 (through an exact conversion for its dtype).
pub fn values(a: &wmx::Array) -> Vec<f64> {
    match a.dtype() {
        Dtype::Int32 => a
            .to_vec::<i32>()
            .unwrap()
            .into_iter()
            .map(|x| x as f64)
            .collect(),
        Dtype::Uint32 => a
            .to_vec::<u32>()
            .unwrap()
            .into_iter()
            .map(|x| x as f64)
            .collect(),
        _ => a
            .to_vec::<f32>()
            .unwrap()
            .into_iter()
            .map(|x| x as f64)
            .collect(),
    }
}

/// An array of `dtype` holding `vals` (converted with astype's rules) in `shape`, built on the CPU.
pub fn make(vals: &[f64], shape: &[i32], dtype: Dtype) -> wmx::Array {
    let a = wmx::Array::from_slice(&vals.iter().map(|&v| v as f32).collect::<Vec<_>>(), shape);
    match dtype {
        Dtype::Int32 | Dtype::Uint32 => {
            let i = wmx::Array::from_slice(
                &vals.iter().map(|&v| v as i64 as i32).collect::<Vec<_>>(),
                shape,
            );
            wmx::astype(&i, dtype, Device::cpu()).unwrap()
        }
        _ => wmx::astype(&a, dtype, Device::cpu()).unwrap(),
    }
}

/// xorshift64*: a small deterministic generator for random test graphs (compile tests).
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn f32(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32 * 4.0 - 2.0
    }
}

/// Equal values (NaN equal to NaN), or within `tol` relative when `tol > 0`.
pub fn same(a: &[f64], b: &[f64], tol: f64) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(&x, &y)| {
            (x.is_nan() && y.is_nan())
                || x == y
                || (tol > 0.0 && (x - y).abs() <= tol * (1.0 + x.abs().max(y.abs())))
        })
}
