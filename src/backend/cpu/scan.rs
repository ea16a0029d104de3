//! CPU scans along the last axis (cumsum, cumprod, cummax, cummin, logcumsumexp): the view is
//! gathered dense in its compute type (f32, i32 or u32; bool as u32 0/1) and each row is scanned
//! serially on its own rayon task. Floats accumulate in f32 and round once to the output dtype.

use super::copy::{as_bool, as_f32, as_i32, as_u32, from_f32, from_i32, from_u32};
use crate::backend::Data;
use crate::backend::host::HostVec;
use crate::dtype::{Domain, Dtype};
use crate::error::Result;
use crate::primitive::{BinaryOp, BinaryScalar, ScanOp, logaddexp_f32};
use rayon::prelude::*;

/// Scans every row of `v` (rows of `len`) with `f` from `id`, in place semantics into a new vec.
fn scan_rows<T: Copy + Send + Sync>(
    v: &[T],
    len: usize,
    id: T,
    reverse: bool,
    inclusive: bool,
    f: impl Fn(T, T) -> T + Sync + Send,
) -> Vec<T> {
    let mut out = vec![id; v.len()];
    if len == 0 {
        return out;
    }
    let row = |(o, x): (&mut [T], &[T])| {
        let mut acc = id;
        let mut step = |j: usize| {
            if inclusive {
                acc = f(acc, x[j]);
                o[j] = acc;
            } else {
                o[j] = acc;
                acc = f(acc, x[j]);
            }
        };
        if reverse {
            (0..len).rev().for_each(&mut step);
        } else {
            (0..len).for_each(&mut step);
        }
    };
    if v.len() >= 1 << 15 {
        out.par_chunks_mut(len).zip(v.par_chunks(len)).for_each(row);
    } else {
        out.chunks_mut(len).zip(v.chunks(len)).for_each(row);
    }
    out
}

/// The combining function of `op` for a compute type, from the binary table.
fn combiner<T: BinaryScalar>(op: ScanOp) -> impl Fn(T, T) -> T + Sync + Send {
    let b = match op {
        ScanOp::Sum => BinaryOp::Add,
        ScanOp::Prod => BinaryOp::Multiply,
        ScanOp::Max => BinaryOp::Maximum,
        ScanOp::Min => BinaryOp::Minimum,
        // Float-only; handled before this is called.
        ScanOp::LogAddExp => BinaryOp::Add,
    };
    move |a, x| T::binary(b, a, x)
}

/// Scans `x` (of `shape`) along its last axis; the output (dtype `out`) is dense.
pub(crate) fn scan(
    op: ScanOp,
    reverse: bool,
    inclusive: bool,
    shape: &[i32],
    x: &Data,
    out: Dtype,
) -> Result<HostVec> {
    let h = super::host_of(op.name(), x)?;
    let len = shape.last().map_or(1, |&n| n as usize);
    let (st, off) = (&x.strides[..], x.offset);
    let dom = h.dtype().domain();
    let acc_dom = if dom == Domain::Bool {
        Domain::Uint
    } else {
        dom
    };
    let id = op.identity(acc_dom);
    Ok(match acc_dom {
        Domain::Float => {
            let v = as_f32(h, shape, st, off);
            let r = if op == ScanOp::LogAddExp {
                scan_rows(&v, len, id as f32, reverse, inclusive, logaddexp_f32)
            } else {
                scan_rows(&v, len, id as f32, reverse, inclusive, combiner(op))
            };
            from_f32(out, r)
        }
        Domain::Int => {
            let v = as_i32(h, shape, st, off);
            from_i32(
                out,
                scan_rows(&v, len, id as i32, reverse, inclusive, combiner(op)),
            )
        }
        Domain::Uint | Domain::Bool => {
            let v: Vec<u32> = if dom == Domain::Bool {
                as_bool(h, shape, st, off)
                    .into_iter()
                    .map(|b| b as u32)
                    .collect()
            } else {
                as_u32(h, shape, st, off).into_owned()
            };
            from_u32(
                out,
                scan_rows(&v, len, id as u32, reverse, inclusive, combiner(op)),
            )
        }
    })
}
