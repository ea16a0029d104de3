// random.wgsl — `bits(shape, width, keys)`: MLX's Threefry-2x32 (20 rounds) counter layout, so
// the same key gives MLX's bits on every device. For each key (row-major over the key batch) the
// n elements of width bytes form B = n * width bytes = W words; word j < W/2 is x0 of
// TF(j, j + H) and word j + H its x1 (H = ceil(W/2)); for odd W the middle word is TF(W/2, 0).x0.
// Elements take the little-endian bytes of that word stream; one invocation per output word.
// Prelude provides: WG; S_OUT, C_OUT, OUT_PER_WORD, store_out; finish(bits: u32) -> C_OUT (the
//   bits themselves, or MLX's uniform [0, 1) float for a float output); index.wgsl.
// Bindings: 0 info ([n_total, n_per_key, width, W, H]), 1 keys (read, u32 pairs), 2 out.

@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read> keys: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<S_OUT>;

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

fn value_at(i: u32) -> C_OUT {
    let per_key = info[1];
    let width = info[2];
    let k = i / per_key;
    let e = i % per_key;
    let byte = e * width;
    let word = stream_word(keys[2u * k], keys[2u * k + 1u], byte / 4u, info[3], info[4]);
    let shift = (byte % 4u) * 8u;
    if (width == 4u) { return finish(word); }
    let mask = select(0xffu, 0xffffu, width == 2u);
    return finish((word >> shift) & mask);
}

@compute @workgroup_size(WG)
fn random_bits(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let w = wmx_word_id(gid, nwg);
    if (w * OUT_PER_WORD >= info[0]) { return; }
    wmx_write_word(w, info[0]);
}
