//! Functions with their own transform rules (MLX's `custom_function`) and `checkpoint`. A call
//! runs the function, then wraps each output in a `Primitive::Custom` node whose inputs are the
//! function's inputs plus that output; the walks stop there and use the rules given here. A
//! missing vjp or jvp rule differentiates the function itself, recomputing its forward pass
//! inside the backward graph: that is exactly `checkpoint`.

use crate::array::Array;
use crate::error::{Result, value_err};
use crate::primitive::Primitive;
use std::sync::Arc;

type Fun = Arc<dyn Fn(&[Array]) -> Result<Vec<Array>> + Send + Sync>;
type VjpFn = Arc<dyn Fn(&[Array], &[Array], &[Array]) -> Result<Vec<Array>> + Send + Sync>;
type JvpFn = Arc<dyn Fn(&[Array], &[Array]) -> Result<Vec<Array>> + Send + Sync>;
type VmapFn =
    Arc<dyn Fn(&[Array], &[Option<i32>]) -> Result<(Vec<Array>, Vec<Option<i32>>)> + Send + Sync>;

/// One call of a custom function: its rules and the outputs it computed.
pub(crate) struct CustomCall {
    pub fun: Fun,
    pub vjp: Option<VjpFn>,
    pub jvp: Option<JvpFn>,
    pub vmap: Option<VmapFn>,
    pub outputs: Vec<Array>,
}

// The user's rules are only called by transforms; a panic inside one leaves no wmx state half
// updated, so arrays stay usable across `catch_unwind` as before custom functions existed.
impl std::panic::RefUnwindSafe for CustomCall {}
impl std::panic::UnwindSafe for CustomCall {}

/// A shared handle to a call, compared by identity (a primitive parameter).
#[derive(Clone)]
pub(crate) struct CustomRef(pub(crate) Arc<CustomCall>);

impl CustomRef {
    /// Identity of the call (siblings share it).
    pub(crate) fn key(&self) -> usize {
        Arc::as_ptr(&self.0) as *const () as usize
    }
}

impl PartialEq for CustomRef {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for CustomRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CustomCall({:#x}, {} outputs)",
            self.key(),
            self.0.outputs.len()
        )
    }
}

/// A function with user-given transform rules, built by [`custom_function`]; call it with
/// [`CustomFunction::call`].
#[derive(Clone)]
pub struct CustomFunction {
    fun: Fun,
    vjp: Option<VjpFn>,
    jvp: Option<JvpFn>,
    vmap: Option<VmapFn>,
}

/// Wraps `f` so its transform rules can be given by hand (MLX's `mx.custom_function`): add
/// them with [`CustomFunction::vjp`], [`CustomFunction::jvp`] and [`CustomFunction::vmap`].
/// A rule left out is derived from `f` itself.
///
/// ```
/// use wmx::{self as mx, Array};
/// // exp, whose gradient is (on purpose) reported as 2 * cotangent.
/// let f = mx::custom_function(|x: &[Array]| Ok(vec![mx::exp(&x[0], None)?]))
///     .vjp(|_primals, cots, _outs| Ok(vec![mx::multiply(&cots[0], 2.0, None)?]));
/// let g = mx::grad(|x: &Array| mx::sum(&f.call(&[x.clone()])?[0], &[], false, None))(&Array::scalar(1.0f32)).unwrap();
/// assert_eq!(g.item::<f32>().unwrap(), 2.0);
/// ```
pub fn custom_function<F>(f: F) -> CustomFunction
where
    F: Fn(&[Array]) -> Result<Vec<Array>> + Send + Sync + 'static,
{
    CustomFunction {
        fun: Arc::new(f),
        vjp: None,
        jvp: None,
        vmap: None,
    }
}

impl CustomFunction {
    /// The vjp rule: `(primals, cotangents, outputs) -> one cotangent per primal`.
    ///
    /// ```
    /// use wmx::{self as mx, Array};
    /// let f = mx::custom_function(|x: &[Array]| Ok(vec![x[0].clone()]))
    ///     .vjp(|_, c, _| Ok(vec![mx::negative(&c[0], None)?]));
    /// let (_, g) = mx::vjp(|x: &[Array]| f.call(x), &[Array::scalar(1.0f32)], &[Array::scalar(1.0f32)]).unwrap();
    /// assert_eq!(g[0].item::<f32>().unwrap(), -1.0);
    /// ```
    pub fn vjp<G>(mut self, g: G) -> Self
    where
        G: Fn(&[Array], &[Array], &[Array]) -> Result<Vec<Array>> + Send + Sync + 'static,
    {
        self.vjp = Some(Arc::new(g));
        self
    }

    /// The jvp rule: `(primals, tangents) -> one tangent per output`.
    ///
    /// ```
    /// use wmx::{self as mx, Array};
    /// let f = mx::custom_function(|x: &[Array]| Ok(vec![x[0].clone()]))
    ///     .jvp(|_, t| Ok(vec![mx::multiply(&t[0], 3.0, None)?]));
    /// let (_, t) = mx::jvp(|x: &[Array]| f.call(x), &[Array::scalar(1.0f32)], &[Array::scalar(1.0f32)]).unwrap();
    /// assert_eq!(t[0].item::<f32>().unwrap(), 3.0);
    /// ```
    pub fn jvp<H>(mut self, h: H) -> Self
    where
        H: Fn(&[Array], &[Array]) -> Result<Vec<Array>> + Send + Sync + 'static,
    {
        self.jvp = Some(Arc::new(h));
        self
    }

