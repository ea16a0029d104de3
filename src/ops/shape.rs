//! Shape ops: reshape, transpose, broadcast_to, squeeze, expand_dims, flatten, slice, concatenate,
//! stack, split, contiguous. Views (no copy) wherever the strides allow; the backend decides at
//! run time, since strides are only known then.

use super::{OpResult, broadcast_view, cast_to, node};
use crate::array::Array;
use crate::dtype::promote_types;
use crate::error::{Result, axis_err, shape_err, value_err};
use crate::primitive::Primitive;
use crate::shape::{broadcast_shapes, fmt_shape, normalize_axes, normalize_axis, size_of};
use crate::stream::StreamOrDevice;

/// Same elements in a new shape; one dimension may be -1 (inferred).
///
/// ```
/// let a = wmx::arange(0.0, 6.0, 1.0, wmx::Dtype::Int32, None).unwrap();
/// let b = wmx::reshape(&a, &[-1, 2], None).unwrap();
/// assert_eq!(b.shape(), &[3, 2]);
/// ```
pub fn reshape(a: &Array, shape: &[i32], s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("reshape")?;
    let mut out = shape.to_vec();
    let infer: Vec<usize> = (0..shape.len()).filter(|&i| shape[i] == -1).collect();
    if infer.len() > 1 {
        return Err(value_err(
            "reshape",
            format!(
                "Can only infer one dimension, got shape {}.",
                fmt_shape(shape)
            ),
        ));
    }
    if let Some(&d) = shape.iter().find(|&&d| d < -1) {
        return Err(value_err(
            "reshape",
            format!("Invalid dimension {d} in shape {}.", fmt_shape(shape)),
        ));
    }
    if let Some(&i) = infer.first() {
        let known = size_of(
            &shape
                .iter()
                .copied()
                .filter(|&d| d != -1)
                .collect::<Vec<_>>(),
        );
        if known == 0 || !a.size().is_multiple_of(known) {
            return Err(value_err(
                "reshape",
                format!(
                    "Cannot infer the shape of an array of size {} into shape {}.",
                    a.size(),
                    fmt_shape(shape)
                ),
            ));
        }
        out[i] = (a.size() / known) as i32;
    }
    if size_of(&out) != a.size() {
        return Err(value_err(
            "reshape",
            format!(
                "Cannot reshape array of size {} into shape {}.",
                a.size(),
                fmt_shape(shape)
            ),
        ));
    }
    if out == a.shape() {
        return Ok(a.clone());
    }
    node(out, a.dtype(), st, Primitive::Reshape, vec![a.clone()])
}

/// Permutes axes (`&[]` reverses them).
///
/// ```
/// let a = wmx::zeros(&[2, 3, 4], wmx::Dtype::Float32, None).unwrap();
/// assert_eq!(wmx::transpose(&a, &[1, 0, 2], None).unwrap().shape(), &[3, 2, 4]);
/// assert_eq!(wmx::transpose(&a, &[], None).unwrap().shape(), &[4, 3, 2]);
/// ```
pub fn transpose(a: &Array, axes: &[i32], s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("transpose")?;
    let nd = a.ndim();
    let perm: Vec<usize> = if axes.is_empty() {
        (0..nd).rev().collect()
    } else {
        if axes.len() != nd {
            return Err(axis_err(
                "transpose",
                format!(
                    "Received {} axes for array with {nd} dimensions.",
                    axes.len()
                ),
            ));
        }
        let p: Vec<usize> = axes
            .iter()
            .map(|&x| normalize_axis("transpose", x, nd))
            .collect::<Result<_>>()?;
        let mut seen = vec![false; nd];
        for &i in &p {
            if std::mem::replace(&mut seen[i], true) {
                return Err(axis_err(
                    "transpose",
                    format!("Repeat axes not allowed in {axes:?}."),
                ));
            }
        }
        p
    };
    let shape = perm.iter().map(|&p| a.shape()[p]).collect();
    node(
        shape,
        a.dtype(),
        st,
        Primitive::Transpose(perm),
        vec![a.clone()],
    )
}

