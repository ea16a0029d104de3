//! Diagonals and triangles: diag, diagonal, trace, tri, tril, triu. Composites of views
//! (transpose, reshape, strided slice), arange masks and `where_`; no backend code.

use super::OpResult;
use super::binary::{add, equal, less_equal, where_};
use super::creation::{arange, zeros};
use super::reduce::sum;
use super::shape::{concatenate, reshape, slice, transpose};
use super::structure::same_axes_err;
use super::unary::astype;
use crate::array::Array;
use crate::dtype::Dtype;
use crate::error::{Result, value_err};
use crate::shape::normalize_axis;
use crate::stream::{Stream, StreamOrDevice};

/// Errors unless `a` has at least two dimensions.
fn check_matrix(op: &'static str, a: &Array) -> Result<()> {
    if a.ndim() < 2 {
        return Err(value_err(
            op,
            format!(
                "Array must have at least two dimensions, but got {} dimensions.",
                a.ndim()
            ),
        ));
    }
    Ok(())
}

/// `diagonal` reporting errors under `op`: the other axes in order, then the diagonal.
fn diagonal_as(
    op: &'static str,
    a: &Array,
    offset: i32,
    axis1: i32,
    axis2: i32,
    st: Stream,
) -> OpResult {
    check_matrix(op, a)?;
    let nd = a.ndim();
    let (i, j) = (
        normalize_axis(op, axis1, nd)?,
        normalize_axis(op, axis2, nd)?,
    );
    if i == j {
        return Err(same_axes_err(op, axis1, axis2));
    }
    let mut perm: Vec<i32> = (0..nd)
        .filter(|&x| x != i && x != j)
        .map(|x| x as i32)
        .collect();
    perm.extend([i as i32, j as i32]);
    let moved = transpose(a, &perm, st)?;
    let (n, m) = (a.shape()[i] as i64, a.shape()[j] as i64);
    let k = offset as i64;
    let len = if k >= 0 { n.min(m - k) } else { (n + k).min(m) }.max(0);
    // Element (r, r + k) of the row-major n x m block sits at first + r * (m + 1).
    let mut flat_shape = moved.shape()[..nd - 2].to_vec();
    flat_shape.push((n * m) as i32);
    let flat = reshape(&moved, &flat_shape, st)?;
    let first = if k >= 0 { k } else { -k * m };
    let mut start = vec![0; nd - 1];
    let mut stop = flat_shape.clone();
    let mut step = vec![1; nd - 1];
    if len == 0 {
        stop[nd - 2] = 0;
    } else {
        start[nd - 2] = first as i32;
        stop[nd - 2] = (first + (len - 1) * (m + 1) + 1) as i32;
        step[nd - 2] = (m + 1) as i32;
    }
    slice(&flat, &start, &stop, &step, st)
}

/// The diagonal at `offset` (0 main, >0 above, <0 below) of the matrices spanned by `axis1` and
/// `axis2`; the result has the other axes in order, then the diagonal.
///
/// ```
/// let a = wmx::Array::from_slice(&[0i32, 1, 2, 3, 4, 5], &[2, 3]);
/// assert_eq!(wmx::diagonal(&a, 0, 0, 1, None).unwrap().to_vec::<i32>().unwrap(), vec![0, 4]);
/// assert_eq!(wmx::diagonal(&a, 1, 0, 1, None).unwrap().to_vec::<i32>().unwrap(), vec![1, 5]);
/// ```
pub fn diagonal(
    a: &Array,
    offset: i32,
    axis1: i32,
    axis2: i32,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("diagonal")?;
    diagonal_as("diagonal", a, offset, axis1, axis2, st)
}

/// For a 1-D `a`: a square matrix with `a` on diagonal `k`. For a 2-D `a`: its diagonal `k`.
///
/// ```
/// let v = wmx::Array::from_slice(&[1i32, 2], &[2]);
/// let m = wmx::diag(&v, 1, None).unwrap();
/// assert_eq!(m.shape(), &[3, 3]);
/// assert_eq!(m.to_vec::<i32>().unwrap(), vec![0, 1, 0, 0, 0, 2, 0, 0, 0]);
/// assert_eq!(wmx::diag(&m, 1, None).unwrap().to_vec::<i32>().unwrap(), vec![1, 2]);
/// ```
pub fn diag(a: &Array, k: i32, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("diag")?;
    match a.ndim() {
        1 => {
            let n = a.shape()[0] + k.abs();
            // Values padded to n, laid along rows (k >= 0) or columns (k < 0), kept where col - row = k.
            let padded = concatenate(&[a, &zeros(&[k.abs()], a.dtype(), st)?], 0, st)?;
            let along = if k >= 0 { [n, 1] } else { [1, n] };
            let values = reshape(&padded, &along, st)?;
            let rows = reshape(&arange(0.0, n as f64, 1.0, Dtype::Int32, st)?, &[n, 1], st)?;
            let cols = reshape(&arange(0.0, n as f64, 1.0, Dtype::Int32, st)?, &[1, n], st)?;
            let mask = equal(&cols, &add(&rows, Array::scalar(k), st)?, st)?;
            where_(&mask, &values, &zeros(&[], a.dtype(), st)?, st)
        }
        2 => diagonal_as("diag", a, k, 0, 1, st),
        d => Err(value_err(
            "diag",
            format!("Array must be 1-D or 2-D, got an array with {d} dimensions."),
        )),
    }
}

