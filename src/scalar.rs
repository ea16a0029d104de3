//! Scalar float functions of the elementwise op tables' CPU columns (primitive.rs): MLX's own
//! approximations where MLX's results depend on them (erf, erfinv), a branch-free exp shared with
//! the GPU's `wmx_exp`, and NaN/tie rules for max/min. Pure functions; no arrays here.

// The polynomial coefficients are written as published (and as MLX and the WGSL twins spell them);
// trimming them to f32's shortest form would hide where they come from.
#![allow(clippy::excessive_precision)]

/// NaN-propagating maximum that returns `b` on ties, as MLX does (`max(0, -0)` is -0). The GPU
/// form selects bit patterns so a driver cannot turn it into a hardware max (whose zero sign
/// differs).
pub(crate) fn max_f32(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else if a > b {
        a
    } else {
        b
    }
}

/// NaN-propagating minimum that returns `b` on ties, as MLX does (`min(-0, 0)` is 0).
pub(crate) fn min_f32(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else if a < b {
        a
    } else {
        b
    }
}

/// Above this, `x * x` would overflow in asinh/acosh, which then use `log(2x)`.
pub(crate) const HUGE: f32 = 1e10;

/// `asinh(|x|) = log1p(a + a^2 / (1 + sqrt(1 + a^2)))`, `log(2a)` for huge `a` (Rust's `asinh`
/// overflows to inf above ~1.7e38 where MLX stays finite).
pub(crate) fn asinh_f32(x: f32) -> f32 {
    let a = x.abs();
    let r = if a > HUGE {
        a.ln() + std::f32::consts::LN_2
    } else {
        (a + a * a / (1.0 + (1.0 + a * a).sqrt())).ln_1p()
    };
    r.copysign(x)
}

/// `acosh(x) = log1p(t + sqrt(2t + t^2))` with `t = x - 1`, `log(2x)` for huge `x`.
pub(crate) fn acosh_f32(x: f32) -> f32 {
    if x.is_nan() || x < 1.0 {
        return f32::NAN;
    }
    if x > HUGE {
        return x.ln() + std::f32::consts::LN_2;
    }
    let t = x - 1.0;
    (t + (2.0 * t + t * t).sqrt()).ln_1p()
}

/// `180 / pi` and `pi / 180` rounded to f32: MLX multiplies by the f32 constant.
pub(crate) const DEGREES_PER_RADIAN: f32 = (180.0 / std::f64::consts::PI) as f32;
pub(crate) const RADIANS_PER_DEGREE: f32 = (std::f64::consts::PI / 180.0) as f32;

/// MLX's single-precision erfinv (Giles): `logf`, then an fma polynomial. On the CPU `f32::ln` is
/// the platform's `logf` (glibc on Linux, as in MLX's Linux build), so results match MLX's bits.
pub(crate) fn erfinv_f32(a: f32) -> f32 {
    const WIDE: [f32; 9] = [
        3.03697567e-10,
        2.93243101e-8,
        1.22150334e-6,
        2.84108955e-5,
        3.93552968e-4,
        3.02698812e-3,
        4.83185798e-3,
        -2.64646143e-1,
        8.40016484e-1,
    ];
    const NARROW: [f32; 10] = [
        5.43877832e-9,
        1.43285448e-7,
        1.22774793e-6,
        1.12963626e-7,
        -5.61530760e-5,
        -1.47697632e-4,
        2.31468678e-3,
        1.15392581e-2,
        -2.32015476e-1,
        8.86226892e-1,
    ];
    let t = a.mul_add(-a, 1.0).ln();
    let c: &[f32] = if t.abs() > 6.125 { &WIDE } else { &NARROW };
    let p = c[1..].iter().fold(c[0], |p, &k| p.mul_add(t, k));
    a * p
}

