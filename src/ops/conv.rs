//! Convolutions with MLX's semantics: channels-last inputs `[N, *spatial, C_in]`, weights
//! `[C_out, *kernel, C_in / groups]`, 1 to 3 spatial dims. `conv_general` validates and builds the
//! one `Convolution` node; `conv1d/2d/3d` and the transposed forms are written with it. Never
//! computes.

use super::shape::slice;
use super::{OpResult, cast_to, node};
use crate::array::Array;
use crate::dtype::promote_types;
use crate::error::{Result, dtype_err, value_err};
use crate::primitive::{ConvParams, Primitive};
use crate::shape::fmt_shape;
use crate::stream::{Stream, StreamOrDevice};

/// Formats a parameter list as MLX prints it: `(1,2)`.
fn fmt_list(v: &[i32]) -> String {
    fmt_shape(v)
}

/// MLX's checks on the operands (`run_conv_checks`).
fn check_operands(x: &Array, w: &Array, nd: usize, groups: i32) -> Result<()> {
    if !x.dtype().is_float() {
        return Err(value_err(
            "conv",
            format!(
                "Invalid input array with type {}. Convolution currently only supports floating point types",
                x.dtype()
            ),
        ));
    }
    if x.ndim() != nd + 2 {
        return Err(value_err(
            "conv",
            format!(
                "Invalid input array with {} dimensions for {nd}D convolution. Expected an array with {} dimensions following the format [N, ..., C_in].",
                x.ndim(),
                nd + 2
            ),
        ));
    }
    if w.ndim() != nd + 2 {
        return Err(value_err(
            "conv",
            format!(
                "Invalid weight array with {} dimensions for {nd}D convolution. Expected an array with {} dimensions following the format [C_out, ..., C_in].",
                w.ndim(),
                nd + 2
            ),
        ));
    }
    if groups <= 0 {
        return Err(value_err(
            "conv",
            format!("The number of groups must be positive. Got {groups} groups."),
        ));
    }
    let c_in = x.shape()[nd + 1];
    if c_in % groups != 0 {
        return Err(value_err(
            "conv",
            format!(
                "The input channels must be divisible by the number of groups. Got input with shape {} and {groups} groups.",
                fmt_shape(x.shape())
            ),
        ));
    }
    if groups > 1 && w.shape()[0] % groups != 0 {
        return Err(value_err(
            "conv",
            format!(
                "If groups > 1, the output channels must be divisible by the number of groups. Got {} output channels and {groups} groups.",
                w.shape()[0]
            ),
        ));
    }
    if c_in as i64 != groups as i64 * w.shape()[nd + 1] as i64 {
        let msg = if groups == 1 {
            format!(
                "Expect the input channels in the input and weight array to match but got shapes - input: {} and weight: {}",
                fmt_shape(x.shape()),
                fmt_shape(w.shape())
            )
        } else {
            format!(
                "Given groups={groups} and weights of shape {}, expected to have {} input channels but got {c_in} input channels instead.",
                fmt_shape(w.shape()),
                groups as i64 * w.shape()[nd + 1] as i64
            )
        };
        return Err(value_err("conv", msg));
    }
    Ok(())
}

/// A parameter list with one entry per spatial dim: empty takes `default`, one entry repeats
/// (MLX's broadcasting of scalar parameters), `nd` entries stay; else `None`.
fn per_dim(v: &[i32], nd: usize, default: i32) -> Option<Vec<i32>> {
    match v.len() {
        0 => Some(vec![default; nd]),
        1 => Some(vec![v[0]; nd]),
        n if n == nd => Some(v.to_vec()),
        _ => None,
    }
}

/// MLX's output extent along one axis (64-bit, truncating division as C++ does).
fn out_axis(input: i32, kernel: i32, stride: i32, kdil: i32, idil: i32, pad: i64) -> i64 {
    let id = 1 + idil as i64 * (input as i64 - 1);
    let kd = 1 + kdil as i64 * (kernel as i64 - 1);
    (id + pad - kd) / stride as i64 + 1
}

