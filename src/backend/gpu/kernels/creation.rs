//! The creation family (`full`, `arange`; `shaders/creation.wgsl` with `shaders/index.wgsl`): its
//! key, its prelude (`value_at` from the table's constants), its `info` table and dispatch.

use super::slots::{output_slot, short};
use super::{Family, INDEX, KernelKey, info_words, write_info};
use crate::backend::Data;
use crate::backend::gpu::Gpu;
use crate::dtype::{Domain, Dtype};
use crate::error::Result;
use std::fmt::{self, Write};

const CREATION: &str = include_str!("../../../../shaders/creation.wgsl");

/// One creation kernel.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum CreationKey {
    /// Fill with one value.
    Full { dtype: Dtype },
    /// start + i * step.
    Arange { dtype: Dtype },
}

info_words! {
    /// The creation `info` table: `[n, value or start, step]` (bits in the compute type).
    mod info {
        N = 0,
        VALUE = 1,
        STEP = 2,
    }
}

impl CreationKey {
    fn dtype(&self) -> Dtype {
        match *self {
            CreationKey::Full { dtype } | CreationKey::Arange { dtype } => dtype,
        }
    }
}

impl fmt::Display for CreationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self {
            CreationKey::Full { .. } => "full",
            CreationKey::Arange { .. } => "arange",
        };
        write!(f, "{}.{what}.{}", self.entry(), short(self.dtype()))
    }
}

impl Family for CreationKey {
    fn entry(&self) -> &'static str {
        "creation_fill"
    }

    fn out_dtype(&self) -> Dtype {
        self.dtype()
    }

    fn trusted(&self) -> bool {
        true
    }

    fn uses_f16(&self) -> bool {
        self.dtype() == Dtype::Float16
    }

    fn prelude(&self, p: &mut String, native_f16: bool) -> &'static str {
        let dtype = self.dtype();
        write_info(p, info::NAMED);
        output_slot(p, dtype, native_f16);
        let e = match (self, dtype.domain()) {
            (CreationKey::Full { .. }, Domain::Float) => "bitcast<f32>(info[INFO_VALUE])",
            (CreationKey::Full { .. }, Domain::Int) => "bitcast<i32>(info[INFO_VALUE])",
            (CreationKey::Full { .. }, Domain::Uint) => "info[INFO_VALUE]",
            (CreationKey::Full { .. }, Domain::Bool) => "info[INFO_VALUE] != 0u",
            (CreationKey::Arange { .. }, Domain::Float) => {
                "bitcast<f32>(info[INFO_VALUE]) + f32(i) * bitcast<f32>(info[INFO_STEP])"
            }
            (CreationKey::Arange { .. }, Domain::Int) => {
                "bitcast<i32>(info[INFO_VALUE]) + i32(i) * bitcast<i32>(info[INFO_STEP])"
            }
            (CreationKey::Arange { .. }, Domain::Uint | Domain::Bool) => {
                "u32(bitcast<i32>(info[INFO_VALUE]) + i32(i) * bitcast<i32>(info[INFO_STEP]))"
            }
        };
        let _ = writeln!(p, "fn value_at(i: u32) -> C_OUT {{ return {e}; }}");
        p.push_str(INDEX);
        CREATION
    }

    fn all(_native_f16: bool) -> Vec<Self> {
        let mut keys = Vec::new();
        for dtype in Dtype::ALL {
            keys.push(CreationKey::Full { dtype });
            if dtype != Dtype::Bool {
                keys.push(CreationKey::Arange { dtype });
            }
        }
        keys
    }
}

/// Bits of `v` in the compute type of `d` (for creation kernels' constants).
fn const_bits(v: f64, d: Domain) -> u32 {
    match d {
        Domain::Float => (v as f32).to_bits(),
        Domain::Int | Domain::Uint => v as i64 as u32,
        Domain::Bool => (v != 0.0) as u32,
    }
}

impl Gpu<'_> {
    /// `full` of `value` in `dtype` over `shape`.
    pub(in crate::backend::gpu) fn full(
        &self,
        value: f64,
        dtype: Dtype,
        shape: &[i32],
    ) -> Result<Data> {
        let bits = const_bits(value, dtype.domain());
        if crate::shape::size_of(shape) == 1
            && let Some(b) = self.ctx.constant(dtype, bits)
        {
            return Ok(self.data(b, dtype, shape));
        }
        self.creation(CreationKey::Full { dtype }, bits, 0, shape)
    }

    /// `arange` of `dtype` over `shape` (start and step in f64, as the primitive holds them).
    pub(in crate::backend::gpu) fn arange(
        &self,
        start: f64,
        step: f64,
        dtype: Dtype,
        shape: &[i32],
    ) -> Result<Data> {
        let (a, b) = match dtype.domain() {
            Domain::Float => ((start as f32).to_bits(), (step as f32).to_bits()),
            Domain::Int | Domain::Uint | Domain::Bool => (start as i64 as u32, step as i64 as u32),
        };
        self.creation(CreationKey::Arange { dtype }, a, b, shape)
    }

    fn creation(&self, key: CreationKey, value: u32, step: u32, shape: &[i32]) -> Result<Data> {
        let dtype = key.dtype();
        let n = crate::shape::size_of(shape);
        self.check_index_range(n)?;
        let out = self.out(dtype, n)?;
        let mut info = [0u32; info::STEP + 1];
        info[info::N] = n as u32;
        info[info::VALUE] = value;
        info[info::STEP] = step;
        self.dispatch_words(KernelKey::Creation(key), &[&out], &info, n, dtype)?;
        Ok(self.data(out, dtype, shape))
    }
}
