// attention_coop.wgsl — scaled dot-product attention for f16 q, k, v on cooperative matrices
// (tensor cores): out = softmax(q kᵀ · scale + mask) v per (batch, head), f16 x f16 -> f32
// products, f32 softmax. Its own family file: it needs `enable wgpu_cooperative_matrix;` and
// the subgroup builtins. The host picks it only on devices with 16x16x16 f16 x f16 -> f32
// fragments and subgroups of exactly 32 invocations, for head dimensions D and DV that are
// multiples of 16 (at most 128); attention.wgsl is the fallback and the reference semantics.
// One workgroup of 4 subgroups per tile of BQ = 64 query rows of one head; subgroup sg owns rows
// 16 sg..16 sg + 15, its query fragments (D / 16 of them) held in registers for the whole run.
// Keys and values stream through workgroup memory BK = 32 rows at a time (each tile fetched into
// registers while the one before is computed on), in one pass with an online softmax whose
// rescales are lazy: each row keeps a reference max M and sum L of exp(s - M); M moves only when
// a tile's max exceeds it by more than RESCALE_AT (so p = exp(s - M) stays below e^RESCALE_AT,
// well inside f16), and only then are the output accumulators (DV / 16 fragments, f32, opaque)
// rescaled, through the subgroup's scratch, by exp(M_old - M_new) per row. The decision is made
// workgroup-uniform (a flag per subgroup read back with workgroupUniformLoad) because the rescale
// has barriers and cooperative operations. After the first tiles of a row it is rare. The output
// is divided by L on the way out.
// Lane layout: lane = 16 h + r handles row r of the subgroup's 16 and keys 16h..16h + 15 of
// each tile. Scores go through a per-subgroup f32 scratch, column-major (element (r, c) of
// block kb at kb * SCB + (c % 16) * 16 + r), so a lane's reads are conflict-free across rows; the
// block stride SCB = 272 puts the two halves in different banks. Probabilities go to `pf` as
// f16, column-major too (block stride PFB), the A operand of the p·v products.
// Masking as attention.wgsl: masked scores are f32::MIN (a fully masked row averages v), keys
// past the end -inf (excluded), causal tiles past the diagonal skipped when every row of the
// query tile has a visible key, grouped heads map query head h to key head h / (Hq / Hk). Query
// tiles are dispatched heaviest first. Every fragment pointer index is bound to a `let` first
// (naga 30's SPIR-V writer panics on an index computed inline in a cooperative load's pointer).
// The module is created trusted: every global index is guarded by the row, key and feature
// checks below.
// Prelude provides: BQ (64), BK (32), D, DV, LDQ (= D + 8), LDK (= D + 8), LDV (= DV + 8),
//   LDPC (= 24, a p column's stride), SCB (272), SCS (= BK / 16 * SCB), PFB (= 16 LDPC + 16),
//   PFS (= BK / 16 * PFB), NKV (= BK (D + DV) / 512, quads per invocation per tile),
//   V_AT (= BK * LDK, the value tile's offset in `tiles`), TILE_HALVES, CAUSAL, HAS_MASK,
//   the fragments (qf_*, of_*, sacc, czero: private), load_q_frags(base), scores(kb, dst)
//   (the 16 x 16 score block of keys 16kb.. into sc[dst..], column-major), pv(pbase)
//   (accumulates the subgroup's p block times the value tile), rescale(scratch, lane, a)
//   (multiplies row r of every accumulator by lane r's `a`), store_o(scratch, lane, obase,
//   rows, a) (each accumulator times lane r's `a` per row into out, bounds-checked; barriers
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
// Per subgroup: the BK scores of its 16 rows (SCS f32, column-major blocks); also the
// accumulators' row-major 16 x 16 scratch for rescales and the output.
var<workgroup> sc: array<f32, 4u * SCS>;
// Per subgroup: the f16 probabilities (PFS halves, column-major blocks).
var<workgroup> pf: array<f16, 4u * PFS>;
// This invocation's share of the next key and value tiles.
var<private> kv_next: array<vec4<f16>, NKV>;
// Per subgroup: 1 when one of its rows moved its reference max this tile.
var<workgroup> moved: array<u32, 4>;

const MIN_F32: f32 = -3.40282346638528859812e+38;
// A row's reference max moves once a score exceeds it by this much (p <= e^8 < 3000).
const RESCALE_AT: f32 = 8.0;

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

