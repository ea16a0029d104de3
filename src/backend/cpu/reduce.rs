//! CPU reductions: reduce (sum, prod, max, min, all, any) over any axes and argmax/argmin along
//! one axis. The input view is permuted so reduced axes come last, gathered dense, and each output
//! row is folded on its own rayon task. Float sums accumulate in f64.

use super::copy::{as_bool, as_f32, as_i32, as_u32, from_f32, from_i32, from_u32};
use super::host_of;
use crate::backend::Data;
use crate::backend::host::HostVec;
use crate::dtype::{Domain, Dtype};
use crate::error::Result;
use crate::primitive::{ArgReduceOp, ReduceOp};
use rayon::prelude::*;

/// Shape and strides of the input with `axes` moved last; returns (shape, strides, n_out, rsize).
fn permuted(
    shape: &[i32],
    strides: &[isize],
    axes: &[usize],
) -> (Vec<i32>, Vec<isize>, usize, usize) {
    let mut order: Vec<usize> = (0..shape.len()).filter(|a| !axes.contains(a)).collect();
    let n_out: usize = order.iter().map(|&a| shape[a] as usize).product();
    order.extend_from_slice(axes);
    let rsize: usize = axes.iter().map(|&a| shape[a] as usize).product();
    (
        order.iter().map(|&a| shape[a]).collect(),
        order.iter().map(|&a| strides[a]).collect(),
        n_out,
        rsize,
    )
}

fn rows<T: Copy + Send + Sync, U: Send>(
    v: &[T],
    n_out: usize,
    rsize: usize,
    f: impl Fn(&[T]) -> U + Sync + Send,
) -> Vec<U> {
    if rsize == 0 {
        return (0..n_out).map(|_| f(&[])).collect();
    }
    v.par_chunks(rsize).map(f).collect()
}

/// Sum of f32 values: 16 independent f32 lanes per 4096-element block (vectorisable, like
/// NumPy's pairwise blocks), blocks added in f64; long rows split across threads.
fn sum_f32(row: &[f32]) -> f32 {
    fn block(c: &[f32]) -> f64 {
        let mut acc = [0f32; 16];
        let mut it = c.chunks_exact(16);
        for ch in &mut it {
            for (a, &x) in acc.iter_mut().zip(ch) {
                *a += x;
            }
        }
        let tail: f32 = it.remainder().iter().sum();
        acc.iter().map(|&a| a as f64).sum::<f64>() + tail as f64
    }
    let total: f64 = if row.len() >= 1 << 16 {
        row.par_chunks(1 << 16)
            .map(|c| c.chunks(4096).map(block).sum::<f64>())
            .sum()
    } else {
        row.chunks(4096).map(block).sum()
    };
    total as f32
}

