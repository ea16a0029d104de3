// unary.wgsl — out[i] = op(in0[i]) for every element: unary math ops, astype and dense copies.
// Each invocation owns one 32-bit output word (OUT_PER_WORD elements: 4 for bool/uint8, 2 for
// packed f16/bf16, else 1), so packed outputs never race.
// Prelude provides: WG; S_IN0, S_OUT (storage element types); C_IN0, C_OUT (compute types);
//   OUT_PER_WORD; load_in0(i) -> C_IN0; store_out(w, array<C_OUT, OUT_PER_WORD>);
//   op(x: C_IN0) -> C_OUT (math.wgsl before it); wmx_index(i, k) (dense or strided, per
//   layout: entry points unary_contig and unary_strided); index.wgsl;
//   for unary_vec4 (quad layout) also quad_in0(q) -> vec4<C_IN0> and store4_out(q, vec4<C_OUT>).
// Bindings: 0 info (see index.wgsl), 1 in0 (read), 2 out (read_write).

@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read> in0: array<S_IN0>;
@group(0) @binding(2) var<storage, read_write> out: array<S_OUT>;

fn value_at(i: u32) -> C_OUT { return op(load_in0(wmx_index(i, 0u))); }

// The dense and strided layouts differ only in the prelude's `wmx_index`; each has its own
// entry point so that a key's name starts with the entry point it runs.
@compute @workgroup_size(WG)
fn unary_contig(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    wmx_word_entry(gid, nwg);
}

@compute @workgroup_size(WG)
fn unary_strided(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    wmx_word_entry(gid, nwg);
}

// Quad layout: an invocation per quad of four elements, or several quads on large arrays
// (the prelude's wmx_quad_entry over value4_at; n a multiple of 4; the input dense or a
// broadcast the prelude's quad_in0 reads, see quad_broadcast_loader in kernels/elementwise.rs).
@compute @workgroup_size(WG)
fn unary_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    wmx_quad_entry(gid, nwg);
}

fn value4_at(q: u32) -> vec4<C_OUT> {
    let x = quad_in0(q);
    return vec4<C_OUT>(op(x.x), op(x.y), op(x.z), op(x.w));
}
