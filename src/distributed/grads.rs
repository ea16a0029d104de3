//! `average_gradients` (MLX's `mlx.nn.utils.average_gradients`): the mean of a parameter tree's
//! gradients over a group, with small gradients packed into few large `all_sum`s. Written with
//! ops only; computes nothing itself.

use super::{Group, all_sum, group_of};
use crate as mx;
use crate::array::Array;
use crate::dtype::Dtype;
use crate::error::Result;
use crate::stream::StreamOrDevice;
use std::collections::BTreeMap;

/// The default `all_reduce_size` of [`average_gradients`] (MLX's): 32 MiB per packed message.
pub const ALL_REDUCE_SIZE: usize = 32 << 20;

/// Averages gradients over the group: every entry becomes `all_sum(g) / size`. Entries of one
/// dtype are flattened and concatenated (in key order) into messages of about
/// `all_reduce_size` bytes, each all-summed once and split back, so a model with many small
/// parameters costs few collectives (`all_reduce_size == 0`: one `all_sum` per entry). The
/// identity for a group of one. `group: None` is the group [`super::init`] makes; the ops run on
/// `s`.
///
/// ```
/// use std::collections::BTreeMap;
/// use wmx as mx;
/// let mut grads = BTreeMap::new();
/// grads.insert("w".to_string(), mx::ones(&[2, 2], mx::Dtype::Float32, None)?);
/// grads.insert("b".to_string(), mx::zeros(&[2], mx::Dtype::Float32, None)?);
/// let avg = mx::distributed::average_gradients(&grads, None, 32 << 20, None)?;
/// assert_eq!(avg["w"].to_vec::<f32>()?, vec![1.0; 4]);
/// assert_eq!(avg["b"].shape(), &[2]);
/// # Ok::<(), mx::Error>(())
/// ```
pub fn average_gradients(
    grads: &BTreeMap<String, Array>,
    group: Option<&Group>,
    all_reduce_size: usize,
    s: impl Into<StreamOrDevice>,
) -> Result<BTreeMap<String, Array>> {
    let g = group_of(group)?;
    if g.size() == 1 || grads.is_empty() {
        return Ok(grads.clone());
    }
    let s = s.into().resolve("average_gradients")?;
    let n = g.size();
    let average = |x: &Array| -> Result<Array> {
        let total = all_sum(x, Some(&g), s)?;
        let count = mx::full(&[], n as f64, total.dtype(), s)?;
        mx::astype(&mx::divide(&total, &count, s)?, x.dtype(), s)
    };
    let mut out = BTreeMap::new();
    if all_reduce_size == 0 {
        for (k, v) in grads {
            out.insert(k.clone(), average(v)?);
        }
        return Ok(out);
    }
    // Packs of entries of one dtype, each closed once it holds `all_reduce_size` bytes.
    let mut packs: Vec<Vec<&String>> = Vec::new();
    let mut open: BTreeMap<Dtype, (usize, Vec<&String>)> = BTreeMap::new();
    for (k, v) in grads {
        let (bytes, keys) = open.entry(v.dtype()).or_default();
        keys.push(k);
        *bytes += v.size() * v.dtype().size();
        if *bytes >= all_reduce_size {
            packs.push(std::mem::take(keys));
            *bytes = 0;
        }
    }
    packs.extend(
        open.into_values()
            .map(|(_, keys)| keys)
            .filter(|k| !k.is_empty()),
    );
    for keys in packs {
        let flat = keys
            .iter()
            .map(|k| mx::reshape(&grads[*k], &[grads[*k].size() as i32], s))
            .collect::<Result<Vec<_>>>()?;
        let refs: Vec<&Array> = flat.iter().collect();
        let big = average(&mx::concatenate(&refs, 0, s)?)?;
        let mut cuts = Vec::with_capacity(keys.len());
        let mut at = 0i32;
        for f in &flat[..flat.len() - 1] {
            at += f.shape()[0];
            cuts.push(at);
        }
        let parts = mx::split_at(&big, &cuts, 0, s)?;
        for (k, p) in keys.into_iter().zip(parts) {
            out.insert(k.clone(), mx::reshape(&p, grads[k].shape(), s)?);
        }
    }
    Ok(out)
}
