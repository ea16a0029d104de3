//! `std::ops` on `&Array` (default stream). They panic with the op's error message, as ndarray's
//! operators do; use the functions (`add`, `subtract`...) for a `Result`.

use crate::array::Array;
use std::ops::{Add, Div, Mul, Neg, Sub};

macro_rules! binop {
    ($tr:ident, $m:ident, $f:path) => {
        impl $tr<&Array> for &Array {
            type Output = Array;
            fn $m(self, rhs: &Array) -> Array {
                match $f(self, rhs, None) {
                    Ok(a) => a,
                    Err(e) => panic!("{e}"),
                }
            }
        }
        impl $tr<Array> for Array {
            type Output = Array;
            fn $m(self, rhs: Array) -> Array {
                (&self).$m(&rhs)
            }
        }
    };
}

binop!(Add, add, crate::ops::binary::add);
binop!(Sub, sub, crate::ops::binary::subtract);
binop!(Mul, mul, crate::ops::binary::multiply);
binop!(Div, div, crate::ops::binary::divide);

impl Neg for &Array {
    type Output = Array;
    fn neg(self) -> Array {
        match crate::ops::unary::negative(self, None) {
            Ok(a) => a,
            Err(e) => panic!("{e}"),
        }
    }
}
