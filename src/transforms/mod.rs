//! Function transforms in MLX's model: `grad`, `value_and_grad`, `vjp`, `jvp`, `vmap`,
//! `stop_gradient`, `checkpoint` and `custom_function`. A transform calls the user's function on
//! traced copies of its inputs (lazily: nothing runs), then walks the graph the function built
//! (`tape.rs`) and asks each primitive's rule (`vjp.rs`, `jvp.rs`, `vmap.rs`; elementwise
//! derivatives in `elementwise.rs`) for the new graph. Rules are written with wmx ops, so the
//! transformed graph runs on every device, on the stream of the primitive it came from.
//!
//! This module owns the public API and the process-wide "a transform is tracing" count that
//! keeps traced nodes' inputs alive through an `eval` inside the function; it never touches a
//! backend.

mod collective_rules;
mod conv_rules;
mod custom;
mod elementwise;
mod jvp;
mod scan_rules;
mod tape;
mod vjp;
mod vmap;

pub(crate) use custom::CustomRef;
pub use custom::{CustomFunction, checkpoint, custom_function};
pub use vmap::vmap;

use crate::array::Array;
use crate::error::{Error, Result, shape_err, value_err};
use crate::primitive::Primitive;
use crate::shape::fmt_shape;
use crate::stream::StreamOrDevice;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// One running transform. Nodes traced in it hold the token; it dies when the transform
/// returns (or unwinds), after which those nodes behave as ordinary ones.
pub(crate) struct TraceToken(AtomicBool);

