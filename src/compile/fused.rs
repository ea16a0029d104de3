//! The fused elementwise expression: what one `Primitive::Fused` node computes. A region of
//! elementwise nodes (unary, binary, where, astype, and scalar constants) that `compile` found
//! is flattened into a list of steps over the node's inputs; every value has the node's shape, so
//! the inputs arrive as views (broadcasts included) and each step reads earlier values by
//! index. Backends render it (a generated WGSL kernel, one CPU loop) from the same op table that
//! defines each op, and the transform rules differentiate its expansion back into ops.

use crate::array::Array;
use crate::dtype::{Domain, Dtype};
use crate::error::Result;
use crate::ops::node;
use crate::primitive::{BinaryOp, Primitive, ReduceOp, UnaryOp};
use crate::stream::Stream;
use std::fmt::Write;

/// What one step computes.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum StepOp {
    /// An op of the unary table on one earlier value.
    Unary(UnaryOp),
    /// An op of the binary table on two earlier values of one dtype.
    Binary(BinaryOp),
    /// `where(cond, x, y)` on three earlier values.
    Where,
    /// `astype` of one earlier value to the step's dtype.
    Cast,
    /// A constant (a folded scalar), converted to the step's dtype.
    Scalar(f64),
}

/// One step: `op` applied to earlier values (`args` index the inputs, then the steps).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Step {
    pub op: StepOp,
    pub args: Vec<usize>,
    pub dtype: Dtype,
}

/// A fused elementwise expression: values `0..inputs.len()` are the node's inputs (of these
/// dtypes), then one value per step; the last step is the output.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FusedExpr {
    pub inputs: Vec<Dtype>,
    pub steps: Vec<Step>,
    /// Every step's op, dtype and arguments as text: generated kernels are cached by it.
    key: String,
}

impl FusedExpr {
    /// The expression of `steps` over inputs of `inputs`' dtypes.
    pub(crate) fn new(inputs: Vec<Dtype>, steps: Vec<Step>) -> FusedExpr {
        let mut key = String::new();
        for d in &inputs {
            let _ = write!(key, "{d},");
        }
        for st in &steps {
            let op = match &st.op {
                StepOp::Unary(op) => op.name().to_string(),
                StepOp::Binary(op) => op.name().to_string(),
                StepOp::Where => "where".into(),
                StepOp::Cast => "astype".into(),
                StepOp::Scalar(v) => format!("{:x}", v.to_bits()),
            };
            let _ = write!(key, "|{op}.{}", st.dtype);
            for a in &st.args {
                let _ = write!(key, ".{a}");
            }
        }
        FusedExpr { inputs, steps, key }
    }

    /// The same expression with input `k` moved to the front (the others keep their order).
    pub(crate) fn with_input_first(&self, k: usize) -> FusedExpr {
        let n = self.inputs.len();
        let map = |v: usize| match v {
            v if v == k => 0,
            v if v < k => v + 1,
            v => v,
        };
        let mut inputs = vec![self.inputs[k]];
        inputs.extend((0..n).filter(|&j| j != k).map(|j| self.inputs[j]));
        let steps = self
            .steps
            .iter()
            .map(|s| Step {
                op: s.op.clone(),
                args: s.args.iter().map(|&a| map(a)).collect(),
                dtype: s.dtype,
            })
            .collect();
        FusedExpr::new(inputs, steps)
    }

    /// The structural key (see the field).
    pub(crate) fn key(&self) -> &str {
        &self.key
    }

    /// The output's dtype (the last step's; an expression without steps is its first input).
    pub(crate) fn out_dtype(&self) -> Dtype {
        match self.steps.last() {
            Some(s) => s.dtype,
            None => self.inputs.first().copied().unwrap_or(Dtype::Float32),
        }
    }

    /// The identity over one input of `d` (no steps): a reduction without a prologue.
    pub(crate) fn identity(d: Dtype) -> FusedExpr {
        FusedExpr::new(vec![d], Vec::new())
    }

    /// True for the identity (no steps).
    pub(crate) fn is_identity(&self) -> bool {
        self.steps.is_empty()
    }

    /// The dtype of value `v` (an input or a step).
    pub(crate) fn dtype_of(&self, v: usize) -> Dtype {
        let n = self.inputs.len();
        if v < n {
            self.inputs[v]
        } else {
            self.steps[v - n].dtype
        }
    }

    /// The dtype a step computes on: its arguments' (where: the branches'), or its own for a
    /// scalar. Casts read their argument's dtype.
    pub(crate) fn arg_dtype(&self, step: &Step) -> Dtype {
        match step.op {
            StepOp::Where => self.dtype_of(step.args[1]),
            StepOp::Scalar(_) => step.dtype,
            _ => self.dtype_of(step.args[0]),
        }
    }

    /// A short structural description (op names, dtypes, argument indices): kernel labels and
    /// error messages.
    pub(crate) fn describe(&self) -> String {
        let ops = self
            .steps
            .iter()
            .filter(|s| !matches!(s.op, StepOp::Scalar(_)))
            .count();
        let mut s = format!("fused{ops}(");
        for (i, d) in self.inputs.iter().enumerate() {
            let _ = write!(s, "{}{d}", if i > 0 { "," } else { "" });
        }
        s.push(')');
        for st in &self.steps {
            let name = match &st.op {
                StepOp::Unary(op) => op.name(),
                StepOp::Binary(op) => op.name(),
                StepOp::Where => "where",
                StepOp::Cast => "astype",
                StepOp::Scalar(_) => continue,
            };
            let _ = write!(s, ".{name}");
        }
        let _ = write!(s, ".{}", self.out_dtype());
        s
    }

