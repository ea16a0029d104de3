//! The indexing families (`shaders/gather.wgsl`: take along an axis and MLX's gather of slices;
//! `shaders/scatter.wgsl`: MLX's scatter with an optional combining op): their key, preludes,
//! `info` tables and the host code that writes them and dispatches.

use super::slots::{BF16_ROUND, input_slot, output_slot, short};
use super::{F16_BITS, Family, INDEX, KernelKey, WG, info_words, write_info};
use crate::backend::Data;
use crate::backend::gpu::{Gpu, buf, grid};
use crate::dtype::Dtype;
use crate::error::Result;
use crate::primitive::BinaryOp;
use crate::shape::size_of;
use std::fmt::{self, Write};

const GATHER: &str = include_str!("../../../../shaders/gather.wgsl");
const SCATTER: &str = include_str!("../../../../shaders/scatter.wgsl");

/// One indexing kernel.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum GatherKey {
    /// Take along an axis of `dtype`.
    Take { dtype: Dtype },
    /// MLX's gather of `dtype`: slices at stacked int32 indices.
    Slices { dtype: Dtype },
    /// MLX's scatter of `dtype` into a copy of the input: `op` combines (None: replaces).
    Scatter { op: Option<BinaryOp>, dtype: Dtype },
}

/// The combining ops of the scatter family (`None`: plain scatter).
pub const SCATTER_OPS: [Option<BinaryOp>; 5] = [
    None,
    Some(BinaryOp::Add),
    Some(BinaryOp::Multiply),
    Some(BinaryOp::Maximum),
    Some(BinaryOp::Minimum),
];

info_words! {
    /// The `info` tables of gather.wgsl (one module holds both readers):
    /// take: `[n, ndim, out_shape[ndim], in_strides[ndim], in_offset, axis]`;
    /// slices: `[n, ndim, slice_total, m, in_offset, in_shape[ndim], in_strides[ndim],
    /// slice_sizes[ndim], slots[ndim]]` (slots: see `index_slots`).
    mod gather_info {
        N = 0,
        NDIM = 1,
        TAKE_SHAPE = 2,
        SLICE_TOTAL = 2,
        M = 3,
        OFFSET = 4,
    }
}

info_words! {
    /// The scatter `info` table: `[n_updates, ndim, slice_total, m, out_shape[ndim],
    /// slice_shape[ndim], slots[ndim]]` (slots: see `index_slots`).
    mod scatter_info {
        N = 0,
        NDIM = 1,
        SLICE_TOTAL = 2,
        M = 3,
    }
}

impl GatherKey {
    fn dtype(&self) -> Dtype {
        match *self {
            GatherKey::Take { dtype }
            | GatherKey::Slices { dtype }
            | GatherKey::Scatter { dtype, .. } => dtype,
        }
    }
}

impl fmt::Display for GatherKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entry = self.entry();
        match *self {
            GatherKey::Take { dtype } | GatherKey::Slices { dtype } => {
                write!(f, "{entry}.{}", short(dtype))
            }
            GatherKey::Scatter { op, dtype } => write!(
                f,
                "{entry}.{}.{}",
                op.map_or("set", |o| o.name()),
                short(dtype)
            ),
        }
    }
}

impl Family for GatherKey {
    fn entry(&self) -> &'static str {
        match self {
            GatherKey::Take { .. } => "gather_take",
            GatherKey::Slices { .. } => "gather_slices",
            GatherKey::Scatter { .. } => "scatter_apply",
        }
    }

    fn out_dtype(&self) -> Dtype {
        self.dtype()
    }

    fn trusted(&self) -> bool {
        false
    }

    fn uses_f16(&self) -> bool {
        self.dtype() == Dtype::Float16
    }

    fn prelude(&self, p: &mut String, native_f16: bool) -> &'static str {
        let dtype = self.dtype();
        let f = match *self {
            GatherKey::Take { .. } => "take_value",
            GatherKey::Slices { .. } => "gather_value",
            GatherKey::Scatter { op, dtype } => {
                write_info(p, scatter_info::NAMED);
                scatter_prelude(p, op, dtype, native_f16);
                return SCATTER;
            }
        };
        write_info(p, gather_info::NAMED);
        input_slot(p, "in0", dtype, native_f16);
        output_slot(p, dtype, native_f16);
        let _ = writeln!(p, "fn value_at(i: u32) -> C_OUT {{ return {f}(i); }}");
        p.push_str(INDEX);
        GATHER
    }

    fn all(_native_f16: bool) -> Vec<Self> {
        let mut keys = Vec::new();
        for dtype in Dtype::ALL {
            keys.push(GatherKey::Take { dtype });
            keys.push(GatherKey::Slices { dtype });
            for op in SCATTER_OPS {
                keys.push(GatherKey::Scatter { op, dtype });
            }
        }
        keys
    }
}

