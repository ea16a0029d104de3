//! Per-stream command batches: recording a dispatch (bind group, reused when the same buffers
//! were bound before; info table in the stream's arena at a dynamic offset), submitting a batch
//! when it reaches its size (16 dispatches for the first 8 batches after a wait, then 64), is
//! flushed, or holds a large dispatch while the GPU is idle, and waiting for the queue (`done`),
//! in wgpu's poll when the thread blocks anyway, else through the poller thread.

use super::buffer::GpuBuffer;
use super::context::{GpuContext, Kernel, lock};
use super::groups::GroupKey;
use super::kernels::KernelKey;
use super::lost::unless_lost;
use super::profile::Stamps;
use crate::error::{Error, Result};
use futures::channel::oneshot;
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

/// One command batch of a GPU stream: an encoder with an open compute pass.
pub(super) struct Batch {
    encoder: wgpu::CommandEncoder,
    pass: Option<wgpu::ComputePass<'static>>,
    dispatches: usize,
    /// Buffers the batch's dispatches use: they stay out of the cache until it is submitted.
    retained: Vec<Arc<GpuBuffer>>,
    /// The info tables of the batch's dispatches, each at an aligned offset of the stream's
    /// arena, which is written once, just before the batch is submitted (one small copy per
    /// batch instead of an upload per dispatch). The queue orders that write after the stream's
    /// earlier batches, which read the same arena.
    info: wgpu::Buffer,
    info_words: Vec<u32>,
    /// Timestamps of each dispatch, when profiling (see profile.rs).
    stamps: Option<Stamps>,
}

/// Dispatches per submit before a stream flushes by itself (MLX uses 40 ops per command buffer).
/// `WMX_BATCH_DISPATCHES` overrides it (for measuring the policy).
fn max_dispatches_per_batch() -> usize {
    static N: OnceLock<usize> = OnceLock::new();
    *N.get_or_init(|| {
        std::env::var("WMX_BATCH_DISPATCHES")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&n| n > 0)
            .unwrap_or(64)
    })
}

/// Dispatches per batch for the first batches after a wait (see `GpuContext::batch_limit`).
const EARLY_BATCH: usize = 16;

/// How many batches after a wait are [`EARLY_BATCH`] dispatches long.
const EARLY_BATCHES: usize = 8;

/// Bytes of a batch's info buffer; a batch whose tables would not fit is submitted first.
pub(super) const INFO_ARENA_BYTES: u64 = 64 << 10;

/// A dispatch binding at least this many bytes, recorded while no batch is in flight (the GPU
/// idle, as at the start of an eval), is submitted at once with what precedes it: the GPU works
/// on it while the stream records the rest, instead of waiting for the batch to fill or the eval
/// to flush. Smaller dispatches take too little GPU time to be worth a submit of their own.
/// `WMX_EARLY_SUBMIT_BYTES` overrides the size (`off` never submits early; for measuring).
fn early_submit_bytes() -> u64 {
    static N: OnceLock<u64> = OnceLock::new();
    *N.get_or_init(
        || match std::env::var("WMX_EARLY_SUBMIT_BYTES").as_deref() {
            Ok("off") => u64::MAX,
            Ok(v) => v.parse().unwrap_or(8 << 20),
            Err(_) => 8 << 20,
        },
    )
}

/// Whether dispatches reuse bind groups (see groups.rs); `WMX_BIND_GROUPS=fresh` creates one
/// per dispatch instead (for measuring).
fn reuse_groups() -> bool {
    static R: OnceLock<bool> = OnceLock::new();
    *R.get_or_init(|| std::env::var("WMX_BIND_GROUPS").as_deref() != Ok("fresh"))
}

impl GpuContext {
    /// Records one dispatch of `key` on `stream`: bindings are `info`, then `buffers` in order.
    pub(crate) fn dispatch(
        &self,
        stream: usize,
        key: &KernelKey,
        buffers: &[&Arc<GpuBuffer>],
        info: &[u32],
        groups: [u32; 3],
    ) -> Result<()> {
        self.record(stream, key, || self.pipeline(key), buffers, info, groups)
    }

    /// As [`GpuContext::dispatch`] for a kernel built from a generated source (see
    /// [`GpuContext::pipeline_source`]), named `label` in errors.
    pub(crate) fn dispatch_kernel(
        &self,
        stream: usize,
        kernel: &Arc<Kernel>,
        label: &str,
        buffers: &[&Arc<GpuBuffer>],
        info: &[u32],
        groups: [u32; 3],
    ) -> Result<()> {
        self.record(stream, &label, || Ok(kernel.clone()), buffers, info, groups)
    }

