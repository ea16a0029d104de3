//! Reverse mode: the backward walk (`backward`) and every primitive's vjp rule (`vjp_rule`, one
//! exhaustive match over `Primitive`). A rule maps the output's cotangent to one cotangent per
//! input (`None` = zero), written with wmx ops on the primitive's own stream, so the backward
//! of a forward split over devices runs split the same way.

use super::collective_rules;
use super::custom;
use super::elementwise::{binary_partials, unary_partial};
use super::scan_rules;
use super::tape::tape;
use crate as mx;
use crate::array::Array;
use crate::compile::rules::Fusion;
use crate::error::{Error, Result, value_err};
use crate::ops::node;
use crate::primitive::{BinaryOp, Primitive, ReduceOp};
use crate::stream::Stream;
use std::collections::{HashMap, HashSet};

/// Cotangents of `leaves` given `cotangents` of `outputs` (shapes and dtypes already checked).
/// A leaf the outputs do not depend on gets zeros.
pub(crate) fn backward(
    outputs: &[Array],
    leaves: &[Array],
    cotangents: &[Array],
) -> Result<Vec<Array>> {
    let leaf_ids: HashSet<u64> = leaves.iter().map(|a| a.0.id).collect();
    let order = tape(outputs, &leaf_ids);
    let mut cots: HashMap<u64, Array> = HashMap::new();
    for (o, c) in outputs.iter().zip(cotangents) {
        // Outputs behind stop_gradient take no cotangent (MLX).
        if matches!(o.0.prim, Primitive::StopGradient) {
            continue;
        }
        accumulate(&mut cots, o, c.clone())?;
    }
    let needed: HashSet<u64> = order
        .iter()
        .map(|a| a.0.id)
        .chain(leaf_ids.iter().copied())
        .collect();
    // Sibling outputs of one custom function are handled together, at the position of the
    // first of them: every consumer of any sibling comes later in `order`.
    let mut first_sibling: HashMap<usize, usize> = HashMap::new();
    for (i, a) in order.iter().enumerate() {
        if let Primitive::Custom { call, .. } = &a.0.prim {
            first_sibling.entry(call.key()).or_insert(i);
        }
    }
    for (i, a) in order.iter().enumerate().rev() {
        if let Primitive::Custom { call, .. } = &a.0.prim {
            if first_sibling.get(&call.key()) != Some(&i) {
                continue;
            }
            let siblings: Vec<&Array> = order
                .iter()
                .filter(|b| matches!(&b.0.prim, Primitive::Custom { call: c, .. } if c.key() == call.key()))
                .collect();
            let mut outs_cot: Vec<Option<Array>> = vec![None; call.0.outputs.len()];
            for sib in siblings {
                if let Primitive::Custom { index, .. } = sib.0.prim {
                    outs_cot[index] = cots.remove(&sib.0.id);
                }
            }
            if outs_cot.iter().all(Option::is_none) {
                continue;
            }
            let inputs = super::tape::followed_inputs(a);
            let grads = custom::vjp(&call.0, &inputs, outs_cot)?;
            for (inp, g) in inputs.iter().zip(grads) {
                if let Some(g) = g
                    && needed.contains(&inp.0.id)
                {
                    accumulate(&mut cots, inp, g)?;
                }
            }
            continue;
        }
        let Some(cot) = cots.remove(&a.0.id) else {
            continue;
        };
        let inputs = a.0.inputs();
        let want: Vec<bool> = inputs.iter().map(|i| needed.contains(&i.0.id)).collect();
        let grads = vjp_rule(a, &inputs, &cot, &want)?;
        for ((inp, g), w) in inputs.iter().zip(grads).zip(want) {
            if let (Some(g), true) = (g, w) {
                accumulate(&mut cots, inp, g)?;
            }
        }
    }
    leaves
        .iter()
        .map(|l| match cots.remove(&l.0.id) {
            Some(c) => Ok(c),
            None => mx::zeros_like(l, l.stream()),
        })
        .collect()
}

/// Adds `g` to the cotangent collected for `x` (cast to `x`'s dtype, on `x`'s stream).
fn accumulate(cots: &mut HashMap<u64, Array>, x: &Array, g: Array) -> Result<()> {
    if g.shape() != x.shape() {
        return Err(Error::Backend {
            op: "vjp",
            msg: format!(
                "invariant: the {} rule gave a cotangent of shape {:?} for an input of shape {:?}",
                x.0.prim.name(),
                g.shape(),
                x.shape()
            ),
        });
    }
    let g = mx::astype(&g, x.dtype(), x.stream())?;
    let sum = match cots.remove(&x.0.id) {
        Some(prev) => mx::add(&prev, &g, x.stream())?,
        None => g,
    };
    cots.insert(x.0.id, sum);
    Ok(())
}

