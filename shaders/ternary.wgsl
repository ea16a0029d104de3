// ternary.wgsl — out[i] = select(in2[i], in1[i], in0[i]): `where_(cond, x, y)` with a bool
// condition and x, y of the output dtype, already broadcast by strides. One invocation per word.
// Prelude provides: WG; S_IN0..S_IN2, S_OUT; C_IN0 (= bool), C_IN1 (= C_IN2 = C_OUT);
//   OUT_PER_WORD; load_in0..load_in2; store_out(w, v); index helpers.
// Bindings: 0 info (see index.wgsl), 1 cond, 2 x, 3 y (read), 4 out (read_write).

@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read> in0: array<S_IN0>;
@group(0) @binding(2) var<storage, read> in1: array<S_IN1>;
@group(0) @binding(3) var<storage, read> in2: array<S_IN2>;
@group(0) @binding(4) var<storage, read_write> out: array<S_OUT>;

@compute @workgroup_size(WG)
fn ternary_contig(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let w = wmx_word_id(gid, nwg);
    let n = info[0];
    if (w * OUT_PER_WORD >= n) { return; }
    var v: array<C_OUT, OUT_PER_WORD>;
    for (var j = 0u; j < OUT_PER_WORD; j = j + 1u) {
        let i = w * OUT_PER_WORD + j;
        if (i < n) {
            v[j] = select(load_in2(wmx_contig_index(i, 2u)), load_in1(wmx_contig_index(i, 1u)), load_in0(wmx_contig_index(i, 0u)));
        }
    }
    store_out(w, v);
}

@compute @workgroup_size(WG)
fn ternary_strided(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let w = wmx_word_id(gid, nwg);
    let n = info[0];
    if (w * OUT_PER_WORD >= n) { return; }
    var v: array<C_OUT, OUT_PER_WORD>;
    for (var j = 0u; j < OUT_PER_WORD; j = j + 1u) {
        let i = w * OUT_PER_WORD + j;
        if (i < n) {
            v[j] = select(load_in2(wmx_strided_index(i, 2u)), load_in1(wmx_strided_index(i, 1u)), load_in0(wmx_strided_index(i, 0u)));
        }
    }
    store_out(w, v);
}
