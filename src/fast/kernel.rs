//! `fast::wgsl_kernel`, wmx's `mx.fast.metal_kernel`: a kernel whose body the user writes in
//! WGSL. wmx declares the bindings (inputs read-only, outputs read-write or atomic), the template
//! constants and type aliases, MLX's position builtins and, when the body uses them, each
//! input's `<name>_shape`, `<name>_strides`, `<name>_ndim` and `<name>_loc(elem)`; the module is
//! validated by naga when the call is made (an invalid body is an `Err` naming its line), its
//! pipeline is built once per distinct module and cached, and each call is a node on a GPU
//! stream like any op. This file checks the arguments and builds the nodes; `kernel_source.rs`
//! writes and validates the module; the GPU backend (`backend/gpu/kernels/custom.rs`) runs it.
//!
//! A call's outputs are one node each over one shared launch: whichever is evaluated first runs
//! the kernel once and leaves its siblings their buffers (MLX's sibling outputs).
//!
//! The user's guide (what the body can use) and an example are on [`wgsl_kernel`].

use super::kernel_call::KernelCall;
use super::kernel_source::{self as source, InputSig, OP, is_ident};
use crate::array::{Array, Node};
use crate::backend::Data;
use crate::device::{DeviceType, device_count};
use crate::dtype::Dtype;
use crate::error::{Error, Result, shape_err, value_err};
use crate::primitive::Primitive;
use crate::stream::{Stream, StreamOrDevice, default_stream};
use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock, Weak};

/// A kernel written in WGSL, made by [`wgsl_kernel`]; run it with [`WgslKernel::call`]. Cheap to
/// clone (clones share the record of modules naga has already accepted).
#[derive(Clone, Debug)]
pub struct WgslKernel {
    pub(super) name: String,
    pub(super) input_names: Vec<String>,
    pub(super) output_names: Vec<String>,
    pub(super) source: String,
    pub(super) header: String,
    pub(super) ensure_row_contiguous: bool,
    pub(super) atomic_outputs: bool,
    validated: Arc<Mutex<HashSet<(String, bool)>>>,
}

