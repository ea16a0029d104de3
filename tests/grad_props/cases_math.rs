//! Cases for elementwise math, reductions, scans, sorting and softmax.

use super::harness::{Case, Dom, Rng, View, case};
use wmx::{self as mx, Array};

fn shape(rng: &mut Rng) -> Vec<i32> {
    match rng.int(0, 2) {
        0 => vec![rng.int(2, 6)],
        1 => vec![rng.int(2, 4), rng.int(2, 5)],
        _ => vec![rng.int(2, 3), rng.int(2, 3), rng.int(2, 4)],
    }
}

fn view(k: usize) -> View {
    [View::Contig, View::Transposed, View::Strided][k % 3]
}

macro_rules! unary {
    ($rng:ident, $out:ident, $($name:literal $op:path, $dom:ident;)*) => {$(
        let sh = shape($rng);
        let k = $out.len();
        $out.push(case($name).input($rng, &sh, Dom::$dom).view(view(k)).f(|p, d| Ok(vec![$op(&p[0], d)?])));
    )*};
}

macro_rules! binary {
    ($rng:ident, $out:ident, $($name:literal $op:path, $da:ident, $db:ident;)*) => {$(
        let sh = shape($rng);
        let k = $out.len();
        // Same shapes, then the second input broadcast along the first axis.
        $out.push(case($name).input($rng, &sh, Dom::$da).view(view(k)).input($rng, &sh, Dom::$db)
            .f(|p, d| Ok(vec![$op(&p[0], &p[1], d)?])));
        let mut sb = sh.clone();
        sb[0] = 1;
        $out.push(case(concat!($name, " broadcast")).input($rng, &sh, Dom::$da).input($rng, &sb, Dom::$db)
            .f(|p, d| Ok(vec![$op(&p[0], &p[1], d)?])));
    )*};
}

