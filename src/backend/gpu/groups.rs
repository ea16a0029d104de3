//! Bind groups that outlive one dispatch. Every kernel's group 0 has an explicit layout (read
//! from its WGSL with naga, as wgpu would derive it) whose binding 0, the info table, takes a
//! dynamic offset into its stream's info arena; so a dispatch that binds the same buffers as an
//! earlier one, in the same layout and with an info table of the same length, reuses that
//! earlier bind group instead of creating one (wgpu's bind-group creation, tracking and
//! destruction were the largest items of an eager op's CPU time). Kernels with the same
//! bindings share one layout, so an `add` and a `mul` over the same buffers share a group too.
//!
//! [`BindGroups`] lives inside the buffer pool, under its lock: a group holds its buffers alive,
//! so when the pool lets a buffer go (past its cache limit, or when it is cleared) the groups
//! that bind it go with it. Buffers are only ever bound whole, so a group is named by its layout,
//! its buffers in binding order (the stream's info arena first) and the info table's size.

use crate::error::{Error, Result};
use std::collections::HashMap;
use std::num::NonZeroU64;

/// One binding of a kernel's group 0: its number, whether the kernel only reads it, and the
/// smallest size it may be bound with (one element of its runtime-sized array).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Slot {
    pub binding: u32,
    pub read_only: bool,
    pub min_size: u64,
}

/// The group-0 storage bindings that `entry` of `source` uses, in binding order (bindings the
/// entry point never touches are left out, as wgpu's derived layouts leave them out).
pub(crate) fn reflect(label: &str, source: &str, entry: &str) -> Result<Vec<Slot>> {
    let fail = |what: String| Error::Backend {
        op: "gpu",
        msg: format!("kernel {label}: reading its bindings failed: {what}"),
    };
    let module = naga::front::wgsl::parse_str(source).map_err(|e| fail(e.to_string()))?;
    let info = naga::valid::Validator::new(
        naga::valid::ValidationFlags::empty(),
        naga::valid::Capabilities::all(),
    )
    .validate(&module)
    .map_err(|e| fail(e.to_string()))?;
    let ep = module
        .entry_points
        .iter()
        .position(|e| e.name == entry)
        .ok_or_else(|| fail(format!("no entry point `{entry}`")))?;
    let uses = info.get_entry_point(ep);
    let mut slots = Vec::new();
    for (h, var) in module.global_variables.iter() {
        let (Some(b), naga::AddressSpace::Storage { access }) = (&var.binding, var.space) else {
            continue;
        };
        if b.group != 0 || uses[h].is_empty() {
            continue;
        }
        slots.push(Slot {
            binding: b.binding,
            read_only: access == naga::StorageAccess::LOAD,
            min_size: u64::from(module.types[var.ty].inner.size(module.to_ctx())),
        });
    }
    slots.sort_by_key(|s| s.binding);
    Ok(slots)
}

/// The layout entries of `slots`: storage buffers for compute, binding 0 (the info table) with
/// a dynamic offset.
pub(crate) fn layout_entries(slots: &[Slot]) -> Vec<wgpu::BindGroupLayoutEntry> {
    slots
        .iter()
        .map(|s| wgpu::BindGroupLayoutEntry {
            binding: s.binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Storage {
                    read_only: s.read_only,
                },
                has_dynamic_offset: s.binding == 0,
                min_binding_size: NonZeroU64::new(s.min_size),
            },
            count: None,
        })
        .collect()
}

/// What names a bind group: the layout, the buffers in binding order, the info table's bytes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct GroupKey {
    pub layout: wgpu::BindGroupLayout,
    pub buffers: Vec<wgpu::Buffer>,
    pub info_bytes: u64,
}

/// Groups kept past this many are all dropped at once (a workload with more distinct groups
/// than this pays a creation per dispatch, as without the cache).
const MAX_GROUPS: usize = 4096;