/// Makes a kernel from the body `source` of a WGSL compute entry point (MLX's
/// `mx.fast.metal_kernel`): `input_names` and `output_names` name its buffers in the body. Options
/// are set with [`WgslKernel::header`], [`WgslKernel::ensure_row_contiguous`] (on by default) and
/// [`WgslKernel::atomic_outputs`]; a call takes a [`KernelCall`].
///
/// ```
/// use wmx::{Array, Dtype, fast};
/// # if wmx::device_count(wmx::DeviceType::Gpu) == 0
/// #     && std::env::var("WMX_REQUIRE_GPU").as_deref() != Ok("1") { return Ok(()); }
/// let add = fast::wgsl_kernel("add", &["a", "b"], &["out"],
///     "let i = thread_position_in_grid.x; out[i] = a[i] + b[i];")?;
/// let (a, b) = (Array::from_slice(&[1.0f32, 2.0], &[2]), Array::from_slice(&[10.0f32, 20.0], &[2]));
/// let call = fast::KernelCall::new([2, 1, 1], [64, 1, 1]).output(&[2], Dtype::Float32);
/// let out = add.call(&[&a, &b], &call, None)?;
/// assert_eq!(out[0].to_vec::<f32>()?, vec![11.0, 22.0]);
/// # Ok::<(), wmx::Error>(())
/// ```
///
/// # The body
/// - Inputs are `var<storage, read> name: array<T>` (a 0-d input is a plain `T`); outputs are
///   `var<storage, read_write> name: array<T>`, or with `atomic_outputs` `array<atomic<i32>>` for
///   int32 and `array<atomic<u32>>` for uint32 and float32 (WGSL has no float atomics: a float32
///   output holds its bits, updated with `atomicCompareExchangeWeak` on `bitcast`s).
/// - Dtypes: float32, int32, uint32, and float16 on GPUs with native f16 (`enable f16;` is
///   written for you). bool, uint8 and bfloat16 are refused (WGSL cannot address their elements).
/// - Builtins (all `vec3<u32>` but the last): `thread_position_in_grid`,
///   `thread_position_in_threadgroup`, `threadgroup_position_in_grid`, `threads_per_threadgroup`,
///   `threadgroups_per_grid`, `grid_size` (= `threads_per_grid`), `thread_index_in_threadgroup`
///   (`u32`). Subgroup (simdgroup) builtins are not available.
/// - Template arguments become `const NAME: i32/u32/f32/bool = v;` or `alias NAME = f32;`.
/// - `<in>_shape` and `<in>_strides` are `array<u32, ndim>` (elements), `<in>_ndim` a `u32`
///   constant, `<in>_loc(elem: u32) -> u32` the buffer index of row-major element `elem`. With
///   `ensure_row_contiguous(false)` an input keeps its strides (transposes, broadcasts, strided
///   slices) unless it starts past its buffer's first element, which is copied first.
/// - `grid` counts threads per dimension (Metal's `dispatchThreads`); threads past it do not run
///   the body. Kernels that call `workgroupBarrier` (or another barrier) run whole workgroups, so
///   their grid must be a multiple of the threadgroup. A threadgroup larger than the grid shrinks
///   to it (as in MLX). Outputs are row-major; without `init_value`, elements the kernel does not
///   write are unspecified.
/// - Names starting with `wmx_` are reserved. Kernels run with wgpu's bounds checks on: an index
///   past a buffer reads or writes inside it, never outside.
///
/// # Transforms
/// A kernel has no vjp, jvp or vmap rule of its own; wrap its call in
/// [`custom_function`](crate::custom_function) and give the rules there, as in the example.
///
/// # Example: a custom activation with its gradient
/// Squareplus, a smooth relu, `y = (x + sqrt(x² + b)) / 2` with `b` a template constant, whose
/// derivative `(1 + x / sqrt(x² + b)) / 2` is given to `custom_function` with ordinary ops:
///
/// ```
/// use wmx::{self as mx, Array, Dtype, fast};
/// # if mx::device_count(mx::DeviceType::Gpu) == 0
/// #     && std::env::var("WMX_REQUIRE_GPU").as_deref() != Ok("1") { return Ok(()); }
/// let kernel = fast::wgsl_kernel(
///     "squareplus",
///     &["x"],
///     &["y"],
///     "let i = thread_position_in_grid.x;
///      let v = x[i];
///      y[i] = (v + sqrt(v * v + B)) * 0.5;",
/// )?;
/// let squareplus = mx::custom_function(move |xs: &[Array]| {
///     let x = &xs[0];
///     let call = fast::KernelCall::new([x.size() as u32, 1, 1], [256, 1, 1])
///         .template("B", 4.0f32)
///         .output(x.shape(), Dtype::Float32);
///     kernel.call(&[x], &call, None)
/// })
/// .vjp(|xs, cots, _outs| {
///     let x = &xs[0];
///     let r = mx::sqrt(&mx::add(&mx::square(x, None)?, 4.0, None)?, None)?;
///     let dy = mx::multiply(&mx::add(&mx::divide(x, &r, None)?, 1.0, None)?, 0.5, None)?;
///     Ok(vec![mx::multiply(&dy, &cots[0], None)?])
/// });
///
/// let x = Array::from_slice(&[-2.0f32, 0.0, 1.5], &[3]);
/// let y = squareplus.call(&[x.clone()])?[0].to_vec::<f32>()?;
/// let want = [(8f32.sqrt() - 2.0) / 2.0, 1.0, 2.0];
/// assert!(y.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-6), "{y:?}");
///
/// let loss = |x: &Array| mx::sum(&squareplus.call(&[x.clone()])?[0], &[], false, None);
/// let g = mx::grad(loss)(&x)?.to_vec::<f32>()?;
/// let want = [(1.0 - 2.0 / 8f32.sqrt()) / 2.0, 0.5, 0.8];
/// assert!(g.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-6), "{g:?}");
/// # Ok::<(), mx::Error>(())
/// ```
pub fn wgsl_kernel(
    name: &str,
    input_names: &[&str],
    output_names: &[&str],
    source: &str,
) -> Result<WgslKernel> {
    if !is_ident(name) {
        return Err(value_err(
            OP,
            format!(
                "The kernel name `{name}` must be a WGSL identifier (letters, digits and `_`, \
                 not starting with a digit, `__` or `wmx_`, and not a WGSL keyword)."
            ),
        ));
    }
    if output_names.is_empty() {
        return Err(value_err(
            OP,
            format!("{name}: Must specify at least one output."),
        ));
    }
    let mut seen = HashSet::new();
    for n in input_names.iter().chain(output_names) {
        if !is_ident(n) || source::BUILTINS.contains(n) {
            return Err(value_err(
                OP,
                format!(
                    "{name}: `{n}` cannot name a buffer: names are WGSL identifiers, not \
                     starting with `__` or `wmx_`, not WGSL keywords, and not one of the \
                     builtins {:?}.",
                    source::BUILTINS
                ),
            ));
        }
        if !seen.insert(*n) {
            return Err(value_err(
                OP,
                format!("{name}: the buffer name `{n}` is given twice."),
            ));
        }
    }
    Ok(WgslKernel {
        name: name.to_string(),
        input_names: input_names.iter().map(|s| s.to_string()).collect(),
        output_names: output_names.iter().map(|s| s.to_string()).collect(),
        source: source.to_string(),
        header: String::new(),
        ensure_row_contiguous: true,
        atomic_outputs: false,
        validated: Arc::default(),
    })
}

