//! `wmx::fast`, MLX's `mx.fast`: RMS and layer normalisation, rotary position embeddings and
//! scaled dot-product attention as single primitives with dedicated kernels on both devices.
//! This file validates arguments, promotes dtypes and builds the nodes; `composite.rs` holds the
//! same computations written with ordinary ops (the references the transform rules differentiate,
//! and the GPU's fallback for shapes its kernels do not take); `rules.rs` the vjp/jvp/vmap rules.
//!
//! [`wgsl_kernel`] is MLX's `mx.fast.metal_kernel` for WGSL: a kernel whose body you write, run
//! on a GPU stream like any op (`kernel.rs`, `kernel_call.rs`, `kernel_source.rs`).

pub(crate) mod composite;
pub(crate) mod kernel;
pub(crate) mod kernel_call;
pub(crate) mod kernel_source;
pub(crate) mod rules;

pub use kernel::{WgslKernel, wgsl_kernel};
pub use kernel_call::{KernelCall, TemplateArg};

use crate::array::Array;
use crate::dtype::{Dtype, promote_types};
use crate::error::{Result, dtype_err, shape_err, value_err};
use crate::ops::node;
use crate::primitive::Primitive;
use crate::shape::fmt_shape;
use crate::stream::{Stream, StreamOrDevice};

/// A mask for [`scaled_dot_product_attention`].
#[derive(Copy, Clone, Debug)]
pub enum AttentionMask<'a> {
    /// Query `i` attends to keys `j <= i + L_kv - L_q` (aligned to the end, as MLX does).
    Causal,
    /// A boolean (`true` = keep) or additive float mask broadcastable to
    /// `[B, n_q_heads, L_q, L_kv]`.
    Array(&'a Array),
}

/// The output dtype of a norm: `x`'s promoted with its weight and bias (MLX's rule).
fn norm_dtype(op: &'static str, x: &Array, params: &[Option<&Array>]) -> Result<Dtype> {
    if x.ndim() == 0 {
        return Err(value_err(
            op,
            "Input must have at least 1 dimension but got input with 0 dimensions.",
        ));
    }
    let d = x.shape()[x.ndim() - 1];
    let mut dt = x.dtype();
    for (name, p) in ["weight", "bias"].iter().zip(params) {
        let Some(p) = p else { continue };
        if p.ndim() != 1 || p.shape()[0] != d {
            return Err(shape_err(
                op,
                format!(
                    "{name} must have 1 dimension of the input's last dimension ({d}) but has shape {}.",
                    fmt_shape(p.shape())
                ),
            ));
        }
        dt = promote_types(dt, p.dtype());
    }
    if !dt.is_float() {
        return Err(dtype_err(op, format!("Received unsupported type {dt:?}.")));
    }
    Ok(dt)
}

/// RMS normalisation over the last axis: `x / sqrt(mean(x²) + eps) * weight`, computed in f32;
/// the output has `x`'s dtype promoted with the weight's (MLX's `mx.fast.rms_norm`).
///
/// ```
/// use wmx::{Array, fast};
/// let x = Array::from_slice(&[3.0f32, 4.0], &[1, 2]);
/// let w = Array::from_slice(&[1.0f32, 2.0], &[2]);
/// let y = fast::rms_norm(&x, Some(&w), 0.0, None).unwrap().to_vec::<f32>().unwrap();
/// let r = (12.5f32).sqrt();
/// assert!((y[0] - 3.0 / r).abs() < 1e-6 && (y[1] - 8.0 / r).abs() < 1e-6);
/// ```
pub fn rms_norm(
    x: &Array,
    weight: Option<&Array>,
    eps: f32,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let op = "rms_norm";
    let st = s.into().resolve(op)?;
    let dt = norm_dtype(op, x, &[weight])?;
    let mut inputs = vec![crate::ops::cast_to(x, dt, st)];
    inputs.extend(weight.map(|w| crate::ops::cast_to(w, dt, st)));
    node(
        x.shape().to_vec(),
        dt,
        st,
        Primitive::RmsNorm {
            eps,
            has_weight: weight.is_some(),
        },
        inputs,
    )
}

