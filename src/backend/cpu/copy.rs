//! Strided reads on the host: gathering any view into a dense vector of a compute type (f32, i32,
//! u32, bool), and writing compute vectors back as a dtype. Parallel over rows with rayon.

use crate::backend::host::{HostVec, with_host};
use crate::dtype::{ArrayElement, Dtype};
use crate::shape::{is_row_contiguous, size_of};
use half::{bf16, f16};
use rayon::prelude::*;
use std::borrow::Cow;

/// Conversions from a stored element to each compute type (`astype`'s rules).
pub(crate) trait Elem: Copy + Send + Sync + 'static {
    fn f32(self) -> f32;
    fn i32(self) -> i32;
    fn u32(self) -> u32;
    fn b(self) -> bool;
    fn f64(self) -> f64;
}

macro_rules! int_elem {
    ($t:ty) => {
        impl Elem for $t {
            fn f32(self) -> f32 {
                self as f32
            }
            fn i32(self) -> i32 {
                self as i32
            }
            fn u32(self) -> u32 {
                self as u32
            }
            fn b(self) -> bool {
                self != 0
            }
            fn f64(self) -> f64 {
                self as f64
            }
        }
    };
}
int_elem!(u8);
int_elem!(u32);
int_elem!(i32);

macro_rules! float_elem {
    ($t:ty, $to:expr) => {
        impl Elem for $t {
            fn f32(self) -> f32 {
                ($to)(self)
            }
            fn i32(self) -> i32 {
                ($to)(self) as i64 as i32
            }
            fn u32(self) -> u32 {
                ($to)(self) as i64 as u32
            }
            fn b(self) -> bool {
                ($to)(self) != 0.0
            }
            fn f64(self) -> f64 {
                ($to)(self) as f64
            }
        }
    };
}
float_elem!(f32, |x: f32| x);
float_elem!(f16, |x: f16| x.to_f32());
float_elem!(bf16, |x: bf16| x.to_f32());

/// Rows below this many elements are gathered serially (rayon overhead beats the work).
const PAR_MIN: usize = 1 << 15;

/// Dense row-major copy of a strided view, converting each element with `f`.
pub(crate) fn gather<T: Copy + Send + Sync, U: Copy + Send + Sync + Default>(
    src: &[T],
    shape: &[i32],
    strides: &[isize],
    offset: usize,
    f: impl Fn(T) -> U + Sync + Send,
) -> Vec<U> {
    let n = size_of(shape);
    if n == 0 {
        return Vec::new();
    }
    if is_row_contiguous(shape, strides) {
        let s = &src[offset..offset + n];
        return if n >= PAR_MIN {
            s.par_iter().map(|&x| f(x)).collect()
        } else {
            s.iter().map(|&x| f(x)).collect()
        };
    }
    let nd = shape.len();
    let last = shape[nd - 1] as usize;
    let last_stride = strides[nd - 1];
    let mut out = vec![U::default(); n];
    let row = |(r, chunk): (usize, &mut [U])| {
        // Offset of row r from its multi-index over the leading dims.
        let mut rem = r;
        let mut base = offset as isize;
        for d in (0..nd - 1).rev() {
            let dim = shape[d] as usize;
            base += (rem % dim) as isize * strides[d];
            rem /= dim;
        }
        for (j, o) in chunk.iter_mut().enumerate() {
            *o = f(src[(base + j as isize * last_stride) as usize]);
        }
    };
    if n >= PAR_MIN {
        out.par_chunks_mut(last).enumerate().for_each(row);
    } else {
        out.chunks_mut(last).enumerate().for_each(row);
    }
    out
}

/// The view as f32 values (borrowed when it already is dense f32).
pub(crate) fn as_f32<'a>(
    h: &'a HostVec,
    shape: &[i32],
    strides: &[isize],
    offset: usize,
) -> Cow<'a, [f32]> {
    if let HostVec::F32(v) = h
        && is_row_contiguous(shape, strides)
    {
        return Cow::Borrowed(&v[offset..offset + size_of(shape)]);
    }
    Cow::Owned(with_host!(h, v => gather(v, shape, strides, offset, Elem::f32)))
}

/// The view as i32 values.
pub(crate) fn as_i32<'a>(
    h: &'a HostVec,
    shape: &[i32],
    strides: &[isize],
    offset: usize,
) -> Cow<'a, [i32]> {
    if let HostVec::I32(v) = h
        && is_row_contiguous(shape, strides)
    {
        return Cow::Borrowed(&v[offset..offset + size_of(shape)]);
    }
    Cow::Owned(with_host!(h, v => gather(v, shape, strides, offset, Elem::i32)))
}

/// The view as u32 values.
pub(crate) fn as_u32<'a>(
    h: &'a HostVec,
    shape: &[i32],
    strides: &[isize],
    offset: usize,
) -> Cow<'a, [u32]> {
    if let HostVec::U32(v) = h
        && is_row_contiguous(shape, strides)
    {
        return Cow::Borrowed(&v[offset..offset + size_of(shape)]);
    }
    Cow::Owned(with_host!(h, v => gather(v, shape, strides, offset, Elem::u32)))
}

/// The view as f64 values (exact for every dtype; sort keys).
pub(crate) fn as_f64(h: &HostVec, shape: &[i32], strides: &[isize], offset: usize) -> Vec<f64> {
    with_host!(h, v => gather(v, shape, strides, offset, Elem::f64))
}

/// The view as bool values.
pub(crate) fn as_bool(h: &HostVec, shape: &[i32], strides: &[isize], offset: usize) -> Vec<bool> {
    with_host!(h, v => gather(v, shape, strides, offset, Elem::b))
}