/// The bind-group cache, with each buffer's groups (to drop them with the buffer).
#[derive(Default)]
pub(crate) struct BindGroups {
    groups: HashMap<GroupKey, wgpu::BindGroup>,
    by_buffer: HashMap<wgpu::Buffer, Vec<GroupKey>>,
}

impl BindGroups {
    pub(crate) fn get(&self, key: &GroupKey) -> Option<wgpu::BindGroup> {
        self.groups.get(key).cloned()
    }

    pub(crate) fn insert(&mut self, key: GroupKey, group: wgpu::BindGroup) {
        if self.groups.len() >= MAX_GROUPS {
            self.clear();
        }
        for b in &key.buffers {
            self.by_buffer
                .entry(b.clone())
                .or_default()
                .push(key.clone());
        }
        self.groups.insert(key, group);
    }

    /// Drops the groups that bind `buffer` (the pool is letting it go).
    pub(crate) fn forget(&mut self, buffer: &wgpu::Buffer) {
        for key in self.by_buffer.remove(buffer).unwrap_or_default() {
            self.groups.remove(&key);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.groups.clear();
        self.by_buffer.clear();
    }

    /// How many kept groups bind `buffer`.
    #[cfg(test)]
    pub(crate) fn binding(&self, buffer: &wgpu::Buffer) -> usize {
        self.by_buffer.get(buffer).map_or(0, Vec::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_reads_bindings_access_and_use() {
        let src = "
@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> unused: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(1)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
    out[g.x] = a[g.x].x + f32(info[0]);
}";
        let slots = reflect("t", src, "main").unwrap();
        let got: Vec<(u32, bool, u64)> = slots
            .iter()
            .map(|s| (s.binding, s.read_only, s.min_size))
            .collect();
        assert_eq!(got, vec![(0, true, 4), (1, true, 16), (3, false, 4)]);
        let e = layout_entries(&slots);
        assert!(matches!(
            e[0].ty,
            wgpu::BindingType::Buffer {
                has_dynamic_offset: true,
                ..
            }
        ));
        assert!(matches!(
            e[2].ty,
            wgpu::BindingType::Buffer {
                has_dynamic_offset: false,
                ..
            }
        ));
        let err = reflect("t", src, "nope").unwrap_err().to_string();
        assert!(err.contains("kernel t") && err.contains("nope"), "{err}");
    }

    #[test]
    fn dispatches_over_the_same_buffers_reuse_one_group() {
        use crate::{Device, Dtype};
        let _pool = super::super::buffer::POOL_TESTS
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let ctx = match super::super::context::context(0) {
            Ok(ctx) => ctx,
            Err(e) if std::env::var("WMX_REQUIRE_GPU").as_deref() == Ok("1") => panic!("{e}"),
            Err(_) => return,
        };
        // A stream of its own (so its arena's groups are this test's), and an 8 MiB bucket
        // no other test of this binary uses (so a freed buffer comes back to this test).
        let s = crate::new_stream(Device::gpu(0));
        let n = (7 << 18) + 1;
        let a = crate::ones(&[n], Dtype::Float32, s).unwrap();
        let b = crate::add(&a, &a, s).unwrap();
        crate::eval([&b]).unwrap();
        assert_eq!(b.to_vec::<f32>().unwrap()[n as usize - 1], 2.0);
        let arena = ctx.arena(s.index);
        let before = ctx.pool().groups.binding(&arena);
        assert!(before >= 1, "the add's group is kept");
        drop(b);
        // Same kernel over the same buffers (b's buffer back from the pool), then another
        // kernel with the same bindings: no new group (a concurrent clear could only lower it).
        let c = crate::add(&a, &a, s).unwrap();
        crate::eval([&c]).unwrap();
        assert_eq!(c.to_vec::<f32>().unwrap()[0], 2.0);
        drop(c);
        let d = crate::multiply(&a, &a, s).unwrap();
        crate::eval([&d]).unwrap();
        assert_eq!(d.to_vec::<f32>().unwrap()[n as usize - 1], 1.0);
        assert!(ctx.pool().groups.binding(&arena) <= before);
    }
}
