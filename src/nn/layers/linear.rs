//! Linear, Bilinear, Embedding, Identity and Sequential (MLX's shapes, initialisation and
//! parameter names: `weight` is `[out, in]`, `bias` is `[out]`).

use crate::array::Array;
use crate::dtype::Dtype;
use crate::error::{Result, shape_err};
use crate::nn::init;
use crate::nn::module::{Param, UnaryModule, Visit, Visitor, VisitorMut};

/// `y = x·Wᵀ + b`, MLX's `nn.Linear`: weight and bias drawn from `U(-k, k)` with
/// `k = 1/√input_dims`.
///
/// ```
/// use wmx::nn::{Linear, UnaryModule};
/// let l = Linear::new(3, 2, true, Some(&wmx::random::key(0))).unwrap();
/// let y = l.forward(&wmx::ones(&[4, 5, 3], wmx::Dtype::Float32, None).unwrap()).unwrap();
/// assert_eq!(y.shape(), &[4, 5, 2]);
/// ```
#[derive(Clone, Debug)]
pub struct Linear {
    /// `[output_dims, input_dims]`.
    pub weight: Param,
    /// `[output_dims]`, when the layer has a bias.
    pub bias: Option<Param>,
}
crate::module!(Linear { weight, bias });

impl Linear {
    /// A layer from `input_dims` to `output_dims` features, with or without bias; `key` seeds
    /// the initialisation (`None`: the global random stream).
    pub fn new(
        input_dims: i32,
        output_dims: i32,
        bias: bool,
        key: Option<&Array>,
    ) -> Result<Linear> {
        let ks = init::split_keys(key, 2)?;
        let k = 1.0 / (input_dims.max(1) as f32).sqrt();
        let f = Dtype::Float32;
        Ok(Linear {
            weight: Param::new(init::uniform(
                -k,
                k,
                &[output_dims, input_dims],
                f,
                ks[0].as_ref(),
            )?),
            bias: if bias {
                Some(Param::new(init::uniform(
                    -k,
                    k,
                    &[output_dims],
                    f,
                    ks[1].as_ref(),
                )?))
            } else {
                None
            },
        })
    }
}

impl UnaryModule for Linear {
    fn forward(&self, x: &Array) -> Result<Array> {
        let wt = crate::swapaxes(&self.weight, 0, 1, None)?;
        match &self.bias {
            Some(b) if x.ndim() == 2 => crate::addmm(b, x, &wt, 1.0, 1.0, None),
            Some(b) => crate::add(&crate::matmul(x, &wt, None)?, &**b, None),
            None => crate::matmul(x, &wt, None),
        }
    }
}

/// `y = x₁ᵀ·W·x₂ + b` for each output feature, MLX's `nn.Bilinear`: weight
/// `[output_dims, input2_dims, input1_dims]`, initialised from `U(-k, k)`, `k = 1/√input1_dims`.
///
/// ```
/// use wmx::nn::Bilinear;
/// let b = Bilinear::new(3, 4, 2, true, None).unwrap();
/// let y = b.forward(&wmx::ones(&[5, 3], wmx::Dtype::Float32, None).unwrap(),
///                   &wmx::ones(&[5, 4], wmx::Dtype::Float32, None).unwrap()).unwrap();
/// assert_eq!(y.shape(), &[5, 2]);
/// ```
#[derive(Clone, Debug)]
pub struct Bilinear {
    /// `[output_dims, input2_dims, input1_dims]`.
    pub weight: Param,
    /// `[output_dims]`.
    pub bias: Option<Param>,
}
crate::module!(Bilinear { weight, bias });

impl Bilinear {
    /// A layer combining `input1_dims` and `input2_dims` features into `output_dims`.
    pub fn new(
        input1_dims: i32,
        input2_dims: i32,
        output_dims: i32,
        bias: bool,
        key: Option<&Array>,
    ) -> Result<Bilinear> {
        let ks = init::split_keys(key, 2)?;
        let k = 1.0 / (input1_dims.max(1) as f32).sqrt();
        let f = Dtype::Float32;
        let shape = [output_dims, input2_dims, input1_dims];
        Ok(Bilinear {
            weight: Param::new(init::uniform(-k, k, &shape, f, ks[0].as_ref())?),
            bias: if bias {
                Some(Param::new(init::uniform(
                    -k,
                    k,
                    &[output_dims],
                    f,
                    ks[1].as_ref(),
                )?))
            } else {
                None
            },
        })
    }

