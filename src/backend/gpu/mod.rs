//! The GPU backend: turns one node into dispatches on its stream's command batch. Builds each
//! kernel's `info` table (shapes, strides, offsets) and grid; packed outputs that a kernel cannot
//! write per element (reductions, matmul, windows) go through a widened temporary and a cast.

pub(crate) mod context;
pub mod kernels;
pub(crate) mod pool;
mod sort;

use crate::array::Node;
use crate::backend::{Data, Storage, dense};
use crate::dtype::{Domain, Dtype};
use crate::error::{Error, Result};
use crate::primitive::{ArgReduceOp, Primitive, ReduceOp};
use crate::shape::{row_major_strides, size_of};
use context::{GpuBuffer, GpuContext};
use kernels::{KernelKey, Layout, ReduceShape, WG, per_word, reduce_key, widen};
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

    /// One elementwise dispatch over `shape` (unary, cast, binary, where, window copies).
    fn elementwise(
        &self,
        key_of: impl Fn(Layout) -> KernelKey,
        shape: &[i32],
        inputs: &[&Data],
        out_dtype: Dtype,
    ) -> Result<Data> {
        let n = size_of(shape);
        self.check_index_range(n)?;
        let out = self.out(out_dtype, n)?;
        // Quads (see kernels::quad_broadcast_loader): every input dense or a broadcast that
        // reads whole quads or one element per quad.
        let quad_inputs: Option<Vec<(u32, u32)>> = if n % 4 == 0 {
            inputs.iter().map(|d| quad_pattern(shape, d)).collect()
        } else {
            None
        };
        let layout = if quad_inputs.is_some() {
            Layout::Vec4
        } else if inputs.iter().all(|d| d.is_contiguous(shape)) {
            Layout::Contig
        } else {
            Layout::Strided
        };
        let mut info = vec![n as u32];
        if layout == Layout::Strided {
            info.push(shape.len() as u32);
            info.extend(shape.iter().map(|&d| d as u32));
            for d in inputs {
                let mut strides: Vec<u32> = d.strides.iter().map(|&s| s as i32 as u32).collect();
                // Inputs that are a repeated row-major block (dense: one block; a broadcast
                // bias: a trailing block repeated) skip the per-dimension division (index.wgsl).
                let block = repeated_block(shape, &d.strides).filter(|_| d.offset < 1 << 30);
                let offset = match block {
                    Some(period) if period == n => d.offset as u32 | INDEX_DENSE,
                    Some(period) => {
                        strides[0] = period as u32;
                        d.offset as u32 | INDEX_PERIODIC
                    }
                    None => d.offset as u32,
                };
                info.extend(strides);
                info.push(offset);
            }
        } else {
            // Contiguous and quad layouts: the offsets, then (quads) each (period, repeat).
            info.push(0);
            info.extend(inputs.iter().map(|d| d.offset as u32));
            for &(period, repeat) in quad_inputs.iter().flatten() {
                info.extend([period, repeat]);
            }
        }
        let key = key_of(layout);
        let words = if layout == Layout::Vec4 {
            (n / 4) as u64
        } else {
            n.div_ceil(per_word(out_dtype, self.ctx.native_f16) as usize) as u64
        };
        let mut bufs: Vec<&Arc<GpuBuffer>> =
            inputs.iter().map(|d| buf(d)).collect::<Result<_>>()?;
        bufs.push(&out);
        self.ctx.dispatch(
            self.stream,
            &key,
            &bufs,
            &info,
            grid(words.div_ceil(WG as u64), self.max_groups()),
        )?;
        Ok(self.data(out, out_dtype, shape))
    }

    fn cast(&self, shape: &[i32], x: &Data, from: Dtype, to: Dtype) -> Result<Data> {
        self.elementwise(
            |layout| KernelKey::Cast { from, to, layout },
            shape,
            &[x],
            to,
        )
    }

    fn creation(
        &self,
        key: KernelKey,
        n: usize,
        c0: u32,
        c1: u32,
        dtype: Dtype,
        shape: &[i32],
    ) -> Result<Data> {
        self.check_index_range(n)?;
        let out = self.out(dtype, n)?;
        let words = n.div_ceil(per_word(dtype, self.ctx.native_f16) as usize) as u64;
        self.ctx.dispatch(
            self.stream,
            &key,
            &[&out],
            &[n as u32, c0, c1],
            grid(words.div_ceil(WG as u64), self.max_groups()),
        )?;
        Ok(self.data(out, dtype, shape))
    }

    /// Reduction of `x` over `axes`; output dense with the node's (keepdims) shape.
    fn reduce(
        &self,
        op: ReduceOp,
        in_shape: &[i32],
        x: &Data,
        axes: &[usize],
        out_shape: &[i32],
        out_dtype: Dtype,
    ) -> Result<Data> {
        let in_dtype = x.storage.dtype;
        let nf16 = self.ctx.native_f16;
        let kept: Vec<usize> = (0..in_shape.len()).filter(|a| !axes.contains(a)).collect();
        let n_out: usize = kept.iter().map(|&a| in_shape[a] as usize).product();
        let rsize: usize = axes.iter().map(|&a| in_shape[a] as usize).product();
        self.check_index_range(n_out.max(rsize))?;
        let mut layout = Vec::new();
        layout.push(kept.len() as u32);
        layout.extend(kept.iter().map(|&a| in_shape[a] as u32));
        layout.extend(kept.iter().map(|&a| x.strides[a] as i32 as u32));
        // Reduced axes as (size, stride) runs, merging neighbours that are contiguous with each
        // other (a row-major trailing block becomes one run, which the kernel indexes directly).
        let mut runs: Vec<(i64, i64)> = Vec::new();
        for &a in axes {
            let (d, st) = (in_shape[a] as i64, x.strides[a] as i64);
            match runs.last_mut() {
                Some(last) if last.1 == d * st => *last = (last.0 * d, st),
                _ => runs.push((d, st)),
            }
        }
        layout.push(runs.len() as u32);
        layout.extend(runs.iter().map(|&(d, _)| d as u32));
        layout.extend(runs.iter().map(|&(_, st)| st as i32 as u32));
        layout.push(x.offset as u32);
        let per_thread = rsize <= 32;
        // A few long rows: first pass reduces chunks into partials, second pass the partials.
        let n_chunks = if !per_thread && n_out < 256 && rsize > 1 << 16 {
            rsize.div_ceil(1 << 14).min(4096)
        } else {
            1
        };
        // Chunks of whole quads when the reduced run is dense (see ReduceShape::Quads).
        let chunk_len = rsize.div_ceil(n_chunks).next_multiple_of(4).max(1);
        let quads = !per_thread
            && runs.len() == 1
            && runs[0].1 == 1
            && rsize % 4 == 0
            && x.offset % 4 == 0
            && kept
                .iter()
                .all(|&a| in_shape[a] == 1 || x.strides[a] % 4 == 0);
        let shape = match (per_thread, quads) {
            (true, _) => ReduceShape::Thread,
            (false, true) => ReduceShape::Quads,
            (false, false) => ReduceShape::Workgroup,
        };
        let key = reduce_key(op, in_dtype, shape, nf16);
        let acc = key.out_dtype();
        let partial = self.out(acc, n_out * n_chunks)?;
        let mut info = vec![
            n_out as u32,
            rsize as u32,
            n_chunks as u32,
            chunk_len as u32,
        ];
        info.extend(&layout);
        let groups = if per_thread {
            (n_out as u64).div_ceil(WG as u64)
        } else {
            (n_out * n_chunks) as u64
        };
        self.ctx.dispatch(
            self.stream,
            &key,
            &[buf(x)?, &partial],
            &info,
            grid(groups, self.max_groups()),
        )?;
        let mut result = self.data(partial, acc, &[n_out as i32, n_chunks as i32]);
        if n_chunks > 1 {
            let op2 = match op {
                ReduceOp::All => ReduceOp::Min,
                ReduceOp::Any => ReduceOp::Max,
                o => o,
            };
            result = self.reduce(
                op2,
                &[n_out as i32, n_chunks as i32],
                &result,
                &[1],
                &[n_out as i32, 1],
                acc,
            )?;
        }
        let result = Data {
            strides: row_major_strides(out_shape),
            ..result
        };
        if acc != out_dtype {
            return self.cast(out_shape, &result, acc, out_dtype);
        }
        Ok(result)
    }

    fn arg_reduce(
        &self,
        op: ArgReduceOp,
        in_shape: &[i32],
        x: &Data,
        axis: usize,
        out_shape: &[i32],
    ) -> Result<Data> {
        let kept: Vec<usize> = (0..in_shape.len()).filter(|&a| a != axis).collect();
        let n_out: usize = kept.iter().map(|&a| in_shape[a] as usize).product();
        self.check_index_range(size_of(in_shape))?;
        let out = self.out(Dtype::Uint32, n_out)?;
        let mut info = vec![
            n_out as u32,
            in_shape[axis] as u32,
            x.strides[axis] as i32 as u32,
            x.offset as u32,
        ];
        info.push(kept.len() as u32);
        info.extend(kept.iter().map(|&a| in_shape[a] as u32));
        info.extend(kept.iter().map(|&a| x.strides[a] as i32 as u32));
        let key = KernelKey::ArgReduce {
            op,
            dtype: x.storage.dtype,
        };
        self.ctx.dispatch(
            self.stream,
            &key,
            &[buf(x)?, &out],
            &info,
            grid(n_out as u64, self.max_groups()),
        )?;
        Ok(self.data(out, Dtype::Uint32, out_shape))
    }

    fn matmul(
        &self,
        sa: &[i32],
        a: &Data,
        sb: &[i32],
        b: &Data,
        out_shape: &[i32],
        out_dtype: Dtype,
    ) -> Result<Data> {
        let nd = sa.len();
        let (m, k, n) = (sa[nd - 2], sa[nd - 1], sb[nd - 1]);
        let batch: usize = sa[..nd - 2].iter().map(|&d| d as usize).product();
        self.check_index_range(size_of(out_shape).max(size_of(sa)).max(size_of(sb)))?;
        if batch > self.max_groups() as usize {
            return Err(Error::TooLarge {
                op: "matmul",
                msg: format!(
                    "batch of {batch} exceeds {} on this GPU.",
                    self.max_groups()
                ),
            });
        }
        // The vec4 kernel reads rows of A and B as vec4s and writes C as vec4s; the cooperative
        // kernel reads them likewise.
        let bn = nd - 2;
        let aligned = |d: &Data| {
            d.strides[nd - 1] == 1
                && d.offset % 4 == 0
                && d.strides[..nd - 1].iter().all(|&s| s % 4 == 0)
        };
        let vec4 = k % 4 == 0 && n % 4 == 0 && aligned(a) && aligned(b);
        // Tensor cores where the device has them: the cooperative kernel reads the same quads
        // as the vec4 kernel (f16 only; it writes f16, accumulating in f32).
        let coop = self
            .ctx
            .coop
            .filter(|_| vec4 && a.storage.dtype == Dtype::Float16);
        let key = match coop {
            Some(shape) => kernels::matmul_coop_key(shape.variant),
            None => kernels::matmul_key(a.storage.dtype, self.ctx.native_f16, vec4),
        };
        // Rows and columns of C per workgroup.
        let (tile_m, tile_n) = match key {
            KernelKey::MatmulCoop { variant, .. } => {
                let t = variant.tiling();
                (t.block_m(), t.block_n())
            }
            KernelKey::Matmul { vec4: true, .. } => (128, 128),
            _ => (64, 64),
        };
        let acc = key.out_dtype();
        let out = self.out(acc, size_of(out_shape))?;
        let mut info = vec![m as u32, n as u32, k as u32];
        for s in [
            a.strides[nd - 2],
            a.strides[nd - 1],
            b.strides[nd - 2],
            b.strides[nd - 1],
        ] {
            info.push(s as i32 as u32);
        }
        info.push(bn as u32);
        info.extend(sa[..bn].iter().map(|&d| d as u32));
        info.extend(a.strides[..bn].iter().map(|&s| s as i32 as u32));
        info.extend(b.strides[..bn].iter().map(|&s| s as i32 as u32));
        info.push(a.offset as u32);
        info.push(b.offset as u32);
        let groups = [
            (n as u32).div_ceil(tile_n),
            (m as u32).div_ceil(tile_m),
            batch as u32,
        ];
        self.ctx
            .dispatch(self.stream, &key, &[buf(a)?, buf(b)?, &out], &info, groups)?;
        let result = self.data(out, acc, out_shape);
        if acc != out_dtype {
            return self.cast(out_shape, &result, acc, out_dtype);
        }
        Ok(result)
    }

    /// `d` itself when it is dense from the start of its buffer, else a dense copy (for kernels
    /// that index their input directly).
    fn dense_from_start(&self, shape: &[i32], d: &Data) -> Result<Data> {
        if d.is_contiguous(shape) && d.offset == 0 {
            return Ok(d.clone());
        }
        let dt = d.storage.dtype;
        self.cast(shape, d, dt, dt)
    }

    /// MLX's Threefry bits for every key in `keys` (dense u32 pairs).
    fn random_bits(
        &self,
        keys: &Data,
        width: u32,
        per_key: usize,
        n: usize,
        dtype: Dtype,
        shape: &[i32],
    ) -> Result<Data> {
        self.check_index_range(n.max(per_key * width as usize))?;
        let out = self.out(dtype, n)?;
        let words = (per_key as u64 * width as u64).div_ceil(4);
        let h = words.div_ceil(2);
        let n_keys = if per_key == 0 { 0 } else { n / per_key } as u64;
        let mut info = vec![
            n as u32,
            per_key.max(1) as u32,
            width,
            words as u32,
            h as u32,
        ];
        // 32-bit unpacked outputs: one hash per invocation gives two words.
        let (key, groups) = if width == 4 && kernels::unpacked(dtype, self.ctx.native_f16) {
            info.push((n_keys * h) as u32);
            (
                KernelKey::RandomPairs { out: dtype },
                (n_keys * h).div_ceil(WG as u64),
            )
        } else {
            let key = KernelKey::RandomBits {
                width: width as u8,
                out: dtype,
            };
            (
                key,
                (n as u64)
                    .div_ceil(per_word(dtype, self.ctx.native_f16) as u64)
                    .div_ceil(WG as u64),
            )
        };
        self.ctx.dispatch(
            self.stream,
            &key,
            &[buf(keys)?, &out],
            &info,
            grid(groups, self.max_groups()),
        )?;
        Ok(self.data(out, dtype, shape))
    }

    /// Joins inputs along `axis` by copying each into its window of the output.
    fn concatenate(
        &self,
        inputs: &[(Vec<i32>, Data)],
        axis: usize,
        out_shape: &[i32],
        dtype: Dtype,
    ) -> Result<Data> {
        let wide = widen(dtype, self.ctx.native_f16);
        let n = size_of(out_shape);
        self.check_index_range(n)?;
        let out = self.out(wide, n)?;
        let out_strides = row_major_strides(out_shape);
        let mut start = 0usize;
        for (s, d) in inputs {
            let m = size_of(s);
            if m > 0 {
                let key = KernelKey::Window { dtype: wide };
                let src = if d.storage.dtype != wide {
                    self.cast(s, d, d.storage.dtype, wide)?
                } else {
                    d.clone()
                };
                let mut info = vec![m as u32, s.len() as u32];
                info.extend(s.iter().map(|&x| x as u32));
                info.extend(src.strides.iter().map(|&x| x as i32 as u32));
                info.push(src.offset as u32);
                info.extend(out_strides.iter().map(|&x| x as i32 as u32));
                info.push((start as isize * out_strides[axis]) as u32);
                self.ctx.dispatch(
                    self.stream,
                    &key,
                    &[buf(&src)?, &out],
                    &info,
                    grid((m as u64).div_ceil(WG as u64), self.max_groups()),
                )?;
            }
            start += s[axis] as usize;
        }
        let result = self.data(out, wide, out_shape);
        if wide != dtype {
            return self.cast(out_shape, &result, wide, dtype);
        }
        Ok(result)
    }
}

