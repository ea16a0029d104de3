//! Composite ops written in terms of primitives (no backend code): softmax (a primitive for the
//! last axis, which a benchmark showed pays: one pass instead of five), logsumexp.

use super::OpResult;
use crate::array::Array;
use crate::dtype::Dtype;
use crate::stream::StreamOrDevice;

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
        return Ok(super::node(
            x.shape().to_vec(),
            x.dtype(),
            st,
            crate::primitive::Primitive::Softmax,
            vec![x],
        ));
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
