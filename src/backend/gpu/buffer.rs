//! GPU buffers: allocation from the size-bucketed cache (with the memory limit and the
//! out-of-memory retry), uploads, and readbacks to the host.

use super::context::{GpuContext, lock};
use super::lost::unless_lost;
use super::pool::{Pool, SharedPool, bucket};
use crate::dtype::Dtype;
use crate::error::{Error, Result};
use crate::memory;
use futures::channel::oneshot;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// A GPU buffer owned by arrays (and by the pending batches that use it); back to the cache on drop.
pub(crate) struct GpuBuffer {
    pub buffer: wgpu::Buffer,
    /// Meaningful bytes (the wgpu buffer is a size bucket, at least this).
    pub bytes: u64,
    pub(super) pool: SharedPool,
}

impl Drop for GpuBuffer {
    fn drop(&mut self) {
        lock(&self.pool).give(self.buffer.clone());
    }
}

/// Held by the lib's GPU tests that allocate or free buffers of this process's pool, so the
/// one that counts the cached bytes sees only its own.
#[cfg(test)]
pub(crate) static POOL_TESTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Bytes of the mappable buffers kept for small readbacks (see [`GpuContext::read_all`]).
pub(super) const SMALL_STAGING: u64 = 256;

/// Distinct one-element constants a device keeps (see [`GpuContext::constant`]).
const MAX_CONSTANTS: usize = 4096;

/// Buffer creations still to be refused as if the driver were out of memory (fault tests).
static REFUSE: AtomicU32 = AtomicU32::new(0);

/// Makes the next `count` buffer creations on any GPU fail as a driver out of memory would
/// (see `wmx::testing::refuse_gpu_allocations`).
pub(crate) fn refuse_allocations(count: u32) {
    REFUSE.store(count, Ordering::SeqCst);
}

/// The out-of-memory error of a creation that the fault tests asked to refuse.
fn refused() -> Option<wgpu::Error> {
    REFUSE
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .ok()
        .map(|_| wgpu::Error::OutOfMemory {
            source: "refused by wmx::testing::refuse_gpu_allocations".into(),
        })
}

impl GpuContext {
    /// Largest buffer this device accepts for one array.
    pub(crate) fn max_binding(&self) -> u64 {
        (self.limits.max_storage_buffer_binding_size).min(self.limits.max_buffer_size)
    }

    /// A new buffer for `bytes` bytes (at least 4, rounded up to 4), or a clear error when too large.
    pub(crate) fn alloc(&self, op: &'static str, bytes: u64) -> Result<Arc<GpuBuffer>> {
        self.lost.check(op)?;
        if bytes > self.max_binding() {
            return Err(Error::TooLarge {
                op,
                msg: format!(
                    "An array of {bytes} bytes exceeds the largest buffer of GPU {} ({}): {} bytes.",
                    self.index,
                    self.info.name,
                    self.max_binding()
                ),
            });
        }
        let size = bucket(bytes);
        let cached = lock(&self.pool).take(size);
        let buffer = match cached {
            Some(b) => b,
            None => self.create_buffer(op, bytes, size)?,
        };
        Ok(Arc::new(GpuBuffer {
            buffer,
            bytes,
            pool: self.pool.clone(),
        }))
    }

    /// A new buffer of `size` bytes from the driver. Past the memory limit (cached plus active
    /// bytes), and when the driver is out of memory, the cached buffers are given back first
    /// (then, out of memory, it tries once more); still out of memory is an `Err`.
    fn create_buffer(&self, op: &'static str, bytes: u64, size: u64) -> Result<wgpu::Buffer> {
        {
            let mut pool = lock(&self.pool);
            let wanted = pool
                .active_bytes()
                .saturating_add(pool.cached_bytes())
                .saturating_add(size);
            if wanted > memory::memory_limit() {
                pool.clear();
            }
        }
        let buffer = self.create_or_free_cache(
            op,
            bytes,
            &wgpu::BufferDescriptor {
                label: Some(op),
                size,
                usage: wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_SRC
                    | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            },
        )?;
        lock(&self.pool).created(size);
        Ok(buffer)
    }