impl TraceToken {
    pub(crate) fn alive(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// A running transform: its token is alive for as long as this lives.
pub(crate) struct Tracing(Arc<TraceToken>);

impl Tracing {
    pub(crate) fn start() -> Tracing {
        Tracing(Arc::new(TraceToken(AtomicBool::new(true))))
    }

    /// A traced copy of `a`: the same elements (a view) in this trace and every trace `a` is
    /// in, so everything built from it is traced too. Walks stop at these copies by id.
    pub(crate) fn copy(&self, a: &Array) -> Array {
        self.leaf(a.shape().to_vec(), a, Primitive::Reshape, vec![a.clone()])
    }

    /// A traced node standing for `like` (its dtype and stream) with the given shape.
    pub(crate) fn leaf(
        &self,
        shape: Vec<i32>,
        like: &Array,
        prim: Primitive,
        inputs: Vec<Array>,
    ) -> Array {
        let mut traces: Vec<Arc<TraceToken>> = like
            .0
            .traces
            .iter()
            .filter(|t| t.alive())
            .cloned()
            .collect();
        traces.push(self.0.clone());
        Array::new_node(shape, like.dtype(), like.stream(), prim, inputs, traces)
    }
}

impl Drop for Tracing {
    fn drop(&mut self) {
        self.0.0.store(false, Ordering::Release);
    }
}

/// `a` with no gradient: the same values (a view), but every transform treats it as a
/// constant, as MLX's `stop_gradient`.
///
/// ```
/// use wmx as mx;
/// let x = mx::Array::from_slice(&[3.0f32], &[]);
/// let g = mx::grad(|x: &mx::Array| mx::multiply(x, &mx::stop_gradient(x, None)?, None))(&x).unwrap();
/// assert_eq!(g.item::<f32>().unwrap(), 3.0); // d/dx (x * c) with c = x held constant
/// ```
pub fn stop_gradient(a: &Array, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let st = s.into().resolve("stop_gradient")?;
    crate::ops::node(
        a.shape().to_vec(),
        a.dtype(),
        st,
        Primitive::StopGradient,
        vec![a.clone()],
    )
}

/// Checks a cotangent or tangent against the array it belongs to (shape and dtype equal).
fn check_like(op: &'static str, what: &str, i: usize, given: &Array, want: &Array) -> Result<()> {
    if given.shape() != want.shape() {
        return Err(shape_err(
            op,
            format!(
                "{what} {i} has shape {} but its array has shape {}.",
                fmt_shape(given.shape()),
                fmt_shape(want.shape())
            ),
        ));
    }
    if given.dtype() != want.dtype() {
        return Err(Error::Dtype {
            op,
            msg: format!(
                "{what} {i} has dtype {} but its array has dtype {}.",
                given.dtype(),
                want.dtype()
            ),
        });
    }
    Ok(())
}

/// The vector-Jacobian product of `f` at `primals`: returns `f(primals)` and, for each primal,
/// the sum over outputs of `cotangent_i · d output_i / d primal` (MLX's `vjp`). One cotangent
/// per output, of its shape and dtype. Nothing is evaluated.
///
/// ```
/// use wmx::{self as mx, Array};
/// let x = Array::from_slice(&[1.0f32, 2.0], &[2]);
/// let ct = Array::from_slice(&[1.0f32, 10.0], &[2]);
/// let (out, vjps) = mx::vjp(|p: &[Array]| Ok(vec![mx::square(&p[0], None)?]), &[x], &[ct]).unwrap();
/// assert_eq!(out[0].to_vec::<f32>().unwrap(), vec![1.0, 4.0]);
/// assert_eq!(vjps[0].to_vec::<f32>().unwrap(), vec![2.0, 40.0]);
/// ```
pub fn vjp<F>(f: F, primals: &[Array], cotangents: &[Array]) -> Result<(Vec<Array>, Vec<Array>)>
where
    F: FnOnce(&[Array]) -> Result<Vec<Array>>,
{
    let t = Tracing::start();
    let copies: Vec<Array> = primals.iter().map(|p| t.copy(p)).collect();
    let outs = f(&copies)?;
    if outs.len() != cotangents.len() {
        return Err(value_err(
            "vjp",
            format!(
                "The function has {} outputs but {} cotangents were given.",
                outs.len(),
                cotangents.len()
            ),
        ));
    }
    for (i, (c, o)) in cotangents.iter().zip(&outs).enumerate() {
        if c.shape() != o.shape() {
            return Err(shape_err(
                "vjp",
                format!(
                    "Output shape {} does not match cotangent shape {} (output {i}).",
                    fmt_shape(o.shape()),
                    fmt_shape(c.shape())
                ),
            ));
        }
        check_like("vjp", "cotangent", i, c, o)?;
    }
    let grads = vjp::backward(&outs, &copies, cotangents)?;
    Ok((outs, grads))
}

/// The Jacobian-vector product of `f` at `primals` along `tangents` (one per primal, of its
/// shape and dtype): returns `f(primals)` and each output's directional derivative (MLX's
/// `jvp`). Nothing is evaluated.
///
/// ```
/// use wmx::{self as mx, Array};
/// let x = Array::from_slice(&[1.0f32, 2.0], &[2]);
/// let t = Array::from_slice(&[1.0f32, 0.5], &[2]);
/// let (_, tans) = mx::jvp(|p: &[Array]| Ok(vec![mx::square(&p[0], None)?]), &[x], &[t]).unwrap();
/// assert_eq!(tans[0].to_vec::<f32>().unwrap(), vec![2.0, 2.0]);
/// ```
pub fn jvp<F>(f: F, primals: &[Array], tangents: &[Array]) -> Result<(Vec<Array>, Vec<Array>)>
where
    F: FnOnce(&[Array]) -> Result<Vec<Array>>,
{
    if primals.len() != tangents.len() {
        return Err(value_err(
            "jvp",
            format!(
                "Got {} primals but {} tangents; give one tangent per primal.",
                primals.len(),
                tangents.len()
            ),
        ));
    }
    for (i, (t, p)) in tangents.iter().zip(primals).enumerate() {
        check_like("jvp", "tangent", i, t, p)?;
    }
    let t = Tracing::start();
    let copies: Vec<Array> = primals.iter().map(|p| t.copy(p)).collect();
    let outs = f(&copies)?;
    let tans = jvp::forward(&outs, &copies, tangents)?;
    Ok((outs, tans))
}

/// Normalises `argnums` against `n` arguments: in range (negative counts from the end), sorted,
/// no duplicates, at least one (MLX's messages).
fn normalize_argnums(op: &'static str, argnums: &[i32], n: usize) -> Result<Vec<usize>> {
    if argnums.is_empty() {
        return Err(value_err(op, "Gradient wrt no argument requested."));
    }
    let mut out = Vec::with_capacity(argnums.len());
    for &a in argnums {
        let k = if a < 0 { a + n as i32 } else { a };
        if k < 0 || k as usize >= n {
            return Err(value_err(
                op,
                format!(
                    "Can't compute the gradient of argument index {a} because the function is called with only {n} positional arguments."
                ),
            ));
        }
        if out.contains(&(k as usize)) {
            return Err(value_err(
                op,
                format!("Duplicate argument index {a} is not allowed."),
            ));
        }
        out.push(k as usize);
    }
    out.sort_unstable();
    Ok(out)
}

/// The shared body of the `grad` family: the loss (a scalar) and its gradient with respect to
/// the arguments in `argnums` (the others are passed as they are: constants).
fn value_and_grad_impl<F>(f: &F, args: &[Array], argnums: &[i32]) -> Result<(Array, Vec<Array>)>
where
    F: Fn(&[Array]) -> Result<Array>,
{
    let which = normalize_argnums("grad", argnums, args.len())?;
    let t = Tracing::start();
    let mut inputs = args.to_vec();
    let copies: Vec<Array> = which.iter().map(|&k| t.copy(&args[k])).collect();
    for (c, &k) in copies.iter().zip(&which) {
        inputs[k] = c.clone();
    }
    let loss = f(&inputs)?;
    if loss.ndim() != 0 {
        return Err(shape_err(
            "grad",
            format!(
                "The function must return a scalar array (shape ()) to take its gradient; it returned shape {}.",
                fmt_shape(loss.shape())
            ),
        ));
    }
    let one = crate::full(&[], 1.0, loss.dtype(), loss.stream())?;
    let grads = vjp::backward(std::slice::from_ref(&loss), &copies, &[one])?;
    Ok((loss, grads))
}

/// The gradient machinery for callers that hold their parameters elsewhere (`nn`'s modules):
/// `f` receives traced copies of `params` and returns an output whose loss (`loss_of`, a
/// scalar) is differentiated with respect to them.
pub(crate) fn value_and_grad_of<L>(
    op: &'static str,
    params: &[Array],
    f: impl FnOnce(&[Array]) -> Result<L>,
    loss_of: impl Fn(&L) -> &Array,
) -> Result<(L, Vec<Array>)> {
    let t = Tracing::start();
    let copies: Vec<Array> = params.iter().map(|p| t.copy(p)).collect();
    let out = f(&copies)?;
    let loss = loss_of(&out).clone();
    if loss.ndim() != 0 {
        return Err(shape_err(
            op,
            format!(
                "The loss must be a scalar array (shape ()) to take its gradient; it has shape {}.",
                fmt_shape(loss.shape())
            ),
        ));
    }
    let one = crate::full(&[], 1.0, loss.dtype(), loss.stream())?;
    let grads = vjp::backward(std::slice::from_ref(&loss), &copies, &[one])?;
    Ok((out, grads))
}

/// `f`'s value and gradient with respect to the arguments in `argnums` (negative counts from
/// the end; the others are constants). `f` must return a scalar.
///
/// ```
/// use wmx::{self as mx, Array};
/// let f = |p: &[Array]| mx::sum(&mx::multiply(&p[0], &p[1], None)?, &[], false, None);
/// let a = Array::from_slice(&[1.0f32, 2.0], &[2]);
/// let b = Array::from_slice(&[3.0f32, 4.0], &[2]);
/// let (v, g) = mx::value_and_grad_argnums(f, &[1])(&[a, b]).unwrap();
/// assert_eq!(v.item::<f32>().unwrap(), 11.0);
/// assert_eq!(g[0].to_vec::<f32>().unwrap(), vec![1.0, 2.0]);
/// ```
pub fn value_and_grad_argnums<F>(
    f: F,
    argnums: &[i32],
) -> impl Fn(&[Array]) -> Result<(Array, Vec<Array>)> + use<F>
where
    F: Fn(&[Array]) -> Result<Array>,
{
    let argnums = argnums.to_vec();
    move |args: &[Array]| value_and_grad_impl(&f, args, &argnums)
}

/// The gradient of scalar `f` with respect to the arguments in `argnums`, one array per
/// argument in `argnums` order (sorted).
///
/// ```
/// use wmx::{self as mx, Array};
/// let f = |p: &[Array]| mx::sum(&mx::multiply(&p[0], &p[1], None)?, &[], false, None);
/// let g = mx::grad_argnums(f, &[0, 1])(&[Array::scalar(2.0f32), Array::scalar(5.0f32)]).unwrap();
/// assert_eq!((g[0].item::<f32>().unwrap(), g[1].item::<f32>().unwrap()), (5.0, 2.0));
/// ```
pub fn grad_argnums<F>(f: F, argnums: &[i32]) -> impl Fn(&[Array]) -> Result<Vec<Array>> + use<F>
where
    F: Fn(&[Array]) -> Result<Array>,
{
    let argnums = argnums.to_vec();
    move |args: &[Array]| Ok(value_and_grad_impl(&f, args, &argnums)?.1)
}

/// The value and gradient of a scalar function of one array.
///
/// ```
/// use wmx::{self as mx, Array};
/// let f = |x: &Array| mx::sum(&mx::square(x, None)?, &[], false, None);
/// let (v, g) = mx::value_and_grad(f)(&Array::from_slice(&[1.0f32, 3.0], &[2])).unwrap();
/// assert_eq!(v.item::<f32>().unwrap(), 10.0);
/// assert_eq!(g.to_vec::<f32>().unwrap(), vec![2.0, 6.0]);
/// ```
pub fn value_and_grad<F>(f: F) -> impl Fn(&Array) -> Result<(Array, Array)>
where
    F: Fn(&Array) -> Result<Array>,
{
    move |x: &Array| {
        let g = |p: &[Array]| f(&p[0]);
        let (v, mut gs) = value_and_grad_impl(&g, std::slice::from_ref(x), &[0])?;
        Ok((v, gs.remove(0)))
    }
}

/// The gradient of a scalar function of one array (MLX's `grad`). Compose it freely:
/// `grad(|x| sum(grad(f)(x)?))` is a second derivative.
///
/// ```
/// use wmx::{self as mx, Array};
/// let f = |x: &Array| mx::sum(&mx::sin(x, None)?, &[], false, None);
/// let g = mx::grad(f)(&Array::from_slice(&[0.0f32], &[1])).unwrap();
/// assert_eq!(g.to_vec::<f32>().unwrap(), vec![1.0]);
/// let h = mx::grad(|x: &Array| mx::sum(&mx::grad(f)(x)?, &[], false, None))(&Array::scalar(0.0f32)).unwrap();
/// assert_eq!(h.item::<f32>().unwrap(), 0.0); // -sin(0)
/// ```
pub fn grad<F>(f: F) -> impl Fn(&Array) -> Result<Array>
where
    F: Fn(&Array) -> Result<Array>,
{
    let vg = value_and_grad(f);
    move |x: &Array| Ok(vg(x)?.1)
}

/// Like [`value_and_grad_argnums`] for a function with auxiliary outputs: `f` returns the loss
/// first (a scalar), then any arrays that are returned but not differentiated (MLX's
/// `value_and_grad` on `(loss, aux...)`). Returns all outputs and the gradients.
///
/// ```
/// use wmx::{self as mx, Array};
/// let f = |p: &[Array]| { let y = mx::square(&p[0], None)?; Ok(vec![mx::sum(&y, &[], false, None)?, y]) };
/// let (outs, g) = mx::value_and_grad_with_aux(f, &[0])(&[Array::from_slice(&[3.0f32], &[1])]).unwrap();
/// assert_eq!(outs[1].to_vec::<f32>().unwrap(), vec![9.0]);
/// assert_eq!(g[0].to_vec::<f32>().unwrap(), vec![6.0]);
/// ```
pub fn value_and_grad_with_aux<F>(
    f: F,
    argnums: &[i32],
) -> impl Fn(&[Array]) -> Result<(Vec<Array>, Vec<Array>)> + use<F>
where
    F: Fn(&[Array]) -> Result<Vec<Array>>,
{
    let argnums = argnums.to_vec();
    move |args: &[Array]| {
        let outs = std::sync::Mutex::new(Vec::new());
        let loss_only = |p: &[Array]| -> Result<Array> {
            let o = f(p)?;
            let first = o.first().cloned().ok_or_else(|| {
                value_err(
                    "grad",
                    "The function returned no outputs; the first must be the loss.",
                )
            })?;
            *outs.lock().unwrap_or_else(|e| e.into_inner()) = o;
            Ok(first)
        };
        let (_, grads) = value_and_grad_impl(&loss_only, args, &argnums)?;
        let outs = std::mem::take(&mut *outs.lock().unwrap_or_else(|e| e.into_inner()));
        Ok((outs, grads))
    }
}