    /// Applies the layer to `x1` (`[..., input1_dims]`) and `x2` (`[..., input2_dims]`).
    pub fn forward(&self, x1: &Array, x2: &Array) -> Result<Array> {
        let (out, in2, in1) = (
            self.weight.shape()[0],
            self.weight.shape()[1],
            self.weight.shape()[2],
        );
        let lead = &x1.shape()[..x1.ndim().saturating_sub(1)];
        if x1.shape().last() != Some(&in1) || x2.shape().last() != Some(&in2) {
            return Err(shape_err(
                "nn::Bilinear",
                format!(
                    "Inputs of shapes {:?} and {:?} do not end in ({in1}) and ({in2}).",
                    x1.shape(),
                    x2.shape()
                ),
            ));
        }
        let a = crate::reshape(x1, &[-1, in1], None)?;
        let b = crate::reshape(x2, &[-1, 1, in2], None)?;
        let w = crate::reshape(&self.weight, &[out * in2, in1], None)?;
        let y = crate::matmul(&a, &crate::swapaxes(&w, 0, 1, None)?, None)?;
        let y = crate::swapaxes(&crate::reshape(&y, &[-1, out, in2], None)?, -2, -1, None)?;
        let y = crate::squeeze(&crate::matmul(&b, &y, None)?, &[1], None)?;
        let mut shape = lead.to_vec();
        shape.push(out);
        let y = crate::reshape(&y, &shape, None)?;
        match &self.bias {
            Some(bias) => crate::add(&y, &**bias, None),
            None => Ok(y),
        }
    }
}

/// A lookup table, MLX's `nn.Embedding`: `weight` `[num_embeddings, dims]` from
/// `N(0, 1/√dims)`; the forward pass takes integer indices.
///
/// ```
/// use wmx::nn::{Embedding, UnaryModule};
/// let e = Embedding::new(10, 4, None).unwrap();
/// let y = e.forward(&wmx::Array::from_slice(&[1i32, 7, 7], &[3])).unwrap();
/// assert_eq!(y.shape(), &[3, 4]);
/// ```
#[derive(Clone, Debug)]
pub struct Embedding {
    /// `[num_embeddings, dims]`.
    pub weight: Param,
}
crate::module!(Embedding { weight });

impl Embedding {
    /// A table of `num_embeddings` vectors of `dims` features.
    pub fn new(num_embeddings: i32, dims: i32, key: Option<&Array>) -> Result<Embedding> {
        let scale = (1.0 / dims.max(1) as f32).sqrt();
        Ok(Embedding {
            weight: Param::new(init::normal(
                0.0,
                scale,
                &[num_embeddings, dims],
                Dtype::Float32,
                key,
            )?),
        })
    }

    /// The table used as an output projection: `x·weightᵀ` (weight tying).
    ///
    /// ```
    /// let e = wmx::nn::Embedding::new(10, 4, None).unwrap();
    /// let logits = e.as_linear(&wmx::ones(&[2, 4], wmx::Dtype::Float32, None).unwrap()).unwrap();
    /// assert_eq!(logits.shape(), &[2, 10]);
    /// ```
    pub fn as_linear(&self, x: &Array) -> Result<Array> {
        crate::matmul(x, &crate::swapaxes(&self.weight, 0, 1, None)?, None)
    }
}

impl UnaryModule for Embedding {
    fn forward(&self, x: &Array) -> Result<Array> {
        crate::take(&self.weight, x, 0, None)
    }
}

/// The identity (a placeholder layer).
///
/// ```
/// use wmx::nn::{Identity, UnaryModule};
/// let x = wmx::Array::scalar(2.0f32);
/// assert_eq!(Identity.forward(&x).unwrap().item::<f32>().unwrap(), 2.0);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Identity;

impl Visit for Identity {
    fn visit(&self, _: &mut Visitor<'_>) {}
    fn visit_mut(&mut self, _: &mut VisitorMut<'_>) {}
}

impl UnaryModule for Identity {
    fn forward(&self, x: &Array) -> Result<Array> {
        Ok(x.clone())
    }
}

/// Layers applied in order, MLX's `nn.Sequential` (parameters named `layers.0.weight`...).
///
/// ```
/// use wmx::nn::{self, Module, Sequential, UnaryModule};
/// let m = Sequential::new()
///     .add(nn::Linear::new(4, 8, true, None).unwrap())
///     .add(nn::Relu)
///     .add(nn::Linear::new(8, 3, true, None).unwrap());
/// assert!(m.parameters().contains_key("layers.2.weight"));
/// let y = m.forward(&wmx::ones(&[2, 4], wmx::Dtype::Float32, None).unwrap()).unwrap();
/// assert_eq!(y.shape(), &[2, 3]);
/// ```
#[derive(Default)]
pub struct Sequential {
    /// The layers, applied first to last.
    pub layers: Vec<Box<dyn UnaryModule>>,
}
crate::module!(Sequential { layers });

impl Sequential {
    /// An empty sequence (the identity).
    pub fn new() -> Sequential {
        Sequential { layers: Vec::new() }
    }

    /// Appends a layer (a builder method, not arithmetic).
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, layer: impl UnaryModule + 'static) -> Sequential {
        self.layers.push(Box::new(layer));
        self
    }
}

impl UnaryModule for Sequential {
    fn forward(&self, x: &Array) -> Result<Array> {
        let mut y = x.clone();
        for l in &self.layers {
            y = l.forward(&y)?;
        }
        Ok(y)
    }
}
