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

/// Channel dropout: zeroes whole channels of `[N, H, W, C]` (or `[H, W, C]`) input, MLX's
/// `nn.Dropout2d` (the mask has shape `[N, 1, 1, C]`).
///
/// ```
/// use wmx::nn::{Dropout2d, UnaryModule};
/// let d = Dropout2d::new(0.5, Some(&wmx::random::key(1))).unwrap();
/// let y = d.forward(&wmx::ones(&[2, 3, 3, 8], wmx::Dtype::Float32, None).unwrap()).unwrap();
/// let v = y.to_vec::<f32>().unwrap();
/// for c in 0..8 { assert!(v.iter().skip(c).step_by(8).take(9).all(|&x| x == v[c])); } // whole channels
/// assert!(d.forward(&wmx::ones(&[2, 8], wmx::Dtype::Float32, None).unwrap()).is_err());
/// ```
#[derive(Debug)]
pub struct Dropout2d(Dropout);

/// Channel dropout of `[N, D, H, W, C]` (or `[D, H, W, C]`) input, MLX's `nn.Dropout3d`.
///
/// ```
/// use wmx::nn::{Dropout3d, Module, UnaryModule};
/// let mut d = Dropout3d::new(0.5, None).unwrap();
/// d.eval();
/// let x = wmx::ones(&[1, 2, 2, 2, 4], wmx::Dtype::Float32, None).unwrap();
/// assert_eq!(d.forward(&x).unwrap().to_vec::<f32>().unwrap(), vec![1.0; 32]);
/// ```
#[derive(Debug)]
pub struct Dropout3d(Dropout);

macro_rules! channel_dropout {
    ($($name:ident, $label:literal, $spatial:literal;)*) => {$(
        impl $name {
            /// Drops each channel with probability `p` in `[0, 1)`.
            pub fn new(p: f32, key: Option<&Array>) -> Result<$name> {
                Dropout::new(p, key).map($name)
            }
        }

        impl Visit for $name {
            fn visit(&self, _: &mut Visitor<'_>) {}
            fn visit_mut(&mut self, _: &mut VisitorMut<'_>) {}
            fn set_training(&mut self, training: bool) {
                self.0.training = training;
            }
        }

        impl UnaryModule for $name {
            fn forward(&self, x: &Array) -> Result<Array> {
                let nd = x.ndim();
                if nd != $spatial + 1 && nd != $spatial + 2 {
                    return Err(value_err(
                        $label,
                        format!("Received input with {nd} dimensions. Expected {} or {}.", $spatial + 1, $spatial + 2),
                    ));
                }
                let d = &self.0;
                if d.p == 0.0 || !d.training {
                    return Ok(x.clone());
                }
                let mut shape = x.shape().to_vec();
                for s in &mut shape[nd - 1 - $spatial..nd - 1] {
                    *s = 1;
                }
                let keep = 1.0 - d.p;
                let key = d.next_key()?;
                let mask = crate::random::bernoulli(keep, Some(&shape), key.as_ref(), None)?;
                let mask = crate::astype(&mask, x.dtype(), None)?;
                crate::multiply(&crate::multiply(&mask, x, None)?, 1.0 / keep, None)
            }
        }
    )*};
}

channel_dropout! {
    Dropout2d, "nn::Dropout2d", 2;
    Dropout3d, "nn::Dropout3d", 3;
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
