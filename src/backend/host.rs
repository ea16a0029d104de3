//! `HostVec`: typed host memory, one variant per dtype. Its byte image is exactly the GPU's
//! layout (bool/u8 four per word, f16/bf16 two per word, little-endian), so transfers are memcpy.
//! Also the checks that turn a host allocation the allocator refuses into an `Err` (not an
//! abort), and the cache of large f32 vectors.

use crate::dtype::{ArrayElement, Dtype};
use crate::error::{Error, Result};
use half::{bf16, f16};

/// Outputs from this many bytes up are asked of the allocator first ([`check_alloc`]).
const PROBE_MIN_BYTES: usize = 1 << 30;

/// The `Err` of a host allocation the allocator refused (the GPU's is `Error::TooLarge` too).
fn too_large(op: &'static str, bytes: usize) -> Error {
    Error::TooLarge {
        op,
        msg: format!(
            "An array of {bytes} bytes does not fit in host memory (the allocator refused it)."
        ),
    }
}

/// A vector of `n` copies of `value`, or an `Err` naming `op` when the allocator refuses it
/// (instead of the abort of `vec!`).
fn try_vec<T: Copy>(op: &'static str, n: usize, value: T) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| too_large(op, n.saturating_mul(std::mem::size_of::<T>())))?;
    v.resize(n, value);
    Ok(v)
}

/// Checks that an output of `n` elements of `dtype` can be allocated before a CPU kernel runs:
/// kernels collect their outputs (through rayon), which aborts the process when the allocator
/// refuses. Outputs of [`PROBE_MIN_BYTES`] and more are reserved once here and freed (large
/// blocks are mapped lazily, so this costs a map and an unmap, not the memory): a size the
/// allocator refuses (past the address space, or past RAM and swap under Linux's default
/// overcommit heuristic) becomes an `Err` naming `op`, as on the GPU. Where the OS overcommits
/// without limit, a size within the address space passes here as the kernel's allocation would
/// (the OS may then stop the process when the pages are touched, as for any program).
pub(crate) fn check_alloc(op: &'static str, dtype: Dtype, n: usize) -> Result<()> {
    let bytes = n
        .checked_mul(dtype.size())
        .ok_or_else(|| too_large(op, usize::MAX))?;
    if bytes >= PROBE_MIN_BYTES {
        let mut probe: Vec<u8> = Vec::new();
        probe
            .try_reserve_exact(bytes)
            .map_err(|_| too_large(op, bytes))?;
    }
    Ok(())
}

/// Host storage of one array.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum HostVec {
    Bool(Vec<u8>),
    U8(Vec<u8>),
    U32(Vec<u32>),
    I32(Vec<i32>),
    F16(Vec<f16>),
    BF16(Vec<bf16>),
    F32(Vec<f32>),
}

/// Runs `$body` with `$v` bound to the typed vector inside a `HostVec` (bool as `Vec<u8>`).
macro_rules! with_host {
    ($h:expr, $v:ident => $body:expr) => {
        match $h {
            $crate::backend::host::HostVec::Bool($v) => $body,
            $crate::backend::host::HostVec::U8($v) => $body,
            $crate::backend::host::HostVec::U32($v) => $body,
            $crate::backend::host::HostVec::I32($v) => $body,
            $crate::backend::host::HostVec::F16($v) => $body,
            $crate::backend::host::HostVec::BF16($v) => $body,
            $crate::backend::host::HostVec::F32($v) => $body,
        }
    };
}
pub(crate) use with_host;

impl HostVec {
    pub(crate) fn dtype(&self) -> Dtype {
        match self {
            HostVec::Bool(_) => Dtype::Bool,
            HostVec::U8(_) => Dtype::Uint8,
            HostVec::U32(_) => Dtype::Uint32,
            HostVec::I32(_) => Dtype::Int32,
            HostVec::F16(_) => Dtype::Float16,
            HostVec::BF16(_) => Dtype::Bfloat16,
            HostVec::F32(_) => Dtype::Float32,
        }
    }

    /// The raw bytes (GPU layout).
    pub(crate) fn bytes(&self) -> &[u8] {
        with_host!(self, v => bytemuck::cast_slice(v.as_slice()))
    }

