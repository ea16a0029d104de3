//! Loss functions (MLX's `mlx.nn.losses`, the same formulas, defaults and shape checks): each
//! takes a [`Reduction`]. Composites of primitives, so they run on every device and
//! differentiate through the transforms.

use crate::array::Array;
use crate::error::{Result, shape_err, value_err};

type R = Result<Array>;

/// How a loss reduces its per-element values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduction {
    /// Per-element losses.
    None,
    /// Their mean.
    Mean,
    /// Their sum.
    Sum,
}

fn reduce(loss: Array, r: Reduction) -> R {
    match r {
        Reduction::None => Ok(loss),
        Reduction::Mean => crate::mean(&loss, &[], false, None),
        Reduction::Sum => crate::sum(&loss, &[], false, None),
    }
}

fn same_shape(op: &'static str, a: &Array, b: &Array, what: (&str, &str)) -> Result<()> {
    if a.shape() != b.shape() {
        return Err(shape_err(
            op,
            format!(
                "{} shape {:?} does not match {} shape {:?}.",
                what.0,
                a.shape(),
                what.1,
                b.shape()
            ),
        ));
    }
    Ok(())
}

fn weighted(op: &'static str, loss: Array, weights: Option<&Array>) -> R {
    match weights {
        Some(w) => {
            same_shape(op, w, &loss, ("Weights", "output loss"))?;
            crate::multiply(&loss, w, None)
        }
        None => Ok(loss),
    }
}

/// Cross entropy of `logits` against class indices (`targets` has `logits`' shape without
/// `axis`) or probabilities (the same shape), with optional per-target `weights` and label
/// smoothing in `[0, 1)`. MLX's default reduction is `None`.
///
/// ```
/// use wmx::{Array, nn::losses::{cross_entropy, Reduction}};
/// let logits = Array::from_slice(&[2.0f32, -1.0, -1.0, 2.0], &[2, 2]);
/// let l = cross_entropy(&logits, &Array::from_slice(&[0i32, 1], &[2]), None, -1, 0.0, Reduction::None).unwrap();
/// assert!((l.to_vec::<f32>().unwrap()[0] - 0.0485873).abs() < 1e-6);
/// ```
pub fn cross_entropy(
    logits: &Array,
    targets: &Array,
    weights: Option<&Array>,
    axis: i32,
    label_smoothing: f32,
    reduction: Reduction,
) -> R {
    const OP: &str = "nn::losses::cross_entropy";
    if !(0.0..1.0).contains(&label_smoothing) {
        return Err(value_err(
            OP,
            format!("Label smoothing must be in [0, 1), got {label_smoothing}."),
        ));
    }
    let nd = logits.ndim() as i32;
    let ax = if axis < 0 { axis + nd } else { axis };
    if ax < 0 || ax >= nd {
        return Err(value_err(
            OP,
            format!(
                "axis {axis} is out of bounds for logits of shape {:?}.",
                logits.shape()
            ),
        ));
    }
    let as_probs = targets.ndim() == logits.ndim();
    let mut dropped = logits.shape().to_vec();
    dropped.remove(ax as usize);
    if (as_probs && targets.shape() != logits.shape())
        || (!as_probs && targets.shape() != dropped.as_slice())
    {
        return Err(shape_err(
            OP,
            format!(
                "Targets shape {:?} does not match logits shape {:?}.",
                targets.shape(),
                logits.shape()
            ),
        ));
    }
    let top = crate::stop_gradient(&crate::max(logits, &[ax], true, None)?, None)?;
    let z = crate::subtract(logits, &top, None)?;
    let score = if as_probs {
        crate::sum(&crate::multiply(&z, targets, None)?, &[ax], false, None)?
    } else {
        let idx = crate::expand_dims(targets, &[ax], None)?;
        crate::squeeze(
            &crate::take_along_axis(&z, &idx, Some(ax), None)?,
            &[ax],
            None,
        )?
    };
    let lse = crate::logsumexp(&z, &[ax], false, None)?;
    let loss = if label_smoothing > 0.0 {
        let adjusted = crate::multiply(&score, 1.0 - label_smoothing, None)?;
        let smooth = crate::multiply(
            &crate::mean(&z, &[ax], false, None)?,
            -label_smoothing,
            None,
        )?;
        crate::add(&crate::subtract(&lse, &adjusted, None)?, &smooth, None)?
    } else {
        crate::subtract(&lse, &score, None)?
    };
    reduce(weighted(OP, loss, weights)?, reduction)
}

