// norm.wgsl — RMS and layer normalisation over the last axis of dense rows:
//   out[r, j] = (x[r, j] - mu_r) / sqrt(var_r + eps) * w[j] + b[j]
// with mu_r the row's mean (layer norm, CENTER) or 0 (RMS norm), var_r the mean of the squared
// deviations; weight and bias optional (HAS_W, HAS_B). One workgroup per row; f32 throughout.
// norm_vec4 (rows of a multiple of 4) keeps up to 4 quads per invocation in registers, so rows
// of up to 16 * WG elements are read once; longer rows (and norm_rows) are read again from
// cache per pass. The host sizes the workgroup (WG) to the row.
// Prelude provides: WG, CENTER, HAS_W, HAS_B; load_in0/load_w/load_b(i) -> f32 and their load4_
//   forms; store_out1(i, f32) and store4_out(q, vec4<f32>) (output unpacked).
// Bindings: 0 info, 1 in0 (x), 2 w, 3 b (x again when absent), 4 out (read_write, dense).
// info: [rows, row_len, eps bits] (INFO_ROWS, INFO_LEN, INFO_EPS)

@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read> in0: array<S_IN0>;
@group(0) @binding(2) var<storage, read> w: array<S_W>;
@group(0) @binding(3) var<storage, read> b: array<S_B>;
@group(0) @binding(4) var<storage, read_write> out: array<S_OUT>;

var<workgroup> partial: array<f32, WG>;

// The sum of every invocation's `v`, returned to all (every invocation must call it).
fn workgroup_sum(lid: u32, v: f32) -> f32 {
    partial[lid] = v;
    workgroupBarrier();
    var n = WG;
    while (n > 1u) {
        let h = max(n >> 3u, 1u);
        if (lid < h) {
            var a = partial[lid];
            for (var j = 1u; j < n / h; j = j + 1u) {
                a = a + partial[lid + j * h];
            }
            partial[lid] = a;
        }
        workgroupBarrier();
        n = h;
    }
    let r = partial[0];
    workgroupBarrier();
    return r;
}

fn row_index(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return wid.x + wid.y * nwg.x;
}

fn affine(y: f32, j: u32) -> f32 {
    var r = y;
    if (HAS_W) { r = r * load_w(j); }
    if (HAS_B) { r = r + load_b(j); }
    return r;
}

fn affine4(y: vec4<f32>, q: u32) -> vec4<f32> {
    var r = y;
    if (HAS_W) { r = r * vec4<f32>(load4_w(q)); }
    if (HAS_B) { r = r + vec4<f32>(load4_b(q)); }
    return r;
}

@compute @workgroup_size(WG)
fn norm_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
    let r = row_index(wid, nwg);
    if (r >= info[INFO_ROWS]) { return; }
    let len = info[INFO_LEN];
    let eps = bitcast<f32>(info[INFO_EPS]);
    let base = r * len;
    var mu = 0.0;
    if (CENTER) {
        var s = 0.0;
        for (var j = lid; j < len; j = j + WG) { s = s + load_in0(base + j); }
        mu = workgroup_sum(lid, s) / f32(len);
    }
    var ss = 0.0;
    for (var j = lid; j < len; j = j + WG) {
        let d = load_in0(base + j) - mu;
        ss = ss + d * d;
    }
    let inv = inverseSqrt(workgroup_sum(lid, ss) / f32(len) + eps);
    for (var j = lid; j < len; j = j + WG) {
        store_out1(base + j, affine((load_in0(base + j) - mu) * inv, j));
    }
}

// Quad `k` of the row at quad `base` (zeros past its end).
fn quad(base: u32, k: u32, len: u32) -> vec4<f32> {
    var x = vec4<f32>(0.0);
    if (k < len) { x = vec4<f32>(load4_in0(base + k)); }
    return x;
}

// Squared deviations of quad `k` from `mu` (zero past the row's end).
fn dev2(x: vec4<f32>, mu: f32, k: u32, len: u32) -> f32 {
    let d = x - vec4<f32>(mu);
    return select(0.0, dot(d, d), k < len);
}

@compute @workgroup_size(WG)
fn norm_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
    let r = row_index(wid, nwg);
    if (r >= info[INFO_ROWS]) { return; }
    let len = info[INFO_LEN] >> 2u;
    let n = f32(info[INFO_LEN]);
    let eps = bitcast<f32>(info[INFO_EPS]);
    let base = r * len;
    if (len <= 4u * WG) {
        // In registers: the row is read once.
        let x0 = quad(base, lid, len);
        let x1 = quad(base, lid + WG, len);
        let x2 = quad(base, lid + 2u * WG, len);
        let x3 = quad(base, lid + 3u * WG, len);
        var mu = 0.0;
        if (CENTER) {
            let t = (x0 + x1) + (x2 + x3);
            mu = workgroup_sum(lid, (t.x + t.y) + (t.z + t.w)) / n;
        }
        let ss = (dev2(x0, mu, lid, len) + dev2(x1, mu, lid + WG, len))
            + (dev2(x2, mu, lid + 2u * WG, len) + dev2(x3, mu, lid + 3u * WG, len));
        let inv = inverseSqrt(workgroup_sum(lid, ss) / n + eps);
        let m = vec4<f32>(mu);
        if (lid < len) { store4_out(base + lid, affine4((x0 - m) * inv, lid)); }
        if (lid + WG < len) { store4_out(base + lid + WG, affine4((x1 - m) * inv, lid + WG)); }
        if (lid + 2u * WG < len) {
            store4_out(base + lid + 2u * WG, affine4((x2 - m) * inv, lid + 2u * WG));
        }
        if (lid + 3u * WG < len) {
            store4_out(base + lid + 3u * WG, affine4((x3 - m) * inv, lid + 3u * WG));
        }
        return;
    }
    var mu = 0.0;
    if (CENTER) {
        var s = vec4<f32>(0.0);
        for (var k = lid; k < len; k = k + WG) { s = s + vec4<f32>(load4_in0(base + k)); }
        mu = workgroup_sum(lid, (s.x + s.y) + (s.z + s.w)) / n;
    }
    var ss = 0.0;
    for (var k = lid; k < len; k = k + WG) {
        let d = vec4<f32>(load4_in0(base + k)) - vec4<f32>(mu);
        ss = ss + dot(d, d);
    }
    let inv = inverseSqrt(workgroup_sum(lid, ss) / n + eps);
    for (var k = lid; k < len; k = k + WG) {
        let x = vec4<f32>(load4_in0(base + k));
        store4_out(base + k, affine4((x - vec4<f32>(mu)) * inv, k));
    }
}
