// gather.wgsl — gathers of a strided input at integer indices, one invocation per output word (so
// packed dtypes never race):
//   gather_take: take along one axis, out[.., j, ..] = in0[.., idx[j], ..], with dense 1-D indices
//     already wrapped and clamped to the axis.
//   gather_slices: MLX's gather, out[I, S] = in0[start(I) + S], where the indices are int32
//     stacked as [k, m] (row j indexes axis `axes[j]`; a negative index wraps once, then the start
//     is clamped so the slice fits) and unindexed axes start at 0.
// Prelude provides: WG; S_IN0, S_OUT, C_IN0 (= C_OUT), OUT_PER_WORD; load_in0(i); store_out;
//   value_at(i), which calls take_value or gather_value; the INFO_* word offsets; index.wgsl
//   (wmx_word_entry).
// Bindings: 0 info, 1 in0 (read), 2 idx (read, i32), 3 out (read_write).
// info of gather_take: [n, ndim, out_shape[ndim], in_strides[ndim], in_offset, axis].
// info of gather_slices: [n, ndim, slice_total, m, in_offset, in_shape[ndim], in_strides[ndim],
//   slice_sizes[ndim], slots[ndim]] where slots[d] is j + 1 when axis d is indexed by row j, else 0.

@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read> in0: array<S_IN0>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<S_OUT>;

fn take_value(i: u32) -> C_OUT {
    let ndim = info[INFO_NDIM];
    let axis = info[INFO_TAKE_SHAPE + 1u + 2u * ndim];
    var src = bitcast<i32>(info[INFO_TAKE_SHAPE + 2u * ndim]);
    var rem = i;
    for (var d = ndim; d > 0u; d = d - 1u) {
        let dim = info[INFO_NDIM + d];
        var c = rem % dim;
        rem = rem / dim;
        if (d - 1u == axis) { c = u32(idx[c]); }
        src = src + i32(c) * bitcast<i32>(info[INFO_NDIM + ndim + d]);
    }
    return load_in0(u32(src));
}

fn gather_value(i: u32) -> C_OUT {
    let ndim = info[INFO_NDIM];
    let slice_total = info[INFO_SLICE_TOTAL];
    let m = info[INFO_M];
    let row = i / slice_total;
    var rem = i % slice_total;
    var src = bitcast<i32>(info[INFO_OFFSET]);
    for (var d = ndim; d > 0u; d = d - 1u) {
        let n = i32(info[INFO_OFFSET + d]);
        let size = info[INFO_OFFSET + 2u * ndim + d];
        let c = rem % size;
        rem = rem / size;
        var start = 0;
        let slot = info[INFO_OFFSET + 3u * ndim + d];
        if (slot > 0u) {
            var j = idx[(slot - 1u) * m + row];
            if (j < 0) { j = j + n; }
            start = clamp(j, 0, max(n - i32(size), 0));
        }
        src = src + (start + i32(c)) * bitcast<i32>(info[INFO_OFFSET + ndim + d]);
    }
    return load_in0(u32(src));
}

@compute @workgroup_size(WG)
fn gather_take(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    wmx_word_entry(gid, nwg);
}

@compute @workgroup_size(WG)
fn gather_slices(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    wmx_word_entry(gid, nwg);
}
