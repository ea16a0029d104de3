//! Gather and scatter ops over integer index arrays: `take`, `take_along_axis`,
//! `put_along_axis`, MLX's `gather` and the `scatter` family, and `slice_update` (built on
//! scatter). Python-style `a[...]` indexing (`Ix`, `index`) lives in `indexing.rs` and translates
//! into these; `argsort` lives in `sort.rs`. Validates and builds nodes; never computes.

use super::shape::slice_window;
use super::{OpResult, broadcast_view, cast_to, node};
use crate::array::Array;
use crate::dtype::Dtype;
use crate::error::{Error, Result, axis_err, dtype_err, shape_err, value_err};
use crate::primitive::{BinaryOp, Primitive};
use crate::shape::{broadcast_shapes, fmt_shape, normalize_axes, normalize_axis, size_of};
use crate::stream::{Stream, StreamOrDevice};

/// Elements of `a` at `indices` along `axis`: the result's shape is `a.shape[..axis] +
/// indices.shape + a.shape[axis+1..]`. Negative indices count from the end; indices are clamped
/// to the axis (never read out of bounds).
///
/// ```
/// let a = wmx::Array::from_slice(&[10i32, 20, 30, 40, 50, 60], &[3, 2]);
/// let i = wmx::Array::from_slice(&[2i32, 0, -1], &[3]);
/// let t = wmx::take(&a, &i, 0, None).unwrap();
/// assert_eq!(t.to_vec::<i32>().unwrap(), vec![50, 60, 10, 20, 50, 60]);
/// ```
pub fn take(a: &Array, indices: &Array, axis: i32, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("take")?;
    if indices.dtype().is_float() {
        return Err(dtype_err(
            "take",
            format!("Indices must be integers, got {}.", indices.dtype()),
        ));
    }
    let ax = normalize_axis("take", axis, a.ndim())?;
    let n = a.shape()[ax];
    let flat = super::shape::reshape(
        &super::unary::astype(indices, Dtype::Int32, st)?,
        &[indices.size() as i32],
        st,
    )?;
    let dim = Array::scalar(n);
    let wrapped = super::binary::where_(
        &super::binary::less(&flat, Array::scalar(0i32), st)?,
        &super::binary::add(&flat, &dim, st)?,
        &flat,
        st,
    )?;
    let clamped = super::composite::clip(
        &wrapped,
        Some(&Array::scalar(0i32)),
        Some(&Array::scalar((n - 1).max(0))),
        st,
    )?;
    let idx = super::unary::astype(&clamped, Dtype::Uint32, st)?;
    let mut gathered_shape = a.shape().to_vec();
    gathered_shape[ax] = indices.size() as i32;
    let out = node(
        gathered_shape,
        a.dtype(),
        st,
        Primitive::Take { axis: ax },
        vec![a.clone(), idx],
    )?;
    let mut final_shape = a.shape()[..ax].to_vec();
    final_shape.extend_from_slice(indices.shape());
    final_shape.extend_from_slice(&a.shape()[ax + 1..]);
    super::shape::reshape(&out, &final_shape, st)
}

/// Index arrays cast to int32, broadcast together and stacked as `[k, ..shape]` (the layout the
/// gather and scatter primitives read), with their broadcast shape. Float or bool indices are an
/// error naming `op`.
pub(crate) fn stack_indices(
    op: &'static str,
    indices: &[&Array],
    st: Stream,
) -> Result<(Array, Vec<i32>)> {
    let mut shape: Vec<i32> = Vec::new();
    for x in indices {
        if x.dtype().is_float() || x.dtype() == Dtype::Bool {
            return Err(dtype_err(
                op,
                format!(
                    "Got indices with invalid dtype {}. Indices must be integral.",
                    x.dtype()
                ),
            ));
        }
        shape = broadcast_shapes(&shape, x.shape()).map_err(|_| {
            let shapes: Vec<String> = indices.iter().map(|x| fmt_shape(x.shape())).collect();
            shape_err(
                op,
                format!(
                    "Index arrays of shapes {} cannot be broadcast together.",
                    shapes.join(", ")
                ),
            )
        })?;
    }
    let mut row_shape = vec![1];
    row_shape.extend_from_slice(&shape);
    let rows: Vec<Array> = indices
        .iter()
        .map(|x| {
            let b = broadcast_view(&cast_to(x, Dtype::Int32, st), &shape, st)?;
            super::shape::reshape(&b, &row_shape, st)
        })
        .collect::<Result<_>>()?;
    let stacked = match rows.len() {
        0 => super::creation::zeros(&[0], Dtype::Int32, st)?,
        1 => rows[0].clone(),
        _ => super::shape::concatenate(&rows.iter().collect::<Vec<_>>(), 0, st)?,
    };
    Ok((stacked, shape))
}

