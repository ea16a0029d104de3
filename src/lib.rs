//! wmx: Apple MLX's programming model in Rust — lazy arrays, devices and streams — with WGSL
//! kernels that run wherever wgpu runs (Metal, Vulkan, DX12, GL, lavapipe) and a multicore CPU
//! backend (rayon) that is a device of its own.
//!
//! ```
//! use wmx::{self as mx, Array, Device, Dtype};
//! let a = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2]);
//! let b = mx::ones(&[2, 2], Dtype::Float32, None)?;       // default stream of the default device
//! let c = mx::matmul(&(&a + &b), &a, Device::cpu())?;     // a device: its default stream
//! mx::eval([&c])?;                                        // nothing ran before this line
//! assert_eq!(c.to_vec::<f32>()?, vec![11.0, 16.0, 19.0, 28.0]);
//! # Ok::<(), mx::Error>(())
//! ```
//!
//! Layers (data flows one way): `ops` validates and builds nodes; `array` holds the lazy graph;
//! `graph` schedules nodes on stream executors; `backend` runs them (`cpu`, `gpu`); WGSL lives in
//! `shaders/`.

#![warn(missing_docs)]

mod array;
mod backend;
mod compile;
mod device;
mod display;
pub mod distributed;
mod dtype;
mod error;
pub mod fast;
mod graph;
mod io;
mod memory;
pub mod nn;
mod ops;
pub mod optimizers;
mod primitive;
pub mod random;
mod scalar;
mod shape;
mod stream;
mod transforms;

pub use array::Array;
pub use backend::gpu::profile::{KernelTime, gpu_kernel_times, set_gpu_profiling};
pub use compile::{
    CompileOptions, compile, compile_enabled, compile_with, disable_compile, enable_compile,
};
pub use device::{
    Device, DeviceInfo, DeviceType, default_device, device_count, device_info, init_async,
    set_default_device,
};
pub use dtype::{ArrayElement, Domain, Dtype, promote_types};
pub use error::{Error, Result};
pub use graph::{Evaluation, async_eval, eval, synchronize};
pub use io::{
    load, load_npz, load_safetensors, load_safetensors_as, save, save_safetensors, savez,
    savez_compressed,
};
pub use memory::{
    get_active_memory, get_peak_memory, reset_peak_memory, set_cache_limit, set_memory_limit,
};
pub use ops::binary::*;
pub use ops::composite::*;
pub use ops::conv::{
    conv_general, conv_transpose1d, conv_transpose2d, conv_transpose3d, conv1d, conv2d, conv3d,
};
pub use ops::creation::*;
pub use ops::diagonal::*;
pub use ops::einsum::*;
pub use ops::gather_scatter::*;
pub use ops::indexing::{At, Ix, index, index_put};
pub use ops::linalg::*;
pub use ops::reduce::*;
pub use ops::scan::*;
pub use ops::shape::*;
pub use ops::sort::*;
pub use ops::structure::*;
pub use ops::unary::*;
pub use primitive::{ArgReduceOp, BinaryOp, ReduceOp, ScanOp, UnaryOp};
pub use stream::{
    Stream, StreamGuard, StreamOrDevice, default_stream, new_stream, set_default_stream, stream,
};
pub use transforms::{
    CustomFunction, checkpoint, custom_function, grad, grad_argnums, jvp, stop_gradient,
    value_and_grad, value_and_grad_argnums, value_and_grad_with_aux, vjp, vmap,
};

/// Linear algebra beyond products (MLX's `mx.linalg`): norms.
pub mod linalg {
    pub use crate::ops::norm::{NormOrd, norm};
}

/// Bytes held by the GPU buffer caches (freed buffers kept for reuse), as in MLX.
///
/// ```
/// wmx::clear_cache();
/// assert_eq!(wmx::get_cache_memory(), 0);
/// ```
pub fn get_cache_memory() -> u64 {
    backend::cached_bytes()
}

/// Frees the buffers the GPU caches and the host (CPU) cache keep for reuse.
///
/// ```
/// let a = wmx::ones(&[1024], wmx::Dtype::Float32, None).unwrap();
/// a.eval().unwrap();
/// drop(a);
/// wmx::clear_cache();
/// assert_eq!(wmx::get_cache_memory(), 0);
/// ```
pub fn clear_cache() {
    backend::clear_caches();
}

/// Number of array storages copied between devices so far in this process (tests and tools use
/// it to check that a cross-device input is transferred once).
///
/// ```
/// let before = wmx::transfer_count();
/// assert!(wmx::transfer_count() >= before);
/// ```
#[doc(hidden)]
pub fn transfer_count() -> u64 {
    backend::transfer_count()
}

/// Number of graph nodes (arrays, with everything they still reference) alive in this process:
/// tests use it to check that a graph is freed once evaluated.
///
/// ```
/// let before = wmx::live_nodes();
/// let a = wmx::Array::scalar(1.0f32);
/// assert!(wmx::live_nodes() >= 1);
/// drop(a);
/// # let _ = before;
/// ```
#[doc(hidden)]
pub fn live_nodes() -> usize {
    array::live_nodes()
}

/// Names of the kernels a GPU has built so far (sorted; empty for the CPU or a GPU not yet
/// used): tests use it to check which kernel an op ran on.
///
/// ```
/// assert!(wmx::kernels_built(wmx::Device::cpu()).is_empty());
/// ```
#[doc(hidden)]
pub fn kernels_built(device: Device) -> Vec<String> {
    backend::kernel_names(device)
}

/// Fault injection for wmx's own tests (not a stable API).
#[doc(hidden)]
pub mod testing {
    use crate::{Device, Result};

    /// Destroys a GPU's wgpu device (`wgpu::Device::destroy`, what a driver reset or an
    /// unplugged GPU looks like to wgpu) and waits until wgpu reports it lost. Every op, read
    /// and wait on that GPU then returns an `Err` naming the loss; the CPU keeps working. There
    /// is no way back in this process: use it in a test binary of its own.
    ///
    /// ```
    /// let e = wmx::testing::lose_device(wmx::Device::cpu()).unwrap_err();
    /// assert!(e.to_string().starts_with("[lose_device] the CPU device cannot be lost"));
    /// ```
    pub fn lose_device(device: Device) -> Result<()> {
        crate::backend::lose_device(device)
    }

    /// Makes wgpu's validation reject one command on a GPU (a copy past the end of a buffer), as
    /// a kernel or driver bug would; the next wait on that GPU (`eval`, a read, `synchronize`)
    /// returns it as an `Err`, and the device keeps working.
    ///
    /// ```
    /// assert!(wmx::testing::inject_validation_error(wmx::Device::cpu()).is_err());
    /// ```
    pub fn inject_validation_error(device: Device) -> Result<()> {
        crate::backend::inject_validation_error(device)
    }

    /// Makes the next `count` GPU buffer creations (on any GPU, any thread) fail as if the
    /// driver were out of memory. Cached buffers are given back and the creation is retried
    /// once, so `count = 2` makes one allocation fail for good.
    ///
    /// ```
    /// wmx::testing::refuse_gpu_allocations(0);
    /// let a = wmx::ones(&[4], wmx::Dtype::Float32, None).unwrap();
    /// assert_eq!(a.to_vec::<f32>().unwrap(), vec![1.0; 4]);
    /// ```
    pub fn refuse_gpu_allocations(count: u32) {
        crate::backend::refuse_gpu_allocations(count)
    }
}

/// Kernel keys and WGSL generation, public for the shader tests and tools (not a stable API).
#[doc(hidden)]
pub mod kernels {
    pub use crate::backend::gpu::kernels::*;
}

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme {}
