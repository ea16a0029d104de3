//! Generated kernels of fused reductions (`compile`; `Primitive::FusedReduce`): reduce.wgsl and
//! softmax.wgsl with a generated value source instead of one input. The prologue (a
//! `FusedExpr` over the reduction's inputs) is rendered by the fused elementwise generator and
//! evaluated where the family reads its input, and a reduction's epilogue (over the reduced
//! value) where it stores its result, so neither intermediate reaches memory. Every value is
//! rounded to its dtype as the unfused nodes would store it, so results agree with the unfused
//! graph bit for bit. Sources are cached by their structural key (`pipeline_keyed`).

use super::elementwise::{MATH, repeated_block};
use super::fused::{clipped, render_expr, round, ty};
use super::reduce::{REDUCE, ReduceShape, combiner, reduce_info_prelude};
use super::slots::{
    BF16_ROUND, cast_expr, input_slot, literal, output_slot, quad_input_slot, quad_output_slot,
    widen,
};
use super::softmax::{SOFTMAX, softmax_info_prelude, softmax_workgroup};
use super::{F16_BITS, PRELUDE, WG};
use crate::backend::Data;
use crate::backend::gpu::{Gpu, buf, grid};
use crate::compile::{FusedExpr, FusedReduction, Reduction};
use crate::dtype::Dtype;
use crate::error::{Error, Result};
use crate::shape::{row_major_strides, size_of};
use std::collections::HashSet;
use std::fmt::Write;

/// Which kernel of a fused reduction: a reduce.wgsl entry point (with or without the epilogue
/// in its store), or a softmax.wgsl one with its workgroup size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FusedReduceKernel {
    Reduce { shape: ReduceShape, epilogue: bool },
    Softmax { vec4: bool, wg: u32 },
}

impl FusedReduceKernel {
    /// Its entry point.
    pub fn entry(self) -> &'static str {
        match self {
            FusedReduceKernel::Reduce { shape, .. } => shape.entry_point(),
            FusedReduceKernel::Softmax { vec4: true, .. } => "softmax_vec4",
            FusedReduceKernel::Softmax { vec4: false, .. } => "softmax_rows",
        }
    }
}

fn invariant(msg: &str) -> Error {
    Error::Backend {
        op: "fused_reduce",
        msg: format!("invariant: {msg}"),
    }
}

/// `period_index(at, i)`: element `i` of an input whose (offset, period) pair sits at
/// `info[at]`: offset + i (period 0, dense) or offset + i % period (a repeated block).
const PERIOD_INDEX: &str = "fn period_index(at: u32, i: u32) -> u32 {
    let period = info[at + 1u];
    return info[at] + select(i, i % max(period, 1u), period != 0u);
}
";

/// Every dtype a fused reduction's kernel touches.
fn dtypes(red: &FusedReduction) -> Vec<Dtype> {
    let of = |e: &FusedExpr| {
        (0..e.inputs.len() + e.steps.len())
            .map(|v| e.dtype_of(v))
            .collect::<Vec<_>>()
    };
    let mut all = of(&red.prologue);
    all.extend(red.epilogue.iter().flat_map(of));
    all.push(red.red_dtype());
    all
}

