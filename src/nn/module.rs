//! The module tree: [`Param`] (an array that may be frozen), [`Visit`] (how a type reports
//! its parameters and sub-modules by name), and [`Module`], the API every visitable type gets
//! for free: `parameters`, `trainable_parameters`, `update`, `freeze`/`unfreeze`,
//! `train`/`eval`. Names are MLX's dotted paths (`layers.0.weight`).

use crate::array::Array;
use crate::error::{Result, value_err};
use std::collections::BTreeMap;

/// A flat parameter tree: MLX's `tree_flatten` names to arrays, in name order. Gradients,
/// optimizer state and weight files use the same names.
pub type Params = BTreeMap<String, Array>;

/// A parameter: an array, and whether it is frozen (left out of `trainable_parameters`, so
/// neither differentiated nor updated by an optimizer). Derefs to the array.
///
/// ```
/// let mut p = wmx::nn::Param::new(wmx::Array::scalar(2.0f32));
/// assert!(!p.is_frozen());
/// p.set(wmx::Array::scalar(3.0f32));
/// assert_eq!(p.item::<f32>().unwrap(), 3.0);
/// ```
#[derive(Clone, Debug)]
pub struct Param {
    value: Array,
    frozen: bool,
}

impl Param {
    /// A trainable parameter.
    pub fn new(value: Array) -> Param {
        Param {
            value,
            frozen: false,
        }
    }

    /// A frozen parameter (state such as BatchNorm's running statistics).
    ///
    /// ```
    /// assert!(wmx::nn::Param::frozen(wmx::Array::scalar(0.0f32)).is_frozen());
    /// ```
    pub fn frozen(value: Array) -> Param {
        Param {
            value,
            frozen: true,
        }
    }

    /// The array.
    pub fn value(&self) -> &Array {
        &self.value
    }

    /// Replaces the array (the frozen flag stays).
    pub fn set(&mut self, value: Array) {
        self.value = value;
    }

    /// Whether the parameter is frozen.
    pub fn is_frozen(&self) -> bool {
        self.frozen
    }

    /// Freezes or unfreezes the parameter.
    pub fn set_frozen(&mut self, frozen: bool) {
        self.frozen = frozen;
    }
}

impl std::ops::Deref for Param {
    type Target = Array;
    fn deref(&self) -> &Array {
        &self.value
    }
}

/// Walks a module's parameters by name (read only). Built by [`Module`]'s methods; a
/// [`Visit`] implementation calls [`Visitor::field`] for each parameter-holding field.
pub struct Visitor<'a> {
    prefix: String,
    f: &'a mut dyn FnMut(&str, &Param),
}

impl<'a> Visitor<'a> {
    /// A visitor calling `f` with each parameter's full name.
    pub fn new(f: &'a mut dyn FnMut(&str, &Param)) -> Visitor<'a> {
        Visitor {
            prefix: String::new(),
            f,
        }
    }

    /// Visits `x` under the name `name` (appended to the current path with a dot).
    pub fn field<T: Visit + ?Sized>(&mut self, name: &str, x: &T) {
        let len = push(&mut self.prefix, name);
        x.visit(self);
        self.prefix.truncate(len);
    }

    /// Reports one parameter at the current path.
    pub fn param(&mut self, p: &Param) {
        (self.f)(&self.prefix, p)
    }
}

/// Walks a module's parameters by name, mutably (updates, freezing, loading weights).
pub struct VisitorMut<'a> {
    prefix: String,
    f: &'a mut dyn FnMut(&str, &mut Param),
}

