// matmul_coop.wgsl — batched C = A @ B on cooperative matrices (tensor cores) for f16 A [.., M, K]
// and B [.., K, N] with row-major rows, into dense C [batch, M, N]; accumulates in f32.
// Its own family: it needs `enable wgpu_cooperative_matrix;` (wgpu's experimental feature) and
// the subgroup builtins. The host picks it only when the device offers 16x16x16 f16 x f16 -> f32
// fragments and subgroups of at most 32 invocations, and only when K, N, both offsets and every
// row and batch stride are multiples of 4 (A and B are read as vec4<f16> quads); M and N need
// not be multiples of the tile (edges are zero-filled on load and checked on store).
// Tiling: a workgroup of 256 invocations owns a 128x128 block of C and walks K 32 at a time.
// Each step its invocations load a 128x32 tile of A and a 32x128 tile of B (four quads of each
// per invocation) into registers, then into one of two padded workgroup buffers (rows padded by
// 8 halves: 16-byte aligned fragment rows, no bank conflicts on fragment loads), so one barrier
// per step suffices and the next step's global loads overlap this step's multiplies. The 8
// subgroups form a 2x4 grid: each owns a 64x32 region of C, 4x2 fragments of 16x16 f32
// accumulators. At the end each accumulator goes through a per-subgroup 16x16 f32 scratch in
// workgroup memory, and the subgroup's invocations write it out converted and bounds-checked.
// With subgroups smaller than 32 the extra subgroups repeat the last one's work (same values),
// so any size up to 32 is correct. Fragments are loaded with coopLoadT (row-major memory: element
// (r, c) at ptr[r * stride + c], stride in elements) and stored with coopStoreT likewise.
// The module is created trusted: every global index below is guarded by the M, N, K checks.
// Prelude provides: S_OUT (f16 or f32), store_out1(i, v: f32).
// Bindings: 0 info, 1 a (read, vec4<f16> quads), 2 b (read, vec4<f16> quads), 3 out (read_write).
// info: [M, N, K, a_row_stride, a_col_stride, b_row_stride, b_col_stride, bn,
//        batch_shape[bn], a_batch_strides[bn], b_batch_strides[bn], a_offset, b_offset]
//       (strides and offsets in halves, as matmul.wgsl's table; the column strides are 1)

@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read> in0: array<vec4<f16>>;
@group(0) @binding(2) var<storage, read> in1: array<vec4<f16>>;
@group(0) @binding(3) var<storage, read_write> out: array<S_OUT>;

const CM: u32 = 128u;          // block rows
const CN: u32 = 128u;          // block columns
const CK: u32 = 32u;           // K per step
const A_LD: u32 = 40u;         // CK + 8: halves per row of the A tile
const B_LD: u32 = 136u;        // CN + 8: halves per row of the B tile
const A_TILE: u32 = 5120u;     // CM * A_LD
const B_TILE: u32 = 4352u;     // CK * B_LD
const FRAG: u32 = 256u;        // 16 x 16 accumulator elements

var<workgroup> a_tiles: array<f16, 10240>;  // two [CM][A_LD] buffers
var<workgroup> b_tiles: array<f16, 8704>;   // two [CK][B_LD] buffers
var<workgroup> c_frags: array<f32, 2048>;   // a 16x16 scratch per subgroup

/// Stores 4 halves at `base` of the A (`which` 0) or B (1) workgroup tiles.
fn put4(which: u32, base: u32, v: vec4<f16>) {
    if (which == 0u) {
        a_tiles[base] = v.x;
        a_tiles[base + 1u] = v.y;
        a_tiles[base + 2u] = v.z;
        a_tiles[base + 3u] = v.w;
    } else {
        b_tiles[base] = v.x;
        b_tiles[base + 1u] = v.y;
        b_tiles[base + 2u] = v.z;
        b_tiles[base + 3u] = v.w;
    }
}

