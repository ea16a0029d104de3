//! The GPU backend: turns one node into dispatches on its stream's command batch. Each kernel
//! family's host side (its `info` table, grid and dispatch sequence) lives beside its key and
//! prelude in `kernels/<family>.rs`; this file holds what they share (the `Gpu` recording handle,
//! the grid) and the one match over `Primitive` that picks a family. Packed outputs that a kernel
//! cannot write per element (reductions, matmul, windows) go through a widened temporary and a
//! cast.

mod adapters;
mod batch;
pub(crate) mod buffer;
pub(crate) mod context;
mod groups;
pub mod kernels;
mod lost;
pub(crate) mod pool;
pub(crate) mod profile;

use crate::array::Node;
use crate::backend::{Data, Storage, dense};
use crate::dtype::Dtype;
use crate::error::{Error, Result};
use crate::primitive::Primitive;
use crate::shape::{row_major_strides, size_of};
use context::{GpuBuffer, GpuContext};
use kernels::{ElementwiseKey, KernelKey};
use std::sync::Arc;

/// Workgroup grid for `groups` workgroups: 1-D while it fits, else 2-D (kernels linearise
/// `wid.x + wid.y * nwg.x` and return past the end). The rows are balanced, so at most
/// `rows - 1` workgroups idle: `[max, ceil(groups / max)]` left up to a whole row of `max`
/// idle (2^18 groups launched 2^18 + 65,531, a quarter more than needed).
fn grid(groups: u64, max: u32) -> [u32; 3] {
    if groups <= max as u64 {
        [groups as u32, 1, 1]
    } else {
        let rows = groups.div_ceil(max as u64);
        [groups.div_ceil(rows) as u32, rows as u32, 1]
    }
}

/// The handle family code records through: one context, one stream, the op's name for errors.
struct Gpu<'a> {
    ctx: &'a GpuContext,
    stream: usize,
    op: &'static str,
}

fn buf(d: &Data) -> Result<&Arc<GpuBuffer>> {
    d.storage.as_gpu().ok_or_else(|| Error::Backend {
        op: "gpu",
        msg: "invariant: GPU kernel given host memory".into(),
    })
}

impl Gpu<'_> {
    fn max_groups(&self) -> u32 {
        self.ctx.limits.max_compute_workgroups_per_dimension
    }

    fn out(&self, dtype: Dtype, n: usize) -> Result<Arc<GpuBuffer>> {
        self.ctx.alloc(self.op, (n * dtype.size()) as u64)
    }

    fn data(&self, b: Arc<GpuBuffer>, dtype: Dtype, shape: &[i32]) -> Data {
        dense(Storage::gpu(self.ctx.index, dtype, b), shape)
    }

    fn check_index_range(&self, n: usize) -> Result<()> {
        if n > u32::MAX as usize / 2 {
            return Err(Error::TooLarge {
                op: self.op,
                msg: format!("{n} elements exceed the GPU kernels' 32-bit indexing."),
            });
        }
        Ok(())
    }

    /// Dispatches `key` with one invocation per output word of `n` elements of `dtype` (the
    /// kernels built on index.wgsl's word loop).
    fn dispatch_words(
        &self,
        key: KernelKey,
        buffers: &[&Arc<GpuBuffer>],
        info: &[u32],
        n: usize,
        dtype: Dtype,
    ) -> Result<()> {
        let words = n.div_ceil(kernels::per_word(dtype, self.ctx.native_f16) as usize) as u64;
        let groups = grid(words.div_ceil(kernels::WG as u64), self.max_groups());
        self.ctx.dispatch(self.stream, &key, buffers, info, groups)
    }

    /// `d` itself when it is dense from the start of its buffer, else a dense copy (for kernels
    /// that index their input directly).
    pub(in crate::backend::gpu) fn dense_from_start(
        &self,
        shape: &[i32],
        d: &Data,
    ) -> Result<Data> {
        if d.is_contiguous(shape) && d.offset == 0 {
            return Ok(d.clone());
        }
        let dt = d.storage.dtype;
        self.cast(shape, d, dt, dt)
    }
}

