//! Muon (MLX's `Muon`): SGD momentum whose update for matrices is orthogonalised by five
//! Newton–Schulz iterations (vectors and scalars take the plain momentum step).

use super::{Base, LearningRate, Optimizer, State, StepInfo, state_entry};
use crate::array::Array;
use crate::error::Result;

type R = Result<Array>;

/// Muon with MLX's defaults: momentum 0.95, weight decay 0.01, Nesterov on, 5 iterations.
///
/// ```
/// use wmx::{Array, nn::Params, optimizers::{Muon, Optimizer}};
/// let p = Params::from([("w".to_string(), wmx::zeros(&[3, 2], wmx::Dtype::Float32, None).unwrap())]);
/// let g = Params::from([("w".to_string(), wmx::eye(3, Some(2), 0, wmx::Dtype::Float32, None).unwrap())]);
/// let new = Muon::new(0.1).apply_gradients(&g, &p).unwrap();
/// assert_eq!(new["w"].shape(), &[3, 2]);
/// ```
#[derive(Clone)]
pub struct Muon {
    base: Base,
    momentum: f32,
    weight_decay: f32,
    nesterov: bool,
    ns_steps: usize,
}

impl Muon {
    /// Muon with learning rate `lr`.
    pub fn new(lr: impl Into<LearningRate>) -> Muon {
        Muon {
            base: Base::new(lr),
            momentum: 0.95,
            weight_decay: 0.01,
            nesterov: true,
            ns_steps: 5,
        }
    }
    /// Momentum (default 0.95).
    pub fn momentum(mut self, v: f32) -> Self {
        self.momentum = v;
        self
    }
    /// Weight decay added to the gradient (default 0.01).
    pub fn weight_decay(mut self, v: f32) -> Self {
        self.weight_decay = v;
        self
    }
    /// Nesterov momentum (default on).
    pub fn nesterov(mut self, v: bool) -> Self {
        self.nesterov = v;
        self
    }
    /// Newton–Schulz iterations (default 5).
    pub fn ns_steps(mut self, v: usize) -> Self {
        self.ns_steps = v;
        self
    }

    /// The orthogonalised matrix nearest `x` (quintic Newton–Schulz, MLX's coefficients).
    fn orthogonalize(&self, x: &Array) -> R {
        let (a, b, c) = (3.4445f32, -4.7750f32, 2.0315f32);
        let tall = x.shape()[0] > x.shape()[1];
        let mut x = if tall {
            crate::swapaxes(x, 0, 1, None)?
        } else {
            x.clone()
        };
        let norm = crate::sqrt(
            &crate::sum(&crate::square(&x, None)?, &[], true, None)?,
            None,
        )?;
        x = crate::divide(&x, &crate::add(&norm, 1e-7, None)?, None)?;
        for _ in 0..self.ns_steps {
            let am = crate::matmul(&x, &crate::swapaxes(&x, 0, 1, None)?, None)?;
            let bm = crate::addmm(&crate::multiply(&am, b, None)?, &am, &am, c, 1.0, None)?;
            x = crate::addmm(&crate::multiply(&x, a, None)?, &bm, &x, 1.0, 1.0, None)?;
        }
        if tall {
            crate::swapaxes(&x, 0, 1, None)
        } else {
            Ok(x)
        }
    }
}

impl Optimizer for Muon {
    fn name(&self) -> &'static str {
        "optimizers::Muon"
    }
    fn init_single(&self, p: &Array) -> Result<State> {
        Ok(State::from([(
            "v".to_string(),
            crate::zeros_like(p, None)?,
        )]))
    }
    fn apply_single(&self, g: &Array, p: &Array, st: &mut State, info: &StepInfo<'_>) -> R {
        let g = if self.weight_decay != 0.0 {
            crate::add(g, &crate::multiply(p, self.weight_decay, None)?, None)?
        } else {
            g.clone()
        };
        let m = self.momentum;
        let v = crate::add(
            &crate::multiply(&state_entry(self.name(), st, "v")?, m, None)?,
            &crate::multiply(&g, 1.0 - m, None)?,
            None,
        )?;
        st.insert("v".into(), v.clone());
        let mut update = if self.nesterov {
            crate::add(
                &crate::multiply(&g, 1.0 - m, None)?,
                &crate::multiply(&v, m, None)?,
                None,
            )?
        } else {
            v
        };
        let mut lr = crate::astype(info.lr, g.dtype(), None)?;
        if update.ndim() >= 2 {
            let shape = update.shape().to_vec();
            let flat = crate::reshape(&update, &[shape[0], -1], None)?;
            update = crate::reshape(&self.orthogonalize(&flat)?, &shape, None)?;
            // MLX scales by the last two axes of the parameter's own shape.
            let (rows, cols) = (shape[shape.len() - 2] as f32, shape[shape.len() - 1] as f32);
            lr = crate::multiply(&lr, (rows / cols).max(1.0).sqrt(), None)?;
        }
        crate::subtract(p, &crate::multiply(&lr, &update, None)?, None)
    }
    fn base(&self) -> &Base {
        &self.base
    }
    fn base_mut(&mut self) -> &mut Base {
        &mut self.base
    }
}
