//! GPU scans and sorts along the last axis: the `info` tables and dispatch sequences of the
//! `scan` family (one pass) and the `sort` family (tile sort, merge passes, value gather) and
//! searchsorted. Kernels live in `shaders/scan.wgsl` and `shaders/sort.wgsl`.

use super::context::GpuBuffer;
use super::kernels::{self, KernelKey, SortPass, WG, per_word};
use super::{Gpu, buf, grid};
use crate::backend::Data;
use crate::dtype::Dtype;
use crate::error::Result;
use crate::primitive::ScanOp;
use crate::shape::size_of;
use std::sync::Arc;

impl Gpu<'_> {
    /// Rows along the last axis of `shape`: (number of rows, row length, the `info` prefix
    /// `[n_rows, len, axis_stride, offset]`, and the suffix `[kn, kept_shape, kept_strides]`).
    fn rows(shape: &[i32], x: &Data) -> (usize, usize, Vec<u32>, Vec<u32>) {
        let nd = shape.len();
        let len = shape.last().map_or(1, |&d| d as usize);
        let n_rows = if len == 0 { 0 } else { size_of(shape) / len };
        let stride = x.strides.last().copied().unwrap_or(0);
        let head = vec![
            n_rows as u32,
            len as u32,
            stride as i32 as u32,
            x.offset as u32,
        ];
        let kn = nd.saturating_sub(1);
        let mut tail = vec![kn as u32];
        tail.extend(shape[..kn].iter().map(|&d| d as u32));
        tail.extend(x.strides[..kn].iter().map(|&s| s as i32 as u32));
        (n_rows, len, head, tail)
    }

    /// Scan along the last axis of `x` (any strides) into a dense output of `out_dtype`.
    pub(super) fn scan(
        &self,
        op: ScanOp,
        reverse: bool,
        inclusive: bool,
        shape: &[i32],
        x: &Data,
        out_dtype: Dtype,
    ) -> Result<Data> {
        let n = size_of(shape);
        self.check_index_range(n)?;
        let (n_rows, len, head, tail) = Self::rows(shape, x);
        let per_thread = len <= 32;
        let key = kernels::scan_key(op, x.storage.dtype, per_thread);
        let acc = key.out_dtype();
        let out = self.out(acc, n)?;
        let flags = reverse as u32 | ((!inclusive as u32) << 1);
        // info: [n_rows, len, flags, axis_stride, offset, kn, kept_shape, kept_strides]
        let mut info = vec![head[0], head[1], flags, head[2], head[3]];
        info.extend(&tail);
        let groups = if per_thread {
            (n_rows as u64).div_ceil(WG as u64)
        } else {
            n_rows as u64
        };
        self.ctx.dispatch(
            self.stream,
            &key,
            &[buf(x)?, &out],
            &info,
            grid(groups, self.max_groups()),
        )?;
        let result = self.data(out, acc, shape);
        if acc != out_dtype {
            return self.cast(shape, &result, acc, out_dtype);
        }
        Ok(result)
    }

    /// Row-local indices (dense uint32) that stably sort each row along the last axis of `x`:
    /// tiles sorted in workgroup memory, then merge passes for rows longer than a tile.
    pub(super) fn sort_indices(&self, shape: &[i32], x: &Data) -> Result<Arc<GpuBuffer>> {
        let n = size_of(shape);
        self.check_index_range(n)?;
        let dtype = x.storage.dtype;
        let tile = 4 * WG as usize;
        let (n_rows, len, head, tail) = Self::rows(shape, x);
        let (rows_per_tile, tiles_per_row, groups) = if len <= tile {
            let r = tile / len.max(1);
            (r, 1, n_rows.div_ceil(r))
        } else {
            let t = len.div_ceil(tile);
            (0, t, n_rows * t)
        };
        let mut keys = self.out(Dtype::Uint32, n)?;
        let mut idx = self.out(Dtype::Uint32, n)?;
        let mut info = head.clone();
        info.extend([rows_per_tile as u32, tiles_per_row as u32]);
        info.extend(&tail);
        self.ctx.dispatch(
            self.stream,
            &KernelKey::Sort {
                pass: SortPass::Block,
                dtype,
            },
            &[buf(x)?, &keys, &idx],
            &info,
            grid(groups as u64, self.max_groups()),
        )?;
        let merge = KernelKey::Sort {
            pass: SortPass::Merge,
            dtype: Dtype::Uint32,
        };
        let mut width = tile;
        while width < len {
            let (k2, i2) = (self.out(Dtype::Uint32, n)?, self.out(Dtype::Uint32, n)?);
            let info = [head[0], head[1], 0, 0, width as u32, n as u32, 0];
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
    pub(super) fn sort_values(&self, shape: &[i32], x: &Data) -> Result<Data> {
        let idx = self.sort_indices(shape, x)?;
        let dtype = x.storage.dtype;
        let n = size_of(shape);
        let out = self.out(dtype, n)?;
        let (_, _, head, tail) = Self::rows(shape, x);
        let mut info = head;
        info.extend([n as u32, 0]);
        info.extend(&tail);
        let words = n.div_ceil(per_word(dtype, self.ctx.native_f16) as usize) as u64;
        self.ctx.dispatch(
            self.stream,
            &KernelKey::Sort {
                pass: SortPass::Gather,
                dtype,
            },
            &[buf(x)?, &idx, &out],
            &info,
            grid(words.div_ceil(WG as u64), self.max_groups()),
        )?;
        Ok(self.data(out, dtype, shape))
    }

    /// searchsorted: a binary search per value in the 1-D `sorted` (any stride).
    pub(super) fn search_sorted(
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
        let info = [
            n as u32,
            s_shape.first().copied().unwrap_or(1) as u32,
            sorted.strides.first().copied().unwrap_or(0) as i32 as u32,
            sorted.offset as u32,
            right as u32,
            0,
            0,
        ];
        self.ctx.dispatch(
            self.stream,
            &KernelKey::Sort {
                pass: SortPass::Search,
                dtype,
            },
            &[buf(sorted)?, buf(&vals)?, &out],
            &info,
            grid((n as u64).div_ceil(WG as u64), self.max_groups()),
        )?;
        Ok(self.data(out, Dtype::Uint32, v_shape))
    }
}
