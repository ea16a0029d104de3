//! Derivatives of the elementwise op tables (`UnaryOp`, `BinaryOp` in primitive.rs): one arm
//! per table row, no wildcard, so a new row is a compile error here until it says how it
//! differentiates. A derivative is a `Partial`, which both the vjp (cotangent × partial) and the
//! jvp (tangent × partial) rules multiply by; written with wmx ops on the primitive's stream.

use crate::array::Array;
use crate::error::Result;
use crate::primitive::{BinaryOp, UnaryOp};
use crate::stream::Stream;
use std::f64::consts::{LN_2, LN_10, PI};

/// `d output / d input` of one elementwise input.
pub(crate) enum Partial {
    /// No dependence (or a derivative that is zero almost everywhere: floor, sign, compare).
    Zero,
    /// Multiply by a constant.
    Scale(f64),
    /// Multiply elementwise.
    Arr(Array),
}

impl Partial {
    /// `v × partial`, or `None` when the partial is zero.
    pub(crate) fn apply(&self, v: &Array, s: Stream) -> Result<Option<Array>> {
        Ok(match self {
            Partial::Zero => None,
            Partial::Scale(k) if *k == 1.0 => Some(v.clone()),
            Partial::Scale(k) if *k == -1.0 => Some(crate::negative(v, s)?),
            Partial::Scale(k) => Some(crate::multiply(v, *k, s)?),
            Partial::Arr(d) => Some(crate::multiply(v, d, s)?),
        })
    }
}

/// The derivative of a unary op at `x`, given its output `out`.
pub(crate) fn unary_partial(op: UnaryOp, x: &Array, out: &Array, s: Stream) -> Result<Partial> {
    use crate as mx;
    use Partial::{Arr, Scale, Zero};
    let one_minus_sq = |a: &Array| mx::subtract(1.0, &mx::square(a, s)?, s);
    Ok(match op {
        UnaryOp::Negative => Scale(-1.0),
        UnaryOp::Abs => Arr(mx::sign(x, s)?),
        UnaryOp::Sign
        | UnaryOp::Floor
        | UnaryOp::Ceil
        | UnaryOp::Round
        | UnaryOp::Trunc
        | UnaryOp::LogicalNot
        | UnaryOp::BitwiseInvert => Zero,
        UnaryOp::Exp => Arr(out.clone()),
        UnaryOp::Log => Arr(mx::reciprocal(x, s)?),
        UnaryOp::Sqrt => Arr(mx::divide(0.5, out, s)?),
        UnaryOp::Rsqrt => Arr(mx::multiply(-0.5, &mx::divide(out, x, s)?, s)?),
        UnaryOp::Square => Arr(mx::multiply(2.0, x, s)?),
        UnaryOp::Reciprocal => Arr(mx::negative(&mx::square(out, s)?, s)?),
        UnaryOp::Sin => Arr(mx::cos(x, s)?),
        UnaryOp::Cos => Arr(mx::negative(&mx::sin(x, s)?, s)?),
        UnaryOp::Tanh => Arr(one_minus_sq(out)?),
        UnaryOp::Sigmoid => Arr(mx::multiply(out, &mx::subtract(1.0, out, s)?, s)?),
        UnaryOp::Log1p => Arr(mx::reciprocal(&mx::add(x, 1.0, s)?, s)?),
        UnaryOp::Erf => Arr(mx::multiply(
            2.0 / PI.sqrt(),
            &mx::exp(&mx::negative(&mx::square(x, s)?, s)?, s)?,
            s,
        )?),
        UnaryOp::Erfinv => Arr(mx::multiply(
            PI.sqrt() / 2.0,
            &mx::exp(&mx::square(out, s)?, s)?,
            s,
        )?),
        UnaryOp::Expm1 => Arr(mx::add(out, 1.0, s)?),
        UnaryOp::Log2 => Arr(mx::reciprocal(&mx::multiply(x, LN_2, s)?, s)?),
        UnaryOp::Log10 => Arr(mx::reciprocal(&mx::multiply(x, LN_10, s)?, s)?),
        UnaryOp::Tan => Arr(mx::reciprocal(&mx::square(&mx::cos(x, s)?, s)?, s)?),
        UnaryOp::ArcSin => Arr(mx::rsqrt(&one_minus_sq(x)?, s)?),
        UnaryOp::ArcCos => Arr(mx::negative(&mx::rsqrt(&one_minus_sq(x)?, s)?, s)?),
        UnaryOp::ArcTan => Arr(mx::reciprocal(&mx::add(&mx::square(x, s)?, 1.0, s)?, s)?),
        UnaryOp::Sinh => Arr(mx::cosh(x, s)?),
        UnaryOp::Cosh => Arr(mx::sinh(x, s)?),
        UnaryOp::ArcSinh => Arr(mx::rsqrt(&mx::add(&mx::square(x, s)?, 1.0, s)?, s)?),
        UnaryOp::ArcCosh => Arr(mx::rsqrt(&mx::subtract(&mx::square(x, s)?, 1.0, s)?, s)?),
        UnaryOp::ArcTanh => Arr(mx::reciprocal(&one_minus_sq(x)?, s)?),
        UnaryOp::Degrees => Scale(180.0 / PI),
        UnaryOp::Radians => Scale(PI / 180.0),
    })
}

