//! Array and weight files, as in MLX's `mx.save` / `mx.load`: `.npy` ([`save`], [`load`]),
//! `.npz` ([`savez`], [`savez_compressed`], [`load_npz`]) and `.safetensors`
//! ([`save_safetensors`], [`load_safetensors`], [`load_safetensors_as`]). MLX's `mx.load` picks
//! the format from the extension; in wmx each format has its own function ([`load`] is `.npy`).
//!
//! Loading puts arrays straight on the requested stream's device: files are memory-mapped and a
//! GPU receives its upload from the mapped bytes (the host makes no copy), the CPU one copy.
//! Saving reads each array back once, in row-major order, whatever its strides.
//!
//! Files are untrusted input: a truncated, corrupt or hostile file is an `Err`
//! ([`crate::Error::Io`], or [`crate::Error::Dtype`] for a dtype wmx lacks) naming the file, never a
//! panic, and no allocation is larger than the file (or, inside a `.npz`, than the array its
//! header declares, which must then really be there). The parsers live in `npy.rs`, `npz.rs`,
//! `safetensors.rs`; this file holds what they share: mapping a file, reading arrays back.

mod npy;
mod npz;
mod safetensors;

pub use npy::{load, save};
pub use npz::{load_npz, savez, savez_compressed};
pub use safetensors::{load_safetensors, load_safetensors_as, save_safetensors};

use crate::array::Array;
use crate::backend::Storage;
use crate::dtype::Dtype;
use crate::error::{Error, Result};
use std::path::Path;
use std::sync::Arc;

/// The `Err` for a file that cannot be used: `[op] path: msg`.
pub(crate) fn file_err(op: &'static str, path: &Path, msg: impl std::fmt::Display) -> Error {
    Error::Io {
        op,
        msg: format!("{}: {msg}", path.display()),
    }
}

/// A whole file's bytes: memory-mapped (an empty file is an empty slice).
pub(crate) struct FileBytes(Option<memmap2::Mmap>);

impl std::ops::Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.0 {
            Some(m) => m,
            None => &[],
        }
    }
}

/// Maps `path` read-only. The file must not be changed by another process while it is loaded
/// (as for every memory-mapped loader): its bytes are read as they are when used.
pub(crate) fn map_file(op: &'static str, path: &Path) -> Result<FileBytes> {
    let file = std::fs::File::open(path).map_err(|e| file_err(op, path, e))?;
    let len = file.metadata().map_err(|e| file_err(op, path, e))?.len();
    if len == 0 {
        return Ok(FileBytes(None));
    }
    // SAFETY: the map is read-only and only read through `&[u8]`; the documented condition above
    // (no concurrent truncation) is the usual contract of memory-mapped file loaders.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| file_err(op, path, e))?;
    Ok(FileBytes(Some(map)))
}

/// An array's elements in row-major order, little-endian (bool one byte 0/1 each): borrowed
/// from the host storage when the array is dense there, else gathered.
pub(crate) enum HostBytes {
    Storage(Arc<Storage>, std::ops::Range<usize>),
    Owned(Vec<u8>),
}

impl HostBytes {
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            HostBytes::Storage(s, r) => match s.as_host() {
                Some(h) => &h.bytes()[r.clone()],
                None => &[],
            },
            HostBytes::Owned(v) => v,
        }
    }
}

/// Evaluates `a` and reads its elements back to the host once (see [`HostBytes`]).
pub(crate) fn host_bytes(op: &'static str, a: &Array) -> Result<HostBytes> {
    a.eval()?;
    let data = a.0.wait()?;
    let host = pollster::block_on(data.storage.host_async())?;
    let h = host.as_host().ok_or_else(|| Error::Backend {
        op,
        msg: "invariant: host copy is host memory".into(),
    })?;
    let size = a.dtype().size();
    if data.is_contiguous(a.shape()) {
        let start = data.offset * size;
        let range = start..start + a.nbytes();
        if range.end <= h.bytes().len() {
            return Ok(HostBytes::Storage(host.clone(), range));
        }
    }
    // A strided view: gathered in row-major order from the host copy made above (to_vec finds
    // it cached on the storage, so the device is read once).
    fn le<T: bytemuck::Pod>(v: Vec<T>) -> Vec<u8> {
        bytemuck::cast_slice(&v).to_vec()
    }
    Ok(HostBytes::Owned(match a.dtype() {
        Dtype::Bool => a.to_vec::<bool>()?.into_iter().map(u8::from).collect(),
        Dtype::Uint8 => a.to_vec::<u8>()?,
        Dtype::Uint32 => le(a.to_vec::<u32>()?),
        Dtype::Int32 => le(a.to_vec::<i32>()?),
        Dtype::Float16 => le(a.to_vec::<half::f16>()?),
        Dtype::Bfloat16 => le(a.to_vec::<half::bf16>()?),
        Dtype::Float32 => le(a.to_vec::<f32>()?),
    }))
}

/// Shape dimensions read from a file as i32 (wmx's dimension type), with the element count
/// checked against what an array may hold; `None` when a dimension does not fit.
pub(crate) fn file_shape(dims: impl IntoIterator<Item = u64>) -> Option<(Vec<i32>, usize)> {
    let shape: Vec<i32> = dims
        .into_iter()
        .map(|d| i32::try_from(d).ok())
        .collect::<Option<_>>()?;
    let n = crate::shape::checked_size(&shape)?;
    Some((shape, n))
}
