//! The matmul families (`shaders/matmul.wgsl`: tiled, vec4, few-row products and the split-K
//! sum; `shaders/matmul_coop.wgsl`: cooperative matrices, whose tilings and generated prelude
//! live in `matmul_coop.rs`), sharing `shaders/matmul_batch.wgsl` for the batch decode: their
//! key, preludes, `info` table and the host code that picks a kernel and dispatches.

use super::matmul_coop::{CoopVariant, coop_prelude, coop_variant};
use super::slots::{input_slot, output_slot, quad_input_slot, quad_output_slot, short};
use super::{Family, KernelKey, info_words, write_info};
use crate::backend::Data;
use crate::backend::gpu::{Gpu, buf};
use crate::dtype::Dtype;
use crate::error::{Error, Result};
use crate::primitive::ReduceOp;
use crate::shape::size_of;
use std::fmt::{self, Write};

const MATMUL: &str = include_str!("../../../../shaders/matmul.wgsl");
const MATMUL_COOP: &str = include_str!("../../../../shaders/matmul_coop.wgsl");
/// The info decode both matmul families share (their tables agree).
const MATMUL_BATCH: &str = include_str!("../../../../shaders/matmul_batch.wgsl");

/// One matmul kernel.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum MatmulKey {
    /// Tiled matmul of `dtype` inputs into `out` (f32, or f16 when native); `vec4`: the
    /// 128x128 kernel over vec4 storage (operands with dims and offsets aligned to 4), whose A
    /// (`a_t`) or B (`b_t`) may be column-major: a transposed view, as a backward pass's xᵀ
    /// and Wᵀ, read in place.
    Tiled {
        dtype: Dtype,
        out: Dtype,
        vec4: bool,
        a_t: bool,
        b_t: bool,
    },
    /// Matmul of row-major f16 `dtype` inputs on cooperative matrices (16x16x16 fragments,
    /// f32 accumulators) into `out`: `shaders/matmul_coop.wgsl`, on devices with wgpu's
    /// experimental cooperative-matrix feature (see [`matmul_coop_key`]).
    Coop {
        dtype: Dtype,
        out: Dtype,
        variant: CoopVariant,
    },
    /// Products with at most [`ROWS_MAX`] rows (a decoded token): `matmul_rows`, the vec4
    /// kernel's layout and dtypes, with `cols` column invocations per workgroup (8 to 64; the
    /// rest of its 256 split K).
    Rows { dtype: Dtype, out: Dtype, cols: u32 },
    /// The sum of a split K's f32 partial products, converted to `out` in the same pass
    /// (`matmul_sum_splits`; C's size a multiple of 4, `out` one the vec4 kernel writes).
    SumSplits { out: Dtype },
}

/// The most rows of A `matmul_rows` takes (its `ROWS_MAX`).
pub const ROWS_MAX: i32 = 8;

/// The column invocations of a `matmul_rows` workgroup for `n` columns in `batch` products: the
/// most (64, 32, 16, then 8) that still gives 256 workgroups (two per multiprocessor of a large
/// GPU), so narrow products spread their K over more invocations.
///
/// ```
/// use wmx::kernels::rows_columns;
/// assert_eq!(rows_columns(128_256, 1), 64); // an LLM's output head: 501 workgroups
/// assert_eq!(rows_columns(8192, 1), 8);     // 256 workgroups of 32 columns
/// assert_eq!(rows_columns(2048, 8), 16);   // eight products: 256 workgroups of 64 columns
/// ```
pub fn rows_columns(n: i32, batch: usize) -> u32 {
    [64u32, 32, 16]
        .into_iter()
        .find(|&c| (n as u64).div_ceil(4 * c as u64) * batch as u64 >= SMALL_GRID)
        .unwrap_or(8)
}

info_words! {
    /// The matmul `info` table (both families; `matmul_batch.wgsl` decodes the batch part):
    /// `[M, N, K, a_row_stride, a_col_stride, b_row_stride, b_col_stride, bn, batch_shape[bn],
    /// a_batch_strides[bn], b_batch_strides[bn], a_offset, b_offset]` (strides, offsets: i32 bits).
    mod info {
        M = 0,
        N = 1,
        K = 2,
        A_ROW_STRIDE = 3,
        A_COL_STRIDE = 4,
        B_ROW_STRIDE = 5,
        B_COL_STRIDE = 6,
        BATCH_NDIM = 7,
    }
}

