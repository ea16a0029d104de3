//! Facts from MLX's own C++ tests (tests/arg_reduce_tests.cpp, creations_tests.cpp and
//! ops_tests.cpp at ml-explore/mlx 846d176), re-expressed for wmx: the literal inputs and the
//! expected values, run on the CPU and the GPU. (linspace's `endpoint=false` cases, which wmx's
//! linspace has no flag for, are listed at the end as a comment.)

mod common;
use wmx::{self as mx, Array, Dtype};

fn i32s(a: &Array) -> Vec<i32> {
    a.to_vec::<i32>().unwrap()
}
fn u32s(a: &Array) -> Vec<u32> {
    a.to_vec::<u32>().unwrap()
}
fn f32s(a: &Array) -> Vec<f32> {
    a.to_vec::<f32>().unwrap()
}
fn arr_i(v: &[i32], s: &[i32]) -> Array {
    Array::from_slice(v, s)
}
fn arr_f(v: &[f32], s: &[i32]) -> Array {
    Array::from_slice(v, s)
}

const ARG_X: [i32; 24] = [
    0, 2, 1, 7, 5, -5, 0, 2, 1, 7, 5, -5, 0, 2, 1, 7, 5, -5, 0, 2, 1, 7, 5, -5,
];
const ARG_B: [bool; 24] = [
    false, true, true, false, false, false, false, true, true, false, true, true, false, true,
    true, false, false, false, false, true, true, false, true, true,
];

