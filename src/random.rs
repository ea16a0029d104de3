//! `mx::random`: explicit-key random numbers bit-exact with MLX (Threefry-2x32, MLX's counter
//! layout and float conversions; see tools/RANDOM_SPEC.md). `bits` is the one primitive (a WGSL
//! kernel in shaders/random.wgsl and a CPU kernel); every distribution is a composite of ops,
//! written in the order and precision MLX uses so the roundings match. With `key = None` the
//! calling thread's global key is split and advanced, as in MLX.

use crate::array::Array;
use crate::dtype::Dtype;
use crate::error::{Result, dtype_err, value_err};
use crate::ops::{self, node};
use crate::primitive::Primitive;
use crate::shape::{broadcast_shapes, fmt_shape, normalize_axis, size_of};
use crate::stream::{Stream, StreamOrDevice};
use std::cell::RefCell;

/// A key for `seed`: uint32 `[2]` holding the high and the low word.
///
/// ```
/// let k = wmx::random::key(1 << 32 | 7);
/// assert_eq!(k.to_vec::<u32>().unwrap(), vec![1, 7]);
/// ```
pub fn key(seed: u64) -> Array {
    Array::from_slice(&[(seed >> 32) as u32, seed as u32], &[2])
}

thread_local! {
    static GLOBAL_KEY: RefCell<Option<Array>> = const { RefCell::new(None) };
}

/// Seeds the calling thread's global key (used when an op is given `key = None`).
///
/// ```
/// wmx::random::seed(3);
/// let a = wmx::random::uniform(0.0, 1.0, &[2], wmx::Dtype::Float32, None, None).unwrap();
/// wmx::random::seed(3);
/// let b = wmx::random::uniform(0.0, 1.0, &[2], wmx::Dtype::Float32, None, None).unwrap();
/// assert_eq!(a.to_vec::<f32>().unwrap(), b.to_vec::<f32>().unwrap());
/// ```
pub fn seed(seed: u64) {
    GLOBAL_KEY.with(|k| *k.borrow_mut() = Some(key(seed)));
}

/// The key an op uses: the given one, or the next one from this thread's global key.
fn resolve_key(k: Option<&Array>, st: Stream) -> Result<Array> {
    if let Some(k) = k {
        return Ok(k.clone());
    }
    GLOBAL_KEY.with(|g| {
        let mut g = g.borrow_mut();
        let state = match g.take() {
            Some(s) => s,
            None => {
                // std has no clock in a browser (wasm32-unknown-unknown); JavaScript's has.
                #[cfg(not(target_arch = "wasm32"))]
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis() as u64)
                    .unwrap_or(0);
                #[cfg(target_arch = "wasm32")]
                let now = js_sys::Date::now() as u64;
                key(now)
            }
        };
        let ks = split(&state, 2, st)?;
        let row = |i: i32| {
            ops::shape::reshape(
                &ops::shape::slice(&ks, &[i, 0], &[i + 1, 2], &[], st)?,
                &[2],
                st,
            )
        };
        *g = Some(row(0)?);
        row(1)
    })
}

fn check_key(op: &'static str, k: &Array, batched: bool) -> Result<()> {
    if k.dtype() != Dtype::Uint32 {
        return Err(dtype_err(
            op,
            format!("Expected key type uint32 but received {}.", k.dtype()),
        ));
    }
    let ok = if batched {
        k.ndim() >= 1 && k.shape()[k.ndim() - 1] == 2
    } else {
        k.shape() == [2]
    };
    if !ok {
        return Err(crate::error::shape_err(
            op,
            format!(
                "Expected key shape (2) but received {}.",
                fmt_shape(k.shape())
            ),
        ));
    }
    Ok(())
}

/// Random bits of `width` bytes (1, 2 or 4) per element: uint8 for width 1, else uint32 (width 2
/// gives 16-bit values in uint32: wmx has no uint16 yet). `key` may be a batch `[..., 2]` of keys;
/// the output is then `[..., *shape]`, each key filling its own block as MLX's `vmap` does.
///
/// ```
/// let b = wmx::random::bits(&[], 4, Some(&wmx::random::key(0)), None).unwrap();
/// assert_eq!(b.item::<u32>().unwrap(), 0x6b20_0159);
/// ```
pub fn bits(
    shape: &[i32],
    width: i32,
    key: Option<&Array>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let st = s.into().resolve("bits")?;
    let dtype = if width == 1 {
        Dtype::Uint8
    } else {
        Dtype::Uint32
    };
    bits_as(shape, width, dtype, key, st)
}

