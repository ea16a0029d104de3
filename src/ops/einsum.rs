//! `einsum`: parses the subscripts, then reduces the contraction to existing ops — `diagonal` for
//! repeated labels, `sum` for labels nobody else needs, `transpose`/`reshape`/`matmul` for each
//! pairwise contraction (broadcast `multiply` + `sum` for non-float dtypes), and a final
//! transpose into the output order. Size-1 dimensions broadcast, as in MLX.

use super::OpResult;
use super::binary::multiply;
use super::diagonal::diagonal;
use super::reduce::sum;
use super::shape::{broadcast_to, reshape, transpose};
use crate::array::Array;
use crate::dtype::promote_types;
use crate::error::{Error, Result, shape_err, value_err};
use crate::stream::{Stream, StreamOrDevice};
use std::collections::BTreeMap;

/// A label: a letter's code, or `ELLIPSIS + k` for the k-th (from the left) broadcast dim of `...`.
type Label = u32;
const ELLIPSIS: Label = 1 << 16;

/// One term of the subscripts: its letters, and where `...` sits among them (if anywhere).
struct Term {
    letters: Vec<Label>,
    ellipsis_at: Option<usize>,
}

fn err(subscripts: &str, what: impl std::fmt::Display) -> Error {
    value_err("einsum", format!("{what} (subscripts {subscripts:?})."))
}

fn parse_term(subscripts: &str, t: &str) -> Result<Term> {
    let mut letters = Vec::new();
    let mut ellipsis_at = None;
    let mut rest = t;
    while let Some(c) = rest.chars().next() {
        if let Some(r) = rest.strip_prefix("...") {
            if ellipsis_at.replace(letters.len()).is_some() {
                return Err(err(
                    subscripts,
                    format!("More than one ellipsis in term {t:?}"),
                ));
            }
            rest = r;
        } else if c.is_ascii_alphabetic() {
            letters.push(c as Label);
            rest = &rest[1..];
        } else {
            return Err(err(
                subscripts,
                format!("Invalid character {c:?} in term {t:?}"),
            ));
        }
    }
    Ok(Term {
        letters,
        ellipsis_at,
    })
}

impl Term {
    /// The labels of an operand with `ndim` dims, `...` expanded to the last of `width` slots.
    fn labels(&self, subscripts: &str, ndim: usize, width: usize) -> Result<Vec<Label>> {
        let n = self.letters.len();
        let e = match self.ellipsis_at {
            Some(_) if ndim >= n => ndim - n,
            None if ndim == n => 0,
            _ => {
                return Err(err(
                    subscripts,
                    format!("Term with {n} subscripts given for an operand with {ndim} dimensions"),
                ));
            }
        };
        let at = self.ellipsis_at.unwrap_or(n);
        let dots = (width - e..width).map(|k| ELLIPSIS + k as Label);
        Ok(self.letters[..at]
            .iter()
            .copied()
            .chain(dots)
            .chain(self.letters[at..].iter().copied())
            .collect())
    }
}

/// An operand in flight: the array and one label per axis.
struct Operand {
    x: Array,
    labels: Vec<Label>,
}

impl Operand {
    /// Sums out the axes whose label `keep` rejects.
    fn sum_unneeded(self, keep: impl Fn(Label) -> bool, st: Stream) -> Result<Operand> {
        let drop: Vec<i32> = (0..self.labels.len())
            .filter(|&i| !keep(self.labels[i]))
            .map(|i| i as i32)
            .collect();
        if drop.is_empty() {
            return Ok(self);
        }
        let labels = self.labels.iter().copied().filter(|&l| keep(l)).collect();
        Ok(Operand {
            x: sum(&self.x, &drop, false, st)?,
            labels,
        })
    }

    /// The array with its axes in `order` (a list of label groups), each broadcast to its label's
    /// size, and a size-1 dim for every label of `order` it lacks.
    fn arrange(&self, order: &[&[Label]], sizes: &BTreeMap<Label, i32>, st: Stream) -> OpResult {
        let pos = |l: Label| self.labels.iter().position(|&m| m == l);
        let wanted = || order.iter().flat_map(|g| g.iter().copied());
        let perm: Vec<i32> = wanted().filter_map(pos).map(|p| p as i32).collect();
        let own: Vec<i32> = wanted()
            .filter(|&l| pos(l).is_some())
            .map(|l| sizes[&l])
            .collect();
        let t = broadcast_to(&transpose(&self.x, &perm, st)?, &own, st)?;
        let shape: Vec<i32> = wanted()
            .map(|l| if pos(l).is_some() { sizes[&l] } else { 1 })
            .collect();
        reshape(&t, &shape, st)
    }
}

