// rope.wgsl — rotary position embedding of the last axis of rows `[.., T, D]`: the first
// DIMS features rotate in pairs ((2i, 2i+1) when TRADITIONAL, else (i, i + DIMS/2)), pair i by
// theta = (t + offset) * scale * inv_freq(i), t the row's position along axis -2; inv_freq is
// base^(-2i/DIMS), or 1 / freqs[i] when HAS_FREQS; INVERSE turns the other way (the vjp). The
// other features are copied. One invocation per output element; f32 throughout. The input's
// rows may be strided (the last axis is dense): row r starts at offset + sum of its indices
// times row_strides, so a head-split view of a fused projection needs no copy first; the
// output is dense.
// Prelude provides: WG, DIMS-free constants TRADITIONAL, INVERSE, HAS_FREQS; load_in0(i) -> f32,
//   load_fr(i) -> f32; store_out1(i, f32) (output unpacked).
// Bindings: 0 info, 1 in0 (x), 2 fr (f32 frequencies; x again when absent), 3 out.
// info: [n, row_len, dims, T, offset (i32 bits), base bits, scale bits, rn, row_shape[rn],
//        row_strides[rn], x_offset]  (row strides and x_offset in elements, i32 bits)

@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read> in0: array<S_IN0>;
@group(0) @binding(2) var<storage, read> fr: array<S_FR>;
@group(0) @binding(3) var<storage, read_write> out: array<S_OUT>;

// (sin, cos) of x: reduced by multiples of pi/2 in three parts first (exact products below
// 2^14 quadrants), so large positions keep their accuracy; builtins on [-pi/4, pi/4].
fn sin_cos(x: f32) -> vec2<f32> {
    let j = round(x * 0.63661977236758134);
    var r = x - j * 1.5703125;
    r = r - j * 4.837512969970703e-4;
    r = r - j * 7.549789948768648e-8;
    let q = u32(i32(j) & 3);
    let s = sin(r);
    let c = cos(r);
    switch q {
        case 0u: { return vec2<f32>(s, c); }
        case 1u: { return vec2<f32>(c, -s); }
        case 2u: { return vec2<f32>(-s, -c); }
        default: { return vec2<f32>(-c, s); }
    }
}

// Element offset in x of row `row`'s first feature.
fn row_start(row: u32) -> i32 {
    let rn = info[INFO_ROW_NDIM];
    var rem = row;
    var idx = bitcast<i32>(info[INFO_ROW_NDIM + 2u * rn + 1u]);
    for (var d = rn; d > 0u; d = d - 1u) {
        let dim = info[INFO_ROW_NDIM + d];
        idx = idx + i32(rem % dim) * bitcast<i32>(info[INFO_ROW_NDIM + rn + d]);
        rem = rem / dim;
    }
    return idx;
}

@compute @workgroup_size(WG)
fn rope_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let e = gid.x + gid.y * nwg.x * WG;
    if (e >= info[INFO_N]) { return; }
    let len = info[INFO_LEN];
    let dims = info[INFO_DIMS];
    let half = dims / 2u;
    let row = e / len;
    let c = e - row * len;
    let x0 = u32(row_start(row));
    if (c >= dims) {
        store_out1(e, load_in0(x0 + c));
        return;
    }
    var i = c;
    var first = true;
    var partner = c;
    if (TRADITIONAL) {
        i = c / 2u;
        first = (c & 1u) == 0u;
        partner = select(c - 1u, c + 1u, first);
    } else {
        first = c < half;
        i = select(c - half, c, first);
        partner = select(c - half, c + half, first);
    }
    let t = row % info[INFO_T];
    let pos = (f32(t) + f32(bitcast<i32>(info[INFO_OFFSET]))) * bitcast<f32>(info[INFO_SCALE]);
    var inv_freq = 0.0;
    if (HAS_FREQS) {
        inv_freq = 1.0 / load_fr(i);
    } else {
        inv_freq = exp(-f32(i) * (log(bitcast<f32>(info[INFO_BASE])) / f32(half)));
    }
    let sc = sin_cos(pos * inv_freq);
    var sn = sc.x;
    if (INVERSE) { sn = -sn; }
    let me = load_in0(x0 + c);
    let other = load_in0(x0 + partner);
    // first: x1 cos - x2 sin; second: x1 sin + x2 cos (x1 the first of the pair).
    let y = select(other * sn + me * sc.y, me * sc.y - other * sn, first);
    store_out1(e, y);
}
