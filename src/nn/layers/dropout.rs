//! Dropout with explicit keys: the layer owns a random key and splits it on each training
//! forward pass, so a run seeded with the same key drops the same elements.

use crate::array::Array;
use crate::error::{Result, value_err};
use crate::nn::module::{UnaryModule, Visit, Visitor, VisitorMut};
use std::sync::Mutex;

/// Zeroes each element with probability `p` in training mode and scales the rest by
/// `1/(1 − p)`, MLX's `nn.Dropout`; the identity in eval mode. With a key, the masks are a
/// deterministic sequence (the key is split on each call); without one they come from the
/// global random stream.
///
/// ```
/// use wmx::nn::{Dropout, Module, UnaryModule};
/// let mut d = Dropout::new(0.5, Some(&wmx::random::key(0))).unwrap();
/// let x = wmx::ones(&[1000], wmx::Dtype::Float32, None).unwrap();
/// let y = d.forward(&x).unwrap().to_vec::<f32>().unwrap();
/// assert!(y.iter().all(|&v| v == 0.0 || v == 2.0));
/// let kept = y.iter().filter(|&&v| v == 2.0).count();
/// assert!((400..600).contains(&kept));
/// d.eval();
/// assert_eq!(d.forward(&x).unwrap().to_vec::<f32>().unwrap(), vec![1.0; 1000]);
/// assert!(Dropout::new(1.0, None).is_err());
/// ```
#[derive(Debug)]
pub struct Dropout {
    p: f32,
    key: Mutex<Option<Array>>,
    training: bool,
}

impl Dropout {
    /// Dropout with probability `p` in `[0, 1)`.
    pub fn new(p: f32, key: Option<&Array>) -> Result<Dropout> {
        if !(0.0..1.0).contains(&p) {
            return Err(value_err(
                "nn::Dropout",
                format!("The dropout probability {p} is not in [0, 1)."),
            ));
        }
        Ok(Dropout {
            p,
            key: Mutex::new(key.cloned()),
            training: true,
        })
    }

    /// The next key for a mask, or `None` for the global stream.
    fn next_key(&self) -> Result<Option<Array>> {
        let mut k = self.key.lock().unwrap_or_else(|e| e.into_inner());
        let Some(cur) = k.as_ref() else {
            return Ok(None);
        };
        let ks = crate::random::split(cur, 2, None)?;
        let next = crate::index(&ks, &[0.into()], None)?;
        let sub = crate::index(&ks, &[1.into()], None)?;
        *k = Some(next);
        Ok(Some(sub))
    }
}

impl Visit for Dropout {
    fn visit(&self, _: &mut Visitor<'_>) {}
    fn visit_mut(&mut self, _: &mut VisitorMut<'_>) {}
    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
}

impl UnaryModule for Dropout {
    fn forward(&self, x: &Array) -> Result<Array> {
        if self.p == 0.0 || !self.training {
            return Ok(x.clone());
        }
        let keep = 1.0 - self.p;
        let key = self.next_key()?;
        let mask = crate::random::bernoulli(keep, Some(x.shape()), key.as_ref(), None)?;
        let mask = crate::astype(&mask, x.dtype(), None)?;
        crate::multiply(&crate::multiply(&mask, x, None)?, 1.0 / keep, None)
    }
}
