// ternary.wgsl — out[i] = select(in2[i], in1[i], in0[i]): `where_(cond, x, y)` with a bool
// condition and x, y of the output dtype, already broadcast by strides. One invocation per word.
// Prelude provides: WG; S_IN0..S_IN2, S_OUT; C_IN0 (= bool), C_IN1 (= C_IN2 = C_OUT);
//   OUT_PER_WORD; load_in0..load_in2; store_out(w, v); wmx_index(i, k) (dense or strided, per layout: entry points ternary_contig and
//   ternary_strided); index.wgsl; for ternary_vec4 (quad layout) also quad_in0..quad_in2(q) and
//   store4_out(q, vec4<C_OUT>).
// Bindings: 0 info (see index.wgsl), 1 cond, 2 x, 3 y (read), 4 out (read_write).

@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read> in0: array<S_IN0>;
@group(0) @binding(2) var<storage, read> in1: array<S_IN1>;
@group(0) @binding(3) var<storage, read> in2: array<S_IN2>;
@group(0) @binding(4) var<storage, read_write> out: array<S_OUT>;

fn value_at(i: u32) -> C_OUT {
    return select(load_in2(wmx_index(i, 2u)), load_in1(wmx_index(i, 1u)), load_in0(wmx_index(i, 0u)));
}

// The dense and strided layouts differ only in the prelude's `wmx_index`; each has its own
// entry point so that a key's name starts with the entry point it runs.
@compute @workgroup_size(WG)
fn ternary_contig(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    wmx_word_entry(gid, nwg);
}

@compute @workgroup_size(WG)
fn ternary_strided(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    wmx_word_entry(gid, nwg);
}

// Quad layout: an invocation per quad of four elements, or several quads on large arrays
// (the prelude's wmx_quad_entry over value4_at; n a multiple of 4; inputs dense or broadcasts
// that the prelude's quad_in0..quad_in2 read).
@compute @workgroup_size(WG)
fn ternary_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    wmx_quad_entry(gid, nwg);
}

fn value4_at(q: u32) -> vec4<C_OUT> {
    return select(quad_in2(q), quad_in1(q), quad_in0(q));
}
