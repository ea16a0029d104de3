//! Streams and evaluation: the foundation's public contract verbatim, cross-device and
//! cross-stream dependencies (results equal to a single-stream run; transferred once is in
//! transfers.rs), synchronize's error reporting, async_eval, scoped defaults, and long chains that span
//! many GPU command batches.

mod common;
use wmx::{self as mx, Array, Device, DeviceType, Dtype, Stream};

/// The listing from the foundation issue, unchanged.
#[test]
fn public_contract() -> Result<(), mx::Error> {
    if common::gpu().is_none() {
        return Ok(());
    }
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

    // The values equal numpy's: c = a + 1, f = exp(c * c) @ c, g = f.sum(0).
    let want = [2.880_373_7e11f32, 3.600_511_8e11];
    for (x, w) in v.iter().zip(want) {
        assert!((x - w).abs() <= 1e-5 * w, "{v:?}");
    }
    Ok(())
}

fn graph(
    s1: impl Into<mx::StreamOrDevice> + Copy,
    s2: impl Into<mx::StreamOrDevice> + Copy,
) -> Array {
    let a = mx::arange(0.0, 64.0, 1.0, Dtype::Float32, s1).unwrap();
    let a = mx::reshape(&a, &[8, 8], s1).unwrap();
    let b = mx::sin(&a, s2).unwrap();
    let c = mx::matmul(&b, &mx::transpose(&a, &[], s1).unwrap(), s2).unwrap();
    let d = mx::add(&c, mx::max(&b, &[0], true, s1).unwrap(), s1).unwrap();
    mx::softmax(&d, &[-1], s2).unwrap()
}

#[test]
fn cross_stream_results_equal_single_stream_results() {
    let Some(gpu) = common::gpu() else { return };
    let cpu = Device::cpu();
    let single_cpu = graph(cpu, cpu).to_vec::<f32>().unwrap();
    let single_gpu = graph(gpu, gpu).to_vec::<f32>().unwrap();
    // Same device, two streams: bit-identical to one stream.
    let (g1, g2) = (mx::new_stream(gpu), mx::new_stream(gpu));
    assert_eq!(graph(g1, g2).to_vec::<f32>().unwrap(), single_gpu);
    let (c1, c2) = (mx::new_stream(cpu), mx::new_stream(cpu));
    assert_eq!(graph(c1, c2).to_vec::<f32>().unwrap(), single_cpu);
    // Across devices, each op gives its device's bits: ops on the same device as in the
    // single-device run must agree within float tolerance (sin/exp differ slightly by device).
    for mixed in [graph(cpu, gpu), graph(gpu, cpu)] {
        let got = mixed.to_vec::<f32>().unwrap();
        for (x, y) in got.iter().zip(&single_cpu) {
            assert!((x - y).abs() <= 1e-5 + 1e-4 * y.abs(), "{x} vs {y}");
        }
    }
}

#[test]
fn synchronize_reports_the_first_error_of_its_stream() {
    let Some(gpu) = common::gpu() else { return };
    let s = mx::new_stream(gpu);
    // Larger than any GPU binding: fails when it runs, not when it is built.
    let big = mx::zeros(&[1 << 16, 1 << 15], Dtype::Float32, s).unwrap();
    let r = mx::eval([&big]);
    assert!(matches!(r, Err(mx::Error::TooLarge { .. })), "{r:?}");
    let err = mx::synchronize(s).unwrap_err();
    assert!(err.to_string().starts_with("[full]"), "{err}");
    mx::synchronize(s).unwrap();
    // Consumers of a failed array fail with the same error, on any device (a private stream, so
    // tests running in parallel on the default streams never see this error).
    let c = mx::new_stream(Device::cpu());
    let dependent = mx::sum(&big, &[], false, c).unwrap();
    assert_eq!(mx::eval([&dependent]).unwrap_err(), err);
    assert_eq!(mx::synchronize(c).unwrap_err(), err);
    // Other streams are unaffected.
    let ok = mx::ones(&[4], Dtype::Float32, gpu).unwrap();
    assert_eq!(ok.to_vec::<f32>().unwrap(), vec![1.0; 4]);
    mx::synchronize(gpu).unwrap();
}

#[test]
fn async_eval_is_awaitable_and_starts_work() {
    let mut devices = vec![Device::cpu()];
    devices.extend(common::gpu());
    for d in devices {
        let a = mx::arange(0.0, 1000.0, 1.0, Dtype::Float32, d).unwrap();
        let b = mx::sum(&mx::square(&a, d).unwrap(), &[], false, d).unwrap();
        let pending = mx::async_eval([&b]);
        futures::executor::block_on(pending).unwrap();
        assert!(b.is_evaluated());
        assert!((b.item::<f32>().unwrap() - 332_833_500.0).abs() < 100.0);
        let v = futures::executor::block_on(a.to_vec_async::<i32>()).unwrap();
        assert_eq!(v[999], 999);
        mx::synchronize(d).unwrap();
    }
}

#[test]
fn long_chains_span_many_command_batches() {
    let mut devices = vec![Device::cpu()];
    devices.extend(common::gpu());
    for d in devices {
        let mut x = mx::zeros(&[256], Dtype::Int32, d).unwrap();
        let one = mx::ones(&[256], Dtype::Int32, d).unwrap();
        for _ in 0..1000 {
            x = mx::add(&x, &one, d).unwrap();
        }
        assert_eq!(x.to_vec::<i32>().unwrap(), vec![1000; 256]);
    }
}

#[test]
fn stream_guards_nest_and_restore() {
    let before = mx::default_device();
    let s = mx::new_stream(Device::cpu());
    {
        let _a = mx::stream(s);
        assert_eq!(mx::default_device(), Device::cpu());
        let z = mx::zeros(&[1], Dtype::Float32, None).unwrap();
        assert_eq!(z.stream(), s);
        if let Some(g) = common::gpu() {
            let _b = mx::stream(g);
            assert_eq!(mx::default_device(), g);
            assert_eq!(
                mx::zeros(&[1], Dtype::Float32, None).unwrap().stream(),
                mx::default_stream(g)
            );
        }
        assert_eq!(mx::zeros(&[1], Dtype::Float32, None).unwrap().stream(), s);
    }
    assert_eq!(mx::default_device(), before);
}

#[test]
fn device_info_describes_the_adapter() {
    let Some(gpu) = common::gpu() else { return };
    let info = mx::device_info(gpu).unwrap();
    assert!(!info.name.is_empty());
    assert!(
        ["Vulkan", "Metal", "Dx12", "Gl"].contains(&info.backend.as_str()),
        "{info:?}"
    );
    assert!(info.max_buffer_binding_size >= 1 << 20);
    assert!(info.max_workgroups_per_dimension >= 65_535);
    assert_eq!(mx::device_info(Device::cpu()).unwrap().backend, "Cpu");
}
