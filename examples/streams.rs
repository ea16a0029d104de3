//! The public contract of wmx's devices and streams (from the foundation issue), runnable:
//! `cargo run --example streams`. It prints which adapter each stream ran on.

use wmx::{self as mx, Array, Device, DeviceType, Dtype, Stream};

fn main() -> Result<(), mx::Error> {
    // Devices: GPU n = the n-th wgpu adapter (Metal, Vulkan, DX12, lavapipe...); the CPU = the rayon backend.
    let cpu = Device::cpu();
    let gpu = Device::gpu(0);
    assert!(mx::device_count(DeviceType::Gpu) >= 1);
    mx::set_default_device(gpu);
    assert_eq!(mx::default_device(), gpu);

    // Streams: every op takes a trailing stream-or-device; None = default stream of the default device.
    let s_gpu: Stream = mx::default_stream(gpu);
    let s_cpu: Stream = mx::new_stream(cpu);
    assert_eq!(s_cpu.device(), cpu);

    let a = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2]);
    let b = mx::ones(&[2, 2], Dtype::Float32, None)?;
    let c = mx::add(&a, &b, None)?; // default stream of the default device
    let d = mx::multiply(&c, &c, s_cpu)?; // an explicit stream
    let e = mx::exp(&d, cpu)?; // a device: that device's default stream
    let f = mx::matmul(&e, &c, s_gpu)?; // consumes CPU results on a GPU stream
    let g = mx::sum(&f, &[0], false, None)?; // axes, keepdims
    mx::eval([&g])?; // nothing above ran before this line
    assert_eq!(g.shape(), &[2]);
    assert_eq!(g.dtype(), Dtype::Float32);
    let v: Vec<f32> = g.to_vec()?;
    assert_eq!(v.len(), 2);
    mx::synchronize(s_cpu)?;

    {
        // scoped default, like Python's `with mx.stream(cpu):`
        let _guard = mx::stream(cpu);
        assert_eq!(mx::default_device(), cpu);
    }
    assert_eq!(mx::default_device(), gpu);

    for (name, s) in [
        ("c (default)", c.stream()),
        ("d (s_cpu)", d.stream()),
        ("e (cpu)", e.stream()),
        ("f (s_gpu)", f.stream()),
        ("g (default)", g.stream()),
    ] {
        let info = mx::device_info(s.device())?;
        println!("{name:12} ran on {s}: {} [{}]", info.name, info.backend);
    }
    println!("g = {g}");
    Ok(())
}
