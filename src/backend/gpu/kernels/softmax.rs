//! The softmax family (`shaders/softmax.wgsl`: one workgroup per row over the last axis): its key,
//! the workgroup sizing, its prelude, `info` table and dispatch.

use super::slots::{input_slot, output_slot, quad_input_slot, quad_output_slot, short, widen};
use super::{Family, KernelKey, WG, info_words, write_info};
use crate::backend::Data;
use crate::backend::gpu::{Gpu, buf, grid};
use crate::dtype::Dtype;
use crate::error::Result;
use crate::shape::size_of;
use std::fmt;

pub(super) const SOFTMAX: &str = include_str!("../../../../shaders/softmax.wgsl");

/// Softmax over the last axis of dense rows of `dtype` into an unpacked `out`; `vec4`: rows of a
/// multiple of 4 elements, read and written as quads; one workgroup of `wg` invocations per row
/// (see [`softmax_workgroup`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct SoftmaxKey {
    pub dtype: Dtype,
    pub out: Dtype,
    pub vec4: bool,
    pub wg: u32,
}

info_words! {
    /// The softmax `info` table: `[rows, row_len]`.
    mod info {
        ROWS = 0,
        LEN = 1,
    }
}

/// The softmax key for rows of float `dtype` (output widened when packed); `vec4` for rows of
/// a multiple of 4 elements; `wg` invocations per row.
pub fn softmax_key(dtype: Dtype, native_f16: bool, vec4: bool, wg: u32) -> KernelKey {
    KernelKey::Softmax(SoftmaxKey {
        dtype,
        out: widen(dtype, native_f16),
        vec4,
        wg,
    })
}

/// The `INFO_*` words of the softmax table (the fused softmax shares them).
pub(super) fn softmax_info_prelude(p: &mut String) {
    write_info(p, info::NAMED);
}

impl fmt::Display for SoftmaxKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}.{}",
            self.entry(),
            short(self.dtype),
            short(self.out)
        )?;
        if self.wg != WG {
            write!(f, ".wg{}", self.wg)?;
        }
        Ok(())
    }
}

impl Family for SoftmaxKey {
    fn entry(&self) -> &'static str {
        if self.vec4 {
            "softmax_vec4"
        } else {
            "softmax_rows"
        }
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
        if self.vec4 {
            quad_input_slot(p, "in0", self.dtype, native_f16);
            quad_output_slot(p, self.out, native_f16);
        } else {
            input_slot(p, "in0", self.dtype, native_f16);
            output_slot(p, self.out, native_f16);
        }
        p.push_str(
            "@group(0) @binding(1) var<storage, read> in0: array<S_IN0>;\n\
             @group(0) @binding(2) var<storage, read_write> out: array<S_OUT>;\n",
        );
        SOFTMAX
    }

    fn all(native_f16: bool) -> Vec<Self> {
        let key = |dtype, vec4, wg| SoftmaxKey {
            dtype,
            out: widen(dtype, native_f16),
            vec4,
            wg,
        };
        let mut keys = Vec::new();
        for dtype in Dtype::ALL.into_iter().filter(|d| d.is_float()) {
            for vec4 in [false, true] {
                keys.push(key(dtype, vec4, WG));
            }
            keys.push(key(dtype, true, 1024));
        }
        keys
    }
}

/// Invocations per softmax row of `len` elements, at most `max_wg` (the adapter's limit): about
/// `per_invocation` elements each (default 16, four quads, which `softmax.wgsl` keeps in
/// registers, so rows of up to 16384 elements are read once; `WMX_SOFTMAX_PER_INVOCATION`
/// overrides it for measurement), a power of two from 64. Wide workgroups keep fewer rows in
/// flight per SM, so a row's second read (after its max and sum) still finds it in cache: with
/// 256 invocations for 8192-element rows, a GPU has ~8 rows per SM in flight, as much data as
/// its L2 holds. On an H200 (2026-11-26), 8192-element rows took 213 / 167 / 190 µs for 8192
/// rows with 256 / 512 / 1024 invocations, and 4096-element rows 65 / 55 / 55 / 70 µs with
/// 128 / 256 / 512 / 1024.
///
/// ```
/// use wmx::kernels::softmax_workgroup;
/// assert_eq!(softmax_workgroup(8192, 1024), 512);
/// assert_eq!(softmax_workgroup(6, 1024), 64);
/// assert_eq!(softmax_workgroup(1 << 20, 256), 256);
/// ```
pub fn softmax_workgroup(len: u32, max_wg: u32) -> u32 {
    static PER_INVOCATION: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let per_invocation = *PER_INVOCATION.get_or_init(|| {
        std::env::var("WMX_SOFTMAX_PER_INVOCATION")
            .ok()
            .and_then(|v| v.parse::<u32>().ok())
            .filter(|&v| v > 0)
            .unwrap_or(16)
    });
    let max_wg = prev_power_of_two(max_wg.clamp(64, 1024));
    len.div_ceil(per_invocation)
        .next_power_of_two()
        .clamp(64, max_wg)
}

/// The largest power of two `<= x` (x > 0).
fn prev_power_of_two(x: u32) -> u32 {
    1 << (31 - x.leading_zeros())
}

impl Gpu<'_> {
    /// Softmax over the last axis of `x` (a view of `shape`) into a dense `dt` output.
    pub(in crate::backend::gpu) fn softmax(
        &self,
        shape: &[i32],
        x: &Data,
        dt: Dtype,
    ) -> Result<Data> {
        let n = size_of(shape);
        let dense = self.dense_from_start(shape, x)?;
        self.check_index_range(n)?;
        let len = shape.last().copied().unwrap_or(1).max(1) as u32;
        let limits = &self.ctx.limits;
        let max_wg = limits
            .max_compute_invocations_per_workgroup
            .min(limits.max_compute_workgroup_size_x);
        let wg = softmax_workgroup(len, max_wg);
        let key = softmax_key(dt, self.ctx.native_f16, len.is_multiple_of(4), wg);
        let acc = key.out_dtype();
        let out = self.out(acc, n)?;
        let rows = n as u32 / len;
        let mut info = [0u32; info::LEN + 1];
        info[info::ROWS] = rows;
        info[info::LEN] = len;
        self.ctx.dispatch(
            self.stream,
            &key,
            &[buf(&dense)?, &out],
            &info,
            grid(rows as u64, self.max_groups()),
        )?;
        let result = self.data(out, acc, shape);
        if acc != dt {
            return self.cast(shape, &result, acc, dt);
        }
        Ok(result)
    }
}
