//! `wmx::optimizers`: MLX's `mlx.optimizers` — SGD, RMSprop, Adagrad, AdaDelta, Adam, AdamW,
//! Adamax, Lion, Adafactor, Muon — with learning-rate schedules, `clip_grad_norm`, and state that
//! can be saved and restored (`state()` is a flat [`Params`] of MLX's names: `step`,
//! `learning_rate`, `layers.0.weight.m`...).
//!
//! A training step, as in MLX:
//!
//! ```
//! use wmx::{self as mx, nn::{self, Module, UnaryModule}, optimizers::{Optimizer, Sgd}, Array};
//! let mut model = nn::Linear::new(1, 1, true, Some(&mx::random::key(0)))?;
//! let mut opt = Sgd::new(0.1);
//! let x = Array::from_slice(&[1.0f32, 2.0, 3.0], &[3, 1]);
//! let y = Array::from_slice(&[2.0f32, 4.0, 6.0], &[3, 1]);
//! let loss = |m: &nn::Linear, (x, y): &(Array, Array)| {
//!     nn::losses::mse_loss(&m.forward(x)?, y, nn::losses::Reduction::Mean)
//! };
//! let step = nn::value_and_grad(loss);
//! let mut last = f32::MAX;
//! for _ in 0..50 {
//!     let (l, grads) = step(&mut model, &(x.clone(), y.clone()))?;
//!     opt.update(&mut model, &grads)?;
//!     nn::eval_params(&model)?;
//!     last = l.item::<f32>()?;
//! }
//! assert!(last < 0.05, "{last}");
//! # Ok::<(), mx::Error>(())
//! ```

mod adafactor;
mod algorithms;
mod muon;
mod schedules;

pub use algorithms::{AdaDelta, Adafactor, Adagrad, Adam, AdamW, Adamax, Lion, RmsProp, Sgd};
pub use muon::Muon;
pub use schedules::{
    Schedule, cosine_decay, exponential_decay, join_schedules, linear_schedule, step_decay,
};

use crate::array::Array;
use crate::dtype::Dtype;
use crate::error::{Result, value_err};
use crate::nn::{Module, Params};
use std::collections::BTreeMap;

/// A learning rate: fixed, or a schedule of the step.
#[derive(Clone)]
pub enum LearningRate {
    /// The same value at every step.
    Fixed(f32),
    /// A function of the step (evaluated before the step is counted, as in MLX).
    Schedule(Schedule),
}

impl From<f32> for LearningRate {
    fn from(v: f32) -> Self {
        LearningRate::Fixed(v)
    }
}

impl From<Schedule> for LearningRate {
    fn from(s: Schedule) -> Self {
        LearningRate::Schedule(s)
    }
}

/// What every optimizer keeps: the step count, the learning rate (and its schedule), and the
/// per-parameter state by parameter name.
#[derive(Clone)]
pub struct Base {
    step: Array,
    lr: Array,
    schedule: Option<Schedule>,
    state: BTreeMap<String, State>,
}

impl Base {
    /// A fresh state at step 0.
    pub fn new(lr: impl Into<LearningRate>) -> Base {
        let (lr, schedule) = match lr.into() {
            LearningRate::Fixed(v) => (Array::scalar(v), None),
            LearningRate::Schedule(s) => (Array::scalar(0.0f32), Some(s)),
        };
        Base {
            step: Array::scalar(0u32),
            lr,
            schedule,
            state: BTreeMap::new(),
        }
    }
}

/// One parameter's optimizer state by name (`m`, `v`...).
pub type State = BTreeMap<String, Array>;

/// The entry `name` of a parameter's state, or an error naming it (a restored state that lacks
/// what this optimizer keeps).
pub fn state_entry(op: &'static str, st: &State, name: &str) -> Result<Array> {
    st.get(name).cloned().ok_or_else(|| {
        value_err(
            op,
            format!(
                "The parameter state has no '{name}' (it has {:?}).",
                st.keys().collect::<Vec<_>>()
            ),
        )
    })
}

/// The scalars an update reads: the learning rate (already scheduled) and the step (already
/// counted, so 1 on the first update).
pub struct StepInfo<'a> {
    /// Learning rate, f32 scalar.
    pub lr: &'a Array,
    /// Step number, uint32 scalar.
    pub step: &'a Array,
}

/// An optimizer: MLX's `init_single` / `apply_single` per parameter, and the shared driver
/// (`apply_gradients`, `update`, state save/restore) as provided methods.
pub trait Optimizer: Send {
    /// Its name in errors.
    fn name(&self) -> &'static str;
    /// Checks the hyper-parameters (MLX raises in the constructor; builders here check on use).
    fn validate(&self) -> Result<()> {
        Ok(())
    }
    /// The named state for a new parameter (`m` and `v`, zeros, for Adam).
    fn init_single(&self, parameter: &Array) -> Result<State>;
    /// The updated parameter; updates `state` in place.
    fn apply_single(
        &self,
        gradient: &Array,
        parameter: &Array,
        state: &mut State,
        info: &StepInfo<'_>,
    ) -> Result<Array>;
    /// The shared state.
    fn base(&self) -> &Base;
    /// The shared state, mutably.
    fn base_mut(&mut self) -> &mut Base;

