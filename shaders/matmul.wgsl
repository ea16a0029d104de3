// matmul.wgsl — batched C = A @ B for strided A [.., M, K] and B [.., K, N], dense C [batch, M, N].
// Four entry points; the key picks one and the prelude's storage types:
// - matmul_tiled (any strides, scalar storage): 64x64 output tile per workgroup of 16x16
//   invocations, 4x4 register micro-tile each, K staged through workgroup memory 16 at a time
//   (two buffers, each step's loads issued during the step before, as matmul_vec4).
// - matmul_vec4 (row-major rows, K, N, offsets and row strides multiples of 4; vec4 storage;
//   A_T: A column-major instead, M and its column stride multiples of 4; B_T: B column-major):
//   128x128 tile per workgroup of 16x16 invocations, 8x8 micro-tile each (two 4x4 quadrants 64
//   apart, so neighbouring invocations read neighbouring vec4s of workgroup memory), K staged 8 at
//   a time through two buffers (one barrier a step; each step's global loads are issued during
//   the step before), vec4 loads from storage and vec4 stores.
// - matmul_rows (the vec4 kernel's layout; at most ROWS_MAX rows of A: one decoded token, a
//   prompt's last position times the output head): memory-bound, so no tiles. A workgroup of
//   256 invocations owns 4 RCT columns of C: RCT column invocations (one quad of columns each)
//   times 256 / RCT groups along K, each group taking every (256 / RCT)-th quad of K rows. Each
//   step reads four rows of B (four independent quad loads in flight) and one quad of each A
//   row; the groups' partial sums meet in workgroup memory, one row of C at a time.
// - matmul_sum_splits (after a split K, see kernels/matmul.rs k_splits): C = the sum of the f32
//   partial products [S, M N] (in0, as quads), converted to C's dtype in the same pass. Its
//   info is [quads of C, S].
// All accumulate in f32 and check their own bounds (their modules are created trusted).
// Prelude provides: RCT (matmul_rows' column invocations); A_T, B_T (matmul_vec4's layouts); S_IN0, S_IN1, S_OUT; load_in0(i) -> f32; load_in1(i) -> f32;
//   store_out1(i, v: f32); for matmul_vec4 also load4_in0(q), load4_in1(q) -> vec4<f32> and
//   store4_out(q, v: vec4<f32>) where q indexes vec4s; INFO_* word offsets; matmul_batch.wgsl
//   (matmul_batch_offsets(z) -> vec2<i32>, matmul_quad_dims(z)).
// Bindings: 0 info, 1 a (read), 2 b (read), 3 out (read_write, unpacked).
// info: [M, N, K, a_row_stride, a_col_stride, b_row_stride, b_col_stride, bn,
//        batch_shape[bn], a_batch_strides[bn], b_batch_strides[bn], a_offset, b_offset]  (i32 bits)

@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read> in0: array<S_IN0>;
@group(0) @binding(2) var<storage, read> in1: array<S_IN1>;
@group(0) @binding(3) var<storage, read_write> out: array<S_OUT>;

const BM: u32 = 64u;
const BN: u32 = 64u;
const BK: u32 = 16u;

// Two buffers each, as matmul_vec4's: one barrier a step, the next step's loads in registers.
var<workgroup> a_tile: array<f32, 2048>; // [2][BK][BM]
var<workgroup> b_tile: array<f32, 2048>; // [2][BK][BN]

/// This invocation's 4 values of A and 4 of B for the step at depth `k0` (zeros outside).
fn load_tiled(k0: u32, li: u32, row0: u32, col0: u32, M: u32, N: u32, K: u32, a_off: i32,
              b_off: i32, a_rs: i32, a_cs: i32, b_rs: i32, b_cs: i32) -> array<f32, 8> {
    var r: array<f32, 8>;
    for (var t = 0u; t < 4u; t = t + 1u) {
        let e = li + t * 256u;
        let gm = row0 + e / BK;
        let gk = k0 + e % BK;
        var v = 0.0;
        if (gm < M && gk < K) { v = load_in0(u32(a_off + i32(gm) * a_rs + i32(gk) * a_cs)); }
        r[t] = v;
        let gkb = k0 + e / BN;
        let gn = col0 + e % BN;
        var w = 0.0;
        if (gkb < K && gn < N) { w = load_in1(u32(b_off + i32(gkb) * b_rs + i32(gn) * b_cs)); }
        r[4u + t] = w;
    }
    return r;
}

