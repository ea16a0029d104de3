//! Next-token sampling for examples/llm, on the device that holds the logits and with explicit
//! keys: greedy (temperature 0), temperature, and top-p (nucleus). A [`Sampler`] owns the key
//! and splits it once per step (`key, sub = split(key)`, as `mx.random.split` unpacks), so a
//! seed fixes the whole sequence; tools/gen_llm_fixture.py draws with MLX the same way.

use crate::config::{LlmError, Result};
use wmx::{self as mx, Array, Dtype};

/// How the next token is picked.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sampling {
    /// 0 for greedy decoding; otherwise logits are divided by it.
    pub temp: f32,
    /// Keep the smallest set of most likely tokens whose probability reaches `top_p` (1: all).
    pub top_p: f32,
}

impl Sampling {
    /// Greedy decoding.
    pub const GREEDY: Sampling = Sampling {
        temp: 0.0,
        top_p: 1.0,
    };

    /// Checks the values (`temp >= 0`, `0 < top_p <= 1`).
    pub fn check(&self) -> Result<()> {
        if !(self.temp >= 0.0 && self.temp.is_finite()) {
            return Err(LlmError::Input(format!(
                "the temperature must be a finite number >= 0, not {}",
                self.temp
            )));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return Err(LlmError::Input(format!(
                "top-p must be in (0, 1], not {}",
                self.top_p
            )));
        }
        Ok(())
    }
}

/// Draws tokens with one key per step.
pub struct Sampler {
    pub sampling: Sampling,
    key: Array,
}

/// Row `i` of a `[n, 2]` key array, as a key.
fn row(keys: &Array, i: i32) -> Result<Array> {
    let r = mx::slice(keys, &[i, 0], &[i + 1, 2], &[], None)?;
    Ok(mx::reshape(&r, &[2], None)?)
}

impl Sampler {
    /// A sampler whose keys come from `seed`.
    pub fn new(sampling: Sampling, seed: u64) -> Result<Sampler> {
        sampling.check()?;
        Ok(Sampler {
            sampling,
            key: mx::random::key(seed),
        })
    }

    /// The next tokens (uint32 `[B]`) for logits `[B, vocab]`. Lazy.
    pub fn sample(&mut self, logits: &Array) -> Result<Array> {
        if self.sampling.temp == 0.0 {
            return Ok(mx::astype(
                &mx::argmax(logits, -1, false, None)?,
                Dtype::Uint32,
                None,
            )?);
        }
        let keys = mx::random::split(&self.key, 2, None)?;
        self.key = row(&keys, 0)?;
        let sub = row(&keys, 1)?;
        sample_with_key(logits, self.sampling, &sub)
    }
}

/// One draw with `key`: `categorical(logits / temp)`, restricted to the nucleus when
/// `top_p < 1` (tokens sorted by ascending logit; those whose cumulative probability from the
/// bottom stays at or below `1 - top_p` are dropped).
pub fn sample_with_key(logits: &Array, sampling: Sampling, key: &Array) -> Result<Array> {
    let z = mx::multiply(
        &mx::astype(logits, Dtype::Float32, None)?,
        1.0 / sampling.temp,
        None,
    )?;
    if sampling.top_p >= 1.0 {
        return Ok(mx::random::categorical(&z, -1, None, Some(key), None)?);
    }
    let order = mx::argsort(&z, -1, None)?;
    let zs = mx::take_along_axis(&z, &order, Some(-1), None)?;
    let cum = mx::cumsum(&mx::softmax(&zs, &[-1], None)?, Some(-1), false, true, None)?;
    let keep = mx::greater(&cum, 1.0 - sampling.top_p, None)?;
    let zs = mx::where_(&keep, &zs, f32::NEG_INFINITY, None)?;
    let i = mx::random::categorical(&zs, -1, None, Some(key), None)?;
    let picked = mx::take_along_axis(&order, &mx::expand_dims(&i, &[-1], None)?, Some(-1), None)?;
    Ok(mx::astype(
        &mx::squeeze(&picked, &[-1], None)?,
        Dtype::Uint32,
        None,
    )?)
}
