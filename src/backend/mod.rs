//! The one seam between graph and kernels. `Storage` is where an array's elements live (host memory
//! or a GPU buffer, with copies on other devices cached once made); `Data` is a strided view of a
//! storage. `run` executes one node on its stream's device: views are resolved here for every
//! device, everything else goes to `cpu` or `gpu`. Backends receive inputs already promoted and
//! broadcast by the ops layer.

pub(crate) mod collective;
pub(crate) mod cpu;
pub(crate) mod gpu;
pub(crate) mod host;
#[cfg(feature = "mpi")]
mod mpi;

pub(crate) use collective::{
    Comm, Turn, failed as collective_failed, mpi_available, mpi_world, split, turn_for,
};
/// `compile`'s constant folding evaluates scalar steps with the CPU kernels' own functions.
pub(crate) use cpu::fused::fold_scalars;

use crate::array::Node;
use crate::device::{Device, DeviceType};
use crate::error::{Error, Result};
use crate::primitive::Primitive;
use crate::shape::{is_row_contiguous, reshape_strides, row_major_strides};
use crate::stream::Stream;
use gpu::context::GpuBuffer;
use host::HostVec;
use std::sync::{Arc, Mutex};

/// Where elements live.
pub(crate) enum StorageKind {
    Host(HostVec),
    Gpu(Arc<GpuBuffer>),
}

/// An array's elements on one device, plus the copies made for other devices.
pub(crate) struct Storage {
    pub device: Device,
    pub kind: StorageKind,
    pub dtype: crate::dtype::Dtype,
    copies: Mutex<Vec<Arc<Storage>>>,
}

/// A strided view of a storage: element (i0, i1, ...) is at `offset + sum(ik * strides[k])`.
#[derive(Clone)]
pub(crate) struct Data {
    pub storage: Arc<Storage>,
    pub strides: Vec<isize>,
    pub offset: usize,
}

impl Drop for Storage {
    fn drop(&mut self) {
        if let StorageKind::Host(HostVec::F32(v)) = &mut self.kind {
            host::cache::give_f32(std::mem::take(v));
        }
    }
}

impl Storage {
    pub(crate) fn host(h: HostVec) -> Storage {
        Storage {
            device: Device::cpu(),
            dtype: h.dtype(),
            kind: StorageKind::Host(h),
            copies: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn gpu(index: usize, dtype: crate::dtype::Dtype, b: Arc<GpuBuffer>) -> Storage {
        Storage {
            device: Device::gpu(index),
            dtype,
            kind: StorageKind::Gpu(b),
            copies: Mutex::new(Vec::new()),
        }
    }

    /// The host vector, when this storage is host memory.
    pub(crate) fn as_host(&self) -> Option<&HostVec> {
        match &self.kind {
            StorageKind::Host(h) => Some(h),
            StorageKind::Gpu(_) => None,
        }
    }

    /// The GPU buffer, when this storage is on a GPU.
    pub(crate) fn as_gpu(&self) -> Option<&Arc<GpuBuffer>> {
        match &self.kind {
            StorageKind::Gpu(b) => Some(b),
            StorageKind::Host(_) => None,
        }
    }

    fn cached(&self, d: Device) -> Option<Arc<Storage>> {
        self.copies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|c| c.device == d)
            .cloned()
    }

    fn remember(&self, c: Arc<Storage>) {
        self.copies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(c);
    }

    /// This storage on the host (itself, a cached copy, or a new readback), without blocking.
    pub(crate) async fn host_async(self: &Arc<Self>) -> Result<Arc<Storage>> {
        if self.as_host().is_some() {
            return Ok(self.clone());
        }
        if let Some(c) = self.cached(Device::cpu()) {
            return Ok(c);
        }
        let (ctx, buf) = match &self.kind {
            StorageKind::Gpu(b) => (gpu::context::context(self.device.index)?, b.clone()),
            StorageKind::Host(_) => return Ok(self.clone()),
        };
        let bytes = ctx.read(&buf).await?;
        let n = buf.bytes as usize / self.dtype.size();
        let c = Arc::new(Storage::host(HostVec::from_bytes(self.dtype, n, &bytes)));
        self.remember(c.clone());
        Ok(c)
    }

    /// This storage on device `d`, transferring once and caching the copy (blocking; in a
    /// browser, an `Err` when that would wait for the GPU).
    pub(crate) fn on_device(self: &Arc<Self>, d: Device) -> Result<Arc<Storage>> {
        crate::graph::block_on("transfer", self.on_device_async(d))?
    }

    /// This storage on device `d`, transferring once and caching the copy.
    pub(crate) async fn on_device_async(self: &Arc<Self>, d: Device) -> Result<Arc<Storage>> {
        if self.device == d {
            return Ok(self.clone());
        }
        if let Some(c) = self.cached(d) {
            return Ok(c);
        }
        let host = self.host_async().await?;
        let c = match d.kind {
            DeviceType::Cpu => host,
            DeviceType::Gpu => {
                let ctx = gpu::context::context(d.index)?;
                let h = host.as_host().ok_or_else(|| Error::Backend {
                    op: "transfer",
                    msg: "invariant: host_async returned device memory".into(),
                })?;
                Arc::new(Storage::gpu(d.index, self.dtype, ctx.upload(h.bytes())?))
            }
        };
        self.remember(c.clone());
        TRANSFERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(c)
    }
}

static TRANSFERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Number of storages copied to another device so far (process-wide).
pub(crate) fn transfer_count() -> u64 {
    TRANSFERS.load(std::sync::atomic::Ordering::Relaxed)
}

impl Data {
    /// The same view over this data's storage on device `d` (blocking).
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn on_device(&self, d: Device) -> Result<Data> {
        Ok(Data {
            storage: self.storage.on_device(d)?,
            strides: self.strides.clone(),
            offset: self.offset,
        })
    }

