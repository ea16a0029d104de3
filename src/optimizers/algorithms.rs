//! The optimizers: MLX's update rules, hyper-parameters and defaults, each a struct with a
//! `new(learning_rate)` and by-value setters (`Sgd::new(0.1).momentum(0.9)`).

use super::{Base, LearningRate, Optimizer, State, StepInfo, state_entry};
use crate::array::Array;
use crate::dtype::Dtype;
use crate::error::{Result, value_err};

type R = Result<Array>;

fn mul(a: &Array, s: f32) -> R {
    crate::multiply(a, s, None)
}
fn add(a: &Array, b: &Array) -> R {
    crate::add(a, b, None)
}
fn sub(a: &Array, b: &Array) -> R {
    crate::subtract(a, b, None)
}
fn mul2(a: &Array, b: &Array) -> R {
    crate::multiply(a, b, None)
}
fn div(a: &Array, b: &Array) -> R {
    crate::divide(a, b, None)
}
/// `β·a + (1 − β)·b`.
fn ema(a: &Array, b: &Array, beta: f32) -> R {
    add(&mul(a, beta)?, &mul(b, 1.0 - beta)?)
}
/// The learning rate in the gradient's dtype.
fn lr_for(info: &StepInfo<'_>, g: &Array) -> R {
    crate::astype(info.lr, g.dtype(), None)
}
fn zeros_state(p: &Array, names: &[&str]) -> Result<State> {
    names
        .iter()
        .map(|n| Ok((n.to_string(), crate::zeros_like(p, None)?)))
        .collect()
}

macro_rules! base_impl {
    () => {
        fn base(&self) -> &Base {
            &self.base
        }
        fn base_mut(&mut self) -> &mut Base {
            &mut self.base
        }
    };
}

