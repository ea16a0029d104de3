//! Transform rules of the `fast` primitives (called from the exhaustive matches in
//! transforms/{vjp,jvp,vmap}.rs). The norms' vjps are MLX's closed forms, computed in f32; rope's
//! vjp is rope with the inverse rotation (rope is linear in `x`, so its jvp is rope of the
//! tangent); attention's vjp and the norms' and attention's jvps differentiate the composite
//! (recomputing from the inputs, as MLX does). vmap folds the batch axis into the leading
//! dimensions every `fast` op accepts.

use super::composite;
use crate as mx;
use crate::array::Array;
use crate::dtype::Dtype;
use crate::error::{Error, Result};
use crate::ops::node;
use crate::primitive::Primitive;
use crate::stream::Stream;

fn f32_of(a: &Array, s: Stream) -> Array {
    crate::ops::cast_to(a, Dtype::Float32, s)
}

/// Sum over every axis but the last (a parameter's gradient from per-row terms).
fn sum_rows(a: &Array, s: Stream) -> Result<Array> {
    let axes: Vec<i32> = (0..a.ndim() as i32 - 1).collect();
    mx::sum(a, &axes, false, s)
}

fn bad(op: &'static str) -> Error {
    Error::Backend {
        op,
        msg: "invariant: a non-fast primitive reached the fast rules".into(),
    }
}

/// The composite of a norm primitive over `inputs` (x, then weight and bias when present).
fn norm_composite(prim: &Primitive, inputs: &[Array], s: Stream) -> Result<Array> {
    match prim {
        Primitive::RmsNorm { eps, has_weight } => {
            composite::rms_norm(&inputs[0], has_weight.then(|| &inputs[1]), *eps, s)
        }
        Primitive::LayerNorm {
            eps,
            has_weight,
            has_bias,
        } => {
            let w = has_weight.then(|| &inputs[1]);
            let b = has_bias.then(|| &inputs[1 + *has_weight as usize]);
            composite::layer_norm(&inputs[0], w, b, *eps, s)
        }
        Primitive::Attention { scale, causal } => composite::attention(
            &inputs[0],
            &inputs[1],
            &inputs[2],
            *scale,
            *causal,
            inputs.get(3),
            s,
        ),
        other => Err(bad(other.name())),
    }
}

/// Cotangents of a `fast` primitive's inputs.
pub(crate) fn vjp(
    prim: &Primitive,
    inputs: &[Array],
    cot: &Array,
    s: Stream,
) -> Result<Vec<Option<Array>>> {
    match prim {
        Primitive::RmsNorm { eps, has_weight } => {
            let x = f32_of(&inputs[0], s);
            let g = f32_of(cot, s);
            let n = mx::rsqrt(
                &mx::add(&mx::mean(&mx::square(&x, s)?, &[-1], true, s)?, *eps, s)?,
                s,
            )?;
            let gw = match has_weight {
                true => mx::multiply(&g, f32_of(&inputs[1], s), s)?,
                false => g.clone(),
            };
            let t = mx::mean(&mx::multiply(&gw, &x, s)?, &[-1], true, s)?;
            let n3 = mx::multiply(&mx::square(&n, s)?, &n, s)?;
            let dx = mx::subtract(
                &mx::multiply(&gw, &n, s)?,
                &mx::multiply(&mx::multiply(&x, &t, s)?, &n3, s)?,
                s,
            )?;
            let mut out = vec![Some(crate::ops::cast_to(&dx, inputs[0].dtype(), s))];
            if *has_weight {
                let dw = sum_rows(&mx::multiply(&g, &mx::multiply(&x, &n, s)?, s)?, s)?;
                out.push(Some(crate::ops::cast_to(&dw, inputs[1].dtype(), s)));
            }
            Ok(out)
        }
        Primitive::LayerNorm {
            eps,
            has_weight,
            has_bias,
        } => {
            let x = f32_of(&inputs[0], s);
            let g = f32_of(cot, s);
            let mu = mx::mean(&x, &[-1], true, s)?;
            let xc = mx::subtract(&x, &mu, s)?;
            let var = mx::mean(&mx::square(&xc, s)?, &[-1], true, s)?;
            let n = mx::rsqrt(&mx::add(&var, *eps, s)?, s)?;
            let n3 = mx::multiply(&mx::square(&n, s)?, &n, s)?;
            let wg = match has_weight {
                true => mx::multiply(&g, f32_of(&inputs[1], s), s)?,
                false => g.clone(),
            };
            let mean_wg = mx::mean(&wg, &[-1], true, s)?;
            let mean_wgxc = mx::mean(&mx::multiply(&wg, &xc, s)?, &[-1], true, s)?;
            let dx = mx::subtract(
                &mx::multiply(&mx::subtract(&wg, &mean_wg, s)?, &n, s)?,
                &mx::multiply(&mx::multiply(&xc, &mean_wgxc, s)?, &n3, s)?,
                s,
            )?;
            let mut out = vec![Some(crate::ops::cast_to(&dx, inputs[0].dtype(), s))];
            if *has_weight {
                let dw = sum_rows(&mx::multiply(&g, &mx::multiply(&xc, &n, s)?, s)?, s)?;
                out.push(Some(crate::ops::cast_to(&dw, inputs[1].dtype(), s)));
            }
            if *has_bias {
                let b = &inputs[1 + *has_weight as usize];
                out.push(Some(crate::ops::cast_to(&sum_rows(&g, s)?, b.dtype(), s)));
            }
            Ok(out)
        }
        Primitive::Rope {
            dims,
            traditional,
            base,
            scale,
            offset,
            inverse,
        } => {
            let mut ins = vec![cot.clone()];
            ins.extend(inputs.get(1).cloned());
            let inv = Primitive::Rope {
                dims: *dims,
                traditional: *traditional,
                base: *base,
                scale: *scale,
                offset: *offset,
                inverse: !inverse,
            };
            let dx = node(cot.shape().to_vec(), cot.dtype(), s, inv, ins)?;
            let mut out = vec![Some(dx)];
            // MLX does not differentiate with respect to the frequencies either.
            out.extend(inputs.get(1).map(|_| None));
            Ok(out)
        }
        Primitive::Attention { .. } => {
            let f = |p: &[Array]| Ok(vec![norm_composite(prim, p, s)?]);
            let (_, grads) = mx::vjp(f, inputs, std::slice::from_ref(cot))?;
            Ok(grads.into_iter().map(Some).collect())
        }
        other => Err(bad(other.name())),
    }
}

