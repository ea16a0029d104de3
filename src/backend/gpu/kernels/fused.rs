//! Generated kernels of fused elementwise regions (`compile`; `shaders/fused.wgsl`). A
//! `FusedExpr` is rendered as the elementwise families' prelude (input slots, output slot, index
//! maps, the same `info` table and layouts) for N inputs, plus `expr_at`: one `let` per step,
//! each calling a function made from the op table's WGSL expression for its op and domain — the
//! same text the unfused kernels use, so there is no second list of ops. After each step a value
//! is rounded to its dtype as storing and reloading it would (f16, bf16, uint8), so fused and
//! unfused results agree bit for bit. Sources are cached by text (`pipeline_source`).

use super::elementwise::{
    MATH, elementwise_input, elementwise_output, index_prelude, info_prelude,
};
use super::slots::{BF16_ROUND, cast_expr, compute_type};
use super::{F16_BITS, Layout, PRELUDE, WG};
use crate::backend::Data;
use crate::backend::gpu::Gpu;
use crate::compile::{FusedExpr, StepOp};
use crate::dtype::{ArrayElement, Domain, Dtype};
use crate::error::{Error, Result};
use std::collections::HashSet;
use std::fmt::Write;

const FUSED: &str = include_str!("../../../../shaders/fused.wgsl");

/// The entry point of `layout` in fused.wgsl.
pub fn fused_entry(layout: Layout) -> &'static str {
    match layout {
        Layout::Contig => "fused_contig",
        Layout::Strided => "fused_strided",
        Layout::Vec4 => "fused_vec4",
    }
}

/// WGSL of the value `v` of dtype `d` as stored and read back.
pub(super) fn round(d: Dtype, v: &str, native_f16: bool) -> String {
    match d {
        Dtype::Float16 if native_f16 => format!("f32(f16({v}))"),
        Dtype::Float16 => format!("wmx_f16_to_f32(wmx_f32_to_f16({v}))"),
        Dtype::Bfloat16 => format!("bitcast<f32>(wmx_bf16({v}) << 16u)"),
        Dtype::Uint8 => format!("(({v}) & 0xffu)"),
        Dtype::Float32 | Dtype::Int32 | Dtype::Uint32 | Dtype::Bool => v.to_string(),
    }
}

/// WGSL of the constant `v` in `d`, exact (floats by their bits, as `full` stores them).
fn scalar(v: f64, d: Dtype) -> String {
    // A non-finite constant expression is a shader-creation error in WGSL (Tint rejects it):
    // NaN and infinities come from the prelude's runtime helpers.
    if d.domain() == Domain::Float && !v.is_finite() {
        return match v {
            v if v.is_nan() => "wmx_nan()".into(),
            v if v > 0.0 => "wmx_inf()".into(),
            _ => "(-wmx_inf())".into(),
        };
    }
    match d {
        Dtype::Float32 => format!("bitcast<f32>({:#010x}u)", (v as f32).to_bits()),
        Dtype::Float16 => format!(
            "bitcast<f32>({:#010x}u)",
            half::f16::from_f64(v).to_f32().to_bits()
        ),
        Dtype::Bfloat16 => format!(
            "bitcast<f32>({:#010x}u)",
            half::bf16::from_f64(v).to_f32().to_bits()
        ),
        Dtype::Int32 => format!("bitcast<i32>({:#010x}u)", i32::from_f64(v) as u32),
        Dtype::Uint32 => format!("{}u", u32::from_f64(v)),
        Dtype::Uint8 => format!("{}u", u8::from_f64(v)),
        Dtype::Bool => (v != 0.0).to_string(),
    }
}

pub(super) fn ty(d: Dtype) -> &'static str {
    compute_type(d.domain())
}

