//! One `wgpu::Device` + queue per adapter (created on first use), the pipeline cache, and the
//! poller thread that drives wgpu's callbacks so reads and waits can be awaited. Adapter
//! discovery is in `adapters.rs`, buffers (alloc, cache, upload, read) in `buffer.rs`, per-stream
//! command batches (dispatch, flush, done) in `batch.rs`; the names the rest of the crate uses
//! are re-exported here.

pub(crate) use super::adapters::{CoopShape, adapters};
use super::adapters::{coop_shape, forced_packed_f16};
use super::batch::{Batch, INFO_ARENA_BYTES};
pub(crate) use super::buffer::GpuBuffer;
use super::groups;
use super::kernels::{self, CreationKey, ElementwiseKey, KernelKey, Layout};
use super::lost::Lost;
use super::pool::{Pool, SharedPool};
use crate::device::DeviceInfo;
use crate::error::{Error, Result};
use crate::memory;
use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// A built kernel: its pipeline and the layout of its bind group 0 (shared by the kernels with
/// the same bindings).
pub(crate) struct Kernel {
    pub pipeline: wgpu::ComputePipeline,
    pub layout: wgpu::BindGroupLayout,
    /// The wgpu label (the key's text, or the name a generated source was given).
    pub label: String,
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
    pub(super) pipelines: Mutex<HashMap<KernelKey, Arc<Kernel>>>,
    /// Pipelines of generated sources (fused kernels, `fast::wgsl_kernel`), keyed by source.
    pub(super) generated: Mutex<HashMap<String, Arc<Kernel>>>,
    pub(super) batches: Mutex<HashMap<usize, Batch>>,
    /// Group-0 layouts by their bindings (see groups.rs).
    pub(super) layouts: LayoutCache,
    /// Each stream's info arena (see [`GpuContext::arena`]).
    pub(super) arenas: Mutex<HashMap<usize, wgpu::Buffer>>,
    /// One-element constants by dtype and bits (see [`GpuContext::constant`]).
    pub(super) constants: Mutex<HashMap<(crate::dtype::Dtype, u32), Arc<GpuBuffer>>>,
    pub(super) poller: Mutex<mpsc::Sender<()>>,
    pub(super) uncaptured: Arc<Mutex<Option<String>>>,
    /// Set once wgpu reports the device lost: every later GPU call is an `Err`, and waits wake.
    pub(super) lost: Lost,
    pub(super) pool: SharedPool,
    /// Batches submitted whose completion callback has not run yet (see `batch.rs`: a large
    /// dispatch recorded while this is 0 is submitted at once, so the GPU starts on it while the
    /// rest of the eval is recorded). Callbacks run when the poller polls, so this may stay
    /// above 0 for a while after the GPU has finished: it only ever delays that early submit.
    pub(super) in_flight: Arc<std::sync::atomic::AtomicUsize>,
    /// Batches submitted since the last wait (see `batch_limit` in batch.rs).
    pub(super) since_wait: std::sync::atomic::AtomicUsize,
    /// Mappable buffers of [`super::buffer::SMALL_STAGING`] bytes kept for small readbacks.
    pub(super) staging: Mutex<Vec<wgpu::Buffer>>,
    /// Set when the device has timestamp queries, so its dispatches can be timed (profile.rs).
    pub(super) profile: bool,
}

type LayoutCache = Mutex<HashMap<Vec<groups::Slot>, (wgpu::BindGroupLayout, wgpu::PipelineLayout)>>;

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

type Slots = Vec<OnceLock<std::result::Result<GpuContext, Error>>>;

fn slots() -> &'static Slots {
    static CONTEXTS: OnceLock<Slots> = OnceLock::new();
    #[cfg(target_arch = "wasm32")]
    {
        // Not sized before `init_async` has found the browser's adapter.
        static NONE: Slots = Vec::new();
        if adapters().is_empty() {
            return &NONE;
        }
    }
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
    #[cfg(not(target_arch = "wasm32"))]
    let ctx = slot.get_or_init(|| pollster::block_on(GpuContext::new(index)));
    #[cfg(target_arch = "wasm32")]
    let ctx = slot.get().ok_or_else(|| Error::Device {
        op: "gpu",
        msg: format!(
            "GPU {index} is not open yet: in a browser, `wmx::init_async().await` opens the GPUs"
        ),
    })?;
    ctx.as_ref().map_err(|e| e.clone())
}

/// Finds the adapters and opens every GPU without blocking (a browser's WebGPU is asynchronous);
/// returns the number of GPUs. Natively the same work runs on first use anyway.
pub(crate) async fn open_all() -> Result<usize> {
    let n = super::adapters::adapters_async().await.len();
    for (index, slot) in slots().iter().enumerate() {
        if slot.get().is_none() {
            let ctx = GpuContext::new(index).await;
            let _ = slot.set(ctx);
        }
        if let Some(Err(e)) = slot.get() {
            return Err(e.clone());
        }
    }
    Ok(n)
}

