// math.wgsl — the float and integer math the elementwise op table's WGSL expressions call
// (`wmx_exp`, `wmx_log`, `wmx_sin`, `wmx_div`, `wmx_pow`, ...): software versions accurate to a few
// ulp on every GPU, with IEEE special values. Not a kernel: the prelude generator appends it to the
// preludes of the elementwise families (unary, binary and the generated fused kernels).

// ---- ops of one input ----
// Natural log within about 1 ulp (Cephes' logf): GPU `log` is often several ulp off, which the
// random distributions (erfinv's tails) would amplify.
fn wmx_log(v: f32) -> f32 {
    if (wmx_isnan(v) || v < 0.0) { return wmx_nan(); }
    if (v == 0.0) { return -wmx_inf(); }
    if (bitcast<u32>(v) == 0x7f800000u) { return v; }
    var b = bitcast<u32>(v);
    var e = 0;
    if (b < 0x00800000u) { b = bitcast<u32>(v * 8388608.0); e = -23; }
    e = e + i32(b >> 23u) - 126;
    var x = bitcast<f32>((b & 0x007fffffu) | 0x3f000000u);
    if (x < 0.70710678118654752440) { e = e - 1; x = x + x - 1.0; } else { x = x - 1.0; }
    let z = x * x;
    var y = 7.0376836292e-2;
    y = y * x - 1.1514610310e-1; y = y * x + 1.1676998740e-1; y = y * x - 1.2420140846e-1;
    y = y * x + 1.4249322787e-1; y = y * x - 1.6668057665e-1; y = y * x + 2.0000714765e-1;
    y = y * x - 2.4999993993e-1; y = y * x + 3.3333331174e-1;
    y = y * x * z;
    let fe = f32(e);
    y = y + -2.12194440e-4 * fe;
    y = y + -0.5 * z;
    return x + y + 0.693359375 * fe;
}

// log(1 + x) without cancellation for small x.
fn wmx_log1p(x: f32) -> f32 {
    let u = 1.0 + x;
    if (u == 1.0) { return x; }
    if (bitcast<u32>(u) == 0x7f800000u) { return u; }
    return wmx_log(u) * (x / (u - 1.0));
}

// e^x within a few ulp up to f32's largest result (GPU `exp` is exp2(x * log2 e), whose rounded
// argument costs up to ~100 ulp at |x| ~ 88): x = n ln2 + r (Cody-Waite), then Cephes' expf
// polynomial for e^r, scaled by 2^n in two steps so 2^128 never appears.
fn wmx_exp(x: f32) -> f32 {
    let c = clamp(x, -104.0, 88.75);
    let n = floor(c * 1.44269504088896341 + 0.5);
    let r = (c - n * 0.693359375) + n * 2.12194440e-4;
    let z = r * r;
    var p = 1.9875691500e-4;
    p = p * r + 1.3981999507e-3; p = p * r + 8.3334519073e-3; p = p * r + 4.1665795894e-2;
    p = p * r + 1.6666665459e-1; p = p * r + 5.0000001201e-1;
    p = p * z + r + 1.0;
    // 2^n in two normal factors built from exponent bits (n in [-150, 129]): cheaper than
    // ldexp, and a subnormal result is rounded once, by the last multiply.
    let k = i32(n);
    let h = k >> 1u;
    let y = p * bitcast<f32>(u32(h + 127) << 23u) * bitcast<f32>(u32(k - h + 127) << 23u);
    var e = select(y, wmx_inf(), x > 88.72283935546875);
    e = select(e, 0.0, x < -103.97208);
    return select(e, x, wmx_isnan(x));
}

// e^x - 1 without cancellation for small x (Kahan's trick, using the accurate wmx_log).
fn wmx_expm1(x: f32) -> f32 {
    let u = wmx_exp(x);
    if (u == 1.0) { return x; }
    let um1 = u - 1.0;
    if (um1 == -1.0) { return -1.0; }
    if (bitcast<u32>(u) == 0x7f800000u) { return u; }
    return um1 * (x / wmx_log(u));
}

// log2 as exponent + log of a mantissa in [sqrt(1/2), sqrt(2)): exact at powers of two.
fn wmx_log2(v: f32) -> f32 {
    if (wmx_isnan(v) || v <= 0.0 || bitcast<u32>(v) == 0x7f800000u) { return wmx_log(v); }
    var b = bitcast<u32>(v);
    var e = 0;
    if (b < 0x00800000u) { b = bitcast<u32>(v * 8388608.0); e = -23; }
    e = e + i32(b >> 23u) - 127;
    var m = bitcast<f32>((b & 0x007fffffu) | 0x3f800000u);
    if (m > 1.41421356237) { m = m * 0.5; e = e + 1; }
    return f32(e) + wmx_log(m) * 1.44269504088896340736;
}

