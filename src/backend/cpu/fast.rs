//! CPU kernels of the `fast` primitives: RMS and layer norm (one rayon task per row), rope (per
//! row) and attention (per query row: its scores, a stable softmax and the weighted values).
//! Everything is computed in f32 (f64 for the norms' sums) and rounded once to the output dtype.

use super::copy::{as_f32, from_f32};
use super::host_of;
use crate::backend::Data;
use crate::backend::host::HostVec;
use crate::dtype::Dtype;
use crate::error::{Error, Result};
use rayon::prelude::*;

/// A view's values as a dense f32 vector.
fn dense_f32(shape: &[i32], d: &Data) -> Result<Vec<f32>> {
    Ok(as_f32(host_of("cpu", d)?, shape, &d.strides, d.offset).into_owned())
}

fn row_len(shape: &[i32]) -> usize {
    shape.last().copied().unwrap_or(1).max(1) as usize
}

/// RMS norm (`bias` None, `center` false) or layer norm (`center` true) of the rows of `x`.
pub(crate) fn norm(
    inputs: &[(Vec<i32>, Data)],
    has_weight: bool,
    has_bias: bool,
    center: bool,
    eps: f32,
    dt: Dtype,
) -> Result<HostVec> {
    let (shape, x) = &inputs[0];
    let x = dense_f32(shape, x)?;
    let param = |i: usize| -> Result<Vec<f32>> {
        let (s, d) = &inputs[i];
        dense_f32(s, d)
    };
    let w = if has_weight { Some(param(1)?) } else { None };
    let b = if has_bias {
        Some(param(1 + has_weight as usize)?)
    } else {
        None
    };
    let len = row_len(shape);
    let mut out = vec![0f32; x.len()];
    out.par_chunks_mut(len)
        .zip(x.par_chunks(len))
        .for_each(|(o, row)| {
            let n = row.len() as f64;
            let mean = if center {
                row.iter().map(|&v| v as f64).sum::<f64>() / n
            } else {
                0.0
            };
            let ms = row
                .iter()
                .map(|&v| (v as f64 - mean) * (v as f64 - mean))
                .sum::<f64>()
                / n;
            let inv = 1.0 / (ms as f32 + eps).sqrt();
            let mean = mean as f32;
            for (j, (y, &v)) in o.iter_mut().zip(row).enumerate() {
                let mut r = (v - mean) * inv;
                if let Some(w) = &w {
                    r *= w[j];
                }
                if let Some(b) = &b {
                    r += b[j];
                }
                *y = r;
            }
        });
    Ok(from_f32(dt, out))
}

/// Rotary embedding of the rows of `x` (see `Primitive::Rope`); `freqs` replaces `base`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn rope(
    inputs: &[(Vec<i32>, Data)],
    dims: i32,
    traditional: bool,
    base: f32,
    scale: f32,
    offset: i32,
    inverse: bool,
    dt: Dtype,
) -> Result<HostVec> {
    let (shape, x) = &inputs[0];
    let x = dense_f32(shape, x)?;
    let half = (dims / 2) as usize;
    let inv_freq: Vec<f32> = match inputs.get(1) {
        Some((s, f)) => dense_f32(s, f)?.iter().map(|&f| 1.0 / f).collect(),
        None => {
            let step = base.ln() / half as f32;
            (0..half).map(|i| (-(i as f32) * step).exp()).collect()
        }
    };
    let len = row_len(shape);
    let t_len = shape[shape.len() - 2].max(1) as usize;
    let mut out = x.clone();
    out.par_chunks_mut(len)
        .zip(x.par_chunks(len))
        .enumerate()
        .for_each(|(r, (o, row))| {
            let pos = ((r % t_len) as f32 + offset as f32) * scale;
            for (i, &f) in inv_freq.iter().enumerate() {
                let theta = pos * f;
                let (s, c) = theta.sin_cos();
                let (a, b) = if traditional {
                    (2 * i, 2 * i + 1)
                } else {
                    (i, i + half)
                };
                let (x1, x2) = (row[a], row[b]);
                if inverse {
                    o[a] = x1 * c + x2 * s;
                    o[b] = x2 * c - x1 * s;
                } else {
                    o[a] = x1 * c - x2 * s;
                    o[b] = x1 * s + x2 * c;
                }
            }
        });
    Ok(from_f32(dt, out))
}

/// Scaled dot-product attention (see `Primitive::Attention`): one task per query row.
pub(crate) fn attention(
    inputs: &[(Vec<i32>, Data)],
    scale: f32,
    causal: bool,
    dt: Dtype,
) -> Result<HostVec> {
    let (qs, q) = &inputs[0];
    let (ks, k) = &inputs[1];
    let (vs, v) = &inputs[2];
    let (q, k, v) = (dense_f32(qs, q)?, dense_f32(ks, k)?, dense_f32(vs, v)?);
    let (hq, lq, d) = (qs[1] as usize, qs[2] as usize, qs[3] as usize);
    let (hk, lk, dv) = (ks[1] as usize, ks[2] as usize, vs[3] as usize);
    let rep = hq / hk.max(1);
    // The mask is an f32 view (broadcast strides) of shape [B, Hq, Lq, Lk].
    let mask = match inputs.get(3) {
        Some((_, m)) => match host_of("cpu", m)? {
            HostVec::F32(vals) => Some((vals, &m.strides, m.offset)),
            other => {
                return Err(Error::Backend {
                    op: "scaled_dot_product_attention",
                    msg: format!("invariant: mask of {:?}, not f32", other.dtype()),
                });
            }
        },
        None => None,
    };
    let shift = lk as i64 - lq as i64;
    let mut out = vec![0f32; q.len() / d.max(1) * dv];
    out.par_chunks_mut(dv.max(1)).enumerate().for_each_init(
        || vec![0f32; lk],
        |scores, (r, o)| {
            let (bh, i) = (r / lq, r % lq);
            let (b, h) = (bh / hq, bh % hq);
            let kv = (b * hk + h / rep) * lk;
            let qrow = &q[r * d..(r + 1) * d];
            for (j, sc) in scores.iter_mut().enumerate() {
                let krow = &k[(kv + j) * d..(kv + j + 1) * d];
                let mut acc = 0f32;
                for (a, bb) in qrow.iter().zip(krow) {
                    acc += a * bb;
                }
                let mut s = acc * scale;
                if let Some((m, st, off)) = &mask {
                    let at = *off as isize
                        + b as isize * st[0]
                        + h as isize * st[1]
                        + i as isize * st[2]
                        + j as isize * st[3];
                    s += m[at as usize];
                }
                if causal && j as i64 > i as i64 + shift {
                    s = f32::MIN;
                }
                *sc = s;
            }
            let m = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let mut total = 0f32;
            for sc in scores.iter_mut() {
                *sc = (*sc - m).exp();
                total += *sc;
            }
            let inv = 1.0 / total;
            o.iter_mut().for_each(|y| *y = 0.0);
            for (j, &p) in scores.iter().enumerate() {
                let vrow = &v[(kv + j) * dv..(kv + j + 1) * dv];
                for (y, &vv) in o.iter_mut().zip(vrow) {
                    *y += p * vv;
                }
            }
            o.iter_mut().for_each(|y| *y *= inv);
        },
    );
    Ok(from_f32(dt, out))
}
