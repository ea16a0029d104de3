//! CPU kernels of the elementwise families: unary ops, binary ops, where, astype, full, arange.
//! Each op's scalar function comes from the table in `primitive.rs`; this file only maps it over
//! dense compute vectors in parallel.

use super::copy::{as_bool, as_f32, as_i32, as_u32, from_bool, from_f32, from_i32, from_u32};
use super::host_of;
use crate::backend::Data;
use crate::backend::host::HostVec;
use crate::dtype::{Domain, Dtype};
use crate::error::{Error, Result};
use crate::primitive::{BinaryOp, BinaryScalar, BinaryVisitor, UnaryOp, UnaryVisitor};
use rayon::prelude::*;

const PAR_MIN: usize = 1 << 14;
/// Elements per rayon task in elementwise loops: large enough to amortise scheduling, small
/// enough to balance; each task's inner loop is a plain slice loop the compiler vectorises.
const CHUNK: usize = 1 << 15;

/// Maps a slice through an op's function (monomorphised via `UnaryVisitor`).
pub(super) struct Map1<'a, T>(pub &'a [T]);

/// Element types of elementwise outputs; f32 outputs come from the host cache.
pub(super) trait Output: Copy + Default + Send + Sync {
    fn zeroed(n: usize) -> Vec<Self> {
        vec![Self::default(); n]
    }
}
impl Output for f32 {
    fn zeroed(n: usize) -> Vec<f32> {
        crate::backend::host::cache::f32_vec(n)
    }
}
impl Output for i32 {}
impl Output for u32 {}
impl Output for bool {}

