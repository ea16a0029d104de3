//! CPU matmul through the `gemm` crate (multithreaded; AVX-512 kernels through its `x86-v4` feature,
//! picked at run time, AVX2/FMA otherwise): at numpy's (OpenBLAS') speed on AVX-512 CPUs.
//! f32 inputs are read in place through their strides (transposed views cost no copy), other
//! float dtypes as dense f32; each batch entry is one gemm call (small ones single-threaded, in
//! parallel over the batch).

use super::copy::{as_f32, from_f32};
use crate::backend::Data;
use crate::backend::host::HostVec;
use crate::dtype::Dtype;
use crate::error::Result;
use rayon::prelude::*;

/// `a [.., M, K] @ b [.., K, N]` with equal batch shapes; dense output `[.., M, N]` of `out`.
pub(crate) fn matmul(
    a_shape: &[i32],
    a: &Data,
    b_shape: &[i32],
    b: &Data,
    out: Dtype,
) -> Result<HostVec> {
    let (ha, hb) = (super::host_of("matmul", a)?, super::host_of("matmul", b)?);
    let nd = a_shape.len();
    let (m, k, n) = (
        a_shape[nd - 2] as usize,
        a_shape[nd - 1] as usize,
        b_shape[nd - 1] as usize,
    );
    let batch: usize = a_shape[..nd - 2].iter().map(|&d| d as usize).product();
    // f32 operands are read in place through their strides (a transposed view, as the
    // backward pass of a matmul makes, costs no copy); others are converted to dense f32.
    let (a_dense, b_dense);
    let av = match Matrices::in_place(ha, a_shape, &a.strides, a.offset) {
        Some(v) => v,
        None => {
            a_dense = as_f32(ha, a_shape, &a.strides, a.offset);
            Matrices::dense(&a_dense, batch, m, k)
        }
    };
    let bv = match Matrices::in_place(hb, b_shape, &b.strides, b.offset) {
        Some(v) => v,
        None => {
            b_dense = as_f32(hb, b_shape, &b.strides, b.offset);
            Matrices::dense(&b_dense, batch, k, n)
        }
    };
    // Every element is written by gemm (`read_dst` is false), so a reused vector needs no fill.
    let mut c = crate::backend::host::cache::f32_vec_for_overwrite(batch * m * n);
    if k == 0 {
        c.fill(0.0);
    } else if m * n > 0 {
        let c_len = m * n;
        // gemm splits products from 128^3 up over the threads, where it pays off (2 cores:
        // 96^3 62-122 vs 176 GFLOP/s on one thread, 128^3 230 vs 188, 256^3 on idle cores
        // ~340 vs ~200); smaller ones run one per thread, batch entries in parallel.
        let threads = rayon::current_num_threads();
        if threads > 1 && m * n * k >= 1 << 21 {
            for (i, cp) in c.chunks_mut(c_len).enumerate() {
                gemm_one(m, n, k, &av, &bv, i, cp, gemm::Parallelism::Rayon(threads));
            }
        } else {
            c.par_chunks_mut(c_len).enumerate().for_each(|(i, cp)| {
                gemm_one(m, n, k, &av, &bv, i, cp, gemm::Parallelism::None);
            });
        }
    }
    Ok(from_f32(out, c))
}

/// A batch of matrices in f32 storage: matrix `i`'s element `(r, c)` is at
/// `bases[i] + r * rs + c * cs` of `data`, every such index checked to lie inside `data`.
struct Matrices<'a> {
    data: &'a [f32],
    bases: Vec<usize>,
    rs: usize,
    cs: usize,
}

impl<'a> Matrices<'a> {
    /// The view itself when it is f32 with non-negative strides (any order: transposed views
    /// included) and every element it reaches is inside the storage.
    fn in_place(h: &'a HostVec, shape: &[i32], strides: &[isize], offset: usize) -> Option<Self> {
        let HostVec::F32(v) = h else { return None };
        let nd = shape.len();
        if shape.contains(&0) || strides.iter().any(|&x| x < 0) {
            return None;
        }
        let reach: usize = shape
            .iter()
            .zip(strides)
            .map(|(&d, &st)| (d as usize - 1) * st as usize)
            .sum();
        if offset + reach >= v.len() {
            return None;
        }
        let mut bases = vec![offset];
        for (&d, &st) in shape[..nd - 2].iter().zip(&strides[..nd - 2]) {
            bases = bases
                .iter()
                .flat_map(|&b| (0..d as usize).map(move |i| b + i * st as usize))
                .collect();
        }
        Some(Matrices {
            data: v,
            bases,
            rs: strides[nd - 2] as usize,
            cs: strides[nd - 1] as usize,
        })
    }

    /// Dense row-major `[batch, rows, cols]`.
    fn dense(v: &'a [f32], batch: usize, rows: usize, cols: usize) -> Self {
        Matrices {
            data: v,
            bases: (0..batch).map(|i| i * rows * cols).collect(),
            rs: cols,
            cs: 1,
        }
    }

    /// True when matrix `i` of `rows x cols` lies inside `data`.
    fn fits(&self, i: usize, rows: usize, cols: usize) -> bool {
        self.bases
            .get(i)
            .is_some_and(|&b| b + (rows - 1) * self.rs + (cols - 1) * self.cs < self.data.len())
    }
}

/// `c [m, n] = a_i [m, k] @ b_i [k, n]` for batch entry `i`, `c` dense row-major; every element
/// of `c` is written.
#[allow(clippy::too_many_arguments)]
fn gemm_one(
    m: usize,
    n: usize,
    k: usize,
    a: &Matrices<'_>,
    b: &Matrices<'_>,
    i: usize,
    c: &mut [f32],
    par: gemm::Parallelism,
) {
    assert!(a.fits(i, m, k) && b.fits(i, k, n) && c.len() == m * n);
    // SAFETY: `fits` checked that every element of both operands lies inside its slice for the
    // strides passed; `c` has m * n elements (row stride n) and is an exclusive borrow.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.data.as_ptr().add(a.bases[i]),
            a.cs as isize,
            a.rs as isize,
            b.data.as_ptr().add(b.bases[i]),
            b.cs as isize,
            b.rs as isize,
            0.0f32,
            1.0f32,
            false,
            false,
            false,
            par,
        );
    }
}
