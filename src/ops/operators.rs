//! `std::ops` on arrays (default stream): `+ - * / %`, `& | ^ << >>`, unary `-` and `!`
//! (bitwise_invert), between arrays (owned or borrowed) and with Rust scalars on either side
//! (`i32`, `f32`, `bool`; weakly typed, as in the functions). They panic with the op's error message, as ndarray's
//! operators do; use the functions (`add`, `subtract`...) for a `Result`.

use crate::array::Array;
use crate::ops::binary::Operand;
use std::ops::{Add, BitAnd, BitOr, BitXor, Div, Mul, Neg, Not, Rem, Shl, Shr, Sub};

fn unwrap_op(r: crate::Result<Array>) -> Array {
    match r {
        Ok(a) => a,
        Err(e) => panic!("{e}"),
    }
}

fn apply<'a, 'b>(
    f: fn(Operand<'a>, Operand<'b>, Option<crate::Stream>) -> crate::Result<Array>,
    a: impl Into<Operand<'a>>,
    b: impl Into<Operand<'b>>,
) -> Array {
    unwrap_op(f(a.into(), b.into(), None))
}

macro_rules! binop {
    ($tr:ident, $m:ident, $f:path) => {
        impl $tr<&Array> for &Array {
            type Output = Array;
            fn $m(self, rhs: &Array) -> Array {
                apply($f, self, rhs)
            }
        }
        impl $tr<Array> for Array {
            type Output = Array;
            fn $m(self, rhs: Array) -> Array {
                apply($f, &self, &rhs)
            }
        }
        impl $tr<&Array> for Array {
            type Output = Array;
            fn $m(self, rhs: &Array) -> Array {
                apply($f, &self, rhs)
            }
        }
        impl $tr<Array> for &Array {
            type Output = Array;
            fn $m(self, rhs: Array) -> Array {
                apply($f, self, &rhs)
            }
        }
        // One integer and one float type, so `&a + 1` and `&a * 2.0` infer their literal.
        binop!(@scalars $tr, $m, $f, f32, i32, bool);
    };
    (@scalars $tr:ident, $m:ident, $f:path, $($t:ty),*) => {$(
        impl $tr<$t> for &Array {
            type Output = Array;
            fn $m(self, rhs: $t) -> Array {
                apply($f, self, rhs)
            }
        }
        impl $tr<$t> for Array {
            type Output = Array;
            fn $m(self, rhs: $t) -> Array {
                apply($f, &self, rhs)
            }
        }
        impl $tr<&Array> for $t {
            type Output = Array;
            fn $m(self, rhs: &Array) -> Array {
                apply($f, self, rhs)
            }
        }
        impl $tr<Array> for $t {
            type Output = Array;
            fn $m(self, rhs: Array) -> Array {
                apply($f, self, &rhs)
            }
        }
    )*};
}

binop!(Add, add, crate::ops::binary::add);
binop!(Sub, sub, crate::ops::binary::subtract);
binop!(Mul, mul, crate::ops::binary::multiply);
binop!(Div, div, crate::ops::binary::divide);
binop!(Rem, rem, crate::ops::binary::remainder);
binop!(BitAnd, bitand, crate::ops::binary::bitwise_and);
binop!(BitOr, bitor, crate::ops::binary::bitwise_or);
binop!(BitXor, bitxor, crate::ops::binary::bitwise_xor);
binop!(Shl, shl, crate::ops::binary::left_shift);
binop!(Shr, shr, crate::ops::binary::right_shift);

impl Neg for &Array {
    type Output = Array;
    fn neg(self) -> Array {
        unwrap_op(crate::ops::unary::negative(self, None))
    }
}

impl Neg for Array {
    type Output = Array;
    fn neg(self) -> Array {
        -&self
    }
}

/// `!a` is MLX's `~a`: bitwise_invert (logical not for bool).
impl Not for &Array {
    type Output = Array;
    fn not(self) -> Array {
        unwrap_op(crate::ops::unary::bitwise_invert(self, None))
    }
}

impl Not for Array {
    type Output = Array;
    fn not(self) -> Array {
        !&self
    }
}
