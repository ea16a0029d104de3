//! The GPU side's only contact with wgpu setup: adapter discovery (stable order, one entry per
//! physical adapter), one `wgpu::Device` + queue per adapter (created on first use), pipeline
//! cache, per-stream command batches, uploads, readbacks, and the poller thread that drives
//! wgpu's callbacks so reads and waits can be awaited.

use super::kernels::{self, CreationKey, ElementwiseKey, KernelKey, Layout};
use super::pool::{Pool, SharedPool, bucket};
use crate::device::DeviceInfo;
use crate::error::{Error, Result};
use crate::memory;
use futures::channel::oneshot;
use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// One usable adapter.
pub(crate) struct AdapterEntry {
    pub adapter: wgpu::Adapter,
    pub info: wgpu::AdapterInfo,
}

fn type_rank(t: wgpu::DeviceType) -> u8 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Cpu => 3,
        wgpu::DeviceType::Other => 4,
    }
}

fn backend_rank(b: wgpu::Backend) -> u8 {
    match b {
        wgpu::Backend::Metal => 0,
        wgpu::Backend::Vulkan => 1,
        wgpu::Backend::Dx12 => 2,
        wgpu::Backend::Gl => 3,
        wgpu::Backend::BrowserWebGpu => 4,
        wgpu::Backend::Noop => 5,
    }
}

/// Adapters in wmx's stable order: discrete, integrated, virtual, then software; within a type
/// Metal, Vulkan, DX12, GL. An adapter seen through two backends (llvmpipe on GL and lavapipe on
/// Vulkan) is listed once, through the better backend. `WGPU_BACKEND` limits the backends and
/// `WGPU_ADAPTER_NAME` keeps only adapters whose name contains it (case-insensitive).
pub(crate) fn adapters() -> &'static [AdapterEntry] {
    static ADAPTERS: OnceLock<Vec<AdapterEntry>> = OnceLock::new();
    ADAPTERS.get_or_init(|| {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let found = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
        let filter = std::env::var("WGPU_ADAPTER_NAME")
            .ok()
            .map(|s| s.to_lowercase());
        let mut list: Vec<AdapterEntry> = found
            .into_iter()
            .filter(|a| {
                a.get_downlevel_capabilities()
                    .flags
                    .contains(wgpu::DownlevelFlags::COMPUTE_SHADERS)
            })
            .map(|adapter| {
                let info = adapter.get_info();
                AdapterEntry { adapter, info }
            })
            .filter(|e| {
                filter
                    .as_ref()
                    .is_none_or(|f| e.info.name.to_lowercase().contains(f))
            })
            .collect();
        list.sort_by_key(|e| (type_rank(e.info.device_type), backend_rank(e.info.backend)));
        let mut seen = Vec::<String>::new();
        list.retain(|e| {
            // The same software rasterizer reports the same name on GL and Vulkan.
            let name = e.info.name.clone();
            if seen.contains(&name) {
                return false;
            }
            seen.push(name);
            true
        });
        list
    })
}

