//! Unary elementwise ops (one public function per entry of `primitive::UnaryOp`) and `astype`.
//! Float-only ops promote integer and bool inputs to float32, as MLX does. Composites built on
//! them (`round` with decimals, the NaN/inf predicates, `nan_to_num`) live in `composite.rs`.

use super::{OpResult, cast_to, node};
use crate::array::Array;
use crate::dtype::Dtype;
use crate::error::dtype_err;
use crate::primitive::{Primitive, UnaryOp};
use crate::stream::StreamOrDevice;

/// Builds a unary node after MLX's dtype rules.
pub(crate) fn unary_op(op: UnaryOp, a: &Array, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve(op.name())?;
    let x = if op == UnaryOp::LogicalNot {
        cast_to(a, Dtype::Bool, st)
    } else if op.float_only() && !a.dtype().is_float() {
        cast_to(a, Dtype::Float32, st)
    } else {
        a.clone()
    };
    if !op.supports(x.dtype().domain()) {
        let hint = if op == UnaryOp::Negative {
            ", use logical_not instead"
        } else {
            ""
        };
        return Err(dtype_err(
            op.name(),
            format!("Not supported for {}{hint}.", x.dtype()),
        ));
    }
    node(
        x.shape().to_vec(),
        x.dtype(),
        st,
        Primitive::Unary(op),
        vec![x],
    )
}

macro_rules! unary_fns {
    ($($(#[$doc:meta])* $name:ident => $op:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name(a: &Array, s: impl Into<StreamOrDevice>) -> OpResult {
            unary_op(UnaryOp::$op, a, s)
        }
    )*};
}

