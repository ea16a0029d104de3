//! The elementwise ops of issue #4 on CPU and GPU against MLX (values in
//! tests/fixtures/elementwise_more.rs, printed by tests/fixtures/gen_elementwise_more.py): the new unary and binary math ops, round with
//! decimals, the NaN/inf predicates, nan_to_num, integer division rules, bitwise ops and shifts,
//! isclose/allclose/array_equal, weak Rust scalars (MLX's promotion of Python scalars), operators,
//! and the errors for bad dtypes.

mod common;
use common::{make, values};
use wmx::{self as mx, Array, Device, Dtype};

#[path = "fixtures/elementwise_more.rs"]
mod fx;
use fx::*;

/// Elementwise comparison: NaN matches NaN, infinities match exactly, else `atol + rtol * |want|`.
#[track_caller]
fn check(what: &str, got: &[f64], want: &[f64], atol: f64, rtol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let ok = (g.is_nan() && w.is_nan())
            || (g.is_infinite() && g == w)
            || (w.is_finite() && (g - w).abs() <= atol + rtol * w.abs());
        assert!(
            ok,
            "{what} element {i}: got {g}, expected {w}\n got: {got:?}\nwant: {want:?}"
        );
    }
}

/// (atol, rtol) per dtype for transcendental ops against MLX.
fn tol(d: Dtype) -> (f64, f64) {
    match d {
        Dtype::Float16 => (1e-3, 2e-3),
        Dtype::Bfloat16 => (1e-2, 1.6e-2),
        _ => (1e-7, 2e-5),
    }
}

type Unary = fn(&Array, Device) -> wmx::Result<Array>;
/// A half-precision case: name, op, inputs, f16 and bf16 expectations.
type HalfCase = (
    &'static str,
    Unary,
    &'static [f64],
    &'static [f64],
    &'static [f64],
);

fn run_unary(dev: Device, f: Unary, input: &[f64], dtype: Dtype) -> Vec<f64> {
    let a = make(input, &[input.len() as i32], dtype);
    let r = f(&a, dev).unwrap();
    assert_eq!(r.dtype(), dtype);
    values(&r)
}

fn sign_bits(a: &Array) -> Vec<bool> {
    a.to_vec::<f32>()
        .unwrap()
        .iter()
        .map(|x| x.is_sign_negative())
        .collect()
}

fn ints(a: &Array) -> Vec<i32> {
    mx::astype(a, Dtype::Int32, None)
        .unwrap()
        .to_vec::<i32>()
        .unwrap()
}