/// The matmul key for float inputs of `dtype`; `vec4` asks for the vec4 kernel, which only f32
/// and native f16 have (see [`matmul_vec4_dtype`]).
pub fn matmul_key(dtype: Dtype, native_f16: bool, vec4: bool) -> KernelKey {
    KernelKey::Matmul(MatmulKey::tiled(dtype, native_f16, vec4))
}

/// The cooperative-matrix matmul key of `variant`: f16 inputs, f16 output (f32 accumulation).
pub fn matmul_coop_key(variant: CoopVariant) -> KernelKey {
    KernelKey::Matmul(MatmulKey::coop(variant))
}

impl MatmulKey {
    fn tiled(dtype: Dtype, native_f16: bool, vec4: bool) -> MatmulKey {
        let out = if dtype == Dtype::Float16 && native_f16 {
            Dtype::Float16
        } else {
            Dtype::Float32
        };
        MatmulKey::Tiled {
            dtype,
            out,
            vec4: vec4 && matmul_vec4_dtype(dtype, native_f16),
            a_t: false,
            b_t: false,
        }
    }

    /// The vec4 kernel reading A (`a_t`) or B (`b_t`) column-major.
    fn transposed(self, a_t: bool, b_t: bool) -> MatmulKey {
        match self {
            MatmulKey::Tiled {
                dtype,
                out,
                vec4: true,
                ..
            } => MatmulKey::Tiled {
                dtype,
                out,
                vec4: true,
                a_t,
                b_t,
            },
            other => other,
        }
    }

    /// The `matmul_rows` key (its output dtype as the tiled kernels').
    fn rows(dtype: Dtype, native_f16: bool, cols: u32) -> MatmulKey {
        match MatmulKey::tiled(dtype, native_f16, true) {
            MatmulKey::Tiled { dtype, out, .. } => MatmulKey::Rows { dtype, out, cols },
            other => other,
        }
    }

    fn coop(variant: CoopVariant) -> MatmulKey {
        MatmulKey::Coop {
            dtype: Dtype::Float16,
            out: Dtype::Float16,
            variant,
        }
    }

    /// The same kernel writing f32 (the partial products of a split K, see [`k_splits`]).
    fn with_f32_out(self) -> MatmulKey {
        match self {
            MatmulKey::Tiled {
                dtype,
                vec4,
                a_t,
                b_t,
                ..
            } => MatmulKey::Tiled {
                dtype,
                out: Dtype::Float32,
                vec4,
                a_t,
                b_t,
            },
            MatmulKey::Coop { dtype, variant, .. } => MatmulKey::Coop {
                dtype,
                out: Dtype::Float32,
                variant,
            },
            MatmulKey::Rows { dtype, cols, .. } => MatmulKey::Rows {
                dtype,
                out: Dtype::Float32,
                cols,
            },
            MatmulKey::SumSplits { .. } => self,
        }
    }
}

impl fmt::Display for MatmulKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entry = self.entry();
        match *self {
            MatmulKey::Tiled {
                dtype,
                out,
                a_t,
                b_t,
                ..
            } => write!(
                f,
                "{entry}.{}.{}{}{}",
                short(dtype),
                short(out),
                if a_t { ".ta" } else { "" },
                if b_t { ".tb" } else { "" }
            ),
            MatmulKey::Coop {
                dtype,
                out,
                variant,
            } => write!(
                f,
                "{entry}.{}.{}.{}",
                variant.name(),
                short(dtype),
                short(out)
            ),
            MatmulKey::Rows { dtype, out, cols } => {
                write!(f, "{entry}.c{cols}.{}.{}", short(dtype), short(out))
            }
            MatmulKey::SumSplits { out } => write!(f, "{entry}.{}", short(out)),
        }
    }
}

