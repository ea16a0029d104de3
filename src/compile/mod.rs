//! `compile`, MLX's `mx.compile`: the first call of a compiled function traces it on
//! placeholders (arrays with a shape, a dtype and a stream but no data) into a tape of
//! primitives; the tape is optimised (`passes.rs`: common subexpressions merged, scalar constants
//! folded, chains of elementwise ops fused into one generated kernel per region, `fused.rs`) and
//! cached per input signature (shapes, dtypes, streams). Every call replays the cached tape on
//! its inputs, building a few fused nodes instead of one node per op; a new signature traces
//! again. Replayed nodes are ordinary nodes, so compiled functions compose with every transform
//! (`rules.rs` differentiates and batches fused nodes).

mod fused;
mod passes;
pub(crate) mod rules;

pub(crate) use fused::{FusedExpr, FusedReduction, Reduction, Step, StepOp};

use crate::array::{Array, NodeState, id_watermark};
use crate::dtype::Dtype;
use crate::error::{Error, Result, value_err};
use crate::primitive::Primitive;
use crate::shape::fmt_shape;
use crate::stream::{Stream, current_default_stream};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Options of [`compile_with`], in the spirit of MLX's `mx.compile` arguments.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct CompileOptions {
    /// Reuse the compiled graph when only the inputs' sizes change (same ranks, dtypes and
    /// streams). Graphs that only fuse elementwise work over their inputs' shape are replayed
    /// at the new shape; any other graph is traced again for the new shape (never a wrong
    /// result).
    pub shapeless: bool,
}

fn enabled_flag() -> &'static AtomicBool {
    static ON: OnceLock<AtomicBool> = OnceLock::new();
    ON.get_or_init(|| {
        AtomicBool::new(std::env::var("WMX_DISABLE_COMPILE").map_or(true, |v| v.is_empty()))
    })
}

/// Turns compilation back on after [`disable_compile`] (it starts on unless the environment
/// sets `WMX_DISABLE_COMPILE`).
///
/// ```
/// wmx::disable_compile();
/// wmx::enable_compile();
/// assert!(wmx::compile_enabled());
/// ```
pub fn enable_compile() {
    enabled_flag().store(true, Ordering::Relaxed);
}

/// Makes every compiled function call its original function directly (as MLX's
/// `disable_compile`), for debugging.
///
/// ```
/// use wmx::{self as mx, Array};
/// let f = mx::compile(|x: &[Array]| Ok(vec![mx::exp(&x[0], None)?]));
/// mx::disable_compile();
/// let y = f(&[Array::from_slice(&[0.0f32], &[1])]).unwrap();
/// mx::enable_compile();
/// assert_eq!(y[0].to_vec::<f32>().unwrap(), vec![1.0]);
/// ```
pub fn disable_compile() {
    enabled_flag().store(false, Ordering::Relaxed);
}

/// True unless [`disable_compile`] is in effect.
///
/// ```
/// assert!(wmx::compile_enabled() || !wmx::compile_enabled());
/// ```
pub fn compile_enabled() -> bool {
    enabled_flag().load(Ordering::Relaxed)
}

/// Compiles `f`: see the module documentation. The returned function has `f`'s type; its first
/// call with a new input signature traces `f` (without evaluating anything), later calls reuse
/// the optimised graph, where chains of elementwise ops run as one generated kernel.
///
/// `f` must be a pure function of its inputs: arrays it captures are baked into the compiled
/// graph, and evaluating anything that depends on its inputs while tracing is an error.
///
/// ```
/// use wmx::{self as mx, Array};
/// let gelu = mx::compile(|x: &[Array]| {
///     let x = &x[0];
///     let c = mx::multiply(&mx::add(x, &mx::multiply(&mx::power(x, 3.0f32, None)?, 0.044715f32, None)?, None)?, 0.7978845608f32, None)?;
///     Ok(vec![mx::multiply(&mx::multiply(x, 0.5f32, None)?, &mx::add(&mx::tanh(&c, None)?, 1.0f32, None)?, None)?])
/// });
/// let x = Array::from_slice(&[-1.0f32, 0.0, 2.0], &[3]);
/// let y = gelu(&[x]).unwrap()[0].to_vec::<f32>().unwrap();
/// assert!((y[2] - 1.9546).abs() < 1e-3 && y[1] == 0.0);
/// ```
pub fn compile<F>(f: F) -> impl Fn(&[Array]) -> Result<Vec<Array>>
where
    F: Fn(&[Array]) -> Result<Vec<Array>>,
{
    compile_with(f, CompileOptions::default())
}

/// [`compile`] with options.
///
/// ```
/// use wmx::{self as mx, Array, CompileOptions};
/// let f = mx::compile_with(
///     |x: &[Array]| Ok(vec![mx::sin(&mx::exp(&x[0], None)?, None)?]),
///     CompileOptions { shapeless: true },
/// );
/// for n in [2, 5] {
///     let y = f(&[mx::zeros(&[n], mx::Dtype::Float32, None).unwrap()]).unwrap();
///     assert_eq!(y[0].shape(), &[n]);
/// }
/// ```
pub fn compile_with<F>(f: F, options: CompileOptions) -> impl Fn(&[Array]) -> Result<Vec<Array>>
where
    F: Fn(&[Array]) -> Result<Vec<Array>>,
{
    let state = Compiled {
        options,
        cache: Mutex::new(HashMap::new()),
        outputs: Mutex::new(None),
    };
    move |inputs: &[Array]| {
        if !compile_enabled() {
            return f(inputs);
        }
        state.call(&f, inputs)
    }
}

