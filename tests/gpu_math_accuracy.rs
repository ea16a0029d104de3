//! Accuracy of the software math the GPU kernels use instead of builtins (which GPUs implement
//! approximately): sin/cos/tan and exp over many arguments against an f64 reference (within a
//! few ulp), and division / floor_divide, which must be correctly rounded (bit-equal to the CPU's
//! f32 `/`).

#[macro_use]
mod common;

use wmx::Array;

/// Arguments spread over every range the reductions handle: small, moderate (Cody-Waite,
/// |x| < 2^14) and huge (Payne-Hanek), both signs, plus integers and points near multiples
/// of pi/2.
fn trig_args() -> Vec<f32> {
    let mut v = vec![
        0.0f32, -0.0, 1e-30, 1e-8, 0.5, 1.0, 2.0, 3.0, 47.0, 162.0, 255.0,
    ];
    let mut s = 0x1234_5678u32;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        s
    };
    for _ in 0..4000 {
        let u = (next() >> 8) as f32 / 16777216.0;
        let e = (next() % 40) as i32 - 20; // 2^-20 .. 2^19
        let x = (1.0 + u) * 2f32.powi(e);
        v.push(if next() & 1 == 1 { -x } else { x });
    }
    for i in 0..2000 {
        v.push(i as f32 - 1000.0);
        v.push((i as f64 * std::f64::consts::FRAC_PI_2) as f32);
    }
    for e in [20, 30, 60, 100, 127] {
        v.push(1.2345 * 2f32.powi(e));
    }
    v
}

/// |got - want| in units of the f32 ulp at `want` (with an absolute floor of 2^-40 for results
/// near zero, where the error of the reduction, not of the result, is what counts).
fn ulps(got: f32, want: f64) -> f64 {
    let ulp = (want.abs().max(2f64.powi(-40)) * f64::from(f32::EPSILON)).max(2f64.powi(-149));
    (got as f64 - want).abs() / ulp
}

fn check_trig(name: &str, got: &[f32], args: &[f32], f: fn(f64) -> f64, max_ulps: f64) {
    let mut worst = (0.0, 0.0f32);
    for (&g, &x) in got.iter().zip(args) {
        let want = f(x as f64);
        let e = ulps(g, want);
        if e > worst.0 {
            worst = (e, x);
        }
    }
    eprintln!("{name}: worst {:.2} ulp at x = {:e}", worst.0, worst.1);
    assert!(
        worst.0 <= max_ulps,
        "{name}: {:.2} ulp at x = {:e}",
        worst.0,
        worst.1
    );
}

/// Arguments of exp over its whole finite range (results from subnormal to near f32::MAX), dense
/// near |x| = 88, where a builtin `exp2(x * log2 e)` loses the most (its rounded argument costs
/// up to ~100 ulp).
fn exp_args() -> Vec<f32> {
    let mut v = vec![
        0.0f32, -0.0, 1e-30, -1e-30, 1e-8, -1e-8, 0.5, -0.5, 1.0, -1.0, 10.0, -10.0, 88.0, 88.5,
        88.72, 88.7228, -87.0, -87.33, -88.0, -88.72, -100.0, -103.9,
    ];
    let mut s = 0x2545_f491u32;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        (s >> 8) as f32 / 16777216.0
    };
    for _ in 0..4000 {
        v.push(-104.0 + next() * (88.72 + 104.0));
    }
    for _ in 0..2000 {
        v.push(80.0 + next() * 8.72);
        v.push(-88.72 + next() * 8.72);
    }
    v
}

