//! Creation ops that are one node each: zeros, ones, full, arange, zeros_like, ones_like.
//! linspace, eye and identity are built from these and live in `composite.rs`.

use super::{OpResult, node};
use crate::array::Array;
use crate::dtype::Dtype;
use crate::error::value_err;
use crate::primitive::Primitive;
use crate::stream::StreamOrDevice;

/// Rejects negative dimensions and shapes too large for any array, under the caller's name.
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
    crate::shape::check_size(op, shape)?;
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
    node(shape.to_vec(), dtype, st, Primitive::Full(value), vec![])
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
    node(
        vec![len as i32],
        dtype,
        st,
        Primitive::Arange { start, step },
        vec![],
    )
}
