//! Composite ops of the elementwise, reduction and creation families: written with the builders
//! of `unary.rs`, `binary.rs`, `reduce.rs`, `creation.rs` (one node each), shape and sort ops,
//! touching no backend. Keeping them here keeps those family files a DAG (creation and unary
//! depend on no other family, binary on creation, reduce on shape). Sections: creation,
//! elementwise, comparisons, statistics, normalisation. Composites of other families stay with
//! them (norm.rs, einsum.rs, diagonal.rs, structure.rs). softmax is one node for the last axis:
//! a benchmark showed that primitive pays (one pass instead of five).

use super::binary::{
    Operand, add, binary_op, equal, less_equal, logical_and, logical_or, materialize, maximum,
    minimum, multiply, subtract,
};
use super::creation::{arange, full};
use super::reduce::{finish, resolve_axes, sum};
use super::unary::{abs, unary_op};
use super::{OpResult, cast_to};
use crate::array::Array;
use crate::dtype::{Dtype, promote_types};
use crate::error::{Result, value_err};
use crate::primitive::{BinaryOp, UnaryOp};
use crate::stream::{Stream, StreamOrDevice};

// ---- creation: linspace, eye, identity ----

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

// ---- elementwise: rounding, NaN/inf predicates, nan_to_num, divmod, clip ----

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
    st: Stream,
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

