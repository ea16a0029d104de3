//! MLX's memory API over the GPU buffer caches: active (in use), peak and cached bytes, the cache
//! limit and the memory limit (a guideline: past it, cached buffers are freed before allocating).
//! As in MLX, the cache limit defaults to the memory limit, which is unbounded until set: freed
//! buffers are kept for reuse until an allocation would pass the memory limit or the driver runs
//! out of memory (then the cache is given back and the allocation tried again); software adapters,
//! whose buffers are over-committed host memory, keep 4 GiB unless it is set. A small default
//! (4 GiB before) made working sets of GiB-sized arrays free and reallocate buffers while work
//! was queued, and the NVIDIA H200 then ran kernels over the new buffers up to 3.6x slower.
//! Owns the settings; the pools themselves live in `backend::gpu::pool`.

use crate::backend::gpu::context::created;
use std::sync::atomic::{AtomicU64, Ordering};

static CACHE_LIMIT: AtomicU64 = AtomicU64::new(u64::MAX);
static MEMORY_LIMIT: AtomicU64 = AtomicU64::new(u64::MAX);

/// The cache limit a new device's pool starts with: the one set, else unbounded, except on a
/// software adapter (llvmpipe, lavapipe), whose buffers are host memory that the kernel
/// over-commits rather than refuses: there the unset limit is [`SOFTWARE_CACHE_LIMIT`].
pub(crate) fn default_cache_limit(software_adapter: bool) -> u64 {
    match CACHE_LIMIT.load(Ordering::Relaxed) {
        u64::MAX if software_adapter => SOFTWARE_CACHE_LIMIT,
        limit => limit,
    }
}

/// The unset cache limit of a software adapter (see [`default_cache_limit`]).
const SOFTWARE_CACHE_LIMIT: u64 = 4 << 30;

pub(crate) fn memory_limit() -> u64 {
    MEMORY_LIMIT.load(Ordering::Relaxed)
}

/// Bytes of GPU buffers in use by arrays and pending work, over all GPUs.
///
/// ```
/// let before = wmx::get_active_memory();
/// let a = wmx::ones(&[1 << 16], wmx::Dtype::Float32, None).unwrap();
/// a.eval().unwrap();
/// assert!(wmx::get_active_memory() >= before);
/// ```
pub fn get_active_memory() -> u64 {
    created().map(|c| c.pool().active_bytes()).sum()
}

/// Highest active GPU memory since the start or the last [`reset_peak_memory`].
///
/// ```
/// assert!(wmx::get_peak_memory() >= wmx::get_active_memory());
/// ```
pub fn get_peak_memory() -> u64 {
    created().map(|c| c.pool().peak_bytes()).sum()
}

/// Restarts the peak from the current active memory.
///
/// ```
/// wmx::reset_peak_memory();
/// assert!(wmx::get_peak_memory() >= wmx::get_active_memory());
/// ```
pub fn reset_peak_memory() {
    created().for_each(|c| c.pool().reset_peak());
}

/// Sets the bytes of freed GPU buffers each device keeps for reuse; returns the previous limit
/// (`u64::MAX` by default: the cache is bounded by the memory limit and by the device's memory;
/// software adapters keep 4 GiB until a limit is set).
///
/// ```
/// let old = wmx::set_cache_limit(1 << 20);
/// assert!(wmx::get_cache_memory() <= 1 << 20);
/// wmx::set_cache_limit(old);
/// ```
pub fn set_cache_limit(bytes: u64) -> u64 {
    let old = CACHE_LIMIT.swap(bytes, Ordering::Relaxed);
    created().for_each(|c| {
        c.pool().set_limit(bytes);
    });
    old
}

/// Sets the memory guideline: when an allocation would take active memory past it, the caches are
/// freed first. Returns the previous value (`u64::MAX`: none).
///
/// ```
/// let old = wmx::set_memory_limit(1 << 30);
/// assert_eq!(wmx::set_memory_limit(old), 1 << 30);
/// ```
pub fn set_memory_limit(bytes: u64) -> u64 {
    MEMORY_LIMIT.swap(bytes, Ordering::Relaxed)
}