/// The bits node with output `dtype`: the bits themselves (uint8/uint32), or for a float dtype
/// (width 4) MLX's uniform [0, 1) samples made from them in the same kernel.
fn bits_as(
    shape: &[i32],
    width: i32,
    dtype: Dtype,
    key: Option<&Array>,
    st: Stream,
) -> Result<Array> {
    if ![1, 2, 4].contains(&width) {
        return Err(value_err(
            "bits",
            format!("Bit width must be in {{1, 2, 4}} but got {width}."),
        ));
    }
    if shape.iter().any(|&d| d < 0) {
        return Err(value_err("bits", "Negative dimensions not allowed."));
    }
    let k = resolve_key(key, st)?;
    check_key("bits", &k, true)?;
    let mut out_shape = k.shape()[..k.ndim() - 1].to_vec();
    out_shape.extend_from_slice(shape);
    let prim = Primitive::RandomBits {
        width: width as u32,
        per_key: size_of(shape),
    };
    node(out_shape, dtype, st, prim, vec![k])
}

/// `num` new keys from `key`, shape `[num, 2]` (`[..., num, 2]` for a batch of keys).
///
/// ```
/// let ks = wmx::random::split(&wmx::random::key(0), 2, None).unwrap();
/// assert_eq!(ks.to_vec::<u32>().unwrap(), vec![0xf71f4ea9, 0x39a405d9, 0xa20e4081, 0x4bdfae2f]);
/// ```
pub fn split(key: &Array, num: i32, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let st = s.into().resolve("split")?;
    bits(&[num, 2], 4, Some(key), st)
}

/// Something an op accepts as a bound or parameter: an array or a scalar (Rust floats become
/// float32 arrays and integers int32 arrays, as Python scalars do in MLX).
pub trait IntoArray {
    /// The value as an array.
    fn into_array(self) -> Array;
}
impl IntoArray for &Array {
    fn into_array(self) -> Array {
        self.clone()
    }
}
impl IntoArray for Array {
    fn into_array(self) -> Array {
        self
    }
}
impl IntoArray for f64 {
    fn into_array(self) -> Array {
        Array::scalar(self as f32)
    }
}
impl IntoArray for f32 {
    fn into_array(self) -> Array {
        Array::scalar(self)
    }
}
impl IntoArray for i32 {
    fn into_array(self) -> Array {
        Array::scalar(self)
    }
}

fn check_float(op: &'static str, dtype: Dtype, msg: &str) -> Result<()> {
    if dtype.is_float() {
        Ok(())
    } else {
        Err(dtype_err(op, msg.to_string()))
    }
}

/// uniform (and gumbel, built on it) take float dtypes only, with MLX's message.
fn check_uniform_dtype(dtype: Dtype) -> Result<()> {
    check_float(
        "uniform",
        dtype,
        "Can only generate uniform numbers with real floating point type.",
    )
}

/// Host values of a small evaluated array (for eager argument checks), else `None`.
fn host_values(a: &Array) -> Option<Vec<f32>> {
    if a.is_evaluated() && a.size() <= 4096 {
        a.to_vec::<f32>().ok()
    } else {
        None
    }
}

fn scalar_f32(v: f32, dtype: Dtype, st: Stream) -> Result<Array> {
    ops::unary::astype(&Array::scalar(v), dtype, st)
}

/// The largest value below 1 in `dtype`, as f32: where uniform samples are clamped (in the ops
/// here and in the CPU's `RandomBits` kernel). Non-float dtypes get float32's (unused: samples
/// are float).
pub(crate) fn below_one(dtype: Dtype) -> f32 {
    match dtype {
        Dtype::Float16 => 1.0 - 2f32.powi(-11),
        Dtype::Bfloat16 => 1.0 - 2f32.powi(-8),
        Dtype::Float32 | Dtype::Bool | Dtype::Uint8 | Dtype::Uint32 | Dtype::Int32 => {
            f32::from_bits(0x3f7f_ffff)
        }
    }
}

