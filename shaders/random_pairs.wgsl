// random_pairs.wgsl — `bits(shape, 4, keys)` (or MLX's uniform [0, 1) floats made from them) for
// unpacked 32-bit outputs, one Threefry hash per invocation: pair j of a key's stream is
// TF(j, j + H), whose x0 is word j and x1 word j + H; for odd W the last pair is TF(W/2, 0),
// whose x0 is word W/2. Half the hashes of random.wgsl's one-word-per-invocation path.
// Prelude provides: WG; S_OUT, C_OUT; store_out1(i, v); finish(bits: u32) -> C_OUT; the INFO_*
//   word offsets; threefry.wgsl.
// Bindings: 0 info ([n_total, n_per_key (= W), 4, W, H, pairs_total]), 1 keys (read), 2 out.

@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read> keys: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<S_OUT>;

@compute @workgroup_size(WG)
fn random_pairs(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = gid.x + gid.y * nwg.x * WG;
    if (t >= info[INFO_PAIRS]) { return; }
    let h = info[INFO_HALF];
    let k = t / h;
    let j = t % h;
    let base = k * info[INFO_PER_KEY];
    let k0 = keys[2u * k];
    let k1 = keys[2u * k + 1u];
    if (j < info[INFO_WORDS] / 2u) {
        let r = threefry(k0, k1, j, j + h);
        store_out1(base + j, finish(r.x));
        store_out1(base + j + h, finish(r.y));
    } else {
        store_out1(base + j, finish(threefry(k0, k1, j, 0u).x));
    }
}