macro_rules! setters {
    ($t:ident { $($(#[$doc:meta])* $f:ident: $ty:ty),* $(,)? }) => {
        impl $t {
            $(
                $(#[$doc])*
                pub fn $f(mut self, v: $ty) -> Self {
                    self.$f = v;
                    self
                }
            )*
        }
    };
}

/// Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay
/// (MLX's `SGD`).
///
/// ```
/// use wmx::{Array, nn::Params, optimizers::{Optimizer, Sgd}};
/// let mut o = Sgd::new(0.5).momentum(0.9);
/// let p = Params::from([("w".to_string(), Array::from_slice(&[1.0f32], &[1]))]);
/// let g = Params::from([("w".to_string(), Array::from_slice(&[2.0f32], &[1]))]);
/// assert_eq!(o.apply_gradients(&g, &p).unwrap()["w"].to_vec::<f32>().unwrap(), vec![0.0]);
/// assert!(Sgd::new(0.1).nesterov(true).apply_gradients(&g, &p).is_err()); // needs momentum
/// ```
#[derive(Clone)]
pub struct Sgd {
    base: Base,
    momentum: f32,
    weight_decay: f32,
    dampening: f32,
    nesterov: bool,
}
setters!(Sgd {
    /// Momentum (default 0).
    momentum: f32,
    /// L2 penalty added to the gradient (default 0).
    weight_decay: f32,
    /// Dampening of the momentum (default 0).
    dampening: f32,
    /// Nesterov momentum (default off; needs momentum and no dampening).
    nesterov: bool,
});

impl Sgd {
    /// SGD with learning rate `lr` (a value or a schedule).
    pub fn new(lr: impl Into<LearningRate>) -> Sgd {
        Sgd {
            base: Base::new(lr),
            momentum: 0.0,
            weight_decay: 0.0,
            dampening: 0.0,
            nesterov: false,
        }
    }
}

impl Optimizer for Sgd {
    fn name(&self) -> &'static str {
        "optimizers::Sgd"
    }
    fn validate(&self) -> Result<()> {
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(value_err(
                self.name(),
                "Nesterov momentum requires a momentum and zero dampening.",
            ));
        }
        Ok(())
    }
    fn init_single(&self, p: &Array) -> Result<State> {
        zeros_state(p, &["v"])
    }
    fn apply_single(&self, g: &Array, p: &Array, st: &mut State, info: &StepInfo<'_>) -> R {
        let lr = lr_for(info, g)?;
        let g = if self.weight_decay != 0.0 {
            add(g, &mul(p, self.weight_decay)?)?
        } else {
            g.clone()
        };
        if self.momentum <= 0.0 {
            return sub(p, &mul2(&lr, &g)?);
        }
        let v = mul(&state_entry(self.name(), st, "v")?, self.momentum)?;
        let v = if self.dampening > 0.0 {
            add(&v, &mul(&g, 1.0 - self.dampening)?)?
        } else {
            add(&v, &g)?
        };
        let update = if self.nesterov {
            add(&g, &mul(&v, self.momentum)?)?
        } else {
            v.clone()
        };
        st.insert("v".into(), v);
        sub(p, &mul2(&lr, &update)?)
    }
    base_impl!();
}

/// RMSprop (MLX's `RMSprop`): `v = α·v + (1 − α)·g²`, `p −= lr·g / (√v + ε)`.
///
/// ```
/// use wmx::{Array, nn::Params, optimizers::{Optimizer, RmsProp}};
/// let p = Params::from([("w".to_string(), Array::from_slice(&[1.0f32], &[1]))]);
/// let g = Params::from([("w".to_string(), Array::from_slice(&[1.0f32], &[1]))]);
/// let new = RmsProp::new(0.01).apply_gradients(&g, &p).unwrap();
/// assert!((new["w"].to_vec::<f32>().unwrap()[0] - (1.0 - 0.1)).abs() < 1e-5);
/// ```
#[derive(Clone)]
pub struct RmsProp {
    base: Base,
    alpha: f32,
    eps: f32,
}
setters!(RmsProp {
    /// Smoothing constant (default 0.99).
    alpha: f32,
    /// Added to the denominator (default 1e-8).
    eps: f32,
});

impl RmsProp {
    /// RMSprop with learning rate `lr`.
    pub fn new(lr: impl Into<LearningRate>) -> RmsProp {
        RmsProp {
            base: Base::new(lr),
            alpha: 0.99,
            eps: 1e-8,
        }
    }
}

impl Optimizer for RmsProp {
    fn name(&self) -> &'static str {
        "optimizers::RmsProp"
    }
    fn validate(&self) -> Result<()> {
        positive(
            self.name(),
            &[("alpha", self.alpha, true), ("eps", self.eps, false)],
        )
    }
    fn init_single(&self, p: &Array) -> Result<State> {
        zeros_state(p, &["v"])
    }
    fn apply_single(&self, g: &Array, p: &Array, st: &mut State, info: &StepInfo<'_>) -> R {
        let lr = lr_for(info, g)?;
        let v = ema(
            &state_entry(self.name(), st, "v")?,
            &crate::square(g, None)?,
            self.alpha,
        )?;
        st.insert("v".into(), v.clone());
        let den = crate::add(&crate::sqrt(&v, None)?, self.eps, None)?;
        sub(p, &div(&mul2(&lr, g)?, &den)?)
    }
    base_impl!();
}

/// `name` must be `>= 0` (when `zero_ok`) or `> 0`.
fn positive(op: &'static str, checks: &[(&str, f32, bool)]) -> Result<()> {
    for &(n, v, zero_ok) in checks {
        if v.is_nan() || v < 0.0 || (!zero_ok && v == 0.0) {
            let want = if zero_ok { ">= 0" } else { "> 0" };
            return Err(value_err(
                op,
                format!("{n} should be {want}, {v} was provided instead."),
            ));
        }
    }
    Ok(())
}

/// Betas must lie in `[0, 1)`.
fn betas_ok(op: &'static str, betas: (f32, f32)) -> Result<()> {
    for (i, b) in [betas.0, betas.1].into_iter().enumerate() {
        if !(0.0..1.0).contains(&b) {
            return Err(value_err(
                op,
                format!(
                    "beta{} should be in [0, 1), {b} was provided instead.",
                    i + 1
                ),
            ));
        }
    }
    Ok(())
}

/// Adagrad (MLX's `Adagrad`): `v += g²`, `p −= lr·g / (√v + ε)`.
///
/// ```
/// use wmx::{Array, nn::Params, optimizers::{Optimizer, Adagrad}};
/// let p = Params::from([("w".to_string(), Array::from_slice(&[1.0f32], &[1]))]);
/// let g = Params::from([("w".to_string(), Array::from_slice(&[2.0f32], &[1]))]);
/// let new = Adagrad::new(0.1).apply_gradients(&g, &p).unwrap();
/// assert!((new["w"].to_vec::<f32>().unwrap()[0] - 0.9).abs() < 1e-6);
/// ```
#[derive(Clone)]
pub struct Adagrad {
    base: Base,
    eps: f32,
}
setters!(Adagrad {
    /// Added to the denominator (default 1e-8).
    eps: f32,
});

impl Adagrad {
    /// Adagrad with learning rate `lr`.
    pub fn new(lr: impl Into<LearningRate>) -> Adagrad {
        Adagrad {
            base: Base::new(lr),
            eps: 1e-8,
        }
    }
}

impl Optimizer for Adagrad {
    fn name(&self) -> &'static str {
        "optimizers::Adagrad"
    }
    fn validate(&self) -> Result<()> {
        positive(self.name(), &[("eps", self.eps, false)])
    }
    fn init_single(&self, p: &Array) -> Result<State> {
        zeros_state(p, &["v"])
    }
    fn apply_single(&self, g: &Array, p: &Array, st: &mut State, info: &StepInfo<'_>) -> R {
        let lr = lr_for(info, g)?;
        let v = add(
            &state_entry(self.name(), st, "v")?,
            &crate::square(g, None)?,
        )?;
        st.insert("v".into(), v.clone());
        let den = crate::add(&crate::sqrt(&v, None)?, self.eps, None)?;
        sub(p, &div(&mul2(&lr, g)?, &den)?)
    }
    base_impl!();
}

