//! vjp and jvp rules of the scans (cumsum, cumprod, cummax, cummin, logcumsumexp) along the
//! last axis. A reverse scan is a forward scan of the flipped input, and an exclusive scan is
//! the inclusive one shifted by one, so each nonlinear rule is written once, for the forward
//! inclusive scan, exact with zeros (cumprod) and without overflow (logcumsumexp).

use crate as mx;
use crate::array::Array;
use crate::error::Result;
use crate::primitive::ScanOp;
use crate::stream::Stream;

fn flip_last(a: &Array, on: bool, s: Stream) -> Result<Array> {
    if on {
        mx::flip(a, Some(&[-1]), s)
    } else {
        Ok(a.clone())
    }
}

/// `a` moved one place along the last axis (towards the start when `left`), zero filled.
fn shift(a: &Array, left: bool, s: Stream) -> Result<Array> {
    let nd = a.ndim();
    let n = a.shape()[nd - 1];
    let mut one = a.shape().to_vec();
    one[nd - 1] = 1;
    let zero = mx::zeros(&one, a.dtype(), s)?;
    let (lo, hi) = if left { (1, n) } else { (0, n - 1) };
    let mut st = vec![0; nd];
    let mut en = a.shape().to_vec();
    st[nd - 1] = lo;
    en[nd - 1] = hi;
    let part = mx::slice(a, &st, &en, &[], s)?;
    if left {
        mx::concatenate(&[&part, &zero], -1, s)
    } else {
        mx::concatenate(&[&zero, &part], -1, s)
    }
}

/// The forward inclusive scan of `x` along the last axis.
fn inclusive(op: ScanOp, x: &Array, s: Stream) -> Result<Array> {
    let f = match op {
        ScanOp::Sum => mx::cumsum,
        ScanOp::Prod => mx::cumprod,
        ScanOp::Max => mx::cummax,
        ScanOp::Min => mx::cummin,
        ScanOp::LogAddExp => mx::logcumsumexp,
    };
    f(x, Some(-1), false, true, s)
}

/// For cumprod: (mask "before the first zero", mask "at the first zero", `x` with its first
/// zero replaced by one).
fn zero_masks(x: &Array, s: Stream) -> Result<(Array, Array, Array)> {
    let iz = mx::equal(x, 0.0, s)?;
    let c = mx::cumsum(
        &mx::astype(&iz, crate::Dtype::Int32, s)?,
        Some(-1),
        false,
        true,
        s,
    )?;
    let before = mx::equal(&c, 0, s)?;
    let first = mx::logical_and(&iz, &mx::equal(&c, 1, s)?, s)?;
    let y = mx::where_(&first, 1.0, x, s)?;
    Ok((before, first, y))
}

/// For cummax/cummin: the position (int32) whose element each output equals (the last such
/// position up to there, so ties go to the latest).
fn holders(x: &Array, out: &Array, s: Stream) -> Result<Array> {
    let n = x.shape()[x.ndim() - 1];
    let pos = mx::arange(0.0, n as f64, 1.0, crate::Dtype::Int32, s)?;
    let m = mx::equal(x, out, s)?;
    mx::cummax(&mx::where_(&m, &pos, 0, s)?, Some(-1), false, true, s)
}

/// `log(max(v, 0))` and `log(max(-v, 0))`: a signed sum done in log space.
fn log_parts(v: &Array, s: Stream) -> Result<(Array, Array)> {
    let pos = mx::log(&mx::maximum(v, 0.0, s)?, s)?;
    let neg = mx::log(&mx::maximum(&mx::negative(v, s)?, 0.0, s)?, s)?;
    Ok((pos, neg))
}

