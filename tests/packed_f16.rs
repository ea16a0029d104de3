//! The packed-f16 GPU path (two halves per u32, converted with integer ops), forced with
//! `WMX_NO_NATIVE_F16=1` so adapters without `SHADER_F16` are covered on any machine: f16 results
//! must match the CPU's f16 results. Its own test binary, so the setting applies to the one GPU
//! context this process creates.

mod common;
use common::{assert_close, values};
use half::f16;
use wmx::{self as mx, Array, Device, Dtype};

fn gpu_packed() -> Option<Device> {
    // SAFETY: set before any thread of this process reads the environment through wmx; every
    // test in this binary sets the same value.
    unsafe { std::env::set_var("WMX_NO_NATIVE_F16", "1") };
    let g = common::gpu()?;
    assert!(
        !mx::device_info(g).unwrap().native_f16,
        "WMX_NO_NATIVE_F16 must force packed f16"
    );
    Some(g)
}

fn halves() -> Array {
    // Normals, subnormals, the largest half, values that round, infinities and NaN.
    let v: Vec<f16> = [
        1.0,
        -2.5,
        0.1,
        65504.0,
        6.0e-8,
        -3.0e-5,
        1.0e-3,
        std::f32::consts::PI,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        -0.0,
        0.33325,
        1000.5,
        -7.0,
    ]
    .iter()
    .map(|&x| f16::from_f32(x))
    .collect();
    Array::from_slice(&v, &[15])
}

#[test]
fn casts_round_trip_bit_exactly() {
    let Some(gpu) = gpu_packed() else { return };
    let h = halves();
    let to_f32 = mx::astype(&h, Dtype::Float32, gpu).unwrap();
    let cpu = mx::astype(&h, Dtype::Float32, Device::cpu()).unwrap();
    let (g, c) = (
        to_f32.to_vec::<f32>().unwrap(),
        cpu.to_vec::<f32>().unwrap(),
    );
    for (x, y) in g.iter().zip(&c) {
        assert!(
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
            "{x} vs {y}"
        );
    }
    // f32 -> f16 on the GPU rounds to nearest even like the CPU (half crate), incl. subnormals.
    let f: Vec<f32> = (0..2000)
        .map(|i| (i as f32 - 1000.0) * 0.0137 + (i as f32) * 1e-7)
        .chain([65519.0, 65520.0, 1e-8, 2.98e-8, 5.97e-8, -1e9])
        .collect();
    let a = Array::from_slice(&f, &[f.len() as i32]);
    let g = mx::astype(&a, Dtype::Float16, gpu)
        .unwrap()
        .to_vec::<f16>()
        .unwrap();
    let c: Vec<f16> = f.iter().map(|&x| f16::from_f32(x)).collect();
    assert_eq!(
        g.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        c.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
    );
}

#[test]
fn arithmetic_reductions_and_matmul_match_the_cpu() {
    let Some(gpu) = gpu_packed() else { return };
    let h = mx::slice(&halves(), &[0], &[8], &[], gpu).unwrap();
    let run = |d: Device| -> Vec<Vec<f64>> {
        let x = mx::reshape(&h, &[2, 4], d).unwrap();
        let t = mx::transpose(&x, &[], d).unwrap();
        vec![
            values(&mx::add(&x, &x, d).unwrap()),
            values(
                &mx::exp(
                    &mx::multiply(&x, Array::scalar(f16::from_f32(0.001)), d).unwrap(),
                    d,
                )
                .unwrap(),
            ),
            values(&mx::sum(&t, &[0], false, d).unwrap()),
            values(&mx::max(&x, &[], false, d).unwrap()),
            values(&mx::matmul(&x, &t, d).unwrap()),
            values(&mx::concatenate(&[&x, &x], 1, d).unwrap()),
            values(&mx::full(&[3], 0.1, Dtype::Float16, d).unwrap()),
            values(&mx::arange(0.0, 5.0, 0.5, Dtype::Float16, d).unwrap()),
        ]
    };
    let (g, c) = (run(gpu), run(Device::cpu()));
    let names = [
        "add",
        "exp",
        "sum",
        "max",
        "matmul",
        "concatenate",
        "full",
        "arange",
    ];
    for ((name, gv), cv) in names.iter().zip(&g).zip(&c) {
        assert_close(name, Dtype::Float16, gv, cv);
    }
    assert_eq!(
        mx::sum(&h, &[], false, gpu).unwrap().dtype(),
        Dtype::Float16
    );
}

#[test]
fn wgsl_kernels_refuse_f16_without_native_f16() {
    let Some(g) = gpu_packed() else { return };
    let k = mx::fast::wgsl_kernel(
        "halve",
        &["x"],
        &["y"],
        "let i = thread_position_in_grid.x; y[i] = x[i] * 0.5;",
    )
    .unwrap();
    let call = |d: Dtype| mx::fast::KernelCall::new([3, 1, 1], [4, 1, 1]).output(&[3], d);
    let x = Array::from_slice(&[2.0f32, 4.0, -1.0], &[3]);
    let xh = mx::astype(&x, Dtype::Float16, Device::cpu()).unwrap();
    let e = k
        .call(&[&xh], &call(Dtype::Float16), g)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("halve: float16 needs a GPU with native f16"),
        "{e}"
    );
    // An f16 alias alone needs it too; f32 kernels run.
    let aliased = call(Dtype::Float32).template("T", Dtype::Float16);
    assert!(k.call(&[&x], &aliased, g).is_err());
    let y = k.call(&[&x], &call(Dtype::Float32), g).unwrap();
    assert_eq!(y[0].to_vec::<f32>().unwrap(), vec![1.0, 2.0, -0.5]);
}