/// Per input axis: `j + 1` when row `j` of the stacked indices indexes it, else 0.
fn index_slots(axes: &[usize], ndim: usize) -> Vec<u32> {
    let mut slots = vec![0u32; ndim];
    for (j, &ax) in axes.iter().enumerate() {
        slots[ax] = j as u32 + 1;
    }
    slots
}

impl Gpu<'_> {
    /// MLX's gather: `a` read strided, the stacked indices densely.
    #[allow(clippy::too_many_arguments)]
    fn gather(
        &self,
        sa: &[i32],
        a: &Data,
        si: &[i32],
        i: &Data,
        axes: &[usize],
        slice_sizes: &[i32],
        n: usize,
        shape: &[i32],
        dt: Dtype,
    ) -> Result<Data> {
        let idx = self.dense_from_start(si, i)?;
        self.check_index_range(n.max(size_of(sa)).max(size_of(si)))?;
        let out = self.out(dt, n)?;
        let slice_total = size_of(slice_sizes);
        let m = n.checked_div(slice_total).unwrap_or(0);
        let mut info = vec![
            n as u32,
            sa.len() as u32,
            slice_total as u32,
            m as u32,
            a.offset as u32,
        ];
        info.extend(sa.iter().map(|&d| d as u32));
        info.extend(a.strides.iter().map(|&s| s as i32 as u32));
        info.extend(slice_sizes.iter().map(|&d| d as u32));
        info.extend(index_slots(axes, sa.len()));
        let words = n.div_ceil(per_word(dt, self.ctx.native_f16) as usize) as u64;
        self.ctx.dispatch(
            self.stream,
            &KernelKey::Gather { dtype: dt },
            &[buf(a)?, buf(&idx)?, &out],
            &info,
            grid(words.div_ceil(WG as u64), self.max_groups()),
        )?;
        Ok(self.data(out, dt, shape))
    }

    /// MLX's scatter: a dense copy of `a`, then one invocation per update element.
    #[allow(clippy::too_many_arguments)]
    fn scatter(
        &self,
        sa: &[i32],
        a: &Data,
        si: &[i32],
        i: &Data,
        su: &[i32],
        u: &Data,
        axes: &[usize],
        op: Option<crate::primitive::BinaryOp>,
        dt: Dtype,
    ) -> Result<Data> {
        let result = self.cast(sa, a, a.storage.dtype, dt)?;
        let n_upd = size_of(su);
        if n_upd == 0 || size_of(sa) == 0 {
            return Ok(result);
        }
        self.check_index_range(n_upd.max(size_of(sa)).max(size_of(si)))?;
        let idx = self.dense_from_start(si, i)?;
        let upd = self.dense_from_start(su, u)?;
        let slice = &su[su.len() - sa.len()..];
        let slice_total = size_of(slice);
        let mut info = vec![
            n_upd as u32,
            sa.len() as u32,
            slice_total as u32,
            (n_upd / slice_total) as u32,
        ];
        info.extend(sa.iter().map(|&d| d as u32));
        info.extend(slice.iter().map(|&d| d as u32));
        info.extend(index_slots(axes, sa.len()));
        self.ctx.dispatch(
            self.stream,
            &KernelKey::Scatter { op, dtype: dt },
            &[buf(&idx)?, buf(&upd)?, buf(&result)?],
            &info,
            grid((n_upd as u64).div_ceil(WG as u64), self.max_groups()),
        )?;
        Ok(result)
    }
}