/// Reduces `x` (of `shape`) over sorted `axes`; the output is dense with those axes kept as 1.
pub(crate) fn reduce(
    op: ReduceOp,
    shape: &[i32],
    x: &Data,
    axes: &[usize],
    out: Dtype,
) -> Result<HostVec> {
    let h = host_of("cpu", x)?;
    let (ps, pst, n_out, rsize) = permuted(shape, &x.strides, axes);
    let dom = h.dtype().domain();
    let id = op.identity(dom);
    Ok(match dom {
        Domain::Float => {
            let v = as_f32(h, &ps, &pst, x.offset);
            let r = rows(&v, n_out, rsize, |row| match op {
                ReduceOp::Sum => sum_f32(row),
                ReduceOp::Prod => row.iter().map(|&x| x as f64).product::<f64>() as f32,
                ReduceOp::Max => row.iter().fold(id as f32, |a, &b| {
                    if a.is_nan() || b.is_nan() {
                        f32::NAN
                    } else {
                        a.max(b)
                    }
                }),
                ReduceOp::Min => row.iter().fold(id as f32, |a, &b| {
                    if a.is_nan() || b.is_nan() {
                        f32::NAN
                    } else {
                        a.min(b)
                    }
                }),
                ReduceOp::All => row.iter().all(|&x| x != 0.0) as u8 as f32,
                ReduceOp::Any => row.iter().any(|&x| x != 0.0) as u8 as f32,
            });
            from_f32(out, r)
        }
        Domain::Int => {
            let v = as_i32(h, &ps, &pst, x.offset);
            let r = rows(&v, n_out, rsize, |row| match op {
                ReduceOp::Sum => row.iter().fold(0i32, |a, &b| a.wrapping_add(b)),
                ReduceOp::Prod => row.iter().fold(1i32, |a, &b| a.wrapping_mul(b)),
                ReduceOp::Max => row.iter().fold(i32::MIN, |a, &b| a.max(b)),
                ReduceOp::Min => row.iter().fold(i32::MAX, |a, &b| a.min(b)),
                ReduceOp::All => row.iter().all(|&x| x != 0) as i32,
                ReduceOp::Any => row.iter().any(|&x| x != 0) as i32,
            });
            from_i32(out, r)
        }
        Domain::Uint | Domain::Bool => {
            let v = if dom == Domain::Bool {
                as_bool(h, &ps, &pst, x.offset)
                    .into_iter()
                    .map(|b| b as u32)
                    .collect::<Vec<u32>>()
                    .into()
            } else {
                as_u32(h, &ps, &pst, x.offset)
            };
            let r = rows(&v, n_out, rsize, |row| match op {
                ReduceOp::Sum => row.iter().fold(0u32, |a, &b| a.wrapping_add(b)),
                ReduceOp::Prod => row.iter().fold(1u32, |a, &b| a.wrapping_mul(b)),
                ReduceOp::Max => row.iter().fold(0u32, |a, &b| a.max(b)),
                ReduceOp::Min => row.iter().fold(u32::MAX, |a, &b| a.min(b)),
                ReduceOp::All => row.iter().all(|&x| x != 0) as u32,
                ReduceOp::Any => row.iter().any(|&x| x != 0) as u32,
            });
            from_u32(out, r)
        }
    })
}

fn arg_row<T: Copy + PartialOrd>(row: &[T], max: bool, is_nan: impl Fn(T) -> bool) -> u32 {
    let mut best = 0usize;
    for (i, &x) in row.iter().enumerate().skip(1) {
        let b = row[best];
        if is_nan(b) {
            break;
        }
        if is_nan(x) || (max && x > b) || (!max && x < b) {
            best = i;
        }
    }
    best as u32
}

/// Index of the max/min along `axis` (first occurrence; NaN wins); output uint32, axis kept as 1.
pub(crate) fn arg_reduce(op: ArgReduceOp, shape: &[i32], x: &Data, axis: usize) -> Result<HostVec> {
    let h = host_of("cpu", x)?;
    let (ps, pst, n_out, rsize) = permuted(shape, &x.strides, &[axis]);
    let max = op == ArgReduceOp::ArgMax;
    let r = match h.dtype().domain() {
        Domain::Float => rows(&as_f32(h, &ps, &pst, x.offset), n_out, rsize, |r| {
            arg_row(r, max, f32::is_nan)
        }),
        Domain::Int => rows(&as_i32(h, &ps, &pst, x.offset), n_out, rsize, |r| {
            arg_row(r, max, |_| false)
        }),
        Domain::Uint | Domain::Bool => rows(&as_u32(h, &ps, &pst, x.offset), n_out, rsize, |r| {
            arg_row(r, max, |_| false)
        }),
    };
    Ok(HostVec::U32(r))
}

/// Softmax over the last axis of `x` (float), computed in f32 per row in parallel: max, then
/// `exp(x - max)` and its sum, then a scale by the reciprocal.
pub(crate) fn softmax_rows(shape: &[i32], x: &Data, dt: Dtype) -> Result<HostVec> {
    let v = as_f32(host_of("cpu", x)?, shape, &x.strides, x.offset);
    let len = shape.last().copied().unwrap_or(1).max(1) as usize;
    let mut out = vec![0f32; v.len()];
    out.par_chunks_mut(len)
        .zip(v.par_chunks(len))
        .for_each(|(o, row)| {
            let m = row.iter().fold(f32::NEG_INFINITY, |m, &a| {
                if a.is_nan() || m.is_nan() {
                    f32::NAN
                } else {
                    m.max(a)
                }
            });
            for (y, &a) in o.iter_mut().zip(row) {
                *y = (a - m).exp();
            }
            let inv = 1.0 / sum_f32(o);
            o.iter_mut().for_each(|y| *y *= inv);
        });
    Ok(from_f32(dt, out))
}
