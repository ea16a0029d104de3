// attention_coop.wgsl — scaled dot-product attention for f16 q, k, v on cooperative matrices
// (tensor cores): out = softmax(q kᵀ · scale + mask) v per (batch, head), f16 x f16 -> f32
// products, f32 softmax. Its own family file: it needs `enable wgpu_cooperative_matrix;` and
// the subgroup builtins. The host picks it only on devices with 16x16x16 f16 x f16 -> f32
// fragments and subgroups of exactly 32 invocations, for head dimensions D and DV that are
// multiples of 16 (at most 128); attention.wgsl is the fallback and the reference semantics.
// One workgroup of 4 subgroups per tile of BQ = 64 query rows of one head; subgroup sg owns rows
// 16 sg..16 sg + 15, its query fragments (D / 16 of them) held in registers for the whole run.
// Keys and values stream through workgroup memory BK = 32 rows at a time. With BUFFERS = 2 the
// tiles alternate between two buffers: the next tile is fetched into registers while this one is
// computed on, stored into the other buffer, and one workgroup barrier per tile publishes it;
// with BUFFERS = 1 (small workgroup memory) a second barrier guards the one buffer. Everything
// else a subgroup does on its own rows (scores, softmax, rescales, output) goes through its own
// scratch and needs only subgroup barriers, so the subgroups drift apart between tiles.
// Online softmax in base 2 (scores times scale · log2 e, exp2), with lazy rescales: each row keeps
// a reference max M and sum L of 2^(s - M); M moves only when a tile's max exceeds it by more
// than RESCALE_AT (so p = 2^(s - M) stays below 2^RESCALE_AT, well inside f16), and only then are
// the output accumulators (DV / 16 fragments, f32, opaque) rescaled, through the subgroup's
// scratch, by 2^(M_old - M_new) per row. After the first tiles of a row it is rare. The output is
// divided by L on the way out.
// Lane layout: lane = 16 h + r handles row r of the subgroup's 16 and keys 16h..16h + 15 of
// each tile. Scores go through a per-subgroup f32 scratch, column-major (element (r, c) of
// block kb at kb * SCB + (c % 16) * 16 + r), so a lane's reads are conflict-free across rows; the
// block stride SCB = 272 puts the two halves in different banks. Probabilities go to `pf` as
// f16 rows of LDP halves (a lane writes its 16 as four vec4 words), the A operand of p·v.
// Workgroup tiles are arrays of vec4<f16> words: a staged quad is one store, and fragments load
// at word indices with strides in words (every row and fragment corner is a multiple of 4 halves).
// Masking as attention.wgsl: masked scores are f32::MIN (a fully masked row averages v), keys
// past the end -inf (excluded), causal tiles past the diagonal skipped when every row of the
// query tile has a visible key, grouped heads map query head h to key head h / (Hq / Hk). Tiles
// every row of the subgroup sees in full skip the per-key checks. Query tiles are dispatched
// head by head, heaviest first within a head. Every fragment pointer index is bound to a `let` first (naga 30's SPIR-V writer
// panics on an index computed inline in a cooperative load's pointer).
// The module is created trusted: every global index is guarded by the row, key and feature
// checks below.
// Prelude provides: BQ (64), BK (32), D, DV, LDQ (= D + 8), LDK (= D + 8), LDV (= DV + 8),
//   LDP (= BK + 8, a probability row's stride in halves), SCB (272), SCS (= BK / 16 * SCB),
//   PFS (= 16 LDP), NKV (= BK (D + DV) / 512, quads per invocation per tile), V_AT (= BK * LDK,
//   the value tile's offset in a buffer, halves), BUF (halves per buffer), BUFFERS, TILE_WORDS,
//   CAUSAL, HAS_MASK, the fragments (qf_*, of_*, sacc0, sacc1, czero: private),
//   load_q_frags(base), scores(kvb, dst) (the 16 x BK scores of the subgroup's rows against the
//   key tile of the buffer at half kvb into sc[dst..], column-major blocks), pv(kvb, pbase)
//   (accumulates the subgroup's p rows times the value tile), rescale(scratch, lane, a)
//   (multiplies row r of every accumulator by lane r's `a`), store_o(scratch, lane, obase,
//   rows, a) (each accumulator times lane r's `a` per row into out, bounds-checked; subgroup
//   barriers inside); load_mk(i) -> f32, store_out1(i, f32), INFO_* word offsets.
// Bindings: 0 info, 1 q, 2 k, 3 v (read, vec4<f16> quads, dense), 4 mk (f32 mask view; q again
// when absent), 5 out (f16).
// info: [B*Hq, Hq, Hk, Lq, Lk, scale bits, mask offset, mask strides b, h, i, j (i32 bits)]