pub fn elementwise(rng: &mut Rng) -> Vec<Case> {
    let mut v = Vec::new();
    unary! { rng, v,
        "negative" mx::negative, Any; "abs" mx::abs, Away0; "sign" mx::sign, Away0;
        "exp" mx::exp, Any; "log" mx::log, Pos; "sqrt" mx::sqrt, Pos; "rsqrt" mx::rsqrt, Pos;
        "square" mx::square, Any; "reciprocal" mx::reciprocal, Away0; "sin" mx::sin, Any;
        "cos" mx::cos, Any; "tanh" mx::tanh, Any; "sigmoid" mx::sigmoid, Any;
        "floor" mx::floor, AwayInt; "ceil" mx::ceil, AwayInt; "trunc" mx::trunc, AwayInt;
        "log1p" mx::log1p, Pos; "erf" mx::erf, Any; "erfinv" mx::erfinv, Unit;
        "expm1" mx::expm1, Any; "log2" mx::log2, Pos; "log10" mx::log10, Pos; "tan" mx::tan, Unit;
        "arcsin" mx::arcsin, Unit; "arccos" mx::arccos, Unit; "arctan" mx::arctan, Any;
        "sinh" mx::sinh, Any; "cosh" mx::cosh, Any; "arcsinh" mx::arcsinh, Any;
        "arccosh" mx::arccosh, Gt1; "arctanh" mx::arctanh, Unit; "degrees" mx::degrees, Any;
        "radians" mx::radians, Any;
    }
    let sh = shape(rng);
    v.push(
        case("round")
            .input(rng, &sh, Dom::AwayInt)
            .f(|p, d| Ok(vec![mx::round(&p[0], 0, d)?])),
    );
    binary! { rng, v,
        "add" mx::add, Any, Any; "subtract" mx::subtract, Any, Any; "multiply" mx::multiply, Any, Any;
        "divide" mx::divide, Any, Away0; "power" mx::power, Pos, Any; "arctan2" mx::arctan2, Away0, Away0;
        "logaddexp" mx::logaddexp, Any, Any;
    }
    // remainder: x / y kept away from integers.
    let sh = shape(rng);
    let n = super::harness::numel(&sh);
    let y = super::harness::draw(rng, Dom::Pos, n);
    let q = super::harness::draw(rng, Dom::AwayInt, n);
    let x: Vec<f32> = y.iter().zip(&q).map(|(a, b)| a * b).collect();
    v.push(
        case("remainder")
            .values(&sh, x)
            .values(&sh, y)
            .f(|p, d| Ok(vec![mx::remainder(&p[0], &p[1], d)?])),
    );
    // maximum / minimum: interleaved grids, never within 0.1 of each other.
    for name in ["maximum", "minimum"] {
        let sh = shape(rng);
        let n = super::harness::numel(&sh);
        let a = super::harness::draw(rng, Dom::Distinct, 2 * n);
        let op: fn(&Array, &Array, wmx::Device) -> mx::Result<Array> = if name == "maximum" {
            |a, b, d| mx::maximum(a, b, d)
        } else {
            |a, b, d| mx::minimum(a, b, d)
        };
        v.push(
            case(name)
                .values(&sh, a[..n].to_vec())
                .values(&sh, a[n..].to_vec())
                .f(move |p, d| Ok(vec![op(&p[0], &p[1], d)?])),
        );
    }
    // clip: bounds as arrays (differentiable), values away from them.
    let sh = shape(rng);
    let n = super::harness::numel(&sh);
    let a: Vec<f32> = (0..n)
        .map(|k| [-1.2f32, -0.3, 0.1, 0.35, 1.1][k % 5] + rng.unif(-0.05, 0.05) as f32)
        .collect();
    v.push(
        case("clip")
            .values(&sh, a)
            .values(&[], vec![-0.6])
            .values(&[], vec![0.7])
            .f(|p, d| Ok(vec![mx::clip(&p[0], Some(&p[1]), Some(&p[2]), d)?])),
    );
    v.push(
        case("clip max only")
            .values(&[4], vec![-1.0, 0.2, 0.9, 1.5])
            .f(|p, d| {
                Ok(vec![mx::clip(
                    &p[0],
                    None,
                    Some(&Array::scalar(0.5f32)),
                    d,
                )?])
            }),
    );
    // where_: a constant condition.
    let sh = shape(rng);
    let n = super::harness::numel(&sh);
    let cond: Vec<bool> = (0..n).map(|k| k % 3 != 1).collect();
    let c = Array::from_slice(&cond, &sh);
    v.push(
        case("where")
            .input(rng, &sh, Dom::Any)
            .input(rng, &sh, Dom::Any)
            .f(move |p, d| Ok(vec![mx::where_(&c, &p[0], &p[1], d)?])),
    );
    // Composite: a chain through several rules, and astype float -> float.
    let sh = shape(rng);
    v.push(
        case("chain sin*exp/(1+x^2)")
            .input(rng, &sh, Dom::Any)
            .view(View::Strided)
            .f(|p, d| {
                let x = &p[0];
                let num = mx::multiply(&mx::sin(x, d)?, &mx::exp(x, d)?, d)?;
                Ok(vec![mx::divide(
                    &num,
                    &mx::add(&mx::square(x, d)?, 1.0, d)?,
                    d,
                )?])
            }),
    );
    let sh = shape(rng);
    v.push(
        case("astype f32->f16->f32")
            .input(rng, &sh, Dom::Any)
            .f(|p, d| {
                Ok(vec![mx::astype(
                    &mx::astype(&mx::multiply(&p[0], 3.0, d)?, mx::Dtype::Float16, d)?,
                    mx::Dtype::Float32,
                    d,
                )?])
            })
            .eps(0.25)
            .dot_tol(2e-3),
    );
    v.push(
        case("astype f32->bf16 output")
            .input(rng, &[3, 4], Dom::Any)
            .f(|p, d| {
                Ok(vec![mx::astype(
                    &mx::multiply(&p[0], 2.0, d)?,
                    mx::Dtype::Bfloat16,
                    d,
                )?])
            })
            .eps(0.5)
            .fd_tol(3e-2)
            .dot_tol(1e-2),
    );
    v
}

pub fn reductions(rng: &mut Rng) -> Vec<Case> {
    let mut v = Vec::new();
    type R = fn(&Array, &[i32], bool, wmx::Device) -> mx::Result<Array>;
    let ops: [(&str, R, Dom); 7] = [
        ("sum", |a, ax, k, d| mx::sum(a, ax, k, d), Dom::Any),
        ("mean", |a, ax, k, d| mx::mean(a, ax, k, d), Dom::Any),
        ("prod", |a, ax, k, d| mx::prod(a, ax, k, d), Dom::Near1),
        ("max", |a, ax, k, d| mx::max(a, ax, k, d), Dom::Distinct),
        ("min", |a, ax, k, d| mx::min(a, ax, k, d), Dom::Distinct),
        (
            "logsumexp",
            |a, ax, k, d| mx::logsumexp(a, ax, k, d),
            Dom::Any,
        ),
        (
            "var ddof=1",
            |a, ax, k, d| mx::var(a, ax, k, 1, d),
            Dom::Any,
        ),
    ];
    let axes_list: [&[i32]; 4] = [&[], &[0], &[-1], &[0, 2]];
    for (name, op, dom) in ops.into_iter().chain([(
        "std",
        (|a: &Array, ax: &[i32], k, d| mx::std(a, ax, k, 0, d)) as R,
        Dom::Any,
    )]) {
        for (j, &axes) in axes_list.iter().enumerate() {
            let sh = vec![rng.int(2, 3), rng.int(2, 4), rng.int(2, 4)];
            let keep = j % 2 == 1;
            let ax = axes.to_vec();
            v.push(
                case(format!("{name} axes {axes:?} keepdims {keep}"))
                    .input(rng, &sh, dom)
                    .view(view(j))
                    .f(move |p, d| Ok(vec![op(&p[0], &ax, keep, d)?])),
            );
        }
    }
    // prod with an exact zero (exclusive products from both ends).
    v.push(
        case("prod with a zero")
            .values(&[2, 3], vec![2.0, 0.0, 1.5, -1.0, 0.5, 3.0])
            .f(|p, d| Ok(vec![mx::prod(&p[0], &[1], false, d)?])),
    );
    v
}

