//! The elementwise families (unary, astype, binary, where; `shaders/{unary,binary,ternary}.wgsl`
//! with `shaders/index.wgsl`): their key, their prelude (slots, the op, the quad-layout broadcast
//! loaders), the layout of their `info` table and the host code that picks a layout, writes the
//! table and dispatches. Must not broadcast or promote: inputs arrive as views of the final dtype.

use super::slots::{
    cast_expr, input_slot, output_slot, per_word, quad_input_slot, quad_output_slot, short,
};
use super::{Family, INDEX, KernelKey, WG, info_words, write_info};
use crate::backend::Data;
use crate::backend::gpu::context::{GpuBuffer, Kernel};
use crate::backend::gpu::{Gpu, buf, grid};
use crate::dtype::Dtype;
use crate::error::Result;
use crate::primitive::{BinaryOp, UnaryOp};
use crate::shape::size_of;
use std::fmt::{self, Write};
use std::sync::Arc;

const UNARY: &str = include_str!("../../../../shaders/unary.wgsl");
const BINARY: &str = include_str!("../../../../shaders/binary.wgsl");
const TERNARY: &str = include_str!("../../../../shaders/ternary.wgsl");
/// The math the op table's expressions call (`wmx_exp`, `wmx_div`...).
pub(super) const MATH: &str = include_str!("../../../../shaders/math.wgsl");

/// How an elementwise kernel reaches its elements.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Layout {
    /// Dense inputs, one output word per invocation.
    Contig,
    /// Inputs through shape/stride tables, one output word per invocation.
    Strided,
    /// Length a multiple of 4, inputs dense or simple broadcasts (see `quad_broadcast_loader`),
    /// bound as quads (vec4 of 32-bit or native f16 elements, `vec2<u32>` of packed halves, one
    /// u32 of bools/uint8s): one quad of four elements per invocation, loaded and stored in one
    /// access each.
    Vec4,
}

impl Layout {
    /// Every layout.
    pub const ALL: [Layout; 3] = [Layout::Contig, Layout::Strided, Layout::Vec4];
}

/// One elementwise kernel.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ElementwiseKey {
    /// `op` elementwise; output dtype = input dtype.
    Unary {
        op: UnaryOp,
        dtype: Dtype,
        layout: Layout,
    },
    /// astype (`from == to` is a plain copy).
    Cast {
        from: Dtype,
        to: Dtype,
        layout: Layout,
    },
    /// `op(a, b)`; output bool for comparisons.
    Binary {
        op: BinaryOp,
        dtype: Dtype,
        layout: Layout,
    },
    /// where(cond, x, y) with x, y, out of `dtype`.
    Where { dtype: Dtype, layout: Layout },
}

info_words! {
    /// The elementwise `info` table (index.wgsl reads it):
    /// strided: `[n, ndim, shape[ndim], then per input k: strides_k[ndim], offset_k]` (the offset
    /// word may carry `INDEX_DENSE` / `INDEX_PERIODIC`);
    /// contiguous and quads: `[n, 0, offset_k per input, then (quads) (period_k, repeat_k) per input]`.
    mod info {
        N = 0,
        NDIM = 1,
        /// The shape (strided) or the inputs' offsets (contiguous, quads).
        TABLE = 2,
    }
}

/// An elementwise dispatch worked out ([`Gpu::elementwise_plan`]).
pub(in crate::backend::gpu) struct ElementwisePlan {
    pub layout: Layout,
    pub info: Vec<u32>,
    pub groups: [u32; 3],
    pub out: Arc<GpuBuffer>,
    pub out_dtype: Dtype,
}

/// Offset-word flags of a strided input in an elementwise info table (see index.wgsl): element
/// `i` is at `offset + i` (dense) or `offset + i % period` (periodic, period in the first stride
/// slot). Offsets stay below 2^30 (indices are checked to fit 32-bit signed arithmetic).
const INDEX_DENSE: u32 = 0x8000_0000;
const INDEX_PERIODIC: u32 = 0xC000_0000;

