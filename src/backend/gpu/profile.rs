//! GPU kernel timing ([`set_gpu_profiling`], or `WMX_PROFILE=1` for a whole run): on adapters
//! with timestamp queries, every dispatch recorded while it is on runs in a compute pass of its
//! own whose start and end are stamped; each submitted batch resolves its stamps into a buffer that is
//! read back when the batch has finished, and the durations are summed per kernel label and
//! grid. The totals are read (and reset) with [`gpu_kernel_times`].

use super::context::lock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Total GPU time of one kernel over the dispatches recorded since the last read.
#[derive(Clone, Debug, PartialEq)]
pub struct KernelTime {
    /// The kernel's label (the family and variant, or the generated kernel's name) and its grid
    /// of workgroups, as `matmul_vec4.f32.f32 [8x2x1]`.
    pub kernel: String,
    /// Dispatches timed.
    pub count: u64,
    /// Their summed duration on the GPU, in seconds.
    pub seconds: f64,
}

/// Whether new batches time their dispatches: `WMX_PROFILE=1` at start, then
/// [`set_gpu_profiling`].
fn flag() -> &'static AtomicBool {
    static ON: OnceLock<AtomicBool> = OnceLock::new();
    ON.get_or_init(|| {
        AtomicBool::new(std::env::var("WMX_PROFILE").is_ok_and(|v| !v.is_empty() && v != "0"))
    })
}

/// True while dispatches are being timed.
pub(super) fn on() -> bool {
    flag().load(Ordering::Relaxed)
}

/// Starts (or stops) timing every GPU dispatch recorded from now on, on the GPUs whose adapter
/// offers timestamp queries; [`gpu_kernel_times`] reads the totals. Setting `WMX_PROFILE=1`
/// starts it for the whole run. Each timed dispatch runs in a compute pass of its own, which
/// costs a little GPU time: profile to find where the time goes, not for headline numbers.
///
/// ```
/// use wmx::{self as mx, Array, Device};
/// mx::set_gpu_profiling(true);
/// let x = Array::from_slice(&[1.0f32, 2.0], &[2]);
/// mx::eval([&mx::exp(&x, Device::gpu(0)).unwrap()]).unwrap();
/// mx::set_gpu_profiling(false);
/// let times = mx::gpu_kernel_times().unwrap();
/// if mx::device_info(Device::gpu(0)).unwrap().timestamps {
///     assert!(times.iter().any(|k| k.kernel.contains("exp") && k.count >= 1));
/// }
/// ```
pub fn set_gpu_profiling(on: bool) {
    flag().store(on, Ordering::Relaxed);
}

#[derive(Default)]
struct Totals {
    by_kernel: HashMap<String, (u64, f64)>,
}

fn totals() -> &'static Mutex<Totals> {
    static T: OnceLock<Mutex<Totals>> = OnceLock::new();
    T.get_or_init(Mutex::default)
}

/// Read-backs submitted whose callback has not run yet.
fn pending() -> &'static AtomicUsize {
    static P: AtomicUsize = AtomicUsize::new(0);
    &P
}

/// The stamps of one batch: a query set with two slots per dispatch and the dispatches' labels.
pub(super) struct Stamps {
    set: wgpu::QuerySet,
    labels: Vec<String>,
}

impl Stamps {
    pub(super) fn new(device: &wgpu::Device, dispatches: usize) -> Stamps {
        Stamps {
            set: device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("wmx profile"),
                ty: wgpu::QueryType::Timestamp,
                count: (2 * dispatches) as u32,
            }),
            labels: Vec::with_capacity(dispatches),
        }
    }

    /// True when another dispatch fits.
    pub(super) fn has_room(&self) -> bool {
        2 * (self.labels.len() + 1) <= self.set.count() as usize
    }

    /// Begins the pass of the next dispatch, labelled `label`, stamped at both ends.
    pub(super) fn begin(
        &mut self,
        encoder: &mut wgpu::CommandEncoder,
        label: String,
    ) -> wgpu::ComputePass<'static> {
        let at = 2 * self.labels.len() as u32;
        self.labels.push(label);
        encoder
            .begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: None,
                timestamp_writes: Some(wgpu::ComputePassTimestampWrites {
                    query_set: &self.set,
                    beginning_of_pass_write_index: Some(at),
                    end_of_pass_write_index: Some(at + 1),
                }),
            })
            .forget_lifetime()
    }

    /// Records the resolve of the stamps into a buffer readable once the batch has run; call
    /// [`Readback::start`] after the batch is submitted.
    pub(super) fn resolve(
        self,
        device: &wgpu::Device,
        encoder: &mut wgpu::CommandEncoder,
    ) -> Option<Readback> {
        if self.labels.is_empty() {
            return None;
        }
        let n = 2 * self.labels.len() as u32;
        let bytes = n as u64 * wgpu::QUERY_SIZE as u64;
        let resolved = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("wmx profile resolve"),
            size: bytes,
            usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let read = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("wmx profile read"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        encoder.resolve_query_set(&self.set, 0..n, &resolved, 0);
        encoder.copy_buffer_to_buffer(&resolved, 0, &read, 0, bytes);
        Some(Readback {
            read,
            labels: self.labels,
        })
    }
}