pub fn scans(rng: &mut Rng) -> Vec<Case> {
    let mut v = Vec::new();
    type S = fn(&Array, Option<i32>, bool, bool, wmx::Device) -> mx::Result<Array>;
    let ops: [(&str, S, Dom); 5] = [
        (
            "cumsum",
            |a, ax, r, i, d| mx::cumsum(a, ax, r, i, d),
            Dom::Any,
        ),
        (
            "cumprod",
            |a, ax, r, i, d| mx::cumprod(a, ax, r, i, d),
            Dom::Near1,
        ),
        (
            "cummax",
            |a, ax, r, i, d| mx::cummax(a, ax, r, i, d),
            Dom::Distinct,
        ),
        (
            "cummin",
            |a, ax, r, i, d| mx::cummin(a, ax, r, i, d),
            Dom::Distinct,
        ),
        (
            "logcumsumexp",
            |a, ax, r, i, d| mx::logcumsumexp(a, ax, r, i, d),
            Dom::Any,
        ),
    ];
    for (name, op, dom) in ops {
        for (j, (axis, reverse, inclusive)) in [
            (Some(1), false, true),
            (Some(0), true, true),
            (Some(-1), false, false),
            (None, true, false),
        ]
        .into_iter()
        .enumerate()
        {
            let sh = vec![rng.int(2, 4), rng.int(3, 5)];
            v.push(
                case(format!(
                    "{name} axis {axis:?} reverse {reverse} inclusive {inclusive}"
                ))
                .input(rng, &sh, dom)
                .view(view(j))
                .f(move |p, d| Ok(vec![op(&p[0], axis, reverse, inclusive, d)?])),
            );
        }
    }
    v.push(
        case("cumprod with zeros")
            .values(&[5], vec![2.0, 0.0, 1.5, 0.0, 3.0])
            .f(|p, d| Ok(vec![mx::cumprod(&p[0], Some(0), false, true, d)?])),
    );
    v.push(
        case("cumprod exclusive reverse with a zero")
            .values(&[5], vec![2.0, 0.5, 1.5, 0.0, 3.0])
            .f(|p, d| Ok(vec![mx::cumprod(&p[0], Some(0), true, false, d)?])),
    );
    v
}

pub fn sorting(rng: &mut Rng) -> Vec<Case> {
    let mut v = Vec::new();
    for (j, axis) in [-1, 0].into_iter().enumerate() {
        let sh = vec![rng.int(2, 4), rng.int(3, 6)];
        v.push(
            case(format!("sort axis {axis}"))
                .input(rng, &sh, Dom::Distinct)
                .view(view(j))
                .f(move |p, d| Ok(vec![mx::sort(&p[0], axis, d)?])),
        );
        let k = rng.int(1, if axis == -1 { sh[1] } else { sh[0] } - 1);
        v.push(
            case(format!("topk k={k} axis {axis}"))
                .input(rng, &sh, Dom::Distinct)
                .view(view(j + 1))
                .f(move |p, d| Ok(vec![mx::topk(&p[0], k, axis, d)?])),
        );
        v.push(
            case(format!("partition kth={k} axis {axis}"))
                .input(rng, &sh, Dom::Distinct)
                .f(move |p, d| Ok(vec![mx::partition(&p[0], k, axis, d)?])),
        );
    }
    for (j, axes) in [vec![-1], vec![0], vec![0, 1]].into_iter().enumerate() {
        let sh = vec![rng.int(2, 4), rng.int(2, 5)];
        v.push(
            case(format!("softmax axes {axes:?}"))
                .input(rng, &sh, Dom::Any)
                .view(view(j))
                .f(move |p, d| Ok(vec![mx::softmax(&p[0], &axes, d)?])),
        );
    }
    v
}
