//! Activation functions (MLX's `mlx.nn` activations, the same formulas) and their module forms
//! (`nn::Relu`, `nn::Gelu`...) for [`Sequential`](super::Sequential). All are composites of
//! primitives, so they run on every device and differentiate through the transforms.

use super::module::{UnaryModule, Visit, Visitor, VisitorMut};
use crate::array::Array;
use crate::error::{Result, value_err};

type R = Result<Array>;

/// `max(x, 0)`.
///
/// ```
/// let x = wmx::Array::from_slice(&[-1.0f32, 2.0], &[2]);
/// assert_eq!(wmx::nn::relu(&x).unwrap().to_vec::<f32>().unwrap(), vec![0.0, 2.0]);
/// ```
pub fn relu(x: &Array) -> R {
    crate::maximum(x, 0.0, None)
}

/// `min(max(x, 0), 6)`.
///
/// ```
/// let x = wmx::Array::from_slice(&[-1.0f32, 8.0], &[2]);
/// assert_eq!(wmx::nn::relu6(&x).unwrap().to_vec::<f32>().unwrap(), vec![0.0, 6.0]);
/// ```
pub fn relu6(x: &Array) -> R {
    crate::minimum(&relu(x)?, 6.0, None)
}

/// `max(slope·x, x)`.
///
/// ```
/// let x = wmx::Array::from_slice(&[-10.0f32, 2.0], &[2]);
/// assert_eq!(wmx::nn::leaky_relu(&x, 0.5).unwrap().to_vec::<f32>().unwrap(), vec![-5.0, 2.0]);
/// ```
pub fn leaky_relu(x: &Array, negative_slope: f32) -> R {
    crate::maximum(&crate::multiply(x, negative_slope, None)?, x, None)
}

/// `x` where `x > 0`, else `alpha·(eˣ − 1)`.
///
/// ```
/// let x = wmx::Array::from_slice(&[0.0f32, 1.0], &[2]);
/// assert_eq!(wmx::nn::elu(&x, 1.0).unwrap().to_vec::<f32>().unwrap(), vec![0.0, 1.0]);
/// ```
pub fn elu(x: &Array, alpha: f32) -> R {
    let neg = crate::multiply(
        &crate::subtract(&crate::exp(x, None)?, 1.0, None)?,
        alpha,
        None,
    )?;
    crate::where_(&crate::greater(x, 0.0, None)?, x, &neg, None)
}

/// `1.0507·elu(x, 1.67326)`.
///
/// ```
/// let x = wmx::Array::from_slice(&[1.0f32], &[1]);
/// assert!((wmx::nn::selu(&x).unwrap().to_vec::<f32>().unwrap()[0] - 1.0507).abs() < 1e-6);
/// ```
pub fn selu(x: &Array) -> R {
    crate::multiply(&elu(x, 1.67326)?, 1.0507, None)
}

/// `max(x, 0) + alpha·(exp(min(x, 0)/alpha) − 1)`.
///
/// ```
/// let x = wmx::Array::from_slice(&[2.0f32], &[1]);
/// assert_eq!(wmx::nn::celu(&x, 1.0).unwrap().to_vec::<f32>().unwrap(), vec![2.0]);
/// ```
pub fn celu(x: &Array, alpha: f32) -> R {
    let e = crate::exp(
        &crate::divide(&crate::minimum(x, 0.0, None)?, alpha, None)?,
        None,
    )?;
    let neg = crate::multiply(&crate::subtract(&e, 1.0, None)?, alpha, None)?;
    crate::add(&relu(x)?, &neg, None)
}

/// `log(1 + eˣ)`, as `logaddexp(x, 0)`.
///
/// ```
/// let x = wmx::Array::from_slice(&[0.0f32], &[1]);
/// assert!((wmx::nn::softplus(&x).unwrap().to_vec::<f32>().unwrap()[0] - 2f32.ln()).abs() < 1e-6);
/// ```
pub fn softplus(x: &Array) -> R {
    crate::logaddexp(x, 0.0, None)
}

