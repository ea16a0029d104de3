//! Structure ops built from views and existing primitives: swapaxes, moveaxis, permute_dims,
//! atleast_1d/2d/3d, tile, repeat, pad, roll, flip, unstack, meshgrid, and the `as_strided` view.
//! Composites only (they run on every device); `as_strided` is the one view primitive and its
//! bounds are checked here, so no backend can read outside its input.

use super::creation::{full, zeros};
use super::gather_scatter::take;
use super::shape::{broadcast_to, concatenate, contiguous, reshape, slice, transpose};
use super::{OpResult, node};
use crate::array::Array;
use crate::error::{Result, axis_err, value_err};
use crate::primitive::Primitive;
use crate::shape::{fmt_shape, normalize_axis, size_of};
use crate::stream::{Stream, StreamOrDevice};

/// Swaps two axes (a view).
///
/// ```
/// let a = wmx::Array::from_slice(&[0i32, 1, 2, 3, 4, 5], &[2, 3]);
/// let t = wmx::swapaxes(&a, 0, -1, None).unwrap();
/// assert_eq!(t.shape(), &[3, 2]);
/// assert_eq!(t.to_vec::<i32>().unwrap(), vec![0, 3, 1, 4, 2, 5]);
/// ```
pub fn swapaxes(a: &Array, axis1: i32, axis2: i32, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("swapaxes")?;
    let i = normalize_axis("swapaxes", axis1, a.ndim())?;
    let j = normalize_axis("swapaxes", axis2, a.ndim())?;
    let mut perm: Vec<i32> = (0..a.ndim() as i32).collect();
    perm.swap(i, j);
    transpose(a, &perm, st)
}

/// Moves axis `source` to position `destination`, keeping the others in order (a view).
///
/// ```
/// let a = wmx::zeros(&[2, 3, 4], wmx::Dtype::Float32, None).unwrap();
/// assert_eq!(wmx::moveaxis(&a, 0, -1, None).unwrap().shape(), &[3, 4, 2]);
/// ```
pub fn moveaxis(
    a: &Array,
    source: i32,
    destination: i32,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("moveaxis")?;
    let from = normalize_axis("moveaxis", source, a.ndim())?;
    let to = normalize_axis("moveaxis", destination, a.ndim())?;
    let mut perm: Vec<i32> = (0..a.ndim() as i32)
        .filter(|&i| i as usize != from)
        .collect();
    perm.insert(to, from as i32);
    transpose(a, &perm, st)
}

/// Permutes axes; the same as [`transpose`](crate::transpose) (the Array API name).
///
/// ```
/// let a = wmx::zeros(&[2, 3, 4], wmx::Dtype::Float32, None).unwrap();
/// assert_eq!(wmx::permute_dims(&a, &[2, 0, 1], None).unwrap().shape(), &[4, 2, 3]);
/// ```
pub fn permute_dims(a: &Array, axes: &[i32], s: impl Into<StreamOrDevice>) -> OpResult {
    transpose(a, axes, s)
}

/// `a` with size-1 axes placed as NumPy's `atleast_*d` place them, when it has fewer than `n`.
fn atleast(op: &'static str, a: &Array, n: usize, s: StreamOrDevice) -> OpResult {
    let st = s.resolve(op)?;
    let shape: Vec<i32> = match (a.ndim(), n) {
        (d, _) if d >= n => return Ok(a.clone()),
        (0, _) => vec![1; n],
        (1, 2) => vec![1, a.shape()[0]],
        (1, _) => vec![1, a.shape()[0], 1],
        (_, _) => [a.shape(), &[1]].concat(),
    };
    reshape(a, &shape, st)
}

/// `a` with at least one dimension (a scalar becomes shape `[1]`).
///
/// ```
/// let a = wmx::Array::scalar(3i32);
/// assert_eq!(wmx::atleast_1d(&a, None).unwrap().shape(), &[1]);
/// ```
pub fn atleast_1d(a: &Array, s: impl Into<StreamOrDevice>) -> OpResult {
    atleast("atleast_1d", a, 1, s.into())
}