/// Starts the thread that drives wgpu's callbacks (buffer maps, work done, device lost) when
/// kicked; a wgpu panic inside a wait marks the device lost.
#[cfg(not(target_arch = "wasm32"))]
fn spawn_poller(
    index: usize,
    info: &wgpu::AdapterInfo,
    device: &wgpu::Device,
    lost: &Lost,
    rx: mpsc::Receiver<()>,
) -> Result<()> {
    let poll_device = device.clone();
    let poll_lost = lost.clone();
    let name = info.name.clone();
    // wgpu's GL backend holds its one GL context for the whole of a blocking wait, and other
    // threads give up (panic) after a second without it; there we poll without blocking.
    let blocking = info.backend != wgpu::Backend::Gl;
    std::thread::Builder::new()
        .name(format!("wmx-gpu{index}-poller"))
        .spawn(move || {
            let poll = |ty| poll_guarded(&poll_device, &poll_lost, index, &name, ty);
            while rx.recv().is_ok() {
                while rx.try_recv().is_ok() {}
                if blocking {
                    let _ = poll(wgpu::PollType::wait_indefinitely());
                    continue;
                }
                loop {
                    match poll(wgpu::PollType::Poll) {
                        Ok(Ok(status)) if status.is_queue_empty() => break,
                        Ok(Ok(_)) => std::thread::sleep(std::time::Duration::from_micros(200)),
                        Ok(Err(_)) | Err(()) => break,
                    }
                }
            }
        })
        .map(|_| ())
        .map_err(|e| Error::Backend {
            op: "gpu",
            msg: format!("cannot start the poller thread: {e}"),
        })
}

/// Polls `device`; wgpu panics when a wait fails (a lost device), and the device is then marked
/// lost for good (`Err`). Used by the poller and by waits on a blocked thread (batch.rs).
#[cfg(not(target_arch = "wasm32"))]
pub(super) fn poll_guarded(
    device: &wgpu::Device,
    lost: &Lost,
    index: usize,
    name: &str,
    ty: wgpu::PollType,
) -> std::result::Result<std::result::Result<wgpu::PollStatus, wgpu::PollError>, ()> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| device.poll(ty))).map_err(|p| {
        let what = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        lost.set(lost_message(
            index,
            name,
            &format!("waiting for it failed: {what}"),
        ));
    })
}

/// Opens `adapter`'s device with `features` (and the experimental ones when asked).
async fn open_device(
    adapter: &wgpu::Adapter,
    features: wgpu::Features,
    experimental: bool,
) -> std::result::Result<(wgpu::Device, wgpu::Queue), wgpu::RequestDeviceError> {
    let desc = wgpu::DeviceDescriptor {
        label: Some("wmx"),
        required_features: features,
        required_limits: adapter.limits(),
        experimental_features: if experimental {
            // SAFETY: only cooperative matrices are asked for, and only the matmul kernel uses
            // them, within the bounds it checks itself.
            unsafe { wgpu::ExperimentalFeatures::enabled() }
        } else {
            wgpu::ExperimentalFeatures::disabled()
        },
        ..Default::default()
    };
    adapter.request_device(&desc).await
}

/// The message of every `Err` after GPU `index` is lost, `why` in parentheses.
fn lost_message(index: usize, name: &str, why: &str) -> String {
    format!(
        "GPU {index} ({name}) is lost ({why}); its arrays are gone, the CPU and other GPUs still \
         work"
    )
}

/// Loses GPU `index` as a driver failure would: from now on every op, read and wait on it is an
/// `Err` (waits already blocked wake up with it; work in flight is abandoned), then wgpu's
/// `Device::destroy` takes the device, and this returns once wgpu has reported it lost (its
/// device-lost callback runs when the work already submitted has drained). For the fault tests:
/// there is no way back in this process.
pub(crate) fn destroy(index: usize) -> Result<()> {
    let ctx = context(index)?;
    ctx.lost.set(lost_message(
        index,
        &ctx.info.name,
        "destroyed by wmx::testing::lose_device",
    ));
    ctx.device.destroy();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !ctx.lost.reported_by_wgpu() {
        if std::time::Instant::now() > deadline {
            return Err(Error::Backend {
                op: "gpu",
                msg: format!("GPU {index} was destroyed but wgpu did not report it lost in 30 s"),
            });
        }
        ctx.kick();
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    Ok(())
}

/// Records a command that wgpu's validation rejects (a copy past the end of a buffer) on GPU
/// `index`, as a kernel or driver bug would: wgpu reports it to the uncaptured-error handler.
/// For the fault tests.
pub(crate) fn inject_validation_error(index: usize) -> Result<()> {
    let ctx = context(index)?;
    ctx.lost.check("gpu")?;
    let buffer = ctx.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("wmx fault injection"),
        size: 16,
        usage: wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut enc = ctx
        .device
        .create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("wmx fault injection"),
        });
    enc.copy_buffer_to_buffer(&buffer, 0, &buffer, 8, 16);
    ctx.queue.submit([enc.finish()]);
    Ok(())
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
        timestamps: e
            .adapter
            .features()
            .contains(wgpu::Features::TIMESTAMP_QUERY),
        threads: 0,
    })
}