/// Broadcasts `a` to `shape` (a view with zero strides).
///
/// ```
/// let a = wmx::Array::from_slice(&[1i32, 2], &[2]);
/// let b = wmx::broadcast_to(&a, &[3, 2], None).unwrap();
/// assert_eq!(b.to_vec::<i32>().unwrap(), vec![1, 2, 1, 2, 1, 2]);
/// ```
pub fn broadcast_to(a: &Array, shape: &[i32], s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("broadcast_to")?;
    let b = broadcast_shapes(a.shape(), shape)?;
    if b != shape {
        return Err(shape_err(
            "broadcast_to",
            format!(
                "Shapes {} and {} cannot be broadcast.",
                fmt_shape(a.shape()),
                fmt_shape(shape)
            ),
        ));
    }
    broadcast_view(a, shape, st)
}

/// Removes size-1 axes (`&[]`: all of them).
///
/// ```
/// let a = wmx::zeros(&[1, 3, 1], wmx::Dtype::Float32, None).unwrap();
/// assert_eq!(wmx::squeeze(&a, &[], None).unwrap().shape(), &[3]);
/// assert_eq!(wmx::squeeze(&a, &[0], None).unwrap().shape(), &[3, 1]);
/// ```
pub fn squeeze(a: &Array, axes: &[i32], s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("squeeze")?;
    let ax: Vec<usize> = if axes.is_empty() {
        (0..a.ndim()).filter(|&i| a.shape()[i] == 1).collect()
    } else {
        normalize_axes("squeeze", axes, a.ndim())?
    };
    if let Some(&i) = ax.iter().find(|&&i| a.shape()[i] != 1) {
        return Err(axis_err(
            "squeeze",
            format!(
                "Cannot squeeze axis {i} with size {} which is not equal to 1.",
                a.shape()[i]
            ),
        ));
    }
    let shape: Vec<i32> = (0..a.ndim())
        .filter(|i| !ax.contains(i))
        .map(|i| a.shape()[i])
        .collect();
    reshape(a, &shape, st)
}

/// Inserts size-1 axes at `axes` (positions in the result).
///
/// ```
/// let a = wmx::zeros(&[3], wmx::Dtype::Float32, None).unwrap();
/// assert_eq!(wmx::expand_dims(&a, &[0, -1], None).unwrap().shape(), &[1, 3, 1]);
/// ```
pub fn expand_dims(a: &Array, axes: &[i32], s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("expand_dims")?;
    let nd = a.ndim() + axes.len();
    let ax = normalize_axes("expand_dims", axes, nd)?;
    let mut src = a.shape().iter();
    let shape: Vec<i32> = (0..nd)
        .map(|i| {
            if ax.contains(&i) {
                1
            } else {
                *src.next().unwrap_or(&1)
            }
        })
        .collect();
    reshape(a, &shape, st)
}

/// Merges axes `start_axis..=end_axis` into one.
///
/// ```
/// let a = wmx::zeros(&[2, 3, 4], wmx::Dtype::Float32, None).unwrap();
/// assert_eq!(wmx::flatten(&a, 0, -1, None).unwrap().shape(), &[24]);
/// assert_eq!(wmx::flatten(&a, 1, 2, None).unwrap().shape(), &[2, 12]);
/// ```
pub fn flatten(
    a: &Array,
    start_axis: i32,
    end_axis: i32,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("flatten")?;
    if a.ndim() == 0 {
        return reshape(a, &[1], st);
    }
    let (s0, s1) = (
        normalize_axis("flatten", start_axis, a.ndim())?,
        normalize_axis("flatten", end_axis, a.ndim())?,
    );
    if s0 > s1 {
        return Err(axis_err(
            "flatten",
            format!("start_axis {start_axis} must come before end_axis {end_axis}."),
        ));
    }
    let mut shape: Vec<i32> = a.shape()[..s0].to_vec();
    shape.push(a.shape()[s0..=s1].iter().product());
    shape.extend_from_slice(&a.shape()[s1 + 1..]);
    reshape(a, &shape, st)
}

/// Python-style bounds for one axis: returns (first index, count).
pub(crate) fn slice_axis(start: i32, stop: i32, step: i32, n: i32) -> (i32, i32) {
    let wrap = |i: i32| if i < 0 { i + n } else { i };
    if step > 0 {
        let (b, e) = (wrap(start).clamp(0, n), wrap(stop).clamp(0, n));
        (b, if e > b { (e - b + step - 1) / step } else { 0 })
    } else {
        let (b, e) = (wrap(start).clamp(-1, n - 1), wrap(stop).clamp(-1, n - 1));
        (b, if b > e { (b - e - step - 1) / -step } else { 0 })
    }
}

