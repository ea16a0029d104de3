// arg_reduce.wgsl — argmax / argmin along one axis of a strided input; output uint32 indices.
// Ties resolve to the smallest index (first occurrence), as in MLX and NumPy.
// Prelude provides: WG; S_IN0; C_IN0; load_in0(i); to_key(x: C_IN0) -> f32-or-int key type K;
//   better(a: K, b: K) -> bool (strictly better); worst() -> K (a fn: ±inf is no const expression); the INFO_* word offsets.
// Bindings: 0 info, 1 in0 (read), 2 out (read_write, array<u32>).
// info: [n_out, axis_size, axis_stride (i32 bits), offset (i32 bits), on, out_shape[on], out_strides[on]]

@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read> in0: array<S_IN0>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;

var<workgroup> best_key: array<K, WG>;
var<workgroup> best_idx: array<u32, WG>;

fn out_base(o: u32) -> i32 {
    let on = info[INFO_KEPT_NDIM];
    var rem = o;
    var idx = bitcast<i32>(info[INFO_OFFSET]);
    for (var d = on; d > 0u; d = d - 1u) {
        let dim = info[INFO_KEPT_NDIM + d];
        let c = rem % dim;
        rem = rem / dim;
        idx = idx + i32(c) * bitcast<i32>(info[INFO_KEPT_NDIM + on + d]);
    }
    return idx;
}

@compute @workgroup_size(WG)
fn arg_reduce(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
    let o = wid.x + wid.y * nwg.x;
    if (o >= info[INFO_N_OUT]) { return; }
    let base = out_base(o);
    let stride = bitcast<i32>(info[INFO_AXIS_STRIDE]);
    let n = info[INFO_AXIS_SIZE];
    var k = worst();
    var ki = 0xffffffffu;
    var r = lid;
    // Four loads in flight per step (one workgroup on a long row is latency-bound otherwise),
    // compared in index order as the one-at-a-time loop below would.
    for (; r + 3u * WG < n; r = r + 4u * WG) {
        let x0 = to_key(load_in0(u32(base + i32(r) * stride)));
        let x1 = to_key(load_in0(u32(base + i32(r + WG) * stride)));
        let x2 = to_key(load_in0(u32(base + i32(r + 2u * WG) * stride)));
        let x3 = to_key(load_in0(u32(base + i32(r + 3u * WG) * stride)));
        if (ki == 0xffffffffu || better(x0, k)) { k = x0; ki = r; }
        if (better(x1, k)) { k = x1; ki = r + WG; }
        if (better(x2, k)) { k = x2; ki = r + 2u * WG; }
        if (better(x3, k)) { k = x3; ki = r + 3u * WG; }
    }
    for (; r < n; r = r + WG) {
        let x = to_key(load_in0(u32(base + i32(r) * stride)));
        if (ki == 0xffffffffu || better(x, k)) { k = x; ki = r; }
    }
    best_key[lid] = k;
    best_idx[lid] = ki;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s >> 1u) {
        if (lid < s) {
            let oi = best_idx[lid + s];
            let ok = best_key[lid + s];
            let mi = best_idx[lid];
            let take = oi != 0xffffffffu && (mi == 0xffffffffu || better(ok, best_key[lid]) ||
                (!better(best_key[lid], ok) && oi < mi));
            if (take) { best_key[lid] = ok; best_idx[lid] = oi; }
        }
        workgroupBarrier();
    }
    if (lid == 0u) { out[o] = best_idx[0]; }
}