/// Bits of `v` in the compute type of `d` (for creation kernels' constants).
fn const_bits(v: f64, d: Domain) -> u32 {
    match d {
        Domain::Float => (v as f32).to_bits(),
        Domain::Int | Domain::Uint => v as i64 as u32,
        Domain::Bool => (v != 0.0) as u32,
    }
}

/// Records `node` on its stream of GPU `index`; inputs are already on that GPU.
pub(crate) fn run(node: &Node, index: usize, inputs: &[(Vec<i32>, Data)]) -> Result<Data> {
    let ctx = context::context(index)?;
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
        Primitive::Full(v) => g.creation(
            KernelKey::Full { dtype: dt },
            n,
            const_bits(*v, dt.domain()),
            0,
            dt,
            shape,
        ),
        Primitive::Arange { start, step } => {
            let (a, b) = match dt.domain() {
                Domain::Float => ((*start as f32).to_bits(), (*step as f32).to_bits()),
                _ => (*start as i64 as u32, *step as i64 as u32),
            };
            g.creation(KernelKey::Arange { dtype: dt }, n, a, b, dt, shape)
        }
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
                |layout| KernelKey::Unary {
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
                |layout| KernelKey::Binary {
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
                |layout| KernelKey::Where { dtype: dt, layout },
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
            let dense = g.dense_from_start(s, d)?;
            g.check_index_range(n)?;
            let len = shape.last().copied().unwrap_or(1).max(1) as u32;
            let limits = &g.ctx.limits;
            let max_wg = limits
                .max_compute_invocations_per_workgroup
                .min(limits.max_compute_workgroup_size_x);
            let wg = kernels::softmax_workgroup(len, max_wg);
            let key = kernels::softmax_key(dt, g.ctx.native_f16, len % 4 == 0, wg);
            let acc = key.out_dtype();
            let out = g.out(acc, n)?;
            let rows = n as u32 / len;
            g.ctx.dispatch(
                g.stream,
                &key,
                &[buf(&dense)?, &out],
                &[rows, len],
                grid(rows as u64, g.max_groups()),
            )?;
            let result = g.data(out, acc, shape);
            if acc != dt {
                return g.cast(shape, &result, acc, dt);
            }
            Ok(result)
        }
        Primitive::Take { axis } => {
            let ((sa, a), (si, i)) = (input(0)?, input(1)?);
            let idx = g.dense_from_start(si, i)?;
            g.check_index_range(n.max(size_of(sa)))?;
            let out = g.out(dt, n)?;
            let mut info = vec![n as u32, shape.len() as u32];
            info.extend(shape.iter().map(|&d| d as u32));
            info.extend(a.strides.iter().map(|&s| s as i32 as u32));
            info.push(a.offset as u32);
            info.push(*axis as u32);
            let words = n.div_ceil(per_word(dt, g.ctx.native_f16) as usize) as u64;
            let key = KernelKey::Take { dtype: dt };
            g.ctx.dispatch(
                g.stream,
                &key,
                &[buf(a)?, buf(&idx)?, &out],
                &info,
                grid(words.div_ceil(WG as u64), g.max_groups()),
            )?;
            Ok(g.data(out, dt, shape))
        }
        Primitive::Gather { axes, slice_sizes } => {
            let ((sa, a), (si, i)) = (input(0)?, input(1)?);
            g.gather(sa, a, si, i, axes, slice_sizes, n, shape, dt)
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
        Primitive::Constant
        | Primitive::Transpose(_)
        | Primitive::Broadcast
        | Primitive::Slice { .. }
        | Primitive::StopGradient
        | Primitive::Custom { .. }
        | Primitive::AsStrided { .. } => Err(Error::Backend {
            op: node.prim.name(),
            msg: "invariant: views and constants are resolved before the GPU backend".into(),
        }),
    }
}

/// Offset-word flags of a strided input in an elementwise info table (see index.wgsl): element
/// `i` is at `offset + i` (dense) or `offset + i % period` (periodic, period in the first stride
/// slot). Offsets stay below 2^30 (indices are checked to fit 32-bit signed arithmetic).
const INDEX_DENSE: u32 = 0x8000_0000;
const INDEX_PERIODIC: u32 = 0xC000_0000;

/// How a quad-layout kernel reads `d` over `shape` (n a multiple of 4): `(0, 0)` dense (offset a
/// multiple of 4), or `(period, repeat)` with output element i reading `offset + (i / repeat) %
/// period`: trailing broadcast axes make `repeat`, the row-major axes before them `period`, and
/// every axis before those must be broadcast. Usable when repeat is a multiple of 4 (one element
/// per quad), or repeat is 1 and period and offset are multiples of 4 (whole quads).
fn quad_pattern(shape: &[i32], d: &Data) -> Option<(u32, u32)> {
    let aligned = d.offset % 4 == 0;
    if d.is_contiguous(shape) {
        return aligned.then_some((0, 0));
    }
    let mut axis = shape.len();
    let mut repeat: usize = 1;
    while axis > 0 && (shape[axis - 1] == 1 || d.strides[axis - 1] == 0) {
        repeat *= shape[axis - 1] as usize;
        axis -= 1;
    }
    let period = if axis == 0 {
        1
    } else {
        repeated_block(&shape[..axis], &d.strides[..axis])?
    };
    let ok = repeat % 4 == 0 || (repeat == 1 && period % 4 == 0 && aligned);
    (ok && d.offset < 1 << 30).then_some((period as u32, repeat as u32))
}

/// `Some(period)` when a view of `shape` with `strides` reads element `i` at `i % period`:
/// a row-major trailing block (from some axis on) repeated over leading axes of stride 0 (or
/// size 1). `period == size` means dense. `None` for any other layout, or for an empty array.
fn repeated_block(shape: &[i32], strides: &[isize]) -> Option<usize> {
    if shape.is_empty() || shape.contains(&0) {
        return None;
    }
    let mut expect: isize = 1;
    let mut period: usize = 1;
    let mut axis = shape.len();
    // Walk from the last axis while the strides are row-major.
    while axis > 0 {
        let d = shape[axis - 1] as isize;
        if d != 1 && strides[axis - 1] != expect {
            break;
        }
        expect *= d;
        period *= d as usize;
        axis -= 1;
    }
    // The rest must be broadcast (stride 0) or size 1.
    if (0..axis).all(|a| shape[a] == 1 || strides[a] == 0) {
        Some(period)
    } else {
        None
    }
}