/// A batch's resolved stamps on their way back.
pub(super) struct Readback {
    read: wgpu::Buffer,
    labels: Vec<String>,
}

impl Readback {
    /// Maps the stamps once the batch (already submitted) has run and adds its dispatches'
    /// durations to the totals; `period` is the queue's nanoseconds per tick.
    pub(super) fn start(self, period: f32) {
        pending().fetch_add(1, Ordering::AcqRel);
        let read = self.read.clone();
        let labels = Arc::new(self.labels);
        self.read
            .slice(..)
            .map_async(wgpu::MapMode::Read, move |r| {
                let ticks: Option<Vec<u64>> = r.ok().and_then(|()| {
                    let v = read.slice(..).get_mapped_range().ok()?;
                    Some(bytemuck::pod_collect_to_vec(&v))
                });
                read.unmap();
                if let Some(ticks) = ticks {
                    let mut t = lock(totals());
                    for (i, label) in labels.iter().enumerate() {
                        let (a, b) = (ticks[2 * i], ticks[2 * i + 1]);
                        let s = b.saturating_sub(a) as f64 * period as f64 * 1e-9;
                        let e = t.by_kernel.entry(label.clone()).or_default();
                        e.0 += 1;
                        e.1 += s;
                    }
                }
                pending().fetch_sub(1, Ordering::AcqRel);
            });
    }
}

/// The GPU time of every kernel timed since the last call (see [`set_gpu_profiling`]), longest
/// total first, and resets the totals. Waits for the GPUs in use (as [`crate::synchronize`])
/// so that the work already submitted is counted.
///
/// ```
/// use wmx::{self as mx, Array, Device};
/// mx::set_gpu_profiling(true);
/// let x = Array::from_slice(&[1.0f32, 2.0], &[2]);
/// mx::eval([&mx::sqrt(&x, Device::gpu(0)).unwrap()]).unwrap();
/// for k in mx::gpu_kernel_times().unwrap() {
///     assert!(k.count > 0 && k.seconds >= 0.0);
/// }
/// mx::set_gpu_profiling(false);
/// ```
pub fn gpu_kernel_times() -> crate::Result<Vec<KernelTime>> {
    {
        for ctx in super::context::created() {
            crate::synchronize(crate::Device::gpu(ctx.index))?;
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while pending().load(Ordering::Acquire) > 0 && std::time::Instant::now() < deadline {
            super::context::created().for_each(|ctx| ctx.kick());
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
    }
    let mut t = lock(totals());
    let mut v: Vec<KernelTime> = t
        .by_kernel
        .drain()
        .map(|(kernel, (count, seconds))| KernelTime {
            kernel,
            count,
            seconds,
        })
        .collect();
    v.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
    Ok(v)
}

#[cfg(test)]
mod tests {
    #[test]
    fn timed_dispatches_are_summed_per_kernel() {
        use crate::{Device, Dtype};
        // Its buffers would move the pool counts that buffer.rs's tests assert on.
        let _pool = super::super::buffer::POOL_TESTS
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let ctx = match super::super::context::context(0) {
            Ok(ctx) => ctx,
            Err(e) if std::env::var("WMX_REQUIRE_GPU").as_deref() == Ok("1") => panic!("{e}"),
            Err(_) => return,
        };
        if !ctx.profile {
            return; // no timestamp queries on this adapter
        }
        let s = crate::new_stream(Device::gpu(0));
        super::set_gpu_profiling(true);
        let x = crate::full(&[4096], 0.25f64, Dtype::Float32, s).unwrap();
        let a = crate::arctanh(&x, s).unwrap();
        let b = crate::arctanh(&a, s).unwrap();
        crate::eval([&b]).unwrap();
        super::set_gpu_profiling(false);
        let times = super::gpu_kernel_times().unwrap();
        let k = times
            .iter()
            .find(|k| k.kernel.contains("arctanh"))
            .unwrap_or_else(|| panic!("no arctanh in {times:?}"));
        assert!(k.count >= 2 && k.seconds > 0.0, "{k:?}");
        assert!(
            k.kernel.ends_with("x1x1]"),
            "the grid is in the label: {}",
            k.kernel
        );
    }
}
