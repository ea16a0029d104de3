//! Convolution layers, channels-last as MLX: `Conv1d/2d/3d` (weight
//! `[out, *kernel, in / groups]`, from `U(-k, k)` with `k = 1/√(in/groups · kernel size)`, bias
//! zeros) and `ConvTranspose1d/2d/3d` (weight `[out, *kernel, in]`). Built with `new(in, out,
//! kernel, key)`, then `.stride(..)`, `.padding(..)`, `.dilation(..)` (and `.output_padding(..)`
//! for the transposed ones).

// The per-dimension conversions are closures written once in each macro arm and applied
// where they are declared.
#![allow(clippy::redundant_closure_call)]

use crate::array::Array;
use crate::dtype::Dtype;
use crate::error::{Result, value_err};
use crate::nn::init;
use crate::nn::module::{Param, UnaryModule};

/// The settings shared by every convolution layer, one entry per spatial axis.
#[derive(Clone, Debug, PartialEq)]
struct Geometry {
    stride: Vec<i32>,
    padding: Vec<i32>,
    dilation: Vec<i32>,
    output_padding: Vec<i32>,
    groups: i32,
}

/// `(weight, bias)` for a layer with `fan_in` inputs per output.
fn params(
    shape: &[i32],
    fan_in: i32,
    out: i32,
    bias: bool,
    key: Option<&Array>,
) -> Result<(Param, Option<Param>)> {
    let k = (1.0 / fan_in.max(1) as f32).sqrt();
    let w = init::uniform(-k, k, shape, Dtype::Float32, key)?;
    let b = if bias {
        Some(Param::new(crate::zeros(&[out], Dtype::Float32, None)?))
    } else {
        None
    };
    Ok((Param::new(w), b))
}

fn add_bias(y: Array, b: &Option<Param>) -> Result<Array> {
    match b {
        Some(b) => crate::add(&y, &**b, None),
        None => Ok(y),
    }
}

macro_rules! conv_layers {
    ($($(#[$doc:meta])* $name:ident, $d:literal, $transpose:literal, $t:ty, |$v:ident| $to_vec:expr, |$x:ident, $w:ident, $g:ident| $call:expr;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name {
            /// The kernel (channels-last).
            pub weight: Param,
            /// `[out_channels]`, when the layer has a bias.
            pub bias: Option<Param>,
            geometry: Geometry,
        }
        crate::module!($name { weight, bias });

        impl $name {
            /// A layer from `in_channels` to `out_channels` with the given kernel, stride 1,
            /// no padding, no dilation, one group and a bias; `key` seeds the weights.
            pub fn new(in_channels: i32, out_channels: i32, kernel_size: $t, key: Option<&Array>) -> Result<$name> {
                Self::with_groups(in_channels, out_channels, kernel_size, 1, true, key)
            }

            /// Like `new`, with `groups` groups (the channels must divide) and an optional bias.
            pub fn with_groups(
                in_channels: i32,
                out_channels: i32,
                kernel_size: $t,
                groups: i32,
                bias: bool,
                key: Option<&Array>,
            ) -> Result<$name> {
                let f = |$v: $t| -> Vec<i32> { $to_vec };
                let kernel = f(kernel_size);
                let label = concat!("nn::", stringify!($name));
                if groups <= 0 || in_channels % groups != 0 || out_channels % groups != 0 {
                    return Err(value_err(
                        label,
                        format!("The channels ({in_channels} in, {out_channels} out) must be divisible by the number of groups ({groups})."),
                    ));
                }
                if kernel.iter().any(|&k| k <= 0) || in_channels <= 0 || out_channels <= 0 {
                    return Err(value_err(
                        label,
                        format!("Channels ({in_channels}, {out_channels}) and kernel {kernel:?} must be positive."),
                    ));
                }
                let per_group = if $transpose { in_channels } else { in_channels / groups };
                let mut shape = vec![out_channels];
                shape.extend(&kernel);
                shape.push(per_group);
                let fan_in = per_group * kernel.iter().product::<i32>();
                let (weight, bias) = params(&shape, fan_in, out_channels, bias, key)?;
                let ones = vec![1; $d];
                Ok($name {
                    weight,
                    bias,
                    geometry: Geometry {
                        stride: ones.clone(),
                        padding: vec![0; $d],
                        dilation: ones,
                        output_padding: vec![0; $d],
                        groups,
                    },
                })
            }

            /// The stride (default 1).
            pub fn stride(mut self, v: $t) -> Self {
                let f = |$v: $t| -> Vec<i32> { $to_vec };
                self.geometry.stride = f(v);
                self
            }

            /// Zero padding on each side (default 0).
            pub fn padding(mut self, v: $t) -> Self {
                let f = |$v: $t| -> Vec<i32> { $to_vec };
                self.geometry.padding = f(v);
                self
            }

            /// Kernel dilation (default 1).
            pub fn dilation(mut self, v: $t) -> Self {
                let f = |$v: $t| -> Vec<i32> { $to_vec };
                self.geometry.dilation = f(v);
                self
            }
        }

        impl UnaryModule for $name {
            fn forward(&self, $x: &Array) -> Result<Array> {
                let ($w, $g) = (&*self.weight, &self.geometry);
                add_bias($call?, &self.bias)
            }
        }
    )*};
}