impl ElementwiseKey {
    fn layout(&self) -> Layout {
        match *self {
            ElementwiseKey::Unary { layout, .. }
            | ElementwiseKey::Cast { layout, .. }
            | ElementwiseKey::Binary { layout, .. }
            | ElementwiseKey::Where { layout, .. } => layout,
        }
    }
}

impl fmt::Display for ElementwiseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entry = self.entry();
        match *self {
            ElementwiseKey::Unary { op, dtype, .. } => {
                write!(f, "{entry}.{}.{}", op.name(), short(dtype))
            }
            ElementwiseKey::Cast { from, to, .. } => {
                write!(f, "{entry}.astype.{}.{}", short(from), short(to))
            }
            ElementwiseKey::Binary { op, dtype, .. } => {
                write!(f, "{entry}.{}.{}", op.name(), short(dtype))
            }
            ElementwiseKey::Where { dtype, .. } => write!(f, "{entry}.where.{}", short(dtype)),
        }
    }
}

impl Family for ElementwiseKey {
    fn entry(&self) -> &'static str {
        let layout = self.layout();
        match self {
            ElementwiseKey::Unary { .. } | ElementwiseKey::Cast { .. } => match layout {
                Layout::Contig => "unary_contig",
                Layout::Strided => "unary_strided",
                Layout::Vec4 => "unary_vec4",
            },
            ElementwiseKey::Binary { .. } => match layout {
                Layout::Contig => "binary_contig",
                Layout::Strided => "binary_strided",
                Layout::Vec4 => "binary_vec4",
            },
            ElementwiseKey::Where { .. } => match layout {
                Layout::Contig => "ternary_contig",
                Layout::Strided => "ternary_strided",
                Layout::Vec4 => "ternary_vec4",
            },
        }
    }

    fn out_dtype(&self) -> Dtype {
        match *self {
            ElementwiseKey::Unary { dtype, .. } | ElementwiseKey::Where { dtype, .. } => dtype,
            ElementwiseKey::Cast { to, .. } => to,
            ElementwiseKey::Binary { op, dtype, .. } => {
                if op.outputs_bool() {
                    Dtype::Bool
                } else {
                    dtype
                }
            }
        }
    }

    fn trusted(&self) -> bool {
        true
    }

    fn uses_f16(&self) -> bool {
        match *self {
            ElementwiseKey::Unary { dtype, .. }
            | ElementwiseKey::Binary { dtype, .. }
            | ElementwiseKey::Where { dtype, .. } => dtype == Dtype::Float16,
            ElementwiseKey::Cast { from, to, .. } => from == Dtype::Float16 || to == Dtype::Float16,
        }
    }

    fn prelude(&self, p: &mut String, native_f16: bool) -> &'static str {
        write_info(p, info::NAMED);
        let q = self.layout() == Layout::Vec4;
        let family = match *self {
            ElementwiseKey::Unary { op, dtype, .. } => {
                elementwise_input(p, 0, 1, dtype, native_f16, q);
                elementwise_output(p, dtype, native_f16, q);
                let e = op.wgsl(dtype.domain()).unwrap_or("x");
                p.push_str(MATH);
                let _ = writeln!(p, "fn op(x: C_IN0) -> C_OUT {{ return {e}; }}");
                UNARY
            }
            ElementwiseKey::Cast { from, to, .. } => {
                elementwise_input(p, 0, 1, from, native_f16, q);
                elementwise_output(p, to, native_f16, q);
                let _ = writeln!(
                    p,
                    "fn op(x: C_IN0) -> C_OUT {{ return {}; }}",
                    cast_expr(from.domain(), to.domain())
                );
                UNARY
            }
            ElementwiseKey::Binary { op, dtype, .. } => {
                elementwise_input(p, 0, 2, dtype, native_f16, q);
                elementwise_input(p, 1, 2, dtype, native_f16, q);
                elementwise_output(p, self.out_dtype(), native_f16, q);
                let e = op.wgsl(dtype.domain()).unwrap_or("a");
                p.push_str(MATH);
                let _ = writeln!(p, "fn op(a: C_IN0, b: C_IN1) -> C_OUT {{ return {e}; }}");
                BINARY
            }
            ElementwiseKey::Where { dtype, .. } => {
                elementwise_input(p, 0, 3, Dtype::Bool, native_f16, q);
                elementwise_input(p, 1, 3, dtype, native_f16, q);
                elementwise_input(p, 2, 3, dtype, native_f16, q);
                elementwise_output(p, dtype, native_f16, q);
                TERNARY
            }
        };
        index_prelude(p, self.layout());
        family
    }

    fn all(_native_f16: bool) -> Vec<Self> {
        let mut keys = Vec::new();
        for layout in Layout::ALL {
            for &op in UnaryOp::ALL {
                for dtype in Dtype::ALL.into_iter().filter(|d| op.supports(d.domain())) {
                    keys.push(ElementwiseKey::Unary { op, dtype, layout });
                }
            }
            for from in Dtype::ALL {
                for to in Dtype::ALL {
                    keys.push(ElementwiseKey::Cast { from, to, layout });
                }
            }
            for &op in BinaryOp::ALL {
                for dtype in Dtype::ALL.into_iter().filter(|d| op.supports(d.domain())) {
                    keys.push(ElementwiseKey::Binary { op, dtype, layout });
                }
            }
            for dtype in Dtype::ALL {
                keys.push(ElementwiseKey::Where { dtype, layout });
            }
        }
        keys
    }
}