/// The derivatives of a binary op with respect to `a` and `b` (equal shapes), given `out`.
pub(crate) fn binary_partials(
    op: BinaryOp,
    a: &Array,
    b: &Array,
    out: &Array,
    s: Stream,
) -> Result<(Partial, Partial)> {
    use crate as mx;
    use Partial::{Arr, Scale, Zero};
    Ok(match op {
        BinaryOp::Add => (Scale(1.0), Scale(1.0)),
        BinaryOp::Subtract => (Scale(1.0), Scale(-1.0)),
        BinaryOp::Multiply => (Arr(b.clone()), Arr(a.clone())),
        BinaryOp::Divide => (
            Arr(mx::reciprocal(b, s)?),
            Arr(mx::negative(&mx::divide(out, b, s)?, s)?),
        ),
        BinaryOp::Power => {
            // d/da a^b = b a^(b-1); d/db a^b = a^b log(a), taken as 0 at a = 0 (not 0 * -inf).
            let da = mx::multiply(b, &mx::power(a, &mx::subtract(b, 1.0, s)?, s)?, s)?;
            let db = mx::where_(
                &mx::equal(a, 0.0, s)?,
                0.0,
                &mx::multiply(out, &mx::log(a, s)?, s)?,
                s,
            )?;
            (Arr(da), Arr(db))
        }
        // Ties give the gradient to `b` (maximum returns `b` on ties), as MLX's rule does.
        BinaryOp::Maximum => (Arr(mx::greater(a, b, s)?), Arr(mx::less_equal(a, b, s)?)),
        BinaryOp::Minimum => (Arr(mx::less(a, b, s)?), Arr(mx::greater_equal(a, b, s)?)),
        BinaryOp::LogAddExp => (
            Arr(mx::sigmoid(&mx::subtract(a, b, s)?, s)?),
            Arr(mx::sigmoid(&mx::subtract(b, a, s)?, s)?),
        ),
        BinaryOp::ArcTan2 => {
            let den = mx::add(&mx::square(a, s)?, &mx::square(b, s)?, s)?;
            (
                Arr(mx::divide(b, &den, s)?),
                Arr(mx::negative(&mx::divide(a, &den, s)?, s)?),
            )
        }
        BinaryOp::Remainder => (
            Scale(1.0),
            Arr(mx::negative(&mx::floor(&mx::divide(a, b, s)?, s)?, s)?),
        ),
        BinaryOp::FloorDivide
        | BinaryOp::Equal
        | BinaryOp::NotEqual
        | BinaryOp::Less
        | BinaryOp::LessEqual
        | BinaryOp::Greater
        | BinaryOp::GreaterEqual
        | BinaryOp::LogicalAnd
        | BinaryOp::LogicalOr
        | BinaryOp::LogicalXor
        | BinaryOp::BitwiseAnd
        | BinaryOp::BitwiseOr
        | BinaryOp::BitwiseXor
        | BinaryOp::LeftShift
        | BinaryOp::RightShift => (Zero, Zero),
    })
}