conv_layers! {
    /// 1-D convolution over `[N, L, C_in]`, MLX's `nn.Conv1d`.
    ///
    /// ```
    /// use wmx::nn::{Conv1d, UnaryModule};
    /// let c = Conv1d::new(3, 4, 3, None).unwrap().padding(1);
    /// let y = c.forward(&wmx::ones(&[2, 10, 3], wmx::Dtype::Float32, None).unwrap()).unwrap();
    /// assert_eq!(y.shape(), &[2, 10, 4]);
    /// ```
    Conv1d, 1, false, i32, |k| vec![k],
        |x, w, g| crate::conv1d(x, w, g.stride[0], g.padding[0], g.dilation[0], g.groups, None);
    /// 2-D convolution over `[N, H, W, C_in]`, MLX's `nn.Conv2d`.
    ///
    /// ```
    /// use wmx::nn::{Conv2d, Module, UnaryModule};
    /// let c = Conv2d::new(3, 8, (3, 3), None).unwrap().stride((2, 2)).padding((1, 1));
    /// assert_eq!(c.parameters()["weight"].shape(), &[8, 3, 3, 3]);
    /// let y = c.forward(&wmx::ones(&[1, 8, 8, 3], wmx::Dtype::Float32, None).unwrap()).unwrap();
    /// assert_eq!(y.shape(), &[1, 4, 4, 8]);
    /// assert!(Conv2d::with_groups(3, 8, (3, 3), 2, true, None).is_err());
    /// ```
    Conv2d, 2, false, (i32, i32), |k| vec![k.0, k.1],
        |x, w, g| crate::conv2d(x, w, (g.stride[0], g.stride[1]), (g.padding[0], g.padding[1]),
                                (g.dilation[0], g.dilation[1]), g.groups, None);
    /// 3-D convolution over `[N, D, H, W, C_in]`, MLX's `nn.Conv3d`.
    ///
    /// ```
    /// use wmx::nn::{Conv3d, UnaryModule};
    /// let c = Conv3d::new(2, 4, (3, 3, 3), None).unwrap();
    /// let y = c.forward(&wmx::ones(&[1, 5, 5, 5, 2], wmx::Dtype::Float32, None).unwrap()).unwrap();
    /// assert_eq!(y.shape(), &[1, 3, 3, 3, 4]);
    /// ```
    Conv3d, 3, false, (i32, i32, i32), |k| vec![k.0, k.1, k.2],
        |x, w, g| crate::conv3d(x, w, (g.stride[0], g.stride[1], g.stride[2]),
                                (g.padding[0], g.padding[1], g.padding[2]),
                                (g.dilation[0], g.dilation[1], g.dilation[2]), g.groups, None);
    /// 1-D transposed convolution over `[N, L, C_in]`, MLX's `nn.ConvTranspose1d`.
    ///
    /// ```
    /// use wmx::nn::{ConvTranspose1d, UnaryModule};
    /// let c = ConvTranspose1d::new(3, 2, 3, None).unwrap().stride(2);
    /// let y = c.forward(&wmx::ones(&[1, 4, 3], wmx::Dtype::Float32, None).unwrap()).unwrap();
    /// assert_eq!(y.shape(), &[1, 9, 2]);
    /// ```
    ConvTranspose1d, 1, true, i32, |k| vec![k],
        |x, w, g| crate::conv_transpose1d(x, w, g.stride[0], g.padding[0], g.dilation[0], g.output_padding[0], g.groups, None);
    /// 2-D transposed convolution over `[N, H, W, C_in]`, MLX's `nn.ConvTranspose2d`.
    ///
    /// ```
    /// use wmx::nn::{ConvTranspose2d, UnaryModule};
    /// let c = ConvTranspose2d::new(3, 2, (2, 2), None).unwrap().stride((2, 2));
    /// let y = c.forward(&wmx::ones(&[1, 4, 4, 3], wmx::Dtype::Float32, None).unwrap()).unwrap();
    /// assert_eq!(y.shape(), &[1, 8, 8, 2]);
    /// ```
    ConvTranspose2d, 2, true, (i32, i32), |k| vec![k.0, k.1],
        |x, w, g| crate::conv_transpose2d(x, w, (g.stride[0], g.stride[1]), (g.padding[0], g.padding[1]),
                                          (g.dilation[0], g.dilation[1]),
                                          (g.output_padding[0], g.output_padding[1]), g.groups, None);
    /// 3-D transposed convolution over `[N, D, H, W, C_in]`, MLX's `nn.ConvTranspose3d`.
    ///
    /// ```
    /// use wmx::nn::{ConvTranspose3d, UnaryModule};
    /// let c = ConvTranspose3d::new(2, 2, (2, 2, 2), None).unwrap();
    /// let y = c.forward(&wmx::ones(&[1, 3, 3, 3, 2], wmx::Dtype::Float32, None).unwrap()).unwrap();
    /// assert_eq!(y.shape(), &[1, 4, 4, 4, 2]);
    /// ```
    ConvTranspose3d, 3, true, (i32, i32, i32), |k| vec![k.0, k.1, k.2],
        |x, w, g| crate::conv_transpose3d(x, w, (g.stride[0], g.stride[1], g.stride[2]),
                                          (g.padding[0], g.padding[1], g.padding[2]),
                                          (g.dilation[0], g.dilation[1], g.dilation[2]),
                                          (g.output_padding[0], g.output_padding[1], g.output_padding[2]),
                                          g.groups, None);
}

macro_rules! output_padding {
    ($($name:ident, $t:ty, |$v:ident| $to_vec:expr;)*) => {$(
        impl $name {
            /// Extra size added to one side of the output (default 0).
            pub fn output_padding(mut self, v: $t) -> Self {
                let f = |$v: $t| -> Vec<i32> { $to_vec };
                self.geometry.output_padding = f(v);
                self
            }
        }
    )*};
}

output_padding! {
    ConvTranspose1d, i32, |k| vec![k];
    ConvTranspose2d, (i32, i32), |k| vec![k.0, k.1];
    ConvTranspose3d, (i32, i32, i32), |k| vec![k.0, k.1, k.2];
}
