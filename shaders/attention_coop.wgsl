// attention_coop.wgsl — scaled dot-product attention for f16 q, k, v on cooperative matrices
// (tensor cores): out = softmax(q kᵀ · scale + mask) v per (batch, head), f16 x f16 -> f32
// products, f32 softmax. Its own family file: it needs `enable wgpu_cooperative_matrix;` and
// the subgroup builtins. The host picks it only on devices with 16x16x16 f16 x f16 -> f32
// fragments and subgroups of exactly 32 invocations, for head dimensions D and DV that are
// multiples of 16 (at most 128); attention.wgsl is the fallback and the reference semantics.
// One workgroup of 4 subgroups per tile of BQ = 64 query rows of one head; subgroup sg owns rows
// 16 sg..16 sg + 15, its query fragments (D / 16 of them) held in registers for the whole run.
// Keys and values stream through workgroup memory BK = 32 rows at a time. Two passes over the
// key tiles, so the output accumulators (DV / 16 fragments, f32) never need a per-row rescale:
// pass 1 computes each row's max M and sum L of exp(s - M) (lane 2r + h of the subgroup keeps
// the online max and sum of row r over keys 16h..16h+15 of each tile; the halves combine at the
// end); pass 2 recomputes the scores, writes p = exp(s - M) / L as f16 and multiplies them into
// the accumulators with the value tile. Scores go through a per-subgroup f32 scratch (row-major
// 16 x BK) because fragment elements are opaque. Masking as attention.wgsl: masked scores are
// f32::MIN (a fully masked row averages v), keys past the end -inf (excluded), causal tiles
// past the diagonal skipped when every row of the query tile has a visible key, grouped heads
// map query head h to key head h / (Hq / Hk). Query tiles are dispatched heaviest first.
// Every fragment pointer index is bound to a `let` first (naga 30's SPIR-V writer panics on an
// index computed inline in a cooperative load's pointer). The module is created trusted: every
// global index is guarded by the row, key and feature checks below.
// Prelude provides: BQ (64), BK (32), D, DV, LDQ (= D + 8), LDK (= D + 8), LDV (= DV + 8),
//   LDP (= BK + 8), V_AT (= BK * LDK, the value tile's offset in `tiles`), TILE_HALVES, CAUSAL,
//   HAS_MASK, the fragments (qf_*, of_*, sacc, czero: private), load_q_frags(base),
//   scores(kb, dst) (the 16 x 16 score block of keys 16kb.. into sc[dst..], stride BK),
//   pv(pbase) (accumulates the subgroup's p block times the value tile), store_o(..)
//   (each accumulator through the subgroup's scratch into out, bounds-checked, barriers
//   inside); load_mk(i) -> f32, store_out1(i, f32), INFO_* word offsets.
// Bindings: 0 info, 1 q, 2 k, 3 v (read, vec4<f16> quads, dense), 4 mk (f32 mask view; q again
// when absent), 5 out (f16).
// info: [B*Hq, Hq, Hk, Lq, Lk, scale bits, mask offset, mask strides b, h, i, j (i32 bits)]

@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read> q: array<vec4<f16>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<f16>>;
@group(0) @binding(3) var<storage, read> v: array<vec4<f16>>;
@group(0) @binding(4) var<storage, read> mk: array<S_MK>;
@group(0) @binding(5) var<storage, read_write> out: array<S_OUT>;

// The query tile [BQ][LDQ] at the start, then the key tile [BK][LDK] and the value tile
// [BK][LDV] at V_AT.
var<workgroup> tiles: array<f16, TILE_HALVES>;
// Per subgroup: 16 x BK f32 scores (row-major, stride BK); also the output and the row-sum
// exchange.
var<workgroup> sc: array<f32, 4u * 16u * BK>;
// Per subgroup: 16 x BK f16 probabilities (row-major, stride LDP).
var<workgroup> pf: array<f16, 4u * 16u * LDP>;

const MIN_F32: f32 = -3.40282346638528859812e+38;
const SC: u32 = 16u * BK;

fn mask_at(b: u32, h: u32, i: u32, j: u32) -> f32 {
    let at = bitcast<i32>(info[INFO_MOFF]) + i32(b) * bitcast<i32>(info[INFO_MSB])
        + i32(h) * bitcast<i32>(info[INFO_MSH]) + i32(i) * bitcast<i32>(info[INFO_MSI])
        + i32(j) * bitcast<i32>(info[INFO_MSJ]);
    return load_mk(u32(at));
}

/// Stores quad `x` at `tiles[at..at + 4]`.
fn put4(at: u32, x: vec4<f16>) {
    tiles[at] = x.x;
    tiles[at + 1u] = x.y;
    tiles[at + 2u] = x.z;
    tiles[at + 3u] = x.w;
}

/// Stages BK rows of keys (and of values when `with_v`) from key row `j0` of head `kvh`,
/// zero past the end; 128 invocations, `li` this one.
fn stage_kv(li: u32, kvh: u32, j0: u32, lk: u32, with_v: bool) {
    for (var e = li; e < BK * (D / 4u); e = e + 128u) {
        let r = e / (D / 4u);
        let c = (e % (D / 4u)) * 4u;
        var x = vec4<f16>(0.0h);
        if (j0 + r < lk) { x = k[((kvh * lk + j0 + r) * D + c) / 4u]; }
        put4(r * LDK + c, x);
    }
    if (with_v) {
        for (var e = li; e < BK * (DV / 4u); e = e + 128u) {
            let r = e / (DV / 4u);
            let c = (e % (DV / 4u)) * 4u;
            var x = vec4<f16>(0.0h);
            if (j0 + r < lk) { x = v[((kvh * lk + j0 + r) * DV + c) / 4u]; }
            put4(V_AT + r * LDV + c, x);
        }
    }
}

