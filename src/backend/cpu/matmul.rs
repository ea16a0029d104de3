//! CPU matmul through the `gemm` crate (multithreaded; AVX-512 kernels through its `x86-v4` feature,
//! picked at run time, AVX2/FMA otherwise): at numpy's (OpenBLAS') speed on AVX-512 CPUs.
//! Inputs of any float dtype are read as dense f32; each batch entry is one gemm call (small
//! ones single-threaded, in parallel over the batch).

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
    let av = as_f32(ha, a_shape, &a.strides, a.offset);
    let bv = as_f32(hb, b_shape, &b.strides, b.offset);
    // Every element is written by gemm (`read_dst` is false), so a reused vector needs no fill.
    let mut c = crate::backend::host::cache::f32_vec_for_overwrite(batch * m * n);
    if k == 0 {
        c.fill(0.0);
    } else if m * n > 0 {
        let (a_len, b_len, c_len) = (m * k, k * n, m * n);
        // gemm splits products from 128^3 up over the threads, where it pays off (2 cores:
        // 96^3 62-122 vs 176 GFLOP/s on one thread, 128^3 230 vs 188, 256^3 on idle cores
        // ~340 vs ~200); smaller ones run one per thread, batch entries in parallel.
        let threads = rayon::current_num_threads();
        if threads > 1 && m * n * k >= 1 << 21 {
            for (i, cp) in c.chunks_mut(c_len).enumerate() {
                let (ap, bp) = (&av[i * a_len..][..a_len], &bv[i * b_len..][..b_len]);
                gemm_one(m, n, k, ap, bp, cp, gemm::Parallelism::Rayon(threads));
            }
        } else {
            c.par_chunks_mut(c_len).enumerate().for_each(|(i, cp)| {
                let (ap, bp) = (&av[i * a_len..][..a_len], &bv[i * b_len..][..b_len]);
                gemm_one(m, n, k, ap, bp, cp, gemm::Parallelism::None);
            });
        }
    }
    Ok(from_f32(out, c))
}

/// `c [m, n] = a [m, k] @ b [k, n]`, all dense row-major; every element of `c` is written.
fn gemm_one(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    par: gemm::Parallelism,
) {
    assert!(a.len() == m * k && b.len() == k * n && c.len() == m * n);
    // SAFETY: the lengths checked above match the dimensions and row strides passed, and `c`
    // is an exclusive borrow.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.as_ptr(),
            1,
            k as isize,
            b.as_ptr(),
            1,
            n as isize,
            0.0f32,
            1.0f32,
            false,
            false,
            false,
            par,
        );
    }
}
