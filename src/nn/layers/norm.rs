//! Normalisation layers over the last (feature) axis: LayerNorm, RmsNorm, GroupNorm and
//! BatchNorm (with running statistics, reported as frozen parameters as MLX does).

use crate::array::Array;
use crate::dtype::Dtype;
use crate::error::{Result, shape_err, value_err};
use crate::nn::module::{Param, UnaryModule, Visit, Visitor, VisitorMut};
use std::sync::Mutex;

fn check_eps(op: &'static str, eps: f32) -> Result<()> {
    if eps.is_nan() || eps <= 0.0 {
        return Err(value_err(
            op,
            format!("'eps' must be positive but got {eps}."),
        ));
    }
    Ok(())
}

/// `(x − mean) / √(var + eps)` over `axes` (biased variance).
fn normalize(x: &Array, axes: &[i32], eps: f32) -> Result<Array> {
    let mean = crate::mean(x, axes, true, None)?;
    let var = crate::var(x, axes, true, 0, None)?;
    let r = crate::rsqrt(&crate::add(&var, eps, None)?, None)?;
    crate::multiply(&crate::subtract(x, &mean, None)?, &r, None)
}

/// `x·w + b` for the optional affine parameters.
fn affine(x: Array, w: Option<&Param>, b: Option<&Param>) -> Result<Array> {
    let x = match w {
        Some(w) => crate::multiply(&x, &**w, None)?,
        None => x,
    };
    match b {
        Some(b) => crate::add(&x, &**b, None),
        None => Ok(x),
    }
}

fn ones(n: i32) -> Result<Param> {
    Ok(Param::new(crate::ones(&[n], Dtype::Float32, None)?))
}

fn zeros(n: i32) -> Result<Param> {
    Ok(Param::new(crate::zeros(&[n], Dtype::Float32, None)?))
}

/// Layer normalisation over the last axis, MLX's `nn.LayerNorm` (weight 1, bias 0).
///
/// ```
/// use wmx::nn::{LayerNorm, UnaryModule};
/// let ln = LayerNorm::new(2, 1e-5, true, true).unwrap();
/// let y = ln.forward(&wmx::Array::from_slice(&[1.0f32, 3.0], &[1, 2])).unwrap();
/// let v = y.to_vec::<f32>().unwrap();
/// assert!((v[0] + 1.0).abs() < 1e-4 && (v[1] - 1.0).abs() < 1e-4);
/// ```
#[derive(Clone, Debug)]
pub struct LayerNorm {
    /// `[dims]`, when affine.
    pub weight: Option<Param>,
    /// `[dims]`, when affine with bias.
    pub bias: Option<Param>,
    /// Added to the variance.
    pub eps: f32,
}
crate::module!(LayerNorm { weight, bias });

impl LayerNorm {
    /// A layer norm over `dims` features.
    pub fn new(dims: i32, eps: f32, affine: bool, bias: bool) -> Result<LayerNorm> {
        check_eps("nn::LayerNorm", eps)?;
        Ok(LayerNorm {
            weight: if affine { Some(ones(dims)?) } else { None },
            bias: if affine && bias {
                Some(zeros(dims)?)
            } else {
                None
            },
            eps,
        })
    }
}

impl UnaryModule for LayerNorm {
    fn forward(&self, x: &Array) -> Result<Array> {
        affine(
            normalize(x, &[-1], self.eps)?,
            self.weight.as_ref(),
            self.bias.as_ref(),
        )
    }
}

/// Root-mean-square normalisation over the last axis, MLX's `nn.RMSNorm`:
/// `x / √(mean(x²) + eps) · weight`.
///
/// ```
/// use wmx::nn::{RmsNorm, UnaryModule};
/// let n = RmsNorm::new(2, 1e-5).unwrap();
/// let y = n.forward(&wmx::Array::from_slice(&[3.0f32, 4.0], &[2])).unwrap();
/// let r = (12.5f32 + 1e-5).sqrt();
/// assert!((y.to_vec::<f32>().unwrap()[1] - 4.0 / r).abs() < 1e-5);
/// ```
#[derive(Clone, Debug)]
pub struct RmsNorm {
    /// `[dims]`.
    pub weight: Param,
    /// Added to the mean square.
    pub eps: f32,
}
crate::module!(RmsNorm { weight });