/// AdaDelta (MLX's `AdaDelta`): running averages `v` of g² and `u` of the updates.
///
/// ```
/// use wmx::{Array, nn::Params, optimizers::{Optimizer, AdaDelta}};
/// let p = Params::from([("w".to_string(), Array::from_slice(&[1.0f32], &[1]))]);
/// let g = Params::from([("w".to_string(), Array::from_slice(&[1.0f32], &[1]))]);
/// let new = AdaDelta::new(1.0).apply_gradients(&g, &p).unwrap();
/// assert!(new["w"].to_vec::<f32>().unwrap()[0] < 1.0);
/// ```
#[derive(Clone)]
pub struct AdaDelta {
    base: Base,
    rho: f32,
    eps: f32,
}
setters!(AdaDelta {
    /// Decay of the running averages (default 0.9).
    rho: f32,
    /// Added inside the square roots (default 1e-6).
    eps: f32,
});

impl AdaDelta {
    /// AdaDelta with learning rate `lr`.
    pub fn new(lr: impl Into<LearningRate>) -> AdaDelta {
        AdaDelta {
            base: Base::new(lr),
            rho: 0.9,
            eps: 1e-6,
        }
    }
}

impl Optimizer for AdaDelta {
    fn name(&self) -> &'static str {
        "optimizers::AdaDelta"
    }
    fn validate(&self) -> Result<()> {
        positive(
            self.name(),
            &[("rho", self.rho, true), ("eps", self.eps, false)],
        )
    }
    fn init_single(&self, p: &Array) -> Result<State> {
        zeros_state(p, &["u", "v"])
    }
    fn apply_single(&self, g: &Array, p: &Array, st: &mut State, info: &StepInfo<'_>) -> R {
        let lr = lr_for(info, g)?;
        let (u, v) = (
            state_entry(self.name(), st, "u")?,
            state_entry(self.name(), st, "v")?,
        );
        let v = ema(&v, &crate::square(g, None)?, self.rho)?;
        let su = crate::sqrt(&crate::add(&u, self.eps, None)?, None)?;
        let sv = crate::sqrt(&crate::add(&v, self.eps, None)?, None)?;
        let d = mul2(&div(&su, &sv)?, g)?;
        let u = ema(&u, &crate::square(&d, None)?, self.rho)?;
        st.insert("v".into(), v);
        st.insert("u".into(), u);
        sub(p, &mul2(&lr, &d)?)
    }
    base_impl!();
}

/// Adam (MLX's `Adam`; bias correction off by default, as in MLX).
///
/// ```
/// use wmx::{Array, nn::Params, optimizers::{Optimizer, Adam}};
/// let p = Params::from([("w".to_string(), Array::from_slice(&[1.0f32], &[1]))]);
/// let g = Params::from([("w".to_string(), Array::from_slice(&[0.5f32], &[1]))]);
/// let new = Adam::new(0.1).bias_correction(true).apply_gradients(&g, &p).unwrap();
/// assert!((new["w"].to_vec::<f32>().unwrap()[0] - 0.9).abs() < 1e-5); // first step: lr·sign(g)
/// ```
#[derive(Clone)]
pub struct Adam {
    base: Base,
    betas: (f32, f32),
    eps: f32,
    bias_correction: bool,
}
setters!(Adam {
    /// (β₁, β₂), default (0.9, 0.999).
    betas: (f32, f32),
    /// Added to the denominator (default 1e-8).
    eps: f32,
    /// Divide the moments by `1 − βᵗ` (default off).
    bias_correction: bool,
});

impl Adam {
    /// Adam with learning rate `lr`.
    pub fn new(lr: impl Into<LearningRate>) -> Adam {
        Adam {
            base: Base::new(lr),
            betas: (0.9, 0.999),
            eps: 1e-8,
            bias_correction: false,
        }
    }