/// Where an array of the tape comes from.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Ref {
    /// Input `k` of the compiled function.
    Input(usize),
    /// Constant `k`: an array that does not depend on the inputs.
    Const(usize),
    /// Node `k` of the tape.
    Node(usize),
}

/// One primitive of the tape.
#[derive(Clone, Debug)]
pub(crate) struct TapeNode {
    pub prim: Primitive,
    pub inputs: Vec<Ref>,
    pub shape: Vec<i32>,
    pub dtype: Dtype,
    pub stream: Stream,
}

/// A traced function: its primitives in topological order and where its outputs come from.
pub(crate) struct Tape {
    pub n_inputs: usize,
    pub input_dtypes: Vec<Dtype>,
    /// The traced inputs' shapes (a shapeless replay of a tape with reductions traces again).
    pub input_shapes: Vec<Vec<i32>>,
    pub consts: Vec<Array>,
    /// Constants made before tracing began (captured by the function), by index.
    pub captured: Vec<usize>,
    pub nodes: Vec<TapeNode>,
    pub outputs: Vec<Ref>,
}

/// The input signature a tape is valid for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Signature {
    default_stream: Stream,
    /// Per input: shape (or, shapeless, rank only), dtype, stream.
    inputs: Vec<(Vec<i32>, Dtype, Stream)>,
}

/// A compiled function's cache.
struct Compiled {
    options: CompileOptions,
    cache: Mutex<HashMap<Signature, Arc<Tape>>>,
    /// The output count of the first trace (every trace must match it).
    outputs: Mutex<Option<usize>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Compiled {
    fn signature(&self, inputs: &[Array], shapeless: bool) -> Signature {
        Signature {
            default_stream: current_default_stream(),
            inputs: inputs
                .iter()
                .map(|a| {
                    let shape = if shapeless {
                        vec![a.ndim() as i32]
                    } else {
                        a.shape().to_vec()
                    };
                    (shape, a.dtype(), a.stream())
                })
                .collect(),
        }
    }

    fn call(
        &self,
        f: &dyn Fn(&[Array]) -> Result<Vec<Array>>,
        inputs: &[Array],
    ) -> Result<Vec<Array>> {
        let exact = self.signature(inputs, false);
        if let Some(t) = lock(&self.cache).get(&exact).cloned() {
            return t.replay(inputs, false).map(Option::unwrap_or_default);
        }
        let loose = self.options.shapeless.then(|| self.signature(inputs, true));
        if let Some(t) = loose
            .as_ref()
            .and_then(|k| lock(&self.cache).get(k).cloned())
            && let Some(outs) = t.replay(inputs, true)?
        {
            return Ok(outs);
        }
        let tape = Arc::new(passes::optimize(trace(f, inputs)?));
        {
            let mut n = lock(&self.outputs);
            match *n {
                Some(k) if k != tape.outputs.len() => {
                    return Err(value_err(
                        "compile",
                        format!(
                            "[compile] The function returned {} outputs for inputs of shapes {}, but {k} when it was first traced; a compiled function must keep its output structure.",
                            tape.outputs.len(),
                            shapes(inputs)
                        ),
                    ));
                }
                _ => *n = Some(tape.outputs.len()),
            }
        }
        let mut cache = lock(&self.cache);
        if let Some(k) = loose.filter(|_| tape.shape_polymorphic()) {
            cache.insert(k, tape.clone());
        }
        cache.insert(exact, tape.clone());
        drop(cache);
        tape.replay(inputs, false).map(Option::unwrap_or_default)
    }
}

fn shapes(inputs: &[Array]) -> String {
    let v: Vec<String> = inputs.iter().map(|a| fmt_shape(a.shape())).collect();
    format!("({})", v.join(", "))
}

/// Calls `f` on placeholders of `inputs` and records the graph it builds.
fn trace(f: &dyn Fn(&[Array]) -> Result<Vec<Array>>, inputs: &[Array]) -> Result<Tape> {
    let start = id_watermark();
    let placeholders: Vec<Array> = inputs
        .iter()
        .map(|a| {
            Array::placeholder(
                a.shape().to_vec(),
                a.dtype(),
                a.stream(),
                value_err(
                    "compile",
                    "[compile] Attempting to evaluate an array that depends on the inputs while tracing a compiled function (eval, item, to_vec, or an op that reads data). Compiled functions must be lazy; evaluate outside, or use disable_compile() to debug.",
                ),
            )
        })
        .collect();
    let outs = f(&placeholders)?;
    let ids: HashMap<u64, usize> = placeholders
        .iter()
        .enumerate()
        .map(|(k, p)| (p.0.id, k))
        .collect();
    let mut tape = Tape {
        n_inputs: inputs.len(),
        input_dtypes: inputs.iter().map(Array::dtype).collect(),
        input_shapes: inputs.iter().map(|a| a.shape().to_vec()).collect(),
        consts: Vec::new(),
        captured: Vec::new(),
        nodes: Vec::new(),
        outputs: Vec::new(),
    };
    let mut seen: HashMap<u64, Ref> = HashMap::new();
    for o in &outs {
        let r = record(o, &ids, start, &mut seen, &mut tape)?;
        tape.outputs.push(r);
    }
    Ok(tape)
}

/// The tape reference of `root`, recording its unrecorded ancestors first (iteratively: a long
/// chain must not overflow the stack).
fn record(
    root: &Array,
    ids: &HashMap<u64, usize>,
    start: u64,
    seen: &mut HashMap<u64, Ref>,
    tape: &mut Tape,
) -> Result<Ref> {
    let mut stack: Vec<(Array, bool)> = vec![(root.clone(), false)];
    while let Some((a, expanded)) = stack.pop() {
        let id = a.0.id;
        if seen.contains_key(&id) {
            continue;
        }
        if let Some(&k) = ids.get(&id) {
            seen.insert(id, Ref::Input(k));
            continue;
        }
        let inputs = a.0.inputs();
        if !expanded {
            if let NodeState::Failed(e) = &a.0.lock_status().state {
                return Err(e.clone());
            }
            stack.push((a.clone(), true));
            stack.extend(inputs.into_iter().map(|i| (i, false)));
            continue;
        }
        let refs: Vec<Ref> = inputs.iter().map(|i| seen[&i.0.id]).collect();
        let depends = refs.iter().any(|r| !matches!(r, Ref::Const(_)));
        let r = if depends {
            tape.nodes.push(TapeNode {
                prim: a.0.prim.clone(),
                inputs: refs,
                shape: a.shape().to_vec(),
                dtype: a.dtype(),
                stream: a.stream(),
            });
            Ref::Node(tape.nodes.len() - 1)
        } else {
            if id < start {
                tape.captured.push(tape.consts.len());
            }
            tape.consts.push(a.clone());
            Ref::Const(tape.consts.len() - 1)
        };
        seen.insert(id, r);
    }
    seen.get(&root.0.id).copied().ok_or_else(|| Error::Backend {
        op: "compile",
        msg: "invariant: an output was not recorded".into(),
    })
}

impl Tape {
    /// True when every node is elementwise over its inputs' shape and no constant has a shape
    /// of its own: the tape then computes the same function at any input size.
    fn shape_polymorphic(&self) -> bool {
        self.consts.is_empty()
            && self.nodes.iter().all(|nd| {
                matches!(
                    nd.prim,
                    Primitive::Unary(_)
                        | Primitive::Binary(_)
                        | Primitive::Where
                        | Primitive::AsType
                        | Primitive::Fused(_)
                        | Primitive::StopGradient
                        | Primitive::Copy
                )
            })
            && !self.outputs.iter().any(|r| matches!(r, Ref::Const(_)))
    }

