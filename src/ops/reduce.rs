//! Reductions: sum, prod, max, min, all, any over any axes (an empty axis list means all axes),
//! and argmax/argmin along one axis. Reduced axes are kept as size 1 in the node and dropped
//! afterwards by a reshape unless `keepdims`. The statistics built on them (mean, var, std,
//! median) live in `composite.rs`.

use super::{OpResult, cast_to, node};
use crate::array::Array;
use crate::dtype::{Domain, Dtype};
use crate::error::value_err;
use crate::primitive::{ArgReduceOp, Primitive, ReduceOp};
use crate::shape::{normalize_axes, normalize_axis};
use crate::stream::{Stream, StreamOrDevice};

pub(crate) fn finish(r: Array, axes: &[usize], keepdims: bool, st: Stream) -> OpResult {
    if keepdims {
        return Ok(r);
    }
    let shape: Vec<i32> = r
        .shape()
        .iter()
        .enumerate()
        .filter(|(i, _)| !axes.contains(i))
        .map(|(_, &d)| d)
        .collect();
    super::shape::reshape(&r, &shape, st)
}

pub(crate) fn resolve_axes(
    op: &'static str,
    a: &Array,
    axes: &[i32],
) -> crate::error::Result<Vec<usize>> {
    if axes.is_empty() {
        Ok((0..a.ndim()).collect())
    } else {
        normalize_axes(op, axes, a.ndim())
    }
}

pub(crate) fn reduce_op(
    op: ReduceOp,
    a: &Array,
    axes: &[i32],
    keepdims: bool,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve(op.name())?;
    let ax = resolve_axes(op.name(), a, axes)?;
    // MLX's output dtypes: sums and products of bool/small ints widen; max/min of bool is any/all.
    let (op, dt) = match (op, a.dtype()) {
        (ReduceOp::All | ReduceOp::Any, _) => (op, Dtype::Bool),
        (ReduceOp::Sum | ReduceOp::Prod, Dtype::Bool) => (op, Dtype::Int32),
        (ReduceOp::Sum | ReduceOp::Prod, Dtype::Uint8) => (op, Dtype::Uint32),
        (ReduceOp::Max, Dtype::Bool) => (ReduceOp::Any, Dtype::Bool),
        (ReduceOp::Min, Dtype::Bool) => (ReduceOp::All, Dtype::Bool),
        (_, d) => (op, d),
    };
    if matches!(op, ReduceOp::Max | ReduceOp::Min)
        && a.size() == 0
        && let Some(&bad) = ax.iter().find(|&&i| a.shape()[i] == 0)
    {
        return Err(value_err(
            op.name(),
            format!("Cannot {} reduce over axis {bad} with size 0.", op.name()),
        ));
    }
    let x = cast_to(a, dt, st);
    let mut shape = a.shape().to_vec();
    for &i in &ax {
        shape[i] = 1;
    }
    let r = node(
        shape,
        dt,
        st,
        Primitive::Reduce {
            op,
            axes: ax.clone(),
        },
        vec![x],
    )?;
    finish(r, &ax, keepdims, st)
}

macro_rules! reduce_fns {
    ($($(#[$doc:meta])* $name:ident => $op:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name(a: &Array, axes: &[i32], keepdims: bool, s: impl Into<StreamOrDevice>) -> OpResult {
            reduce_op(ReduceOp::$op, a, axes, keepdims, s)
        }
    )*};
}

reduce_fns! {
    /// Sum over `axes` (all axes when empty). Bool sums to int32, uint8 to uint32.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2]);
    /// assert_eq!(wmx::sum(&a, &[0], false, None).unwrap().to_vec::<f32>().unwrap(), vec![4.0, 6.0]);
    /// assert_eq!(wmx::sum(&a, &[], false, None).unwrap().item::<f32>().unwrap(), 10.0);
    /// ```
    sum => Sum;
    /// Product over `axes` (all when empty).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1i32, 2, 3, 4], &[2, 2]);
    /// assert_eq!(wmx::prod(&a, &[1], true, None).unwrap().to_vec::<i32>().unwrap(), vec![2, 12]);
    /// ```
    prod => Prod;
    /// Maximum over `axes` (all when empty); NaN propagates; empty reductions are an error.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1i32, 7, 3, 4], &[2, 2]);
    /// assert_eq!(wmx::max(&a, &[1], false, None).unwrap().to_vec::<i32>().unwrap(), vec![7, 4]);
    /// ```
    max => Max;
    /// Minimum over `axes` (all when empty).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1i32, 7, 3, 4], &[2, 2]);
    /// assert_eq!(wmx::min(&a, &[0], false, None).unwrap().to_vec::<i32>().unwrap(), vec![1, 4]);
    /// ```
    min => Min;
    /// True where every element over `axes` is nonzero.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1i32, 0, 3, 4], &[2, 2]);
    /// assert_eq!(wmx::all(&a, &[1], false, None).unwrap().to_vec::<bool>().unwrap(), vec![false, true]);
    /// ```
    all => All;
    /// True where some element over `axes` is nonzero.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[0i32, 0, 3, 0], &[2, 2]);
    /// assert_eq!(wmx::any(&a, &[1], false, None).unwrap().to_vec::<bool>().unwrap(), vec![false, true]);
    /// ```
    any => Any;
}

fn arg_op(
    op: ArgReduceOp,
    a: &Array,
    axis: i32,
    keepdims: bool,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve(op.name())?;
    let ax = normalize_axis(op.name(), axis, a.ndim())?;
    if a.shape()[ax] == 0 {
        return Err(value_err(
            op.name(),
            format!(
                "Cannot {} reduce zero size axis {axis} of shape {}.",
                op.name(),
                crate::shape::fmt_shape(a.shape())
            ),
        ));
    }
    let x = if a.dtype().domain() == Domain::Bool {
        cast_to(a, Dtype::Uint8, st)
    } else {
        a.clone()
    };
    let mut shape = a.shape().to_vec();
    shape[ax] = 1;
    let r = node(
        shape,
        Dtype::Uint32,
        st,
        Primitive::ArgReduce { op, axis: ax },
        vec![x],
    )?;
    finish(r, &[ax], keepdims, st)
}

/// Index of the maximum along `axis` (first occurrence), as uint32.
///
/// ```
/// let a = wmx::Array::from_slice(&[1.0f32, 9.0, 9.0, 2.0], &[4]);
/// assert_eq!(wmx::argmax(&a, 0, false, None).unwrap().item::<u32>().unwrap(), 1);
/// ```
pub fn argmax(a: &Array, axis: i32, keepdims: bool, s: impl Into<StreamOrDevice>) -> OpResult {
    arg_op(ArgReduceOp::ArgMax, a, axis, keepdims, s)
}

/// Index of the minimum along `axis` (first occurrence), as uint32.
///
/// ```
/// let a = wmx::Array::from_slice(&[3i32, 1, 0, 5], &[2, 2]);
/// assert_eq!(wmx::argmin(&a, 1, false, None).unwrap().to_vec::<u32>().unwrap(), vec![1, 0]);
/// ```
pub fn argmin(a: &Array, axis: i32, keepdims: bool, s: impl Into<StreamOrDevice>) -> OpResult {
    arg_op(ArgReduceOp::ArgMin, a, axis, keepdims, s)
}
