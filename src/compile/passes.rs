//! The optimisations of a traced tape: common subexpressions merged, unused nodes dropped,
//! elementwise regions fused into `Primitive::Fused` nodes whose scalar operands are folded into
//! the expression (and whose all-scalar steps are computed once, here), and reductions and
//! softmax fused with the elementwise region that feeds them and the one they feed
//! (`Primitive::FusedReduce`).

use super::fused::{FusedExpr, FusedReduction, Reduction, Step, StepOp};
use super::{Ref, Tape, TapeNode};
use crate::array::{Array, NodeState};
use crate::primitive::Primitive;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// Distinct array inputs a fused kernel may read: with its `info` table and output that is 8
/// storage bindings, WebGPU's default per-stage limit.
pub(crate) const MAX_FUSED_INPUTS: usize = 6;

/// Every pass, in order.
pub(super) fn optimize(mut tape: Tape) -> Tape {
    cse(&mut tape);
    fuse(&mut tape);
    // Consumers below are counted over live nodes only: the regions' absorbed nodes go first.
    prune(&mut tape);
    fuse_reductions(&mut tape);
    prune(&mut tape);
    tape
}

/// Merges nodes with the same primitive, inputs, shape, dtype and stream (pure primitives only:
/// communication and user functions keep every call).
fn cse(tape: &mut Tape) {
    let mut canon: HashMap<String, usize> = HashMap::new();
    let mut remap: Vec<usize> = Vec::with_capacity(tape.nodes.len());
    for k in 0..tape.nodes.len() {
        let node = &mut tape.nodes[k];
        for r in node.inputs.iter_mut() {
            if let Ref::Node(j) = r {
                *j = remap[*j];
            }
        }
        let pure = !matches!(
            node.prim,
            Primitive::Collective { .. } | Primitive::Custom { .. } | Primitive::Constant
        );
        let key = format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}",
            node.prim, node.inputs, node.shape, node.dtype, node.stream
        );
        let target = if pure {
            *canon.entry(key).or_insert(k)
        } else {
            k
        };
        remap.push(target);
    }
    for r in tape.outputs.iter_mut() {
        if let Ref::Node(j) = r {
            *j = remap[*j];
        }
    }
}

/// Drops nodes no output needs (and constants no node needs), renumbering the rest.
fn prune(tape: &mut Tape) {
    let n = tape.nodes.len();
    let mut live = vec![false; n];
    let mut stack: Vec<usize> = tape
        .outputs
        .iter()
        .filter_map(|r| match r {
            Ref::Node(k) => Some(*k),
            _ => None,
        })
        .collect();
    while let Some(k) = stack.pop() {
        if std::mem::replace(&mut live[k], true) {
            continue;
        }
        stack.extend(tape.nodes[k].inputs.iter().filter_map(|r| match r {
            Ref::Node(j) => Some(*j),
            _ => None,
        }));
    }
    let mut new_index = vec![usize::MAX; n];
    let mut nodes = Vec::new();
    for (k, node) in std::mem::take(&mut tape.nodes).into_iter().enumerate() {
        if live[k] {
            new_index[k] = nodes.len();
            nodes.push(node);
        }
    }
    let mut const_used = vec![false; tape.consts.len()];
    let mut fix = |r: &mut Ref| match r {
        Ref::Node(j) => *j = new_index[*j],
        Ref::Const(c) => const_used[*c] = true,
        Ref::Input(_) => {}
    };
    for node in nodes.iter_mut() {
        node.inputs.iter_mut().for_each(&mut fix);
    }
    tape.outputs.iter_mut().for_each(&mut fix);
    tape.nodes = nodes;
    // Constants: keep the used ones, renumbered.
    let mut const_index = vec![usize::MAX; tape.consts.len()];
    let mut consts = Vec::new();
    for (c, a) in std::mem::take(&mut tape.consts).into_iter().enumerate() {
        if const_used[c] {
            const_index[c] = consts.len();
            consts.push(a);
        }
    }
    tape.captured = tape
        .captured
        .iter()
        .filter(|&&c| const_used[c])
        .map(|&c| const_index[c])
        .collect();
    let fixc = |r: &mut Ref| {
        if let Ref::Const(c) = r {
            *c = const_index[*c];
        }
    };
    for node in tape.nodes.iter_mut() {
        node.inputs.iter_mut().for_each(fixc);
    }
    tape.outputs.iter_mut().for_each(fixc);
    tape.consts = consts;
}