/// The lane's 16 scores of row `i` (keys `j0`..`j0 + 15`), read from `sc[at..]`, scaled and
/// masked.
fn lane_scores(at: u32, i: u32, j0: u32, lq: u32, lk: u32, shift: i32, scale: f32, bi: u32,
               h: u32) -> array<f32, 16> {
    var s: array<f32, 16>;
    for (var c = 0u; c < 16u; c = c + 1u) {
        let j = j0 + c;
        var x = sc[at + c] * scale;
        if (j >= lk) {
            x = -wmx_inf();
        } else {
            if (HAS_MASK && i < lq) { x = x + mask_at(bi, h, i, j); }
            if (CAUSAL && i32(j) > i32(i) + shift) { x = MIN_F32; }
        }
        s[c] = x;
    }
    return s;
}

@compute @workgroup_size(128)
fn attention_coop(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) li: u32,
                  @builtin(subgroup_id) sg: u32,
                  @builtin(subgroup_invocation_id) lane: u32) {
    let lq = info[INFO_LQ];
    let lk = info[INFO_LK];
    let hq = info[INFO_HQ];
    let q_tiles = (lq + BQ - 1u) / BQ;
    let w = wid.x + wid.y * nwg.x;
    // Uniform per workgroup: a whole workgroup returns together.
    if (w >= info[INFO_BH] * q_tiles) { return; }
    let bh = w % info[INFO_BH];
    let q0 = (q_tiles - 1u - w / info[INFO_BH]) * BQ;
    let bi = bh / hq;
    let h = bh - bi * hq;
    let kvh = bi * info[INFO_HK] + h / (hq / info[INFO_HK]);
    let scale = bitcast<f32>(info[INFO_SCALE]);
    let shift = i32(lk) - i32(lq);
    let neg_inf = -wmx_inf();

    var k_tiles = (lk + BK - 1u) / BK;
    if (CAUSAL) {
        let last = i32(min(q0 + BQ, lq)) - 1 + shift;
        if (i32(q0) + shift >= 0) {
            k_tiles = min(k_tiles, u32(last) / BK + 1u);
        }
    }

    // The query tile, zero past the end; each subgroup keeps its 16 rows' fragments.
    for (var e = li; e < BQ * (D / 4u); e = e + 128u) {
        let r = e / (D / 4u);
        let c = (e % (D / 4u)) * 4u;
        var x = vec4<f16>(0.0h);
        if (q0 + r < lq) { x = q[((bh * lq + q0 + r) * D + c) / 4u]; }
        put4(r * LDQ + c, x);
    }
    workgroupBarrier();
    load_q_frags(sg * 16u * LDQ);

    // This lane's row and half tile.
    let row = lane >> 1u;
    let half = lane & 1u;
    let i = q0 + sg * 16u + row;
    let s_at = sg * SC + row * BK + half * 16u;
    var m = neg_inf;
    var l = 0.0;

    // Pass 1: row max and sum.
    for (var t = 0u; t < k_tiles; t = t + 1u) {
        let k0 = t * BK;
        workgroupBarrier();
        stage_kv(li, kvh, k0, lk, false);
        workgroupBarrier();
        scores(0u, sg * SC);
        scores(1u, sg * SC + 16u);
        workgroupBarrier();
        let s = lane_scores(s_at, i, k0 + half * 16u, lq, lk, shift, scale, bi, h);
        var mt = m;
        for (var c = 0u; c < 16u; c = c + 1u) { mt = max(mt, s[c]); }
        l = l * select(exp(m - mt), 1.0, m == mt);
        for (var c = 0u; c < 16u; c = c + 1u) {
            l = l + select(exp(s[c] - mt), 0.0, s[c] == neg_inf);
        }
        m = mt;
    }
    // Combine the two halves of each row through the scratch.
    workgroupBarrier();
    sc[sg * SC + lane] = m;
    sc[sg * SC + 32u + lane] = l;
    workgroupBarrier();
    let mo = sc[sg * SC + (lane ^ 1u)];
    let lo = sc[sg * SC + 32u + (lane ^ 1u)];
    let mm = max(m, mo);
    let lsum = select(l * exp(m - mm), 0.0, l == 0.0) + select(lo * exp(mo - mm), 0.0, lo == 0.0);
    let inv = 1.0 / lsum;
    let p_at = sg * 16u * LDP + row * LDP + half * 16u;

    // Pass 2: normalised probabilities times the values.
    for (var t = 0u; t < k_tiles; t = t + 1u) {
        let k0 = t * BK;
        workgroupBarrier();
        stage_kv(li, kvh, k0, lk, true);
        workgroupBarrier();
        scores(0u, sg * SC);
        scores(1u, sg * SC + 16u);
        workgroupBarrier();
        let s = lane_scores(s_at, i, k0 + half * 16u, lq, lk, shift, scale, bi, h);
        for (var c = 0u; c < 16u; c = c + 1u) {
            pf[p_at + c] = f16(select(exp(s[c] - mm) * inv, 0.0, s[c] == neg_inf));
        }
        workgroupBarrier();
        pv(sg * 16u * LDP);
    }
    store_o(sg * SC, lane, (bh * lq + q0 + sg * 16u) * DV, lq - min(lq, q0 + sg * 16u));
}
