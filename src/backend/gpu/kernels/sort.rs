//! The sort family (`shaders/sort.wgsl`: tile sort, merge passes, value gather, searchsorted along
//! the last axis): its key, prelude (sort keys, per-pass bindings), `info` table and the host code
//! that sequences the passes.

use super::slots::{input_slot, output_slot, short};
use super::{Family, INDEX, KernelKey, WG, info_words, write_info};
use crate::backend::Data;
use crate::backend::gpu::context::GpuBuffer;
use crate::backend::gpu::{Gpu, Rows, buf, grid};
use crate::dtype::{Domain, Dtype};
use crate::error::Result;
use crate::shape::size_of;
use std::fmt::{self, Write};
use std::sync::Arc;

const SORT: &str = include_str!("../../../../shaders/sort.wgsl");
/// Order-preserving u32 key of f32 bits.
const FLOAT_KEY: &str = include_str!("../../../../shaders/float_key.wgsl");

/// One pass of the sort family over `dtype` (the merge pass moves u32 pairs only and is listed
/// with `dtype` uint32).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct SortKey {
    pub pass: SortPass,
    pub dtype: Dtype,
}

/// The passes of the sort family (entry points of `shaders/sort.wgsl`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum SortPass {
    /// Sorts tiles of (key, position) pairs in workgroup memory.
    Block,
    /// Merges sorted runs pairwise.
    Merge,
    /// Writes sorted values from sorted positions.
    Gather,
    /// searchsorted.
    Search,
}

info_words! {
    /// The sort `info` table (one module holds every pass, so the words are named per pass):
    /// `[n_rows (n_values for search), len, axis_stride, offset, p0, p1, kn, kept_shape[kn],
    /// kept_strides[kn]]` (stride, offset: i32 bits); block: p0 = rows_per_tile (0: a tile holds
    /// part of one row), p1 = tiles_per_row; merge: p0 = width, p1 = n; gather: p0 = n;
    /// search: p0 = right (0 or 1).
    mod info {
        N_ROWS = 0,
        LEN = 1,
        AXIS_STRIDE = 2,
        OFFSET = 3,
        ROWS_PER_TILE = 4,
        TILES_PER_ROW = 5,
        KEPT_NDIM = 6,
        MERGE_WIDTH = 4,
        MERGE_N = 5,
        GATHER_N = 4,
        SEARCH_N = 0,
        SEARCH_RIGHT = 4,
    }
}

impl fmt::Display for SortKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.entry(), short(self.dtype))
    }
}

impl Family for SortKey {
    fn entry(&self) -> &'static str {
        match self.pass {
            SortPass::Block => "sort_block",
            SortPass::Merge => "sort_merge",
            SortPass::Gather => "sort_gather",
            SortPass::Search => "sort_search",
        }
    }

    fn out_dtype(&self) -> Dtype {
        match self.pass {
            SortPass::Gather => self.dtype,
            SortPass::Block | SortPass::Merge | SortPass::Search => Dtype::Uint32,
        }
    }

    fn trusted(&self) -> bool {
        false
    }

    fn uses_f16(&self) -> bool {
        self.dtype == Dtype::Float16
    }

    fn prelude(&self, p: &mut String, native_f16: bool) -> &'static str {
        let SortKey { pass, dtype } = *self;
        write_info(p, info::NAMED);
        input_slot(p, "in0", dtype, native_f16);
        input_slot(p, "in1", dtype, native_f16);
        output_slot(p, dtype, native_f16);
        let key = match dtype.domain() {
            // NaN (any payload) last; -0.0 as 0.0; then the sign-flip that orders floats.
            Domain::Float => "wmx_float_key(bitcast<u32>(x))",
            Domain::Int => "bitcast<u32>(x) ^ 0x80000000u",
            Domain::Uint => "x",
            Domain::Bool => "select(0u, 1u, x)",
        };
        p.push_str(FLOAT_KEY);
        let _ = writeln!(p, "fn sort_key(x: C_IN0) -> u32 {{ return {key}; }}");
        // Bindings: the ones this pass uses first, in order, then the rest (unused).
        let order: [&str; 7] = match pass {
            SortPass::Block => [
                "in0", "keys_out", "idx_out", "in1", "keys_in", "idx_in", "out",
            ],
            SortPass::Merge => [
                "keys_in", "idx_in", "keys_out", "idx_out", "in0", "in1", "out",
            ],
            SortPass::Gather => [
                "in0", "idx_in", "out", "in1", "keys_in", "keys_out", "idx_out",
            ],
            SortPass::Search => [
                "in0", "in1", "idx_out", "keys_in", "idx_in", "keys_out", "out",
            ],
        };
        p.push_str("@group(0) @binding(0) var<storage, read> info: array<u32>;\n");
        for (i, name) in order.iter().enumerate() {
            let (access, ty) = match *name {
                "in0" => ("read", "S_IN0"),
                "in1" => ("read", "S_IN1"),
                "out" => ("read_write", "S_OUT"),
                "keys_in" | "idx_in" => ("read", "u32"),
                _ => ("read_write", "u32"),
            };
            let _ = writeln!(
                p,
                "@group(0) @binding({}) var<storage, {access}> {name}: array<{ty}>;",
                i + 1
            );
        }
        p.push_str(INDEX);
        SORT
    }

    fn all(_native_f16: bool) -> Vec<Self> {
        let mut keys = Vec::new();
        for dtype in Dtype::ALL {
            for pass in [SortPass::Block, SortPass::Gather, SortPass::Search] {
                keys.push(SortKey { pass, dtype });
            }
        }
        keys.push(SortKey {
            pass: SortPass::Merge,
            dtype: Dtype::Uint32,
        });
        keys
    }
}

