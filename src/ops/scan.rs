//! Scans (cumulative ops): cumsum, cumprod, cummax, cummin, logcumsumexp. The ops layer picks
//! MLX's result dtype, moves the scanned axis last (a view), builds one `Scan` node and moves the
//! axis back (a view); `axis = None` scans the flattened array, as MLX does. Never computes.

use super::{OpResult, cast_to, node};
use crate::array::Array;
use crate::dtype::Dtype;
use crate::primitive::{Primitive, ScanOp};
use crate::shape::normalize_axis;
use crate::stream::StreamOrDevice;

/// MLX's output dtype of a scan: bool sums to int32, logcumsumexp of a non-float is float32,
/// everything else keeps its dtype.
fn scan_dtype(op: ScanOp, d: Dtype) -> Dtype {
    match op {
        ScanOp::Sum if d == Dtype::Bool => Dtype::Int32,
        ScanOp::LogAddExp if !d.is_float() => Dtype::Float32,
        ScanOp::Sum | ScanOp::LogAddExp | ScanOp::Prod | ScanOp::Max | ScanOp::Min => d,
    }
}

pub(crate) fn scan_op(
    op: ScanOp,
    a: &Array,
    axis: Option<i32>,
    reverse: bool,
    inclusive: bool,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve(op.name())?;
    let (x, ax) = match axis {
        None => (super::shape::reshape(a, &[a.size() as i32], st)?, 0),
        Some(ax) => (a.clone(), normalize_axis(op.name(), ax, a.ndim())?),
    };
    let dt = scan_dtype(op, x.dtype());
    let x = cast_to(&x, dt, st);
    let last = x.ndim() - 1;
    let mut perm: Vec<i32> = (0..x.ndim() as i32).collect();
    perm.swap(ax, last);
    let moved = if ax == last {
        x
    } else {
        super::shape::transpose(&x, &perm, st)?
    };
    let r = node(
        moved.shape().to_vec(),
        dt,
        st,
        Primitive::Scan {
            op,
            reverse,
            inclusive,
        },
        vec![moved],
    )?;
    if ax == last {
        Ok(r)
    } else {
        super::shape::transpose(&r, &perm, st)
    }
}

macro_rules! scan_fns {
    ($($(#[$doc:meta])* $name:ident => $op:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name(
            a: &Array,
            axis: Option<i32>,
            reverse: bool,
            inclusive: bool,
            s: impl Into<StreamOrDevice>,
        ) -> OpResult {
            scan_op(ScanOp::$op, a, axis, reverse, inclusive, s)
        }
    )*};
}

scan_fns! {
    /// Cumulative sum along `axis` (`None`: of the flattened array). `reverse` scans from the
    /// end; an exclusive scan (`inclusive = false`) starts from 0 and leaves out each element
    /// itself. Bool sums to int32; other dtypes keep theirs (integers wrap).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1i32, 2, 3, 4], &[2, 2]);
    /// assert_eq!(wmx::cumsum(&a, None, false, true, None).unwrap().to_vec::<i32>().unwrap(), vec![1, 3, 6, 10]);
    /// assert_eq!(wmx::cumsum(&a, Some(0), false, true, None).unwrap().to_vec::<i32>().unwrap(), vec![1, 2, 4, 6]);
    /// assert_eq!(wmx::cumsum(&a, Some(1), true, false, None).unwrap().to_vec::<i32>().unwrap(), vec![2, 0, 4, 0]);
    /// ```
    cumsum => Sum;
    /// Cumulative product along `axis` (`None`: flattened); exclusive scans start from 1.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[4]);
    /// let c = wmx::cumprod(&a, Some(0), false, true, None).unwrap();
    /// assert_eq!(c.to_vec::<f32>().unwrap(), vec![1.0, 2.0, 6.0, 24.0]);
    /// ```
    cumprod => Prod;
    /// Cumulative maximum along `axis` (`None`: flattened); NaN propagates; exclusive scans
    /// start from the dtype's lowest value (-inf for floats).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1i32, 3, 2, 5], &[4]);
    /// let c = wmx::cummax(&a, Some(0), false, true, None).unwrap();
    /// assert_eq!(c.to_vec::<i32>().unwrap(), vec![1, 3, 3, 5]);
    /// ```
    cummax => Max;
    /// Cumulative minimum along `axis` (`None`: flattened); NaN propagates; exclusive scans
    /// start from the dtype's highest value (inf for floats).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[4u32, 3, 5, 1], &[4]);
    /// let c = wmx::cummin(&a, Some(0), true, true, None).unwrap();
    /// assert_eq!(c.to_vec::<u32>().unwrap(), vec![1, 1, 1, 1]);
    /// ```
    cummin => Min;
    /// `log(cumsum(exp(a)))` along `axis` (`None`: flattened), computed stably (no overflow
    /// for large inputs); exclusive scans start from -inf; non-floats give float32.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[0.0f32, 0.0], &[2]);
    /// let c = wmx::logcumsumexp(&a, None, false, true, None).unwrap().to_vec::<f32>().unwrap();
    /// assert_eq!(c[0], 0.0);
    /// assert!((c[1] - 2f32.ln()).abs() < 1e-6);
    /// ```
    logcumsumexp => LogAddExp;
}
