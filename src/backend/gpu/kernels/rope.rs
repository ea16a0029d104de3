//! The rope family (`shaders/rope.wgsl`: rotary position embeddings, one invocation per output
//! element): its key, prelude, `info` table and dispatch.

use super::slots::{input_slot, output_slot, short, widen};
use super::{Family, KernelKey, info_words, write_info};
use crate::backend::Data;
use crate::backend::gpu::{Gpu, buf};
use crate::dtype::Dtype;
use crate::error::Result;
use crate::shape::size_of;
use std::fmt::{self, Write};

const ROPE: &str = include_str!("../../../../shaders/rope.wgsl");

/// Rope over rows of `dtype` (strided rows, dense last axis) into an unpacked dense `out`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct RopeKey {
    pub dtype: Dtype,
    pub out: Dtype,
    pub traditional: bool,
    pub inverse: bool,
    pub freqs: bool,
}

info_words! {
    /// The rope `info` table.
    mod info {
        N = 0,
        LEN = 1,
        DIMS = 2,
        T = 3,
        OFFSET = 4,
        BASE = 5,
        SCALE = 6,
        ROW_NDIM = 7,
    }
}

impl fmt::Display for RopeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}.{}{}{}{}",
            self.entry(),
            short(self.dtype),
            short(self.out),
            if self.traditional { ".trad" } else { "" },
            if self.inverse { ".inv" } else { "" },
            if self.freqs { ".freqs" } else { "" },
        )
    }
}

impl Family for RopeKey {
    fn entry(&self) -> &'static str {
        "rope_rows"
    }

    fn out_dtype(&self) -> Dtype {
        self.out
    }

    fn trusted(&self) -> bool {
        true
    }

    fn uses_f16(&self) -> bool {
        self.dtype == Dtype::Float16 || self.out == Dtype::Float16
    }

    fn prelude(&self, p: &mut String, native_f16: bool) -> &'static str {
        write_info(p, info::NAMED);
        let _ = writeln!(p, "const TRADITIONAL: bool = {};", self.traditional);
        let _ = writeln!(p, "const INVERSE: bool = {};", self.inverse);
        let _ = writeln!(p, "const HAS_FREQS: bool = {};", self.freqs);
        input_slot(p, "in0", self.dtype, native_f16);
        // Without frequencies the binding holds x (never read); typed by x's storage.
        let fr = if self.freqs {
            Dtype::Float32
        } else {
            self.dtype
        };
        input_slot(p, "fr", fr, native_f16);
        output_slot(p, self.out, native_f16);
        ROPE
    }

    fn all(native_f16: bool) -> Vec<Self> {
        let mut keys = Vec::new();
        for dtype in Dtype::ALL.into_iter().filter(|d| d.is_float()) {
            for traditional in [false, true] {
                for inverse in [false, true] {
                    for freqs in [false, true] {
                        keys.push(RopeKey {
                            dtype,
                            out: widen(dtype, native_f16),
                            traditional,
                            inverse,
                            freqs,
                        });
                    }
                }
            }
        }
        keys
    }
}

impl Gpu<'_> {
    /// Rope of `inputs[0]` (then f32 frequencies when given) into a dense `dt` output.
    #[allow(clippy::too_many_arguments)]
    pub(in crate::backend::gpu) fn rope(
        &self,
        inputs: &[(Vec<i32>, Data)],
        dims: i32,
        traditional: bool,
        base: f32,
        scale: f32,
        offset: i32,
        inverse: bool,
        dt: Dtype,
    ) -> Result<Data> {
        let (shape, x) = &inputs[0];
        let n = size_of(shape);
        self.check_index_range(n)?;
        // Rows may be strided (a head-split view of a fused projection); the last axis is read
        // dense, so a view with a strided last axis is copied first.
        let nd = shape.len();
        let x = if nd >= 1 && shape[nd - 1] > 1 && x.strides[nd - 1] != 1 {
            self.dense_from_start(shape, x)?
        } else {
            x.clone()
        };
        let fr = match inputs.get(1) {
            Some((s, f)) => self.dense_from_start(s, f)?,
            None => x.clone(),
        };
        let key = KernelKey::Rope(RopeKey {
            dtype: dt,
            out: widen(dt, self.ctx.native_f16),
            traditional,
            inverse,
            freqs: inputs.len() > 1,
        });
        let acc = key.out_dtype();
        let out = self.out(acc, n)?;
        let mut info = vec![0u32; info::ROW_NDIM + 1];
        info[info::N] = n as u32;
        info[info::LEN] = shape[nd - 1].max(1) as u32;
        info[info::DIMS] = dims as u32;
        info[info::T] = shape[nd - 2].max(1) as u32;
        info[info::OFFSET] = offset as u32;
        info[info::BASE] = base.to_bits();
        info[info::SCALE] = scale.to_bits();
        let rows = &shape[..nd.saturating_sub(1)];
        info[info::ROW_NDIM] = rows.len() as u32;
        info.extend(rows.iter().map(|&d| d.max(1) as u32));
        info.extend(x.strides[..rows.len()].iter().map(|&s| s as i32 as u32));
        info.push(x.offset as u32);
        if n > 0 {
            self.dispatch_words(key, &[buf(&x)?, buf(&fr)?, &out], &info, n, acc)?;
        }
        let result = self.data(out, acc, shape);
        if acc != dt {
            return self.cast(shape, &result, acc, dt);
        }
        Ok(result)
    }
}
