// bf16_round.wgsl — f32 to bf16 bits, rounding to nearest even (NaN stays NaN). Not a kernel: the
// prelude generator appends it to preludes that store bf16 (output slots, scatter).
fn wmx_bf16(x: f32) -> u32 {
    let b = bitcast<u32>(x);
    if ((b & 0x7fffffffu) > 0x7f800000u) { return (b >> 16u) | 0x40u; }
    return (b + 0x7fffu + ((b >> 16u) & 1u)) >> 16u;
}