device_tests! {
    fn unary_math_matches_mlx(dev: Device) {
        let cases: &[(&str, Unary, &[f64], &[f64])] = &[
            ("expm1", |a, d| mx::expm1(a, d), X, EXPM1_X),
            ("expm1 P", |a, d| mx::expm1(a, d), P, EXPM1_P),
            ("tan", |a, d| mx::tan(a, d), X, TAN_X),
            ("arcsin", |a, d| mx::arcsin(a, d), X, ARCSIN_X),
            ("arccos", |a, d| mx::arccos(a, d), X, ARCCOS_X),
            ("arctan", |a, d| mx::arctan(a, d), X, ARCTAN_X),
            ("sinh", |a, d| mx::sinh(a, d), X, SINH_X),
            ("cosh", |a, d| mx::cosh(a, d), X, COSH_X),
            ("arcsinh", |a, d| mx::arcsinh(a, d), X, ARCSINH_X),
            ("arcsinh P", |a, d| mx::arcsinh(a, d), P, ARCSINH_P),
            ("arctanh", |a, d| mx::arctanh(a, d), X, ARCTANH_X),
            ("degrees", |a, d| mx::degrees(a, d), X, DEGREES_X),
            ("radians", |a, d| mx::radians(a, d), X, RADIANS_X),
            ("trunc", |a, d| mx::trunc(a, d), X, TRUNC_X),
            ("log2", |a, d| mx::log2(a, d), P, LOG2_P),
            ("log10", |a, d| mx::log10(a, d), P, LOG10_P),
            ("arccosh", |a, d| mx::arccosh(a, d), P, ARCCOSH_P),
        ];
        for &(name, f, input, want) in cases {
            let (atol, rtol) = tol(Dtype::Float32);
            // Subnormal inputs (1e-40) may be flushed to zero by a GPU.
            let skip_subnormal = |v: Vec<f64>| -> Vec<f64> {
                v.into_iter().zip(input).map(|(g, &x)| if x == 1e-40 { f64::NAN } else { g }).collect()
            };
            let got = skip_subnormal(run_unary(dev, f, input, Dtype::Float32));
            let want = skip_subnormal(want.to_vec());
            check(name, &got, &want, atol, rtol);
        }
        let halves: &[HalfCase] = &[
            ("expm1", |a, d| mx::expm1(a, d), X, EXPM1_X_F16, EXPM1_X_BF16),
            ("sinh", |a, d| mx::sinh(a, d), X, SINH_X_F16, SINH_X_BF16),
            ("arctanh", |a, d| mx::arctanh(a, d), X, ARCTANH_X_F16, ARCTANH_X_BF16),
            ("arcsinh", |a, d| mx::arcsinh(a, d), X, ARCSINH_X_F16, ARCSINH_X_BF16),
            ("log2", |a, d| mx::log2(a, d), X, LOG2_X_F16, LOG2_X_BF16),
            ("degrees", |a, d| mx::degrees(a, d), X, DEGREES_X_F16, DEGREES_X_BF16),
        ];
        for &(name, f, input, want16, wantb16) in halves {
            for (dt, want) in [(Dtype::Float16, want16), (Dtype::Bfloat16, wantb16)] {
                let (atol, rtol) = tol(dt);
                check(&format!("{name} {dt}"), &run_unary(dev, f, input, dt), want, atol, rtol);
            }
        }
    }

    fn unary_edges_and_signed_zeros(dev: Device) {
        let z = Array::from_slice(&[-0.0f32, 0.0], &[2]);
        let odd: &[(&str, Unary)] = &[
            ("expm1", |a, d| mx::expm1(a, d)),
            ("tan", |a, d| mx::tan(a, d)),
            ("arcsin", |a, d| mx::arcsin(a, d)),
            ("arctan", |a, d| mx::arctan(a, d)),
            ("sinh", |a, d| mx::sinh(a, d)),
            ("arcsinh", |a, d| mx::arcsinh(a, d)),
            ("arctanh", |a, d| mx::arctanh(a, d)),
            ("degrees", |a, d| mx::degrees(a, d)),
            ("radians", |a, d| mx::radians(a, d)),
            ("trunc", |a, d| mx::trunc(a, d)),
        ];
        for &(name, f) in odd {
            assert_eq!(sign_bits(&f(&z, dev).unwrap()), vec![true, false], "{name}(-0, 0)");
        }
        let special = Array::from_slice(&[f32::INFINITY, f32::NEG_INFINITY, f32::NAN], &[3]);
        let v = |f: Unary| values(&f(&special, dev).unwrap());
        check("expm1 inf", &v(mx::expm1), &[f64::INFINITY, -1.0, f64::NAN], 0.0, 0.0);
        check("sinh inf", &v(mx::sinh), &[f64::INFINITY, f64::NEG_INFINITY, f64::NAN], 0.0, 0.0);
        check("cosh inf", &v(mx::cosh), &[f64::INFINITY, f64::INFINITY, f64::NAN], 0.0, 0.0);
        check("arcsinh inf", &v(mx::arcsinh), &[f64::INFINITY, f64::NEG_INFINITY, f64::NAN], 0.0, 0.0);
        check("arccosh inf", &v(mx::arccosh), &[f64::INFINITY, f64::NAN, f64::NAN], 0.0, 0.0);
        check("log2 inf", &v(mx::log2), &[f64::INFINITY, f64::NAN, f64::NAN], 0.0, 0.0);
        check("arctan inf", &v(mx::arctan), &[1.5707963705062866, -1.5707963705062866, f64::NAN], 1e-7, 1e-6);
        let edges = Array::from_slice(&[1.0f32, -1.0, 0.0, -2.0], &[4]);
        check("arctanh ±1", &values(&mx::arctanh(&edges, dev).unwrap()), &[f64::INFINITY, f64::NEG_INFINITY, 0.0, f64::NAN], 0.0, 0.0);
        check("log10 0", &values(&mx::log10(&edges, dev).unwrap()), &[0.0, f64::NAN, f64::NEG_INFINITY, f64::NAN], 0.0, 0.0);
        // Integers and bool compute float-only ops as float32; round and trunc keep them.
        let i = Array::from_slice(&[1i32, 2], &[2]);
        let r = mx::expm1(&i, dev).unwrap();
        assert_eq!(r.dtype(), Dtype::Float32);
        check("expm1 int", &values(&r), &[1.7182817459106445, 6.389056205749512], 1e-7, 2e-5);
        assert_eq!(mx::log2(&Array::from_slice(&[true], &[1]), dev).unwrap().to_vec::<f32>().unwrap(), vec![0.0]);
        assert_eq!(mx::sinh(&Array::from_slice(&[1u8], &[1]), dev).unwrap().dtype(), Dtype::Float32);
        assert_eq!(mx::trunc(&i, dev).unwrap().to_vec::<i32>().unwrap(), vec![1, 2]);
        assert_eq!(mx::round(&i, 0, dev).unwrap().dtype(), Dtype::Int32);
        assert_eq!(mx::degrees(&i, dev).unwrap().dtype(), Dtype::Float32);
    }

    fn round_with_decimals(dev: Device) {
        let a = make(R, &[12], Dtype::Float32);
        for (d, want) in [(0, ROUND_0), (1, ROUND_1), (2, ROUND_2), (-1, ROUND_M1), (-2, ROUND_M2), (-3, ROUND_M3)] {
            let r = mx::round(&a, d, dev).unwrap();
            assert_eq!(r.dtype(), Dtype::Float32);
            check(&format!("round {d}"), &values(&r), want, 0.0, 0.0);
        }
        assert!(sign_bits(&mx::round(&a, 0, dev).unwrap())[2], "round(-0.5) is -0");
        let h = make(R, &[12], Dtype::Float16);
        check("round f16 1", &values(&mx::round(&h, 1, dev).unwrap()), ROUND_F16_1, 0.0, 0.0);
        let i = Array::from_slice(&[15i32, 25, -15, 14, 150], &[5]);
        assert_eq!(mx::round(&i, -1, dev).unwrap().to_vec::<i32>().unwrap(), vec![20, 20, -20, 10, 150]);
        assert_eq!(mx::round(&i, 2, dev).unwrap().to_vec::<i32>().unwrap(), vec![15, 25, -15, 14, 150]);
        let u = Array::from_slice(&[15u8, 25], &[2]);
        let ru = mx::round(&u, -1, dev).unwrap();
        assert_eq!((ru.dtype(), ru.to_vec::<u8>().unwrap()), (Dtype::Uint8, vec![20, 20]));
        let b = mx::round(&Array::from_slice(&[true], &[1]), -1, dev).unwrap();
        assert_eq!((b.dtype(), b.to_vec::<bool>().unwrap()), (Dtype::Bool, vec![false]));
    }

    fn predicates_and_nan_to_num(dev: Device) {
        let v = [1.0f32, f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.0];
        for dt in [Dtype::Float32, Dtype::Float16, Dtype::Bfloat16] {
            let a = mx::astype(&Array::from_slice(&v, &[5]), dt, Device::cpu()).unwrap();
            let b = |r: wmx::Result<Array>| r.unwrap().to_vec::<bool>().unwrap();
            assert_eq!(b(mx::isnan(&a, dev)), vec![false, true, false, false, false], "{dt}");
            assert_eq!(b(mx::isinf(&a, dev)), vec![false, false, true, true, false], "{dt}");
            assert_eq!(b(mx::isfinite(&a, dev)), vec![true, false, false, false, true], "{dt}");
            assert_eq!(b(mx::isposinf(&a, dev)), vec![false, false, true, false, false], "{dt}");
            assert_eq!(b(mx::isneginf(&a, dev)), vec![false, false, false, true, false], "{dt}");
        }
        let i = Array::from_slice(&[1i32, 2], &[2]);
        assert_eq!(mx::isnan(&i, dev).unwrap().to_vec::<bool>().unwrap(), vec![false, false]);
        assert_eq!(mx::isfinite(&Array::from_slice(&[true], &[1]), dev).unwrap().to_vec::<bool>().unwrap(), vec![true]);
        assert_eq!(mx::isneginf(&Array::from_slice(&[1u8], &[1]), dev).unwrap().dtype(), Dtype::Bool);
        // Defaults: the dtype's largest finite values (MLX).
        let a = Array::from_slice(&v, &[5]);
        for (dt, max) in [(Dtype::Float32, 3.4028234663852886e38), (Dtype::Float16, 65504.0), (Dtype::Bfloat16, 3.3895313892515355e38)] {
            let x = mx::astype(&a, dt, Device::cpu()).unwrap();
            let r = mx::nan_to_num(&x, 0.0, None, None, dev).unwrap();
            assert_eq!(r.dtype(), dt);
            check(&format!("nan_to_num {dt}"), &values(&r), &[1.0, 0.0, max, -max, 0.0], 0.0, 0.0);
        }
        let r = mx::nan_to_num(&a, 5.0, Some(100.0), Some(-100.0), dev).unwrap();
        check("nan_to_num given", &values(&r), &[1.0, 5.0, 100.0, -100.0, 0.0], 0.0, 0.0);
        // The value is converted to the dtype: 1e6 overflows float16 to inf, as in MLX.
        let h = mx::astype(&a, Dtype::Float16, Device::cpu()).unwrap();
        assert_eq!(values(&mx::nan_to_num(&h, 1e6, None, None, dev).unwrap())[1], f64::INFINITY);
        assert_eq!(mx::nan_to_num(&i, 5.0, None, None, dev).unwrap().to_vec::<i32>().unwrap(), vec![1, 2]);
    }

    fn float_division_family(dev: Device) {
        let (a, b) = (make(A, &[12], Dtype::Float32), make(B, &[12], Dtype::Float32));
        let q = mx::floor_divide(&a, &b, dev).unwrap();
        check("floor_divide", &values(&q), FLOOR_DIVIDE_AB, 0.0, 0.0);
        let r = mx::remainder(&a, &b, dev).unwrap();
        check("remainder", &values(&r), REMAINDER_AB, 0.0, 0.0);
        assert_eq!(sign_bits(&q), FLOOR_DIVIDE_AB.iter().map(|x| x.is_sign_negative()).collect::<Vec<_>>());
        assert!(sign_bits(&r)[6], "-0 % 3 is -0");
        let (q2, r2) = mx::divmod(&a, &b, dev).unwrap();
        check("divmod q", &values(&q2), FLOOR_DIVIDE_AB, 0.0, 0.0);
        check("divmod r", &values(&r2), REMAINDER_AB, 0.0, 0.0);
        check("arctan2", &values(&mx::arctan2(&a, &b, dev).unwrap()), ARCTAN2_AB, 1e-7, 2e-5);
        let z = Array::from_slice(&[0.0f32, -0.0, 0.0, -0.0], &[4]);
        let w = Array::from_slice(&[-0.0f32, -0.0, 0.0, 0.0], &[4]);
        let t = mx::arctan2(&z, &w, dev).unwrap();
        check("arctan2 zeros", &values(&t), &[3.1415927410125732, -3.1415927410125732, 0.0, 0.0], 0.0, 0.0);
        assert_eq!(sign_bits(&t), vec![false, true, false, true]);
        let (l1, l2) = (make(L1, &[12], Dtype::Float32), make(L2, &[12], Dtype::Float32));
        check("logaddexp", &values(&mx::logaddexp(&l1, &l2, dev).unwrap()), LOGADDEXP, 1e-6, 2e-5);
        let (h1, h2) = (make(L1, &[12], Dtype::Float16), make(L2, &[12], Dtype::Float16));
        let lh = mx::logaddexp(&h1, &h2, dev).unwrap();
        assert_eq!(lh.dtype(), Dtype::Float16);
        check("logaddexp f16", &values(&lh), LOGADDEXP_F16, 1e-3, 2e-3);
        // Integers compute logaddexp and arctan2 as float32; bf16 keeps its dtype.
        let i = Array::from_slice(&[7i32, -7], &[2]);
        let j = Array::from_slice(&[2i32, 2], &[2]);
        let li = mx::logaddexp(&i, &j, dev).unwrap();
        assert_eq!(li.dtype(), Dtype::Float32);
        check("logaddexp int", &values(&li), &[7.006715297698975, 2.0001235008239746], 1e-6, 2e-5);
        check("arctan2 int", &values(&mx::arctan2(&i, &j, dev).unwrap()), &[1.292496681213379, -1.292496681213379], 1e-7, 2e-5);
        let bf = mx::astype(&Array::from_slice(&[7.5f32], &[1]), Dtype::Bfloat16, Device::cpu()).unwrap();
        let rb = mx::remainder(&bf, 2, dev).unwrap();
        assert_eq!((rb.dtype(), values(&rb)), (Dtype::Bfloat16, vec![1.5]));
        assert_eq!(mx::floor_divide(&i, 2.0, dev).unwrap().to_vec::<f32>().unwrap(), vec![3.0, -4.0]);
    }

    fn integer_division_family(dev: Device) {
        let i = Array::from_slice(&[7i32, -7, 7, -7, 0, 5, i32::MIN, i32::MIN, -5], &[9]);
        let j = Array::from_slice(&[2i32, 2, -2, -2, 3, 0, -1, 1, 0], &[9]);
        let q = mx::floor_divide(&i, &j, dev).unwrap();
        assert_eq!(q.dtype(), Dtype::Int32);
        assert_eq!(q.to_vec::<i32>().unwrap(), vec![3, -4, -4, 3, 0, 0, i32::MIN, i32::MIN, 0]);
        let r = mx::remainder(&i, &j, dev).unwrap();
        assert_eq!(r.to_vec::<i32>().unwrap(), vec![1, 1, -1, -1, 0, 5, 0, 0, -5]);
        let u = Array::from_slice(&[7u8, 200, 0, 5], &[4]);
        let v = Array::from_slice(&[2u8, 3, 0, 0], &[4]);
        let (qu, ru) = mx::divmod(&u, &v, dev).unwrap();
        assert_eq!((qu.dtype(), qu.to_vec::<u8>().unwrap()), (Dtype::Uint8, vec![3, 66, 0, 0]));
        assert_eq!(ru.to_vec::<u8>().unwrap(), vec![1, 2, 0, 5]);
        let w = Array::from_slice(&[5u32, 4_000_000_000], &[2]);
        assert_eq!(mx::floor_divide(&w, 0u32, dev).unwrap().to_vec::<u32>().unwrap(), vec![0, 0]);
        assert_eq!(mx::remainder(&w, 7u32, dev).unwrap().to_vec::<u32>().unwrap(), vec![5, 4_000_000_000 % 7]);
        let b = Array::from_slice(&[true, false, true, false], &[4]);
        let c = Array::from_slice(&[true, true, false, false], &[4]);
        let qb = mx::floor_divide(&b, &c, dev).unwrap();
        assert_eq!((qb.dtype(), qb.to_vec::<bool>().unwrap()), (Dtype::Bool, vec![true, false, false, false]));
        assert_eq!(mx::remainder(&b, &c, dev).unwrap().to_vec::<bool>().unwrap(), vec![false, false, true, false]);
    }

    fn bitwise_and_shifts(dev: Device) {
        let i = Array::from_slice(&[7i32, -7, 7, -7, 0, 5], &[6]);
        let j = Array::from_slice(&[2i32, 2, -2, -2, 3, 0], &[6]);
        assert_eq!(mx::bitwise_and(&i, &j, dev).unwrap().to_vec::<i32>().unwrap(), vec![2, 0, 6, -8, 0, 0]);
        assert_eq!(mx::bitwise_or(&i, &j, dev).unwrap().to_vec::<i32>().unwrap(), vec![7, -5, -1, -1, 3, 5]);
        assert_eq!(mx::bitwise_xor(&i, &j, dev).unwrap().to_vec::<i32>().unwrap(), vec![5, -5, -7, 7, 3, 5]);
        let u = Array::from_slice(&[7u8, 200, 0, 5], &[4]);
        let v = Array::from_slice(&[2u8, 3, 0, 0], &[4]);
        let o = mx::bitwise_or(&u, &v, dev).unwrap();
        assert_eq!((o.dtype(), o.to_vec::<u8>().unwrap()), (Dtype::Uint8, vec![7, 203, 0, 5]));
        let b = Array::from_slice(&[true, false, true, false], &[4]);
        let c = Array::from_slice(&[true, true, false, false], &[4]);
        let x = mx::bitwise_xor(&b, &c, dev).unwrap();
        assert_eq!((x.dtype(), x.to_vec::<bool>().unwrap()), (Dtype::Bool, vec![false, true, true, false]));
        assert_eq!(mx::bitwise_and(&b, &c, dev).unwrap().to_vec::<bool>().unwrap(), vec![true, false, false, false]);
        assert_eq!(mx::logical_xor(&i, &j, dev).unwrap().to_vec::<bool>().unwrap(), vec![false, false, false, false, true, true]);
        // Shift counts modulo 32 (MLX's CPU), arithmetic right shift for int32.
        let one = Array::from_slice(&[1i32, 1, 1, -1, 1, 1], &[6]);
        let n = Array::from_slice(&[1i32, 31, 32, 1, 33, -1], &[6]);
        assert_eq!(mx::left_shift(&one, &n, dev).unwrap().to_vec::<i32>().unwrap(), vec![2, i32::MIN, 1, -2, 2, i32::MIN]);
        let e = Array::from_slice(&[-8i32, -8, 8, -8, 8], &[5]);
        let m = Array::from_slice(&[1i32, 31, 32, 33, -1], &[5]);
        assert_eq!(mx::right_shift(&e, &m, dev).unwrap().to_vec::<i32>().unwrap(), vec![-4, -1, 8, -4, 0]);
        let u1 = Array::from_slice(&[1u8, 1, 1], &[3]);
        let s = Array::from_slice(&[7u8, 8, 9], &[3]);
        assert_eq!(mx::left_shift(&u1, &s, dev).unwrap().to_vec::<u8>().unwrap(), vec![128, 0, 0]);
        let w = Array::from_slice(&[1u32, 1, 1], &[3]);
        let ws = Array::from_slice(&[31u32, 32, 33], &[3]);
        assert_eq!(mx::left_shift(&w, &ws, dev).unwrap().to_vec::<u32>().unwrap(), vec![2147483648, 1, 2]);
        let hi = Array::from_slice(&[2147483648u32, 2147483648], &[2]);
        assert_eq!(mx::right_shift(&hi, Array::from_slice(&[32u32, 33], &[2]), dev).unwrap().to_vec::<u32>().unwrap(), vec![2147483648, 1073741824]);
        // Bool shifts compute as uint8 (MLX).
        let bs = mx::left_shift(&b, &c, dev).unwrap();
        assert_eq!((bs.dtype(), bs.to_vec::<u8>().unwrap()), (Dtype::Uint8, vec![2, 0, 1, 0]));
        assert_eq!(mx::right_shift(&b, &c, dev).unwrap().to_vec::<u8>().unwrap(), vec![0, 0, 1, 0]);
        assert_eq!(mx::left_shift(&u, 1, dev).unwrap().to_vec::<u8>().unwrap(), vec![14, 144, 0, 10]);
        // bitwise_invert: ints, uint8 (within 8 bits), uint32, bool (logical not).
        assert_eq!(mx::bitwise_invert(&i, dev).unwrap().to_vec::<i32>().unwrap(), vec![-8, 6, -8, 6, -1, -6]);
        assert_eq!(mx::bitwise_invert(&u, dev).unwrap().to_vec::<u8>().unwrap(), vec![248, 55, 255, 250]);
        assert_eq!(mx::bitwise_invert(&b, dev).unwrap().to_vec::<bool>().unwrap(), vec![false, true, false, true]);
        assert_eq!(mx::bitwise_invert(&Array::from_slice(&[1u32], &[1]), dev).unwrap().to_vec::<u32>().unwrap(), vec![4294967294]);
    }

    fn closeness_and_equality(dev: Device) {
        let nan = f32::NAN;
        let inf = f32::INFINITY;
        let a = Array::from_slice(&[1.0f32, nan, inf, inf, 1.0, 1e8, -inf], &[7]);
        let b = Array::from_slice(&[1.00001f32, nan, inf, -inf, 1.1, 1e8 + 5.0, -inf], &[7]);
        let r = mx::isclose(&a, &b, 1e-5, 1e-8, true, dev).unwrap();
        assert_eq!(r.to_vec::<bool>().unwrap(), vec![false, true, true, false, false, true, true]);
        let r = mx::isclose(&a, &b, 1e-5, 1e-8, false, dev).unwrap();
        assert_eq!(r.to_vec::<bool>().unwrap(), vec![false, false, true, false, false, true, true]);
        // A negative rtol can make even equal finite values "not close" (MLX).
        let one = Array::from_slice(&[1.0f32], &[1]);
        assert_eq!(mx::isclose(&one, &one, -1.0, 1e-8, false, dev).unwrap().to_vec::<bool>().unwrap(), vec![false]);
        let bb = Array::from_slice(&[true, false, true, false], &[4]);
        let cc = Array::from_slice(&[true, true, false, false], &[4]);
        assert_eq!(mx::isclose(&bb, &cc, 1e-5, 1e-8, false, dev).unwrap().to_vec::<bool>().unwrap(), vec![true, false, false, true]);
        let h = mx::astype(&one, Dtype::Float16, Device::cpu()).unwrap();
        assert!(mx::isclose(&h, &h, 1e-5, 1e-8, false, dev).unwrap().to_vec::<bool>().unwrap()[0]);
        let item = |r: wmx::Result<Array>| {
            let r = r.unwrap();
            assert_eq!((r.dtype(), r.ndim()), (Dtype::Bool, 0));
            r.item::<bool>().unwrap()
        };
        let row = Array::from_slice(&[1i32, 2], &[1, 2]);
        let flat = Array::from_slice(&[1i32, 2], &[2]);
        assert!(item(mx::allclose(&row, &flat, 1e-5, 1e-8, false, dev)));
        assert!(!item(mx::allclose(&a, &b, 1e-5, 1e-8, false, dev)));
        let nans = Array::from_slice(&[nan], &[1]);
        assert!(item(mx::allclose(&nans, &nans, 1e-5, 1e-8, true, dev)));
        assert!(!item(mx::allclose(&nans, &nans, 1e-5, 1e-8, false, dev)));
        // array_equal: shapes must match exactly (no broadcasting, no error); dtypes may differ.
        assert!(!item(mx::array_equal(&row, &flat, false, dev)));
        let flat3 = Array::from_slice(&[1.0f32, 2.0, 3.0], &[3]);
        assert!(!item(mx::array_equal(&flat, &flat3, false, dev)));
        assert!(item(mx::array_equal(&flat, Array::from_slice(&[1.0f32, 2.0], &[2]), false, dev)));
        assert!(item(mx::array_equal(Array::from_slice(&[1u8, 2], &[2]), &flat, false, dev)));
        assert!(!item(mx::array_equal(&flat, Array::from_slice(&[1i32, 3], &[2]), false, dev)));
        assert!(item(mx::array_equal(&nans, &nans, true, dev)));
        assert!(!item(mx::array_equal(&nans, &nans, false, dev)));
    }

    fn weak_scalars_follow_mlx(dev: Device) {
        let f16 = mx::astype(&Array::from_slice(&[1.0f32], &[1]), Dtype::Float16, Device::cpu()).unwrap();
        let bf = mx::astype(&f16, Dtype::Bfloat16, Device::cpu()).unwrap();
        let u8a = Array::from_slice(&[1u8], &[1]);
        let i32a = Array::from_slice(&[1i32], &[1]);
        let u32a = Array::from_slice(&[1u32], &[1]);
        let b = Array::from_slice(&[true], &[1]);
        let dt = |r: wmx::Result<Array>| r.unwrap().dtype();
        // (mx.array([1], mx.float16) + 2.0).dtype == float16, and so on (MLX 0.32.4).
        assert_eq!(dt(mx::add(&f16, 2.0, dev)), Dtype::Float16);
        assert_eq!(dt(mx::add(&bf, 1, dev)), Dtype::Bfloat16);
        assert_eq!(dt(mx::add(&u8a, 255, dev)), Dtype::Uint8);
        assert_eq!(mx::add(&u8a, 255, dev).unwrap().to_vec::<u8>().unwrap(), vec![0]);
        assert_eq!(dt(mx::add(&i32a, 2.5, dev)), Dtype::Float32);
        assert_eq!(dt(mx::add(&u8a, 2.5, dev)), Dtype::Float32);
        assert_eq!(dt(mx::add(true, &b, dev)), Dtype::Bool);
        assert_eq!(dt(mx::add(true, &u8a, dev)), Dtype::Uint8);
        assert_eq!(dt(mx::add(&f16, true, dev)), Dtype::Float16);
        assert_eq!(dt(mx::add(&b, 2, dev)), Dtype::Int32);
        assert_eq!(dt(mx::add(&b, 2.0, dev)), Dtype::Float32);
        assert_eq!(dt(mx::multiply(&i32a, true, dev)), Dtype::Int32);
        assert_eq!(dt(mx::divide(&u8a, 2, dev)), Dtype::Float32);
        assert_eq!(dt(mx::power(&u8a, 2, dev)), Dtype::Uint8);
        assert_eq!(dt(mx::power(&i32a, 2.5, dev)), Dtype::Float32);
        assert_eq!(dt(mx::maximum(&i32a, 2.5, dev)), Dtype::Float32);
        assert_eq!(dt(mx::less(&u8a, 3, dev)), Dtype::Bool);
        // Two scalars: bool < int32 < float32.
        assert_eq!(mx::add(2, 3, dev).unwrap().item::<i32>().unwrap(), 5);
        assert_eq!(dt(mx::add(2.0, 3, dev)), Dtype::Float32);
        assert_eq!(dt(mx::add(true, 3, dev)), Dtype::Int32);
        // Floats overflow a half dtype to inf; integers out of an integer dtype's range are errors.
        assert_eq!(values(&mx::add(&f16, 1e10, dev).unwrap()), vec![f64::INFINITY]);
        for r in [mx::add(&u8a, 300, dev), mx::add(&u8a, -1, dev), mx::add(&u32a, -1, dev), mx::add(&i32a, 1i64 << 40, dev), mx::less(&u8a, 300, dev)] {
            let e = r.unwrap_err().to_string();
            assert!(e.contains("overflow"), "{e}");
        }
        // where_ with scalar branches.
        assert_eq!(dt(mx::where_(&b, &f16, 2.0, dev)), Dtype::Float16);
        assert_eq!(dt(mx::where_(&b, 1, 2.0, dev)), Dtype::Float32);
        assert_eq!(dt(mx::where_(&b, &u8a, 3, dev)), Dtype::Uint8);
        assert_eq!(dt(mx::where_(&b, true, 3, dev)), Dtype::Int32);
        assert_eq!(mx::where_(&b, 7, 3, dev).unwrap().to_vec::<i32>().unwrap(), vec![7]);
        // Owned arrays and &&Array work too.
        let refs = [&i32a];
        assert_eq!(mx::add(refs[0], i32a.clone(), dev).unwrap().to_vec::<i32>().unwrap(), vec![2]);
        let _ = mx::add(refs[0], 1u32, dev).unwrap();
    }

    fn operators_with_scalars(dev: Device) {
        let _g = mx::stream(dev);
        let a = Array::from_slice(&[7i32, -7], &[2]);
        assert_eq!((&a + 1).to_vec::<i32>().unwrap(), vec![8, -6]);
        assert_eq!((2 * &a).to_vec::<i32>().unwrap(), vec![14, -14]);
        assert_eq!((&a % 2).to_vec::<i32>().unwrap(), vec![1, 1]);
        assert_eq!((&a / 2).to_vec::<f32>().unwrap(), vec![3.5, -3.5]);
        assert_eq!((&a & 3).to_vec::<i32>().unwrap(), vec![3, 1]);
        assert_eq!((&a | 8).to_vec::<i32>().unwrap(), vec![15, -7]);
        assert_eq!((&a ^ 1).to_vec::<i32>().unwrap(), vec![6, -8]);
        assert_eq!((&a << 1).to_vec::<i32>().unwrap(), vec![14, -14]);
        assert_eq!((&a >> 1).to_vec::<i32>().unwrap(), vec![3, -4]);
        assert_eq!((!&a).to_vec::<i32>().unwrap(), vec![-8, 6]);
        let h = mx::astype(&a, Dtype::Float16, None).unwrap();
        let r = &h * 0.5f32;
        assert_eq!((r.dtype(), values(&r)), (Dtype::Float16, vec![3.5, -3.5]));
        assert_eq!(values(&(1.0 - h.clone())), vec![-6.0, 8.0]);
        assert_eq!(values(&(a.clone() - &a)), vec![0.0, 0.0]);
        assert_eq!(ints(&(&a + a.clone())), vec![14, -14]);
    }

    fn bad_inputs_name_the_op(dev: Device) {
        let f = Array::from_slice(&[1.0f32], &[1]);
        let i = Array::from_slice(&[1i32], &[1]);
        let cases: Vec<(&str, wmx::Result<Array>)> = vec![
            ("bitwise_and", mx::bitwise_and(&f, &f, dev)),
            ("bitwise_or", mx::bitwise_or(&i, 1.5, dev)),
            ("bitwise_xor", mx::bitwise_xor(&f, &i, dev)),
            ("left_shift", mx::left_shift(&f, 1, dev)),
            ("right_shift", mx::right_shift(&i, &f, dev)),
            ("bitwise_invert", mx::bitwise_invert(&f, dev)),
            ("floor_divide", mx::floor_divide(Array::from_slice(&[1i32, 2], &[2]), Array::from_slice(&[1i32, 2, 3], &[3]), dev)),
            ("add", mx::add(Array::from_slice(&[1u8], &[1]), 256, dev)),
            ("isclose", mx::isclose(Array::from_slice(&[1.0f32, 2.0], &[2]), Array::from_slice(&[1.0f32, 2.0, 3.0], &[3]), 1e-5, 1e-8, false, dev)),
        ];
        for (op, r) in cases {
            let e = r.expect_err(op).to_string();
            assert!(e.contains(op) || e.contains("broadcast"), "{op}: {e}");
        }
        let e = mx::bitwise_and(&f, &f, dev).unwrap_err().to_string();
        assert!(e.contains("[bitwise_and]") && e.contains("integer or boolean"), "{e}");
    }
}

#[test]
#[should_panic(expected = "bitwise_and")]
fn operator_on_bad_dtype_panics_with_the_message() {
    let f = Array::from_slice(&[1.0f32], &[1]);
    let _ = &f & 1;
}
