//! Binary elementwise ops with NumPy broadcasting and MLX promotion (one function per entry of
//! `primitive::BinaryOp`), `where_`, and [`Operand`]: Rust scalars as weakly typed operands.
//! Composites built on them (`divmod`, `clip`, `isclose`, `allclose`, `array_equal`) live in
//! `composite.rs`.

use super::{OpResult, broadcast_view, cast_to, node};
use crate::array::Array;
use crate::dtype::{Dtype, promote_types};
use crate::error::{Result, dtype_err, value_err};
use crate::primitive::{BinaryOp, Primitive};
use crate::shape::{broadcast_shapes, check_size};
use crate::stream::{Stream, StreamOrDevice};

/// A Rust scalar given as an operand. Like a Python scalar in MLX it is *weakly typed*: it takes
/// the dtype of the array it meets when that dtype can hold its kind (`f16 + 2.0` stays float16,
/// `uint8 + 3` stays uint8, `int32 + 2.5` becomes float32, a bool scalar never changes the dtype).
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Scalar {
    /// A bool.
    Bool(bool),
    /// An integer (any Rust integer type).
    Int(i64),
    /// A float (f32 or f64).
    Float(f64),
}

impl Scalar {
    /// The dtype of the scalar on its own (MLX: bool, int32, float32).
    fn own_dtype(self) -> Dtype {
        match self {
            Scalar::Bool(_) => Dtype::Bool,
            Scalar::Int(_) => Dtype::Int32,
            Scalar::Float(_) => Dtype::Float32,
        }
    }

    /// The dtype the scalar takes next to arrays that promote to `d`.
    fn weak_dtype(self, d: Dtype) -> Dtype {
        match self {
            Scalar::Bool(_) => d,
            Scalar::Int(_) if d == Dtype::Bool => Dtype::Int32,
            Scalar::Int(_) => d,
            Scalar::Float(_) if d.is_float() => d,
            Scalar::Float(_) => Dtype::Float32,
        }
    }

    fn value(self) -> f64 {
        match self {
            Scalar::Bool(b) => b as u8 as f64,
            Scalar::Int(i) => i as f64,
            Scalar::Float(f) => f,
        }
    }
}

/// An operand of a binary op: an array (borrowed or owned) or a weakly typed [`Scalar`]. Every
/// binary op takes `impl Into<Operand>`, so `&a`, `a`, `2.0`, `3u8` or `true` all work.
///
/// ```
/// use wmx::{Array, Dtype};
/// let a = wmx::astype(&Array::from_slice(&[1.0f32, 2.0], &[2]), Dtype::Float16, None).unwrap();
/// let r = wmx::add(&a, 2.0, None).unwrap();
/// assert_eq!(r.dtype(), Dtype::Float16);
/// let i = Array::from_slice(&[1i32], &[1]);
/// assert_eq!(wmx::multiply(&i, 2.5, None).unwrap().to_vec::<f32>().unwrap(), vec![2.5]);
/// ```
#[derive(Clone)]
pub enum Operand<'a> {
    /// A borrowed array.
    Borrowed(&'a Array),
    /// An owned array.
    Owned(Array),
    /// A weakly typed scalar.
    Scalar(Scalar),
}

impl<'a> From<&'a Array> for Operand<'a> {
    fn from(a: &'a Array) -> Self {
        Operand::Borrowed(a)
    }
}
/// `&&Array`, `&Arc<Array>`, `&Box<Array>`...: the deref coercion a `&Array` parameter gave.
impl<'a, T: std::ops::Deref<Target = Array>> From<&'a T> for Operand<'a> {
    fn from(a: &'a T) -> Self {
        Operand::Borrowed(a)
    }
}
impl From<Array> for Operand<'_> {
    fn from(a: Array) -> Self {
        Operand::Owned(a)
    }
}
impl From<Scalar> for Operand<'_> {
    fn from(v: Scalar) -> Self {
        Operand::Scalar(v)
    }
}
macro_rules! scalar_operand {
    ($kind:ident: $($t:ty => $conv:ty),*) => {$(
        impl From<$t> for Operand<'_> {
            fn from(v: $t) -> Self {
                Operand::Scalar(Scalar::$kind(v as $conv))
            }
        }
    )*};
}
scalar_operand!(Float: f32 => f64, f64 => f64);
scalar_operand!(Int: i32 => i64, i64 => i64, u32 => i64, u8 => i64);
scalar_operand!(Bool: bool => bool);