    /// The one body of both dispatches: checks the grid, then fetches the pipeline (only when
    /// there is work) and records it.
    pub(crate) fn record(
        &self,
        stream: usize,
        label: &dyn fmt::Display,
        pipeline: impl FnOnce() -> Result<Arc<Kernel>>,
        buffers: &[&Arc<GpuBuffer>],
        info: &[u32],
        groups: [u32; 3],
    ) -> Result<()> {
        let max = self.limits.max_compute_workgroups_per_dimension;
        if groups.iter().any(|&g| g > max) {
            return Err(Error::TooLarge {
                op: "gpu",
                msg: format!(
                    "kernel {label} needs {groups:?} workgroups; this device allows {max} per dimension."
                ),
            });
        }
        if groups.contains(&0) {
            return Ok(());
        }
        self.lost.check("gpu")?;
        let pipeline = pipeline()?;
        let words = info.len().max(1);
        let align = (self.limits.min_storage_buffer_offset_alignment as usize / 4).max(1);
        if (words * 4) as u64 > INFO_ARENA_BYTES {
            return Err(Error::TooLarge {
                op: "gpu",
                msg: format!(
                    "kernel {label} has an info table of {words} words (at most {}).",
                    INFO_ARENA_BYTES / 4
                ),
            });
        }
        let mut batches = lock(&self.batches);
        let full = batches.get(&stream).is_some_and(|b| {
            (b.info_words.len().next_multiple_of(align) + words) * 4 > INFO_ARENA_BYTES as usize
                || b.stamps.as_ref().is_some_and(|s| !s.has_room())
        });
        if full && let Some(b) = batches.remove(&stream) {
            self.submit(b);
        }
        let batch = match batches.entry(stream) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(self.new_batch(stream)),
        };
        let at = batch.info_words.len().next_multiple_of(align);
        batch.info_words.resize(at, 0);
        if info.is_empty() {
            batch.info_words.push(0);
        } else {
            batch.info_words.extend_from_slice(info);
        }
        let key = GroupKey {
            layout: pipeline.layout.clone(),
            buffers: std::iter::once(batch.info.clone())
                .chain(buffers.iter().map(|b| b.buffer.clone()))
                .collect(),
            info_bytes: (words * 4) as u64,
        };
        let cached = if reuse_groups() {
            lock(&self.pool).groups.get(&key)
        } else {
            None
        };
        let bind_group = match cached {
            Some(g) => g,
            None => {
                let entries: Vec<wgpu::BindGroupEntry> = key
                    .buffers
                    .iter()
                    .enumerate()
                    .map(|(i, b)| wgpu::BindGroupEntry {
                        binding: i as u32,
                        resource: if i == 0 {
                            wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                                buffer: b,
                                offset: 0,
                                size: std::num::NonZeroU64::new(key.info_bytes),
                            })
                        } else {
                            b.as_entire_binding()
                        },
                    })
                    .collect();
                let g = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: None,
                    layout: &pipeline.layout,
                    entries: &entries,
                });
                if reuse_groups() {
                    lock(&self.pool).groups.insert(key, g.clone());
                }
                g
            }
        };
        let pass = match batch.stamps.as_mut() {
            // Profiling: a pass per dispatch, stamped at both ends.
            Some(stamps) => {
                drop(batch.pass.take());
                batch.pass.insert(stamps.begin(
                    &mut batch.encoder,
                    format!("{label} [{}x{}x{}]", groups[0], groups[1], groups[2]),
                ))
            }
            None => batch.pass.get_or_insert_with(|| {
                batch
                    .encoder
                    .begin_compute_pass(&wgpu::ComputePassDescriptor::default())
                    .forget_lifetime()
            }),
        };
        pass.set_pipeline(&pipeline.pipeline);
        pass.set_bind_group(0, &bind_group, &[(at * 4) as u32]);
        pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
        batch.dispatches += 1;
        batch.retained.extend(buffers.iter().map(|b| Arc::clone(b)));
        let large = buffers.iter().map(|b| b.buffer.size()).sum::<u64>() >= early_submit_bytes();
        let idle = self.in_flight.load(Ordering::Acquire) == 0;
        if (batch.dispatches >= self.batch_limit() || (large && idle))
            && let Some(b) = batches.remove(&stream)
        {
            self.submit(b);
        }
        Ok(())
    }

    /// Dispatches after which a batch is submitted: [`EARLY_BATCH`] for the first
    /// [`EARLY_BATCHES`] batches after a wait, then [`max_dispatches_per_batch`]. A short
    /// evaluation (a training step: a few dozen dispatches) so reaches the GPU in small batches
    /// that it runs while the next are recorded, and waits at the end only for the last small
    /// one; a long one (a chain of a thousand ops) still submits in batches of 64, each submit
    /// costing tens of µs. `WMX_BATCH_RAMP=0` always waits for the maximum (for measuring).
    fn batch_limit(&self) -> usize {
        static RAMP: OnceLock<bool> = OnceLock::new();
        let max = max_dispatches_per_batch();
        let ramp = *RAMP.get_or_init(|| std::env::var("WMX_BATCH_RAMP").as_deref() != Ok("0"));
        limit_after(self.since_wait.load(Ordering::Relaxed), max, ramp)
    }

    fn new_batch(&self, stream: usize) -> Batch {
        let encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("wmx stream"),
            });
        Batch {
            encoder,
            pass: None,
            dispatches: 0,
            retained: Vec::new(),
            info: self.arena(stream),
            info_words: Vec::new(),
            stamps: (self.profile && super::profile::on())
                .then(|| Stamps::new(&self.device, max_dispatches_per_batch())),
        }
    }

    /// Writes the batch's info tables, then submits it (the write is ordered before it).
    pub(super) fn submit(&self, mut b: Batch) {
        drop(b.pass.take());
        let readback = b
            .stamps
            .take()
            .and_then(|s| s.resolve(&self.device, &mut b.encoder));
        if self.lost.reason().is_some() {
            // Nothing runs on a lost device; its waits end with the loss.
            return;
        }
        if !b.info_words.is_empty() {
            self.queue
                .write_buffer(&b.info, 0, bytemuck::cast_slice(&b.info_words));
        }
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.since_wait.fetch_add(1, Ordering::Relaxed);
        self.queue.submit([b.encoder.finish()]);
        if let Some(r) = readback {
            r.start(self.queue.get_timestamp_period());
        }
        let in_flight = Arc::clone(&self.in_flight);
        self.queue.on_submitted_work_done(move || {
            in_flight.fetch_sub(1, Ordering::AcqRel);
        });
    }

    /// Submits the pending work of one stream.
    pub(crate) fn flush(&self, stream: usize) {
        let mut batches = lock(&self.batches);
        if let Some(b) = batches.remove(&stream) {
            self.submit(b);
        }
    }

    /// Submits the pending work of every stream but `except`. Batches are submitted while the
    /// lock is held, so once a batch leaves the map it is already on the queue: anyone who then
    /// submits (a readback, a wait) is ordered after it.
    pub(crate) fn flush_others(&self, except: usize) {
        let mut batches = lock(&self.batches);
        let keys: Vec<usize> = batches.keys().copied().filter(|&k| k != except).collect();
        for k in keys {
            if let Some(b) = batches.remove(&k) {
                self.submit(b);
            }
        }
    }

    /// Submits the pending work of every stream.
    pub(crate) fn flush_all(&self) {
        self.flush_others(usize::MAX);
    }

    pub(super) fn kick(&self) {
        let _ = lock(&self.poller).send(());
    }

    /// Makes the callbacks of the work submitted so far fire: when the thread is inside a
    /// blocking wait anyway (`eval`, `item`), by waiting for that work here (no hand-off to the
    /// poller thread and back); otherwise, and on wgpu's GL backend (see the poller), by
    /// kicking the poller. A wgpu panic in the wait marks the device lost, as in the poller.
    /// `WMX_INLINE_WAIT=off` always kicks (for measuring).
    pub(super) fn wait_or_kick(&self) {
        static INLINE: OnceLock<bool> = OnceLock::new();
        let inline =
            *INLINE.get_or_init(|| std::env::var("WMX_INLINE_WAIT").as_deref() != Ok("off"));
        #[cfg(not(target_arch = "wasm32"))]
        if inline && crate::graph::blocking() && self.info.backend != wgpu::Backend::Gl {
            let _ = super::context::poll_guarded(
                &self.device,
                &self.lost,
                self.index,
                &self.info.name,
                wgpu::PollType::wait_indefinitely(),
            );
            return;
        }
        let _ = inline;
        self.kick();
    }

    /// Submits every stream's pending work and resolves when it has finished; reports a
    /// captured wgpu error, or the loss of the device (which ends the wait: its callback may
    /// never come).
    pub(crate) async fn done(&self) -> Result<()> {
        self.lost.check("gpu")?;
        self.flush_all();
        let (tx, rx) = oneshot::channel();
        self.queue.on_submitted_work_done(move || {
            let _ = tx.send(());
        });
        self.wait_or_kick();
        let _ = unless_lost(&self.lost, "gpu", rx).await?;
        self.since_wait.store(0, Ordering::Relaxed);
        self.lost.check("gpu")?;
        self.take_error()
    }

    /// The first uncaptured wgpu error since the last call, as an `Err`.
    pub(crate) fn take_error(&self) -> Result<()> {
        match lock(&self.uncaptured).take() {
            Some(msg) => Err(Error::Backend { op: "gpu", msg }),
            None => Ok(()),
        }
    }
}

/// The batch size once `batches` batches have been submitted since the last wait (see
/// `GpuContext::batch_limit`).
fn limit_after(batches: usize, max: usize, ramp: bool) -> usize {
    if ramp && batches < EARLY_BATCHES {
        max.min(EARLY_BATCH)
    } else {
        max
    }
}

#[cfg(test)]
mod tests {
    use super::limit_after;

    #[test]
    fn batches_are_short_after_a_wait_then_long() {
        let sizes: Vec<usize> = (0..10).map(|b| limit_after(b, 64, true)).collect();
        assert_eq!(sizes, [16, 16, 16, 16, 16, 16, 16, 16, 64, 64]);
        // A smaller maximum (`WMX_BATCH_DISPATCHES`) caps the early batches too.
        assert_eq!(limit_after(0, 4, true), 4);
        // Without the ramp every batch waits for the maximum.
        assert_eq!(limit_after(0, 64, false), 64);
    }
}