/// Stores `r` (see `load_tiled`) into buffer `buf` (0 or 1024 values in).
fn stage_tiled(buf: u32, li: u32, r: array<f32, 8>) {
    for (var t = 0u; t < 4u; t = t + 1u) {
        let e = li + t * 256u;
        a_tile[buf + (e % BK) * BM + e / BK] = r[t];
        b_tile[buf + (e / BN) * BN + e % BN] = r[4u + t];
    }
}

@compute @workgroup_size(16, 16)
fn matmul_tiled(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                @builtin(local_invocation_index) li: u32) {
    let M = info[INFO_M];
    let N = info[INFO_N];
    let K = info[INFO_K];
    let a_rs = bitcast<i32>(info[INFO_A_ROW_STRIDE]);
    let a_cs = bitcast<i32>(info[INFO_A_COL_STRIDE]);
    let b_rs = bitcast<i32>(info[INFO_B_ROW_STRIDE]);
    let b_cs = bitcast<i32>(info[INFO_B_COL_STRIDE]);
    let offs = matmul_batch_offsets(wid.z);
    let a_off = offs.x;
    let b_off = offs.y;
    let row0 = wid.y * BM;
    let col0 = wid.x * BN;
    var acc: array<f32, 16>;
    var r = load_tiled(0u, li, row0, col0, M, N, K, a_off, b_off, a_rs, a_cs, b_rs, b_cs);
    stage_tiled(0u, li, r);
    workgroupBarrier();
    let steps = (K + BK - 1u) / BK;
    for (var s = 0u; s < steps; s = s + 1u) {
        let cur = (s & 1u) * 1024u;
        let more = s + 1u < steps;
        if (more) {
            r = load_tiled((s + 1u) * BK, li, row0, col0, M, N, K, a_off, b_off, a_rs, a_cs, b_rs, b_cs);
        }
        for (var kk = 0u; kk < BK; kk = kk + 1u) {
            var a: array<f32, 4>;
            var b: array<f32, 4>;
            for (var i = 0u; i < 4u; i = i + 1u) {
                a[i] = a_tile[cur + kk * BM + lid.y * 4u + i];
                b[i] = b_tile[cur + kk * BN + lid.x * 4u + i];
            }
            for (var i = 0u; i < 4u; i = i + 1u) {
                for (var j = 0u; j < 4u; j = j + 1u) {
                    acc[i * 4u + j] = fma(a[i], b[j], acc[i * 4u + j]);
                }
            }
        }
        if (more) {
            stage_tiled(1024u - cur, li, r);
        }
        workgroupBarrier();
    }
    let cbase = wid.z * M * N;
    for (var i = 0u; i < 4u; i = i + 1u) {
        for (var j = 0u; j < 4u; j = j + 1u) {
            let gm = row0 + lid.y * 4u + i;
            let gn = col0 + lid.x * 4u + j;
            if (gm < M && gn < N) { store_out1(cbase + gm * N + gn, acc[i * 4u + j]); }
        }
    }
}

const VM: u32 = 128u;
const VN: u32 = 128u;
const VK: u32 = 8u;

// Two buffers each: step s computes on buffer s % 2 while step s + 1's quads, loaded into
// registers before it, are stored into the other (read in step s - 1, before the last barrier).
var<workgroup> a_quads: array<vec4<f32>, 512>; // [2][VK][VM / 4]: A transposed, 4 rows per vec4
var<workgroup> b_quads: array<vec4<f32>, 512>; // [2][VK][VN / 4]

