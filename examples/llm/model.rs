//! The Llama decoder of examples/llm: weights loaded from safetensors under Hugging Face's names
//! (checked against the configuration by a `wmx::module!` tree of those names) or drawn at
//! random, a per-layer KV cache, and the forward pass (RMSNorm, RoPE, grouped-query attention
//! through `fast::scaled_dot_product_attention`, SwiGLU MLP) for a prompt or one decode step.
//! Knows nothing of tokenizers, sampling or the command line.
//!
//! Layout choices (for speed on wmx; the results are the same):
//! - Projection weights are kept transposed, `[in, out]` and dense, so `x @ w` reads both
//!   operands row-major: on a GPU that is what the vec4 and cooperative-matrix (tensor core)
//!   matmul kernels take; a transposed view would run the scalar tiled kernel. Tied embeddings
//!   get a transposed copy as the output head for the same reason.
//! - The query, key and value projections are one `[in, q + 2 kv]` weight, and the gate and up
//!   projections one `[2, in, intermediate]` stack: one product each instead of three and two
//!   (a prompt's narrow key and value products fill the GPU badly on their own), with the gate
//!   and up halves still dense for the SwiGLU that reads them.
//! - The KV cache grows by `concatenate` along the sequence axis. wmx has no in-place update
//!   (`slice_update` scatters into a copy of the whole buffer), so a preallocated cache would
//!   copy its full capacity per step and its used part would be a strided view that the
//!   attention kernel copies dense again; `concatenate` copies only what is used, once, and
//!   hands attention a dense array.

use crate::config::{Config, LlmError, Result};
use std::collections::HashMap;
use std::path::Path;
use wmx::fast::{self, AttentionMask};
use wmx::nn::{self, Module, Param};
use wmx::{self as mx, Array, Dtype};

// The checkpoint under Hugging Face's names (`model.layers.0.self_attn.q_proj.weight`, ...):
// loading into this tree checks every name and shape in one go.
struct HfAttention {
    q_proj: nn::Linear,
    k_proj: nn::Linear,
    v_proj: nn::Linear,
    o_proj: nn::Linear,
}
wmx::module!(HfAttention {
    q_proj,
    k_proj,
    v_proj,
    o_proj
});

struct HfMlp {
    gate_proj: nn::Linear,
    up_proj: nn::Linear,
    down_proj: nn::Linear,
}
wmx::module!(HfMlp {
    gate_proj,
    up_proj,
    down_proj
});

struct HfNorm {
    weight: Param,
}
wmx::module!(HfNorm { weight });

struct HfLayer {
    self_attn: HfAttention,
    mlp: HfMlp,
    input_layernorm: HfNorm,
    post_attention_layernorm: HfNorm,
}
wmx::module!(HfLayer {
    self_attn,
    mlp,
    input_layernorm,
    post_attention_layernorm
});

struct HfBody {
    embed_tokens: nn::Embedding,
    layers: Vec<HfLayer>,
    norm: HfNorm,
}
wmx::module!(HfBody {
    embed_tokens,
    layers,
    norm
});

struct HfLlama {
    model: HfBody,
    lm_head: Option<nn::Linear>,
}
wmx::module!(HfLlama { model, lm_head });

/// A placeholder of the right shape (lazy: never evaluated, replaced by the loaded weight).
fn placeholder(shape: &[i32]) -> Result<Param> {
    Ok(Param::new(mx::zeros(shape, Dtype::Float32, None)?))
}

fn linear(out_dim: i32, in_dim: i32) -> Result<nn::Linear> {
    Ok(nn::Linear {
        weight: placeholder(&[out_dim, in_dim])?,
        bias: None,
    })
}

