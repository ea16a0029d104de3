//! The reduce families (`shaders/reduce.wgsl`: sum, prod, max, min, all, any over any axes;
//! `shaders/arg_reduce.wgsl`: argmax, argmin along one axis): their keys, preludes, `info` tables
//! and the host code that plans the passes (chunks, quads) and dispatches.

use super::slots::{accumulator_prelude, compute_type, input_slot, literal, short, widen};
use super::{Family, KernelKey, WG, info_words, write_info};
use crate::backend::Data;
use crate::backend::gpu::{Gpu, buf, grid};
use crate::dtype::{Domain, Dtype};
use crate::error::{Error, Result};
use crate::primitive::{ArgReduceOp, ReduceOp};
use crate::shape::{row_major_strides, size_of};
use std::fmt::{self, Write};

pub(super) const REDUCE: &str = include_str!("../../../../shaders/reduce.wgsl");
const ARG_REDUCE: &str = include_str!("../../../../shaders/arg_reduce.wgsl");
/// reduce.wgsl's value source for one input (`in0`) and a plain store.
const PLAIN_SOURCE: &str = "@group(0) @binding(1) var<storage, read> in0: array<S_IN0>;
@group(0) @binding(2) var<storage, read_write> out: array<S_OUT>;
const NIN: u32 = 1u;
alias Bases = array<i32, 1>;
alias C_SRC = C_IN0;
alias C_ACC = C_OUT;
fn src_at(b: Bases) -> C_SRC { return load_in0(u32(b[0])); }
fn src4_at(q: u32) -> vec4<C_SRC> { return load4_in0(q); }
fn store_result(i: u32, v: C_ACC) { store_out1(i, v); }
";

/// One reduction kernel.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ReduceKey {
    /// Reduction of `input` into an unpacked accumulator dtype `acc`.
    Reduce {
        op: ReduceOp,
        input: Dtype,
        acc: Dtype,
        shape: ReduceShape,
    },
    /// argmax/argmin of `dtype` along one axis.
    ArgReduce { op: ArgReduceOp, dtype: Dtype },
}

/// How a reduction is spread over invocations (one entry point of reduce.wgsl each).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReduceShape {
    /// One invocation per output (short reductions).
    Thread,
    /// One workgroup per (output, chunk), any strides.
    Workgroup,
    /// One workgroup per (output, chunk) over a dense run read four elements at a time (the
    /// run's length, its chunks and every output's start are multiples of 4).
    Quads,
}

impl ReduceShape {
    /// Every shape.
    pub const ALL: [ReduceShape; 3] = [
        ReduceShape::Thread,
        ReduceShape::Workgroup,
        ReduceShape::Quads,
    ];

    /// Its entry point in reduce.wgsl.
    pub fn entry_point(self) -> &'static str {
        match self {
            ReduceShape::Thread => "reduce_thread",
            ReduceShape::Workgroup => "reduce_wg",
            ReduceShape::Quads => "reduce_vec4",
        }
    }
}

info_words! {
    /// The reduce `info` table: `[n_out, rsize, n_chunks, chunk_len, on, out_shape[on],
    /// out_strides[on], rn, red_shape[rn], red_strides[rn], offset]` (strides, offset: i32 bits).
    mod info {
        N_OUT = 0,
        RSIZE = 1,
        N_CHUNKS = 2,
        CHUNK_LEN = 3,
        KEPT_NDIM = 4,
    }
}

/// A reduction's dispatch (see [`Gpu::reduce_plan`]).
pub(in crate::backend::gpu) struct ReducePlan {
    pub shape: ReduceShape,
    pub n_out: usize,
    pub n_chunks: usize,
    pub info: Vec<u32>,
    pub groups: [u32; 3],
}

info_words! {
    /// The arg-reduce `info` table: `[n_out, axis_size, axis_stride, offset, on, out_shape[on],
    /// out_strides[on]]` (strides, offset: i32 bits).
    mod arg_info {
        N_OUT = 0,
        AXIS_SIZE = 1,
        AXIS_STRIDE = 2,
        OFFSET = 3,
        KEPT_NDIM = 4,
    }
}

