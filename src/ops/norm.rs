//! `linalg::norm`: vector norms (any order p, 0, ±inf) and matrix norms (Frobenius, ±1, ±inf)
//! as compositions of abs/square/power and reductions. Matrix 2-norms and the nuclear norm need
//! a singular value decomposition, which wmx does not have yet: they are a clear error.

use super::OpResult;
use super::binary::{not_equal, power};
use super::creation::full;
use super::reduce::{max, min, sum};
use super::shape::reshape;
use super::unary::{abs, astype, reciprocal, sqrt, square};
use crate::array::Array;
use crate::dtype::Dtype;
use crate::error::{Error, Result, axis_err, value_err};
use crate::shape::normalize_axis;
use crate::stream::{Stream, StreamOrDevice};

const OP: &str = "linalg::norm";

/// The order of a [`norm`](crate::linalg::norm).
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum NormOrd {
    /// A number: vectors take `(sum |x|^p)^(1/p)` (0 counts nonzeros, ±inf the max/min of `|x|`);
    /// matrices take 1, -1 (max/min column sum of `|x|`) and inf, -inf (max/min row sum).
    P(f64),
    /// Frobenius (matrices only): the square root of the sum of squares.
    Fro,
    /// Nuclear (matrices only): needs an SVD, not available yet.
    Nuc,
}

impl From<f64> for NormOrd {
    fn from(p: f64) -> Self {
        NormOrd::P(p)
    }
}

/// Vector norm of `x` (float) over axis `ax`.
fn vector_norm(x: &Array, p: f64, ax: i32, keepdims: bool, st: Stream) -> OpResult {
    let dt = x.dtype();
    let axes = [ax];
    match p {
        2.0 => sqrt(&sum(&square(x, st)?, &axes, keepdims, st)?, st),
        1.0 => sum(&abs(x, st)?, &axes, keepdims, st),
        f64::INFINITY => max(&abs(x, st)?, &axes, keepdims, st),
        f64::NEG_INFINITY => min(&abs(x, st)?, &axes, keepdims, st),
        0.0 => {
            let nonzero = not_equal(x, &full(&[], 0.0, dt, st)?, st)?;
            astype(&sum(&nonzero, &axes, keepdims, st)?, dt, st)
        }
        p => {
            // A negative order goes through reciprocals, so that 0^p never reaches `pow` (WGSL
            // leaves pow(0, p <= 0) undefined): (sum (1 / |x|^q))^(-1/q) with q = -p.
            let q = p.abs();
            let flip = |y: Array| if p < 0.0 { reciprocal(&y, st) } else { Ok(y) };
            let powered = flip(power(&abs(x, st)?, &full(&[], q, dt, st)?, st)?)?;
            let total = sum(&powered, &axes, keepdims, st)?;
            flip(power(&total, &full(&[], 1.0 / q, dt, st)?, st)?)
        }
    }
}

/// Matrix norm of `x` (float) over rows `r` and columns `c`.
fn matrix_norm(
    x: &Array,
    ord: NormOrd,
    r: usize,
    c: usize,
    keepdims: bool,
    st: Stream,
) -> OpResult {
    let both = [r as i32, c as i32];
    // Sum |x| along `inner`, then take the max or min along `outer` (both kept until the end).
    let sum_then = |inner: usize, outer: usize, largest: bool| -> OpResult {
        let sums = sum(&abs(x, st)?, &[inner as i32], true, st)?;
        let m = if largest { max } else { min };
        let red = m(&sums, &[outer as i32], true, st)?;
        if keepdims {
            return Ok(red);
        }
        let shape: Vec<i32> = (0..x.ndim())
            .filter(|&i| i != r && i != c)
            .map(|i| red.shape()[i])
            .collect();
        reshape(&red, &shape, st)
    };
    match ord {
        NormOrd::Fro => sqrt(&sum(&square(x, st)?, &both, keepdims, st)?, st),
        NormOrd::P(1.0) => sum_then(r, c, true),
        NormOrd::P(-1.0) => sum_then(r, c, false),
        NormOrd::P(f64::INFINITY) => sum_then(c, r, true),
        NormOrd::P(f64::NEG_INFINITY) => sum_then(c, r, false),
        NormOrd::P(p) if p == 2.0 || p == -2.0 => Err(no_svd(&format!("ord {p}"))),
        NormOrd::Nuc => Err(no_svd("'nuc'")),
        NormOrd::P(p) => Err(value_err(OP, format!("Invalid ord {p} for matrix norm."))),
    }
}

