// binary.wgsl — out[i] = op(in0[i], in1[i]) for two inputs of one dtype (already broadcast by
// strides): arithmetic, comparisons (bool output), logical ops. One invocation per output word.
// Prelude provides: WG; S_IN0, S_IN1, S_OUT; C_IN0 (= C_IN1), C_OUT; OUT_PER_WORD;
//   load_in0(i), load_in1(i); store_out(w, v); op(a: C_IN0, b: C_IN0) -> C_OUT (math.wgsl before it); wmx_index(i, k)
//   (dense or strided, per layout: entry points binary_contig and
//   binary_strided); index.wgsl; for binary_vec4 (quad layout) also
//   quad_in0(q), quad_in1(q) -> vec4<C_IN0> and store4_out(q, vec4<C_OUT>).
// Bindings: 0 info (see index.wgsl), 1 in0, 2 in1 (read), 3 out (read_write).

@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read> in0: array<S_IN0>;
@group(0) @binding(2) var<storage, read> in1: array<S_IN1>;
@group(0) @binding(3) var<storage, read_write> out: array<S_OUT>;

fn value_at(i: u32) -> C_OUT { return op(load_in0(wmx_index(i, 0u)), load_in1(wmx_index(i, 1u))); }

// The dense and strided layouts differ only in the prelude's `wmx_index`; each has its own
// entry point so that a key's name starts with the entry point it runs.
@compute @workgroup_size(WG)
fn binary_contig(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    wmx_word_entry(gid, nwg);
}

@compute @workgroup_size(WG)
fn binary_strided(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    wmx_word_entry(gid, nwg);
}

// Quad layout: an invocation per quad of four elements, or several quads on large arrays
// (the prelude's wmx_quad_entry over value4_at; n a multiple of 4; inputs dense or broadcasts
// that the prelude's quad_in0/quad_in1 read).
@compute @workgroup_size(WG)
fn binary_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    wmx_quad_entry(gid, nwg);
}

fn value4_at(q: u32) -> vec4<C_OUT> {
    let a = quad_in0(q);
    let b = quad_in1(q);
    return vec4<C_OUT>(op(a.x, b.x), op(a.y, b.y), op(a.z, b.z), op(a.w, b.w));
}
