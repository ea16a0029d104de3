// attention.wgsl — scaled dot-product attention, flash-attention style: out = softmax(q kᵀ ·
// scale + mask) v per (batch, head), never writing the scores out. One workgroup per tile of BQ
// query rows of one head: the tile's queries (scaled) sit in workgroup memory, and the keys and
// values stream through it in tiles of BK rows; each query row keeps a running max m and sum l
// (online softmax) and its output row in f32 registers, split over LANES invocations (each owns
// features lane, lane + LANES, ...). Causal tiles past the diagonal are skipped when every row
// of the query tile has a visible key; masked scores are f32::MIN (MLX's finfo.min: a fully
// masked row averages v), keys past the end -inf (excluded). Grouped-query attention maps query
// head h to key head h / (Hq / Hk).
// Prelude provides: WG (= BQ * LANES), BQ, BK (= LANES), LANES, D, DV, DPT (= ceil(DV / LANES)),
//   CAUSAL, HAS_MASK; load_q/load_k/load_v(i) -> f32, load_mk(i) -> f32; store_out1(i, f32).
// Bindings: 0 info, 1 q, 2 k, 3 v (dense), 4 mk (f32 mask view; q again when absent), 5 out.
// info: [B*Hq, Hq, Hk, Lq, Lk, scale bits, mask offset, mask strides b, h, i, j (i32 bits)]

@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read> q: array<S_Q>;
@group(0) @binding(2) var<storage, read> k: array<S_K>;
@group(0) @binding(3) var<storage, read> v: array<S_V>;
@group(0) @binding(4) var<storage, read> mk: array<S_MK>;
@group(0) @binding(5) var<storage, read_write> out: array<S_OUT>;

var<workgroup> qs: array<f32, BQ * D>;
var<workgroup> ks: array<f32, BK * D>;
var<workgroup> vs: array<f32, BK * DV>;
var<workgroup> ps: array<f32, BQ * BK>;

fn mask_at(b: u32, h: u32, i: u32, j: u32) -> f32 {
    let at = bitcast<i32>(info[INFO_MOFF]) + i32(b) * bitcast<i32>(info[INFO_MSB])
        + i32(h) * bitcast<i32>(info[INFO_MSH]) + i32(i) * bitcast<i32>(info[INFO_MSI])
        + i32(j) * bitcast<i32>(info[INFO_MSJ]);
    return load_mk(u32(at));
}

@compute @workgroup_size(WG)
fn attention_tiles(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
    let lq = info[INFO_LQ];
    let lk = info[INFO_LK];
    let hq = info[INFO_HQ];
    let q_tiles = (lq + BQ - 1u) / BQ;
    let w = wid.x + wid.y * nwg.x;
    // Uniform per workgroup: a whole workgroup returns together.
    if (w >= info[INFO_BH] * q_tiles) { return; }
    let bh = w / q_tiles;
    let q0 = (w - bh * q_tiles) * BQ;
    let bi = bh / hq;
    let h = bh - bi * hq;
    let kvh = bi * info[INFO_HK] + h / (hq / info[INFO_HK]);
    let scale = bitcast<f32>(info[INFO_SCALE]);
    let r = lid / LANES;
    let lane = lid - r * LANES;
    let i = q0 + r;
    let shift = i32(lk) - i32(lq);

    for (var e = lid; e < BQ * D; e = e + WG) {
        let row = q0 + e / D;
        var x = 0.0;
        if (row < lq) { x = load_q((bh * lq + row) * D + e % D) * scale; }
        qs[e] = x;
    }

    var k_tiles = (lk + BK - 1u) / BK;
    if (CAUSAL) {
        let last = i32(min(q0 + BQ, lq)) - 1 + shift;
        if (i32(q0) + shift >= 0) {
            k_tiles = min(k_tiles, u32(last) / BK + 1u);
        }
    }

    let neg_inf = -wmx_inf();
    var m = neg_inf;
    var l = 0.0;
    var o: array<f32, DPT>;
    for (var c = 0u; c < DPT; c = c + 1u) { o[c] = 0.0; }

    for (var t = 0u; t < k_tiles; t = t + 1u) {
        let k0 = t * BK;
        workgroupBarrier();
        for (var e = lid; e < BK * D; e = e + WG) {
            let j = k0 + e / D;
            var x = 0.0;
            if (j < lk) { x = load_k((kvh * lk + j) * D + e % D); }
            ks[e] = x;
        }
        for (var e = lid; e < BK * DV; e = e + WG) {
            let j = k0 + e / DV;
            var x = 0.0;
            if (j < lk) { x = load_v((kvh * lk + j) * DV + e % DV); }
            vs[e] = x;
        }
        workgroupBarrier();
        // This invocation's score: query row r against key `lane` of the tile.
        let j = k0 + lane;
        var s = neg_inf;
        if (j < lk) {
            var acc = 0.0;
            let qa = r * D;
            let ka = lane * D;
            for (var d = 0u; d < D; d = d + 4u) {
                acc = acc + dot(vec4<f32>(qs[qa + d], qs[qa + d + 1u], qs[qa + d + 2u], qs[qa + d + 3u]),
                                vec4<f32>(ks[ka + d], ks[ka + d + 1u], ks[ka + d + 2u], ks[ka + d + 3u]));
            }
            s = acc;
            if (HAS_MASK && i < lq) { s = s + mask_at(bi, h, i, j); }
            if (CAUSAL && i32(j) > i32(i) + shift) { s = -3.40282346638528859812e+38; }
        }
        ps[r * BK + lane] = s;
        workgroupBarrier();
        var mt = m;
        for (var jj = 0u; jj < BK; jj = jj + 1u) { mt = max(mt, ps[r * BK + jj]); }
        let alpha = select(exp(m - mt), 1.0, m == mt);
        l = l * alpha;
        for (var c = 0u; c < DPT; c = c + 1u) { o[c] = o[c] * alpha; }
        for (var jj = 0u; jj < BK; jj = jj + 1u) {
            let sj = ps[r * BK + jj];
            let p = select(exp(sj - mt), 0.0, sj == neg_inf);
            l = l + p;
            for (var c = 0u; c < DPT; c = c + 1u) {
                let d = lane + c * LANES;
                if (d < DV) { o[c] = o[c] + p * vs[jj * DV + d]; }
            }
        }
        m = mt;
    }
    if (i < lq) {
        let inv = 1.0 / l;
        for (var c = 0u; c < DPT; c = c + 1u) {
            let d = lane + c * LANES;
            if (d < DV) { store_out1((bh * lq + i) * DV + d, o[c] * inv); }
        }
    }
}
