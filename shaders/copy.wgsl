// copy.wgsl — window copy: element i of a strided input view is written to out at the strided
// position i takes in a destination window (used by concatenate; later slice_update, scatter).
// One invocation per element, so the output dtype must be unpacked (32-bit, or native f16).
// Prelude provides: WG; S_IN0, S_OUT; C_IN0 (= C_OUT); load_in0(i); store_out1(i, v);
//   the INFO_* word offsets; wmx_strided_index / wmx_word_id (index.wgsl).
// Bindings: 0 info, 1 in0 (read), 2 out (read_write).
// info: [n, ndim, shape[ndim], src_strides[ndim], src_offset, dst_strides[ndim], dst_offset]

@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read> in0: array<S_IN0>;
@group(0) @binding(2) var<storage, read_write> out: array<S_OUT>;

fn value_at(i: u32) -> C_OUT { return load_in0(wmx_strided_index(i, 0u)); }

@compute @workgroup_size(WG)
fn copy_window(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = wmx_word_id(gid, nwg);
    if (i >= info[INFO_N]) { return; }
    store_out1(wmx_strided_index(i, 1u), value_at(i));
}
