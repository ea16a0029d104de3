//! Loading a 1 GiB `.safetensors` file to a device, against the bandwidth of reading the file
//! and uploading the same bytes plainly (`Array::from_bytes`). Writes the file (16 f32 tensors
//! of 64 MiB) in a temporary directory and deletes it afterwards.
//!
//! `cargo run --release --example bench_load -- --device gpu [--gib 1] [--reps 3]`
//! The page cache is warm after the first pass (both sides read the same file), so this measures
//! the memory path: map + upload vs read + upload.

use std::collections::HashMap;
use std::time::Instant;
use wmx::{self as mx, Array, Device, Dtype};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// Waits until every upload reached the device: a tiny kernel reading the last array runs after
/// every queued upload, and its result is read back.
fn settle(last: &Array, dev: Device) -> mx::Result<()> {
    let one = mx::slice(&mx::reshape(last, &[-1], dev)?, &[0], &[1], &[1], dev)?;
    mx::sum(&mx::astype(&one, Dtype::Float32, dev)?, &[], false, dev)?.item::<f32>()?;
    Ok(())
}

fn main() -> mx::Result<()> {
    let dev = match arg("--device").as_deref() {
        Some("gpu") => Device::gpu(0),
        _ => Device::cpu(),
    };
    let gib: f64 = arg("--gib").and_then(|v| v.parse().ok()).unwrap_or(1.0);
    let reps: usize = arg("--reps").and_then(|v| v.parse().ok()).unwrap_or(3);
    let tensors = 16usize;
    let per = ((gib * (1u64 << 30) as f64) as usize / tensors / 4).max(1);
    let dir = std::env::temp_dir().join(format!("wmx_bench_load_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("weights.safetensors");
    let cpu = Device::cpu();
    let mut arrays = HashMap::new();
    for t in 0..tensors {
        let a = mx::add(
            mx::arange(0.0, per as f64, 1.0, Dtype::Float32, cpu)?,
            Array::scalar(t as f32),
            cpu,
        )?;
        arrays.insert(format!("layer{t}.weight"), a);
    }
    mx::save_safetensors(&path, &arrays, None)?;
    drop(arrays);
    let bytes = std::fs::metadata(&path).unwrap().len() as f64;
    println!(
        "file: {:.2} GiB, {tensors} f32 tensors; device {dev}",
        bytes / (1u64 << 30) as f64
    );
    let (mut t_load, mut t_base) = (f64::MAX, f64::MAX);
    for _ in 0..reps {
        // load_safetensors: map + upload from the mapped bytes.
        let t0 = Instant::now();
        let (m, _) = mx::load_safetensors(&path, dev)?;
        settle(m.values().next().unwrap(), dev)?;
        t_load = t_load.min(t0.elapsed().as_secs_f64());
        drop(m);
        mx::clear_cache();
        // Baseline: read the file into memory, then upload each tensor's bytes plainly.
        let t0 = Instant::now();
        let raw = std::fs::read(&path).unwrap();
        let n = u64::from_le_bytes(raw[..8].try_into().unwrap()) as usize;
        let data = &raw[8 + n..];
        let chunk = per * 4;
        let mut last = None;
        for t in 0..tensors {
            let a = Array::from_bytes(
                &data[t * chunk..(t + 1) * chunk],
                Dtype::Float32,
                &[per as i32],
                dev,
            )?;
            last = Some(a);
        }
        settle(last.as_ref().unwrap(), dev)?;
        t_base = t_base.min(t0.elapsed().as_secs_f64());
        drop(last);
        drop(raw);
        mx::clear_cache();
    }
    let gbs = |t: f64| bytes / t / 1e9;
    println!(
        "load_safetensors:      {:8.1} ms  {:6.2} GB/s",
        t_load * 1e3,
        gbs(t_load)
    );
    println!(
        "read + plain upload:   {:8.1} ms  {:6.2} GB/s",
        t_base * 1e3,
        gbs(t_base)
    );
    println!(
        "ratio load / (read + upload) bandwidth: {:.2} (target >= 0.50)",
        t_base / t_load
    );
    std::fs::remove_dir_all(&dir).unwrap();
    Ok(())
}