/// The scatter family's prelude: the updates' loader, and the element accessors and combiner
/// that the compare-exchange loop applies to the 32-bit output word holding an element.
fn scatter_prelude(p: &mut String, op: Option<BinaryOp>, dtype: Dtype, native_f16: bool) {
    input_slot(p, "upd", dtype, native_f16);
    if native_f16 {
        // Output words are raw u32 here, so halves convert with the integer helpers.
        p.push_str(F16_BITS);
    }
    if dtype == Dtype::Bfloat16 {
        p.push_str(BF16_ROUND);
    }
    let bits = dtype.size() * 8;
    let mask = if bits == 32 {
        "0xffffffffu".to_string()
    } else {
        format!("{:#x}u", (1u32 << bits) - 1)
    };
    let (get, put) = match dtype {
        Dtype::Float32 => ("bitcast<f32>(w)", "bitcast<u32>(v)"),
        Dtype::Int32 => ("bitcast<i32>(w)", "bitcast<u32>(v)"),
        Dtype::Uint32 => ("w", "v"),
        Dtype::Float16 => ("wmx_f16_to_f32((w >> sh) & 0xffffu)", "wmx_f32_to_f16(v)"),
        Dtype::Bfloat16 => ("bitcast<f32>(((w >> sh) & 0xffffu) << 16u)", "wmx_bf16(v)"),
        Dtype::Uint8 => ("(w >> sh) & 0xffu", "v & 0xffu"),
        Dtype::Bool => ("((w >> sh) & 0xffu) != 0u", "select(0u, 1u, v)"),
    };
    let _ = writeln!(p, "const ELEM_BITS: u32 = {bits}u;");
    let _ = writeln!(p, "const ELEM_MASK: u32 = {mask};");
    let _ = writeln!(
        p,
        "fn get_elem(w: u32, sh: u32) -> C_UPD {{ return {get}; }}"
    );
    let _ = writeln!(p, "fn elem_bits(v: C_UPD) -> u32 {{ return {put}; }}");
    let comb = op.and_then(|o| o.wgsl(dtype.domain())).unwrap_or("b");
    let _ = writeln!(
        p,
        "fn combine(a: C_UPD, b: C_UPD) -> C_UPD {{ return {comb}; }}"
    );
    let _ = writeln!(
        p,
        "const PLAIN_STORE: bool = {};",
        op.is_none() && bits == 32
    );
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
    /// take along `axis`: `a` read strided, the (wrapped, clamped) indices densely.
    pub(in crate::backend::gpu) fn take(
        &self,
        (sa, a): (&[i32], &Data),
        (si, i): (&[i32], &Data),
        axis: usize,
        shape: &[i32],
        dt: Dtype,
    ) -> Result<Data> {
        let n = size_of(shape);
        let idx = self.dense_from_start(si, i)?;
        self.check_index_range(n.max(size_of(sa)))?;
        let out = self.out(dt, n)?;
        let mut info = vec![0u32; gather_info::TAKE_SHAPE];
        info[gather_info::N] = n as u32;
        info[gather_info::NDIM] = shape.len() as u32;
        info.extend(shape.iter().map(|&d| d as u32));
        info.extend(a.strides.iter().map(|&s| s as i32 as u32));
        info.push(a.offset as u32);
        info.push(axis as u32);
        let key = KernelKey::Gather(GatherKey::Take { dtype: dt });
        self.dispatch_words(key, &[buf(a)?, buf(&idx)?, &out], &info, n, dt)?;
        Ok(self.data(out, dt, shape))
    }

    /// MLX's gather: `a` read strided, the stacked indices densely.
    #[allow(clippy::too_many_arguments)]
    pub(in crate::backend::gpu) fn gather(
        &self,
        sa: &[i32],
        a: &Data,
        si: &[i32],
        i: &Data,
        axes: &[usize],
        slice_sizes: &[i32],
        shape: &[i32],
        dt: Dtype,
    ) -> Result<Data> {
        let n = size_of(shape);
        let idx = self.dense_from_start(si, i)?;
        self.check_index_range(n.max(size_of(sa)).max(size_of(si)))?;
        let out = self.out(dt, n)?;
        let slice_total = size_of(slice_sizes);
        let m = n.checked_div(slice_total).unwrap_or(0);
        let mut info = vec![0u32; gather_info::OFFSET + 1];
        info[gather_info::N] = n as u32;
        info[gather_info::NDIM] = sa.len() as u32;
        info[gather_info::SLICE_TOTAL] = slice_total as u32;
        info[gather_info::M] = m as u32;
        info[gather_info::OFFSET] = a.offset as u32;
        info.extend(sa.iter().map(|&d| d as u32));
        info.extend(a.strides.iter().map(|&s| s as i32 as u32));
        info.extend(slice_sizes.iter().map(|&d| d as u32));
        info.extend(index_slots(axes, sa.len()));
        let key = KernelKey::Gather(GatherKey::Slices { dtype: dt });
        self.dispatch_words(key, &[buf(a)?, buf(&idx)?, &out], &info, n, dt)?;
        Ok(self.data(out, dt, shape))
    }

    /// MLX's scatter: a dense copy of `a`, then one invocation per update element.
    #[allow(clippy::too_many_arguments)]
    pub(in crate::backend::gpu) fn scatter(
        &self,
        sa: &[i32],
        a: &Data,
        si: &[i32],
        i: &Data,
        su: &[i32],
        u: &Data,
        axes: &[usize],
        op: Option<BinaryOp>,
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
        let mut info = vec![0u32; scatter_info::M + 1];
        info[scatter_info::N] = n_upd as u32;
        info[scatter_info::NDIM] = sa.len() as u32;
        info[scatter_info::SLICE_TOTAL] = slice_total as u32;
        info[scatter_info::M] = (n_upd / slice_total) as u32;
        info.extend(sa.iter().map(|&d| d as u32));
        info.extend(slice.iter().map(|&d| d as u32));
        info.extend(index_slots(axes, sa.len()));
        self.ctx.dispatch(
            self.stream,
            &KernelKey::Gather(GatherKey::Scatter { op, dtype: dt }),
            &[buf(&idx)?, buf(&upd)?, buf(&result)?],
            &info,
            grid((n_upd as u64).div_ceil(WG as u64), self.max_groups()),
        )?;
        Ok(result)
    }
}
