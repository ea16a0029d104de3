//! Adafactor (MLX's `Adafactor`): factored second moments for matrices (row and column
//! averages instead of a full `v`), relative step sizes, update clipping.

use super::{Base, LearningRate, Optimizer, State, StepInfo, state_entry};
use crate::array::Array;
use crate::dtype::Dtype;
use crate::error::{Result, value_err};

type R = Result<Array>;

/// Adafactor with MLX's defaults: `eps (1e-30, 1e-3)`, `clip_threshold 1`, `decay_rate −0.8`,
/// no first moment, relative steps and parameter scaling on.
///
/// ```
/// use wmx::{Array, nn::Params, optimizers::{Optimizer, Adafactor}};
/// let p = Params::from([("w".to_string(), wmx::ones(&[2, 3], wmx::Dtype::Float32, None).unwrap())]);
/// let g = Params::from([("w".to_string(), wmx::ones(&[2, 3], wmx::Dtype::Float32, None).unwrap())]);
/// let mut o = Adafactor::new();
/// let new = o.apply_gradients(&g, &p).unwrap();
/// assert!(new["w"].to_vec::<f32>().unwrap().iter().all(|&v| (v - 0.99).abs() < 1e-5));
/// assert!(o.state().contains_key("w.exp_avg_sq_row"));
/// ```
#[derive(Clone)]
pub struct Adafactor {
    base: Base,
    has_lr: bool,
    eps: (f32, f32),
    clip_threshold: f32,
    decay_rate: f32,
    beta_1: Option<f32>,
    weight_decay: f32,
    scale_parameter: bool,
    relative_step: bool,
    warmup_init: bool,
}

