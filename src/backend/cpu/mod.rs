//! The CPU backend: runs one node's primitive on host memory with rayon-parallel kernels, one file
//! per family.

pub(crate) mod conv;
pub(crate) mod copy;
pub(crate) mod elementwise;
pub(crate) mod fast;
pub(crate) mod fused;
pub(crate) mod gather;
pub(crate) mod matmul;
pub(crate) mod random;
pub(crate) mod reduce;
pub(crate) mod scan;
pub(crate) mod scatter;
pub(crate) mod sort;

use crate::array::Node;
use crate::backend::host::HostVec;
use crate::backend::{Data, Storage, dense};
use crate::error::{Error, Result};
use crate::primitive::Primitive;
use crate::shape::size_of;

/// The host vector of an input: every CPU kernel reads its inputs through this one check (the
/// graph moves inputs to the host before a CPU kernel runs, so an `Err` is a broken invariant).
pub(super) fn host_of<'d>(op: &'static str, d: &'d Data) -> Result<&'d HostVec> {
    d.storage.as_host().ok_or_else(|| Error::Backend {
        op,
        msg: "invariant: CPU kernel given device memory".into(),
    })
}

/// Computes `node` from inputs already on the host.
pub(crate) fn run(node: &Node, inputs: &[(Vec<i32>, Data)]) -> Result<Data> {
    let shape = &node.shape[..];
    let dt = node.dtype;
    let n = size_of(shape);
    crate::backend::host::check_alloc(node.prim.name(), dt, n)?;
    let input = |i: usize| -> Result<&(Vec<i32>, Data)> {
        inputs.get(i).ok_or_else(|| Error::Backend {
            op: node.prim.name(),
            msg: format!("invariant: missing input {i}"),
        })
    };
    let out: HostVec = match &node.prim {
        Primitive::Full(v) => HostVec::filled("full", dt, n, *v)?,
        Primitive::Arange { start, step } => elementwise::arange(n, *start, *step, dt),
        Primitive::AsType | Primitive::Copy | Primitive::Reshape => {
            let (s, d) = input(0)?;
            copy::cast(host_of("cpu", d)?, s, &d.strides, d.offset, dt)
        }
        Primitive::Unary(op) => elementwise::unary(*op, shape, &input(0)?.1, dt)?,
        Primitive::Binary(op) => elementwise::binary(*op, shape, &input(0)?.1, &input(1)?.1, dt)?,
        Primitive::Where => {
            elementwise::where_(shape, &input(0)?.1, &input(1)?.1, &input(2)?.1, dt)?
        }
        Primitive::Reduce { op, axes } => {
            let (s, d) = input(0)?;
            reduce::reduce(*op, s, d, axes, dt)?
        }
        Primitive::ArgReduce { op, axis } => {
            let (s, d) = input(0)?;
            reduce::arg_reduce(*op, s, d, *axis)?
        }
        Primitive::Matmul => {
            let ((sa, a), (sb, b)) = (input(0)?, input(1)?);
            matmul::matmul(sa, a, sb, b, dt)?
        }
        Primitive::Convolution(p) => {
            let ((sx, x), (sw, w)) = (input(0)?, input(1)?);
            conv::conv(p, sx, x, sw, w, shape, dt)?
        }
        Primitive::Concatenate { axis } => concatenate(inputs, *axis, dt)?,
        Primitive::RandomBits { width, per_key } => {
            let (s, d) = input(0)?;
            let keys = copy::as_u32(host_of("cpu", d)?, s, &d.strides, d.offset);
            match random::bits(&keys, *per_key, *width) {
                HostVec::U32(b) if dt.is_float() => random::unit_floats(b, dt),
                bits => bits,
            }
        }
        Primitive::ArgSort => {
            let (s, d) = input(0)?;
            sort::argsort(s, d)?
        }
        Primitive::Softmax => {
            let (s, d) = input(0)?;
            reduce::softmax_rows(s, d, dt)?
        }
        Primitive::Take { axis } => {
            let ((sa, a), (si, i)) = (input(0)?, input(1)?);
            take(
                host_of("cpu", a)?,
                sa,
                a,
                &copy::as_u32(host_of("cpu", i)?, si, &i.strides, i.offset),
                *axis,
                dt,
            )?
        }
        Primitive::Gather { axes, slice_sizes } => {
            let ((sa, a), (si, i)) = (input(0)?, input(1)?);
            let idx = copy::as_i32(host_of("cpu", i)?, si, &i.strides, i.offset);
            gather::gather(host_of("cpu", a)?, sa, a, &idx, axes, slice_sizes, n)
        }
        Primitive::Scatter { op, axes } => {
            let ((sa, a), (si, i), (su, u)) = (input(0)?, input(1)?, input(2)?);
            let idx = copy::as_i32(host_of("cpu", i)?, si, &i.strides, i.offset);
            scatter::scatter(
                host_of("cpu", a)?,
                sa,
                a,
                &idx,
                axes,
                host_of("cpu", u)?,
                su,
                u,
                *op,
                dt,
            )?
        }
        Primitive::Scan {
            op,
            reverse,
            inclusive,
        } => {
            let (s, d) = input(0)?;
            scan::scan(*op, *reverse, *inclusive, s, d, dt)?
        }
        Primitive::Sort => {
            let (s, d) = input(0)?;
            sort::sort(s, d)?
        }
        Primitive::SearchSorted { right } => {
            let ((ss, sd), (vs, vd)) = (input(0)?, input(1)?);
            sort::searchsorted(ss, sd, vs, vd, *right)?
        }
        Primitive::RmsNorm { eps, has_weight } => {
            fast::norm(inputs, *has_weight, false, false, *eps, dt)?
        }
        Primitive::LayerNorm {
            eps,
            has_weight,
            has_bias,
        } => fast::norm(inputs, *has_weight, *has_bias, true, *eps, dt)?,
        Primitive::Rope {
            dims,
            traditional,
            base,
            scale,
            offset,
            inverse,
        } => fast::rope(
            inputs,
            *dims,
            *traditional,
            *base,
            *scale,
            *offset,
            *inverse,
            dt,
        )?,
        Primitive::Attention { scale, causal } => fast::attention(inputs, *scale, *causal, dt)?,
        Primitive::Fused(expr) => fused::run(expr, shape, inputs)?,
        Primitive::FusedReduce(red) => fused::run_reduction(red, inputs)?,
        Primitive::CustomKernel { launch, .. } => {
            return Err(Error::Device {
                op: "wgsl_kernel",
                msg: format!(
                    "{}: wgsl_kernel runs on GPU streams; this node is on a CPU stream.",
                    launch.0.name
                ),
            });
        }
        Primitive::Constant
        | Primitive::Transpose(_)
        | Primitive::Broadcast
        | Primitive::Slice { .. }
        | Primitive::StopGradient
        | Primitive::Custom { .. }
        | Primitive::AsStrided { .. }
        | Primitive::Collective { .. } => {
            return Err(Error::Backend {
                op: node.prim.name(),
                msg: "invariant: views, constants and collectives are resolved before the CPU backend".into(),
            });
        }
    };
    Ok(dense(Storage::host(out), shape))
}

