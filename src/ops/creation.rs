//! Creation ops: zeros, ones, full, arange, linspace, eye, identity, zeros_like, ones_like.

use super::{OpResult, node};
use crate::array::Array;
use crate::dtype::Dtype;
use crate::error::value_err;
use crate::primitive::Primitive;
use crate::stream::StreamOrDevice;

fn check_shape(op: &'static str, shape: &[i32]) -> crate::error::Result<()> {
    if let Some(d) = shape.iter().find(|&&d| d < 0) {
        return Err(value_err(
            op,
            format!(
                "Negative dimension {d} in shape {}.",
                crate::shape::fmt_shape(shape)
            ),
        ));
    }
    Ok(())
}

/// An array of `shape` filled with `value` converted to `dtype`.
///
/// ```
/// let a = wmx::full(&[2, 2], 7.0, wmx::Dtype::Int32, None).unwrap();
/// assert_eq!(a.to_vec::<i32>().unwrap(), vec![7; 4]);
/// ```
pub fn full(shape: &[i32], value: f64, dtype: Dtype, s: impl Into<StreamOrDevice>) -> OpResult {
    full_as("full", shape, value, dtype, s.into())
}

/// `full` reporting errors under the caller's name (`zeros`, `ones`...).
fn full_as(
    op: &'static str,
    shape: &[i32],
    value: f64,
    dtype: Dtype,
    s: StreamOrDevice,
) -> OpResult {
    let st = s.resolve(op)?;
    check_shape(op, shape)?;
    Ok(node(
        shape.to_vec(),
        dtype,
        st,
        Primitive::Full(value),
        vec![],
    ))
}

/// Zeros.
///
/// ```
/// let a = wmx::zeros(&[3], wmx::Dtype::Float32, None).unwrap();
/// assert_eq!(a.to_vec::<f32>().unwrap(), vec![0.0; 3]);
/// ```
pub fn zeros(shape: &[i32], dtype: Dtype, s: impl Into<StreamOrDevice>) -> OpResult {
    full_as("zeros", shape, 0.0, dtype, s.into())
}

/// Ones.
///
/// ```
/// let a = wmx::ones(&[2], wmx::Dtype::Bfloat16, None).unwrap();
/// assert_eq!(a.to_vec::<f32>().unwrap(), vec![1.0, 1.0]);
/// ```
pub fn ones(shape: &[i32], dtype: Dtype, s: impl Into<StreamOrDevice>) -> OpResult {
    full_as("ones", shape, 1.0, dtype, s.into())
}

/// Zeros with `a`'s shape and dtype.
///
/// ```
/// let a = wmx::Array::from_slice(&[1u8, 2], &[2]);
/// assert_eq!(wmx::zeros_like(&a, None).unwrap().to_vec::<u8>().unwrap(), vec![0, 0]);
/// ```
pub fn zeros_like(a: &Array, s: impl Into<StreamOrDevice>) -> OpResult {
    full_as("zeros_like", a.shape(), 0.0, a.dtype(), s.into())
}

/// Ones with `a`'s shape and dtype.
///
/// ```
/// let a = wmx::Array::from_slice(&[1i32, 2], &[2]);
/// assert_eq!(wmx::ones_like(&a, None).unwrap().to_vec::<i32>().unwrap(), vec![1, 1]);
/// ```
pub fn ones_like(a: &Array, s: impl Into<StreamOrDevice>) -> OpResult {
    full_as("ones_like", a.shape(), 1.0, a.dtype(), s.into())
}

/// `start, start + step, ...` up to (not including) `stop`.
///
/// ```
/// let a = wmx::arange(0.0, 5.0, 2.0, wmx::Dtype::Int32, None).unwrap();
/// assert_eq!(a.to_vec::<i32>().unwrap(), vec![0, 2, 4]);
/// ```
pub fn arange(
    start: f64,
    stop: f64,
    step: f64,
    dtype: Dtype,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("arange")?;
    if step == 0.0 || !step.is_finite() || !start.is_finite() || !stop.is_finite() {
        return Err(value_err(
            "arange",
            format!("Cannot compute length with start={start}, stop={stop}, step={step}."),
        ));
    }
    if dtype == Dtype::Bool {
        return Err(crate::error::dtype_err(
            "arange",
            "Cannot make an arange of bool.",
        ));
    }
    let len = ((stop - start) / step).ceil().max(0.0);
    if len > i32::MAX as f64 {
        return Err(value_err(
            "arange",
            format!("Maximum size exceeded: {len} elements."),
        ));
    }
    Ok(node(
        vec![len as i32],
        dtype,
        st,
        Primitive::Arange { start, step },
        vec![],
    ))
}

/// `num` evenly spaced values from `start` to `stop` inclusive.
///
/// ```
/// let a = wmx::linspace(0.0, 1.0, 5, wmx::Dtype::Float32, None).unwrap();
/// assert_eq!(a.to_vec::<f32>().unwrap(), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
/// ```
pub fn linspace(
    start: f64,
    stop: f64,
    num: i32,
    dtype: Dtype,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("linspace")?;
    if num < 0 {
        return Err(value_err(
            "linspace",
            format!("num must be non-negative, got {num}."),
        ));
    }
    let delta = if num > 1 {
        (stop - start) / (num - 1) as f64
    } else {
        0.0
    };
    let idx = arange(0.0, num as f64, 1.0, Dtype::Float32, st)?;
    let scaled = super::binary::multiply(&idx, &full(&[], delta, Dtype::Float32, st)?, st)?;
    let v = super::binary::add(&scaled, &full(&[], start, Dtype::Float32, st)?, st)?;
    super::unary::astype(&v, dtype, st)
}

/// An `n x m` matrix with ones on diagonal `k` (0 main, >0 above, <0 below).
///
/// ```
/// let a = wmx::eye(2, Some(3), 1, wmx::Dtype::Float32, None).unwrap();
/// assert_eq!(a.to_vec::<f32>().unwrap(), vec![0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
/// ```
pub fn eye(n: i32, m: Option<i32>, k: i32, dtype: Dtype, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("eye")?;
    let m = m.unwrap_or(n);
    if n < 0 || m < 0 {
        return Err(value_err(
            "eye",
            format!("N and M must be non-negative, got {n} and {m}."),
        ));
    }
    let rows = super::shape::reshape(&arange(0.0, n as f64, 1.0, Dtype::Int32, st)?, &[n, 1], st)?;
    let cols = super::shape::reshape(
        &arange(-(k as f64), (m - k) as f64, 1.0, Dtype::Int32, st)?,
        &[1, m],
        st,
    )?;
    super::unary::astype(&super::binary::equal(&rows, &cols, st)?, dtype, st)
}

/// The `n x n` identity.
///
/// ```
/// let a = wmx::identity(2, wmx::Dtype::Int32, None).unwrap();
/// assert_eq!(a.to_vec::<i32>().unwrap(), vec![1, 0, 0, 1]);
/// ```
pub fn identity(n: i32, dtype: Dtype, s: impl Into<StreamOrDevice>) -> OpResult {
    eye(n, None, 0, dtype, s)
}
