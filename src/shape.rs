//! Shape arithmetic: sizes, row-major strides, broadcasting, axis normalisation, copy-free reshapes.
//! Pure functions on `&[i32]` / `&[isize]`; knows nothing of arrays or devices.

use crate::error::{Error, Result, axis_err, shape_err};

/// The most elements an array may have: `isize::MAX / 8` (2^60 - 1 on 64-bit targets), so the
/// byte size of any dtype (8 bytes at most) and every stride fit in `isize`, the most one Rust
/// allocation may hold. Far above any memory; a shape past it is a mistake (or an overflow).
pub(crate) const MAX_SIZE: usize = isize::MAX as usize / 8;

/// Number of elements of a shape (1 for a scalar), or `None` when it passes [`MAX_SIZE`]
/// (including products that overflow `usize`) or a dimension is negative.
pub(crate) fn checked_size(shape: &[i32]) -> Option<usize> {
    if shape.contains(&0) {
        return (!shape.iter().any(|&d| d < 0)).then_some(0);
    }
    shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(usize::try_from(d).ok()?))
        .filter(|&n| n <= MAX_SIZE)
}

/// Number of elements of a shape (1 for a scalar). Every node's shape passed [`check_size`] when
/// the node was built; for other shapes (an op's unvalidated argument) a size past [`MAX_SIZE`]
/// saturates to `usize::MAX` instead of overflowing, so it never matches a real size.
pub(crate) fn size_of(shape: &[i32]) -> usize {
    checked_size(shape).unwrap_or(usize::MAX)
}

/// The number of elements of `shape`, or an `Err` naming `op` and the shape when it passes
/// [`MAX_SIZE`] (ops call this before a node exists, so no backend sees such a shape).
pub(crate) fn check_size(op: &'static str, shape: &[i32]) -> Result<usize> {
    checked_size(shape).ok_or_else(|| {
        let n: f64 = shape.iter().map(|&d| f64::from(d)).product();
        Error::TooLarge {
            op,
            msg: format!(
                "Shape {} has {n:e} elements, more than the {MAX_SIZE} an array can hold.",
                fmt_shape(shape)
            ),
        }
    })
}

/// Row-major strides, in elements.
pub(crate) fn row_major_strides(shape: &[i32]) -> Vec<isize> {
    let mut strides = vec![0isize; shape.len()];
    let mut acc = 1isize;
    for i in (0..shape.len()).rev() {
        strides[i] = acc;
        acc *= shape[i].max(1) as isize;
    }
    strides
}

/// True when `strides` describe a dense row-major layout of `shape` (size-1 dims ignored).
pub(crate) fn is_row_contiguous(shape: &[i32], strides: &[isize]) -> bool {
    let mut expected = 1isize;
    for i in (0..shape.len()).rev() {
        if shape[i] == 1 {
            continue;
        }
        if strides[i] != expected {
            return false;
        }
        expected *= shape[i] as isize;
    }
    true
}

/// Formats a shape as MLX does in messages: `(2,3)`.
pub(crate) fn fmt_shape(shape: &[i32]) -> String {
    let inner: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("({})", inner.join(","))
}

/// NumPy broadcasting of two shapes.
pub(crate) fn broadcast_shapes(a: &[i32], b: &[i32]) -> Result<Vec<i32>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return Err(shape_err(
                "broadcast_shapes",
                format!(
                    "Shapes {} and {} cannot be broadcast.",
                    fmt_shape(a),
                    fmt_shape(b)
                ),
            ));
        };
    }
    Ok(out)
}

/// Normalises one axis into `[0, ndim)`.
pub(crate) fn normalize_axis(op: &'static str, axis: i32, ndim: usize) -> Result<usize> {
    let nd = ndim as i32;
    if axis < -nd || axis >= nd {
        return Err(axis_err(
            op,
            format!("Invalid axis {axis} for array with {ndim} dimensions."),
        ));
    }
    Ok(if axis < 0 {
        (axis + nd) as usize
    } else {
        axis as usize
    })
}

