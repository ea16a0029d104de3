//! The primitives a graph node can hold, and the elementwise/reduction op tables. Each elementwise
//! op is declared once here: its MLX name, the domains it accepts, its CPU scalar function and its
//! WGSL expression per domain. Backends implement op *families* by reading these tables.

use crate::dtype::Domain;
#[allow(unused_imports)]
pub(crate) use crate::scalar::*;

/// The `wgsl()` body shared by both op tables: a row's WGSL expression for domain `$d`, given
/// the row's four optional columns in the order float, int, uint, bool (`None` where empty).
macro_rules! row_wgsl {
    ($d:expr; [$($wf:literal)?] [$($wi:literal)?] [$($wu:literal)?] [$($wb:literal)?]) => {
        match $d {
            Domain::Float => None $(.or(Some($wf)))?,
            Domain::Int => None $(.or(Some($wi)))?,
            Domain::Uint => None $(.or(Some($wu)))?,
            Domain::Bool => None $(.or(Some($wb)))?,
        }
    };
}

/// Declares the unary table. Per domain: `(rust fn, "wgsl expression in x")`.
macro_rules! unary_table {
    ($( $v:ident $name:literal
        $(f: ($ff:expr, $wf:literal))? $(i: ($fi:expr, $wi:literal))?
        $(u: ($fu:expr, $wu:literal))? $(b: ($fb:expr, $wb:literal))? ; )*) => {
        /// Elementwise ops of one input whose output dtype equals the input dtype.
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
        pub enum UnaryOp { $( #[doc = $name] $v, )* }

        #[allow(unused_variables)]
        impl UnaryOp {
            /// Every unary op.
            pub const ALL: &'static [UnaryOp] = &[$(UnaryOp::$v),*];
            /// MLX's name.
            pub fn name(self) -> &'static str { match self { $(UnaryOp::$v => $name,)* } }
            /// WGSL expression of `x` for a domain, or `None` when the op does not take it.
            pub fn wgsl(self, d: Domain) -> Option<&'static str> {
                match self { $(UnaryOp::$v => row_wgsl!(d; [$($wf)?] [$($wi)?] [$($wu)?] [$($wb)?]),)* }
            }
            /// True when the op accepts inputs of this domain.
            pub fn supports(self, d: Domain) -> bool { self.wgsl(d).is_some() }
            /// Hands the float-domain scalar function to `v` as a concrete closure type, so a
            /// backend's loop over it is monomorphised (inlined, vectorisable).
            pub fn visit_f32<V: UnaryVisitor<f32>>(self, v: V) -> Option<V::Out> {
                match self { $(UnaryOp::$v => { $(return Some(v.visit($ff));)? #[allow(unreachable_code)] None })* }
            }
            /// As [`UnaryOp::visit_f32`] for the signed domain.
            pub fn visit_i32<V: UnaryVisitor<i32>>(self, v: V) -> Option<V::Out> {
                match self { $(UnaryOp::$v => { $(return Some(v.visit($fi));)? #[allow(unreachable_code)] None })* }
            }
            /// As [`UnaryOp::visit_f32`] for the unsigned domain.
            pub fn visit_u32<V: UnaryVisitor<u32>>(self, v: V) -> Option<V::Out> {
                match self { $(UnaryOp::$v => { $(return Some(v.visit($fu));)? #[allow(unreachable_code)] None })* }
            }
            /// As [`UnaryOp::visit_f32`] for the bool domain.
            pub fn visit_bool<V: UnaryVisitor<bool>>(self, v: V) -> Option<V::Out> {
                match self { $(UnaryOp::$v => { $(return Some(v.visit($fb));)? #[allow(unreachable_code)] None })* }
            }
        }
    };
}

/// Receives an op's scalar function as a concrete type (see [`UnaryOp::visit_f32`]).
pub trait UnaryVisitor<T> {
    /// What the visit produces.
    type Out;
    /// Called with the op's function.
    fn visit<F: Fn(T) -> T + Sync + Send + Copy>(self, f: F) -> Self::Out;
}

/// Receives a binary op's scalar function as a concrete type (see [`BinaryScalar::visit`]).
pub trait BinaryVisitor<T> {
    /// What the visit produces.
    type Out;
    /// Called with the op's function.
    fn visit<F: Fn(T, T) -> T + Sync + Send + Copy>(self, f: F) -> Self::Out;
}

unary_table! {
    Negative "negative" f: (|x| -x, "-x") i: (|x: i32| x.wrapping_neg(), "-x") u: (|x: u32| x.wrapping_neg(), "0u - x");
    Abs "abs" f: (|x: f32| x.abs(), "abs(x)") i: (|x: i32| x.wrapping_abs(), "abs(x)") u: (|x| x, "x") b: (|x| x, "x");
    Sign "sign" f: (|x: f32| if x > 0.0 { 1.0 } else if x < 0.0 { -1.0 } else { 0.0 }, "f32(select(0, 1, x > 0.0) - select(0, 1, x < 0.0))")
        i: (|x: i32| x.signum(), "sign(x)") u: (|x: u32| (x > 0) as u32, "select(0u, 1u, x > 0u)") b: (|x| x, "x");
    Exp "exp" f: (exp_f32, "wmx_exp(x)");
    Log "log" f: (|x: f32| x.ln(), "wmx_log(x)");
    Sqrt "sqrt" f: (|x: f32| x.sqrt(), "sqrt(x)");
    Rsqrt "rsqrt" f: (|x: f32| 1.0 / x.sqrt(), "1.0 / sqrt(x)");
    Square "square" f: (|x| x * x, "x * x") i: (|x: i32| x.wrapping_mul(x), "x * x") u: (|x: u32| x.wrapping_mul(x), "x * x") b: (|x| x, "x");
    Reciprocal "reciprocal" f: (|x| 1.0 / x, "1.0 / x");
    Sin "sin" f: (|x: f32| x.sin(), "wmx_sin(x)");
    Cos "cos" f: (|x: f32| x.cos(), "wmx_cos(x)");
    Tanh "tanh" f: (|x: f32| x.tanh(), "select(tanh(clamp(x, -20.0, 20.0)), x, wmx_isnan(x))");
    Sigmoid "sigmoid" f: (|x: f32| 1.0 / (1.0 + (-x).exp()), "1.0 / (1.0 + exp(-x))");
    Floor "floor" f: (|x: f32| x.floor(), "floor(x)") i: (|x| x, "x") u: (|x| x, "x") b: (|x| x, "x");
    Ceil "ceil" f: (|x: f32| x.ceil(), "ceil(x)") i: (|x| x, "x") u: (|x| x, "x") b: (|x| x, "x");
    LogicalNot "logical_not" b: (|x: bool| !x, "!x");
    Log1p "log1p" f: (|x: f32| x.ln_1p(), "wmx_log1p(x)");
    Erf "erf" f: (erf_f32, "wmx_erf(x)");
    Erfinv "erfinv" f: (erfinv_f32, "wmx_erfinv(x)");
    Expm1 "expm1" f: (|x: f32| x.exp_m1(), "wmx_expm1(x)");
    Log2 "log2" f: (|x: f32| x.log2(), "wmx_log2(x)");
    Log10 "log10" f: (|x: f32| x.log10(), "wmx_log(x) * 0.43429448190325182765");
    Tan "tan" f: (|x: f32| x.tan(), "wmx_tan(x)");
    ArcSin "arcsin" f: (|x: f32| x.asin(), "wmx_asin(x)");
    ArcCos "arccos" f: (|x: f32| x.acos(), "wmx_acos(x)");
    ArcTan "arctan" f: (|x: f32| x.atan(), "wmx_atan(x)");
    Sinh "sinh" f: (|x: f32| x.sinh(), "wmx_sinh(x)");
    Cosh "cosh" f: (|x: f32| x.cosh(), "wmx_cosh(x)");
    ArcSinh "arcsinh" f: (asinh_f32, "wmx_asinh(x)");
    ArcCosh "arccosh" f: (acosh_f32, "wmx_acosh(x)");
    ArcTanh "arctanh" f: (|x: f32| x.atanh(), "wmx_atanh(x)");
    Degrees "degrees" f: (|x: f32| x * DEGREES_PER_RADIAN, "x * 57.295779513082320877");
    Radians "radians" f: (|x: f32| x * RADIANS_PER_DEGREE, "x * 0.017453292519943295769");
    Round "round" f: (|x: f32| x.round_ties_even(), "round(x)") i: (|x| x, "x") u: (|x| x, "x") b: (|x| x, "x");
    Trunc "trunc" f: (|x: f32| x.trunc(), "trunc(x)") i: (|x| x, "x") u: (|x| x, "x") b: (|x| x, "x");
    BitwiseInvert "bitwise_invert" i: (|x: i32| !x, "~x") u: (|x: u32| !x, "~x") b: (|x: bool| !x, "!x");
}

impl UnaryOp {
    /// Float-only ops promote integer and bool inputs to float32 first (MLX's rule).
    pub fn float_only(self) -> bool {
        !self.supports(Domain::Int) && !self.supports(Domain::Bool)
    }
}

/// Declares the binary table. Per domain: `(rust fn, "wgsl expression in a and b")`.
macro_rules! binary_table {
    ($( $v:ident $name:literal $cmp:literal
        $(f: ($ff:expr, $wf:literal))? $(i: ($fi:expr, $wi:literal))?
        $(u: ($fu:expr, $wu:literal))? $(b: ($fb:expr, $wb:literal))? ; )*) => {
        /// Elementwise ops of two inputs (same dtype after promotion).
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
        pub enum BinaryOp { $( #[doc = $name] $v, )* }

        #[allow(unused_variables)]
        impl BinaryOp {
            /// Every binary op.
            pub const ALL: &'static [BinaryOp] = &[$(BinaryOp::$v),*];
            /// MLX's name.
            pub fn name(self) -> &'static str { match self { $(BinaryOp::$v => $name,)* } }
            /// True when the output is bool (comparisons, logical ops).
            pub fn outputs_bool(self) -> bool { match self { $(BinaryOp::$v => $cmp,)* } }
            /// WGSL expression of `a`, `b` for a domain, or `None` when unsupported.
            pub fn wgsl(self, d: Domain) -> Option<&'static str> {
                match self { $(BinaryOp::$v => row_wgsl!(d; [$($wf)?] [$($wi)?] [$($wu)?] [$($wb)?]),)* }
            }
            /// True when the op accepts inputs of this domain.
            pub fn supports(self, d: Domain) -> bool { self.wgsl(d).is_some() }
        }

        /// CPU scalar functions of the binary table, one impl per compute type.
        pub trait BinaryScalar: Copy + Send + Sync + PartialOrd {
            /// `op(a, b)` for ops whose output has the input's type.
            fn binary(op: BinaryOp, a: Self, b: Self) -> Self;
            /// Hands `op`'s function for this type to `v` as a concrete closure type.
            fn visit<V: BinaryVisitor<Self>>(op: BinaryOp, v: V) -> Option<V::Out>;
        }
        binary_table!(@impl f32, $( $v $(, $ff)? );*);
        binary_table!(@impl i32, $( $v $(, $fi)? );*);
        binary_table!(@impl u32, $( $v $(, $fu)? );*);
        binary_table!(@impl bool, $( $v $(, $fb)? );*);
    };
    (@impl $t:ty, $( $v:ident $(, $f:expr)? );*) => {
        #[allow(unused_variables)]
        impl BinaryScalar for $t {
            fn binary(op: BinaryOp, a: $t, b: $t) -> $t {
                match op { $(BinaryOp::$v => { let r: Option<fn($t, $t) -> $t> = None; $(let r = Some($f as fn($t, $t) -> $t);)? r.map_or(a, |f| f(a, b)) })* }
            }
            fn visit<V: BinaryVisitor<$t>>(op: BinaryOp, v: V) -> Option<V::Out> {
                match op { $(BinaryOp::$v => { $(return Some(v.visit($f));)? #[allow(unreachable_code)] None })* }
            }
        }
    };
}

fn pow_f32(a: f32, b: f32) -> f32 {
    a.powf(b)
}
fn pow_i32(a: i32, b: i32) -> i32 {
    if b < 0 {
        return 0;
    }
    a.wrapping_pow(b as u32)
}

// Comparisons produce bool; their CPU function is `BinaryOp::compare`, so their `(fn, ...)` column
// holds a placeholder that is never called.
binary_table! {
    Add "add" false f: (|a, b| a + b, "a + b") i: (|a: i32, b| a.wrapping_add(b), "a + b") u: (|a: u32, b| a.wrapping_add(b), "a + b") b: (|a, b| a | b, "a || b");
    Subtract "subtract" false f: (|a, b| a - b, "a - b") i: (|a: i32, b| a.wrapping_sub(b), "a - b") u: (|a: u32, b| a.wrapping_sub(b), "a - b") b: (|a, b| a != b, "a != b");
    Multiply "multiply" false f: (|a, b| a * b, "a * b") i: (|a: i32, b| a.wrapping_mul(b), "a * b") u: (|a: u32, b| a.wrapping_mul(b), "a * b") b: (|a, b| a & b, "a && b");
    Divide "divide" false f: (|a, b| a / b, "wmx_div(a, b)");
    Power "power" false f: (pow_f32, "wmx_pow(a, b)") i: (pow_i32, "wmx_ipow(a, b)") u: (|a: u32, b| a.wrapping_pow(b), "wmx_upow(a, b)") b: (|a: bool, b: bool| a | !b, "a || !b");
    Maximum "maximum" false f: (max_f32, "bitcast<f32>(select(select(bitcast<u32>(b), bitcast<u32>(a), a > b), 0x7fc00000u, wmx_isnan(a) || wmx_isnan(b)))")
        i: (|a: i32, b| a.max(b), "max(a, b)") u: (|a: u32, b| a.max(b), "max(a, b)") b: (|a, b| a | b, "a || b");
    Minimum "minimum" false f: (min_f32, "bitcast<f32>(select(select(bitcast<u32>(b), bitcast<u32>(a), a < b), 0x7fc00000u, wmx_isnan(a) || wmx_isnan(b)))")
        i: (|a: i32, b| a.min(b), "min(a, b)") u: (|a: u32, b| a.min(b), "min(a, b)") b: (|a, b| a & b, "a && b");
    Equal "equal" true f: (|a, _| a, "a == b") i: (|a, _| a, "a == b") u: (|a, _| a, "a == b") b: (|a, _| a, "a == b");
    NotEqual "not_equal" true f: (|a, _| a, "!(a == b)") i: (|a, _| a, "a != b") u: (|a, _| a, "a != b") b: (|a, _| a, "a != b");
    Less "less" true f: (|a, _| a, "a < b") i: (|a, _| a, "a < b") u: (|a, _| a, "a < b") b: (|a, _| a, "u32(a) < u32(b)");
    LessEqual "less_equal" true f: (|a, _| a, "a <= b") i: (|a, _| a, "a <= b") u: (|a, _| a, "a <= b") b: (|a, _| a, "u32(a) <= u32(b)");
    Greater "greater" true f: (|a, _| a, "a > b") i: (|a, _| a, "a > b") u: (|a, _| a, "a > b") b: (|a, _| a, "u32(a) > u32(b)");
    GreaterEqual "greater_equal" true f: (|a, _| a, "a >= b") i: (|a, _| a, "a >= b") u: (|a, _| a, "a >= b") b: (|a, _| a, "u32(a) >= u32(b)");
    LogicalAnd "logical_and" false b: (|a, b| a & b, "a && b");
    LogicalOr "logical_or" false b: (|a, b| a | b, "a || b");
    LogicalXor "logical_xor" false b: (|a, b| a != b, "a != b");
    FloorDivide "floor_divide" false f: (|a: f32, b: f32| (a / b).floor(), "wmx_floor_div(a, b)") i: (floor_divide_i32, "wmx_floor_divide_i(a, b)")
        u: (|a: u32, b: u32| a.checked_div(b).unwrap_or(0), "select(a / b, 0u, b == 0u)") b: (|a, b| a & b, "a && b");
    Remainder "remainder" false f: (remainder_f32, "wmx_remainder_f(a, b)") i: (remainder_i32, "wmx_remainder_i(a, b)")
        u: (|a: u32, b: u32| a.checked_rem(b).unwrap_or(a), "select(a % b, a, b == 0u)") b: (|a: bool, b: bool| a & !b, "a && !b");
    LogAddExp "logaddexp" false f: (logaddexp_f32, "wmx_logaddexp(a, b)");
    ArcTan2 "arctan2" false f: (|a: f32, b: f32| a.atan2(b), "wmx_atan2(a, b)");
    BitwiseAnd "bitwise_and" false i: (|a: i32, b| a & b, "a & b") u: (|a: u32, b| a & b, "a & b") b: (|a, b| a & b, "a && b");
    BitwiseOr "bitwise_or" false i: (|a: i32, b| a | b, "a | b") u: (|a: u32, b| a | b, "a | b") b: (|a, b| a | b, "a || b");
    BitwiseXor "bitwise_xor" false i: (|a: i32, b| a ^ b, "a ^ b") u: (|a: u32, b| a ^ b, "a ^ b") b: (|a, b| a != b, "a != b");
    // Shift counts are taken modulo 32 (what MLX's CPU gives for counts >= 32 or negative).
    LeftShift "left_shift" false i: (|a: i32, b: i32| a.wrapping_shl(b as u32), "a << (bitcast<u32>(b) & 31u)")
        u: (|a: u32, b: u32| a.wrapping_shl(b), "a << (b & 31u)");
    RightShift "right_shift" false i: (|a: i32, b: i32| a.wrapping_shr(b as u32), "a >> (bitcast<u32>(b) & 31u)")
        u: (|a: u32, b: u32| a.wrapping_shr(b), "a >> (b & 31u)");
}

/// Python's `//` on integers: rounds toward -inf; `x // 0` is 0 (MLX's CPU result) and
/// `i32::MIN // -1` wraps.
fn floor_divide_i32(a: i32, b: i32) -> i32 {
    if b == 0 {
        return 0;
    }
    let q = a.wrapping_div(b);
    if q.wrapping_mul(b) != a && ((a < 0) != (b < 0)) {
        q - 1
    } else {
        q
    }
}

/// Python's `%` on integers: the sign of the divisor; `x % 0` is `x` (MLX's CPU result).
fn remainder_i32(a: i32, b: i32) -> i32 {
    if b == 0 {
        return a;
    }
    let r = a.wrapping_rem(b);
    if r != 0 && ((r < 0) != (b < 0)) {
        r + b
    } else {
        r
    }
}

/// Python's `%` on floats: `fmod`, moved into the divisor's sign (so `-5 % inf` is `inf`, as in
/// MLX and NumPy); a zero result keeps the dividend's sign.
fn remainder_f32(a: f32, b: f32) -> f32 {
    let r = a % b;
    if r != 0.0 && ((r < 0.0) != (b < 0.0)) {
        r + b
    } else {
        r
    }
}

/// `log(e^a + e^b)` without overflow: the larger plus `log1p(e^-|a - b|)`; -inf is the
/// identity (scans use it), NaN propagates.
pub(crate) fn logaddexp_f32(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        return f32::NAN;
    }
    let m = a.max(b);
    if m.is_infinite() {
        return m;
    }
    m + (-(a - b).abs()).exp().ln_1p()
}

impl BinaryOp {
    /// Float-only ops compute integer and bool inputs as float32 (MLX's rule, as `divide`).
    pub fn float_only(self) -> bool {
        self.supports(Domain::Float)
            && !self.supports(Domain::Int)
            && !self.supports(Domain::Uint)
            && !self.supports(Domain::Bool)
    }

    /// Ops of integers and booleans only (bitwise ops and shifts).
    pub fn bitwise(self) -> bool {
        !self.supports(Domain::Float) && self.supports(Domain::Int)
    }

    /// CPU comparison for ops with a bool output (`outputs_bool`).
    pub fn compare<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            BinaryOp::Equal => a == b,
            BinaryOp::NotEqual => a != b,
            BinaryOp::Less => a < b,
            BinaryOp::LessEqual => a <= b,
            BinaryOp::Greater => a > b,
            BinaryOp::GreaterEqual => a >= b,
            // Not comparisons: their output has the input's dtype (see `BinaryScalar`).
            BinaryOp::LogicalAnd
            | BinaryOp::LogicalOr
            | BinaryOp::Add
            | BinaryOp::Subtract
            | BinaryOp::Multiply
            | BinaryOp::Divide
            | BinaryOp::Power
            | BinaryOp::Maximum
            | BinaryOp::Minimum
            | BinaryOp::LogicalXor
            | BinaryOp::FloorDivide
            | BinaryOp::Remainder
            | BinaryOp::LogAddExp
            | BinaryOp::ArcTan2
            | BinaryOp::BitwiseAnd
            | BinaryOp::BitwiseOr
            | BinaryOp::BitwiseXor
            | BinaryOp::LeftShift
            | BinaryOp::RightShift => false,
        }
    }
}

/// Reductions over axes.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ReduceOp {
    /// sum
    Sum,
    /// prod
    Prod,
    /// max
    Max,
    /// min
    Min,
    /// all (bool input)
    All,
    /// any (bool input)
    Any,
}

impl ReduceOp {
    /// Every reduction.
    pub const ALL: &'static [ReduceOp] = &[
        ReduceOp::Sum,
        ReduceOp::Prod,
        ReduceOp::Max,
        ReduceOp::Min,
        ReduceOp::All,
        ReduceOp::Any,
    ];
    /// MLX's name.
    pub fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "sum",
            ReduceOp::Prod => "prod",
            ReduceOp::Max => "max",
            ReduceOp::Min => "min",
            ReduceOp::All => "all",
            ReduceOp::Any => "any",
        }
    }
    /// The combining binary op.
    pub fn combiner(self) -> BinaryOp {
        match self {
            ReduceOp::Sum => BinaryOp::Add,
            ReduceOp::Prod => BinaryOp::Multiply,
            ReduceOp::Max => BinaryOp::Maximum,
            ReduceOp::Min => BinaryOp::Minimum,
            ReduceOp::All => BinaryOp::Multiply,
            ReduceOp::Any => BinaryOp::Add,
        }
    }
    /// The identity as f64 per domain (bool: 0 or 1).
    pub fn identity(self, d: Domain) -> f64 {
        match (self, d) {
            (ReduceOp::Sum | ReduceOp::Any, _) => 0.0,
            (ReduceOp::Prod | ReduceOp::All, _) => 1.0,
            (ReduceOp::Max, Domain::Float) => f64::NEG_INFINITY,
            (ReduceOp::Max, Domain::Int) => i32::MIN as f64,
            (ReduceOp::Max, Domain::Uint | Domain::Bool) => 0.0,
            (ReduceOp::Min, Domain::Float) => f64::INFINITY,
            (ReduceOp::Min, Domain::Int) => i32::MAX as f64,
            (ReduceOp::Min, Domain::Uint) => u32::MAX as f64,
            (ReduceOp::Min, Domain::Bool) => 1.0,
        }
    }
}

/// Index-of-extremum reductions along one axis (output uint32).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ArgReduceOp {
    /// argmax
    ArgMax,
    /// argmin
    ArgMin,
}

impl ArgReduceOp {
    /// MLX's name.
    pub fn name(self) -> &'static str {
        match self {
            ArgReduceOp::ArgMax => "argmax",
            ArgReduceOp::ArgMin => "argmin",
        }
    }
}

/// What a graph node computes. Inputs are already promoted and broadcast by the ops layer.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Primitive {
    /// Data given at creation; never scheduled.
    Constant,
    /// Every element equals the value (converted to the node's dtype).
    Full(f64),
    /// `start + i * step`.
    Arange { start: f64, step: f64 },
    /// Converts the input to the node's dtype.
    AsType,
    /// Elementwise op of one input.
    Unary(UnaryOp),
    /// Elementwise op of two inputs of equal shape and dtype.
    Binary(BinaryOp),
    /// `where_(cond, x, y)`: inputs bool, T, T of equal shape.
    Where,
    /// Reduction over `axes`; the node's shape keeps them as size 1.
    Reduce { op: ReduceOp, axes: Vec<usize> },
    /// Index of max/min along `axis`; the node's shape keeps it as size 1.
    ArgReduce { op: ArgReduceOp, axis: usize },
    /// `[..., M, K] @ [..., K, N]` with equal batch shapes.
    Matmul,
    /// MLX's `conv_general`: inputs `[N, *spatial, C_in]` and weight
    /// `[C_out, *kernel, C_in / groups]` of one float dtype (dense or strided), 1 to 3 spatial
    /// dims; output `[N, *out_spatial, C_out]`. The public ops crop the input for negative
    /// padding; the transform rules may pass negative padding, which crops the dilated input.
    Convolution(ConvParams),
    /// Same elements in a new shape: a view when strides allow, else a copy.
    Reshape,
    /// Axis permutation (a view).
    Transpose(Vec<usize>),
    /// Broadcast to the node's shape (a view with zero strides).
    Broadcast,
    /// Strided window: `start` and `step` per axis; the node's shape gives the counts (a view).
    Slice { start: Vec<i32>, step: Vec<i32> },
    /// Inputs joined along `axis`.
    Concatenate { axis: usize },
    /// MLX's Threefry bits: `per_key` elements of `width` bytes for each key of the input
    /// (uint32 pairs); uint8 output for width 1, uint32 else, or for a float node (width 4)
    /// MLX's uniform [0, 1) sample made from the bits in the same pass.
    RandomBits { width: u32, per_key: usize },
    /// Stable ascending argsort along the last axis (uint32 indices).
    ArgSort,
    /// `out[.., j, ..] = a[.., idx[j], ..]` along `axis`; inputs: a, and 1-D uint32 indices
    /// already wrapped and clamped to the axis.
    Take { axis: usize },
    /// A dense row-major copy.
    Copy,
    /// Softmax over the last axis (float input and output of one dtype).
    Softmax,
    /// A view of a dense row-major input with arbitrary `strides` (elements) and `offset`; the
    /// ops layer has checked that every reachable element lies inside the input.
    AsStrided { strides: Vec<isize>, offset: usize },
    /// MLX's gather: inputs `a`, then int32 indices stacked as `[axes.len(), ..idx_shape]`; the
    /// output is `idx_shape + slice_sizes`. A negative index wraps once, then each start is
    /// clamped so its slice fits the axis (never reads out of bounds).
    Gather {
        axes: Vec<usize>,
        slice_sizes: Vec<i32>,
    },
    /// MLX's scatter: inputs `a`, int32 indices stacked as `[axes.len(), ..idx_shape]`, and
    /// updates (`a`'s dtype) of shape `idx_shape + slice` with `slice.len() == a.ndim()`. The
    /// output is `a` with each update combined by `op` (`None`: replaced) at its index; a
    /// negative index wraps once, and positions still outside the array are dropped.
    Scatter {
        op: Option<BinaryOp>,
        axes: Vec<usize>,
    },
    /// Inclusive or exclusive scan along the last axis, optionally from the end; the input has
    /// the node's dtype (the ops layer casts), the output is dense.
    Scan {
        op: ScanOp,
        reverse: bool,
        inclusive: bool,
    },
    /// Stable ascending sort of values along the last axis (NaN last).
    Sort,
    /// Insertion indices (uint32) of the second input's elements into the first (1-D, sorted),
    /// both of one dtype: elements strictly before (`right` false) or not after (`right` true).
    SearchSorted { right: bool },
    /// The input, unchanged (a view); transforms pass no gradient through it.
    StopGradient,
    /// RMS normalisation over the last axis (`fast::rms_norm`): inputs x, then the weight when
    /// `has_weight`, all of the node's float dtype; computed in f32.
    RmsNorm { eps: f32, has_weight: bool },
    /// Layer normalisation over the last axis (`fast::layer_norm`): inputs x, then the weight
    /// and the bias when present, all of the node's float dtype; computed in f32.
    LayerNorm {
        eps: f32,
        has_weight: bool,
        has_bias: bool,
    },
    /// Rotary embedding of the last axis (`fast::rope`), positions along axis -2 from `offset`:
    /// inputs x, then f32 frequencies `[dims / 2]` (replacing `base`) when given. `inverse`
    /// rotates the other way (the vjp).
    Rope {
        dims: i32,
        traditional: bool,
        base: f32,
        scale: f32,
        offset: i32,
        inverse: bool,
    },
    /// Scaled dot-product attention (`fast::scaled_dot_product_attention`): inputs q
    /// `[B, Hq, Lq, D]`, k `[B, Hk, Lk, D]`, v `[B, Hk, Lk, Dv]` of the node's dtype, then an f32
    /// additive mask broadcast to `[B, Hq, Lq, Lk]` when given; causal masks (aligned to the
    /// end) score `f32::MIN`.
    Attention { scale: f32, causal: bool },
    /// Output `index` of a function with user-given transform rules (`custom_function`): a view
    /// of its last input (that output as computed); the others are the function's inputs.
    Custom {
        call: crate::transforms::CustomRef,
        index: usize,
    },
    /// A communication op over a group of processes (`wmx::distributed`): the input's elements
    /// are staged through host memory and handed to the transport. Only built for groups of
    /// more than one process (the singleton's collectives are the identity).
    Collective {
        op: crate::distributed::CollectiveOp,
        group: crate::distributed::Group,
    },
    /// A fused elementwise region (`compile`): inputs of the node's shape (views, broadcasts
    /// included) and the expression over them (see `compile::FusedExpr`).
    Fused(std::sync::Arc<crate::compile::FusedExpr>),
    /// A reduction or softmax with its elementwise prologue and epilogue (`compile`; see
    /// `compile::FusedReduction`): inputs of the reduction's input shape.
    FusedReduce(std::sync::Arc<crate::compile::FusedReduction>),
    /// Output `index` of a user kernel (`fast::wgsl_kernel`): the inputs are the kernel's; the
    /// launch runs once for all its outputs (GPU only).
    CustomKernel {
        launch: crate::fast::kernel::KernelLaunchRef,
        index: usize,
    },
}

impl Primitive {
    /// Name for messages and graph dumps.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Primitive::Constant => "constant",
            Primitive::Full(_) => "full",
            Primitive::Arange { .. } => "arange",
            Primitive::AsType => "astype",
            Primitive::Unary(op) => op.name(),
            Primitive::Binary(op) => op.name(),
            Primitive::Where => "where",
            Primitive::Reduce { op, .. } => op.name(),
            Primitive::ArgReduce { op, .. } => op.name(),
            Primitive::Matmul => "matmul",
            Primitive::Convolution(_) => "conv",
            Primitive::Reshape => "reshape",
            Primitive::Transpose(_) => "transpose",
            Primitive::Broadcast => "broadcast_to",
            Primitive::Slice { .. } => "slice",
            Primitive::Concatenate { .. } => "concatenate",
            Primitive::RandomBits { .. } => "bits",
            Primitive::ArgSort => "argsort",
            Primitive::Take { .. } => "take",
            Primitive::Copy => "copy",
            Primitive::Softmax => "softmax",
            Primitive::AsStrided { .. } => "as_strided",
            Primitive::Gather { .. } => "gather",
            Primitive::Scatter { op, .. } => match op {
                None => "scatter",
                Some(BinaryOp::Add) => "scatter_add",
                Some(BinaryOp::Multiply) => "scatter_prod",
                Some(BinaryOp::Maximum) => "scatter_max",
                Some(BinaryOp::Minimum) => "scatter_min",
                // No scatter op combines with these (ops::gather_scatter builds the four above);
                // listed so a new combiner is a compile error here rather than a wrong name.
                Some(
                    BinaryOp::Subtract
                    | BinaryOp::Divide
                    | BinaryOp::Power
                    | BinaryOp::Equal
                    | BinaryOp::NotEqual
                    | BinaryOp::Less
                    | BinaryOp::LessEqual
                    | BinaryOp::Greater
                    | BinaryOp::GreaterEqual
                    | BinaryOp::LogicalAnd
                    | BinaryOp::LogicalOr
                    | BinaryOp::LogicalXor
                    | BinaryOp::FloorDivide
                    | BinaryOp::Remainder
                    | BinaryOp::LogAddExp
                    | BinaryOp::ArcTan2
                    | BinaryOp::BitwiseAnd
                    | BinaryOp::BitwiseOr
                    | BinaryOp::BitwiseXor
                    | BinaryOp::LeftShift
                    | BinaryOp::RightShift,
                ) => "scatter",
            },
            Primitive::Scan { op, .. } => op.name(),
            Primitive::Sort => "sort",
            Primitive::SearchSorted { .. } => "searchsorted",
            Primitive::StopGradient => "stop_gradient",
            Primitive::Custom { .. } => "custom_function",
            Primitive::CustomKernel { .. } => "wgsl_kernel",
            Primitive::Collective { op, .. } => op.name(),
            Primitive::RmsNorm { .. } => "rms_norm",
            Primitive::LayerNorm { .. } => "layer_norm",
            Primitive::Rope { .. } => "rope",
            Primitive::Attention { .. } => "scaled_dot_product_attention",
            Primitive::Fused(_) => "fused",
            Primitive::FusedReduce(_) => "fused_reduce",
        }
    }
}

/// Cumulative (scan) ops along one axis.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ScanOp {
    /// cumsum
    Sum,
    /// cumprod
    Prod,
    /// cummax
    Max,
    /// cummin
    Min,
    /// logcumsumexp: `log(exp(a) + exp(b))`, computed stably
    LogAddExp,
}

impl ScanOp {
    /// Every scan.
    pub const ALL: &'static [ScanOp] = &[
        ScanOp::Sum,
        ScanOp::Prod,
        ScanOp::Max,
        ScanOp::Min,
        ScanOp::LogAddExp,
    ];
    /// MLX's name.
    pub fn name(self) -> &'static str {
        match self {
            ScanOp::Sum => "cumsum",
            ScanOp::Prod => "cumprod",
            ScanOp::Max => "cummax",
            ScanOp::Min => "cummin",
            ScanOp::LogAddExp => "logcumsumexp",
        }
    }
    /// The reduction with the same combiner and identity (none for logaddexp).
    pub fn reduce(self) -> Option<ReduceOp> {
        match self {
            ScanOp::Sum => Some(ReduceOp::Sum),
            ScanOp::Prod => Some(ReduceOp::Prod),
            ScanOp::Max => Some(ReduceOp::Max),
            ScanOp::Min => Some(ReduceOp::Min),
            ScanOp::LogAddExp => None,
        }
    }
    /// The identity (an exclusive scan's first element) as f64 per domain of the accumulator.
    pub fn identity(self, d: Domain) -> f64 {
        self.reduce().map_or(f64::NEG_INFINITY, |r| r.identity(d))
    }
}

/// The parameters of a [`Primitive::Convolution`], one entry per spatial dim.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ConvParams {
    /// Output stride.
    pub stride: Vec<i32>,
    /// Zeros before each spatial dim of the (dilated) input.
    pub padding_lo: Vec<i32>,
    /// Zeros after each spatial dim of the (dilated) input.
    pub padding_hi: Vec<i32>,
    /// Spacing between kernel taps.
    pub kernel_dilation: Vec<i32>,
    /// Spacing between input elements (a transposed convolution's stride).
    pub input_dilation: Vec<i32>,
    /// Channel groups: input channel group `g` meets output channel group `g` only.
    pub groups: i32,
    /// Reverse the kernel along its spatial dims (a convolution rather than a correlation).
    pub flip: bool,
}

impl ConvParams {
    /// `(in, out, kernel, stride, pad_lo, kernel_dilation, input_dilation)` per spatial dim for
    /// input shape `x` and weight shape `w`, each padded to 3 dims with leading unit dims (a
    /// 1-D convolution is a 3-D one over `1 x 1 x L`), and the output spatial shape.
    pub(crate) fn geometry(&self, x: &[i32], w: &[i32], out: &[i32]) -> ConvGeometry {
        let nd = x.len() - 2;
        let pad = 3 - nd;
        let mut g = ConvGeometry {
            n: x[0] as usize,
            c_in: x[nd + 1] as usize,
            c_out: w[0] as usize,
            groups: self.groups as usize,
            flip: self.flip,
            dims: [ConvDim::UNIT; 3],
        };
        for d in 0..nd {
            g.dims[pad + d] = ConvDim {
                input: x[1 + d] as usize,
                out: out[1 + d] as usize,
                kernel: w[1 + d] as usize,
                stride: self.stride[d] as usize,
                pad_lo: self.padding_lo[d] as isize,
                kernel_dilation: self.kernel_dilation[d] as usize,
                input_dilation: self.input_dilation[d] as usize,
            };
        }
        g
    }
}

/// One spatial dim of a convolution (see [`ConvParams::geometry`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct ConvDim {
    pub input: usize,
    pub out: usize,
    pub kernel: usize,
    pub stride: usize,
    pub pad_lo: isize,
    pub kernel_dilation: usize,
    pub input_dilation: usize,
}

