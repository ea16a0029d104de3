//! Creation ops on CPU and GPU in every dtype: full, zeros, ones, *_like, arange (int and float,
//! negative steps), linspace, eye (offset diagonals, rectangular), identity, and scalars.

mod common;
use common::{assert_close, round_to, values};
use wmx::{self as mx, Array, Dtype};

device_tests! {
    fn full_zeros_ones_in_every_dtype(dev: Device) {
        for dt in Dtype::ALL {
            // Odd sizes exercise the packed dtypes' partial last word.
            for n in [1, 3, 5, 1027] {
                let f = mx::full(&[n], 3.0, dt, dev).unwrap();
                assert_eq!((f.dtype(), f.shape()), (dt, &[n][..]));
                assert_eq!(values(&f), vec![round_to(3.0, dt); n as usize], "{dt}");
                assert_eq!(values(&mx::zeros(&[n], dt, dev).unwrap()), vec![0.0; n as usize]);
                assert_eq!(values(&mx::ones(&[n], dt, dev).unwrap()), vec![1.0; n as usize]);
            }
            let like = mx::ones_like(&mx::zeros(&[2, 3], dt, dev).unwrap(), dev).unwrap();
            assert_eq!((like.dtype(), like.shape()), (dt, &[2, 3][..]));
            assert_eq!(values(&mx::zeros_like(&like, dev).unwrap()), vec![0.0; 6]);
        }
        assert_eq!(mx::full(&[2], -1.5, Dtype::Float32, dev).unwrap().to_vec::<f32>().unwrap(), vec![-1.5, -1.5]);
        assert_eq!(mx::full(&[1], 4e9, Dtype::Uint32, dev).unwrap().item::<u32>().unwrap(), 4_000_000_000);
        assert_eq!(mx::full(&[0, 4], 1.0, Dtype::Int32, dev).unwrap().size(), 0);
    }

    fn arange_steps_and_dtypes(dev: Device) {
        assert_eq!(mx::arange(0.0, 5.0, 1.0, Dtype::Int32, dev).unwrap().to_vec::<i32>().unwrap(), vec![0, 1, 2, 3, 4]);
        assert_eq!(mx::arange(10.0, 0.0, -3.0, Dtype::Int32, dev).unwrap().to_vec::<i32>().unwrap(), vec![10, 7, 4, 1]);
        assert_eq!(mx::arange(3.0, 3.0, 1.0, Dtype::Float32, dev).unwrap().shape(), &[0]);
        assert_eq!(mx::arange(5.0, 0.0, 1.0, Dtype::Float32, dev).unwrap().shape(), &[0]);
        for dt in [Dtype::Float32, Dtype::Float16, Dtype::Bfloat16, Dtype::Int32, Dtype::Uint32, Dtype::Uint8] {
            let a = mx::arange(1.0, 40.0, 3.0, dt, dev).unwrap();
            assert_eq!(a.shape(), &[13]);
            let want: Vec<f64> = (0..13).map(|i| round_to(1.0 + 3.0 * i as f64, dt)).collect();
            assert_eq!(values(&a), want, "{dt}");
        }
        let f = mx::arange(0.0, 1.0, 0.1, Dtype::Float32, dev).unwrap();
        assert_eq!(f.shape(), &[10]);
        assert_close("arange", Dtype::Float32, &values(&f), &(0..10).map(|i| i as f64 * 0.1).collect::<Vec<_>>());
    }

    fn linspace_eye_identity(dev: Device) {
        let l = mx::linspace(-1.0, 1.0, 5, Dtype::Float32, dev).unwrap();
        assert_eq!(l.to_vec::<f32>().unwrap(), vec![-1.0, -0.5, 0.0, 0.5, 1.0]);
        assert_eq!(mx::linspace(2.0, 3.0, 1, Dtype::Float32, dev).unwrap().to_vec::<f32>().unwrap(), vec![2.0]);
        assert_eq!(mx::linspace(0.0, 10.0, 3, Dtype::Int32, dev).unwrap().to_vec::<i32>().unwrap(), vec![0, 5, 10]);
        for dt in [Dtype::Float32, Dtype::Float16, Dtype::Bfloat16, Dtype::Int32, Dtype::Bool] {
            let e = mx::eye(3, Some(4), -1, dt, dev).unwrap();
            assert_eq!((e.dtype(), e.shape()), (dt, &[3, 4][..]));
            assert_eq!(values(&e), vec![0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0], "{dt}");
            let i = mx::identity(2, dt, dev).unwrap();
            assert_eq!(values(&i), vec![1.0, 0.0, 0.0, 1.0]);
        }
        assert_eq!(values(&mx::eye(2, None, 5, Dtype::Float32, dev).unwrap()), vec![0.0; 4]);
    }

    fn scalars_broadcast_into_ops(dev: Device) {
        let s = Array::scalar(2.5f32);
        assert_eq!((s.ndim(), s.size()), (0, 1));
        let r = mx::multiply(mx::ones(&[2, 2], Dtype::Float32, dev).unwrap(), &s, dev).unwrap();
        assert_eq!(r.to_vec::<f32>().unwrap(), vec![2.5; 4]);
        let b = mx::add(Array::scalar(true), Array::scalar(7u8), dev).unwrap();
        assert_eq!((b.dtype(), b.item::<u8>().unwrap()), (Dtype::Uint8, 8));
    }
}