@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read> q: array<vec4<f16>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<f16>>;
@group(0) @binding(3) var<storage, read> v: array<vec4<f16>>;
@group(0) @binding(4) var<storage, read> mk: array<S_MK>;
@group(0) @binding(5) var<storage, read_write> out: array<S_OUT>;

// The query tile [BQ][LDQ] at the start, then BUFFERS buffers of a key tile [BK][LDK] and a value
// tile [BK][LDV] (at V_AT), BUF halves each.
var<workgroup> tiles: array<vec4<f16>, TILE_WORDS>;
// Per subgroup: the BK scores of its 16 rows (SCS f32, column-major blocks); also the
// accumulators' row-major 16 x 16 scratch for rescales and the output.
var<workgroup> sc: array<f32, 4u * SCS>;
// Per subgroup: the f16 probabilities, 16 rows of LDP halves.
var<workgroup> pf: array<vec4<f16>, PFS>;
// This invocation's share of the next key and value tiles.
var<private> kv_next: array<vec4<f16>, NKV>;

const MIN_F32: f32 = -3.40282346638528859812e+38;
const LOG2E: f32 = 1.44269504088896340736;
// A row's reference max moves once a score exceeds it by this much (base 2: p <= 2^11).
const RESCALE_AT: f32 = 11.0;

fn mask_at(b: u32, h: u32, i: u32, j: u32) -> f32 {
    let at = bitcast<i32>(info[INFO_MOFF]) + i32(b) * bitcast<i32>(info[INFO_MSB])
        + i32(h) * bitcast<i32>(info[INFO_MSH]) + i32(i) * bitcast<i32>(info[INFO_MSI])
        + i32(j) * bitcast<i32>(info[INFO_MSJ]);
    return load_mk(u32(at));
}

/// Loads this invocation's share (NKV quads) of BK rows of keys and of values from key row
/// `j0` of head `kvh` into `kv_next`, zero past the end; 128 invocations, `li` this one.
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

/// Stores `kv_next` into the key and value tiles of the buffer at half `kvb`.
fn put_kv(li: u32, kvb: u32) {
    for (var n = 0u; n < NKV; n = n + 1u) {
        let e = li + 128u * n;
        if (e < BK * (D / 4u)) {
            tiles[(kvb + (e / (D / 4u)) * LDK) / 4u + e % (D / 4u)] = kv_next[n];
        } else {
            let ev = e - BK * (D / 4u);
            tiles[(kvb + V_AT + (ev / (DV / 4u)) * LDV) / 4u + ev % (DV / 4u)] = kv_next[n];
        }
    }
}