/// One command batch of a GPU stream: an encoder with an open compute pass.
struct Batch {
    encoder: wgpu::CommandEncoder,
    pass: Option<wgpu::ComputePass<'static>>,
    dispatches: usize,
    /// Buffers the batch's dispatches use: they stay out of the cache until it is submitted.
    retained: Vec<Arc<GpuBuffer>>,
    /// The info tables of the batch's dispatches, each at an aligned offset of one buffer that
    /// is written once, just before the batch is submitted (one small copy per batch instead of
    /// an upload per dispatch).
    info: Arc<GpuBuffer>,
    info_words: Vec<u32>,
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

/// Bytes of a batch's info buffer; a batch whose tables would not fit is submitted first.
const INFO_ARENA_BYTES: u64 = 64 << 10;

/// A GPU buffer owned by arrays (and by the pending batches that use it); back to the cache on drop.
pub(crate) struct GpuBuffer {
    pub buffer: wgpu::Buffer,
    /// Meaningful bytes (the wgpu buffer is a size bucket, at least this).
    pub bytes: u64,
    pool: SharedPool,
}

impl Drop for GpuBuffer {
    fn drop(&mut self) {
        lock(&self.pool).give(self.buffer.clone());
    }
}

/// A built kernel: its pipeline and the layout of its bind group 0 (fetched once: wgpu hands
/// out a new layout handle per call).
pub(crate) struct Kernel {
    pub pipeline: wgpu::ComputePipeline,
    pub layout: wgpu::BindGroupLayout,
}

/// The wgpu device of one adapter and everything wmx keeps for it.
pub(crate) struct GpuContext {
    pub index: usize,
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub limits: wgpu::Limits,
    pub native_f16: bool,
    /// Set when f16 matmuls run on cooperative matrices (see [`coop_shape`]).
    pub coop: Option<CoopShape>,
    pub info: wgpu::AdapterInfo,
    pipelines: Mutex<HashMap<KernelKey, Arc<Kernel>>>,
    batches: Mutex<HashMap<usize, Batch>>,
    poller: Mutex<mpsc::Sender<()>>,
    uncaptured: Arc<Mutex<Option<String>>>,
    pool: SharedPool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

type Slots = Vec<OnceLock<std::result::Result<GpuContext, Error>>>;

fn slots() -> &'static Slots {
    static CONTEXTS: OnceLock<Slots> = OnceLock::new();
    CONTEXTS.get_or_init(|| (0..adapters().len()).map(|_| OnceLock::new()).collect())
}

/// The GPU contexts created so far.
pub(crate) fn created() -> impl Iterator<Item = &'static GpuContext> {
    slots()
        .iter()
        .filter_map(|s| s.get().and_then(|r| r.as_ref().ok()))
}

/// The context of GPU `index`, created on first use (device, queue, and the common pipelines).
pub(crate) fn context(index: usize) -> Result<&'static GpuContext> {
    let slots = slots();
    let slot = slots.get(index).ok_or_else(|| Error::Device {
        op: "gpu",
        msg: format!(
            "GPU {index} requested but {} GPU adapter(s) were found.",
            adapters().len()
        ),
    })?;
    slot.get_or_init(|| GpuContext::new(index))
        .as_ref()
        .map_err(|e| e.clone())
}

/// Describes GPU `index` without creating its device.
pub(crate) fn device_info(index: usize) -> Result<DeviceInfo> {
    let e = adapters().get(index).ok_or_else(|| Error::Device {
        op: "device_info",
        msg: format!(
            "GPU {index} requested but {} GPU adapter(s) were found.",
            adapters().len()
        ),
    })?;
    let limits = e.adapter.limits();
    Ok(DeviceInfo {
        name: e.info.name.clone(),
        backend: format!("{:?}", e.info.backend),
        device_type: format!("{:?}", e.info.device_type),
        max_buffer_binding_size: limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size),
        max_workgroups_per_dimension: limits.max_compute_workgroups_per_dimension,
        native_f16: e.adapter.features().contains(wgpu::Features::SHADER_F16)
            && !forced_packed_f16(),
        cooperative_matrix: match slots().get(index).and_then(|s| s.get()) {
            Some(Ok(ctx)) => ctx.coop.is_some(),
            _ => coop_shape(e).is_some(),
        },
        threads: 0,
    })
}

/// The cooperative-matrix fragment the f16 matmul kernel (`shaders/matmul_coop.wgsl`) is built
/// for: `m`×`k` A times `k`×`n` B into an `m`×`n` accumulator, f16 inputs, f32 accumulators.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct CoopShape {
    pub m: u32,
    pub n: u32,
    pub k: u32,
    /// The kernel's tiling (`WMX_COOP_VARIANT`, read when the device is created).
    pub variant: kernels::CoopVariant,
}

/// The one fragment shape `matmul_coop.wgsl` is written for.
const COOP_FRAGMENT: CoopShape = CoopShape {
    m: 16,
    n: 16,
    k: 16,
    variant: kernels::CoopVariant::DEFAULT,
};