    /// The new values of the parameters named in `gradients` (every gradient needs a
    /// parameter of the same name), as MLX's `apply_gradients`: evaluates the schedule, counts
    /// the step, then updates each parameter.
    fn apply_gradients(&mut self, gradients: &Params, parameters: &Params) -> Result<Params> {
        self.validate()?;
        let name = self.name();
        for (k, g) in gradients {
            let p = parameters.get(k).ok_or_else(|| {
                value_err(
                    name,
                    format!("The gradient '{k}' has no parameter of that name."),
                )
            })?;
            if p.shape() != g.shape() {
                return Err(value_err(
                    name,
                    format!(
                        "The gradient '{k}' has shape {:?} but the parameter has {:?}.",
                        g.shape(),
                        p.shape()
                    ),
                ));
            }
        }
        for k in gradients.keys() {
            if !self.base().state.contains_key(k) {
                let st = self.init_single(&parameters[k])?;
                self.base_mut().state.insert(k.clone(), st);
            }
        }
        let b = self.base_mut();
        if let Some(s) = &b.schedule {
            b.lr = crate::astype(&s(&b.step)?, Dtype::Float32, None)?;
        }
        b.step = crate::add(&b.step, 1u32, None)?;
        let (lr, step) = (b.lr.clone(), b.step.clone());
        let info = StepInfo {
            lr: &lr,
            step: &step,
        };
        let mut out = Params::new();
        for (k, g) in gradients {
            let mut st = self.base_mut().state.remove(k).unwrap_or_default();
            let r = self.apply_single(g, &parameters[k], &mut st, &info);
            self.base_mut().state.insert(k.clone(), st);
            out.insert(k.clone(), r?);
        }
        Ok(out)
    }

    /// Applies `gradients` to `model`'s parameters (MLX's `optimizer.update(model, grads)`).
    fn update<M: Module + ?Sized>(&mut self, model: &mut M, gradients: &Params) -> Result<()>
    where
        Self: Sized,
    {
        let new = self.apply_gradients(gradients, &model.parameters())?;
        model.update(&new)
    }

    /// The step count (uint32 scalar; 0 before the first update).
    fn step(&self) -> Array {
        self.base().step.clone()
    }

    /// The current learning rate (f32 scalar).
    fn learning_rate(&self) -> Array {
        self.base().lr.clone()
    }

    /// Sets a fixed learning rate (removing any schedule).
    fn set_learning_rate(&mut self, lr: f32) {
        let b = self.base_mut();
        b.lr = Array::scalar(lr);
        b.schedule = None;
    }

    /// The whole state as flat names: `step`, `learning_rate` and `<param>.<state>` — what
    /// `save_safetensors` writes and [`Optimizer::set_state`] reads back.
    fn state(&self) -> Params {
        let b = self.base();
        let mut out = Params::new();
        out.insert("step".into(), b.step.clone());
        out.insert("learning_rate".into(), b.lr.clone());
        for (k, st) in &b.state {
            for (n, a) in st {
                out.insert(format!("{k}.{n}"), a.clone());
            }
        }
        out
    }

    /// Restores a state written by [`Optimizer::state`]. Parameters absent from `state` are
    /// initialised afresh on their next update; an entry this optimizer does not keep is an
    /// error when the parameter is next updated.
    fn set_state(&mut self, state: &Params) -> Result<()> {
        let name = self.name();
        let step = state
            .get("step")
            .ok_or_else(|| value_err(name, "The state has no 'step'."))?;
        let step = crate::astype(step, Dtype::Uint32, None)?;
        let mut per: BTreeMap<String, State> = BTreeMap::new();
        for (k, a) in state {
            if k == "step" || k == "learning_rate" {
                continue;
            }
            let (param, entry) = k.rsplit_once('.').ok_or_else(|| {
                value_err(
                    name,
                    format!("The state entry '{k}' is not '<parameter>.<state>'."),
                )
            })?;
            per.entry(param.to_string())
                .or_default()
                .insert(entry.to_string(), a.clone());
        }
        let b = self.base_mut();
        b.step = step;
        if let Some(lr) = state.get("learning_rate") {
            b.lr = crate::astype(lr, Dtype::Float32, None)?;
        }
        b.state = per;
        Ok(())
    }
}

/// Rescales the gradients so their global L2 norm is at most `max_norm`; returns them and the
/// norm before clipping (MLX's `clip_grad_norm`; f16 squares are summed in f32).
///
/// ```
/// use wmx::{Array, nn::Params};
/// let g = Params::from([("a".to_string(), Array::from_slice(&[3.0f32, 4.0], &[2]))]);
/// let (c, n) = wmx::optimizers::clip_grad_norm(&g, 1.0).unwrap();
/// assert!((n.item::<f32>().unwrap() - 5.0).abs() < 1e-6);
/// let v = c["a"].to_vec::<f32>().unwrap();
/// assert!((v[0] - 0.6).abs() < 1e-5 && (v[1] - 0.8).abs() < 1e-5);
/// ```
pub fn clip_grad_norm(grads: &Params, max_norm: f32) -> Result<(Params, Array)> {
    if max_norm.is_nan() || max_norm < 0.0 {
        return Err(value_err(
            "clip_grad_norm",
            format!("max_norm should be >= 0, {max_norm} was provided instead."),
        ));
    }
    let mut total = Array::scalar(0.0f32);
    for g in grads.values() {
        let g = if g.dtype() == Dtype::Float16 {
            crate::astype(g, Dtype::Float32, None)?
        } else {
            g.clone()
        };
        total = crate::add(
            &total,
            &crate::sum(&crate::square(&g, None)?, &[], false, None)?,
            None,
        )?;
    }
    let norm = crate::sqrt(&total, None)?;
    let factor = crate::minimum(
        &crate::divide(max_norm, &crate::add(&norm, 1e-6, None)?, None)?,
        1.0,
        None,
    )?;
    let mut out = Params::new();
    for (k, g) in grads {
        let scaled = crate::multiply(g, &factor, None)?;
        let scaled = if g.dtype().is_float() {
            crate::astype(&scaled, g.dtype(), None)?
        } else {
            scaled
        };
        out.insert(k.clone(), scaled);
    }
    Ok((out, norm))
}