    /// The Adam step shared with AdamW, on an already-decayed parameter.
    fn adam_step(
        &self,
        op: &'static str,
        g: &Array,
        p: &Array,
        st: &mut State,
        info: &StepInfo<'_>,
    ) -> R {
        let lr = lr_for(info, g)?;
        let (b1, b2) = self.betas;
        let m = ema(&state_entry(op, st, "m")?, g, b1)?;
        let v = ema(&state_entry(op, st, "v")?, &crate::square(g, None)?, b2)?;
        st.insert("m".into(), m.clone());
        st.insert("v".into(), v.clone());
        if self.bias_correction {
            let t = crate::astype(info.step, Dtype::Float32, None)?;
            let c1 = crate::divide(
                &lr,
                &crate::subtract(1.0, &crate::power(b1, &t, None)?, None)?,
                None,
            )?;
            let c1 = crate::astype(&c1, g.dtype(), None)?;
            let c2 = crate::rsqrt(
                &crate::subtract(1.0, &crate::power(b2, &t, None)?, None)?,
                None,
            )?;
            let c2 = crate::astype(&c2, g.dtype(), None)?;
            let den = crate::add(&mul2(&crate::sqrt(&v, None)?, &c2)?, self.eps, None)?;
            sub(p, &div(&mul2(&c1, &m)?, &den)?)
        } else {
            let den = crate::add(&crate::sqrt(&v, None)?, self.eps, None)?;
            sub(p, &div(&mul2(&lr, &m)?, &den)?)
        }
    }
}

impl Optimizer for Adam {
    fn name(&self) -> &'static str {
        "optimizers::Adam"
    }
    fn validate(&self) -> Result<()> {
        betas_ok(self.name(), self.betas)?;
        positive(self.name(), &[("eps", self.eps, true)])
    }
    fn init_single(&self, p: &Array) -> Result<State> {
        zeros_state(p, &["m", "v"])
    }
    fn apply_single(&self, g: &Array, p: &Array, st: &mut State, info: &StepInfo<'_>) -> R {
        self.adam_step(self.name(), g, p, st, info)
    }
    base_impl!();
}

/// AdamW (MLX's `AdamW`): Adam on `p·(1 − lr·weight_decay)`, weight decay 0.01 by default.
///
/// ```
/// use wmx::{Array, nn::Params, optimizers::{Optimizer, AdamW}};
/// let p = Params::from([("w".to_string(), Array::from_slice(&[1.0f32], &[1]))]);
/// let g = Params::from([("w".to_string(), Array::from_slice(&[0.0f32], &[1]))]);
/// let new = AdamW::new(0.1).weight_decay(0.5).apply_gradients(&g, &p).unwrap();
/// assert!((new["w"].to_vec::<f32>().unwrap()[0] - 0.95).abs() < 1e-6);
/// ```
#[derive(Clone)]
pub struct AdamW {
    adam: Adam,
    weight_decay: f32,
}

impl AdamW {
    /// AdamW with learning rate `lr`.
    pub fn new(lr: impl Into<LearningRate>) -> AdamW {
        AdamW {
            adam: Adam::new(lr),
            weight_decay: 0.01,
        }
    }
    /// Decoupled weight decay (default 0.01).
    pub fn weight_decay(mut self, v: f32) -> Self {
        self.weight_decay = v;
        self
    }
    /// (β₁, β₂), default (0.9, 0.999).
    pub fn betas(mut self, v: (f32, f32)) -> Self {
        self.adam.betas = v;
        self
    }
    /// Added to the denominator (default 1e-8).
    pub fn eps(mut self, v: f32) -> Self {
        self.adam.eps = v;
        self
    }
    /// Bias correction (default off).
    pub fn bias_correction(mut self, v: bool) -> Self {
        self.adam.bias_correction = v;
        self
    }
}

impl Optimizer for AdamW {
    fn name(&self) -> &'static str {
        "optimizers::AdamW"
    }
    fn validate(&self) -> Result<()> {
        self.adam.validate()
    }
    fn init_single(&self, p: &Array) -> Result<State> {
        zeros_state(p, &["m", "v"])
    }
    fn apply_single(&self, g: &Array, p: &Array, st: &mut State, info: &StepInfo<'_>) -> R {
        let lr = lr_for(info, g)?;
        let decay = crate::subtract(1.0, &mul(&lr, self.weight_decay)?, None)?;
        self.adam
            .adam_step(self.name(), g, &mul2(p, &decay)?, st, info)
    }
    fn base(&self) -> &Base {
        &self.adam.base
    }
    fn base_mut(&mut self) -> &mut Base {
        &mut self.adam.base
    }
}

