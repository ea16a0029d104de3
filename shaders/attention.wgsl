// attention.wgsl — scaled dot-product attention, flash-attention style: out = softmax(q kᵀ ·
// scale + mask) v per (batch, head), never writing the scores out. f32 arithmetic for every
// dtype. One workgroup of 256 invocations per tile of BQ = 64 query rows of one head; the keys
// and values stream through in tiles of BK = 64 rows. The invocations form a 16 x 16 grid: (ty,
// tx) owns query rows 4ty..4ty+3 and, of each key tile, keys 4tx..4tx+3 (a 4 x 4 register block
// of scores) and output features 64c + 4tx..+3 for c < FC (a 4 x 4FC register block of the
// output, f32). Both products are register-blocked outer products over workgroup tiles read as
// vec4s: the scores walk the head dimension DC at a time through d-major (transposed) tiles of
// the queries and keys (`qt`, `kv`), the output walks the key tile KC keys at a time through
// the key-major probabilities `pt` and a feature-major tile of values (`kv` again). Each chunk's
// global loads (`fetch`) are issued one chunk ahead into registers and stored (`put`) after the
// barrier, so their latency hides behind the chunk before. Online
// softmax per row: each invocation keeps its rows' running max m (identical across the 16
// invocations of a row: they reduce the tile's row maxima through `red`) and a partial sum l of
// its own probabilities, summed across the row at the end. Causal tiles past the diagonal are
// skipped when every row of the query tile has a visible key; masked scores are f32::MIN (MLX's
// finfo.min: a fully masked row averages v), keys past the end -inf (excluded). Grouped-query
// attention maps query head h to key head h / (Hq / Hk). Query tiles are dispatched head by head,
// heaviest (last) first within a head.
// The module is created trusted: every global index is guarded by the row, key and feature
// checks below.
// Prelude provides: BQ, BK (64), DC, KC, D, DV, FC (= ceil(DV / 64)), DVP (= 64 FC), QTS (= BQ +
//   4, the padded stride of qt and pt rows), KTS (= BK + 4), KV_WORDS (vec4s of kv), CAUSAL,
//   HAS_MASK; load_q/load_k/load_v(i) -> f32, load_mk(i) -> f32; store_out1(i, f32).
// Bindings: 0 info, 1 q, 2 k, 3 v (dense), 4 mk (f32 mask view; q again when absent), 5 out.
// info: [B*Hq, Hq, Hk, Lq, Lk, scale bits, mask offset, mask strides b, h, i, j (i32 bits)]

@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read> q: array<S_Q>;
@group(0) @binding(2) var<storage, read> k: array<S_K>;
@group(0) @binding(3) var<storage, read> v: array<S_V>;
@group(0) @binding(4) var<storage, read> mk: array<S_MK>;
@group(0) @binding(5) var<storage, read_write> out: array<S_OUT>;

// d-major query chunk [DC][QTS]; between the products, the row reductions [BQ][16].
var<workgroup> qt: array<vec4<f32>, DC * QTS / 4u>;
// d-major key chunk [DC][KTS], or a value chunk [KC][DVP].
var<workgroup> kv: array<vec4<f32>, KV_WORDS>;
// The tile's probabilities, key-major [BK][QTS].
var<workgroup> pt: array<vec4<f32>, BK * QTS / 4u>;

const MIN_F32: f32 = -3.40282346638528859812e+38;
// Query-key chunks per key tile; values per invocation of a chunk's query and key quads (QS, KS)
// and of a value chunk (VS); the prefetch registers.
const NQK: u32 = (D + DC - 1u) / DC;
const QS: u32 = 4u * ((BQ * DC / 4u + 255u) / 256u);
const KS: u32 = 4u * ((BK * DC / 4u + 255u) / 256u);
const VS: u32 = (KC * DVP + 255u) / 256u;
const NX: u32 = max(QS + KS, VS);

fn mask_at(b: u32, h: u32, i: u32, j: u32) -> f32 {
    let at = bitcast<i32>(info[INFO_MOFF]) + i32(b) * bitcast<i32>(info[INFO_MSB])
        + i32(h) * bitcast<i32>(info[INFO_MSH]) + i32(i) * bitcast<i32>(info[INFO_MSI])
        + i32(j) * bitcast<i32>(info[INFO_MSJ]);
    return load_mk(u32(at));
}

/// Sums (`op` 0) or maxes (1) each of the invocation's four row values `x` over the 16
/// invocations sharing the row, through `qt` (free between the products). Barriers inside:
/// call from uniform control flow, after every read of `qt`.
fn row_reduce(x: vec4<f32>, ty: u32, tx: u32, op: u32) -> vec4<f32> {
    workgroupBarrier();
    // red[row][tx] as vec4 words: row r's 16 values are words 4r..4r+3.
    for (var a = 0u; a < 4u; a = a + 1u) {
        let w = (ty * 4u + a) * 4u + (tx >> 2u);
        qt[w][tx & 3u] = x[a];
    }
    workgroupBarrier();
    var r = vec4<f32>(0.0);
    for (var a = 0u; a < 4u; a = a + 1u) {
        let w = (ty * 4u + a) * 4u;
        let v0 = qt[w];
        let v1 = qt[w + 1u];
        let v2 = qt[w + 2u];
        let v3 = qt[w + 3u];
        if (op == 0u) {
            let s = (v0 + v1) + (v2 + v3);
            r[a] = (s.x + s.y) + (s.z + s.w);
        } else {
            let s = max(max(v0, v1), max(v2, v3));
            r[a] = max(max(s.x, s.y), max(s.z, s.w));
        }
    }
    return r;
}

