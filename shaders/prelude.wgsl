// prelude.wgsl — helpers every kernel's generated prelude starts with: NaN tests by bits (comparisons
// with NaN are not reliable across shader compilers) and exact (round-to-nearest-even) integer to
// f32 conversion with integer ops, so `astype` and the random distributions built on it give the
// same bits on every GPU. Not a kernel: the prelude generator (kernels/mod.rs) prepends it.
fn wmx_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
// NaN and infinity come from a runtime value: a constant expression that is NaN or infinite is a
// shader-creation error in WGSL (Chrome's Tint rejects `bitcast<f32>(0x7fc00000u)`; naga accepts it).
fn wmx_nan() -> f32 { var bits = 0x7fc00000u; return bitcast<f32>(bits); }
fn wmx_inf() -> f32 { var bits = 0x7f800000u; return bitcast<f32>(bits); }
fn wmx_u32_to_f32(x: u32) -> f32 {
    if (x == 0u) { return 0.0; }
    var e = 31u - countLeadingZeros(x);
    var m = 0u;
    if (e <= 23u) {
        m = x << (23u - e);
    } else {
        let sh = e - 23u;
        m = x >> sh;
        let rem = x & ((1u << sh) - 1u);
        let halfway = 1u << (sh - 1u);
        if (rem > halfway || (rem == halfway && (m & 1u) == 1u)) { m = m + 1u; }
        if (m == 0x1000000u) { m = m >> 1u; e = e + 1u; }
    }
    return bitcast<f32>(((e + 127u) << 23u) | (m & 0x7fffffu));
}
fn wmx_i32_to_f32(x: i32) -> f32 {
    let a = wmx_u32_to_f32(u32(abs(x)));
    return select(a, -a, x < 0);
}