    /// True when every step's op takes its argument dtype's domain (a broken region is an
    /// invariant error, never a wrong kernel).
    pub(crate) fn well_formed(&self) -> bool {
        let nv = self.inputs.len() + self.steps.len();
        if self.steps.is_empty() && self.inputs.len() != 1 {
            return false;
        }
        self.steps.iter().enumerate().all(|(k, st)| {
            let here = self.inputs.len() + k;
            let args_ok = st.args.iter().all(|&a| a < here && a < nv);
            let arity = match st.op {
                StepOp::Unary(_) | StepOp::Cast => 1,
                StepOp::Binary(_) => 2,
                StepOp::Where => 3,
                StepOp::Scalar(_) => 0,
            };
            args_ok
                && st.args.len() == arity
                && match st.op {
                    StepOp::Unary(op) => op.supports(self.arg_dtype(st).domain()),
                    StepOp::Binary(op) => {
                        op.supports(self.arg_dtype(st).domain())
                            && self.dtype_of(st.args[1]) == self.arg_dtype(st)
                    }
                    StepOp::Where => self.dtype_of(st.args[0]).domain() == Domain::Bool,
                    StepOp::Cast | StepOp::Scalar(_) => true,
                }
        })
    }

    /// The expression rebuilt as ordinary nodes on `inputs` (each of `shape`), on stream `s`:
    /// the unfused graph, which the transform rules differentiate and batch.
    pub(crate) fn expand(&self, inputs: &[Array], shape: &[i32], s: Stream) -> Result<Array> {
        let mut vals: Vec<Array> = inputs.to_vec();
        for st in &self.steps {
            let args: Vec<Array> = st.args.iter().map(|&a| vals[a].clone()).collect();
            let prim = match &st.op {
                StepOp::Unary(op) => Primitive::Unary(*op),
                StepOp::Binary(op) => Primitive::Binary(*op),
                StepOp::Where => Primitive::Where,
                StepOp::Cast => Primitive::AsType,
                StepOp::Scalar(v) => Primitive::Full(*v),
            };
            vals.push(node(shape.to_vec(), st.dtype, s, prim, args)?);
        }
        Ok(vals.pop().unwrap_or_else(|| inputs[0].clone()))
    }
}

/// The reduction a [`FusedReduction`] performs.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Reduction {
    /// `Primitive::Reduce` over `axes` (the node keeps the reduced axes as 1s) into `dtype`.
    Reduce {
        op: ReduceOp,
        axes: Vec<usize>,
        dtype: Dtype,
    },
    /// `Primitive::Softmax` over the last axis (output of the prologue's dtype).
    Softmax,
}

/// A reduction (or softmax) with its elementwise prologue and epilogue fused in: the prologue
/// computes the reduction's input from the node's first inputs (each of `in_shape`) as it is
/// read, and the epilogue (reductions only) is applied as each result is stored; its input 0 is
/// the reduced value and its inputs 1.. the node's remaining inputs (each of `out_shape`). `compile` builds it where a reduction's input is an
/// elementwise region nothing else reads, or its only consumer is such a region.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FusedReduction {
    pub prologue: FusedExpr,
    pub in_shape: Vec<i32>,
    pub reduction: Reduction,
    /// The reduction's output shape (reduced axes kept as 1s; softmax: `in_shape`).
    pub red_shape: Vec<i32>,
    /// The node's shape: `red_shape`, or (an epilogue after a reshape) the reshaped result's.
    pub out_shape: Vec<i32>,
    pub epilogue: Option<FusedExpr>,
}

impl FusedReduction {
    /// The reduction's own output dtype (before the epilogue).
    pub(crate) fn red_dtype(&self) -> Dtype {
        match &self.reduction {
            Reduction::Reduce { dtype, .. } => *dtype,
            Reduction::Softmax => self.prologue.out_dtype(),
        }
    }

    /// The node's dtype (the epilogue's, else the reduction's).
    pub(crate) fn out_dtype(&self) -> Dtype {
        self.epilogue
            .as_ref()
            .map_or_else(|| self.red_dtype(), FusedExpr::out_dtype)
    }

    /// Kernel labels and error messages.
    pub(crate) fn describe(&self) -> String {
        let red = match &self.reduction {
            Reduction::Reduce { op, axes, .. } => format!("{}{axes:?}", op.name()),
            Reduction::Softmax => "softmax".into(),
        };
        let mut s = format!("{}>{red}", self.prologue.describe());
        if let Some(e) = &self.epilogue {
            let _ = write!(s, ">{}", e.describe());
        }
        s
    }

    /// The node's inputs the epilogue reads besides the reduced value (after the prologue's).
    pub(crate) fn n_extra(&self) -> usize {
        self.epilogue
            .as_ref()
            .map_or(0, |e| e.inputs.len().saturating_sub(1))
    }

    /// The unfused graph on `inputs`, on stream `s`: what the transform rules differentiate.
    pub(crate) fn expand(&self, inputs: &[Array], s: Stream) -> Result<Array> {
        let n_pro = self.prologue.inputs.len().min(inputs.len());
        let (pro, extra) = inputs.split_at(n_pro);
        let x = self.prologue.expand(pro, &self.in_shape, s)?;
        let prim = match &self.reduction {
            Reduction::Reduce { op, axes, .. } => Primitive::Reduce {
                op: *op,
                axes: axes.clone(),
            },
            Reduction::Softmax => Primitive::Softmax,
        };
        let mut r = node(self.red_shape.clone(), self.red_dtype(), s, prim, vec![x])?;
        if self.out_shape != self.red_shape {
            r = crate::reshape(&r, &self.out_shape, s)?;
        }
        match &self.epilogue {
            Some(e) => {
                let ins: Vec<Array> = std::iter::once(r).chain(extra.iter().cloned()).collect();
                e.expand(&ins, &self.out_shape, s)
            }
            None => Ok(r),
        }
    }
}
