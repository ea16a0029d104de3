//! CPU gather (MLX's `Gather`): picks slices of a strided input at stacked int32 indices. Pure
//! index arithmetic over the input's storage; knows nothing of ops or validation.

use crate::backend::Data;
use crate::backend::host::HostVec;
use rayon::prelude::*;

/// Output element count below which the index arithmetic runs serially.
const PAR_MIN: usize = 1 << 14;

/// Start of the slice along an indexed axis of length `n` for slice size `size`: a negative index
/// wraps once, then the start is clamped so the slice fits (never reads out of bounds).
pub(crate) fn gather_start(j: i32, n: i32, size: i32) -> isize {
    let j = if j < 0 { j as i64 + n as i64 } else { j as i64 };
    j.clamp(0, (n - size).max(0) as i64) as isize
}

/// For each axis of the input, the row of the stacked indices that indexes it (or `None`).
pub(crate) fn slots(axes: &[usize], ndim: usize) -> Vec<Option<usize>> {
    let mut s = vec![None; ndim];
    for (j, &ax) in axes.iter().enumerate() {
        s[ax] = Some(j);
    }
    s
}

/// `out[I, S] = a[start(I) + S]` where `start` comes from `idx` (`[axes.len(), m]`, dense) on the
/// indexed axes and is 0 elsewhere; the output has `m * prod(slice_sizes)` elements.
pub(crate) fn gather(
    storage: &HostVec,
    a_shape: &[i32],
    a: &Data,
    idx: &[i32],
    axes: &[usize],
    slice_sizes: &[i32],
    n_out: usize,
) -> HostVec {
    let slice_total: usize = slice_sizes.iter().map(|&d| d as usize).product();
    let m = n_out.checked_div(slice_total).unwrap_or(0);
    let slot = slots(axes, a_shape.len());
    let source = |i: usize| -> usize {
        let (row, mut r) = (i / slice_total, i % slice_total);
        let mut src = a.offset as isize;
        for d in (0..a_shape.len()).rev() {
            let size = slice_sizes[d] as usize;
            let c = (r % size) as isize;
            r /= size;
            let start = slot[d].map_or(0, |j| {
                gather_start(idx[j * m + row], a_shape[d], size as i32)
            });
            src += (start + c) * a.strides[d];
        }
        src as usize
    };
    let order: Vec<usize> = if n_out >= PAR_MIN {
        (0..n_out).into_par_iter().map(source).collect()
    } else {
        (0..n_out).map(source).collect()
    };
    storage.pick(&order)
}