/// e^x in f32 without branches or calls, so CPU loops over it vectorise: Cody-Waite reduction
/// x = n ln2 + r (|r| <= ln2 / 2), Cephes' degree-7 polynomial for e^r (about 1 ulp), and 2^n
/// built from exponent bits in two factors (so subnormal results round once). The same
/// algorithm as the GPU's `wmx_exp` (shaders/unary.wgsl), which the Exp row runs on the GPU
/// instead of WGSL's builtin `exp` (drivers' builtins can be ~100 ulp off near |x| = 88):
/// both devices give the same results. Tested in this file and in tests/gpu_math_accuracy.rs.
#[inline]
pub(crate) fn exp_f32(x: f32) -> f32 {
    let c = x.clamp(-104.0, 88.75);
    let n = (c * std::f32::consts::LOG2_E + 0.5).floor();
    let r = (c - n * 0.693359375) + n * 2.12194440e-4;
    let z = r * r;
    let mut p = 1.9875691500e-4f32;
    for k in [
        1.3981999507e-3,
        8.3334519073e-3,
        4.1665795894e-2,
        1.6666665459e-1,
        5.0000001201e-1,
    ] {
        p = p * r + k;
    }
    let p = p * z + r + 1.0;
    // n is an integer in [-150, 129] (or NaN): read it from the bits of n + 1.5 * 2^23, which
    // vectorises where `as i32` (saturating) does not.
    let k = (n + 12582912.0).to_bits() as i32 - 0x4B40_0000;
    let h = k >> 1;
    let scale = |e: i32| f32::from_bits(((e + 127) as u32) << 23);
    let y = p * scale(h) * scale(k - h);
    let y = if x > 88.72283935546875 {
        f32::INFINITY
    } else {
        y
    };
    let y = if x < -103.97208 { 0.0 } else { y };
    if x.is_nan() { x } else { y }
}

/// MLX's `exp` approximation (Cephes polynomial), used inside its `erf`.
pub(crate) fn mlx_exp(x: f32) -> f32 {
    if x.is_nan() {
        return x;
    }
    if x > 88.0 {
        return f32::INFINITY;
    }
    if x < -88.0 {
        return 0.0;
    }
    let y = x * std::f32::consts::LOG2_E; // 1.442695f32, as MLX spells it
    let ip = ((y as f64) + 0.5).floor() as f32;
    let f = y - ip;
    let mut p = 1.535336188319500e-4f32;
    for k in [
        1.339887440266574e-3f32,
        9.618437357674640e-3,
        5.550332471162809e-2,
        2.402264791363012e-1,
        6.931472028550421e-1,
        1.0,
    ] {
        p = p.mul_add(f, k);
    }
    f32::from_bits(((ip as i32 + 127) << 23) as u32) * p
}

/// MLX's erf (Abramowitz–Stegun 7.1.26 with fma); `erf(±0)` is `-0`, as in MLX.
pub(crate) fn erf_f32(x: f32) -> f32 {
    let t = 1.0f32 / 0.3275911f32.mul_add(x.abs(), 1.0);
    let mut r = 1.061405429f32.mul_add(t, -1.453152027);
    r = r.mul_add(t, 1.421413741);
    r = r.mul_add(t, -0.284496736);
    r = r.mul_add(t, 0.254829592);
    let e = -mlx_exp(-x * x);
    let res = (e * t).mul_add(r, 1.0);
    if x > 0.0 { res } else { -res }
}

#[cfg(test)]
mod tests {
    use super::exp_f32;

    /// Distance in units in the last place between two finite f32 of one sign.
    fn ulps(a: f32, b: f32) -> u32 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs() as u32
    }

    #[test]
    fn exp_f32_is_within_two_ulp_and_keeps_special_values() {
        let mut worst = 0;
        let mut x = -103.9f32;
        while x < 88.72 {
            let want = (x as f64).exp() as f32;
            if want.is_normal() {
                worst = worst.max(ulps(exp_f32(x), want));
            }
            x += 0.0137;
        }
        assert!(worst <= 2, "exp_f32 is {worst} ulp off");
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(-0.0), 1.0);
        assert_eq!(exp_f32(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp_f32(88.73), f32::INFINITY);
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_f32(-104.0), 0.0);
        assert!(exp_f32(f32::NAN).is_nan());
        assert!(exp_f32(88.72) < f32::INFINITY && exp_f32(88.72) > 3.3e38);
        // Subnormal results are rounded once (within 1 of the exact subnormal's bits).
        let (x, want) = (-100.0f32, (-100.0f64).exp() as f32);
        assert!(ulps(exp_f32(x), want) <= 1, "{} vs {want}", exp_f32(x));
    }
}