/// Binary cross entropy on logits (`with_logits`, stable: `log(1 + eˣ) − x·t`) or on
/// probabilities (logs clipped at −100). MLX's default reduction is `Mean`.
///
/// ```
/// use wmx::{Array, nn::losses::{binary_cross_entropy, Reduction}};
/// let x = Array::from_slice(&[0.105361f32, 0.223144, 1.20397, 0.916291], &[4]);
/// let t = Array::from_slice(&[0.0f32, 0.0, 1.0, 1.0], &[4]);
/// let l = binary_cross_entropy(&x, &t, None, true, Reduction::Mean).unwrap();
/// assert!((l.item::<f32>().unwrap() - 0.539245).abs() < 1e-5);
/// ```
pub fn binary_cross_entropy(
    inputs: &Array,
    targets: &Array,
    weights: Option<&Array>,
    with_logits: bool,
    reduction: Reduction,
) -> R {
    const OP: &str = "nn::losses::binary_cross_entropy";
    same_shape(OP, inputs, targets, ("Inputs", "targets"))?;
    let loss = if with_logits {
        crate::subtract(
            &crate::logaddexp(0.0, inputs, None)?,
            &crate::multiply(inputs, targets, None)?,
            None,
        )?
    } else {
        let clip = |a: Array| crate::maximum(&a, -100.0, None);
        let log_p = clip(crate::log(inputs, None)?)?;
        let log_q = clip(crate::log(&crate::subtract(1.0, inputs, None)?, None)?)?;
        let pos = crate::multiply(targets, &log_p, None)?;
        let neg = crate::multiply(&crate::subtract(1.0, targets, None)?, &log_q, None)?;
        crate::negative(&crate::add(&pos, &neg, None)?, None)?
    };
    reduce(weighted(OP, loss, weights)?, reduction)
}

/// Negative log likelihood of log-probabilities `inputs` at class indices `targets`. MLX's
/// default reduction is `None`.
///
/// ```
/// use wmx::{Array, nn::losses::{nll_loss, Reduction}};
/// let lp = Array::from_slice(&[-0.5f32, -1.0, -2.0, -0.1], &[2, 2]);
/// let l = nll_loss(&lp, &Array::from_slice(&[1i32, 1], &[2]), -1, Reduction::Sum).unwrap();
/// assert!((l.item::<f32>().unwrap() - 1.1).abs() < 1e-6);
/// ```
pub fn nll_loss(inputs: &Array, targets: &Array, axis: i32, reduction: Reduction) -> R {
    let idx = crate::expand_dims(targets, &[axis], None)?;
    let picked = crate::squeeze(
        &crate::take_along_axis(inputs, &idx, Some(axis), None)?,
        &[axis],
        None,
    )?;
    reduce(crate::negative(&picked, None)?, reduction)
}

/// Mean squared error. MLX's default reduction is `Mean`.
///
/// ```
/// use wmx::{Array, nn::losses::{mse_loss, Reduction}};
/// let l = mse_loss(&Array::from_slice(&[1.0f32, 2.0], &[2]), &Array::from_slice(&[0.0f32, 0.0], &[2]), Reduction::Mean).unwrap();
/// assert_eq!(l.item::<f32>().unwrap(), 2.5);
/// ```
pub fn mse_loss(predictions: &Array, targets: &Array, reduction: Reduction) -> R {
    same_shape(
        "nn::losses::mse_loss",
        predictions,
        targets,
        ("Predictions", "targets"),
    )?;
    reduce(
        crate::square(&crate::subtract(predictions, targets, None)?, None)?,
        reduction,
    )
}

