//! Vectorising map: `vmap` traces the function on one example (placeholders without the mapped
//! axis), then replays the traced graph on the batched inputs, asking each primitive's rule
//! (`vmap_rule`, one exhaustive match) how to carry the batch axis. Rules move the batch axis to
//! the front and shift the primitive's axes by one; the few primitives without a direct rule
//! run once per example and stack the results.

use super::Tracing;
use super::custom;
use super::tape::{followed_inputs, tape};
use crate as mx;
use crate::array::Array;
use crate::error::{Error, Result, axis_err, value_err};
use crate::ops::node;
use crate::primitive::Primitive;
use crate::shape::fmt_shape;
use std::collections::{HashMap, HashSet};

/// `f` mapped over axis `in_axes[i]` of its `i`-th input (`None`: not mapped, passed whole; an
/// empty list maps axis 0 of every input), returning each output with the batch axis at
/// `out_axes[j]` (`None`: the output must not depend on the batch; empty: axis 0 for all).
///
/// ```
/// use wmx::{self as mx, Array};
/// let dot = |p: &[Array]| Ok(vec![mx::sum(&mx::multiply(&p[0], &p[1], None)?, &[], false, None)?]);
/// let x = mx::reshape(&mx::arange(0.0, 6.0, 1.0, mx::Dtype::Float32, None).unwrap(), &[2, 3], None).unwrap();
/// let w = Array::from_slice(&[1.0f32, 1.0, 1.0], &[3]);
/// let y = mx::vmap(dot, &[Some(0), None], &[Some(0)])(&[x, w]).unwrap();
/// assert_eq!(y[0].to_vec::<f32>().unwrap(), vec![3.0, 12.0]);
/// ```
pub fn vmap<F>(
    f: F,
    in_axes: &[Option<i32>],
    out_axes: &[Option<i32>],
) -> impl Fn(&[Array]) -> Result<Vec<Array>> + use<F>
where
    F: Fn(&[Array]) -> Result<Vec<Array>>,
{
    let (in_axes, out_axes) = (in_axes.to_vec(), out_axes.to_vec());
    move |inputs: &[Array]| vmap_apply(&f, inputs, &in_axes, &out_axes)
}