/// What a call needs beyond the module: the logical workgroup grid and the dispatch.
struct Plan {
    module: source::Module,
    sigs: Vec<InputSig>,
    groups: [u32; 3],
}

impl WgslKernel {
    /// WGSL placed before the entry point: helper functions, `var<workgroup>` arrays, constants.
    ///
    /// ```
    /// let k = wmx::fast::wgsl_kernel("k", &["x"], &["y"], "y[0] = twice(x[0]);").unwrap()
    ///     .header("fn twice(v: f32) -> f32 { return 2.0 * v; }");
    /// assert_eq!(k.name(), "k");
    /// ```
    pub fn header(mut self, header: &str) -> WgslKernel {
        self.header = header.to_string();
        self
    }

    /// Copies inputs to dense row-major order before the kernel runs (default `true`); with
    /// `false` the body indexes them through `<name>_strides` or `<name>_loc`.
    ///
    /// ```
    /// let k = wmx::fast::wgsl_kernel("k", &["x"], &["y"], "y[0] = x[x_loc(0u)];").unwrap()
    ///     .ensure_row_contiguous(false);
    /// assert_eq!(k.name(), "k");
    /// ```
    pub fn ensure_row_contiguous(mut self, yes: bool) -> WgslKernel {
        self.ensure_row_contiguous = yes;
        self
    }

    /// Declares every output as an array of atomics (see [`wgsl_kernel`]).
    ///
    /// ```
    /// let k = wmx::fast::wgsl_kernel("count", &["x"], &["n"], "atomicAdd(&n[0], 1u);").unwrap()
    ///     .atomic_outputs(true);
    /// assert_eq!(k.name(), "count");
    /// ```
    pub fn atomic_outputs(mut self, yes: bool) -> WgslKernel {
        self.atomic_outputs = yes;
        self
    }

    /// The kernel's name.
    ///
    /// ```
    /// assert_eq!(wmx::fast::wgsl_kernel("k", &[], &["y"], "").unwrap().name(), "k");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The WGSL module `call` would run on `inputs` (what [`KernelCall::verbose`] prints), on a
    /// device with native f16. Nothing is evaluated or validated.
    ///
    /// ```
    /// use wmx::{Array, Dtype, fast};
    /// let k = fast::wgsl_kernel("k", &["x"], &["y"], "y[0] = x[0];").unwrap();
    /// let call = fast::KernelCall::new([1, 1, 1], [1, 1, 1]).output(&[1], Dtype::Float32);
    /// let wgsl = k.source(&[&Array::scalar(1.0f32)], &call).unwrap();
    /// assert!(wgsl.contains("var<storage, read> x: f32;") && wgsl.contains("fn custom_kernel_k("));
    /// ```
    pub fn source(&self, inputs: &[&Array], call: &KernelCall) -> Result<String> {
        Ok(self.plan(inputs, call)?.module.source)
    }