/// The convolution node after validation and promotion; `x` and `w` already have `dt`, padding is
/// already non-negative. Shared by the public ops and the transform rules (which may use groups
/// on 3-D convolutions, as vmap's grouped form of a batched weight does).
pub(crate) fn conv_node(x: &Array, w: &Array, p: ConvParams, st: Stream) -> OpResult {
    let nd = x.ndim() - 2;
    let mut out = vec![x.shape()[0]];
    for d in 0..nd {
        if p.kernel_dilation[d] <= 0 {
            return Err(value_err(
                "conv",
                format!(
                    "Kernel dilation sizes must be positive. Got kernel dilation {}.",
                    fmt_list(&p.kernel_dilation)
                ),
            ));
        }
        if p.input_dilation[d] <= 0 {
            return Err(value_err(
                "conv",
                format!(
                    "Input dilation sizes must be positive. Got input dilation {}.",
                    fmt_list(&p.input_dilation)
                ),
            ));
        }
        if p.stride[d] <= 0 {
            return Err(value_err(
                "conv",
                format!(
                    "Stride sizes must be positive. Got strides {}.",
                    fmt_list(&p.stride)
                ),
            ));
        }
        let size = out_axis(
            x.shape()[1 + d],
            w.shape()[1 + d],
            p.stride[d],
            p.kernel_dilation[d],
            p.input_dilation[d],
            p.padding_lo[d] as i64 + p.padding_hi[d] as i64,
        );
        if size <= 0 {
            return Err(value_err(
                "conv",
                format!(
                    "Spatial dimensions of input after padding cannot be smaller than weight spatial dimensions. Got error at axis {} for input with shape {}, padding low {}, padding high {}, and weight of shape {}.",
                    d + 1,
                    fmt_shape(x.shape()),
                    fmt_list(&p.padding_lo),
                    fmt_list(&p.padding_hi),
                    fmt_shape(w.shape())
                ),
            ));
        }
        if size > i32::MAX as i64 {
            return Err(value_err(
                "conv",
                format!("Output size {size} along axis {} exceeds int32.", d + 1),
            ));
        }
        out.push(size as i32);
    }
    out.push(w.shape()[0]);
    node(
        out,
        x.dtype(),
        st,
        Primitive::Convolution(p),
        vec![x.clone(), w.clone()],
    )
}

/// MLX's `conv_general`: a convolution of `input` `[N, *spatial, C_in]` with `weight`
/// `[C_out, *kernel, C_in / groups]` over 1 to 3 spatial dims. Each parameter list has one entry
/// per spatial dim, or one entry for all, or none (stride, dilations 1; padding 0).
/// `input_dilation` spaces input elements apart (a transposed convolution's stride); negative
/// padding crops the input first; `flip` reverses the kernel. Groups other than 1 are for 1-D
/// and 2-D convolutions, as in MLX. Float dtypes; mixed dtypes promote.
///
/// ```
/// use wmx::{self as mx, Array};
/// let x = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[1, 4, 1]);
/// let w = Array::from_slice(&[1.0f32, 10.0], &[1, 2, 1]);
/// let y = mx::conv_general(&x, &w, &[1], &[1], &[0], &[1], &[1], 1, true, None).unwrap();
/// assert_eq!(y.to_vec::<f32>().unwrap(), vec![1.0, 12.0, 23.0, 34.0]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn conv_general(
    input: &Array,
    weight: &Array,
    stride: &[i32],
    padding_lo: &[i32],
    padding_hi: &[i32],
    kernel_dilation: &[i32],
    input_dilation: &[i32],
    groups: i32,
    flip: bool,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("conv")?;
    if groups != 1 && input.ndim() != 3 && input.ndim() != 4 {
        return Err(value_err(
            "conv",
            "Can only handle groups != 1 in 1D or 2D convolutions.",
        ));
    }
    conv_unchecked_groups(
        input,
        weight,
        stride,
        padding_lo,
        padding_hi,
        kernel_dilation,
        input_dilation,
        groups,
        flip,
        st,
    )
}

