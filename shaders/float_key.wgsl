// float_key.wgsl — order-preserving u32 key of f32 bits for the sort family: NaN (any payload) last,
// -0.0 as 0.0, negatives reversed. Not a kernel: the sort prelude appends it.
fn wmx_float_key(b0: u32) -> u32 {
    let mag = b0 & 0x7fffffffu;
    if (mag > 0x7f800000u) { return 0xffffffffu; }
    if (mag == 0u) { return 0x80000000u; }
    return select(b0 | 0x80000000u, ~b0, (b0 & 0x80000000u) != 0u);
}