/// The `INFO_*` words of the reduce table (the fused reductions share them).
pub(super) fn reduce_info_prelude(p: &mut String) {
    write_info(p, info::NAMED);
}

/// The WGSL combining accumulators `a` and `b` of domain `ad` for `op`.
pub(super) fn combiner(op: ReduceOp, ad: Domain) -> &'static str {
    match op {
        ReduceOp::All => "min(a, b)",
        ReduceOp::Any => "max(a, b)",
        ReduceOp::Sum | ReduceOp::Prod | ReduceOp::Max | ReduceOp::Min => {
            op.combiner().wgsl(ad).unwrap_or("a")
        }
    }
}

/// The reduce key for `op` over `input` (MLX output dtype = input dtype after the ops layer's casts).
pub fn reduce_key(op: ReduceOp, input: Dtype, shape: ReduceShape, native_f16: bool) -> KernelKey {
    KernelKey::Reduce(ReduceKey::Reduce {
        op,
        input,
        acc: widen(input, native_f16),
        shape,
    })
}

/// True when the reduce kernels take `dtype` for `op` (all/any: bool only; the rest: not bool).
fn reduce_supports(op: ReduceOp, dtype: Dtype) -> bool {
    match op {
        ReduceOp::All | ReduceOp::Any => dtype == Dtype::Bool,
        ReduceOp::Sum | ReduceOp::Prod | ReduceOp::Max | ReduceOp::Min => dtype != Dtype::Bool,
    }
}

impl fmt::Display for ReduceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entry = self.entry();
        match *self {
            ReduceKey::Reduce { op, input, acc, .. } => {
                write!(f, "{entry}.{}.{}.{}", op.name(), short(input), short(acc))
            }
            ReduceKey::ArgReduce { op, dtype } => {
                write!(f, "{entry}.{}.{}", op.name(), short(dtype))
            }
        }
    }
}

impl Family for ReduceKey {
    fn entry(&self) -> &'static str {
        match *self {
            ReduceKey::Reduce { shape, .. } => shape.entry_point(),
            ReduceKey::ArgReduce { .. } => "arg_reduce",
        }
    }

    fn out_dtype(&self) -> Dtype {
        match *self {
            ReduceKey::Reduce { acc, .. } => acc,
            ReduceKey::ArgReduce { .. } => Dtype::Uint32,
        }
    }

    fn trusted(&self) -> bool {
        match self {
            ReduceKey::Reduce { .. } => true,
            ReduceKey::ArgReduce { .. } => false,
        }
    }

    fn uses_f16(&self) -> bool {
        match *self {
            ReduceKey::Reduce { input, acc, .. } => {
                input == Dtype::Float16 || acc == Dtype::Float16
            }
            ReduceKey::ArgReduce { dtype, .. } => dtype == Dtype::Float16,
        }
    }

    fn prelude(&self, p: &mut String, native_f16: bool) -> &'static str {
        match *self {
            ReduceKey::Reduce {
                op,
                input,
                acc,
                shape,
            } => {
                write_info(p, info::NAMED);
                let ad = acc.domain();
                let comb = combiner(op, ad);
                let quads = shape == ReduceShape::Quads;
                accumulator_prelude(p, input, acc, comb, op.identity(ad), native_f16, quads);
                p.push_str(PLAIN_SOURCE);
                REDUCE
            }
            ReduceKey::ArgReduce { op, dtype } => {
                write_info(p, arg_info::NAMED);
                input_slot(p, "in0", dtype, native_f16);
                let d = dtype.domain();
                let k = compute_type(d);
                let _ = writeln!(p, "alias K = {k};");
                let _ = writeln!(p, "fn to_key(x: C_IN0) -> K {{ return x; }}");
                let (cmp, worst) = match op {
                    ArgReduceOp::ArgMax => (">", ReduceOp::Max.identity(d)),
                    ArgReduceOp::ArgMin => ("<", ReduceOp::Min.identity(d)),
                };
                // NaN counts as the extreme, as in NumPy.
                let nan = if d == Domain::Float {
                    " || (wmx_isnan(a) && !wmx_isnan(b))"
                } else {
                    ""
                };
                let _ = writeln!(
                    p,
                    "fn better(a: K, b: K) -> bool {{ return a {cmp} b{nan}; }}"
                );
                let _ = writeln!(p, "fn worst() -> K {{ return {}; }}", literal(worst, d));
                ARG_REDUCE
            }
        }
    }

    fn all(native_f16: bool) -> Vec<Self> {
        let mut keys = Vec::new();
        for dtype in Dtype::ALL {
            if dtype != Dtype::Bool {
                for op in [ArgReduceOp::ArgMax, ArgReduceOp::ArgMin] {
                    keys.push(ReduceKey::ArgReduce { op, dtype });
                }
            }
            for &op in ReduceOp::ALL {
                if reduce_supports(op, dtype) {
                    for shape in ReduceShape::ALL {
                        keys.push(ReduceKey::Reduce {
                            op,
                            input: dtype,
                            acc: widen(dtype, native_f16),
                            shape,
                        });
                    }
                }
            }
        }
        keys
    }
}