/// Uniform samples in `[low, high)` of `dtype` (a float dtype), bit-exact with MLX: 32 random bits
/// become `f32(bits) / 2^32` (converted with integer ops on the GPU), clamped below 1 in `dtype`,
/// then `(high - low) * u + low` in `dtype`. `high <= low` is an error when the bounds are known.
///
/// ```
/// let k = wmx::random::key(0);
/// let u = wmx::random::uniform(0.0, 1.0, &[3], wmx::Dtype::Float32, Some(&k), None).unwrap();
/// assert!(u.to_vec::<f32>().unwrap().iter().all(|&x| (0.0..1.0).contains(&x)));
/// ```
pub fn uniform(
    low: impl IntoArray,
    high: impl IntoArray,
    shape: &[i32],
    dtype: Dtype,
    key: Option<&Array>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let st = s.into().resolve("uniform")?;
    check_uniform_dtype(dtype)?;
    let (low, high) = (low.into_array(), high.into_array());
    if let (Some(l), Some(h)) = (host_values(&low), host_values(&high))
        && l.len() == 1
        && h.len() == 1
        && h[0] <= l[0]
    {
        return Err(value_err(
            "uniform",
            format!("high ({}) must be greater than low ({}).", h[0], l[0]),
        ));
    }
    uniform_unchecked(&low, &high, shape, dtype, key, st)
}

fn uniform_unchecked(
    low: &Array,
    high: &Array,
    shape: &[i32],
    dtype: Dtype,
    key: Option<&Array>,
    st: Stream,
) -> Result<Array> {
    // [0, 1): `1 * u + 0` is `u` exactly, so one kernel makes the samples straight from the bits
    // (memory-bound) with the same result as the general formula below.
    if host_values(low).as_deref() == Some(&[0.0]) && host_values(high).as_deref() == Some(&[1.0]) {
        return bits_as(shape, 4, dtype, key, st);
    }
    let lo = ops::unary::astype(low, dtype, st)?;
    let hi = ops::unary::astype(high, dtype, st)?;
    let range = ops::binary::subtract(&hi, &lo, st)?;
    let b = broadcast_shapes(shape, range.shape())?;
    if b != shape {
        return Err(value_err(
            "uniform",
            format!(
                "Cannot generate random values of shape {} from broadcasted shape {}.",
                fmt_shape(shape),
                fmt_shape(&b)
            ),
        ));
    }
    // A batch of keys [..., 2] gives a batch of samples [..., *shape] (MLX's vmap over keys).
    let raw = bits(shape, 4, key, st)?;
    let u = ops::unary::astype(&raw, Dtype::Float32, st)?;
    let u = ops::binary::multiply(&u, Array::scalar(2f32.powi(-32)), st)?;
    let u = ops::binary::minimum(&u, Array::scalar(below_one(dtype)), st)?;
    let u = ops::unary::astype(&u, dtype, st)?;
    ops::binary::add(&ops::binary::multiply(&range, &u, st)?, &lo, st)
}

/// f32 samples in (-1, 1): the interval MLX's normal and laplace start from.
fn symmetric_unit(shape: &[i32], key: Option<&Array>, st: Stream) -> Result<Array> {
    uniform_unchecked(
        &Array::scalar(f32::from_bits(0xbf7f_ffff)),
        &Array::scalar(1.0f32),
        shape,
        Dtype::Float32,
        key,
        st,
    )
}

/// Normal samples: `sqrt(2) * erfinv(u)` for `u` uniform in (-1, 1), then `* scale` and `+ loc`
/// (each applied only when given, as in MLX).
///
/// ```
/// let n = wmx::random::normal(&[1000], wmx::Dtype::Float32, None, None, Some(&wmx::random::key(1)), None).unwrap();
/// let m = wmx::mean(&n, &[], false, None).unwrap().item::<f32>().unwrap();
/// assert!(m.abs() < 0.2);
/// ```
pub fn normal(
    shape: &[i32],
    dtype: Dtype,
    loc: Option<f32>,
    scale: Option<f32>,
    key: Option<&Array>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let st = s.into().resolve("normal")?;
    check_float(
        "normal",
        dtype,
        "Only floating point and complex64 types are supported.",
    )?;
    let u = symmetric_unit(shape, key, st)?;
    let e = ops::unary::astype(&ops::unary::erfinv(&u, st)?, dtype, st)?;
    let mut c = scalar_f32(std::f32::consts::SQRT_2, dtype, st)?;
    if let Some(sc) = scale {
        c = ops::binary::multiply(&c, &scalar_f32(sc, dtype, st)?, st)?;
    }
    let mut out = ops::binary::multiply(&c, &e, st)?;
    if let Some(l) = loc {
        out = ops::binary::add(&scalar_f32(l, dtype, st)?, &out, st)?;
    }
    Ok(out)
}