impl GpuContext {
    async fn new(index: usize) -> Result<GpuContext> {
        let entry = &adapters()[index];
        let adapter = &entry.adapter;
        let native_f16 =
            adapter.features().contains(wgpu::Features::SHADER_F16) && !forced_packed_f16();
        let mut required_features = wgpu::Features::empty();
        if native_f16 {
            required_features |= wgpu::Features::SHADER_F16;
        }
        // Timestamps cost nothing until profiling asks for them (see profile.rs).
        let profile = adapter.features().contains(wgpu::Features::TIMESTAMP_QUERY);
        if profile {
            required_features |= wgpu::Features::TIMESTAMP_QUERY;
        }
        let mut coop = coop_shape(entry);
        let coop_features = wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX
            | wgpu::Features::SUBGROUP
            | wgpu::Features::SUBGROUP_BARRIER;
        // A device refused with the experimental feature is asked for again without it.
        let opened = match coop {
            Some(_) => match open_device(adapter, required_features | coop_features, true).await {
                Ok(opened) => Ok(opened),
                Err(_) => {
                    coop = None;
                    open_device(adapter, required_features, false).await
                }
            },
            None => open_device(adapter, required_features, false).await,
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
        let lost = Lost::default();
        let name = entry.info.name.clone();
        let flag = lost.clone();
        device.set_device_lost_callback(move |reason, msg| {
            let why = match reason {
                wgpu::DeviceLostReason::Destroyed => "destroyed".to_string(),
                wgpu::DeviceLostReason::Unknown => "lost by the driver".to_string(),
            };
            let why = if msg.is_empty() {
                why
            } else {
                format!("{why}: {msg}")
            };
            flag.set_by_wgpu(lost_message(index, &name, &why));
        });
        let (tx, rx) = mpsc::channel::<()>();
        #[cfg(target_arch = "wasm32")]
        // The browser drives WebGPU's callbacks itself: no poller (and no second thread).
        drop(rx);
        #[cfg(not(target_arch = "wasm32"))]
        spawn_poller(index, &entry.info, &device, &lost, rx)?;
        let mut ctx = GpuContext {
            index,
            limits: device.limits(),
            device,
            queue,
            native_f16,
            coop,
            info: entry.info.clone(),
            pipelines: Mutex::new(HashMap::new()),
            generated: Mutex::new(HashMap::new()),
            batches: Mutex::new(HashMap::new()),
            layouts: Mutex::default(),
            arenas: Mutex::default(),
            constants: Mutex::default(),
            poller: Mutex::new(tx),
            uncaptured,
            lost,
            pool: Pool::new(memory::default_cache_limit(
                entry.info.device_type == wgpu::DeviceType::Cpu,
            )),
            in_flight: Arc::default(),
            staging: Mutex::new(Vec::new()),
            since_wait: Default::default(),
            profile,
        };
        ctx.precompile();
        if let Some(shape) = ctx.coop
            && let Err(e) = ctx.pipeline(&kernels::matmul_coop_key(shape.variant))
        {
            // An experimental feature: a driver that rejects the kernel costs speed, not
            // f16 matmuls.
            eprintln!(
                "wmx: GPU {index} ({}): {e}; f16 matmuls use the tiled kernels",
                ctx.info.name
            );
            ctx.coop = None;
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
        let p = self.build(&label, source, key.entry_point(), key.trusted())?;
        lock(&self.pipelines).insert(*key, p.clone());
        Ok(p)
    }

    /// The pipeline of a generated WGSL module (a fused kernel, a user's `wgsl_kernel`), built
    /// once per distinct source and cached. `trusted` as in [`KernelKey::trusted`]: only for
    /// sources wmx wrote itself, whose every index is checked.
    pub(crate) fn pipeline_source(
        &self,
        label: &str,
        source: &str,
        entry: &str,
        trusted: bool,
    ) -> Result<Arc<Kernel>> {
        self.pipeline_keyed(source, label, entry, trusted, || Ok(source.to_string()))
    }

    /// As [`GpuContext::pipeline_source`], cached under `key` (which must determine the source),
    /// with the source rendered only on a miss.
    pub(crate) fn pipeline_keyed(
        &self,
        key: &str,
        label: &str,
        entry: &str,
        trusted: bool,
        render: impl FnOnce() -> Result<String>,
    ) -> Result<Arc<Kernel>> {
        if let Some(p) = lock(&self.generated).get(key) {
            return Ok(p.clone());
        }
        let trusted = trusted && std::env::var("WMX_CHECKED_SHADERS").as_deref() != Ok("1");
        let p = self.build(label, render()?, entry, trusted)?;
        lock(&self.generated).insert(key.to_string(), p.clone());
        Ok(p)
    }

    /// Creates the module and the compute pipeline of `source`; a validation error is an `Err`.
    fn build(
        &self,
        label: &str,
        source: String,
        entry: &str,
        trusted: bool,
    ) -> Result<Arc<Kernel>> {
        // In a browser the scope's answer comes asynchronously and nothing may block: there a
        // rejected kernel reaches the uncaptured-error handler and the next wait instead.
        #[cfg(not(target_arch = "wasm32"))]
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let reflected = groups::reflect(label, &source, entry);
        let desc = wgpu::ShaderModuleDescriptor {
            label: Some(label),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        };
        let module = if trusted {
            // SAFETY: trusted kernels guard every buffer index with their own bounds checks
            // and their loops are bounded by sizes from the info table (KernelKey::trusted).
            unsafe {
                self.device
                    .create_shader_module_trusted(desc, wgpu::ShaderRuntimeChecks::unchecked())
            }
        } else {
            self.device.create_shader_module(desc)
        };
        // The layout wgpu would derive, but with a dynamic offset on the info table (see
        // groups.rs). A source naga cannot read fails here, after wgpu has reported why.
        let slots = match reflected {
            Ok(s) => s,
            Err(e) => {
                #[cfg(not(target_arch = "wasm32"))]
                if let Some(w) = pollster::block_on(scope.pop()) {
                    return Err(Error::Backend {
                        op: "gpu",
                        msg: format!("kernel {label} failed to build: {w}"),
                    });
                }
                return Err(e);
            }
        };
        let (layout, pipeline_layout) = self.layout(&slots);
        let pipeline = self
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(label),
                layout: Some(&pipeline_layout),
                module: &module,
                entry_point: Some(entry),
                compilation_options: wgpu::PipelineCompilationOptions {
                    // The cooperative matmul writes every workgroup element before reading it,
                    // and its tens of KiB would otherwise be zeroed by every workgroup.
                    // (Every trusted kernel writes its workgroup memory before reading it.)
                    zero_initialize_workgroup_memory: !trusted,
                    ..Default::default()
                },
                cache: None,
            });
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(Error::Backend {
                op: "gpu",
                msg: format!("kernel {label} failed to build: {e}"),
            });
        }
        Ok(Arc::new(Kernel {
            layout,
            pipeline,
            label: label.to_string(),
        }))
    }

    /// The bind-group and pipeline layouts of kernels binding `slots`, made once per distinct
    /// list and shared.
    fn layout(&self, slots: &[groups::Slot]) -> (wgpu::BindGroupLayout, wgpu::PipelineLayout) {
        lock(&self.layouts)
            .entry(slots.to_vec())
            .or_insert_with(|| {
                let bgl = self
                    .device
                    .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                        label: Some("wmx group 0"),
                        entries: &groups::layout_entries(slots),
                    });
                let pl = self
                    .device
                    .create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                        label: Some("wmx"),
                        bind_group_layouts: &[Some(&bgl)],
                        immediate_size: 0,
                    });
                (bgl, pl)
            })
            .clone()
    }

    /// The info arena of `stream`: one buffer per stream that every batch of the stream writes
    /// its info tables into (see batch.rs), so bind groups naming it can be reused.
    pub(super) fn arena(&self, stream: usize) -> wgpu::Buffer {
        lock(&self.arenas)
            .entry(stream)
            .or_insert_with(|| {
                self.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("wmx info arena"),
                    size: INFO_ARENA_BYTES,
                    usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                })
            })
            .clone()
    }

    /// Names of the kernels whose pipelines this device has built so far: one per key, and one
    /// per generated source (labels of generated sources may repeat: each build is listed).
    pub(crate) fn kernel_names(&self) -> Vec<String> {
        let mut names: Vec<String> = lock(&self.pipelines)
            .keys()
            .map(|k| k.to_string())
            .collect();
        names.extend(lock(&self.generated).values().map(|k| k.label.clone()));
        names.sort();
        names
    }
}