/// Per axis (first index, count), and the steps: what [`slice_window`] returns.
pub(crate) type SliceWindow = (Vec<(i32, i32)>, Vec<i32>);

/// Validates slice arguments for `op` over `dims` (empty `strides`: all 1) and returns each
/// axis' (first index, count) with Python's rules, and the steps.
pub(crate) fn slice_window(
    op: &'static str,
    dims: &[i32],
    start: &[i32],
    stop: &[i32],
    strides: &[i32],
) -> Result<SliceWindow> {
    let nd = dims.len();
    let steps: Vec<i32> = if strides.is_empty() {
        vec![1; nd]
    } else {
        strides.to_vec()
    };
    if start.len() != nd || stop.len() != nd || steps.len() != nd {
        return Err(value_err(
            op,
            format!(
                "start, stop and strides must have one entry per dimension ({nd}); got {}, {} and {}.",
                start.len(),
                stop.len(),
                steps.len()
            ),
        ));
    }
    if let Some(i) = steps.iter().position(|&x| x == 0) {
        return Err(value_err(
            op,
            format!("Slice step cannot be zero (axis {i})."),
        ));
    }
    let window = (0..nd)
        .map(|k| slice_axis(start[k], stop[k], steps[k], dims[k]))
        .collect();
    Ok((window, steps))
}

/// `a[start:stop:step]` on every axis, with Python's rules for negative and out-of-range indices
/// (a view). `strides` may be empty (all 1).
///
/// ```
/// let a = wmx::arange(0.0, 10.0, 1.0, wmx::Dtype::Int32, None).unwrap();
/// let b = wmx::slice(&a, &[8], &[0], &[-3], None).unwrap();
/// assert_eq!(b.to_vec::<i32>().unwrap(), vec![8, 5, 2]);
/// ```
pub fn slice(
    a: &Array,
    start: &[i32],
    stop: &[i32],
    strides: &[i32],
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("slice")?;
    let (window, steps) = slice_window("slice", a.shape(), start, stop, strides)?;
    let first: Vec<i32> = window
        .iter()
        .map(|&(b, c)| if c > 0 { b } else { 0 })
        .collect();
    let shape: Vec<i32> = window.iter().map(|&(_, c)| c).collect();
    node(
        shape,
        a.dtype(),
        st,
        Primitive::Slice {
            start: first,
            step: steps,
        },
        vec![a.clone()],
    )
}

/// Joins arrays along `axis` (dtypes promote; other dims must match).
///
/// ```
/// let a = wmx::Array::from_slice(&[1i32, 2], &[1, 2]);
/// let b = wmx::Array::from_slice(&[3i32, 4], &[1, 2]);
/// let c = wmx::concatenate(&[&a, &b], 0, None).unwrap();
/// assert_eq!(c.to_vec::<i32>().unwrap(), vec![1, 2, 3, 4]);
/// ```
pub fn concatenate(arrays: &[&Array], axis: i32, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("concatenate")?;
    let first = arrays
        .first()
        .ok_or_else(|| value_err("concatenate", "No arrays provided for concatenation."))?;
    let nd = first.ndim();
    let ax = normalize_axis("concatenate", axis, nd)?;
    let mut dt = first.dtype();
    let mut shape = first.shape().to_vec();
    shape[ax] = 0;
    for a in arrays {
        let ok = a.ndim() == nd && (0..nd).all(|i| i == ax || a.shape()[i] == first.shape()[i]);
        if !ok {
            let shapes: Vec<String> = arrays.iter().map(|a| fmt_shape(a.shape())).collect();
            return Err(shape_err(
                "concatenate",
                format!(
                    "All the input array dimensions must match exactly except for the concatenation axis. However, the provided shapes are {}, and the concatenation axis is {axis}.",
                    shapes.join(", ")
                ),
            ));
        }
        shape[ax] += a.shape()[ax];
        dt = promote_types(dt, a.dtype());
    }
    let inputs = arrays.iter().map(|a| cast_to(a, dt, st)).collect();
    node(shape, dt, st, Primitive::Concatenate { axis: ax }, inputs)
}