/// Integers in `[low, high)` of an integer (or bool) dtype.
///
/// ```
/// let r = wmx::random::randint(0, 10, &[100], wmx::Dtype::Int32, Some(&wmx::random::key(2)), None).unwrap();
/// assert!(r.to_vec::<i32>().unwrap().iter().all(|&x| (0..10).contains(&x)));
/// ```
pub fn randint(
    low: impl IntoArray,
    high: impl IntoArray,
    shape: &[i32],
    dtype: Dtype,
    key: Option<&Array>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let st = s.into().resolve("randint")?;
    if dtype.is_float() {
        return Err(dtype_err(
            "randint",
            "randint only accepts integer dtypes and bool.",
        ));
    }
    let (low, high) = (low.into_array(), high.into_array());
    if let (Some(l), Some(h)) = (host_values(&low), host_values(&high))
        && l.len() == 1
        && h.len() == 1
        && h[0] <= l[0]
    {
        return Err(value_err(
            "randint",
            format!("high ({}) must be greater than low ({}).", h[0], l[0]),
        ));
    }
    let u = uniform_unchecked(&low, &high, shape, Dtype::Float32, key, st)?;
    let out = ops::unary::astype(&ops::unary::floor(&u, st)?, dtype, st)?;
    let one = ops::unary::astype(&Array::scalar(1i32), high.dtype(), st)?;
    let hi = ops::unary::astype(&ops::binary::subtract(&high, &one, st)?, dtype, st)?;
    let lo = ops::unary::astype(&low, dtype, st)?;
    ops::binary::maximum(&ops::binary::minimum(&out, &hi, st)?, &lo, st)
}

/// True with probability `p` (a float scalar or array; shape defaults to p's shape).
///
/// ```
/// let b = wmx::random::bernoulli(0.5, None, Some(&wmx::random::key(0)), None).unwrap();
/// assert_eq!(b.dtype(), wmx::Dtype::Bool);
/// ```
pub fn bernoulli(
    p: impl IntoArray,
    shape: Option<&[i32]>,
    key: Option<&Array>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let st = s.into().resolve("bernoulli")?;
    let p = p.into_array();
    check_float(
        "bernoulli",
        p.dtype(),
        "bernoulli probability `p` must be a float type.",
    )?;
    if let Some(v) = host_values(&p)
        && let Some(bad) = v.iter().find(|x| !(0.0..=1.0).contains(*x))
    {
        return Err(value_err(
            "bernoulli",
            format!("p must be in [0, 1], got {bad}."),
        ));
    }
    let shape = shape.map_or_else(|| p.shape().to_vec(), |s| s.to_vec());
    if broadcast_shapes(p.shape(), &shape)? != shape {
        return Err(value_err(
            "bernoulli",
            "shape of `p` is incompatible with argument `shape`.",
        ));
    }
    let raw = bits(&shape, 4, key, st)?;
    let threshold = ops::binary::multiply(
        &ops::unary::astype(&p, Dtype::Float32, st)?,
        Array::scalar(f32::from_bits(0x4f80_0001)),
        st,
    )?;
    ops::binary::less(
        &ops::unary::astype(&raw, Dtype::Float32, st)?,
        &threshold,
        st,
    )
}

/// Normal samples truncated to `[lower, upper]` (JAX's inverse-CDF formula, as MLX).
///
/// ```
/// let t = wmx::random::truncated_normal(-1.0, 1.0, Some(&[50]), wmx::Dtype::Float32, Some(&wmx::random::key(3)), None).unwrap();
/// assert!(t.to_vec::<f32>().unwrap().iter().all(|&x| (-1.0..=1.0).contains(&x)));
/// ```
pub fn truncated_normal(
    lower: impl IntoArray,
    upper: impl IntoArray,
    shape: Option<&[i32]>,
    dtype: Dtype,
    key: Option<&Array>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let st = s.into().resolve("truncated_normal")?;
    check_float(
        "trunc_normal",
        dtype,
        "trunc_normal only accepts floating point dtypes.",
    )?;
    let (lower, upper) = (lower.into_array(), upper.into_array());
    let shape = match shape {
        Some(s) => s.to_vec(),
        None => broadcast_shapes(lower.shape(), upper.shape())?,
    };
    let c = scalar_f32(std::f32::consts::SQRT_2, dtype, st)?;
    let lt = ops::unary::astype(&lower, dtype, st)?;
    let ut = ops::unary::astype(&upper, dtype, st)?;
    let a = ops::unary::erf(&ops::binary::divide(&lt, &c, st)?, st)?;
    let b = ops::unary::erf(&ops::binary::divide(&ut, &c, st)?, st)?;
    let u = uniform_unchecked(&a, &b, &shape, dtype, key, st)?;
    let out = ops::binary::multiply(
        &c,
        &ops::unary::astype(&ops::unary::erfinv(&u, st)?, dtype, st)?,
        st,
    )?;
    ops::binary::maximum(&ops::binary::minimum(&ut, &out, st)?, &lt, st)
}