/// The lane's 16 scores of row `i` (keys `j0`..`j0 + 15`), read from `sc[at + 16 c]`, in base 2
/// (times `scale2` = scale · log2 e) and masked; `full` when every key is visible to the row. A
/// masked score is added to its mask in natural units first and stays finite in base 2 (at least
/// f32::MIN, as a boolean mask's f32::MIN would overflow times log2 e), so a fully masked row
/// still averages v; a -inf mask stays -inf (the key is excluded).
fn lane_scores(at: u32, i: u32, j0: u32, lq: u32, lk: u32, shift: i32, scale: f32, scale2: f32,
               bi: u32, h: u32, full: bool) -> array<f32, 16> {
    var s: array<f32, 16>;
    if (full && !HAS_MASK) {
        for (var c = 0u; c < 16u; c = c + 1u) { s[c] = sc[at + 16u * c] * scale2; }
        return s;
    }
    let neg_inf = -wmx_inf();
    for (var c = 0u; c < 16u; c = c + 1u) {
        let j = j0 + c;
        let raw = sc[at + 16u * c];
        var x = raw * scale2;
        if (j >= lk) {
            x = neg_inf;
        } else {
            if (HAS_MASK && i < lq) {
                let xn = raw * scale + mask_at(bi, h, i, j);
                x = select(max(xn * LOG2E, MIN_F32), neg_inf, xn == neg_inf);
            }
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
    // Head by head (the workgroups in flight share a few heads' keys and values in cache),
    // heaviest query tile first within a head (causal stragglers start early).
    let bh = w / q_tiles;
    let q0 = (q_tiles - 1u - w % q_tiles) * BQ;
    let bi = bh / hq;
    let h = bh - bi * hq;
    let kvh = bi * info[INFO_HK] + h / (hq / info[INFO_HK]);
    let scale = bitcast<f32>(info[INFO_SCALE]);
    let scale2 = scale * LOG2E;
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
        let c = e % (D / 4u);
        var x = vec4<f16>(0.0h);
        if (q0 + r < lq) { x = q[(bh * lq + q0 + r) * (D / 4u) + c]; }
        tiles[(r * LDQ) / 4u + c] = x;
    }
    workgroupBarrier();
    load_q_frags(sg * 16u * LDQ);
    fetch_kv(li, kvh, 0u, lk);
    // The query tile shares the buffers: every subgroup has its fragments before they refill.
    workgroupBarrier();
    put_kv(li, 0u);
    workgroupBarrier();

    // This lane's row and half tile; the subgroup's first row.
    let row = lane & 15u;
    let half = lane >> 4u;
    let r0 = q0 + sg * 16u;
    let i = r0 + row;
    let s_at = sg * SCS + half * SCB + row;
    let p_at = (sg * PFS + row * LDP) / 4u + half * 4u;
    var m = neg_inf;
    var l = 0.0;

    for (var t = 0u; t < k_tiles; t = t + 1u) {
        let k0 = t * BK;
        let kvb = (t % BUFFERS) * BUF;
        let more = t + 1u < k_tiles;
        if (more) { fetch_kv(li, kvh, k0 + BK, lk); }
        scores(kvb, sg * SCS);
        subgroupBarrier();
        // Every key of the tile exists and is visible to the subgroup's first row (so to all).
        let full = k0 + BK <= lk && (!CAUSAL || i32(k0 + BK - 1u) <= i32(r0) + shift);
        let s = lane_scores(s_at, i, k0 + half * 16u, lq, lk, shift, scale, scale2, bi, h, full);
        var mt = s[0];
        for (var c = 1u; c < 16u; c = c + 1u) { mt = max(mt, s[c]); }
        mt = max(mt, subgroupShuffleXor(mt, 16u));
        // The reference max moves (the first time from -inf, later only by more than
        // RESCALE_AT); the accumulators need the rescale only when they may hold something.
        let go = mt > m + RESCALE_AT;
        let a = select(1.0, exp2(m - mt), go && m != neg_inf);
        let any = subgroupAny(go && m != neg_inf);
        if (go) { m = mt; }
        l = l * a;
        var p: array<f32, 16>;
        for (var c = 0u; c < 16u; c = c + 1u) {
            p[c] = select(exp2(s[c] - m), 0.0, s[c] == neg_inf);
            l = l + p[c];
        }
        for (var c = 0u; c < 4u; c = c + 1u) {
            pf[p_at + c] = vec4<f16>(vec4<f32>(p[4u * c], p[4u * c + 1u], p[4u * c + 2u],
                                               p[4u * c + 3u]));
        }
        if (any) { rescale(sg * SCS, lane, a); }
        subgroupBarrier();
        pv(kvb, sg * PFS);
        if (more) {
            // One buffer: every subgroup must be done reading it before it is refilled.
            if (BUFFERS == 1u) { workgroupBarrier(); }
            put_kv(li, ((t + 1u) % BUFFERS) * BUF);
        }
        workgroupBarrier();
    }
    let lsum = l + subgroupShuffleXor(l, 16u);
    let rows = lq - min(lq, r0);
    store_o(sg * SCS, lane, (bh * lq + r0) * DV, rows, 1.0 / lsum);
}
