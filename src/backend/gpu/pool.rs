//! The GPU buffer cache. A buffer returns here when its last owner drops: the arrays using it and
//! the pending command batch that recorded a dispatch on it (batches hold their buffers until they
//! are submitted, so a reuse is always recorded after every earlier use in queue order). Requests
//! are rounded to size buckets (powers of two up to 1 MiB, then whole MiB) and served from the
//! cache when a buffer of that bucket is free. Allocation and clearing of large buffers costs
//! milliseconds per call on real drivers; reuse makes repeated evals cheap. Past the cache limit,
//! the buffers freed longest ago go first (a loop over big arrays keeps its own buffers).
//! The bind groups over the pool's buffers are kept here too (see groups.rs): a buffer the pool
//! lets go takes its groups with it.

use super::groups::BindGroups;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Bytes a request for `bytes` really allocates (at least 16: one quad of a vec4 binding).
pub(crate) fn bucket(bytes: u64) -> u64 {
    let b = bytes.max(16);
    if b <= 1 << 20 {
        b.next_power_of_two()
    } else {
        b.div_ceil(1 << 20) << 20
    }
}

/// Free buffers by bucket size, within a byte limit, and the bytes in use.
pub(crate) struct Pool {
    /// Free buffers by bucket, each with the sequence number of its return (oldest first).
    free: HashMap<u64, Vec<(u64, wgpu::Buffer)>>,
    returned: u64,
    cached: u64,
    limit: u64,
    active: u64,
    peak: u64,
    /// Bind groups over these buffers (and the streams' info arenas), for reuse.
    pub(crate) groups: BindGroups,
}

pub(crate) type SharedPool = Arc<Mutex<Pool>>;

impl Pool {
    pub(crate) fn new(limit: u64) -> SharedPool {
        Arc::new(Mutex::new(Pool {
            free: HashMap::new(),
            returned: 0,
            cached: 0,
            limit,
            active: 0,
            peak: 0,
            groups: BindGroups::default(),
        }))
    }

    /// A free buffer of exactly `size` bytes, if one is cached (counted as active either way the
    /// caller goes: a miss is followed by `created`).
    pub(crate) fn take(&mut self, size: u64) -> Option<wgpu::Buffer> {
        let (_, b) = self.free.get_mut(&size)?.pop()?;
        self.cached -= size;
        self.note_active(size);
        Some(b)
    }

    /// Records a newly created buffer of `size` bytes as active.
    pub(crate) fn created(&mut self, size: u64) {
        self.note_active(size);
    }

    fn note_active(&mut self, size: u64) {
        self.active += size;
        self.peak = self.peak.max(self.active);
    }

    /// Keeps `b` for reuse; past the cache limit, lets the buffers freed longest ago go (`b`
    /// itself when it alone exceeds the limit).
    pub(crate) fn give(&mut self, b: wgpu::Buffer) {
        let size = b.size();
        self.active = self.active.saturating_sub(size);
        if size > self.limit {
            self.groups.forget(&b);
            return;
        }
        self.returned += 1;
        self.cached += size;
        self.free.entry(size).or_default().push((self.returned, b));
        self.trim();
    }

    /// Drops the oldest free buffers until the cache is within its limit.
    fn trim(&mut self) {
        while self.cached > self.limit {
            let oldest = self
                .free
                .iter()
                .filter_map(|(&size, v)| v.first().map(|(seq, _)| (*seq, size)))
                .min();
            let Some((_, size)) = oldest else { break };
            if let Some(v) = self.free.get_mut(&size) {
                let (_, b) = v.remove(0);
                self.groups.forget(&b);
                if v.is_empty() {
                    self.free.remove(&size);
                }
            }
            self.cached -= size;
        }
    }

    /// Bytes held by free buffers.
    pub(crate) fn cached_bytes(&self) -> u64 {
        self.cached
    }

    /// Bytes of buffers in use (held by arrays or pending work).
    pub(crate) fn active_bytes(&self) -> u64 {
        self.active
    }

    /// Highest `active_bytes` since the last reset.
    pub(crate) fn peak_bytes(&self) -> u64 {
        self.peak
    }

    /// Restarts the peak from the current active bytes.
    pub(crate) fn reset_peak(&mut self) {
        self.peak = self.active;
    }

    /// Sets the cache limit, trimming the cache to it; returns the previous limit.
    pub(crate) fn set_limit(&mut self, limit: u64) -> u64 {
        let old = std::mem::replace(&mut self.limit, limit);
        self.trim();
        old
    }

    /// Drops every free buffer (and every cached bind group).
    pub(crate) fn clear(&mut self) {
        self.groups.clear();
        self.free.clear();
        self.cached = 0;
    }
}
