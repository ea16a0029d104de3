//! CPU matmul through the `gemm` crate (multithreaded; AVX-512 kernels through its `x86-v4` feature,
//! picked at run time, AVX2/FMA otherwise): at numpy's (OpenBLAS') speed on AVX-512 CPUs.
//! Inputs of any float dtype are read as dense f32; each batch entry is one gemm call.

use super::copy::{as_f32, from_f32};
use crate::backend::Data;
use crate::backend::host::HostVec;
use crate::dtype::Dtype;
use crate::error::{Error, Result};

/// `a [.., M, K] @ b [.., K, N]` with equal batch shapes; dense output `[.., M, N]` of `out`.
pub(crate) fn matmul(
    a_shape: &[i32],
    a: &Data,
    b_shape: &[i32],
    b: &Data,
    out: Dtype,
) -> Result<HostVec> {
    let (ha, hb) = match (a.storage.as_host(), b.storage.as_host()) {
        (Some(x), Some(y)) => (x, y),
        _ => {
            return Err(Error::Backend {
                op: "matmul",
                msg: "invariant: CPU kernel given device memory".into(),
            });
        }
    };
    let nd = a_shape.len();
    let (m, k, n) = (
        a_shape[nd - 2] as usize,
        a_shape[nd - 1] as usize,
        b_shape[nd - 1] as usize,
    );
    let batch: usize = a_shape[..nd - 2].iter().map(|&d| d as usize).product();
    let av = as_f32(ha, a_shape, &a.strides, a.offset);
    let bv = as_f32(hb, b_shape, &b.strides, b.offset);
    let mut c = vec![0f32; batch * m * n];
    if m * n > 0 && k > 0 {
        let threads = if m * n * k >= 1 << 15 {
            rayon::current_num_threads()
        } else {
            1
        };
        let par = if threads > 1 {
            gemm::Parallelism::Rayon(threads)
        } else {
            gemm::Parallelism::None
        };
        for i in 0..batch {
            let (ap, bp) = (&av[i * m * k..], &bv[i * k * n..]);
            let cp = &mut c[i * m * n..(i + 1) * m * n];
            // SAFETY: the three buffers are dense row-major with the dimensions passed, and `cp`
            // is an exclusive borrow of exactly m * n elements.
            unsafe {
                gemm::gemm(
                    m,
                    n,
                    k,
                    cp.as_mut_ptr(),
                    1,
                    n as isize,
                    false,
                    ap.as_ptr(),
                    1,
                    k as isize,
                    bp.as_ptr(),
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
    }
    Ok(from_f32(out, c))
}