/// Gumbel samples `-log(-log(u))`.
///
/// ```
/// let g = wmx::random::gumbel(&[4], wmx::Dtype::Float32, Some(&wmx::random::key(0)), None).unwrap();
/// assert_eq!(g.shape(), &[4]);
/// ```
pub fn gumbel(
    shape: &[i32],
    dtype: Dtype,
    key: Option<&Array>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let st = s.into().resolve("gumbel")?;
    check_uniform_dtype(dtype)?;
    let u = uniform_unchecked(
        &Array::scalar(0.0f32),
        &Array::scalar(1.0f32),
        shape,
        dtype,
        key,
        st,
    )?;
    let inner = ops::unary::negative(&ops::unary::log(&u, st)?, st)?;
    ops::unary::negative(&ops::unary::log(&inner, st)?, st)
}

/// Laplace samples `loc + scale * sign(u) * log1p(-|u|)` (u uniform in (-1, 1), in f32).
///
/// ```
/// let l = wmx::random::laplace(&[4], wmx::Dtype::Float32, 0.0, 1.0, Some(&wmx::random::key(0)), None).unwrap();
/// assert_eq!(l.shape(), &[4]);
/// ```
pub fn laplace(
    shape: &[i32],
    dtype: Dtype,
    loc: f32,
    scale: f32,
    key: Option<&Array>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let st = s.into().resolve("laplace")?;
    check_float(
        "laplace",
        dtype,
        "Only real floating point types are supported.",
    )?;
    let u = symmetric_unit(shape, key, st)?;
    let mag = ops::unary::log1p(&ops::unary::negative(&ops::unary::abs(&u, st)?, st)?, st)?;
    let mut y = ops::unary::astype(
        &ops::binary::multiply(&ops::unary::sign(&u, st)?, &mag, st)?,
        dtype,
        st,
    )?;
    if scale != 1.0 {
        y = ops::binary::multiply(&scalar_f32(scale, dtype, st)?, &y, st)?;
    }
    if loc != 0.0 {
        y = ops::binary::add(&scalar_f32(loc, dtype, st)?, &y, st)?;
    }
    Ok(y)
}

/// Samples category indices (uint32) from unnormalised log-probabilities along `axis`;
/// `num_samples` draws per distribution (a new last axis), or one.
///
/// ```
/// let logits = wmx::Array::from_slice(&[0.0f32, 100.0, 0.0], &[3]);
/// let c = wmx::random::categorical(&logits, -1, Some(5), Some(&wmx::random::key(0)), None).unwrap();
/// assert_eq!(c.to_vec::<u32>().unwrap(), vec![1; 5]);
/// ```
pub fn categorical(
    logits: &Array,
    axis: i32,
    num_samples: Option<i32>,
    key: Option<&Array>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let st = s.into().resolve("categorical")?;
    let ax = normalize_axis("categorical", axis, logits.ndim()).map_err(|_| {
        crate::error::axis_err(
            "categorical",
            format!(
                "Invalid axis {axis} for logits with {} dimensions.",
                logits.ndim()
            ),
        )
    })?;
    let n = logits.shape()[ax];
    let (logits, shape) = match num_samples {
        Some(ns) => {
            let l = ops::shape::expand_dims(logits, &[-1], st)?;
            let mut sh: Vec<i32> = l
                .shape()
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != ax)
                .map(|(_, &d)| d)
                .collect();
            let last = sh.len() - 1;
            sh[last] = ns;
            (l, sh)
        }
        None => (
            logits.clone(),
            logits
                .shape()
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != ax)
                .map(|(_, &d)| d)
                .collect(),
        ),
    };
    if n > 0 && logits.size() == n as usize && !shape.is_empty() {
        return categorical_inverse_cdf(&logits, n, &shape, key, st);
    }
    let offset = ax + shape.len() + 1 - logits.ndim();
    let mut gshape = shape.clone();
    gshape.insert(offset, n);
    let g = gumbel(&gshape, Dtype::Float32, key, st)?;
    let scores = ops::binary::add(&g, &ops::unary::astype(&logits, Dtype::Float32, st)?, st)?;
    ops::reduce::argmax(&scores, offset as i32, false, st)
}

