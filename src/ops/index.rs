//! Indexing ops: `take` along an axis (`argsort` moved to `sort.rs`).

use super::{OpResult, node};
use crate::array::Array;
use crate::dtype::Dtype;
use crate::error::dtype_err;
use crate::primitive::Primitive;
use crate::shape::normalize_axis;
use crate::stream::StreamOrDevice;

// argsort lives with the other ordering ops; kept reachable here for existing callers.
pub(crate) use super::sort::argsort;

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
        &super::binary::less(&flat, &Array::scalar(0i32), st)?,
        &super::binary::add(&flat, &dim, st)?,
        &flat,
        st,
    )?;
    let clamped = super::binary::clip(
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
    );
    let mut final_shape = a.shape()[..ax].to_vec();
    final_shape.extend_from_slice(indices.shape());
    final_shape.extend_from_slice(&a.shape()[ax + 1..]);
    super::shape::reshape(&out, &final_shape, st)
}
