//! The Llama configuration of examples/llm: Hugging Face's `config.json` fields (with
//! `LlamaConfig`'s defaults where a field may be left out), the checks that make a bad file a
//! clear error before any weight is read, RoPE scaling (none, `linear`, `llama3`), and the
//! presets `--random` builds (`1b` is shaped like Llama 3.2 1B). Owns no arrays.

use std::fmt;
use std::path::Path;

/// What can go wrong in examples/llm, each with a message naming the file, field or value.
#[derive(Debug)]
pub enum LlmError {
    /// A config.json that is missing a field, has a wrong type, or inconsistent dimensions.
    Config(String),
    /// Weight files that do not match the configuration (missing, unexpected, mis-shaped).
    Weights(String),
    /// Bad input at run time: token ids out of range, a sequence past the maximum length.
    Input(String),
    /// An error from wmx itself.
    Mx(wmx::Error),
}

impl fmt::Display for LlmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LlmError::Config(m) => write!(f, "config: {m}"),
            LlmError::Weights(m) => write!(f, "weights: {m}"),
            LlmError::Input(m) => write!(f, "input: {m}"),
            LlmError::Mx(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for LlmError {}

impl From<wmx::Error> for LlmError {
    fn from(e: wmx::Error) -> Self {
        LlmError::Mx(e)
    }
}

/// examples/llm's result type.
pub type Result<T> = std::result::Result<T, LlmError>;

/// How RoPE positions are stretched for long contexts (`rope_scaling` in config.json).
#[derive(Clone, Debug, PartialEq)]
pub enum RopeScaling {
    /// Positions divided by `factor`.
    Linear { factor: f64 },
    /// Llama 3.1's rule: low frequencies divided by `factor`, high ones kept, a smooth blend
    /// between the wavelengths `original / high_freq_factor` and `original / low_freq_factor`.
    Llama3 {
        factor: f64,
        low_freq_factor: f64,
        high_freq_factor: f64,
        original_max_position_embeddings: f64,
    },
}

/// A Llama decoder's shape and constants.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub hidden_size: i32,
    pub intermediate_size: i32,
    pub num_hidden_layers: i32,
    pub num_attention_heads: i32,
    pub num_key_value_heads: i32,
    pub head_dim: i32,
    pub rms_norm_eps: f32,
    pub rope_theta: f64,
    pub rope_scaling: Option<RopeScaling>,
    pub vocab_size: i32,
    pub tie_word_embeddings: bool,
    pub max_position_embeddings: i32,
    /// Tokens that end generation (`eos_token_id`: one id or a list; may be absent).
    pub eos_token_ids: Vec<u32>,
}

type Json = serde_json::Map<String, serde_json::Value>;

fn int(o: &Json, name: &str, default: Option<i64>) -> Result<i32> {
    let v = match (o.get(name), default) {
        (None | Some(serde_json::Value::Null), Some(d)) => return to_i32(name, d),
        (None, None) => return Err(LlmError::Config(format!("missing field `{name}`"))),
        (Some(v), _) => v,
    };
    let n = v
        .as_i64()
        .ok_or_else(|| LlmError::Config(format!("field `{name}` must be an integer but is {v}")))?;
    to_i32(name, n)
}

fn to_i32(name: &str, n: i64) -> Result<i32> {
    if n <= 0 || n > i32::MAX as i64 {
        return Err(LlmError::Config(format!(
            "field `{name}` must be a positive integer below 2^31 but is {n}"
        )));
    }
    Ok(n as i32)
}