    /// The raw bytes, writable (a transport receives into them).
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        with_host!(self, v => bytemuck::cast_slice_mut(v.as_mut_slice()))
    }

    /// Rebuilds `n` elements of `dtype` from bytes in GPU layout (may be longer than needed).
    pub(crate) fn from_bytes(dtype: Dtype, n: usize, bytes: &[u8]) -> HostVec {
        let b = &bytes[..n * dtype.size()];
        match dtype {
            Dtype::Bool => HostVec::Bool(b.to_vec()),
            Dtype::Uint8 => HostVec::U8(b.to_vec()),
            Dtype::Uint32 => HostVec::U32(bytemuck::pod_collect_to_vec(b)),
            Dtype::Int32 => HostVec::I32(bytemuck::pod_collect_to_vec(b)),
            Dtype::Float16 => HostVec::F16(bytemuck::pod_collect_to_vec(b)),
            Dtype::Bfloat16 => HostVec::BF16(bytemuck::pod_collect_to_vec(b)),
            Dtype::Float32 => HostVec::F32(bytemuck::pod_collect_to_vec(b)),
        }
    }

    /// Builds host storage from a typed slice.
    pub(crate) fn from_slice<T: ArrayElement>(data: &[T]) -> HostVec {
        // Every ArrayElement is stored in its own variant; bool is stored as 0/1 bytes.
        let any: &dyn std::any::Any = &data.to_vec();
        macro_rules! exact {
            ($t:ty, $v:ident) => {
                if let Some(v) = any.downcast_ref::<Vec<$t>>() {
                    return HostVec::$v(v.clone());
                }
            };
        }
        exact!(f32, F32);
        exact!(i32, I32);
        exact!(u32, U32);
        exact!(u8, U8);
        exact!(f16, F16);
        exact!(bf16, BF16);
        if let Some(v) = any.downcast_ref::<Vec<bool>>() {
            return HostVec::Bool(v.iter().map(|&b| b as u8).collect());
        }
        // Unreachable for the sealed set of ArrayElement types; convert through f64 otherwise.
        HostVec::collect_f64(T::DTYPE, data.iter().map(|x| x.to_f64()))
    }

    /// Collects f64 values into storage of `dtype` with `astype`'s conversion rules.
    pub(crate) fn collect_f64(dtype: Dtype, it: impl Iterator<Item = f64>) -> HostVec {
        match dtype {
            Dtype::Bool => HostVec::Bool(it.map(|x| (x != 0.0) as u8).collect()),
            Dtype::Uint8 => HostVec::U8(it.map(u8::from_f64).collect()),
            Dtype::Uint32 => HostVec::U32(it.map(u32::from_f64).collect()),
            Dtype::Int32 => HostVec::I32(it.map(i32::from_f64).collect()),
            Dtype::Float16 => HostVec::F16(it.map(f16::from_f64).collect()),
            Dtype::Bfloat16 => HostVec::BF16(it.map(bf16::from_f64).collect()),
            Dtype::Float32 => HostVec::F32(it.map(|x| x as f32).collect()),
        }
    }

    /// A vector of `n` copies of `value` converted to `dtype`; an `Err` naming `op` when the
    /// allocator refuses it.
    pub(crate) fn filled(op: &'static str, dtype: Dtype, n: usize, value: f64) -> Result<HostVec> {
        Ok(match dtype {
            Dtype::Bool => HostVec::Bool(try_vec(op, n, (value != 0.0) as u8)?),
            Dtype::Uint8 => HostVec::U8(try_vec(op, n, u8::from_f64(value))?),
            Dtype::Uint32 => HostVec::U32(try_vec(op, n, u32::from_f64(value))?),
            Dtype::Int32 => HostVec::I32(try_vec(op, n, i32::from_f64(value))?),
            Dtype::Float16 => HostVec::F16(try_vec(op, n, f16::from_f64(value))?),
            Dtype::Bfloat16 => HostVec::BF16(try_vec(op, n, bf16::from_f64(value))?),
            Dtype::Float32 => HostVec::F32(match cache::take_f32(n) {
                Some(mut v) => {
                    v.fill(value as f32);
                    v
                }
                None => try_vec(op, n, value as f32)?,
            }),
        })
    }

    /// The elements at `order`, in that order.
    pub(crate) fn pick(&self, order: &[usize]) -> HostVec {
        macro_rules! pick {
            ($($v:ident),*) => {
                match self { $(HostVec::$v(x) => HostVec::$v(order.iter().map(|&i| x[i]).collect()),)* }
            };
        }
        pick!(Bool, U8, U32, I32, F16, BF16, F32)
    }

    /// Element `i` as f64 (exact for every dtype).
    pub(crate) fn get_f64(&self, i: usize) -> f64 {
        match self {
            HostVec::Bool(v) => v[i] as f64,
            HostVec::U8(v) => v[i] as f64,
            HostVec::U32(v) => v[i] as f64,
            HostVec::I32(v) => v[i] as f64,
            HostVec::F16(v) => v[i].to_f64(),
            HostVec::BF16(v) => v[i].to_f64(),
            HostVec::F32(v) => v[i] as f64,
        }
    }
}

/// Reuse of large host vectors: page-faulting fresh memory costs more than the elementwise work
/// itself (an mmap'd 64 MiB output faults 16k pages), so f32 vectors of freed arrays are kept,
/// up to a byte limit, and handed to the next output of the same length.
pub(crate) mod cache {
    use std::sync::Mutex;

    const LIMIT_BYTES: usize = 256 << 20;
    /// Vectors below this length are cheap to allocate and are not kept.
    const MIN_LEN: usize = 1 << 16;

    static F32: Mutex<Vec<Vec<f32>>> = Mutex::new(Vec::new());

    /// A zeroed f32 vector of length `n` (reused when one of that length is cached).
    pub(crate) fn f32_vec(n: usize) -> Vec<f32> {
        match take_f32(n) {
            Some(mut v) => {
                v.fill(0.0);
                v
            }
            None => vec![0.0; n],
        }
    }

    /// An f32 vector of length `n` whose contents are unspecified (stale values of a reused
    /// vector, or zeros): for callers that overwrite every element, so no fill is paid.
    pub(crate) fn f32_vec_for_overwrite(n: usize) -> Vec<f32> {
        take_f32(n).unwrap_or_else(|| vec![0.0; n])
    }

    /// A cached vector of length `n` (stale contents), when one is kept.
    pub(crate) fn take_f32(n: usize) -> Option<Vec<f32>> {
        if n < MIN_LEN {
            return None;
        }
        let mut c = F32.lock().unwrap_or_else(|p| p.into_inner());
        let i = c.iter().position(|v| v.len() == n)?;
        Some(c.swap_remove(i))
    }

    /// Drops every cached vector.
    pub(crate) fn clear() {
        F32.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// Keeps `v` for reuse when it is large and the cache has room.
    pub(crate) fn give_f32(v: Vec<f32>) {
        if v.len() < MIN_LEN {
            return;
        }
        let mut c = F32.lock().unwrap_or_else(|p| p.into_inner());
        let held: usize = c.iter().map(|x| x.len() * 4).sum();
        if held + v.len() * 4 <= LIMIT_BYTES {
            c.push(v);
        }
    }
}
