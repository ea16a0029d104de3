//! `wmx::nn`: MLX's `mlx.nn` in Rust — modules whose parameters form a tree with MLX's dotted
//! names (`layers.0.weight`), layers, activations, initialisers, losses, and
//! [`value_and_grad`] over a model's trainable parameters.
//!
//! A module is a plain struct; [`module!`](crate::module) lists the fields that hold
//! parameters or sub-modules, which gives it the whole [`Module`] API:
//!
//! ```
//! use wmx::{self as mx, nn::{self, Module, UnaryModule}, Array};
//! struct Mlp { layers: Vec<nn::Linear>, dims: usize }   // `dims` is not a parameter
//! wmx::module!(Mlp { layers });
//! impl UnaryModule for Mlp {
//!     fn forward(&self, x: &Array) -> mx::Result<Array> {
//!         let mut x = x.clone();
//!         for (i, l) in self.layers.iter().enumerate() {
//!             x = l.forward(&x)?;
//!             if i + 1 < self.layers.len() { x = nn::relu(&x)?; }
//!         }
//!         Ok(x)
//!     }
//! }
//! let ks = nn::init::split_keys(Some(&mx::random::key(0)), 2)?;
//! let m = Mlp { layers: vec![nn::Linear::new(4, 8, true, ks[0].as_ref())?,
//!                            nn::Linear::new(8, 2, true, ks[1].as_ref())?], dims: 4 };
//! let names: Vec<String> = m.parameters().into_keys().collect();
//! assert_eq!(names, ["layers.0.bias", "layers.0.weight", "layers.1.bias", "layers.1.weight"]);
//! assert_eq!(m.forward(&mx::ones(&[3, 4], mx::Dtype::Float32, None)?)?.shape(), &[3, 2]);
//! # Ok::<(), mx::Error>(())
//! ```

mod activations;
pub mod init;
mod layers;
pub mod losses;
mod module;

/// MLX's `nn.average_gradients`: see [`distributed::average_gradients`](crate::distributed::average_gradients).
pub use crate::distributed::average_gradients;
pub use activations::*;
pub use layers::*;
pub use module::{Loss, Module, Param, Params, UnaryModule, Visit, Visitor, VisitorMut};

use crate::array::Array;
use crate::error::Result;

/// Lists the fields of a struct that hold parameters ([`Param`], `Option<Param>`) or
/// sub-modules (any type given to `module!`, `Vec`s and `Option`s of them, boxed
/// [`UnaryModule`]s), which makes it a [`Module`]: names are the field names joined with dots,
/// `Vec` elements are numbered (`layers.0.weight`), and `train`/`eval` reach every listed field.
///
/// ```
/// use wmx::nn::{self, Module};
/// struct Head { proj: nn::Linear, scale: nn::Param }
/// wmx::module!(Head { proj, scale });
/// let h = Head { proj: nn::Linear::new(2, 2, false, None).unwrap(),
///                scale: nn::Param::new(wmx::Array::scalar(1.0f32)) };
/// assert_eq!(h.parameters().len(), 2);
/// ```
#[macro_export]
macro_rules! module {
    ($t:ty { $($f:ident),* $(,)? }) => {
        impl $crate::nn::Visit for $t {
            fn visit(&self, v: &mut $crate::nn::Visitor<'_>) {
                $( v.field(stringify!($f), &self.$f); )*
            }
            fn visit_mut(&mut self, v: &mut $crate::nn::VisitorMut<'_>) {
                $( v.field(stringify!($f), &mut self.$f); )*
            }
            fn set_training(&mut self, training: bool) {
                $( $crate::nn::Visit::set_training(&mut self.$f, training); )*
            }
        }
    };
}
pub use crate::module;

/// `f`'s loss and its gradient with respect to `model`'s trainable parameters, as MLX's
/// `nn.value_and_grad(model, fn)`. The returned closure takes the model mutably only to swap
/// traced copies of the parameters in for the call; the model is unchanged afterwards. `f`
/// returns the loss (a scalar) or `(loss, anything)` (see [`Loss`]). Frozen parameters are
/// constants and have no entry in the gradients.
///
/// ```
/// use wmx::{self as mx, nn::{self, Module, UnaryModule}, Array};
/// let mut lin = nn::Linear::new(2, 1, true, Some(&mx::random::key(3))).unwrap();
/// let x = Array::from_slice(&[1.0f32, 2.0], &[1, 2]);
/// let loss = |m: &nn::Linear, x: &Array| mx::sum(&m.forward(x)?, &[], false, None);
/// let (l, g) = nn::value_and_grad(loss)(&mut lin, &x).unwrap();
/// assert_eq!(g["weight"].to_vec::<f32>().unwrap(), vec![1.0, 2.0]);   // d(w·x + b)/dw = x
/// assert_eq!(g["bias"].to_vec::<f32>().unwrap(), vec![1.0]);
/// lin.freeze(Some(&["bias"])).unwrap();
/// let (_, g) = nn::value_and_grad(loss)(&mut lin, &x).unwrap();
/// assert!(!g.contains_key("bias"));
/// # let _ = l;
/// ```
pub fn value_and_grad<M, A, L, F>(f: F) -> impl Fn(&mut M, &A) -> Result<(L, Params)>
where
    M: Module,
    A: ?Sized,
    L: Loss,
    F: Fn(&M, &A) -> Result<L>,
{
    move |model: &mut M, args: &A| {
        let (names, values): (Vec<String>, Vec<Array>) =
            model.trainable_parameters().into_iter().unzip();
        let swap = |m: &mut M, arrays: &[Array]| -> Result<()> {
            let p: Params = names.iter().cloned().zip(arrays.iter().cloned()).collect();
            m.update(&p)
        };
        let result = crate::transforms::value_and_grad_of(
            "nn::value_and_grad",
            &values,
            |copies| {
                swap(model, copies)?;
                f(model, args)
            },
            |l: &L| l.loss(),
        );
        swap(model, &values)?;
        let (l, grads) = result?;
        Ok((l, names.iter().cloned().zip(grads).collect()))
    }
}

/// Evaluates every parameter of a module (MLX's `mx.eval(model.parameters())`).
///
/// ```
/// let l = wmx::nn::Linear::new(3, 2, true, None).unwrap();
/// wmx::nn::eval_params(&l).unwrap();
/// ```
pub fn eval_params<M: Module + ?Sized>(m: &M) -> Result<()> {
    let p = m.parameters();
    crate::eval(p.values())
}