/// Stacks equal-shaped arrays along a new `axis`.
///
/// ```
/// let a = wmx::Array::from_slice(&[1i32, 2], &[2]);
/// let b = wmx::Array::from_slice(&[3i32, 4], &[2]);
/// let c = wmx::stack(&[&a, &b], 1, None).unwrap();
/// assert_eq!(c.shape(), &[2, 2]);
/// assert_eq!(c.to_vec::<i32>().unwrap(), vec![1, 3, 2, 4]);
/// ```
pub fn stack(arrays: &[&Array], axis: i32, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("stack")?;
    let first = arrays
        .first()
        .ok_or_else(|| value_err("stack", "No arrays provided for stacking."))?;
    if let Some(a) = arrays.iter().find(|a| a.shape() != first.shape()) {
        return Err(shape_err(
            "stack",
            format!(
                "All arrays must have the same shape; got {} and {}.",
                fmt_shape(first.shape()),
                fmt_shape(a.shape())
            ),
        ));
    }
    let expanded: Vec<Array> = arrays
        .iter()
        .map(|a| expand_dims(a, &[axis], st))
        .collect::<Result<_>>()?;
    concatenate(&expanded.iter().collect::<Vec<_>>(), axis, st)
}

/// Splits into `num_splits` equal parts along `axis`.
///
/// ```
/// let a = wmx::arange(0.0, 6.0, 1.0, wmx::Dtype::Int32, None).unwrap();
/// let parts = wmx::split(&a, 3, 0, None).unwrap();
/// assert_eq!(parts[2].to_vec::<i32>().unwrap(), vec![4, 5]);
/// ```
pub fn split(
    a: &Array,
    num_splits: i32,
    axis: i32,
    s: impl Into<StreamOrDevice>,
) -> Result<Vec<Array>> {
    let st = s.into().resolve("split")?;
    let ax = normalize_axis("split", axis, a.ndim())?;
    let n = a.shape()[ax];
    if num_splits <= 0 || n % num_splits != 0 {
        return Err(value_err(
            "split",
            format!(
                "Array split does not result in sub arrays with equal size: attempting {num_splits} splits along axis {axis} for shape {}.",
                fmt_shape(a.shape())
            ),
        ));
    }
    let idx: Vec<i32> = (1..num_splits).map(|i| i * n / num_splits).collect();
    split_at(a, &idx, axis, st)
}

/// Splits along `axis` at the given indices (like NumPy's `split` with a list).
///
/// ```
/// let a = wmx::arange(0.0, 5.0, 1.0, wmx::Dtype::Int32, None).unwrap();
/// let parts = wmx::split_at(&a, &[1, 3], 0, None).unwrap();
/// assert_eq!(parts[1].to_vec::<i32>().unwrap(), vec![1, 2]);
/// ```
pub fn split_at(
    a: &Array,
    indices: &[i32],
    axis: i32,
    s: impl Into<StreamOrDevice>,
) -> Result<Vec<Array>> {
    let st = s.into().resolve("split")?;
    let ax = normalize_axis("split", axis, a.ndim())?;
    let n = a.shape()[ax];
    let mut bounds = vec![0];
    bounds.extend(
        indices
            .iter()
            .map(|&i| (if i < 0 { i + n } else { i }).clamp(0, n)),
    );
    bounds.push(n);
    let nd = a.ndim();
    bounds
        .windows(2)
        .map(|w| {
            let mut start = vec![0; nd];
            let mut stop = a.shape().to_vec();
            start[ax] = w[0];
            stop[ax] = w[1].max(w[0]);
            slice(a, &start, &stop, &[], st)
        })
        .collect()
}

/// A dense row-major copy of `a`.
///
/// ```
/// let a = wmx::Array::from_slice(&[1i32, 2, 3, 4], &[2, 2]);
/// let t = wmx::contiguous(&wmx::transpose(&a, &[], None).unwrap(), None).unwrap();
/// assert_eq!(t.to_vec::<i32>().unwrap(), vec![1, 3, 2, 4]);
/// ```
pub fn contiguous(a: &Array, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("contiguous")?;
    node(
        a.shape().to_vec(),
        a.dtype(),
        st,
        Primitive::Copy,
        vec![a.clone()],
    )
}