/// Cotangent of the input of a scan, given its output `out` and cotangent `cot`.
pub(super) fn vjp(
    op: ScanOp,
    reverse: bool,
    incl: bool,
    x: &Array,
    out: &Array,
    cot: &Array,
    s: Stream,
) -> Result<Option<Array>> {
    if op == ScanOp::Sum {
        return Ok(Some(mx::cumsum(cot, Some(-1), !reverse, incl, s)?));
    }
    if x.size() == 0 {
        return Ok(None);
    }
    let xf = flip_last(x, reverse, s)?;
    let outf = if incl {
        flip_last(out, reverse, s)?
    } else {
        inclusive(op, &xf, s)?
    };
    let mut c = flip_last(cot, reverse, s)?;
    if !incl {
        c = shift(&c, true, s)?;
    }
    let rev_sum = |a: &Array| mx::cumsum(a, Some(-1), true, true, s);
    let g = match op {
        ScanOp::Sum => unreachable_sum()?,
        ScanOp::Prod => {
            let (before, first, y) = zero_masks(&xf, s)?;
            let safe_x = mx::where_(&before, &xf, 1.0, s)?;
            let a = mx::divide(&rev_sum(&mx::multiply(&c, &outf, s)?)?, &safe_x, s)?;
            let after = mx::logical_not(&before, s)?;
            let tail = mx::multiply(&mx::cumprod(&y, Some(-1), false, true, s)?, &after, s)?;
            let b = rev_sum(&mx::multiply(&c, &tail, s)?)?;
            mx::where_(&before, &a, &mx::where_(&first, &b, 0.0, s)?, s)?
        }
        ScanOp::Max | ScanOp::Min => {
            let h = holders(&xf, &outf, s)?;
            let nd = xf.ndim();
            let n = xf.shape()[nd - 1];
            let r = (xf.size() / n as usize) as i32;
            let rows = mx::broadcast_to(
                &mx::reshape(
                    &mx::arange(0.0, r as f64, 1.0, crate::Dtype::Int32, s)?,
                    &[r, 1],
                    s,
                )?,
                &[r, n],
                s,
            )?;
            let h2 = mx::reshape(&h, &[r, n], s)?;
            let upd = mx::reshape(&c, &[r, n, 1, 1], s)?;
            let zero = mx::zeros(&[r, n], c.dtype(), s)?;
            let g = mx::scatter_add(&zero, &[&rows, &h2], &upd, &[0, 1], s)?;
            mx::reshape(&g, xf.shape(), s)?
        }
        ScanOp::LogAddExp => {
            let (cp, cn) = log_parts(&c, s)?;
            let lse = |l: &Array| -> Result<Array> {
                let v = mx::logcumsumexp(&mx::subtract(l, &outf, s)?, Some(-1), true, true, s)?;
                mx::exp(&mx::add(&v, &xf, s)?, s)
            };
            mx::subtract(&lse(&cp)?, &lse(&cn)?, s)?
        }
    };
    Ok(Some(flip_last(&g, reverse, s)?))
}

/// Tangent of a scan's output given its input's tangent `t`.
pub(super) fn jvp(
    op: ScanOp,
    reverse: bool,
    incl: bool,
    x: &Array,
    out: &Array,
    t: &Array,
    s: Stream,
) -> Result<Option<Array>> {
    if op == ScanOp::Sum {
        return Ok(Some(mx::cumsum(t, Some(-1), reverse, incl, s)?));
    }
    if x.size() == 0 {
        return Ok(None);
    }
    let xf = flip_last(x, reverse, s)?;
    let outf = if incl {
        flip_last(out, reverse, s)?
    } else {
        inclusive(op, &xf, s)?
    };
    let tf = flip_last(t, reverse, s)?;
    let mut r = match op {
        ScanOp::Sum => unreachable_sum()?,
        ScanOp::Prod => {
            let (before, first, y) = zero_masks(&xf, s)?;
            let safe_x = mx::where_(&before, &xf, 1.0, s)?;
            let a = mx::multiply(
                &outf,
                &mx::cumsum(&mx::divide(&tf, &safe_x, s)?, Some(-1), false, true, s)?,
                s,
            )?;
            let tz = mx::sum(&mx::multiply(&tf, &first, s)?, &[-1], true, s)?;
            let b = mx::multiply(&tz, &mx::cumprod(&y, Some(-1), false, true, s)?, s)?;
            mx::where_(&before, &a, &b, s)?
        }
        ScanOp::Max | ScanOp::Min => {
            mx::take_along_axis(&tf, &holders(&xf, &outf, s)?, Some(-1), s)?
        }
        ScanOp::LogAddExp => {
            let (tp, tn) = log_parts(&tf, s)?;
            let part = |l: &Array| -> Result<Array> {
                let v = mx::logcumsumexp(&mx::add(l, &xf, s)?, Some(-1), false, true, s)?;
                mx::exp(&mx::subtract(&v, &outf, s)?, s)
            };
            mx::subtract(&part(&tp)?, &part(&tn)?, s)?
        }
    };
    if !incl {
        r = shift(&r, false, s)?;
    }
    Ok(Some(flip_last(&r, reverse, s)?))
}

fn unreachable_sum() -> Result<Array> {
    Err(crate::error::Error::Backend {
        op: "cumsum",
        msg: "invariant: cumsum is handled before the nonlinear scans".into(),
    })
}