// a * b as (low, high) 32-bit words (WGSL has no 64-bit integers).
fn wmx_mul_wide(a: u32, b: u32) -> vec2<u32> {
    let a0 = a & 0xffffu; let a1 = a >> 16u; let b0 = b & 0xffffu; let b1 = b >> 16u;
    let p00 = a0 * b0; let p01 = a0 * b1; let p10 = a1 * b0;
    let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
    return vec2<u32>((p00 & 0xffffu) | (mid << 16u), a1 * b1 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u));
}

// Payne-Hanek reduction of a finite |x| >= 2^14: x = (q + f) * pi/2 with |f| <= 1/2, returned as
// (f * pi/2, q mod 4). GPU sin/cos/tan reduce with a short pi and are wrong from ~2^31 up. The
// 96 bits of 1/(2 pi) at x's exponent times x's 32-bit mantissa give x/(2 pi) mod 1 in 64 bits.
fn wmx_trig_reduce(x: f32) -> vec2<f32> {
    var inv_2pi = array<u32, 7>(0u, 0x28be60dbu, 0x9391054au, 0x7f09d5f4u, 0x7d4d3770u, 0x36d8a566u, 0x4f10e410u);
    let fr = frexp(abs(x));
    let ia = u32(fr.fract * 4294967296.0);
    let i = u32(fr.exp) >> 5u;
    let e = u32(fr.exp) & 31u;
    var hi = inv_2pi[i];
    var mid = inv_2pi[i + 1u];
    var lo = inv_2pi[i + 2u];
    if (e != 0u) {
        hi = (hi << e) | (mid >> (32u - e));
        mid = (mid << e) | (lo >> (32u - e));
        lo = (lo << e) | (inv_2pi[min(i + 3u, 6u)] >> (32u - e));
    }
    // p = x / (2 pi) mod 1 as a 0.64 fixed-point number = x / (pi/2) mod 4 in 2.62
    let pl = wmx_mul_wide(ia, lo);
    var p = wmx_mul_wide(ia, mid);
    let low = p.x + pl.y;
    p = vec2<u32>(low, p.y + select(0u, 1u, low < p.x) + ia * hi);
    var q = p.y >> 30u;
    p.y = p.y & 0x3fffffffu;
    if ((p.y & 0x20000000u) != 0u) { p.y = p.y - 0x40000000u; q = q + 1u; }
    let neg = (p.y & 0x80000000u) != 0u;
    if (neg) {
        let l = ~p.x + 1u;
        p = vec2<u32>(l, ~p.y + select(0u, 1u, l == 0u));
    }
    var f = (f32(p.y) * 9.313225746154785e-10 + f32(p.x) * 2.168404344971009e-19) * 1.5707963267948966;
    if (neg) { f = -f; }
    if (x < 0.0) { f = -f; q = 0u - q; }
    return vec2<f32>(f, f32(q & 3u));
}

// x = q * pi/2 + r with |r| <= ~pi/4, returned as (r, q mod 4), for any finite x: Cody-Waite
// below 2^14 (pi/2 in four parts of at most 10, 10, 10 and 24 bits, so every j * part with
// j < 2^14 is exact in f32 without relying on fma), Payne-Hanek above.
fn wmx_trig_args(x: f32) -> vec2<f32> {
    if (abs(x) >= 16384.0) { return wmx_trig_reduce(x); }
    let j = round(x * 0.63661977236758134);
    var r = x - j * 1.5703125;
    r = r - j * 4.839897155761719e-4;
    r = r - j * -1.6298145055770874e-7;
    r = r - j * 6.07710062827671e-11;
    return vec2<f32>(r, f32(i32(j) & 3));
}

// Cephes' sinf/cosf polynomials on [-pi/4, pi/4] (about 1 ulp; keep -0).
fn wmx_sin_poly(r: f32) -> f32 {
    let z = r * r;
    return ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * r + r;
}

fn wmx_cos_poly(r: f32) -> f32 {
    let z = r * r;
    return ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z
        - 0.5 * z + 1.0;
}