/// The value of a constant every element of which is one number: `full`, or a broadcast or
/// reshape of a one-element array already on the host. `None` for anything else.
fn scalar_value(a: &Array) -> Option<f64> {
    let mut a = a.clone();
    loop {
        match &a.0.prim {
            Primitive::Full(v) => return Some(*v),
            Primitive::Broadcast | Primitive::Reshape => {
                let ins = a.0.inputs();
                let inner = ins.first()?;
                if inner.size() != 1 || inner.dtype() != a.dtype() {
                    return None;
                }
                a = inner.clone();
            }
            Primitive::Constant => {
                if a.size() != 1 {
                    return None;
                }
                let st = a.0.lock_status();
                let NodeState::Ready(d) = &st.state else {
                    return None;
                };
                let h = d.storage.as_host()?;
                return Some(h.get_f64(d.offset));
            }
            _ => return None,
        }
    }
}

/// True for nodes a fused kernel can compute.
fn fusable(node: &TapeNode) -> bool {
    matches!(
        node.prim,
        Primitive::Unary(_) | Primitive::Binary(_) | Primitive::Where | Primitive::AsType
    ) && node.shape.iter().all(|&d| d > 0)
}

/// Finds elementwise regions and replaces each (of two nodes or more) by one fused node.
fn fuse(tape: &mut Tape) {
    let n = tape.nodes.len();
    let consumers = consumers_of(tape);
    let is_output = outputs_of(tape);
    let scalars: Vec<Option<f64>> = tape.consts.iter().map(scalar_value).collect();
    let mut taken = vec![false; n];
    for root in (0..n).rev() {
        if taken[root] || !fusable(&tape.nodes[root]) {
            continue;
        }
        let (region, copies) = grow(tape, root, &consumers, &is_output, &taken, &scalars);
        if region.len() < 2 {
            continue;
        }
        let (expr, leaves) = build(tape, &region, &scalars);
        for &k in region.difference(&copies) {
            taken[k] = true;
        }
        let node = &mut tape.nodes[root];
        node.prim = Primitive::Fused(Arc::new(expr));
        node.inputs = leaves;
    }
}

/// Per node: true when it is one of the tape's outputs.
fn outputs_of(tape: &Tape) -> Vec<bool> {
    (0..tape.nodes.len())
        .map(|k| tape.outputs.contains(&Ref::Node(k)))
        .collect()
}

/// Each node's consumers (distinct).
fn consumers_of(tape: &Tape) -> Vec<Vec<usize>> {
    let mut consumers: Vec<Vec<usize>> = vec![Vec::new(); tape.nodes.len()];
    for (k, node) in tape.nodes.iter().enumerate() {
        for r in &node.inputs {
            if let Ref::Node(j) = r
                && !consumers[*j].contains(&k)
            {
                consumers[*j].push(k);
            }
        }
    }
    consumers
}

