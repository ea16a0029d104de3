//! Unary elementwise ops (one public function per entry of `primitive::UnaryOp`), `astype`, and
//! the composites built on them: `round` with decimals, the NaN/inf predicates (bool outputs) and
//! `nan_to_num`. Float-only ops promote integer and bool inputs to float32, as MLX does.

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
    Ok(node(
        x.shape().to_vec(),
        x.dtype(),
        st,
        Primitive::Unary(op),
        vec![x],
    ))
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

/// Rounds to `decimals` places, halves to even (MLX: `round(a * 10^d) * (1 / 10^d)` in the
/// input's dtype, `10^d` rounded to float32 first). Integers and bool are unchanged for
/// `decimals >= 0` and round through float32 otherwise.
///
/// ```
/// let a = wmx::Array::from_slice(&[0.5f32, 1.5, 2.5, -2.5], &[4]);
/// assert_eq!(wmx::round(&a, 0, None).unwrap().to_vec::<f32>().unwrap(), vec![0.0, 2.0, 2.0, -2.0]);
/// let i = wmx::Array::from_slice(&[15i32, 25, 14], &[3]);
/// assert_eq!(wmx::round(&i, -1, None).unwrap().to_vec::<i32>().unwrap(), vec![20, 20, 10]);
/// ```
pub fn round(a: &Array, decimals: i32, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("round")?;
    if decimals == 0 || (decimals > 0 && !a.dtype().is_float()) {
        return unary_op(UnaryOp::Round, a, st);
    }
    let x = if a.dtype().is_float() {
        a.clone()
    } else {
        cast_to(a, Dtype::Float32, st)
    };
    let scale = 10f64.powi(decimals) as f32;
    let inverse = 1.0 / scale;
    let scaled = super::binary::multiply(&x, scale, st)?;
    let r = super::binary::multiply(&unary_op(UnaryOp::Round, &scaled, st)?, inverse, st)?;
    Ok(cast_to(&r, a.dtype(), st))
}

/// A bool array: `f(a)` for float inputs, `value` everywhere for the others (which hold neither
/// NaN nor infinities).
fn float_predicate(
    a: &Array,
    value: bool,
    st: crate::stream::Stream,
    f: impl FnOnce(&Array) -> OpResult,
) -> OpResult {
    if a.dtype().is_float() {
        f(a)
    } else {
        super::creation::full(a.shape(), value as u8 as f64, Dtype::Bool, st)
    }
}

/// True where `a` is NaN (bool; false for integers).
///
/// ```
/// let a = wmx::Array::from_slice(&[1.0f32, f32::NAN], &[2]);
/// assert_eq!(wmx::isnan(&a, None).unwrap().to_vec::<bool>().unwrap(), vec![false, true]);
/// ```
pub fn isnan(a: &Array, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("isnan")?;
    float_predicate(a, false, st, |x| super::binary::not_equal(x, x, st))
}

/// True where `a` is +inf or -inf (bool; false for integers).
///
/// ```
/// let a = wmx::Array::from_slice(&[1.0f32, f32::NEG_INFINITY, f32::NAN], &[3]);
/// assert_eq!(wmx::isinf(&a, None).unwrap().to_vec::<bool>().unwrap(), vec![false, true, false]);
/// ```
pub fn isinf(a: &Array, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("isinf")?;
    float_predicate(a, false, st, |x| {
        super::binary::equal(&abs(x, st)?, f64::INFINITY, st)
    })
}

/// True where `a` is neither NaN nor infinite (bool; true for integers).
///
/// ```
/// let a = wmx::Array::from_slice(&[1.0f32, f32::INFINITY, f32::NAN], &[3]);
/// assert_eq!(wmx::isfinite(&a, None).unwrap().to_vec::<bool>().unwrap(), vec![true, false, false]);
/// ```
pub fn isfinite(a: &Array, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("isfinite")?;
    float_predicate(a, true, st, |x| {
        super::binary::less(&abs(x, st)?, f64::INFINITY, st)
    })
}

/// True where `a` is +inf (bool).
///
/// ```
/// let a = wmx::Array::from_slice(&[f32::INFINITY, f32::NEG_INFINITY], &[2]);
/// assert_eq!(wmx::isposinf(&a, None).unwrap().to_vec::<bool>().unwrap(), vec![true, false]);
/// ```
pub fn isposinf(a: &Array, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("isposinf")?;
    float_predicate(a, false, st, |x| super::binary::equal(x, f64::INFINITY, st))
}

/// True where `a` is -inf (bool).
///
/// ```
/// let a = wmx::Array::from_slice(&[f32::INFINITY, f32::NEG_INFINITY], &[2]);
/// assert_eq!(wmx::isneginf(&a, None).unwrap().to_vec::<bool>().unwrap(), vec![false, true]);
/// ```
pub fn isneginf(a: &Array, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("isneginf")?;
    float_predicate(a, false, st, |x| {
        super::binary::equal(x, f64::NEG_INFINITY, st)
    })
}

/// The largest finite value of a float dtype.
fn float_max(d: Dtype) -> f64 {
    match d {
        Dtype::Float16 => half::f16::MAX.to_f64(),
        Dtype::Bfloat16 => half::bf16::MAX.to_f64(),
        Dtype::Float32 | Dtype::Bool | Dtype::Uint8 | Dtype::Uint32 | Dtype::Int32 => {
            f32::MAX as f64
        }
    }
}

/// NaN replaced by `nan`, +inf by `posinf`, -inf by `neginf` (the dtype's largest and lowest
/// finite values when `None`); values are converted to `a`'s dtype (so they may overflow to
/// inf, as in MLX). Integer and bool inputs are returned unchanged.
///
/// ```
/// let a = wmx::Array::from_slice(&[1.0f32, f32::NAN, f32::INFINITY, f32::NEG_INFINITY], &[4]);
/// let r = wmx::nan_to_num(&a, 0.0, None, Some(-5.0), None).unwrap();
/// assert_eq!(r.to_vec::<f32>().unwrap(), vec![1.0, 0.0, f32::MAX, -5.0]);
/// ```
pub fn nan_to_num(
    a: &Array,
    nan: f64,
    posinf: Option<f64>,
    neginf: Option<f64>,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("nan_to_num")?;
    let dt = a.dtype();
    if !dt.is_float() {
        return Ok(a.clone());
    }
    let posinf = posinf.unwrap_or(float_max(dt));
    let neginf = neginf.unwrap_or(-float_max(dt));
    use super::binary::where_;
    let r = where_(isneginf(a, st)?, neginf, a, st)?;
    let r = where_(isposinf(a, st)?, posinf, r, st)?;
    where_(isnan(a, st)?, nan, r, st)
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