/// Einstein summation over `operands` as `subscripts` says (`"ij,jk->ik"`, `"ii->i"`,
/// `"bij,bjk->bik"`, `"...ij,...jk->...ik"`; without `->` the output is every label used once,
/// alphabetically, after any `...` dims). Repeated labels in one operand take its diagonal;
/// size-1 dims broadcast. Contractions of floats run on `matmul`; other dtypes multiply and sum.
///
/// ```
/// let a = wmx::Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2]);
/// let p = wmx::einsum("ij,jk->ik", &[&a, &a], None).unwrap();
/// assert_eq!(p.to_vec::<f32>().unwrap(), vec![7.0, 10.0, 15.0, 22.0]);
/// assert_eq!(wmx::einsum("ii", &[&a], None).unwrap().item::<f32>().unwrap(), 5.0);
/// assert_eq!(wmx::einsum("ij->ji", &[&a], None).unwrap().to_vec::<f32>().unwrap(), vec![1.0, 3.0, 2.0, 4.0]);
/// ```
pub fn einsum(subscripts: &str, operands: &[&Array], s: impl Into<StreamOrDevice>) -> OpResult {
    let st = s.into().resolve("einsum")?;
    let compact: String = subscripts.chars().filter(|c| !c.is_whitespace()).collect();
    let (lhs, rhs) = match compact.split_once("->") {
        Some((l, r)) => (l, Some(r)),
        None => (compact.as_str(), None),
    };
    let terms: Vec<Term> = lhs
        .split(',')
        .map(|t| parse_term(subscripts, t))
        .collect::<Result<_>>()?;
    if terms.len() != operands.len() {
        return Err(err(
            subscripts,
            format!(
                "{} operands given for {} input terms",
                operands.len(),
                terms.len()
            ),
        ));
    }
    // Width of `...`: the most dims any operand's ellipsis stands for (they broadcast on the right).
    let width = terms
        .iter()
        .zip(operands)
        .filter(|(t, _)| t.ellipsis_at.is_some())
        .map(|(t, a)| a.ndim().saturating_sub(t.letters.len()))
        .max()
        .unwrap_or(0);
    let mut ops: Vec<Operand> = terms
        .iter()
        .zip(operands)
        .map(|(t, a)| {
            Ok(Operand {
                x: (*a).clone(),
                labels: t.labels(subscripts, a.ndim(), width)?,
            })
        })
        .collect::<Result<_>>()?;
    let dots: Vec<Label> = (0..width).map(|k| ELLIPSIS + k as Label).collect();
    let output: Vec<Label> = match rhs {
        Some(r) => {
            let t = parse_term(subscripts, r)?;
            let at = t.ellipsis_at.unwrap_or(t.letters.len());
            let ell = if t.ellipsis_at.is_some() {
                &dots[..]
            } else {
                &[]
            };
            [&t.letters[..at], ell, &t.letters[at..]].concat()
        }
        None => {
            let mut count: BTreeMap<Label, usize> = BTreeMap::new();
            for t in &terms {
                for &l in &t.letters {
                    *count.entry(l).or_default() += 1;
                }
            }
            let once = count.into_iter().filter(|&(_, c)| c == 1).map(|(l, _)| l);
            dots.iter().copied().chain(once).collect()
        }
    };
    // Sizes per label; size 1 broadcasts against anything.
    let mut sizes: BTreeMap<Label, i32> = BTreeMap::new();
    for (i, op) in ops.iter().enumerate() {
        for (&l, &d) in op.labels.iter().zip(op.x.shape()) {
            let e = sizes.entry(l).or_insert(d);
            if *e == 1 {
                *e = d;
            } else if d != 1 && d != *e {
                return Err(shape_err(
                    "einsum",
                    format!(
                        "Cannot broadcast dimension of size {d} of operand {i} with shape {} to size {} (subscripts {subscripts:?}).",
                        crate::shape::fmt_shape(op.x.shape()),
                        *e
                    ),
                ));
            }
        }
    }
    for (i, &l) in output.iter().enumerate() {
        if output[..i].contains(&l) {
            return Err(err(subscripts, "Repeated label in the output"));
        }
        if !sizes.contains_key(&l) {
            return Err(err(subscripts, "Output label not found in any input"));
        }
    }
    // Repeated labels inside one operand: keep its diagonal (appended as the last axis).
    for op in &mut ops {
        while let Some((p, q)) = repeated(&op.labels) {
            let (dp, dq) = (op.x.shape()[p], op.x.shape()[q]);
            if dp != dq {
                return Err(shape_err(
                    "einsum",
                    format!(
                        "Repeated label with sizes {dp} and {dq} in one operand (subscripts {subscripts:?})."
                    ),
                ));
            }
            let l = op.labels[p];
            op.x = diagonal(&op.x, 0, p as i32, q as i32, st)?;
            op.labels.retain(|&m| m != l);
            op.labels.push(l);
        }
    }
    // Contract left to right; a label is summed away once no later operand nor the output uses it.
    let later_labels: Vec<Vec<Label>> = ops.iter().map(|o| o.labels.clone()).collect();
    let needed_after = |k: usize, l: Label| {
        output.contains(&l) || later_labels[k..].iter().any(|ls| ls.contains(&l))
    };
    let mut rest = ops.into_iter();
    let first = rest
        .next()
        .ok_or_else(|| err(subscripts, "No operands given"))?;
    let mut acc = first.sum_unneeded(|l| needed_after(1, l), st)?;
    for (k, next) in rest.enumerate() {
        let keep = |l: Label| needed_after(k + 2, l);
        let a = acc.sum_unneeded(|l| keep(l) || next.labels.contains(&l), st)?;
        let b = next.sum_unneeded(|l| keep(l) || a.labels.contains(&l), st)?;
        acc = contract(a, b, &keep, &sizes, st)?;
    }
    let acc = acc.sum_unneeded(|l| output.contains(&l), st)?;
    let perm: Vec<i32> = output
        .iter()
        .filter_map(|l| acc.labels.iter().position(|m| m == l))
        .map(|p| p as i32)
        .collect();
    transpose(&acc.x, &perm, st)
}