impl RmsNorm {
    /// An RMS norm over `dims` features.
    pub fn new(dims: i32, eps: f32) -> Result<RmsNorm> {
        check_eps("nn::RMSNorm", eps)?;
        Ok(RmsNorm {
            weight: ones(dims)?,
            eps,
        })
    }
}

impl UnaryModule for RmsNorm {
    fn forward(&self, x: &Array) -> Result<Array> {
        let ms = crate::mean(&crate::square(x, None)?, &[-1], true, None)?;
        let r = crate::rsqrt(&crate::add(&ms, self.eps, None)?, None)?;
        crate::multiply(&crate::multiply(x, &r, None)?, &*self.weight, None)
    }
}

/// Group normalisation, MLX's `nn.GroupNorm` on channels-last input `[N, ..., C]`. By default
/// channel `c` belongs to group `c % groups` (MLX's layout); `pytorch_compatible` groups
/// consecutive channels as PyTorch does.
///
/// ```
/// use wmx::nn::{GroupNorm, UnaryModule};
/// let g = GroupNorm::new(2, 4, 1e-5, true, false).unwrap();
/// let y = g.forward(&wmx::ones(&[2, 3, 4], wmx::Dtype::Float32, None).unwrap()).unwrap();
/// assert_eq!(y.shape(), &[2, 3, 4]);
/// assert!(GroupNorm::new(3, 4, 1e-5, true, false).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct GroupNorm {
    /// `[dims]`, when affine.
    pub weight: Option<Param>,
    /// `[dims]`, when affine.
    pub bias: Option<Param>,
    /// Number of groups.
    pub num_groups: i32,
    /// Added to the variance.
    pub eps: f32,
    /// Group consecutive channels (PyTorch) instead of strided ones (MLX).
    pub pytorch_compatible: bool,
}
crate::module!(GroupNorm { weight, bias });

impl GroupNorm {
    /// `num_groups` groups over `dims` channels.
    pub fn new(
        num_groups: i32,
        dims: i32,
        eps: f32,
        affine: bool,
        pytorch_compatible: bool,
    ) -> Result<GroupNorm> {
        check_eps("nn::GroupNorm", eps)?;
        if num_groups <= 0 || dims <= 0 || dims % num_groups != 0 {
            return Err(value_err(
                "nn::GroupNorm",
                format!(
                    "The number of features ({dims}) must be a positive multiple of the number of groups ({num_groups})."
                ),
            ));
        }
        Ok(GroupNorm {
            weight: if affine { Some(ones(dims)?) } else { None },
            bias: if affine { Some(zeros(dims)?) } else { None },
            num_groups,
            eps,
            pytorch_compatible,
        })
    }
}

impl UnaryModule for GroupNorm {
    fn forward(&self, x: &Array) -> Result<Array> {
        let shape = x.shape().to_vec();
        let (g, dims) = (self.num_groups, *shape.last().unwrap_or(&0));
        if shape.len() < 2 || dims % g != 0 {
            return Err(shape_err(
                "nn::GroupNorm",
                format!("Expected input [N, ..., C] with C divisible by {g}, got {shape:?}."),
            ));
        }
        let n = shape[0];
        let y = if self.pytorch_compatible {
            let gs = dims / g;
            let t = crate::transpose(
                &crate::reshape(x, &[n, -1, g, gs], None)?,
                &[0, 2, 1, 3],
                None,
            )?;
            let t = normalize(&crate::reshape(&t, &[n, g, -1], None)?, &[-1], self.eps)?;
            let t = crate::transpose(
                &crate::reshape(&t, &[n, g, -1, gs], None)?,
                &[0, 2, 1, 3],
                None,
            )?;
            crate::reshape(&t, &shape, None)?
        } else {
            let t = normalize(&crate::reshape(x, &[n, -1, g], None)?, &[1], self.eps)?;
            crate::reshape(&t, &shape, None)?
        };
        affine(y, self.weight.as_ref(), self.bias.as_ref())
    }
}