/// The range a weak integer scalar must fit in for an integer `d`.
fn int_range(d: Dtype) -> Option<(i64, i64)> {
    match d {
        Dtype::Uint8 => Some((0, u8::MAX as i64)),
        Dtype::Uint32 => Some((0, u32::MAX as i64)),
        Dtype::Int32 => Some((i32::MIN as i64, i32::MAX as i64)),
        Dtype::Bool | Dtype::Float16 | Dtype::Bfloat16 | Dtype::Float32 => None,
    }
}

/// The operands as arrays: each scalar becomes a 0-d array of the dtype MLX gives a weak scalar
/// next to the arrays among `ops` (or, with no array, the promotion of the scalars' own dtypes).
/// An integer scalar out of the range of an integer dtype is an error, as in MLX.
pub(crate) fn materialize<const N: usize>(
    op: &'static str,
    ops: [Operand<'_>; N],
    st: Stream,
) -> Result<[Array; N]> {
    let strong = ops.iter().fold(None, |acc: Option<Dtype>, o| match o {
        Operand::Borrowed(a) => Some(acc.map_or(a.dtype(), |d| promote_types(d, a.dtype()))),
        Operand::Owned(a) => Some(acc.map_or(a.dtype(), |d| promote_types(d, a.dtype()))),
        Operand::Scalar(_) => acc,
    });
    let lone = ops.iter().fold(Dtype::Bool, |d, o| match o {
        Operand::Scalar(v) => promote_types(d, v.own_dtype()),
        Operand::Borrowed(_) | Operand::Owned(_) => d,
    });
    let mut out = Vec::with_capacity(N);
    for o in ops {
        out.push(match o {
            Operand::Borrowed(a) => a.clone(),
            Operand::Owned(a) => a,
            Operand::Scalar(v) => {
                let dt = strong.map_or(lone, |d| v.weak_dtype(d));
                if let (Scalar::Int(i), Some((lo, hi))) = (v, int_range(dt))
                    && (i < lo || i > hi)
                {
                    return Err(value_err(
                        op,
                        format!("Converting {i} to {dt} would result in overflow."),
                    ));
                }
                super::creation::full(&[], v.value(), dt, st)?
            }
        });
    }
    Ok(out
        .try_into()
        .unwrap_or_else(|_| unreachable!("invariant: one array per operand")))
}

/// Builds a binary node: weak scalars, promotion, the domain check, broadcasting.
pub(crate) fn binary_op<'a, 'b>(
    op: BinaryOp,
    a: impl Into<Operand<'a>>,
    b: impl Into<Operand<'b>>,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve(op.name())?;
    let [a, b] = materialize(op.name(), [a.into(), b.into()], st)?;
    let promoted = promote_types(a.dtype(), b.dtype());
    let dt = match op {
        BinaryOp::LogicalAnd | BinaryOp::LogicalOr | BinaryOp::LogicalXor => Dtype::Bool,
        // MLX shifts booleans as uint8.
        BinaryOp::LeftShift | BinaryOp::RightShift if promoted == Dtype::Bool => Dtype::Uint8,
        BinaryOp::LeftShift | BinaryOp::RightShift => promoted,
        // Listed one by one so a new op is a compile error here until its promotion is decided.
        BinaryOp::Add
        | BinaryOp::Subtract
        | BinaryOp::Multiply
        | BinaryOp::Divide
        | BinaryOp::Power
        | BinaryOp::Maximum
        | BinaryOp::Minimum
        | BinaryOp::Equal
        | BinaryOp::NotEqual
        | BinaryOp::Less
        | BinaryOp::LessEqual
        | BinaryOp::Greater
        | BinaryOp::GreaterEqual
        | BinaryOp::FloorDivide
        | BinaryOp::Remainder
        | BinaryOp::LogAddExp
        | BinaryOp::ArcTan2
        | BinaryOp::BitwiseAnd
        | BinaryOp::BitwiseOr
        | BinaryOp::BitwiseXor => {
            if op.float_only() && !promoted.is_float() {
                Dtype::Float32
            } else {
                promoted
            }
        }
    };
    if !op.supports(dt.domain()) {
        let what = if op.bitwise() {
            "Only allowed on integer or boolean types but got types"
        } else {
            "Not supported for"
        };
        return Err(dtype_err(
            op.name(),
            format!("{what} {} and {} (promoted to {dt}).", a.dtype(), b.dtype()),
        ));
    }
    let shape = broadcast_shapes(a.shape(), b.shape())?;
    check_size(op.name(), &shape)?;
    let x = broadcast_view(&cast_to(&a, dt, st), &shape, st)?;
    let y = broadcast_view(&cast_to(&b, dt, st), &shape, st)?;
    let out = if op.outputs_bool() { Dtype::Bool } else { dt };
    node(shape, out, st, Primitive::Binary(op), vec![x, y])
}

macro_rules! binary_fns {
    ($($(#[$doc:meta])* $name:ident => $op:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name<'a, 'b>(
            a: impl Into<Operand<'a>>,
            b: impl Into<Operand<'b>>,
            s: impl Into<StreamOrDevice>,
        ) -> OpResult {
            binary_op(BinaryOp::$op, a, b, s)
        }
    )*};
}

binary_fns! {
    /// `a + b` with broadcasting.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1.0f32, 2.0], &[2]);
    /// let b = wmx::Array::from_slice(&[10.0f32], &[1]);
    /// assert_eq!(wmx::add(&a, &b, None).unwrap().to_vec::<f32>().unwrap(), vec![11.0, 12.0]);
    /// ```
    add => Add;
    /// `a - b`.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[5i32], &[1]);
    /// assert_eq!(wmx::subtract(&a, &a, None).unwrap().to_vec::<i32>().unwrap(), vec![0]);
    /// ```
    subtract => Subtract;
    /// `a * b`.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[3u32], &[1]);
    /// assert_eq!(wmx::multiply(&a, &a, None).unwrap().to_vec::<u32>().unwrap(), vec![9]);
    /// ```
    multiply => Multiply;
    /// `a / b` (integers divide as float32).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1i32], &[1]);
    /// let b = wmx::Array::from_slice(&[2i32], &[1]);
    /// assert_eq!(wmx::divide(&a, &b, None).unwrap().to_vec::<f32>().unwrap(), vec![0.5]);
    /// ```
    divide => Divide;
    /// `a ** b` (bool: `a || !b`, as MLX).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[2i32], &[1]);
    /// let b = wmx::Array::from_slice(&[10i32], &[1]);
    /// assert_eq!(wmx::power(&a, &b, None).unwrap().to_vec::<i32>().unwrap(), vec![1024]);
    /// ```
    power => Power;
    /// Elementwise maximum (NaN propagates).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1.0f32, 5.0], &[2]);
    /// let b = wmx::Array::from_slice(&[3.0f32, 2.0], &[2]);
    /// assert_eq!(wmx::maximum(&a, &b, None).unwrap().to_vec::<f32>().unwrap(), vec![3.0, 5.0]);
    /// ```
    maximum => Maximum;
    /// Elementwise minimum (NaN propagates).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1.0f32, 5.0], &[2]);
    /// let b = wmx::Array::from_slice(&[3.0f32, 2.0], &[2]);
    /// assert_eq!(wmx::minimum(&a, &b, None).unwrap().to_vec::<f32>().unwrap(), vec![1.0, 2.0]);
    /// ```
    minimum => Minimum;
    /// `a == b` (bool).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1i32, 2], &[2]);
    /// let b = wmx::Array::from_slice(&[1i32, 3], &[2]);
    /// assert_eq!(wmx::equal(&a, &b, None).unwrap().to_vec::<bool>().unwrap(), vec![true, false]);
    /// ```
    equal => Equal;
    /// `a != b` (bool).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1i32, 2], &[2]);
    /// let b = wmx::Array::from_slice(&[1i32, 3], &[2]);
    /// assert_eq!(wmx::not_equal(&a, &b, None).unwrap().to_vec::<bool>().unwrap(), vec![false, true]);
    /// ```
    not_equal => NotEqual;
    /// `a < b` (bool).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1.0f32, 2.0], &[2]);
    /// let b = wmx::Array::from_slice(&[2.0f32, 2.0], &[2]);
    /// assert_eq!(wmx::less(&a, &b, None).unwrap().to_vec::<bool>().unwrap(), vec![true, false]);
    /// ```
    less => Less;
    /// `a <= b` (bool).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1.0f32, 2.0], &[2]);
    /// let b = wmx::Array::from_slice(&[2.0f32, 2.0], &[2]);
    /// assert_eq!(wmx::less_equal(&a, &b, None).unwrap().to_vec::<bool>().unwrap(), vec![true, true]);
    /// ```
    less_equal => LessEqual;
    /// `a > b` (bool).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[3u8, 2], &[2]);
    /// let b = wmx::Array::from_slice(&[2u8, 2], &[2]);
    /// assert_eq!(wmx::greater(&a, &b, None).unwrap().to_vec::<bool>().unwrap(), vec![true, false]);
    /// ```
    greater => Greater;
    /// `a >= b` (bool).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[3u8, 1], &[2]);
    /// let b = wmx::Array::from_slice(&[2u8, 2], &[2]);
    /// assert_eq!(wmx::greater_equal(&a, &b, None).unwrap().to_vec::<bool>().unwrap(), vec![true, false]);
    /// ```
    greater_equal => GreaterEqual;
    /// Logical and of truth values (any dtype).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1i32, 0], &[2]);
    /// let b = wmx::Array::from_slice(&[2i32, 2], &[2]);
    /// assert_eq!(wmx::logical_and(&a, &b, None).unwrap().to_vec::<bool>().unwrap(), vec![true, false]);
    /// ```
    logical_and => LogicalAnd;
    /// Logical or of truth values (any dtype).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[true, false], &[2]);
    /// let b = wmx::Array::from_slice(&[false, false], &[2]);
    /// assert_eq!(wmx::logical_or(&a, &b, None).unwrap().to_vec::<bool>().unwrap(), vec![true, false]);
    /// ```
    logical_or => LogicalOr;
    /// Logical exclusive or of truth values (any dtype; bool output).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[true, true, false], &[3]);
    /// let b = wmx::Array::from_slice(&[true, false, false], &[3]);
    /// assert_eq!(wmx::logical_xor(&a, &b, None).unwrap().to_vec::<bool>().unwrap(), vec![false, true, false]);
    /// ```
    logical_xor => LogicalXor;
    /// `floor(a / b)`, Python's `//`: rounds toward -inf. Integers stay integers (`x // 0` is 0);
    /// floats give `floor(a / b)` (so `x // 0.0` is ±inf or NaN).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[7i32, -7], &[2]);
    /// assert_eq!(wmx::floor_divide(&a, 2, None).unwrap().to_vec::<i32>().unwrap(), vec![3, -4]);
    /// ```
    floor_divide => FloorDivide;
    /// Python's `%`: the result has the divisor's sign (`x % 0` is `x` for integers, NaN for
    /// floats).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[7i32, -7], &[2]);
    /// assert_eq!(wmx::remainder(&a, 2, None).unwrap().to_vec::<i32>().unwrap(), vec![1, 1]);
    /// let f = wmx::Array::from_slice(&[7.5f32], &[1]);
    /// assert_eq!(wmx::remainder(&f, -2.0, None).unwrap().to_vec::<f32>().unwrap(), vec![-0.5]);
    /// ```
    remainder => Remainder;
    /// `log(e^a + e^b)` without overflow (integers compute as float32).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[0.0f32, -1000.0], &[2]);
    /// let r = wmx::logaddexp(&a, &a, None).unwrap().to_vec::<f32>().unwrap();
    /// assert!((r[0] - 2f32.ln()).abs() < 1e-6 && (r[1] + 1000.0 - 2f32.ln()).abs() < 1e-3);
    /// ```
    logaddexp => LogAddExp;
    /// The angle of the point `(b, a)`: `atan(a / b)` in the right quadrant, in radians.
    ///
    /// ```
    /// let y = wmx::Array::from_slice(&[0.0f32, 1.0], &[2]);
    /// let x = wmx::Array::from_slice(&[1.0f32, 0.0], &[2]);
    /// let r = wmx::arctan2(&y, &x, None).unwrap().to_vec::<f32>().unwrap();
    /// assert_eq!(r, vec![0.0, std::f32::consts::FRAC_PI_2]);
    /// ```
    arctan2 => ArcTan2;
    /// Bitwise and (integers and bool only).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[12u8, 7], &[2]);
    /// assert_eq!(wmx::bitwise_and(&a, 6u8, None).unwrap().to_vec::<u8>().unwrap(), vec![4, 6]);
    /// ```
    bitwise_and => BitwiseAnd;
    /// Bitwise or (integers and bool only).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[12i32, -8], &[2]);
    /// assert_eq!(wmx::bitwise_or(&a, 3, None).unwrap().to_vec::<i32>().unwrap(), vec![15, -5]);
    /// ```
    bitwise_or => BitwiseOr;
    /// Bitwise exclusive or (integers and bool only).
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[12u32, 5], &[2]);
    /// assert_eq!(wmx::bitwise_xor(&a, 6u32, None).unwrap().to_vec::<u32>().unwrap(), vec![10, 3]);
    /// ```
    bitwise_xor => BitwiseXor;
    /// `a << b` (integers; bool computes as uint8). The count is taken modulo 32, as MLX's CPU
    /// does for counts of 32 or more; bits shifted past a uint8 are lost.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1u8, 3], &[2]);
    /// assert_eq!(wmx::left_shift(&a, 7, None).unwrap().to_vec::<u8>().unwrap(), vec![128, 128]);
    /// ```
    left_shift => LeftShift;
    /// `a >> b`: arithmetic for int32, logical for unsigned (bool computes as uint8); the count
    /// is taken modulo 32.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[-8i32, 8], &[2]);
    /// assert_eq!(wmx::right_shift(&a, 1, None).unwrap().to_vec::<i32>().unwrap(), vec![-4, 4]);
    /// ```
    right_shift => RightShift;
}