/// `x / (1 + |x|)`.
///
/// ```
/// let x = wmx::Array::from_slice(&[1.0f32], &[1]);
/// assert_eq!(wmx::nn::softsign(&x).unwrap().to_vec::<f32>().unwrap(), vec![0.5]);
/// ```
pub fn softsign(x: &Array) -> R {
    crate::divide(x, &crate::add(&crate::abs(x, None)?, 1.0, None)?, None)
}

/// `1 / (1 + e⁻ˣ)`.
///
/// ```
/// let x = wmx::Array::from_slice(&[0.0f32], &[1]);
/// assert_eq!(wmx::nn::sigmoid(&x).unwrap().to_vec::<f32>().unwrap(), vec![0.5]);
/// ```
pub fn sigmoid(x: &Array) -> R {
    crate::sigmoid(x, None)
}

/// Hyperbolic tangent.
///
/// ```
/// let x = wmx::Array::from_slice(&[0.0f32], &[1]);
/// assert_eq!(wmx::nn::tanh(&x).unwrap().to_vec::<f32>().unwrap(), vec![0.0]);
/// ```
pub fn tanh(x: &Array) -> R {
    crate::tanh(x, None)
}

/// `x·σ(x)` (swish).
///
/// ```
/// let x = wmx::Array::from_slice(&[0.0f32], &[1]);
/// assert_eq!(wmx::nn::silu(&x).unwrap().to_vec::<f32>().unwrap(), vec![0.0]);
/// ```
pub fn silu(x: &Array) -> R {
    crate::multiply(x, &crate::sigmoid(x, None)?, None)
}

/// `−softplus(−x)`.
///
/// ```
/// let x = wmx::Array::from_slice(&[0.0f32], &[1]);
/// assert!((wmx::nn::log_sigmoid(&x).unwrap().to_vec::<f32>().unwrap()[0] + 2f32.ln()).abs() < 1e-6);
/// ```
pub fn log_sigmoid(x: &Array) -> R {
    crate::negative(&softplus(&crate::negative(x, None)?)?, None)
}

/// The exact GELU, `x·(1 + erf(x/√2))/2`.
///
/// ```
/// let x = wmx::Array::from_slice(&[0.0f32], &[1]);
/// assert_eq!(wmx::nn::gelu(&x).unwrap().to_vec::<f32>().unwrap(), vec![0.0]);
/// ```
pub fn gelu(x: &Array) -> R {
    let e = crate::erf(&crate::divide(x, std::f32::consts::SQRT_2, None)?, None)?;
    crate::divide(
        &crate::multiply(x, &crate::add(&e, 1.0, None)?, None)?,
        2.0,
        None,
    )
}

/// The tanh approximation of GELU, `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
///
/// ```
/// let x = wmx::Array::from_slice(&[1.0f32], &[1]);
/// assert!((wmx::nn::gelu_approx(&x).unwrap().to_vec::<f32>().unwrap()[0] - 0.841192).abs() < 1e-5);
/// ```
pub fn gelu_approx(x: &Array) -> R {
    let c = (2.0f32 / std::f32::consts::PI).sqrt();
    let cube = crate::power(x, 3.0, None)?;
    let inner = crate::add(x, &crate::multiply(&cube, 0.044715, None)?, None)?;
    let t = crate::tanh(&crate::multiply(&inner, c, None)?, None)?;
    crate::multiply(
        &crate::multiply(x, 0.5, None)?,
        &crate::add(&t, 1.0, None)?,
        None,
    )
}

/// The sigmoid approximation of GELU, `x·σ(1.702·x)`.
///
/// ```
/// let x = wmx::Array::from_slice(&[0.0f32], &[1]);
/// assert_eq!(wmx::nn::gelu_fast_approx(&x).unwrap().to_vec::<f32>().unwrap(), vec![0.0]);
/// ```
pub fn gelu_fast_approx(x: &Array) -> R {
    crate::multiply(
        x,
        &crate::sigmoid(&crate::multiply(x, 1.702, None)?, None)?,
        None,
    )
}