    /// The same view over this data's storage on device `d`.
    #[cfg(target_arch = "wasm32")]
    pub(crate) async fn on_device_async(&self, d: Device) -> Result<Data> {
        Ok(Data {
            storage: self.storage.on_device_async(d).await?,
            strides: self.strides.clone(),
            offset: self.offset,
        })
    }

    pub(crate) fn is_contiguous(&self, shape: &[i32]) -> bool {
        is_row_contiguous(shape, &self.strides)
    }
}

/// Resolves view primitives (no data moves) or returns `None` when the primitive computes.
fn view(node: &Node, input: &Data, in_shape: &[i32]) -> Option<Data> {
    let mut d = input.clone();
    match &node.prim {
        Primitive::Reshape => d.strides = reshape_strides(in_shape, &input.strides, &node.shape)?,
        Primitive::Transpose(perm) => d.strides = perm.iter().map(|&p| input.strides[p]).collect(),
        Primitive::Broadcast => {
            let pad = node.shape.len() - in_shape.len();
            d.strides = (0..node.shape.len())
                .map(|i| {
                    if i < pad || (in_shape[i - pad] == 1 && node.shape[i] != 1) {
                        0
                    } else {
                        input.strides[i - pad]
                    }
                })
                .collect();
        }
        Primitive::Slice { start, step } => {
            let mut off = input.offset as isize;
            for (k, (&s, &st)) in start.iter().zip(step).enumerate() {
                if node.shape[k] > 0 {
                    off += s as isize * input.strides[k];
                }
                d.strides[k] = input.strides[k] * st as isize;
            }
            if node.shape.contains(&0) {
                off = input.offset as isize;
            }
            d.offset = off as usize;
        }
        Primitive::StopGradient | Primitive::Custom { .. } => {}
        Primitive::AsStrided { strides, offset } => {
            // Only meaningful over a dense row-major input (the ops layer inserts a copy).
            if !input.is_contiguous(in_shape) {
                return None;
            }
            d.strides = strides.clone();
            d.offset = input.offset + offset;
        }
        Primitive::Constant
        | Primitive::Full(_)
        | Primitive::Arange { .. }
        | Primitive::AsType
        | Primitive::Unary(_)
        | Primitive::Binary(_)
        | Primitive::Where
        | Primitive::Reduce { .. }
        | Primitive::ArgReduce { .. }
        | Primitive::Matmul
        | Primitive::Convolution(_)
        | Primitive::Concatenate { .. }
        | Primitive::RandomBits { .. }
        | Primitive::ArgSort
        | Primitive::Take { .. }
        | Primitive::Copy
        | Primitive::Softmax
        | Primitive::Gather { .. }
        | Primitive::Scatter { .. }
        | Primitive::Scan { .. }
        | Primitive::Sort
        | Primitive::SearchSorted { .. }
        | Primitive::Collective { .. }
        | Primitive::RmsNorm { .. }
        | Primitive::LayerNorm { .. }
        | Primitive::Rope { .. }
        | Primitive::Fused(_)
        | Primitive::FusedReduce(_)
        | Primitive::Attention { .. }
        | Primitive::CustomKernel { .. } => return None,
    }
    Some(d)
}

/// Executes `node` on device `dev` with `inputs` (already on `dev`). For GPU devices the work is
/// recorded on the node's stream; the returned data is valid for later work on that device.
pub(crate) fn run(node: &Node, dev: Device, inputs: &[(Vec<i32>, Data)]) -> Result<Data> {
    // A custom function's output is its last input; every other view reads its first.
    let viewed = match node.prim {
        Primitive::Custom { .. } => inputs.last(),
        _ => inputs.first(),
    };
    if let Some(v) = viewed.and_then(|(shape, first)| view(node, first, shape)) {
        return Ok(v);
    }
    if let Primitive::Collective { .. } = node.prim {
        return collective::run(node, dev, inputs);
    }
    let out = match dev.kind {
        DeviceType::Cpu => cpu::run(node, inputs)?,
        DeviceType::Gpu => gpu::run(node, dev.index, inputs)?,
    };
    debug_assert_eq!(out.strides.len(), node.shape.len());
    Ok(out)
}

/// Before `stream` runs work that reads GPU inputs: work other streams recorded for those inputs
/// must reach the device's queue first (a no-op for CPU streams).
pub(crate) fn flush_others(stream: Stream) -> Result<()> {
    let d = stream.device();
    if d.kind == DeviceType::Gpu {
        gpu::context::context(d.index)?.flush_others(stream.index);
    }
    Ok(())
}

/// Submits the work `stream` has recorded but not submitted yet (a no-op for CPU streams, and
/// for a GPU whose context could not be created: nothing was recorded there).
pub(crate) fn flush(stream: Stream) {
    let d = stream.device();
    if d.kind != DeviceType::Gpu {
        return;
    }
    if let Ok(ctx) = gpu::context::context(d.index) {
        ctx.flush(stream.index);
    }
}

/// Resolves when everything submitted to `device` so far has finished (at once for the CPU,
/// whose kernels finish before their node does).
pub(crate) async fn done(device: Device) -> Result<()> {
    match device.kind {
        DeviceType::Cpu => Ok(()),
        DeviceType::Gpu => gpu::context::context(device.index)?.done().await,
    }
}

/// Results of at most this many bytes (one element of any dtype) are read back within `eval`'s
/// own wait (see [`done_reading`]).
const SMALL_READ_BYTES: u64 = 8;

/// Whether `eval` reads small results in its wait; `WMX_SMALL_READS=off` turns it off (for
/// measuring).
fn small_reads() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var("WMX_SMALL_READS").as_deref() != Ok("off"))
}