// sin, cos, tan fully in software (no builtin: GPU sin/cos are approximations good to ~4e-6
// absolute on NVIDIA, and reduce huge arguments with a short pi): wmx_trig_args, then the
// polynomial of the quadrant. NaN for inf and NaN.
fn wmx_sin(x: f32) -> f32 {
    if ((bitcast<u32>(x) & 0x7fffffffu) >= 0x7f800000u) { return wmx_nan(); }
    // odd: computed at |x|, so sin(-0) is -0
    let a = wmx_trig_args(abs(x));
    let q = u32(a.y);
    let v = select(wmx_sin_poly(a.x), wmx_cos_poly(a.x), (q & 1u) == 1u);
    return select(v, -v, (q >= 2u) != ((bitcast<u32>(x) & 0x80000000u) != 0u));
}

fn wmx_cos(x: f32) -> f32 {
    if ((bitcast<u32>(x) & 0x7fffffffu) >= 0x7f800000u) { return wmx_nan(); }
    let a = wmx_trig_args(x);
    let q = u32(a.y);
    let v = select(wmx_cos_poly(a.x), wmx_sin_poly(a.x), (q & 1u) == 1u);
    return select(v, -v, q == 1u || q == 2u);
}

// Cephes' tanf polynomial on [-pi/4, pi/4]; -1/tan(r) in odd quadrants.
fn wmx_tan(x: f32) -> f32 {
    if ((bitcast<u32>(x) & 0x7fffffffu) >= 0x7f800000u) { return wmx_nan(); }
    // odd: computed at |x|, so tan(-0) is -0
    let a = wmx_trig_args(abs(x));
    let r = a.x;
    let z = r * r;
    var t = r;
    if (abs(r) > 1e-4) {
        t = (((((9.38540185543e-3 * z + 3.11992232697e-3) * z + 2.44301354525e-2) * z
            + 5.34112807005e-2) * z + 1.33387994085e-1) * z + 3.33331568548e-1) * z * r + r;
    }
    let v = select(t, -1.0 / t, (u32(a.y) & 1u) == 1u);
    return select(v, -v, (bitcast<u32>(x) & 0x80000000u) != 0u);
}

// The sign bit of s on the magnitude of r (keeps -0, as MLX's odd functions do).
fn wmx_copysign(r: f32, s: f32) -> f32 {
    return bitcast<f32>((bitcast<u32>(r) & 0x7fffffffu) | (bitcast<u32>(s) & 0x80000000u));
}

// atan within ~2 ulp (Cephes' atanf): GPU atan/asin/acos can be 1e-4 off (lavapipe) and lose -0.
fn wmx_atan(x: f32) -> f32 {
    let a = abs(x);
    var y = 0.0;
    var t = a;
    if (a > 2.414213562373095) {
        y = 1.5707963267948966;
        t = -1.0 / a;
    } else if (a > 0.4142135623730950) {
        y = 0.7853981633974483;
        t = (a - 1.0) / (a + 1.0);
    }
    let z = t * t;
    let p = (((8.05374449538e-2 * z - 1.38776856032e-1) * z + 1.99777106478e-1) * z
        - 3.33329491539e-1) * z * t + t;
    return wmx_copysign(y + p, x);
}

// asin(x) = atan(x / sqrt((1 - x)(1 + x))): pi/2 at 1, NaN beyond.
fn wmx_asin(x: f32) -> f32 {
    if (wmx_isnan(x) || abs(x) > 1.0) { return wmx_nan(); }
    if (abs(x) == 1.0) { return wmx_copysign(1.5707963267948966, x); }
    return wmx_atan(x / sqrt((1.0 - x) * (1.0 + x)));
}

// acos(x) = 2 atan(sqrt((1 - x) / (1 + x))).
fn wmx_acos(x: f32) -> f32 {
    // The domain first: GPUs divide as a * (1 / b), which flushes for huge |x|.
    if (wmx_isnan(x) || abs(x) > 1.0) { return wmx_nan(); }
    if (x == -1.0) { return 3.14159265358979323846; }
    return 2.0 * wmx_atan(sqrt((1.0 - x) / (1.0 + x)));
}

// sinh: expm1 below 1 (no cancellation), else e^(a/2) squared, finite up to f32's max.
fn wmx_sinh(x: f32) -> f32 {
    let a = abs(x);
    var r: f32;
    if (a < 1.0) {
        let t = wmx_expm1(a);
        r = 0.5 * (t + t / (t + 1.0));
    } else if (a < 9.0) {
        let e = wmx_exp(0.5 * a);
        r = (0.5 * e) * e - (0.5 / e) / e;
    } else {
        r = wmx_half_exp(a);
    }
    return wmx_copysign(r, x);
}

