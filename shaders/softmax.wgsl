// softmax.wgsl — softmax over the last axis of dense rows: out[r, j] = exp(x[r, j] - m_r) / s_r
// with m_r the row's max and s_r = sum_j exp(x[r, j] - m_r). One workgroup per row: each
// invocation keeps a running (max, sum) over its strided elements (rescaling the sum when the max
// grows), the workgroup merges the pairs, then every invocation writes its elements. Rows of
// quads of at most 4 per invocation stay in registers (read once); other rows are read twice,
// the second read mostly from cache. The host sizes the workgroup (WG) to the row. Computes in
// f32.
// The value at row-major element i comes from `load_in0(i)`: one dense input, or a fused
// elementwise prologue over several (`compile`).
// Prelude provides: WG; the input and output bindings (plain: 1 in0, 2 out; fused: 1..N, N + 1
//   out); load_in0(i) -> f32; store_out1(i, v: f32) (unpacked output); softmax_vec4 (rows of a
//   multiple of 4): load4_in0(q) -> vec4<f32>, store4_out(q, vec4<f32>).
// Bindings: 0 info, then the inputs (read) and out (read_write, dense, unpacked).
// info: [rows, row_len, then (fused) per input: offset, period] (the prelude names the first two
//   words INFO_ROWS, INFO_LEN)

@group(0) @binding(0) var<storage, read> info: array<u32>;

var<workgroup> row_max: array<f32, WG>;
var<workgroup> row_sum: array<f32, WG>;

// exp(a - m), with -inf elements contributing exactly 0 (also while the running max is still
// the initial -inf). So a row with +inf sums to NaN (inf - inf) and a row of only -inf sums to 0;
// both rows then come out NaN, as exp(x - max) / sum does in the composite and in MLX.
fn scaled(a: f32, m: f32) -> f32 {
    return select(exp(a - m), 0.0, a == -wmx_inf());
}

// Merges every invocation's running (max, sum) into the row's and returns (max, 1 / sum); every
// invocation must call it. A +inf max makes exp(inf - inf) = NaN in the sum, so the whole row is
// NaN (as on the CPU).
fn merge_row(lid: u32, m: f32, s: f32) -> vec2<f32> {
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
    return vec2<f32>(mr, select(1.0 / row_sum[0], wmx_nan(), mr == wmx_inf()));
}

@compute @workgroup_size(WG)
fn softmax_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let r = wid.x + wid.y * nwg.x;
    if (r >= info[INFO_ROWS]) { return; }
    let len = info[INFO_LEN];
    let base = r * len;
    var m = -wmx_inf();
    var s = 0.0;
    // Four elements per step: their loads are independent, and the running (max, sum) pair is
    // rescaled once per step.
    var j = lid;
    for (; j + 3u * WG < len; j = j + 4u * WG) {
        let x = vec4<f32>(load_in0(base + j), load_in0(base + j + WG),
                          load_in0(base + j + 2u * WG), load_in0(base + j + 3u * WG));
        let mx = max(max(x.x, x.y), max(x.z, x.w));
        if (mx > m) {
            s = s * scaled(m, mx);
            m = mx;
        }
        s = s + scaled(x.x, m) + scaled(x.y, m) + scaled(x.z, m) + scaled(x.w, m);
        if (any(vec4<bool>(wmx_isnan(x.x), wmx_isnan(x.y), wmx_isnan(x.z), wmx_isnan(x.w)))) {
            m = wmx_nan();
        }
    }
    for (; j < len; j = j + WG) {
        let x = load_in0(base + j);
        if (x > m) {
            s = s * scaled(m, x);
            m = x;
        }
        s = s + scaled(x, m);
        if (wmx_isnan(x)) { m = x; }
    }
    let row = merge_row(lid, m, s);
    let mr = row.x;
    let inv = row.y;
    var k = lid;
    for (; k + 3u * WG < len; k = k + 4u * WG) {
        let x = vec4<f32>(load_in0(base + k), load_in0(base + k + WG),
                          load_in0(base + k + 2u * WG), load_in0(base + k + 3u * WG));
        let y = exp(x - vec4<f32>(mr)) * inv;
        store_out1(base + k, y.x);
        store_out1(base + k + WG, y.y);
        store_out1(base + k + 2u * WG, y.z);
        store_out1(base + k + 3u * WG, y.w);
    }
    for (; k < len; k = k + WG) {
        store_out1(base + k, exp(load_in0(base + k) - mr) * inv);
    }
}

// Rows whose length is a multiple of 4: whole quads (vec4 loads and stores).
fn scaled4(a: vec4<f32>, m: f32) -> vec4<f32> {
    return vec4<f32>(scaled(a.x, m), scaled(a.y, m), scaled(a.z, m), scaled(a.w, m));
}

fn any_nan4(x: vec4<f32>) -> bool {
    return wmx_isnan(x.x) || wmx_isnan(x.y) || wmx_isnan(x.z) || wmx_isnan(x.w);
}

// Running (max, sum) after folding quad `x` into (m, s).
fn fold4(ms: vec2<f32>, x: vec4<f32>) -> vec2<f32> {
    var m = ms.x;
    var s = ms.y;
    let mx = max(max(x.x, x.y), max(x.z, x.w));
    if (mx > m) {
        s = s * scaled(m, mx);
        m = mx;
    }
    let e = scaled4(x, m);
    s = s + ((e.x + e.y) + (e.z + e.w));
    if (any_nan4(x)) { m = wmx_nan(); }
    return vec2<f32>(m, s);
}