/// Mean absolute error. MLX's default reduction is `Mean`.
///
/// ```
/// use wmx::{Array, nn::losses::{l1_loss, Reduction}};
/// let l = l1_loss(&Array::from_slice(&[1.0f32, -2.0], &[2]), &Array::from_slice(&[0.0f32, 0.0], &[2]), Reduction::Sum).unwrap();
/// assert_eq!(l.item::<f32>().unwrap(), 3.0);
/// ```
pub fn l1_loss(predictions: &Array, targets: &Array, reduction: Reduction) -> R {
    same_shape(
        "nn::losses::l1_loss",
        predictions,
        targets,
        ("Predictions", "targets"),
    )?;
    reduce(
        crate::abs(&crate::subtract(predictions, targets, None)?, None)?,
        reduction,
    )
}

/// Smooth L1: `0.5·d²/β` where `|d| < β`, else `|d| − 0.5·β`. MLX's default reduction is `Mean`.
///
/// ```
/// use wmx::{Array, nn::losses::{smooth_l1_loss, Reduction}};
/// let p = Array::from_slice(&[0.5f32, 3.0], &[2]);
/// let l = smooth_l1_loss(&p, &Array::from_slice(&[0.0f32, 0.0], &[2]), 1.0, Reduction::None).unwrap();
/// assert_eq!(l.to_vec::<f32>().unwrap(), vec![0.125, 2.5]);
/// ```
pub fn smooth_l1_loss(predictions: &Array, targets: &Array, beta: f32, reduction: Reduction) -> R {
    same_shape(
        "nn::losses::smooth_l1_loss",
        predictions,
        targets,
        ("Predictions", "targets"),
    )?;
    let d = crate::abs(&crate::subtract(predictions, targets, None)?, None)?;
    let quad = crate::divide(
        &crate::multiply(&crate::square(&d, None)?, 0.5, None)?,
        beta,
        None,
    )?;
    let lin = crate::subtract(&d, 0.5 * beta, None)?;
    reduce(
        crate::where_(&crate::less(&d, beta, None)?, &quad, &lin, None)?,
        reduction,
    )
}

/// Huber: `0.5·min(|d|, δ)² + δ·(|d| − min(|d|, δ))`. MLX's default reduction is `None`.
///
/// ```
/// use wmx::{Array, nn::losses::{huber_loss, Reduction}};
/// let p = Array::from_slice(&[0.5f32, 3.0], &[2]);
/// let l = huber_loss(&p, &Array::from_slice(&[0.0f32, 0.0], &[2]), 1.0, Reduction::None).unwrap();
/// assert_eq!(l.to_vec::<f32>().unwrap(), vec![0.125, 2.5]);
/// ```
pub fn huber_loss(inputs: &Array, targets: &Array, delta: f32, reduction: Reduction) -> R {
    let a = crate::abs(&crate::subtract(inputs, targets, None)?, None)?;
    let q = crate::minimum(&a, delta, None)?;
    let lin = crate::subtract(&a, &q, None)?;
    let loss = crate::add(
        &crate::multiply(&crate::square(&q, None)?, 0.5, None)?,
        &crate::multiply(&lin, delta, None)?,
        None,
    )?;
    reduce(loss, reduction)
}

/// Kullback–Leibler divergence of log-probabilities: `Σ exp(t)·(t − x)` along `axis`. MLX's
/// default reduction is `None`.
///
/// ```
/// use wmx::{Array, nn::losses::{kl_div_loss, Reduction}};
/// let p = Array::from_slice(&[0.5f32.ln(), 0.5f32.ln()], &[1, 2]);
/// let l = kl_div_loss(&p, &p, -1, Reduction::Sum).unwrap();
/// assert!(l.item::<f32>().unwrap().abs() < 1e-7);
/// ```
pub fn kl_div_loss(inputs: &Array, targets: &Array, axis: i32, reduction: Reduction) -> R {
    let d = crate::subtract(targets, inputs, None)?;
    let loss = crate::sum(
        &crate::multiply(&crate::exp(targets, None)?, &d, None)?,
        &[axis],
        false,
        None,
    )?;
    reduce(loss, reduction)
}