/// `a` with at least two dimensions (`[n]` becomes `[1, n]`).
///
/// ```
/// let a = wmx::Array::from_slice(&[1i32, 2], &[2]);
/// assert_eq!(wmx::atleast_2d(&a, None).unwrap().shape(), &[1, 2]);
/// ```
pub fn atleast_2d(a: &Array, s: impl Into<StreamOrDevice>) -> OpResult {
    atleast("atleast_2d", a, 2, s.into())
}

/// `a` with at least three dimensions (`[n]` becomes `[1, n, 1]`, `[n, m]` becomes `[n, m, 1]`).
///
/// ```
/// let a = wmx::Array::from_slice(&[1i32, 2], &[2]);
/// assert_eq!(wmx::atleast_3d(&a, None).unwrap().shape(), &[1, 2, 1]);
/// ```
pub fn atleast_3d(a: &Array, s: impl Into<StreamOrDevice>) -> OpResult {
    atleast("atleast_3d", a, 3, s.into())
}

/// Rejects negative counts (repeats, reps, pad widths) with the op's name.
fn check_non_negative(op: &'static str, what: &str, values: &[i32]) -> Result<()> {
    match values.iter().find(|&&v| v < 0) {
        Some(v) => Err(value_err(
            op,
            format!("{what} must be non-negative, got {v} in {values:?}."),
        )),
        None => Ok(()),
    }
}

/// `a` repeated `reps[i]` times along each axis (NumPy's `tile`: the shorter of `reps` and the
/// shape is padded with leading ones).
///
/// ```
/// let a = wmx::Array::from_slice(&[1i32, 2], &[2]);
/// let t = wmx::tile(&a, &[2, 2], None).unwrap();
/// assert_eq!(t.shape(), &[2, 4]);
/// assert_eq!(t.to_vec::<i32>().unwrap(), vec![1, 2, 1, 2, 1, 2, 1, 2]);
/// ```
pub fn tile(a: &Array, reps: &[i32], s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("tile")?;
    check_non_negative("tile", "reps", reps)?;
    let nd = a.ndim().max(reps.len());
    let pad = |v: &[i32]| [vec![1; nd - v.len()], v.to_vec()].concat();
    let (shape, reps) = (pad(a.shape()), pad(reps));
    // [1, d0, 1, d1, ...] broadcast to [r0, d0, r1, d1, ...], then merged pairwise.
    let spread: Vec<i32> = shape.iter().flat_map(|&d| [1, d]).collect();
    let target: Vec<i32> = shape
        .iter()
        .zip(&reps)
        .flat_map(|(&d, &r)| [r, d])
        .collect();
    let merged: Vec<i32> = shape.iter().zip(&reps).map(|(&d, &r)| d * r).collect();
    let b = broadcast_to(&reshape(a, &spread, st)?, &target, st)?;
    reshape(&b, &merged, st)
}

/// Each element repeated `repeats` times along `axis` (`None`: over the flattened array).
///
/// ```
/// let a = wmx::Array::from_slice(&[1i32, 2, 3, 4], &[2, 2]);
/// assert_eq!(wmx::repeat(&a, 2, None, None).unwrap().to_vec::<i32>().unwrap(), vec![1, 1, 2, 2, 3, 3, 4, 4]);
/// let r = wmx::repeat(&a, 2, Some(0), None).unwrap();
/// assert_eq!(r.shape(), &[4, 2]);
/// assert_eq!(r.to_vec::<i32>().unwrap(), vec![1, 2, 1, 2, 3, 4, 3, 4]);
/// ```
pub fn repeat(
    a: &Array,
    repeats: i32,
    axis: Option<i32>,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("repeat")?;
    check_non_negative("repeat", "repeats", &[repeats])?;
    let (a, ax) = match axis {
        None => (reshape(a, &[a.size() as i32], st)?, 0),
        Some(x) => (a.clone(), normalize_axis("repeat", x, a.ndim())?),
    };
    let sh = a.shape();
    let spread = [&sh[..=ax], &[1], &sh[ax + 1..]].concat();
    let target = [&sh[..=ax], &[repeats], &sh[ax + 1..]].concat();
    let mut merged = sh.to_vec();
    merged[ax] *= repeats;
    let b = broadcast_to(&reshape(&a, &spread, st)?, &target, st)?;
    reshape(&b, &merged, st)
}