    /// Builds the tape's graph on `inputs`. `shapeless`: every node takes its inputs' shape,
    /// which must agree (`None` when they do not: the caller traces again).
    fn replay(&self, inputs: &[Array], shapeless: bool) -> Result<Option<Vec<Array>>> {
        if inputs.len() != self.n_inputs {
            return Err(value_err(
                "compile",
                format!(
                    "[compile] The compiled function takes {} inputs but was given {}.",
                    self.n_inputs,
                    inputs.len()
                ),
            ));
        }
        for &k in &self.captured {
            let c = &self.consts[k];
            if Arc::strong_count(&c.0) == 1 {
                return Err(value_err(
                    "compile",
                    format!(
                        "[compile] An array the function captured (shape {}, dtype {}) has been dropped or replaced by its owner since the function was traced, so the compiled graph would use stale values. Pass arrays that change between calls as inputs.",
                        fmt_shape(c.shape()),
                        c.dtype()
                    ),
                ));
            }
        }
        let mut vals: Vec<Array> = Vec::with_capacity(self.nodes.len());
        let get = |r: &Ref, vals: &[Array]| -> Array {
            match *r {
                Ref::Input(k) => inputs[k].clone(),
                Ref::Const(k) => self.consts[k].clone(),
                Ref::Node(k) => vals[k].clone(),
            }
        };
        for nd in &self.nodes {
            let ins: Vec<Array> = nd.inputs.iter().map(|r| get(r, &vals)).collect();
            let shape = match ins.first() {
                Some(first) if shapeless => {
                    if ins.iter().any(|i| i.shape() != first.shape()) {
                        return Ok(None);
                    }
                    first.shape().to_vec()
                }
                _ => nd.shape.clone(),
            };
            vals.push(Array::from_node(
                shape,
                nd.dtype,
                nd.stream,
                nd.prim.clone(),
                ins,
            ));
        }
        Ok(Some(self.outputs.iter().map(|r| get(r, &vals)).collect()))
    }
}