/// The row (x) and head-dimension offset within the chunk (y) of value `n` of this invocation's
/// share of a query or key chunk: quad `lid + 256 (n / 4)` (DC / 4 quads a row), element n % 4.
/// `fetch` and `put` agree through it.
fn chunk_slot(lid: u32, n: u32) -> vec2<u32> {
    let e = lid + 256u * (n / 4u);
    return vec2<u32>(e / (DC / 4u), (e % (DC / 4u)) * 4u + n % 4u);
}

/// Loads stage `c` of key tile `k0` into `nx`: for c < NQK the query and key quads of head
/// dimensions DC c.. (QS and KS values: row e / (DC/4) of the tiles, 4 consecutive d), for
/// c >= NQK the value chunk of keys KC (c - NQK).. (VS values, key-major); zero outside.
/// Issued a stage ahead, so the global latency hides behind the stage before.
fn fetch(c: u32, k0: u32, lid: u32, q0: u32, lq: u32, lk: u32, q_base: u32, k_base: u32,
         nx: ptr<function, array<f32, NX>>) {
    if (c < NQK) {
        let d0 = c * DC;
        for (var n = 0u; n < QS; n = n + 1u) {
            let at = chunk_slot(lid, n);
            let i = q0 + at.x;
            let d = d0 + at.y;
            var x = 0.0;
            if (at.x < BQ && i < lq && d < D) { x = load_q((q_base + i) * D + d); }
            (*nx)[n] = x;
        }
        for (var n = 0u; n < KS; n = n + 1u) {
            let at = chunk_slot(lid, n);
            let j = k0 + at.x;
            let d = d0 + at.y;
            var x = 0.0;
            if (at.x < BK && j < lk && d < D) { x = load_k((k_base + j) * D + d); }
            (*nx)[QS + n] = x;
        }
    } else {
        let kc = (c - NQK) * KC;
        for (var n = 0u; n < VS; n = n + 1u) {
            let e = lid + 256u * n;
            let j = k0 + kc + e / DVP;
            let f = e % DVP;
            var x = 0.0;
            if (e < KC * DVP && j < lk && f < DV) { x = load_v((k_base + j) * DV + f); }
            (*nx)[n] = x;
        }
    }
}

/// Stores stage `c` from `nx` (see `fetch`): the query and key quads transposed into `qt` and
/// `kv`, or the value chunk into `kv`. Call between barriers.
fn put(c: u32, lid: u32, nx: ptr<function, array<f32, NX>>) {
    if (c < NQK) {
        for (var n = 0u; n < QS; n = n + 1u) {
            let slot = chunk_slot(lid, n);
            if (slot.x >= BQ) { break; }
            let at = slot.y * QTS + slot.x;
            qt[at / 4u][at % 4u] = (*nx)[n];
        }
        for (var n = 0u; n < KS; n = n + 1u) {
            let slot = chunk_slot(lid, n);
            if (slot.x >= BK) { break; }
            let at = slot.y * KTS + slot.x;
            kv[at / 4u][at % 4u] = (*nx)[QS + n];
        }
    } else {
        for (var n = 0u; n < VS; n = n + 1u) {
            let e = lid + 256u * n;
            if (e >= KC * DVP) { break; }
            kv[e / 4u][e % 4u] = (*nx)[n];
        }
    }
}