device_tests! {
    fn arg_reduce_small(d: Device) {
        let x = arr_i(&ARG_X, &[2, 3, 4]);
        let cases: [(bool, i32, &[i32], &[u32]); 6] = [
            (false, 2, &[2, 3], &[0, 1, 3, 0, 1, 3]),
            (false, 1, &[2, 4], &[0, 1, 1, 2, 0, 1, 1, 2]),
            (false, 0, &[3, 4], &[0; 12]),
            (true, 2, &[2, 3], &[3, 0, 1, 3, 0, 1]),
            (true, 1, &[2, 4], &[1, 2, 2, 0, 1, 2, 2, 0]),
            (true, 0, &[3, 4], &[0; 12]),
        ];
        for (is_max, axis, shape, want) in cases {
            let r = if is_max { mx::argmax(&x, axis, false, d) } else { mx::argmin(&x, axis, false, d) }.unwrap();
            assert_eq!(r.shape(), shape);
            assert_eq!(u32s(&r), want, "arg{} axis {axis}", if is_max { "max" } else { "min" });
        }
    }

    fn arg_reduce_bool(d: Device) {
        let x = Array::from_slice(&ARG_B, &[2, 3, 4]);
        let cases: [(bool, i32, &[u32]); 6] = [
            (false, 2, &[0, 0, 1, 0, 0, 1]),
            (false, 1, &[0, 1, 1, 0, 0, 1, 1, 0]),
            (false, 0, &[0; 12]),
            (true, 2, &[1, 3, 0, 1, 3, 0]),
            (true, 1, &[2, 0, 0, 1, 2, 0, 0, 1]),
            (true, 0, &[0; 12]),
        ];
        for (is_max, axis, want) in cases {
            let r = if is_max { mx::argmax(&x, axis, false, d) } else { mx::argmin(&x, axis, false, d) }.unwrap();
            assert_eq!(u32s(&r), want);
        }
    }

    fn arg_reduce_irregular_strides(d: Device) {
        let x = mx::transpose(&arr_i(&ARG_X, &[2, 3, 4]), &[2, 0, 1], d).unwrap();
        let r = mx::argmin(&x, 2, false, d).unwrap();
        assert_eq!(r.shape(), &[4, 2]);
        assert_eq!(u32s(&r), vec![0, 0, 1, 1, 1, 1, 2, 2]);
    }

    fn arg_reduce_edge_cases(d: Device) {
        // MLX reduces a scalar over its flattened view; wmx takes an explicit axis.
        let s = mx::reshape(&Array::scalar(1.0f32), &[1], d).unwrap();
        assert_eq!(mx::argmin(&s, 0, false, d).unwrap().item::<u32>().unwrap(), 0);
        assert_eq!(mx::argmax(&s, 0, false, d).unwrap().item::<u32>().unwrap(), 0);
        let e = Array::from_slice::<f32>(&[], &[0]);
        let err = mx::argmin(&e, 0, false, d).unwrap_err();
        assert!(err.to_string().contains("argmin"), "{err}");
        assert!(mx::argmax(&e, 0, false, d).is_err());
    }

    fn arange_sizes(d: Device) {
        let cases: [(f64, f64, f64, usize); 9] = [
            (0.0, 10.0, 1.0, 10), (0.0, 10.0, 0.5, 20), (0.0, 10.0, 0.45, 23),
            (0.0, 10.0, 10.0, 1), (0.0, 10.0, 9.0, 2), (0.0, 10.0, 100.0, 1),
            (0.0, -10.0, 1.0, 0), (0.0, -10.0, -1.0, 10), (0.0, -10.0, -10.0, 1),
        ];
        for (a, b, st, n) in cases {
            assert_eq!(mx::arange(a, b, st, Dtype::Float32, d).unwrap().size(), n, "arange({a}, {b}, {st})");
        }
        assert!(mx::arange(0.0, 10.0, 1.0, Dtype::Bool, d).is_err());
    }

    fn arange_values(d: Device) {
        let ar = |a, b, s, t| mx::arange(a, b, s, t, d).unwrap();
        assert_eq!(i32s(&ar(0.0, 3.0, 1.0, Dtype::Int32)), vec![0, 1, 2]);
        assert_eq!(i32s(&ar(0.0, 3.0, 2.0, Dtype::Int32)), vec![0, 2]);
        assert_eq!(i32s(&ar(0.0, 3.0, 3.0, Dtype::Int32)), vec![0]);
        assert_eq!(ar(0.0, -3.0, 1.0, Dtype::Int32).size(), 0);
        assert_eq!(ar(0.0, 3.0, -1.0, Dtype::Int32).size(), 0);
        assert_eq!(i32s(&ar(0.0, -3.0, -1.0, Dtype::Int32)), vec![0, -1, -2]);
        assert_eq!(f32s(&ar(0.0, 5.0, 1.0, Dtype::Float16)), vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(f32s(&ar(0.0, 5.0, 1.0, Dtype::Bfloat16)), vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(f32s(&ar(0.0, 5.0, 1.5, Dtype::Bfloat16)), vec![0.0, 1.5, 3.0, 4.5]);
        assert_eq!(ar(0.0, 10.0, 1.0, Dtype::Uint32).dtype(), Dtype::Uint32);
        // MLX: arange(0.0, 5.0, 1.5, int32) == [0, 1, 2, 3] and arange(0.0, 5.0, 0.5, int32) == zeros(10)
        // (the step is cast to the integer dtype); wmx differs, see KNOWN_DIFFS in tests/conformance.rs.
    }

    fn astype_scalars(d: Device) {
        let x = Array::scalar(1i32);
        assert_eq!(mx::astype(&x, Dtype::Float32, d).unwrap().item::<f32>().unwrap(), 1.0);
        assert_eq!(mx::astype(&x, Dtype::Int32, d).unwrap().item::<i32>().unwrap(), 1);
        let y = mx::astype(&Array::scalar(-3.0f32), Dtype::Int32, d).unwrap();
        assert_eq!(y.dtype(), Dtype::Int32);
        assert_eq!(y.item::<i32>().unwrap(), -3);
    }

    fn full_and_friends(d: Device) {
        assert!(mx::full(&[-5, 0], 0.0, Dtype::Float32, d).is_err());
        assert!(mx::full(&[0, -5], 0.0, Dtype::Float32, d).is_err());
        assert_eq!(mx::full(&[], 0.0, Dtype::Int32, d).unwrap().item::<i32>().unwrap(), 0);
        let x = mx::full(&[1, 2], 2.0, Dtype::Float32, d).unwrap();
        assert_eq!((x.shape().to_vec(), f32s(&x)), (vec![1, 2], vec![2.0, 2.0]));
        let x = mx::full(&[2, 1], 2.0, Dtype::Float32, d).unwrap();
        assert_eq!((x.shape().to_vec(), f32s(&x)), (vec![2, 1], vec![2.0, 2.0]));
        assert_eq!(mx::full(&[2], 0.0, Dtype::Bool, d).unwrap().to_vec::<bool>().unwrap(), vec![false, false]);
        assert_eq!(mx::full(&[2], 1.0, Dtype::Bool, d).unwrap().to_vec::<bool>().unwrap(), vec![true, true]);
        assert_eq!(u32s(&mx::full(&[2], 1.0, Dtype::Uint32, d).unwrap()), vec![1, 1]);
        let z = mx::zeros(&[2, 2], Dtype::Float32, d).unwrap();
        assert_eq!((z.shape().to_vec(), f32s(&z)), (vec![2, 2], vec![0.0; 4]));
        let o = mx::ones(&[2, 2], Dtype::Float32, d).unwrap();
        assert_eq!(f32s(&o), vec![1.0; 4]);
        let zi = mx::zeros_like(&mx::zeros(&[2, 2], Dtype::Int32, d).unwrap(), d).unwrap();
        assert_eq!((zi.dtype(), i32s(&zi)), (Dtype::Int32, vec![0; 4]));
        let oi = mx::ones_like(&mx::ones(&[2, 2], Dtype::Int32, d).unwrap(), d).unwrap();
        assert_eq!((oi.dtype(), i32s(&oi)), (Dtype::Int32, vec![1; 4]));
        let s = mx::ones(&[], Dtype::Int32, d).unwrap();
        assert_eq!((s.ndim(), s.item::<i32>().unwrap()), (0, 1));
    }

    fn eye_and_identity(d: Device) {
        let e = mx::eye(3, None, 0, Dtype::Float32, d).unwrap();
        assert_eq!((e.shape().to_vec(), f32s(&e)), (vec![3, 3], vec![1., 0., 0., 0., 1., 0., 0., 0., 1.]));
        let e = mx::eye(3, Some(2), 0, Dtype::Float32, d).unwrap();
        assert_eq!((e.shape().to_vec(), f32s(&e)), (vec![3, 2], vec![1., 0., 0., 1., 0., 0.]));
        let e = mx::eye(0, Some(0), 0, Dtype::Float32, d).unwrap();
        assert_eq!((e.shape().to_vec(), e.size(), e.dtype()), (vec![0, 0], 0, Dtype::Float32));
        let e = mx::eye(3, Some(4), 1, Dtype::Float32, d).unwrap();
        assert_eq!(f32s(&e), vec![0., 1., 0., 0., 0., 0., 1., 0., 0., 0., 0., 1.]);
        let e = mx::eye(4, Some(3), -1, Dtype::Float32, d).unwrap();
        assert_eq!(f32s(&e), vec![0., 0., 0., 1., 0., 0., 0., 1., 0., 0., 0., 1.]);
        let i = mx::identity(4, Dtype::Float32, d).unwrap();
        let mut want = vec![0.0f32; 16];
        for k in 0..4 { want[k * 5] = 1.0; }
        assert_eq!((i.shape().to_vec(), f32s(&i)), (vec![4, 4], want));
    }

    fn clipping(d: Device) {
        let a = arr_f(&[1., 4., 3., 8., 5.], &[5]);
        let r = mx::clip(&a, Some(&Array::scalar(2.0f32)), Some(&Array::scalar(6.0f32)), d).unwrap();
        assert_eq!(f32s(&r), vec![2., 4., 3., 6., 5.]);
        let a = arr_f(&[-1., 1., 0., 5.], &[4]);
        assert_eq!(f32s(&mx::clip(&a, Some(&Array::scalar(0.0f32)), None, d).unwrap()), vec![0., 1., 0., 5.]);
        let a = arr_f(&[2., 3., 4., 5.], &[4]);
        assert_eq!(f32s(&mx::clip(&a, None, Some(&Array::scalar(4.0f32)), d).unwrap()), vec![2., 3., 4., 4.]);
    }

    fn linspace_values(d: Device) {
        let x = mx::linspace(0.0, 10.0, 5, Dtype::Float32, d).unwrap();
        assert_eq!(f32s(&x), vec![0.0, 2.5, 5.0, 7.5, 10.0]);
        let x = mx::linspace(0.0, 10.0, 5, Dtype::Int32, d).unwrap();
        assert_eq!(i32s(&x), vec![0, 2, 5, 7, 10]);
        assert_eq!(mx::linspace(0.0, 1.0, 0, Dtype::Float32, d).unwrap().shape(), &[0]);
    }

    fn where_cases(d: Device) {
        let t = Array::scalar(true);
        let f = Array::scalar(false);
        let out = mx::where_(&t, Array::scalar(1.0f32), Array::scalar(0.0f32), d).unwrap();
        assert_eq!((out.dtype(), out.item::<f32>().unwrap()), (Dtype::Float32, 1.0));
        let x = arr_i(&[1, 2], &[2, 1]);
        let y = arr_i(&[3, 4], &[1, 2]);
        assert_eq!(i32s(&mx::where_(&t, &x, &y, d).unwrap()), vec![1, 1, 2, 2]);
        assert_eq!(i32s(&mx::where_(&f, &x, &y, d).unwrap()), vec![3, 4, 3, 4]);
        let c = Array::from_slice(&[true, false], &[2]);
        assert_eq!(i32s(&mx::where_(&c, &x, &y, d).unwrap()), vec![1, 4, 2, 4]);
        let c = Array::from_slice(&[true, false, false, true], &[2, 2]);
        assert_eq!(i32s(&mx::where_(&c, &x, &y, d).unwrap()), vec![1, 4, 3, 2]);
        let r = mx::where_(&c, Array::scalar(1i32), Array::scalar(2i32), d).unwrap();
        assert_eq!(i32s(&r), vec![1, 2, 2, 1]);
        let (x3, y3) = (arr_i(&[1, 2, 3], &[3]), arr_i(&[3, 6, 13], &[3]));
        assert_eq!(i32s(&mx::where_(&t, &x3, &y3, d).unwrap()), vec![1, 2, 3]);
        assert_eq!(i32s(&mx::where_(&f, &x3, &y3, d).unwrap()), vec![3, 6, 13]);
        let c = arr_i(&[1, 1, 0], &[3]);
        let r = mx::where_(&c, &x3, arr_i(&[11, 12, 13], &[3]), d).unwrap();
        assert_eq!(i32s(&r), vec![1, 2, 13]);
        let c = Array::from_slice(&[true, false], &[2, 1, 1]);
        let r = mx::where_(&c, arr_i(&[1, 2, 3, 4], &[2, 1, 2]), arr_i(&[11, 22, 33, 44], &[2, 2, 1]), d).unwrap();
        assert_eq!((r.shape().to_vec(), i32s(&r)), (vec![2, 2, 2], vec![1, 2, 1, 2, 33, 33, 44, 44]));
        let c = Array::from_slice(&[true, false, false], &[3]);
        let inf = f32::INFINITY;
        let r = mx::where_(&c, arr_f(&[inf, 2.0, 3.0], &[3]), arr_f(&[10.0, 20.0, -inf], &[3]), d).unwrap();
        assert_eq!(f32s(&r), vec![inf, 20.0, -inf]);
        let c = Array::from_slice(&[false], &[1]);
        let r = mx::where_(&c, arr_i(&[1, 2], &[2, 1, 1, 1]), arr_i(&[3, 4], &[1, 1, 2, 1]), d).unwrap();
        assert_eq!((r.shape().to_vec(), i32s(&r)), (vec![2, 1, 2, 1], vec![3, 4, 3, 4]));
        let c = Array::from_slice(&[true, false], &[2, 1, 1, 1, 1]);
        let r = mx::where_(&c, arr_i(&[1, 2, 3, 4], &[2, 1, 1, 1, 2]), arr_i(&[11, 22], &[1, 1, 2, 1, 1]), d).unwrap();
        assert_eq!((r.shape().to_vec(), i32s(&r)), (vec![2, 1, 2, 1, 2], vec![1, 2, 1, 2, 11, 11, 22, 22]));
    }

    fn power_cases(d: Device) {
        let p = |a: i32, b: i32| mx::power(Array::scalar(a), Array::scalar(b), d).unwrap().item::<i32>().unwrap();
        assert_eq!((p(1, 2), p(-1, 2), p(-1, 3)), (1, 1, -1));
        let x = Array::scalar(2.0f32);
        let r = mx::power(&x, Array::scalar(0.5f32), d).unwrap().item::<f32>().unwrap();
        assert!((r - 2.0f32.sqrt()).abs() < 1e-6, "{r}");
        assert_eq!(mx::power(&x, Array::scalar(2.0f32), d).unwrap().item::<f32>().unwrap(), 4.0);
        let n = mx::power(Array::scalar(-1.0f32), Array::scalar(0.5f32), d).unwrap().item::<f32>().unwrap();
        assert!(n.is_nan());
        // MLX also defines power on bool (true**false == true ...); wmx rejects bool (KNOWN_DIFFS).
    }

    fn max_min_with_nan(d: Device) {
        let nan = f32::NAN;
        let x = arr_f(&[0., 1., nan, 3., 4., 5., 6., 7.], &[8]);
        let y = arr_f(&[nan, 1., nan, 3., 4., 5., 6., 7.], &[8]);
        for r in [mx::maximum(&x, &y, d).unwrap(), mx::minimum(&x, &y, d).unwrap()] {
            let v = f32s(&r);
            assert!(v[0].is_nan() && v[2].is_nan());
            assert_eq!(&v[3..], &[3., 4., 5., 6., 7.]);
            assert_eq!(v[1], 1.0);
        }
        let all = arr_f(&[nan; 8], &[8]);
        assert!(f32s(&mx::maximum(&all, &all, d).unwrap()).iter().all(|v| v.is_nan()));
        assert!(f32s(&mx::minimum(&all, &all, d).unwrap()).iter().all(|v| v.is_nan()));
    }
    fn reduction_shapes_and_errors(d: Device) {
        // wmx spells "all axes" as an empty axis list (MLX's sum(x) with no axes).
        let x = Array::scalar(1i32);
        assert_eq!(mx::sum(&x, &[], false, d).unwrap().ndim(), 0);
        assert!(mx::sum(&x, &[0], false, d).is_err());
        assert!(mx::sum(&x, &[-1], false, d).is_err());
        let e = Array::from_slice::<f32>(&[], &[0]);
        let out = mx::sum(&e, &[], false, d).unwrap();
        assert_eq!((out.shape().to_vec(), out.item::<f32>().unwrap()), (vec![], 0.0));
        assert_eq!(mx::sum(&e, &[], true, d).unwrap().shape(), &[1]);
        let x = mx::zeros(&[2], Dtype::Float32, d).unwrap();
        assert_eq!(mx::sum(&x, &[-1], false, d).unwrap().ndim(), 0);
        assert_eq!(mx::sum(&x, &[-1], true, d).unwrap().shape(), &[1]);
        for bad in [&[1][..], &[-2], &[0, 0], &[-1, 0]] {
            let err = mx::sum(&x, bad, false, d).unwrap_err();
            assert!(err.to_string().contains("sum"), "{err}");
        }
        let x = mx::zeros(&[2, 3, 4], Dtype::Float32, d).unwrap();
        assert_eq!(mx::sum(&x, &[0, 2], false, d).unwrap().shape(), &[3]);
        assert_eq!(mx::sum(&x, &[0, -1], false, d).unwrap().shape(), &[3]);
        assert_eq!(mx::sum(&x, &[0, -1], true, d).unwrap().shape(), &[1, 3, 1]);
        assert_eq!(mx::sum(&x, &[], true, d).unwrap().shape(), &[1, 1, 1]);
        for bad in [&[3][..], &[-4], &[0, 1, -2]] {
            assert!(mx::sum(&x, bad, false, d).is_err());
        }
    }

    fn sum_values(d: Device) {
        assert_eq!(mx::sum(&arr_i(&[1, 2, 3], &[3]), &[], false, d).unwrap().item::<i32>().unwrap(), 6);
        let x = mx::ones(&[2, 3], Dtype::Float32, d).unwrap();
        assert_eq!(f32s(&mx::sum(&x, &[1], false, d).unwrap()), vec![3.0; 2]);
        assert_eq!(f32s(&mx::sum(&x, &[0], false, d).unwrap()), vec![2.0; 3]);
        assert_eq!(mx::sum(&x, &[0, 1], false, d).unwrap().item::<f32>().unwrap(), 6.0);
        let x = mx::ones(&[2, 3, 4], Dtype::Float32, d).unwrap();
        let cases: [(&[i32], Vec<f32>); 6] = [
            (&[0], vec![2.0; 12]), (&[1], vec![3.0; 8]), (&[2], vec![4.0; 6]),
            (&[0, 1], vec![6.0; 4]), (&[0, 2], vec![8.0; 3]), (&[1, 2], vec![12.0; 2]),
        ];
        for (ax, want) in cases {
            assert_eq!(f32s(&mx::sum(&x, ax, false, d).unwrap()), want, "axes {ax:?}");
        }
        let b = Array::from_slice(&[true, true, true], &[3]);
        let s = mx::sum(&b, &[], false, d).unwrap();
        assert_eq!((s.dtype(), s.item::<i32>().unwrap()), (Dtype::Int32, 3));
    }

    fn comparisons(d: Device) {
        let e = Array::from_slice::<f32>(&[], &[0]);
        let z = mx::equal(&e, &e, d).unwrap();
        assert_eq!((z.dtype(), z.shape().to_vec()), (Dtype::Bool, vec![0]));
        let t = |a: wmx::Result<Array>| a.unwrap().item::<bool>().unwrap();
        let (one, zero) = (Array::scalar(1.0f32), Array::scalar(0.0f32));
        assert!(t(mx::equal(&one, &one, d)) && !t(mx::not_equal(&one, &one, d)));
        assert!(!t(mx::equal(&zero, &one, d)) && t(mx::not_equal(&zero, &one, d)));
        assert!(t(mx::greater(&one, &zero, d)) && t(mx::greater_equal(&one, &zero, d)));
        assert!(!t(mx::greater(&one, &one, d)) && t(mx::greater_equal(&one, &one, d)));
        assert!(t(mx::less(&zero, &one, d)) && t(mx::less_equal(&zero, &one, d)));
        assert!(!t(mx::less(&one, &one, d)) && t(mx::less_equal(&one, &one, d)));
    }
}

// tri, tril, triu, isnan, isinf (ops_tests.cpp).
device_tests! {
    fn tri_tril_triu(d: Device) {
        let t = mx::tri(4, Some(4), 0, Dtype::Float32, d).unwrap();
        assert_eq!(t.shape(), &[4, 4]);
        assert_eq!(f32s(&t), vec![1., 0., 0., 0., 1., 1., 0., 0., 1., 1., 1., 0., 1., 1., 1., 1.]);
        let two = mx::full(&[4, 4], 2.0, Dtype::Float32, d).unwrap();
        let l = mx::tril(&two, 0, d).unwrap();
        assert_eq!(f32s(&l), vec![2., 0., 0., 0., 2., 2., 0., 0., 2., 2., 2., 0., 2., 2., 2., 2.]);
        let u = mx::triu(&two, 0, d).unwrap();
        assert_eq!(f32s(&u), vec![2., 2., 2., 2., 0., 2., 2., 2., 0., 0., 2., 2., 0., 0., 0., 2.]);
    }

    fn is_nan_is_inf(d: Device) {
        let b = |a: &Array| a.to_vec::<bool>().unwrap();
        let inf = f32::INFINITY;
        assert_eq!(b(&mx::isnan(&Array::scalar(1.0f32), d).unwrap()), vec![false]);
        assert_eq!(b(&mx::isnan(&Array::scalar(f32::NAN), d).unwrap()), vec![true]);
        let id = mx::identity(7, Dtype::Float32, d).unwrap();
        assert!(!mx::all(&mx::isnan(&id, d).unwrap(), &[], false, d).unwrap().item::<bool>().unwrap());
        assert!(!mx::any(&mx::isinf(&id, d).unwrap(), &[], false, d).unwrap().item::<bool>().unwrap());
        let w = arr_f(&[1.0, f32::NAN, 2.0], &[3]);
        assert_eq!(b(&mx::isnan(&w, d).unwrap()), vec![false, true, false]);
        let w = arr_f(&[1.0, inf, 2.0], &[3]);
        assert_eq!(b(&mx::isinf(&w, d).unwrap()), vec![false, true, false]);
        assert_eq!(b(&mx::isinf(&Array::scalar(-inf), d).unwrap()), vec![true]);
        for dt in [Dtype::Float16, Dtype::Bfloat16] {
            let one = mx::astype(&Array::scalar(1.0f32), dt, d).unwrap();
            let nan = mx::astype(&Array::scalar(f32::NAN), dt, d).unwrap();
            let pinf = mx::astype(&Array::scalar(inf), dt, d).unwrap();
            assert_eq!(b(&mx::isnan(&one, d).unwrap()), vec![false]);
            assert_eq!(b(&mx::isnan(&nan, d).unwrap()), vec![true]);
            assert_eq!(b(&mx::isinf(&one, d).unwrap()), vec![false]);
            assert_eq!(b(&mx::isinf(&pinf, d).unwrap()), vec![true]);
        }
    }
}

// linspace(start, stop, num, endpoint=false) — not ported: wmx's linspace (like MLX Python's) has no endpoint flag:
//   linspace(0, 10, 5, endpoint=false)          == [0, 2, 4, 6, 8] (float32)
//   linspace(0, 10, 5, endpoint=false, int32)   == [0, 2, 4, 6, 8]
//   linspace(1, 10, 1, endpoint=false)          == [1]
//   linspace(0, 1, 0, endpoint=false)           == [] (shape [0])