/// The body of [`vmap`].
pub(crate) fn vmap_apply(
    f: &dyn Fn(&[Array]) -> Result<Vec<Array>>,
    inputs: &[Array],
    in_axes: &[Option<i32>],
    out_axes: &[Option<i32>],
) -> Result<Vec<Array>> {
    let in_axes: Vec<Option<i32>> = if in_axes.is_empty() {
        vec![Some(0); inputs.len()]
    } else {
        in_axes.to_vec()
    };
    if in_axes.len() != inputs.len() {
        return Err(value_err(
            "vmap",
            format!("Got {} in_axes for {} inputs.", in_axes.len(), inputs.len()),
        ));
    }
    let mut batch: Option<i32> = None;
    let mut axes = Vec::with_capacity(inputs.len());
    for (x, ax) in inputs.iter().zip(&in_axes) {
        let Some(a) = *ax else {
            axes.push(None);
            continue;
        };
        let nd = x.ndim() as i32;
        let k = if a < 0 { a + nd } else { a };
        if k < 0 || k >= nd {
            return Err(axis_err(
                "vmap",
                format!(
                    "Invalid vectorization axis {a} for array with shape {}.",
                    fmt_shape(x.shape())
                ),
            ));
        }
        let n = x.shape()[k as usize];
        match batch {
            Some(b) if b != n => {
                return Err(value_err(
                    "vmap",
                    format!("Inconsistent axis sizes: {b} and {n}."),
                ));
            }
            _ => batch = Some(n),
        }
        axes.push(Some(k as usize));
    }
    let Some(b) = batch else {
        return Err(value_err(
            "vmap",
            "At least one of in_axes must be non-None.",
        ));
    };
    let t = Tracing::start();
    let mut map: HashMap<u64, (Array, Option<usize>)> = HashMap::new();
    let mut leaves = HashSet::new();
    let traced: Vec<Array> = inputs
        .iter()
        .zip(&axes)
        .map(|(x, ax)| match ax {
            None => x.clone(),
            Some(k) => {
                let mut shape = x.shape().to_vec();
                shape.remove(*k);
                let p = t.leaf(shape, x, Primitive::Full(0.0), vec![]);
                leaves.insert(p.0.id);
                map.insert(p.0.id, (x.clone(), Some(*k)));
                p
            }
        })
        .collect();
    let outs = f(&traced)?;
    let out_axes: Vec<Option<i32>> = if out_axes.is_empty() {
        vec![Some(0); outs.len()]
    } else {
        out_axes.to_vec()
    };
    if out_axes.len() != outs.len() {
        return Err(value_err(
            "vmap",
            format!(
                "Got {} out_axes for {} outputs.",
                out_axes.len(),
                outs.len()
            ),
        ));
    }
    let mut custom_done: HashMap<usize, (Vec<Array>, Vec<Option<i32>>)> = HashMap::new();
    for a in tape(&outs, &leaves) {
        let ins: Vec<(Array, Option<usize>)> = followed_inputs(&a)
            .into_iter()
            .map(|i| map.get(&i.0.id).cloned().unwrap_or((i, None)))
            .collect();
        let r = if let Primitive::Custom { call, index } = &a.0.prim {
            if let std::collections::hash_map::Entry::Vacant(e) = custom_done.entry(call.key()) {
                let xs: Vec<Array> = ins.iter().map(|p| p.0.clone()).collect();
                let ax: Vec<Option<i32>> = ins.iter().map(|p| p.1.map(|k| k as i32)).collect();
                e.insert(custom::vmap(&call.0, &xs, &ax)?);
            }
            let (o, oa) = &custom_done[&call.key()];
            let arr = o.get(*index).cloned().ok_or_else(|| {
                value_err(
                    "vmap",
                    "[custom_function] The vmap rule returned too few outputs.",
                )
            })?;
            let ax = match oa.get(*index).copied().flatten() {
                Some(k) if k < 0 => Some((k + arr.ndim() as i32) as usize),
                k => k.map(|k| k as usize),
            };
            (arr, ax)
        } else {
            vmap_rule(&a, &ins, b)?
        };
        map.insert(a.0.id, r);
    }
    outs.iter()
        .zip(&out_axes)
        .map(|(o, oa)| {
            let (arr, ax) = map.get(&o.0.id).cloned().unwrap_or((o.clone(), None));
            let s = o.stream();
            match (oa, ax) {
                (None, None) => Ok(arr),
                (None, Some(_)) => Err(value_err(
                    "vmap",
                    "An output that depends on the mapped inputs needs an out_axis (got None).",
                )),
                (Some(d), ax) => {
                    let nd = o.ndim() as i32 + 1;
                    let k = if *d < 0 { d + nd } else { *d };
                    if k < 0 || k >= nd {
                        return Err(axis_err(
                            "vmap",
                            format!(
                                "Invalid out axis {d} for an output of shape {}.",
                                fmt_shape(o.shape())
                            ),
                        ));
                    }
                    match ax {
                        Some(a) => mx::moveaxis(&arr, a as i32, k, s),
                        None => {
                            let e = mx::expand_dims(&arr, &[k], s)?;
                            let mut shape = e.shape().to_vec();
                            shape[k as usize] = b;
                            mx::broadcast_to(&e, &shape, s)
                        }
                    }
                }
            }
        })
        .collect()
}

/// `x` with its batch axis (if any) first; an unbatched `x` is broadcast to batch size `b`.
fn front(x: &Array, ax: Option<usize>, b: i32, s: crate::Stream) -> Result<Array> {
    match ax {
        Some(0) => Ok(x.clone()),
        Some(a) => mx::moveaxis(x, a as i32, 0, s),
        None => {
            let e = mx::expand_dims(x, &[0], s)?;
            let mut shape = e.shape().to_vec();
            shape[0] = b;
            mx::broadcast_to(&e, &shape, s)
        }
    }
}

/// The batched node shape: `[b] + out.shape`.
fn batched_shape(out: &Array, b: i32) -> Vec<i32> {
    std::iter::once(b)
        .chain(out.shape().iter().copied())
        .collect()
}