/// The worst error of `got = exp(args)`, in ulp of the f64 reference for normal results, and
/// whether every subnormal result is within f32::MIN_POSITIVE (a GPU may flush subnormals).
fn exp_error(got: &[f32], args: &[f32]) -> (f64, f32) {
    let mut worst = (0.0, 0.0f32);
    for (&g, &x) in got.iter().zip(args) {
        let want = (x as f64).exp();
        let e = if want < f32::MIN_POSITIVE as f64 {
            let abs = (g as f64 - want).abs();
            assert!(
                abs <= f32::MIN_POSITIVE as f64,
                "exp({x:e}) = {g:e}, want {want:e}"
            );
            0.0
        } else {
            (g as f64 - want).abs() / (want * f64::from(f32::EPSILON))
        };
        if e > worst.0 {
            worst = (e, x);
        }
    }
    worst
}

device_tests! {
    fn exp_within_a_few_ulp_up_to_overflow(d: Device) {
        // The GPU runs `wmx_exp` (the CPU's algorithm), not WGSL's builtin: a builtin computed
        // as exp2(x * log2 e) is tens of ulp off near |x| = 88, which this bound rejects.
        // Measured on lavapipe (2026-12-04): wmx_exp 0.65 ulp (as the CPU), the builtin 32.6 ulp
        // at x = -84.2.
        let args = exp_args();
        let a = Array::from_slice(&args, &[args.len() as i32]);
        let got = wmx::exp(&a, d).unwrap().to_vec::<f32>().unwrap();
        let (worst, at) = exp_error(&got, &args);
        eprintln!("exp: worst {worst:.2} ulp at x = {at:e}");
        assert!(worst <= 2.0, "exp: {worst:.2} ulp at x = {at:e}");
        // Past the ends, and the special values.
        let sp = [89.0f32, -105.0, f32::INFINITY, f32::NEG_INFINITY, f32::NAN, 0.0];
        let s = wmx::exp(&Array::from_slice(&sp, &[6]), d).unwrap().to_vec::<f32>().unwrap();
        assert_eq!(s[0], f32::INFINITY);
        assert_eq!(s[1], 0.0);
        assert_eq!(s[2], f32::INFINITY);
        assert_eq!(s[3], 0.0);
        assert!(s[4].is_nan());
        assert_eq!(s[5], 1.0);
    }

    fn sin_cos_tan_within_a_few_ulp(d: Device) {
        let args = trig_args();
        let a = Array::from_slice(&args, &[args.len() as i32]);
        let sin = wmx::sin(&a, d).unwrap().to_vec::<f32>().unwrap();
        let cos = wmx::cos(&a, d).unwrap().to_vec::<f32>().unwrap();
        let tan = wmx::tan(&a, d).unwrap().to_vec::<f32>().unwrap();
        check_trig("sin", &sin, &args, f64::sin, 4.0);
        check_trig("cos", &cos, &args, f64::cos, 4.0);
        // tan: -1 / tan(r) in odd quadrants adds a rounding, and the result's relative error is
        // the reduction's near the poles
        check_trig("tan", &tan, &args, f64::tan, 8.0);
        // signed zeros, inf and NaN
        let sp = Array::from_slice(&[-0.0f32, f32::INFINITY, f32::NEG_INFINITY, f32::NAN], &[4]);
        let s = wmx::sin(&sp, d).unwrap().to_vec::<f32>().unwrap();
        assert!(s[0] == 0.0 && s[0].is_sign_negative());
        assert!(s[1].is_nan() && s[2].is_nan() && s[3].is_nan());
        let c = wmx::cos(&sp, d).unwrap().to_vec::<f32>().unwrap();
        assert!(c[0] == 1.0 && c[1].is_nan() && c[3].is_nan());
    }

    fn low_precision_trig_goes_through_f32(d: Device) {
        // f16 65504 and bf16 values round-trip through the f32 software path
        let h = [65504.0f32, 100.0, -104.0, 88.5];
        let a = wmx::astype(&Array::from_slice(&h, &[4]), wmx::Dtype::Float16, d).unwrap();
        let c = wmx::astype(&wmx::cos(&a, d).unwrap(), wmx::Dtype::Float32, d).unwrap();
        let c = c.to_vec::<f32>().unwrap();
        for (g, x) in c.iter().zip(h) {
            let want = half::f16::from_f64((x as f64).cos()).to_f32();
            assert!((g - want).abs() <= 1e-3, "cos({x}) in float16: {g}, want {want}");
        }
        let b = wmx::astype(&Array::from_slice(&h, &[4]), wmx::Dtype::Bfloat16, d).unwrap();
        let s = wmx::astype(&wmx::sin(&b, d).unwrap(), wmx::Dtype::Float32, d).unwrap();
        let s = s.to_vec::<f32>().unwrap();
        for (g, x) in s.iter().zip(h) {
            let xb = half::bf16::from_f32(x).to_f64();
            let want = half::bf16::from_f64(xb.sin()).to_f32();
            assert!((g - want).abs() <= 8e-3, "sin({xb}) in bfloat16: {g}, want {want}");
        }
    }

    fn division_is_correctly_rounded(d: Device) {
        let mut a = vec![1e10f32, 1.0, 2.0, 3e38, f32::INFINITY, 1.0, 7.0, -1e10, 3e38, 1e-30];
        let mut b = vec![3.0f32, 3.0, 3.0, 3e38, 3e38, 3e38 / 4.0, -1e-30, 3.0, 0.5, 1e30];
        let mut s = 0x9e37_79b9u32;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            s
        };
        for _ in 0..20000 {
            // normal operands whose quotient is normal: exponents in [-60, 60]
            let mut val = || {
                let m = 1.0 + (next() >> 8) as f32 / 16777216.0;
                let x = m * 2f32.powi((next() % 121) as i32 - 60);
                if next() & 1 == 1 { -x } else { x }
            };
            a.push(val());
            b.push(val());
        }
        let n = a.len() as i32;
        let (xa, xb) = (Array::from_slice(&a, &[n]), Array::from_slice(&b, &[n]));
        let q = wmx::divide(&xa, &xb, d).unwrap().to_vec::<f32>().unwrap();
        let fq = wmx::floor_divide(&xa, &xb, d).unwrap().to_vec::<f32>().unwrap();
        for i in 0..a.len() {
            let want = a[i] / b[i];
            assert_eq!(q[i].to_bits(), want.to_bits(), "{} / {}: {} want {}", a[i], b[i], q[i], want);
            let fw = want.floor();
            assert_eq!(fq[i].to_bits(), fw.to_bits(), "{} // {}: {} want {}", a[i], b[i], fq[i], fw);
        }
        // IEEE special values
        let sa = [0.0f32, -0.0, 1.0, -1.0, f32::INFINITY, f32::INFINITY, 0.0, f32::NAN, 5.0, -0.0];
        let sb = [0.0f32, 1.0, 0.0, 0.0, f32::INFINITY, -2.0, f32::NEG_INFINITY, 1.0, f32::NAN, -3.0];
        let sq = wmx::divide(Array::from_slice(&sa, &[10]), Array::from_slice(&sb, &[10]), d)
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        for i in 0..sa.len() {
            let want = sa[i] / sb[i];
            assert!(
                sq[i].to_bits() == want.to_bits() || (sq[i].is_nan() && want.is_nan()),
                "{} / {}: {} want {}", sa[i], sb[i], sq[i], want
            );
        }
    }

    fn sinh_near_overflow_is_finite(d: Device) {
        let x = [88.7f32, -88.7, 89.0, 89.4, 89.5, 44.0];
        let got = wmx::sinh(&Array::from_slice(&x, &[6]), d).unwrap().to_vec::<f32>().unwrap();
        for (g, x) in got.iter().zip(x) {
            let want = (x as f64).sinh() as f32;
            if want.is_infinite() {
                assert_eq!(*g, want, "sinh({x})");
            } else {
                assert!(((g - want) / want).abs() < 1e-5, "sinh({x}) = {g}, want {want}");
            }
        }
    }
}
