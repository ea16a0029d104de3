//! Forward mode: the walk (`forward`) and every primitive's jvp rule (`jvp_rule`, one exhaustive
//! match over `Primitive`). A rule maps the tangents of a node's inputs (`None` = zero) to the
//! tangent of its output, with wmx ops on the primitive's stream. Linear primitives (views,
//! copies, sums, gathers) apply themselves to the tangents.

use super::collective_rules;
use super::custom;
use super::elementwise::{binary_partials, unary_partial};
use super::scan_rules;
use super::tape::{followed_inputs, tape};
use super::vjp::{extremum_weights, prod_others};
use crate as mx;
use crate::array::Array;
use crate::compile::rules::Fusion;
use crate::error::{Error, Result};
use crate::ops::node;
use crate::primitive::{BinaryOp, Primitive, ReduceOp};
use std::collections::{HashMap, HashSet};

/// Tangents of `outputs` given `tangents` of `leaves` (checked). An output that does not depend
/// on any leaf gets zeros.
pub(crate) fn forward(
    outputs: &[Array],
    leaves: &[Array],
    tangents: &[Array],
) -> Result<Vec<Array>> {
    let leaf_ids: HashSet<u64> = leaves.iter().map(|a| a.0.id).collect();
    let order = tape(outputs, &leaf_ids);
    let mut tans: HashMap<u64, Array> = leaves
        .iter()
        .zip(tangents)
        .map(|(l, t)| (l.0.id, t.clone()))
        .collect();
    // Custom functions give all their outputs' tangents at once; keep them per call.
    let mut custom_done: HashMap<usize, Vec<Option<Array>>> = HashMap::new();
    for a in &order {
        let inputs = followed_inputs(a);
        let ts: Vec<Option<Array>> = inputs.iter().map(|i| tans.get(&i.0.id).cloned()).collect();
        if ts.iter().all(Option::is_none) {
            continue;
        }
        let t = if let Primitive::Custom { call, index } = &a.0.prim {
            if let std::collections::hash_map::Entry::Vacant(e) = custom_done.entry(call.key()) {
                let r = custom::jvp(&call.0, &inputs, &ts)?;
                e.insert(r);
            }
            custom_done
                .get(&call.key())
                .and_then(|r| r.get(*index).cloned().flatten())
        } else {
            jvp_rule(a, &a.0.inputs(), &ts)?
        };
        if let Some(t) = t {
            let t = if t.dtype() == a.dtype() {
                t
            } else {
                mx::astype(&t, a.dtype(), a.stream())?
            };
            tans.insert(a.0.id, t);
        }
    }
    outputs
        .iter()
        .map(|o| match tans.get(&o.0.id) {
            Some(t) => Ok(t.clone()),
            None => mx::zeros_like(o, o.stream()),
        })
        .collect()
}

/// `prim` applied to new inputs (for linear primitives: to tangents), shaped like `out`.
fn same_prim(out: &Array, inputs: Vec<Array>) -> Result<Array> {
    node(
        out.shape().to_vec(),
        out.dtype(),
        out.stream(),
        out.0.prim.clone(),
        inputs,
    )
}