impl Gpu<'_> {
    /// Rows along the last axis of `shape`: (number of rows, row length, the row's stride and
    /// the view's offset, and the kept axes `[kn, kept_shape[kn], kept_strides[kn]]`), the parts
    /// of the scan and sort tables.
    fn rows(shape: &[i32], x: &Data) -> Rows {
        let nd = shape.len();
        let len = shape.last().map_or(1, |&d| d as usize);
        let n_rows = size_of(shape).checked_div(len).unwrap_or(0);
        let stride = x.strides.last().copied().unwrap_or(0);
        let kn = nd.saturating_sub(1);
        let mut kept = vec![kn as u32];
        kept.extend(shape[..kn].iter().map(|&d| d as u32));
        kept.extend(x.strides[..kn].iter().map(|&s| s as i32 as u32));
        Rows {
            n_rows,
            len,
            stride: stride as i32 as u32,
            offset: x.offset as u32,
            kept,
        }
    }
}

/// The rows along the last axis of a view (see [`Gpu::rows`]).
struct Rows {
    pub n_rows: usize,
    pub len: usize,
    /// The last axis's stride (i32 bits).
    pub stride: u32,
    /// The view's offset (i32 bits).
    pub offset: u32,
    /// `[kn, kept_shape[kn], kept_strides[kn]]` (strides as i32 bits).
    pub kept: Vec<u32>,
}