/// The complete WGSL module of `red` for `kernel`.
pub fn render_fused_reduce(
    red: &FusedReduction,
    kernel: FusedReduceKernel,
    native_f16: bool,
) -> Result<String> {
    let pro = &red.prologue;
    if !pro.well_formed() || !red.epilogue.as_ref().is_none_or(|e| e.well_formed()) {
        return Err(invariant(&format!("malformed {}", red.describe())));
    }
    let n = pro.inputs.len();
    let src = pro.out_dtype();
    let all = dtypes(red);
    let mut p = String::new();
    if native_f16 && all.contains(&Dtype::Float16) {
        p.push_str("enable f16;\n");
    }
    let wg = match kernel {
        FusedReduceKernel::Softmax { wg, .. } => wg,
        FusedReduceKernel::Reduce { .. } => WG,
    };
    let _ = writeln!(
        p,
        "// ---- generated prelude for {}.{} (f16 {}) ----",
        kernel.entry(),
        red.describe(),
        if native_f16 { "native" } else { "packed" }
    );
    let _ = writeln!(p, "const WG: u32 = {wg}u;");
    p.push_str(PRELUDE);
    if !native_f16 {
        p.push_str(F16_BITS);
    }
    let quads = matches!(
        kernel,
        FusedReduceKernel::Reduce {
            shape: ReduceShape::Quads,
            ..
        }
    );
    for (k, &d) in pro.inputs.iter().enumerate() {
        if quads {
            quad_input_slot(&mut p, &format!("x{k}"), d, native_f16);
        } else {
            input_slot(&mut p, &format!("x{k}"), d, native_f16);
        }
        let _ = writeln!(
            p,
            "@group(0) @binding({}) var<storage, read> x{k}: array<S_X{k}>;",
            k + 1
        );
    }
    if all.contains(&Dtype::Bfloat16) {
        p.push_str(BF16_ROUND);
    }
    p.push_str(MATH);
    let mut fns = HashSet::new();
    render_expr(&mut p, &mut fns, pro, "pro_at", native_f16);
    let family = match (&red.reduction, kernel) {
        (Reduction::Reduce { op, dtype, .. }, FusedReduceKernel::Reduce { epilogue, .. }) => {
            reduce_info_prelude(&mut p);
            let acc = widen(src, native_f16);
            let ad = acc.domain();
            let epi = red.epilogue.as_ref().filter(|_| epilogue);
            let res = epi.map_or(acc, |e| widen(e.out_dtype(), native_f16));
            // The epilogue's other inputs follow the prologue's (element i of the output reads
            // element offset + i, or offset + i % period, of each: `ext_index`).
            let extra = epi.map_or(&[][..], |e| &e.inputs[1..]);
            for (j, &d) in extra.iter().enumerate() {
                input_slot(&mut p, &format!("e{j}"), d, native_f16);
                let _ = writeln!(
                    p,
                    "@group(0) @binding({}) var<storage, read> e{j}: array<S_E{j}>;",
                    n + 1 + j
                );
            }
            output_slot(&mut p, res, native_f16);
            let _ = writeln!(
                p,
                "@group(0) @binding({}) var<storage, read_write> out: array<S_OUT>;",
                n + extra.len() + 1
            );
            let _ = writeln!(p, "const NIN: u32 = {n}u;\nalias Bases = array<i32, {n}>;");
            let _ = writeln!(p, "alias C_SRC = {};\nalias C_ACC = {};", ty(src), ty(acc));
            let _ = writeln!(
                p,
                "fn to_acc(x: C_SRC) -> C_ACC {{ return {}; }}",
                cast_expr(src.domain(), ad)
            );
            let _ = writeln!(
                p,
                "fn combine(a: C_ACC, b: C_ACC) -> C_ACC {{ return {}; }}",
                combiner(*op, ad)
            );
            let _ = writeln!(
                p,
                "fn identity() -> C_ACC {{ return {}; }}",
                literal(op.identity(ad), ad)
            );
            let loads: Vec<String> = (0..n).map(|k| format!("load_x{k}(u32(b[{k}]))")).collect();
            let _ = writeln!(
                p,
                "fn src_at(b: Bases) -> C_SRC {{ return pro_at({}); }}",
                loads.join(", ")
            );
            // Quads: input k's quad sits info[qd + k] quads from input 0's (reduce_plan).
            let quad_loads: String = (0..n)
                .map(|k| {
                    format!(
                        "    let a{k} = load4_x{k}(u32(i32(q) + bitcast<i32>(info[qd + {k}u])));\n"
                    )
                })
                .collect();
            let lanes: Vec<String> = (0..n).map(|k| format!("a{k}[j]")).collect();
            let _ = writeln!(
                p,
                "fn src4_at(q: u32) -> vec4<C_SRC> {{
    let on = info[INFO_KEPT_NDIM];
    let rb = INFO_KEPT_NDIM + 1u + on * (1u + NIN);
    let qd = rb + 1u + info[rb] * (1u + NIN) + NIN;
{quad_loads}    var r: vec4<C_SRC>;
    for (var j = 0u; j < 4u; j++) {{ r[j] = pro_at({}); }}
    return r;
}}",
                lanes.join(", ")
            );
            match epi {
                Some(e) => {
                    render_expr(&mut p, &mut fns, e, "epi_at", native_f16);
                    let _ = writeln!(
                        p,
                        "fn to_red(x: C_ACC) -> {} {{ return {}; }}",
                        ty(*dtype),
                        cast_expr(ad, dtype.domain())
                    );
                    p.push_str(PERIOD_INDEX);
                    let _ = writeln!(
                        p,
                        "fn ext_index(i: u32, j: u32) -> u32 {{
    let on = info[INFO_KEPT_NDIM];
    let rb = INFO_KEPT_NDIM + 1u + on * (1u + NIN);
    return period_index(rb + 1u + info[rb] * (1u + NIN) + 2u * NIN + 2u * j, i);
}}"
                    );
                    let mut args = vec![round(*dtype, "to_red(v)", native_f16)];
                    args.extend((0..extra.len()).map(|j| format!("load_e{j}(ext_index(i, {j}u))")));
                    let _ = writeln!(
                        p,
                        "fn store_result(i: u32, v: C_ACC) {{ store_out1(i, epi_at({})); }}",
                        args.join(", ")
                    );
                }
                None => {
                    let _ = writeln!(
                        p,
                        "fn store_result(i: u32, v: C_ACC) {{ store_out1(i, v); }}"
                    );
                }
            }
            REDUCE
        }
        (Reduction::Softmax, FusedReduceKernel::Softmax { vec4, .. }) => {
            softmax_info_prelude(&mut p);
            let out = widen(src, native_f16);
            if vec4 {
                quad_output_slot(&mut p, out, native_f16);
            } else {
                output_slot(&mut p, out, native_f16);
            }
            let _ = writeln!(
                p,
                "@group(0) @binding({}) var<storage, read_write> out: array<S_OUT>;",
                n + 1
            );
            // Input k reads element i at offset_k + i (period 0: dense) or offset_k + i % period.
            p.push_str(PERIOD_INDEX);
            let _ = writeln!(
                p,
                "fn src_index(i: u32, k: u32) -> u32 {{ return period_index(INFO_LEN + 1u + 2u * k, i); }}"
            );
            let loads: Vec<String> = (0..n)
                .map(|k| format!("load_x{k}(src_index(i, {k}u))"))
                .collect();
            let _ = writeln!(
                p,
                "fn load_in0(i: u32) -> f32 {{ return pro_at({}); }}",
                loads.join(", ")
            );
            let _ = writeln!(
                p,
                "fn load4_in0(q: u32) -> vec4<f32> {{ let i = q * 4u; \
                 return vec4<f32>(load_in0(i), load_in0(i + 1u), load_in0(i + 2u), load_in0(i + 3u)); }}"
            );
            SOFTMAX
        }
        _ => return Err(invariant("kernel of another reduction")),
    };
    let _ = writeln!(p, "// ---- family ----");
    p.push_str(family);
    Ok(p)
}