impl ConvDim {
    /// A dim of size 1 everywhere (pads lower-dimensional convolutions to 3 dims).
    pub const UNIT: ConvDim = ConvDim {
        input: 1,
        out: 1,
        kernel: 1,
        stride: 1,
        pad_lo: 0,
        kernel_dilation: 1,
        input_dilation: 1,
    };

    /// The input index read by output `o` through kernel tap `k` (already flipped if the
    /// convolution flips), or `None` where it falls on padding or between dilated elements.
    #[inline]
    pub fn source(&self, o: usize, k: usize) -> Option<usize> {
        let pos = (o * self.stride + k * self.kernel_dilation) as isize - self.pad_lo;
        if pos < 0 {
            return None;
        }
        let pos = pos as usize;
        if !pos.is_multiple_of(self.input_dilation) {
            return None;
        }
        let i = pos / self.input_dilation;
        (i < self.input).then_some(i)
    }
}

/// A convolution's sizes with its spatial dims padded to 3 (see [`ConvParams::geometry`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ConvGeometry {
    pub n: usize,
    pub c_in: usize,
    pub c_out: usize,
    pub groups: usize,
    pub flip: bool,
    pub dims: [ConvDim; 3],
}

impl ConvGeometry {
    /// Output positions per example.
    pub fn out_spatial(&self) -> usize {
        self.dims.iter().map(|d| d.out).product()
    }
    /// Input positions per example.
    pub fn in_spatial(&self) -> usize {
        self.dims.iter().map(|d| d.input).product()
    }
    /// Kernel taps.
    pub fn taps(&self) -> usize {
        self.dims.iter().map(|d| d.kernel).product()
    }
    /// Input channels per group.
    pub fn cg(&self) -> usize {
        self.c_in / self.groups
    }
    /// Output channels per group.
    pub fn og(&self) -> usize {
        self.c_out / self.groups
    }
}