/// Records `node` on its stream of GPU `index`; inputs are already on that GPU.
pub(crate) fn run(node: &Node, index: usize, inputs: &[(Vec<i32>, Data)]) -> Result<Data> {
    let ctx = context::context(index)?;
    ctx.lost.check(node.prim.name())?;
    let g = Gpu {
        ctx,
        stream: node.stream.index,
        op: node.prim.name(),
    };
    let shape = &node.shape[..];
    let dt = node.dtype;
    let n = size_of(shape);
    let input = |i: usize| -> Result<&(Vec<i32>, Data)> {
        inputs.get(i).ok_or_else(|| Error::Backend {
            op: node.prim.name(),
            msg: format!("invariant: missing input {i}"),
        })
    };
    match &node.prim {
        Primitive::Full(v) => g.full(*v, dt, shape),
        Primitive::Arange { start, step } => g.arange(*start, *step, dt, shape),
        Primitive::AsType | Primitive::Copy | Primitive::Reshape => {
            let (s, d) = input(0)?;
            // A reshape that reached here needs a dense copy first; shapes have equal sizes.
            let _ = s;
            let src_shape: &[i32] = if matches!(node.prim, Primitive::Reshape) {
                &input(0)?.0
            } else {
                shape
            };
            let copied = g.cast(src_shape, d, d.storage.dtype, dt)?;
            Ok(Data {
                strides: row_major_strides(shape),
                ..copied
            })
        }
        Primitive::Unary(op) => {
            let d = &input(0)?.1;
            g.elementwise(
                |layout| ElementwiseKey::Unary {
                    op: *op,
                    dtype: dt,
                    layout,
                },
                shape,
                &[d],
                dt,
            )
        }
        Primitive::Binary(op) => {
            let (a, b) = (&input(0)?.1, &input(1)?.1);
            let in_dt = a.storage.dtype;
            g.elementwise(
                |layout| ElementwiseKey::Binary {
                    op: *op,
                    dtype: in_dt,
                    layout,
                },
                shape,
                &[a, b],
                dt,
            )
        }
        Primitive::Where => {
            let (c, x, y) = (&input(0)?.1, &input(1)?.1, &input(2)?.1);
            g.elementwise(
                |layout| ElementwiseKey::Where { dtype: dt, layout },
                shape,
                &[c, x, y],
                dt,
            )
        }
        Primitive::Reduce { op, axes } => {
            let (s, d) = input(0)?;
            g.reduce(*op, s, d, axes, shape, dt)
        }
        Primitive::ArgReduce { op, axis } => {
            let (s, d) = input(0)?;
            g.arg_reduce(*op, s, d, *axis, shape)
        }
        Primitive::Matmul => {
            let ((sa, a), (sb, b)) = (input(0)?, input(1)?);
            g.matmul(sa, a, sb, b, shape, dt)
        }
        Primitive::Convolution(p) => {
            let ((sx, x), (sw, w)) = (input(0)?, input(1)?);
            g.conv(p, sx, x, sw, w, shape, dt)
        }
        Primitive::Concatenate { axis } => g.concatenate(inputs, *axis, shape, dt),
        Primitive::RandomBits { width, per_key } => {
            let (s, d) = input(0)?;
            // The kernel reads key pairs densely from the start of their buffer.
            let keys = g.dense_from_start(s, d)?;
            g.random_bits(&keys, *width, *per_key, n, dt, shape)
        }
        Primitive::ArgSort => {
            let (s, d) = input(0)?;
            let idx = g.sort_indices(s, d)?;
            Ok(g.data(idx, Dtype::Uint32, shape))
        }
        Primitive::Softmax => {
            let (s, d) = input(0)?;
            g.softmax(s, d, dt)
        }
        Primitive::Take { axis } => {
            let ((sa, a), (si, i)) = (input(0)?, input(1)?);
            g.take((sa, a), (si, i), *axis, shape, dt)
        }
        Primitive::Gather { axes, slice_sizes } => {
            let ((sa, a), (si, i)) = (input(0)?, input(1)?);
            g.gather(sa, a, si, i, axes, slice_sizes, shape, dt)
        }
        Primitive::Scatter { op, axes } => {
            let ((sa, a), (si, i), (su, u)) = (input(0)?, input(1)?, input(2)?);
            g.scatter(sa, a, si, i, su, u, axes, *op, dt)
        }
        Primitive::Scan {
            op,
            reverse,
            inclusive,
        } => {
            let (s, d) = input(0)?;
            g.scan(*op, *reverse, *inclusive, s, d, dt)
        }
        Primitive::Sort => {
            let (s, d) = input(0)?;
            g.sort_values(s, d)
        }
        Primitive::SearchSorted { right } => {
            let ((ss, sd), (vs, vd)) = (input(0)?, input(1)?);
            g.search_sorted(ss, sd, vs, vd, *right)
        }
        Primitive::RmsNorm { eps, has_weight } => {
            g.norm(inputs, false, *has_weight, false, *eps, dt)
        }
        Primitive::LayerNorm {
            eps,
            has_weight,
            has_bias,
        } => g.norm(inputs, true, *has_weight, *has_bias, *eps, dt),
        Primitive::Rope {
            dims,
            traditional,
            base,
            scale,
            offset,
            inverse,
        } => g.rope(
            inputs,
            *dims,
            *traditional,
            *base,
            *scale,
            *offset,
            *inverse,
            dt,
        ),
        Primitive::Attention { scale, causal } => g.attention(inputs, *scale, *causal, shape, dt),
        Primitive::Fused(expr) => g.fused(expr, shape, inputs),
        Primitive::FusedReduce(red) => g.fused_reduce(red, inputs),
        Primitive::CustomKernel { launch, index } => g.custom_kernel(&launch.0, *index, inputs),
        Primitive::Constant
        | Primitive::Transpose(_)
        | Primitive::Broadcast
        | Primitive::Slice { .. }
        | Primitive::StopGradient
        | Primitive::Custom { .. }
        | Primitive::AsStrided { .. }
        | Primitive::Collective { .. } => Err(Error::Backend {
            op: node.prim.name(),
            msg: "invariant: views, constants and collectives are resolved before the GPU backend"
                .into(),
        }),
    }
}

#[cfg(test)]
mod grid_tests {
    use super::grid;

    #[test]
    fn grid_covers_every_group_with_less_than_a_row_idle() {
        for (groups, max) in [
            (1u64, 65535),
            (65535, 65535),
            (65536, 65535),
            (1 << 18, 65535),
            (1 << 22, 65535),
            (1_000_003, 4096),
            (7, 3),
        ] {
            let [x, y, z] = grid(groups, max);
            assert_eq!(z, 1);
            assert!(x <= max && y <= max, "{groups}: {x} x {y}");
            let launched = x as u64 * y as u64;
            assert!(launched >= groups, "{groups}: {x} x {y} misses groups");
            assert!(
                launched - groups < y as u64,
                "{groups}: {x} x {y} idles too many"
            );
        }
    }
}
