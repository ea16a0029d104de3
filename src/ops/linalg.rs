//! Matrix products: `matmul` (2-D, batched with broadcast batch dims, 1-D operands like NumPy).

use super::{OpResult, broadcast_view, cast_to, node};
use crate::array::Array;
use crate::dtype::promote_types;
use crate::error::{dtype_err, shape_err, value_err};
use crate::primitive::Primitive;
use crate::shape::{broadcast_shapes, fmt_shape};
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
        vec![broadcast_view(&x, &xt, st), broadcast_view(&y, &yt, st)],
    );
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
