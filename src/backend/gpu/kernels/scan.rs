//! The scan family (`shaders/scan.wgsl`: cumsum, cumprod, cummax, cummin, logcumsumexp along the
//! last axis): its key, prelude, `info` table and dispatch.

use super::slots::{accumulator_prelude, short};
use super::{Family, KernelKey, WG, info_words, write_info};
use crate::backend::Data;
use crate::backend::gpu::{Gpu, buf, grid};
use crate::dtype::{Domain, Dtype};
use crate::error::Result;
use crate::primitive::ScanOp;
use crate::shape::size_of;
use std::fmt;

const SCAN: &str = include_str!("../../../../shaders/scan.wgsl");

/// Scan along the last axis of `input` into an unpacked accumulator `acc`: a workgroup per row
/// (chunked, with a carry), or an invocation per row (`per_thread`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct ScanKey {
    pub op: ScanOp,
    pub input: Dtype,
    pub acc: Dtype,
    pub per_thread: bool,
}

info_words! {
    /// The scan `info` table: `[n_rows, len, flags (1: reverse, 2: exclusive), axis_stride,
    /// offset, kn, kept_shape[kn], kept_strides[kn]]` (stride, offset: i32 bits).
    mod info {
        N_ROWS = 0,
        LEN = 1,
        FLAGS = 2,
        AXIS_STRIDE = 3,
        OFFSET = 4,
        KEPT_NDIM = 5,
    }
}

/// The scan dtypes the ops layer produces: MLX's result dtypes (bool sums to int32,
/// logcumsumexp is float-only).
pub fn scan_supports(op: ScanOp, input: Dtype) -> bool {
    match op {
        ScanOp::Sum => input != Dtype::Bool,
        ScanOp::LogAddExp => input.is_float(),
        ScanOp::Prod | ScanOp::Max | ScanOp::Min => true,
    }
}

/// The scan key for `op` over `input`: floats accumulate in f32, signed in i32, unsigned and
/// bool in u32; the output is then cast to the input's dtype.
pub fn scan_key(op: ScanOp, input: Dtype, per_thread: bool) -> KernelKey {
    KernelKey::Scan(ScanKey::new(op, input, per_thread))
}

impl ScanKey {
    fn new(op: ScanOp, input: Dtype, per_thread: bool) -> ScanKey {
        let acc = match input.domain() {
            Domain::Float => Dtype::Float32,
            Domain::Int => Dtype::Int32,
            Domain::Uint | Domain::Bool => Dtype::Uint32,
        };
        ScanKey {
            op,
            input,
            acc,
            per_thread,
        }
    }
}

impl fmt::Display for ScanKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (entry, op) = (self.entry(), self.op.name());
        write!(f, "{entry}.{op}.{}.{}", short(self.input), short(self.acc))
    }
}

impl Family for ScanKey {
    fn entry(&self) -> &'static str {
        if self.per_thread {
            "scan_thread"
        } else {
            "scan_wg"
        }
    }

    fn out_dtype(&self) -> Dtype {
        self.acc
    }

    fn trusted(&self) -> bool {
        false
    }

    fn uses_f16(&self) -> bool {
        self.input == Dtype::Float16
    }

    fn prelude(&self, p: &mut String, native_f16: bool) -> &'static str {
        write_info(p, info::NAMED);
        let ad = self.acc.domain();
        let comb = match self.op.reduce() {
            Some(r) => r.combiner().wgsl(ad).unwrap_or("a"),
            None => "wmx_logaddexp(a, b)",
        };
        let identity = self.op.identity(ad);
        accumulator_prelude(p, self.input, self.acc, comb, identity, native_f16, false);
        SCAN
    }

    fn all(_native_f16: bool) -> Vec<Self> {
        let mut keys = Vec::new();
        for &op in ScanOp::ALL {
            for input in Dtype::ALL {
                if scan_supports(op, input) {
                    for per_thread in [false, true] {
                        keys.push(ScanKey::new(op, input, per_thread));
                    }
                }
            }
        }
        keys
    }
}

impl Gpu<'_> {
    /// Scan along the last axis of `x` (any strides) into a dense output of `out_dtype`.
    pub(in crate::backend::gpu) fn scan(
        &self,
        op: ScanOp,
        reverse: bool,
        inclusive: bool,
        shape: &[i32],
        x: &Data,
        out_dtype: Dtype,
    ) -> Result<Data> {
        let n = size_of(shape);
        self.check_index_range(n)?;
        let rows = Self::rows(shape, x);
        let per_thread = rows.len <= 32;
        let key = ScanKey::new(op, x.storage.dtype, per_thread);
        let acc = key.acc;
        let out = self.out(acc, n)?;
        let mut info = vec![0u32; info::KEPT_NDIM];
        info[info::N_ROWS] = rows.n_rows as u32;
        info[info::LEN] = rows.len as u32;
        info[info::FLAGS] = reverse as u32 | ((!inclusive as u32) << 1);
        info[info::AXIS_STRIDE] = rows.stride;
        info[info::OFFSET] = rows.offset;
        info.extend(&rows.kept);
        let groups = if per_thread {
            (rows.n_rows as u64).div_ceil(WG as u64)
        } else {
            rows.n_rows as u64
        };
        self.ctx.dispatch(
            self.stream,
            &KernelKey::Scan(key),
            &[buf(x)?, &out],
            &info,
            grid(groups, self.max_groups()),
        )?;
        let result = self.data(out, acc, shape);
        if acc != out_dtype {
            return self.cast(shape, &result, acc, out_dtype);
        }
        Ok(result)
    }
}