/// Every primitive's vmap: the batched output and where its batch axis is.
pub(crate) fn vmap_rule(
    out: &Array,
    ins: &[(Array, Option<usize>)],
    b: i32,
) -> Result<(Array, Option<usize>)> {
    let s = out.stream();
    let dt = out.dtype();
    let prim = out.0.prim.clone();
    let bshape = batched_shape(out, b);
    let fronts = || {
        ins.iter()
            .map(|(x, a)| front(x, *a, b, s))
            .collect::<Result<Vec<_>>>()
    };
    let shifted = |v: &[usize]| v.iter().map(|&a| a + 1).collect::<Vec<_>>();
    let batched =
        |p: Primitive, inputs: Vec<Array>| Ok((node(bshape.clone(), dt, s, p, inputs)?, Some(0)));
    let idx_batched = ins.get(1).is_some_and(|p| p.1.is_some());
    match &prim {
        Primitive::Constant | Primitive::Full(_) | Primitive::Arange { .. } => {
            Err(Error::Backend {
                op: "vmap",
                msg: "invariant: a node without inputs reached the vmap rules".into(),
            })
        }
        // Elementwise in one input: the batch axis stays where it is.
        Primitive::Unary(_) | Primitive::AsType | Primitive::Copy | Primitive::StopGradient => {
            let (x, ax) = &ins[0];
            Ok((node(x.shape().to_vec(), dt, s, prim, vec![x.clone()])?, *ax))
        }
        Primitive::Binary(_)
        | Primitive::Where
        | Primitive::Matmul
        | Primitive::Reshape
        | Primitive::ArgSort
        | Primitive::Sort
        | Primitive::Scan { .. }
        | Primitive::Softmax => batched(prim.clone(), fronts()?),
        Primitive::Concatenate { axis } => {
            batched(Primitive::Concatenate { axis: axis + 1 }, fronts()?)
        }
        Primitive::Convolution(p) => {
            super::conv_rules::vmap(p, (&ins[0].0, ins[0].1), (&ins[1].0, ins[1].1), s)
        }
        Primitive::Reduce { op, axes } => batched(
            Primitive::Reduce {
                op: *op,
                axes: shifted(axes),
            },
            fronts()?,
        ),
        Primitive::ArgReduce { op, axis } => batched(
            Primitive::ArgReduce {
                op: *op,
                axis: axis + 1,
            },
            fronts()?,
        ),
        Primitive::Transpose(perm) => {
            let p = std::iter::once(0)
                .chain(perm.iter().map(|&a| a + 1))
                .collect();
            batched(Primitive::Transpose(p), fronts()?)
        }
        Primitive::Broadcast => {
            let x = front(&ins[0].0, ins[0].1, b, s)?;
            let pad = out.ndim() + 1 - x.ndim();
            let mut shape = vec![b];
            shape.extend(std::iter::repeat_n(1, pad));
            shape.extend_from_slice(&x.shape()[1..]);
            batched(Primitive::Broadcast, vec![mx::reshape(&x, &shape, s)?])
        }
        Primitive::Slice { start, step } => {
            let start = std::iter::once(0).chain(start.iter().copied()).collect();
            let step = std::iter::once(1).chain(step.iter().copied()).collect();
            batched(Primitive::Slice { start, step }, fronts()?)
        }
        Primitive::Take { axis } if !idx_batched => {
            let a = front(&ins[0].0, ins[0].1, b, s)?;
            batched(
                Primitive::Take { axis: axis + 1 },
                vec![a, ins[1].0.clone()],
            )
        }
        Primitive::Gather { axes, slice_sizes } if !idx_batched => {
            let a = front(&ins[0].0, ins[0].1, b, s)?;
            let idx = ins[1].0.clone();
            let k = idx.ndim() - 1;
            let mut shape = idx.shape()[1..].to_vec();
            shape.push(b);
            shape.extend_from_slice(slice_sizes);
            let ss = std::iter::once(b)
                .chain(slice_sizes.iter().copied())
                .collect();
            let p = Primitive::Gather {
                axes: shifted(axes),
                slice_sizes: ss,
            };
            Ok((node(shape, dt, s, p, vec![a, idx])?, Some(k)))
        }
        Primitive::Scatter { op, axes } if !idx_batched => {
            let a = front(&ins[0].0, ins[0].1, b, s)?;
            let idx = ins[1].0.clone();
            let k = idx.ndim() - 1;
            let (u, uax) = &ins[2];
            let upd = match uax {
                Some(ax) => mx::moveaxis(u, *ax as i32, k as i32, s)?,
                None => {
                    let e = mx::expand_dims(u, &[k as i32], s)?;
                    let mut shape = e.shape().to_vec();
                    shape[k] = b;
                    mx::broadcast_to(&e, &shape, s)?
                }
            };
            batched(
                Primitive::Scatter {
                    op: *op,
                    axes: shifted(axes),
                },
                vec![a, idx, upd],
            )
        }
        Primitive::Take { axis } => {
            // Batched indices: a gather whose first index runs over the batch.
            let a = front(&ins[0].0, ins[0].1, b, s)?;
            let idx = mx::astype(&front(&ins[1].0, ins[1].1, b, s)?, crate::Dtype::Int32, s)?;
            let n = idx.shape()[1];
            let rows = batch_rows(b, idx.shape(), s)?;
            let stacked = mx::stack(&[&rows, &idx], 0, s)?;
            let mut slice: Vec<i32> = a.shape().to_vec();
            slice[0] = 1;
            slice[axis + 1] = 1;
            let p = Primitive::Gather {
                axes: vec![0, axis + 1],
                slice_sizes: slice.clone(),
            };
            let mut gshape = vec![b, n];
            gshape.extend_from_slice(&slice);
            let g = node(gshape, dt, s, p, vec![a.clone(), stacked])?;
            let mut flat = vec![b, n];
            flat.extend(
                a.shape()[1..]
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| *k != *axis)
                    .map(|(_, &d)| d),
            );
            let r = mx::reshape(&g, &flat, s)?;
            Ok((mx::moveaxis(&r, 1, *axis as i32 + 1, s)?, Some(0)))
        }
        Primitive::Gather { axes, slice_sizes } => {
            let a = front(&ins[0].0, ins[0].1, b, s)?;
            let (idx, iax) = &ins[1];
            let idx = mx::astype(idx, crate::Dtype::Int32, s)?;
            let idx = match iax {
                Some(k) => mx::moveaxis(&idx, *k as i32, 1, s)?,
                None => unreachable_unbatched()?,
            };
            let rows = batch_rows(b, &idx.shape()[1..], s)?;
            let rows = mx::expand_dims(&rows, &[0], s)?;
            let stacked = mx::concatenate(&[&rows, &idx], 0, s)?;
            let ax = std::iter::once(0)
                .chain(axes.iter().map(|&a| a + 1))
                .collect();
            let ss: Vec<i32> = std::iter::once(1)
                .chain(slice_sizes.iter().copied())
                .collect();
            let mut gshape = idx.shape()[1..].to_vec();
            let lead = gshape.len();
            gshape.extend_from_slice(&ss);
            let g = node(
                gshape.clone(),
                dt,
                s,
                Primitive::Gather {
                    axes: ax,
                    slice_sizes: ss,
                },
                vec![a, stacked],
            )?;
            gshape.remove(lead);
            Ok((mx::reshape(&g, &gshape, s)?, Some(0)))
        }
        Primitive::Collective { op, group } => match ins.first() {
            Some((x, Some(ax))) => super::collective_rules::vmap(*op, group, out, x, *ax),
            Some((_, None)) | None => Err(Error::Backend {
                op: "vmap",
                msg: "invariant: an unbatched collective reached the vmap rules".into(),
            }),
        },
        Primitive::Scatter { .. }
        | Primitive::RandomBits { .. }
        | Primitive::AsStrided { .. }
        | Primitive::SearchSorted { .. } => per_example(out, ins, b),
        Primitive::RmsNorm { .. }
        | Primitive::LayerNorm { .. }
        | Primitive::Rope { .. }
        | Primitive::Attention { .. } => Ok((
            crate::fast::rules::vmap(&prim, out, ins, b, |x, a| front(x, a, b, s))?,
            Some(0),
        )),
        Primitive::Fused(expr) => {
            let xs = ins
                .iter()
                .map(|(a, ax)| front(a, *ax, b, s))
                .collect::<Result<Vec<_>>>()?;
            Ok((
                crate::compile::rules::fused_node(expr, &batched_shape(out, b), xs, s)?,
                Some(0),
            ))
        }
        Primitive::FusedReduce(red) => {
            let xs = ins
                .iter()
                .map(|(a, ax)| front(a, *ax, b, s))
                .collect::<Result<Vec<_>>>()?;
            Ok((
                crate::compile::rules::vmap_reduction(red, out, &xs)?,
                Some(0),
            ))
        }
        Primitive::CustomKernel { launch, .. } => Err(crate::fast::kernel::no_rule("vmap", launch)),
        Primitive::Custom { .. } => Err(Error::Backend {
            op: "vmap",
            msg: "invariant: custom functions are mapped by the walk".into(),
        }),
    }
}