/// How [`pad`] fills the new border.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PadMode {
    /// With the constant value.
    Constant,
    /// With the nearest edge element of each axis.
    Edge,
    /// With the mirror image about the edge element, which is not repeated (`[3, 2 | 1, 2, 3 | 2, 1]`).
    Reflect,
    /// With the mirror image about the edge itself, repeating the edge element (`[2, 1 | 1, 2, 3 | 3, 2]`).
    Symmetric,
}

/// Source index on an axis of length `n` (> 0) of padded position `p` (may be outside `[0, n)`)
/// for the mirroring modes; wider pads keep mirroring (periodic).
fn mirror_index(mode: PadMode, p: i32, n: i32) -> i32 {
    let period = match mode {
        PadMode::Reflect if n == 1 => return 0,
        PadMode::Reflect => 2 * n - 2,
        _ => 2 * n,
    };
    let m = p.rem_euclid(period);
    match mode {
        PadMode::Reflect if m >= n => period - m,
        _ if m >= n => period - 1 - m,
        _ => m,
    }
}

/// `a` padded by `pad_width[i] = (before, after)` elements on axis `i`; a single pair applies to
/// every axis. `constant` (converted to `a`'s dtype) fills [`PadMode::Constant`] borders.
///
/// ```
/// use wmx::PadMode;
/// let a = wmx::Array::from_slice(&[1i32, 2], &[2]);
/// let c = wmx::pad(&a, &[(1, 2)], PadMode::Constant, 9.0, None).unwrap();
/// assert_eq!(c.to_vec::<i32>().unwrap(), vec![9, 1, 2, 9, 9]);
/// let e = wmx::pad(&a, &[(2, 1)], PadMode::Edge, 0.0, None).unwrap();
/// assert_eq!(e.to_vec::<i32>().unwrap(), vec![1, 1, 1, 2, 2]);
/// let r = wmx::pad(&a, &[(1, 1)], PadMode::Reflect, 0.0, None).unwrap();
/// assert_eq!(r.to_vec::<i32>().unwrap(), vec![2, 1, 2, 1]);
/// let m = wmx::pad(&a, &[(1, 1)], PadMode::Symmetric, 0.0, None).unwrap();
/// assert_eq!(m.to_vec::<i32>().unwrap(), vec![1, 1, 2, 2]);
/// ```
pub fn pad(
    a: &Array,
    pad_width: &[(i32, i32)],
    mode: PadMode,
    constant: f64,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("pad")?;
    let nd = a.ndim();
    let widths: Vec<(i32, i32)> = match pad_width.len() {
        1 => vec![pad_width[0]; nd],
        n if n == nd => pad_width.to_vec(),
        n => {
            return Err(value_err(
                "pad",
                format!(
                    "Got {n} (before, after) pairs for an array with {nd} dimensions; give 1 or {nd}."
                ),
            ));
        }
    };
    if let Some((i, w)) = widths.iter().enumerate().find(|(_, w)| w.0 < 0 || w.1 < 0) {
        return Err(value_err(
            "pad",
            format!("Padding sizes must be non-negative, got {w:?} for axis {i}."),
        ));
    }
    let out_shape: Vec<i32> = a
        .shape()
        .iter()
        .zip(&widths)
        .map(|(&d, w)| d + w.0 + w.1)
        .collect();
    // An empty input has no edge to repeat: everything is border, which MLX fills with zeros.
    if mode == PadMode::Edge && a.size() == 0 {
        return zeros(&out_shape, a.dtype(), st);
    }
    let mut r = a.clone();
    for (ax, &(lo, hi)) in widths.iter().enumerate() {
        if lo == 0 && hi == 0 {
            continue;
        }
        let n = r.shape()[ax];
        if matches!(mode, PadMode::Reflect | PadMode::Symmetric) {
            if n == 0 {
                return Err(value_err(
                    "pad",
                    format!("Cannot pad the empty axis {ax} by mirroring ({mode:?})."),
                ));
            }
            let idx: Vec<i32> = (-lo..n + hi).map(|p| mirror_index(mode, p, n)).collect();
            let len = idx.len() as i32;
            r = take(&r, &Array::from_slice(&idx, &[len]), ax as i32, st)?;
            continue;
        }
        let border = |width: i32, at: i32| -> OpResult {
            let mut shape = r.shape().to_vec();
            shape[ax] = width;
            match mode {
                PadMode::Constant => full(&shape, constant, a.dtype(), st),
                PadMode::Edge => broadcast_to(&take_index(&r, ax, at, true, st)?, &shape, st),
                PadMode::Reflect | PadMode::Symmetric => unreachable!("mirrored above"),
            }
        };
        let (before, after) = (border(lo, 0)?, border(hi, n - 1)?);
        r = concatenate(&[&before, &r, &after], ax as i32, st)?;
    }
    Ok(r)
}

