//! Dtypes, MLX's promotion table, and the host element types behind each dtype.
//! Owns type facts only; no kernels and no graph logic.

use half::{bf16, f16};
use std::fmt;

/// Element type of an array.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dtype {
    /// `bool`, one byte per element.
    Bool,
    /// `u8`.
    Uint8,
    /// `u32`.
    Uint32,
    /// `i32`.
    Int32,
    /// IEEE half precision.
    Float16,
    /// Brain float (8-bit exponent, 7-bit mantissa).
    Bfloat16,
    /// IEEE single precision.
    Float32,
}

/// The arithmetic domain a dtype computes in: kernels are written per domain, not per dtype.
/// Floats compute in f32, integers in i32/u32, booleans as bool.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Domain {
    /// Booleans.
    Bool,
    /// Unsigned integers, computed in u32.
    Uint,
    /// Signed integers, computed in i32.
    Int,
    /// Floating point, computed in f32.
    Float,
}

impl Dtype {
    /// All dtypes, in promotion order.
    pub const ALL: [Dtype; 7] = [
        Dtype::Bool,
        Dtype::Uint8,
        Dtype::Uint32,
        Dtype::Int32,
        Dtype::Float16,
        Dtype::Bfloat16,
        Dtype::Float32,
    ];

    /// Bytes per element.
    ///
    /// ```
    /// assert_eq!(wmx::Dtype::Bfloat16.size(), 2);
    /// ```
    pub fn size(self) -> usize {
        match self {
            Dtype::Bool | Dtype::Uint8 => 1,
            Dtype::Float16 | Dtype::Bfloat16 => 2,
            Dtype::Uint32 | Dtype::Int32 | Dtype::Float32 => 4,
        }
    }

    /// The domain this dtype computes in.
    pub fn domain(self) -> Domain {
        match self {
            Dtype::Bool => Domain::Bool,
            Dtype::Uint8 | Dtype::Uint32 => Domain::Uint,
            Dtype::Int32 => Domain::Int,
            Dtype::Float16 | Dtype::Bfloat16 | Dtype::Float32 => Domain::Float,
        }
    }

    /// True for floating-point dtypes.
    ///
    /// ```
    /// assert!(wmx::Dtype::Float16.is_float() && !wmx::Dtype::Int32.is_float());
    /// ```
    pub fn is_float(self) -> bool {
        self.domain() == Domain::Float
    }

    /// MLX's name for the dtype (`float32`, `bool`...).
    pub fn name(self) -> &'static str {
        match self {
            Dtype::Bool => "bool",
            Dtype::Uint8 => "uint8",
            Dtype::Uint32 => "uint32",
            Dtype::Int32 => "int32",
            Dtype::Float16 => "float16",
            Dtype::Bfloat16 => "bfloat16",
            Dtype::Float32 => "float32",
        }
    }

    /// Elements per 32-bit word when stored packed on the GPU (1 for 32-bit dtypes).
    pub(crate) fn per_word(self) -> usize {
        4 / self.size()
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The dtype two arrays promote to, following MLX's table.
///
/// One difference: MLX promotes `uint32` with `int32` to `int64`, which wmx does not have yet;
/// wmx gives `int32` (wrapping), and the README lists this.
///
/// ```
/// use wmx::{promote_types, Dtype};
/// assert_eq!(promote_types(Dtype::Int32, Dtype::Float16), Dtype::Float16);
/// assert_eq!(promote_types(Dtype::Float16, Dtype::Bfloat16), Dtype::Float32);
/// assert_eq!(promote_types(Dtype::Bool, Dtype::Uint8), Dtype::Uint8);
/// ```
pub fn promote_types(a: Dtype, b: Dtype) -> Dtype {
    use Dtype::*;
    if a == b {
        return a;
    }
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    match (lo, hi) {
        (Bool, x) => x,
        (Uint8, Uint32) => Uint32,
        (Uint8, Int32) | (Uint32, Int32) => Int32,
        (Float16, Bfloat16) => Float32,
        (_, x) => x, // an integer with a float, or a float with a wider float
    }
}

/// A Rust type that can be an array element.
pub trait ArrayElement: Copy + Send + Sync + 'static {
    /// The dtype of this element type.
    const DTYPE: Dtype;
    /// Converts to f64 (exact for every supported type).
    fn to_f64(self) -> f64;
    /// Converts from f64 with the casting rules of `astype`.
    fn from_f64(v: f64) -> Self;
}

macro_rules! float_element {
    ($t:ty, $d:expr, $to:expr, $from:expr) => {
        impl ArrayElement for $t {
            const DTYPE: Dtype = $d;
            fn to_f64(self) -> f64 {
                ($to)(self)
            }
            fn from_f64(v: f64) -> Self {
                ($from)(v)
            }
        }
    };
}
float_element!(f32, Dtype::Float32, |x: f32| x as f64, |v: f64| v as f32);
float_element!(f16, Dtype::Float16, |x: f16| x.to_f64(), f16::from_f64);
float_element!(bf16, Dtype::Bfloat16, |x: bf16| x.to_f64(), bf16::from_f64);
// Float to integer casts truncate then wrap through i64, like C's conversions on x86.
float_element!(i32, Dtype::Int32, |x: i32| x as f64, |v: f64| v as i64
    as i32);
float_element!(u32, Dtype::Uint32, |x: u32| x as f64, |v: f64| v as i64
    as u32);
float_element!(u8, Dtype::Uint8, |x: u8| x as f64, |v: f64| v as i64 as u8);
float_element!(bool, Dtype::Bool, |x: bool| x as u8 as f64, |v: f64| v
    != 0.0);