@compute @workgroup_size(256)
fn attention_tiles(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
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
    let ty = lid / 16u;
    let tx = lid % 16u;
    let shift = i32(lk) - i32(lq);
    let q_base = bh * lq;
    let k_base = kvh * lk;

    var k_tiles = (lk + BK - 1u) / BK;
    if (CAUSAL) {
        let last = i32(min(q0 + BQ, lq)) - 1 + shift;
        if (i32(q0) + shift >= 0) {
            k_tiles = min(k_tiles, u32(last) / BK + 1u);
        }
    }

    let neg_inf = -wmx_inf();
    var m = vec4<f32>(neg_inf);
    var l = vec4<f32>(0.0);
    var o: array<vec4<f32>, 4u * FC>;
    for (var c = 0u; c < 4u * FC; c = c + 1u) { o[c] = vec4<f32>(0.0); }

    // The stages of a key tile: NQK query-key chunks, then BK / KC value chunks; each one's
    // global loads are issued a stage ahead into `nx`.
    var nx: array<f32, NX>;
    fetch(0u, 0u, lid, q0, lq, lk, q_base, k_base, &nx);
    for (var t = 0u; t < k_tiles; t = t + 1u) {
        let k0 = t * BK;
        // Scores: s[a] holds rows 4ty + a against keys 4tx..4tx+3.
        var s: array<vec4<f32>, 4>;
        for (var a = 0u; a < 4u; a = a + 1u) { s[a] = vec4<f32>(0.0); }
        for (var c = 0u; c < NQK; c = c + 1u) {
            workgroupBarrier();
            put(c, lid, &nx);
            workgroupBarrier();
            fetch(c + 1u, k0, lid, q0, lq, lk, q_base, k_base, &nx);
            for (var d = 0u; d < DC; d = d + 1u) {
                let qa = qt[d * (QTS / 4u) + ty];
                let kb = kv[d * (KTS / 4u) + tx];
                s[0] = fma(vec4<f32>(qa.x), kb, s[0]);
                s[1] = fma(vec4<f32>(qa.y), kb, s[1]);
                s[2] = fma(vec4<f32>(qa.z), kb, s[2]);
                s[3] = fma(vec4<f32>(qa.w), kb, s[3]);
            }
        }
        // Scale, mask, and this invocation's row maxima.
        var mx = vec4<f32>(neg_inf);
        for (var a = 0u; a < 4u; a = a + 1u) {
            let i = q0 + ty * 4u + a;
            var row = s[a] * scale;
            for (var c = 0u; c < 4u; c = c + 1u) {
                let j = k0 + tx * 4u + c;
                var x = row[c];
                if (j >= lk) {
                    x = neg_inf;
                } else {
                    if (HAS_MASK && i < lq) { x = x + mask_at(bi, h, i, j); }
                    if (CAUSAL && i32(j) > i32(i) + shift) { x = MIN_F32; }
                }
                row[c] = x;
            }
            s[a] = row;
            mx[a] = max(max(row.x, row.y), max(row.z, row.w));
        }
        let mt = max(m, row_reduce(mx, ty, tx, 1u));
        let alpha = select(exp(m - mt), vec4<f32>(1.0), m == mt);
        m = mt;
        l = l * alpha;
        for (var c = 0u; c < FC; c = c + 1u) {
            for (var a = 0u; a < 4u; a = a + 1u) { o[a * FC + c] = o[a * FC + c] * alpha[a]; }
        }
        // Probabilities, key-major: pt[key][row], rows 4ty..4ty+3 as one vec4 per key.
        var p: array<vec4<f32>, 4>;
        for (var a = 0u; a < 4u; a = a + 1u) {
            let row = s[a];
            let pr = select(exp(row - vec4<f32>(mt[a])), vec4<f32>(0.0), row == vec4<f32>(neg_inf));
            l[a] = l[a] + ((pr.x + pr.y) + (pr.z + pr.w));
            p[a] = pr;
        }
        for (var c = 0u; c < 4u; c = c + 1u) {
            pt[(tx * 4u + c) * (QTS / 4u) + ty] = vec4<f32>(p[0][c], p[1][c], p[2][c], p[3][c]);
        }
        // Output: o[a * FC + c] += p[row 4ty + a][key] * v[key][64c + 4tx..+3], KC keys a chunk.
        for (var kc = 0u; kc < BK / KC; kc = kc + 1u) {
            workgroupBarrier();
            put(NQK + kc, lid, &nx);
            workgroupBarrier();
            // The next stage: the next value chunk, or the next tile's first query-key chunk.
            if (kc + 1u < BK / KC) {
                fetch(NQK + kc + 1u, k0, lid, q0, lq, lk, q_base, k_base, &nx);
            } else if (t + 1u < k_tiles) {
                fetch(0u, k0 + BK, lid, q0, lq, lk, q_base, k_base, &nx);
            }
            for (var kk = 0u; kk < KC; kk = kk + 1u) {
                let pa = pt[(kc * KC + kk) * (QTS / 4u) + ty];
                for (var c = 0u; c < FC; c = c + 1u) {
                    let vb = kv[kk * (DVP / 4u) + c * 16u + tx];
                    o[c] = fma(vec4<f32>(pa.x), vb, o[c]);
                    o[FC + c] = fma(vec4<f32>(pa.y), vb, o[FC + c]);
                    o[2u * FC + c] = fma(vec4<f32>(pa.z), vb, o[2u * FC + c]);
                    o[3u * FC + c] = fma(vec4<f32>(pa.w), vb, o[3u * FC + c]);
                }
            }
        }
    }
    let lsum = row_reduce(l, ty, tx, 0u);
    for (var a = 0u; a < 4u; a = a + 1u) {
        let i = q0 + ty * 4u + a;
        if (i < lq) {
            let inv = 1.0 / lsum[a];
            for (var c = 0u; c < FC; c = c + 1u) {
                let ov = o[a * FC + c] * inv;
                for (var e = 0u; e < 4u; e = e + 1u) {
                    let f = c * 64u + tx * 4u + e;
                    if (f < DV) { store_out1((q_base + i) * DV + f, ov[e]); }
                }
            }
        }
    }
}
