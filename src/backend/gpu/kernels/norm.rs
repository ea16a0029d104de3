//! The norm family (`shaders/norm.wgsl`: RMS and layer norm, one workgroup per row over the last
//! axis): its key, prelude, `info` table and dispatch. The workgroup is sized to the row as
//! softmax's is ([`softmax_workgroup`]), so rows of up to 16 K elements stay in registers.

use super::slots::{input_slot, output_slot, quad_input_slot, quad_output_slot, short, widen};
use super::{Family, KernelKey, WG, info_words, softmax_workgroup, write_info};
use crate::backend::Data;
use crate::backend::gpu::{Gpu, buf, grid};
use crate::dtype::Dtype;
use crate::error::Result;
use crate::shape::size_of;
use std::fmt::{self, Write};

const NORM: &str = include_str!("../../../../shaders/norm.wgsl");

/// A norm over dense rows of `dtype` (weight and bias of the same dtype) into an unpacked `out`:
/// layer norm when `center`, RMS norm otherwise; `vec4` for rows of a multiple of 4 elements.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct NormKey {
    pub dtype: Dtype,
    pub out: Dtype,
    pub center: bool,
    pub has_w: bool,
    pub has_b: bool,
    pub vec4: bool,
    pub wg: u32,
}

info_words! {
    /// The norm `info` table: `[rows, row_len, eps bits]`.
    mod info {
        ROWS = 0,
        LEN = 1,
        EPS = 2,
    }
}

impl fmt::Display for NormKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}.{}.{}{}{}",
            self.entry(),
            if self.center { "layer" } else { "rms" },
            short(self.dtype),
            short(self.out),
            if self.has_w { ".w" } else { "" },
            if self.has_b { ".b" } else { "" },
        )?;
        if self.wg != WG {
            write!(f, ".wg{}", self.wg)?;
        }
        Ok(())
    }
}

impl Family for NormKey {
    fn entry(&self) -> &'static str {
        if self.vec4 { "norm_vec4" } else { "norm_rows" }
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

    fn workgroup(&self) -> u32 {
        self.wg
    }

    fn prelude(&self, p: &mut String, native_f16: bool) -> &'static str {
        write_info(p, info::NAMED);
        let _ = writeln!(p, "const CENTER: bool = {};", self.center);
        let _ = writeln!(p, "const HAS_W: bool = {};", self.has_w);
        let _ = writeln!(p, "const HAS_B: bool = {};", self.has_b);
        for slot in ["in0", "w", "b"] {
            if self.vec4 {
                quad_input_slot(p, slot, self.dtype, native_f16);
            } else {
                input_slot(p, slot, self.dtype, native_f16);
            }
        }
        if self.vec4 {
            quad_output_slot(p, self.out, native_f16);
        } else {
            output_slot(p, self.out, native_f16);
        }
        NORM
    }

    fn all(native_f16: bool) -> Vec<Self> {
        let mut keys = Vec::new();
        for dtype in Dtype::ALL.into_iter().filter(|d| d.is_float()) {
            for center in [false, true] {
                for (has_w, has_b) in [(false, false), (true, false), (true, true)] {
                    for (vec4, wg) in [(false, WG), (true, WG), (true, 512)] {
                        if !center && has_b {
                            continue;
                        }
                        keys.push(NormKey {
                            dtype,
                            out: widen(dtype, native_f16),
                            center,
                            has_w,
                            has_b,
                            vec4,
                            wg,
                        });
                    }
                }
            }
        }
        keys
    }
}

impl Gpu<'_> {
    /// RMS norm (`center` false) or layer norm of the rows of `inputs[0]` (then the weight and
    /// bias when present) into a dense `dt` output.
    pub(in crate::backend::gpu) fn norm(
        &self,
        inputs: &[(Vec<i32>, Data)],
        center: bool,
        has_w: bool,
        has_b: bool,
        eps: f32,
        dt: Dtype,
    ) -> Result<Data> {
        let (shape, x) = &inputs[0];
        let n = size_of(shape);
        self.check_index_range(n)?;
        let x = self.dense_from_start(shape, x)?;
        let param = |i: usize| -> Result<Data> {
            let (s, d) = &inputs[i];
            self.dense_from_start(s, d)
        };
        let w = if has_w { param(1)? } else { x.clone() };
        let b = if has_b {
            param(1 + has_w as usize)?
        } else {
            x.clone()
        };
        let len = shape.last().copied().unwrap_or(1).max(1) as u32;
        let limits = &self.ctx.limits;
        let max_wg = limits
            .max_compute_invocations_per_workgroup
            .min(limits.max_compute_workgroup_size_x);
        let key = KernelKey::Norm(NormKey {
            dtype: dt,
            out: widen(dt, self.ctx.native_f16),
            center,
            has_w,
            has_b,
            vec4: len.is_multiple_of(4),
            wg: softmax_workgroup(len, max_wg),
        });
        let acc = key.out_dtype();
        let out = self.out(acc, n)?;
        let rows = (n as u32).checked_div(len).unwrap_or(0);
        let mut info = [0u32; info::EPS + 1];
        info[info::ROWS] = rows;
        info[info::LEN] = len;
        info[info::EPS] = eps.to_bits();
        if rows > 0 {
            self.ctx.dispatch(
                self.stream,
                &key,
                &[buf(&x)?, buf(&w)?, buf(&b)?, &out],
                &info,
                grid(rows as u64, self.max_groups()),
            )?;
        }
        let result = self.data(out, acc, shape);
        if acc != dt {
            return self.cast(shape, &result, acc, dt);
        }
        Ok(result)
    }
}