/// Stores this invocation's quad of A, `av`, and of B, `bv`, into buffer `buf` (0 or 256 vec4s
/// in). Row-major A: row a_m, k a_kk..a_kk+3 (transposed on the way in); column-major (A_T):
/// rows a_m..a_m+3 at k a_kk (one store). Row-major B: k b_kk, columns b_n..b_n+3 (one store);
/// column-major (B_T): k b_kk..b_kk+3 of column b_n.
fn stage_vec4(buf: u32, a_m: u32, a_kk: u32, b_kk: u32, b_n: u32, av: vec4<f32>, bv: vec4<f32>) {
    if (A_T) {
        a_quads[buf + a_kk * 32u + (a_m >> 2u)] = av;
    } else {
        let at = buf + (a_m >> 2u);
        let lane = a_m & 3u;
        a_quads[at + (a_kk + 0u) * 32u][lane] = av.x;
        a_quads[at + (a_kk + 1u) * 32u][lane] = av.y;
        a_quads[at + (a_kk + 2u) * 32u][lane] = av.z;
        a_quads[at + (a_kk + 3u) * 32u][lane] = av.w;
    }
    if (B_T) {
        let at = buf + (b_n >> 2u);
        let lane = b_n & 3u;
        b_quads[at + (b_kk + 0u) * 32u][lane] = bv.x;
        b_quads[at + (b_kk + 1u) * 32u][lane] = bv.y;
        b_quads[at + (b_kk + 2u) * 32u][lane] = bv.z;
        b_quads[at + (b_kk + 3u) * 32u][lane] = bv.w;
    } else {
        b_quads[buf + b_kk * 32u + (b_n >> 2u)] = bv;
    }
}

@compute @workgroup_size(16, 16)
fn matmul_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
               @builtin(local_invocation_index) li: u32) {
    let dims = matmul_quad_dims(wid.z);
    let M = dims.m; let N = dims.n; let K = dims.k;
    let a_off = dims.a_off; let b_off = dims.b_off;
    // Leading strides: between rows of a row-major operand, between columns of a column-major one.
    let a_ls = select(dims.a_rs, info[INFO_A_COL_STRIDE], A_T);
    let b_ls = select(dims.b_rs, info[INFO_B_COL_STRIDE], B_T);
    let row0 = wid.y * VM;
    let col0 = wid.x * VN;
    // This invocation's staging slots (see stage_vec4): its quad of A sits at row a_m and depth
    // a_kk of the step, its quad of B at depth b_kk and column b_n.
    var a_m = li >> 1u;
    var a_kk = (li & 1u) * 4u;
    if (A_T) { a_m = (li & 31u) * 4u; a_kk = li >> 5u; }
    var b_kk = li >> 5u;
    var b_n = (li & 31u) * 4u;
    if (B_T) { b_kk = (li & 1u) * 4u; b_n = li >> 1u; }
    let a_ok = row0 + a_m < M;
    let b_ok = col0 + b_n < N;
    var a_q = (a_off + (row0 + a_m) * a_ls + a_kk) >> 2u;
    var a_step = VK >> 2u;
    if (A_T) { a_q = (a_off + a_kk * a_ls + row0 + a_m) >> 2u; a_step = (VK * a_ls) >> 2u; }
    var b_q = (b_off + b_kk * b_ls + col0 + b_n) >> 2u;
    var b_step = (VK * b_ls) >> 2u;
    if (B_T) { b_q = (b_off + (col0 + b_n) * b_ls + b_kk) >> 2u; b_step = VK >> 2u; }
    var acc: array<vec4<f32>, 16>;
    var av = vec4<f32>(0.0);
    if (a_ok && a_kk < K) { av = load4_in0(a_q); }
    var bv = vec4<f32>(0.0);
    if (b_ok && b_kk < K) { bv = load4_in1(b_q); }
    stage_vec4(0u, a_m, a_kk, b_kk, b_n, av, bv);
    workgroupBarrier();
    let steps = (K + VK - 1u) / VK;
    for (var s = 0u; s < steps; s = s + 1u) {
        let cur = (s & 1u) * 256u;
        let more = s + 1u < steps;
        // The next step's quads into registers: their latency hides behind this step's products.
        if (more) {
            let k0 = (s + 1u) * VK;
            a_q = a_q + a_step;
            b_q = b_q + b_step;
            av = vec4<f32>(0.0);
            if (a_ok && k0 + a_kk < K) { av = load4_in0(a_q); }
            bv = vec4<f32>(0.0);
            if (b_ok && k0 + b_kk < K) { bv = load4_in1(b_q); }
        }
        for (var kk = 0u; kk < VK; kk = kk + 1u) {
            let a0 = a_quads[cur + kk * 32u + lid.y];
            let a1 = a_quads[cur + kk * 32u + 16u + lid.y];
            let b0 = b_quads[cur + kk * 32u + lid.x];
            let b1 = b_quads[cur + kk * 32u + 16u + lid.x];
            for (var i = 0u; i < 4u; i = i + 1u) {
                acc[2u * i] = fma(vec4<f32>(a0[i]), b0, acc[2u * i]);
                acc[2u * i + 1u] = fma(vec4<f32>(a0[i]), b1, acc[2u * i + 1u]);
                acc[8u + 2u * i] = fma(vec4<f32>(a1[i]), b0, acc[8u + 2u * i]);
                acc[9u + 2u * i] = fma(vec4<f32>(a1[i]), b1, acc[9u + 2u * i]);
            }
        }
        if (more) {
            stage_vec4(256u - cur, a_m, a_kk, b_kk, b_n, av, bv);
        }
        workgroupBarrier();
    }
    let cbase = wid.z * M * N;
    for (var h = 0u; h < 2u; h = h + 1u) {
        for (var i = 0u; i < 4u; i = i + 1u) {
            let r = row0 + h * 64u + lid.y * 4u + i;
            if (r >= M) { continue; }
            for (var g = 0u; g < 2u; g = g + 1u) {
                let c = col0 + g * 64u + lid.x * 4u;
                if (c < N) { store4_out((cbase + r * N + c) >> 2u, acc[h * 8u + 2u * i + g]); }
            }
        }
    }
}

