// random.wgsl — `bits(shape, width, keys)`: MLX's Threefry-2x32 (20 rounds) counter layout, so
// the same key gives MLX's bits on every device. For each key (row-major over the key batch) the
// n elements of width bytes form B = n * width bytes = W words; word j < W/2 is x0 of
// TF(j, j + H) and word j + H its x1 (H = ceil(W/2)); for odd W the middle word is TF(W/2, 0).x0.
// Elements take the little-endian bytes of that word stream; one invocation per output word.
// Prelude provides: WG; S_OUT, C_OUT, OUT_PER_WORD, store_out; finish(bits: u32) -> C_OUT (the
//   bits themselves, or MLX's uniform [0, 1) float for a float output); the INFO_* word offsets;
//   index.wgsl.
// Bindings: 0 info ([n_total, n_per_key, width, W, H]), 1 keys (read, u32 pairs), 2 out.
// The hash and the word layout live in threefry.wgsl; random_pairs.wgsl is the faster path for
// 32-bit outputs.

@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read> keys: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<S_OUT>;

fn value_at(i: u32) -> C_OUT {
    let per_key = info[INFO_PER_KEY];
    let width = info[INFO_WIDTH];
    let k = i / per_key;
    let e = i % per_key;
    let byte = e * width;
    let word = stream_word(keys[2u * k], keys[2u * k + 1u], byte / 4u, info[INFO_WORDS], info[INFO_HALF]);
    let shift = (byte % 4u) * 8u;
    if (width == 4u) { return finish(word); }
    let mask = select(0xffu, 0xffffu, width == 2u);
    return finish((word >> shift) & mask);
}

@compute @workgroup_size(WG)
fn random_bits(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    wmx_word_entry(gid, nwg);
}