/// Adamax (MLX's `Adamax`): the infinity-norm variant, `v = max(β₂·v, |g|)`.
///
/// ```
/// use wmx::{Array, nn::Params, optimizers::{Optimizer, Adamax}};
/// let p = Params::from([("w".to_string(), Array::from_slice(&[1.0f32], &[1]))]);
/// let g = Params::from([("w".to_string(), Array::from_slice(&[1.0f32], &[1]))]);
/// let new = Adamax::new(0.1).apply_gradients(&g, &p).unwrap();
/// assert!((new["w"].to_vec::<f32>().unwrap()[0] - 0.99).abs() < 1e-6);
/// ```
#[derive(Clone)]
pub struct Adamax {
    base: Base,
    betas: (f32, f32),
    eps: f32,
}
setters!(Adamax {
    /// (β₁, β₂), default (0.9, 0.999).
    betas: (f32, f32),
    /// Added to the denominator (default 1e-8).
    eps: f32,
});

impl Adamax {
    /// Adamax with learning rate `lr`.
    pub fn new(lr: impl Into<LearningRate>) -> Adamax {
        Adamax {
            base: Base::new(lr),
            betas: (0.9, 0.999),
            eps: 1e-8,
        }
    }
}

impl Optimizer for Adamax {
    fn name(&self) -> &'static str {
        "optimizers::Adamax"
    }
    fn validate(&self) -> Result<()> {
        betas_ok(self.name(), self.betas)?;
        positive(self.name(), &[("eps", self.eps, true)])
    }
    fn init_single(&self, p: &Array) -> Result<State> {
        zeros_state(p, &["m", "v"])
    }
    fn apply_single(&self, g: &Array, p: &Array, st: &mut State, info: &StepInfo<'_>) -> R {
        let lr = lr_for(info, g)?;
        let (b1, b2) = self.betas;
        let m = ema(&state_entry(self.name(), st, "m")?, g, b1)?;
        let v = crate::maximum(
            &mul(&state_entry(self.name(), st, "v")?, b2)?,
            &crate::abs(g, None)?,
            None,
        )?;
        st.insert("m".into(), m.clone());
        st.insert("v".into(), v.clone());
        sub(p, &div(&mul2(&lr, &m)?, &crate::add(&v, self.eps, None)?)?)
    }
    base_impl!();
}

/// Lion (MLX's `Lion`): the sign of an interpolated momentum; betas (0.9, 0.99).
///
/// ```
/// use wmx::{Array, nn::Params, optimizers::{Optimizer, Lion}};
/// let p = Params::from([("w".to_string(), Array::from_slice(&[1.0f32], &[1]))]);
/// let g = Params::from([("w".to_string(), Array::from_slice(&[-3.0f32], &[1]))]);
/// let new = Lion::new(0.1).apply_gradients(&g, &p).unwrap();
/// assert!((new["w"].to_vec::<f32>().unwrap()[0] - 1.1).abs() < 1e-6);
/// ```
#[derive(Clone)]
pub struct Lion {
    base: Base,
    betas: (f32, f32),
    weight_decay: f32,
}
setters!(Lion {
    /// (β₁, β₂), default (0.9, 0.99).
    betas: (f32, f32),
    /// Decoupled weight decay (default 0).
    weight_decay: f32,
});

impl Lion {
    /// Lion with learning rate `lr`.
    pub fn new(lr: impl Into<LearningRate>) -> Lion {
        Lion {
            base: Base::new(lr),
            betas: (0.9, 0.99),
            weight_decay: 0.0,
        }
    }
}

impl Optimizer for Lion {
    fn name(&self) -> &'static str {
        "optimizers::Lion"
    }
    fn validate(&self) -> Result<()> {
        betas_ok(self.name(), self.betas)
    }
    fn init_single(&self, p: &Array) -> Result<State> {
        zeros_state(p, &["m"])
    }
    fn apply_single(&self, g: &Array, p: &Array, st: &mut State, info: &StepInfo<'_>) -> R {
        let lr = lr_for(info, g)?;
        let (b1, b2) = self.betas;
        let m = state_entry(self.name(), st, "m")?;
        let c = ema(&m, g, b1)?;
        st.insert("m".into(), ema(&m, g, b2)?);
        let p = if self.weight_decay > 0.0 {
            mul2(
                &crate::subtract(1.0, &mul(&lr, self.weight_decay)?, None)?,
                p,
            )?
        } else {
            p.clone()
        };
        sub(&p, &mul2(&lr, &crate::sign(&c, None)?)?)
    }
    base_impl!();
}

pub use super::adafactor::Adafactor;