/// Every primitive's jvp: the output tangent from the inputs' tangents `ts` (`None` = zero).
pub(crate) fn jvp_rule(
    out: &Array,
    inputs: &[Array],
    ts: &[Option<Array>],
) -> Result<Option<Array>> {
    let s = out.stream();
    // Tangent `i`, or zeros like input `i` when it has none.
    let t_or_zero = |i: usize| -> Result<Array> {
        match &ts[i] {
            Some(t) => Ok(t.clone()),
            None => mx::zeros_like(&inputs[i], s),
        }
    };
    let sum_opt = |a: Option<Array>, b: Option<Array>| -> Result<Option<Array>> {
        Ok(match (a, b) {
            (Some(a), Some(b)) => Some(mx::add(&a, &b, s)?),
            (a, None) => a,
            (None, b) => b,
        })
    };
    match &out.0.prim {
        Primitive::Constant | Primitive::Full(_) | Primitive::Arange { .. } => Ok(None),
        Primitive::StopGradient
        | Primitive::RandomBits { .. }
        | Primitive::ArgReduce { .. }
        | Primitive::ArgSort
        | Primitive::SearchSorted { .. } => Ok(None),
        // Linear in their (first) input.
        Primitive::AsType
        | Primitive::Copy
        | Primitive::Reshape
        | Primitive::Transpose(_)
        | Primitive::Broadcast
        | Primitive::Slice { .. }
        | Primitive::AsStrided { .. }
        | Primitive::Reduce {
            op: ReduceOp::Sum, ..
        } => {
            let t = t_or_zero(0)?;
            let t = mx::astype(&t, inputs[0].dtype(), s)?;
            Ok(Some(same_prim(out, vec![t])?))
        }
        Primitive::Take { .. } | Primitive::Gather { .. } | Primitive::Scatter { .. }
            if ts[1].is_some() =>
        {
            Err(super::vjp::indices_err("jvp", out))
        }
        Primitive::Take { .. } | Primitive::Gather { .. } => Ok(Some(same_prim(
            out,
            vec![t_or_zero(0)?, inputs[1].clone()],
        )?)),
        Primitive::Concatenate { .. } => {
            let t = (0..inputs.len())
                .map(t_or_zero)
                .collect::<Result<Vec<_>>>()?;
            Ok(Some(same_prim(out, t)?))
        }
        Primitive::Unary(op) => {
            let Some(t) = &ts[0] else { return Ok(None) };
            unary_partial(*op, &inputs[0], out, s)?.apply(t, s)
        }
        Primitive::Binary(op) => {
            let (pa, pb) = binary_partials(*op, &inputs[0], &inputs[1], out, s)?;
            let ga = match &ts[0] {
                Some(t) => pa.apply(t, s)?,
                None => None,
            };
            let gb = match &ts[1] {
                Some(t) => pb.apply(t, s)?,
                None => None,
            };
            sum_opt(ga, gb)
        }
        Primitive::Where => {
            if ts[1].is_none() && ts[2].is_none() {
                return Ok(None);
            }
            Ok(Some(mx::where_(
                &inputs[0],
                &t_or_zero(1)?,
                &t_or_zero(2)?,
                s,
            )?))
        }
        Primitive::Reduce { op, axes } => {
            let Some(t) = &ts[0] else { return Ok(None) };
            let x = &inputs[0];
            let ax: Vec<i32> = axes.iter().map(|&a| a as i32).collect();
            let w = match op {
                ReduceOp::Prod => prod_others(x, axes, s)?,
                ReduceOp::Max | ReduceOp::Min => extremum_weights(x, out, &ax, s)?,
                ReduceOp::Sum | ReduceOp::All | ReduceOp::Any => return Ok(None),
            };
            Ok(Some(mx::sum(&mx::multiply(t, &w, s)?, &ax, true, s)?))
        }
        Primitive::Matmul => {
            let ga = match &ts[0] {
                Some(t) => Some(mx::matmul(t, &inputs[1], s)?),
                None => None,
            };
            let gb = match &ts[1] {
                Some(t) => Some(mx::matmul(&inputs[0], t, s)?),
                None => None,
            };
            sum_opt(ga, gb)
        }
        Primitive::Convolution(p) => {
            super::conv_rules::jvp(p, &inputs[0], &inputs[1], ts[0].as_ref(), ts[1].as_ref(), s)
        }
        Primitive::Softmax => {
            let Some(t) = &ts[0] else { return Ok(None) };
            let dot = mx::sum(&mx::multiply(t, out, s)?, &[-1], true, s)?;
            Ok(Some(mx::multiply(out, &mx::subtract(t, &dot, s)?, s)?))
        }
        Primitive::Collective { op, .. } => {
            collective_rules::jvp(*op, out, inputs, ts.first().and_then(Option::as_ref))
        }
        Primitive::Sort => {
            let Some(t) = &ts[0] else { return Ok(None) };
            let idx = mx::argsort(&inputs[0], -1, s)?;
            Ok(Some(mx::take_along_axis(t, &idx, Some(-1), s)?))
        }
        Primitive::Scan {
            op,
            reverse,
            inclusive,
        } => {
            let Some(t) = &ts[0] else { return Ok(None) };
            scan_rules::jvp(*op, *reverse, *inclusive, &inputs[0], out, t, s)
        }
        Primitive::Scatter { op, .. } => match op {
            None | Some(BinaryOp::Add) => {
                if ts[0].is_none() && ts[2].is_none() {
                    return Ok(None);
                }
                Ok(Some(same_prim(
                    out,
                    vec![t_or_zero(0)?, inputs[1].clone(), t_or_zero(2)?],
                )?))
            }
            // The adjoint of the vjp rule: ties take both tangents, as their cotangents do.
            Some(comb @ (BinaryOp::Maximum | BinaryOp::Minimum)) => {
                let (a, idx, upd) = (&inputs[0], &inputs[1], &inputs[2]);
                let k = idx.ndim() - 1;
                let Primitive::Scatter { axes, .. } = &out.0.prim else {
                    return Ok(None);
                };
                let gathered_out = node(
                    upd.shape().to_vec(),
                    out.dtype(),
                    s,
                    Primitive::Gather {
                        axes: axes.clone(),
                        slice_sizes: upd.shape()[k..].to_vec(),
                    },
                    vec![out.clone(), idx.clone()],
                )?;
                let ta = mx::multiply(&t_or_zero(0)?, &mx::equal(a, out, s)?, s)?;
                let tu = mx::multiply(&t_or_zero(2)?, &mx::equal(upd, &gathered_out, s)?, s)?;
                let _ = comb;
                let p = Primitive::Scatter {
                    op: Some(BinaryOp::Add),
                    axes: axes.clone(),
                };
                Ok(Some(node(
                    out.shape().to_vec(),
                    out.dtype(),
                    s,
                    p,
                    vec![ta, idx.clone(), tu],
                )?))
            }
            Some(other) => Err(Error::Value {
                op: "jvp",
                msg: format!(
                    "[scatter] JVP not implemented for scatter with combiner {}.",
                    other.name()
                ),
            }),
        },
        Primitive::RmsNorm { .. }
        | Primitive::LayerNorm { .. }
        | Primitive::Rope { .. }
        | Primitive::Attention { .. } => crate::fast::rules::jvp(&out.0.prim, inputs, ts, s),
        Primitive::Fused(expr) => {
            crate::compile::rules::jvp(Fusion::Elementwise(expr), out, inputs, ts)
        }
        Primitive::FusedReduce(red) => {
            crate::compile::rules::jvp(Fusion::Reduction(red), out, inputs, ts)
        }
        Primitive::CustomKernel { launch, .. } => Err(crate::fast::kernel::no_rule("jvp", launch)),
        Primitive::Custom { .. } => Err(Error::Backend {
            op: "jvp",
            msg: "invariant: custom functions are differentiated by the walk".into(),
        }),
    }
}
