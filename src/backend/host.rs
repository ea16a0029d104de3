//! `HostVec`: typed host memory, one variant per dtype. Its byte image is exactly the GPU's
//! layout (bool/u8 four per word, f16/bf16 two per word, little-endian), so transfers are memcpy.

use crate::dtype::{ArrayElement, Dtype};
use half::{bf16, f16};

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

    /// A vector of `n` copies of `value` converted to `dtype`.
    pub(crate) fn filled(dtype: Dtype, n: usize, value: f64) -> HostVec {
        match dtype {
            Dtype::Bool => HostVec::Bool(vec![(value != 0.0) as u8; n]),
            Dtype::Uint8 => HostVec::U8(vec![u8::from_f64(value); n]),
            Dtype::Uint32 => HostVec::U32(vec![u32::from_f64(value); n]),
            Dtype::Int32 => HostVec::I32(vec![i32::from_f64(value); n]),
            Dtype::Float16 => HostVec::F16(vec![f16::from_f64(value); n]),
            Dtype::Bfloat16 => HostVec::BF16(vec![bf16::from_f64(value); n]),
            Dtype::Float32 => {
                let mut v = cache::f32_vec(n);
                v.fill(value as f32);
                HostVec::F32(v)
            }
        }
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
        if n >= MIN_LEN {
            let mut c = F32.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(i) = c.iter().position(|v| v.len() == n) {
                let mut v = c.swap_remove(i);
                drop(c);
                v.fill(0.0);
                return v;
            }
        }
        vec![0.0; n]
    }

    /// An f32 vector of length `n` whose contents are unspecified (stale values of a reused
    /// vector, or zeros): for callers that overwrite every element, so no fill is paid.
    pub(crate) fn f32_vec_for_overwrite(n: usize) -> Vec<f32> {
        if n >= MIN_LEN {
            let mut c = F32.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(i) = c.iter().position(|v| v.len() == n) {
                return c.swap_remove(i);
            }
        }
        vec![0.0; n]
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