    /// `desc`'s buffer (for `bytes` bytes of data) from the driver; out of memory, the cached
    /// buffers are given back and it is tried once more, then it is an `Err` naming `op` and
    /// the sizes.
    fn create_or_free_cache(
        &self,
        op: &'static str,
        bytes: u64,
        desc: &wgpu::BufferDescriptor,
    ) -> Result<wgpu::Buffer> {
        let create = || {
            // In a browser the scope answers asynchronously and nothing may block: there the
            // driver's refusal reaches the uncaptured-error handler and the next wait instead.
            #[cfg(not(target_arch = "wasm32"))]
            let scope = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
            let buffer = self.device.create_buffer(desc);
            #[cfg(not(target_arch = "wasm32"))]
            let error = pollster::block_on(scope.pop()).or_else(refused);
            #[cfg(target_arch = "wasm32")]
            let error = refused();
            #[cfg(test)]
            let error = error.or_else(tests::simulated_out_of_memory);
            (buffer, error)
        };
        let (mut buffer, mut error) = create();
        if error.is_some() {
            lock(&self.pool).clear();
            // Frees the dropped buffers whose last use has finished (never blocks: see the poller).
            let _ = self.device.poll(wgpu::PollType::Poll);
            (buffer, error) = create();
        }
        match error {
            None => Ok(buffer),
            Some(e) => Err(Error::TooLarge {
                op,
                msg: format!(
                    "GPU {} ({}) is out of memory for {bytes} bytes (a buffer of {} bytes; {} \
                     bytes in use by arrays): {e}",
                    self.index,
                    self.info.name,
                    desc.size,
                    lock(&self.pool).active_bytes()
                ),
            }),
        }
    }

