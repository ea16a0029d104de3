//! Max and average pooling over the spatial axes of channels-last input (`[N, L, C]`,
//! `[N, H, W, C]`, `[N, D, H, W, C]`), as MLX does it: pad (with −∞ for max, 0 for average), take the sliding
//! windows as a strided view, reduce over the window axes. Differentiable through the views.

use crate::array::Array;
use crate::error::{Result, shape_err, value_err};
use crate::nn::module::{UnaryModule, Visit, Visitor, VisitorMut};
use crate::ops::structure::PadMode;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Max,
    Avg,
}

#[derive(Clone, Debug, PartialEq)]
struct Pool {
    kind: Kind,
    name: &'static str,
    kernel: Vec<i32>,
    stride: Vec<i32>,
    padding: Vec<i32>,
}

impl Pool {
    fn new(
        kind: Kind,
        name: &'static str,
        kernel: Vec<i32>,
        stride: Option<Vec<i32>>,
        padding: Vec<i32>,
    ) -> Result<Pool> {
        let stride = stride.unwrap_or_else(|| kernel.clone());
        for (what, v) in [("kernel_size", &kernel), ("stride", &stride)] {
            if v.iter().any(|&k| k <= 0) {
                return Err(value_err(
                    name,
                    format!("'{what}' must be positive but got {v:?}."),
                ));
            }
        }
        if padding.iter().any(|&p| p < 0) {
            return Err(value_err(
                name,
                format!("'padding' must be non-negative but got {padding:?}."),
            ));
        }
        Ok(Pool {
            kind,
            name,
            kernel,
            stride,
            padding,
        })
    }

    fn apply(&self, x: &Array) -> Result<Array> {
        let d = self.kernel.len();
        if x.ndim() != d + 2 {
            return Err(shape_err(
                self.name,
                format!(
                    "Expected input with {} dimensions ([N, spatial.., C]), got shape {:?}.",
                    d + 2,
                    x.shape()
                ),
            ));
        }
        let x = if self.padding.iter().any(|&p| p > 0) {
            let mut pw = vec![(0, 0)];
            pw.extend(self.padding.iter().map(|&p| (p, p)));
            pw.push((0, 0));
            let v = match self.kind {
                Kind::Max => f64::NEG_INFINITY,
                Kind::Avg => 0.0,
            };
            crate::pad(x, &pw, PadMode::Constant, v, None)?
        } else {
            x.clone()
        };
        let shape = x.shape().to_vec();
        for i in 0..d {
            if shape[i + 1] < self.kernel[i] {
                return Err(shape_err(
                    self.name,
                    format!(
                        "The window {:?} is larger than the (padded) input {:?}.",
                        self.kernel, shape
                    ),
                ));
            }
        }
        // Row-major strides of the padded input, then the window view.
        let mut st = vec![1i64; shape.len()];
        for i in (0..shape.len() - 1).rev() {
            st[i] = st[i + 1] * shape[i + 1] as i64;
        }
        let mut out_shape = vec![shape[0]];
        let mut out_st = vec![st[0]];
        for i in 0..d {
            out_shape.push((shape[i + 1] - self.kernel[i]) / self.stride[i] + 1);
            out_st.push(st[i + 1] * self.stride[i] as i64);
        }
        out_shape.extend(&self.kernel);
        out_st.extend(&st[1..=d]);
        out_shape.push(shape[d + 1]);
        out_st.push(1);
        let w = crate::as_strided(&x, &out_shape, &out_st, 0, None)?;
        let axes: Vec<i32> = (d as i32 + 1..2 * d as i32 + 1).collect();
        match self.kind {
            Kind::Max => crate::max(&w, &axes, false, None),
            Kind::Avg => crate::mean(&w, &axes, false, None),
        }
    }
}