/// The kernel's label: entry point and a short description.
fn label(red: &FusedReduction, kernel: FusedReduceKernel) -> String {
    format!("fused_{}.{}", kernel.entry(), clipped(red.describe()))
}

impl Gpu<'_> {
    /// `d` (a view of `shape`) as a kernel reads it by element index alone: itself with its
    /// period (0: dense from its offset; p: element i at offset + i % p, a row-major block
    /// repeated), or a dense copy.
    fn offset_period(&self, shape: &[i32], d: &Data) -> Result<(Data, u32)> {
        let n = size_of(shape);
        Ok(match repeated_block(shape, &d.strides) {
            Some(p) if d.offset < 1 << 30 => (d.clone(), if p == n { 0 } else { p as u32 }),
            _ => (self.dense_from_start(shape, d)?, 0),
        })
    }

    /// Records `kernel` of `red` over `bufs` (the inputs, then the output).
    fn fused_reduce_dispatch(
        &self,
        red: &FusedReduction,
        kernel: FusedReduceKernel,
        views: &[&Data],
        out: &std::sync::Arc<crate::backend::gpu::context::GpuBuffer>,
        info: &[u32],
        groups: [u32; 3],
    ) -> Result<()> {
        let ctx = self.ctx;
        let name = label(red, kernel);
        let key = format!("{kernel:?}|{red:?}");
        let build = || {
            ctx.pipeline_keyed(&key, &name, kernel.entry(), true, || {
                render_fused_reduce(red, kernel, ctx.native_f16)
            })
        };
        let mut bufs = views.iter().map(|d| buf(d)).collect::<Result<Vec<_>>>()?;
        bufs.push(out);
        ctx.record(self.stream, &name, build, &bufs, info, groups)
    }

    /// Runs a fused reduction: one generated kernel (a chunked reduction of a few long rows adds
    /// the partials' pass and runs its epilogue as a fused elementwise kernel).
    pub(in crate::backend::gpu) fn fused_reduce(
        &self,
        red: &FusedReduction,
        inputs: &[(Vec<i32>, Data)],
    ) -> Result<Data> {
        let n_pro = red.prologue.inputs.len();
        if inputs.len() != n_pro + red.n_extra() {
            return Err(invariant("input count differs from the fused reduction's"));
        }
        let (inputs, extra) = inputs.split_at(n_pro);
        let nf16 = self.ctx.native_f16;
        let src = red.prologue.out_dtype();
        match &red.reduction {
            Reduction::Reduce { op, axes, dtype } => {
                let views: Vec<&Data> = inputs.iter().map(|(_, d)| d).collect();
                let mut plan = self.reduce_plan(&red.in_shape, &views, axes, true)?;
                let epilogue = red.epilogue.is_some() && plan.n_chunks == 1;
                let shape = &red.out_shape;
                // The epilogue's other inputs: read in place when dense or a repeated block,
                // else copied dense first; (offset, period) each at the table's end.
                let mut bound: Vec<Data> = views.iter().map(|d| (*d).clone()).collect();
                if epilogue {
                    for (_, d) in extra {
                        let (d, period) = self.offset_period(shape, d)?;
                        plan.info.extend([d.offset as u32, period]);
                        bound.push(d);
                    }
                }
                let views: Vec<&Data> = bound.iter().collect();
                let kernel = FusedReduceKernel::Reduce {
                    shape: plan.shape,
                    epilogue,
                };
                let acc = widen(src, nf16);
                let res = match (&red.epilogue, epilogue) {
                    (Some(e), true) => widen(e.out_dtype(), nf16),
                    _ => acc,
                };
                let out = self.out(res, plan.n_out * plan.n_chunks)?;
                self.fused_reduce_dispatch(red, kernel, &views, &out, &plan.info, plan.groups)?;
                let n = [plan.n_out as i32, plan.n_chunks as i32];
                let mut r = self.data(out, res, &n);
                if plan.n_chunks > 1 {
                    r = self.reduce_partials(*op, &r, &plan, acc)?;
                }
                let r = Data {
                    strides: row_major_strides(shape),
                    ..r
                };
                match &red.epilogue {
                    Some(e) if epilogue => {
                        let to = e.out_dtype();
                        if res != to {
                            return self.cast(shape, &r, res, to);
                        }
                        Ok(r)
                    }
                    epi => {
                        let r = if acc != *dtype {
                            self.cast(shape, &r, acc, *dtype)?
                        } else {
                            r
                        };
                        match epi {
                            Some(e) => {
                                let mut ins = vec![(shape.clone(), r)];
                                ins.extend(extra.iter().cloned());
                                self.fused(e, shape, &ins)
                            }
                            None => Ok(r),
                        }
                    }
                }
            }
            Reduction::Softmax => {
                let shape = &red.in_shape;
                let n = size_of(shape);
                self.check_index_range(n)?;
                let len = shape.last().copied().unwrap_or(1).max(1) as u32;
                // Dense inputs and row-major blocks repeated (a mask over heads) are read in
                // place; any other view is copied dense first.
                let mut owned: Vec<Data> = Vec::new();
                let mut info = vec![n as u32 / len, len];
                for (_, d) in inputs {
                    let (d, period) = self.offset_period(shape, d)?;
                    info.extend([d.offset as u32, period]);
                    owned.push(d);
                }
                let views: Vec<&Data> = owned.iter().collect();
                let limits = &self.ctx.limits;
                let max_wg = limits
                    .max_compute_invocations_per_workgroup
                    .min(limits.max_compute_workgroup_size_x);
                let kernel = FusedReduceKernel::Softmax {
                    vec4: len.is_multiple_of(4),
                    wg: softmax_workgroup(len, max_wg),
                };
                let out_dt = widen(src, nf16);
                let out = self.out(out_dt, n)?;
                let rows = (n as u32 / len) as u64;
                self.fused_reduce_dispatch(
                    red,
                    kernel,
                    &views,
                    &out,
                    &info,
                    grid(rows, self.max_groups()),
                )?;
                let r = self.data(out, out_dt, shape);
                if out_dt != src {
                    return self.cast(shape, &r, out_dt, src);
                }
                Ok(r)
            }
        }
    }
}

