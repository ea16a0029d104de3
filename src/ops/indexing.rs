//! NumPy/MLX-style indexing of arrays: `Ix` (an int, a range with a step, a new axis, the
//! ellipsis, an integer array), the `ix!` macro, `index` (Python's `a[...]`), `index_put`
//! (`a[...] = v`, as a new array) and `at` (`a.at[...].add(v)` and friends). Translates an index
//! into slice/reshape and the take/gather/scatter builders of `gather_scatter.rs`; never
//! computes.

use super::gather_scatter::{gather, scatter_op, take};
use super::shape::{reshape, slice, transpose};
use super::{OpResult, broadcast_view, cast_to};
use crate::array::Array;
use crate::dtype::Dtype;
use crate::error::{Result, shape_err, value_err};
use crate::primitive::BinaryOp;
use crate::shape::{broadcast_shapes, fmt_shape};
use crate::stream::{Stream, StreamOrDevice};
use std::ops::{Bound, RangeBounds};

/// One entry of an index, as in Python's `a[0, 1:3, ::-1, None, ..., idx]`.
#[derive(Clone, Debug)]
pub enum Ix {
    /// One position (negative counts from the end); drops the axis.
    Index(i32),
    /// `start:stop:step` (`None`: Python's default for that end).
    Slice {
        /// First position, or `None`.
        start: Option<i32>,
        /// End (exclusive), or `None`.
        stop: Option<i32>,
        /// Step (not 0; negative walks backwards).
        step: i32,
    },
    /// A new axis of size 1 (Python's `None`).
    NewAxis,
    /// As many full slices as needed (Python's `...`); at most one per index.
    Ellipsis,
    /// Integer positions along the axis (advanced indexing; several broadcast together).
    Array(Array),
}

impl Ix {
    /// A range with a step: `Ix::step(.., -1)` is Python's `::-1`, `Ix::step(1..7, 2)` is
    /// `1:7:2`. An inclusive end (`1..=5`) includes it.
    ///
    /// ```
    /// use wmx::Ix;
    /// let a = wmx::Array::from_slice(&[0i32, 1, 2, 3, 4], &[5]);
    /// let r = a.index(&[Ix::step(.., -2)]).unwrap();
    /// assert_eq!(r.to_vec::<i32>().unwrap(), vec![4, 2, 0]);
    /// ```
    pub fn step(r: impl RangeBounds<i32>, step: i32) -> Ix {
        let start = match r.start_bound() {
            Bound::Included(&x) => Some(x),
            Bound::Excluded(&x) => Some(x + 1),
            Bound::Unbounded => None,
        };
        // An inclusive end at the last position in the walking direction means "to the end".
        let stop = match r.end_bound() {
            Bound::Excluded(&x) => Some(x),
            Bound::Included(&x) if step > 0 => (x != -1).then_some(x + 1),
            Bound::Included(&x) => (x != 0).then_some(x - 1),
            Bound::Unbounded => None,
        };
        Ix::Slice { start, stop, step }
    }

    /// A range with step 1 (any Rust range: `1..3`, `2..`, `..-1`, `..`, `0..=2`).
    ///
    /// ```
    /// use wmx::Ix;
    /// let a = wmx::Array::from_slice(&[0i32, 1, 2, 3, 4], &[5]);
    /// assert_eq!(a.index(&[Ix::range(1..=2)]).unwrap().to_vec::<i32>().unwrap(), vec![1, 2]);
    /// ```
    pub fn range(r: impl RangeBounds<i32>) -> Ix {
        Ix::step(r, 1)
    }
}

impl From<i32> for Ix {
    fn from(i: i32) -> Ix {
        Ix::Index(i)
    }
}
impl From<Array> for Ix {
    fn from(a: Array) -> Ix {
        Ix::Array(a)
    }
}
impl From<&Array> for Ix {
    fn from(a: &Array) -> Ix {
        Ix::Array(a.clone())
    }
}
macro_rules! ix_from_range {
    ($($t:ty),*) => {$(
        impl From<$t> for Ix {
            fn from(r: $t) -> Ix {
                Ix::range(r)
            }
        }
    )*};
}
ix_from_range!(
    std::ops::Range<i32>,
    std::ops::RangeFrom<i32>,
    std::ops::RangeTo<i32>,
    std::ops::RangeFull,
    std::ops::RangeInclusive<i32>,
    std::ops::RangeToInclusive<i32>
);