/// [`done`], and on a GPU the one-element storages among `outputs` (a loss, a metric: at most
/// [`SMALL_READ_BYTES`]) are read back in the same wait and kept as their host copies, so the
/// `item()` that usually follows an `eval` costs no second round trip to the GPU.
pub(crate) async fn done_reading(device: Device, outputs: &[Arc<Storage>]) -> Result<()> {
    if device.kind != DeviceType::Gpu {
        return done(device).await;
    }
    let ctx = gpu::context::context(device.index)?;
    let mut small: Vec<(&Arc<Storage>, &Arc<GpuBuffer>)> = Vec::new();
    for s in outputs.iter().filter(|_| small_reads()) {
        if let StorageKind::Gpu(b) = &s.kind
            && s.device == device
            && b.bytes <= SMALL_READ_BYTES
            && s.cached(Device::cpu()).is_none()
            && !small.iter().any(|(t, _)| Arc::ptr_eq(s, t))
        {
            small.push((s, b));
        }
    }
    if small.is_empty() {
        return ctx.done().await;
    }
    let bufs: Vec<&GpuBuffer> = small.iter().map(|(_, b)| b.as_ref()).collect();
    let bytes = ctx.read_all("eval", &bufs).await?;
    for ((s, b), v) in small.iter().zip(bytes) {
        let n = b.bytes as usize / s.dtype.size();
        s.remember(Arc::new(Storage::host(HostVec::from_bytes(s.dtype, n, &v))));
    }
    Ok(())
}