    /// The buffer pool's statistics and controls.
    pub(crate) fn pool(&self) -> std::sync::MutexGuard<'_, Pool> {
        lock(&self.pool)
    }

    /// Bytes held by this device's buffer cache.
    pub(crate) fn cached_bytes(&self) -> u64 {
        lock(&self.pool).cached_bytes()
    }

    /// Frees this device's cached buffers.
    pub(crate) fn clear_cache(&self) {
        lock(&self.pool).clear();
    }

    /// The buffer holding the one-element constant `bits` of `dtype` (as the creation kernel
    /// would write it: f32 bits, rounded to nearest even for f16 and bf16, the low byte for
    /// bool and uint8), made once and shared: a scalar operand (`x * 0.5`) costs no dispatch.
    /// Constants are never freed, and not counted as active memory (they are not the pool's:
    /// kept forever, never dropped back into it). Past `MAX_CONSTANTS` distinct ones, `None`.
    pub(crate) fn constant(&self, dtype: Dtype, bits: u32) -> Option<Arc<GpuBuffer>> {
        let mut c = lock(&self.constants);
        if let Some(b) = c.get(&(dtype, bits)) {
            return Some(b.clone());
        }
        if c.len() >= MAX_CONSTANTS || self.lost.reason().is_some() {
            return None;
        }
        let bytes: Vec<u8> = match dtype {
            Dtype::Float32 | Dtype::Int32 | Dtype::Uint32 => bits.to_le_bytes().to_vec(),
            Dtype::Float16 => half::f16::from_f32(f32::from_bits(bits))
                .to_le_bytes()
                .to_vec(),
            Dtype::Bfloat16 => half::bf16::from_f32(f32::from_bits(bits))
                .to_le_bytes()
                .to_vec(),
            Dtype::Uint8 | Dtype::Bool => vec![bits as u8],
        };
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("wmx constant"),
            size: 16,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: true,
        });
        let mut padded = [0u8; 16];
        padded[..bytes.len()].copy_from_slice(&bytes);
        match buffer.slice(..).get_mapped_range_mut() {
            Ok(mut view) => view.copy_from_slice(&padded),
            Err(_) => return None,
        }
        buffer.unmap();
        let b = Arc::new(GpuBuffer {
            buffer,
            bytes: bytes.len() as u64,
            pool: self.pool.clone(),
        });
        c.insert((dtype, bits), b.clone());
        Some(b)
    }

    /// Copies host bytes into a (possibly cached) buffer. The copy is staged on the queue and runs
    /// before any later submission, so work recorded afterwards sees the data.
    pub(crate) fn upload(&self, bytes: &[u8]) -> Result<Arc<GpuBuffer>> {
        let buf = self.alloc("upload", bytes.len() as u64)?;
        if !bytes.is_empty() {
            let padded;
            let data = if bytes.len().is_multiple_of(4) {
                bytes
            } else {
                let mut v = bytes.to_vec();
                v.resize(bytes.len().div_ceil(4) * 4, 0);
                padded = v;
                &padded[..]
            };
            self.queue.write_buffer(&buf.buffer, 0, data);
        }
        Ok(buf)
    }

    /// Reads a buffer back to the host (submits every stream's pending work first).
    pub(crate) async fn read(&self, src: &GpuBuffer) -> Result<Vec<u8>> {
        let mut all = self.read_all("read", &[src]).await?;
        all.pop().ok_or_else(|| Error::Backend {
            op: "read",
            msg: "invariant: one buffer read, none returned".into(),
        })
    }

    /// Submits every stream's pending work with one copy of each of `srcs` into a shared
    /// mappable buffer, and resolves, once all of it has finished, with their bytes (the work is
    /// done when the map is: the queue completes submissions in order). `eval` reads its small
    /// results this way in its own wait, so a later `item()` costs no second round trip.
    pub(crate) async fn read_all(
        &self,
        op: &'static str,
        srcs: &[&GpuBuffer],
    ) -> Result<Vec<Vec<u8>>> {
        self.lost.check(op)?;
        // Each copy covers the meaningful bytes, rounded up to wgpu's 4-byte copy alignment
        // (buffers are size buckets of at least that).
        let spans: Vec<u64> = srcs.iter().map(|b| b.bytes.div_ceil(4) * 4).collect();
        let total: u64 = spans.iter().sum::<u64>().max(4);
        // Small reads (a loss, an `item()`) reuse a kept buffer instead of creating one.
        let small = total <= SMALL_STAGING;
        let kept = if small {
            lock(&self.staging).pop()
        } else {
            None
        };
        let staging = match kept {
            Some(b) => b,
            None => {
                let size = if small { SMALL_STAGING } else { total };
                self.create_or_free_cache(
                    op,
                    size,
                    &wgpu::BufferDescriptor {
                        label: Some("readback"),
                        size,
                        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                        mapped_at_creation: false,
                    },
                )?
            }
        };
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("readback"),
            });
        let mut at = 0;
        for (src, &n) in srcs.iter().zip(&spans) {
            if n > 0 {
                enc.copy_buffer_to_buffer(&src.buffer, 0, &staging, at, n);
            }
            at += n;
        }
        {
            // Pending batches (which may write the sources) go to the queue before the copies.
            let mut batches = lock(&self.batches);
            for (_, b) in batches.drain() {
                self.submit(b);
            }
            self.queue.submit([enc.finish()]);
        }
        let (tx, rx) = oneshot::channel();
        staging
            .slice(..total)
            .map_async(wgpu::MapMode::Read, move |r| {
                let _ = tx.send(r);
            });
        self.wait_or_kick();
        // After a loss the map's callback may never come: the loss ends the wait.
        let mapped = unless_lost(&self.lost, op, rx)
            .await?
            .map_err(|_| Error::Backend {
                op,
                msg: "the buffer map was cancelled (the device was lost)".into(),
            })?;
        mapped.map_err(|e| Error::Backend {
            op,
            msg: format!("mapping failed: {e}"),
        })?;
        self.lost.check(op)?;
        self.since_wait
            .store(0, std::sync::atomic::Ordering::Relaxed);
        self.take_error()?;
        let out = {
            let view = staging
                .slice(..total)
                .get_mapped_range()
                .map_err(|e| Error::Backend {
                    op,
                    msg: format!("mapping failed: {e}"),
                })?;
            let mut at = 0;
            let mut out = Vec::with_capacity(srcs.len());
            for (src, &n) in srcs.iter().zip(&spans) {
                out.push(view[at as usize..(at + src.bytes) as usize].to_vec());
                at += n;
            }
            out
        };
        staging.unmap();
        if small {
            lock(&self.staging).push(staging);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::backend::gpu::context::context;
    use std::cell::Cell;

    /// Whether GPU 0 opens (without it the test is skipped, unless `WMX_REQUIRE_GPU=1`).
    fn have_gpu() -> bool {
        match context(0) {
            Ok(_) => true,
            Err(e) if std::env::var("WMX_REQUIRE_GPU").as_deref() == Ok("1") => panic!("{e}"),
            Err(_) => false,
        }
    }

    /// The storage of an evaluated array.
    fn storage(a: &crate::Array) -> std::sync::Arc<crate::backend::Storage> {
        match &a.0.lock_status().state {
            crate::array::NodeState::Ready(d) => d.storage.clone(),
            _ => panic!("not evaluated"),
        }
    }

    #[test]
    fn one_element_constants_are_shared_and_match_the_creation_kernel() {
        use crate::{Device, Dtype};
        let _pool = super::POOL_TESTS.lock().unwrap_or_else(|p| p.into_inner());
        if !have_gpu() {
            return;
        }
        let gpu = Device::gpu(0);
        let buffer = |a: &crate::Array| storage(a).as_gpu().cloned().expect("a GPU array");
        let bits = |a: &crate::Array| {
            let host = storage(a).on_device(Device::cpu()).unwrap();
            host.as_host().expect("host data").bytes().to_vec()
        };
        for (dt, v) in [
            (Dtype::Float32, 0.999),
            (Dtype::Float32, -0.0),
            (Dtype::Float16, 0.1),
            (Dtype::Bfloat16, -3.3),
            (Dtype::Int32, -7.0),
            (Dtype::Uint32, 4e9),
            (Dtype::Uint8, 200.0),
            (Dtype::Bool, 2.0),
        ] {
            let a = crate::full(&[], v, dt, gpu).unwrap();
            let b = crate::full(&[1, 1], v, dt, gpu).unwrap();
            // Two elements: the creation kernel.
            let k = crate::full(&[2], v, dt, gpu).unwrap();
            crate::eval([&a, &b, &k]).unwrap();
            assert!(
                std::sync::Arc::ptr_eq(&buffer(&a), &buffer(&b)),
                "{dt} {v}: one buffer"
            );
            let want = bits(&k);
            assert_eq!(bits(&a), want[..want.len() / 2], "{dt} {v}");
        }
    }

    #[test]
    fn eval_reads_one_element_gpu_results_in_its_own_wait() {
        use crate::{Device, Dtype};
        if !have_gpu() {
            return;
        }
        let gpu = Device::gpu(0);
        let host_copy = |a: &crate::Array| storage(a).cached(Device::cpu()).is_some();
        let x = crate::arange(0.0, 6.0, 1.0, Dtype::Float32, gpu).unwrap();
        let loss = crate::sum(&crate::multiply(&x, &x, gpu).unwrap(), &[], false, gpu).unwrap();
        let pair = crate::add(&x, 1.0, gpu).unwrap();
        let pair = crate::slice(&pair, &[0], &[2], &[1], gpu).unwrap();
        let big = crate::exp(&x, gpu).unwrap();
        crate::eval([&loss, &pair, &big]).unwrap();
        // The scalar came back with the wait; the others stay on the GPU until asked for.
        assert!(host_copy(&loss));
        assert!(!host_copy(&big));
        assert_eq!(loss.item::<f32>().unwrap(), 55.0);
        assert_eq!(pair.to_vec::<f32>().unwrap(), vec![1.0, 2.0]);
        // An item() of an array evaluated earlier makes the copy in one wait too.
        let late = crate::max(&x, &[], false, gpu).unwrap();
        crate::async_eval([&late]).wait().unwrap();
        assert_eq!(late.item::<i32>().unwrap(), 5);
    }

    thread_local! {
        /// Buffer creations on this thread still to be reported out of memory.
        static FAIL_CREATES: Cell<u32> = const { Cell::new(0) };
    }

    /// The out-of-memory error of a creation that this thread asked to fail.
    pub(super) fn simulated_out_of_memory() -> Option<wgpu::Error> {
        FAIL_CREATES.with(|n| {
            let left = n.get();
            (left > 0).then(|| {
                n.set(left - 1);
                wgpu::Error::OutOfMemory {
                    source: "simulated by the test".into(),
                }
            })
        })
    }

    #[test]
    fn out_of_memory_gives_the_cache_back_then_fails_clearly() {
        let _pool = super::POOL_TESTS.lock().unwrap_or_else(|p| p.into_inner());
        let ctx = match context(0) {
            Ok(ctx) => ctx,
            Err(e) if std::env::var("WMX_REQUIRE_GPU").as_deref() == Ok("1") => panic!("{e}"),
            Err(_) => return,
        };
        // A cached buffer of another bucket, then one creation refused: the cache goes back
        // and the second try succeeds.
        drop(ctx.alloc("test", 1 << 16).unwrap());
        assert!(ctx.cached_bytes() >= 1 << 16);
        FAIL_CREATES.with(|n| n.set(1));
        let b = ctx.alloc("test", 3 << 16).unwrap();
        assert_eq!(
            ctx.cached_bytes(),
            0,
            "the cache is given back before the retry"
        );
        assert_eq!(b.buffer.size(), 1 << 18);
        drop(b);
        // Both tries refused: an Err naming the op and the size, and nothing counted active.
        let active = ctx.pool().active_bytes();
        FAIL_CREATES.with(|n| n.set(2));
        let e = match ctx.alloc("matmul", 5 << 20) {
            Ok(_) => panic!("an allocation refused twice succeeded"),
            Err(e) => e.to_string(),
        };
        assert!(
            e.contains("matmul") && e.contains("out of memory") && e.contains("5242880"),
            "{e}"
        );
        assert_eq!(ctx.pool().active_bytes(), active);
        FAIL_CREATES.with(|n| assert_eq!(n.get(), 0));
    }
}