/// [`conv_general`] without MLX's restriction of groups to 1-D and 2-D (the transform rules
/// build grouped 3-D convolutions, which the kernels compute like any other).
#[allow(clippy::too_many_arguments)]
pub(crate) fn conv_unchecked_groups(
    input: &Array,
    weight: &Array,
    stride: &[i32],
    padding_lo: &[i32],
    padding_hi: &[i32],
    kernel_dilation: &[i32],
    input_dilation: &[i32],
    groups: i32,
    flip: bool,
    st: Stream,
) -> OpResult {
    let nd = input.ndim().saturating_sub(2);
    if !(1..=3).contains(&nd) {
        return Err(value_err(
            "conv",
            "Only works for inputs with 1-3 spatial dimensions. The inputs must be in the format [N, ..., C_in]",
        ));
    }
    check_operands(input, weight, nd, groups)?;
    let dt = promote_types(input.dtype(), weight.dtype());
    if !dt.is_float() {
        return Err(dtype_err(
            "conv",
            format!(
                "Convolution needs floating point operands; got {} and {}.",
                input.dtype(),
                weight.dtype()
            ),
        ));
    }
    let bad = |what: &str, v: &[i32]| {
        value_err(
            "conv",
            format!("Invalid {what} {} for {nd}D convolution.", fmt_list(v)),
        )
    };
    let stride = per_dim(stride, nd, 1).ok_or_else(|| bad("strides", stride))?;
    let lo = per_dim(padding_lo, nd, 0);
    let hi = per_dim(padding_hi, nd, 0);
    let (Some(mut lo), Some(mut hi)) = (lo, hi) else {
        return Err(value_err(
            "conv",
            format!(
                "Invalid padding {} | {} for {nd}D convolution.",
                fmt_list(padding_lo),
                fmt_list(padding_hi)
            ),
        ));
    };
    let kdil =
        per_dim(kernel_dilation, nd, 1).ok_or_else(|| bad("kernel dilation", kernel_dilation))?;
    let idil =
        per_dim(input_dilation, nd, 1).ok_or_else(|| bad("input dilation", input_dilation))?;
    let mut x = cast_to(input, dt, st);
    let w = cast_to(weight, dt, st);
    // Negative padding crops the (undilated) input, as in MLX.
    if lo.iter().chain(&hi).any(|&p| p < 0) {
        let mut start = vec![0; x.ndim()];
        let mut stop = x.shape().to_vec();
        for d in 0..nd {
            if lo[d] < 0 {
                start[d + 1] = lo[d].saturating_neg();
                lo[d] = 0;
            }
            if hi[d] < 0 {
                stop[d + 1] = stop[d + 1].saturating_add(hi[d]);
                hi[d] = 0;
            }
        }
        x = slice(&x, &start, &stop, &[], st)?;
    }
    let p = ConvParams {
        stride,
        padding_lo: lo,
        padding_hi: hi,
        kernel_dilation: kdil,
        input_dilation: idil,
        groups,
        flip,
    };
    conv_node(&x, &w, p, st)
}

/// 1-D convolution of `input` `[N, L, C_in]` with `weight` `[C_out, K, C_in / groups]`
/// (MLX's `conv1d`): symmetric zero `padding`, kernel `dilation`.
///
/// ```
/// use wmx::{self as mx, Array};
/// let x = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[1, 4, 1]);
/// let w = Array::from_slice(&[1.0f32, 1.0], &[1, 2, 1]);
/// let y = mx::conv1d(&x, &w, 1, 0, 1, 1, None).unwrap();
/// assert_eq!(y.shape(), &[1, 3, 1]);
/// assert_eq!(y.to_vec::<f32>().unwrap(), vec![3.0, 5.0, 7.0]);
/// ```
pub fn conv1d(
    input: &Array,
    weight: &Array,
    stride: i32,
    padding: i32,
    dilation: i32,
    groups: i32,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("conv")?;
    conv_general(
        input,
        weight,
        &[stride],
        &[padding],
        &[padding],
        &[dilation],
        &[1],
        groups,
        false,
        st,
    )
}