/// `cot` summed over the axes that broadcasting added to get from `in_shape` to its shape.
pub(super) fn unbroadcast(cot: &Array, in_shape: &[i32], s: Stream) -> Result<Array> {
    let out_shape = cot.shape();
    let pad = out_shape.len() - in_shape.len();
    let axes: Vec<i32> = (0..out_shape.len())
        .filter(|&i| i < pad || (in_shape[i - pad] == 1 && out_shape[i] != 1))
        .map(|i| i as i32)
        .collect();
    let summed = if axes.is_empty() {
        cot.clone()
    } else {
        mx::sum(cot, &axes, true, s)?
    };
    mx::reshape(&summed, in_shape, s)
}

/// For `prod` over `axes` of `x`: the product of every other element of each reduced group, at
/// each element (exact with zeros: exclusive products from both ends).
pub(super) fn prod_others(x: &Array, axes: &[usize], s: Stream) -> Result<Array> {
    let nd = x.ndim();
    let keep: Vec<usize> = (0..nd).filter(|i| !axes.contains(i)).collect();
    let perm: Vec<i32> = keep.iter().chain(axes).map(|&i| i as i32).collect();
    let xt = mx::transpose(x, &perm, s)?;
    let mut flat: Vec<i32> = keep.iter().map(|&i| x.shape()[i]).collect();
    flat.push(axes.iter().map(|&i| x.shape()[i]).product());
    let xf = mx::reshape(&xt, &flat, s)?;
    let left = mx::cumprod(&xf, Some(-1), false, false, s)?;
    let right = mx::cumprod(&xf, Some(-1), true, false, s)?;
    let g = mx::reshape(&mx::multiply(&left, &right, s)?, xt.shape(), s)?;
    let mut inv = vec![0i32; nd];
    for (k, &p) in perm.iter().enumerate() {
        inv[p as usize] = k as i32;
    }
    mx::transpose(&g, &inv, s)
}

/// For max/min over `axes`: 1 / (number of ties) where `x` equals the result, else 0 (MLX
/// shares the gradient evenly among tied extrema).
pub(super) fn extremum_weights(x: &Array, out: &Array, axes: &[i32], s: Stream) -> Result<Array> {
    let mask = mx::astype(&mx::equal(x, out, s)?, x.dtype(), s)?;
    let count = mx::sum(&mask, axes, true, s)?;
    mx::divide(&mask, &count, s)
}

/// Int32 copy of an index array (the scatter/gather primitives take int32).
fn as_i32(a: &Array, s: Stream) -> Result<Array> {
    mx::astype(a, crate::Dtype::Int32, s)
}