/// Axes for gather/scatter: one per index array, in range (negative allowed), no repeats.
fn index_axes(op: &'static str, a: &Array, n_indices: usize, axes: &[i32]) -> Result<Vec<usize>> {
    if n_indices > a.ndim() {
        return Err(value_err(
            op,
            format!(
                "Too many index arrays. Got {n_indices} index arrays for input with {} dimensions.",
                a.ndim()
            ),
        ));
    }
    if axes.len() != n_indices {
        return Err(value_err(
            op,
            format!(
                "Number of index arrays ({n_indices}) does not match number of axes ({}).",
                axes.len()
            ),
        ));
    }
    let ax = normalize_axes(op, axes, a.ndim())?;
    for (i, x) in ax.iter().enumerate() {
        if ax[..i].contains(x) {
            return Err(axis_err(
                op,
                format!("Repeat axes not allowed in {axes:?}."),
            ));
        }
    }
    Ok(ax)
}

/// MLX's gather: for each position `I` of the index arrays (broadcast together), the slice of
/// shape `slice_sizes` of `a` that starts at `indices[j][I]` on axis `axes[j]` and at 0 on the
/// other axes. The result's shape is `broadcast(indices).shape + slice_sizes`. Negative indices
/// (and axes) count from the end; an out-of-range start is clamped so the slice fits (MLX leaves
/// it undefined), so nothing is ever read out of bounds.
///
/// ```
/// let a = wmx::arange(0.0, 12.0, 1.0, wmx::Dtype::Int32, None).unwrap();
/// let a = wmx::reshape(&a, &[3, 4], None).unwrap();
/// let rows = wmx::Array::from_slice(&[2i32, 0], &[2]);
/// let cols = wmx::Array::from_slice(&[1i32, -2], &[2]);
/// // 1x2 windows starting at (2, 1) and (0, 2).
/// let g = wmx::gather(&a, &[&rows, &cols], &[0, 1], &[1, 2], None).unwrap();
/// assert_eq!(g.shape(), &[2, 1, 2]);
/// assert_eq!(g.to_vec::<i32>().unwrap(), vec![9, 10, 2, 3]);
/// ```
pub fn gather(
    a: &Array,
    indices: &[&Array],
    axes: &[i32],
    slice_sizes: &[i32],
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("gather")?;
    let ax = index_axes("gather", a, indices.len(), axes)?;
    if slice_sizes.len() != a.ndim() {
        return Err(value_err(
            "gather",
            format!(
                "Got slice_sizes with size {} for array with {} dimensions.",
                slice_sizes.len(),
                a.ndim()
            ),
        ));
    }
    let (stacked, idx_shape) = stack_indices("gather", indices, st)?;
    let bad_size = (0..a.ndim()).any(|i| slice_sizes[i] < 0 || slice_sizes[i] > a.shape()[i]);
    let empty_ok = size_of(&idx_shape) == 0 || size_of(slice_sizes) == 0;
    if bad_size || (a.size() == 0 && !empty_ok) {
        return Err(value_err(
            "gather",
            format!(
                "Slice sizes must be in [0, a.shape(i)] (and the result empty when the input is). Got {slice_sizes:?} for array with shape {}.",
                fmt_shape(a.shape())
            ),
        ));
    }
    let mut out_shape = idx_shape;
    out_shape.extend_from_slice(slice_sizes);
    node(
        out_shape,
        a.dtype(),
        st,
        Primitive::Gather {
            axes: ax,
            slice_sizes: slice_sizes.to_vec(),
        },
        vec![a.clone(), stacked],
    )
}