/// `a[.., i, ..]` on axis `ax`, keeping the axis as size 1 when `keep`.
fn take_index(a: &Array, ax: usize, i: i32, keep: bool, st: Stream) -> OpResult {
    let mut start = vec![0; a.ndim()];
    let mut stop = a.shape().to_vec();
    start[ax] = i;
    stop[ax] = i + 1;
    let r = slice(a, &start, &stop, &[], st)?;
    if keep {
        return Ok(r);
    }
    let mut shape = a.shape().to_vec();
    shape.remove(ax);
    reshape(&r, &shape, st)
}

/// `a` rolled by `shift` along one axis (elements leaving one end come back at the other).
fn roll_axis(a: &Array, shift: i64, ax: usize, st: Stream) -> OpResult {
    let n = a.shape()[ax] as i64;
    let k = if n == 0 {
        0
    } else {
        shift.rem_euclid(n) as i32
    };
    if k == 0 {
        return Ok(a.clone());
    }
    let cut = n as i32 - k;
    let part = |from: i32, to: i32| {
        let (mut start, mut stop) = (vec![0; a.ndim()], a.shape().to_vec());
        start[ax] = from;
        stop[ax] = to;
        slice(a, &start, &stop, &[], st)
    };
    let (tail, head) = (part(cut, n as i32)?, part(0, cut)?);
    concatenate(&[&tail, &head], ax as i32, st)
}