/// Layer normalisation over the last axis: `(x - mean) / sqrt(var + eps) * weight + bias`,
/// computed in f32; weight and bias are optional; the output has `x`'s dtype promoted with
/// theirs (MLX's `mx.fast.layer_norm`).
///
/// ```
/// use wmx::{Array, fast};
/// let x = Array::from_slice(&[1.0f32, 3.0], &[2]);
/// let b = Array::from_slice(&[0.5f32, 0.5], &[2]);
/// let y = fast::layer_norm(&x, None, Some(&b), 0.0, None).unwrap().to_vec::<f32>().unwrap();
/// assert_eq!(y, vec![-0.5, 1.5]);
/// ```
pub fn layer_norm(
    x: &Array,
    weight: Option<&Array>,
    bias: Option<&Array>,
    eps: f32,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let op = "layer_norm";
    let st = s.into().resolve(op)?;
    let dt = norm_dtype(op, x, &[weight, bias])?;
    let mut inputs = vec![crate::ops::cast_to(x, dt, st)];
    inputs.extend(weight.map(|w| crate::ops::cast_to(w, dt, st)));
    inputs.extend(bias.map(|b| crate::ops::cast_to(b, dt, st)));
    node(
        x.shape().to_vec(),
        dt,
        st,
        Primitive::LayerNorm {
            eps,
            has_weight: weight.is_some(),
            has_bias: bias.is_some(),
        },
        inputs,
    )
}

/// Rotary position embedding over the last axis of `x` (`[..., T, D]`, at least 3 dimensions),
/// positions along axis -2 starting at `offset`, times `scale`. The first `dims` features rotate
/// (the rest pass through): in pairs `(2i, 2i+1)` when `traditional`, else `(i, i + dims/2)`;
/// pair `i` turns by `position * base^(-2i/dims)`, or by `position / freqs[i]` when `freqs`
/// (shape `[dims/2]`) is given instead of `base` (MLX's `mx.fast.rope`).
///
/// ```
/// use wmx::{Array, fast};
/// let x = Array::from_slice(&[1.0f32, 0.0, 1.0, 0.0], &[1, 2, 2]);
/// let y = fast::rope(&x, 2, true, Some(10000.0), 1.0, 0, None, None).unwrap();
/// let y = y.to_vec::<f32>().unwrap();
/// assert_eq!(&y[..2], &[1.0, 0.0]); // position 0: unchanged
/// assert!((y[2] - 1f32.cos()).abs() < 1e-6 && (y[3] - 1f32.sin()).abs() < 1e-6);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn rope(
    x: &Array,
    dims: i32,
    traditional: bool,
    base: Option<f32>,
    scale: f32,
    offset: i32,
    freqs: Option<&Array>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let op = "rope";
    let st = s.into().resolve(op)?;
    if x.ndim() < 3 {
        return Err(shape_err(
            op,
            format!(
                "Input must have at least 3 dimensions but got input with {} dimensions.",
                x.ndim()
            ),
        ));
    }
    if !x.dtype().is_float() {
        return Err(dtype_err(
            op,
            format!("Input must be a floating type but got {:?}.", x.dtype()),
        ));
    }
    let d = x.shape()[x.ndim() - 1];
    if dims <= 0 || dims % 2 != 0 || dims > d {
        return Err(value_err(
            op,
            format!(
                "dims must be positive, even and at most the last dimension ({d}) but got {dims}."
            ),
        ));
    }
    let base = match (base, freqs) {
        (Some(_), Some(_)) => {
            return Err(value_err(op, "Only one of base or freqs can have a value."));
        }
        (None, None) => return Err(value_err(op, "Neither base nor freqs has a value.")),
        (Some(b), None) => b,
        (None, Some(f)) => {
            if f.ndim() != 1 || f.shape()[0] != dims / 2 {
                return Err(shape_err(
                    op,
                    format!(
                        "freqs must be one dimensional with size {} but got shape {}.",
                        dims / 2,
                        fmt_shape(f.shape())
                    ),
                ));
            }
            1.0
        }
    };
    let mut inputs = vec![x.clone()];
    if let Some(f) = freqs {
        inputs.push(crate::ops::cast_to(f, Dtype::Float32, st));
    }
    node(
        x.shape().to_vec(),
        x.dtype(),
        st,
        Primitive::Rope {
            dims,
            traditional,
            base,
            scale,
            offset,
            inverse: false,
        },
        inputs,
    )
}

