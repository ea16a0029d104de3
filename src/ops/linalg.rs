//! Matrix products: `matmul` (2-D, batched with broadcast batch dims, 1-D operands like NumPy),
//! and the composites built on it: addmm, inner, outer, tensordot. (`einsum` has its own file.)

use super::binary::{add, multiply};
use super::creation::full;
use super::shape::{reshape, transpose};
use super::{OpResult, broadcast_view, cast_to, node};
use crate::array::Array;
use crate::dtype::promote_types;
use crate::error::{dtype_err, shape_err, value_err};
use crate::primitive::Primitive;
use crate::shape::{broadcast_shapes, fmt_shape, normalize_axes, normalize_axis};
use crate::stream::StreamOrDevice;

/// Matrix product `a @ b` for float dtypes. Batch dims broadcast; a 1-D `a` is a row vector and a
/// 1-D `b` a column vector, whose unit dim is dropped from the result.
///
/// ```
/// let a = wmx::Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2]);
/// let b = wmx::Array::from_slice(&[1.0f32, 0.0, 0.0, 1.0], &[2, 2]);
/// assert_eq!(wmx::matmul(&a, &b, None).unwrap().to_vec::<f32>().unwrap(), vec![1.0, 2.0, 3.0, 4.0]);
/// ```
pub fn matmul(a: &Array, b: &Array, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("matmul")?;
    let dt = promote_types(a.dtype(), b.dtype());
    if !dt.is_float() {
        return Err(dtype_err(
            "matmul",
            format!(
                "Only inexact types are supported but {} and {} were provided which results in {dt}, which is not a floating point type.",
                a.dtype(),
                b.dtype()
            ),
        ));
    }
    if a.ndim() == 0 || b.ndim() == 0 {
        return Err(value_err(
            "matmul",
            "Got 0 dimension input. Inputs must have at least one dimension.",
        ));
    }
    let mut x = cast_to(a, dt, st);
    let mut y = cast_to(b, dt, st);
    if a.ndim() == 1 {
        x = super::shape::reshape(&x, &[1, a.shape()[0]], st)?;
    }
    if b.ndim() == 1 {
        y = super::shape::reshape(&y, &[b.shape()[0], 1], st)?;
    }
    let (xs, ys) = (x.shape().to_vec(), y.shape().to_vec());
    let (xn, yn) = (xs.len(), ys.len());
    if xs[xn - 1] != ys[yn - 2] {
        return Err(shape_err(
            "matmul",
            format!(
                "Last dimension of first input with shape {} must match second to last dimension of second input with shape {}.",
                fmt_shape(a.shape()),
                fmt_shape(b.shape())
            ),
        ));
    }
    let batch = broadcast_shapes(&xs[..xn - 2], &ys[..yn - 2])?;
    let mut xt = batch.clone();
    xt.extend_from_slice(&xs[xn - 2..]);
    let mut yt = batch.clone();
    yt.extend_from_slice(&ys[yn - 2..]);
    let mut out = batch.clone();
    out.extend_from_slice(&[xs[xn - 2], ys[yn - 1]]);
    let r = node(
        out.clone(),
        dt,
        st,
        Primitive::Matmul,
        vec![broadcast_view(&x, &xt, st)?, broadcast_view(&y, &yt, st)?],
    )?;
    let mut final_shape = batch;
    if a.ndim() > 1 {
        final_shape.push(out[out.len() - 2]);
    }
    if b.ndim() > 1 {
        final_shape.push(out[out.len() - 1]);
    }
    if final_shape == out {
        Ok(r)
    } else {
        super::shape::reshape(&r, &final_shape, st)
    }
}

/// `alpha * (a @ b) + beta * c` for float dtypes; `c` broadcasts to the product's shape, and is
/// ignored (NaNs included) when `beta` is 0.
///
/// ```
/// let a = wmx::Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2]);
/// let c = wmx::Array::from_slice(&[1.0f32, 1.0], &[2]);
/// let r = wmx::addmm(&c, &a, &a, 2.0, 0.5, None).unwrap();
/// assert_eq!(r.to_vec::<f32>().unwrap(), vec![14.5, 20.5, 30.5, 44.5]);
/// ```
pub fn addmm(
    c: &Array,
    a: &Array,
    b: &Array,
    alpha: f32,
    beta: f32,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("addmm")?;
    let dt = promote_types(promote_types(a.dtype(), b.dtype()), c.dtype());
    if !dt.is_float() {
        return Err(dtype_err(
            "addmm",
            format!(
                "Only floating point types are supported but {}, {} and {} were provided which results in {dt}.",
                c.dtype(),
                a.dtype(),
                b.dtype()
            ),
        ));
    }
    let ab = matmul(&cast_to(a, dt, st), &cast_to(b, dt, st), st)?;
    if broadcast_shapes(c.shape(), ab.shape()).ok().as_deref() != Some(ab.shape()) {
        return Err(shape_err(
            "addmm",
            format!(
                "Input c with shape {} must broadcast to the output shape {}.",
                fmt_shape(c.shape()),
                fmt_shape(ab.shape())
            ),
        ));
    }
    let scaled = |x: &Array, f: f32| -> OpResult {
        if f == 1.0 {
            return Ok(x.clone());
        }
        multiply(x, &full(&[], f as f64, dt, st)?, st)
    };
    let ab = scaled(&ab, alpha)?;
    if beta == 0.0 {
        return Ok(ab);
    }
    add(&ab, &scaled(&cast_to(c, dt, st), beta)?, st)
}

