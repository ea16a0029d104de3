// softmax.wgsl — softmax over the last axis of dense rows: out[r, j] = exp(x[r, j] - m_r) / s_r
// with m_r the row's max and s_r = sum_j exp(x[r, j] - m_r). One workgroup per row: each
// invocation keeps a running (max, sum) over its strided elements (rescaling the sum when the max
// grows), the workgroup merges the pairs, then every invocation writes its elements. The row is
// read twice; the second read mostly hits cache. Computes in f32.
// Prelude provides: WG; S_IN0, S_OUT (unpacked); load_in0(i) -> f32; store_out1(i, v: f32).
// Bindings: 0 info, 1 in0 (read, dense), 2 out (read_write, dense, unpacked).
// info: [rows, row_len]

@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read> in0: array<S_IN0>;
@group(0) @binding(2) var<storage, read_write> out: array<S_OUT>;

var<workgroup> row_max: array<f32, WG>;
var<workgroup> row_sum: array<f32, WG>;

// exp(a - m) for a possibly -inf max: a row of -inf gives NaN, as exp(-inf - -inf) does.
fn scaled(a: f32, m: f32) -> f32 {
    if (a == m) { return 1.0; }
    return exp(a - m);
}

@compute @workgroup_size(WG)
fn softmax_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let r = wid.x + wid.y * nwg.x;
    if (r >= info[0]) { return; }
    let len = info[1];
    let base = r * len;
    var m = bitcast<f32>(0xff800000u);
    var s = 0.0;
    for (var j = lid; j < len; j = j + WG) {
        let x = load_in0(base + j);
        if (x > m) {
            s = s * scaled(m, x) + 1.0;
            m = x;
        } else {
            s = s + scaled(x, m);
        }
        if (wmx_isnan(x)) { m = x; }
    }
    row_max[lid] = m;
    row_sum[lid] = s;
    workgroupBarrier();
    for (var h = WG / 2u; h > 0u; h = h >> 1u) {
        if (lid < h) {
            let m0 = row_max[lid];
            let m1 = row_max[lid + h];
            let mm = max(m0, m1);
            var merged = row_sum[lid] * scaled(m0, mm) + row_sum[lid + h] * scaled(m1, mm);
            if (wmx_isnan(m0) || wmx_isnan(m1)) { row_max[lid] = wmx_nan(); } else { row_max[lid] = mm; }
            row_sum[lid] = merged;
        }
        workgroupBarrier();
    }
    let mr = row_max[0];
    // a +inf max makes exp(inf - inf) = NaN in the sum, so the whole row is NaN (as on the CPU)
    let inv = select(1.0 / row_sum[0], wmx_nan(), mr == bitcast<f32>(0x7f800000u));
    for (var j = lid; j < len; j = j + WG) {
        store_out1(base + j, exp(load_in0(base + j) - mr) * inv);
    }
}