/// Instance normalisation, MLX's `nn.InstanceNorm`: each channel of each example normalised
/// over the spatial axes of `[N, ..., C]` input (no affine parameters unless asked).
///
/// ```
/// use wmx::nn::{InstanceNorm, Module, UnaryModule};
/// let n = InstanceNorm::new(3, 1e-5, true).unwrap();
/// assert_eq!(n.parameters().len(), 2);
/// let y = n.forward(&wmx::ones(&[2, 4, 4, 3], wmx::Dtype::Float32, None).unwrap()).unwrap();
/// assert_eq!(y.shape(), &[2, 4, 4, 3]);
/// assert!(n.forward(&wmx::ones(&[2, 3], wmx::Dtype::Float32, None).unwrap()).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct InstanceNorm {
    /// `[dims]`, when affine.
    pub weight: Option<Param>,
    /// `[dims]`, when affine.
    pub bias: Option<Param>,
    /// Added to the variance.
    pub eps: f32,
}
crate::module!(InstanceNorm { weight, bias });

impl InstanceNorm {
    /// Instance norm over `dims` channels.
    pub fn new(dims: i32, eps: f32, affine: bool) -> Result<InstanceNorm> {
        check_eps("nn::InstanceNorm", eps)?;
        Ok(InstanceNorm {
            weight: if affine { Some(ones(dims)?) } else { None },
            bias: if affine { Some(zeros(dims)?) } else { None },
            eps,
        })
    }
}

impl UnaryModule for InstanceNorm {
    fn forward(&self, x: &Array) -> Result<Array> {
        let nd = x.ndim() as i32;
        if nd < 3 {
            return Err(shape_err(
                "nn::InstanceNorm",
                format!(
                    "Expected input [N, ..., C] with at least 3 dimensions, got shape {:?}.",
                    x.shape()
                ),
            ));
        }
        let axes: Vec<i32> = (1..nd - 1).collect();
        affine(
            normalize(x, &axes, self.eps)?,
            self.weight.as_ref(),
            self.bias.as_ref(),
        )
    }
}

/// Batch normalisation over all axes but the last, MLX's `nn.BatchNorm`: in training mode it
/// normalises with the batch statistics and updates `running_mean`/`running_var` (unbiased
/// variance, `momentum` 0.1); in eval mode it uses the running statistics. They are frozen
/// parameters, so they are saved with the weights but never trained.
///
/// ```
/// use wmx::nn::{BatchNorm, Module, UnaryModule};
/// let mut bn = BatchNorm::new(2, 1e-5, 0.1, true, true).unwrap();
/// let x = wmx::Array::from_slice(&[0.0f32, 10.0, 2.0, 20.0], &[2, 2]);
/// bn.forward(&x).unwrap();                                  // training: updates the stats
/// let rm = bn.parameters()["running_mean"].to_vec::<f32>().unwrap();
/// assert!((rm[0] - 0.1).abs() < 1e-6 && (rm[1] - 1.5).abs() < 1e-6);
/// assert!(!bn.trainable_parameters().contains_key("running_mean"));
/// bn.eval();
/// assert_eq!(bn.forward(&x).unwrap().shape(), &[2, 2]);
/// ```
#[derive(Debug)]
pub struct BatchNorm {
    /// `[num_features]`, when affine.
    pub weight: Option<Param>,
    /// `[num_features]`, when affine.
    pub bias: Option<Param>,
    /// Added to the variance.
    pub eps: f32,
    /// Weight of the new batch in the running statistics.
    pub momentum: f32,
    stats: Option<Mutex<(Array, Array)>>,
    training: bool,
}