impl HfLlama {
    fn skeleton(c: &Config) -> Result<HfLlama> {
        let (h, hd) = (c.hidden_size, c.head_dim);
        let (q, kv) = (c.num_attention_heads * hd, c.num_key_value_heads * hd);
        let layer = || -> Result<HfLayer> {
            Ok(HfLayer {
                self_attn: HfAttention {
                    q_proj: linear(q, h)?,
                    k_proj: linear(kv, h)?,
                    v_proj: linear(kv, h)?,
                    o_proj: linear(h, q)?,
                },
                mlp: HfMlp {
                    gate_proj: linear(c.intermediate_size, h)?,
                    up_proj: linear(c.intermediate_size, h)?,
                    down_proj: linear(h, c.intermediate_size)?,
                },
                input_layernorm: HfNorm {
                    weight: placeholder(&[h])?,
                },
                post_attention_layernorm: HfNorm {
                    weight: placeholder(&[h])?,
                },
            })
        };
        Ok(HfLlama {
            model: HfBody {
                embed_tokens: nn::Embedding {
                    weight: placeholder(&[c.vocab_size, h])?,
                },
                layers: (0..c.num_hidden_layers)
                    .map(|_| layer())
                    .collect::<Result<_>>()?,
                norm: HfNorm {
                    weight: placeholder(&[h])?,
                },
            },
            lm_head: if c.tie_word_embeddings {
                None
            } else {
                Some(linear(c.vocab_size, h)?)
            },
        })
    }
}

/// One decoder layer's weights, projections as `[in, out]`.
struct Layer {
    /// Queries, keys and values side by side: `[hidden, q + 2 kv]`.
    w_qkv: Array,
    wo: Array,
    /// Gate and up stacked: `[2, hidden, intermediate]`.
    w_gate_up: Array,
    w_down: Array,
    attn_norm: Array,
    mlp_norm: Array,
}

/// One layer's projections (`[in, out]`) and norm weights, before fusing.
struct LayerParts {
    wq: Array,
    wk: Array,
    wv: Array,
    wo: Array,
    w_gate: Array,
    w_up: Array,
    w_down: Array,
    attn_norm: Array,
    mlp_norm: Array,
}

impl Layer {
    /// Fuses the projections that read the same input, and evaluates the layer.
    fn new(p: LayerParts) -> Result<Layer> {
        let layer = Layer {
            w_qkv: mx::concatenate(&[&p.wq, &p.wk, &p.wv], 1, None)?,
            wo: p.wo,
            w_gate_up: mx::stack(&[&p.w_gate, &p.w_up], 0, None)?,
            w_down: p.w_down,
            attn_norm: p.attn_norm,
            mlp_norm: p.mlp_norm,
        };
        layer.eval()?;
        Ok(layer)
    }
}

/// A layer's keys and values so far, `[B, n_kv_heads, T, head_dim]` each.
#[derive(Clone, Debug, Default)]
pub struct KvCache {
    keys: Option<Array>,
    values: Option<Array>,
}

impl KvCache {
    /// Number of positions held.
    pub fn positions(&self) -> i32 {
        self.keys.as_ref().map_or(0, |k| k.shape()[2])
    }

    /// Appends this step's keys and values; returns everything held.
    fn append(&mut self, k: Array, v: Array) -> Result<(Array, Array)> {
        let (k, v) = match (&self.keys, &self.values) {
            (Some(pk), Some(pv)) => (
                mx::concatenate(&[pk, &k], 2, None)?,
                mx::concatenate(&[pv, &v], 2, None)?,
            ),
            _ => (k, v),
        };
        self.keys = Some(k.clone());
        self.values = Some(v.clone());
        Ok((k, v))
    }
}

/// A Llama decoder ready to run: weights in the compute dtype on the default device.
pub struct Llama {
    pub config: Config,
    embed: Array,
    layers: Vec<Layer>,
    norm: Array,
    /// `[hidden, vocab]`.
    head: Array,
    /// RoPE wavelengths when the scaling needs them (llama3).
    rope_freqs: Option<Array>,
    /// `silu(gate) * up`, compiled: one generated kernel instead of three passes.
    swiglu: Swiglu,
}

type Swiglu = Box<dyn Fn(&[Array]) -> mx::Result<Vec<Array>>>;

fn swiglu() -> Swiglu {
    Box::new(mx::compile(|a: &[Array]| {
        Ok(vec![mx::multiply(&nn::silu(&a[0])?, &a[1], None)?])
    }))
}

fn check_float_dtype(dtype: Dtype) -> Result<()> {
    if matches!(dtype, Dtype::Float32 | Dtype::Float16 | Dtype::Bfloat16) {
        Ok(())
    } else {
        Err(LlmError::Input(format!(
            "the compute dtype must be f32, f16 or bf16, not {dtype:?}"
        )))
    }
}

