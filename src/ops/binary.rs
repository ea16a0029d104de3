//! Binary elementwise ops with NumPy broadcasting and MLX promotion (one function per entry of
//! `primitive::BinaryOp`), plus `where_` and `clip`.

use super::{OpResult, broadcast_view, cast_to, node};
use crate::array::Array;
use crate::dtype::{Dtype, promote_types};
use crate::error::dtype_err;
use crate::primitive::{BinaryOp, Primitive};
use crate::shape::broadcast_shapes;
use crate::stream::StreamOrDevice;

/// Builds a binary node: promote, check the domain, broadcast.
pub(crate) fn binary_op(
    op: BinaryOp,
    a: &Array,
    b: &Array,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve(op.name())?;
    let mut dt = promote_types(a.dtype(), b.dtype());
    match op {
        BinaryOp::LogicalAnd | BinaryOp::LogicalOr => dt = Dtype::Bool,
        BinaryOp::Divide if !dt.is_float() => dt = Dtype::Float32,
        _ => {}
    }
    if !op.supports(dt.domain()) {
        return Err(dtype_err(
            op.name(),
            format!(
                "Not supported for {} and {} (promoted to {dt}).",
                a.dtype(),
                b.dtype()
            ),
        ));
    }
    let shape = broadcast_shapes(a.shape(), b.shape())?;
    let x = broadcast_view(&cast_to(a, dt, st), &shape, st);
    let y = broadcast_view(&cast_to(b, dt, st), &shape, st);
    let out = if op.outputs_bool() { Dtype::Bool } else { dt };
    Ok(node(shape, out, st, Primitive::Binary(op), vec![x, y]))
}

macro_rules! binary_fns {
    ($($(#[$doc:meta])* $name:ident => $op:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name(a: &Array, b: &Array, s: impl Into<StreamOrDevice>) -> OpResult {
            binary_op(BinaryOp::$op, a, b, s)
        }
    )*};
}

binary_fns! {
    /// `a + b` with broadcasting.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1.0f32, 2.0], &[2]);
    /// let b = wmx::Array::from_slice(&[10.0f32], &[1]);
    /// assert_eq!(wmx::add(&a, &b, None).unwrap().to_vec::<f32>().unwrap(), vec![11.0, 12.0]);
    /// ```
    add => Add;
    /// `a - b`.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[5i32], &[1]);
    /// assert_eq!(wmx::subtract(&a, &a, None).unwrap().to_vec::<i32>().unwrap(), vec![0]);
    /// ```
    subtract => Subtract;
    /// `a * b`.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[3u32], &[1]);
    /// assert_eq!(wmx::multiply(&a, &a, None).unwrap().to_vec::<u32>().unwrap(), vec![9]);
    /// ```
    multiply => Multiply;
    /// `a / b` (integers divide as float32).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1i32], &[1]);
    /// let b = wmx::Array::from_slice(&[2i32], &[1]);
    /// assert_eq!(wmx::divide(&a, &b, None).unwrap().to_vec::<f32>().unwrap(), vec![0.5]);
    /// ```
    divide => Divide;
    /// `a ** b`.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[2i32], &[1]);
    /// let b = wmx::Array::from_slice(&[10i32], &[1]);
    /// assert_eq!(wmx::power(&a, &b, None).unwrap().to_vec::<i32>().unwrap(), vec![1024]);
    /// ```
    power => Power;
    /// Elementwise maximum (NaN propagates).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1.0f32, 5.0], &[2]);
    /// let b = wmx::Array::from_slice(&[3.0f32, 2.0], &[2]);
    /// assert_eq!(wmx::maximum(&a, &b, None).unwrap().to_vec::<f32>().unwrap(), vec![3.0, 5.0]);
    /// ```
    maximum => Maximum;
    /// Elementwise minimum (NaN propagates).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1.0f32, 5.0], &[2]);
    /// let b = wmx::Array::from_slice(&[3.0f32, 2.0], &[2]);
    /// assert_eq!(wmx::minimum(&a, &b, None).unwrap().to_vec::<f32>().unwrap(), vec![1.0, 2.0]);
    /// ```
    minimum => Minimum;
    /// `a == b` (bool).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1i32, 2], &[2]);
    /// let b = wmx::Array::from_slice(&[1i32, 3], &[2]);
    /// assert_eq!(wmx::equal(&a, &b, None).unwrap().to_vec::<bool>().unwrap(), vec![true, false]);
    /// ```
    equal => Equal;
    /// `a != b` (bool).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1i32, 2], &[2]);
    /// let b = wmx::Array::from_slice(&[1i32, 3], &[2]);
    /// assert_eq!(wmx::not_equal(&a, &b, None).unwrap().to_vec::<bool>().unwrap(), vec![false, true]);
    /// ```
    not_equal => NotEqual;
    /// `a < b` (bool).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1.0f32, 2.0], &[2]);
    /// let b = wmx::Array::from_slice(&[2.0f32, 2.0], &[2]);
    /// assert_eq!(wmx::less(&a, &b, None).unwrap().to_vec::<bool>().unwrap(), vec![true, false]);
    /// ```
    less => Less;
    /// `a <= b` (bool).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1.0f32, 2.0], &[2]);
    /// let b = wmx::Array::from_slice(&[2.0f32, 2.0], &[2]);
    /// assert_eq!(wmx::less_equal(&a, &b, None).unwrap().to_vec::<bool>().unwrap(), vec![true, true]);
    /// ```
    less_equal => LessEqual;
    /// `a > b` (bool).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[3u8, 2], &[2]);
    /// let b = wmx::Array::from_slice(&[2u8, 2], &[2]);
    /// assert_eq!(wmx::greater(&a, &b, None).unwrap().to_vec::<bool>().unwrap(), vec![true, false]);
    /// ```
    greater => Greater;
    /// `a >= b` (bool).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[3u8, 1], &[2]);
    /// let b = wmx::Array::from_slice(&[2u8, 2], &[2]);
    /// assert_eq!(wmx::greater_equal(&a, &b, None).unwrap().to_vec::<bool>().unwrap(), vec![true, false]);
    /// ```
    greater_equal => GreaterEqual;
    /// Logical and of truth values (any dtype).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1i32, 0], &[2]);
    /// let b = wmx::Array::from_slice(&[2i32, 2], &[2]);
    /// assert_eq!(wmx::logical_and(&a, &b, None).unwrap().to_vec::<bool>().unwrap(), vec![true, false]);
    /// ```
    logical_and => LogicalAnd;
    /// Logical or of truth values (any dtype).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[true, false], &[2]);
    /// let b = wmx::Array::from_slice(&[false, false], &[2]);
    /// assert_eq!(wmx::logical_or(&a, &b, None).unwrap().to_vec::<bool>().unwrap(), vec![true, false]);
    /// ```
    logical_or => LogicalOr;
}