fn no_svd(ord: &str) -> Error {
    value_err(
        OP,
        format!(
            "Matrix norm {ord} needs a singular value decomposition, which wmx does not support yet."
        ),
    )
}

/// The norm of `a`. With `axes` `None`: `ord` `None` is the 2-norm of all elements flattened,
/// otherwise `a` must be 1-D (a vector norm) or 2-D (a matrix norm). One axis gives vector norms
/// along it, two axes (rows, columns) matrix norms; `ord` `None` means 2 / Frobenius. Integer and
/// bool inputs compute in float32.
///
/// ```
/// use wmx::linalg::{norm, NormOrd};
/// let v = wmx::Array::from_slice(&[3.0f32, -4.0], &[2]);
/// assert_eq!(norm(&v, None, None, false, None).unwrap().item::<f32>().unwrap(), 5.0);
/// assert_eq!(norm(&v, Some(NormOrd::P(1.0)), None, false, None).unwrap().item::<f32>().unwrap(), 7.0);
/// let m = wmx::Array::from_slice(&[1.0f32, -2.0, 3.0, -4.0], &[2, 2]);
/// let inf = norm(&m, Some(NormOrd::P(f64::INFINITY)), None, false, None).unwrap();
/// assert_eq!(inf.item::<f32>().unwrap(), 7.0);
/// let rows = norm(&m, Some(NormOrd::P(1.0)), Some(&[-1]), true, None).unwrap();
/// assert_eq!(rows.shape(), &[2, 1]);
/// assert_eq!(rows.to_vec::<f32>().unwrap(), vec![3.0, 7.0]);
/// ```
pub fn norm(
    a: &Array,
    ord: Option<NormOrd>,
    axes: Option<&[i32]>,
    keepdims: bool,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve(OP)?;
    let x = if a.dtype().is_float() {
        a.clone()
    } else {
        astype(a, Dtype::Float32, st)?
    };
    let axes: Vec<usize> = match axes {
        None if ord.is_none() => {
            return sqrt(&sum(&square(&x, st)?, &[], keepdims, st)?, st);
        }
        None => (0..x.ndim()).collect(),
        Some(ax) => ordered_axes(ax, x.ndim())?,
    };
    match (axes.as_slice(), ord) {
        (&[ax], None) => vector_norm(&x, 2.0, ax as i32, keepdims, st),
        (&[ax], Some(NormOrd::P(p))) => vector_norm(&x, p, ax as i32, keepdims, st),
        (&[_], Some(o)) => Err(value_err(
            OP,
            format!("Norm {o:?} is only supported for matrices, but received 1 axis."),
        )),
        (&[r, c], o) => matrix_norm(&x, o.unwrap_or(NormOrd::Fro), r, c, keepdims, st),
        (_, _) => Err(value_err(
            OP,
            format!(
                "Received too many axes for norm: {} (give 1 or 2).",
                axes.len()
            ),
        )),
    }
}

/// `axes` normalised in the given order (rows before columns matters), without repeats.
fn ordered_axes(axes: &[i32], ndim: usize) -> Result<Vec<usize>> {
    let out: Vec<usize> = axes
        .iter()
        .map(|&x| normalize_axis(OP, x, ndim))
        .collect::<Result<_>>()?;
    if out.len() == 2 && out[0] == out[1] {
        return Err(axis_err(OP, format!("Duplicate axes {axes:?}.")));
    }
    Ok(out)
}