/// Scaled dot-product attention `softmax(q kᵀ · scale + mask) v` (MLX's
/// `mx.fast.scaled_dot_product_attention`): `q` is `[B, n_q_heads, L_q, D]`, `k` and `v` are
/// `[B, n_kv_heads, L_kv, D]` (more leading batch dimensions are allowed), `n_q_heads` a multiple
/// of `n_kv_heads` (grouped-query attention). A boolean mask keeps `true` entries; a fully
/// masked row averages `v` as MLX's does. Computed with f32 accumulation; the output has the
/// promoted dtype of `q`, `k` and `v`.
///
/// ```
/// use wmx::{Array, fast};
/// let q = Array::from_slice(&[1.0f32, 0.0, 0.0, 1.0], &[1, 1, 2, 2]);
/// let v = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[1, 1, 2, 2]);
/// let y = fast::scaled_dot_product_attention(&q, &q, &v, 1.0, Some(fast::AttentionMask::Causal), None)
///     .unwrap().to_vec::<f32>().unwrap();
/// assert_eq!(&y[..2], &[1.0, 2.0]); // the first query sees only the first key
/// let p = 1.0 / (1.0 + 1f32.exp()); // the second sees both, weights softmax([0, 1])
/// assert!((y[2] - (p * 1.0 + (1.0 - p) * 3.0)).abs() < 1e-5);
/// ```
pub fn scaled_dot_product_attention(
    q: &Array,
    k: &Array,
    v: &Array,
    scale: f32,
    mask: Option<AttentionMask<'_>>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let st = s.into().resolve(SDPA)?;
    let (causal, additive) = match mask {
        None => (false, None),
        Some(AttentionMask::Causal) => (true, None),
        Some(AttentionMask::Array(m)) => {
            let dt = promote_types(promote_types(q.dtype(), k.dtype()), v.dtype());
            if m.dtype() != Dtype::Bool && promote_types(m.dtype(), dt) != dt {
                return Err(dtype_err(
                    SDPA,
                    format!(
                        "Mask type must promote to output type {dt:?} but got {:?}.",
                        m.dtype()
                    ),
                ));
            }
            (false, Some(additive_mask(m, st)?))
        }
    };
    attention(q, k, v, scale, causal, additive.as_ref(), st)
}

pub(crate) const SDPA: &str = "scaled_dot_product_attention";

/// A boolean mask as an additive f32 one (`0` kept, `f32::MIN` masked: MLX's `finfo.min`, so a
/// fully masked row stays finite); float masks as f32.
fn additive_mask(m: &Array, st: Stream) -> Result<Array> {
    if m.dtype() == Dtype::Bool {
        crate::ops::binary::where_(m, 0.0f32, f32::MIN, st)
    } else {
        Ok(crate::ops::cast_to(m, Dtype::Float32, st))
    }
}