/// Every primitive's vjp: the cotangent of each input of `out` (`want[i]` false: not needed).
pub(crate) fn vjp_rule(
    out: &Array,
    inputs: &[Array],
    cot: &Array,
    want: &[bool],
) -> Result<Vec<Option<Array>>> {
    let s = out.stream();
    let node_shape = out.shape();
    let x = inputs.first();
    let one = |g: Array| Ok(vec![Some(g)]);
    let x0 = || {
        x.ok_or_else(|| Error::Backend {
            op: "vjp",
            msg: format!("invariant: {} has no input", out.0.prim.name()),
        })
    };
    match &out.0.prim {
        Primitive::Constant | Primitive::Full(_) | Primitive::Arange { .. } => Ok(vec![]),
        Primitive::StopGradient
        | Primitive::RandomBits { .. }
        | Primitive::ArgReduce { .. }
        | Primitive::ArgSort
        | Primitive::SearchSorted { .. } => Ok(vec![None; inputs.len()]),
        Primitive::Collective { op, group } => collective_rules::vjp(*op, group, out, inputs, cot),
        Primitive::AsType | Primitive::Copy => one(mx::astype(cot, x0()?.dtype(), s)?),
        Primitive::Reshape => one(mx::reshape(cot, x0()?.shape(), s)?),
        Primitive::Transpose(perm) => {
            let mut inv = vec![0i32; perm.len()];
            for (k, &p) in perm.iter().enumerate() {
                inv[p] = k as i32;
            }
            one(mx::transpose(cot, &inv, s)?)
        }
        Primitive::Broadcast => one(unbroadcast(cot, x0()?.shape(), s)?),
        Primitive::Unary(op) => one_opt(unary_partial(*op, x0()?, out, s)?.apply(cot, s)?),
        Primitive::Binary(op) => {
            let (pa, pb) = binary_partials(*op, &inputs[0], &inputs[1], out, s)?;
            let ga = if want[0] { pa.apply(cot, s)? } else { None };
            let gb = if want[1] { pb.apply(cot, s)? } else { None };
            Ok(vec![ga, gb])
        }
        Primitive::Where => {
            let c = &inputs[0];
            let zero = mx::zeros_like(cot, s)?;
            Ok(vec![
                None,
                Some(mx::where_(c, cot, &zero, s)?),
                Some(mx::where_(c, &zero, cot, s)?),
            ])
        }
        Primitive::Reduce { op, axes } => {
            let x = x0()?;
            let ax: Vec<i32> = axes.iter().map(|&a| a as i32).collect();
            let cb = mx::broadcast_to(cot, x.shape(), s)?;
            match op {
                ReduceOp::Sum => one(cb),
                ReduceOp::Prod => one(mx::multiply(&cb, &prod_others(x, axes, s)?, s)?),
                ReduceOp::Max | ReduceOp::Min => {
                    one(mx::multiply(&cb, &extremum_weights(x, out, &ax, s)?, s)?)
                }
                ReduceOp::All | ReduceOp::Any => Ok(vec![None]),
            }
        }
        Primitive::Matmul => {
            let (a, b) = (&inputs[0], &inputs[1]);
            let ga = if want[0] {
                Some(mx::matmul(cot, &mx::swapaxes(b, -1, -2, s)?, s)?)
            } else {
                None
            };
            let gb = if want[1] {
                Some(mx::matmul(&mx::swapaxes(a, -1, -2, s)?, cot, s)?)
            } else {
                None
            };
            Ok(vec![ga, gb])
        }
        Primitive::Convolution(p) => {
            super::conv_rules::vjp(p, &inputs[0], &inputs[1], cot, want, s)
        }
        Primitive::Slice { start, step } => {
            let x = x0()?;
            if cot.size() == 0 {
                return Ok(vec![None]);
            }
            let stop: Vec<i32> = (0..x.ndim())
                .map(|k| {
                    let e = start[k] + node_shape[k] * step[k];
                    if e < 0 { -(x.shape()[k] + 1) } else { e }
                })
                .collect();
            let zero = mx::zeros_like(x, s)?;
            one(mx::slice_update(&zero, cot, start, &stop, step, s)?)
        }
        Primitive::Concatenate { axis } => {
            let mut at = 0;
            let mut out_g = Vec::with_capacity(inputs.len());
            for inp in inputs {
                let n = inp.shape()[*axis];
                let mut st = vec![0; cot.ndim()];
                let mut en = cot.shape().to_vec();
                st[*axis] = at;
                en[*axis] = at + n;
                at += n;
                out_g.push(Some(mx::slice(cot, &st, &en, &[], s)?));
            }
            Ok(out_g)
        }
        Primitive::Take { .. } | Primitive::Gather { .. } if want[1] => {
            Err(indices_err("vjp", out))
        }
        Primitive::Scatter { .. } if want[1] => Err(indices_err("vjp", out)),
        Primitive::Take { axis } => {
            let (a, idx) = (&inputs[0], &inputs[1]);
            let upd = mx::expand_dims(
                &mx::moveaxis(cot, *axis as i32, 0, s)?,
                &[*axis as i32 + 1],
                s,
            )?;
            let zero = mx::zeros_like(a, s)?;
            let g = mx::scatter_add(&zero, &[&as_i32(idx, s)?], &upd, &[*axis as i32], s)?;
            Ok(vec![Some(g), None])
        }
        Primitive::Gather { axes, .. } => {
            let (a, idx) = (&inputs[0], &inputs[1]);
            let zero = mx::zeros_like(a, s)?;
            let g = node(
                a.shape().to_vec(),
                a.dtype(),
                s,
                Primitive::Scatter {
                    op: Some(BinaryOp::Add),
                    axes: axes.clone(),
                },
                vec![zero, idx.clone(), cot.clone()],
            )?;
            Ok(vec![Some(g), None])
        }
        Primitive::Scatter { op, axes } => scatter_vjp(out, *op, axes, inputs, cot, want),
        Primitive::Softmax => {
            let dot = mx::sum(&mx::multiply(cot, out, s)?, &[-1], true, s)?;
            one(mx::multiply(out, &mx::subtract(cot, &dot, s)?, s)?)
        }
        Primitive::AsStrided { strides, offset } => {
            let x = x0()?;
            let n = x.size() as i32;
            let flat_idx = mx::arange(0.0, n as f64, 1.0, crate::Dtype::Int32, s)?;
            let st: Vec<i64> = strides.iter().map(|&v| v as i64).collect();
            let idx = mx::as_strided(&flat_idx, node_shape, &st, *offset, s)?;
            let m = cot.size() as i32;
            let idx = mx::reshape(&idx, &[m], s)?;
            let upd = mx::reshape(cot, &[m, 1], s)?;
            let zero = mx::zeros(&[n], x.dtype(), s)?;
            let g = mx::scatter_add(&zero, &[&idx], &upd, &[0], s)?;
            one(mx::reshape(&g, x.shape(), s)?)
        }
        Primitive::Sort => {
            let x = x0()?;
            let idx = mx::argsort(x, -1, s)?;
            one(mx::put_along_axis(
                &mx::zeros_like(x, s)?,
                &idx,
                cot,
                Some(-1),
                s,
            )?)
        }
        Primitive::Scan {
            op,
            reverse,
            inclusive,
        } => one_opt(scan_rules::vjp(
            *op,
            *reverse,
            *inclusive,
            x0()?,
            out,
            cot,
            s,
        )?),
        Primitive::RmsNorm { .. }
        | Primitive::LayerNorm { .. }
        | Primitive::Rope { .. }
        | Primitive::Attention { .. } => crate::fast::rules::vjp(&out.0.prim, inputs, cot, s),
        Primitive::Fused(expr) => {
            crate::compile::rules::vjp(Fusion::Elementwise(expr), out, inputs, cot)
        }
        Primitive::FusedReduce(red) => {
            crate::compile::rules::vjp(Fusion::Reduction(red), out, inputs, cot)
        }
        Primitive::CustomKernel { launch, .. } => Err(crate::fast::kernel::no_rule("vjp", launch)),
        Primitive::Custom { .. } => Err(Error::Backend {
            op: "vjp",
            msg: "invariant: custom functions are differentiated by the walk".into(),
        }),
    }
}