impl Gpu<'_> {
    /// How to reduce `views` (the inputs of one reduction, each a view of `in_shape`) over
    /// `axes`: the kernel shape, the sizes and the `info` table (reduce.wgsl). `quads` allows
    /// the quad shape (every input must then share input 0's dense layout).
    pub(in crate::backend::gpu) fn reduce_plan(
        &self,
        in_shape: &[i32],
        views: &[&Data],
        axes: &[usize],
        quads: bool,
    ) -> Result<ReducePlan> {
        let x = views.first().ok_or_else(|| Error::Backend {
            op: "reduce",
            msg: "invariant: a reduction without inputs".into(),
        })?;
        let kept: Vec<usize> = (0..in_shape.len()).filter(|a| !axes.contains(a)).collect();
        let n_out: usize = kept.iter().map(|&a| in_shape[a] as usize).product();
        let rsize: usize = axes.iter().map(|&a| in_shape[a] as usize).product();
        self.check_index_range(n_out.max(rsize))?;
        // Reduced axes as runs of one size and a stride per input, merging neighbours that are
        // contiguous with each other in every input (a row-major trailing block becomes one run,
        // which the kernel indexes directly).
        let mut runs: Vec<(i64, Vec<i64>)> = Vec::new();
        for &a in axes {
            let d = in_shape[a] as i64;
            let st: Vec<i64> = views.iter().map(|v| v.strides[a] as i64).collect();
            match runs.last_mut() {
                Some(last) if last.1.iter().zip(&st).all(|(l, s)| *l == d * s) => {
                    *last = (last.0 * d, st)
                }
                _ => runs.push((d, st)),
            }
        }
        let per_thread = rsize <= 32;
        // A few long rows: first pass reduces chunks into partials, second pass the partials.
        let n_chunks = if !per_thread && n_out < 256 && rsize > 1 << 16 {
            rsize.div_ceil(1 << 14).min(4096)
        } else {
            1
        };
        // Chunks of whole quads when the reduced run is dense (see ReduceShape::Quads).
        let chunk_len = rsize.div_ceil(n_chunks).next_multiple_of(4).max(1);
        let quads = quads
            && !per_thread
            && runs.len() == 1
            && runs[0].1[0] == 1
            && rsize.is_multiple_of(4)
            && views
                .iter()
                .all(|v| v.strides == x.strides && v.offset.is_multiple_of(4))
            && kept
                .iter()
                .all(|&a| in_shape[a] == 1 || x.strides[a] % 4 == 0);
        let shape = match (per_thread, quads) {
            (true, _) => ReduceShape::Thread,
            (false, true) => ReduceShape::Quads,
            (false, false) => ReduceShape::Workgroup,
        };
        let mut info = vec![0u32; info::KEPT_NDIM];
        info[info::N_OUT] = n_out as u32;
        info[info::RSIZE] = rsize as u32;
        info[info::N_CHUNKS] = n_chunks as u32;
        info[info::CHUNK_LEN] = chunk_len as u32;
        info.push(kept.len() as u32);
        info.extend(kept.iter().map(|&a| in_shape[a] as u32));
        for v in views {
            info.extend(kept.iter().map(|&a| v.strides[a] as i32 as u32));
        }
        info.push(runs.len() as u32);
        info.extend(runs.iter().map(|(d, _)| *d as u32));
        for k in 0..views.len() {
            info.extend(runs.iter().map(|(_, st)| st[k] as i32 as u32));
        }
        info.extend(views.iter().map(|v| v.offset as u32));
        // Quads of input k sit (offset_k - offset_0) / 4 quads from input 0's.
        info.extend(
            views
                .iter()
                .map(|v| ((v.offset as i64 - x.offset as i64) / 4) as i32 as u32),
        );
        let groups = if per_thread {
            (n_out as u64).div_ceil(WG as u64)
        } else {
            (n_out * n_chunks) as u64
        };
        Ok(ReducePlan {
            shape,
            n_out,
            n_chunks,
            info,
            groups: grid(groups, self.max_groups()),
        })
    }

    /// The second pass of a chunked reduction: `partials` (`[n_out, n_chunks]` of `acc`)
    /// reduced into `[n_out, 1]`.
    pub(in crate::backend::gpu) fn reduce_partials(
        &self,
        op: ReduceOp,
        partials: &Data,
        plan: &ReducePlan,
        acc: Dtype,
    ) -> Result<Data> {
        let op2 = match op {
            ReduceOp::All => ReduceOp::Min,
            ReduceOp::Any => ReduceOp::Max,
            ReduceOp::Sum | ReduceOp::Prod | ReduceOp::Max | ReduceOp::Min => op,
        };
        let (n_out, n_chunks) = (plan.n_out as i32, plan.n_chunks as i32);
        self.reduce(op2, &[n_out, n_chunks], partials, &[1], &[n_out, 1], acc)
    }

    /// Reduction of `x` over `axes`; output dense with the node's (keepdims) shape.
    pub(in crate::backend::gpu) fn reduce(
        &self,
        op: ReduceOp,
        in_shape: &[i32],
        x: &Data,
        axes: &[usize],
        out_shape: &[i32],
        out_dtype: Dtype,
    ) -> Result<Data> {
        let plan = self.reduce_plan(in_shape, &[x], axes, true)?;
        let key = reduce_key(op, x.storage.dtype, plan.shape, self.ctx.native_f16);
        let acc = key.out_dtype();
        let partial = self.out(acc, plan.n_out * plan.n_chunks)?;
        self.ctx.dispatch(
            self.stream,
            &key,
            &[buf(x)?, &partial],
            &plan.info,
            plan.groups,
        )?;
        let n = [plan.n_out as i32, plan.n_chunks as i32];
        let mut result = self.data(partial, acc, &n);
        if plan.n_chunks > 1 {
            result = self.reduce_partials(op, &result, &plan, acc)?;
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

    /// argmax / argmin of `x` along `axis` into dense uint32 indices.
    pub(in crate::backend::gpu) fn arg_reduce(
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
        let mut info = vec![0u32; arg_info::KEPT_NDIM];
        info[arg_info::N_OUT] = n_out as u32;
        info[arg_info::AXIS_SIZE] = in_shape[axis] as u32;
        info[arg_info::AXIS_STRIDE] = x.strides[axis] as i32 as u32;
        info[arg_info::OFFSET] = x.offset as u32;
        info.push(kept.len() as u32);
        info.extend(kept.iter().map(|&a| in_shape[a] as u32));
        info.extend(kept.iter().map(|&a| x.strides[a] as i32 as u32));
        let key = KernelKey::Reduce(ReduceKey::ArgReduce {
            op,
            dtype: x.storage.dtype,
        });
        self.ctx.dispatch(
            self.stream,
            &key,
            &[buf(x)?, &out],
            &info,
            grid(n_out as u64, self.max_groups()),
        )?;
        Ok(self.data(out, Dtype::Uint32, out_shape))
    }
}