/// Normalises a list of axes, rejecting repeats; returns them sorted.
pub(crate) fn normalize_axes(op: &'static str, axes: &[i32], ndim: usize) -> Result<Vec<usize>> {
    let mut out = Vec::with_capacity(axes.len());
    for &a in axes {
        let ax = normalize_axis(op, a, ndim)?;
        if out.contains(&ax) {
            return Err(axis_err(
                op,
                format!("Received duplicate axis {a} in {axes:?}."),
            ));
        }
        out.push(ax);
    }
    out.sort_unstable();
    Ok(out)
}

/// Strides that let `new_shape` view the same elements as (`shape`, `strides`) without a copy,
/// or `None` when a copy is needed (NumPy's no-copy reshape rule).
pub(crate) fn reshape_strides(
    shape: &[i32],
    strides: &[isize],
    new_shape: &[i32],
) -> Option<Vec<isize>> {
    if size_of(shape) == 0 || size_of(new_shape) <= 1 {
        return Some(row_major_strides(new_shape));
    }
    // Drop size-1 dims of the source: they carry no stride information.
    let (old_d, old_s): (Vec<i32>, Vec<isize>) = shape
        .iter()
        .zip(strides)
        .filter(|(d, _)| **d != 1)
        .map(|(&d, &s)| (d, s))
        .unzip();
    let mut new_strides = vec![0isize; new_shape.len()];
    let (mut oi, mut ni) = (0usize, 0usize);
    while oi < old_d.len() && ni < new_shape.len() {
        // Grow matching groups of old and new dims with equal products.
        let (mut op, mut np) = (old_d[oi] as i64, new_shape[ni] as i64);
        let (oj0, nj0) = (oi, ni);
        let (mut oj, mut nj) = (oi + 1, ni + 1);
        while op != np {
            if op < np {
                op *= old_d[oj] as i64;
                oj += 1;
            } else {
                np *= new_shape[nj] as i64;
                nj += 1;
            }
        }
        // The old group must be contiguous within itself.
        for k in oj0..oj - 1 {
            if old_s[k] != old_s[k + 1] * old_d[k + 1] as isize {
                return None;
            }
        }
        new_strides[nj - 1] = old_s[oj - 1];
        for k in (nj0..nj - 1).rev() {
            new_strides[k] = new_strides[k + 1] * new_shape[k + 1] as isize;
        }
        oi = oj;
        ni = nj;
    }
    // Trailing size-1 dims of the new shape.
    for s in &mut new_strides[ni..] {
        *s = 1;
    }
    Some(new_strides)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_never_overflow() {
        assert_eq!(checked_size(&[]), Some(1));
        assert_eq!(checked_size(&[2, 3]), Some(6));
        assert_eq!(checked_size(&[i32::MAX, i32::MAX, 0]), Some(0));
        assert_eq!(checked_size(&[i32::MAX; 3]), None);
        assert_eq!(
            checked_size(&[1 << 30, 1 << 30]),
            Some(1 << 60).filter(|&n| n <= MAX_SIZE)
        );
        assert_eq!(size_of(&[i32::MAX; 3]), usize::MAX);
        assert!(check_size("zeros", &[i32::MAX; 3]).is_err());
    }

    #[test]
    fn broadcast_and_reshape_rules() {
        assert_eq!(
            broadcast_shapes(&[2, 1, 3], &[4, 1]).unwrap(),
            vec![2, 4, 3]
        );
        assert!(broadcast_shapes(&[2, 3], &[4, 3]).is_err());
        assert_eq!(reshape_strides(&[2, 3], &[3, 1], &[6]), Some(vec![1]));
        assert_eq!(reshape_strides(&[2, 3], &[1, 2], &[6]), None); // transposed
        assert_eq!(
            reshape_strides(&[2, 3], &[1, 2], &[2, 1, 3]),
            Some(vec![1, 6, 2])
        );
        assert_eq!(
            reshape_strides(&[4, 6], &[6, 1], &[2, 2, 3, 2]),
            Some(vec![12, 6, 2, 1])
        );
    }
}