/// Loads step `s`'s quads of A and B (zeros outside the matrices): A row `ar` + 32 i (global row
/// `gr` + 32 i) and B row `bk` + 8 i of the step, i < 4; `*_q` index step 0's first quad.
fn load_step(s: u32, pa: ptr<function, array<vec4<f16>, 4>>, pb: ptr<function, array<vec4<f16>, 4>>,
             a_q: u32, b_q: u32, a_q_rows: u32, b_q_rows: u32, gr: u32, ak: u32, bk: u32,
             b_ok: bool, M: u32, K: u32) {
    let k0 = s * CK;
    let a_k_ok = k0 + ak < K;
    let qa = a_q + s * (CK >> 2u);
    let qb = b_q + s * 4u * b_q_rows;
    for (var i = 0u; i < 4u; i = i + 1u) {
        var va = vec4<f16>(0.0h);
        if (a_k_ok && gr + 32u * i < M) { va = in0[qa + i * a_q_rows]; }
        (*pa)[i] = va;
        var vb = vec4<f16>(0.0h);
        if (b_ok && k0 + bk + 8u * i < K) { vb = in1[qb + i * b_q_rows]; }
        (*pb)[i] = vb;
    }
}

/// Writes the subgroup's scratch fragment (already stored and behind a barrier) to C at rows
/// r0.., columns c0.., each invocation taking every `size`-th element from `lane`.
fn write_fragment(scratch: u32, lane: u32, size: u32, cbase: u32, r0: u32, c0: u32, M: u32, N: u32) {
    for (var e = lane; e < FRAG; e = e + size) {
        let r = r0 + (e >> 4u);
        let c = c0 + (e & 15u);
        if (r < M && c < N) {
            store_out1(cbase + r * N + c, c_frags[scratch + e]);
        }
    }
}

