//! Transform rules of `Primitive::Fused`: the vjp and jvp differentiate the expression's
//! expansion into ordinary nodes (each of which has its own rule), so a fused region
//! differentiates exactly as the ops it replaced; vmap keeps the region fused over the batched
//! shape (an elementwise expression only needs every input moved to the front batch axis).

use super::fused::FusedExpr;
use crate::array::Array;
use crate::error::{Error, Result};
use crate::ops::node;
use crate::primitive::Primitive;
use crate::stream::Stream;
use std::sync::Arc;

/// A fused node of `expr` over `inputs` (each of `shape`).
pub(crate) fn fused_node(
    expr: &Arc<FusedExpr>,
    shape: &[i32],
    inputs: Vec<Array>,
    s: Stream,
) -> Result<Array> {
    node(
        shape.to_vec(),
        expr.out_dtype(),
        s,
        Primitive::Fused(expr.clone()),
        inputs,
    )
}

/// The cotangent of every input of the fused node `out`.
pub(crate) fn vjp(
    expr: &FusedExpr,
    out: &Array,
    inputs: &[Array],
    cot: &Array,
) -> Result<Vec<Option<Array>>> {
    let (shape, s) = (out.shape().to_vec(), out.stream());
    let (_, grads) = crate::transforms::vjp(
        |xs| Ok(vec![expr.expand(xs, &shape, s)?]),
        inputs,
        std::slice::from_ref(cot),
    )?;
    if grads.len() != inputs.len() {
        return Err(Error::Backend {
            op: "vjp",
            msg: "invariant: a fused expansion lost an input".into(),
        });
    }
    Ok(grads.into_iter().map(Some).collect())
}

/// The tangent of the fused node `out` (inputs without a tangent count as constant).
pub(crate) fn jvp(
    expr: &FusedExpr,
    out: &Array,
    inputs: &[Array],
    ts: &[Option<Array>],
) -> Result<Option<Array>> {
    if ts.iter().all(Option::is_none) {
        return Ok(None);
    }
    let (shape, s) = (out.shape().to_vec(), out.stream());
    let tangents = inputs
        .iter()
        .zip(ts)
        .map(|(x, t)| match t {
            Some(t) => Ok(t.clone()),
            None => crate::ops::creation::zeros_like(x, s),
        })
        .collect::<Result<Vec<_>>>()?;
    let (_, t) = crate::transforms::jvp(
        |xs| Ok(vec![expr.expand(xs, &shape, s)?]),
        inputs,
        &tangents,
    )?;
    Ok(t.into_iter().next())
}
