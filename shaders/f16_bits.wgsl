// f16_bits.wgsl — packed f16 without `pack2x16float`: that builtin needs a downlevel capability (f16
// in f32) that GL ES adapters and llvmpipe lack, so half floats are converted with integer ops (round
// to nearest even, subnormals, inf and NaN kept), like the bf16 helper. Not a kernel: the prelude
// generator appends it when f16 is packed, and to the scatter prelude (raw u32 output words).
fn wmx_f16_to_f32(h: u32) -> f32 {
    let s = (h & 0x8000u) << 16u;
    let e = (h >> 10u) & 0x1fu;
    let m = h & 0x3ffu;
    if (e == 0u) {
        let v = f32(m) * 5.9604645e-8;
        return select(v, -v, s != 0u);
    }
    if (e == 31u) { return bitcast<f32>(s | 0x7f800000u | (m << 13u)); }
    return bitcast<f32>(s | ((e + 112u) << 23u) | (m << 13u));
}
fn wmx_f32_to_f16(x: f32) -> u32 {
    let b = bitcast<u32>(x);
    let s = (b >> 16u) & 0x8000u;
    let a = b & 0x7fffffffu;
    if (a > 0x7f800000u) { return s | 0x7e00u; }
    if (a >= 0x477ff000u) { return s | 0x7c00u; }
    if (a < 0x38800000u) {
        let v = bitcast<f32>(a) * 16777216.0;
        let r = u32(v);
        let frac = v - f32(r);
        var q = r;
        if (frac > 0.5 || (frac == 0.5 && (r & 1u) == 1u)) { q = r + 1u; }
        return s | q;
    }
    var h = (((a >> 23u) - 112u) << 10u) | ((a >> 13u) & 0x3ffu);
    let rem = a & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u) == 1u)) { h = h + 1u; }
    return s | h;
}
