//! Transform rules of `Primitive::Fused` and `Primitive::FusedReduce`: the vjp and jvp
//! differentiate the node's expansion into ordinary nodes (each of which has its own rule), so a
//! fused region differentiates exactly as the ops it replaced. vmap keeps an elementwise region
//! fused over the batched shape (it only needs every input moved to the front batch axis) and
//! maps a fused reduction's expansion (its axes move with the batch axis).

use super::fused::{FusedExpr, FusedReduction};
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

/// How a fused node is rebuilt from ordinary nodes.
#[derive(Clone, Copy)]
pub(crate) enum Fusion<'a> {
    Elementwise(&'a FusedExpr),
    Reduction(&'a FusedReduction),
}

impl Fusion<'_> {
    fn expand(&self, xs: &[Array], out: &Array) -> Result<Array> {
        match self {
            Fusion::Elementwise(e) => e.expand(xs, out.shape(), out.stream()),
            Fusion::Reduction(r) => r.expand(xs, out.stream()),
        }
    }
}

/// The cotangent of every input of the fused node `out`.
pub(crate) fn vjp(
    f: Fusion<'_>,
    out: &Array,
    inputs: &[Array],
    cot: &Array,
) -> Result<Vec<Option<Array>>> {
    let (_, grads) = crate::transforms::vjp(
        |xs| Ok(vec![f.expand(xs, out)?]),
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
    f: Fusion<'_>,
    out: &Array,
    inputs: &[Array],
    ts: &[Option<Array>],
) -> Result<Option<Array>> {
    if ts.iter().all(Option::is_none) {
        return Ok(None);
    }
    let s = out.stream();
    let tangents = inputs
        .iter()
        .zip(ts)
        .map(|(x, t)| match t {
            Some(t) => Ok(t.clone()),
            None => crate::ops::creation::zeros_like(x, s),
        })
        .collect::<Result<Vec<_>>>()?;
    let (_, t) = crate::transforms::jvp(|xs| Ok(vec![f.expand(xs, out)?]), inputs, &tangents)?;
    Ok(t.into_iter().next())
}

/// The batched fused reduction `out` over `xs` (every input batched along axis 0): the
/// expansion, mapped (its output batched along axis 0).
pub(crate) fn vmap_reduction(red: &FusedReduction, out: &Array, xs: &[Array]) -> Result<Array> {
    let s = out.stream();
    let f = |ys: &[Array]| Ok(vec![red.expand(ys, s)?]);
    let outs = crate::transforms::vmap(f, &[], &[Some(0)])(xs)?;
    outs.into_iter().next().ok_or_else(|| Error::Backend {
        op: "vmap",
        msg: "invariant: a fused reduction's expansion lost its output".into(),
    })
}