// Quad `k` of the row at `base` (a row of `len` quads), or -inf quads past its end (they leave
// the running max and sum as they are).
fn row_quad(base: u32, k: u32, len: u32) -> vec4<f32> {
    var x = vec4<f32>(-wmx_inf());
    if (k < len) { x = vec4<f32>(load4_in0(base + k)); }
    return x;
}

// The workgroup's max (`is_max`) or sum of every invocation's `v`, returned to all (every
// invocation must call it; `row_max` is free again when it returns). Eight values merge per step
// (three steps for 512 invocations, where a pairwise tree takes nine).
fn workgroup_reduce(lid: u32, v: f32, is_max: bool) -> f32 {
    row_max[lid] = v;
    workgroupBarrier();
    var n = WG;
    while (n > 1u) {
        let h = max(n >> 3u, 1u);
        if (lid < h) {
            var a = row_max[lid];
            for (var j = 1u; j < n / h; j = j + 1u) {
                let b = row_max[lid + j * h];
                a = select(a + b, max(a, b), is_max);
            }
            row_max[lid] = a;
        }
        workgroupBarrier();
        n = h;
    }
    let r = row_max[0];
    workgroupBarrier();
    return r;
}

// NaNs as +inf: a row's max is then +inf when it holds a NaN or an inf (no finite softmax).
fn nan_as_inf4(x: vec4<f32>) -> vec4<f32> {
    let inf = wmx_inf();
    return vec4<f32>(select(x.x, inf, wmx_isnan(x.x)), select(x.y, inf, wmx_isnan(x.y)),
                     select(x.z, inf, wmx_isnan(x.z)), select(x.w, inf, wmx_isnan(x.w)));
}

// A row of at most 4 quads per invocation (the host sizes the workgroup so that rows of up to
// 16 * 1024 elements are): each invocation keeps its quads in registers, so the row is read
// once, and exp runs once per element: the row's max first, then the exponentials, their sum,
// and the outputs from the same registers.
fn softmax_registers(lid: u32, base: u32, len: u32) {
    let x0 = row_quad(base, lid, len);
    let x1 = row_quad(base, lid + WG, len);
    let x2 = row_quad(base, lid + 2u * WG, len);
    let x3 = row_quad(base, lid + 3u * WG, len);
    let c = max(max(nan_as_inf4(x0), nan_as_inf4(x1)), max(nan_as_inf4(x2), nan_as_inf4(x3)));
    let m = workgroup_reduce(lid, max(max(c.x, c.y), max(c.z, c.w)), true);
    let e0 = scaled4(x0, m);
    let e1 = scaled4(x1, m);
    let e2 = scaled4(x2, m);
    let e3 = scaled4(x3, m);
    let t = (e0 + e1) + (e2 + e3);
    let s = workgroup_reduce(lid, (t.x + t.y) + (t.z + t.w), false);
    // A max of +inf (an inf or a NaN in the row) or -inf (only -inf) leaves every output NaN.
    let finite = abs(m) != wmx_inf();
    let inv = select(wmx_nan(), 1.0 / s, finite);
    if (lid < len) { store4_out(base + lid, e0 * inv); }
    if (lid + WG < len) { store4_out(base + lid + WG, e1 * inv); }
    if (lid + 2u * WG < len) { store4_out(base + lid + 2u * WG, e2 * inv); }
    if (lid + 3u * WG < len) { store4_out(base + lid + 3u * WG, e3 * inv); }
}

// Longer rows stream: four quads per step in both passes, all loaded before any is used: the
// second pass stores between its loads, and a compiler that cannot prove `in0` and `out` apart
// would otherwise wait for each load in turn.
@compute @workgroup_size(WG)
fn softmax_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let r = wid.x + wid.y * nwg.x;
    if (r >= info[INFO_ROWS]) { return; }
    let len = info[INFO_LEN] >> 2u;
    let base = r * len;
    if (len <= 4u * WG) {
        softmax_registers(lid, base, len);
        return;
    }
    var ms = vec2<f32>(-wmx_inf(), 0.0);
    var j = lid;
    for (; j + 3u * WG < len; j = j + 4u * WG) {
        let x0 = vec4<f32>(load4_in0(base + j));
        let x1 = vec4<f32>(load4_in0(base + j + WG));
        let x2 = vec4<f32>(load4_in0(base + j + 2u * WG));
        let x3 = vec4<f32>(load4_in0(base + j + 3u * WG));
        ms = fold4(fold4(fold4(fold4(ms, x0), x1), x2), x3);
    }
    for (; j < len; j = j + WG) {
        ms = fold4(ms, vec4<f32>(load4_in0(base + j)));
    }
    let row = merge_row(lid, ms.x, ms.y);
    let m = vec4<f32>(row.x);
    var k = lid;
    for (; k + 3u * WG < len; k = k + 4u * WG) {
        let x0 = vec4<f32>(load4_in0(base + k));
        let x1 = vec4<f32>(load4_in0(base + k + WG));
        let x2 = vec4<f32>(load4_in0(base + k + 2u * WG));
        let x3 = vec4<f32>(load4_in0(base + k + 3u * WG));
        store4_out(base + k, exp(x0 - m) * row.y);
        store4_out(base + k + WG, exp(x1 - m) * row.y);
        store4_out(base + k + 2u * WG, exp(x2 - m) * row.y);
        store4_out(base + k + 3u * WG, exp(x3 - m) * row.y);
    }
    for (; k < len; k = k + WG) {
        store4_out(base + k, exp(vec4<f32>(load4_in0(base + k)) - m) * row.y);
    }
}