/// Cosine similarity along `axis`: `Σ x₁·x₂ / max(‖x₁‖·‖x₂‖, eps)` (MLX's default axis is 1,
/// reduction `None`).
///
/// ```
/// use wmx::{Array, nn::losses::{cosine_similarity_loss, Reduction}};
/// let a = Array::from_slice(&[1.0f32, 0.0, 0.0, 2.0], &[2, 2]);
/// let l = cosine_similarity_loss(&a, &a, 1, 1e-8, Reduction::None).unwrap();
/// assert_eq!(l.to_vec::<f32>().unwrap(), vec![1.0, 1.0]);
/// ```
pub fn cosine_similarity_loss(
    x1: &Array,
    x2: &Array,
    axis: i32,
    eps: f32,
    reduction: Reduction,
) -> R {
    let n = |x: &Array| {
        crate::sqrt(
            &crate::sum(&crate::square(x, None)?, &[axis], false, None)?,
            None,
        )
    };
    let denom = crate::maximum(&crate::multiply(&n(x1)?, &n(x2)?, None)?, eps, None)?;
    let dot = crate::sum(&crate::multiply(x1, x2, None)?, &[axis], false, None)?;
    reduce(crate::divide(&dot, &denom, None)?, reduction)
}

/// Hinge: `max(1 − x·t, 0)` for targets in {−1, 1}. MLX's default reduction is `None`.
///
/// ```
/// use wmx::{Array, nn::losses::{hinge_loss, Reduction}};
/// let l = hinge_loss(&Array::from_slice(&[0.5f32, 2.0], &[2]), &Array::from_slice(&[1.0f32, 1.0], &[2]), Reduction::None).unwrap();
/// assert_eq!(l.to_vec::<f32>().unwrap(), vec![0.5, 0.0]);
/// ```
pub fn hinge_loss(inputs: &Array, targets: &Array, reduction: Reduction) -> R {
    let m = crate::subtract(1.0, &crate::multiply(inputs, targets, None)?, None)?;
    reduce(crate::maximum(&m, 0.0, None)?, reduction)
}

/// Log-cosh: `log(cosh(x − t))`, computed stably as `logaddexp(d, −d) − log 2`. MLX's default
/// reduction is `None`.
///
/// ```
/// use wmx::{Array, nn::losses::{log_cosh_loss, Reduction}};
/// let l = log_cosh_loss(&Array::from_slice(&[0.0f32], &[1]), &Array::from_slice(&[0.0f32], &[1]), Reduction::Sum).unwrap();
/// assert!(l.item::<f32>().unwrap().abs() < 1e-6);
/// ```
pub fn log_cosh_loss(inputs: &Array, targets: &Array, reduction: Reduction) -> R {
    let d = crate::subtract(inputs, targets, None)?;
    let l = crate::logaddexp(&d, &crate::negative(&d, None)?, None)?;
    reduce(
        crate::subtract(&l, std::f32::consts::LN_2, None)?,
        reduction,
    )
}