/// Loads this invocation's share (NKV quads) of BK rows of keys and of values from key row
/// `j0` of head `kvh` into `kv_next`, zero past the end; 128 invocations, `li` this one. The
/// next tile is fetched while the current one is computed on.
fn fetch_kv(li: u32, kvh: u32, j0: u32, lk: u32) {
    for (var n = 0u; n < NKV; n = n + 1u) {
        let e = li + 128u * n;
        var x = vec4<f16>(0.0h);
        if (e < BK * (D / 4u)) {
            let r = e / (D / 4u);
            if (j0 + r < lk) { x = k[((kvh * lk + j0 + r) * D) / 4u + e % (D / 4u)]; }
        } else {
            let ev = e - BK * (D / 4u);
            let r = ev / (DV / 4u);
            if (j0 + r < lk) { x = v[((kvh * lk + j0 + r) * DV) / 4u + ev % (DV / 4u)]; }
        }
        kv_next[n] = x;
    }
}

/// Stores `kv_next` into the key and value tiles.
fn put_kv(li: u32) {
    for (var n = 0u; n < NKV; n = n + 1u) {
        let e = li + 128u * n;
        if (e < BK * (D / 4u)) {
            put4((e / (D / 4u)) * LDK + (e % (D / 4u)) * 4u, kv_next[n]);
        } else {
            let ev = e - BK * (D / 4u);
            put4(V_AT + (ev / (DV / 4u)) * LDV + (ev % (DV / 4u)) * 4u, kv_next[n]);
        }
    }
}

/// The lane's 16 scores of row `i` (keys `j0`..`j0 + 15`), read from `sc[at + 16 c]`, scaled
/// and masked.
fn lane_scores(at: u32, i: u32, j0: u32, lq: u32, lk: u32, shift: i32, scale: f32, bi: u32,
               h: u32) -> array<f32, 16> {
    var s: array<f32, 16>;
    for (var c = 0u; c < 16u; c = c + 1u) {
        let j = j0 + c;
        var x = sc[at + 16u * c] * scale;
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
    let row = lane & 15u;
    let half = lane >> 4u;
    let i = q0 + sg * 16u + row;
    let s_at = sg * SCS + half * SCB + row;
    let p_at = sg * PFS + half * PFB + row;
    var m = neg_inf;
    var l = 0.0;

    fetch_kv(li, kvh, 0u, lk);
    for (var t = 0u; t < k_tiles; t = t + 1u) {
        let k0 = t * BK;
        workgroupBarrier();
        put_kv(li);
        workgroupBarrier();
        if (t + 1u < k_tiles) { fetch_kv(li, kvh, k0 + BK, lk); }
        scores(0u, sg * SCS);
        scores(1u, sg * SCS + SCB);
        workgroupBarrier();
        let s = lane_scores(s_at, i, k0 + half * 16u, lq, lk, shift, scale, bi, h);
        var mt = s[0];
        for (var c = 1u; c < 16u; c = c + 1u) { mt = max(mt, s[c]); }
        mt = max(mt, subgroupShuffleXor(mt, 16u));
        // The reference max moves (the first time from -inf, later only by more than
        // RESCALE_AT); the accumulators need the rescale only when they may hold something.
        let go = mt > m + RESCALE_AT;
        let a = select(1.0, exp(m - mt), go && m != neg_inf);
        let any = subgroupAny(go && m != neg_inf);
        if (go) { m = mt; }
        l = l * a;
        for (var c = 0u; c < 16u; c = c + 1u) {
            let p = select(exp(s[c] - m), 0.0, s[c] == neg_inf);
            l = l + p;
            pf[p_at + c * LDPC] = f16(p);
        }
        if (lane == 0u) { moved[sg] = select(0u, 1u, any); }
        let fl = workgroupUniformLoad(&moved);
        if ((fl[0] | fl[1] | fl[2] | fl[3]) != 0u) {
            rescale(sg * SCS, lane, a);
        }
        pv(sg * PFS);
    }
    let lsum = l + subgroupShuffleXor(l, 16u);
    let rows = lq - min(lq, q0 + sg * 16u);
    store_o(sg * SCS, lane, (bh * lq + q0 + sg * 16u) * DV, rows, 1.0 / lsum);
}