/// MLX refuses to differentiate with respect to integer indices.
pub(super) fn indices_err(transform: &'static str, out: &Array) -> Error {
    value_err(
        transform,
        format!(
            "[{}] Cannot calculate {} with respect to indices. Use stop_gradient on indices to stop gradients from being computed.",
            out.0.prim.name(),
            transform.to_uppercase()
        ),
    )
}

fn one_opt(g: Option<Array>) -> Result<Vec<Option<Array>>> {
    Ok(vec![g])
}

/// Scatter: the cotangent flows to `a` where it was not overwritten, and to the updates
/// through a gather at the same indices. Only overwrite, add, max and min have rules (MLX).
fn scatter_vjp(
    out: &Array,
    op: Option<BinaryOp>,
    axes: &[usize],
    inputs: &[Array],
    cot: &Array,
    want: &[bool],
) -> Result<Vec<Option<Array>>> {
    let s = out.stream();
    let (a, idx, upd) = (&inputs[0], &inputs[1], &inputs[2]);
    let k = idx.ndim() - 1;
    let gather = |src: &Array| -> Result<Array> {
        node(
            upd.shape().to_vec(),
            src.dtype(),
            s,
            Primitive::Gather {
                axes: axes.to_vec(),
                slice_sizes: upd.shape()[k..].to_vec(),
            },
            vec![src.clone(), idx.clone()],
        )
    };
    let (ga, gu) = match op {
        None => {
            let zero_upd = mx::zeros_like(upd, s)?;
            let ga = node(
                a.shape().to_vec(),
                a.dtype(),
                s,
                Primitive::Scatter {
                    op: None,
                    axes: axes.to_vec(),
                },
                vec![cot.clone(), idx.clone(), zero_upd],
            )?;
            (ga, gather(cot)?)
        }
        Some(BinaryOp::Add) => (cot.clone(), gather(cot)?),
        Some(BinaryOp::Maximum | BinaryOp::Minimum) => {
            let ma = mx::equal(a, out, s)?;
            let mu = mx::equal(upd, &gather(out)?, s)?;
            (
                mx::multiply(cot, &ma, s)?,
                mx::multiply(&gather(cot)?, &mu, s)?,
            )
        }
        Some(other) => {
            return Err(value_err(
                "vjp",
                format!(
                    "[scatter] VJP not implemented for scatter with combiner {}.",
                    other.name()
                ),
            ));
        }
    };
    Ok(vec![want[0].then_some(ga), None, want[2].then_some(gu)])
}
