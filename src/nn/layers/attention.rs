//! Multi-head attention, MLX's `nn.MultiHeadAttention`: query/key/value/output projections
//! (no bias by default) around scaled dot-product attention with an optional additive mask.

use crate::array::Array;
use crate::dtype::Dtype;
use crate::error::{Result, shape_err, value_err};
use crate::nn::init;
use crate::nn::layers::Linear;
use crate::nn::module::UnaryModule;

/// Attention over `num_heads` heads: `queries [B, L, query_input_dims]`,
/// `keys [B, S, key_input_dims]`, `values [B, S, value_input_dims]` → `[B, L, value_output_dims]`.
///
/// ```
/// use wmx::nn::{Module, MultiHeadAttention};
/// let m = MultiHeadAttention::new(8, 2, false, Some(&wmx::random::key(0))).unwrap();
/// let x = wmx::random::normal(&[1, 3, 8], wmx::Dtype::Float32, None, None, Some(&wmx::random::key(1)), None).unwrap();
/// let mask = MultiHeadAttention::create_additive_causal_mask(3, wmx::Dtype::Float32).unwrap();
/// let y = m.forward(&x, &x, &x, Some(&mask)).unwrap();
/// assert_eq!(y.shape(), &[1, 3, 8]);
/// assert!(m.parameters().contains_key("query_proj.weight"));
/// ```
#[derive(Clone, Debug)]
pub struct MultiHeadAttention {
    /// Queries → `dims`.
    pub query_proj: Linear,
    /// Keys → `dims`.
    pub key_proj: Linear,
    /// Values → `value_dims`.
    pub value_proj: Linear,
    /// `value_dims` → output.
    pub out_proj: Linear,
    /// Number of heads.
    pub num_heads: i32,
}
crate::module!(MultiHeadAttention {
    query_proj,
    key_proj,
    value_proj,
    out_proj
});

impl MultiHeadAttention {
    /// Self-attention sizes: every input and output has `dims` features.
    pub fn new(
        dims: i32,
        num_heads: i32,
        bias: bool,
        key: Option<&Array>,
    ) -> Result<MultiHeadAttention> {
        Self::with_dims(dims, num_heads, [dims, dims, dims, dims, dims], bias, key)
    }

    /// All sizes: `[query_input, key_input, value_input, value, value_output]` dims.
    pub fn with_dims(
        dims: i32,
        num_heads: i32,
        io: [i32; 5],
        bias: bool,
        key: Option<&Array>,
    ) -> Result<MultiHeadAttention> {
        let [qi, ki, vi, vd, vo] = io;
        if num_heads <= 0 || dims % num_heads != 0 || vd % num_heads != 0 {
            return Err(value_err(
                "nn::MultiHeadAttention",
                format!(
                    "The input feature dimensions ({dims}, {vd}) must be divisible by the number of heads ({num_heads})."
                ),
            ));
        }
        let ks = init::split_keys(key, 4)?;
        Ok(MultiHeadAttention {
            query_proj: Linear::new(qi, dims, bias, ks[0].as_ref())?,
            key_proj: Linear::new(ki, dims, bias, ks[1].as_ref())?,
            value_proj: Linear::new(vi, vd, bias, ks[2].as_ref())?,
            out_proj: Linear::new(vd, vo, bias, ks[3].as_ref())?,
            num_heads,
        })
    }

    /// `[B, L, H·d]` → `[B, H, L, d]`.
    fn heads(&self, x: &Array) -> Result<Array> {
        let s = x.shape();
        if s.len() != 3 {
            return Err(shape_err(
                "nn::MultiHeadAttention",
                format!("Expected inputs [B, L, dims], got shape {s:?}."),
            ));
        }
        let r = crate::reshape(x, &[s[0], s[1], self.num_heads, -1], None)?;
        crate::transpose(&r, &[0, 2, 1, 3], None)
    }

    /// Attends from `queries` to `keys`/`values`; `mask` is added to the scores (broadcast to
    /// `[B, H, L, S]`).
    pub fn forward(
        &self,
        queries: &Array,
        keys: &Array,
        values: &Array,
        mask: Option<&Array>,
    ) -> Result<Array> {
        let q = self.heads(&self.query_proj.forward(queries)?)?;
        let k = self.heads(&self.key_proj.forward(keys)?)?;
        let v = self.heads(&self.value_proj.forward(values)?)?;
        let scale = 1.0 / (*q.shape().last().unwrap_or(&1) as f32).sqrt();
        let kt = crate::swapaxes(&k, -1, -2, None)?;
        let mut scores = crate::matmul(&crate::multiply(&q, scale, None)?, &kt, None)?;
        if let Some(m) = mask {
            scores = crate::add(&scores, m, None)?;
        }
        let o = crate::matmul(&crate::softmax(&scores, &[-1], None)?, &v, None)?;
        let (b, l) = (queries.shape()[0], queries.shape()[1]);
        let o = crate::reshape(
            &crate::transpose(&o, &[0, 2, 1, 3], None)?,
            &[b, l, -1],
            None,
        )?;
        self.out_proj.forward(&o)
    }

    /// `[n, n]` with 0 on and below the diagonal and the dtype's lowest finite value above
    /// (MLX's `create_additive_causal_mask`).
    ///
    /// ```
    /// let m = wmx::nn::MultiHeadAttention::create_additive_causal_mask(2, wmx::Dtype::Float32).unwrap();
    /// let v = m.to_vec::<f32>().unwrap();
    /// assert_eq!(v[0], 0.0);
    /// assert!(v[1] < -1e8);
    /// ```
    pub fn create_additive_causal_mask(n: i32, dtype: Dtype) -> Result<Array> {
        let i = crate::arange(0.0, n as f64, 1.0, Dtype::Int32, None)?;
        let row = crate::expand_dims(&i, &[1], None)?;
        let col = crate::expand_dims(&i, &[0], None)?;
        let above = crate::less(&row, &col, None)?;
        let lowest = match dtype {
            Dtype::Float16 => -65504.0,
            Dtype::Bfloat16 => -3.389_531_4e38,
            Dtype::Float32 => f32::MIN,
            d => {
                return Err(crate::error::dtype_err(
                    "nn::MultiHeadAttention",
                    format!("The causal mask must be a float dtype, got {d}."),
                ));
            }
        };
        crate::multiply(&crate::astype(&above, dtype, None)?, lowest, None)
    }
}
