// fused.wgsl — out[i] = expr_at(in0[i], .., inN[i]): a fused elementwise region that `compile`
// found (unary, binary, where, astype and scalar steps), one generated kernel instead of a kernel
// per op. Each invocation owns one 32-bit output word (OUT_PER_WORD elements), or four elements in
// the quad layout.
// Prelude provides (generated per expression, kernels/fused.rs): WG; the input bindings
//   in0..inN (1..N+1) with their slots (S_INk, C_INk, load_ink, quad_ink), the output binding
//   `out` (N+1) with S_OUT, C_OUT, OUT_PER_WORD, store_out, store4_out; math.wgsl; one function per
//   op the expression uses (from the op table); expr_at; value_at(i); value4_at(q); wmx_index
//   (dense or strided, per layout); index.wgsl.
// Bindings: 0 info (see index.wgsl), 1..N inputs (read), N+1 out (read_write).

@group(0) @binding(0) var<storage, read> info: array<u32>;

@compute @workgroup_size(WG)
fn fused_contig(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    wmx_word_entry(gid, nwg);
}

@compute @workgroup_size(WG)
fn fused_strided(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    wmx_word_entry(gid, nwg);
}

// Quad layout: an invocation per quad of four elements, or several quads on large arrays
// (the prelude's wmx_quad_entry over value4_at; n a multiple of 4; inputs dense or broadcasts
// that quad_in0..quad_inN read).
@compute @workgroup_size(WG)
fn fused_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    wmx_quad_entry(gid, nwg);
}
