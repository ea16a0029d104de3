// matmul_batch.wgsl — the info-table decode shared by the matmul families (matmul.wgsl,
// matmul_coop.wgsl), whose tables agree (kernels/matmul.rs writes them):
//   [M, N, K, a_row_stride, a_col_stride, b_row_stride, b_col_stride, bn,
//    batch_shape[bn], a_batch_strides[bn], b_batch_strides[bn], a_offset, b_offset]  (i32 bits)
// The prelude names the fixed words (INFO_M .. INFO_BATCH_NDIM). Not a kernel: the matmul
// preludes append it.

// Batch entry `z`'s element offsets into A and B.
fn matmul_batch_offsets(z: u32) -> vec2<i32> {
    let bn = info[INFO_BATCH_NDIM];
    let offsets = INFO_BATCH_NDIM + 1u + 3u * bn;
    var off = vec2<i32>(bitcast<i32>(info[offsets]), bitcast<i32>(info[offsets + 1u]));
    var rem = z;
    for (var d = bn; d > 0u; d = d - 1u) {
        let dim = info[INFO_BATCH_NDIM + d];
        let c = i32(rem % dim);
        rem = rem / dim;
        let strides = vec2<u32>(info[INFO_BATCH_NDIM + bn + d], info[INFO_BATCH_NDIM + 2u * bn + d]);
        off = off + c * bitcast<vec2<i32>>(strides);
    }
    return off;
}

// What the quad kernels (matmul_vec4, matmul_rows, matmul_coop) read from the table: the sizes,
// the row strides, and batch entry `z`'s offsets, all in elements (matmul_vec4 reads a transposed
// operand's column stride itself; the host passes no negative row or column stride).
struct MatmulQuadDims {
    m: u32,
    n: u32,
    k: u32,
    a_rs: u32,
    b_rs: u32,
    a_off: u32,
    b_off: u32,
}

fn matmul_quad_dims(z: u32) -> MatmulQuadDims {
    let offs = bitcast<vec2<u32>>(matmul_batch_offsets(z));
    return MatmulQuadDims(info[INFO_M], info[INFO_N], info[INFO_K], info[INFO_A_ROW_STRIDE],
                          info[INFO_B_ROW_STRIDE], offs.x, offs.y);
}