/// Joins inputs along `axis`: each output row of the leading dims takes one block from each input.
fn concatenate(
    inputs: &[(Vec<i32>, Data)],
    axis: usize,
    dt: crate::dtype::Dtype,
) -> Result<HostVec> {
    let parts: Vec<HostVec> = inputs
        .iter()
        .map(|(s, d)| Ok(copy::cast(host_of("cpu", d)?, s, &d.strides, d.offset, dt)))
        .collect::<Result<_>>()?;
    let outer: usize = inputs
        .first()
        .map_or(1, |(s, _)| s[..axis].iter().map(|&d| d as usize).product());
    let blocks: Vec<usize> = inputs
        .iter()
        .map(|(s, _)| s[axis..].iter().map(|&d| d as usize).product())
        .collect();
    let total: usize = blocks.iter().sum::<usize>() * outer;
    let mut out = HostVec::filled("concatenate", dt, total, 0.0)?;
    macro_rules! join {
        ($o:expr, $variant:ident) => {{
            let mut pos = 0;
            for r in 0..outer {
                for (p, &b) in parts.iter().zip(&blocks) {
                    if let HostVec::$variant(src) = p {
                        $o[pos..pos + b].copy_from_slice(&src[r * b..(r + 1) * b]);
                    }
                    pos += b;
                }
            }
        }};
    }
    match &mut out {
        HostVec::Bool(o) => join!(o, Bool),
        HostVec::U8(o) => join!(o, U8),
        HostVec::U32(o) => join!(o, U32),
        HostVec::I32(o) => join!(o, I32),
        HostVec::F16(o) => join!(o, F16),
        HostVec::BF16(o) => join!(o, BF16),
        HostVec::F32(o) => join!(o, F32),
    }
    Ok(out)
}

/// Gathers along `axis` with in-range indices, reading the (possibly strided) source in place:
/// only the picked elements are touched (an embedding lookup must not copy its whole table).
fn take(
    h: &HostVec,
    shape: &[i32],
    d: &Data,
    idx: &[u32],
    axis: usize,
    dt: crate::dtype::Dtype,
) -> Result<HostVec> {
    if h.dtype() != dt {
        let dense = copy::cast(h, shape, &d.strides, d.offset, dt);
        let strides = crate::shape::row_major_strides(shape);
        return Ok(dense.pick(&take_order(shape, &strides, 0, idx, axis)));
    }
    Ok(h.pick(&take_order(shape, &d.strides, d.offset, idx, axis)))
}

/// Source positions of `take` along `axis`: outer positions, then each index, then inner ones.
fn take_order(
    shape: &[i32],
    strides: &[isize],
    offset: usize,
    idx: &[u32],
    axis: usize,
) -> Vec<usize> {
    // Offsets of every multi-index of `shape[range]`, row-major.
    let offsets = |range: std::ops::Range<usize>| -> Vec<isize> {
        let mut offs = vec![0isize];
        for ax in range {
            let n = shape[ax] as isize;
            offs = offs
                .iter()
                .flat_map(|&o| (0..n).map(move |i| o + i * strides[ax]))
                .collect();
        }
        offs
    };
    let (outer, inner) = (offsets(0..axis), offsets(axis + 1..shape.len()));
    let step = strides[axis];
    let base = offset as isize;
    outer
        .iter()
        .flat_map(|&o| {
            let inner = &inner;
            idx.iter().flat_map(move |&j| {
                inner
                    .iter()
                    .map(move |&k| (base + o + j as isize * step + k) as usize)
            })
        })
        .collect()
}