/// The sort table's head `[n_rows, len, axis_stride, offset, p0, p1]` and kept axes.
fn sort_info(rows: &Rows, p0: u32, p1: u32) -> Vec<u32> {
    let mut info = vec![0u32; info::KEPT_NDIM];
    info[info::N_ROWS] = rows.n_rows as u32;
    info[info::LEN] = rows.len as u32;
    info[info::AXIS_STRIDE] = rows.stride;
    info[info::OFFSET] = rows.offset;
    info[info::ROWS_PER_TILE] = p0;
    info[info::TILES_PER_ROW] = p1;
    info.extend(&rows.kept);
    info
}

impl Gpu<'_> {
    /// Row-local indices (dense uint32) that stably sort each row along the last axis of `x`:
    /// tiles sorted in workgroup memory, then merge passes for rows longer than a tile.
    pub(in crate::backend::gpu) fn sort_indices(
        &self,
        shape: &[i32],
        x: &Data,
    ) -> Result<Arc<GpuBuffer>> {
        let n = size_of(shape);
        self.check_index_range(n)?;
        let dtype = x.storage.dtype;
        let tile = 4 * WG as usize;
        let rows = Self::rows(shape, x);
        let (n_rows, len) = (rows.n_rows, rows.len);
        let (rows_per_tile, tiles_per_row, groups) = if len <= tile {
            let r = tile / len.max(1);
            (r, 1, n_rows.div_ceil(r))
        } else {
            let t = len.div_ceil(tile);
            (0, t, n_rows * t)
        };
        let mut keys = self.out(Dtype::Uint32, n)?;
        let mut idx = self.out(Dtype::Uint32, n)?;
        let info = sort_info(&rows, rows_per_tile as u32, tiles_per_row as u32);
        self.ctx.dispatch(
            self.stream,
            &KernelKey::Sort(SortKey {
                pass: SortPass::Block,
                dtype,
            }),
            &[buf(x)?, &keys, &idx],
            &info,
            grid(groups as u64, self.max_groups()),
        )?;
        let merge = KernelKey::Sort(SortKey {
            pass: SortPass::Merge,
            dtype: Dtype::Uint32,
        });
        let mut width = tile;
        while width < len {
            let (k2, i2) = (self.out(Dtype::Uint32, n)?, self.out(Dtype::Uint32, n)?);
            let mut info = [0u32; info::KEPT_NDIM + 1];
            info[info::N_ROWS] = n_rows as u32;
            info[info::LEN] = len as u32;
            info[info::MERGE_WIDTH] = width as u32;
            info[info::MERGE_N] = n as u32;
            self.ctx.dispatch(
                self.stream,
                &merge,
                &[&keys, &idx, &k2, &i2],
                &info,
                grid((n as u64).div_ceil(WG as u64), self.max_groups()),
            )?;
            (keys, idx) = (k2, i2);
            width *= 2;
        }
        Ok(idx)
    }

    /// Each row of `x` sorted along the last axis: sorted indices, then a gather of the values.
    pub(in crate::backend::gpu) fn sort_values(&self, shape: &[i32], x: &Data) -> Result<Data> {
        let idx = self.sort_indices(shape, x)?;
        let dtype = x.storage.dtype;
        let n = size_of(shape);
        let out = self.out(dtype, n)?;
        let mut info = sort_info(&Self::rows(shape, x), 0, 0);
        info[info::GATHER_N] = n as u32;
        let key = KernelKey::Sort(SortKey {
            pass: SortPass::Gather,
            dtype,
        });
        self.dispatch_words(key, &[buf(x)?, &idx, &out], &info, n, dtype)?;
        Ok(self.data(out, dtype, shape))
    }

    /// searchsorted: a binary search per value in the 1-D `sorted` (any stride).
    pub(in crate::backend::gpu) fn search_sorted(
        &self,
        s_shape: &[i32],
        sorted: &Data,
        v_shape: &[i32],
        values: &Data,
        right: bool,
    ) -> Result<Data> {
        let n = size_of(v_shape);
        self.check_index_range(n.max(size_of(s_shape)))?;
        let dtype = sorted.storage.dtype;
        let vals = self.dense_from_start(v_shape, values)?;
        let out = self.out(Dtype::Uint32, n)?;
        let mut info = [0u32; info::KEPT_NDIM + 1];
        info[info::SEARCH_N] = n as u32;
        info[info::LEN] = s_shape.first().copied().unwrap_or(1) as u32;
        info[info::AXIS_STRIDE] = sorted.strides.first().copied().unwrap_or(0) as i32 as u32;
        info[info::OFFSET] = sorted.offset as u32;
        info[info::SEARCH_RIGHT] = right as u32;
        self.ctx.dispatch(
            self.stream,
            &KernelKey::Sort(SortKey {
                pass: SortPass::Search,
                dtype,
            }),
            &[buf(sorted)?, buf(&vals)?, &out],
            &info,
            grid((n as u64).div_ceil(WG as u64), self.max_groups()),
        )?;
        Ok(self.data(out, Dtype::Uint32, v_shape))
    }
}