/// The cooperative-matrix configuration the f16 matmul can use on this adapter, if any: the
/// adapter has `EXPERIMENTAL_COOPERATIVE_MATRIX`, subgroups of at most 32 invocations (the
/// kernel's 256 invocations must form at least its 8 subgroups), native f16, a 16×16×16
/// f16×f16→f32 configuration, and room for the kernel's workgroup memory and invocations.
/// `WMX_NO_COOP=1` turns it off (A/B timing, tests of the fallback). The tiling is
/// `WMX_COOP_VARIANT` (default [`kernels::CoopVariant::DEFAULT`]); one that does not fit the
/// adapter's limits falls back to the first kernel's 128x128x32 (with a one-line warning).
fn coop_shape(entry: &AdapterEntry) -> Option<CoopShape> {
    if std::env::var("WMX_NO_COOP").as_deref() == Ok("1") || forced_packed_f16() {
        return None;
    }
    let adapter = &entry.adapter;
    let needed = wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX
        | wgpu::Features::SUBGROUP
        | wgpu::Features::SHADER_F16;
    if !adapter.features().contains(needed) || entry.info.subgroup_max_size > 32 {
        return None;
    }
    let limits = adapter.limits();
    let fits = |v: kernels::CoopVariant| {
        let t = v.tiling();
        limits.max_compute_workgroup_storage_size >= t.workgroup_bytes()
            && limits.max_compute_invocations_per_workgroup >= t.invocations()
            && limits.max_compute_workgroup_size_x >= t.invocations()
    };
    let wanted = kernels::CoopVariant::from_env();
    let fallback = kernels::CoopVariant::B128x128x32;
    let variant = if fits(wanted) {
        wanted
    } else if fits(fallback) {
        eprintln!(
            "wmx: {}: cooperative matmul variant {} needs {} bytes of workgroup memory and {} \
             invocations (limits {} and {}); using {}",
            entry.info.name,
            wanted.name(),
            wanted.tiling().workgroup_bytes(),
            wanted.tiling().invocations(),
            limits.max_compute_workgroup_storage_size,
            limits.max_compute_invocations_per_workgroup,
            fallback.name()
        );
        fallback
    } else {
        return None;
    };
    let f = CoopShape {
        variant,
        ..COOP_FRAGMENT
    };
    adapter
        .cooperative_matrix_properties()
        .iter()
        .any(|p| {
            p.m_size == f.m
                && p.n_size == f.n
                && p.k_size == f.k
                && p.ab_type == wgpu::CooperativeScalarType::F16
                && p.cr_type == wgpu::CooperativeScalarType::F32
        })
        .then_some(f)
}

/// `WMX_NO_NATIVE_F16=1` forces the packed-f16 path (tests use it to cover adapters without f16).
fn forced_packed_f16() -> bool {
    std::env::var("WMX_NO_NATIVE_F16").as_deref() == Ok("1")
}

