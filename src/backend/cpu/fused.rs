//! The CPU kernel of a fused elementwise region (`compile`): one parallel loop over blocks of the
//! output; in each block every step of the expression runs over a cache-resident slice with the
//! op table's scalar function (the same monomorphised loops as the unfused kernels), so
//! intermediates never reach memory. After each step a value is rounded to its dtype exactly as
//! storing and reloading it would (f16, bf16, uint8), so fused and unfused results agree bit for
//! bit.

use super::copy::{Elem, as_bool, as_f32, as_i32, as_u32, from_bool, from_f32, from_i32, from_u32};
use super::elementwise::{Map1, binary_typed, select};
use super::host_of;
use crate::backend::Data;
use crate::backend::host::HostVec;
use crate::backend::{Storage, dense};
use crate::compile::{FusedExpr, FusedReduction, Reduction, Step, StepOp};
use crate::dtype::{ArrayElement, Domain, Dtype};
use crate::error::{Error, Result};
use crate::primitive::UnaryOp;
use half::{bf16, f16};
use rayon::prelude::*;
use std::borrow::Cow;

/// Elements per block: every live value of a block stays in the core's caches.
const BLOCK: usize = 4096;

/// One value over a block, in its domain's compute type.
#[derive(Clone)]
enum Buf {
    F(Vec<f32>),
    I(Vec<i32>),
    U(Vec<u32>),
    B(Vec<bool>),
}