/// Tangent of a `fast` primitive's output given its inputs' tangents (`None` = zero).
pub(crate) fn jvp(
    prim: &Primitive,
    inputs: &[Array],
    ts: &[Option<Array>],
    s: Stream,
) -> Result<Option<Array>> {
    match prim {
        Primitive::Rope { .. } => {
            let Some(t) = &ts[0] else { return Ok(None) };
            let mut ins = vec![t.clone()];
            ins.extend(inputs.get(1).cloned());
            Ok(Some(node(
                t.shape().to_vec(),
                t.dtype(),
                s,
                prim.clone(),
                ins,
            )?))
        }
        Primitive::RmsNorm { .. } | Primitive::LayerNorm { .. } | Primitive::Attention { .. } => {
            let tangents = inputs
                .iter()
                .zip(ts)
                .map(|(x, t)| match t {
                    Some(t) => Ok(t.clone()),
                    None => mx::zeros_like(x, s),
                })
                .collect::<Result<Vec<_>>>()?;
            let f = |p: &[Array]| Ok(vec![norm_composite(prim, p, s)?]);
            let (_, mut t) = mx::jvp(f, inputs, &tangents)?;
            Ok(t.pop())
        }
        other => Err(bad(other.name())),
    }
}

/// The batched output of a `fast` primitive (batch axis first) from the batched inputs `ins`
/// (each with its batch axis, if any); `front` moves a batch axis first (or broadcasts).
pub(crate) fn vmap(
    prim: &Primitive,
    out: &Array,
    ins: &[(Array, Option<usize>)],
    b: i32,
    front: impl Fn(&Array, Option<usize>) -> Result<Array>,
) -> Result<Array> {
    let s = out.stream();
    let fronts = ins
        .iter()
        .map(|(a, ax)| front(a, *ax))
        .collect::<Result<Vec<_>>>()?;
    let unbatched: Vec<Array> = ins[1..].iter().map(|(a, _)| a.clone()).collect();
    let params_batched = ins[1..].iter().any(|(_, ax)| ax.is_some());
    let x = &fronts[0];
    let mut bshape = vec![b];
    bshape.extend_from_slice(out.shape());
    match prim {
        Primitive::RmsNorm { .. } | Primitive::LayerNorm { .. } if params_batched => {
            // Batched weights: [b, D] as [b, 1, .., 1, D] against x's [b, .., D].
            let mut ps = vec![x.clone()];
            for p in &fronts[1..] {
                let mut shape = vec![1; x.ndim()];
                shape[0] = b;
                shape[x.ndim() - 1] = p.shape()[1];
                ps.push(mx::reshape(p, &shape, s)?);
            }
            norm_composite(prim, &ps, s)
        }
        Primitive::RmsNorm { .. } | Primitive::LayerNorm { .. } => {
            // The weight and bias stay as they were (unbatched, 1-D).
            let mut ins = vec![x.clone()];
            ins.extend(unbatched.iter().cloned());
            node(bshape, out.dtype(), s, prim.clone(), ins)
        }
        Primitive::Rope { .. } if params_batched => {
            // Per-example frequencies: one rope per example, stacked.
            let parts = (0..b)
                .map(|i| {
                    let pick = |a: &Array| -> Result<Array> {
                        let taken = mx::slice(
                            a,
                            &std::iter::once(i)
                                .chain(vec![0; a.ndim() - 1])
                                .collect::<Vec<_>>(),
                            &std::iter::once(i + 1)
                                .chain(a.shape()[1..].iter().copied())
                                .collect::<Vec<_>>(),
                            &[],
                            s,
                        )?;
                        mx::squeeze(&taken, &[0], s)
                    };
                    node(
                        out.shape().to_vec(),
                        out.dtype(),
                        s,
                        prim.clone(),
                        vec![pick(x)?, pick(&fronts[1])?],
                    )
                })
                .collect::<Result<Vec<_>>>()?;
            mx::stack(&parts.iter().collect::<Vec<_>>(), 0, s)
        }
        Primitive::Rope { .. } => {
            let mut ins = vec![x.clone()];
            ins.extend(unbatched.iter().cloned());
            node(bshape, out.dtype(), s, prim.clone(), ins)
        }
        Primitive::Attention { scale, causal } => super::attention(
            &fronts[0],
            &fronts[1],
            &fronts[2],
            *scale,
            *causal,
            fronts.get(3),
            s,
        ),
        other => Err(bad(other.name())),
    }
}