/// Builds an index (`[Ix; N]`) with Python's syntax: ints, ranges (`1..3`, `..`, with a step
/// after `;`: `..;-1`, `1..;2`), `NEW` (a new axis), `...` (the ellipsis) and integer arrays.
///
/// ```
/// use wmx::ix;
/// let a = wmx::arange(0.0, 24.0, 1.0, wmx::Dtype::Int32, None).unwrap();
/// let a = wmx::reshape(&a, &[2, 3, 4], None).unwrap();
/// let idx = wmx::Array::from_slice(&[3i32, 0], &[2]);
/// // a[-1, ::-2, None, idx]: the int and the array are advanced and not adjacent, so their
/// // (broadcast) dimension comes first, as in NumPy and MLX.
/// let r = a.index(&ix![-1, ..;-2, NEW, idx]).unwrap();
/// assert_eq!(r.shape(), &[2, 2, 1]);
/// assert_eq!(r.to_vec::<i32>().unwrap(), vec![23, 15, 20, 12]);
/// assert_eq!(a.index(&ix![..., 1]).unwrap().shape(), &[2, 3]);
/// ```
#[macro_export]
macro_rules! ix {
    (@acc [$($out:expr),*]) => { [$($out),*] };
    (@acc [$($out:expr),*] ... $(, $($rest:tt)*)?) => {
        $crate::ix!(@acc [$($out,)* $crate::Ix::Ellipsis] $($($rest)*)?)
    };
    (@acc [$($out:expr),*] NEW $(, $($rest:tt)*)?) => {
        $crate::ix!(@acc [$($out,)* $crate::Ix::NewAxis] $($($rest)*)?)
    };
    (@acc [$($out:expr),*] $e:expr ; $step:expr $(, $($rest:tt)*)?) => {
        $crate::ix!(@acc [$($out,)* $crate::Ix::step($e, $step)] $($($rest)*)?)
    };
    (@acc [$($out:expr),*] $e:expr $(, $($rest:tt)*)?) => {
        $crate::ix!(@acc [$($out,)* $crate::Ix::from($e)] $($($rest)*)?)
    };
    ($($t:tt)*) => { $crate::ix!(@acc [] $($t)*) };
}

/// An index entry after the ellipsis is expanded: what it does to the axis it consumes.
enum Item {
    /// A position (already checked and made non-negative).
    Pos(i32),
    /// `(start, count, step)` after Python's normalisation.
    Range(i32, i32, i32),
    New,
    Arr(Array),
}

/// Expands the ellipsis, normalises ints and slices against `a`'s axes; each item that consumes
/// an axis comes with that axis.
fn items(op: &'static str, a: &Array, ix: &[Ix]) -> Result<Vec<(Item, Option<usize>)>> {
    let consuming = ix
        .iter()
        .filter(|x| !matches!(x, Ix::NewAxis | Ix::Ellipsis))
        .count();
    let ellipses = ix.iter().filter(|x| matches!(x, Ix::Ellipsis)).count();
    if ellipses > 1 {
        return Err(value_err(
            op,
            "An index can only have a single ellipsis (...).",
        ));
    }
    if consuming > a.ndim() {
        return Err(value_err(
            op,
            format!(
                "Too many indices ({consuming}) for array with {} dimensions.",
                a.ndim()
            ),
        ));
    }
    let fill = a.ndim() - consuming;
    let full = || Ix::Slice {
        start: None,
        stop: None,
        step: 1,
    };
    let mut expanded: Vec<Ix> = Vec::new();
    for x in ix {
        if let Ix::Ellipsis = x {
            expanded.extend((0..fill).map(|_| full()));
        } else {
            expanded.push(x.clone());
        }
    }
    if ellipses == 0 {
        expanded.extend((0..fill).map(|_| full()));
    }
    let mut axis = 0;
    let mut out = Vec::new();
    for x in expanded {
        let n = a.shape().get(axis).copied().unwrap_or(0);
        let item = match x {
            Ix::Index(i) => {
                if i < -n || i >= n {
                    return Err(value_err(
                        op,
                        format!("Index {i} is out of bounds for axis {axis} with size {n}."),
                    ));
                }
                Item::Pos(if i < 0 { i + n } else { i })
            }
            Ix::Slice { start, stop, step } => {
                if step == 0 {
                    return Err(value_err(
                        op,
                        format!("Slice step cannot be zero (axis {axis})."),
                    ));
                }
                let (lo, hi) = if step > 0 { (0, n) } else { (n - 1, -n - 1) };
                let (b, c) =
                    super::shape::slice_axis(start.unwrap_or(lo), stop.unwrap_or(hi), step, n);
                Item::Range(b, c, step)
            }
            Ix::NewAxis => {
                out.push((Item::New, None));
                continue;
            }
            Ix::Ellipsis => continue,
            Ix::Array(arr) => {
                if arr.dtype().is_float() || arr.dtype() == Dtype::Bool {
                    return Err(crate::error::dtype_err(
                        op,
                        format!(
                            "Got indices with invalid dtype {}. Indices must be integral.",
                            arr.dtype()
                        ),
                    ));
                }
                Item::Arr(arr)
            }
        };
        out.push((item, Some(axis)));
        axis += 1;
    }
    Ok(out)
}