/// Margin ranking: `max(0, −t·(x₁ − x₂) + margin)`. MLX's default reduction is `None`.
///
/// ```
/// use wmx::{Array, nn::losses::{margin_ranking_loss, Reduction}};
/// let (a, b) = (Array::from_slice(&[1.0f32], &[1]), Array::from_slice(&[2.0f32], &[1]));
/// let l = margin_ranking_loss(&a, &b, &Array::from_slice(&[1.0f32], &[1]), 0.5, Reduction::Sum).unwrap();
/// assert_eq!(l.item::<f32>().unwrap(), 1.5);
/// ```
pub fn margin_ranking_loss(
    inputs1: &Array,
    inputs2: &Array,
    targets: &Array,
    margin: f32,
    reduction: Reduction,
) -> R {
    if inputs1.shape() != inputs2.shape() || inputs1.shape() != targets.shape() {
        return Err(shape_err(
            "nn::losses::margin_ranking_loss",
            format!(
                "The shapes of the arguments do not match: {:?}, {:?} and targets {:?}.",
                inputs1.shape(),
                inputs2.shape(),
                targets.shape()
            ),
        ));
    }
    let d = crate::multiply(
        &crate::negative(targets, None)?,
        &crate::subtract(inputs1, inputs2, None)?,
        None,
    )?;
    reduce(
        crate::maximum(&crate::add(&d, margin, None)?, 0.0, None)?,
        reduction,
    )
}

/// Triplet margin: `max(‖a − p‖ₚ − ‖a − n‖ₚ + margin, 0)` along `axis` (with `eps` inside the
/// root). MLX's default reduction is `None`.
///
/// ```
/// use wmx::{Array, nn::losses::{triplet_loss, Reduction}};
/// let a = Array::from_slice(&[0.0f32, 0.0], &[1, 2]);
/// let p = Array::from_slice(&[0.0f32, 1.0], &[1, 2]);
/// let n = Array::from_slice(&[3.0f32, 4.0], &[1, 2]);
/// let l = triplet_loss(&a, &p, &n, -1, 2.0, 1.0, 1e-6, Reduction::Sum).unwrap();
/// assert_eq!(l.item::<f32>().unwrap(), 0.0);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn triplet_loss(
    anchors: &Array,
    positives: &Array,
    negatives: &Array,
    axis: i32,
    p: f32,
    margin: f32,
    eps: f32,
    reduction: Reduction,
) -> R {
    let dist = |other: &Array| -> R {
        let d = crate::power(
            &crate::abs(&crate::subtract(anchors, other, None)?, None)?,
            p,
            None,
        )?;
        let s = crate::add(&crate::sum(&d, &[axis], false, None)?, eps, None)?;
        crate::power(&s, 1.0 / p, None)
    };
    let l = crate::add(
        &crate::subtract(&dist(positives)?, &dist(negatives)?, None)?,
        margin,
        None,
    )?;
    reduce(crate::maximum(&l, 0.0, None)?, reduction)
}

/// Gaussian negative log likelihood with predicted variances `vars` (clamped below at `eps`):
/// `0.5·(log v + (t − x)²/v)`, plus `0.5·log 2π` when `full`. MLX's default reduction is `Mean`.
///
/// ```
/// use wmx::{Array, nn::losses::{gaussian_nll_loss, Reduction}};
/// let x = Array::from_slice(&[1.0f32], &[1]);
/// let l = gaussian_nll_loss(&x, &x, &Array::from_slice(&[1.0f32], &[1]), false, 1e-6, Reduction::Mean).unwrap();
/// assert_eq!(l.item::<f32>().unwrap(), 0.0);
/// ```
pub fn gaussian_nll_loss(
    inputs: &Array,
    targets: &Array,
    vars: &Array,
    full: bool,
    eps: f32,
    reduction: Reduction,
) -> R {
    const OP: &str = "nn::losses::gaussian_nll_loss";
    same_shape(OP, inputs, targets, ("Inputs", "targets"))?;
    same_shape(OP, inputs, vars, ("Inputs", "vars"))?;
    let v = crate::maximum(vars, eps, None)?;
    let sq = crate::divide(
        &crate::square(&crate::subtract(targets, inputs, None)?, None)?,
        &v,
        None,
    )?;
    let mut l = crate::multiply(&crate::add(&crate::log(&v, None)?, &sq, None)?, 0.5, None)?;
    if full {
        l = crate::add(&l, 0.5 * (2.0 * std::f32::consts::PI).ln(), None)?;
    }
    reduce(l, reduction)
}