/// `x` where `cond` is true, else `y`; all three broadcast together, x and y promote (either may
/// be a weakly typed scalar).
///
/// ```
/// let c = wmx::Array::from_slice(&[true, false], &[2]);
/// let x = wmx::Array::from_slice(&[1i32, 2], &[2]);
/// let y = wmx::Array::from_slice(&[1.5f32], &[1]);
/// let r = wmx::where_(&c, &x, &y, None).unwrap();
/// assert_eq!(r.to_vec::<f32>().unwrap(), vec![1.0, 1.5]);
/// assert_eq!(wmx::where_(&c, &x, 0, None).unwrap().to_vec::<i32>().unwrap(), vec![1, 0]);
/// ```
pub fn where_<'c, 'a, 'b>(
    cond: impl Into<Operand<'c>>,
    x: impl Into<Operand<'a>>,
    y: impl Into<Operand<'b>>,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("where")?;
    let [cond] = materialize("where", [cond.into()], st)?;
    let [x, y] = materialize("where", [x.into(), y.into()], st)?;
    let dt = promote_types(x.dtype(), y.dtype());
    let shape = broadcast_shapes(&broadcast_shapes(cond.shape(), x.shape())?, y.shape())?;
    check_size("where", &shape)?;
    let c = broadcast_view(&cast_to(&cond, Dtype::Bool, st), &shape, st)?;
    let a = broadcast_view(&cast_to(&x, dt, st), &shape, st)?;
    let b = broadcast_view(&cast_to(&y, dt, st), &shape, st)?;
    node(shape, dt, st, Primitive::Where, vec![c, a, b])
}