/// Fuses each reduction (and softmax) with the elementwise region that computes its input when
/// nothing else reads that region, and a reduction with the elementwise region it feeds when
/// that region reads nothing else but constants (`mean`'s scaling, `sqrt`, `log`...). The
/// fused node takes the place of the last node it absorbs; the others are pruned.
fn fuse_reductions(tape: &mut Tape) {
    let n = tape.nodes.len();
    let consumers = consumers_of(tape);
    let is_output = outputs_of(tape);
    let scalars: Vec<Option<f64>> = tape.consts.iter().map(scalar_value).collect();
    // The expression and array inputs of elementwise node `j` (fused or single).
    let region = |tape: &Tape, j: usize| -> Option<(FusedExpr, Vec<Ref>)> {
        let node = &tape.nodes[j];
        match &node.prim {
            Primitive::Fused(e) => Some(((**e).clone(), node.inputs.clone())),
            _ if fusable(node) => Some(build(tape, &BTreeSet::from([j]), &scalars)),
            _ => None,
        }
    };
    // True when node `j`'s value is needed by `c` alone, on `c`'s stream.
    let only_for = |tape: &Tape, j: usize, c: usize| {
        !is_output[j] && consumers[j] == [c] && tape.nodes[j].stream == tape.nodes[c].stream
    };
    for k in 0..n {
        let node = &tape.nodes[k];
        let reduction = match &node.prim {
            Primitive::Reduce { op, axes } => Reduction::Reduce {
                op: *op,
                axes: axes.clone(),
                dtype: node.dtype,
            },
            Primitive::Softmax => Reduction::Softmax,
            _ => continue,
        };
        let Some(&input) = node.inputs.first() else {
            continue;
        };
        let in_shape = shape_of(tape, &input);
        if in_shape.contains(&0) || node.shape.contains(&0) {
            continue;
        }
        let prologue = match input {
            Ref::Node(j) if only_for(tape, j, k) => region(tape, j),
            _ => None,
        };
        // The epilogue reads the reduction, or a reshape of it (`keepdims = false`).
        let via = match consumers[k].as_slice() {
            &[c] if only_for(tape, k, c) && matches!(tape.nodes[c].prim, Primitive::Reshape) => c,
            _ => k,
        };
        // The epilogue's other inputs (arrays of its shape) join the node's inputs, within the
        // kernel's binding limit; the reduced value becomes its input 0.
        let n_pro = prologue.as_ref().map_or(1, |(e, _)| e.inputs.len());
        let epilogue = match (&reduction, consumers[via].as_slice()) {
            (Reduction::Reduce { .. }, &[e]) if only_for(tape, k, e) || only_for(tape, via, e) => {
                region(tape, e)
                    .filter(|_| tape.nodes[e].shape == tape.nodes[via].shape)
                    .filter(|(_, leaves)| n_pro + leaves.len() - 1 <= MAX_FUSED_INPUTS)
                    .and_then(|(expr, leaves)| {
                        let at = leaves.iter().position(|r| *r == Ref::Node(via))?;
                        let extra: Vec<Ref> = leaves
                            .into_iter()
                            .filter(|r| *r != Ref::Node(via))
                            .collect();
                        Some((e, expr.with_input_first(at), extra))
                    })
            }
            _ => None,
        };
        if prologue.is_none() && epilogue.is_none() {
            continue;
        }
        let (prologue, mut leaves) =
            prologue.unwrap_or_else(|| (FusedExpr::identity(dtype_of(tape, &input)), vec![input]));
        let (at, epilogue) = match epilogue {
            Some((e, expr, extra)) => {
                leaves.extend(extra);
                (e, Some(expr))
            }
            None => (k, None),
        };
        let red = FusedReduction {
            prologue,
            in_shape,
            reduction,
            red_shape: node.shape.clone(),
            out_shape: tape.nodes[at].shape.clone(),
            epilogue,
        };
        if red.out_dtype() != tape.nodes[at].dtype {
            continue;
        }
        let target = &mut tape.nodes[at];
        target.prim = Primitive::FusedReduce(Arc::new(red));
        target.inputs = leaves;
    }
}

/// The array inputs (not folded scalars) a region reads.
fn leaves_of(tape: &Tape, region: &BTreeSet<usize>, scalars: &[Option<f64>]) -> Vec<Ref> {
    let mut out: Vec<Ref> = Vec::new();
    for &k in region {
        for r in &tape.nodes[k].inputs {
            let inside = matches!(r, Ref::Node(j) if region.contains(j));
            let scalar = matches!(r, Ref::Const(c) if scalars[*c].is_some());
            if !inside && !scalar && !out.contains(r) {
                out.push(*r);
            }
        }
    }
    out
}

/// True when `c` may be recomputed inside each of its consumers' regions instead of written
/// out once: a single elementwise op over inputs that are not elementwise themselves (so the
/// copy costs one op, never a chain) whose consumers are all elementwise on its stream (so once
/// each has its copy, `c` itself is dead). An MLP layer's `x·W + b` feeds both the activation
/// and, in the backward pass, the activation's mask: two regions, no intermediate.
fn copyable(tape: &Tape, c: usize, consumers: &[Vec<usize>]) -> bool {
    let node = &tape.nodes[c];
    let fused_input = node
        .inputs
        .iter()
        .any(|r| matches!(r, Ref::Node(j) if fusable(&tape.nodes[*j])));
    !fused_input
        && consumers[c]
            .iter()
            .all(|&u| fusable(&tape.nodes[u]) && tape.nodes[u].stream == node.stream)
}