/// The `INFO_*` words of the elementwise `info` table.
pub(super) fn info_prelude(p: &mut String) {
    write_info(p, info::NAMED);
}

/// `wmx_index` for `layout`, the shared index helpers (index.wgsl) and the quad layout's entry
/// body (`wmx_quad_entry`, over the family's `value4_at(q)`).
pub(super) fn index_prelude(p: &mut String, layout: Layout) {
    let f = match layout {
        Layout::Strided => "wmx_strided_index",
        Layout::Contig | Layout::Vec4 => "wmx_contig_index",
    };
    let _ = writeln!(
        p,
        "fn wmx_index(i: u32, k: u32) -> u32 {{ return {f}(i, k); }}"
    );
    p.push_str(INDEX);
    quad_entry(p);
}

/// Quads per invocation of a quad-layout dispatch over at least [`SPREAD_MIN_QUADS`] quads
/// (`WMX_QUADS_PER_INVOCATION` overrides it, for measuring). Measured on an H100 (2026-12-05,
/// 8192² f32, two runs each): 2 quads gave compiled gelu 2,712 / 2,693 GB/s and a copy 2,765 /
/// 2,745; 1 quad 2,696 / 2,610 and 2,744 / 2,733; 4 quads 2,708 / 2,677 and 2,725 / 2,669;
/// 8 quads halved the fused kernels' bandwidth.
pub(super) fn quads_per_invocation() -> u32 {
    static N: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *N.get_or_init(|| {
        std::env::var("WMX_QUADS_PER_INVOCATION")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&n: &u32| (1..=16).contains(&n))
            .unwrap_or(2)
    })
}

/// Quad-layout dispatches of at least this many quads give each invocation
/// [`quads_per_invocation`] of them; smaller ones one each (they need every invocation).
pub(super) const SPREAD_MIN_QUADS: u64 = 1 << 20;

/// Invocations a quad-layout dispatch of `quads` quads asks for (see [`quads_per_invocation`]).
pub(super) fn quad_invocations(quads: u64) -> u64 {
    if quads >= SPREAD_MIN_QUADS {
        quads.div_ceil(quads_per_invocation() as u64)
    } else {
        quads
    }
}

