// matmul_coop.wgsl — batched C = A @ B on cooperative matrices (tensor cores) for f16 A [.., M, K]
// and B [.., K, N] with row-major rows, into dense C [batch, M, N]; accumulates in f32.
// Its own family: it needs `enable wgpu_cooperative_matrix;` (wgpu's experimental feature) and
// the subgroup builtins. The host picks it only when the device offers 16x16x16 f16 x f16 -> f32
// fragments and subgroups of at most 32 invocations, and only when K, N, both offsets and every
// row and batch stride are multiples of 4 (A and B are read as vec4<f16> quads); M and N need
// not be multiples of the tile (edges are zero-filled on load and checked on store).
// Tiling (one variant per device, see CoopVariant in kernels/matmul.rs; the prelude gives every size):
// a workgroup of INVOCATIONS (SUBGROUPS subgroups of 32) owns a CM x CN block of C and walks K
// CK at a time. Each step its invocations load a CM x CK tile of A and a CK x CN tile of B
// (A_LOADS and B_LOADS quads per invocation) into registers, then into workgroup buffers whose
// rows are padded by 8 halves (16-byte aligned fragment rows, no bank conflicts on fragment
// loads); the tiles are arrays of TW-half words (f16 or vec4<f16>), so a staged quad
// is one or four stores (`put4`), and fragments load at word indices with strides in words.
// With BUFFERS = 2 the tiles alternate between two buffers, so one barrier per step
// suffices and the next step's global loads overlap this step's multiplies; with BUFFERS = 1 a
// second barrier guards the one buffer before it is refilled (the global loads still overlap).
// With LATE the next step's loads are issued after this step's multiplies instead, right before
// they are stored: no staging registers live across the multiplies (faster on an H100, whose
// driver did not overlap the early loads anyway; see CoopVariant::DEFAULT).
// The subgroups form a grid SG_N wide: each owns a WM x WN region of C, (WM/16) x (WN/16)
// fragments of 16x16 f32 accumulators, which the prelude declares (private, acc_<i>_<j>) along
// with `mma16` (loads the fragments of one 16-deep slice and multiplies them into the
// accumulators) and `store_accumulators` (each accumulator through a per-subgroup 16x16 f32
// scratch in workgroup memory, written out converted and bounds-checked by `write_fragment`).
// With subgroups smaller than 32 the extra subgroups repeat the last one's work (same values),
// so any size up to 32 is correct. Fragments are loaded with coopLoadT (row-major memory: element
// (r, c) at ptr[r * stride + c], stride in elements) and stored with coopStoreT likewise.
// The module is created trusted: every global index below is guarded by the M, N, K checks.
// Prelude provides: S_OUT (f16 or f32), store_out1(i, v: f32), the tile constants (TW the
// halves per tile word; LATE), a_tiles, b_tiles, put4(which, at, quad), c_frags, the accumulators,
// mma16(ia, ib), store_accumulators(..),
// INFO_* word offsets, matmul_batch.wgsl (matmul_quad_dims(z)).
// Bindings: 0 info, 1 a (read, vec4<f16> quads), 2 b (read, vec4<f16> quads), 3 out (read_write).
// info: [M, N, K, a_row_stride, a_col_stride, b_row_stride, b_col_stride, bn,
//        batch_shape[bn], a_batch_strides[bn], b_batch_strides[bn], a_offset, b_offset]
//       (strides and offsets in halves, as matmul.wgsl's table; the column strides are 1)

@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read> in0: array<vec4<f16>>;
@group(0) @binding(2) var<storage, read> in1: array<vec4<f16>>;
@group(0) @binding(3) var<storage, read_write> out: array<S_OUT>;

const FRAG: u32 = 256u;        // 16 x 16 accumulator elements

/// Loads step `s`'s quads of A and B (zeros outside the matrices): A row `ar` + A_RSTEP i (global
/// row `gr` + A_RSTEP i), i < A_LOADS, and B row `bk` + B_RSTEP i of the step, i < B_LOADS;
/// `*_q` index step 0's first quad, `*_q_rows` the quads between consecutive loads.
fn load_step(s: u32, pa: ptr<function, array<vec4<f16>, A_LOADS>>,
             pb: ptr<function, array<vec4<f16>, B_LOADS>>,
             a_q: u32, b_q: u32, a_q_rows: u32, b_q_rows: u32, gr: u32, ak: u32, bk: u32,
             b_ok: bool, M: u32, K: u32) {
    let k0 = s * CK;
    let a_k_ok = k0 + ak < K;
    let qa = a_q + s * (CK >> 2u);
    let qb = b_q + s * B_LOADS * b_q_rows;
    for (var i = 0u; i < A_LOADS; i = i + 1u) {
        var va = vec4<f16>(0.0h);
        if (a_k_ok && gr + A_RSTEP * i < M) { va = in0[qa + i * a_q_rows]; }
        (*pa)[i] = va;
    }
    for (var i = 0u; i < B_LOADS; i = i + 1u) {
        var vb = vec4<f16>(0.0h);
        if (b_ok && k0 + bk + B_RSTEP * i < K) { vb = in1[qb + i * b_q_rows]; }
        (*pb)[i] = vb;
    }
}