/// Rolls `a` by `shift` along `axes` (`None`: the flattened array, by the sum of the shifts).
/// One shift applies to every axis; several shifts with one axis add up (as MLX).
///
/// ```
/// let a = wmx::Array::from_slice(&[0i32, 1, 2, 3, 4, 5], &[2, 3]);
/// assert_eq!(wmx::roll(&a, &[1], None, None).unwrap().to_vec::<i32>().unwrap(), vec![5, 0, 1, 2, 3, 4]);
/// let r = wmx::roll(&a, &[1, -1], Some(&[0, 1]), None).unwrap();
/// assert_eq!(r.to_vec::<i32>().unwrap(), vec![4, 5, 3, 1, 2, 0]);
/// ```
pub fn roll(
    a: &Array,
    shift: &[i32],
    axes: Option<&[i32]>,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("roll")?;
    let total: i64 = shift.iter().map(|&x| x as i64).sum();
    let Some(axes) = axes else {
        let flat = reshape(a, &[a.size() as i32], st)?;
        return reshape(&roll_axis(&flat, total, 0, st)?, a.shape(), st);
    };
    let ax: Vec<usize> = axes
        .iter()
        .map(|&x| normalize_axis("roll", x, a.ndim()))
        .collect::<Result<_>>()?;
    let pairs: Vec<(i64, usize)> = match (shift.len(), ax.len()) {
        (0, _) | (_, 0) => vec![],
        (1, _) => ax.iter().map(|&x| (shift[0] as i64, x)).collect(),
        (_, 1) => vec![(total, ax[0])],
        (n, m) if n == m => shift.iter().map(|&x| x as i64).zip(ax).collect(),
        (n, m) => {
            return Err(value_err(
                "roll",
                format!(
                    "Got {n} shifts for {m} axes; give one shift, one axis, or as many shifts as axes."
                ),
            ));
        }
    };
    pairs
        .into_iter()
        .try_fold(a.clone(), |r, (k, x)| roll_axis(&r, k, x, st))
}

/// `a` with the order of elements reversed along `axes` (`None`: every axis), a view.
///
/// ```
/// let a = wmx::Array::from_slice(&[0i32, 1, 2, 3, 4, 5], &[2, 3]);
/// assert_eq!(wmx::flip(&a, Some(&[1]), None).unwrap().to_vec::<i32>().unwrap(), vec![2, 1, 0, 5, 4, 3]);
/// assert_eq!(wmx::flip(&a, None, None).unwrap().to_vec::<i32>().unwrap(), vec![5, 4, 3, 2, 1, 0]);
/// ```
pub fn flip(a: &Array, axes: Option<&[i32]>, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("flip")?;
    let nd = a.ndim();
    let mut flipped = vec![axes.is_none(); nd];
    for &x in axes.unwrap_or(&[]) {
        flipped[normalize_axis("flip", x, nd)?] = true;
    }
    let (mut start, mut stop, mut step) = (vec![0; nd], a.shape().to_vec(), vec![1; nd]);
    for k in (0..nd).filter(|&k| flipped[k]) {
        start[k] = -1;
        stop[k] = -a.shape()[k] - 1;
        step[k] = -1;
    }
    slice(a, &start, &stop, &step, st)
}

/// The slices of `a` along `axis`, each without that axis.
///
/// ```
/// let a = wmx::Array::from_slice(&[0i32, 1, 2, 3, 4, 5], &[2, 3]);
/// let parts = wmx::unstack(&a, 1, None).unwrap();
/// assert_eq!(parts.len(), 3);
/// assert_eq!(parts[1].to_vec::<i32>().unwrap(), vec![1, 4]);
/// ```
pub fn unstack(a: &Array, axis: i32, s: impl Into<StreamOrDevice>) -> Result<Vec<Array>> {
    let st = s.into().resolve("unstack")?;
    let ax = normalize_axis("unstack", axis, a.ndim())?;
    (0..a.shape()[ax])
        .map(|i| take_index(a, ax, i, false, st))
        .collect()
}