/// MLX's path for one distribution with a sample shape: u * total against the running sum.
fn categorical_inverse_cdf(
    logits: &Array,
    n: i32,
    shape: &[i32],
    key: Option<&Array>,
    st: Stream,
) -> Result<Array> {
    let x = ops::shape::reshape(&ops::unary::astype(logits, Dtype::Float32, st)?, &[n], st)?;
    let m = ops::reduce::max(&x, &[], false, st)?;
    let inf = Array::scalar(f32::INFINITY);
    let m_inf = ops::binary::equal(&ops::unary::abs(&m, st)?, &inf, st)?;
    let w = ops::binary::where_(
        &m_inf,
        &ops::unary::astype(&ops::binary::equal(&x, &m, st)?, Dtype::Float32, st)?,
        &ops::unary::exp(&ops::binary::subtract(&x, &m, st)?, st)?,
        st,
    )?;
    // Exclusive running sum: cdf[j] = sum of w[i] for i < j.
    let idx = ops::creation::arange(0.0, n as f64, 1.0, Dtype::Int32, st)?;
    let before = ops::binary::less(
        &ops::shape::reshape(&idx, &[n, 1], st)?,
        &ops::shape::reshape(&idx, &[1, n], st)?,
        st,
    )?;
    let wm = ops::binary::multiply(
        &ops::shape::reshape(&w, &[n, 1], st)?,
        &ops::unary::astype(&before, Dtype::Float32, st)?,
        st,
    )?;
    let cdf = ops::reduce::sum(&wm, &[0], false, st)?;
    let total = ops::reduce::sum(&w, &[], false, st)?;
    let u = ops::binary::multiply(
        &uniform_unchecked(
            &Array::scalar(0.0f32),
            &Array::scalar(1.0f32),
            shape,
            Dtype::Float32,
            key,
            st,
        )?,
        &total,
        st,
    )?;
    let mut ushape = shape.to_vec();
    ushape.push(1);
    let hits = ops::binary::less_equal(&cdf, &ops::shape::reshape(&u, &ushape, st)?, st)?;
    let count = ops::reduce::sum(&hits, &[-1], false, st)?;
    ops::unary::astype(
        &ops::binary::subtract(&count, Array::scalar(1i32), st)?,
        Dtype::Uint32,
        st,
    )
}

/// What [`permutation`] permutes: `0..n`, or an array along an axis.
pub enum Permute<'a> {
    /// A permutation of `0..n` (uint32).
    Range(i32),
    /// The array shuffled along the axis.
    Array(&'a Array),
}
impl From<i32> for Permute<'_> {
    fn from(n: i32) -> Self {
        Permute::Range(n)
    }
}
impl<'a> From<&'a Array> for Permute<'a> {
    fn from(a: &'a Array) -> Self {
        Permute::Array(a)
    }
}

/// A random permutation of `0..n` (uint32), or of an array along `axis`: the stable argsort of
/// 32-bit random bits, as MLX does.
///
/// ```
/// let p = wmx::random::permutation(5, 0, Some(&wmx::random::key(0)), None).unwrap();
/// let mut v = p.to_vec::<u32>().unwrap();
/// v.sort();
/// assert_eq!(v, vec![0, 1, 2, 3, 4]);
/// ```
pub fn permutation<'a>(
    x: impl Into<Permute<'a>>,
    axis: i32,
    key: Option<&Array>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let st = s.into().resolve("permutation")?;
    match x.into() {
        Permute::Range(n) => {
            if n < 0 {
                return Err(value_err(
                    "permutation",
                    format!("n must be non-negative, got {n}."),
                ));
            }
            ops::sort::argsort(&bits(&[n], 4, key, st)?, 0, st)
        }
        Permute::Array(a) => {
            let ax = normalize_axis("permutation", axis, a.ndim())?;
            let perm = ops::sort::argsort(&bits(&[a.shape()[ax]], 4, key, st)?, 0, st)?;
            ops::gather_scatter::take(a, &perm, ax as i32, st)
        }
    }
}