/// The scatter family: validation shared by every mode, then one node.
pub(crate) fn scatter_op(
    op: &'static str,
    mode: Option<BinaryOp>,
    a: &Array,
    indices: &[&Array],
    updates: &Array,
    axes: &[i32],
    st: Stream,
) -> OpResult {
    let ax = index_axes(op, a, indices.len(), axes)?;
    let (stacked, idx_shape) = stack_indices(op, indices, st)?;
    let nd = a.ndim();
    let k = idx_shape.len();
    if updates.ndim() != nd + k {
        return Err(shape_err(
            op,
            format!(
                "Updates with {} dimensions does not match the sum of the array ({nd}) and indices ({k}) dimensions.",
                updates.ndim()
            ),
        ));
    }
    if updates.shape()[..k] != idx_shape[..] {
        return Err(shape_err(
            op,
            format!(
                "Update shape {} is not valid for broadcasted index shape {}.",
                fmt_shape(updates.shape()),
                fmt_shape(&idx_shape)
            ),
        ));
    }
    if (0..nd).any(|i| updates.shape()[k + i] > a.shape()[i]) {
        return Err(shape_err(
            op,
            format!(
                "Updates with shape {} are too large for array with shape {}.",
                fmt_shape(updates.shape()),
                fmt_shape(a.shape())
            ),
        ));
    }
    node(
        a.shape().to_vec(),
        a.dtype(),
        st,
        Primitive::Scatter { op: mode, axes: ax },
        vec![a.clone(), stacked, cast_to(updates, a.dtype(), st)],
    )
}

