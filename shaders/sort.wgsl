// sort.wgsl — stable sorting along the last axis of a strided input, and searchsorted. Elements
// become (key, position) pairs: `sort_key` maps each dtype to a u32 whose unsigned order is the
// sort order (NaN last, -0.0 equal to 0.0) and the position breaks ties, so every pair is unique
// and the result is stable.
//   sort_block:  one workgroup sorts a tile of TILE = 4 * WG pairs in workgroup memory (bitonic
//                network). Rows that fit a tile are packed several per tile (`rows_per_tile` > 0;
//                positions then hold (row in tile << 16) | index and compare row first); longer
//                rows are cut into tiles that the merge passes join.
//   sort_merge:  merges sorted runs of `width` pairs into runs of 2 * width: each pair finds its
//                place by a binary search in the other run (one pass per doubling).
//   sort_gather: sorted values, out[i] = in0[row, idx[i]], one invocation per output word.
//   sort_search: searchsorted, one invocation per value, a binary search in a 1-D sorted in0.
// Prelude provides: WG; S_IN0, S_IN1 (= S_IN0), S_OUT (all of the key's dtype); C_IN0 (= C_OUT);
//   load_in0(i), load_in1(i); sort_key(x: C_IN0) -> u32; store_out; the INFO_* word offsets;
//   float_key.wgsl; index.wgsl; and the bindings below.
// Bindings (declared by the prelude, so each entry point uses bindings 1..k in order):
//   0 info (read); sort_block: 1 in0, 2 keys_out, 3 idx_out; sort_merge: 1 keys_in, 2 idx_in,
//   3 keys_out, 4 idx_out; sort_gather: 1 in0, 2 idx_in (u32), 3 out; sort_search: 1 in0 (sorted),
//   2 in1 (values, dense), 3 idx_out. keys_* and idx_* are array<u32>.
// info: [n_rows (n_values for search), len, axis_stride (i32 bits), offset (i32 bits), p0, p1,
//        kn, kept_shape[kn], kept_strides[kn]]
//   sort_block: p0 = rows_per_tile (0: one tile holds part of one row), p1 = tiles_per_row;
//   sort_merge: p0 = width, p1 = n; sort_gather: p0 = n; sort_search: p0 = right (0 or 1).

const PER_THREAD: u32 = 4u;
const TILE: u32 = 4u * WG;
const NONE: u32 = 0xffffffffu;

var<workgroup> tile_keys: array<u32, TILE>;
var<workgroup> tile_pos: array<u32, TILE>;

// Element index of position `j` of row `r` in the strided input.
fn src_index(r: u32, j: u32) -> u32 {
    let kn = info[INFO_KEPT_NDIM];
    var rem = r;
    var idx = bitcast<i32>(info[INFO_OFFSET]) + i32(j) * bitcast<i32>(info[INFO_AXIS_STRIDE]);
    for (var d = kn; d > 0u; d = d - 1u) {
        let dim = info[INFO_KEPT_NDIM + d];
        let c = rem % dim;
        rem = rem / dim;
        idx = idx + i32(c) * bitcast<i32>(info[INFO_KEPT_NDIM + kn + d]);
    }
    return u32(idx);
}

// True when pair a sorts strictly before pair b (rows first when positions carry the row).
fn before(ka: u32, pa: u32, kb: u32, pb: u32, rows_first: bool) -> bool {
    if (rows_first) {
        let ra = pa >> 16u;
        let rb = pb >> 16u;
        if (ra != rb) { return ra < rb; }
    }
    if (ka != kb) { return ka < kb; }
    return pa < pb;
}