/// 2-D convolution of `input` `[N, H, W, C_in]` with `weight` `[C_out, KH, KW, C_in / groups]`
/// (MLX's `conv2d`); parameters are `(height, width)`.
///
/// ```
/// use wmx::{self as mx, Array};
/// let x = mx::ones(&[1, 3, 3, 1], mx::Dtype::Float32, None).unwrap();
/// let w = mx::ones(&[2, 3, 3, 1], mx::Dtype::Float32, None).unwrap();
/// let y = mx::conv2d(&x, &w, (1, 1), (1, 1), (1, 1), 1, None).unwrap();
/// assert_eq!(y.shape(), &[1, 3, 3, 2]);
/// assert_eq!(y.to_vec::<f32>().unwrap()[8], 9.0); // the centre sees all nine inputs
/// ```
pub fn conv2d(
    input: &Array,
    weight: &Array,
    stride: (i32, i32),
    padding: (i32, i32),
    dilation: (i32, i32),
    groups: i32,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("conv")?;
    let pad = [padding.0, padding.1];
    conv_general(
        input,
        weight,
        &[stride.0, stride.1],
        &pad,
        &pad,
        &[dilation.0, dilation.1],
        &[1, 1],
        groups,
        false,
        st,
    )
}

/// 3-D convolution of `input` `[N, D, H, W, C_in]` with `weight` `[C_out, KD, KH, KW, C_in]`
/// (MLX's `conv3d`; groups must be 1, as in MLX).
///
/// ```
/// use wmx::{self as mx, Array};
/// let x = mx::ones(&[1, 2, 2, 2, 1], mx::Dtype::Float32, None).unwrap();
/// let w = mx::ones(&[1, 2, 2, 2, 1], mx::Dtype::Float32, None).unwrap();
/// let y = mx::conv3d(&x, &w, (1, 1, 1), (0, 0, 0), (1, 1, 1), 1, None).unwrap();
/// assert_eq!(y.to_vec::<f32>().unwrap(), vec![8.0]);
/// ```
pub fn conv3d(
    input: &Array,
    weight: &Array,
    stride: (i32, i32, i32),
    padding: (i32, i32, i32),
    dilation: (i32, i32, i32),
    groups: i32,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("conv")?;
    let pad = [padding.0, padding.1, padding.2];
    conv_general(
        input,
        weight,
        &[stride.0, stride.1, stride.2],
        &pad,
        &pad,
        &[dilation.0, dilation.1, dilation.2],
        &[1, 1, 1],
        groups,
        false,
        st,
    )
}

/// MLX's `conv_transpose_general`: the gradient of a strided convolution with respect to its
/// input, as a convolution with input dilation `stride` and a flipped kernel; `output_padding`
/// adds rows at the high end of each spatial dim.
#[allow(clippy::too_many_arguments)]
fn conv_transpose_general(
    input: &Array,
    weight: &Array,
    stride: &[i32],
    padding: &[i32],
    dilation: &[i32],
    output_padding: &[i32],
    groups: i32,
    st: Stream,
) -> OpResult {
    let nd = stride.len();
    if input.ndim() != nd + 2 || weight.ndim() != nd + 2 {
        // conv_general words the mismatch; the padding arithmetic below needs the dims.
        return conv_general(
            input, weight, stride, padding, padding, dilation, stride, groups, true, st,
        );
    }
    let mut lo = vec![0i32; nd];
    let mut hi = vec![0i32; nd];
    for i in 0..nd {
        let wt = 1 + dilation[i] as i64 * (weight.shape()[1 + i] as i64 - 1);
        let lo_i = wt - padding[i] as i64 - 1;
        let conv_out = (input.shape()[1 + i] as i64 - 1) * stride[i] as i64 - 2 * padding[i] as i64
            + dilation[i] as i64 * (weight.shape()[1 + i] as i64 - 1)
            + 1;
        let out_size = 1 + stride[i] as i64 * (input.shape()[1 + i] as i64 - 1);
        let hi_i = conv_out - out_size + padding[i] as i64 + output_padding[i] as i64;
        let fit = |v: i64| {
            i32::try_from(v).map_err(|_| {
                value_err(
                    "conv",
                    format!("Padding {v} along axis {} exceeds int32.", i + 1),
                )
            })
        };
        lo[i] = fit(lo_i)?;
        hi[i] = fit(hi_i)?;
    }
    conv_general(
        input,
        weight,
        &vec![1; nd],
        &lo,
        &hi,
        dilation,
        stride,
        groups,
        true,
        st,
    )
}

