//! Adapter discovery: every wgpu adapter that can run compute shaders, in wmx's stable order
//! (GPU n is the n-th), and what each one offers the f16 matmul (cooperative matrices). Creates
//! no device.

use super::kernels;
use std::sync::OnceLock;

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

static ADAPTERS: OnceLock<Vec<AdapterEntry>> = OnceLock::new();

/// Adapters in wmx's stable order: discrete, integrated, virtual, then software; within a type
/// Metal, Vulkan, DX12, GL. An adapter seen through two backends (llvmpipe on GL and lavapipe on
/// Vulkan) is listed once, through the better backend. `WGPU_BACKEND` limits the backends and
/// `WGPU_ADAPTER_NAME` keeps only adapters whose name contains it (case-insensitive). In a
/// browser, where finding the adapter is asynchronous, the list is empty until
/// [`adapters_async`] has run (`wmx::init_async`).
pub(crate) fn adapters() -> &'static [AdapterEntry] {
    #[cfg(not(target_arch = "wasm32"))]
    return ADAPTERS.get_or_init(|| pollster::block_on(discover()));
    #[cfg(target_arch = "wasm32")]
    return ADAPTERS.get().map_or(&[], |v| &v[..]);
}

/// [`adapters`], found without blocking.
pub(crate) async fn adapters_async() -> &'static [AdapterEntry] {
    if let Some(list) = ADAPTERS.get() {
        return list;
    }
    let list = discover().await;
    ADAPTERS.get_or_init(|| list)
}

async fn discover() -> Vec<AdapterEntry> {
    let instance =
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let found = instance.enumerate_adapters(wgpu::Backends::all()).await;
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
    /// The tiling for short products (at most its block of rows): 128×128 tiles
    /// (`WMX_COOP_SMALL` names another), unless `WMX_COOP_VARIANT` pins one tiling for every
    /// product.
    pub small: Option<kernels::CoopVariant>,
    /// True when every subgroup has exactly 32 invocations (the f16 attention kernel's lane
    /// layout, `shaders/attention_coop.wgsl`, needs it).
    pub subgroups_of_32: bool,
}

/// The one fragment shape `matmul_coop.wgsl` is written for.
const COOP_FRAGMENT: CoopShape = CoopShape {
    m: 16,
    n: 16,
    k: 16,
    variant: kernels::CoopVariant::DEFAULT,
    small: None,
    subgroups_of_32: false,
};

/// The cooperative-matrix configuration the f16 matmul can use on this adapter, if any: the
/// adapter has `EXPERIMENTAL_COOPERATIVE_MATRIX` and subgroup barriers (the attention kernel
/// syncs its subgroups alone), subgroups of at most 32 invocations (the
/// kernel's 256 invocations must form at least its 8 subgroups), native f16, a 16×16×16
/// f16×f16→f32 configuration, and room for the kernel's workgroup memory and invocations.
/// `WMX_NO_COOP=1` turns it off (A/B timing, tests of the fallback). The tiling is
/// `WMX_COOP_VARIANT` (default [`kernels::CoopVariant::DEFAULT`]); one that does not fit the
/// adapter's limits falls back to the first kernel's 128x128x32 (with a one-line warning).
pub(super) fn coop_shape(entry: &AdapterEntry) -> Option<CoopShape> {
    if std::env::var("WMX_NO_COOP").as_deref() == Ok("1") || forced_packed_f16() {
        return None;
    }
    let adapter = &entry.adapter;
    let needed = wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX
        | wgpu::Features::SUBGROUP
        | wgpu::Features::SUBGROUP_BARRIER
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
    // WMX_COOP_SMALL=<name>: another tiling for short products (for measuring). A pinned variant
    // (WMX_COOP_VARIANT) takes every product unless WMX_COOP_SMALL is set too.
    let small_env = std::env::var("WMX_COOP_SMALL").ok();
    let pinned = std::env::var("WMX_COOP_VARIANT").is_ok() && small_env.is_none();
    let small = small_env
        .and_then(|n| kernels::CoopVariant::from_name(&n))
        .filter(|&v| fits(v))
        .unwrap_or(if fits(kernels::CoopVariant::SMALL) {
            kernels::CoopVariant::SMALL
        } else {
            fallback
        });
    let f = CoopShape {
        variant,
        small: (!pinned && variant != small).then_some(small),
        subgroups_of_32: entry.info.subgroup_min_size == 32 && entry.info.subgroup_max_size == 32,
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
pub(super) fn forced_packed_f16() -> bool {
    std::env::var("WMX_NO_NATIVE_F16").as_deref() == Ok("1")
}