// e^a / 2 for a >= 9 (where e^-a is below half an ulp of it), finite up to f32's max: e^(a - c1)
// with c1 = 0.693359375 (a - c1 is exact), times e^(c1 - ln 2). No product of two large numbers,
// which a compiler could reassociate into an overflow.
fn wmx_half_exp(a: f32) -> f32 {
    return wmx_exp(a - 0.693359375) * 1.0002122169548875;
}

fn wmx_cosh(x: f32) -> f32 {
    let a = abs(x);
    if (a >= 9.0) { return wmx_half_exp(a); }
    let e = wmx_exp(0.5 * a);
    return (0.5 * e) * e + (0.5 / e) / e;
}

// asinh(|x|) = log1p(a + a^2 / (1 + sqrt(1 + a^2))); log(2a) where a^2 would overflow.
fn wmx_asinh(x: f32) -> f32 {
    let a = abs(x);
    var r: f32;
    if (a > 1e10) {
        r = wmx_log(a) + 0.69314718055994530942;
    } else {
        r = wmx_log1p(a + a * a / (1.0 + sqrt(1.0 + a * a)));
    }
    return wmx_copysign(r, x);
}

// acosh(x) = log1p(t + sqrt(2t + t^2)) with t = x - 1; log(2x) where x^2 would overflow.
fn wmx_acosh(x: f32) -> f32 {
    if (wmx_isnan(x) || x < 1.0) { return wmx_nan(); }
    if (x > 1e10) { return wmx_log(x) + 0.69314718055994530942; }
    let t = x - 1.0;
    return wmx_log1p(t + sqrt(2.0 * t + t * t));
}

// atanh(x) = log1p(2x / (1 - x)) / 2: no cancellation near 0.
fn wmx_atanh(x: f32) -> f32 {
    if (wmx_isnan(x) || abs(x) > 1.0) { return wmx_nan(); }
    if (abs(x) == 1.0) { return wmx_copysign(wmx_inf(), x); }
    return 0.5 * wmx_log1p(2.0 * x / (1.0 - x));
}

// MLX's single-precision erfinv (Giles): log, then an fma polynomial in it.
fn wmx_erfinv(a: f32) -> f32 {
    let t = wmx_log(fma(a, -a, 1.0));
    if (abs(t) > 6.125) {
        var p = 3.03697567e-10;
        p = fma(p, t, 2.93243101e-8); p = fma(p, t, 1.22150334e-6); p = fma(p, t, 2.84108955e-5);
        p = fma(p, t, 3.93552968e-4); p = fma(p, t, 3.02698812e-3); p = fma(p, t, 4.83185798e-3);
        p = fma(p, t, -2.64646143e-1); p = fma(p, t, 8.40016484e-1);
        return a * p;
    }
    var p = 5.43877832e-9;
    p = fma(p, t, 1.43285448e-7); p = fma(p, t, 1.22774793e-6); p = fma(p, t, 1.12963626e-7);
    p = fma(p, t, -5.61530760e-5); p = fma(p, t, -1.47697632e-4); p = fma(p, t, 2.31468678e-3);
    p = fma(p, t, 1.15392581e-2); p = fma(p, t, -2.32015476e-1); p = fma(p, t, 8.86226892e-1);
    return a * p;
}

// MLX's erf (Abramowitz-Stegun 7.1.26 with fma); erf(+-0) is -0 as in MLX.
fn wmx_erf(x: f32) -> f32 {
    let t = 1.0 / fma(0.3275911, abs(x), 1.0);
    var r = fma(1.061405429, t, -1.453152027);
    r = fma(r, t, 1.421413741);
    r = fma(r, t, -0.284496736);
    r = fma(r, t, 0.254829592);
    let e = -exp(-x * x);
    let res = fma(e * t, r, 1.0);
    return select(-res, res, x > 0.0);
}