/// `x·tanh(softplus(x))`.
///
/// ```
/// let x = wmx::Array::from_slice(&[0.0f32], &[1]);
/// assert_eq!(wmx::nn::mish(&x).unwrap().to_vec::<f32>().unwrap(), vec![0.0]);
/// ```
pub fn mish(x: &Array) -> R {
    crate::multiply(x, &crate::tanh(&softplus(x)?, None)?, None)
}

/// `x·relu6(x + 3)/6`.
///
/// ```
/// let x = wmx::Array::from_slice(&[3.0f32], &[1]);
/// assert_eq!(wmx::nn::hardswish(&x).unwrap().to_vec::<f32>().unwrap(), vec![3.0]);
/// ```
pub fn hardswish(x: &Array) -> R {
    let r = relu6(&crate::add(x, 3.0, None)?)?;
    crate::divide(&crate::multiply(x, &r, None)?, 6.0, None)
}

/// `x − logsumexp(x)` along `axis`.
///
/// ```
/// let x = wmx::Array::from_slice(&[0.0f32, 0.0], &[2]);
/// let y = wmx::nn::log_softmax(&x, -1).unwrap().to_vec::<f32>().unwrap();
/// assert!((y[0] + 2f32.ln()).abs() < 1e-6);
/// ```
pub fn log_softmax(x: &Array, axis: i32) -> R {
    crate::subtract(x, &crate::logsumexp(x, &[axis], true, None)?, None)
}

/// Softmax along `axis`.
///
/// ```
/// let x = wmx::Array::from_slice(&[0.0f32, 0.0], &[2]);
/// assert_eq!(wmx::nn::softmax(&x, -1).unwrap().to_vec::<f32>().unwrap(), vec![0.5, 0.5]);
/// ```
pub fn softmax(x: &Array, axis: i32) -> R {
    crate::softmax(x, &[axis], None)
}

/// Gated linear unit: splits `x` in two halves `a`, `b` along `axis` and returns `a·σ(b)`.
///
/// ```
/// let x = wmx::Array::from_slice(&[2.0f32, 0.0], &[2]);
/// assert_eq!(wmx::nn::glu(&x, -1).unwrap().to_vec::<f32>().unwrap(), vec![1.0]);
/// assert!(wmx::nn::glu(&wmx::Array::from_slice(&[1.0f32; 3], &[3]), -1).is_err());
/// ```
pub fn glu(x: &Array, axis: i32) -> R {
    let n = x.dim(axis)?;
    if n % 2 != 0 {
        return Err(value_err(
            "nn::glu",
            format!("The axis {axis} has size {n}, which cannot be split in two halves."),
        ));
    }
    let parts = crate::split(x, 2, axis, None)?;
    crate::multiply(&parts[0], &crate::sigmoid(&parts[1], None)?, None)
}

/// `1` where `x ≥ threshold`, else `0` (int32, as MLX).
///
/// ```
/// let x = wmx::Array::from_slice(&[-1.0f32, 1.0], &[2]);
/// assert_eq!(wmx::nn::step(&x, 0.0).unwrap().to_vec::<i32>().unwrap(), vec![0, 1]);
/// ```
pub fn step(x: &Array, threshold: f32) -> R {
    crate::astype(
        &crate::greater_equal(x, threshold, None)?,
        crate::Dtype::Int32,
        None,
    )
}

/// `max(x, 0)²`.
///
/// ```
/// let x = wmx::Array::from_slice(&[-1.0f32, 3.0], &[2]);
/// assert_eq!(wmx::nn::relu2(&x).unwrap().to_vec::<f32>().unwrap(), vec![0.0, 9.0]);
/// ```
pub fn relu2(x: &Array) -> R {
    crate::square(&relu(x)?, None)
}

