//! Elementwise ops on CPU and GPU against f64 references: every unary and binary op of the
//! foundation, in f32, f16, bf16 and i32 (and uint8/uint32/bool where the op takes them), on
//! contiguous, transposed (strided), sliced (stepped) and broadcast inputs.

mod common;
use common::{assert_close, make, round_to, values};
use wmx::{self as mx, Array, Device, Dtype};

type UnaryFn = fn(&Array, Device) -> wmx::Result<Array>;
/// A unary case: name, op, f64 reference, inputs.
type UnaryCase = (&'static str, UnaryFn, fn(f64) -> f64, &'static [f64]);
/// A numeric unary case: name, op, f64 reference.
type NumCase = (&'static str, UnaryFn, fn(f64) -> f64);

/// Builds the three layouts of the same logical 4x3 values: dense, transposed view, stepped slice.
fn layouts(vals: &[f64], dtype: Dtype, dev: Device) -> Vec<(String, Array, Vec<f64>)> {
    assert_eq!(vals.len(), 12);
    let dense = make(vals, &[4, 3], dtype);
    // A [3,4] array whose transpose is the same 4x3 matrix (strided view).
    let mut tv = vec![0.0; 12];
    for i in 0..4 {
        for j in 0..3 {
            tv[j * 4 + i] = vals[i * 3 + j];
        }
    }
    let transposed = mx::transpose(&make(&tv, &[3, 4], dtype), &[], dev).unwrap();
    // An [8,3] array whose even rows are the values (stepped slice view).
    let mut sv = vec![0.0; 24];
    for i in 0..4 {
        for j in 0..3 {
            sv[(2 * i) * 3 + j] = vals[i * 3 + j];
            sv[(2 * i + 1) * 3 + j] = -99.0;
        }
    }
    let sliced = mx::slice(&make(&sv, &[8, 3], dtype), &[0, 0], &[8, 3], &[2, 1], dev).unwrap();
    let want: Vec<f64> = vals.iter().map(|&v| round_to(v, dtype)).collect();
    vec![
        ("dense".into(), dense, want.clone()),
        ("transposed".into(), transposed, want.clone()),
        ("sliced".into(), sliced, want),
    ]
}

const FLOATS: [Dtype; 3] = [Dtype::Float32, Dtype::Float16, Dtype::Bfloat16];
const MIXED: [f64; 12] = [
    -2.5, -1.0, -0.5, 0.0, 0.25, 1.0, 1.5, 3.0, -3.75, 2.0, 0.75, -0.125,
];
const POSITIVE: [f64; 12] = [
    0.5, 1.0, 2.0, 3.0, 0.25, 1.5, 4.0, 9.0, 0.125, 7.0, 10.0, 100.0,
];
const INTS: [f64; 12] = [
    -7.0, -1.0, 0.0, 1.0, 2.0, 5.0, 9.0, 100.0, -42.0, 3.0, 11.0, -2.0,
];

fn check_unary(
    dev: Device,
    name: &str,
    f: UnaryFn,
    reference: fn(f64) -> f64,
    inputs: &[f64],
    dtypes: &[Dtype],
) {
    for &dt in dtypes {
        for (layout, a, x) in layouts(inputs, dt, dev) {
            let r = f(&a, dev).unwrap();
            let out_dt = r.dtype();
            let want: Vec<f64> = x.iter().map(|&v| round_to(reference(v), out_dt)).collect();
            assert_close(&format!("{name} {layout}"), out_dt, &values(&r), &want);
        }
    }
}

device_tests! {
    fn unary_float_ops(dev: Device) {
        let cases: [UnaryCase; 11] = [
            ("exp", |a, d| mx::exp(a, d), f64::exp, &MIXED),
            ("log", |a, d| mx::log(a, d), f64::ln, &POSITIVE),
            ("sqrt", |a, d| mx::sqrt(a, d), f64::sqrt, &POSITIVE),
            ("rsqrt", |a, d| mx::rsqrt(a, d), |x| 1.0 / x.sqrt(), &POSITIVE),
            ("reciprocal", |a, d| mx::reciprocal(a, d), |x| 1.0 / x, &POSITIVE),
            ("sin", |a, d| mx::sin(a, d), f64::sin, &MIXED),
            ("cos", |a, d| mx::cos(a, d), f64::cos, &MIXED),
            ("tanh", |a, d| mx::tanh(a, d), f64::tanh, &MIXED),
            ("sigmoid", |a, d| mx::sigmoid(a, d), |x| 1.0 / (1.0 + (-x).exp()), &MIXED),
            ("floor", |a, d| mx::floor(a, d), f64::floor, &MIXED),
            ("ceil", |a, d| mx::ceil(a, d), f64::ceil, &MIXED),
        ];
        for (name, f, r, inputs) in cases {
            check_unary(dev, name, f, r, inputs, &FLOATS);
        }
    }

    fn unary_numeric_ops(dev: Device) {
        let cases: [NumCase; 4] = [
            ("negative", |a, d| mx::negative(a, d), |x| -x),
            ("abs", |a, d| mx::abs(a, d), f64::abs),
            ("sign", |a, d| mx::sign(a, d), f64::signum_zero),
            ("square", |a, d| mx::square(a, d), |x| x * x),
        ];
        for (name, f, r) in cases {
            check_unary(dev, name, f, r, &MIXED, &FLOATS);
            check_unary(dev, name, f, r, &INTS, &[Dtype::Int32]);
        }
        // floor/ceil keep integers as they are.
        check_unary(dev, "floor", mx::floor, |x| x, &INTS, &[Dtype::Int32]);
        // Unsigned: negative wraps, abs is the identity.
        let u = Array::from_slice(&[0u32, 1, 7, 4000000000], &[4]);
        assert_eq!(mx::negative(&u, dev).unwrap().to_vec::<u32>().unwrap(), vec![0, u32::MAX, u32::MAX - 6, 294967296]);
        let b = Array::from_slice(&[200u8, 3, 0, 255], &[4]);
        assert_eq!(mx::square(&b, dev).unwrap().to_vec::<u8>().unwrap(), vec![64, 9, 0, 1]);
    }

    fn float_ops_promote_integers(dev: Device) {
        let a = Array::from_slice(&[1i32, 2], &[2]);
        let e = mx::exp(&a, dev).unwrap();
        assert_eq!(e.dtype(), Dtype::Float32);
        assert_close("exp", Dtype::Float32, &values(&e), &[1f64.exp(), 2f64.exp()]);
        let s = mx::sigmoid(&Array::from_slice(&[true, false], &[2]), dev).unwrap();
        assert_eq!(s.dtype(), Dtype::Float32);
    }

    fn special_float_values(dev: Device) {
        let a = Array::from_slice(&[0.0f32, -1.0, f32::INFINITY, f32::NAN], &[4]);
        let l = values(&mx::log(&a, dev).unwrap());
        assert_eq!(l[0], f64::NEG_INFINITY);
        assert!(l[1].is_nan() && l[3].is_nan());
        assert_eq!(l[2], f64::INFINITY);
        let t = values(&mx::tanh(&Array::from_slice(&[100.0f32, -100.0], &[2]), dev).unwrap());
        assert_eq!(t, vec![1.0, -1.0]);
        let s = values(&mx::sign(&Array::from_slice(&[f32::NAN, -0.0, 2.0], &[3]), dev).unwrap());
        assert_eq!(s, vec![0.0, 0.0, 1.0]);
    }

    fn logical_not_of_any_dtype(dev: Device) {
        let a = Array::from_slice(&[0.0f32, 2.0, -0.5], &[3]);
        assert_eq!(mx::logical_not(&a, dev).unwrap().to_vec::<bool>().unwrap(), vec![true, false, false]);
        let b = Array::from_slice(&[true, false, true, true, false], &[5]);
        assert_eq!(mx::logical_not(&b, dev).unwrap().to_vec::<bool>().unwrap(), vec![false, true, false, false, true]);
    }

    fn binary_arithmetic(dev: Device) {
        type BinFn = fn(&Array, &Array, Device) -> wmx::Result<Array>;
        type BinCase = (&'static str, BinFn, fn(f64, f64) -> f64);
        let cases: [BinCase; 6] = [
            ("add", |a, b, d| mx::add(a, b, d), |x, y| x + y),
            ("subtract", |a, b, d| mx::subtract(a, b, d), |x, y| x - y),
            ("multiply", |a, b, d| mx::multiply(a, b, d), |x, y| x * y),
            ("maximum", |a, b, d| mx::maximum(a, b, d), f64::max),
            ("minimum", |a, b, d| mx::minimum(a, b, d), f64::min),
            ("power", |a, b, d| mx::power(a, b, d), f64::powf),
        ];
        let rhs_f = [1.5, -2.0, 0.5, 3.0, -0.25, 2.0, 1.0, 0.5, 2.0, -1.0, 3.0, 0.5];
        let rhs_i = [3.0, 2.0, 5.0, -4.0, 1.0, 2.0, 0.0, 1.0, 3.0, 4.0, 2.0, 3.0];
        for (name, f, r) in cases {
            for &dt in FLOATS.iter().chain([Dtype::Int32].iter()) {
                let (lhs, rhs): (&[f64], &[f64]) = if dt == Dtype::Int32 { (&INTS, &rhs_i) } else if name == "power" { (&POSITIVE, &rhs_f) } else { (&MIXED, &rhs_f) };
                let ls = layouts(lhs, dt, dev);
                let rs = layouts(rhs, dt, dev);
                for ((ln, a, x), (rn, b, y)) in ls.iter().zip(rs.iter().rev()) {
                    let out = f(a, b, dev).unwrap();
                    let want: Vec<f64> = x.iter().zip(y).map(|(&p, &q)| {
                        let v = r(p, q);
                        // Integer power with a negative exponent is 0 (MLX).
                        if dt == Dtype::Int32 && name == "power" && q < 0.0 { 0.0 } else { round_to(v, dt) }
                    }).collect();
                    assert_close(&format!("{name} {ln}x{rn}"), dt, &values(&out), &want);
                }
            }
        }
    }

    fn divide_promotes_integers_to_float(dev: Device) {
        let a = Array::from_slice(&[1i32, 7, -3], &[3]);
        let b = Array::from_slice(&[2i32, 2, 4], &[3]);
        let q = mx::divide(&a, &b, dev).unwrap();
        assert_eq!(q.dtype(), Dtype::Float32);
        assert_eq!(q.to_vec::<f32>().unwrap(), vec![0.5, 3.5, -0.75]);
        for dt in FLOATS {
            let x = make(&MIXED, &[4, 3], dt);
            let y = make(&POSITIVE, &[4, 3], dt);
            let want: Vec<f64> = MIXED.iter().zip(POSITIVE).map(|(&p, q)| round_to(round_to(p, dt) / round_to(q, dt), dt)).collect();
            assert_close("divide", dt, &values(&mx::divide(&x, &y, dev).unwrap()), &want);
        }
    }

    fn broadcasting_shapes(dev: Device) {
        for dt in [Dtype::Float32, Dtype::Float16, Dtype::Bfloat16, Dtype::Int32] {
            let col = make(&[1.0, 2.0, 3.0], &[3, 1], dt);
            let row = make(&[10.0, 20.0, 30.0, 40.0], &[1, 4], dt);
            let s = mx::add(&col, &row, dev).unwrap();
            assert_eq!(s.shape(), &[3, 4]);
            let want: Vec<f64> = (1..=3).flat_map(|i| (1..=4).map(move |j| round_to((i + 10 * j) as f64, dt))).collect();
            assert_close("add broadcast", dt, &values(&s), &want);
            // A 0-d scalar broadcast against a 3-D array.
            let cube = make(&(0..24).map(|v| v as f64).collect::<Vec<_>>(), &[2, 3, 4], dt);
            let m = mx::multiply(&cube, make(&[2.0], &[], dt), dev).unwrap();
            assert_close("multiply scalar", dt, &values(&m), &(0..24).map(|v| round_to(2.0 * v as f64, dt)).collect::<Vec<_>>());
        }
    }

    fn comparisons(dev: Device) {
        let a = Array::from_slice(&[1.0f32, 2.0, 3.0, f32::NAN], &[4]);
        let b = Array::from_slice(&[2.0f32], &[1]);
        let check = |r: wmx::Result<Array>, want: [bool; 4]| {
            let r = r.unwrap();
            assert_eq!(r.dtype(), Dtype::Bool);
            assert_eq!(r.to_vec::<bool>().unwrap(), want.to_vec());
        };
        check(mx::equal(&a, &b, dev), [false, true, false, false]);
        check(mx::not_equal(&a, &b, dev), [true, false, true, true]);
        check(mx::less(&a, &b, dev), [true, false, false, false]);
        check(mx::less_equal(&a, &b, dev), [true, true, false, false]);
        check(mx::greater(&a, &b, dev), [false, false, true, false]);
        check(mx::greater_equal(&a, &b, dev), [false, true, true, false]);
        // Mixed dtypes promote before comparing; strided bool outputs pack correctly.
        for dt in [Dtype::Int32, Dtype::Uint8, Dtype::Float16, Dtype::Bfloat16] {
            let x = mx::transpose(&make(&[1.0, 5.0, 2.0, 4.0, 3.0, 3.0], &[2, 3], dt), &[], dev).unwrap();
            let y = make(&[3.0], &[], Dtype::Float32);
            let r = mx::less(&x, &y, dev).unwrap();
            assert_eq!(r.to_vec::<bool>().unwrap(), vec![true, false, false, false, true, false], "{dt}");
        }
    }

    fn logical_and_or(dev: Device) {
        let a = Array::from_slice(&[true, true, false, false, true], &[5]);
        let b = Array::from_slice(&[1i32, 0, 1, 0, 7], &[5]);
        assert_eq!(mx::logical_and(&a, &b, dev).unwrap().to_vec::<bool>().unwrap(), vec![true, false, false, false, true]);
        assert_eq!(mx::logical_or(&a, &b, dev).unwrap().to_vec::<bool>().unwrap(), vec![true, true, true, false, true]);
    }

    fn where_and_clip(dev: Device) {
        for dt in [Dtype::Float32, Dtype::Float16, Dtype::Bfloat16, Dtype::Int32, Dtype::Uint8, Dtype::Bool] {
            let c = Array::from_slice(&[true, false, true, false, false, true], &[2, 3]);
            let x = make(&[1.0, 2.0, 3.0], &[1, 3], dt);
            let y = mx::transpose(&make(&[0.0, 1.0, 0.0, 1.0, 0.0, 1.0], &[3, 2], dt), &[], dev).unwrap();
            let r = mx::where_(&c, &x, &y, dev).unwrap();
            assert_eq!(r.dtype(), dt);
            let yv = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0];
            let want: Vec<f64> = (0..6).map(|i| if [true, false, true, false, false, true][i] { round_to([1.0, 2.0, 3.0][i % 3], dt) } else { round_to(yv[i], dt) }).collect();
            assert_close("where", dt, &values(&r), &want);
        }
        let a = Array::from_slice(&[1.0f32, 5.0, 9.0, -3.0], &[4]);
        let r = mx::clip(&a, Some(&Array::scalar(0.0f32)), Some(&Array::scalar(6.0f32)), dev).unwrap();
        assert_eq!(r.to_vec::<f32>().unwrap(), vec![1.0, 5.0, 6.0, 0.0]);
        let r = mx::clip(&a, None, Some(&Array::scalar(2.0f32)), dev).unwrap();
        assert_eq!(r.to_vec::<f32>().unwrap(), vec![1.0, 2.0, 2.0, -3.0]);
    }

    fn astype_round_trips(dev: Device) {
        let vals = [300.7, -1.5, 0.0, 2.5, 65504.0, -7.0];
        let a = Array::from_slice(&vals.iter().map(|&v| v as f32).collect::<Vec<_>>(), &[6]);
        for dt in wmx::Dtype::ALL {
            let r = mx::astype(&a, dt, dev).unwrap();
            assert_eq!(r.dtype(), dt);
            let want: Vec<f64> = vals.iter().map(|&v| round_to(v, dt)).collect();
            assert_close(&format!("astype to {dt}"), dt, &values(&r), &want);
            // And back to f32 through a strided view.
            let back = mx::astype(&mx::slice(&r, &[5], &[-7], &[-1], dev).unwrap(), Dtype::Float32, dev).unwrap();
            let mut rev = want.clone();
            rev.reverse();
            assert_close(&format!("astype from {dt}"), Dtype::Float32, &values(&back), &rev);
        }
        // MLX's wrapping rules: -1.5 -> uint8 255, -1.0 -> uint32 4294967295, uint32 -> int32 wraps.
        let u = mx::astype(&Array::from_slice(&[-1.0f32], &[1]), Dtype::Uint32, dev).unwrap();
        assert_eq!(u.to_vec::<u32>().unwrap(), vec![u32::MAX]);
        let w = mx::astype(&Array::from_slice(&[2147483653u32], &[1]), Dtype::Int32, dev).unwrap();
        assert_eq!(w.to_vec::<i32>().unwrap(), vec![-2147483643]);
    }

    fn operators_use_the_default_stream(dev: Device) {
        let _g = mx::stream(dev);
        let a = Array::from_slice(&[1.0f32, 2.0], &[2]);
        let b = Array::from_slice(&[3.0f32, 5.0], &[2]);
        let c = &(&(&a + &b) * &a) - &(&b / &a);
        assert_eq!(c.stream().device(), dev);
        assert_eq!(c.to_vec::<f32>().unwrap(), vec![1.0, 11.5]);
        assert_eq!((-&a).to_vec::<f32>().unwrap(), vec![-1.0, -2.0]);
    }
}

trait SignumZero {
    fn signum_zero(self) -> f64;
}
impl SignumZero for f64 {
    fn signum_zero(self) -> f64 {
        if self > 0.0 {
            1.0
        } else if self < 0.0 {
            -1.0
        } else {
            0.0
        }
    }
}

/// More than 65,535 workgroups of 256 invocations: the GPU kernels take a 2-D grid.
#[test]
fn large_arrays_use_a_two_dimensional_grid() {
    let Some(gpu) = common::gpu() else { return };
    let n = 65_535 * 256 + 4_097;
    let a = mx::arange(0.0, n as f64, 1.0, Dtype::Int32, gpu).unwrap();
    let b = mx::add(&a, &a, gpu).unwrap();
    let v = b.to_vec::<i32>().unwrap();
    assert_eq!(v.len(), n);
    // Every element: a grid that skipped or repeated a workgroup would show here.
    for (i, &x) in v.iter().enumerate() {
        assert_eq!(x, 2 * i as i32, "element {i}");
    }
    // A reduction with more than 65,535 outputs, one workgroup each.
    let m = mx::reshape(
        &mx::astype(
            &mx::slice(&a, &[0], &[70_000 * 40], &[], gpu).unwrap(),
            Dtype::Float32,
            gpu,
        )
        .unwrap(),
        &[70_000, 40],
        gpu,
    )
    .unwrap();
    let s = mx::sum(&m, &[1], false, gpu)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    for (r, &got) in s.iter().enumerate() {
        let want: f64 = (0..40).map(|j| (r * 40 + j) as f64).sum();
        assert!(
            (got as f64 - want).abs() <= 1e-6 * want.max(1.0),
            "row {r}: {got} vs {want}"
        );
    }
    // softmax: one workgroup per row, 70,001 rows.
    let rows = mx::reshape(
        &mx::astype(
            &mx::slice(&a, &[0], &[70_001 * 4], &[], gpu).unwrap(),
            Dtype::Float32,
            gpu,
        )
        .unwrap(),
        &[70_001, 4],
        gpu,
    )
    .unwrap();
    let centred = mx::subtract(&rows, mx::max(&rows, &[1], true, gpu).unwrap(), gpu).unwrap();
    let p = mx::softmax(&centred, &[1], gpu)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    // Each row is [x - 3, x - 2, x - 1, x] - x: the same softmax everywhere.
    let e: Vec<f64> = (0..4).map(|j| ((j as f64) - 3.0).exp()).collect();
    let total: f64 = e.iter().sum();
    for (i, &got) in p.iter().enumerate() {
        let want = e[i % 4] / total;
        assert!(
            (got as f64 - want).abs() <= 1e-6,
            "softmax element {i}: {got} vs {want}"
        );
    }
}

/// An array larger than the device's largest buffer is refused with a clear error, not a panic.
#[test]
fn arrays_beyond_the_binding_limit_are_refused() {
    let Some(gpu) = common::gpu() else { return };
    let limit = mx::device_info(gpu).unwrap().max_buffer_binding_size;
    let n = (limit / 4 + 1).min(i32::MAX as u64) as i32;
    let s = mx::new_stream(gpu);
    let a = mx::ones(&[n], Dtype::Float32, s).unwrap();
    let err = mx::eval([&a]).unwrap_err();
    assert!(matches!(err, mx::Error::TooLarge { .. }), "{err}");
    assert!(err.to_string().starts_with("[full]"), "{err}"); // the primitive behind ones
    assert_eq!(mx::synchronize(s).unwrap_err(), err);
}

device_tests! {
    fn quad_layout_matches_cpu_for_every_dtype(dev: Device) {
        // Dense inputs whose length and offsets are multiples of 4 take the GPU's quad (vec4)
        // kernels; a slice at offset 4 checks the offset path. Results must equal the CPU's.
        let raw: Vec<f64> = (0..20).map(|i| ((i * 7) % 11) as f64 - 3.0).collect();
        for dt in Dtype::ALL {
            let base = make(&raw, &[20], dt);
            let a = mx::slice(&base, &[4], &[16], &[], dev).unwrap();
            let b = mx::slice(&base, &[8], &[20], &[], dev).unwrap();
            let cond = mx::greater(&a, &b, dev).unwrap();
            let mut outs = vec![
                mx::maximum(&a, &b, dev).unwrap(),
                mx::equal(&a, &b, dev).unwrap(),
                mx::where_(&cond, &a, &b, dev).unwrap(),
                mx::abs(&a, dev).unwrap(),
            ];
            for to in Dtype::ALL {
                outs.push(mx::astype(&a, to, dev).unwrap());
            }
            for (k, out) in outs.iter().enumerate() {
                let cpu_in = mx::slice(&base, &[4], &[16], &[], Device::cpu()).unwrap();
                let cpu_b = mx::slice(&base, &[8], &[20], &[], Device::cpu()).unwrap();
                let want = match k {
                    0 => mx::maximum(&cpu_in, &cpu_b, Device::cpu()).unwrap(),
                    1 => mx::equal(&cpu_in, &cpu_b, Device::cpu()).unwrap(),
                    2 => {
                        let c = mx::greater(&cpu_in, &cpu_b, Device::cpu()).unwrap();
                        mx::where_(&c, &cpu_in, &cpu_b, Device::cpu()).unwrap()
                    }
                    3 => mx::abs(&cpu_in, Device::cpu()).unwrap(),
                    _ => mx::astype(&cpu_in, Dtype::ALL[k - 4], Device::cpu()).unwrap(),
                };
                assert_eq!(values(out), values(&want), "{dt} output {k} on {dev:?}");
            }
        }
    }
}

device_tests! {
    fn large_quad_dispatches_spread_quads_and_match_cpu(dev: Device) {
        // Past 2^20 quads the GPU gives each invocation several quads a grid apart; a row
        // count that leaves a partial last sweep, a row bias, a cast to packed halves, a select
        // and a compiled (fused) chain must all equal the CPU.
        let (rows, cols) = (1031, 4100);
        let v: Vec<f32> = (0..rows * cols).map(|i| ((i * 37) % 1009) as f32 * 0.25 - 120.0).collect();
        let a = Array::from_slice(&v, &[rows as i32, cols as i32]);
        let bias = Array::from_slice(&v[..cols], &[cols as i32]);
        let cpu = Device::cpu();
        let chain = |x: &[Array]| -> mx::Result<Vec<Array>> {
            let y = mx::maximum(&mx::multiply(&x[0], 0.5f32, None)?, -3.0f32, None)?;
            Ok(vec![mx::subtract(&mx::abs(&y, None)?, &x[1], None)?])
        };
        let fused = mx::compile(chain);
        let run = |on: Device| -> Vec<Vec<f64>> {
            let _g = mx::stream(on);
            vec![
                values(&mx::add(&a, &bias, on).unwrap()),
                values(&mx::negative(&a, on).unwrap()),
                values(&mx::astype(&a, Dtype::Float16, on).unwrap()),
                values(&mx::where_(mx::greater(&a, 0.0, on).unwrap(), &a, &bias, on).unwrap()),
                values(&fused(&[a.clone(), bias.clone()]).unwrap()[0]),
            ]
        };
        let (got, want) = (run(dev), run(cpu));
        for (k, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g.len(), rows * cols, "output {k}");
            if let Some(i) = (0..g.len()).find(|&i| g[i] != w[i]) {
                panic!("output {k} on {dev:?}: element {i} is {} (CPU {})", g[i], w[i]);
            }
        }
    }

    fn strided_inputs_with_dense_and_repeated_blocks_match_cpu(dev: Device) {
        // The strided kernel indexes dense inputs and repeated row-major blocks (a bias row,
        // a trailing matrix) without division; every mix must equal the CPU.
        let vals = |n: usize, k: f64| (0..n).map(|i| i as f64 * k - 7.0).collect::<Vec<f64>>();
        let cases: Vec<(Vec<i32>, Vec<i32>)> = vec![
            (vec![3, 4], vec![4]),
            (vec![3, 4], vec![3, 1]),
            (vec![2, 3, 4], vec![3, 4]),
            (vec![2, 3, 4], vec![1, 3, 1]),
            (vec![2, 1, 4], vec![2, 5, 1]),
            (vec![5], vec![1]),
        ];
        for (sa, sb) in cases {
            let na: usize = sa.iter().product::<i32>() as usize;
            let nb: usize = sb.iter().product::<i32>() as usize;
            let a = make(&vals(na, 0.5), &sa, Dtype::Float32);
            let b = make(&vals(nb, 1.5), &sb, Dtype::Float32);
            let got = values(&mx::add(&a, &b, dev).unwrap());
            let want = values(&mx::add(&a, &b, Device::cpu()).unwrap());
            assert_eq!(got, want, "{sa:?} + {sb:?}");
            // A transposed operand next to a dense one (the dense one is flagged).
            if sa.len() == 2 {
                let t = mx::transpose(&make(&vals(na, 0.25), &[sa[1], sa[0]], Dtype::Float32), &[], dev).unwrap();
                let got = values(&mx::multiply(&t, &a, dev).unwrap());
                let want = values(&mx::multiply(&t, &a, Device::cpu()).unwrap());
                assert_eq!(got, want, "transpose * dense {sa:?}");
            }
        }
    }

    fn broadcasts_read_as_quads_match_the_cpu(dev: Device) {
        // Row biases, column biases, scalars, offset views and shapes that fall back to the
        // strided kernel: every pairing computed on `dev` equals the CPU's.
        let v = |n: usize, k: usize| -> Vec<f32> { (0..n).map(|i| ((i * k) % 19) as f32 - 9.0).collect() };
        let base = Array::from_slice(&v(6 * 40, 7), &[6, 40]);
        let wide = Array::from_slice(&v(64, 5), &[64]);
        let row = |lo: i32, len: i32| mx::slice(&wide, &[lo], &[lo + len], &[], dev).unwrap();
        let cases: Vec<(Array, Array)> = vec![
            (base.clone(), row(0, 40)),
            (base.clone(), row(4, 40)),
            (base.clone(), row(2, 40)),
            (base.clone(), mx::reshape(&row(0, 6), &[6, 1], dev).unwrap()),
            (base.clone(), Array::from_slice(&[2.5f32], &[])),
            (mx::reshape(&base, &[2, 3, 4, 10], dev).unwrap(), mx::reshape(&row(0, 30), &[3, 1, 10], dev).unwrap()),
            (mx::reshape(&base, &[2, 3, 40], dev).unwrap(), mx::reshape(&row(8, 3), &[3, 1], dev).unwrap()),
            (Array::from_slice(&v(6 * 6, 3), &[6, 6]), mx::reshape(&row(0, 6), &[6, 1], dev).unwrap()),
        ];
        for (i, (a, b)) in cases.iter().enumerate() {
            let cpu = Device::cpu();
            for dt in [Dtype::Float32, Dtype::Float16, Dtype::Int32, Dtype::Uint8] {
                let (a, b) = (mx::astype(a, dt, dev).unwrap(), mx::astype(b, dt, dev).unwrap());
                for (name, got, want) in [
                    ("add", mx::add(&a, &b, dev), mx::add(&a, &b, cpu)),
                    ("maximum", mx::maximum(&b, &a, dev), mx::maximum(&b, &a, cpu)),
                ] {
                    let (got, want) = (got.unwrap(), want.unwrap());
                    assert_eq!(values(&got), values(&want), "{name} case {i} {dt:?}");
                }
            }
            let cond = mx::greater(b, 0.0, dev).unwrap();
            let got = mx::where_(&cond, a, b, dev).unwrap();
            let want = mx::where_(&cond, a, b, cpu).unwrap();
            assert_eq!(values(&got), values(&want), "where case {i}");
            let got = mx::negative(&mx::broadcast_to(b, a.shape(), dev).unwrap(), dev).unwrap();
            let want = mx::negative(&mx::broadcast_to(b, a.shape(), cpu).unwrap(), cpu).unwrap();
            assert_eq!(values(&got), values(&want), "negative of broadcast case {i}");
        }
    }
}