/// `(floor_divide(a, b), remainder(a, b))`.
///
/// ```
/// let a = wmx::Array::from_slice(&[7i32, -7], &[2]);
/// let (q, r) = wmx::divmod(&a, 2, None).unwrap();
/// assert_eq!(q.to_vec::<i32>().unwrap(), vec![3, -4]);
/// assert_eq!(r.to_vec::<i32>().unwrap(), vec![1, 1]);
/// ```
pub fn divmod<'a, 'b>(
    a: impl Into<Operand<'a>>,
    b: impl Into<Operand<'b>>,
    s: impl Into<StreamOrDevice>,
) -> Result<(Array, Array)> {
    let st = s.into().resolve("divmod")?;
    let [a, b] = materialize("divmod", [a.into(), b.into()], st)?;
    Ok((
        binary_op(BinaryOp::FloorDivide, &a, &b, st)?,
        binary_op(BinaryOp::Remainder, &a, &b, st)?,
    ))
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
        return Err(value_err(
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

// ---- comparisons: isclose, allclose, array_equal ----

/// `|a - b| <= atol + rtol * |b|` elementwise (bool), with infinities close only to themselves
/// and NaN close to NaN only when `equal_nan`. Integers and bool compare as float32. MLX's
/// defaults are `rtol = 1e-5`, `atol = 1e-8`.
///
/// ```
/// let a = wmx::Array::from_slice(&[1.0f32, 1.0, f32::INFINITY], &[3]);
/// let b = wmx::Array::from_slice(&[1.000001f32, 1.1, f32::INFINITY], &[3]);
/// let r = wmx::isclose(&a, &b, 1e-5, 1e-8, false, None).unwrap();
/// assert_eq!(r.to_vec::<bool>().unwrap(), vec![true, false, true]);
/// ```
pub fn isclose<'a, 'b>(
    a: impl Into<Operand<'a>>,
    b: impl Into<Operand<'b>>,
    rtol: f64,
    atol: f64,
    equal_nan: bool,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("isclose")?;
    let [a, b] = materialize("isclose", [a.into(), b.into()], st)?;
    let mut dt = promote_types(a.dtype(), b.dtype());
    if !dt.is_float() {
        dt = Dtype::Float32;
    }
    let (a, b) = (cast_to(&a, dt, st), cast_to(&b, dt, st));
    let abs = |x: &Array| super::unary::abs(x, st);
    let tolerance = add(multiply(abs(&b)?, rtol, st)?, atol, st)?;
    let near = less_equal(abs(&subtract(&a, &b, st)?)?, tolerance, st)?;
    // Infinities: |inf - inf| is NaN and |inf - x| is inf, so equal infinities are added back
    // and any other pair with an infinity is dropped (|x - inf| <= inf would pass).
    let (inf_a, inf_b) = (isinf(&a, st)?, isinf(&b, st)?);
    let any_inf = logical_or(&inf_a, &inf_b, st)?;
    let same_inf = logical_and(logical_and(&inf_a, &inf_b, st)?, equal(&a, &b, st)?, st)?;
    let mut r = logical_or(
        logical_and(near, super::unary::logical_not(&any_inf, st)?, st)?,
        same_inf,
        st,
    )?;
    if equal_nan {
        let both_nan = logical_and(isnan(&a, st)?, isnan(&b, st)?, st)?;
        r = logical_or(r, both_nan, st)?;
    }
    Ok(r)
}

/// True (a 0-d bool array) when every element pair is [`isclose`]; the shapes must broadcast.
///
/// ```
/// let a = wmx::Array::from_slice(&[1.0f32, 2.0], &[2]);
/// let b = wmx::Array::from_slice(&[1.0f32, 2.000001], &[2]);
/// assert!(wmx::allclose(&a, &b, 1e-5, 1e-8, false, None).unwrap().item::<bool>().unwrap());
/// ```
pub fn allclose<'a, 'b>(
    a: impl Into<Operand<'a>>,
    b: impl Into<Operand<'b>>,
    rtol: f64,
    atol: f64,
    equal_nan: bool,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("allclose")?;
    let close = isclose(a, b, rtol, atol, equal_nan, st)?;
    super::reduce::all(&close, &[], false, st)
}

/// True (a 0-d bool array) when `a` and `b` have the same shape and equal elements (dtypes may
/// differ: values compare after promotion). Different shapes give false, not an error. NaN
/// equals NaN only when `equal_nan`.
///
/// ```
/// let a = wmx::Array::from_slice(&[1i32, 2], &[2]);
/// let b = wmx::Array::from_slice(&[1.0f32, 2.0], &[2]);
/// let c = wmx::Array::from_slice(&[1i32, 2, 3], &[3]);
/// assert!(wmx::array_equal(&a, &b, false, None).unwrap().item::<bool>().unwrap());
/// assert!(!wmx::array_equal(&a, &c, false, None).unwrap().item::<bool>().unwrap());
/// ```
pub fn array_equal<'a, 'b>(
    a: impl Into<Operand<'a>>,
    b: impl Into<Operand<'b>>,
    equal_nan: bool,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("array_equal")?;
    let [a, b] = materialize("array_equal", [a.into(), b.into()], st)?;
    if a.shape() != b.shape() {
        return super::creation::full(&[], 0.0, Dtype::Bool, st);
    }
    let mut eq = equal(&a, &b, st)?;
    if equal_nan {
        let dt = promote_types(a.dtype(), b.dtype());
        if dt.is_float() {
            let (x, y) = (cast_to(&a, dt, st), cast_to(&b, dt, st));
            let both_nan = logical_and(isnan(&x, st)?, isnan(&y, st)?, st)?;
            eq = logical_or(eq, both_nan, st)?;
        }
    }
    super::reduce::all(&eq, &[], false, st)
}

// ---- statistics: mean, var, std, median ----

/// Mean over `axes` (all when empty); integers average as float32.
///
/// ```
/// let a = wmx::Array::from_slice(&[1i32, 2, 3, 4], &[2, 2]);
/// assert_eq!(wmx::mean(&a, &[0], false, None).unwrap().to_vec::<f32>().unwrap(), vec![2.0, 3.0]);
/// ```
pub fn mean(a: &Array, axes: &[i32], keepdims: bool, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("mean")?;
    let ax = resolve_axes("mean", a, axes)?;
    let dt = if a.dtype().is_float() {
        a.dtype()
    } else {
        Dtype::Float32
    };
    let count: f64 = ax.iter().map(|&i| a.shape()[i] as f64).product();
    let total = sum(
        &cast_to(a, dt, st),
        &ax.iter().map(|&i| i as i32).collect::<Vec<_>>(),
        keepdims,
        st,
    )?;
    super::binary::divide(&total, &super::creation::full(&[], count, dt, st)?, st)
}

/// `a` as a float dtype: floats keep theirs, others become float32 (MLX's statistics rule).
fn at_least_float(a: &Array, st: Stream) -> Array {
    if a.dtype().is_float() {
        a.clone()
    } else {
        cast_to(a, Dtype::Float32, st)
    }
}

/// Variance over `axes` (all when empty): the mean squared deviation from the mean, divided by
/// `max(n - ddof, 0)` instead of `n`. Non-floats give float32; empty reductions give NaN.
///
/// ```
/// let a = wmx::Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2]);
/// assert_eq!(wmx::var(&a, &[], false, 0, None).unwrap().item::<f32>().unwrap(), 1.25);
/// assert_eq!(wmx::var(&a, &[1], false, 1, None).unwrap().to_vec::<f32>().unwrap(), vec![0.5, 0.5]);
/// ```
pub fn var(
    a: &Array,
    axes: &[i32],
    keepdims: bool,
    ddof: i32,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("var")?;
    let ax = resolve_axes("var", a, axes)?;
    let ax32: Vec<i32> = ax.iter().map(|&i| i as i32).collect();
    let x = at_least_float(a, st);
    let dt = x.dtype();
    let mu = mean(&x, &ax32, true, st)?;
    let d = super::binary::subtract(&x, &mu, st)?;
    let ss = sum(&super::binary::multiply(&d, &d, st)?, &ax32, keepdims, st)?;
    let count: f64 = ax.iter().map(|&i| a.shape()[i] as f64).product();
    let denom = (count - ddof as f64).max(0.0);
    super::binary::divide(&ss, &super::creation::full(&[], denom, dt, st)?, st)
}

/// Standard deviation over `axes` (all when empty): `sqrt(var(a, axes, keepdims, ddof))`.
///
/// ```
/// let a = wmx::Array::from_slice(&[1i32, 3, 5, 7], &[4]);
/// assert_eq!(wmx::std(&a, &[0], false, 0, None).unwrap().item::<f32>().unwrap(), 5f32.sqrt());
/// ```
pub fn std(
    a: &Array,
    axes: &[i32],
    keepdims: bool,
    ddof: i32,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("std")?;
    resolve_axes("std", a, axes)?;
    super::unary::sqrt(&var(a, axes, keepdims, ddof, st)?, st)
}

/// Median over `axes` (all when empty): the middle element of the sorted values, or the mean
/// of the two middle ones; NaN when any element is NaN. Non-floats give float32. Built on
/// `sort`; an empty reduction is an error.
///
/// ```
/// let a = wmx::Array::from_slice(&[1.0f32, 5.0, 3.0, 4.0, 2.0, 2.0, 2.0, 9.0], &[2, 4]);
/// assert_eq!(wmx::median(&a, &[1], false, None).unwrap().to_vec::<f32>().unwrap(), vec![3.5, 2.0]);
/// assert_eq!(wmx::median(&a, &[], false, None).unwrap().item::<f32>().unwrap(), 2.5);
/// ```
pub fn median(a: &Array, axes: &[i32], keepdims: bool, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("median")?;
    let ax = resolve_axes("median", a, axes)?;
    let m: i32 = ax.iter().map(|&i| a.shape()[i]).product();
    if m == 0 {
        return Err(value_err(
            "median",
            format!(
                "Cannot take the median over empty axes {ax:?} of shape {}.",
                crate::shape::fmt_shape(a.shape())
            ),
        ));
    }
    let x = at_least_float(a, st);
    // Reduced axes last and merged into one, then sorted: NaN sorts last, so the last element
    // tells whether the row has one.
    let kept: Vec<usize> = (0..a.ndim()).filter(|i| !ax.contains(i)).collect();
    let perm: Vec<i32> = kept.iter().chain(&ax).map(|&i| i as i32).collect();
    let mut rows_shape: Vec<i32> = kept.iter().map(|&i| a.shape()[i]).collect();
    rows_shape.push(m);
    let rows = super::shape::reshape(&super::shape::transpose(&x, &perm, st)?, &rows_shape, st)?;
    let sorted = super::sort::sort(&rows, -1, st)?;
    let at = |k: i32| -> OpResult {
        let nd = rows_shape.len();
        let mut start = vec![0; nd];
        let mut stop = rows_shape.clone();
        start[nd - 1] = k;
        stop[nd - 1] = k + 1;
        super::shape::slice(&sorted, &start, &stop, &[], st)
    };
    let (lo, hi, last) = (at((m - 1) / 2)?, at(m / 2)?, at(m - 1)?);
    let half = super::creation::full(&[], 0.5, x.dtype(), st)?;
    let mid = super::binary::multiply(&super::binary::add(&lo, &hi, st)?, &half, st)?;
    let has_nan = super::binary::not_equal(&last, &last, st)?;
    let r = super::binary::where_(&has_nan, &last, &mid, st)?;
    let mut shape: Vec<i32> = a.shape().to_vec();
    for &i in &ax {
        shape[i] = 1;
    }
    let r = super::shape::reshape(&r, &shape, st)?;
    finish(r, &ax, keepdims, st)
}

// ---- normalisation: softmax, logsumexp ----

/// Softmax over `axes` (all when empty), computed stably (max subtracted first).
///
/// ```
/// let a = wmx::Array::from_slice(&[1.0f32, 1.0], &[2]);
/// assert_eq!(wmx::softmax(&a, &[-1], None).unwrap().to_vec::<f32>().unwrap(), vec![0.5, 0.5]);
/// ```
pub fn softmax(a: &Array, axes: &[i32], s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("softmax")?;
    crate::shape::normalize_axes("softmax", axes, a.ndim())?;
    let x = if a.dtype().is_float() {
        a.clone()
    } else {
        super::unary::astype(a, Dtype::Float32, st)?
    };
    let nd = x.ndim() as i32;
    if nd > 0 && axes.len() == 1 && (axes[0] == -1 || axes[0] == nd - 1) {
        // The common case has a primitive: one pass over each row on the GPU.
        return super::node(
            x.shape().to_vec(),
            x.dtype(),
            st,
            crate::primitive::Primitive::Softmax,
            vec![x],
        );
    }
    let m = super::reduce::max(&x, axes, true, st)?;
    let e = super::unary::exp(&super::binary::subtract(&x, &m, st)?, st)?;
    let total = super::reduce::sum(&e, axes, true, st)?;
    super::binary::divide(&e, &total, st)
}

/// `log(sum(exp(a)))` over `axes` (all when empty), computed stably; rows of -inf give -inf.
///
/// ```
/// let a = wmx::Array::from_slice(&[0.0f32, 0.0], &[2]);
/// let r = wmx::logsumexp(&a, &[], false, None).unwrap().item::<f32>().unwrap();
/// assert!((r - 2f32.ln()).abs() < 1e-6);
/// ```
pub fn logsumexp(
    a: &Array,
    axes: &[i32],
    keepdims: bool,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("logsumexp")?;
    crate::shape::normalize_axes("logsumexp", axes, a.ndim())?;
    let x = if a.dtype().is_float() {
        a.clone()
    } else {
        super::unary::astype(a, Dtype::Float32, st)?
    };
    let m = super::reduce::max(&x, axes, true, st)?;
    let finite = super::binary::less(
        &super::unary::abs(&m, st)?,
        &super::creation::full(&[], f64::INFINITY, x.dtype(), st)?,
        st,
    )?;
    let zero = super::creation::zeros(&[], x.dtype(), st)?;
    let m_safe = super::binary::where_(&finite, &m, &zero, st)?;
    let e = super::unary::exp(&super::binary::subtract(&x, &m_safe, st)?, st)?;
    let l = super::unary::log(&super::reduce::sum(&e, axes, true, st)?, st)?;
    let r = super::binary::add(&l, &m_safe, st)?;
    if keepdims {
        return Ok(r);
    }
    let nd = a.ndim();
    let ax: Vec<usize> = if axes.is_empty() {
        (0..nd).collect()
    } else {
        crate::shape::normalize_axes("logsumexp", axes, nd)?
    };
    let shape: Vec<i32> = r
        .shape()
        .iter()
        .enumerate()
        .filter(|(i, _)| !ax.contains(i))
        .map(|(_, &d)| d)
        .collect();
    super::shape::reshape(&r, &shape, st)
}