impl GpuContext {
    fn new(index: usize) -> Result<GpuContext> {
        let entry = &adapters()[index];
        let adapter = &entry.adapter;
        let native_f16 =
            adapter.features().contains(wgpu::Features::SHADER_F16) && !forced_packed_f16();
        let mut required_features = wgpu::Features::empty();
        if native_f16 {
            required_features |= wgpu::Features::SHADER_F16;
        }
        let open = |features: wgpu::Features, experimental: bool| {
            let desc = wgpu::DeviceDescriptor {
                label: Some("wmx"),
                required_features: features,
                required_limits: adapter.limits(),
                experimental_features: if experimental {
                    // SAFETY: only cooperative matrices are asked for, and only the matmul
                    // kernel uses them, within the bounds it checks itself.
                    unsafe { wgpu::ExperimentalFeatures::enabled() }
                } else {
                    wgpu::ExperimentalFeatures::disabled()
                },
                ..Default::default()
            };
            pollster::block_on(adapter.request_device(&desc))
        };
        let mut coop = coop_shape(entry);
        let coop_features =
            wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX | wgpu::Features::SUBGROUP;
        // A device refused with the experimental feature is asked for again without it.
        let opened = match coop {
            Some(_) => open(required_features | coop_features, true).or_else(|_| {
                coop = None;
                open(required_features, false)
            }),
            None => open(required_features, false),
        };
        let (device, queue) = opened.map_err(|e| Error::Device {
            op: "gpu",
            msg: format!("Could not open GPU {index} ({}): {e}", entry.info.name),
        })?;
        // Never let wgpu panic on an uncaptured error: keep it and report it at the next sync.
        let uncaptured = Arc::new(Mutex::new(None::<String>));
        let sink = uncaptured.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            let mut s = lock(&sink);
            if s.is_none() {
                *s = Some(e.to_string());
            }
        }));
        let (tx, rx) = mpsc::channel::<()>();
        let poll_device = device.clone();
        // wgpu's GL backend holds its one GL context for the whole of a blocking wait, and other
        // threads give up (panic) after a second without it; there we poll without blocking.
        let blocking = entry.info.backend != wgpu::Backend::Gl;
        std::thread::Builder::new()
            .name(format!("wmx-gpu{index}-poller"))
            .spawn(move || {
                while rx.recv().is_ok() {
                    while rx.try_recv().is_ok() {}
                    if blocking {
                        let _ = poll_device.poll(wgpu::PollType::wait_indefinitely());
                        continue;
                    }
                    loop {
                        match poll_device.poll(wgpu::PollType::Poll) {
                            Ok(status) if status.is_queue_empty() => break,
                            Ok(_) => std::thread::sleep(std::time::Duration::from_micros(200)),
                            Err(_) => break,
                        }
                    }
                }
            })
            .map_err(|e| Error::Backend {
                op: "gpu",
                msg: format!("cannot start the poller thread: {e}"),
            })?;
        let mut ctx = GpuContext {
            index,
            limits: device.limits(),
            device,
            queue,
            native_f16,
            coop,
            info: entry.info.clone(),
            pipelines: Mutex::new(HashMap::new()),
            batches: Mutex::new(HashMap::new()),
            poller: Mutex::new(tx),
            uncaptured,
            pool: Pool::new(memory::default_cache_limit(
                entry.info.device_type == wgpu::DeviceType::Cpu,
            )),
        };
        ctx.precompile();
        if let Some(shape) = ctx.coop {
            if let Err(e) = ctx.pipeline(&kernels::matmul_coop_key(shape.variant)) {
                // An experimental feature: a driver that rejects the kernel costs speed, not
                // f16 matmuls.
                eprintln!(
                    "wmx: GPU {index} ({}): {e}; f16 matmuls use the tiled kernels",
                    ctx.info.name
                );
                ctx.coop = None;
            }
        }
        Ok(ctx)
    }

    /// Compiles the pipelines of the most common f32 kernels when the device starts.
    fn precompile(&self) {
        use crate::dtype::Dtype;
        use crate::primitive::{BinaryOp, ReduceOp};
        let f = Dtype::Float32;
        let mut keys = vec![
            KernelKey::Creation(CreationKey::Full { dtype: f }),
            KernelKey::Elementwise(ElementwiseKey::Cast {
                from: f,
                to: f,
                layout: Layout::Strided,
            }),
            kernels::reduce_key(
                ReduceOp::Sum,
                f,
                kernels::ReduceShape::Quads,
                self.native_f16,
            ),
            kernels::matmul_key(f, self.native_f16, true),
        ];
        for op in [BinaryOp::Add, BinaryOp::Multiply] {
            for layout in Layout::ALL {
                keys.push(KernelKey::Elementwise(ElementwiseKey::Binary {
                    op,
                    dtype: f,
                    layout,
                }));
            }
        }
        for k in keys {
            let _ = self.pipeline(&k);
        }
    }

    /// The pipeline for `key`, built once and cached.
    pub(crate) fn pipeline(&self, key: &KernelKey) -> Result<Arc<Kernel>> {
        if let Some(p) = lock(&self.pipelines).get(key) {
            return Ok(p.clone());
        }
        let label = key.to_string();
        let source = kernels::render(key, self.native_f16);
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let desc = wgpu::ShaderModuleDescriptor {
            label: Some(&label),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        };
        let module = if key.trusted() {
            // SAFETY: trusted kernels guard every buffer index with their own bounds checks
            // and their loops are bounded by sizes from the info table (KernelKey::trusted).
            unsafe {
                self.device
                    .create_shader_module_trusted(desc, wgpu::ShaderRuntimeChecks::unchecked())
            }
        } else {
            self.device.create_shader_module(desc)
        };
        let pipeline = self
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(&label),
                layout: None,
                module: &module,
                entry_point: Some(key.entry_point()),
                compilation_options: wgpu::PipelineCompilationOptions {
                    // The cooperative matmul writes every workgroup element before reading it,
                    // and its tens of KiB would otherwise be zeroed by every workgroup.
                    // (Every trusted kernel writes its workgroup memory before reading it.)
                    zero_initialize_workgroup_memory: !key.trusted(),
                    ..Default::default()
                },
                cache: None,
            });
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(Error::Backend {
                op: "gpu",
                msg: format!("kernel {label} failed to build: {e}"),
            });
        }
        let p = Arc::new(Kernel {
            layout: pipeline.get_bind_group_layout(0),
            pipeline,
        });
        lock(&self.pipelines).insert(*key, p.clone());
        Ok(p)
    }

    /// Names of the kernels whose pipelines this device has built so far.
    pub(crate) fn kernel_names(&self) -> Vec<String> {
        let mut names: Vec<String> = lock(&self.pipelines)
            .keys()
            .map(|k| k.to_string())
            .collect();
        names.sort();
        names
    }

    /// Largest buffer this device accepts for one array.
    pub(crate) fn max_binding(&self) -> u64 {
        (self.limits.max_storage_buffer_binding_size).min(self.limits.max_buffer_size)
    }

    /// A new buffer for `bytes` bytes (at least 4, rounded up to 4), or a clear error when too large.
    pub(crate) fn alloc(&self, op: &'static str, bytes: u64) -> Result<Arc<GpuBuffer>> {
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
            None => self.create_buffer(op, size)?,
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
    fn create_buffer(&self, op: &'static str, size: u64) -> Result<wgpu::Buffer> {
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

    /// `desc`'s buffer from the driver; out of memory, the cached buffers are given back and it
    /// is tried once more, then it is an `Err` naming `op` and the size.
    fn create_or_free_cache(
        &self,
        op: &'static str,
        desc: &wgpu::BufferDescriptor,
    ) -> Result<wgpu::Buffer> {
        let create = || {
            let scope = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
            let buffer = self.device.create_buffer(desc);
            let error = pollster::block_on(scope.pop());
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
                    "GPU {} ({}) is out of memory for a buffer of {} bytes ({} bytes in use by \
                     arrays): {e}",
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

    /// Copies host bytes into a (possibly cached) buffer. The copy is staged on the queue and runs
    /// before any later submission, so work recorded afterwards sees the data.
    pub(crate) fn upload(&self, bytes: &[u8]) -> Result<Arc<GpuBuffer>> {
        let buf = self.alloc("upload", bytes.len() as u64)?;
        if !bytes.is_empty() {
            let padded;
            let data = if bytes.len() % 4 == 0 {
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

    /// Records one dispatch of `key` on `stream`: bindings are `info`, then `buffers` in order.
    pub(crate) fn dispatch(
        &self,
        stream: usize,
        key: &KernelKey,
        buffers: &[&Arc<GpuBuffer>],
        info: &[u32],
        groups: [u32; 3],
    ) -> Result<()> {
        let max = self.limits.max_compute_workgroups_per_dimension;
        if groups.iter().any(|&g| g > max) {
            return Err(Error::TooLarge {
                op: "gpu",
                msg: format!(
                    "kernel {key} needs {groups:?} workgroups; this device allows {max} per dimension."
                ),
            });
        }
        if groups.contains(&0) {
            return Ok(());
        }
        let pipeline = self.pipeline(key)?;
        let words = info.len().max(1);
        let align = (self.limits.min_storage_buffer_offset_alignment as usize / 4).max(1);
        if (words * 4) as u64 > INFO_ARENA_BYTES {
            return Err(Error::TooLarge {
                op: "gpu",
                msg: format!(
                    "kernel {key} has an info table of {words} words (at most {}).",
                    INFO_ARENA_BYTES / 4
                ),
            });
        }
        let mut batches = lock(&self.batches);
        let full = batches.get(&stream).is_some_and(|b| {
            (b.info_words.len().next_multiple_of(align) + words) * 4 > INFO_ARENA_BYTES as usize
        });
        if full && let Some(b) = batches.remove(&stream) {
            self.submit(b);
        }
        let batch = match batches.entry(stream) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(self.new_batch()?),
        };
        let at = batch.info_words.len().next_multiple_of(align);
        batch.info_words.resize(at, 0);
        if info.is_empty() {
            batch.info_words.push(0);
        } else {
            batch.info_words.extend_from_slice(info);
        }
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer: &batch.info.buffer,
                offset: (at * 4) as u64,
                size: std::num::NonZeroU64::new((words * 4) as u64),
            }),
        }];
        for (i, b) in buffers.iter().enumerate() {
            entries.push(wgpu::BindGroupEntry {
                binding: i as u32 + 1,
                resource: b.buffer.as_entire_binding(),
            });
        }
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.layout,
            entries: &entries,
        });
        let pass = batch.pass.get_or_insert_with(|| {
            batch
                .encoder
                .begin_compute_pass(&wgpu::ComputePassDescriptor::default())
                .forget_lifetime()
        });
        pass.set_pipeline(&pipeline.pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
        batch.dispatches += 1;
        batch.retained.extend(buffers.iter().map(|b| Arc::clone(b)));
        if batch.dispatches >= max_dispatches_per_batch()
            && let Some(b) = batches.remove(&stream)
        {
            self.submit(b);
        }
        Ok(())
    }

    fn new_batch(&self) -> Result<Batch> {
        let encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("wmx stream"),
            });
        Ok(Batch {
            encoder,
            pass: None,
            dispatches: 0,
            retained: Vec::new(),
            info: self.alloc("gpu", INFO_ARENA_BYTES)?,
            info_words: Vec::new(),
        })
    }

    /// Writes the batch's info tables, then submits it (the write is ordered before it).
    fn submit(&self, mut b: Batch) {
        drop(b.pass.take());
        if !b.info_words.is_empty() {
            self.queue
                .write_buffer(&b.info.buffer, 0, bytemuck::cast_slice(&b.info_words));
        }
        self.queue.submit([b.encoder.finish()]);
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

    fn kick(&self) {
        let _ = lock(&self.poller).send(());
    }

    /// Submits every stream's pending work and resolves when it has finished; reports a captured wgpu error.
    pub(crate) async fn done(&self) -> Result<()> {
        self.flush_all();
        let (tx, rx) = oneshot::channel();
        self.queue.on_submitted_work_done(move || {
            let _ = tx.send(());
        });
        self.kick();
        let _ = rx.await;
        self.take_error()
    }

    /// The first uncaptured wgpu error since the last call, as an `Err`.
    pub(crate) fn take_error(&self) -> Result<()> {
        match lock(&self.uncaptured).take() {
            Some(msg) => Err(Error::Backend { op: "gpu", msg }),
            None => Ok(()),
        }
    }

    /// Reads a buffer back to the host (submits every stream's pending work first).
    pub(crate) async fn read(&self, src: &GpuBuffer) -> Result<Vec<u8>> {
        let size = src.buffer.size();
        let staging = self.create_or_free_cache(
            "readback",
            &wgpu::BufferDescriptor {
                label: Some("readback"),
                size,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            },
        )?;
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("readback"),
            });
        enc.copy_buffer_to_buffer(&src.buffer, 0, &staging, 0, size);
        {
            // Pending batches (which may write `src`) go to the queue before the copy.
            let mut batches = lock(&self.batches);
            for (_, b) in batches.drain() {
                self.submit(b);
            }
            self.queue.submit([enc.finish()]);
        }
        let (tx, rx) = oneshot::channel();
        staging.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.kick();
        let mapped = rx.await.map_err(|_| Error::Backend {
            op: "read",
            msg: "the device was lost".into(),
        })?;
        mapped.map_err(|e| Error::Backend {
            op: "read",
            msg: format!("mapping failed: {e}"),
        })?;
        self.take_error()?;
        let bytes = {
            let view = staging.get_mapped_range(..).map_err(|e| Error::Backend {
                op: "read",
                msg: format!("mapping failed: {e}"),
            })?;
            view[..src.bytes as usize].to_vec()
        };
        staging.unmap();
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

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