// ---- ops of two inputs ----
// Correctly rounded a / b (IEEE): SPIR-V's OpFDiv may be 2.5 ulp off (NVIDIA: 1e10 / 3 is one
// ulp high) and x / b for |b| > 2^126 may go through a flushed reciprocal (inf / 3e38 = NaN).
// Special values first; then the 24-bit mantissas A / B (A scaled so the ratio is in [1, 2)):
// an f32 estimate Q of A / B * 2^23, its exact residual A * 2^23 - Q * B in wrapping u32
// arithmetic (it is small), and Q moved until |residual| <= B / 2 (round to nearest; a tie is
// impossible for a quotient of two 24-bit numbers). No fma needed (Vulkan's may be unfused).
// The exponent goes on in two ldexp steps (one rounding, only for subnormal results).
fn wmx_div(a: f32, b: f32) -> f32 {
    let sign = (bitcast<u32>(a) ^ bitcast<u32>(b)) & 0x80000000u;
    let inf = bitcast<f32>(sign | 0x7f800000u);
    let zero = bitcast<f32>(sign);
    let ua = abs(a);
    let ub = abs(b);
    if (wmx_isnan(a) || wmx_isnan(b) || (ua == ub && (ua == 0.0 || ua == abs(inf)))) {
        return wmx_nan();
    }
    if (ua == abs(inf) || ub == 0.0) { return inf; }
    if (ub == abs(inf) || ua == 0.0) { return zero; }
    let fa = frexp(ua);
    let fb = frexp(ub);
    var m = u32(fa.fract * 16777216.0);
    let d = u32(fb.fract * 16777216.0);
    if (m == 0u || d == 0u) { return a / b; }
    var k = fa.exp - fb.exp;
    if (m < d) { m = m << 1u; k = k - 1; }
    var q = u32(f32(m) / f32(d) * 8388608.0);
    var r = bitcast<i32>((m << 23u) - q * d);
    let di = i32(d);
    for (var i = 0; i < 6; i = i + 1) {
        if (2 * r > di) { q = q + 1u; r = r - di; } else if (2 * r < -di) { q = q - 1u; r = r + di; }
    }
    if (k > 127) { return inf; }
    if (k < -151) { return zero; }
    let e = k - 23;
    let h = e / 2;
    return bitcast<f32>(bitcast<u32>(ldexp(ldexp(f32(q), h), e - h)) | sign);
}

// floor(a / b): a nonzero finite quotient that the GPU flushed to zero (it was subnormal) still
// floors to -1 when negative, as the exact quotient does.
fn wmx_floor_div(a: f32, b: f32) -> f32 {
    let q = wmx_div(a, b);
    let inf = wmx_inf();
    if (q == 0.0 && a != 0.0 && abs(b) < inf && abs(a) < inf && ((a < 0.0) != (b < 0.0))) {
        return -1.0;
    }
    return floor(q);
}

// C's pow: WGSL's pow (exp2(b * log2(a))) is undefined for a <= 0, so zero, negative and
// infinite bases and the exponents 0 and +-inf are handled here; pow(x, 0) = pow(1, y) = 1.
fn wmx_pow(a: f32, b: f32) -> f32 {
    let inf = wmx_inf();
    if (b == 0.0 || a == 1.0) { return 1.0; }
    if (wmx_isnan(a) || wmx_isnan(b)) { return wmx_nan(); }
    let m = abs(a);
    if (abs(b) == inf) {
        if (m == 1.0) { return 1.0; }
        return select(0.0, inf, (m > 1.0) == (b > 0.0));
    }
    let integral = b == floor(b);
    // integers above 2^24 are all even
    let odd = integral && abs(b) < 16777216.0 && (abs(b) % 2.0) == 1.0;
    var r: f32;
    if (m == 0.0) {
        r = select(0.0, inf, b < 0.0);
    } else if (m == inf) {
        r = select(inf, 0.0, b < 0.0);
    } else if (a < 0.0 && !integral) {
        return wmx_nan();
    } else if (m < 1.17549435e-38) {
        // subnormal base: GPU log2 is inexact there, so scale it into the normal range
        r = pow(m * 16777216.0, b) * exp2(-24.0 * b);
    } else {
        r = pow(m, b);
    }
    return select(r, -r, odd && (bitcast<u32>(a) & 0x80000000u) != 0u);
}

fn wmx_ipow(a: i32, b: i32) -> i32 {
    if (b < 0) { return 0; }
    var r = 1;
    var base = a;
    var e = u32(b);
    loop {
        if (e == 0u) { break; }
        if ((e & 1u) == 1u) { r = r * base; }
        base = base * base;
        e = e >> 1u;
    }
    return r;
}

fn wmx_upow(a: u32, b: u32) -> u32 {
    var r = 1u;
    var base = a;
    var e = b;
    loop {
        if (e == 0u) { break; }
        if ((e & 1u) == 1u) { r = r * base; }
        base = base * base;
        e = e >> 1u;
    }
    return r;
}

