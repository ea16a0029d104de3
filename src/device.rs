//! Devices (`Device::cpu()`, `Device::gpu(n)`), their count and info, and the default device.
//! GPU n is the n-th wgpu adapter in the stable order chosen by `backend::gpu::context`.

use crate::backend::gpu::context;
use crate::error::{Error, Result};
use crate::stream;

/// Kind of a device.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeviceType {
    /// The host CPU (rayon backend).
    Cpu,
    /// A wgpu adapter.
    Gpu,
}

/// A device: the CPU or the n-th GPU adapter. A cheap `Copy` id; validity is checked when used.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Device {
    /// Kind of device.
    pub kind: DeviceType,
    /// Index among devices of that kind.
    pub index: usize,
}

impl Device {
    /// The CPU device.
    ///
    /// ```
    /// assert_eq!(wmx::Device::cpu().kind, wmx::DeviceType::Cpu);
    /// ```
    pub const fn cpu() -> Device {
        Device {
            kind: DeviceType::Cpu,
            index: 0,
        }
    }

    /// The n-th GPU adapter. An index past [`device_count`] gives an error when the device is used.
    ///
    /// ```
    /// let bad = wmx::Device::gpu(999);
    /// assert!(wmx::zeros(&[2], wmx::Dtype::Float32, bad).is_err());
    /// ```
    pub const fn gpu(index: usize) -> Device {
        Device {
            kind: DeviceType::Gpu,
            index,
        }
    }

    /// Checks that the device exists.
    pub(crate) fn validate(self, op: &'static str) -> Result<Device> {
        match self.kind {
            DeviceType::Cpu if self.index == 0 => Ok(self),
            DeviceType::Cpu => Err(Error::Device {
                op,
                msg: format!(
                    "There is one CPU device; Device::cpu() has index 0, got {}.",
                    self.index
                ),
            }),
            DeviceType::Gpu => {
                let n = device_count(DeviceType::Gpu);
                if self.index < n {
                    Ok(self)
                } else {
                    Err(Error::Device {
                        op,
                        msg: format!(
                            "GPU {} requested but {n} GPU adapter(s) were found.",
                            self.index
                        ),
                    })
                }
            }
        }
    }
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            DeviceType::Cpu => write!(f, "Device(cpu, {})", self.index),
            DeviceType::Gpu => write!(f, "Device(gpu, {})", self.index),
        }
    }
}

/// Number of devices of a kind: 1 CPU; one GPU per distinct wgpu adapter.
///
/// ```
/// assert_eq!(wmx::device_count(wmx::DeviceType::Cpu), 1);
/// ```
pub fn device_count(kind: DeviceType) -> usize {
    match kind {
        DeviceType::Cpu => 1,
        DeviceType::Gpu => context::adapters().len(),
    }
}

/// What a device is: adapter name, backend, type and the limits wmx respects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Adapter name (`NVIDIA H100 80GB HBM3`, `llvmpipe (LLVM 15.0.6, 256 bits)`), or `cpu`.
    pub name: String,
    /// wgpu backend (`Vulkan`, `Metal`, `Dx12`, `Gl`) or `Cpu`.
    pub backend: String,
    /// wgpu device type (`DiscreteGpu`, `Cpu`...) or `Cpu`.
    pub device_type: String,
    /// Largest storage-buffer binding in bytes (largest array the device takes).
    pub max_buffer_binding_size: u64,
    /// Most workgroups per dispatch dimension.
    pub max_workgroups_per_dimension: u32,
    /// Native WGSL `f16` (SHADER_F16); without it f16 is stored packed.
    pub native_f16: bool,
    /// f16 matmuls run on cooperative matrices (tensor cores): the adapter offers 16×16×16
    /// f16×f16→f32 fragments through wgpu's experimental feature and `WMX_NO_COOP=1` is unset.
    pub cooperative_matrix: bool,
    /// Dispatches can be timed (timestamp queries; see [`crate::set_gpu_profiling`]).
    pub timestamps: bool,
    /// Worker threads (CPU) or 0.
    pub threads: usize,
}

/// Describes a device.
///
/// ```
/// let info = wmx::device_info(wmx::Device::cpu()).unwrap();
/// assert_eq!(info.backend, "Cpu");
/// assert!(info.threads >= 1);
/// ```
pub fn device_info(d: Device) -> Result<DeviceInfo> {
    let d = d.validate("device_info")?;
    match d.kind {
        DeviceType::Cpu => Ok(DeviceInfo {
            name: "cpu".into(),
            backend: "Cpu".into(),
            device_type: "Cpu".into(),
            max_buffer_binding_size: u64::MAX,
            max_workgroups_per_dimension: 0,
            native_f16: false,
            cooperative_matrix: false,
            timestamps: false,
            threads: rayon::current_num_threads(),
        }),
        DeviceType::Gpu => context::device_info(d.index),
    }
}

/// Finds the GPU adapters and opens every GPU without blocking; returns how many GPUs there
/// are. In a browser (wasm32) WebGPU is asynchronous, so a page awaits this once before using
/// `Device::gpu(n)` (until then only the CPU exists); elsewhere the GPUs open on first use and
/// this only opens them early.
///
/// ```
/// let gpus = pollster::block_on(wmx::init_async()).unwrap();
/// assert_eq!(gpus, wmx::device_count(wmx::DeviceType::Gpu));
/// ```
pub async fn init_async() -> Result<usize> {
    context::open_all().await
}

/// The device new ops use when given `None`: this thread's default (see [`set_default_device`]).
///
/// ```
/// let d = wmx::default_device();
/// assert!(d.kind == wmx::DeviceType::Cpu || wmx::device_count(wmx::DeviceType::Gpu) > 0);
/// ```
pub fn default_device() -> Device {
    stream::current_default_stream().device()
}

/// Sets the default device **of the calling thread** (and its default stream to that device's
/// default stream). Other threads keep theirs, so parallel tests cannot disturb each other; a new
/// thread starts with the process default: the first GPU if any adapter exists, else the CPU.
///
/// ```
/// wmx::set_default_device(wmx::Device::cpu());
/// assert_eq!(wmx::default_device(), wmx::Device::cpu());
/// ```
pub fn set_default_device(d: Device) {
    stream::set_default_stream(stream::default_stream(d));
}

/// The process-wide initial default device: the first GPU when one exists, else the CPU.
pub(crate) fn initial_default_device() -> Device {
    if device_count(DeviceType::Gpu) > 0 {
        Device::gpu(0)
    } else {
        Device::cpu()
    }
}