fn float(o: &Json, name: &str, default: Option<f64>) -> Result<f64> {
    let v = match (o.get(name), default) {
        (None | Some(serde_json::Value::Null), Some(d)) => return Ok(d),
        (None, None) => return Err(LlmError::Config(format!("missing field `{name}`"))),
        (Some(v), _) => v,
    };
    match v.as_f64() {
        Some(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(LlmError::Config(format!(
            "field `{name}` must be a positive number but is {v}"
        ))),
    }
}

fn boolean(o: &Json, name: &str, default: bool) -> Result<bool> {
    match o.get(name) {
        None | Some(serde_json::Value::Null) => Ok(default),
        Some(v) => v.as_bool().ok_or_else(|| {
            LlmError::Config(format!("field `{name}` must be true or false but is {v}"))
        }),
    }
}

fn rope_scaling(o: &Json) -> Result<Option<RopeScaling>> {
    let s = match o.get("rope_scaling") {
        None | Some(serde_json::Value::Null) => return Ok(None),
        Some(serde_json::Value::Object(s)) => s,
        Some(v) => {
            return Err(LlmError::Config(format!(
                "field `rope_scaling` must be an object or null but is {v}"
            )));
        }
    };
    // Older files name the kind `type`, newer ones `rope_type`.
    let kind = s
        .get("rope_type")
        .or_else(|| s.get("type"))
        .and_then(|v| v.as_str())
        .ok_or_else(|| LlmError::Config("`rope_scaling` has no `rope_type`".into()))?;
    let ctx = |e: LlmError| match e {
        LlmError::Config(m) => LlmError::Config(format!("rope_scaling: {m}")),
        e => e,
    };
    match kind {
        "default" => Ok(None),
        "linear" => Ok(Some(RopeScaling::Linear {
            factor: float(s, "factor", None).map_err(ctx)?,
        })),
        "llama3" => {
            let low = float(s, "low_freq_factor", None).map_err(ctx)?;
            let high = float(s, "high_freq_factor", None).map_err(ctx)?;
            if high <= low {
                return Err(LlmError::Config(format!(
                    "rope_scaling: high_freq_factor ({high}) must exceed low_freq_factor ({low})"
                )));
            }
            Ok(Some(RopeScaling::Llama3 {
                factor: float(s, "factor", None).map_err(ctx)?,
                low_freq_factor: low,
                high_freq_factor: high,
                original_max_position_embeddings: float(
                    s,
                    "original_max_position_embeddings",
                    None,
                )
                .map_err(ctx)?,
            }))
        }
        other => Err(LlmError::Config(format!(
            "rope_scaling type `{other}` is not supported (default, linear and llama3 are)"
        ))),
    }
}

fn eos_ids(o: &Json) -> Result<Vec<u32>> {
    let bad = |v: &serde_json::Value| {
        LlmError::Config(format!(
            "field `eos_token_id` must be a token id or a list of them but is {v}"
        ))
    };
    let id = |v: &serde_json::Value| -> Result<u32> {
        v.as_u64()
            .and_then(|x| u32::try_from(x).ok())
            .ok_or_else(|| bad(v))
    };
    match o.get("eos_token_id") {
        None | Some(serde_json::Value::Null) => Ok(Vec::new()),
        Some(serde_json::Value::Array(a)) => a.iter().map(id).collect(),
        Some(v) => Ok(vec![id(v)?]),
    }
}

impl Config {
    /// Parses a Hugging Face `config.json` of a Llama model and checks it.
    pub fn from_json(text: &str) -> Result<Config> {
        let v: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| LlmError::Config(format!("not valid JSON: {e}")))?;
        let o = v
            .as_object()
            .ok_or_else(|| LlmError::Config("config.json must hold a JSON object".into()))?;
        if let Some(t) = o.get("model_type")
            && t.as_str() != Some("llama")
        {
            return Err(LlmError::Config(format!(
                "model_type {t} is not supported (only \"llama\")"
            )));
        }
        for flag in ["attention_bias", "mlp_bias"] {
            if boolean(o, flag, false)? {
                return Err(LlmError::Config(format!(
                    "`{flag}: true` is not supported (Llama projections have no bias)"
                )));
            }
        }
        let hidden_size = int(o, "hidden_size", None)?;
        let num_attention_heads = int(o, "num_attention_heads", None)?;
        let head_dim = match o.get("head_dim") {
            None | Some(serde_json::Value::Null) => {
                if hidden_size % num_attention_heads != 0 {
                    return Err(LlmError::Config(format!(
                        "hidden_size ({hidden_size}) is not a multiple of num_attention_heads \
                         ({num_attention_heads}) and no head_dim is given"
                    )));
                }
                hidden_size / num_attention_heads
            }
            Some(_) => int(o, "head_dim", None)?,
        };
        let c = Config {
            hidden_size,
            intermediate_size: int(o, "intermediate_size", None)?,
            num_hidden_layers: int(o, "num_hidden_layers", None)?,
            num_attention_heads,
            num_key_value_heads: int(o, "num_key_value_heads", Some(num_attention_heads as i64))?,
            head_dim,
            rms_norm_eps: float(o, "rms_norm_eps", Some(1e-6))? as f32,
            rope_theta: float(o, "rope_theta", Some(10000.0))?,
            rope_scaling: rope_scaling(o)?,
            vocab_size: int(o, "vocab_size", None)?,
            tie_word_embeddings: boolean(o, "tie_word_embeddings", false)?,
            max_position_embeddings: int(o, "max_position_embeddings", Some(2048))?,
            eos_token_ids: eos_ids(o)?,
        };
        c.validate()?;
        Ok(c)
    }

    /// Reads and parses `path` (a config.json).
    pub fn from_file(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| LlmError::Config(format!("cannot read {}: {e}", path.display())))?;
        Config::from_json(&text).map_err(|e| match e {
            LlmError::Config(m) => LlmError::Config(format!("{}: {m}", path.display())),
            e => e,
        })
    }

    /// Checks that the dimensions agree with each other and with what the model can run.
    pub fn validate(&self) -> Result<()> {
        let (h, kv) = (self.num_attention_heads, self.num_key_value_heads);
        if h % kv != 0 {
            return Err(LlmError::Config(format!(
                "num_attention_heads ({h}) must be a multiple of num_key_value_heads ({kv})"
            )));
        }
        if self.head_dim % 2 != 0 {
            return Err(LlmError::Config(format!(
                "head_dim ({}) must be even for rotary embeddings",
                self.head_dim
            )));
        }
        if self.rms_norm_eps.is_nan() || self.rms_norm_eps <= 0.0 {
            return Err(LlmError::Config(format!(
                "rms_norm_eps must be positive but is {}",
                self.rms_norm_eps
            )));
        }
        let dims = [
            ("hidden_size", self.hidden_size),
            ("intermediate_size", self.intermediate_size),
            ("vocab_size", self.vocab_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("head_dim", self.head_dim),
        ];
        if let Some((name, d)) = dims.iter().find(|(_, d)| *d <= 0) {
            return Err(LlmError::Config(format!(
                "{name} must be positive but is {d}"
            )));
        }
        if let Some(&id) = self
            .eos_token_ids
            .iter()
            .find(|&&id| id >= self.vocab_size as u32)
        {
            return Err(LlmError::Config(format!(
                "eos_token_id {id} is outside the vocabulary of {} tokens",
                self.vocab_size
            )));
        }
        Ok(())
    }

    /// A configuration for random weights: `1b` (shaped like Llama 3.2 1B: hidden 2048, 16
    /// layers, 32 query and 8 key/value heads of 64, MLP 8192, vocabulary 128256, tied
    /// embeddings, llama3 RoPE scaling), `small` (hidden 512, 4 layers) or `tiny` (the shape of
    /// examples/llm/tiny).
    pub fn preset(name: &str) -> Option<Config> {
        let base = Config {
            hidden_size: 2048,
            intermediate_size: 8192,
            num_hidden_layers: 16,
            num_attention_heads: 32,
            num_key_value_heads: 8,
            head_dim: 64,
            rms_norm_eps: 1e-5,
            rope_theta: 500000.0,
            rope_scaling: Some(RopeScaling::Llama3 {
                factor: 32.0,
                low_freq_factor: 1.0,
                high_freq_factor: 4.0,
                original_max_position_embeddings: 8192.0,
            }),
            vocab_size: 128256,
            tie_word_embeddings: true,
            max_position_embeddings: 131072,
            eos_token_ids: Vec::new(),
        };
        match name {
            "1b" => Some(base),
            "small" => Some(Config {
                hidden_size: 512,
                intermediate_size: 2048,
                num_hidden_layers: 4,
                num_attention_heads: 8,
                num_key_value_heads: 2,
                vocab_size: 32000,
                ..base
            }),
            "tiny" => Some(Config {
                hidden_size: 32,
                intermediate_size: 96,
                num_hidden_layers: 2,
                num_attention_heads: 4,
                num_key_value_heads: 2,
                head_dim: 16,
                rope_theta: 10000.0,
                rope_scaling: None,
                vocab_size: 256,
                max_position_embeddings: 128,
                ..base
            }),
            _ => None,
        }
    }

    /// Number of weights (embeddings counted once when tied).
    pub fn num_parameters(&self) -> u64 {
        let (h, i, v) = (
            self.hidden_size as u64,
            self.intermediate_size as u64,
            self.vocab_size as u64,
        );
        let q = (self.num_attention_heads * self.head_dim) as u64;
        let kv = (self.num_key_value_heads * self.head_dim) as u64;
        let layer = h * q * 2 + h * kv * 2 + 3 * h * i + 2 * h;
        let head = if self.tie_word_embeddings { 0 } else { v * h };
        v * h + self.num_hidden_layers as u64 * layer + h + head
    }

    /// The per-pair RoPE wavelengths (`1 / frequency`, what `fast::rope` takes as `freqs`)
    /// when the scaling needs them; `None` for plain or linear RoPE (a base and a scale do).
    pub fn rope_freqs(&self) -> Option<Vec<f32>> {
        let Some(RopeScaling::Llama3 {
            factor,
            low_freq_factor: lo,
            high_freq_factor: hi,
            original_max_position_embeddings: old,
        }) = self.rope_scaling
        else {
            return None;
        };
        let d = self.head_dim as f64;
        let freqs = (0..self.head_dim / 2)
            .map(|i| {
                let f = self.rope_theta.powf(-2.0 * i as f64 / d);
                let wavelen = 2.0 * std::f64::consts::PI / f;
                let scaled = if wavelen < old / hi {
                    f
                } else if wavelen > old / lo {
                    f / factor
                } else {
                    let t = (old / wavelen - lo) / (hi - lo);
                    (1.0 - t) * f / factor + t * f
                };
                (1.0 / scaled) as f32
            })
            .collect();
        Some(freqs)
    }

    /// The factor RoPE multiplies positions by (`1 / factor` for linear scaling).
    pub fn rope_position_scale(&self) -> f32 {
        match self.rope_scaling {
            Some(RopeScaling::Linear { factor }) => (1.0 / factor) as f32,
            _ => 1.0,
        }
    }
}