/// `wmx_quad_entry(gid, nwg)`: the body of every quad-layout entry point. With an invocation per
/// quad it stores `value4_at(q)` for its own quad; on a grid of fewer invocations than quads
/// (large arrays, see [`quad_invocations`]) each takes `QUADS_PER_INVOCATION` quads a grid
/// apart (neighbouring invocations still touch neighbouring quads), loading all of them before
/// storing any, so the loads are in flight together.
fn quad_entry(p: &mut String) {
    let _ = writeln!(
        p,
        "const QUADS_PER_INVOCATION: u32 = {}u;
fn wmx_quad_entry(gid: vec3<u32>, nwg: vec3<u32>) {{
    let nq = info[INFO_N] >> 2u;
    let total = nwg.x * nwg.y * WG;
    let q0 = wmx_word_id(gid, nwg);
    if (total >= nq) {{
        if (q0 < nq) {{ store4_out(q0, value4_at(q0)); }}
        return;
    }}
    var v: array<vec4<C_OUT>, QUADS_PER_INVOCATION>;
    for (var j = 0u; j < QUADS_PER_INVOCATION; j = j + 1u) {{
        let q = q0 + j * total;
        if (q < nq) {{ v[j] = value4_at(q); }}
    }}
    for (var j = 0u; j < QUADS_PER_INVOCATION; j = j + 1u) {{
        let q = q0 + j * total;
        if (q < nq) {{ store4_out(q, v[j]); }}
    }}
}}",
        quads_per_invocation()
    );
}

/// An elementwise kernel's input slot `k` of `n_inputs`, element-wise or (`quads`) quad-wise.
pub(super) fn elementwise_input(
    p: &mut String,
    k: usize,
    n_inputs: usize,
    d: Dtype,
    native_f16: bool,
    quads: bool,
) {
    let slot = format!("in{k}");
    if quads {
        quad_input_slot(p, &slot, d, native_f16);
    } else {
        input_slot(p, &slot, d, native_f16);
    }
    // The family's module holds every layout's entry point (the quad one unused here or not).
    quad_broadcast_loader(p, k, n_inputs);
}

/// `quad_in<k>(q)`: quad `q` of the output's elements as seen through input `k` of a quad-layout
/// dispatch. The info table holds, after `[n, 0]`, each input's element offset, then each input's
/// (period, repeat) pair: period 0 is a dense input (offset a multiple of 4); otherwise output
/// element i reads input element `offset + (i / repeat) % period`, where either repeat is 1 and
/// period and offset are multiples of 4 (a repeated row: one quad load) or repeat is a multiple
/// of 4 (the four elements share one input element: one load, splat).
fn quad_broadcast_loader(p: &mut String, k: usize, n_inputs: usize) {
    let (off, period, repeat) = quad_words(k, n_inputs);
    let _ = writeln!(
        p,
        "fn quad_in{k}(q: u32) -> vec4<C_IN{k}> {{
    let off = info[{off}u];
    let period = info[{period}u];
    if (period == 0u) {{ return load4_in{k}(q + (off >> 2u)); }}
    let repeat = info[{repeat}u];
    if (repeat == 1u) {{ return load4_in{k}((off + (q << 2u) % period) >> 2u); }}
    return vec4<C_IN{k}>(load_in{k}(off + ((q << 2u) / repeat) % period));
}}"
    );
}

/// The words of input `k`'s offset, period and repeat in a quad-layout table of `n_inputs`.
fn quad_words(k: usize, n_inputs: usize) -> (usize, usize, usize) {
    let pairs = info::TABLE + n_inputs;
    (info::TABLE + k, pairs + 2 * k, pairs + 2 * k + 1)
}

/// An elementwise kernel's output slot, element-wise or (`quads`) quad-wise.
pub(super) fn elementwise_output(p: &mut String, d: Dtype, native_f16: bool, quads: bool) {
    if quads {
        quad_output_slot(p, d, native_f16);
    } else {
        output_slot(p, d, native_f16);
    }
}