/// Representative fused reductions for the shader translation tests: every reduce op over a
/// two-input prologue per dtype, with and without an epilogue, in each reduce shape, and a
/// fused softmax per float dtype in both layouts. Returns `(name, source, entry point)`.
pub fn fused_reduce_samples(native_f16: bool) -> Vec<(String, String, &'static str)> {
    use crate::compile::{Step, StepOp};
    use crate::primitive::{BinaryOp, ReduceOp};
    let step = |op: StepOp, args: Vec<usize>, dtype: Dtype| Step { op, args, dtype };
    let epilogue = |d: Dtype| {
        FusedExpr::new(
            vec![d],
            vec![
                step(StepOp::Cast, vec![0], Dtype::Float32),
                step(StepOp::Scalar(0.5), vec![], Dtype::Float32),
                step(
                    StepOp::Binary(BinaryOp::Multiply),
                    vec![1, 2],
                    Dtype::Float32,
                ),
            ],
        )
    };
    let mut reds: Vec<(String, FusedReduction, Vec<FusedReduceKernel>)> = Vec::new();
    let reduce_kernels: Vec<FusedReduceKernel> = ReduceShape::ALL
        .into_iter()
        .flat_map(|shape| {
            [false, true].map(|epilogue| FusedReduceKernel::Reduce { shape, epilogue })
        })
        .collect();
    for d in Dtype::ALL {
        let (pro, ops): (FusedExpr, &[ReduceOp]) = if d == Dtype::Bool {
            let steps = vec![
                step(StepOp::Scalar(0.0), vec![], Dtype::Float32),
                step(StepOp::Binary(BinaryOp::Greater), vec![0, 2], Dtype::Bool),
                step(StepOp::Binary(BinaryOp::Greater), vec![1, 2], Dtype::Bool),
                step(
                    StepOp::Binary(BinaryOp::LogicalAnd),
                    vec![3, 4],
                    Dtype::Bool,
                ),
            ];
            let pro = FusedExpr::new(vec![Dtype::Float32, Dtype::Float32], steps);
            (pro, &[ReduceOp::All, ReduceOp::Any])
        } else {
            let steps = vec![step(StepOp::Binary(BinaryOp::Maximum), vec![0, 1], d)];
            let ops: &[ReduceOp] = &[ReduceOp::Sum, ReduceOp::Prod, ReduceOp::Max, ReduceOp::Min];
            (FusedExpr::new(vec![d, d], steps), ops)
        };
        for &op in ops {
            let red = FusedReduction {
                prologue: pro.clone(),
                in_shape: vec![4, 8],
                reduction: Reduction::Reduce {
                    op,
                    axes: vec![1],
                    dtype: d,
                },
                red_shape: vec![4, 1],
                out_shape: vec![4],
                epilogue: Some(epilogue(d)),
            };
            reds.push((format!("{}.{d}", op.name()), red, reduce_kernels.clone()));
        }
    }
    // An epilogue with another input (logsumexp's `log(sum) + max`).
    for d in [Dtype::Float32, Dtype::Float16] {
        let steps = vec![
            step(StepOp::Unary(crate::primitive::UnaryOp::Log), vec![0], d),
            step(StepOp::Binary(BinaryOp::Add), vec![2, 1], d),
        ];
        let red = FusedReduction {
            prologue: FusedExpr::new(
                vec![d],
                vec![step(
                    StepOp::Unary(crate::primitive::UnaryOp::Exp),
                    vec![0],
                    d,
                )],
            ),
            in_shape: vec![4, 8],
            reduction: Reduction::Reduce {
                op: ReduceOp::Sum,
                axes: vec![1],
                dtype: d,
            },
            red_shape: vec![4, 1],
            out_shape: vec![4, 1],
            epilogue: Some(FusedExpr::new(vec![d, d], steps)),
        };
        reds.push((format!("logsumexp.{d}"), red, reduce_kernels.clone()));
    }
    for d in [Dtype::Float32, Dtype::Float16, Dtype::Bfloat16] {
        let steps = vec![
            step(StepOp::Cast, vec![1], d),
            step(StepOp::Binary(BinaryOp::Add), vec![0, 2], d),
        ];
        let red = FusedReduction {
            prologue: FusedExpr::new(vec![d, Dtype::Float32], steps),
            in_shape: vec![4, 8],
            reduction: Reduction::Softmax,
            red_shape: vec![4, 8],
            out_shape: vec![4, 8],
            epilogue: None,
        };
        let kernels = [false, true]
            .map(|vec4| FusedReduceKernel::Softmax { vec4, wg: WG })
            .to_vec();
        reds.push((format!("softmax.{d}"), red, kernels));
    }
    let mut out = Vec::new();
    for (name, red, kernels) in reds {
        for kernel in kernels {
            if let Ok(src) = render_fused_reduce(&red, kernel, native_f16) {
                let entry = kernel.entry();
                let epi = matches!(kernel, FusedReduceKernel::Reduce { epilogue: true, .. });
                let tag = if epi { ".epilogue" } else { "" };
                out.push((format!("fused_{entry}.sample.{name}{tag}"), src, entry));
            }
        }
    }
    out
}