/// The first pair of positions holding the same label.
fn repeated(labels: &[Label]) -> Option<(usize, usize)> {
    (0..labels.len()).find_map(|q| {
        labels[..q]
            .iter()
            .position(|&l| l == labels[q])
            .map(|p| (p, q))
    })
}

/// One pairwise contraction: labels in both and kept are batch dims, in both and not kept are
/// summed, the others are free. Result labels: batch, then `a`'s free, then `b`'s free.
fn contract(
    a: Operand,
    b: Operand,
    keep: &dyn Fn(Label) -> bool,
    sizes: &BTreeMap<Label, i32>,
    st: Stream,
) -> Result<Operand> {
    let shared = |l: &Label| b.labels.contains(l);
    let batch: Vec<Label> = a
        .labels
        .iter()
        .copied()
        .filter(|l| shared(l) && keep(*l))
        .collect();
    let summed: Vec<Label> = a
        .labels
        .iter()
        .copied()
        .filter(|l| shared(l) && !keep(*l))
        .collect();
    let left: Vec<Label> = a.labels.iter().copied().filter(|l| !shared(l)).collect();
    let right: Vec<Label> = b
        .labels
        .iter()
        .copied()
        .filter(|l| !a.labels.contains(l))
        .collect();
    let labels = [batch.clone(), left.clone(), right.clone()].concat();
    let out_shape: Vec<i32> = labels.iter().map(|l| sizes[l]).collect();
    let float = promote_types(a.x.dtype(), b.x.dtype()).is_float();
    let x = if float && !summed.is_empty() {
        // [batch..., L, K] @ [batch..., K, R]
        let batch_dims: Vec<i32> = batch.iter().map(|l| sizes[l]).collect();
        let prod = |g: &[Label]| g.iter().map(|l| sizes[l]).product::<i32>();
        let x = a.arrange(&[&batch, &left, &summed], sizes, st)?;
        let x = reshape(
            &x,
            &[&batch_dims[..], &[prod(&left), prod(&summed)]].concat(),
            st,
        )?;
        let y = b.arrange(&[&batch, &summed, &right], sizes, st)?;
        let y = reshape(
            &y,
            &[&batch_dims[..], &[prod(&summed), prod(&right)]].concat(),
            st,
        )?;
        reshape(&super::linalg::matmul(&x, &y, st)?, &out_shape, st)?
    } else {
        // Broadcast product over [batch, left, right, summed], then sum the summed dims.
        let order: [&[Label]; 4] = [&batch, &left, &right, &summed];
        let p = multiply(
            &a.arrange(&order, sizes, st)?,
            &b.arrange(&order, sizes, st)?,
            st,
        )?;
        if summed.is_empty() {
            broadcast_to(&p, &out_shape, st)?
        } else {
            let axes: Vec<i32> = (labels.len()..labels.len() + summed.len())
                .map(|i| i as i32)
                .collect();
            sum(&p, &axes, false, st)?
        }
    };
    Ok(Operand { x, labels })
}