impl BatchNorm {
    /// Batch norm over `num_features` channels.
    pub fn new(
        num_features: i32,
        eps: f32,
        momentum: f32,
        affine: bool,
        track_running_stats: bool,
    ) -> Result<BatchNorm> {
        check_eps("nn::BatchNorm", eps)?;
        let f = Dtype::Float32;
        Ok(BatchNorm {
            weight: if affine {
                Some(ones(num_features)?)
            } else {
                None
            },
            bias: if affine {
                Some(zeros(num_features)?)
            } else {
                None
            },
            eps,
            momentum,
            stats: if track_running_stats {
                Some(Mutex::new((
                    crate::zeros(&[num_features], f, None)?,
                    crate::ones(&[num_features], f, None)?,
                )))
            } else {
                None
            },
            training: true,
        })
    }
}

impl Visit for BatchNorm {
    fn visit(&self, v: &mut Visitor<'_>) {
        v.field("weight", &self.weight);
        v.field("bias", &self.bias);
        if let Some(m) = &self.stats {
            let (mean, var) = m.lock().unwrap_or_else(|e| e.into_inner()).clone();
            v.field("running_mean", &Param::frozen(mean));
            v.field("running_var", &Param::frozen(var));
        }
    }
    fn visit_mut(&mut self, v: &mut VisitorMut<'_>) {
        v.field("weight", &mut self.weight);
        v.field("bias", &mut self.bias);
        if let Some(m) = &mut self.stats {
            let st = m.get_mut().unwrap_or_else(|e| e.into_inner());
            for (name, a) in [("running_mean", &mut st.0), ("running_var", &mut st.1)] {
                let mut p = Param::frozen(a.clone());
                v.field(name, &mut p);
                *a = p.value().clone(); // statistics stay frozen whatever the visitor did
            }
        }
    }
    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
}

impl UnaryModule for BatchNorm {
    fn forward(&self, x: &Array) -> Result<Array> {
        let nd = x.ndim();
        if !(2..=4).contains(&nd) {
            return Err(shape_err(
                "nn::BatchNorm",
                format!(
                    "Expected input with 2, 3 or 4 dimensions, got shape {:?}.",
                    x.shape()
                ),
            ));
        }
        let axes: Vec<i32> = (0..nd as i32 - 1).collect();
        if self.training && x.shape()[..nd - 1].iter().product::<i32>() == 1 {
            return Err(value_err(
                "nn::BatchNorm",
                "Training requires more than one value per channel.",
            ));
        }
        let (mean, var) = match (&self.stats, self.training) {
            (Some(m), true) => {
                let mean = crate::mean(x, &axes, false, None)?;
                let var = crate::var(x, &axes, false, 0, None)?;
                let unbiased = crate::stop_gradient(&crate::var(x, &axes, false, 1, None)?, None)?;
                let mu = self.momentum;
                let mut st = m.lock().unwrap_or_else(|e| e.into_inner());
                let blend = |old: &Array, new: &Array| -> Result<Array> {
                    crate::add(
                        &crate::multiply(old, 1.0 - mu, None)?,
                        &crate::multiply(new, mu, None)?,
                        None,
                    )
                };
                let sm = crate::stop_gradient(&mean, None)?;
                *st = (blend(&st.0, &sm)?, blend(&st.1, &unbiased)?);
                (mean, var)
            }
            (Some(m), false) => m.lock().unwrap_or_else(|e| e.into_inner()).clone(),
            (None, _) => (
                crate::mean(x, &axes, false, None)?,
                crate::var(x, &axes, false, 0, None)?,
            ),
        };
        let r = crate::rsqrt(&crate::add(&var, self.eps, None)?, None)?;
        let y = crate::multiply(&crate::subtract(x, &mean, None)?, &r, None)?;
        affine(y, self.weight.as_ref(), self.bias.as_ref())
    }
}
