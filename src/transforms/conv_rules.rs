//! The convolution's transform rules (called from its arms in vjp.rs, jvp.rs and vmap.rs):
//! gradients as convolutions (MLX's formulas: the input's through the transposed kernel with
//! stride and input dilation swapped, the weight's by convolving the batch-transposed input with
//! the cotangent), the tangent by bilinearity, and batching by folding the batch into N or into
//! channel groups. Rules build `Convolution` nodes directly, so their padding may be negative
//! (positions cropped from the dilated operand) and 3-D convolutions may be grouped.

use crate as mx;
use crate::array::Array;
use crate::error::Result;
use crate::ops::conv::conv_node;
use crate::primitive::ConvParams;
use crate::stream::Stream;

/// `1 + dil * (n - 1)`: the extent of `n` elements spaced `dil` apart.
fn dilated(n: i32, dil: i32) -> i32 {
    1 + dil * (n - 1)
}

/// `x` with its axis `split` (after `group_axis` is normalised) reshaped to `[groups, rest]`,
/// axes `a` and `b` swapped, and the group axis merged back with its neighbour (MLX's
/// `group_transpose`); with one group, just axes 0 and -1 swapped.
fn group_transpose(
    x: &Array,
    groups: i32,
    group_axis: i32,
    a: i32,
    b: i32,
    s: Stream,
) -> Result<Array> {
    if groups <= 1 {
        return mx::swapaxes(x, 0, -1, s);
    }
    let nd = x.ndim() as i32;
    let g = if group_axis < 0 {
        group_axis + nd
    } else {
        group_axis
    } as usize;
    let mut shape = x.shape().to_vec();
    shape.insert(g, groups);
    shape[g + 1] /= groups;
    let t = mx::swapaxes(&mx::reshape(x, &shape, s)?, a, b, s)?;
    mx::flatten(&t, g as i32, g as i32 + 1, s)
}

/// The cotangents of the convolution's input `x` and weight `w` given the output's `cot`.
pub(super) fn vjp(
    p: &ConvParams,
    x: &Array,
    w: &Array,
    cot: &Array,
    want: &[bool],
    s: Stream,
) -> Result<Vec<Option<Array>>> {
    let nd = x.ndim() - 2;
    let gx = if want[0] {
        let mut lo = vec![0; nd];
        let mut hi = vec![0; nd];
        for i in 0..nd {
            let wt = dilated(w.shape()[1 + i], p.kernel_dilation[i]);
            let input = dilated(x.shape()[1 + i], p.input_dilation[i]);
            let out = dilated(cot.shape()[1 + i], p.stride[i]);
            lo[i] = wt - 1 - p.padding_lo[i];
            // Exactly one output per input element: the rows the forward's stride skipped at
            // the high end read no cotangent.
            hi[i] = input - out + p.padding_lo[i];
        }
        let wt = group_transpose(w, p.groups, 0, 1, -1, s)?;
        let q = ConvParams {
            stride: p.input_dilation.clone(),
            padding_lo: lo,
            padding_hi: hi,
            kernel_dilation: p.kernel_dilation.clone(),
            input_dilation: p.stride.clone(),
            groups: p.groups,
            flip: !p.flip,
        };
        Some(conv_node(&mx::astype(cot, x.dtype(), s)?, &wt, q, s)?)
    } else {
        None
    };
    let gw = if want[1] {
        let mut hi = vec![0; nd];
        for (i, h) in hi.iter_mut().enumerate() {
            let input = dilated(x.shape()[1 + i], p.input_dilation[i]);
            let out = dilated(cot.shape()[1 + i], p.stride[i]);
            let wt = dilated(w.shape()[1 + i], p.kernel_dilation[i]);
            *h = out - input + wt - p.padding_lo[i] - 1;
        }
        let cot_t = mx::swapaxes(&mx::astype(cot, x.dtype(), s)?, 0, -1, s)?;
        let x_t = group_transpose(x, p.groups, -1, 0, -1, s)?;
        let q = ConvParams {
            stride: p.kernel_dilation.clone(),
            padding_lo: p.padding_lo.clone(),
            padding_hi: hi,
            kernel_dilation: p.stride.clone(),
            input_dilation: p.input_dilation.clone(),
            groups: p.groups,
            flip: false,
        };
        let mut g = conv_node(&x_t, &cot_t, q, s)?;
        if p.flip {
            let axes: Vec<i32> = (1..=nd as i32).collect();
            g = mx::flip(&g, Some(&axes), s)?;
        }
        Some(mx::swapaxes(&g, 0, -1, s)?)
    } else {
        None
    };
    Ok(vec![gx, gw])
}

