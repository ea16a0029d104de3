//! The arguments of one `wgsl_kernel` call ([`KernelCall`]: grid, threadgroup, outputs, template
//! arguments, init value) and the [`TemplateArg`] values; plain data, checked by `kernel.rs`.

use crate::dtype::Dtype;

/// A template argument of a [`KernelCall`]: a WGSL constant, or a type alias for a dtype.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum TemplateArg {
    /// `const NAME: i32 = v;`
    Int(i32),
    /// `const NAME: u32 = v;`
    Uint(u32),
    /// `const NAME: f32 = v;` (finite)
    Float(f32),
    /// `const NAME: bool = v;`
    Bool(bool),
    /// `alias NAME = f32;` (or `i32`, `u32`, `f16`, `bool`)
    Dtype(Dtype),
}

macro_rules! template_from {
    ($($t:ty => $v:ident),*) => {$(
        impl From<$t> for TemplateArg {
            fn from(v: $t) -> TemplateArg {
                TemplateArg::$v(v)
            }
        }
    )*};
}
template_from!(i32 => Int, u32 => Uint, f32 => Float, bool => Bool, Dtype => Dtype);

/// How one call of a [`WgslKernel`](super::WgslKernel) runs: its grid and threadgroup (threads per dimension, as
/// Metal's `dispatchThreads` takes them), its outputs (one [`KernelCall::output`] per output
/// name, in order), template arguments, and an optional value the outputs are filled with first.
#[derive(Clone, Debug, PartialEq)]
pub struct KernelCall {
    pub(super) grid: [u32; 3],
    pub(super) threadgroup: [u32; 3],
    pub(super) outputs: Vec<(Vec<i32>, Dtype)>,
    pub(super) template: Vec<(String, TemplateArg)>,
    pub(super) init_value: Option<f64>,
    pub(super) verbose: bool,
}

impl KernelCall {
    /// A call over `grid` threads in workgroups of `threadgroup` threads.
    ///
    /// ```
    /// let call = wmx::fast::KernelCall::new([1024, 1, 1], [256, 1, 1]);
    /// assert_eq!(call.grid(), [1024, 1, 1]);
    /// ```
    pub fn new(grid: [u32; 3], threadgroup: [u32; 3]) -> KernelCall {
        KernelCall {
            grid,
            threadgroup,
            outputs: Vec::new(),
            template: Vec::new(),
            init_value: None,
            verbose: false,
        }
    }

    /// The grid, in threads.
    ///
    /// ```
    /// assert_eq!(wmx::fast::KernelCall::new([4, 2, 1], [4, 1, 1]).grid(), [4, 2, 1]);
    /// ```
    pub fn grid(&self) -> [u32; 3] {
        self.grid
    }

    /// Adds the next output: its shape and dtype.
    ///
    /// ```
    /// use wmx::{Dtype, fast::KernelCall};
    /// let call = KernelCall::new([4, 1, 1], [4, 1, 1]).output(&[2, 2], Dtype::Float32);
    /// assert_eq!(call.outputs(), &[(vec![2, 2], Dtype::Float32)]);
    /// ```
    pub fn output(mut self, shape: &[i32], dtype: Dtype) -> KernelCall {
        self.outputs.push((shape.to_vec(), dtype));
        self
    }

    /// The outputs added so far.
    ///
    /// ```
    /// assert!(wmx::fast::KernelCall::new([1, 1, 1], [1, 1, 1]).outputs().is_empty());
    /// ```
    pub fn outputs(&self) -> &[(Vec<i32>, Dtype)] {
        &self.outputs
    }

    /// Adds a template argument: an `i32`, `u32`, `f32` or `bool` constant, or a [`Dtype`]
    /// (a type alias) named `name` in the kernel.
    ///
    /// ```
    /// use wmx::{Dtype, fast::{KernelCall, TemplateArg}};
    /// let call = KernelCall::new([1, 1, 1], [1, 1, 1]).template("T", Dtype::Float32).template("N", 3);
    /// assert_eq!(call.template_args()[1], ("N".to_string(), TemplateArg::Int(3)));
    /// ```
    pub fn template(mut self, name: &str, value: impl Into<TemplateArg>) -> KernelCall {
        self.template.push((name.to_string(), value.into()));
        self
    }

    /// The template arguments added so far.
    ///
    /// ```
    /// assert!(wmx::fast::KernelCall::new([1, 1, 1], [1, 1, 1]).template_args().is_empty());
    /// ```
    pub fn template_args(&self) -> &[(String, TemplateArg)] {
        &self.template
    }

    /// Fills every output with `value` (converted to its dtype) before the kernel runs, so the
    /// kernel may write only some elements or accumulate into them atomically.
    ///
    /// ```
    /// let call = wmx::fast::KernelCall::new([1, 1, 1], [1, 1, 1]).init_value(0.0);
    /// assert_eq!(call.init(), Some(0.0));
    /// ```
    pub fn init_value(mut self, value: f64) -> KernelCall {
        self.init_value = Some(value);
        self
    }

    /// The value outputs are filled with first, if any.
    ///
    /// ```
    /// assert_eq!(wmx::fast::KernelCall::new([1, 1, 1], [1, 1, 1]).init(), None);
    /// ```
    pub fn init(&self) -> Option<f64> {
        self.init_value
    }

    /// Prints the generated module (to stdout) when the call is made.
    ///
    /// ```
    /// let call = wmx::fast::KernelCall::new([1, 1, 1], [1, 1, 1]).verbose(true);
    /// assert!(call.is_verbose());
    /// ```
    pub fn verbose(mut self, yes: bool) -> KernelCall {
        self.verbose = yes;
        self
    }

    /// True when the call prints its module.
    ///
    /// ```
    /// assert!(!wmx::fast::KernelCall::new([1, 1, 1], [1, 1, 1]).is_verbose());
    /// ```
    pub fn is_verbose(&self) -> bool {
        self.verbose
    }
}
