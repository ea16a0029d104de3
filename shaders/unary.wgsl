// unary.wgsl — out[i] = op(in0[i]) for every element: unary math ops, astype and dense copies.
// Each invocation owns one 32-bit output word (OUT_PER_WORD elements: 4 for bool/uint8, 2 for
// packed f16/bf16, else 1), so packed outputs never race.
// Prelude provides: WG; S_IN0, S_OUT (storage element types); C_IN0, C_OUT (compute types);
//   OUT_PER_WORD; load_in0(i) -> C_IN0; store_out(w, array<C_OUT, OUT_PER_WORD>);
//   op(x: C_IN0) -> C_OUT; wmx_index(i, k) (dense or strided, per variant); index.wgsl.
// Bindings: 0 info (see index.wgsl), 1 in0 (read), 2 out (read_write).

@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read> in0: array<S_IN0>;
@group(0) @binding(2) var<storage, read_write> out: array<S_OUT>;

fn value_at(i: u32) -> C_OUT { return op(load_in0(wmx_index(i, 0u))); }

@compute @workgroup_size(WG)
fn unary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let w = wmx_word_id(gid, nwg);
    if (w * OUT_PER_WORD >= info[0]) { return; }
    wmx_write_word(w, info[0]);
}
