//! CPU convolution: im2col in row blocks, each block multiplied through the `gemm` crate.
//! Operands are read as dense f32 (f16 and bf16 accumulate in f32); the output rows
//! (`N * out_spatial` of them) are split into blocks of a few hundred, processed in parallel,
//! each unrolling its input patches into a small per-thread buffer (so the unrolled matrix is
//! never materialised whole) and multiplying it with each group's weight block.

use super::copy::{as_f32, from_f32};
use crate::backend::Data;
use crate::backend::host::HostVec;
use crate::dtype::Dtype;
use crate::error::Result;
use crate::primitive::{ConvGeometry, ConvParams};
use rayon::prelude::*;

/// Floats of unrolled patches per block (a per-thread buffer that stays in L2).
const BLOCK_FLOATS: usize = 1 << 16;

/// The convolution of `x` (`[N, *spatial, C_in]`) and `w` (`[C_out, *kernel, C_in / groups]`)
/// into a dense `out_shape` of `out`.
pub(crate) fn conv(
    p: &ConvParams,
    xs: &[i32],
    x: &Data,
    ws: &[i32],
    w: &Data,
    out_shape: &[i32],
    out: Dtype,
) -> Result<HostVec> {
    let xv = as_f32(super::host_of("conv", x)?, xs, &x.strides, x.offset);
    let wv = as_f32(super::host_of("conv", w)?, ws, &w.strides, w.offset);
    let g = p.geometry(xs, ws, out_shape);
    let rows = g.n * g.out_spatial();
    let mut y = vec![0.0f32; rows * g.c_out];
    conv_f32(&g, &xv, &wv, &mut y);
    Ok(from_f32(out, y))
}

/// `y [rows, C_out] = patches [rows, taps * Cg] @ w_g^T` per group, over row blocks in parallel.
fn conv_f32(g: &ConvGeometry, x: &[f32], w: &[f32], y: &mut [f32]) {
    let (cg, og, taps) = (g.cg(), g.og(), g.taps());
    let k = taps * cg;
    if y.is_empty() || og == 0 {
        return;
    }
    if k == 0 {
        y.fill(0.0);
        return;
    }
    let block = (BLOCK_FLOATS / k).clamp(8, 1024);
    y.par_chunks_mut(block * g.c_out).enumerate().for_each_init(
        || vec![0.0f32; block * k],
        |col, (b, yb)| {
            let r0 = b * block;
            let nr = yb.len() / g.c_out;
            for grp in 0..g.groups {
                unroll(g, x, grp, r0, nr, &mut col[..nr * k]);
                let wg = &w[grp * og * k..(grp + 1) * og * k];
                let yg = &mut yb[grp * og..];
                assert!(yg.len() > (nr - 1) * g.c_out + og - 1 && col.len() >= nr * k);
                // SAFETY: `col` holds nr x k (row stride k), `wg` og x k read as its
                // transpose k x og (row stride 1, column stride k), and `yg` covers
                // nr rows of stride c_out with og columns from its start (checked above);
                // `yg` is an exclusive borrow.
                unsafe {
                    gemm::gemm(
                        nr,
                        og,
                        k,
                        yg.as_mut_ptr(),
                        1,
                        g.c_out as isize,
                        false,
                        col.as_ptr(),
                        1,
                        k as isize,
                        wg.as_ptr(),
                        k as isize,
                        1,
                        0.0f32,
                        1.0f32,
                        false,
                        false,
                        false,
                        gemm::Parallelism::None,
                    );
                }
            }
        },
    );
}

/// Writes the patches of output rows `r0 .. r0 + nr` for group `grp` into `col` (row-major
/// `[nr, taps * Cg]`, taps in the weight's order, zeros where a tap reads padding).
fn unroll(g: &ConvGeometry, x: &[f32], grp: usize, r0: usize, nr: usize, col: &mut [f32]) {
    let cg = g.cg();
    let k = g.taps() * cg;
    let [d0, d1, d2] = g.dims;
    let out_sp = g.out_spatial();
    let in_sp = g.in_spatial();
    for (r, row) in col.chunks_mut(k).take(nr).enumerate() {
        let m = r0 + r;
        let n = m / out_sp;
        let o = m % out_sp;
        let (o0, o1, o2) = (o / (d1.out * d2.out), (o / d2.out) % d1.out, o % d2.out);
        let xb = n * in_sp * g.c_in + grp * cg;
        let mut t = 0;
        for k0 in 0..d0.kernel {
            let s0 = d0.source(o0, tap(g.flip, k0, d0.kernel));
            for k1 in 0..d1.kernel {
                let s1 = d1.source(o1, tap(g.flip, k1, d1.kernel));
                for k2 in 0..d2.kernel {
                    let s2 = d2.source(o2, tap(g.flip, k2, d2.kernel));
                    let dst = &mut row[t * cg..(t + 1) * cg];
                    match (s0, s1, s2) {
                        (Some(i0), Some(i1), Some(i2)) => {
                            let at = xb + ((i0 * d1.input + i1) * d2.input + i2) * g.c_in;
                            dst.copy_from_slice(&x[at..at + cg]);
                        }
                        _ => dst.fill(0.0),
                    }
                    t += 1;
                }
            }
        }
    }
}

/// The kernel tap an unrolled column `k` reads (reversed when the convolution flips).
#[inline]
fn tap(flip: bool, k: usize, size: usize) -> usize {
    if flip { size - 1 - k } else { k }
}