    /// The vmap rule: `(batched inputs, their axes) -> (outputs, their axes)`.
    ///
    /// ```
    /// use wmx::{self as mx, Array};
    /// let f = mx::custom_function(|x: &[Array]| Ok(vec![mx::sum(&x[0], &[], false, None)?]))
    ///     .vmap(|x, ax| Ok((vec![mx::sum(&x[0], &[], false, None)?], vec![None])));
    /// let y = mx::vmap(|x: &[Array]| f.call(x), &[Some(0)], &[None])(&[mx::ones(&[2, 3], mx::Dtype::Float32, None).unwrap()]).unwrap();
    /// assert_eq!(y[0].item::<f32>().unwrap(), 6.0);
    /// ```
    pub fn vmap<K>(mut self, k: K) -> Self
    where
        K: Fn(&[Array], &[Option<i32>]) -> Result<(Vec<Array>, Vec<Option<i32>>)>
            + Send
            + Sync
            + 'static,
    {
        self.vmap = Some(Arc::new(k));
        self
    }

    /// Calls the function on `inputs`.
    ///
    /// ```
    /// use wmx::{self as mx, Array};
    /// let f = mx::custom_function(|x: &[Array]| Ok(vec![mx::add(&x[0], 1.0, None)?]));
    /// assert_eq!(f.call(&[Array::scalar(1.0f32)]).unwrap()[0].item::<f32>().unwrap(), 2.0);
    /// ```
    pub fn call(&self, inputs: &[Array]) -> Result<Vec<Array>> {
        let outputs = (self.fun)(inputs)?;
        let call = CustomRef(Arc::new(CustomCall {
            fun: self.fun.clone(),
            vjp: self.vjp.clone(),
            jvp: self.jvp.clone(),
            vmap: self.vmap.clone(),
            outputs: outputs.clone(),
        }));
        outputs
            .iter()
            .enumerate()
            .map(|(index, o)| {
                let mut ins = inputs.to_vec();
                ins.push(o.clone());
                crate::ops::node(
                    o.shape().to_vec(),
                    o.dtype(),
                    o.stream(),
                    Primitive::Custom {
                        call: call.clone(),
                        index,
                    },
                    ins,
                )
            })
            .collect()
    }
}

/// `f` with gradient checkpointing (MLX's `checkpoint`): its intermediate arrays are not kept
/// for the backward pass, which recomputes `f`'s forward from its inputs instead, trading
/// compute for memory on deep models. Arrays that `f` captures are constants, as in MLX: pass
/// parameters that need gradients as inputs.
///
/// ```
/// use wmx::{self as mx, Array};
/// let block = mx::checkpoint(|x: &[Array]| Ok(vec![mx::sin(&mx::sin(&x[0], None)?, None)?]));
/// let g = mx::grad(|x: &Array| mx::sum(&block(&[x.clone()])?[0], &[], false, None))(&Array::scalar(0.0f32)).unwrap();
/// assert_eq!(g.item::<f32>().unwrap(), 1.0);
/// ```
pub fn checkpoint<F>(f: F) -> impl Fn(&[Array]) -> Result<Vec<Array>> + Send + Sync + Clone
where
    F: Fn(&[Array]) -> Result<Vec<Array>> + Send + Sync + 'static,
{
    let cf = custom_function(f);
    move |x: &[Array]| cf.call(x)
}

/// Cotangents of a call's inputs from its outputs' cotangents (`None` = zero).
pub(crate) fn vjp(
    call: &CustomCall,
    primals: &[Array],
    cots: Vec<Option<Array>>,
) -> Result<Vec<Option<Array>>> {
    let cots: Vec<Array> = cots
        .into_iter()
        .zip(&call.outputs)
        .map(|(c, o)| match c {
            Some(c) => Ok(c),
            None => crate::zeros_like(o, o.stream()),
        })
        .collect::<Result<_>>()?;
    let grads = match &call.vjp {
        Some(g) => g(primals, &cots, &call.outputs)?,
        None => super::vjp(|p: &[Array]| (call.fun)(p), primals, &cots)?.1,
    };
    if grads.len() != primals.len() {
        return Err(value_err(
            "vjp",
            format!(
                "[custom_function] The vjp rule returned {} cotangents for {} inputs.",
                grads.len(),
                primals.len()
            ),
        ));
    }
    Ok(grads.into_iter().map(Some).collect())
}

/// Tangents of a call's outputs from its inputs' tangents (`None` = zero).
pub(crate) fn jvp(
    call: &CustomCall,
    primals: &[Array],
    ts: &[Option<Array>],
) -> Result<Vec<Option<Array>>> {
    let ts: Vec<Array> = ts
        .iter()
        .zip(primals)
        .map(|(t, p)| match t {
            Some(t) => Ok(t.clone()),
            None => crate::zeros_like(p, p.stream()),
        })
        .collect::<Result<_>>()?;
    let tans = match &call.jvp {
        Some(h) => h(primals, &ts)?,
        None => super::jvp(|p: &[Array]| (call.fun)(p), primals, &ts)?.1,
    };
    if tans.len() != call.outputs.len() {
        return Err(value_err(
            "jvp",
            format!(
                "[custom_function] The jvp rule returned {} tangents for {} outputs.",
                tans.len(),
                call.outputs.len()
            ),
        ));
    }
    Ok(tans.into_iter().map(Some).collect())
}

/// A call's batched outputs and their axes from batched inputs (the rule, or `vmap` of the
/// function itself).
pub(crate) fn vmap(
    call: &CustomCall,
    inputs: &[Array],
    axes: &[Option<i32>],
) -> Result<(Vec<Array>, Vec<Option<i32>>)> {
    match &call.vmap {
        Some(k) => k(inputs, axes),
        None => {
            let outs = super::vmap::vmap_apply(&|p: &[Array]| (call.fun)(p), inputs, axes, &[])?;
            let n = outs.len();
            Ok((outs, vec![Some(0); n]))
        }
    }
}
