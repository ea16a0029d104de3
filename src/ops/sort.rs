//! Ordering ops: sort and argsort (stable, NaN last), partition, argpartition and topk (built on
//! the full sort, which satisfies MLX's partition contract), and searchsorted. Sorting primitives
//! work along the last axis: the ops layer moves the axis there and back (views). Never computes.

use super::{OpResult, node};
use crate::array::Array;
use crate::dtype::{Dtype, promote_types};
use crate::error::{shape_err, value_err};
use crate::primitive::Primitive;
use crate::shape::{fmt_shape, normalize_axis};
use crate::stream::{Stream, StreamOrDevice};

/// `prim` (output `dtype`) applied along `axis` of `a`: the axis is swapped last and back.
fn along_axis(
    op: &'static str,
    prim: Primitive,
    dtype: Dtype,
    a: &Array,
    axis: i32,
    st: Stream,
) -> OpResult {
    let ax = normalize_axis(op, axis, a.ndim())?;
    let last = a.ndim() - 1;
    if ax == last {
        return node(a.shape().to_vec(), dtype, st, prim, vec![a.clone()]);
    }
    let mut perm: Vec<i32> = (0..a.ndim() as i32).collect();
    perm.swap(ax, last);
    let moved = super::shape::transpose(a, &perm, st)?;
    let r = node(moved.shape().to_vec(), dtype, st, prim, vec![moved])?;
    super::shape::transpose(&r, &perm, st)
}

/// Indices (uint32) that sort `a` along `axis`, ascending and stable (ties keep their order;
/// NaN last; -0.0 equals 0.0).
///
/// ```
/// let a = wmx::Array::from_slice(&[3.0f32, 1.0, 2.0, 1.0], &[4]);
/// assert_eq!(wmx::argsort(&a, -1, None).unwrap().to_vec::<u32>().unwrap(), vec![1, 3, 2, 0]);
/// ```
pub fn argsort(a: &Array, axis: i32, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("argsort")?;
    along_axis("argsort", Primitive::ArgSort, Dtype::Uint32, a, axis, st)
}

/// `a` sorted ascending along `axis` (stable; NaN last).
///
/// ```
/// let a = wmx::Array::from_slice(&[3.0f32, f32::NAN, 1.0, 2.0], &[2, 2]);
/// let s = wmx::sort(&a, 0, None).unwrap().to_vec::<f32>().unwrap();
/// assert_eq!(&s[..3], &[1.0, 2.0, 3.0]);
/// assert!(s[3].is_nan());
/// ```
pub fn sort(a: &Array, axis: i32, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("sort")?;
    along_axis("sort", Primitive::Sort, a.dtype(), a, axis, st)
}

/// Checks `kth` against the length of `axis` and returns it in `[0, n)`.
fn check_kth(op: &'static str, a: &Array, kth: i32, axis: i32) -> crate::error::Result<i32> {
    let ax = normalize_axis(op, axis, a.ndim())?;
    let n = a.shape()[ax];
    if kth >= n || kth < -n {
        return Err(value_err(
            op,
            format!(
                "Received invalid kth {kth} along axis {axis} for array with shape {}.",
                fmt_shape(a.shape())
            ),
        ));
    }
    Ok(if kth < 0 { kth + n } else { kth })
}

/// `a` rearranged along `axis` so the element at `kth` is where a sort would put it, smaller
/// ones before and larger ones after (negative `kth` counts from the end). wmx sorts fully,
/// which satisfies this contract (MLX leaves the order inside each side unspecified).
///
/// ```
/// let a = wmx::Array::from_slice(&[5i32, 1, 9, 3, 7, 2], &[6]);
/// let p = wmx::partition(&a, 2, 0, None).unwrap().to_vec::<i32>().unwrap();
/// assert_eq!(p[2], 3);
/// assert!(p[..2].iter().all(|&x| x <= 3) && p[3..].iter().all(|&x| x >= 3));
/// ```
pub fn partition(a: &Array, kth: i32, axis: i32, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("partition")?;
    check_kth("partition", a, kth, axis)?;
    along_axis("partition", Primitive::Sort, a.dtype(), a, axis, st)
}

/// Indices (uint32) that partition `a` along `axis` around `kth` (see [`partition`]); wmx
/// returns the stable argsort.
///
/// ```
/// let a = wmx::Array::from_slice(&[5i32, 1, 9, 3, 7, 2], &[6]);
/// let p = wmx::argpartition(&a, 2, 0, None).unwrap().to_vec::<u32>().unwrap();
/// assert_eq!(p[2], 3);
/// ```
pub fn argpartition(a: &Array, kth: i32, axis: i32, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("argpartition")?;
    check_kth("argpartition", a, kth, axis)?;
    along_axis(
        "argpartition",
        Primitive::ArgSort,
        Dtype::Uint32,
        a,
        axis,
        st,
    )
}

/// The `k` largest elements of `a` along `axis` (NaN counts as largest), `0 <= k <= n`. wmx
/// returns them in ascending order (MLX's order is unspecified).
///
/// ```
/// let a = wmx::Array::from_slice(&[5i32, 1, 9, 3, 7, 2], &[6]);
/// assert_eq!(wmx::topk(&a, 3, -1, None).unwrap().to_vec::<i32>().unwrap(), vec![5, 7, 9]);
/// ```
pub fn topk(a: &Array, k: i32, axis: i32, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("topk")?;
    let ax = normalize_axis("topk", axis, a.ndim())?;
    let n = a.shape()[ax];
    if k < 0 || k > n {
        return Err(value_err(
            "topk",
            format!(
                "Received invalid k={k} along axis {axis} for array with shape {}.",
                fmt_shape(a.shape())
            ),
        ));
    }
    let sorted = along_axis("topk", Primitive::Sort, a.dtype(), a, axis, st)?;
    let nd = a.ndim();
    let mut start = vec![0; nd];
    start[ax] = n - k;
    super::shape::slice(&sorted, &start, a.shape(), &[], st)
}

/// Insertion indices (uint32, shape of `values`) that keep the 1-D ascending `sorted` sorted:
/// the number of elements less than each value (`right = false`), or less than or equal to it
/// (`right = true`), NumPy's and MLX's `side`. NaN sorts last. Both inputs promote to a
/// common dtype.
///
/// ```
/// let a = wmx::Array::from_slice(&[1i32, 2, 2, 4], &[4]);
/// let v = wmx::Array::from_slice(&[0i32, 2, 3, 5], &[4]);
/// assert_eq!(wmx::searchsorted(&a, &v, false, None).unwrap().to_vec::<u32>().unwrap(), vec![0, 1, 3, 4]);
/// assert_eq!(wmx::searchsorted(&a, &v, true, None).unwrap().to_vec::<u32>().unwrap(), vec![0, 3, 3, 4]);
/// ```
pub fn searchsorted(
    sorted: &Array,
    values: &Array,
    right: bool,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("searchsorted")?;
    if sorted.ndim() != 1 {
        return Err(shape_err(
            "searchsorted",
            format!(
                "The sorted sequence must be 1-D but has {} dimensions.",
                sorted.ndim()
            ),
        ));
    }
    let dt = promote_types(sorted.dtype(), values.dtype());
    node(
        values.shape().to_vec(),
        Dtype::Uint32,
        st,
        Primitive::SearchSorted { right },
        vec![
            super::cast_to(sorted, dt, st),
            super::cast_to(values, dt, st),
        ],
    )
}