/// Coordinate grids from 1-D coordinate vectors (inputs of other ranks are flattened first).
/// `indexing` is `"xy"` (Cartesian: the first two output axes swapped) or `"ij"` (matrix);
/// `sparse` returns broadcastable arrays with size-1 axes instead of full grids. Each output
/// keeps its input's dtype.
///
/// ```
/// let x = wmx::Array::from_slice(&[1i32, 2, 3], &[3]);
/// let y = wmx::Array::from_slice(&[4i32, 5], &[2]);
/// let g = wmx::meshgrid(&[&x, &y], false, "xy", None).unwrap();
/// assert_eq!(g[0].shape(), &[2, 3]);
/// assert_eq!(g[0].to_vec::<i32>().unwrap(), vec![1, 2, 3, 1, 2, 3]);
/// assert_eq!(g[1].to_vec::<i32>().unwrap(), vec![4, 4, 4, 5, 5, 5]);
/// ```
pub fn meshgrid(
    arrays: &[&Array],
    sparse: bool,
    indexing: &str,
    s: impl Into<StreamOrDevice>,
) -> Result<Vec<Array>> {
    let st = s.into().resolve("meshgrid")?;
    let cartesian = match indexing {
        "xy" => true,
        "ij" => false,
        other => {
            return Err(value_err(
                "meshgrid",
                format!("Invalid indexing value {other:?}; valid values are \"xy\" and \"ij\"."),
            ));
        }
    };
    let n = arrays.len();
    // Output axis of input i: the first two trade places for Cartesian indexing.
    let position = |i: usize| match i {
        0 | 1 if cartesian && n > 1 => 1 - i,
        i => i,
    };
    let mut full_shape = vec![0; n];
    for (i, a) in arrays.iter().enumerate() {
        full_shape[position(i)] = a.size() as i32;
    }
    arrays
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let mut shape = vec![1; n];
            shape[position(i)] = a.size() as i32;
            let r = reshape(a, &shape, st)?;
            if sparse {
                Ok(r)
            } else {
                broadcast_to(&r, &full_shape, st)
            }
        })
        .collect()
}

/// A view of `a`'s elements (in row-major order, as a dense copy) with the given `shape`,
/// `strides` (in elements, may be negative) and starting `offset`. Every element the view can
/// reach must lie inside `a`, else an error (never an out-of-bounds read).
///
/// ```
/// let a = wmx::Array::from_slice(&[0i32, 1, 2, 3, 4, 5], &[2, 3]);
/// let w = wmx::as_strided(&a, &[2, 2], &[1, 1], 3, None).unwrap();
/// assert_eq!(w.to_vec::<i32>().unwrap(), vec![3, 4, 4, 5]);
/// assert!(wmx::as_strided(&a, &[4], &[5], 0, None).is_err());
/// ```
pub fn as_strided(
    a: &Array,
    shape: &[i32],
    strides: &[i64],
    offset: usize,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("as_strided")?;
    if strides.len() != shape.len() {
        return Err(value_err(
            "as_strided",
            format!(
                "Got {} strides for shape {}; give one stride per dimension.",
                strides.len(),
                fmt_shape(shape)
            ),
        ));
    }
    check_non_negative("as_strided", "Dimensions", shape)?;
    if size_of(shape) > 0 {
        // The lowest and highest element the view reaches, in i128 so no input can overflow.
        let (mut lo, mut hi) = (offset as i128, offset as i128);
        for (&d, &x) in shape.iter().zip(strides) {
            let reach = (d as i128 - 1) * x as i128;
            if reach < 0 { lo += reach } else { hi += reach }
        }
        if lo < 0 || hi >= a.size() as i128 {
            return Err(value_err(
                "as_strided",
                format!(
                    "Shape {} with strides {strides:?} and offset {offset} reaches elements {lo}..={hi}, outside the input's {} elements.",
                    fmt_shape(shape),
                    a.size()
                ),
            ));
        }
    }
    node(
        shape.to_vec(),
        a.dtype(),
        st,
        Primitive::AsStrided {
            strides: strides.iter().map(|&x| x as isize).collect(),
            offset: if size_of(shape) > 0 { offset } else { 0 },
        },
        vec![contiguous(a, st)?],
    )
}

/// Message for an axis pair that names one axis twice (diagonal, trace).
pub(crate) fn same_axes_err(op: &'static str, axis1: i32, axis2: i32) -> crate::error::Error {
    axis_err(
        op,
        format!("axis1 ({axis1}) and axis2 ({axis2}) cannot be the same axis."),
    )
}
