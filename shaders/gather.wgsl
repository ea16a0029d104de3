// gather.wgsl — take along one axis: out[.., j, ..] = in0[.., idx[j], ..] for a strided input and
// dense 1-D uint32 indices (already wrapped and clamped to the axis). One invocation per output
// word, so packed dtypes never race.
// Prelude provides: WG; S_IN0, S_OUT, C_IN0 (= C_OUT), OUT_PER_WORD; load_in0(i); store_out;
//   index.wgsl (wmx_word_id, wmx_write_word, which calls value_at).
// Bindings: 0 info ([n, ndim, out_shape[ndim], in_strides[ndim], in_offset, axis]), 1 in0 (read),
//   2 idx (read, u32), 3 out (read_write).

@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read> in0: array<S_IN0>;
@group(0) @binding(2) var<storage, read> idx: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<S_OUT>;

fn value_at(i: u32) -> C_OUT {
    let ndim = info[1];
    let axis = info[3u + 2u * ndim];
    var src = bitcast<i32>(info[2u + 2u * ndim]);
    var rem = i;
    for (var d = ndim; d > 0u; d = d - 1u) {
        let dim = info[1u + d];
        var c = rem % dim;
        rem = rem / dim;
        if (d - 1u == axis) { c = idx[c]; }
        src = src + i32(c) * bitcast<i32>(info[1u + ndim + d]);
    }
    return load_in0(u32(src));
}

@compute @workgroup_size(WG)
fn gather_take(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let w = wmx_word_id(gid, nwg);
    if (w * OUT_PER_WORD >= info[0]) { return; }
    wmx_write_word(w, info[0]);
}
