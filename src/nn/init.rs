//! Parameter initialisers (MLX's `mlx.nn.init`): each takes the shape, the dtype and an
//! optional random key (`None` draws from the global key stream, as MLX's initialisers do).
//! With the same key the values are bit-identical to MLX's, since wmx's random is.

use crate::array::Array;
use crate::dtype::Dtype;
use crate::error::{Result, value_err};
use crate::random;

/// How He initialisation counts the fan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FanMode {
    /// Inputs per output (MLX's default).
    FanIn,
    /// Outputs per input.
    FanOut,
}

/// `value` everywhere.
///
/// ```
/// let a = wmx::nn::init::constant(0.5, &[2], wmx::Dtype::Float32).unwrap();
/// assert_eq!(a.to_vec::<f32>().unwrap(), vec![0.5, 0.5]);
/// ```
pub fn constant(value: f32, shape: &[i32], dtype: Dtype) -> Result<Array> {
    crate::full(shape, value as f64, dtype, None)
}

/// Uniform in `[low, high)`.
///
/// ```
/// let k = wmx::random::key(0);
/// let a = wmx::nn::init::uniform(-1.0, 1.0, &[100], wmx::Dtype::Float32, Some(&k)).unwrap();
/// assert!(a.to_vec::<f32>().unwrap().iter().all(|v| v.abs() <= 1.0));
/// ```
pub fn uniform(
    low: f32,
    high: f32,
    shape: &[i32],
    dtype: Dtype,
    key: Option<&Array>,
) -> Result<Array> {
    random::uniform(low, high, shape, dtype, key, None)
}

/// Normal with mean `mean` and standard deviation `std`.
///
/// ```
/// let a = wmx::nn::init::normal(0.0, 0.01, &[4, 4], wmx::Dtype::Float32, None).unwrap();
/// assert_eq!(a.shape(), &[4, 4]);
/// ```
pub fn normal(
    mean: f32,
    std: f32,
    shape: &[i32],
    dtype: Dtype,
    key: Option<&Array>,
) -> Result<Array> {
    random::normal(shape, dtype, Some(mean), Some(std), key, None)
}

/// The identity matrix (the shape must be square).
///
/// ```
/// assert!(wmx::nn::init::identity(&[2, 3], wmx::Dtype::Float32).is_err());
/// ```
pub fn identity(shape: &[i32], dtype: Dtype) -> Result<Array> {
    if shape.len() != 2 || shape[0] != shape[1] {
        return Err(value_err(
            "init::identity",
            format!("The shape must be a square matrix but got {shape:?}."),
        ));
    }
    crate::eye(shape[0], None, 0, dtype, None)
}

/// MLX's fan counts: the last axis is the input, the first the output, the ones between the
/// receptive field.
fn fans(op: &'static str, shape: &[i32]) -> Result<(f32, f32)> {
    if shape.len() < 2 {
        return Err(value_err(
            op,
            format!(
                "Glorot / He initialization requires at least 2 dimensions but the shape {shape:?} has {}.",
                shape.len()
            ),
        ));
    }
    let field: f32 = shape[1..shape.len() - 1]
        .iter()
        .map(|&d| d as f32)
        .product();
    Ok((
        shape[shape.len() - 1] as f32 * field,
        shape[0] as f32 * field,
    ))
}

/// Glorot (Xavier) uniform: `U(-l, l)` with `l = gain·sqrt(6 / (fan_in + fan_out))`.
///
/// ```
/// let a = wmx::nn::init::glorot_uniform(&[8, 4], 1.0, wmx::Dtype::Float32, None).unwrap();
/// let l = (6.0f32 / 12.0).sqrt();
/// assert!(a.to_vec::<f32>().unwrap().iter().all(|v| v.abs() <= l));
/// ```
pub fn glorot_uniform(
    shape: &[i32],
    gain: f32,
    dtype: Dtype,
    key: Option<&Array>,
) -> Result<Array> {
    let (fi, fo) = fans("init::glorot_uniform", shape)?;
    let limit = gain * (6.0 / (fi + fo)).sqrt();
    uniform(-limit, limit, shape, dtype, key)
}

/// Glorot (Xavier) normal: `N(0, gain·sqrt(2 / (fan_in + fan_out)))`.
///
/// ```
/// assert!(wmx::nn::init::glorot_normal(&[3], 1.0, wmx::Dtype::Float32, None).is_err());
/// ```
pub fn glorot_normal(shape: &[i32], gain: f32, dtype: Dtype, key: Option<&Array>) -> Result<Array> {
    let (fi, fo) = fans("init::glorot_normal", shape)?;
    normal(0.0, gain * (2.0 / (fi + fo)).sqrt(), shape, dtype, key)
}

fn fan(op: &'static str, shape: &[i32], mode: FanMode) -> Result<f32> {
    let (fi, fo) = fans(op, shape)?;
    Ok(match mode {
        FanMode::FanIn => fi,
        FanMode::FanOut => fo,
    })
}

/// He (Kaiming) normal: `N(0, gain / sqrt(fan))`.
///
/// ```
/// use wmx::nn::init::{he_normal, FanMode};
/// let a = he_normal(&[16, 3, 3, 8], FanMode::FanIn, 1.0, wmx::Dtype::Float32, None).unwrap();
/// assert_eq!(a.shape(), &[16, 3, 3, 8]);
/// ```
pub fn he_normal(
    shape: &[i32],
    mode: FanMode,
    gain: f32,
    dtype: Dtype,
    key: Option<&Array>,
) -> Result<Array> {
    let f = fan("init::he_normal", shape, mode)?;
    normal(0.0, gain / f.sqrt(), shape, dtype, key)
}

/// He (Kaiming) uniform: `U(-l, l)` with `l = gain·sqrt(3 / fan)`.
///
/// ```
/// use wmx::nn::init::{he_uniform, FanMode};
/// let a = he_uniform(&[4, 3], FanMode::FanOut, 1.0, wmx::Dtype::Float32, None).unwrap();
/// assert!(a.to_vec::<f32>().unwrap().iter().all(|v| v.abs() <= (3.0f32 / 4.0).sqrt()));
/// ```
pub fn he_uniform(
    shape: &[i32],
    mode: FanMode,
    gain: f32,
    dtype: Dtype,
    key: Option<&Array>,
) -> Result<Array> {
    let f = fan("init::he_uniform", shape, mode)?;
    let limit = gain * (3.0 / f).sqrt();
    uniform(-limit, limit, shape, dtype, key)
}

/// `n` keys split from `key` (or `n` `None`s, drawing from the global stream, without one):
/// how a layer with several parameters gives each its own key.
///
/// ```
/// let ks = wmx::nn::init::split_keys(Some(&wmx::random::key(0)), 2).unwrap();
/// assert_eq!(ks.len(), 2);
/// assert_eq!(ks[0].as_ref().unwrap().shape(), &[2]);
/// ```
pub fn split_keys(key: Option<&Array>, n: usize) -> Result<Vec<Option<Array>>> {
    let Some(k) = key else {
        return Ok(vec![None; n]);
    };
    let ks = random::split(k, n as i32, None)?;
    (0..n as i32)
        .map(|i| crate::index(&ks, &[i.into()], None).map(Some))
        .collect()
}
