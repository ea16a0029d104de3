//! The copy family (`shaders/copy.wgsl` with `shaders/index.wgsl`): window copies of a strided view
//! into a strided window of an output, which `concatenate` is made of: its key, prelude, `info`
//! table and dispatch.

use super::slots::{input_slot, output_slot, short, unpacked, widen};
use super::{Family, INDEX, KernelKey, WG, info_words, write_info};
use crate::backend::Data;
use crate::backend::gpu::{Gpu, buf, grid};
use crate::dtype::Dtype;
use crate::error::Result;
use crate::shape::{row_major_strides, size_of};
use std::fmt;

const COPY: &str = include_str!("../../../../shaders/copy.wgsl");

/// One copy kernel.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum CopyKey {
    /// Copy of a strided view into a strided window of the output (unpacked `dtype` only).
    Window { dtype: Dtype },
}

info_words! {
    /// The window copy's `info` table (index.wgsl's strided layout with the window as input 1):
    /// `[n, ndim, shape[ndim], src_strides[ndim], src_offset, dst_strides[ndim], dst_offset]`.
    mod info {
        N = 0,
        NDIM = 1,
        SHAPE = 2,
    }
}

impl CopyKey {
    fn dtype(&self) -> Dtype {
        match *self {
            CopyKey::Window { dtype } => dtype,
        }
    }
}

impl fmt::Display for CopyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.entry(), short(self.dtype()))
    }
}

impl Family for CopyKey {
    fn entry(&self) -> &'static str {
        match self {
            CopyKey::Window { .. } => "copy_window",
        }
    }

    fn out_dtype(&self) -> Dtype {
        self.dtype()
    }

    fn trusted(&self) -> bool {
        false
    }

    fn uses_f16(&self) -> bool {
        self.dtype() == Dtype::Float16
    }

    fn prelude(&self, p: &mut String, native_f16: bool) -> &'static str {
        write_info(p, info::NAMED);
        input_slot(p, "in0", self.dtype(), native_f16);
        output_slot(p, self.dtype(), native_f16);
        p.push_str(INDEX);
        COPY
    }

    fn all(native_f16: bool) -> Vec<Self> {
        Dtype::ALL
            .into_iter()
            .filter(|&dtype| unpacked(dtype, native_f16))
            .map(|dtype| CopyKey::Window { dtype })
            .collect()
    }
}

impl Gpu<'_> {
    /// Joins inputs along `axis` by copying each into its window of the output.
    pub(in crate::backend::gpu) fn concatenate(
        &self,
        inputs: &[(Vec<i32>, Data)],
        axis: usize,
        out_shape: &[i32],
        dtype: Dtype,
    ) -> Result<Data> {
        let wide = widen(dtype, self.ctx.native_f16);
        let n = size_of(out_shape);
        self.check_index_range(n)?;
        let out = self.out(wide, n)?;
        let out_strides = row_major_strides(out_shape);
        let mut start = 0usize;
        for (s, d) in inputs {
            let m = size_of(s);
            if m > 0 {
                let key = KernelKey::Copy(CopyKey::Window { dtype: wide });
                let src = if d.storage.dtype != wide {
                    self.cast(s, d, d.storage.dtype, wide)?
                } else {
                    d.clone()
                };
                let mut info = vec![0u32; info::SHAPE];
                info[info::N] = m as u32;
                info[info::NDIM] = s.len() as u32;
                info.extend(s.iter().map(|&x| x as u32));
                info.extend(src.strides.iter().map(|&x| x as i32 as u32));
                info.push(src.offset as u32);
                info.extend(out_strides.iter().map(|&x| x as i32 as u32));
                info.push((start as isize * out_strides[axis]) as u32);
                self.ctx.dispatch(
                    self.stream,
                    &key,
                    &[buf(&src)?, &out],
                    &info,
                    grid((m as u64).div_ceil(WG as u64), self.max_groups()),
                )?;
            }
            start += s[axis] as usize;
        }
        let result = self.data(out, wide, out_shape);
        if wide != dtype {
            return self.cast(out_shape, &result, wide, dtype);
        }
        Ok(result)
    }
}