/// The largest region rooted at `root`: fusable producers on its stream whose every consumer is
/// already in it (so no intermediate is needed outside), within the input limit; and the
/// [`copyable`] producers it recomputes though other regions read them too (returned second,
/// also members of the first).
fn grow(
    tape: &Tape,
    root: usize,
    consumers: &[Vec<usize>],
    is_output: &[bool],
    taken: &[bool],
    scalars: &[Option<f64>],
) -> (BTreeSet<usize>, BTreeSet<usize>) {
    let stream = tape.nodes[root].stream;
    let mut region = BTreeSet::from([root]);
    let mut rejected = BTreeSet::new();
    loop {
        let candidates: Vec<usize> = region
            .iter()
            .flat_map(|&k| tape.nodes[k].inputs.iter())
            .filter_map(|r| match r {
                Ref::Node(j) if !region.contains(j) && !rejected.contains(j) => Some(*j),
                _ => None,
            })
            .collect();
        let mut grew = false;
        for c in candidates {
            if region.contains(&c) {
                continue;
            }
            let node = &tape.nodes[c];
            if !fusable(node) || taken[c] || is_output[c] || node.stream != stream {
                rejected.insert(c);
                continue;
            }
            if !consumers[c].iter().all(|u| region.contains(u)) && !copyable(tape, c, consumers) {
                continue;
            }
            region.insert(c);
            if leaves_of(tape, &region, scalars).len() > MAX_FUSED_INPUTS {
                region.remove(&c);
                rejected.insert(c);
                continue;
            }
            grew = true;
        }
        if !grew {
            // The copies: members other than the root still read outside the region.
            let copies = region
                .iter()
                .filter(|&&k| k != root && !consumers[k].iter().all(|u| region.contains(u)))
                .copied()
                .collect();
            return (region, copies);
        }
    }
}

/// The expression of a region and its inputs.
fn build(tape: &Tape, region: &BTreeSet<usize>, scalars: &[Option<f64>]) -> (FusedExpr, Vec<Ref>) {
    let leaves = leaves_of(tape, region, scalars);
    let mut inputs = Vec::new();
    let mut value: HashMap<Ref, usize> = HashMap::new();
    for (k, r) in leaves.iter().enumerate() {
        inputs.push(dtype_of(tape, r));
        value.insert(*r, k);
    }
    let mut steps: Vec<Step> = Vec::new();
    let mut same_scalar: HashMap<(u64, crate::dtype::Dtype), usize> = HashMap::new();
    let n_in = inputs.len();
    for &k in region {
        let node = &tape.nodes[k];
        let mut args = Vec::new();
        for r in &node.inputs {
            let v = match value.get(r) {
                Some(&v) => v,
                None => {
                    // A folded scalar (the only leaves not bound above).
                    let Ref::Const(c) = r else { continue };
                    let v = scalars[*c].unwrap_or(0.0);
                    let dtype = tape.consts[*c].dtype();
                    // Equal constants share one step.
                    let at = match same_scalar.get(&(v.to_bits(), dtype)) {
                        Some(&at) => at,
                        None => {
                            steps.push(Step {
                                op: StepOp::Scalar(v),
                                args: vec![],
                                dtype,
                            });
                            n_in + steps.len() - 1
                        }
                    };
                    same_scalar.insert((v.to_bits(), dtype), at);
                    value.insert(*r, at);
                    at
                }
            };
            args.push(v);
        }
        let op = match &node.prim {
            Primitive::Unary(op) => StepOp::Unary(*op),
            Primitive::Binary(op) => StepOp::Binary(*op),
            Primitive::Where => StepOp::Where,
            _ => StepOp::Cast,
        };
        steps.push(Step {
            op,
            args,
            dtype: node.dtype,
        });
        value.insert(Ref::Node(k), n_in + steps.len() - 1);
    }
    let expr = FusedExpr::new(inputs, steps);
    (crate::backend::fold_scalars(expr), leaves)
}

fn shape_of(tape: &Tape, r: &Ref) -> Vec<i32> {
    match *r {
        Ref::Node(k) => tape.nodes[k].shape.clone(),
        Ref::Const(c) => tape.consts[c].shape().to_vec(),
        Ref::Input(k) => tape.input_shapes[k].clone(),
    }
}

fn dtype_of(tape: &Tape, r: &Ref) -> crate::dtype::Dtype {
    match *r {
        Ref::Node(k) => tape.nodes[k].dtype,
        Ref::Const(c) => tape.consts[c].dtype(),
        Ref::Input(k) => tape.input_dtypes[k],
    }
}