// Python's // on integers: rounds toward -inf; x // 0 is 0 and MIN // -1 wraps (WGSL's / gives
// x for both, so they are handled first).
fn wmx_floor_divide_i(a: i32, b: i32) -> i32 {
    if (b == 0) { return 0; }
    if (b == -1) { return 0 - a; }
    let q = a / b;
    return select(q, q - 1, q * b != a && ((a < 0) != (b < 0)));
}

// Python's % on integers: the divisor's sign; x % 0 is x.
fn wmx_remainder_i(a: i32, b: i32) -> i32 {
    if (b == 0) { return a; }
    if (b == -1) { return 0; }
    // The truncated remainder from magnitudes: `%` of negative integers is undefined in GLSL,
    // which the GL backend translates to (llvmpipe returned 5 for 7 % -2).
    let m = i32(select(u32(a), 0u - u32(a), a < 0) % select(u32(b), 0u - u32(b), b < 0));
    let r = select(m, -m, a < 0);
    return select(r, r + b, r != 0 && ((r < 0) != (b < 0)));
}

// Exact fmod (C's): WGSL's float % is a - b * trunc(a / b), which loses the low bits when a / b
// is large. Subtracts b scaled by powers of two; each subtraction is exact (Sterbenz).
fn wmx_fmod(a: f32, b: f32) -> f32 {
    let inf = wmx_inf();
    let y = abs(b);
    var x = abs(a);
    if (wmx_isnan(a) || wmx_isnan(b) || x == inf || y == 0.0) { return wmx_nan(); }
    if (y == inf) { return a; }
    let ey = frexp(y).exp;
    for (var i = 0; i < 300 && x >= y; i = i + 1) {
        var ys = ldexp(y, frexp(x).exp - ey);
        if (ys > x) { ys = ys * 0.5; }
        x = x - ys;
    }
    return bitcast<f32>(bitcast<u32>(x) | (bitcast<u32>(a) & 0x80000000u));
}

// Python's % on floats: fmod moved into the divisor's sign.
fn wmx_remainder_f(a: f32, b: f32) -> f32 {
    let r = wmx_fmod(a, b);
    return select(r, r + b, r != 0.0 && ((r < 0.0) != (b < 0.0)));
}

// log(e^a + e^b) = max + log1p(e^-|a - b|), with infinities and NaN first.
fn wmx_logaddexp(a: f32, b: f32) -> f32 {
    if (wmx_isnan(a) || wmx_isnan(b)) { return wmx_nan(); }
    let m = max(a, b);
    if ((bitcast<u32>(m) & 0x7fffffffu) == 0x7f800000u) { return m; }
    let t = exp(-abs(a - b));
    let u = 1.0 + t;
    // log1p(t) for t in [0, 1]: log(u) corrected by the rounding of u.
    var l = t;
    if (u != 1.0) { l = log(u) * t / (u - 1.0); }
    return m + l;
}

// atan2 from a Cephes atanf polynomial on min/max of |a|, |b| (within a few ulp; GPU atan2 can
// be 60 ulp off and drops NaN), with IEEE signed zeros and infinities.
fn wmx_atan2(a: f32, b: f32) -> f32 {
    if (wmx_isnan(a) || wmx_isnan(b)) { return wmx_nan(); }
    let pi = 3.14159265358979323846;
    let y = abs(a);
    let x = abs(b);
    let neg_x = (bitcast<u32>(b) & 0x80000000u) != 0u;
    var r: f32;
    if (y == x) {
        // both zero, both infinite or equal: 0 or pi for zeros, pi/4 or 3pi/4 otherwise
        if (y == 0.0) { r = select(0.0, pi, neg_x); } else { r = select(0.78539816339744831, 2.35619449019234492, neg_x); }
    } else {
        var t = min(x, y) / max(x, y);
        var base = 0.0;
        if (t > 0.4142135623730950) { base = 0.78539816339744831; t = (t - 1.0) / (t + 1.0); }
        let z = t * t;
        var q = (((8.05374449538e-2 * z - 1.38776856032e-1) * z + 1.99777106478e-1) * z
            - 3.33329491539e-1) * z * t + t + base;
        if (y > x) { q = 1.57079632679489662 - q; }
        r = select(q, pi - q, neg_x);
    }
    return bitcast<f32>((bitcast<u32>(r) & 0x7fffffffu) | (bitcast<u32>(a) & 0x80000000u));
}