@compute @workgroup_size(WG)
fn sort_block(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
    let g = wid.x + wid.y * nwg.x;
    let n_rows = info[INFO_N_ROWS];
    let len = info[INFO_LEN];
    let rows_per_tile = info[INFO_ROWS_PER_TILE];
    let multi = rows_per_tile > 0u;
    var row0 = 0u;
    var j0 = 0u;
    var count = 0u;
    if (multi) {
        row0 = g * rows_per_tile;
        if (row0 >= n_rows) { return; }
        count = min(rows_per_tile, n_rows - row0) * len;
    } else {
        row0 = g / info[INFO_TILES_PER_ROW];
        if (row0 >= n_rows) { return; }
        j0 = (g % info[INFO_TILES_PER_ROW]) * TILE;
        count = min(TILE, len - j0);
    }
    for (var e = 0u; e < PER_THREAD; e = e + 1u) {
        let t = lid + e * WG;
        var k = NONE;
        var p = NONE;
        if (t < count) {
            if (multi) {
                let rl = t / len;
                let j = t - rl * len;
                k = sort_key(load_in0(src_index(row0 + rl, j)));
                p = (rl << 16u) | j;
            } else {
                k = sort_key(load_in0(src_index(row0, j0 + t)));
                p = j0 + t;
            }
        }
        tile_keys[t] = k;
        tile_pos[t] = p;
    }
    workgroupBarrier();
    for (var size = 2u; size <= TILE; size = size << 1u) {
        for (var half = size >> 1u; half > 0u; half = half >> 1u) {
            for (var e = 0u; e < TILE / (2u * WG); e = e + 1u) {
                let q = lid + e * WG;
                let i = ((q & ~(half - 1u)) << 1u) | (q & (half - 1u));
                let l = i | half;
                let ascending = (i & size) == 0u;
                let ki = tile_keys[i];
                let pi = tile_pos[i];
                let kl = tile_keys[l];
                let pl = tile_pos[l];
                if (before(kl, pl, ki, pi, multi) == ascending) {
                    tile_keys[i] = kl;
                    tile_pos[i] = pl;
                    tile_keys[l] = ki;
                    tile_pos[l] = pi;
                }
            }
            workgroupBarrier();
        }
    }
    for (var e = 0u; e < PER_THREAD; e = e + 1u) {
        let t = lid + e * WG;
        if (t < count) {
            let dest = row0 * len + j0 + t;
            keys_out[dest] = tile_keys[t];
            idx_out[dest] = select(tile_pos[t], tile_pos[t] & 0xffffu, multi);
        }
    }
}

@compute @workgroup_size(WG)
fn sort_merge(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let e = gid.x + gid.y * nwg.x * WG;
    if (e >= info[INFO_MERGE_N]) { return; }
    let len = info[INFO_LEN];
    let width = info[INFO_MERGE_WIDTH];
    let row = e / len;
    let j = e - row * len;
    let rb = row * len;
    let base = (j / (2u * width)) * (2u * width);
    let mid = min(base + width, len);
    let end = min(base + 2u * width, len);
    let k = keys_in[e];
    let p = idx_in[e];
    // The other run: [mid, end) for a pair of the first run, [base, mid) for one of the second.
    var lo = select(base, mid, j < mid);
    var hi = select(mid, end, j < mid);
    let other = lo;
    while (lo < hi) {
        let m = (lo + hi) >> 1u;
        if (before(keys_in[rb + m], idx_in[rb + m], k, p, false)) { lo = m + 1u; } else { hi = m; }
    }
    // First run: own index plus the pairs of the second run before it; second run: its index
    // past `mid` plus the pairs of the first run before it, counted from `base`.
    let dest = select(j - mid + lo, j + (lo - other), j < mid);
    keys_out[rb + dest] = k;
    idx_out[rb + dest] = p;
}

fn value_at(i: u32) -> C_OUT {
    let row = i / info[INFO_LEN];
    return load_in0(src_index(row, idx_in[i]));
}

@compute @workgroup_size(WG)
fn sort_gather(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let w = wmx_word_id(gid, nwg);
    if (w * OUT_PER_WORD >= info[INFO_GATHER_N]) { return; }
    wmx_write_word(w, info[INFO_GATHER_N]);
}

@compute @workgroup_size(WG)
fn sort_search(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * WG;
    if (i >= info[INFO_SEARCH_N]) { return; }
    let right = info[INFO_SEARCH_RIGHT] != 0u;
    let v = sort_key(load_in1(i));
    var lo = 0u;
    var hi = info[INFO_LEN];
    while (lo < hi) {
        let m = (lo + hi) >> 1u;
        let k = sort_key(load_in0(src_index(0u, m)));
        if (k < v || (right && k == v)) { lo = m + 1u; } else { hi = m; }
    }
    idx_out[i] = lo;
}