/// The complete WGSL module of `expr` for `layout`.
pub fn render_fused(expr: &FusedExpr, layout: Layout, native_f16: bool) -> Result<String> {
    if !expr.well_formed() {
        return Err(Error::Backend {
            op: "fused",
            msg: format!("invariant: malformed expression {}", expr.describe()),
        });
    }
    let n_in = expr.inputs.len();
    let out = expr.out_dtype();
    let all = (0..n_in + expr.steps.len()).map(|v| expr.dtype_of(v));
    let mut p = String::new();
    if native_f16 && all.clone().any(|d| d == Dtype::Float16) {
        p.push_str("enable f16;\n");
    }
    let _ = writeln!(
        p,
        "// ---- generated prelude for {}.{} (f16 {}) ----",
        fused_entry(layout),
        expr.describe(),
        if native_f16 { "native" } else { "packed" }
    );
    let _ = writeln!(p, "const WG: u32 = {WG}u;");
    p.push_str(PRELUDE);
    if !native_f16 {
        p.push_str(F16_BITS);
    }
    info_prelude(&mut p);
    let quads = layout == Layout::Vec4;
    for (k, &d) in expr.inputs.iter().enumerate() {
        elementwise_input(&mut p, k, n_in, d, native_f16, quads);
        let _ = writeln!(
            p,
            "@group(0) @binding({}) var<storage, read> in{k}: array<S_IN{k}>;",
            k + 1
        );
    }
    elementwise_output(&mut p, out, native_f16, quads);
    let _ = writeln!(
        p,
        "@group(0) @binding({}) var<storage, read_write> out: array<S_OUT>;",
        n_in + 1
    );
    if out != Dtype::Bfloat16 && expr.steps.iter().any(|s| s.dtype == Dtype::Bfloat16) {
        p.push_str(BF16_ROUND);
    }
    p.push_str(MATH);
    render_expr(&mut p, &mut HashSet::new(), expr, "expr_at", native_f16);
    let loads: Vec<String> = (0..n_in)
        .map(|k| format!("load_in{k}(wmx_index(i, {k}u))"))
        .collect();
    let _ = writeln!(
        p,
        "fn value_at(i: u32) -> C_OUT {{ return expr_at({}); }}",
        loads.join(", ")
    );
    let quads_in: Vec<String> = (0..n_in)
        .map(|k| format!("let q{k} = quad_in{k}(q);"))
        .collect();
    let lanes: Vec<String> = (0..n_in).map(|k| format!("q{k}[j]")).collect();
    let _ = writeln!(
        p,
        "fn value4_at(q: u32) -> vec4<C_OUT> {{\n    {}\n    var r: vec4<C_OUT>;\n    for (var j = 0u; j < 4u; j++) {{ r[j] = expr_at({}); }}\n    return r;\n}}",
        quads_in.join(" "),
        lanes.join(", ")
    );
    index_prelude(&mut p, layout);
    let _ = writeln!(p, "// ---- family ----");
    p.push_str(FUSED);
    Ok(p)
}

/// Writes `fn <name>(v0, .., v<n-1>) -> <out>`: the expression over its inputs' values (in
/// their compute types), one `let` per step calling a function made from the op table's WGSL for
/// its op and domain (written to `p` once each, as `fns` records), each value rounded to its
/// dtype as storing and reloading it would.
pub(super) fn render_expr(
    p: &mut String,
    fns: &mut HashSet<String>,
    expr: &FusedExpr,
    name: &str,
    native_f16: bool,
) {
    let n_in = expr.inputs.len();
    let mut body = String::new();
    for (k, st) in expr.steps.iter().enumerate() {
        let v = n_in + k;
        let arg_dt = expr.arg_dtype(st);
        let (at, rt) = (ty(arg_dt), ty(st.dtype));
        let d = arg_dt.domain();
        let a = |j: usize| format!("v{}", st.args[j]);
        let call = match &st.op {
            StepOp::Scalar(x) => scalar(*x, st.dtype),
            StepOp::Where => format!("select({}, {}, {})", a(2), a(1), a(0)),
            StepOp::Unary(op) => {
                let f = format!("u_{}_{}", op.name(), at);
                if fns.insert(f.clone()) {
                    let e = op.wgsl(d).unwrap_or("x");
                    let _ = writeln!(p, "fn {f}(x: {at}) -> {rt} {{ return {e}; }}");
                }
                format!("{f}({})", a(0))
            }
            StepOp::Binary(op) => {
                let f = format!("b_{}_{}", op.name(), at);
                if fns.insert(f.clone()) {
                    let e = op.wgsl(d).unwrap_or("a");
                    let _ = writeln!(p, "fn {f}(a: {at}, b: {at}) -> {rt} {{ return {e}; }}");
                }
                format!("{f}({}, {})", a(0), a(1))
            }
            StepOp::Cast => {
                let f = format!("c_{}_{}", at, rt);
                if fns.insert(f.clone()) {
                    let e = cast_expr(d, st.dtype.domain());
                    let _ = writeln!(p, "fn {f}(x: {at}) -> {rt} {{ return {e}; }}");
                }
                format!("{f}({})", a(0))
            }
        };
        let rounded = match st.op {
            StepOp::Scalar(_) | StepOp::Where => call,
            _ => round(st.dtype, &call, native_f16),
        };
        let _ = writeln!(body, "    let v{v} = {rounded};");
    }
    let params: Vec<String> = expr
        .inputs
        .iter()
        .enumerate()
        .map(|(k, &d)| format!("v{k}: {}", ty(d)))
        .collect();
    let _ = writeln!(
        p,
        "fn {name}({}) -> {} {{\n{body}    return v{};\n}}",
        params.join(", "),
        ty(expr.out_dtype()),
        n_in + expr.steps.len() - 1
    );
}

