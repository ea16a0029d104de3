//! The GPU buffer cache. A buffer returns here when its last owner drops: the arrays using it and
//! the pending command batch that recorded a dispatch on it (batches hold their buffers until they
//! are submitted, so a reuse is always recorded after every earlier use in queue order). Requests
//! are rounded to size buckets (powers of two up to 1 MiB, then whole MiB) and served from the
//! cache when a buffer of that bucket is free. Allocation and clearing of large buffers costs
//! milliseconds per call on real drivers; reuse makes repeated evals cheap.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Bytes a request for `bytes` really allocates.
pub(crate) fn bucket(bytes: u64) -> u64 {
    let b = bytes.max(4);
    if b <= 1 << 20 {
        b.next_power_of_two()
    } else {
        b.div_ceil(1 << 20) << 20
    }
}

/// Free buffers by bucket size, within a byte limit.
pub(crate) struct Pool {
    free: HashMap<u64, Vec<wgpu::Buffer>>,
    cached: u64,
    limit: u64,
}

pub(crate) type SharedPool = Arc<Mutex<Pool>>;

impl Pool {
    pub(crate) fn new(limit: u64) -> SharedPool {
        Arc::new(Mutex::new(Pool {
            free: HashMap::new(),
            cached: 0,
            limit,
        }))
    }

    /// A free buffer of exactly `size` bytes, if one is cached.
    pub(crate) fn take(&mut self, size: u64) -> Option<wgpu::Buffer> {
        let b = self.free.get_mut(&size)?.pop()?;
        self.cached -= size;
        Some(b)
    }

    /// Keeps `b` for reuse, or lets it go when the cache is full.
    pub(crate) fn give(&mut self, b: wgpu::Buffer) {
        let size = b.size();
        if self.cached + size <= self.limit {
            self.cached += size;
            self.free.entry(size).or_default().push(b);
        }
    }

    /// Bytes held by free buffers.
    pub(crate) fn cached_bytes(&self) -> u64 {
        self.cached
    }

    /// Drops every free buffer.
    pub(crate) fn clear(&mut self) {
        self.free.clear();
        self.cached = 0;
    }
}