/// Python's `a[ix]`: ints drop their axis, ranges slice (a view), `NewAxis` inserts a size-1
/// axis, the ellipsis stands for the axes not named, and integer arrays index as NumPy's
/// advanced indexing (one array: [`take`]; several, with any ints, broadcast together and
/// [`gather`]; their dimensions replace the indexed axes in place when those are adjacent, else
/// they come first). Out-of-range ints are an error; out-of-range array entries are clamped.
///
/// ```
/// use wmx::{Ix, ix};
/// let a = wmx::arange(0.0, 12.0, 1.0, wmx::Dtype::Int32, None).unwrap();
/// let a = wmx::reshape(&a, &[3, 4], None).unwrap();
/// let r = wmx::index(&a, &[Ix::from(1..3), Ix::step(.., -1)], None).unwrap(); // a[1:3, ::-1]
/// assert_eq!(r.to_vec::<i32>().unwrap(), vec![7, 6, 5, 4, 11, 10, 9, 8]);
/// let rows = wmx::Array::from_slice(&[0i32, 2], &[2]);
/// let cols = wmx::Array::from_slice(&[-1i32, 1], &[2]);
/// assert_eq!(a.index(&ix![&rows, &cols]).unwrap().to_vec::<i32>().unwrap(), vec![3, 9]);
/// ```
pub fn index(a: &Array, ix: &[Ix], s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("index")?;
    let its = items("index", a, ix)?;
    let has_array = its.iter().any(|(x, _)| matches!(x, Item::Arr(_)));
    let nd = a.ndim();
    let (mut start, mut stop, mut step) = (vec![0; nd], a.shape().to_vec(), vec![1; nd]);
    let mut b_shape = Vec::new();
    // Advanced indices as (axis in the basic result, index array).
    let mut advanced: Vec<(usize, Array)> = Vec::new();
    for (item, axis) in &its {
        match (item, axis) {
            (Item::Pos(p), Some(d)) => {
                start[*d] = *p;
                stop[*d] = p + 1;
                if has_array {
                    advanced.push((b_shape.len(), Array::scalar(*p)));
                    b_shape.push(a.shape()[*d]);
                    start[*d] = 0;
                    stop[*d] = a.shape()[*d];
                }
            }
            (Item::Range(b, c, k), Some(d)) => {
                start[*d] = *b;
                stop[*d] = b + c * k;
                step[*d] = *k;
                if *c == 0 {
                    (start[*d], stop[*d], step[*d]) = (0, 0, 1);
                }
                b_shape.push(*c);
            }
            (Item::Arr(arr), Some(d)) => {
                advanced.push((b_shape.len(), arr.clone()));
                b_shape.push(a.shape()[*d]);
            }
            _ => b_shape.push(1),
        }
    }
    // A stop of -1 after a negative step means "before position 0", which slice reads as the end.
    let stop: Vec<i32> = (0..nd)
        .map(|d| {
            if stop[d] < 0 {
                -a.shape()[d] - 1
            } else {
                stop[d]
            }
        })
        .collect();
    let b = reshape(&slice(a, &start, &stop, &step, st)?, &b_shape, st)?;
    match advanced.len() {
        0 => Ok(b),
        1 => take(&b, &advanced[0].1, advanced[0].0 as i32, st),
        _ => {
            let pos: Vec<usize> = advanced.iter().map(|x| x.0).collect();
            let arrays: Vec<&Array> = advanced.iter().map(|x| &x.1).collect();
            let mut sizes = b_shape.clone();
            for &p in &pos {
                sizes[p] = 1;
            }
            let axes: Vec<i32> = pos.iter().map(|&p| p as i32).collect();
            let g = gather(&b, &arrays, &axes, &sizes, st)?;
            let k = g.ndim() - b_shape.len();
            let rest: Vec<i32> = (0..b_shape.len())
                .filter(|d| !pos.contains(d))
                .map(|d| b_shape[d])
                .collect();
            let mut shape = g.shape()[..k].to_vec();
            shape.extend_from_slice(&rest);
            let g = reshape(&g, &shape, st)?;
            let adjacent = pos.windows(2).all(|w| w[1] == w[0] + 1);
            if !adjacent || pos[0] == 0 {
                return Ok(g);
            }
            // Move the index dimensions to where the indexed axes were.
            let p0 = pos[0];
            let mut perm: Vec<i32> = (k..k + p0).map(|x| x as i32).collect();
            perm.extend((0..k).map(|x| x as i32));
            perm.extend((k + p0..shape.len()).map(|x| x as i32));
            transpose(&g, &perm, st)
        }
    }
}