/// Sum product over the last axes of `a` and `b` (a scalar operand multiplies instead); the
/// result's shape is `a.shape[..-1] + b.shape[..-1]`.
///
/// ```
/// let a = wmx::Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2]);
/// let v = wmx::Array::from_slice(&[1.0f32, 1.0], &[2]);
/// assert_eq!(wmx::inner(&a, &v, None).unwrap().to_vec::<f32>().unwrap(), vec![3.0, 7.0]);
/// ```
pub fn inner(a: &Array, b: &Array, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("inner")?;
    if a.ndim() == 0 || b.ndim() == 0 {
        return multiply(a, b, st);
    }
    let k = a.shape()[a.ndim() - 1];
    if k != b.shape()[b.ndim() - 1] {
        return Err(shape_err(
            "inner",
            format!(
                "a and b must have the same last dimension, got shapes {} and {}.",
                fmt_shape(a.shape()),
                fmt_shape(b.shape())
            ),
        ));
    }
    tensordot(a, b, TensorAxes::Lists(vec![-1], vec![-1]), st)
}

/// Outer product of the flattened `a` and `b`: shape `[a.size, b.size]`, any dtype.
///
/// ```
/// let a = wmx::Array::from_slice(&[1i32, 2], &[2]);
/// let b = wmx::Array::from_slice(&[3i32, 4, 5], &[3]);
/// assert_eq!(wmx::outer(&a, &b, None).unwrap().to_vec::<i32>().unwrap(), vec![3, 4, 5, 6, 8, 10]);
/// ```
pub fn outer(a: &Array, b: &Array, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("outer")?;
    let col = reshape(a, &[a.size() as i32, 1], st)?;
    let row = reshape(b, &[1, b.size() as i32], st)?;
    multiply(&col, &row, st)
}

/// Which axes [`tensordot`] contracts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TensorAxes {
    /// The last `n` axes of `a` with the first `n` axes of `b`.
    Count(i32),
    /// `a`'s axes `.0[i]` with `b`'s axes `.1[i]` (negative allowed).
    Lists(Vec<i32>, Vec<i32>),
}

impl From<i32> for TensorAxes {
    fn from(n: i32) -> Self {
        TensorAxes::Count(n)
    }
}

/// Sum of products over the axis pairs in `axes`; the result has `a`'s other axes, then `b`'s.
/// Float dtypes (it runs on `matmul`).
///
/// ```
/// use wmx::TensorAxes;
/// let a = wmx::Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2]);
/// let r = wmx::tensordot(&a, &a, TensorAxes::Count(1), None).unwrap(); // a @ a
/// assert_eq!(r.to_vec::<f32>().unwrap(), vec![7.0, 10.0, 15.0, 22.0]);
/// let t = wmx::tensordot(&a, &a, TensorAxes::Lists(vec![0], vec![0]), None).unwrap(); // a.T @ a
/// assert_eq!(t.to_vec::<f32>().unwrap(), vec![10.0, 14.0, 14.0, 20.0]);
/// ```
pub fn tensordot(
    a: &Array,
    b: &Array,
    axes: impl Into<TensorAxes>,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("tensordot")?;
    let (ca, cb): (Vec<usize>, Vec<usize>) = match axes.into() {
        TensorAxes::Count(n) => {
            if n < 0 || n as usize > a.ndim() || n as usize > b.ndim() {
                return Err(value_err(
                    "tensordot",
                    format!(
                        "Cannot contract {n} axes of arrays with {} and {} dimensions.",
                        a.ndim(),
                        b.ndim()
                    ),
                ));
            }
            let n = n as usize;
            ((a.ndim() - n..a.ndim()).collect(), (0..n).collect())
        }
        TensorAxes::Lists(x, y) => {
            if x.len() != y.len() {
                return Err(value_err(
                    "tensordot",
                    format!("axes must have the same size, got {x:?} and {y:?}."),
                ));
            }
            (ordered_axes(&x, a.ndim())?, ordered_axes(&y, b.ndim())?)
        }
    };
    if let Some(i) = (0..ca.len()).find(|&i| a.shape()[ca[i]] != b.shape()[cb[i]]) {
        return Err(shape_err(
            "tensordot",
            format!(
                "a and b must have the same shape on the contracted axes: axis {} of {} vs axis {} of {}.",
                ca[i],
                fmt_shape(a.shape()),
                cb[i],
                fmt_shape(b.shape())
            ),
        ));
    }
    let free_a: Vec<usize> = (0..a.ndim()).filter(|i| !ca.contains(i)).collect();
    let free_b: Vec<usize> = (0..b.ndim()).filter(|i| !cb.contains(i)).collect();
    let dims = |x: &Array, ax: &[usize]| -> i32 { ax.iter().map(|&i| x.shape()[i]).product() };
    let k = dims(a, &ca);
    let as_i32 = |v: Vec<usize>| v.into_iter().map(|i| i as i32).collect::<Vec<_>>();
    let x = transpose(a, &as_i32([free_a.clone(), ca].concat()), st)?;
    let y = transpose(b, &as_i32([cb, free_b.clone()].concat()), st)?;
    let x = reshape(&x, &[dims(a, &free_a), k], st)?;
    let y = reshape(&y, &[k, dims(b, &free_b)], st)?;
    let out: Vec<i32> = free_a
        .iter()
        .map(|&i| a.shape()[i])
        .chain(free_b.iter().map(|&i| b.shape()[i]))
        .collect();
    reshape(&matmul(&x, &y, st)?, &out, st)
}

/// `axes` normalised for tensordot, in the given order (pairs matter), without repeats.
fn ordered_axes(axes: &[i32], ndim: usize) -> crate::error::Result<Vec<usize>> {
    normalize_axes("tensordot", axes, ndim)?;
    axes.iter()
        .map(|&x| normalize_axis("tensordot", x, ndim))
        .collect()
}