/// Writes registers `pa`, `pb` into tile buffer `buf`.
fn put_step(buf: u32, pa: ptr<function, array<vec4<f16>, A_LOADS>>,
            pb: ptr<function, array<vec4<f16>, B_LOADS>>, a_put: u32, b_put: u32) {
    for (var i = 0u; i < A_LOADS; i = i + 1u) {
        put4(0u, buf * A_TILE + a_put + i * A_RSTEP * A_LD, (*pa)[i]);
    }
    for (var i = 0u; i < B_LOADS; i = i + 1u) {
        put4(1u, buf * B_TILE + b_put + i * B_RSTEP * B_LD, (*pb)[i]);
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

@compute @workgroup_size(INVOCATIONS)
fn matmul_coop(@builtin(workgroup_id) wid: vec3<u32>,
               @builtin(local_invocation_index) li: u32,
               @builtin(subgroup_id) subgroup: u32,
               @builtin(subgroup_invocation_id) lane: u32,
               @builtin(subgroup_size) size: u32) {
    let dims = matmul_quad_dims(wid.z);
    let M = dims.m; let N = dims.n; let K = dims.k;
    let a_rs = dims.a_rs; let b_rs = dims.b_rs; let a_off = dims.a_off; let b_off = dims.b_off;
    let row0 = wid.y * CM;
    let col0 = wid.x * CN;

    // Staging slots of this invocation, in quads (vec4s of 4 halves): A rows ar + A_RSTEP i at
    // K offset ak, B rows bk + B_RSTEP i at column offset bc.
    let ar = li / A_QPR;
    let ak = (li % A_QPR) * 4u;
    let bk = li / B_QPR;
    let bc = (li % B_QPR) * 4u;
    let b_ok = col0 + bc < N;
    let a_q = (a_off + (row0 + ar) * a_rs + ak) >> 2u;
    let b_q = (b_off + bk * b_rs + col0 + bc) >> 2u;
    let a_q_rows = (A_RSTEP * a_rs) >> 2u;
    let b_q_rows = (B_RSTEP * b_rs) >> 2u;
    let a_put = ar * A_LD + ak;
    let b_put = bk * B_LD + bc;

    // This subgroup's WM x WN region of the block (extra subgroups repeat the last region).
    let sg = min(subgroup, SUBGROUPS - 1u);
    let wm = (sg / SG_N) * WM;
    let wn = (sg % SG_N) * WN;
    let a_frag = wm * A_LD;
    let b_frag = wn;

    // Step 0's tiles into buffer 0.
    var pa: array<vec4<f16>, A_LOADS>;
    var pb: array<vec4<f16>, B_LOADS>;
    load_step(0u, &pa, &pb, a_q, b_q, a_q_rows, b_q_rows, row0 + ar, ak, bk, b_ok, M, K);
    put_step(0u, &pa, &pb, a_put, b_put);
    workgroupBarrier();

    let steps = (K + CK - 1u) / CK;
    for (var s = 0u; s < steps; s = s + 1u) {
        let cur = s % BUFFERS;
        let more = s + 1u < steps;
        // Next step's quads into registers; their latency hides behind the multiplies (unless
        // LATE: then they follow the multiplies, and no staging registers live across them).
        if (more && !LATE) {
            load_step(s + 1u, &pa, &pb, a_q, b_q, a_q_rows, b_q_rows, row0 + ar, ak, bk, b_ok, M, K);
        }
        let a_base = cur * A_TILE + a_frag;
        let b_base = cur * B_TILE + b_frag;
        for (var kk = 0u; kk < CK; kk = kk + 16u) {
            mma16(a_base + kk, b_base + kk * B_LD);
        }
        // Double-buffered: the other buffer was last read in step s - 1, before the previous
        // barrier. One buffer: every subgroup must be done reading it before it is refilled.
        if (BUFFERS == 1u) {
            workgroupBarrier();
        }
        if (more) {
            if (LATE) {
                load_step(s + 1u, &pa, &pb, a_q, b_q, a_q_rows, b_q_rows, row0 + ar, ak, bk, b_ok, M, K);
            }
            put_step((s + 1u) % BUFFERS, &pa, &pb, a_put, b_put);
        }
        workgroupBarrier();
    }

    // Each accumulator through the subgroup's scratch, converted and bounds-checked on the way out.
    store_accumulators(sg * FRAG, lane, size, wid.z * M * N, row0 + wm, col0 + wn, M, N);
}
