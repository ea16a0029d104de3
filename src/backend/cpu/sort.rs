//! CPU sorting along the last axis (argsort, sort: stable, NaN last, -0.0 equal to 0.0) and
//! searchsorted. Keys are read as f64 (exact for every dtype); each row sorts on its own rayon
//! task; sorted values are gathered from the input by the sorted indices.

use super::copy;
use super::host_of;
use crate::backend::Data;
use crate::backend::host::HostVec;
use crate::error::Result;
use rayon::prelude::*;
use std::cmp::Ordering;

/// The total order of sorting: NaN after everything (NaNs equal), -0.0 equal to 0.0.
fn order(a: f64, b: f64) -> Ordering {
    a.partial_cmp(&b)
        .unwrap_or_else(|| a.is_nan().cmp(&b.is_nan()))
}

/// Stable ascending argsort of each row (last axis) of the view, as row-local uint32 indices.
fn row_argsort(shape: &[i32], d: &Data) -> Result<Vec<u32>> {
    let len = shape.last().map_or(1, |&n| n as usize);
    let keys = copy::as_f64(host_of("sort", d)?, shape, &d.strides, d.offset);
    let mut out = vec![0u32; keys.len()];
    if len > 0 {
        out.par_chunks_mut(len)
            .zip(keys.par_chunks(len))
            .for_each(|(o, k)| {
                o.iter_mut().enumerate().for_each(|(i, x)| *x = i as u32);
                o.sort_by(|&a, &b| order(k[a as usize], k[b as usize]));
            });
    }
    Ok(out)
}

/// Indices (uint32) that sort each row of the view.
pub(crate) fn argsort(shape: &[i32], d: &Data) -> Result<HostVec> {
    Ok(HostVec::U32(row_argsort(shape, d)?))
}

/// Each row of the view sorted (dtype kept).
pub(crate) fn sort(shape: &[i32], d: &Data) -> Result<HostVec> {
    let h = host_of("sort", d)?;
    let idx = row_argsort(shape, d)?;
    let len = shape.last().map_or(1, |&n| n as usize).max(1);
    let dense = copy::cast(h, shape, &d.strides, d.offset, h.dtype());
    let order: Vec<usize> = idx
        .iter()
        .enumerate()
        .map(|(i, &j)| i / len * len + j as usize)
        .collect();
    Ok(dense.pick(&order))
}

/// For each element of `values`, the number of elements of the 1-D `sorted` before it (`right`
/// false) or not after it (`right` true).
pub(crate) fn searchsorted(
    s_shape: &[i32],
    sorted: &Data,
    v_shape: &[i32],
    values: &Data,
    right: bool,
) -> Result<HostVec> {
    let keys = copy::as_f64(
        host_of("sort", sorted)?,
        s_shape,
        &sorted.strides,
        sorted.offset,
    );
    let vals = copy::as_f64(
        host_of("sort", values)?,
        v_shape,
        &values.strides,
        values.offset,
    );
    let out = vals
        .par_iter()
        .map(|&v| {
            keys.partition_point(|&k| match order(k, v) {
                Ordering::Less => true,
                Ordering::Equal => right,
                Ordering::Greater => false,
            }) as u32
        })
        .collect();
    Ok(HostVec::U32(out))
}