/// A generated kernel's description cut to at most ~120 characters (kernel labels).
pub(super) fn clipped(mut d: String) -> String {
    if d.len() > 120 {
        let cut = (0..=120)
            .rev()
            .find(|&i| d.is_char_boundary(i))
            .unwrap_or(0);
        d.truncate(cut);
        d.push_str("...");
    }
    d
}

/// The kernel's name: entry point and the expression's ops.
fn label(expr: &FusedExpr, layout: Layout) -> String {
    format!("{}.{}", fused_entry(layout), clipped(expr.describe()))
}

impl Gpu<'_> {
    /// Runs a fused region over `shape`: one generated kernel.
    pub(in crate::backend::gpu) fn fused(
        &self,
        expr: &FusedExpr,
        shape: &[i32],
        inputs: &[(Vec<i32>, Data)],
    ) -> Result<Data> {
        if inputs.len() != expr.inputs.len() {
            return Err(Error::Backend {
                op: "fused",
                msg: "invariant: input count differs from the expression's".into(),
            });
        }
        let views: Vec<&Data> = inputs.iter().map(|(_, d)| d).collect();
        let plan = self.elementwise_plan(shape, &views, expr.out_dtype())?;
        let layout = plan.layout;
        let name = label(expr, layout);
        let ctx = self.ctx;
        let key = format!("{}.{}", fused_entry(layout), expr.key());
        let build = || {
            ctx.pipeline_keyed(&key, &name, fused_entry(layout), true, || {
                render_fused(expr, layout, ctx.native_f16)
            })
        };
        self.elementwise_dispatch(&name, build, plan, &views, shape)
    }
}

/// Representative fused kernels for the shader translation tests: per dtype, a chain of every
/// unary op and of every binary op it takes, a chain of casts through every dtype, and scalar
/// constants of every dtype, in each layout. Returns `(name, source, entry point)`.
pub fn fused_samples(native_f16: bool) -> Vec<(String, String, &'static str)> {
    use crate::primitive::{BinaryOp, UnaryOp};
    let step =
        |op: StepOp, args: Vec<usize>, dtype: Dtype| crate::compile::Step { op, args, dtype };
    let mut exprs: Vec<(String, FusedExpr)> = Vec::new();
    for d in Dtype::ALL {
        let dom = d.domain();
        let mut steps = Vec::new();
        for &op in UnaryOp::ALL.iter().filter(|op| op.supports(dom)) {
            steps.push(step(StepOp::Unary(op), vec![1 + steps.len()], d));
        }
        if !steps.is_empty() {
            exprs.push((format!("unary_ops.{d}"), FusedExpr::new(vec![d, d], steps)));
        }
        let mut steps = Vec::new();
        for &op in BinaryOp::ALL.iter().filter(|op| op.supports(dom)) {
            let prev = 1 + steps.len();
            if op.outputs_bool() {
                steps.push(step(StepOp::Binary(op), vec![prev, 0], Dtype::Bool));
                steps.push(step(StepOp::Where, vec![prev + 1, prev, 0], d));
            } else {
                steps.push(step(StepOp::Binary(op), vec![prev, 0], d));
            }
        }
        exprs.push((format!("binary_ops.{d}"), FusedExpr::new(vec![d, d], steps)));
    }
    let mut steps = vec![step(StepOp::Scalar(0.5), vec![], Dtype::Float32)];
    steps.push(step(
        StepOp::Binary(BinaryOp::Add),
        vec![0, 1],
        Dtype::Float32,
    ));
    for to in Dtype::ALL.into_iter().chain([Dtype::Float32]) {
        steps.push(step(StepOp::Cast, vec![steps.len()], to));
        steps.push(step(StepOp::Scalar(f64::NAN), vec![], to));
        steps.push(step(StepOp::Scalar(-3.0), vec![], to));
    }
    exprs.push(("casts".into(), FusedExpr::new(vec![Dtype::Float32], steps)));
    let mut out = Vec::new();
    for (name, expr) in exprs {
        for layout in Layout::ALL {
            if let Ok(src) = render_fused(&expr, layout, native_f16) {
                let entry = fused_entry(layout);
                out.push((format!("{entry}.sample.{name}"), src, entry));
            }
        }
    }
    out
}