impl Family for MatmulKey {
    fn entry(&self) -> &'static str {
        match *self {
            MatmulKey::Tiled { vec4: false, .. } => "matmul_tiled",
            MatmulKey::Tiled { vec4: true, .. } => "matmul_vec4",
            MatmulKey::Coop { .. } => "matmul_coop",
            MatmulKey::Rows { .. } => "matmul_rows",
            MatmulKey::SumSplits { .. } => "matmul_sum_splits",
        }
    }

    fn out_dtype(&self) -> Dtype {
        match *self {
            MatmulKey::Tiled { out, .. }
            | MatmulKey::Coop { out, .. }
            | MatmulKey::Rows { out, .. }
            | MatmulKey::SumSplits { out } => out,
        }
    }

    fn trusted(&self) -> bool {
        true
    }

    fn uses_f16(&self) -> bool {
        match *self {
            MatmulKey::Tiled { dtype, out, .. }
            | MatmulKey::Coop { dtype, out, .. }
            | MatmulKey::Rows { dtype, out, .. } => {
                dtype == Dtype::Float16 || out == Dtype::Float16
            }
            MatmulKey::SumSplits { out } => out == Dtype::Float16,
        }
    }

    fn extensions(&self) -> &'static str {
        match self {
            MatmulKey::Tiled { .. } | MatmulKey::Rows { .. } | MatmulKey::SumSplits { .. } => "",
            MatmulKey::Coop { .. } => "enable wgpu_cooperative_matrix;\n",
        }
    }

    fn prelude(&self, p: &mut String, native_f16: bool) -> &'static str {
        write_info(p, info::NAMED);
        // matmul.wgsl's operand layouts (matmul_vec4 reads column-major A or B when set).
        let (a_t, b_t) = match *self {
            MatmulKey::Tiled { a_t, b_t, .. } => (a_t, b_t),
            _ => (false, false),
        };
        if !matches!(self, MatmulKey::Coop { .. }) {
            let _ = writeln!(p, "const A_T: bool = {a_t};\nconst B_T: bool = {b_t};");
        }
        let family = match *self {
            MatmulKey::Tiled {
                dtype, out, vec4, ..
            } => {
                // matmul_rows shares the module; its column count matters only in Rows keys.
                p.push_str("const RCT: u32 = 64u;\n");
                if vec4 {
                    quad_input_slot(p, "in0", dtype, native_f16);
                    quad_input_slot(p, "in1", dtype, native_f16);
                    quad_output_slot(p, out, native_f16);
                } else {
                    input_slot(p, "in0", dtype, native_f16);
                    input_slot(p, "in1", dtype, native_f16);
                    output_slot(p, out, native_f16);
                }
                MATMUL
            }
            MatmulKey::Rows { dtype, out, cols } => {
                let _ = writeln!(p, "const RCT: u32 = {cols}u;");
                quad_input_slot(p, "in0", dtype, native_f16);
                quad_input_slot(p, "in1", dtype, native_f16);
                quad_output_slot(p, out, native_f16);
                MATMUL
            }
            MatmulKey::SumSplits { out } => {
                p.push_str("const RCT: u32 = 64u;\n");
                quad_input_slot(p, "in0", Dtype::Float32, native_f16);
                quad_input_slot(p, "in1", Dtype::Float32, native_f16);
                quad_output_slot(p, out, native_f16);
                MATMUL
            }
            MatmulKey::Coop { out, variant, .. } => {
                output_slot(p, out, native_f16);
                coop_prelude(p, variant);
                MATMUL_COOP
            }
        };
        p.push_str(MATMUL_BATCH);
        family
    }

    fn all(native_f16: bool) -> Vec<Self> {
        let mut keys = Vec::new();
        for dtype in Dtype::ALL.into_iter().filter(|d| d.is_float()) {
            let mut family = vec![MatmulKey::tiled(dtype, native_f16, false)];
            if matmul_vec4_dtype(dtype, native_f16) {
                family.push(MatmulKey::SumSplits { out: dtype });
                let vec4 = MatmulKey::tiled(dtype, native_f16, true);
                family.extend(
                    [(false, false), (true, false), (false, true), (true, true)]
                        .map(|(a_t, b_t)| vec4.transposed(a_t, b_t)),
                );
                family.extend([8, 16, 32, 64].map(|cols| MatmulKey::rows(dtype, native_f16, cols)));
            }
            if dtype == Dtype::Float16 && native_f16 {
                family.extend(CoopVariant::ALL.map(MatmulKey::coop));
            }
            // Split-K partials are f32 whatever the output.
            for key in family {
                keys.push(key);
                if key.with_f32_out() != key {
                    keys.push(key.with_f32_out());
                }
            }
        }
        keys
    }
}

