//! The op dispatch of the MLX gradient suite (tests/grad_mlx.rs): maps a fixture case's op name
//! and params (tests/fixtures/grad/*.txt, format in tools/gen_grad_fixtures.py, params named as
//! in the conformance fixtures) to a wmx call on all of the op's arguments, run on the case's
//! device. `op_fn` wraps it as the closure the transforms take.
#![allow(dead_code)]

use crate::conf::{Case, pad_mode, pairs};
use wmx::{Array, Device};

pub type Outs = wmx::Result<Vec<Array>>;

fn one(r: wmx::Result<Array>) -> Outs {
    r.map(|a| vec![a])
}

/// Calls the wmx op for `c` on its arguments `x` (all of them, primals and constants) on `d`;
/// `None` when the op is not wired here.
#[rustfmt::skip]
pub fn call(c: &Case, x: &[Array], d: Device) -> Option<Outs> {
    let axes = || c.i32s("axes");
    let refs = || x.iter().collect::<Vec<&Array>>();
    Some(match c.op.as_str() {
        // unary
        "abs" => one(wmx::abs(&x[0], d)),
        "negative" => one(wmx::negative(&x[0], d)),
        "sign" => one(wmx::sign(&x[0], d)),
        "square" => one(wmx::square(&x[0], d)),
        "floor" => one(wmx::floor(&x[0], d)),
        "ceil" => one(wmx::ceil(&x[0], d)),
        "round" => one(wmx::round(&x[0], c.i32("decimals"), d)),
        "exp" => one(wmx::exp(&x[0], d)),
        "expm1" => one(wmx::expm1(&x[0], d)),
        "log" => one(wmx::log(&x[0], d)),
        "log1p" => one(wmx::log1p(&x[0], d)),
        "log2" => one(wmx::log2(&x[0], d)),
        "log10" => one(wmx::log10(&x[0], d)),
        "sqrt" => one(wmx::sqrt(&x[0], d)),
        "rsqrt" => one(wmx::rsqrt(&x[0], d)),
        "reciprocal" => one(wmx::reciprocal(&x[0], d)),
        "sin" => one(wmx::sin(&x[0], d)),
        "cos" => one(wmx::cos(&x[0], d)),
        "tan" => one(wmx::tan(&x[0], d)),
        "arcsin" => one(wmx::arcsin(&x[0], d)),
        "arccos" => one(wmx::arccos(&x[0], d)),
        "arctan" => one(wmx::arctan(&x[0], d)),
        "sinh" => one(wmx::sinh(&x[0], d)),
        "cosh" => one(wmx::cosh(&x[0], d)),
        "tanh" => one(wmx::tanh(&x[0], d)),
        "arcsinh" => one(wmx::arcsinh(&x[0], d)),
        "arccosh" => one(wmx::arccosh(&x[0], d)),
        "arctanh" => one(wmx::arctanh(&x[0], d)),
        "sigmoid" => one(wmx::sigmoid(&x[0], d)),
        "erf" => one(wmx::erf(&x[0], d)),
        "erfinv" => one(wmx::erfinv(&x[0], d)),
        "degrees" => one(wmx::degrees(&x[0], d)),
        "radians" => one(wmx::radians(&x[0], d)),
        "astype" => one(wmx::astype(&x[0], c.dtype("dtype"), d)),

        // binary and ternary
        "add" => one(wmx::add(&x[0], &x[1], d)),
        "subtract" => one(wmx::subtract(&x[0], &x[1], d)),
        "multiply" => one(wmx::multiply(&x[0], &x[1], d)),
        "divide" => one(wmx::divide(&x[0], &x[1], d)),
        "power" => one(wmx::power(&x[0], &x[1], d)),
        "maximum" => one(wmx::maximum(&x[0], &x[1], d)),
        "minimum" => one(wmx::minimum(&x[0], &x[1], d)),
        "logaddexp" => one(wmx::logaddexp(&x[0], &x[1], d)),
        "arctan2" => one(wmx::arctan2(&x[0], &x[1], d)),
        "remainder" => one(wmx::remainder(&x[0], &x[1], d)),
        "where" => one(wmx::where_(&x[0], &x[1], &x[2], d)),
        "clip" => one(match c.str("bounds") {
            "both" => wmx::clip(&x[0], Some(&x[1]), Some(&x[2]), d),
            "min" => wmx::clip(&x[0], Some(&x[1]), None, d),
            _ => wmx::clip(&x[0], None, Some(&x[1]), d),
        }),

        // reductions, scans, sorting
        "sum" => one(wmx::sum(&x[0], &axes(), c.bool("keepdims"), d)),
        "mean" => one(wmx::mean(&x[0], &axes(), c.bool("keepdims"), d)),
        "prod" => one(wmx::prod(&x[0], &axes(), c.bool("keepdims"), d)),
        "max" => one(wmx::max(&x[0], &axes(), c.bool("keepdims"), d)),
        "min" => one(wmx::min(&x[0], &axes(), c.bool("keepdims"), d)),
        "logsumexp" => one(wmx::logsumexp(&x[0], &axes(), c.bool("keepdims"), d)),
        "var" => one(wmx::var(&x[0], &axes(), c.bool("keepdims"), c.i32("ddof"), d)),
        "std" => one(wmx::std(&x[0], &axes(), c.bool("keepdims"), c.i32("ddof"), d)),
        "softmax" => one(wmx::softmax(&x[0], &axes(), d)),
        "cumsum" => one(wmx::cumsum(&x[0], c.opt_i32("axis"), c.bool("reverse"), c.bool("inclusive"), d)),
        "cumprod" => one(wmx::cumprod(&x[0], c.opt_i32("axis"), c.bool("reverse"), c.bool("inclusive"), d)),
        "cummax" => one(wmx::cummax(&x[0], c.opt_i32("axis"), c.bool("reverse"), c.bool("inclusive"), d)),
        "cummin" => one(wmx::cummin(&x[0], c.opt_i32("axis"), c.bool("reverse"), c.bool("inclusive"), d)),
        "logcumsumexp" => one(wmx::logcumsumexp(&x[0], c.opt_i32("axis"), c.bool("reverse"), c.bool("inclusive"), d)),
        "sort" => one(wmx::sort(&x[0], c.i32("axis"), d)),
        // the fixtures record sort(topk(a)) and sort(partition(a)): see the generator's docstring
        "topk" => one(wmx::topk(&x[0], c.i32("k"), c.i32("axis"), d).and_then(|t| wmx::sort(&t, c.i32("axis"), d))),
        "partition" => one(wmx::partition(&x[0], c.i32("kth"), c.i32("axis"), d).and_then(|t| wmx::sort(&t, c.i32("axis"), d))),

        // linear algebra
        "matmul" => one(wmx::matmul(&x[0], &x[1], d)),
        op if op.starts_with("conv") => one(crate::conf::conv_op(c, x, d)?),
        "addmm" => one(wmx::addmm(&x[0], &x[1], &x[2], c.f64("alpha") as f32, c.f64("beta") as f32, d)),
        "inner" => one(wmx::inner(&x[0], &x[1], d)),
        "outer" => one(wmx::outer(&x[0], &x[1], d)),
        "tensordot" => one(if c.has("axes") { wmx::tensordot(&x[0], &x[1], c.i32("axes"), d) } else { wmx::tensordot(&x[0], &x[1], wmx::TensorAxes::Lists(c.i32s("axes_a"), c.i32s("axes_b")), d) }),
        "einsum" => one(wmx::einsum(c.str("subscripts"), &refs(), d)),

        // indexing
        "slice" => one(wmx::slice(&x[0], &c.i32s("start"), &c.i32s("stop"), &c.i32s("strides"), d)),
        "slice_update" => one(wmx::slice_update(&x[0], &x[1], &c.i32s("start"), &c.i32s("stop"), &c.i32s("strides"), d)),
        "take" => one(wmx::take(&x[0], &x[1], c.i32("axis"), d)),
        "take_along_axis" => one(wmx::take_along_axis(&x[0], &x[1], c.opt_i32("axis"), d)),
        "put_along_axis" => one(wmx::put_along_axis(&x[0], &x[1], &x[2], c.opt_i32("axis"), d)),
        "gather" => one(wmx::gather(&x[0], &x[1..].iter().collect::<Vec<&Array>>(), &axes(), &c.i32s("slice_sizes"), d)),
        // updates are idx.shape + a.shape[1..] (Python's a.at[idx]); MLX C++'s scatter takes
        // idx.shape + [1] + a.shape[1..]
        "scatter" => one(scatter_updates(x, d).and_then(|u| wmx::scatter(&x[0], &[&x[1]], &u, &[0], d))),
        "scatter_add" => one(scatter_updates(x, d).and_then(|u| wmx::scatter_add(&x[0], &[&x[1]], &u, &[0], d))),

        // structure
        "reshape" => one(wmx::reshape(&x[0], &c.i32s("shape"), d)),
        "transpose" => one(wmx::transpose(&x[0], &axes(), d)),
        "broadcast_to" => one(wmx::broadcast_to(&x[0], &c.i32s("shape"), d)),
        "concatenate" => one(wmx::concatenate(&refs(), c.i32("axis"), d)),
        "stack" => one(wmx::stack(&refs(), c.i32("axis"), d)),
        "split" => wmx::split(&x[0], c.i32("num"), c.i32("axis"), d),
        "split_at" => wmx::split_at(&x[0], &c.i32s("indices"), c.i32("axis"), d),
        "squeeze" => one(wmx::squeeze(&x[0], &axes(), d)),
        "expand_dims" => one(wmx::expand_dims(&x[0], &axes(), d)),
        "flatten" => one(wmx::flatten(&x[0], c.i32("start_axis"), c.i32("end_axis"), d)),
        "pad" => one(pad_mode(c.str("mode")).and_then(|m| wmx::pad(&x[0], &pairs(&c.i32s("pad_width")), m, c.f64("value"), d))),
        "tile" => one(wmx::tile(&x[0], &c.i32s("reps"), d)),
        "repeat" => one(wmx::repeat(&x[0], c.i32("repeats"), c.opt_i32("axis"), d)),
        "roll" => one(wmx::roll(&x[0], &c.i32s("shift"), c.opt_i32s("axes").as_deref(), d)),
        "flip" => one(wmx::flip(&x[0], c.opt_i32s("axes").as_deref(), d)),
        "moveaxis" => one(wmx::moveaxis(&x[0], c.i32("source"), c.i32("destination"), d)),
        "swapaxes" => one(wmx::swapaxes(&x[0], c.i32("axis1"), c.i32("axis2"), d)),
        "permute_dims" => one(wmx::permute_dims(&x[0], &axes(), d)),
        "atleast_1d" => one(wmx::atleast_1d(&x[0], d)),
        "atleast_2d" => one(wmx::atleast_2d(&x[0], d)),
        "atleast_3d" => one(wmx::atleast_3d(&x[0], d)),
        "contiguous" => one(wmx::contiguous(&x[0], d)),
        "unstack" => wmx::unstack(&x[0], c.i32("axis"), d),
        "meshgrid" => wmx::meshgrid(&refs(), false, c.str("indexing"), d),
        "diag" => one(wmx::diag(&x[0], c.i32("k"), d)),
        "diagonal" => one(wmx::diagonal(&x[0], c.i32("offset"), c.i32("axis1"), c.i32("axis2"), d)),
        "trace" => one(wmx::trace(&x[0], c.i32("offset"), c.i32("axis1"), c.i32("axis2"), None, d)),
        "tril" => one(wmx::tril(&x[0], c.i32("k"), d)),
        "triu" => one(wmx::triu(&x[0], c.i32("k"), d)),

        // composites
        "divmod" => wmx::divmod(&x[0], &x[1], d).map(|(q, r)| vec![q, r]),
        "median" => one(wmx::median(&x[0], &axes(), c.bool("keepdims"), d)),
        "nan_to_num" => one(wmx::nan_to_num(&x[0], c.f64("nan"), c.opt_f64("posinf"), c.opt_f64("neginf"), d)),
        "linalg_norm" => one(wmx::linalg::norm(&x[0], norm_ord(c.str("ord")), c.opt_i32s("axes").as_deref(), c.bool("keepdims"), d)),
        "as_strided" => one(wmx::as_strided(&x[0], &c.i32s("shape"), &c.i32s("strides").iter().map(|&v| v as i64).collect::<Vec<i64>>(), c.i32("offset") as usize, d)),
        _ => return None,
    })
}