/// Destroys a GPU's device and waits until wgpu reports it lost (fault tests only).
pub(crate) fn lose_device(device: Device) -> Result<()> {
    match device.kind {
        DeviceType::Cpu => Err(Error::Device {
            op: "lose_device",
            msg: "the CPU device cannot be lost; pass a GPU".into(),
        }),
        DeviceType::Gpu => gpu::context::destroy(device.index),
    }
}

/// Makes a GPU's wgpu validation reject one command (fault tests only).
pub(crate) fn inject_validation_error(device: Device) -> Result<()> {
    match device.kind {
        DeviceType::Cpu => Err(Error::Device {
            op: "inject_validation_error",
            msg: "the CPU device has no wgpu validation; pass a GPU".into(),
        }),
        DeviceType::Gpu => gpu::context::inject_validation_error(device.index),
    }
}

/// Makes the next `count` GPU buffer creations fail as out of memory (fault tests only).
pub(crate) fn refuse_gpu_allocations(count: u32) {
    gpu::buffer::refuse_allocations(count);
}

/// Bytes the device caches keep for reuse (GPU buffer pools).
pub(crate) fn cached_bytes() -> u64 {
    gpu::context::created().map(|c| c.cached_bytes()).sum()
}

/// Frees every cache of freed buffers: the host cache and each GPU's pool.
pub(crate) fn clear_caches() {
    host::cache::clear();
    gpu::context::created().for_each(|c| c.clear_cache());
}

/// Names of the kernels built so far on `device` (empty for the CPU or an unused GPU).
pub(crate) fn kernel_names(device: Device) -> Vec<String> {
    match device.kind {
        DeviceType::Cpu => Vec::new(),
        DeviceType::Gpu => gpu::context::created()
            .find(|c| c.index == device.index)
            .map(|c| c.kernel_names())
            .unwrap_or_default(),
    }
}

/// The limits a user kernel (`fast::wgsl_kernel`) must respect on GPU `index`.
pub(crate) struct KernelLimits {
    pub native_f16: bool,
    /// Threads per workgroup in each dimension, and in all.
    pub workgroup_size: [u32; 3],
    pub invocations: u32,
    pub groups_per_dim: u32,
    pub storage_buffers: u32,
}

/// The [`KernelLimits`] of GPU `index` (creating its device if needed).
pub(crate) fn kernel_limits(index: usize) -> Result<KernelLimits> {
    let c = gpu::context::context(index)?;
    let l = &c.limits;
    Ok(KernelLimits {
        native_f16: c.native_f16,
        workgroup_size: [
            l.max_compute_workgroup_size_x,
            l.max_compute_workgroup_size_y,
            l.max_compute_workgroup_size_z,
        ],
        invocations: l.max_compute_invocations_per_workgroup,
        groups_per_dim: l.max_compute_workgroups_per_dimension,
        storage_buffers: l.max_storage_buffers_per_shader_stage,
    })
}

/// True when `device` runs `fast::scaled_dot_product_attention` with head dimensions `d` (queries
/// and keys) and `dv` (values) as one kernel; the ops layer builds the composite otherwise. Any
/// size on the CPU; on a GPU while the kernel's tiles fit its workgroup memory. An unusable GPU
/// answers true, so the error comes from running the node.
pub(crate) fn attention_fits(device: Device, d: u32, dv: u32) -> bool {
    match device.kind {
        DeviceType::Cpu => true,
        DeviceType::Gpu => gpu::context::context(device.index).map_or(true, |c| {
            gpu::kernels::attention_fits(d, dv, c.limits.max_compute_workgroup_storage_size)
        }),
    }
}

/// A dense row-major `Data` over a new storage.
pub(crate) fn dense(storage: Storage, shape: &[i32]) -> Data {
    Data {
        storage: Arc::new(storage),
        strides: row_major_strides(shape),
        offset: 0,
    }
}