/// 1-D transposed convolution (MLX's `conv_transpose1d`): `input` `[N, L, C_in]`, `weight`
/// `[C_out, K, C_in / groups]`.
///
/// ```
/// use wmx::{self as mx, Array};
/// let x = Array::from_slice(&[1.0f32, 2.0], &[1, 2, 1]);
/// let w = Array::from_slice(&[1.0f32, 10.0], &[1, 2, 1]);
/// let y = mx::conv_transpose1d(&x, &w, 2, 0, 1, 0, 1, None).unwrap();
/// assert_eq!(y.to_vec::<f32>().unwrap(), vec![1.0, 10.0, 2.0, 20.0]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn conv_transpose1d(
    input: &Array,
    weight: &Array,
    stride: i32,
    padding: i32,
    dilation: i32,
    output_padding: i32,
    groups: i32,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("conv")?;
    conv_transpose_general(
        input,
        weight,
        &[stride],
        &[padding],
        &[dilation],
        &[output_padding],
        groups,
        st,
    )
}

/// 2-D transposed convolution (MLX's `conv_transpose2d`); parameters are `(height, width)`.
///
/// ```
/// use wmx::{self as mx, Array};
/// let x = mx::ones(&[1, 2, 2, 1], mx::Dtype::Float32, None).unwrap();
/// let w = mx::ones(&[1, 3, 3, 1], mx::Dtype::Float32, None).unwrap();
/// let y = mx::conv_transpose2d(&x, &w, (2, 2), (1, 1), (1, 1), (1, 1), 1, None).unwrap();
/// assert_eq!(y.shape(), &[1, 4, 4, 1]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn conv_transpose2d(
    input: &Array,
    weight: &Array,
    stride: (i32, i32),
    padding: (i32, i32),
    dilation: (i32, i32),
    output_padding: (i32, i32),
    groups: i32,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("conv")?;
    conv_transpose_general(
        input,
        weight,
        &[stride.0, stride.1],
        &[padding.0, padding.1],
        &[dilation.0, dilation.1],
        &[output_padding.0, output_padding.1],
        groups,
        st,
    )
}

/// 3-D transposed convolution (MLX's `conv_transpose3d`); parameters are `(depth, height, width)`.
///
/// ```
/// use wmx::{self as mx, Array};
/// let x = mx::ones(&[1, 1, 1, 1, 1], mx::Dtype::Float32, None).unwrap();
/// let w = mx::ones(&[1, 2, 2, 2, 1], mx::Dtype::Float32, None).unwrap();
/// let y = mx::conv_transpose3d(&x, &w, (1, 1, 1), (0, 0, 0), (1, 1, 1), (0, 0, 0), 1, None).unwrap();
/// assert_eq!(y.shape(), &[1, 2, 2, 2, 1]);
/// assert_eq!(y.to_vec::<f32>().unwrap(), vec![1.0; 8]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn conv_transpose3d(
    input: &Array,
    weight: &Array,
    stride: (i32, i32, i32),
    padding: (i32, i32, i32),
    dilation: (i32, i32, i32),
    output_padding: (i32, i32, i32),
    groups: i32,
    s: impl Into<StreamOrDevice>,
) -> OpResult {
    let st = s.into().resolve("conv")?;
    conv_transpose_general(
        input,
        weight,
        &[stride.0, stride.1, stride.2],
        &[padding.0, padding.1, padding.2],
        &[dilation.0, dilation.1, dilation.2],
        &[output_padding.0, output_padding.1, output_padding.2],
        groups,
        st,
    )
}