impl<'a> VisitorMut<'a> {
    /// A visitor calling `f` with each parameter's full name.
    pub fn new(f: &'a mut dyn FnMut(&str, &mut Param)) -> VisitorMut<'a> {
        VisitorMut {
            prefix: String::new(),
            f,
        }
    }

    /// Visits `x` under the name `name`.
    pub fn field<T: Visit + ?Sized>(&mut self, name: &str, x: &mut T) {
        let len = push(&mut self.prefix, name);
        x.visit_mut(self);
        self.prefix.truncate(len);
    }

    /// Reports one parameter at the current path.
    pub fn param(&mut self, p: &mut Param) {
        (self.f)(&self.prefix, p)
    }
}

/// Appends `.name` (or `name` at the root) and returns the old length.
fn push(prefix: &mut String, name: &str) -> usize {
    let len = prefix.len();
    if !prefix.is_empty() {
        prefix.push('.');
    }
    prefix.push_str(name);
    len
}

/// How a type reports its parameters and sub-modules. Write it with
/// [`module!`](crate::module); implement it by hand only for layers with state of their own
/// (BatchNorm's statistics, Dropout's training flag).
pub trait Visit {
    /// Reports every parameter under the visitor's current path.
    fn visit(&self, v: &mut Visitor<'_>);
    /// Reports every parameter mutably.
    fn visit_mut(&mut self, v: &mut VisitorMut<'_>);
    /// Switches training mode (Dropout, BatchNorm) here and in every sub-module.
    fn set_training(&mut self, _training: bool) {}
}

impl Visit for Param {
    fn visit(&self, v: &mut Visitor<'_>) {
        v.param(self)
    }
    fn visit_mut(&mut self, v: &mut VisitorMut<'_>) {
        v.param(self)
    }
}

impl<T: Visit> Visit for Option<T> {
    fn visit(&self, v: &mut Visitor<'_>) {
        if let Some(x) = self {
            x.visit(v)
        }
    }
    fn visit_mut(&mut self, v: &mut VisitorMut<'_>) {
        if let Some(x) = self {
            x.visit_mut(v)
        }
    }
    fn set_training(&mut self, training: bool) {
        if let Some(x) = self {
            x.set_training(training)
        }
    }
}

impl<T: Visit> Visit for Vec<T> {
    fn visit(&self, v: &mut Visitor<'_>) {
        for (i, x) in self.iter().enumerate() {
            v.field(&i.to_string(), x);
        }
    }
    fn visit_mut(&mut self, v: &mut VisitorMut<'_>) {
        for (i, x) in self.iter_mut().enumerate() {
            v.field(&i.to_string(), x);
        }
    }
    fn set_training(&mut self, training: bool) {
        self.iter_mut().for_each(|x| x.set_training(training))
    }
}

impl Visit for Box<dyn UnaryModule> {
    fn visit(&self, v: &mut Visitor<'_>) {
        (**self).visit(v)
    }
    fn visit_mut(&mut self, v: &mut VisitorMut<'_>) {
        (**self).visit_mut(v)
    }
    fn set_training(&mut self, training: bool) {
        (**self).set_training(training)
    }
}

/// MLX's `nn.Module` API, implemented for every [`Visit`] type.
pub trait Module: Visit + Send + Sync {
    /// Every parameter (trainable and frozen) by name.
    ///
    /// ```
    /// use wmx::nn::Module;
    /// let l = wmx::nn::Linear::new(3, 2, true, None).unwrap();
    /// assert_eq!(l.parameters()["weight"].shape(), &[2, 3]);
    /// ```
    fn parameters(&self) -> Params {
        let mut out = Params::new();
        self.visit(&mut Visitor::new(&mut |n, p| {
            out.insert(n.to_string(), p.value().clone());
        }));
        out
    }

    /// The parameters that are not frozen: what [`value_and_grad`](super::value_and_grad)
    /// differentiates and an optimizer updates.
    ///
    /// ```
    /// use wmx::nn::Module;
    /// let mut l = wmx::nn::Linear::new(3, 2, true, None).unwrap();
    /// l.freeze(Some(&["weight"])).unwrap();
    /// assert_eq!(l.trainable_parameters().keys().collect::<Vec<_>>(), ["bias"]);
    /// ```
    fn trainable_parameters(&self) -> Params {
        let mut out = Params::new();
        self.visit(&mut Visitor::new(&mut |n, p| {
            if !p.is_frozen() {
                out.insert(n.to_string(), p.value().clone());
            }
        }));
        out
    }

    /// Replaces the parameters named in `params` (MLX's `update`, strict): a name the module
    /// does not have is an error, and nothing is changed then.
    ///
    /// ```
    /// use wmx::nn::{Module, Params};
    /// let mut l = wmx::nn::Linear::new(1, 1, false, None).unwrap();
    /// let p = Params::from([("weight".to_string(), wmx::Array::from_slice(&[5.0f32], &[1, 1]))]);
    /// l.update(&p).unwrap();
    /// assert_eq!(l.weight.to_vec::<f32>().unwrap(), vec![5.0]);
    /// let bad = Params::from([("wieght".to_string(), wmx::Array::scalar(1.0f32))]);
    /// assert!(l.update(&bad).unwrap_err().to_string().contains("wieght"));
    /// ```
    fn update(&mut self, params: &Params) -> Result<()> {
        let have = self.parameters();
        let unknown: Vec<&str> = params
            .keys()
            .filter(|k| !have.contains_key(*k))
            .map(|k| k.as_str())
            .collect();
        if !unknown.is_empty() {
            return Err(value_err(
                "Module::update",
                format!(
                    "The module has no parameters named {unknown:?} (it has {:?}).",
                    have.keys().collect::<Vec<_>>()
                ),
            ));
        }
        self.visit_mut(&mut VisitorMut::new(&mut |n, p| {
            if let Some(a) = params.get(n) {
                p.set(a.clone());
            }
        }));
        Ok(())
    }

    /// Loads weights held in memory, with MLX's `load_weights` semantics (the file-reading
    /// `load_weights` calls it). Strict: the names must be exactly the
    /// module's, else one error lists the missing, unexpected and mis-shaped names. Not
    /// strict: names the module lacks are ignored and missing ones are left as they are. A
    /// shape that differs from the parameter's is an error either way.
    ///
    /// ```
    /// use wmx::nn::{Module, Params};
    /// let mut l = wmx::nn::Linear::new(2, 1, true, None).unwrap();
    /// let w = Params::from([("weight".to_string(), wmx::ones(&[1, 2], wmx::Dtype::Float32, None).unwrap())]);
    /// let e = l.load_params(&w, true).unwrap_err().to_string();
    /// assert!(e.contains("missing") && e.contains("bias"), "{e}");
    /// l.load_params(&w, false).unwrap();
    /// assert_eq!(l.weight.to_vec::<f32>().unwrap(), vec![1.0, 1.0]);
    /// ```
    fn load_params(&mut self, params: &Params, strict: bool) -> Result<()> {
        let have = self.parameters();
        let missing: Vec<&String> = have.keys().filter(|k| !params.contains_key(*k)).collect();
        let unexpected: Vec<&String> = params.keys().filter(|k| !have.contains_key(*k)).collect();
        let misshaped: Vec<String> = params
            .iter()
            .filter_map(|(k, a)| {
                let p = have.get(k)?;
                (p.shape() != a.shape())
                    .then(|| format!("{k}: {:?} for {:?}", a.shape(), p.shape()))
            })
            .collect();
        let strict_fail = strict && (!missing.is_empty() || !unexpected.is_empty());
        if strict_fail || !misshaped.is_empty() {
            let mut parts = Vec::new();
            if strict && !missing.is_empty() {
                parts.push(format!("missing {missing:?}"));
            }
            if strict && !unexpected.is_empty() {
                parts.push(format!("unexpected {unexpected:?}"));
            }
            if !misshaped.is_empty() {
                parts.push(format!("mis-shaped {misshaped:?}"));
            }
            return Err(value_err(
                "Module::load_weights",
                format!("The weights do not match the module: {}.", parts.join("; ")),
            ));
        }
        self.visit_mut(&mut VisitorMut::new(&mut |n, p| {
            if let Some(a) = params.get(n) {
                p.set(a.clone());
            }
        }));
        Ok(())
    }

    /// Writes every parameter to `path`: safetensors, or npz when the name ends in `.npz`
    /// (MLX's `save_weights`).
    ///
    /// ```
    /// use wmx::nn::Module;
    /// let l = wmx::nn::Linear::new(2, 3, true, None).unwrap();
    /// let p = std::env::temp_dir().join("wmx_doc_save_weights.safetensors");
    /// l.save_weights(&p).unwrap();
    /// let mut m = wmx::nn::Linear::new(2, 3, true, None).unwrap();
    /// m.load_weights(&p, true).unwrap();
    /// assert_eq!(m.weight.to_vec::<f32>().unwrap(), l.weight.to_vec::<f32>().unwrap());
    /// let mut wrong = wmx::nn::Linear::new(2, 4, true, None).unwrap();
    /// assert!(wrong.load_weights(&p, true).unwrap_err().to_string().contains("mis-shaped"));
    /// # std::fs::remove_file(p).unwrap();
    /// ```
    fn save_weights(&self, path: impl AsRef<std::path::Path>) -> Result<()>
    where
        Self: Sized,
    {
        let path = path.as_ref();
        let all: std::collections::HashMap<String, Array> = self.parameters().into_iter().collect();
        if path.extension().is_some_and(|e| e == "npz") {
            crate::savez(path, &all)
        } else {
            crate::save_safetensors(path, &all, None)
        }
    }

    /// Reads weights written by [`Module::save_weights`] (or by MLX, PyTorch's safetensors,
    /// numpy's `savez`) into the module, with [`Module::load_params`]'s strictness. The arrays
    /// load on the default device.
    fn load_weights(&mut self, path: impl AsRef<std::path::Path>, strict: bool) -> Result<()>
    where
        Self: Sized,
    {
        let path = path.as_ref();
        let arrays = if path.extension().is_some_and(|e| e == "npz") {
            crate::load_npz(path, None)?
        } else {
            crate::load_safetensors(path, None)?.0
        };
        self.load_params(&arrays.into_iter().collect(), strict)
    }

    /// Freezes parameters: all of them with `None`, else those whose own name (`bias`), full
    /// name (`layers.0.bias`) or module path (`layers.0`) is in `keys` — MLX's `freeze(keys=..)`
    /// with paths as well. A key that matches nothing is an error.
    ///
    /// ```
    /// use wmx::nn::Module;
    /// let mut l = wmx::nn::Linear::new(3, 2, true, None).unwrap();
    /// l.freeze(None).unwrap();
    /// assert!(l.trainable_parameters().is_empty());
    /// l.unfreeze(Some(&["bias"])).unwrap();
    /// assert_eq!(l.trainable_parameters().len(), 1);
    /// assert!(l.freeze(Some(&["nope"])).is_err());
    /// ```
    fn freeze(&mut self, keys: Option<&[&str]>) -> Result<()> {
        set_frozen(self, keys, true, "Module::freeze")
    }

    /// Unfreezes parameters, selected as in [`Module::freeze`].
    fn unfreeze(&mut self, keys: Option<&[&str]>) -> Result<()> {
        set_frozen(self, keys, false, "Module::unfreeze")
    }

    /// Training mode on or off (Dropout drops, BatchNorm uses batch statistics and updates its
    /// running ones).
    fn train(&mut self, on: bool) {
        self.set_training(on)
    }

    /// Evaluation mode: `train(false)`.
    fn eval(&mut self) {
        self.set_training(false)
    }

    /// Total number of parameter elements.
    ///
    /// ```
    /// use wmx::nn::Module;
    /// assert_eq!(wmx::nn::Linear::new(3, 2, true, None).unwrap().num_parameters(), 8);
    /// ```
    fn num_parameters(&self) -> usize {
        self.parameters().values().map(|a| a.size()).sum()
    }
}

impl<T: Visit + Send + Sync + ?Sized> Module for T {}

fn set_frozen<M: Module + ?Sized>(
    m: &mut M,
    keys: Option<&[&str]>,
    frozen: bool,
    op: &'static str,
) -> Result<()> {
    let matches = |name: &str, key: &str| {
        name == key
            || name.rsplit('.').next() == Some(key)
            || name.strip_prefix(key).is_some_and(|r| r.starts_with('.'))
    };
    if let Some(keys) = keys {
        let names: Vec<String> = m.parameters().into_keys().collect();
        let missing: Vec<&&str> = keys
            .iter()
            .filter(|k| !names.iter().any(|n| matches(n, k)))
            .collect();
        if !missing.is_empty() {
            return Err(value_err(
                op,
                format!("No parameter or module matches {missing:?} (parameters: {names:?})."),
            ));
        }
    }
    m.visit_mut(&mut VisitorMut::new(&mut |n, p| {
        if keys.is_none_or(|ks| ks.iter().any(|k| matches(n, k))) {
            p.set_frozen(frozen);
        }
    }));
    Ok(())
}

/// A module with a one-array forward pass (`Sequential` chains these).
pub trait UnaryModule: Module {
    /// Applies the module to `x`.
    fn forward(&self, x: &Array) -> Result<Array>;
}

/// What [`value_and_grad`](super::value_and_grad) differentiates: the loss itself, or the
/// first element of `(loss, aux)` (MLX's `value_and_grad` of a function returning a tuple).
pub trait Loss {
    /// The scalar loss.
    fn loss(&self) -> &Array;
}

impl Loss for Array {
    fn loss(&self) -> &Array {
        self
    }
}

impl<T> Loss for (Array, T) {
    fn loss(&self) -> &Array {
        &self.0
    }
}