fn par_map<T: Copy + Send + Sync, U: Send>(v: Vec<T>, f: impl Fn(T) -> U + Sync + Send) -> Vec<U> {
    if v.len() >= PAR_MIN {
        v.into_par_iter().map(f).collect()
    } else {
        v.into_iter().map(f).collect()
    }
}

/// Float-domain results stored as `dtype` (rounding once from f32).
pub(crate) fn from_f32(dtype: Dtype, v: Vec<f32>) -> HostVec {
    match dtype {
        Dtype::Float32 => HostVec::F32(v),
        Dtype::Float16 => HostVec::F16(par_map(v, f16::from_f32)),
        Dtype::Bfloat16 => HostVec::BF16(par_map(v, bf16::from_f32)),
        Dtype::Int32 => HostVec::I32(par_map(v, |x| x.i32())),
        Dtype::Uint32 => HostVec::U32(par_map(v, |x| x.u32())),
        Dtype::Uint8 => HostVec::U8(par_map(v, |x| x.u32() as u8)),
        Dtype::Bool => HostVec::Bool(par_map(v, |x| (x != 0.0) as u8)),
    }
}

/// Signed results stored as `dtype`.
pub(crate) fn from_i32(dtype: Dtype, v: Vec<i32>) -> HostVec {
    match dtype {
        Dtype::Int32 => HostVec::I32(v),
        Dtype::Uint32 => HostVec::U32(par_map(v, |x| x as u32)),
        Dtype::Uint8 => HostVec::U8(par_map(v, |x| x as u8)),
        Dtype::Bool => HostVec::Bool(par_map(v, |x| (x != 0) as u8)),
        Dtype::Float32 | Dtype::Float16 | Dtype::Bfloat16 => {
            from_f32(dtype, par_map(v, |x| x as f32))
        }
    }
}

/// Unsigned results stored as `dtype` (uint8 wraps).
pub(crate) fn from_u32(dtype: Dtype, v: Vec<u32>) -> HostVec {
    match dtype {
        Dtype::Uint32 => HostVec::U32(v),
        Dtype::Uint8 => HostVec::U8(par_map(v, |x| x as u8)),
        Dtype::Int32 => HostVec::I32(par_map(v, |x| x as i32)),
        Dtype::Bool => HostVec::Bool(par_map(v, |x| (x != 0) as u8)),
        Dtype::Float32 | Dtype::Float16 | Dtype::Bfloat16 => {
            from_f32(dtype, par_map(v, |x| x as f32))
        }
    }
}

/// Bool results stored as `dtype`.
pub(crate) fn from_bool(dtype: Dtype, v: Vec<bool>) -> HostVec {
    match dtype {
        Dtype::Bool => HostVec::Bool(par_map(v, |x| x as u8)),
        Dtype::Uint8
        | Dtype::Uint32
        | Dtype::Int32
        | Dtype::Float16
        | Dtype::Bfloat16
        | Dtype::Float32 => from_u32(dtype, par_map(v, |x| x as u32)),
    }
}

/// Any view converted to `dtype`, dense (`astype` and copies).
pub(crate) fn cast(
    h: &HostVec,
    shape: &[i32],
    strides: &[isize],
    offset: usize,
    dtype: Dtype,
) -> HostVec {
    if h.dtype() == dtype {
        // Same dtype: a copy of the view, element for element.
        return match h {
            HostVec::F32(v) => HostVec::F32(gather(v, shape, strides, offset, |x| x)),
            HostVec::F16(v) => HostVec::F16(gather(v, shape, strides, offset, |x| x)),
            HostVec::BF16(v) => HostVec::BF16(gather(v, shape, strides, offset, |x| x)),
            HostVec::I32(v) => HostVec::I32(gather(v, shape, strides, offset, |x| x)),
            HostVec::U32(v) => HostVec::U32(gather(v, shape, strides, offset, |x| x)),
            HostVec::U8(v) => HostVec::U8(gather(v, shape, strides, offset, |x| x)),
            HostVec::Bool(v) => HostVec::Bool(gather(v, shape, strides, offset, |x| x)),
        };
    }
    match h.dtype().domain() {
        crate::dtype::Domain::Float => {
            from_f32(dtype, as_f32(h, shape, strides, offset).into_owned())
        }
        crate::dtype::Domain::Int => {
            from_i32(dtype, as_i32(h, shape, strides, offset).into_owned())
        }
        crate::dtype::Domain::Uint => {
            from_u32(dtype, as_u32(h, shape, strides, offset).into_owned())
        }
        crate::dtype::Domain::Bool => from_bool(dtype, as_bool(h, shape, strides, offset)),
    }
}

/// The elements of a view in row-major order, converted to the caller's element type.
pub(crate) fn read_logical<T: ArrayElement>(
    h: &HostVec,
    shape: &[i32],
    strides: &[isize],
    offset: usize,
) -> Vec<T> {
    let dense = cast(h, shape, strides, offset, T::DTYPE);
    let n = size_of(shape);
    // T::DTYPE's variant holds exactly T, except bool (stored as 0/1 bytes).
    let exact: Option<Vec<T>> =
        with_host!(&dense, v => (v as &dyn std::any::Any).downcast_ref::<Vec<T>>().cloned());
    if let Some(v) = exact {
        return v;
    }
    match &dense {
        HostVec::Bool(v) => v.iter().map(|&b| T::from_f64(b as f64)).collect(),
        HostVec::U8(_)
        | HostVec::U32(_)
        | HostVec::I32(_)
        | HostVec::F16(_)
        | HostVec::BF16(_)
        | HostVec::F32(_) => (0..n).map(|i| T::from_f64(dense.get_f64(i))).collect(),
    }
}