/// Int32 batch positions `0..b` along the first axis of an array of `shape` (`shape[0] == b`).
fn batch_rows(b: i32, shape: &[i32], s: crate::Stream) -> Result<Array> {
    let mut col = vec![1; shape.len()];
    col[0] = b;
    let r = mx::reshape(
        &mx::arange(0.0, b as f64, 1.0, crate::Dtype::Int32, s)?,
        &col,
        s,
    )?;
    mx::broadcast_to(&r, shape, s)
}

fn unreachable_unbatched() -> Result<Array> {
    Err(Error::Backend {
        op: "vmap",
        msg: "invariant: unbatched gather indices are handled by the direct rule".into(),
    })
}

/// Runs the primitive once per batch element and stacks the results on axis 0.
fn per_example(
    out: &Array,
    ins: &[(Array, Option<usize>)],
    b: i32,
) -> Result<(Array, Option<usize>)> {
    let s = out.stream();
    if b == 0 {
        return Ok((mx::zeros(&batched_shape(out, 0), out.dtype(), s)?, Some(0)));
    }
    let mut results = Vec::with_capacity(b as usize);
    for i in 0..b {
        let xs = ins
            .iter()
            .map(|(x, ax)| match ax {
                Some(a) => mx::take(x, &Array::scalar(i), *a as i32, s),
                None => Ok(x.clone()),
            })
            .collect::<Result<Vec<_>>>()?;
        results.push(node(
            out.shape().to_vec(),
            out.dtype(),
            s,
            out.0.prim.clone(),
            xs,
        )?);
    }
    let refs: Vec<&Array> = results.iter().collect();
    Ok((mx::stack(&refs, 0, s)?, Some(0)))
}