/// `x` clamped to `[min_val, max_val]`.
///
/// ```
/// let x = wmx::Array::from_slice(&[-3.0f32, 0.5], &[2]);
/// assert_eq!(wmx::nn::hard_tanh(&x, -1.0, 1.0).unwrap().to_vec::<f32>().unwrap(), vec![-1.0, 0.5]);
/// ```
pub fn hard_tanh(x: &Array, min_val: f32, max_val: f32) -> R {
    crate::minimum(&crate::maximum(x, min_val, None)?, max_val, None)
}

/// `x` where `|x| > lambd`, else 0.
///
/// ```
/// let x = wmx::Array::from_slice(&[-0.2f32, 0.9], &[2]);
/// assert_eq!(wmx::nn::hard_shrink(&x, 0.5).unwrap().to_vec::<f32>().unwrap(), vec![0.0, 0.9]);
/// ```
pub fn hard_shrink(x: &Array, lambd: f32) -> R {
    let keep = crate::greater(&crate::abs(x, None)?, lambd, None)?;
    crate::where_(&keep, x, 0.0, None)
}

/// `x − sign(x)·lambd` where `|x| > lambd`, else 0.
///
/// ```
/// let x = wmx::Array::from_slice(&[-0.2f32, 1.5], &[2]);
/// assert_eq!(wmx::nn::softshrink(&x, 0.5).unwrap().to_vec::<f32>().unwrap(), vec![0.0, 1.0]);
/// ```
pub fn softshrink(x: &Array, lambd: f32) -> R {
    let keep = crate::greater(&crate::abs(x, None)?, lambd, None)?;
    let shrunk = crate::subtract(
        x,
        &crate::multiply(&crate::sign(x, None)?, lambd, None)?,
        None,
    )?;
    crate::where_(&keep, &shrunk, 0.0, None)
}

/// `softmax(−x)` along `axis`.
///
/// ```
/// let x = wmx::Array::from_slice(&[0.0f32, 0.0], &[2]);
/// assert_eq!(wmx::nn::softmin(&x, -1).unwrap().to_vec::<f32>().unwrap(), vec![0.5, 0.5]);
/// ```
pub fn softmin(x: &Array, axis: i32) -> R {
    crate::softmax(&crate::negative(x, None)?, &[axis], None)
}

/// `max(0, x) + alpha·min(0, x)` with a learned (broadcast) `alpha`.
///
/// ```
/// let x = wmx::Array::from_slice(&[-2.0f32, 2.0], &[2]);
/// let a = wmx::Array::from_slice(&[0.25f32], &[1]);
/// assert_eq!(wmx::nn::prelu(&x, &a).unwrap().to_vec::<f32>().unwrap(), vec![-0.5, 2.0]);
/// ```
pub fn prelu(x: &Array, alpha: &Array) -> R {
    let neg = crate::multiply(alpha, &crate::minimum(x, 0.0, None)?, None)?;
    crate::add(&relu(x)?, &neg, None)
}

/// The struct of an activation module: a unit struct, or one holding the function's parameters.
macro_rules! activation_struct {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq)]
        pub struct $name;
    };
    ($(#[$doc:meta])* $name:ident { $($f:ident: $t:ty),* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct $name { $(#[doc = "A parameter of the function."] pub $f: $t),* }
    };
}