macro_rules! scatter_fns {
    ($($(#[$doc:meta])* $name:ident $mode:expr;)*) => {$(
        $(#[$doc])*
        pub fn $name(
            a: &Array,
            indices: &[&Array],
            updates: &Array,
            axes: &[i32],
            s: impl Into<StreamOrDevice>,
        ) -> OpResult {
            let st = s.into().resolve(stringify!($name))?;
            scatter_op(stringify!($name), $mode, a, indices, updates, axes, st)
        }
    )*};
}

scatter_fns! {
    /// MLX's scatter: a copy of `a` where, for each position `I` of the index arrays (broadcast
    /// together), the slice `updates[I]` (shape `updates.shape[k..]`, `k` = the indices' rank) is
    /// written starting at `indices[j][I]` on axis `axes[j]` and at 0 on the other axes.
    /// `updates` must have shape `broadcast(indices).shape + slice` with `slice.len() == a.ndim()`
    /// and `slice[i] <= a.shape[i]`; it is cast to `a`'s dtype. Negative indices count from the
    /// end; positions still outside `a` are dropped (MLX leaves them undefined). With duplicate
    /// indices one of the updates wins.
    ///
    /// ```
    /// let a = wmx::zeros(&[4, 4], wmx::Dtype::Float32, None).unwrap();
    /// let idx = wmx::Array::from_slice(&[2i32, 0], &[2]);
    /// let upd = wmx::Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 1, 2]);
    /// let out = wmx::scatter(&a, &[&idx], &upd, &[0], None).unwrap();
    /// assert_eq!(&out.to_vec::<f32>().unwrap()[..12], &[3.0, 4.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 0.0, 0.0]);
    /// ```
    scatter None;
    /// As [`scatter`], adding the updates to `a` (duplicate indices accumulate).
    ///
    /// ```
    /// let a = wmx::zeros(&[3], wmx::Dtype::Int32, None).unwrap();
    /// let idx = wmx::Array::from_slice(&[0i32, 0, -1], &[3]);
    /// let upd = wmx::Array::from_slice(&[1i32, 2, 5], &[3, 1]);
    /// let out = wmx::scatter_add(&a, &[&idx], &upd, &[0], None).unwrap();
    /// assert_eq!(out.to_vec::<i32>().unwrap(), vec![3, 0, 5]);
    /// ```
    scatter_add Some(BinaryOp::Add);
    /// As [`scatter`], multiplying `a` by the updates (duplicate indices accumulate).
    ///
    /// ```
    /// let a = wmx::full(&[3], 2.0, wmx::Dtype::Float32, None).unwrap();
    /// let idx = wmx::Array::from_slice(&[1i32, 1], &[2]);
    /// let upd = wmx::Array::from_slice(&[3.0f32, 4.0], &[2, 1]);
    /// let out = wmx::scatter_prod(&a, &[&idx], &upd, &[0], None).unwrap();
    /// assert_eq!(out.to_vec::<f32>().unwrap(), vec![2.0, 24.0, 2.0]);
    /// ```
    scatter_prod Some(BinaryOp::Multiply);
    /// As [`scatter`], keeping the maximum of `a` and the updates.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[5i32, 5, 5], &[3]);
    /// let idx = wmx::Array::from_slice(&[0i32, 2, 2], &[3]);
    /// let upd = wmx::Array::from_slice(&[1i32, 7, 9], &[3, 1]);
    /// let out = wmx::scatter_max(&a, &[&idx], &upd, &[0], None).unwrap();
    /// assert_eq!(out.to_vec::<i32>().unwrap(), vec![5, 5, 9]);
    /// ```
    scatter_max Some(BinaryOp::Maximum);
    /// As [`scatter`], keeping the minimum of `a` and the updates.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[5i32, 5, 5], &[3]);
    /// let idx = wmx::Array::from_slice(&[0i32, 2, 2], &[3]);
    /// let upd = wmx::Array::from_slice(&[1i32, 7, 9], &[3, 1]);
    /// let out = wmx::scatter_min(&a, &[&idx], &upd, &[0], None).unwrap();
    /// assert_eq!(out.to_vec::<i32>().unwrap(), vec![1, 5, 5]);
    /// ```
    scatter_min Some(BinaryOp::Minimum);
}

/// Per-axis coordinates for gathering or scattering along `ax` over `shape`: the (broadcast)
/// indices on `ax`, `arange` along every other axis.
fn along_axis_coords(idx: &Array, shape: &[i32], ax: usize, st: Stream) -> Result<Vec<Array>> {
    let nd = shape.len();
    (0..nd)
        .map(|d| {
            if d == ax {
                Ok(idx.clone())
            } else {
                axis_range(0, shape[d], 1, d, nd, st)
            }
        })
        .collect()
}

/// `arange(0, n)` shaped to lie along axis `d` of a rank-`nd` array (int32).
fn axis_range(start: i32, count: i32, step: i32, d: usize, nd: usize, st: Stream) -> OpResult {
    let r = super::creation::arange(
        start as f64,
        start as f64 + count as f64 * step as f64,
        step as f64,
        Dtype::Int32,
        st,
    )?;
    let mut shape = vec![1; nd];
    shape[d] = count;
    super::shape::reshape(&r, &shape, st)
}

/// `shape` followed by `n` ones.
fn with_unit_slice(shape: &[i32], n: usize) -> Vec<i32> {
    let mut s = shape.to_vec();
    s.extend(std::iter::repeat_n(1, n));
    s
}

/// Shared by take_along_axis and put_along_axis: the flattened inputs when `axis` is None, the
/// normalised axis, and the shape the indices broadcast to (`a`'s other axes, the indices' axis).
fn along_axis(
    op: &'static str,
    a: &Array,
    indices: &Array,
    axis: Option<i32>,
    st: Stream,
) -> Result<(Array, Array, usize)> {
    let (a, idx, axis) = match axis {
        Some(ax) => (a.clone(), indices.clone(), ax),
        None => (
            super::shape::reshape(a, &[-1], st)?,
            super::shape::reshape(indices, &[-1], st)?,
            0,
        ),
    };
    let ax = normalize_axis(op, axis, a.ndim())?;
    if idx.ndim() != a.ndim() {
        return Err(shape_err(
            op,
            format!(
                "Indices of dimension {} does not match array of dimension {}.",
                idx.ndim(),
                a.ndim()
            ),
        ));
    }
    Ok((a, idx, ax))
}

/// Elements of `a` picked along `axis` by `indices` (same rank as `a`; the other axes broadcast
/// against `a`'s), as NumPy's `take_along_axis`; `None` uses the flattened array. Negative
/// indices count from the end; out-of-range ones are clamped.
///
/// ```
/// let a = wmx::Array::from_slice(&[10i32, 30, 20, 60, 50, 40], &[2, 3]);
/// let i = wmx::Array::from_slice(&[1i32, -1], &[2, 1]);
/// let t = wmx::take_along_axis(&a, &i, Some(1), None).unwrap();
/// assert_eq!(t.shape(), &[2, 1]);
/// assert_eq!(t.to_vec::<i32>().unwrap(), vec![30, 40]);
/// ```
pub fn take_along_axis(
    a: &Array,
    indices: &Array,
    axis: Option<i32>,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("take_along_axis")?;
    let (a, idx, ax) = along_axis("take_along_axis", a, indices, axis, st)?;
    let nd = a.ndim();
    let mut a_other = a.shape().to_vec();
    let mut i_other = idx.shape().to_vec();
    a_other[ax] = 1;
    i_other[ax] = 1;
    let mut shape = broadcast_shapes(&a_other, &i_other).map_err(|_| {
        shape_err(
            "take_along_axis",
            format!(
                "Indices of shape {} cannot be broadcast with array of shape {} (axis {ax}).",
                fmt_shape(idx.shape()),
                fmt_shape(a.shape())
            ),
        )
    })?;
    let mut a_shape = shape.clone();
    a_shape[ax] = a.shape()[ax];
    shape[ax] = idx.shape()[ax];
    let a_b = broadcast_view(&a, &a_shape, st)?;
    let idx_b = broadcast_view(&idx, &shape, st)?;
    let coords = along_axis_coords(&idx_b, &shape, ax, st)?;
    let axes: Vec<i32> = (0..nd as i32).collect();
    let g = gather(
        &a_b,
        &coords.iter().collect::<Vec<_>>(),
        &axes,
        &vec![1; nd],
        st,
    )
    .map_err(|e| rename(e, "take_along_axis"))?;
    super::shape::reshape(&g, &shape, st)
}

/// `e` reported under the name of the public op that called the inner one.
fn rename(e: Error, op: &'static str) -> Error {
    match e {
        Error::Shape { msg, .. } => Error::Shape { op, msg },
        Error::Axis { msg, .. } => Error::Axis { op, msg },
        Error::Dtype { msg, .. } => Error::Dtype { op, msg },
        Error::Value { msg, .. } => Error::Value { op, msg },
        other => other,
    }
}

/// A copy of `a` with `values` written along `axis` at `indices` (same rank as `a`; indices and
/// values broadcast together and against `a`'s other axes), as NumPy's `put_along_axis`; `None`
/// writes into the flattened array and keeps `a`'s shape. Negative indices count from the end;
/// out-of-range ones are dropped.
///
/// ```
/// let a = wmx::zeros(&[2, 3], wmx::Dtype::Int32, None).unwrap();
/// let i = wmx::Array::from_slice(&[2i32, -3], &[2, 1]);
/// let v = wmx::Array::from_slice(&[7i32, 8], &[2, 1]);
/// let p = wmx::put_along_axis(&a, &i, &v, Some(1), None).unwrap();
/// assert_eq!(p.to_vec::<i32>().unwrap(), vec![0, 0, 7, 8, 0, 0]);
/// ```
pub fn put_along_axis(
    a: &Array,
    indices: &Array,
    values: &Array,
    axis: Option<i32>,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("put_along_axis")?;
    let (flat, idx, ax) = along_axis("put_along_axis", a, indices, axis, st)?;
    let values = match axis {
        Some(_) => values.clone(),
        None => super::shape::reshape(values, &[-1], st)?,
    };
    let nd = flat.ndim();
    let bad = || {
        shape_err(
            "put_along_axis",
            format!(
                "Indices of shape {} and values of shape {} do not broadcast with array of shape {} (axis {ax}).",
                fmt_shape(indices.shape()),
                fmt_shape(values.shape()),
                fmt_shape(a.shape())
            ),
        )
    };
    let iv = broadcast_shapes(idx.shape(), values.shape()).map_err(|_| bad())?;
    if iv.len() != nd {
        return Err(bad());
    }
    let mut shape = iv.clone();
    for d in (0..nd).filter(|&d| d != ax) {
        if iv[d] != flat.shape()[d] && iv[d] != 1 {
            return Err(bad());
        }
        shape[d] = flat.shape()[d];
    }
    if flat.size() == 0 {
        return Ok(a.clone());
    }
    let idx_b = broadcast_view(&idx, &shape, st)?;
    let vals = broadcast_view(&values, &shape, st)?;
    let coords = along_axis_coords(&idx_b, &shape, ax, st)?;
    let upd = super::shape::reshape(&vals, &with_unit_slice(&shape, nd), st)?;
    let axes: Vec<i32> = (0..nd as i32).collect();
    let out = scatter_op(
        "put_along_axis",
        None,
        &flat,
        &coords.iter().collect::<Vec<_>>(),
        &upd,
        &axes,
        st,
    )?;
    super::shape::reshape(&out, a.shape(), st)
}

/// A copy of `src` with `update` (broadcast to the window, cast to `src`'s dtype) written into
/// the window `src[start:stop:strides]` (Python's rules for negative and out-of-range bounds,
/// as in [`slice`](crate::slice); `strides` may be empty, meaning all 1).
///
/// ```
/// let a = wmx::zeros(&[6], wmx::Dtype::Int32, None).unwrap();
/// let u = wmx::Array::from_slice(&[1i32, 2, 3], &[3]);
/// let b = wmx::slice_update(&a, &u, &[-1], &[0], &[-2], None).unwrap();
/// assert_eq!(b.to_vec::<i32>().unwrap(), vec![0, 3, 0, 2, 0, 1]);
/// ```
pub fn slice_update(
    src: &Array,
    update: &Array,
    start: &[i32],
    stop: &[i32],
    strides: &[i32],
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("slice_update")?;
    let nd = src.ndim();
    let (window, steps) = slice_window("slice_update", src.shape(), start, stop, strides)?;
    let counts: Vec<i32> = window.iter().map(|w| w.1).collect();
    let upd = cast_to(update, src.dtype(), st);
    let upd = super::shape::broadcast_to(&upd, &counts, st).map_err(|_| {
        shape_err(
            "slice_update",
            format!(
                "Update of shape {} cannot be broadcast to the slice shape {}.",
                fmt_shape(update.shape()),
                fmt_shape(&counts)
            ),
        )
    })?;
    if counts == src.shape() && steps.iter().all(|&x| x > 0) {
        return Ok(upd);
    }
    if size_of(&counts) == 0 {
        return Ok(src.clone());
    }
    let coords: Vec<Array> = (0..nd)
        .map(|d| axis_range(window[d].0, counts[d], steps[d], d, nd, st))
        .collect::<Result<_>>()?;
    let upd = super::shape::reshape(&upd, &with_unit_slice(&counts, nd), st)?;
    let axes: Vec<i32> = (0..nd as i32).collect();
    scatter_op(
        "slice_update",
        None,
        src,
        &coords.iter().collect::<Vec<_>>(),
        &upd,
        &axes,
        st,
    )
}
