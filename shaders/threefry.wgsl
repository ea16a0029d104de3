// threefry.wgsl — shared Threefry-2x32 helpers of the random families (random, random_pairs):
// the 20-round hash with MLX's (JAX's) constants, and MLX's word layout of one key's stream.
// Not a kernel: the prelude generator appends it to those preludes. Needs nothing from them.

fn rotl(x: u32, r: u32) -> u32 {
    return (x << r) | (x >> (32u - r));
}

// Four Threefry rounds with rotations a, b, c, d (constants at every call site).
fn rounds4(v: vec2<u32>, a: u32, b: u32, c: u32, d: u32) -> vec2<u32> {
    var x0 = v.x;
    var x1 = v.y;
    x0 = x0 + x1; x1 = rotl(x1, a) ^ x0;
    x0 = x0 + x1; x1 = rotl(x1, b) ^ x0;
    x0 = x0 + x1; x1 = rotl(x1, c) ^ x0;
    x0 = x0 + x1; x1 = rotl(x1, d) ^ x0;
    return vec2<u32>(x0, x1);
}

// Threefry-2x32 with 20 rounds (the Random123 / JAX constants), unrolled so no local array is
// indexed dynamically (that would spill to memory on GPUs).
fn threefry(k0: u32, k1: u32, c0: u32, c1: u32) -> vec2<u32> {
    let k2 = k0 ^ k1 ^ 0x1BD11BDAu;
    var x = vec2<u32>(c0 + k0, c1 + k1);
    x = rounds4(x, 13u, 15u, 26u, 6u);
    x = x + vec2<u32>(k1, k2 + 1u);
    x = rounds4(x, 17u, 29u, 16u, 24u);
    x = x + vec2<u32>(k2, k0 + 2u);
    x = rounds4(x, 13u, 15u, 26u, 6u);
    x = x + vec2<u32>(k0, k1 + 3u);
    x = rounds4(x, 17u, 29u, 16u, 24u);
    x = x + vec2<u32>(k1, k2 + 4u);
    x = rounds4(x, 13u, 15u, 26u, 6u);
    x = x + vec2<u32>(k2, k0 + 5u);
    return x;
}

// Word `w` of one key's stream of `nw` words.
fn stream_word(k0: u32, k1: u32, w: u32, nw: u32, h: u32) -> u32 {
    let half = nw / 2u;
    if (w < half) { return threefry(k0, k1, w, w + h).x; }
    if (w < h) { return threefry(k0, k1, half, 0u).x; }
    return threefry(k0, k1, w - h, w).y;
}

