//! matmul writes every output element: a reused (stale, here NaN-filled) host vector of the
//! output's length must not leak into the result, including the k = 0 case (all zeros).

mod common;
use wmx::{self as mx, Dtype};

/// Evaluates and drops a NaN-filled f32 array of `shape`, so the CPU's vector cache holds it.
fn leave_nan_vector(shape: &[i32], dev: wmx::Device) {
    let junk = mx::full(shape, f64::NAN, Dtype::Float32, dev).unwrap();
    mx::eval([&junk]).unwrap();
}

device_tests! {
    fn matmul_ignores_stale_output_memory(dev: Device) {
        leave_nan_vector(&[256, 256], dev);
        let a = mx::ones(&[256, 8], Dtype::Float32, dev).unwrap();
        let b = mx::ones(&[8, 256], Dtype::Float32, dev).unwrap();
        let c = mx::matmul(&a, &b, dev).unwrap().to_vec::<f32>().unwrap();
        assert_eq!(c.len(), 256 * 256);
        assert!(c.iter().all(|&x| x == 8.0));
    }

    fn matmul_with_empty_inner_dim_is_zeros(dev: Device) {
        leave_nan_vector(&[256, 256], dev);
        let a = mx::zeros(&[256, 0], Dtype::Float32, dev).unwrap();
        let b = mx::zeros(&[0, 256], Dtype::Float32, dev).unwrap();
        let c = mx::matmul(&a, &b, dev).unwrap().to_vec::<f32>().unwrap();
        assert_eq!(c.len(), 256 * 256);
        assert!(c.iter().all(|&x| x == 0.0));
    }
}
