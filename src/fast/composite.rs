//! The `fast` ops written with ordinary ops (MLX's "fallback" definitions): the references the
//! transform rules differentiate (`jvp` of the norms and attention, `vjp` of attention), and the
//! GPU's attention where a head dimension does not fit the kernel. Computed in f32, cast back.

use crate as mx;
use crate::array::Array;
use crate::dtype::Dtype;
use crate::error::Result;
use crate::stream::Stream;

fn f32_of(a: &Array, s: Stream) -> Array {
    crate::ops::cast_to(a, Dtype::Float32, s)
}

/// `x / sqrt(mean(x²) + eps) * w` over the last axis.
pub(crate) fn rms_norm(x: &Array, w: Option<&Array>, eps: f32, s: Stream) -> Result<Array> {
    let xf = f32_of(x, s);
    let ms = mx::mean(&mx::square(&xf, s)?, &[-1], true, s)?;
    let mut y = mx::multiply(&xf, &mx::rsqrt(&mx::add(&ms, eps, s)?, s)?, s)?;
    if let Some(w) = w {
        y = mx::multiply(&y, f32_of(w, s), s)?;
    }
    Ok(crate::ops::cast_to(&y, x.dtype(), s))
}

/// `(x - mean) / sqrt(var + eps) * w + b` over the last axis.
pub(crate) fn layer_norm(
    x: &Array,
    w: Option<&Array>,
    b: Option<&Array>,
    eps: f32,
    s: Stream,
) -> Result<Array> {
    let xf = f32_of(x, s);
    let mu = mx::mean(&xf, &[-1], true, s)?;
    let xc = mx::subtract(&xf, &mu, s)?;
    let var = mx::mean(&mx::square(&xc, s)?, &[-1], true, s)?;
    let mut y = mx::multiply(&xc, &mx::rsqrt(&mx::add(&var, eps, s)?, s)?, s)?;
    if let Some(w) = w {
        y = mx::multiply(&y, f32_of(w, s), s)?;
    }
    if let Some(b) = b {
        y = mx::add(&y, f32_of(b, s), s)?;
    }
    Ok(crate::ops::cast_to(&y, x.dtype(), s))
}

/// Scaled dot-product attention: `softmax(q kᵀ · scale + mask) v` with grouped heads, the causal
/// mask aligned to the end (masked scores `f32::MIN`), `mask` an f32 additive mask already
/// broadcast to `[..., Hq, Lq, Lkv]`.
pub(crate) fn attention(
    q: &Array,
    k: &Array,
    v: &Array,
    scale: f32,
    causal: bool,
    mask: Option<&Array>,
    s: Stream,
) -> Result<Array> {
    let nd = q.ndim();
    let (qs, ks, vs) = (q.shape().to_vec(), k.shape(), v.shape());
    let (hq, lq, d) = (qs[nd - 3], qs[nd - 2], qs[nd - 1]);
    let (hk, lk, dv) = (ks[nd - 3], ks[nd - 2], vs[nd - 1]);
    let r = hq / hk;
    let lead = &qs[..nd - 3];
    let with = |tail: &[i32]| -> Vec<i32> { lead.iter().chain(tail).copied().collect() };
    let qf = mx::multiply(f32_of(q, s), scale, s)?;
    let qg = mx::reshape(&qf, &with(&[hk, r, lq, d]), s)?;
    let kg = mx::reshape(&f32_of(k, s), &with(&[hk, 1, lk, d]), s)?;
    let vg = mx::reshape(&f32_of(v, s), &with(&[hk, 1, lk, dv]), s)?;
    let mut scores = mx::matmul(&qg, &mx::swapaxes(&kg, -1, -2, s)?, s)?;
    if let Some(m) = mask {
        let m = mx::reshape(m, &with(&[hk, r, lq, lk]), s)?;
        scores = mx::add(&scores, &m, s)?;
    }
    if causal {
        let qi = mx::arange((lk - lq) as f64, lk as f64, 1.0, Dtype::Int32, s)?;
        let kj = mx::arange(0.0, lk as f64, 1.0, Dtype::Int32, s)?;
        let keep = mx::greater_equal(
            &mx::reshape(&qi, &[lq, 1], s)?,
            &mx::reshape(&kj, &[1, lk], s)?,
            s,
        )?;
        scores = mx::where_(&keep, &scores, f32::MIN, s)?;
    }
    let p = mx::softmax(&scores, &[-1], s)?;
    let out = mx::matmul(&p, &vg, s)?;
    let out = mx::reshape(&out, &with(&[hq, lq, dv]), s)?;
    Ok(crate::ops::cast_to(&out, q.dtype(), s))
}
