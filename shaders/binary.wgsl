// binary.wgsl — out[i] = op(in0[i], in1[i]) for two inputs of one dtype (already broadcast by
// strides): arithmetic, comparisons (bool output), logical ops. One invocation per output word.
// Prelude provides: WG; S_IN0, S_IN1, S_OUT; C_IN0 (= C_IN1), C_OUT; OUT_PER_WORD;
//   load_in0(i), load_in1(i); store_out(w, v); op(a: C_IN0, b: C_IN0) -> C_OUT; wmx_index(i, k)
//   (dense or strided, per layout: entry points binary_contig and
//   binary_strided); index.wgsl; for binary_vec4 (quad layout) also
//   quad_in0(q), quad_in1(q) -> vec4<C_IN0> and store4_out(q, vec4<C_OUT>).
// Bindings: 0 info (see index.wgsl), 1 in0, 2 in1 (read), 3 out (read_write).

@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read> in0: array<S_IN0>;
@group(0) @binding(2) var<storage, read> in1: array<S_IN1>;
@group(0) @binding(3) var<storage, read_write> out: array<S_OUT>;

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

fn value_at(i: u32) -> C_OUT { return op(load_in0(wmx_index(i, 0u)), load_in1(wmx_index(i, 1u))); }

// The dense and strided layouts differ only in the prelude's `wmx_index`; each has its own
// entry point so that a key's name starts with the entry point it runs.
@compute @workgroup_size(WG)
fn binary_contig(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    wmx_word_entry(gid, nwg);
}

@compute @workgroup_size(WG)
fn binary_strided(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    wmx_word_entry(gid, nwg);
}

// Quad layout: one invocation per four elements (n a multiple of 4; inputs dense or broadcasts
// that the prelude's quad_in0/quad_in1 read).
@compute @workgroup_size(WG)
fn binary_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let q = wmx_word_id(gid, nwg);
    if (q * 4u >= info[INFO_N]) { return; }
    let a = quad_in0(q);
    let b = quad_in1(q);
    store4_out(q, vec4<C_OUT>(op(a.x, b.x), op(a.y, b.y), op(a.z, b.z), op(a.w, b.w)));
}