    /// Runs the kernel on `inputs` (one per input name) as `call` says, on a GPU stream (`None`
    /// is the default GPU's default stream even when the default device is the CPU, as in MLX);
    /// returns one array per output name. The module is validated now: an invalid body is an
    /// `Err` naming its line. See [`wgsl_kernel`] for an example.
    ///
    /// ```
    /// use wmx::{Array, Device, Dtype, fast};
    /// let k = fast::wgsl_kernel("k", &["x"], &["y"], "y[0] = x[0];").unwrap();
    /// let call = fast::KernelCall::new([1, 1, 1], [1, 1, 1]).output(&[1], Dtype::Float32);
    /// let err = k.call(&[&Array::scalar(1.0f32)], &call, Device::cpu()).unwrap_err();
    /// assert!(err.to_string().contains("runs on GPU streams"));
    /// ```
    pub fn call(
        &self,
        inputs: &[&Array],
        call: &KernelCall,
        s: impl Into<StreamOrDevice>,
    ) -> Result<Vec<Array>> {
        let st = self.stream(s.into())?;
        let limits = crate::backend::kernel_limits(st.device().index)?;
        let plan = self.plan(inputs, call)?;
        if call.verbose {
            println!(
                "Generated source code for `{}`:\n```\n{}```",
                self.name, plan.module.source
            );
        }
        let name = &self.name;
        // f16 buffers or aliases (the module then enables f16).
        if plan.module.source.starts_with("enable f16;") && !limits.native_f16 {
            return Err(Error::Dtype {
                op: OP,
                msg: format!(
                    "{name}: float16 needs a GPU with native f16 (wgpu's SHADER_F16); GPU {} \
                     stores halves packed. Cast to float32 first.",
                    st.device().index
                ),
            });
        }
        let wg = self.workgroup(call);
        let max_wg = limits.workgroup_size;
        if (0..3).any(|d| wg[d] > max_wg[d]) || wg.iter().product::<u32>() > limits.invocations {
            return Err(Error::TooLarge {
                op: OP,
                msg: format!(
                    "{name}: a threadgroup of {wg:?} threads exceeds this GPU's limits: {max_wg:?} \
                     per dimension and {} in all.",
                    limits.invocations
                ),
            });
        }
        let dispatch =
            dispatch_groups(plan.groups, limits.groups_per_dim).ok_or_else(|| Error::TooLarge {
                op: OP,
                msg: format!(
                    "{name}: a grid of {:?} threads in threadgroups of {wg:?} needs {:?} \
                     workgroups; this GPU runs at most {} per dimension ({} in all when folded).",
                    call.grid,
                    plan.groups,
                    limits.groups_per_dim,
                    (limits.groups_per_dim as u64).pow(2).min(u32::MAX as u64)
                ),
            })?;
        let buffers = 1 + inputs.len() + call.outputs.len();
        if buffers as u32 > limits.storage_buffers {
            return Err(Error::TooLarge {
                op: OP,
                msg: format!(
                    "{name}: {} inputs and {} outputs need {buffers} storage buffers (with the \
                     info table); this GPU binds at most {} per shader.",
                    inputs.len(),
                    call.outputs.len(),
                    limits.storage_buffers
                ),
            });
        }
        self.validate(&plan.module, limits.native_f16)?;
        let launch = Arc::new(KernelLaunch {
            name: name.clone(),
            label: format!("{OP}.{name}"),
            info_layout: source::info_layout(self, &plan.sigs),
            entry: plan.module.entry,
            source: plan.module.source,
            dense_inputs: self.ensure_row_contiguous,
            grid: call.grid,
            groups: plan.groups,
            dispatch,
            outputs: call.outputs.clone(),
            init_value: call.init_value,
            results: Mutex::new(None),
            siblings: OnceLock::new(),
        });
        let ins: Vec<Array> = inputs.iter().map(|a| (*a).clone()).collect();
        let outs = call
            .outputs
            .iter()
            .enumerate()
            .map(|(index, (shape, dtype))| {
                crate::ops::node(
                    shape.clone(),
                    *dtype,
                    st,
                    Primitive::CustomKernel {
                        launch: KernelLaunchRef(launch.clone()),
                        index,
                    },
                    ins.clone(),
                )
            })
            .collect::<Result<Vec<Array>>>()?;
        let _ = launch
            .siblings
            .set(outs.iter().map(|a| Arc::downgrade(&a.0)).collect());
        Ok(outs)
    }

