//! Shape arithmetic: sizes, row-major strides, broadcasting, axis normalisation, copy-free reshapes.
//! Pure functions on `&[i32]` / `&[isize]`; knows nothing of arrays or devices.

use crate::error::{Result, axis_err, shape_err};

/// Number of elements of a shape (1 for a scalar).
pub(crate) fn size_of(shape: &[i32]) -> usize {
    shape.iter().map(|&d| d as usize).product()
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
    for k in ni..new_shape.len() {
        new_strides[k] = 1;
    }
    Some(new_strides)
}

#[cfg(test)]
mod tests {
    use super::*;

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