/// The checked body of [`scaled_dot_product_attention`] with an f32 additive mask (also what the
/// vmap rule calls).
pub(crate) fn attention(
    q: &Array,
    k: &Array,
    v: &Array,
    scale: f32,
    causal: bool,
    mask: Option<&Array>,
    st: Stream,
) -> Result<Array> {
    let nd = q.ndim();
    for (name, t) in [("queries", q), ("keys", k), ("values", v)] {
        if t.ndim() < 4 || t.ndim() != nd {
            return Err(shape_err(
                SDPA,
                format!(
                    "{name} with shape {} expected to be rank 4 (or more, all of one rank).",
                    fmt_shape(t.shape())
                ),
            ));
        }
    }
    let (qs, ks, vs) = (q.shape(), k.shape(), v.shape());
    if ks[..nd - 3] != qs[..nd - 3] || vs[..nd - 3] != qs[..nd - 3] {
        return Err(shape_err(
            SDPA,
            format!(
                "mismatching batch dimensions: queries {}, keys {}, values {}.",
                fmt_shape(qs),
                fmt_shape(ks),
                fmt_shape(vs)
            ),
        ));
    }
    let (hq, d) = (qs[nd - 3], qs[nd - 1]);
    let (hk, lk) = (ks[nd - 3], ks[nd - 2]);
    if ks[nd - 1] != d || vs[nd - 3] != hk || vs[nd - 2] != lk {
        return Err(shape_err(
            SDPA,
            format!(
                "queries {}, keys {} and values {} do not match: keys need the queries' last dimension, values the keys' heads and length.",
                fmt_shape(qs),
                fmt_shape(ks),
                fmt_shape(vs)
            ),
        ));
    }
    if hk == 0 || hq % hk != 0 {
        return Err(value_err(
            SDPA,
            format!(
                "n_heads must be a multiple of n_kv_heads, found n_heads {hq} for n_kv_heads {hk}."
            ),
        ));
    }
    let dt = promote_types(promote_types(q.dtype(), k.dtype()), v.dtype());
    if !dt.is_float() {
        return Err(dtype_err(
            SDPA,
            format!("Received unsupported type {dt:?}."),
        ));
    }
    let (q, k, v) = (
        crate::ops::cast_to(q, dt, st),
        crate::ops::cast_to(k, dt, st),
        crate::ops::cast_to(v, dt, st),
    );
    let mut mask_shape = qs.to_vec();
    mask_shape[nd - 1] = lk;
    let mask = match mask {
        Some(m) => {
            if m.ndim() > nd {
                return Err(shape_err(
                    SDPA,
                    format!(
                        "the mask with shape {} expected to have at most rank {nd}.",
                        fmt_shape(m.shape())
                    ),
                ));
            }
            Some(crate::ops::shape::broadcast_to(m, &mask_shape, st)?)
        }
        None => None,
    };
    let dv = vs[nd - 1];
    let mut out_shape = qs.to_vec();
    out_shape[nd - 1] = dv;
    if nd > 4 || !kernel_fits(st, d, dv) {
        return flat_or_composite(&q, &k, &v, scale, causal, mask.as_ref(), &out_shape, st);
    }
    let mut inputs = vec![q, k, v];
    inputs.extend(mask);
    node(
        out_shape,
        dt,
        st,
        Primitive::Attention { scale, causal },
        inputs,
    )
}

/// Leading batch dimensions folded into one (then the primitive), or, where the device's
/// kernel cannot take the head dimension, the composite.
#[allow(clippy::too_many_arguments)]
fn flat_or_composite(
    q: &Array,
    k: &Array,
    v: &Array,
    scale: f32,
    causal: bool,
    mask: Option<&Array>,
    out_shape: &[i32],
    st: Stream,
) -> Result<Array> {
    let nd = q.ndim();
    if !kernel_fits(st, q.shape()[nd - 1], v.shape()[nd - 1]) {
        return composite::attention(q, k, v, scale, causal, mask, st);
    }
    let fold = |a: &Array| -> Result<Array> {
        let sh = a.shape();
        crate::ops::shape::reshape(a, &[-1, sh[nd - 3], sh[nd - 2], sh[nd - 1]], st)
    };
    let m = match mask {
        Some(m) => Some(fold(m)?),
        None => None,
    };
    let r = attention(
        &fold(q)?,
        &fold(k)?,
        &fold(v)?,
        scale,
        causal,
        m.as_ref(),
        st,
    )?;
    crate::ops::shape::reshape(&r, out_shape, st)
}

/// True when the stream's device has an attention kernel for head dimensions `d` and `dv`.
fn kernel_fits(st: Stream, d: i32, dv: i32) -> bool {
    crate::backend::attention_fits(st.device(), d as u32, dv as u32)
}