/// An input over the whole output, or one element broadcast everywhere.
enum Src<'a> {
    F(Cow<'a, [f32]>),
    I(Cow<'a, [i32]>),
    U(Cow<'a, [u32]>),
    B(Vec<bool>),
}

impl Src<'_> {
    /// Elements `lo..lo + len` (a splat source has one element).
    fn block(&self, lo: usize, len: usize) -> Buf {
        fn take<T: Copy>(v: &[T], lo: usize, len: usize) -> Vec<T> {
            if v.len() == 1 {
                vec![v[0]; len]
            } else {
                v[lo..lo + len].to_vec()
            }
        }
        match self {
            Src::F(v) => Buf::F(take(v, lo, len)),
            Src::I(v) => Buf::I(take(v, lo, len)),
            Src::U(v) => Buf::U(take(v, lo, len)),
            Src::B(v) => Buf::B(take(v, lo, len)),
        }
    }
}

fn invariant(msg: &str) -> Error {
    Error::Backend {
        op: "fused",
        msg: format!("invariant: {msg}"),
    }
}

/// A float-domain value as stored in `d` and read back.
fn round_f(d: Dtype, v: &mut [f32]) {
    match d {
        Dtype::Float16 => v.iter_mut().for_each(|x| *x = f16::from_f32(*x).to_f32()),
        Dtype::Bfloat16 => v.iter_mut().for_each(|x| *x = bf16::from_f32(*x).to_f32()),
        _ => {}
    }
}

/// A value of `d`'s domain as stored in `d` and read back (f16/bf16 rounding, uint8 wrapping).
fn round(d: Dtype, b: &mut Buf) {
    match b {
        Buf::F(v) => round_f(d, v),
        Buf::U(v) if d == Dtype::Uint8 => v.iter_mut().for_each(|x| *x &= 0xff),
        Buf::U(_) | Buf::I(_) | Buf::B(_) => {}
    }
}

/// `x` converted to `to` (astype's rules: what storing into `to` keeps, read back).
fn cast(x: &Buf, to: Dtype) -> Buf {
    let mut out = match (x, to.domain()) {
        (Buf::F(v), Domain::Float) => Buf::F(v.clone()),
        (Buf::F(v), Domain::Int) => Buf::I(v.iter().map(|&x| x.i32()).collect()),
        (Buf::F(v), Domain::Uint) => Buf::U(v.iter().map(|&x| x.u32()).collect()),
        (Buf::F(v), Domain::Bool) => Buf::B(v.iter().map(|&x| x != 0.0).collect()),
        (Buf::I(v), Domain::Float) => Buf::F(v.iter().map(|&x| x as f32).collect()),
        (Buf::I(v), Domain::Int) => Buf::I(v.clone()),
        (Buf::I(v), Domain::Uint) => Buf::U(v.iter().map(|&x| x as u32).collect()),
        (Buf::I(v), Domain::Bool) => Buf::B(v.iter().map(|&x| x != 0).collect()),
        (Buf::U(v), Domain::Float) => Buf::F(v.iter().map(|&x| x as f32).collect()),
        (Buf::U(v), Domain::Int) => Buf::I(v.iter().map(|&x| x as i32).collect()),
        (Buf::U(v), Domain::Uint) => Buf::U(v.clone()),
        (Buf::U(v), Domain::Bool) => Buf::B(v.iter().map(|&x| x != 0).collect()),
        (Buf::B(v), Domain::Float) => Buf::F(v.iter().map(|&x| x as u32 as f32).collect()),
        (Buf::B(v), Domain::Int) => Buf::I(v.iter().map(|&x| x as i32).collect()),
        (Buf::B(v), Domain::Uint) => Buf::U(v.iter().map(|&x| x as u32).collect()),
        (Buf::B(v), Domain::Bool) => Buf::B(v.clone()),
    };
    round(to, &mut out);
    out
}

/// `len` copies of `v` in `d` (`full`'s conversion).
fn scalar(v: f64, d: Dtype, len: usize) -> Buf {
    match d {
        Dtype::Float32 => Buf::F(vec![v as f32; len]),
        Dtype::Float16 => Buf::F(vec![f16::from_f64(v).to_f32(); len]),
        Dtype::Bfloat16 => Buf::F(vec![bf16::from_f64(v).to_f32(); len]),
        Dtype::Int32 => Buf::I(vec![<i32 as ArrayElement>::from_f64(v); len]),
        Dtype::Uint32 => Buf::U(vec![<u32 as ArrayElement>::from_f64(v); len]),
        Dtype::Uint8 => Buf::U(vec![<u8 as ArrayElement>::from_f64(v) as u32; len]),
        Dtype::Bool => Buf::B(vec![v != 0.0; len]),
    }
}

fn unary(op: UnaryOp, x: &Buf) -> Option<Buf> {
    Some(match x {
        Buf::F(v) => Buf::F(op.visit_f32(Map1(v))?),
        Buf::I(v) => Buf::I(op.visit_i32(Map1(v))?),
        Buf::U(v) => Buf::U(op.visit_u32(Map1(v))?),
        Buf::B(v) => Buf::B(op.visit_bool(Map1(v))?),
    })
}

fn both<T>(r: std::result::Result<Vec<T>, Vec<bool>>, wrap: fn(Vec<T>) -> Buf) -> Buf {
    match r {
        Ok(v) => wrap(v),
        Err(b) => Buf::B(b),
    }
}

/// One step over a block, from the values before it.
fn apply(expr: &FusedExpr, st: &Step, vals: &[Buf], len: usize) -> Result<Buf> {
    let arg = |k: usize| -> Result<&Buf> {
        st.args
            .get(k)
            .and_then(|&a| vals.get(a))
            .ok_or_else(|| invariant("a step reads a value not computed yet"))
    };
    let unsupported = || Error::Dtype {
        op: "fused",
        msg: format!("{} does not take {}.", expr.describe(), expr.arg_dtype(st)),
    };
    let mut out = match &st.op {
        StepOp::Scalar(v) => return Ok(scalar(*v, st.dtype, len)),
        StepOp::Cast => return Ok(cast(arg(0)?, st.dtype)),
        StepOp::Unary(op) => unary(*op, arg(0)?).ok_or_else(unsupported)?,
        StepOp::Binary(op) => match (arg(0)?, arg(1)?) {
            (Buf::F(a), Buf::F(b)) => both(binary_typed(*op, a, b), Buf::F),
            (Buf::I(a), Buf::I(b)) => both(binary_typed(*op, a, b), Buf::I),
            (Buf::U(a), Buf::U(b)) => both(binary_typed(*op, a, b), Buf::U),
            (Buf::B(a), Buf::B(b)) => both(binary_typed(*op, a, b), Buf::B),
            _ => return Err(invariant("binary step on two domains")),
        },
        StepOp::Where => {
            let Buf::B(c) = arg(0)? else {
                return Err(invariant("where with a non-bool condition"));
            };
            match (arg(1)?, arg(2)?) {
                (Buf::F(x), Buf::F(y)) => Buf::F(select(c, x, y)),
                (Buf::I(x), Buf::I(y)) => Buf::I(select(c, x, y)),
                (Buf::U(x), Buf::U(y)) => Buf::U(select(c, x, y)),
                (Buf::B(x), Buf::B(y)) => Buf::B(select(c, x, y)),
                _ => return Err(invariant("where branches of two domains")),
            }
        }
    };
    round(st.dtype, &mut out);
    Ok(out)
}

/// The expression over elements `lo..lo + len`.
fn block(expr: &FusedExpr, srcs: &[Src], lo: usize, len: usize) -> Result<Buf> {
    let mut vals: Vec<Buf> = Vec::with_capacity(srcs.len() + expr.steps.len());
    vals.extend(srcs.iter().map(|s| s.block(lo, len)));
    for st in &expr.steps {
        let v = apply(expr, st, &vals, len)?;
        vals.push(v);
    }
    vals.pop().ok_or_else(|| invariant("empty expression"))
}

/// Reads input `d` (a view of `shape`) in its domain's compute type; a view of one element
/// broadcast everywhere (a scalar operand) is read once.
fn source<'a>(d: &'a Data, dtype: Dtype, shape: &[i32]) -> Result<Src<'a>> {
    let h = host_of("fused", d)?;
    let (shape, strides): (&[i32], &[isize]) = if d.strides.iter().all(|&s| s == 0) {
        (&[], &[])
    } else {
        (shape, &d.strides)
    };
    Ok(match dtype.domain() {
        Domain::Float => Src::F(as_f32(h, shape, strides, d.offset)),
        Domain::Int => Src::I(as_i32(h, shape, strides, d.offset)),
        Domain::Uint => Src::U(as_u32(h, shape, strides, d.offset)),
        Domain::Bool => Src::B(as_bool(h, shape, strides, d.offset)),
    })
}