/// For `a[ix] op= value`: the shape of `a[ix]` and, per axis of `a`, an int32 array of the
/// position each element of `a[ix]` has along that axis (shaped to broadcast to it).
fn coordinates(
    op: &'static str,
    a: &Array,
    ix: &[Ix],
    st: Stream,
) -> Result<(Vec<i32>, Vec<Array>)> {
    let its = items(op, a, ix)?;
    let has_array = its.iter().any(|(x, _)| matches!(x, Item::Arr(_)));
    // Items giving the result's non-advanced dims (ranges, new axes), and the advanced items.
    let mut plain: Vec<usize> = Vec::new();
    let mut adv: Vec<usize> = Vec::new();
    let mut adv_arrays: Vec<Array> = Vec::new();
    for (i, (item, _)) in its.iter().enumerate() {
        match item {
            Item::Pos(p) if has_array => {
                adv.push(i);
                adv_arrays.push(Array::scalar(*p));
            }
            Item::Pos(_) => {}
            Item::Arr(arr) => {
                adv.push(i);
                adv_arrays.push(arr.clone());
            }
            Item::Range(..) | Item::New => plain.push(i),
        }
    }
    let mut idx_shape = Vec::new();
    for x in &adv_arrays {
        idx_shape = broadcast_shapes(&idx_shape, x.shape()).map_err(|_| {
            shape_err(
                op,
                "The index arrays cannot be broadcast together.".to_string(),
            )
        })?;
    }
    // Where the advanced dims go: in place of the indexed axes when those are adjacent.
    let adjacent = adv.windows(2).all(|w| w[1] == w[0] + 1);
    let p0 = if adjacent && !adv.is_empty() {
        plain.iter().filter(|&&i| i < adv[0]).count()
    } else {
        0
    };
    let k = idx_shape.len();
    let rank = plain.len() + k;
    let mut shape = Vec::with_capacity(rank);
    let dim_of = |q: usize| if q < p0 { q } else { q + k };
    for (q, &i) in plain.iter().enumerate() {
        if q == p0 {
            shape.extend_from_slice(&idx_shape);
        }
        shape.push(match its[i].0 {
            Item::Range(_, c, _) => c,
            _ => 1,
        });
    }
    if plain.len() <= p0 {
        shape.extend_from_slice(&idx_shape);
    }
    let mut coords = vec![None; a.ndim()];
    for (q, &i) in plain.iter().enumerate() {
        if let (Item::Range(b, c, stp), Some(d)) = (&its[i].0, its[i].1) {
            let r = super::creation::arange(
                *b as f64,
                *b as f64 + *c as f64 * *stp as f64,
                *stp as f64,
                Dtype::Int32,
                st,
            )?;
            let mut sh = vec![1; rank];
            sh[dim_of(q)] = *c;
            coords[d] = Some(reshape(&r, &sh, st)?);
        }
    }
    for (j, &i) in adv.iter().enumerate() {
        if let Some(d) = its[i].1 {
            let x = cast_to(&adv_arrays[j], Dtype::Int32, st);
            let x = broadcast_view(&x, &idx_shape, st)?;
            let mut sh = vec![1; rank];
            sh[p0..p0 + k].copy_from_slice(&idx_shape);
            coords[d] = Some(reshape(&x, &sh, st)?);
        }
    }
    for (item, axis) in &its {
        if let (Item::Pos(p), Some(d), false) = (item, axis, has_array) {
            coords[*d] = Some(reshape(&Array::scalar(*p), &vec![1; rank], st)?);
        }
    }
    let coords = coords
        .into_iter()
        .map(|c| c.ok_or_else(|| value_err(op, "invariant: an axis without coordinates")))
        .collect::<Result<_>>()?;
    Ok((shape, coords))
}

