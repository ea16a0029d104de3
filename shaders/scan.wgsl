// scan.wgsl — inclusive/exclusive, forward/reverse scans (cumsum, cumprod, cummax, cummin,
// logcumsumexp) along the last axis of a strided input, into dense rows of an unpacked
// accumulator dtype. `scan_wg`: one workgroup per row, chunks of 4 * WG elements: each thread
// scans its 4 elements serially, a Hillis–Steele scan in workgroup memory combines the thread
// totals, and a carry runs across chunks, so rows of any length work. `scan_thread`: one
// invocation per row, serial (many short rows).
// Prelude provides: WG; S_IN0, S_OUT; C_IN0; C_OUT (accumulator: f32, i32 or u32); load_in0(i);
//   to_acc(x: C_IN0) -> C_OUT; combine(a, b) -> C_OUT (associative; may call wmx_logaddexp);
//   identity() -> C_OUT; store_out1(i, v); the INFO_* word offsets.
// Bindings: 0 info, 1 in0 (read), 2 out (read_write, unpacked).
// info: [n_rows, len, flags (1: reverse, 2: exclusive), axis_stride (i32 bits), offset (i32 bits),
//        kn, kept_shape[kn], kept_strides[kn]]   (kept = every axis but the last)

@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read> in0: array<S_IN0>;
@group(0) @binding(2) var<storage, read_write> out: array<S_OUT>;

const PER_THREAD: u32 = 4u;
var<workgroup> totals: array<C_OUT, WG>;

// Element offset of the first input element of row `r`.
fn row_base(r: u32) -> i32 {
    let kn = info[INFO_KEPT_NDIM];
    var rem = r;
    var idx = bitcast<i32>(info[INFO_OFFSET]);
    for (var d = kn; d > 0u; d = d - 1u) {
        let dim = info[INFO_KEPT_NDIM + d];
        let c = rem % dim;
        rem = rem / dim;
        idx = idx + i32(c) * bitcast<i32>(info[INFO_KEPT_NDIM + kn + d]);
    }
    return idx;
}

// Position in the row of the `j`-th element in scan order.
fn position(j: u32, len: u32) -> u32 {
    return select(j, len - 1u - j, (info[INFO_FLAGS] & 1u) != 0u);
}

// log(exp(a) + exp(b)) without overflow (logcumsumexp's combiner): NaN propagates, -inf is
// the identity, +inf stays +inf; log1p without cancellation for far-apart inputs.
fn wmx_logaddexp(a: f32, b: f32) -> f32 {
    if (wmx_isnan(a) || wmx_isnan(b)) { return wmx_nan(); }
    let hi = max(a, b);
    let lo = min(a, b);
    if (lo == -wmx_inf() || hi == wmx_inf()) { return hi; }
    let y = exp(lo - hi);
    let u = 1.0 + y;
    if (u == 1.0) { return hi + y; }
    return hi + log(u) * y / (u - 1.0);
}

fn value(base: i32, p: u32) -> C_OUT {
    return to_acc(load_in0(u32(base + i32(p) * bitcast<i32>(info[INFO_AXIS_STRIDE]))));
}

@compute @workgroup_size(WG)
fn scan_wg(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
    let r = wid.x + wid.y * nwg.x;
    if (r >= info[INFO_N_ROWS]) { return; }
    let len = info[INFO_LEN];
    let exclusive = (info[INFO_FLAGS] & 2u) != 0u;
    let base = row_base(r);
    let out_row = r * len;
    var carry = identity();
    for (var c0 = 0u; c0 < len; c0 = c0 + PER_THREAD * WG) {
        let first = c0 + lid * PER_THREAD;
        var incl: array<C_OUT, PER_THREAD>;
        var acc = identity();
        for (var e = 0u; e < PER_THREAD; e = e + 1u) {
            let j = first + e;
            if (j < len) { acc = combine(acc, value(base, position(j, len))); }
            incl[e] = acc;
        }
        totals[lid] = acc;
        workgroupBarrier();
        for (var d = 1u; d < WG; d = d << 1u) {
            var t = identity();
            if (lid >= d) { t = totals[lid - d]; }
            workgroupBarrier();
            if (lid >= d) { totals[lid] = combine(t, totals[lid]); }
            workgroupBarrier();
        }
        var before = carry;
        if (lid > 0u) { before = combine(carry, totals[lid - 1u]); }
        var prev = before;
        for (var e = 0u; e < PER_THREAD; e = e + 1u) {
            let j = first + e;
            if (j < len) {
                let here = combine(before, incl[e]);
                store_out1(out_row + position(j, len), select(here, prev, exclusive));
                prev = here;
            }
        }
        carry = combine(carry, totals[WG - 1u]);
        workgroupBarrier();
    }
}

@compute @workgroup_size(WG)
fn scan_thread(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let r = gid.x + gid.y * nwg.x * WG;
    if (r >= info[INFO_N_ROWS]) { return; }
    let len = info[INFO_LEN];
    let exclusive = (info[INFO_FLAGS] & 2u) != 0u;
    let base = row_base(r);
    var acc = identity();
    for (var j = 0u; j < len; j = j + 1u) {
        let p = position(j, len);
        let next = combine(acc, value(base, p));
        store_out1(r * len + p, select(next, acc, exclusive));
        acc = next;
    }
}