/// The op of `c` on `d` as a closure of all its arguments (owning what it needs).
pub fn op_fn(c: &Case, d: Device) -> impl Fn(&[Array]) -> Outs + Clone + 'static {
    let c = c.clone();
    move |x: &[Array]| call(&c, x, d).expect("dispatched op")
}

/// The op as a function of its primals only: the arguments at `argnums` are replaced by the
/// closure's inputs, the others are the constants in `all`.
pub fn primal_fn(
    c: &Case,
    d: Device,
    all: &[Array],
    argnums: &[usize],
) -> impl Fn(&[Array]) -> Outs + Clone + 'static {
    let f = op_fn(c, d);
    let all = all.to_vec();
    let argnums = argnums.to_vec();
    move |p: &[Array]| {
        let mut full = all.clone();
        for (k, &i) in argnums.iter().enumerate() {
            full[i] = p[k].clone();
        }
        f(&full)
    }
}

fn norm_ord(o: &str) -> Option<wmx::linalg::NormOrd> {
    use wmx::linalg::NormOrd;
    match o {
        "none" => None,
        "fro" => Some(NormOrd::Fro),
        "nuc" => Some(NormOrd::Nuc),
        p => Some(NormOrd::P(p.parse().expect("norm order"))),
    }
}

/// The fixture's scatter updates with MLX C++'s size-1 indexed axis inserted.
fn scatter_updates(x: &[Array], d: Device) -> wmx::Result<Array> {
    let k = x[1].ndim() as i32;
    wmx::expand_dims(&x[2], &[k], d)
}