/// Sum of the diagonal at `offset` over `axis1`/`axis2`. `dtype` (default: the sum's dtype,
/// where bool sums to int32 and uint8 to uint32) is applied to the elements before summing.
///
/// ```
/// let a = wmx::Array::from_slice(&[0i32, 1, 2, 3, 4, 5], &[2, 3]);
/// assert_eq!(wmx::trace(&a, 0, 0, 1, None, None).unwrap().item::<i32>().unwrap(), 4);
/// let f = wmx::trace(&a, 1, 0, 1, Some(wmx::Dtype::Float32), None).unwrap();
/// assert_eq!(f.item::<f32>().unwrap(), 6.0);
/// ```
pub fn trace(
    a: &Array,
    offset: i32,
    axis1: i32,
    axis2: i32,
    dtype: Option<Dtype>,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("trace")?;
    let x = match dtype {
        Some(dt) => astype(a, dt, st)?,
        None => a.clone(),
    };
    let d = diagonal_as("trace", &x, offset, axis1, axis2, st)?;
    sum(&d, &[-1], false, st)
}

/// Mask of `rows x cols` (int32 aranges) with true where `col <= row + k`.
fn lower_mask(n: i32, m: i32, k: i32, st: Stream) -> OpResult {
    let (n, m) = (n.max(0), m.max(0));
    let rows = reshape(&arange(0.0, n as f64, 1.0, Dtype::Int32, st)?, &[n, 1], st)?;
    let cols = reshape(&arange(0.0, m as f64, 1.0, Dtype::Int32, st)?, &[1, m], st)?;
    less_equal(&cols, &add(&rows, Array::scalar(k), st)?, st)
}

/// An `n x m` (default `n x n`) matrix of ones at and below diagonal `k`, zeros above.
///
/// ```
/// let t = wmx::tri(2, Some(3), 0, wmx::Dtype::Int32, None).unwrap();
/// assert_eq!(t.to_vec::<i32>().unwrap(), vec![1, 0, 0, 1, 1, 0]);
/// ```
pub fn tri(n: i32, m: Option<i32>, k: i32, dtype: Dtype, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("tri")?;
    astype(&lower_mask(n, m.unwrap_or(n), k, st)?, dtype, st)
}

/// `a` with its last two axes' elements above diagonal `k` zeroed (`lower` false: below diagonal
/// `k`, exclusive, via the complementary mask).
fn triangle(op: &'static str, a: &Array, k: i32, lower: bool, st: Stream) -> OpResult {
    if a.ndim() < 2 {
        return Err(value_err(
            op,
            format!("Array must be at least 2-D, got {} dimensions.", a.ndim()),
        ));
    }
    let (n, m) = (a.shape()[a.ndim() - 2], a.shape()[a.ndim() - 1]);
    let zero = zeros(&[], a.dtype(), st)?;
    if lower {
        where_(&lower_mask(n, m, k, st)?, a, &zero, st)
    } else {
        where_(&lower_mask(n, m, k - 1, st)?, &zero, a, st)
    }
}

/// The lower triangle of the last two axes: elements above diagonal `k` become zero.
///
/// ```
/// let a = wmx::Array::from_slice(&[1i32, 2, 3, 4], &[2, 2]);
/// assert_eq!(wmx::tril(&a, 0, None).unwrap().to_vec::<i32>().unwrap(), vec![1, 0, 3, 4]);
/// ```
pub fn tril(a: &Array, k: i32, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("tril")?;
    triangle("tril", a, k, true, st)
}

/// The upper triangle of the last two axes: elements below diagonal `k` become zero.
///
/// ```
/// let a = wmx::Array::from_slice(&[1i32, 2, 3, 4], &[2, 2]);
/// assert_eq!(wmx::triu(&a, 1, None).unwrap().to_vec::<i32>().unwrap(), vec![0, 2, 0, 0]);
/// ```
pub fn triu(a: &Array, k: i32, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("triu")?;
    triangle("triu", a, k, false, st)
}
