//! The walk every transform shares: the nodes between a function's outputs and its traced
//! inputs, inputs first. Iterative (an explicit stack), so a graph of any depth is walked
//! without recursion. Never builds nodes.

use crate::array::Array;
use crate::primitive::Primitive;
use std::collections::{HashMap, HashSet};

/// The inputs a transform follows from `a`: all of them, except that a custom function's
/// output is not traced into the function's body (its last input): its rules stand for it.
pub(crate) fn followed_inputs(a: &Array) -> Vec<Array> {
    let mut inputs = a.0.inputs();
    if matches!(a.0.prim, Primitive::Custom { .. }) {
        inputs.pop();
    }
    inputs
}

/// Nodes reachable from `outputs` that depend on one of `leaves` (node ids), in an order where
/// every node comes after its inputs. Leaves themselves are not listed. Only tracer nodes are
/// followed: anything else was made outside the transform and is a constant to it.
pub(crate) fn tape(outputs: &[Array], leaves: &HashSet<u64>) -> Vec<Array> {
    let mut depends: HashMap<u64, bool> = HashMap::new();
    let mut order = Vec::new();
    let mut stack: Vec<(Array, bool)> = outputs.iter().rev().map(|a| (a.clone(), false)).collect();
    while let Some((a, expanded)) = stack.pop() {
        let id = a.0.id;
        if expanded {
            let dep = followed_inputs(&a).iter().any(|i| {
                leaves.contains(&i.0.id) || depends.get(&i.0.id).copied().unwrap_or(false)
            });
            depends.insert(id, dep);
            if dep {
                order.push(a);
            }
            continue;
        }
        if leaves.contains(&id) || depends.contains_key(&id) || !a.0.is_tracer() {
            continue;
        }
        // Provisional entry so a node reached twice before it finishes is expanded once.
        depends.insert(id, false);
        let inputs = followed_inputs(&a);
        stack.push((a, true));
        stack.extend(inputs.into_iter().rev().map(|i| (i, false)));
    }
    order
}