    /// The call's stream: a GPU stream (an unspecified one is the first GPU's when the default
    /// device is the CPU, as MLX's `metal_kernel` does).
    fn stream(&self, s: StreamOrDevice) -> Result<Stream> {
        let st = match s {
            StreamOrDevice::Default
                if crate::device::default_device().kind == DeviceType::Cpu
                    && device_count(DeviceType::Gpu) > 0 =>
            {
                default_stream(crate::Device::gpu(0))
            }
            other => other.resolve(OP)?,
        };
        if st.device().kind == DeviceType::Cpu {
            return Err(Error::Device {
                op: OP,
                msg: format!(
                    "{}: wgsl_kernel runs on GPU streams; {st:?} is a CPU stream. Pass a GPU \
                     stream or device, or write the computation with ops to run it on the CPU.",
                    self.name
                ),
            });
        }
        Ok(st)
    }

    /// The threadgroup, each dimension shrunk to the grid's (MLX's rule), at least 1.
    fn workgroup(&self, call: &KernelCall) -> [u32; 3] {
        std::array::from_fn(|d| call.threadgroup[d].min(call.grid[d]).max(1))
    }

    /// Checks a call's arguments and renders its module.
    fn plan(&self, inputs: &[&Array], call: &KernelCall) -> Result<Plan> {
        let name = &self.name;
        let count = |what: &str, got: usize, want: usize| -> Result<()> {
            if got == want {
                return Ok(());
            }
            Err(value_err(
                OP,
                format!("{name}: Expected {want} {what} but got {got}."),
            ))
        };
        count("inputs", inputs.len(), self.input_names.len())?;
        count("outputs", call.outputs.len(), self.output_names.len())?;
        for ((shape, _), out) in call.outputs.iter().zip(&self.output_names) {
            if shape.iter().any(|&d| d < 0) {
                return Err(shape_err(
                    OP,
                    format!("{name}: output `{out}` has a negative dimension: {shape:?}."),
                ));
            }
        }
        if call.threadgroup.contains(&0) {
            return Err(value_err(
                OP,
                format!(
                    "{name}: the threadgroup {:?} has an empty dimension.",
                    call.threadgroup
                ),
            ));
        }
        let mut seen: HashSet<&str> = self
            .input_names
            .iter()
            .chain(&self.output_names)
            .map(|s| s.as_str())
            .collect();
        for (arg, _) in &call.template {
            if !is_ident(arg) || source::BUILTINS.contains(&arg.as_str()) || !seen.insert(arg) {
                return Err(value_err(
                    OP,
                    format!(
                        "{name}: template argument `{arg}` must be a WGSL identifier (not a \
                         keyword) not used by a buffer, another argument or a builtin."
                    ),
                ));
            }
        }
        let sigs: Vec<InputSig> = inputs
            .iter()
            .map(|a| InputSig {
                dtype: a.dtype(),
                ndim: a.ndim(),
            })
            .collect();
        let wg = self.workgroup(call);
        let guard = !source::uses_barriers(self);
        if !guard && (0..3).any(|d| !call.grid[d].is_multiple_of(wg[d])) {
            return Err(value_err(
                OP,
                format!(
                    "{name}: a kernel with barriers runs whole threadgroups, so its grid {:?} must \
                     be a multiple of its threadgroup {wg:?} in each dimension.",
                    call.grid
                ),
            ));
        }
        let groups: [u32; 3] = std::array::from_fn(|d| call.grid[d].div_ceil(wg[d]));
        if (0..3).any(|d| groups[d] as u64 * wg[d] as u64 > 1 << 32) {
            return Err(Error::TooLarge {
                op: OP,
                msg: format!(
                    "{name}: a grid of {:?} threads passes 32-bit thread positions.",
                    call.grid
                ),
            });
        }
        let module = source::render(self, &sigs, &dtypes(call), &call.template, wg, guard)?;
        Ok(Plan {
            module,
            sigs,
            groups,
        })
    }