/// `o[i] = f(x[i])`, compiled for AVX2 + FMA when the CPU has them (the op's function inlines
/// into the loop, which the compiler then vectorises 8 lanes wide), else for the baseline.
fn map1_slice<T: Copy, F: Fn(T) -> T>(o: &mut [T], x: &[T], f: F) {
    #[cfg(target_arch = "x86_64")]
    if wide_simd() {
        // SAFETY: the CPU supports AVX2 and FMA (checked at run time).
        return unsafe { map1_avx2(o, x, f) };
    }
    for (o, &x) in o.iter_mut().zip(x) {
        *o = f(x);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn map1_avx2<T: Copy, F: Fn(T) -> T>(o: &mut [T], x: &[T], f: F) {
    for (o, &x) in o.iter_mut().zip(x) {
        *o = f(x);
    }
}

/// `o[i] = f(a[i], b[i])`, AVX2 + FMA when available (see [`map1_slice`]).
fn map2_slice<T: Copy, F: Fn(T, T) -> T>(o: &mut [T], a: &[T], b: &[T], f: F) {
    #[cfg(target_arch = "x86_64")]
    if wide_simd() {
        // SAFETY: the CPU supports AVX2 and FMA (checked at run time).
        return unsafe { map2_avx2(o, a, b, f) };
    }
    for ((o, &a), &b) in o.iter_mut().zip(a).zip(b) {
        *o = f(a, b);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn map2_avx2<T: Copy, F: Fn(T, T) -> T>(o: &mut [T], a: &[T], b: &[T], f: F) {
    for ((o, &a), &b) in o.iter_mut().zip(a).zip(b) {
        *o = f(a, b);
    }
}

/// True when the CPU has AVX2 and FMA (detected once).
#[cfg(target_arch = "x86_64")]
fn wide_simd() -> bool {
    static WIDE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *WIDE.get_or_init(|| is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"))
}

impl<T: Output> UnaryVisitor<T> for Map1<'_, T> {
    type Out = Vec<T>;
    fn visit<F: Fn(T) -> T + Sync + Send + Copy>(self, f: F) -> Vec<T> {
        let mut out = T::zeroed(self.0.len());
        let body = |(o, x): (&mut [T], &[T])| map1_slice(o, x, f);
        if self.0.len() >= PAR_MIN {
            out.par_chunks_mut(CHUNK)
                .zip(self.0.par_chunks(CHUNK))
                .for_each(body);
        } else {
            body((&mut out, self.0));
        }
        out
    }
}

/// Maps two equal-length slices through a binary op's function.
struct Map2<'a, T>(&'a [T], &'a [T]);

impl<T: Output> BinaryVisitor<T> for Map2<'_, T> {
    type Out = Vec<T>;
    fn visit<F: Fn(T, T) -> T + Sync + Send + Copy>(self, f: F) -> Vec<T> {
        let mut out = T::zeroed(self.0.len());
        let body = |((o, a), b): ((&mut [T], &[T]), &[T])| map2_slice(o, a, b, f);
        if self.0.len() >= PAR_MIN {
            out.par_chunks_mut(CHUNK)
                .zip(self.0.par_chunks(CHUNK))
                .zip(self.1.par_chunks(CHUNK))
                .for_each(body);
        } else {
            body(((&mut out, self.0), self.1));
        }
        out
    }
}

fn map2<T: Copy + Send + Sync, U: Send>(
    a: &[T],
    b: &[T],
    f: impl Fn(T, T) -> U + Sync + Send,
) -> Vec<U> {
    if a.len() >= PAR_MIN {
        a.par_iter()
            .with_min_len(4096)
            .zip(b.par_iter())
            .map(|(&x, &y)| f(x, y))
            .collect()
    } else {
        a.iter().zip(b).map(|(&x, &y)| f(x, y)).collect()
    }
}

fn unsupported(op: &'static str, d: Dtype) -> Error {
    Error::Dtype {
        op,
        msg: format!("Not supported for {d}."),
    }
}

/// Runs `$body` once per dtype domain, with `$read` bound to that domain's reader of compute
/// vectors (`as_f32`, `as_i32`, `as_u32`, `as_bool`), `$write` to its writer (`from_f32`...)
/// and, when named, `$visit` to the `UnaryOp` visitor of its element type.
macro_rules! by_domain {
    ($domain:expr, |$read:ident, $write:ident| $body:expr) => {
        by_domain!($domain, |$read, $write, _visit| $body)
    };
    ($domain:expr, |$read:ident, $write:ident, $visit:ident| $body:expr) => {
        match $domain {
            Domain::Float => {
                let ($read, $write, $visit) =
                    (as_f32, from_f32, UnaryOp::visit_f32::<Map1<'_, f32>>);
                $body
            }
            Domain::Int => {
                let ($read, $write, $visit) =
                    (as_i32, from_i32, UnaryOp::visit_i32::<Map1<'_, i32>>);
                $body
            }
            Domain::Uint => {
                let ($read, $write, $visit) =
                    (as_u32, from_u32, UnaryOp::visit_u32::<Map1<'_, u32>>);
                $body
            }
            Domain::Bool => {
                let ($read, $write, $visit) =
                    (as_bool, from_bool, UnaryOp::visit_bool::<Map1<'_, bool>>);
                $body
            }
        }
    };
}

/// `op(x)` elementwise; the output has x's dtype.
pub(crate) fn unary(op: UnaryOp, shape: &[i32], x: &Data, dtype: Dtype) -> Result<HostVec> {
    let h = host_of("cpu", x)?;
    let (st, off) = (&x.strides[..], x.offset);
    Ok(by_domain!(dtype.domain(), |read, write, visit| write(
        dtype,
        visit(op, Map1(&read(h, shape, st, off))).ok_or_else(|| unsupported(op.name(), dtype))?,
    )))
}

pub(super) fn binary_typed<T: BinaryScalar + Output>(
    op: BinaryOp,
    a: &[T],
    b: &[T],
) -> std::result::Result<Vec<T>, Vec<bool>> {
    if op.outputs_bool() {
        Err(map2(a, b, |x, y| op.compare(x, y)))
    } else {
        Ok(T::visit(op, Map2(a, b)).unwrap_or_else(|| map2(a, b, |x, y| T::binary(op, x, y))))
    }
}

/// `op(a, b)` elementwise over equal shapes; output `out` (bool for comparisons).
pub(crate) fn binary(
    op: BinaryOp,
    shape: &[i32],
    a: &Data,
    b: &Data,
    out: Dtype,
) -> Result<HostVec> {
    let (ha, hb) = (host_of("cpu", a)?, host_of("cpu", b)?);
    let dt = ha.dtype();
    if !op.supports(dt.domain()) {
        return Err(unsupported(op.name(), dt));
    }
    let (sa, oa, sb, ob) = (&a.strides[..], a.offset, &b.strides[..], b.offset);
    Ok(by_domain!(dt.domain(), |read, write| {
        match binary_typed(op, &read(ha, shape, sa, oa), &read(hb, shape, sb, ob)) {
            Ok(v) => write(out, v),
            Err(v) => from_bool(out, v),
        }
    }))
}

pub(super) fn select<T: Copy + Send + Sync>(c: &[bool], x: &[T], y: &[T]) -> Vec<T> {
    if c.len() >= PAR_MIN {
        c.par_iter()
            .zip(x.par_iter().zip(y.par_iter()))
            .map(|(&c, (&x, &y))| if c { x } else { y })
            .collect()
    } else {
        c.iter()
            .zip(x.iter().zip(y))
            .map(|(&c, (&x, &y))| if c { x } else { y })
            .collect()
    }
}

/// `where_(cond, x, y)` over equal shapes.
pub(crate) fn where_(shape: &[i32], c: &Data, x: &Data, y: &Data, out: Dtype) -> Result<HostVec> {
    let (hc, hx, hy) = (host_of("cpu", c)?, host_of("cpu", x)?, host_of("cpu", y)?);
    let cond = as_bool(hc, shape, &c.strides, c.offset);
    let (sx, ox, sy, oy) = (&x.strides[..], x.offset, &y.strides[..], y.offset);
    Ok(by_domain!(out.domain(), |read, write| write(
        out,
        select(&cond, &read(hx, shape, sx, ox), &read(hy, shape, sy, oy)),
    )))
}

/// `start + i * step` for i in 0..n, computed in f64 and converted once.
pub(crate) fn arange(n: usize, start: f64, step: f64, dtype: Dtype) -> HostVec {
    match dtype.domain() {
        Domain::Float => from_f32(
            dtype,
            (0..n).map(|i| (start + i as f64 * step) as f32).collect(),
        ),
        Domain::Int | Domain::Uint | Domain::Bool => HostVec::collect_f64(
            dtype,
            (0..n).map(|i| (start as i64 + i as i64 * step as i64) as f64),
        ),
    }
}