impl Gpu<'_> {
    /// One elementwise dispatch over `shape` (unary, cast, binary, where).
    pub(in crate::backend::gpu) fn elementwise(
        &self,
        key_of: impl Fn(Layout) -> ElementwiseKey,
        shape: &[i32],
        inputs: &[&Data],
        out_dtype: Dtype,
    ) -> Result<Data> {
        let plan = self.elementwise_plan(shape, inputs, out_dtype)?;
        let key = KernelKey::Elementwise(key_of(plan.layout));
        self.elementwise_dispatch(&key, || self.ctx.pipeline(&key), plan, inputs, shape)
    }

    /// The layout, `info` table and grid of an elementwise dispatch of `inputs` (views of
    /// `shape`) into a new `out_dtype` output; the generated fused kernels share it.
    pub(in crate::backend::gpu) fn elementwise_plan(
        &self,
        shape: &[i32],
        inputs: &[&Data],
        out_dtype: Dtype,
    ) -> Result<ElementwisePlan> {
        let n = size_of(shape);
        self.check_index_range(n)?;
        let out = self.out(out_dtype, n)?;
        // Quads (see quad_broadcast_loader): every input dense or a broadcast that reads whole
        // quads or one element per quad.
        let quad_inputs: Option<Vec<(u32, u32)>> = if n.is_multiple_of(4) {
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
        let mut info = vec![0u32; info::TABLE];
        info[info::N] = n as u32;
        if layout == Layout::Strided {
            info[info::NDIM] = shape.len() as u32;
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
            // Contiguous and quad layouts (ndim 0): the offsets, then (quads) each (period, repeat).
            info.extend(inputs.iter().map(|d| d.offset as u32));
            for &(period, repeat) in quad_inputs.iter().flatten() {
                info.extend([period, repeat]);
            }
        }
        let invocations = if layout == Layout::Vec4 {
            quad_invocations((n / 4) as u64)
        } else {
            n.div_ceil(per_word(out_dtype, self.ctx.native_f16) as usize) as u64
        };
        Ok(ElementwisePlan {
            layout,
            info,
            groups: grid(invocations.div_ceil(WG as u64), self.max_groups()),
            out,
            out_dtype,
        })
    }

    /// Records the dispatch `plan` describes with the kernel `pipeline` builds.
    pub(in crate::backend::gpu) fn elementwise_dispatch(
        &self,
        label: &dyn fmt::Display,
        pipeline: impl FnOnce() -> Result<Arc<Kernel>>,
        plan: ElementwisePlan,
        inputs: &[&Data],
        shape: &[i32],
    ) -> Result<Data> {
        let mut bufs: Vec<&Arc<GpuBuffer>> =
            inputs.iter().map(|d| buf(d)).collect::<Result<_>>()?;
        bufs.push(&plan.out);
        self.ctx
            .record(self.stream, label, pipeline, &bufs, &plan.info, plan.groups)?;
        Ok(self.data(plan.out.clone(), plan.out_dtype, shape))
    }

    /// `x` (a view of `shape`) converted to `to`, dense.
    pub(in crate::backend::gpu) fn cast(
        &self,
        shape: &[i32],
        x: &Data,
        from: Dtype,
        to: Dtype,
    ) -> Result<Data> {
        self.elementwise(
            |layout| ElementwiseKey::Cast { from, to, layout },
            shape,
            &[x],
            to,
        )
    }
}

/// How a quad-layout kernel reads `d` over `shape` (n a multiple of 4): `(0, 0)` dense (offset a
/// multiple of 4), or `(period, repeat)` with output element i reading `offset + (i / repeat) %
/// period`: trailing broadcast axes make `repeat`, the row-major axes before them `period`, and
/// every axis before those must be broadcast. Usable when repeat is a multiple of 4 (one element
/// per quad), or repeat is 1 and period and offset are multiples of 4 (whole quads).
fn quad_pattern(shape: &[i32], d: &Data) -> Option<(u32, u32)> {
    let aligned = d.offset.is_multiple_of(4);
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
    let ok = repeat.is_multiple_of(4) || (repeat == 1 && period % 4 == 0 && aligned);
    (ok && d.offset < 1 << 30).then_some((period as u32, repeat as u32))
}

/// `Some(period)` when a view of `shape` with `strides` reads element `i` at `i % period`:
/// a row-major trailing block (from some axis on) repeated over leading axes of stride 0 (or
/// size 1). `period == size` means dense. `None` for any other layout, or for an empty array.
pub(super) fn repeated_block(shape: &[i32], strides: &[isize]) -> Option<usize> {
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