/// `a[ix] = value` combined by `mode` (None: replaced), as a new array.
fn put(
    op: &'static str,
    mode: Option<BinaryOp>,
    a: &Array,
    ix: &[Ix],
    value: &Array,
    st: Stream,
) -> OpResult {
    let (shape, coords) = coordinates(op, a, ix, st)?;
    let mut v = cast_to(value, a.dtype(), st);
    // Leading size-1 dims beyond the target's rank broadcast away, as in NumPy.
    while v.ndim() > shape.len() && v.shape()[0] == 1 {
        v = reshape(&v, &v.shape()[1..], st)?;
    }
    let ok = broadcast_shapes(v.shape(), &shape).is_ok_and(|b| b == shape);
    if !ok {
        return Err(shape_err(
            op,
            format!(
                "Cannot broadcast a value of shape {} to the indexed shape {}.",
                fmt_shape(value.shape()),
                fmt_shape(&shape)
            ),
        ));
    }
    if a.size() == 0 || shape.contains(&0) {
        return Ok(a.clone());
    }
    let mut upd_shape = shape.clone();
    upd_shape.extend(std::iter::repeat_n(1, a.ndim()));
    let upd = reshape(&broadcast_view(&v, &shape, st)?, &upd_shape, st)?;
    let axes: Vec<i32> = (0..a.ndim() as i32).collect();
    scatter_op(
        op,
        mode,
        a,
        &coords.iter().collect::<Vec<_>>(),
        &upd,
        &axes,
        st,
    )
}

/// Python's `a[ix] = value`, as a new array: `value` (cast to `a`'s dtype) broadcasts to the
/// shape of `a[ix]` (see [`index`]) and is written there. With repeated array indices one of the
/// writes wins. Out-of-range array entries are dropped.
///
/// ```
/// use wmx::ix;
/// let a = wmx::zeros(&[2, 4], wmx::Dtype::Float32, None).unwrap();
/// let b = wmx::index_put(&a, &ix![.., 1..;2], &wmx::Array::scalar(5.0f32), None).unwrap();
/// assert_eq!(b.to_vec::<f32>().unwrap(), vec![0.0, 5.0, 0.0, 5.0, 0.0, 5.0, 0.0, 5.0]);
/// ```
pub fn index_put(a: &Array, ix: &[Ix], value: &Array, s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("index_put")?;
    put("index_put", None, a, ix, value, st)
}

/// `a.at(ix)`: MLX's `a.at[ix]`, whose methods combine a value into `a[ix]` and return the new
/// array; repeated array indices all apply (unlike [`index_put`]).
#[derive(Clone, Debug)]
pub struct At<'a> {
    a: &'a Array,
    ix: Vec<Ix>,
}

