//! CPU scatter (MLX's `Scatter`): a dense copy of the input with updates combined in at stacked
//! int32 indices, in update order (so with duplicate indices plain scatter keeps the last update
//! and the reducing modes combine all). Knows nothing of ops or validation.

use super::copy;
use super::gather::slots;
use crate::backend::Data;
use crate::backend::host::HostVec;
use crate::dtype::Dtype;
use crate::error::{Error, Result};
use crate::primitive::{BinaryOp, BinaryScalar};
use half::{bf16, f16};
use rayon::prelude::*;

/// Update count below which destinations are computed serially.
const PAR_MIN: usize = 1 << 14;

/// Dense output position of each update element, or `None` when it falls outside `a_shape`.
fn destinations(
    a_shape: &[i32],
    idx: &[i32],
    axes: &[usize],
    upd_shape: &[i32],
) -> Vec<Option<usize>> {
    let nd = a_shape.len();
    let slice = &upd_shape[upd_shape.len() - nd..];
    let slice_total: usize = slice.iter().map(|&d| d as usize).product();
    let n_upd: usize = upd_shape.iter().map(|&d| d as usize).product();
    let m = n_upd.checked_div(slice_total).unwrap_or(0);
    let slot = slots(axes, nd);
    let dest = |u: usize| -> Option<usize> {
        let (row, mut r) = (u / slice_total, u % slice_total);
        let (mut pos, mut mul) = (0usize, 1usize);
        for d in (0..nd).rev() {
            let size = slice[d] as usize;
            let c = (r % size) as i64;
            r /= size;
            let n = a_shape[d] as i64;
            let start = slot[d].map_or(0, |j| {
                let v = idx[j * m + row] as i64;
                if v < 0 { v + n } else { v }
            });
            let p = start + c;
            if p < 0 || p >= n {
                return None;
            }
            pos += p as usize * mul;
            mul *= n as usize;
        }
        Some(pos)
    };
    if n_upd >= PAR_MIN {
        (0..n_upd).into_par_iter().map(dest).collect()
    } else {
        (0..n_upd).map(dest).collect()
    }
}

/// Applies `upd` at `dest` in order: replaced (`op` None) or combined with `op`, rounding to the
/// storage type after every step as MLX does.
fn apply<T: Copy, C: BinaryScalar>(
    out: &mut [T],
    upd: &[T],
    dest: &[Option<usize>],
    op: Option<BinaryOp>,
    to: impl Fn(T) -> C,
    from: impl Fn(C) -> T,
) {
    for (&d, &u) in dest.iter().zip(upd) {
        if let Some(d) = d {
            out[d] = match op {
                None => u,
                Some(op) => from(C::binary(op, to(out[d]), to(u))),
            };
        }
    }
}

/// `a` (dense copy) with `updates` scattered in at `idx` (`[axes.len(), m]`, dense).
#[allow(clippy::too_many_arguments)]
pub(crate) fn scatter(
    a: &HostVec,
    a_shape: &[i32],
    a_data: &Data,
    idx: &[i32],
    axes: &[usize],
    updates: &HostVec,
    upd_shape: &[i32],
    upd_data: &Data,
    op: Option<BinaryOp>,
    dt: Dtype,
) -> Result<HostVec> {
    let mut out = copy::cast(a, a_shape, &a_data.strides, a_data.offset, dt);
    let upd = copy::cast(updates, upd_shape, &upd_data.strides, upd_data.offset, dt);
    let dest = destinations(a_shape, idx, axes, upd_shape);
    // `cast` gave both the node's dtype, so the variants always agree.
    let mismatch = || Error::Backend {
        op: "scatter",
        msg: format!(
            "invariant: updates of {} for an output of {dt}",
            upd.dtype()
        ),
    };
    macro_rules! same {
        ($variant:ident) => {{
            let HostVec::$variant(u) = &upd else {
                return Err(mismatch());
            };
            u
        }};
    }
    match &mut out {
        HostVec::F32(o) => apply(o, same!(F32), &dest, op, |x| x, |x| x),
        HostVec::F16(o) => apply(o, same!(F16), &dest, op, f16::to_f32, f16::from_f32),
        HostVec::BF16(o) => apply(o, same!(BF16), &dest, op, bf16::to_f32, bf16::from_f32),
        HostVec::I32(o) => apply(o, same!(I32), &dest, op, |x| x, |x| x),
        HostVec::U32(o) => apply(o, same!(U32), &dest, op, |x| x, |x| x),
        HostVec::U8(o) => apply(o, same!(U8), &dest, op, |x| x as u32, |x| x as u8),
        HostVec::Bool(o) => apply(o, same!(Bool), &dest, op, |x| x != 0, |x| x as u8),
    }
    Ok(out)
}