/// True when the vec4 matmul kernel exists for `dtype` (unpacked 16- or 32-bit floats).
pub fn matmul_vec4_dtype(dtype: Dtype, native_f16: bool) -> bool {
    dtype == Dtype::Float32 || (dtype == Dtype::Float16 && native_f16)
}

/// Workgroups `matmul_rows` aims for (see [`rows_columns`]): about two per multiprocessor of a
/// large GPU (an H100 has 132).
const SMALL_GRID: u64 = 256;

/// Workgroups a split K aims for: about one per multiprocessor of a large GPU;
/// `WMX_SPLIT_TARGET` overrides it (for measuring). Grids of [`SPLIT_MAX_GROUPS`] or more
/// are never split.
fn split_target_groups() -> u64 {
    static N: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *N.get_or_init(|| env_count("WMX_SPLIT_TARGET", 128))
}

/// The number in environment variable `name` (a measuring knob), else `default`.
fn env_count(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `WMX_MATMUL_ROWS=off`: products of a few rows take the tiled (or cooperative) kernels as
/// before `matmul_rows` (for measuring).
fn rows_off() -> bool {
    static OFF: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *OFF.get_or_init(|| std::env::var("WMX_MATMUL_ROWS").as_deref() == Ok("off"))
}

/// Products of at least this many multiply-adds copy an operand the quad kernels cannot read in
/// place (unaligned, flipped, or column-major for the row-major ones) dense rather than take the
/// tiled kernel.
const COPY_MIN_MACS: u64 = 1 << 20;

/// Grids of this many workgroups or more are not split: half a large GPU's multiprocessors
/// busy beats a second pass over f32 partials. Measured on an H100 (2026-12-07), a 512-token
/// prompt's 512x2048 @ 2048x2048 product (64 workgroups of 128x128): 45 µs unsplit, 57 µs in
/// two slices, 64 µs in four; its 512x8192 @ 8192x2048 one: 161, 164 and 167 µs; 512x2048 @
/// 2048x3072 (96 workgroups): 64–67 µs unsplit, 94 µs in two. Those were 20 independent
/// products in flight (`matmul_f16`); one product at a time (a prompt's chain) gains from the
/// split below 64 workgroups (see `matmul_coop::coop_variant`).
const SPLIT_MAX_GROUPS: u64 = 64;

/// [`SPLIT_MAX_GROUPS`], or `WMX_SPLIT_MAX` (for measuring).
fn split_max_groups() -> u64 {
    static N: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *N.get_or_init(|| env_count("WMX_SPLIT_MAX", SPLIT_MAX_GROUPS))
}

/// The fewest elements of K each split multiplies over.
const SPLIT_MIN_DEPTH: i32 = 128;

/// Products of fewer multiply-adds (all batch entries) are not split: they take microseconds
/// either way, and a split costs a second dispatch.
const SPLIT_MIN_MACS: u64 = 1 << 21;

/// How many slices of K a product of `macs` multiply-adds whose grid has `groups` workgroups is
/// split into: 1 (no split, also below 2^21 multiply-adds and from 64 workgroups on), or a
/// power of two `s` that brings the grid to at most 128 workgroups (`WMX_SPLIT_TARGET` changes
/// it), with every slice at least 128 deep and a multiple of 4 (`k % (4 s) == 0`, so the quad
/// kernels read aligned slices). Each slice is one more batch entry of the same kernel, written
/// in f32; one pass sums the slices into the product. Small grids with long K (an MLP's
/// 256-row batches and its logits) then fill the GPU. `WMX_SPLIT_K=off` turns it off (for
/// measuring).
///
/// ```
/// use wmx::kernels::k_splits;
/// // A 512-token prompt's down projection, 128x128 tiles: 64 workgroups, not split.
/// assert_eq!(k_splits(64, 8192, 512 * 2048 * 8192), 1);
/// // Its key and value projections alone: 16 workgroups, then 128.
/// assert_eq!(k_splits(16, 2048, 512 * 512 * 2048), 8);
/// // An MLP layer 256x784 @ 784x1024: 784 = 4 · 196 (8 slices would be 98 deep).
/// assert_eq!(k_splits(16, 784, 256 * 784 * 1024), 4);
/// assert_eq!(k_splits(512, 4096, 1 << 36), 1); // the grid is full already
/// assert_eq!(k_splits(16, 130, 1 << 30), 1); // no aligned slices
/// assert_eq!(k_splits(1, 1024, 16 * 1024), 1); // too small to be worth a second dispatch
/// // An MLP's logits, 256x1024 @ 1024x10 on 64x64 tiles: 4 workgroups, 8 slices of 128.
/// assert_eq!(k_splits(4, 1024, 256 * 1024 * 10), 8);
/// ```
pub fn k_splits(groups: u64, k: i32, macs: u64) -> u32 {
    static OFF: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if macs < SPLIT_MIN_MACS
        || groups >= split_max_groups()
        || *OFF.get_or_init(|| std::env::var("WMX_SPLIT_K").as_deref() == Ok("off"))
    {
        return 1;
    }
    let mut s: i32 = 1;
    while groups * 2 * s as u64 <= split_target_groups()
        && k % (8 * s) == 0
        && k / (2 * s) >= SPLIT_MIN_DEPTH
    {
        s *= 2;
    }
    s as u32
}

impl Gpu<'_> {
    /// Batched `a @ b` (`sa`: [.., M, K], `sb`: [.., K, N]) into a dense `out_shape` of `out_dtype`.
    pub(in crate::backend::gpu) fn matmul(
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
        // The vec4 kernel reads quads of A and B along their contiguous axis: rows of a
        // row-major operand, columns of a column-major one (a transposed view, read in place);
        // the cooperative kernel reads row-major quads likewise.
        let bn = nd - 2;
        // `Some(false)` row-major, `Some(true)` column-major with quads along `rows` (M of A,
        // K of B), `None` neither. The kernels step along rows and columns in unsigned quads,
        // so a negative row or column stride (a flipped view) is neither.
        let layout = |d: &Data, rows: i32| {
            let (rs, cs) = (d.strides[nd - 2], d.strides[nd - 1]);
            let quads = d.offset.is_multiple_of(4)
                && d.strides[..bn].iter().all(|&s| s % 4 == 0)
                && rs >= 0
                && cs >= 0;
            if quads && cs == 1 && rs % 4 == 0 {
                Some(false)
            } else if quads && rs == 1 && cs % 4 == 0 && rows % 4 == 0 {
                Some(true)
            } else {
                None
            }
        };
        let macs = m as u64 * n as u64 * k as u64 * batch as u64;
        let quads = k % 4 == 0 && n % 4 == 0;
        let coop_dtype = self.ctx.coop.is_some() && a.storage.dtype == Dtype::Float16;
        // Row-major operands for the cooperative kernel and the few-row one; either layout for
        // the vec4 kernel.
        let row_major = coop_dtype || m <= ROWS_MAX;
        let fits = |l: Option<bool>| l.is_some_and(|t| !t || !row_major);
        // Any other operand (or a column-major one the kernel cannot read) would send the
        // product to the 64×64 tiled kernel, several times slower: one dense copy of it buys
        // the vec4 (or cooperative) kernel.
        let copied;
        let (a, b) =
            if quads && !(fits(layout(a, m)) && fits(layout(b, k))) && macs >= COPY_MIN_MACS {
                copied = (self.dense_from_start(sa, a)?, self.dense_from_start(sb, b)?);
                (&copied.0, &copied.1)
            } else {
                (a, b)
            };
        let (la, lb) = (layout(a, m), layout(b, k));
        let vec4 = quads && fits(la) && fits(lb);
        let (a_t, b_t) = (la == Some(true), lb == Some(true));
        // Tensor cores where the device has them: the cooperative kernel reads the same quads
        // as the vec4 kernel (f16 only; it writes f16, accumulating in f32).
        let coop = self.ctx.coop.filter(|_| vec4 && coop_dtype);
        // A few rows (a decoded token) are memory-bound: no tiles, no tensor cores.
        let rows = vec4
            && m <= ROWS_MAX
            && matmul_vec4_dtype(a.storage.dtype, self.ctx.native_f16)
            && !rows_off();
        let mut key = match coop {
            _ if rows => {
                MatmulKey::rows(a.storage.dtype, self.ctx.native_f16, rows_columns(n, batch))
            }
            Some(shape) => MatmulKey::coop(coop_variant(shape, m)),
            None => {
                MatmulKey::tiled(a.storage.dtype, self.ctx.native_f16, vec4).transposed(a_t, b_t)
            }
        };
        // Rows and columns of C per workgroup.
        let (tile_m, tile_n) = match key {
            MatmulKey::Coop { variant, .. } => {
                let t = variant.tiling();
                (t.block_m(), t.block_n())
            }
            MatmulKey::Tiled { vec4: true, .. } => (128, 128),
            MatmulKey::Tiled { vec4: false, .. } => (64, 64),
            MatmulKey::Rows { cols, .. } => (ROWS_MAX as u32, 4 * cols),
            MatmulKey::SumSplits { .. } => (1, 1), // not a product kernel: never picked above
        };
        let grid = [(n as u32).div_ceil(tile_n), (m as u32).div_ceil(tile_m)];
        // matmul_rows splits K inside its workgroups.
        let mut splits = match key {
            MatmulKey::Rows { .. } => 1,
            _ => k_splits(grid[0] as u64 * grid[1] as u64 * batch as u64, k, macs),
        };
        if batch * splits as usize > self.max_groups() as usize {
            splits = 1;
        }
        if splits > 1 {
            key = key.with_f32_out();
        }
        // A split K is one more (leading) batch axis: slice s reads A's columns and B's rows
        // from s·K/S on.
        let depth = k / splits as i32;
        let (a_cs, b_rs) = (a.strides[nd - 1], b.strides[nd - 2]);
        let mut batch_shape = sa[..bn].to_vec();
        let mut a_batch = a.strides[..bn].to_vec();
        let mut b_batch = b.strides[..bn].to_vec();
        if splits > 1 {
            batch_shape.insert(0, splits as i32);
            a_batch.insert(0, depth as isize * a_cs);
            b_batch.insert(0, depth as isize * b_rs);
        }
        let acc = key.out_dtype();
        let out = self.out(acc, size_of(out_shape) * splits as usize)?;
        let mut info = vec![0u32; info::BATCH_NDIM + 1];
        info[info::M] = m as u32;
        info[info::N] = n as u32;
        info[info::K] = depth as u32;
        info[info::A_ROW_STRIDE] = a.strides[nd - 2] as i32 as u32;
        info[info::A_COL_STRIDE] = a_cs as i32 as u32;
        info[info::B_ROW_STRIDE] = b_rs as i32 as u32;
        info[info::B_COL_STRIDE] = b.strides[nd - 1] as i32 as u32;
        info[info::BATCH_NDIM] = batch_shape.len() as u32;
        info.extend(batch_shape.iter().map(|&d| d as u32));
        info.extend(a_batch.iter().map(|&s| s as i32 as u32));
        info.extend(b_batch.iter().map(|&s| s as i32 as u32));
        info.push(a.offset as u32);
        info.push(b.offset as u32);
        let groups = [grid[0], grid[1], batch as u32 * splits];
        self.ctx.dispatch(
            self.stream,
            &key.into(),
            &[buf(a)?, buf(b)?, &out],
            &info,
            groups,
        )?;
        if splits > 1 && n % 4 == 0 && matmul_vec4_dtype(out_dtype, self.ctx.native_f16) {
            // One pass: the partials' sum, in C's dtype.
            let key = MatmulKey::SumSplits { out: out_dtype };
            let quads = size_of(out_shape) / 4;
            let c = self.out(out_dtype, size_of(out_shape))?;
            self.ctx.dispatch(
                self.stream,
                &key.into(),
                &[&out, &out, &c],
                &[quads as u32, splits],
                crate::backend::gpu::grid((quads as u64).div_ceil(256), self.max_groups()),
            )?;
            return Ok(self.data(c, out_dtype, out_shape));
        }
        if splits > 1 {
            let mut partial_shape = vec![splits as i32];
            partial_shape.extend_from_slice(out_shape);
            let partials = self.data(out, acc, &partial_shape);
            return self.reduce(
                ReduceOp::Sum,
                &partial_shape,
                &partials,
                &[0],
                out_shape,
                out_dtype,
            );
        }
        let result = self.data(out, acc, out_shape);
        if acc != out_dtype {
            return self.cast(out_shape, &result, acc, out_dtype);
        }
        Ok(result)
    }
}