impl At<'_> {
    /// `a[ix] += value` with repeats accumulating (MLX's `a.at[ix].add(value)`).
    ///
    /// ```
    /// use wmx::ix;
    /// let a = wmx::zeros(&[3], wmx::Dtype::Int32, None).unwrap();
    /// let i = wmx::Array::from_slice(&[0i32, 0, 2], &[3]);
    /// let b = a.at(&ix![i]).add(&wmx::Array::scalar(1i32), None).unwrap();
    /// assert_eq!(b.to_vec::<i32>().unwrap(), vec![2, 0, 1]);
    /// ```
    pub fn add(&self, value: &Array, s: impl Into<StreamOrDevice>) -> OpResult {
        let st = s.into().resolve("scatter_add")?;
        put(
            "scatter_add",
            Some(BinaryOp::Add),
            self.a,
            &self.ix,
            value,
            st,
        )
    }
    /// `a[ix] *= value`, repeats accumulating.
    ///
    /// ```
    /// use wmx::ix;
    /// let a = wmx::full(&[3], 2.0, wmx::Dtype::Float32, None).unwrap();
    /// let b = a.at(&ix![1..]).multiply(&wmx::Array::scalar(3.0f32), None).unwrap();
    /// assert_eq!(b.to_vec::<f32>().unwrap(), vec![2.0, 6.0, 6.0]);
    /// ```
    pub fn multiply(&self, value: &Array, s: impl Into<StreamOrDevice>) -> OpResult {
        let st = s.into().resolve("scatter_prod")?;
        put(
            "scatter_prod",
            Some(BinaryOp::Multiply),
            self.a,
            &self.ix,
            value,
            st,
        )
    }
    /// `a[ix] = maximum(a[ix], value)`, over repeats too.
    ///
    /// ```
    /// use wmx::ix;
    /// let a = wmx::Array::from_slice(&[1i32, 5, 3], &[3]);
    /// let b = a.at(&ix![..]).maximum(&wmx::Array::scalar(4i32), None).unwrap();
    /// assert_eq!(b.to_vec::<i32>().unwrap(), vec![4, 5, 4]);
    /// ```
    pub fn maximum(&self, value: &Array, s: impl Into<StreamOrDevice>) -> OpResult {
        let st = s.into().resolve("scatter_max")?;
        put(
            "scatter_max",
            Some(BinaryOp::Maximum),
            self.a,
            &self.ix,
            value,
            st,
        )
    }
    /// `a[ix] = minimum(a[ix], value)`, over repeats too.
    ///
    /// ```
    /// use wmx::ix;
    /// let a = wmx::Array::from_slice(&[1i32, 5, 3], &[3]);
    /// let b = a.at(&ix![..]).minimum(&wmx::Array::scalar(4i32), None).unwrap();
    /// assert_eq!(b.to_vec::<i32>().unwrap(), vec![1, 4, 3]);
    /// ```
    pub fn minimum(&self, value: &Array, s: impl Into<StreamOrDevice>) -> OpResult {
        let st = s.into().resolve("scatter_min")?;
        put(
            "scatter_min",
            Some(BinaryOp::Minimum),
            self.a,
            &self.ix,
            value,
            st,
        )
    }
    /// `a[ix] = value` (as [`index_put`]).
    ///
    /// ```
    /// use wmx::ix;
    /// let a = wmx::Array::from_slice(&[1i32, 5, 3], &[3]);
    /// let b = a.at(&ix![-1]).set(&wmx::Array::scalar(0i32), None).unwrap();
    /// assert_eq!(b.to_vec::<i32>().unwrap(), vec![1, 5, 0]);
    /// ```
    pub fn set(&self, value: &Array, s: impl Into<StreamOrDevice>) -> OpResult {
        let st = s.into().resolve("index_put")?;
        put("index_put", None, self.a, &self.ix, value, st)
    }
}

impl Array {
    /// `self[ix]` on the default stream (see [`index`]).
    ///
    /// ```
    /// use wmx::ix;
    /// let a = wmx::Array::from_slice(&[1i32, 2, 3, 4], &[2, 2]);
    /// assert_eq!(a.index(&ix![.., -1]).unwrap().to_vec::<i32>().unwrap(), vec![2, 4]);
    /// ```
    pub fn index(&self, ix: &[Ix]) -> OpResult {
        index(self, ix, None)
    }

    /// `self[ix] = value` as a new array, on the default stream (see [`index_put`]).
    ///
    /// ```
    /// use wmx::ix;
    /// let a = wmx::Array::from_slice(&[1i32, 2, 3, 4], &[2, 2]);
    /// let b = a.index_put(&ix![0], &wmx::Array::scalar(9i32)).unwrap();
    /// assert_eq!(b.to_vec::<i32>().unwrap(), vec![9, 9, 3, 4]);
    /// ```
    pub fn index_put(&self, ix: &[Ix], value: &Array) -> OpResult {
        index_put(self, ix, value, None)
    }

    /// MLX's `a.at[ix]`: combine a value into `self[ix]` (see [`At`]).
    ///
    /// ```
    /// use wmx::ix;
    /// let a = wmx::zeros(&[2], wmx::Dtype::Float32, None).unwrap();
    /// let b = a.at(&ix![1]).add(&wmx::Array::scalar(2.5f32), None).unwrap();
    /// assert_eq!(b.to_vec::<f32>().unwrap(), vec![0.0, 2.5]);
    /// ```
    pub fn at(&self, ix: &[Ix]) -> At<'_> {
        At {
            a: self,
            ix: ix.to_vec(),
        }
    }
}
