//! User kernels (`fast::wgsl_kernel`): runs one launch whose module `fast/kernel_source.rs`
//! wrote and naga validated. The inputs are copied where the module cannot read them as they
//! are, the outputs allocated (or filled with the init value), the info table written (the grid,
//! the logical workgroups, then each input's shape and strides the body reads), and the module's
//! pipeline fetched from the context's cache of generated sources, created with wgpu's bounds
//! checks on. The launch runs once for all its outputs: the first sibling node to run records
//! it; each sibling then takes its own output.

use crate::backend::Data;
use crate::backend::gpu::context::lock;
use crate::backend::gpu::{Gpu, buf};
use crate::error::{Error, Result};
use crate::fast::kernel::KernelLaunch;
use crate::fast::kernel_source::{INFO_GRID, INFO_GROUPS, INFO_INPUTS};
use crate::shape::size_of;

impl Gpu<'_> {
    /// Output `index` of `launch`, running the launch if no sibling has yet.
    pub(in crate::backend::gpu) fn custom_kernel(
        &self,
        launch: &KernelLaunch,
        index: usize,
        inputs: &[(Vec<i32>, Data)],
    ) -> Result<Data> {
        let mut results = lock(&launch.results);
        let outs = results.get_or_insert_with(|| self.launch(launch, index, inputs));
        match outs {
            Ok(outs) => outs
                .get_mut(index)
                .and_then(Option::take)
                .ok_or_else(|| Error::Backend {
                    op: self.op,
                    msg: format!("invariant: output {index} of {} taken twice", launch.label),
                }),
            Err(e) => Err(e.clone()),
        }
    }

    /// Records the launch; returns every output still held by a live node (and `index`'s).
    fn launch(
        &self,
        launch: &KernelLaunch,
        index: usize,
        inputs: &[(Vec<i32>, Data)],
    ) -> Result<Vec<Option<Data>>> {
        let mut info = vec![0u32; INFO_INPUTS];
        info[INFO_GRID..INFO_GRID + 3].copy_from_slice(&launch.grid);
        info[INFO_GROUPS..INFO_GROUPS + 3].copy_from_slice(&launch.groups);
        let mut views = Vec::with_capacity(inputs.len());
        for ((shape, d), at) in inputs.iter().zip(&launch.info_layout) {
            // Buffers are bound whole: a view that starts past the first element (or walks
            // backwards) is copied, as is every input under `ensure_row_contiguous`.
            let strided_ok = !launch.dense_inputs
                && !shape.is_empty()
                && d.offset == 0
                && d.strides.iter().all(|&s| s >= 0);
            let v = if strided_ok {
                d.clone()
            } else {
                self.dense_from_start(shape, d)?
            };
            if let Some(at) = *at {
                let nd = shape.len();
                if info.len() < at + 2 * nd {
                    info.resize(at + 2 * nd, 0);
                }
                for k in 0..nd {
                    info[at + k] = shape[k] as u32;
                    info[at + nd + k] = v.strides[k] as u32;
                }
            }
            views.push(v);
        }
        let mut outs = Vec::with_capacity(launch.outputs.len());
        for (shape, dtype) in &launch.outputs {
            let n = size_of(shape);
            self.check_index_range(n)?;
            outs.push(match launch.init_value {
                Some(v) => self.full(v, *dtype, shape)?,
                None => self.data(self.out(*dtype, n)?, *dtype, shape),
            });
        }
        let kernel =
            self.ctx
                .pipeline_source(&launch.label, &launch.source, &launch.entry, false)?;
        let mut buffers = Vec::with_capacity(views.len() + outs.len());
        for d in views.iter().chain(&outs) {
            buffers.push(buf(d)?);
        }
        self.ctx.dispatch_kernel(
            self.stream,
            &kernel,
            &launch.label,
            &buffers,
            &info,
            launch.dispatch,
        )?;
        let alive: Vec<bool> = match launch.siblings.get() {
            Some(nodes) => nodes.iter().map(|w| w.strong_count() > 0).collect(),
            None => vec![true; outs.len()],
        };
        Ok(outs
            .into_iter()
            .enumerate()
            .map(|(i, d)| (i == index || alive.get(i).copied().unwrap_or(true)).then_some(d))
            .collect())
    }
}