macro_rules! setters {
    ($($(#[$doc:meta])* $f:ident: $ty:ty),* $(,)?) => {$(
        $(#[$doc])*
        pub fn $f(mut self, v: $ty) -> Self {
            self.$f = v;
            self
        }
    )*};
}

impl Adafactor {
    /// Adafactor with relative step sizes (no learning rate).
    pub fn new() -> Adafactor {
        Adafactor {
            base: Base::new(0.0),
            has_lr: false,
            eps: (1e-30, 1e-3),
            clip_threshold: 1.0,
            decay_rate: -0.8,
            beta_1: None,
            weight_decay: 0.0,
            scale_parameter: true,
            relative_step: true,
            warmup_init: false,
        }
    }

    /// Uses `lr` (a value or a schedule) instead of relative step sizes.
    pub fn learning_rate(mut self, lr: impl Into<LearningRate>) -> Self {
        self.base = Base::new(lr);
        self.has_lr = true;
        self.relative_step = false;
        self
    }

    setters! {
        /// (ε₁ added to g², ε₂ the least parameter scale), default (1e-30, 1e-3).
        eps: (f32, f32),
        /// Clips the update's RMS at this value (default 1).
        clip_threshold: f32,
        /// Exponent of the second-moment decay (default −0.8).
        decay_rate: f32,
        /// First-moment decay; `None` (default) keeps no first moment.
        beta_1: Option<f32>,
        /// Decoupled weight decay (default 0).
        weight_decay: f32,
        /// Scale the step by the parameter's RMS (default on).
        scale_parameter: bool,
        /// Relative step sizes `min(1e-2, 1/√t)` (default on).
        relative_step: bool,
        /// Warm-up relative steps `min(1e-6·t, 1/√t)` (default off).
        warmup_init: bool,
    }
}

impl Default for Adafactor {
    fn default() -> Self {
        Adafactor::new()
    }
}

fn rms(a: &Array) -> R {
    crate::sqrt(
        &crate::mean(&crate::square(a, None)?, &[], false, None)?,
        None,
    )
}

impl Optimizer for Adafactor {
    fn name(&self) -> &'static str {
        "optimizers::Adafactor"
    }
    fn validate(&self) -> Result<()> {
        if !self.relative_step && !self.has_lr {
            return Err(value_err(
                self.name(),
                "Without relative steps a learning rate is required.",
            ));
        }
        Ok(())
    }
    fn init_single(&self, p: &Array) -> Result<State> {
        let mut st = State::new();
        let s = p.shape();
        if s.len() >= 2 {
            st.insert(
                "exp_avg_sq_row".into(),
                crate::zeros(&s[..s.len() - 1], p.dtype(), None)?,
            );
            let mut col = s[..s.len() - 2].to_vec();
            col.push(s[s.len() - 1]);
            st.insert(
                "exp_avg_sq_col".into(),
                crate::zeros(&col, p.dtype(), None)?,
            );
        } else {
            st.insert("exp_avg_sq".into(), crate::zeros_like(p, None)?);
        }
        if self.beta_1.is_some() {
            st.insert("exp_avg".into(), crate::zeros_like(p, None)?);
        }
        Ok(st)
    }
    fn apply_single(&self, g: &Array, p: &Array, st: &mut State, info: &StepInfo<'_>) -> R {
        let op = self.name();
        let t = crate::astype(info.step, Dtype::Float32, None)?;
        let p_rms = rms(p)?;
        let rel = if self.relative_step {
            let min_step = if self.warmup_init {
                crate::multiply(&t, 1e-6, None)?
            } else {
                Array::scalar(1e-2f32)
            };
            crate::minimum(&min_step, &crate::rsqrt(&t, None)?, None)?
        } else {
            info.lr.clone()
        };
        let rel = crate::astype(&rel, p_rms.dtype(), None)?;
        let lr = if self.scale_parameter {
            crate::multiply(&crate::maximum(&p_rms, self.eps.1, None)?, &rel, None)?
        } else {
            rel
        };
        let beta_2 = crate::subtract(
            1.0,
            &crate::astype(
                &crate::power(&t, self.decay_rate, None)?,
                p_rms.dtype(),
                None,
            )?,
            None,
        )?;
        let one_minus = crate::subtract(1.0, &beta_2, None)?;
        let blend = |old: &Array, new: &Array| -> R {
            crate::add(
                &crate::multiply(&beta_2, old, None)?,
                &crate::multiply(&one_minus, new, None)?,
                None,
            )
        };
        let sq = crate::add(&crate::square(g, None)?, self.eps.0, None)?;
        let mut update = if g.ndim() >= 2 {
            let row = blend(
                &state_entry(op, st, "exp_avg_sq_row")?,
                &crate::mean(&sq, &[-1], false, None)?,
            )?;
            let col = blend(
                &state_entry(op, st, "exp_avg_sq_col")?,
                &crate::mean(&sq, &[-2], false, None)?,
            )?;
            st.insert("exp_avg_sq_row".into(), row.clone());
            st.insert("exp_avg_sq_col".into(), col.clone());
            let r = crate::rsqrt(
                &crate::divide(&row, &crate::mean(&row, &[-1], true, None)?, None)?,
                None,
            )?;
            let c = crate::rsqrt(&col, None)?;
            let approx = crate::multiply(
                &crate::expand_dims(&r, &[-1], None)?,
                &crate::expand_dims(&c, &[-2], None)?,
                None,
            )?;
            crate::multiply(&approx, g, None)?
        } else {
            let v = blend(&state_entry(op, st, "exp_avg_sq")?, &sq)?;
            st.insert("exp_avg_sq".into(), v.clone());
            crate::multiply(&crate::rsqrt(&v, None)?, g, None)?
        };
        let clip = crate::maximum(
            &crate::divide(&rms(&update)?, self.clip_threshold, None)?,
            1.0,
            None,
        )?;
        update = crate::multiply(&lr, &crate::divide(&update, &clip, None)?, None)?;
        if let Some(b1) = self.beta_1 {
            let m = state_entry(op, st, "exp_avg")?;
            let m = crate::add(
                &crate::multiply(&m, b1, None)?,
                &crate::multiply(&update, 1.0 - b1, None)?,
                None,
            )?;
            st.insert("exp_avg".into(), m.clone());
            update = m;
        }
        let p = if self.weight_decay != 0.0 {
            let d = crate::multiply(&lr, -self.weight_decay, None)?;
            crate::add(p, &crate::multiply(p, &d, None)?, None)?
        } else {
            p.clone()
        };
        crate::subtract(&p, &update, None)
    }
    fn base(&self) -> &Base {
        &self.base
    }
    fn base_mut(&mut self) -> &mut Base {
        &mut self.base
    }
}