/// An activation as a module: no parameters, its function as the forward pass.
macro_rules! activation_modules {
    ($($(#[$doc:meta])* $name:ident $({ $($f:ident: $t:ty),* })? => |$self_:ident, $x:ident| $body:expr;)*) => {$(
        activation_struct!($(#[$doc])* $name $({ $($f: $t),* })?);
        impl Visit for $name {
            fn visit(&self, _: &mut Visitor<'_>) {}
            fn visit_mut(&mut self, _: &mut VisitorMut<'_>) {}
        }
        impl UnaryModule for $name {
            fn forward(&$self_, $x: &Array) -> R {
                $body
            }
        }
    )*};
}

activation_modules! {
    /// [`relu`] as a module.
    ///
    /// ```
    /// use wmx::nn::UnaryModule;
    /// let y = wmx::nn::Relu.forward(&wmx::Array::from_slice(&[-1.0f32], &[1])).unwrap();
    /// assert_eq!(y.to_vec::<f32>().unwrap(), vec![0.0]);
    /// ```
    Relu => |self, x| relu(x);
    /// [`relu6`] as a module.
    Relu6 => |self, x| relu6(x);
    /// [`leaky_relu`] as a module.
    LeakyRelu { negative_slope: f32 } => |self, x| leaky_relu(x, self.negative_slope);
    /// [`elu`] as a module.
    Elu { alpha: f32 } => |self, x| elu(x, self.alpha);
    /// [`selu`] as a module.
    Selu => |self, x| selu(x);
    /// [`celu`] as a module.
    Celu { alpha: f32 } => |self, x| celu(x, self.alpha);
    /// [`softplus`] as a module.
    Softplus => |self, x| softplus(x);
    /// [`softsign`] as a module.
    Softsign => |self, x| softsign(x);
    /// [`sigmoid`] as a module.
    Sigmoid => |self, x| sigmoid(x);
    /// [`tanh`] as a module.
    Tanh => |self, x| tanh(x);
    /// [`silu`] as a module.
    Silu => |self, x| silu(x);
    /// [`log_sigmoid`] as a module.
    LogSigmoid => |self, x| log_sigmoid(x);
    /// [`gelu`] as a module.
    Gelu => |self, x| gelu(x);
    /// [`gelu_approx`] as a module.
    GeluApprox => |self, x| gelu_approx(x);
    /// [`gelu_fast_approx`] as a module.
    GeluFastApprox => |self, x| gelu_fast_approx(x);
    /// [`mish`] as a module.
    Mish => |self, x| mish(x);
    /// [`hardswish`] as a module.
    Hardswish => |self, x| hardswish(x);
    /// [`log_softmax`] over the last axis as a module.
    LogSoftmax => |self, x| log_softmax(x, -1);
    /// [`softmax`] over the last axis as a module.
    Softmax => |self, x| softmax(x, -1);
    /// [`glu`] as a module.
    Glu { axis: i32 } => |self, x| glu(x, self.axis);
    /// [`relu2`] as a module.
    Relu2 => |self, x| relu2(x);
    /// [`hard_tanh`] as a module (MLX's default range is `[-1, 1]`).
    HardTanh { min_val: f32, max_val: f32 } => |self, x| hard_tanh(x, self.min_val, self.max_val);
    /// [`hard_shrink`] as a module.
    HardShrink { lambd: f32 } => |self, x| hard_shrink(x, self.lambd);
    /// [`softshrink`] as a module.
    Softshrink { lambd: f32 } => |self, x| softshrink(x, self.lambd);
    /// [`softmin`] over the last axis as a module.
    Softmin => |self, x| softmin(x, -1);
    /// [`step`] as a module.
    Step { threshold: f32 } => |self, x| step(x, self.threshold);
}

/// [`prelu`] with its slope as a parameter (`weight`, `[num_parameters]`, 0.25 by default),
/// MLX's `nn.PReLU`.
///
/// ```
/// use wmx::nn::{Module, PRelu, UnaryModule};
/// let p = PRelu::new(1, 0.25).unwrap();
/// assert!(p.parameters().contains_key("weight"));
/// let y = p.forward(&wmx::Array::from_slice(&[-4.0f32], &[1])).unwrap();
/// assert_eq!(y.to_vec::<f32>().unwrap(), vec![-1.0]);
/// ```
#[derive(Clone, Debug)]
pub struct PRelu {
    /// The negative slopes.
    pub weight: super::Param,
}
crate::module!(PRelu { weight });

impl PRelu {
    /// `num_parameters` slopes (1, or one per channel), all `init`.
    pub fn new(num_parameters: i32, init: f32) -> Result<PRelu> {
        let w = crate::full(&[num_parameters], init as f64, crate::Dtype::Float32, None)?;
        Ok(PRelu {
            weight: super::Param::new(w),
        })
    }
}

impl UnaryModule for PRelu {
    fn forward(&self, x: &Array) -> R {
        prelu(x, &self.weight)
    }
}
