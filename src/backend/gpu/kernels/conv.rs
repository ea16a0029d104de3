//! The convolution family (`shaders/conv.wgsl`: an implicit GEMM over channels-last inputs): its
//! key, prelude, `info` table and the host code that checks the limits and dispatches.

use super::slots::{input_slot, output_slot, short};
use super::{Family, info_words, write_info};
use crate::backend::Data;
use crate::backend::gpu::{Gpu, buf};
use crate::dtype::Dtype;
use crate::error::{Error, Result};
use crate::primitive::ConvParams;
use crate::shape::size_of;
use std::fmt::{self, Write};

const CONV: &str = include_str!("../../../../shaders/conv.wgsl");

/// One convolution kernel: `dtype` operands into `out` (f32, or f16 when native), `wide`: output
/// tiles of 128 columns (for groups of at least 128 output channels), else 64.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct ConvKey {
    pub dtype: Dtype,
    pub out: Dtype,
    pub wide: bool,
}

info_words! {
    /// The conv `info` table: `[M, OG, K, CG, C_IN, C_OUT, FLIP, COL_TILES, IN[3], OUT[3],
    /// KER[3], STRIDE[3], PAD[3], KDIL[3], IDIL[3]]` (spatial dims padded to 3 with leading
    /// unit dims).
    mod info {
        M = 0,
        OG = 1,
        K = 2,
        CG = 3,
        C_IN = 4,
        C_OUT = 5,
        FLIP = 6,
        COL_TILES = 7,
        IN = 8,
        OUT = 11,
        KER = 14,
        STRIDE = 17,
        PAD = 20,
        KDIL = 23,
        IDIL = 26,
        LEN = 29,
    }
}

/// Rows of the output per workgroup.
const TILE_M: u32 = 128;

impl ConvKey {
    /// The key for float operands of `dtype`.
    pub fn new(dtype: Dtype, native_f16: bool, wide: bool) -> ConvKey {
        let out = if dtype == Dtype::Float16 && native_f16 {
            Dtype::Float16
        } else {
            Dtype::Float32
        };
        ConvKey { dtype, out, wide }
    }

    /// Output channels per workgroup.
    fn tile_n(&self) -> u32 {
        if self.wide { 128 } else { 64 }
    }
}

impl fmt::Display for ConvKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}.{}.n{}",
            self.entry(),
            short(self.dtype),
            short(self.out),
            self.tile_n()
        )
    }
}

impl Family for ConvKey {
    fn entry(&self) -> &'static str {
        "conv_igemm"
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
        input_slot(p, "in0", self.dtype, native_f16);
        input_slot(p, "in1", self.dtype, native_f16);
        output_slot(p, self.out, native_f16);
        let _ = writeln!(p, "const BNQ: u32 = {}u;", self.tile_n() / 64);
        CONV
    }

    fn all(native_f16: bool) -> Vec<Self> {
        Dtype::ALL
            .into_iter()
            .filter(|d| d.is_float())
            .flat_map(|d| [false, true].map(|wide| ConvKey::new(d, native_f16, wide)))
            .collect()
    }
}

impl Gpu<'_> {
    /// The convolution of `x` and `w` into a dense `out_shape` of `out_dtype`.
    #[allow(clippy::too_many_arguments)]
    pub(in crate::backend::gpu) fn conv(
        &self,
        p: &ConvParams,
        xs: &[i32],
        x: &Data,
        ws: &[i32],
        w: &Data,
        out_shape: &[i32],
        out_dtype: Dtype,
    ) -> Result<Data> {
        let g = p.geometry(xs, ws, out_shape);
        let n_out = size_of(out_shape);
        self.check_index_range(n_out.max(size_of(xs)).max(size_of(ws)))?;
        // The kernel indexes both operands densely from the start of their buffers.
        let x = self.dense_from_start(xs, x)?;
        let w = self.dense_from_start(ws, w)?;
        let key = ConvKey::new(x.storage.dtype, self.ctx.native_f16, g.og() >= 128);
        let acc = key.out_dtype();
        let out = self.out(acc, n_out)?;
        let rows = g.n * g.out_spatial();
        let k = g.taps() * g.cg();
        let col_tiles = (g.og() as u32).div_ceil(key.tile_n());
        let mut info = vec![0u32; info::LEN];
        info[info::M] = rows as u32;
        info[info::OG] = g.og() as u32;
        info[info::K] = k as u32;
        info[info::CG] = g.cg() as u32;
        info[info::C_IN] = g.c_in as u32;
        info[info::C_OUT] = g.c_out as u32;
        info[info::FLIP] = g.flip as u32;
        info[info::COL_TILES] = col_tiles;
        for (d, dim) in g.dims.iter().enumerate() {
            info[info::IN + d] = dim.input as u32;
            info[info::OUT + d] = dim.out as u32;
            info[info::KER + d] = dim.kernel as u32;
            info[info::STRIDE + d] = dim.stride as u32;
            info[info::PAD + d] = dim.pad_lo as i32 as u32;
            info[info::KDIL + d] = dim.kernel_dilation as u32;
            info[info::IDIL + d] = dim.input_dilation as u32;
        }
        // Positions and padded extents meet in i32 arithmetic in the kernel.
        let reach = g.dims.iter().any(|d| {
            (d.out * d.stride
                + d.kernel * d.kernel_dilation
                + d.input * d.input_dilation
                + d.pad_lo.unsigned_abs())
                > i32::MAX as usize / 2
        });
        if reach {
            return Err(Error::TooLarge {
                op: "conv",
                msg: format!(
                    "input {xs:?}, weight {ws:?} and output {out_shape:?} exceed the GPU kernel's 32-bit positions."
                ),
            });
        }
        let max = self.max_groups();
        let cols = col_tiles as u64 * g.groups as u64;
        if cols > max as u64 {
            return Err(Error::TooLarge {
                op: "conv",
                msg: format!(
                    "{} groups of {} output channels need {cols} workgroups across; this GPU allows {max}.",
                    g.groups,
                    g.og()
                ),
            });
        }
        let row_tiles = (rows as u64).div_ceil(TILE_M as u64);
        let (y, z) = if row_tiles <= max as u64 {
            (row_tiles as u32, 1)
        } else {
            let z = row_tiles.div_ceil(max as u64);
            (row_tiles.div_ceil(z) as u32, z as u32)
        };
        if rows > 0 && g.og() > 0 {
            self.ctx.dispatch(
                self.stream,
                &key.into(),
                &[buf(&x)?, buf(&w)?, &out],
                &info,
                [cols as u32, y, z],
            )?;
        }
        let result = self.data(out, acc, out_shape);
        if acc != out_dtype {
            return self.cast(out_shape, &result, acc, out_dtype);
        }
        Ok(result)
    }
}