@compute @workgroup_size(256)
fn matmul_coop(@builtin(workgroup_id) wid: vec3<u32>,
               @builtin(local_invocation_index) li: u32,
               @builtin(subgroup_id) subgroup: u32,
               @builtin(subgroup_invocation_id) lane: u32,
               @builtin(subgroup_size) size: u32) {
    let M = info[0];
    let N = info[1];
    let K = info[2];
    let a_rs = info[3];
    let b_rs = info[5];
    let bn = info[7];
    var a_off = info[8u + 3u * bn];
    var b_off = info[9u + 3u * bn];
    var rem = wid.z;
    for (var d = bn; d > 0u; d = d - 1u) {
        let dim = info[7u + d];
        let c = rem % dim;
        rem = rem / dim;
        a_off = a_off + c * info[7u + bn + d];
        b_off = b_off + c * info[7u + 2u * bn + d];
    }
    let row0 = wid.y * CM;
    let col0 = wid.x * CN;

    // Staging slots of this invocation, in quads (vec4s of 4 halves): A rows ar + 32 i at K
    // offset ak, B rows bk + 8 i at column offset bc, for i < 4.
    let ar = li >> 3u;
    let ak = (li & 7u) * 4u;
    let bk = li >> 5u;
    let bc = (li & 31u) * 4u;
    let b_ok = col0 + bc < N;
    let a_q = (a_off + (row0 + ar) * a_rs + ak) >> 2u;
    let b_q = (b_off + bk * b_rs + col0 + bc) >> 2u;
    let a_q_rows = (32u * a_rs) >> 2u;
    let b_q_rows = (8u * b_rs) >> 2u;
    let a_put = ar * A_LD + ak;
    let b_put = bk * B_LD + bc;

    // This subgroup's 64x32 region of the block (extra subgroups repeat the last region).
    let sg = min(subgroup, 7u);
    let wm = (sg >> 2u) * 64u;
    let wn = (sg & 3u) * 32u;
    let a_frag = wm * A_LD;
    let b_frag = wn;

    var c00 = coop_mat16x16<f32, C>();
    var c01 = coop_mat16x16<f32, C>();
    var c10 = coop_mat16x16<f32, C>();
    var c11 = coop_mat16x16<f32, C>();
    var c20 = coop_mat16x16<f32, C>();
    var c21 = coop_mat16x16<f32, C>();
    var c30 = coop_mat16x16<f32, C>();
    var c31 = coop_mat16x16<f32, C>();

    // Step 0's tiles into buffer 0.
    var pa: array<vec4<f16>, 4>;
    var pb: array<vec4<f16>, 4>;
    load_step(0u, &pa, &pb, a_q, b_q, a_q_rows, b_q_rows, row0 + ar, ak, bk, b_ok, M, K);
    for (var i = 0u; i < 4u; i = i + 1u) {
        put4(0u, a_put + i * 32u * A_LD, pa[i]);
        put4(1u, b_put + i * 8u * B_LD, pb[i]);
    }
    workgroupBarrier();

    let steps = (K + CK - 1u) / CK;
    for (var s = 0u; s < steps; s = s + 1u) {
        let cur = s & 1u;
        let more = s + 1u < steps;
        // Next step's quads into registers; their latency hides behind the multiplies.
        if (more) {
            load_step(s + 1u, &pa, &pb, a_q, b_q, a_q_rows, b_q_rows, row0 + ar, ak, bk, b_ok, M, K);
        }
        let a_base = cur * A_TILE + a_frag;
        let b_base = cur * B_TILE + b_frag;
        for (var kk = 0u; kk < CK; kk = kk + 16u) {
            // Every pointer index is bound to a `let` first (naga 30's SPIR-V writer panics on
            // an index computed inline in a cooperative load's pointer).
            let ia0 = a_base + kk;
            let ia1 = ia0 + 16u * A_LD;
            let ia2 = ia0 + 32u * A_LD;
            let ia3 = ia0 + 48u * A_LD;
            let ib0 = b_base + kk * B_LD;
            let ib1 = ib0 + 16u;
            let a0 = coopLoadT<coop_mat16x16<f16, A>>(&a_tiles[ia0], A_LD);
            let a1 = coopLoadT<coop_mat16x16<f16, A>>(&a_tiles[ia1], A_LD);
            let a2 = coopLoadT<coop_mat16x16<f16, A>>(&a_tiles[ia2], A_LD);
            let a3 = coopLoadT<coop_mat16x16<f16, A>>(&a_tiles[ia3], A_LD);
            let b0 = coopLoadT<coop_mat16x16<f16, B>>(&b_tiles[ib0], B_LD);
            let b1 = coopLoadT<coop_mat16x16<f16, B>>(&b_tiles[ib1], B_LD);
            c00 = coopMultiplyAdd(a0, b0, c00);
            c01 = coopMultiplyAdd(a0, b1, c01);
            c10 = coopMultiplyAdd(a1, b0, c10);
            c11 = coopMultiplyAdd(a1, b1, c11);
            c20 = coopMultiplyAdd(a2, b0, c20);
            c21 = coopMultiplyAdd(a2, b1, c21);
            c30 = coopMultiplyAdd(a3, b0, c30);
            c31 = coopMultiplyAdd(a3, b1, c31);
        }
        // The other buffer was last read in step s - 1, before the previous barrier.
        if (more) {
            let nxt = 1u - cur;
            for (var i = 0u; i < 4u; i = i + 1u) {
                put4(0u, nxt * A_TILE + a_put + i * 32u * A_LD, pa[i]);
                put4(1u, nxt * B_TILE + b_put + i * 8u * B_LD, pb[i]);
            }
        }
        workgroupBarrier();
    }

    // Each accumulator through the subgroup's scratch, converted and bounds-checked on the way out.
    let cbase = wid.z * M * N;
    let scratch = sg * FRAG;
    let r0 = row0 + wm;
    let c0 = col0 + wn;
    coopStoreT(c00, &c_frags[scratch], 16u);
    workgroupBarrier();
    write_fragment(scratch, lane, size, cbase, r0, c0, M, N);
    workgroupBarrier();
    coopStoreT(c01, &c_frags[scratch], 16u);
    workgroupBarrier();
    write_fragment(scratch, lane, size, cbase, r0, c0 + 16u, M, N);
    workgroupBarrier();
    coopStoreT(c10, &c_frags[scratch], 16u);
    workgroupBarrier();
    write_fragment(scratch, lane, size, cbase, r0 + 16u, c0, M, N);
    workgroupBarrier();
    coopStoreT(c11, &c_frags[scratch], 16u);
    workgroupBarrier();
    write_fragment(scratch, lane, size, cbase, r0 + 16u, c0 + 16u, M, N);
    workgroupBarrier();
    coopStoreT(c20, &c_frags[scratch], 16u);
    workgroupBarrier();
    write_fragment(scratch, lane, size, cbase, r0 + 32u, c0, M, N);
    workgroupBarrier();
    coopStoreT(c21, &c_frags[scratch], 16u);
    workgroupBarrier();
    write_fragment(scratch, lane, size, cbase, r0 + 32u, c0 + 16u, M, N);
    workgroupBarrier();
    coopStoreT(c30, &c_frags[scratch], 16u);
    workgroupBarrier();
    write_fragment(scratch, lane, size, cbase, r0 + 48u, c0, M, N);
    workgroupBarrier();
    coopStoreT(c31, &c_frags[scratch], 16u);
    workgroupBarrier();
    write_fragment(scratch, lane, size, cbase, r0 + 48u, c0 + 16u, M, N);
}