/// The tangent of the convolution: `conv(tx, w) + conv(x, tw)` (it is bilinear).
pub(super) fn jvp(
    p: &ConvParams,
    x: &Array,
    w: &Array,
    tx: Option<&Array>,
    tw: Option<&Array>,
    s: Stream,
) -> Result<Option<Array>> {
    let a = match tx {
        Some(t) => Some(conv_node(&mx::astype(t, x.dtype(), s)?, w, p.clone(), s)?),
        None => None,
    };
    let b = match tw {
        Some(t) => Some(conv_node(x, &mx::astype(t, w.dtype(), s)?, p.clone(), s)?),
        None => None,
    };
    Ok(match (a, b) {
        (Some(a), Some(b)) => Some(mx::add(&a, &b, s)?),
        (a, b) => a.or(b),
    })
}

/// The batched convolution of `x` and `w` whose batch axes are `xa` and `wa`, and where the
/// output's batch axis is: a batched input folds into N; a batched weight into the output
/// channels of each group; both at once into `groups * b` groups.
pub(super) fn vmap(
    p: &ConvParams,
    (x, xa): (&Array, Option<usize>),
    (w, wa): (&Array, Option<usize>),
    s: Stream,
) -> Result<(Array, Option<usize>)> {
    let g = p.groups;
    match (xa, wa) {
        (None, None) => Ok((conv_node(x, w, p.clone(), s)?, None)),
        (Some(a), None) => {
            let xb = mx::moveaxis(x, a as i32, 0, s)?;
            let (b, n) = (xb.shape()[0], xb.shape()[1]);
            let y = conv_node(&mx::flatten(&xb, 0, 1, s)?, w, p.clone(), s)?;
            let mut shape = vec![b, n];
            shape.extend_from_slice(&y.shape()[1..]);
            Ok((mx::reshape(&y, &shape, s)?, Some(0)))
        }
        (None, Some(a)) => {
            // Output channels ordered (group, example, channel of the group), so each group's
            // block of the flattened weight stays one block.
            let wb = mx::moveaxis(w, a as i32, 0, s)?;
            let (b, o) = (wb.shape()[0], wb.shape()[1]);
            let mut split = vec![b, g, o / g];
            split.extend_from_slice(&wb.shape()[2..]);
            let wg = mx::swapaxes(&mx::reshape(&wb, &split, s)?, 0, 1, s)?;
            let wf = mx::flatten(&wg, 0, 2, s)?;
            let y = conv_node(x, &wf, p.clone(), s)?;
            let nd = y.ndim();
            let mut shape = y.shape()[..nd - 1].to_vec();
            shape.extend_from_slice(&[g, b, o / g]);
            let y = mx::swapaxes(&mx::reshape(&y, &shape, s)?, nd as i32 - 1, nd as i32, s)?;
            let mut out = y.shape()[..nd - 1].to_vec();
            out.extend_from_slice(&[b, o]);
            Ok((mx::reshape(&y, &out, s)?, Some(nd - 1)))
        }
        (Some(xa), Some(wa)) => {
            // Input channels (example, group, channel) meet weights (example, out channel):
            // groups * b groups.
            let xb = mx::moveaxis(x, xa as i32, -2, s)?;
            let b = xb.shape()[xb.ndim() - 2];
            let xf = mx::flatten(&xb, -2, -1, s)?;
            let wb = mx::moveaxis(w, wa as i32, 0, s)?;
            let o = wb.shape()[1];
            let wf = mx::flatten(&wb, 0, 1, s)?;
            let q = ConvParams {
                groups: g * b,
                ..p.clone()
            };
            let y = conv_node(&xf, &wf, q, s)?;
            let nd = y.ndim();
            let mut shape = y.shape()[..nd - 1].to_vec();
            shape.extend_from_slice(&[b, o]);
            Ok((mx::reshape(&y, &shape, s)?, Some(nd - 1)))
        }
    }
}