unary_fns! {
    /// `-a` (not for bool).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1i32, -2], &[2]);
    /// assert_eq!(wmx::negative(&a, None).unwrap().to_vec::<i32>().unwrap(), vec![-1, 2]);
    /// ```
    negative => Negative;
    /// `|a|`.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[-1.5f32, 2.0], &[2]);
    /// assert_eq!(wmx::abs(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![1.5, 2.0]);
    /// ```
    abs => Abs;
    /// -1, 0 or 1 (0 for NaN).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[-3i32, 0, 5], &[3]);
    /// assert_eq!(wmx::sign(&a, None).unwrap().to_vec::<i32>().unwrap(), vec![-1, 0, 1]);
    /// ```
    sign => Sign;
    /// `e^a`.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[0.0f32], &[1]);
    /// assert_eq!(wmx::exp(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![1.0]);
    /// ```
    exp => Exp;
    /// Natural logarithm.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1.0f32], &[1]);
    /// assert_eq!(wmx::log(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![0.0]);
    /// ```
    log => Log;
    /// Square root.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[4.0f32], &[1]);
    /// assert_eq!(wmx::sqrt(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![2.0]);
    /// ```
    sqrt => Sqrt;
    /// `1 / sqrt(a)`.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[4.0f32], &[1]);
    /// assert_eq!(wmx::rsqrt(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![0.5]);
    /// ```
    rsqrt => Rsqrt;
    /// `a * a`.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[3i32], &[1]);
    /// assert_eq!(wmx::square(&a, None).unwrap().to_vec::<i32>().unwrap(), vec![9]);
    /// ```
    square => Square;
    /// `1 / a`.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[4.0f32], &[1]);
    /// assert_eq!(wmx::reciprocal(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![0.25]);
    /// ```
    reciprocal => Reciprocal;
    /// Sine.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[0.0f32], &[1]);
    /// assert_eq!(wmx::sin(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![0.0]);
    /// ```
    sin => Sin;
    /// Cosine.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[0.0f32], &[1]);
    /// assert_eq!(wmx::cos(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![1.0]);
    /// ```
    cos => Cos;
    /// Hyperbolic tangent.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[0.0f32], &[1]);
    /// assert_eq!(wmx::tanh(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![0.0]);
    /// ```
    tanh => Tanh;
    /// `1 / (1 + e^-a)`.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[0.0f32], &[1]);
    /// assert_eq!(wmx::sigmoid(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![0.5]);
    /// ```
    sigmoid => Sigmoid;
    /// Round down (integers and bool unchanged).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1.5f32, -1.5], &[2]);
    /// assert_eq!(wmx::floor(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![1.0, -2.0]);
    /// ```
    floor => Floor;
    /// Round up (integers and bool unchanged).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1.5f32, -1.5], &[2]);
    /// assert_eq!(wmx::ceil(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![2.0, -1.0]);
    /// ```
    ceil => Ceil;
    /// Logical not (any dtype, as truth values).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[0i32, 3], &[2]);
    /// assert_eq!(wmx::logical_not(&a, None).unwrap().to_vec::<bool>().unwrap(), vec![true, false]);
    /// ```
    logical_not => LogicalNot;
    /// `log(1 + a)`, accurate near 0.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[0.0f32], &[1]);
    /// assert_eq!(wmx::log1p(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![0.0]);
    /// ```
    log1p => Log1p;
    /// The error function (MLX's single-precision approximation).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[10.0f32], &[1]);
    /// assert_eq!(wmx::erf(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![1.0]);
    /// ```
    erf => Erf;
    /// The inverse error function (MLX's single-precision algorithm).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[0.0f32], &[1]);
    /// assert_eq!(wmx::erfinv(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![0.0]);
    /// ```
    erfinv => Erfinv;
    /// `e^a - 1`, accurate near 0.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[0.0f32, 1e-10], &[2]);
    /// assert_eq!(wmx::expm1(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![0.0, 1e-10]);
    /// ```
    expm1 => Expm1;
    /// Base-2 logarithm.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[8.0f32, 0.5], &[2]);
    /// assert_eq!(wmx::log2(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![3.0, -1.0]);
    /// ```
    log2 => Log2;
    /// Base-10 logarithm.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1.0f32], &[1]);
    /// assert_eq!(wmx::log10(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![0.0]);
    /// ```
    log10 => Log10;
    /// Tangent.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[0.0f32], &[1]);
    /// assert_eq!(wmx::tan(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![0.0]);
    /// ```
    tan => Tan;
    /// Inverse sine (NaN outside [-1, 1]).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[0.0f32], &[1]);
    /// assert_eq!(wmx::arcsin(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![0.0]);
    /// ```
    arcsin => ArcSin;
    /// Inverse cosine (NaN outside [-1, 1]).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1.0f32], &[1]);
    /// assert_eq!(wmx::arccos(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![0.0]);
    /// ```
    arccos => ArcCos;
    /// Inverse tangent.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[0.0f32], &[1]);
    /// assert_eq!(wmx::arctan(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![0.0]);
    /// ```
    arctan => ArcTan;
    /// Hyperbolic sine.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[0.0f32], &[1]);
    /// assert_eq!(wmx::sinh(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![0.0]);
    /// ```
    sinh => Sinh;
    /// Hyperbolic cosine.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[0.0f32], &[1]);
    /// assert_eq!(wmx::cosh(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![1.0]);
    /// ```
    cosh => Cosh;
    /// Inverse hyperbolic sine.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[0.0f32], &[1]);
    /// assert_eq!(wmx::arcsinh(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![0.0]);
    /// ```
    arcsinh => ArcSinh;
    /// Inverse hyperbolic cosine (NaN below 1).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1.0f32], &[1]);
    /// assert_eq!(wmx::arccosh(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![0.0]);
    /// ```
    arccosh => ArcCosh;
    /// Inverse hyperbolic tangent (±inf at ±1, NaN beyond).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[0.0f32, 1.0], &[2]);
    /// assert_eq!(wmx::arctanh(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![0.0, f32::INFINITY]);
    /// ```
    arctanh => ArcTanh;
    /// Radians to degrees.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[std::f32::consts::PI], &[1]);
    /// assert_eq!(wmx::degrees(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![180.0]);
    /// ```
    degrees => Degrees;
    /// Degrees to radians.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[180.0f32], &[1]);
    /// assert_eq!(wmx::radians(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![std::f32::consts::PI]);
    /// ```
    radians => Radians;
    /// Rounds toward zero (integers and bool unchanged).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1.7f32, -1.7], &[2]);
    /// assert_eq!(wmx::trunc(&a, None).unwrap().to_vec::<f32>().unwrap(), vec![1.0, -1.0]);
    /// ```
    trunc => Trunc;
    /// Bitwise not `~a` (integers; logical not for bool; an error for floats).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[0u8, 7], &[2]);
    /// assert_eq!(wmx::bitwise_invert(&a, None).unwrap().to_vec::<u8>().unwrap(), vec![255, 248]);
    /// ```
    bitwise_invert => BitwiseInvert;
}

/// `a` converted to `dtype` (floats to integers truncate; to bool is `!= 0`).
///
/// ```
/// let a = wmx::Array::from_slice(&[1.7f32, -1.7], &[2]);
/// let b = wmx::astype(&a, wmx::Dtype::Int32, None).unwrap();
/// assert_eq!(b.to_vec::<i32>().unwrap(), vec![1, -1]);
/// ```
pub fn astype(a: &Array, dtype: Dtype, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("astype")?;
    Ok(cast_to(a, dtype, st))
}