/// `w` (`[out, in]`) as a dense `[in, out]` of `dtype`.
fn transposed(w: &Array, dtype: Dtype) -> Result<Array> {
    let t = mx::transpose(&mx::astype(w, dtype, None)?, &[1, 0], None)?;
    Ok(mx::contiguous(&t, None)?)
}

impl Llama {
    /// Reads `dir/config.json` and every `dir/*.safetensors` (sharded checkpoints merge), checks
    /// names and shapes against the configuration, and prepares the weights in `dtype`.
    pub fn load(dir: &Path, dtype: Dtype) -> Result<Llama> {
        let config = Config::from_file(&dir.join("config.json"))?;
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| LlmError::Weights(format!("cannot list {}: {e}", dir.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "safetensors"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(LlmError::Weights(format!(
                "no .safetensors file in {}",
                dir.display()
            )));
        }
        let mut weights = HashMap::new();
        for f in &files {
            let (arrays, _) = mx::load_safetensors(f, None)?;
            for (name, a) in arrays {
                if weights.insert(name.clone(), a).is_some() {
                    return Err(LlmError::Weights(format!(
                        "{name} is in more than one file of {}",
                        dir.display()
                    )));
                }
            }
        }
        Llama::from_weights(config, weights, dtype)
    }

    /// Builds the model from weights under Hugging Face's names. Extra names that checkpoints
    /// carry and the model does not use (`rotary_emb.inv_freq`, `lm_head.weight` with tied
    /// embeddings) are dropped; anything else missing, unexpected or mis-shaped is an error.
    pub fn from_weights(
        config: Config,
        mut weights: HashMap<String, Array>,
        dtype: Dtype,
    ) -> Result<Llama> {
        check_float_dtype(dtype)?;
        config.validate()?;
        weights.retain(|name, _| {
            !(name.ends_with("rotary_emb.inv_freq")
                || (config.tie_word_embeddings && name == "lm_head.weight"))
        });
        let mut names: Vec<&String> = weights.keys().collect();
        names.sort();
        for name in names {
            let dt = weights[name].dtype();
            if !matches!(dt, Dtype::Float32 | Dtype::Float16 | Dtype::Bfloat16) {
                return Err(LlmError::Weights(format!(
                    "{name} has dtype {dt:?}; only float weights are supported"
                )));
            }
        }
        let mut hf = HfLlama::skeleton(&config)?;
        hf.load_params(&weights.into_iter().collect(), true)
            .map_err(|e| LlmError::Weights(e.to_string()))?;
        let HfLlama { model, lm_head } = hf;
        let embed = mx::astype(&model.embed_tokens.weight, dtype, None)?;
        let head = match &lm_head {
            Some(l) => transposed(&l.weight, dtype)?,
            None => transposed(&embed, dtype)?,
        };
        mx::eval([&embed, &head])?;
        drop(lm_head);
        let mut layers = Vec::with_capacity(model.layers.len());
        for l in model.layers {
            let cast = |p: &Param| mx::astype(p, dtype, None);
            let layer = Layer::new(LayerParts {
                wq: transposed(&l.self_attn.q_proj.weight, dtype)?,
                wk: transposed(&l.self_attn.k_proj.weight, dtype)?,
                wv: transposed(&l.self_attn.v_proj.weight, dtype)?,
                wo: transposed(&l.self_attn.o_proj.weight, dtype)?,
                w_gate: transposed(&l.mlp.gate_proj.weight, dtype)?,
                w_up: transposed(&l.mlp.up_proj.weight, dtype)?,
                w_down: transposed(&l.mlp.down_proj.weight, dtype)?,
                attn_norm: cast(&l.input_layernorm.weight)?,
                mlp_norm: cast(&l.post_attention_layernorm.weight)?,
            })?;
            // One layer at a time (evaluated by Layer::new), so the file's copy of a layer is
            // freed before the next.
            layers.push(layer);
        }
        let norm = mx::astype(&model.norm.weight, dtype, None)?;
        Llama::assemble(config, embed, layers, norm, head)
    }

    /// A model with weights drawn from `N(0, 0.02²)` (norms 1) in `dtype`, built on the default
    /// device without files: for benchmarks. The same seed gives the same weights.
    pub fn random(config: Config, dtype: Dtype, seed: u64) -> Result<Llama> {
        check_float_dtype(dtype)?;
        config.validate()?;
        let c = &config;
        let (h, hd) = (c.hidden_size, c.head_dim);
        let (q, kv, i) = (
            c.num_attention_heads * hd,
            c.num_key_value_heads * hd,
            c.intermediate_size,
        );
        let n_keys = 3 + 7 * c.num_hidden_layers;
        let keys = mx::random::split(&mx::random::key(seed), n_keys, None)?;
        let mut next = 0;
        let mut draw = |shape: &[i32]| -> Result<Array> {
            let k = mx::reshape(
                &mx::slice(&keys, &[next, 0], &[next + 1, 2], &[], None)?,
                &[2],
                None,
            )?;
            next += 1;
            let w = mx::random::normal(shape, dtype, None, Some(0.02), Some(&k), None)?;
            w.eval()?;
            Ok(w)
        };
        let ones = |n: i32| mx::ones(&[n], dtype, None);
        let embed = draw(&[c.vocab_size, h])?;
        let head = if c.tie_word_embeddings {
            mx::contiguous(&mx::transpose(&embed, &[1, 0], None)?, None)?
        } else {
            draw(&[h, c.vocab_size])?
        };
        head.eval()?;
        let mut layers = Vec::with_capacity(c.num_hidden_layers as usize);
        for _ in 0..c.num_hidden_layers {
            let layer = Layer::new(LayerParts {
                wq: draw(&[h, q])?,
                wk: draw(&[h, kv])?,
                wv: draw(&[h, kv])?,
                wo: draw(&[q, h])?,
                w_gate: draw(&[h, i])?,
                w_up: draw(&[h, i])?,
                w_down: draw(&[i, h])?,
                attn_norm: ones(h)?,
                mlp_norm: ones(h)?,
            })?;
            layers.push(layer);
        }
        let norm = ones(h)?;
        Llama::assemble(config, embed, layers, norm, head)
    }

    fn assemble(
        config: Config,
        embed: Array,
        layers: Vec<Layer>,
        norm: Array,
        head: Array,
    ) -> Result<Llama> {
        let rope_freqs = config
            .rope_freqs()
            .map(|f| Array::from_slice(&f, &[f.len() as i32]));
        norm.eval()?;
        Ok(Llama {
            config,
            embed,
            layers,
            norm,
            head,
            rope_freqs,
            swiglu: swiglu(),
        })
    }

    /// An empty cache for each layer.
    pub fn new_cache(&self) -> Vec<KvCache> {
        vec![KvCache::default(); self.layers.len()]
    }

    /// Checks host token ids against the vocabulary (the embedding lookup would clamp them).
    pub fn check_tokens(&self, tokens: &[u32]) -> Result<()> {
        let v = self.config.vocab_size as u32;
        match tokens.iter().find(|&&t| t >= v) {
            Some(t) => Err(LlmError::Input(format!(
                "token id {t} is outside the vocabulary of {v} tokens"
            ))),
            None => Ok(()),
        }
    }

    /// Logits `[B, L, vocab]` for tokens `[B, L]` (int32 or uint32) following what `cache`
    /// holds, which grows by `L`; with `last_only`, logits for the last position only
    /// (`[B, 1, vocab]`: all a generation step needs, and the prompt pass skips the head's
    /// work for the other positions). Lazy: nothing runs until the result is evaluated.
    pub fn forward(&self, tokens: &Array, cache: &mut [KvCache], last_only: bool) -> Result<Array> {
        if tokens.ndim() != 2 || !matches!(tokens.dtype(), Dtype::Int32 | Dtype::Uint32) {
            return Err(LlmError::Input(format!(
                "tokens must be int32 or uint32 of shape [batch, length], not {:?} {:?}",
                tokens.dtype(),
                tokens.shape()
            )));
        }
        if cache.len() != self.layers.len() {
            return Err(LlmError::Input(format!(
                "the cache has {} layers, the model {}",
                cache.len(),
                self.layers.len()
            )));
        }
        let (b, l) = (tokens.shape()[0], tokens.shape()[1]);
        let offset = cache[0].positions();
        let mut x = mx::take(&self.embed, tokens, 0, None)?;
        for (layer, c) in self.layers.iter().zip(cache.iter_mut()) {
            x = self.layer(layer, &x, c, offset)?;
        }
        if last_only && l > 1 {
            let h = self.config.hidden_size;
            x = mx::slice(&x, &[0, l - 1, 0], &[b, l, h], &[], None)?;
        }
        let x = fast::rms_norm(&x, Some(&self.norm), self.config.rms_norm_eps, None)?;
        Ok(mx::matmul(&x, &self.head, None)?)
    }

    fn layer(&self, w: &Layer, x: &Array, cache: &mut KvCache, offset: i32) -> Result<Array> {
        let eps = self.config.rms_norm_eps;
        let h = fast::rms_norm(x, Some(&w.attn_norm), eps, None)?;
        let x = mx::add(x, &self.attention(w, &h, cache, offset)?, None)?;
        let h = fast::rms_norm(&x, Some(&w.mlp_norm), eps, None)?;
        // [B, 1, L, hidden] @ [2, hidden, I] -> [B, 2, L, I]: gate and up, each dense for B = 1.
        let (b, l, i) = (x.shape()[0], x.shape()[1], self.config.intermediate_size);
        let h = mx::reshape(&h, &[b, 1, l, self.config.hidden_size], None)?;
        let gate_up = mx::matmul(&h, &w.w_gate_up, None)?;
        let half = |j: i32| -> Result<Array> {
            let y = mx::slice(&gate_up, &[0, j, 0, 0], &[b, j + 1, l, i], &[], None)?;
            Ok(mx::reshape(&y, &[b, l, i], None)?)
        };
        let act = (self.swiglu)(&[half(0)?, half(1)?])?.remove(0);
        let mlp = mx::matmul(&act, &w.w_down, None)?;
        Ok(mx::add(&x, &mlp, None)?)
    }

    fn attention(&self, w: &Layer, x: &Array, cache: &mut KvCache, offset: i32) -> Result<Array> {
        let c = &self.config;
        let (b, l) = (x.shape()[0], x.shape()[1]);
        let hd = c.head_dim;
        // [B, L, heads * hd] -> [B, heads, L, hd] (a view; dense when L = 1).
        let heads = |y: Array, n: i32| -> Result<Array> {
            let y = mx::reshape(&y, &[b, l, n, hd], None)?;
            Ok(mx::transpose(&y, &[0, 2, 1, 3], None)?)
        };
        let rope = |y: &Array| -> Result<Array> {
            let base = match self.rope_freqs {
                Some(_) => None,
                None => Some(c.rope_theta as f32),
            };
            Ok(fast::rope(
                y,
                hd,
                false,
                base,
                c.rope_position_scale(),
                offset,
                self.rope_freqs.as_ref(),
                None,
            )?)
        };
        let (nq, nkv) = (c.num_attention_heads * hd, c.num_key_value_heads * hd);
        let qkv = mx::matmul(x, &w.w_qkv, None)?;
        let part = |from: i32, width: i32| -> Result<Array> {
            Ok(mx::slice(
                &qkv,
                &[0, 0, from],
                &[b, l, from + width],
                &[],
                None,
            )?)
        };
        let q = rope(&heads(part(0, nq)?, c.num_attention_heads)?)?;
        let k = rope(&heads(part(nq, nkv)?, c.num_key_value_heads)?)?;
        let v = heads(part(nq + nkv, nkv)?, c.num_key_value_heads)?;
        let (k, v) = cache.append(k, v)?;
        // Causal aligns queries to the end of the keys, which is right after a cache.
        let mask = (l > 1).then_some(AttentionMask::Causal);
        let scale = 1.0 / (hd as f32).sqrt();
        let o = fast::scaled_dot_product_attention(&q, &k, &v, scale, mask, None)?;
        let o = mx::reshape(
            &mx::transpose(&o, &[0, 2, 1, 3], None)?,
            &[b, l, c.num_attention_heads * hd],
            None,
        )?;
        Ok(mx::matmul(&o, &w.wo, None)?)
    }
}

impl Layer {
    fn eval(&self) -> Result<()> {
        Ok(mx::eval([
            &self.w_qkv,
            &self.wo,
            &self.w_gate_up,
            &self.w_down,
            &self.attn_norm,
            &self.mlp_norm,
        ])?)
    }
}
