//! Reductions: sum, prod, max, min, all, any over any axes (an empty axis list means all axes),
//! mean, and argmax/argmin along one axis. Reduced axes are kept as size 1 in the node and dropped
//! afterwards by a reshape unless `keepdims`.

use super::{OpResult, cast_to, node};
use crate::array::Array;
use crate::dtype::{Domain, Dtype};
use crate::error::value_err;
use crate::primitive::{ArgReduceOp, Primitive, ReduceOp};
use crate::shape::{normalize_axes, normalize_axis};
use crate::stream::{Stream, StreamOrDevice};

fn finish(r: Array, axes: &[usize], keepdims: bool, st: Stream) -> OpResult {
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

fn resolve_axes(op: &'static str, a: &Array, axes: &[i32]) -> crate::error::Result<Vec<usize>> {
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
    if matches!(op, ReduceOp::Max | ReduceOp::Min) && a.size() == 0 {
        if let Some(&bad) = ax.iter().find(|&&i| a.shape()[i] == 0) {
            return Err(value_err(
                op.name(),
                format!("Cannot {} reduce over axis {bad} with size 0.", op.name()),
            ));
        }
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
    );
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

/// Mean over `axes` (all when empty); integers average as float32.
///
/// ```
/// let a = wmx::Array::from_slice(&[1i32, 2, 3, 4], &[2, 2]);
/// assert_eq!(wmx::mean(&a, &[0], false, None).unwrap().to_vec::<f32>().unwrap(), vec![2.0, 3.0]);
/// ```
pub fn mean(a: &Array, axes: &[i32], keepdims: bool, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("mean")?;
    let ax = resolve_axes("mean", a, axes)?;
    let dt = if a.dtype().is_float() {
        a.dtype()
    } else {
        Dtype::Float32
    };
    let count: f64 = ax.iter().map(|&i| a.shape()[i] as f64).product();
    let total = sum(
        &cast_to(a, dt, st),
        &ax.iter().map(|&i| i as i32).collect::<Vec<_>>(),
        keepdims,
        st,
    )?;
    super::binary::divide(&total, &super::creation::full(&[], count, dt, st)?, st)
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
    );
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

/// `a` as a float dtype: floats keep theirs, others become float32 (MLX's statistics rule).
fn at_least_float(a: &Array, st: Stream) -> Array {
    if a.dtype().is_float() {
        a.clone()
    } else {
        cast_to(a, Dtype::Float32, st)
    }
}

/// Variance over `axes` (all when empty): the mean squared deviation from the mean, divided by
/// `max(n - ddof, 0)` instead of `n`. Non-floats give float32; empty reductions give NaN.
///
/// ```
/// let a = wmx::Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2]);
/// assert_eq!(wmx::var(&a, &[], false, 0, None).unwrap().item::<f32>().unwrap(), 1.25);
/// assert_eq!(wmx::var(&a, &[1], false, 1, None).unwrap().to_vec::<f32>().unwrap(), vec![0.5, 0.5]);
/// ```
pub fn var(
    a: &Array,
    axes: &[i32],
    keepdims: bool,
    ddof: i32,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("var")?;
    let ax = resolve_axes("var", a, axes)?;
    let ax32: Vec<i32> = ax.iter().map(|&i| i as i32).collect();
    let x = at_least_float(a, st);
    let dt = x.dtype();
    let mu = mean(&x, &ax32, true, st)?;
    let d = super::binary::subtract(&x, &mu, st)?;
    let ss = sum(&super::binary::multiply(&d, &d, st)?, &ax32, keepdims, st)?;
    let count: f64 = ax.iter().map(|&i| a.shape()[i] as f64).product();
    let denom = (count - ddof as f64).max(0.0);
    super::binary::divide(&ss, &super::creation::full(&[], denom, dt, st)?, st)
}

/// Standard deviation over `axes` (all when empty): `sqrt(var(a, axes, keepdims, ddof))`.
///
/// ```
/// let a = wmx::Array::from_slice(&[1i32, 3, 5, 7], &[4]);
/// assert_eq!(wmx::std(&a, &[0], false, 0, None).unwrap().item::<f32>().unwrap(), 5f32.sqrt());
/// ```
pub fn std(
    a: &Array,
    axes: &[i32],
    keepdims: bool,
    ddof: i32,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("std")?;
    resolve_axes("std", a, axes)?;
    super::unary::sqrt(&var(a, axes, keepdims, ddof, st)?, st)
}

/// Median over `axes` (all when empty): the middle element of the sorted values, or the mean
/// of the two middle ones; NaN when any element is NaN. Non-floats give float32. Built on
/// `sort`; an empty reduction is an error.
///
/// ```
/// let a = wmx::Array::from_slice(&[1.0f32, 5.0, 3.0, 4.0, 2.0, 2.0, 2.0, 9.0], &[2, 4]);
/// assert_eq!(wmx::median(&a, &[1], false, None).unwrap().to_vec::<f32>().unwrap(), vec![3.5, 2.0]);
/// assert_eq!(wmx::median(&a, &[], false, None).unwrap().item::<f32>().unwrap(), 2.5);
/// ```
pub fn median(a: &Array, axes: &[i32], keepdims: bool, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("median")?;
    let ax = resolve_axes("median", a, axes)?;
    let m: i32 = ax.iter().map(|&i| a.shape()[i]).product();
    if m == 0 {
        return Err(value_err(
            "median",
            format!(
                "Cannot take the median over empty axes {ax:?} of shape {}.",
                crate::shape::fmt_shape(a.shape())
            ),
        ));
    }
    let x = at_least_float(a, st);
    // Reduced axes last and merged into one, then sorted: NaN sorts last, so the last element
    // tells whether the row has one.
    let kept: Vec<usize> = (0..a.ndim()).filter(|i| !ax.contains(i)).collect();
    let perm: Vec<i32> = kept.iter().chain(&ax).map(|&i| i as i32).collect();
    let mut rows_shape: Vec<i32> = kept.iter().map(|&i| a.shape()[i]).collect();
    rows_shape.push(m);
    let rows = super::shape::reshape(&super::shape::transpose(&x, &perm, st)?, &rows_shape, st)?;
    let sorted = super::sort::sort(&rows, -1, st)?;
    let at = |k: i32| -> OpResult {
        let nd = rows_shape.len();
        let mut start = vec![0; nd];
        let mut stop = rows_shape.clone();
        start[nd - 1] = k;
        stop[nd - 1] = k + 1;
        super::shape::slice(&sorted, &start, &stop, &[], st)
    };
    let (lo, hi, last) = (at((m - 1) / 2)?, at(m / 2)?, at(m - 1)?);
    let half = super::creation::full(&[], 0.5, x.dtype(), st)?;
    let mid = super::binary::multiply(&super::binary::add(&lo, &hi, st)?, &half, st)?;
    let has_nan = super::binary::not_equal(&last, &last, st)?;
    let r = super::binary::where_(&has_nan, &last, &mid, st)?;
    let mut shape: Vec<i32> = a.shape().to_vec();
    for &i in &ax {
        shape[i] = 1;
    }
    let r = super::shape::reshape(&r, &shape, st)?;
    finish(r, &ax, keepdims, st)
}
