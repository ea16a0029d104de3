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

/// `y [rows, C_out] = patches [rows, taps * Cg] @ w_g^T` per group. Rows are split into blocks
/// and the taps into chunks, so one unrolled chunk stays near `BLOCK_FLOATS`; chunks of one
/// block accumulate into its output rows. When there are too few row blocks to keep the threads
/// busy (a weight gradient: few rows, very many taps), the taps are also split across tasks whose
/// partial outputs are summed.
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
    let rows = y.len() / g.c_out;
    let rb = (BLOCK_FLOATS / k).clamp(16, 1024).min(rows);
    let tb = (BLOCK_FLOATS / (rb * cg)).clamp(1, taps);
    let row_blocks = rows.div_ceil(rb);
    let threads = rayon::current_num_threads();
    let splits = if row_blocks >= 2 * threads {
        1
    } else {
        (2 * threads).div_ceil(row_blocks).min(taps.div_ceil(tb))
    };
    let coords = tap_coords(g);
    if splits == 1 {
        y.par_chunks_mut(rb * g.c_out).enumerate().for_each_init(
            || vec![0.0f32; rb * tb * cg],
            |col, (b, yb)| block(g, x, w, &coords, b * rb, yb, 0..taps, tb, col),
        );
        return;
    }
    let per = taps.div_ceil(splits);
    let parts: Vec<Vec<f32>> = (0..row_blocks * splits)
        .into_par_iter()
        .map(|i| {
            let (b, sp) = (i / splits, i % splits);
            let nr = rb.min(rows - b * rb);
            let mut part = vec![0.0f32; nr * g.c_out];
            let taps_of = sp * per..((sp + 1) * per).min(taps);
            if !taps_of.is_empty() {
                let mut col = vec![0.0f32; rb * tb * cg];
                block(g, x, w, &coords, b * rb, &mut part, taps_of, tb, &mut col);
            }
            part
        })
        .collect();
    y.par_chunks_mut(rb * g.c_out)
        .enumerate()
        .for_each(|(b, yb)| {
            for part in &parts[b * splits..(b + 1) * splits] {
                for (o, p) in yb.iter_mut().zip(part) {
                    *o += p;
                }
            }
        });
}

/// Each tap's kernel coordinates (padded to 3 dims), already flipped if the convolution flips.
fn tap_coords(g: &ConvGeometry) -> Vec<[usize; 3]> {
    let [d0, d1, d2] = g.dims;
    let mut v = Vec::with_capacity(g.taps());
    for k0 in 0..d0.kernel {
        for k1 in 0..d1.kernel {
            for k2 in 0..d2.kernel {
                v.push([
                    tap(g.flip, k0, d0.kernel),
                    tap(g.flip, k1, d1.kernel),
                    tap(g.flip, k2, d2.kernel),
                ]);
            }
        }
    }
    v
}

/// Output rows `r0 .. r0 + yb.len() / C_out` (written to `yb`, every element) summed over the
/// taps `taps`, unrolled `tb` taps at a time into `col`.
#[allow(clippy::too_many_arguments)]
fn block(
    g: &ConvGeometry,
    x: &[f32],
    w: &[f32],
    coords: &[[usize; 3]],
    r0: usize,
    yb: &mut [f32],
    taps: std::ops::Range<usize>,
    tb: usize,
    col: &mut [f32],
) {
    let (cg, og, k) = (g.cg(), g.og(), g.taps() * g.cg());
    let nr = yb.len() / g.c_out;
    for grp in 0..g.groups {
        let yg = &mut yb[grp * og..];
        let wg = &w[grp * og * k..(grp + 1) * og * k];
        let mut t0 = taps.start;
        while t0 < taps.end {
            let t1 = (t0 + tb).min(taps.end);
            let kc = (t1 - t0) * cg;
            unroll(g, x, grp, r0, nr, &coords[t0..t1], &mut col[..nr * kc]);
            let first = t0 == taps.start;
            assert!(
                yg.len() > (nr - 1) * g.c_out + og - 1 && wg.len() >= (og - 1) * k + t0 * cg + kc
            );
            // SAFETY: `col` holds nr x kc (row stride kc); `wg` from tap t0 read as the kc x og
            // transpose of its rows (row stride 1, column stride k) stays inside `wg`; `yg`
            // covers nr rows of stride c_out with og columns from its start (checked above) and
            // is an exclusive borrow. The first chunk overwrites `yg`, later ones add to it.
            unsafe {
                gemm::gemm(
                    nr,
                    og,
                    kc,
                    yg.as_mut_ptr(),
                    1,
                    g.c_out as isize,
                    !first,
                    col.as_ptr(),
                    1,
                    kc as isize,
                    wg.as_ptr().add(t0 * cg),
                    k as isize,
                    1,
                    if first { 0.0f32 } else { 1.0f32 },
                    1.0f32,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
            t0 = t1;
        }
    }
}

/// Writes the patches of output rows `r0 .. r0 + nr` for group `grp` and the taps at `coords`
/// into `col` (row-major `[nr, coords.len() * Cg]`, zeros where a tap reads padding).
fn unroll(
    g: &ConvGeometry,
    x: &[f32],
    grp: usize,
    r0: usize,
    nr: usize,
    coords: &[[usize; 3]],
    col: &mut [f32],
) {
    let cg = g.cg();
    let k = coords.len() * cg;
    let [d0, d1, d2] = g.dims;
    let out_sp = g.out_spatial();
    let in_sp = g.in_spatial();
    for (r, row) in col.chunks_mut(k).take(nr).enumerate() {
        let m = r0 + r;
        let n = m / out_sp;
        let o = m % out_sp;
        let (o0, o1, o2) = (o / (d1.out * d2.out), (o / d2.out) % d1.out, o % d2.out);
        let xb = n * in_sp * g.c_in + grp * cg;
        for (dst, &[k0, k1, k2]) in row.chunks_mut(cg).zip(coords) {
            match (d0.source(o0, k0), d1.source(o1, k1), d2.source(o2, k2)) {
                (Some(i0), Some(i1), Some(i2)) => {
                    let at = xb + ((i0 * d1.input + i1) * d2.input + i2) * g.c_in;
                    dst.copy_from_slice(&x[at..at + cg]);
                }
                _ => dst.fill(0.0),
            }
        }
    }
}

/// The kernel tap an unrolled column `k` reads (reversed when the convolution flips).
#[inline]
fn tap(flip: bool, k: usize, size: usize) -> usize {
    if flip { size - 1 - k } else { k }
}