/// Runs the fused expression over `shape`; the output has the expression's dtype.
pub(crate) fn run(expr: &FusedExpr, shape: &[i32], inputs: &[(Vec<i32>, Data)]) -> Result<HostVec> {
    if inputs.len() != expr.inputs.len() {
        return Err(invariant("input count differs from the expression's"));
    }
    let n = crate::shape::size_of(shape);
    let srcs = inputs
        .iter()
        .zip(&expr.inputs)
        .map(|((_, d), &dt)| source(d, dt, shape))
        .collect::<Result<Vec<_>>>()?;
    let dt = expr.out_dtype();
    macro_rules! fill {
        ($variant:ident, $zero:expr, $write:ident) => {{
            let mut out = vec![$zero; n];
            out.par_chunks_mut(BLOCK)
                .enumerate()
                .try_for_each(|(c, o)| -> Result<()> {
                    match block(expr, &srcs, c * BLOCK, o.len())? {
                        Buf::$variant(v) => {
                            o.copy_from_slice(&v);
                            Ok(())
                        }
                        _ => Err(invariant("output of another domain")),
                    }
                })?;
            $write(dt, out)
        }};
    }
    Ok(match dt.domain() {
        Domain::Float => fill!(F, 0.0f32, from_f32),
        Domain::Int => fill!(I, 0i32, from_i32),
        Domain::Uint => fill!(U, 0u32, from_u32),
        Domain::Bool => fill!(B, false, from_bool),
    })
}

/// `expr` with every step whose arguments are all constants replaced by its value, computed
/// here with the same functions the kernels use (`compile`'s constant folding).
pub(crate) fn fold_scalars(expr: FusedExpr) -> FusedExpr {
    let n_in = expr.inputs.len();
    let mut vals: Vec<Option<Buf>> = (0..n_in).map(|_| None).collect();
    let mut steps = expr.steps.clone();
    for st in steps.iter_mut() {
        let folded = match st.op {
            StepOp::Scalar(v) => Some(scalar(v, st.dtype, 1)),
            _ if st
                .args
                .iter()
                .all(|&a| vals.get(a).is_some_and(Option::is_some)) =>
            {
                let dense: Vec<Buf> = vals
                    .iter()
                    .map(|v| match v {
                        Some(b) => b.clone(),
                        None => Buf::B(Vec::new()),
                    })
                    .collect();
                apply(&expr, st, &dense, 1).ok()
            }
            _ => None,
        };
        if let Some(b) = &folded
            && !matches!(st.op, StepOp::Scalar(_))
        {
            let v = match b {
                Buf::F(v) => v[0] as f64,
                Buf::I(v) => v[0] as f64,
                Buf::U(v) => v[0] as f64,
                Buf::B(v) => v[0] as u8 as f64,
            };
            *st = Step {
                op: StepOp::Scalar(v),
                args: vec![],
                dtype: st.dtype,
            };
        }
        vals.push(folded);
    }
    FusedExpr::new(expr.inputs, steps)
}

/// A fused reduction (`compile`): the prologue's loop over the reduction's input, the
/// reduction's kernel, then the epilogue's loop over the (small) result. Each stage is the
/// kernel its unfused node runs, so results agree bit for bit; the saving here is the nodes'
/// scheduling, not memory traffic.
pub(crate) fn run_reduction(red: &FusedReduction, inputs: &[(Vec<i32>, Data)]) -> Result<HostVec> {
    let n_pro = red.prologue.inputs.len();
    if inputs.len() != n_pro + red.n_extra() {
        return Err(invariant("input count differs from the fused reduction's"));
    }
    let (pro, extra) = inputs.split_at(n_pro);
    let x = if red.prologue.is_identity() {
        pro[0].1.clone()
    } else {
        dense(
            Storage::host(run(&red.prologue, &red.in_shape, pro)?),
            &red.in_shape,
        )
    };
    let r = match &red.reduction {
        Reduction::Reduce { op, axes, dtype } => {
            super::reduce::reduce(*op, &red.in_shape, &x, axes, *dtype)?
        }
        Reduction::Softmax => super::reduce::softmax_rows(&red.in_shape, &x, red.red_dtype())?,
    };
    match &red.epilogue {
        None => Ok(r),
        Some(e) => {
            let r = dense(Storage::host(r), &red.out_shape);
            let mut ins = vec![(red.out_shape.clone(), r)];
            ins.extend(extra.iter().cloned());
            run(e, &red.out_shape, &ins)
        }
    }
}