/// `x` where `cond` is true, else `y`; all three broadcast together, x and y promote.
///
/// ```
/// let c = wmx::Array::from_slice(&[true, false], &[2]);
/// let x = wmx::Array::from_slice(&[1i32, 2], &[2]);
/// let y = wmx::Array::from_slice(&[1.5f32], &[1]);
/// let r = wmx::where_(&c, &x, &y, None).unwrap();
/// assert_eq!(r.to_vec::<f32>().unwrap(), vec![1.0, 1.5]);
/// ```
pub fn where_(cond: &Array, x: &Array, y: &Array, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("where")?;
    let dt = promote_types(x.dtype(), y.dtype());
    let shape = broadcast_shapes(&broadcast_shapes(cond.shape(), x.shape())?, y.shape())?;
    let c = broadcast_view(&cast_to(cond, Dtype::Bool, st), &shape, st);
    let a = broadcast_view(&cast_to(x, dt, st), &shape, st);
    let b = broadcast_view(&cast_to(y, dt, st), &shape, st);
    Ok(node(shape, dt, st, Primitive::Where, vec![c, a, b]))
}

/// `a` clipped to `[a_min, a_max]` (either bound may be `None`).
///
/// ```
/// let a = wmx::Array::from_slice(&[1i32, 5, 9], &[3]);
/// let lo = wmx::Array::scalar(2i32);
/// let hi = wmx::Array::scalar(6i32);
/// let r = wmx::clip(&a, Some(&lo), Some(&hi), None).unwrap();
/// assert_eq!(r.to_vec::<i32>().unwrap(), vec![2, 5, 6]);
/// ```
pub fn clip(
    a: &Array,
    a_min: Option<&Array>,
    a_max: Option<&Array>,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("clip")?;
    if a_min.is_none() && a_max.is_none() {
        return Err(crate::error::value_err(
            "clip",
            "At most one of a_min and a_max may be None.",
        ));
    }
    let mut r = a.clone();
    if let Some(lo) = a_min {
        r = maximum(&r, lo, st)?;
    }
    if let Some(hi) = a_max {
        r = minimum(&r, hi, st)?;
    }
    Ok(r)
}
