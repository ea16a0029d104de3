//! vjp, jvp and vmap rules of the communication ops (`wmx::distributed`), MLX's where MLX has
//! them. Reverse mode gives the gradient of this rank's outputs with respect to this rank's
//! input, the other ranks' inputs held constant (MLX's convention): `all_sum` passes the
//! cotangent through, `all_gather` takes this rank's block, `all_max`/`all_min` keep it where
//! this rank holds the extremum, `sum_scatter` puts it in this rank's block, `send` passes it
//! through. Forward mode runs the same collective on the tangents (MLX's, so every rank must
//! take the jvp together), except max/min (the tangent where this rank holds the extremum) and
//! `send` (the tangent itself, no message). Written with wmx ops on the node's stream.

use crate as mx;
use crate::array::Array;
use crate::distributed::{self as dist, CollectiveOp, Group};
use crate::error::Result;
use crate::ops::node;

/// 1 where `x` equals `out` (this rank holds the extremum), 0 elsewhere, in `x`'s dtype.
fn held_here(x: &Array, out: &Array) -> Result<Array> {
    let s = out.stream();
    mx::astype(&mx::equal(x, out, s)?, x.dtype(), s)
}

/// The cotangent of the input of collective `out` (`None` for `recv`, which has none).
pub(crate) fn vjp(
    op: CollectiveOp,
    group: &Group,
    out: &Array,
    inputs: &[Array],
    cot: &Array,
) -> Result<Vec<Option<Array>>> {
    let s = out.stream();
    let Some(x) = inputs.first() else {
        return Ok(vec![]);
    };
    let g = match op {
        CollectiveOp::AllSum | CollectiveOp::Send { .. } => cot.clone(),
        CollectiveOp::AllMax | CollectiveOp::AllMin => mx::multiply(cot, &held_here(x, out)?, s)?,
        CollectiveOp::AllGather => {
            let rows = x.shape().first().copied().unwrap_or(1);
            let start = group.rank() * rows;
            let mut lo = vec![0; out.ndim()];
            let mut hi = out.shape().to_vec();
            let step = vec![1; out.ndim()];
            lo[0] = start;
            hi[0] = start + rows;
            mx::reshape(&mx::slice(cot, &lo, &hi, &step, s)?, x.shape(), s)?
        }
        CollectiveOp::SumScatter => {
            let rows = out.shape()[0];
            let (r, n) = (group.rank(), group.size());
            let mut pad = vec![(0, 0); x.ndim()];
            pad[0] = (r * rows, (n - 1 - r) * rows);
            mx::pad(cot, &pad, mx::PadMode::Constant, 0.0, s)?
        }
        CollectiveOp::Recv { .. } => return Ok(vec![None; inputs.len()]),
    };
    Ok(vec![Some(g)])
}

/// The tangent of collective `out` from its input's tangent `t`.
pub(crate) fn jvp(
    op: CollectiveOp,
    out: &Array,
    inputs: &[Array],
    t: Option<&Array>,
) -> Result<Option<Array>> {
    let s = out.stream();
    let (Some(x), Some(t)) = (inputs.first(), t) else {
        return Ok(None);
    };
    let t = mx::astype(t, x.dtype(), s)?;
    let prim = out.0.prim.clone();
    Ok(Some(match op {
        CollectiveOp::AllSum | CollectiveOp::AllGather | CollectiveOp::SumScatter => {
            node(out.shape().to_vec(), out.dtype(), s, prim, vec![t])?
        }
        CollectiveOp::AllMax | CollectiveOp::AllMin => mx::multiply(&t, &held_here(x, out)?, s)?,
        CollectiveOp::Send { .. } => t,
        CollectiveOp::Recv { .. } => return Ok(None),
    }))
}

/// The batched collective of a batched input `x` (batch axis `ax`, size `b`) and where its
/// batch axis is. Elementwise ones keep the axis; gather and scatter work on the example's
/// axis 0, so the batch axis moves to 1 first.
pub(crate) fn vmap(
    op: CollectiveOp,
    group: &Group,
    out: &Array,
    x: &Array,
    ax: usize,
) -> Result<(Array, Option<usize>)> {
    let s = out.stream();
    let prim = out.0.prim.clone();
    match op {
        CollectiveOp::AllSum
        | CollectiveOp::AllMax
        | CollectiveOp::AllMin
        | CollectiveOp::Send { .. } => Ok((
            node(x.shape().to_vec(), out.dtype(), s, prim, vec![x.clone()])?,
            Some(ax),
        )),
        CollectiveOp::AllGather | CollectiveOp::SumScatter => {
            // A batch of scalars is gathered as a row: [b] -> [1, b] -> [size, b].
            let x = if x.ndim() == 1 {
                mx::expand_dims(x, &[0], s)?
            } else {
                mx::moveaxis(x, ax as i32, 1, s)?
            };
            let y = match op {
                CollectiveOp::AllGather => dist::all_gather(&x, Some(group), s)?,
                CollectiveOp::SumScatter
                | CollectiveOp::AllSum
                | CollectiveOp::AllMax
                | CollectiveOp::AllMin
                | CollectiveOp::Send { .. }
                | CollectiveOp::Recv { .. } => dist::sum_scatter(&x, Some(group), s)?,
            };
            Ok((y, Some(1)))
        }
        CollectiveOp::Recv { .. } => Err(crate::error::Error::Backend {
            op: "vmap",
            msg: "invariant: recv has no input to batch".into(),
        }),
    }
}