    /// Validates `module` with naga once per distinct module (and f16 mode).
    fn validate(&self, module: &source::Module, native_f16: bool) -> Result<()> {
        let key = (module.source.clone(), native_f16);
        let done = |v: &Mutex<HashSet<(String, bool)>>| {
            v.lock().unwrap_or_else(|p| p.into_inner()).contains(&key)
        };
        if done(&self.validated) {
            return Ok(());
        }
        source::validate(&self.name, module, native_f16)?;
        self.validated
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key);
        Ok(())
    }
}

fn dtypes(call: &KernelCall) -> Vec<Dtype> {
    call.outputs.iter().map(|o| o.1).collect()
}

/// The dispatch of a logical grid of `groups` workgroups: itself when every dimension fits the
/// limit, else folded into a 2-D grid whose workgroups the kernel maps back (padding ones
/// return); `None` past what 32-bit workgroup and thread indices reach.
fn dispatch_groups(groups: [u32; 3], max: u32) -> Option<[u32; 3]> {
    let total: u64 = groups.iter().map(|&g| g as u64).product();
    if total > u32::MAX as u64 {
        return None;
    }
    if groups.iter().all(|&g| g <= max) {
        return Some(groups);
    }
    let rows = total.div_ceil(max as u64);
    let cols = total.div_ceil(rows);
    (rows <= max as u64 && cols * rows <= u32::MAX as u64).then_some([cols as u32, rows as u32, 1])
}

/// One call of a kernel: what the GPU backend needs to run it, and the outputs it produced
/// until each sibling node has taken its own.
pub(crate) struct KernelLaunch {
    /// The kernel's name.
    pub name: String,
    /// `wgsl_kernel.<name>`: the wgpu label.
    pub label: String,
    pub source: String,
    pub entry: String,
    /// Where each input's shape and strides go in the info table (see `kernel_source.rs`).
    pub info_layout: Vec<Option<usize>>,
    /// Copy every input to dense row-major order first (`ensure_row_contiguous`).
    pub dense_inputs: bool,
    pub grid: [u32; 3],
    /// Workgroups per dimension of the logical grid.
    pub groups: [u32; 3],
    /// The workgroups dispatched (the logical grid, or it folded to 2-D).
    pub dispatch: [u32; 3],
    pub outputs: Vec<(Vec<i32>, Dtype)>,
    pub init_value: Option<f64>,
    /// `None` until the first sibling runs; then each output until its node takes it.
    pub results: Mutex<Option<Result<Vec<Option<Data>>>>>,
    /// The output nodes, so a run keeps no buffer for an output nobody holds any more.
    pub siblings: OnceLock<Vec<Weak<Node>>>,
}

/// A shared handle to a launch, compared by identity (a primitive parameter).
#[derive(Clone)]
pub(crate) struct KernelLaunchRef(pub(crate) Arc<KernelLaunch>);

impl PartialEq for KernelLaunchRef {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for KernelLaunchRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}(grid {:?}, {} outputs)",
            self.0.label,
            self.0.grid,
            self.0.outputs.len()
        )
    }
}

/// The error every transform gives for a kernel: its rules come from `custom_function`.
pub(crate) fn no_rule(transform: &'static str, launch: &KernelLaunchRef) -> Error {
    value_err(
        OP,
        format!(
            "{}: a kernel has no {transform} rule of its own. Call it inside `custom_function` \
             and give the rule there (`.{transform}(...)`, written with ops or another kernel).",
            launch.0.name
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_fold_to_2d_past_the_limit() {
        assert_eq!(dispatch_groups([10, 2, 1], 65535), Some([10, 2, 1]));
        let d = dispatch_groups([100_000, 1, 1], 65535).unwrap();
        assert!(d[0] <= 65535 && d[1] <= 65535 && d[0] as u64 * d[1] as u64 >= 100_000);
        // Less than a row of padding workgroups.
        assert!(d[0] as u64 * d[1] as u64 - 100_000 < d[1] as u64);
        assert_eq!(dispatch_groups([65535, 65535, 2], 65535), None);
        assert_eq!(dispatch_groups([0, 1, 1], 65535), Some([0, 1, 1]));
    }
}