macro_rules! pools {
    ($($(#[$doc:meta])* $name:ident, $kind:ident, $label:literal, $t:ty, |$v:ident| $to_vec:expr;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name(Pool);

        impl $name {
            /// A pool with the given window, stride (`None`: the window) and zero-or-more
            /// padding on each side.
            pub fn new(kernel_size: $t, stride: Option<$t>, padding: $t) -> Result<$name> {
                let f = |$v: $t| -> Vec<i32> { $to_vec };
                Pool::new(Kind::$kind, $label, f(kernel_size), stride.map(f), f(padding)).map($name)
            }
        }

        impl Visit for $name {
            fn visit(&self, _: &mut Visitor<'_>) {}
            fn visit_mut(&mut self, _: &mut VisitorMut<'_>) {}
        }

        impl UnaryModule for $name {
            fn forward(&self, x: &Array) -> Result<Array> {
                self.0.apply(x)
            }
        }
    )*};
}

pools! {
    /// Max over sliding windows of `[N, L, C]` input, MLX's `nn.MaxPool1d`.
    ///
    /// ```
    /// use wmx::nn::{MaxPool1d, UnaryModule};
    /// let x = wmx::Array::from_slice(&[1.0f32, 5.0, 2.0, 3.0], &[1, 4, 1]);
    /// let y = MaxPool1d::new(2, None, 0).unwrap().forward(&x).unwrap();
    /// assert_eq!(y.to_vec::<f32>().unwrap(), vec![5.0, 3.0]);
    /// ```
    MaxPool1d, Max, "nn::MaxPool1d", i32, |k| vec![k];
    /// Mean over sliding windows of `[N, L, C]` input, MLX's `nn.AvgPool1d` (padding counts
    /// as zeros).
    ///
    /// ```
    /// use wmx::nn::{AvgPool1d, UnaryModule};
    /// let x = wmx::Array::from_slice(&[1.0f32, 5.0, 2.0, 4.0], &[1, 4, 1]);
    /// let y = AvgPool1d::new(2, Some(1), 0).unwrap().forward(&x).unwrap();
    /// assert_eq!(y.to_vec::<f32>().unwrap(), vec![3.0, 3.5, 3.0]);
    /// ```
    AvgPool1d, Avg, "nn::AvgPool1d", i32, |k| vec![k];
    /// Max over sliding windows of `[N, H, W, C]` input, MLX's `nn.MaxPool2d`.
    ///
    /// ```
    /// use wmx::nn::{MaxPool2d, UnaryModule};
    /// let x = wmx::arange(0.0, 16.0, 1.0, wmx::Dtype::Float32, None).unwrap();
    /// let x = wmx::reshape(&x, &[1, 4, 4, 1], None).unwrap();
    /// let y = MaxPool2d::new((2, 2), None, (0, 0)).unwrap().forward(&x).unwrap();
    /// assert_eq!(y.to_vec::<f32>().unwrap(), vec![5.0, 7.0, 13.0, 15.0]);
    /// ```
    MaxPool2d, Max, "nn::MaxPool2d", (i32, i32), |k| vec![k.0, k.1];
    /// Mean over sliding windows of `[N, H, W, C]` input, MLX's `nn.AvgPool2d`.
    ///
    /// ```
    /// use wmx::nn::{AvgPool2d, UnaryModule};
    /// let x = wmx::ones(&[2, 5, 5, 3], wmx::Dtype::Float32, None).unwrap();
    /// let y = AvgPool2d::new((3, 3), Some((2, 2)), (1, 1)).unwrap().forward(&x).unwrap();
    /// assert_eq!(y.shape(), &[2, 3, 3, 3]);
    /// ```
    AvgPool2d, Avg, "nn::AvgPool2d", (i32, i32), |k| vec![k.0, k.1];
    /// Max over sliding windows of `[N, D, H, W, C]` input, MLX's `nn.MaxPool3d`.
    ///
    /// ```
    /// use wmx::nn::{MaxPool3d, UnaryModule};
    /// let x = wmx::ones(&[1, 4, 4, 4, 2], wmx::Dtype::Float32, None).unwrap();
    /// assert_eq!(MaxPool3d::new((2, 2, 2), None, (0, 0, 0)).unwrap().forward(&x).unwrap().shape(), &[1, 2, 2, 2, 2]);
    /// ```
    MaxPool3d, Max, "nn::MaxPool3d", (i32, i32, i32), |k| vec![k.0, k.1, k.2];
    /// Mean over sliding windows of `[N, D, H, W, C]` input, MLX's `nn.AvgPool3d`.
    ///
    /// ```
    /// use wmx::nn::{AvgPool3d, UnaryModule};
    /// let x = wmx::ones(&[1, 3, 3, 3, 1], wmx::Dtype::Float32, None).unwrap();
    /// let y = AvgPool3d::new((3, 3, 3), None, (0, 0, 0)).unwrap().forward(&x).unwrap();
    /// assert_eq!(y.to_vec::<f32>().unwrap(), vec![1.0]);
    /// ```
    AvgPool3d, Avg, "nn::AvgPool3d", (i32, i32, i32), |k| vec![k.0, k.1, k.2];
}