const ROWS_MAX: u32 = 8u;
const RKG: u32 = 256u / RCT;  // groups along K

var<workgroup> row_parts: array<vec4<f32>, 256>; // [RKG][RCT] partial quads of one row of C

@compute @workgroup_size(256)
fn matmul_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let dims = matmul_quad_dims(wid.z);
    let M = dims.m; let N = dims.n; let K = dims.k;
    let ct = li % RCT;
    let kg = li / RCT;
    let col = (wid.x * RCT + ct) * 4u;
    let b_row = dims.b_rs >> 2u;  // quads per row of B
    let a_row = dims.a_rs >> 2u;
    let a_q = dims.a_off >> 2u;
    let b_q = (dims.b_off + col) >> 2u;
    var acc: array<vec4<f32>, ROWS_MAX>;
    if (col < N) {
        for (var q = kg; q < (K >> 2u); q = q + RKG) {
            let bq = b_q + 4u * q * b_row;
            let b0 = load4_in1(bq);
            let b1 = load4_in1(bq + b_row);
            let b2 = load4_in1(bq + 2u * b_row);
            let b3 = load4_in1(bq + 3u * b_row);
            for (var m = 0u; m < ROWS_MAX; m = m + 1u) {
                if (m >= M) { break; }
                let a = load4_in0(a_q + m * a_row + q);
                acc[m] = fma(vec4<f32>(a.w), b3, fma(vec4<f32>(a.z), b2,
                         fma(vec4<f32>(a.y), b1, fma(vec4<f32>(a.x), b0, acc[m]))));
            }
        }
    }
    let cbase = wid.z * M * N;
    for (var m = 0u; m < ROWS_MAX; m = m + 1u) {
        if (m >= M) { break; }
        row_parts[li] = acc[m];
        workgroupBarrier();
        for (var s = RKG / 2u; s > 0u; s = s >> 1u) {
            if (kg < s) { row_parts[li] = row_parts[li] + row_parts[li + s * RCT]; }
            workgroupBarrier();
        }
        if (kg == 0u && col < N) { store4_out((cbase + m * N + col) >> 2u, row_parts[ct]); }
        workgroupBarrier();
    }
}

@compute @workgroup_size(256)
fn matmul_sum_splits(@builtin(global_invocation_id) gid: vec3<u32>,
                     @builtin(num_workgroups) nwg: vec3<u32>) {
    _ = arrayLength(&in1); // bound (to the partials) like the other entry points' B
    let q = gid.x + gid.y * nwg.x * 256u;
    let nq = info[0];
    if (q >= nq) { return; }
    var sum = load4_in0(q);
    for (var s = 1u; s < info[1]; s = s + 1u) {
        sum = sum + load4_in0(s * nq + q);
    }
    store4_out(q, sum);
}
