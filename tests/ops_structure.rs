//! Structure and linear-algebra composites on CPU and GPU, against MLX 0.32 literals: swapaxes,
//! moveaxis, atleast_*d, tile, repeat, pad, roll, flip, unstack, meshgrid, diag, diagonal, trace,
//! tri/tril/triu, as_strided, addmm, inner, outer, tensordot, einsum and linalg::norm — with
//! transposed and sliced inputs, negative axes, size-0 inputs, several dtypes and bad inputs.

mod common;
use common::{assert_close, make, round_to, values};
use wmx::linalg::{NormOrd, norm};
use wmx::{self as mx, Array, Device, Dtype, PadMode, TensorAxes};

const DTYPES: [Dtype; 6] = [
    Dtype::Float32,
    Dtype::Float16,
    Dtype::Bfloat16,
    Dtype::Int32,
    Dtype::Uint8,
    Dtype::Bool,
];

fn iota(n: usize) -> Vec<f64> {
    (0..n).map(|i| i as f64).collect()
}

/// `a` has `shape` and holds `want` (rounded to its dtype; floats within the matmul tolerance).
#[track_caller]
fn expect(a: &Array, shape: &[i32], want: &[f64]) {
    assert_eq!(a.shape(), shape);
    let dt = a.dtype();
    let w: Vec<f64> = want.iter().map(|&v| round_to(v, dt)).collect();
    if dt.is_float() {
        assert_close("matmul", dt, &values(a), &w);
    } else {
        assert_eq!(values(a), w, "{dt}");
    }
}

/// The error's message names `op`.
#[track_caller]
fn expect_err<T: std::fmt::Debug>(r: wmx::Result<T>, op: &str) {
    let e = r.expect_err("expected an error");
    assert!(e.to_string().starts_with(&format!("[{op}]")), "{e}");
}

/// `[[0, 3], [1, 4], [2, 5]]`: a transposed (non-contiguous) 3x2 view.
fn transposed(dt: Dtype, dev: Device) -> Array {
    mx::transpose(&make(&iota(6), &[2, 3], dt), &[], dev).unwrap()
}

/// `[[1, -2, 3], [-4, 5, -6]]` in f32.
fn m23() -> Array {
    Array::from_slice(&[1.0f32, -2.0, 3.0, -4.0, 5.0, -6.0], &[2, 3])
}

/// `(arange(24).reshape(2, 3, 4) - 10) / 4` in f32.
fn b234() -> Array {
    let v: Vec<f32> = (0..24).map(|i| (i as f32 - 10.0) / 4.0).collect();
    Array::from_slice(&v, &[2, 3, 4])
}

device_tests! {
    fn axes_and_atleast(dev: Device) {
        for dt in DTYPES {
            let a = make(&iota(24), &[2, 3, 4], dt);
            let s = mx::swapaxes(&a, 0, -1, dev).unwrap();
            assert_eq!(s.shape(), &[4, 3, 2]);
            let m = mx::moveaxis(&a, -1, 0, dev).unwrap();
            assert_eq!(m.shape(), &[4, 2, 3]);
            let want: Vec<f64> = (0..4).flat_map(|k| (0..6).map(move |r| (r * 4 + k) as f64)).collect();
            expect(&m, &[4, 2, 3], &want);
            expect(&mx::permute_dims(&a, &[1, 2, 0], dev).unwrap(), &[3, 4, 2],
                &(0..12).flat_map(|jk| (0..2).map(move |i| (i * 12 + jk) as f64)).collect::<Vec<_>>());
            let v = make(&[1.0, 2.0], &[2], dt);
            assert_eq!(mx::atleast_1d(&make(&[3.0], &[], dt), dev).unwrap().shape(), &[1]);
            assert_eq!(mx::atleast_2d(&v, dev).unwrap().shape(), &[1, 2]);
            assert_eq!(mx::atleast_3d(&v, dev).unwrap().shape(), &[1, 2, 1]);
            assert_eq!(mx::atleast_3d(&make(&iota(6), &[2, 3], dt), dev).unwrap().shape(), &[2, 3, 1]);
            assert_eq!(mx::atleast_2d(&a, dev).unwrap().shape(), &[2, 3, 4]);
        }
        let a = make(&iota(6), &[2, 3], Dtype::Int32);
        expect_err(mx::swapaxes(&a, 0, 2, dev), "swapaxes");
        expect_err(mx::moveaxis(&a, 0, 5, dev), "moveaxis");
        expect_err(mx::permute_dims(&a, &[0, 0], dev), "transpose");
    }

    fn tile_and_repeat(dev: Device) {
        for dt in DTYPES {
            let t = transposed(dt, dev);
            expect(&mx::tile(&t, &[2, 1, 2], dev).unwrap(), &[2, 3, 4],
                &[0., 3., 0., 3., 1., 4., 1., 4., 2., 5., 2., 5., 0., 3., 0., 3., 1., 4., 1., 4., 2., 5., 2., 5.]);
            expect(&mx::tile(&t, &[2], dev).unwrap(), &[3, 4], &[0., 3., 0., 3., 1., 4., 1., 4., 2., 5., 2., 5.]);
            expect(&mx::tile(&t, &[0], dev).unwrap(), &[3, 0], &[]);
            expect(&mx::repeat(&t, 3, Some(-1), dev).unwrap(), &[3, 6],
                &[0., 0., 0., 3., 3., 3., 1., 1., 1., 4., 4., 4., 2., 2., 2., 5., 5., 5.]);
            expect(&mx::repeat(&t, 2, None, dev).unwrap(), &[12], &[0., 0., 3., 3., 1., 1., 4., 4., 2., 2., 5., 5.]);
            expect(&mx::repeat(&t, 0, Some(0), dev).unwrap(), &[0, 2], &[]);
        }
        let a = make(&iota(6), &[2, 3], Dtype::Int32);
        expect_err(mx::tile(&a, &[-1], dev), "tile");
        expect_err(mx::repeat(&a, -1, Some(1), dev), "repeat");
        expect_err(mx::repeat(&a, 2, Some(3), dev), "repeat");
    }

    fn pad_constant_and_edge(dev: Device) {
        for dt in DTYPES {
            let t = transposed(dt, dev);
            expect(&mx::pad(&t, &[(0, 1), (2, 1)], PadMode::Constant, 7.0, dev).unwrap(), &[4, 5],
                &[7., 7., 0., 3., 7., 7., 7., 1., 4., 7., 7., 7., 2., 5., 7., 7., 7., 7., 7., 7.]);
            expect(&mx::pad(&t, &[(1, 1)], PadMode::Edge, 0.0, dev).unwrap(), &[5, 4],
                &[0., 0., 3., 3., 0., 0., 3., 3., 1., 1., 4., 4., 2., 2., 5., 5., 2., 2., 5., 5.]);
            // A strided slice, padding only some axes.
            let a = make(&iota(24), &[2, 3, 4], dt);
            let s = mx::slice(&a, &[0, 1, 0], &[2, 3, 4], &[1, 1, 2], dev).unwrap();
            expect(&mx::pad(&s, &[(0, 0), (1, 0), (0, 2)], PadMode::Edge, 0.0, dev).unwrap(), &[2, 3, 4],
                &[4., 6., 6., 6., 4., 6., 6., 6., 8., 10., 10., 10., 16., 18., 18., 18., 16., 18., 18., 18., 20., 22., 22., 22.]);
            // Size-0 input: edge padding has nothing to repeat and fills zeros, as MLX.
            let e = make(&[], &[0, 2], dt);
            expect(&mx::pad(&e, &[(1, 1)], PadMode::Edge, 0.0, dev).unwrap(), &[2, 4], &[0.0; 8]);
        }
        // The constant converts to the dtype (2.5 -> 2 for int32).
        let a = make(&iota(2), &[2], Dtype::Int32);
        expect(&mx::pad(&a, &[(1, 0)], PadMode::Constant, 2.5, dev).unwrap(), &[3], &[2., 0., 1.]);
        expect_err(mx::pad(&a, &[(1, 0), (0, 2)], PadMode::Constant, 0.0, dev), "pad");
        expect_err(mx::pad(&a, &[(-1, 0)], PadMode::Edge, 0.0, dev), "pad");
    }

    fn pad_reflect_and_symmetric(dev: Device) {
        // Expected values from MLX (mx.pad(..., mode="reflect" / "symmetric")).
        for dt in DTYPES {
            let a = make(&iota(6), &[2, 3], dt);
            expect(&mx::pad(&a, &[(1, 1), (2, 2)], PadMode::Reflect, 0.0, dev).unwrap(), &[4, 7],
                &[5., 4., 3., 4., 5., 4., 3., 2., 1., 0., 1., 2., 1., 0., 5., 4., 3., 4., 5., 4., 3., 2., 1., 0., 1., 2., 1., 0.]);
            expect(&mx::pad(&a, &[(1, 0), (4, 1)], PadMode::Symmetric, 0.0, dev).unwrap(), &[3, 8],
                &[2., 2., 1., 0., 0., 1., 2., 2., 2., 2., 1., 0., 0., 1., 2., 2., 5., 5., 4., 3., 3., 4., 5., 5.]);
        }
        let e = make(&[], &[0], Dtype::Float32);
        expect_err(mx::pad(&e, &[(1, 1)], PadMode::Reflect, 0.0, dev), "pad");
    }

    fn roll_flip_unstack(dev: Device) {
        for dt in DTYPES {
            let t = transposed(dt, dev);
            expect(&mx::roll(&t, &[1, -1], Some(&[-1, 0]), dev).unwrap(), &[3, 2], &[4., 1., 5., 2., 3., 0.]);
            expect(&mx::roll(&t, &[-2], None, dev).unwrap(), &[3, 2], &[1., 4., 2., 5., 0., 3.]);
            let a = make(&iota(24), &[2, 3, 4], dt);
            expect(&mx::roll(&a, &[5], Some(&[1, 2]), dev).unwrap(), &[2, 3, 4],
                &[7., 4., 5., 6., 11., 8., 9., 10., 3., 0., 1., 2., 19., 16., 17., 18., 23., 20., 21., 22., 15., 12., 13., 14.]);
            expect(&mx::flip(&a, Some(&[0, -1]), dev).unwrap(), &[2, 3, 4],
                &[15., 14., 13., 12., 19., 18., 17., 16., 23., 22., 21., 20., 3., 2., 1., 0., 7., 6., 5., 4., 11., 10., 9., 8.]);
            expect(&mx::flip(&t, None, dev).unwrap(), &[3, 2], &[5., 2., 4., 1., 3., 0.]);
            let parts = mx::unstack(&t, -1, dev).unwrap();
            assert_eq!(parts.len(), 2);
            expect(&parts[1], &[3], &[3., 4., 5.]);
            let e = make(&[], &[0, 3], dt);
            expect(&mx::roll(&e, &[2], Some(&[0]), dev).unwrap(), &[0, 3], &[]);
            expect(&mx::flip(&e, None, dev).unwrap(), &[0, 3], &[]);
            assert!(mx::unstack(&e, 0, dev).unwrap().is_empty());
        }
        let a = make(&iota(6), &[2, 3], Dtype::Int32);
        expect_err(mx::roll(&a, &[1], Some(&[2]), dev), "roll");
        expect_err(mx::roll(&a, &[1, 2, 3], Some(&[0, 1]), dev), "roll");
        expect_err(mx::flip(&a, Some(&[3]), dev), "flip");
        expect_err(mx::unstack(&make(&[1.0], &[], Dtype::Int32), 0, dev), "unstack");
    }

    fn meshgrid_grids(dev: Device) {
        let x = Array::from_slice(&[1i32, 2, 3], &[3]);
        let y = Array::from_slice(&[4.0f32, 5.0], &[2]);
        let g = mx::meshgrid(&[&x, &y], false, "xy", dev).unwrap();
        assert_eq!((g[0].dtype(), g[1].dtype()), (Dtype::Int32, Dtype::Float32));
        expect(&g[0], &[2, 3], &[1., 2., 3., 1., 2., 3.]);
        expect(&g[1], &[2, 3], &[4., 4., 4., 5., 5., 5.]);
        let g = mx::meshgrid(&[&x, &y], false, "ij", dev).unwrap();
        expect(&g[0], &[3, 2], &[1., 1., 2., 2., 3., 3.]);
        expect(&g[1], &[3, 2], &[4., 5., 4., 5., 4., 5.]);
        let g = mx::meshgrid(&[&x, &y], true, "xy", dev).unwrap();
        assert_eq!((g[0].shape(), g[1].shape()), (&[1, 3][..], &[2, 1][..]));
        let g = mx::meshgrid(&[&x, &y, &x], false, "xy", dev).unwrap();
        expect(&g[2], &[2, 3, 3], &(0..18).map(|i| (i % 3 + 1) as f64).collect::<Vec<_>>());
        // A 2-D input is flattened first.
        let m = mx::meshgrid(&[&transposed(Dtype::Int32, dev), &x], false, "xy", dev).unwrap();
        expect(&mx::slice(&m[0], &[0, 0], &[1, 6], &[], dev).unwrap(), &[1, 6], &[0., 3., 1., 4., 2., 5.]);
        expect_err(mx::meshgrid(&[&x], false, "yx", dev), "meshgrid");
    }

    fn diagonals_and_triangles(dev: Device) {
        for dt in DTYPES {
            let t = transposed(dt, dev);
            let a = make(&iota(24), &[2, 3, 4], dt);
            expect(&mx::diag(&t, -1, dev).unwrap(), &[2], &[1., 5.]);
            expect(&mx::diag(&make(&[1.0, 2.0], &[2], dt), -2, dev).unwrap(), &[4, 4],
                &[0., 0., 0., 0., 0., 0., 0., 0., 1., 0., 0., 0., 0., 2., 0., 0.]);
            expect(&mx::diagonal(&a, -1, -1, 1, dev).unwrap(), &[2, 3], &[1., 6., 11., 13., 18., 23.]);
            expect(&mx::diagonal(&a, 1, 2, 0, dev).unwrap(), &[3, 1], &[12., 16., 20.]);
            expect(&mx::diagonal(&a, 10, 1, 2, dev).unwrap(), &[2, 0], &[]);
            expect(&mx::tril(&a, 1, dev).unwrap(), &[2, 3, 4],
                &[0., 1., 0., 0., 4., 5., 6., 0., 8., 9., 10., 11., 12., 13., 0., 0., 16., 17., 18., 0., 20., 21., 22., 23.]);
            expect(&mx::triu(&t, -1, dev).unwrap(), &[3, 2], &[0., 3., 1., 4., 0., 5.]);
            expect(&mx::tri(2, Some(3), -1, dt, dev).unwrap(), &[2, 3], &[0., 0., 0., 1., 0., 0.]);
        }
        let a = make(&iota(24), &[2, 3, 4], Dtype::Int32);
        let tr = mx::trace(&a, 1, 1, 2, None, dev).unwrap();
        assert_eq!(tr.dtype(), Dtype::Int32);
        expect(&tr, &[2], &[18., 54.]);
        // MLX's trace dtypes: bool sums to int32, uint8 to uint32; `dtype` casts before summing.
        let t = transposed(Dtype::Bool, dev);
        assert_eq!(mx::trace(&t, 0, 0, 1, None, dev).unwrap().dtype(), Dtype::Int32);
        assert_eq!(mx::trace(&transposed(Dtype::Uint8, dev), 0, 0, 1, None, dev).unwrap().dtype(), Dtype::Uint32);
        let h = Array::from_slice(&[1.5f32, 0.0, 0.0, 1.5], &[2, 2]);
        expect(&mx::trace(&h, 0, 0, 1, Some(Dtype::Int32), dev).unwrap(), &[], &[2.0]);
        expect(&mx::trace(&h, 5, 0, 1, None, dev).unwrap(), &[], &[0.0]);
        expect(&mx::tri(-1, None, 0, Dtype::Float32, dev).unwrap(), &[0, 0], &[]);
        let v = make(&[1.0, 2.0], &[2], Dtype::Int32);
        expect_err(mx::diag(&a, 0, dev), "diag");
        expect_err(mx::diagonal(&v, 0, 0, 1, dev), "diagonal");
        expect_err(mx::diagonal(&a, 0, 0, -3, dev), "diagonal");
        expect_err(mx::diagonal(&a, 0, 0, 3, dev), "diagonal");
        expect_err(mx::trace(&v, 0, 0, 1, None, dev), "trace");
        expect_err(mx::tril(&v, 0, dev), "tril");
        expect_err(mx::triu(&v, 0, dev), "triu");
    }

    fn as_strided_views(dev: Device) {
        for dt in DTYPES {
            let t = transposed(dt, dev);
            // MLX reads the row-major copy of the transposed view.
            expect(&mx::as_strided(&t, &[3, 2], &[1, 3], 0, dev).unwrap(), &[3, 2], &[0., 4., 3., 2., 1., 5.]);
            expect(&mx::as_strided(&t, &[4], &[-1], 3, dev).unwrap(), &[4], &[4., 1., 3., 0.]);
            let a = make(&iota(24), &[2, 3, 4], dt);
            let s = mx::slice(&a, &[0, 0, 1], &[2, 3, 4], &[1, 2, 1], dev).unwrap();
            expect(&mx::as_strided(&s, &[3, 2], &[-2, 3], 4, dev).unwrap(), &[3, 2], &[10., 14., 3., 11., 1., 9.]);
            expect(&mx::as_strided(&s, &[0, 5], &[100, 100], 50, dev).unwrap(), &[0, 5], &[]);
            // Overlapping windows, then more work on the view.
            let w = mx::as_strided(&make(&iota(6), &[6], dt), &[4, 3], &[1, 1], 0, dev).unwrap();
            expect(&mx::reshape(&w, &[12], dev).unwrap(), &[12], &[0., 1., 2., 1., 2., 3., 2., 3., 4., 3., 4., 5.]);
        }
        let a = make(&iota(6), &[2, 3], Dtype::Int32);
        expect_err(mx::as_strided(&a, &[4], &[5], 0, dev), "as_strided");
        expect_err(mx::as_strided(&a, &[4], &[-1], 2, dev), "as_strided");
        expect_err(mx::as_strided(&a, &[1], &[1], 6, dev), "as_strided");
        expect_err(mx::as_strided(&a, &[2, 2], &[1], 0, dev), "as_strided");
        expect_err(mx::as_strided(&a, &[-1], &[1], 0, dev), "as_strided");
        expect_err(mx::as_strided(&a, &[2], &[i64::MAX], 0, dev), "as_strided");
    }

    fn products(dev: Device) {
        let m = m23();
        let mt = mx::transpose(&m, &[], dev).unwrap();
        let c = Array::from_slice(&[1.0f32, 2.0, 3.0], &[3]);
        expect(&mx::addmm(&c, &mt, &m, 0.5, -1.0, dev).unwrap(), &[3, 3],
            &[7.5, -13.0, 10.5, -12.0, 12.5, -21.0, 12.5, -20.0, 19.5]);
        let h = |x: &Array| mx::astype(x, Dtype::Float16, dev).unwrap();
        let r = mx::addmm(&h(&mx::ones(&[3, 1], Dtype::Float32, dev).unwrap()), &h(&mt), &h(&m), 1.0, 2.0, dev).unwrap();
        assert_eq!(r.dtype(), Dtype::Float16);
        expect(&r, &[3, 3], &[19.0, -20.0, 29.0, -20.0, 31.0, -34.0, 29.0, -34.0, 47.0]);
        // beta = 0 ignores c entirely, NaN included (as MLX).
        let nan = mx::full(&[3, 3], f64::NAN, Dtype::Float32, dev).unwrap();
        expect(&mx::addmm(&nan, &mt, &m, 1.0, 0.0, dev).unwrap(), &[3, 3],
            &[17.0, -22.0, 27.0, -22.0, 29.0, -36.0, 27.0, -36.0, 45.0]);
        let b = b234();
        let b3 = mx::slice(&b, &[0, 0, 0], &[2, 3, 3], &[], dev).unwrap();
        expect(&mx::inner(&b3, &m, dev).unwrap(), &[2, 3, 2],
            &[-4.0, 10.75, -2.0, 5.75, 0.0, 0.75, 2.0, -4.25, 4.0, -9.25, 6.0, -14.25]);
        expect(&mx::inner(&Array::scalar(2i32), &make(&iota(3), &[3], Dtype::Int32), dev).unwrap(), &[3], &[0., 2., 4.]);
        let o = mx::outer(&mt, &Array::from_slice(&[1.0f32, -1.0], &[2]), dev).unwrap();
        expect(&o, &[6, 2], &[1.0, -1.0, -4.0, 4.0, -2.0, 2.0, 5.0, -5.0, 3.0, -3.0, -6.0, 6.0]);
        let oi = mx::outer(&make(&[1.0, 2.0], &[2], Dtype::Int32), &make(&[3.0, 4.0, 5.0], &[3], Dtype::Int32), dev).unwrap();
        assert_eq!(oi.dtype(), Dtype::Int32);
        expect(&oi, &[2, 3], &[3., 4., 5., 6., 8., 10.]);
        expect(&mx::tensordot(&b, &mt, TensorAxes::Lists(vec![1], vec![0]), dev).unwrap(), &[2, 4, 2],
            &[-1.0, 5.5, -0.5, 4.25, 0.0, 3.0, 0.5, 1.75, 5.0, -9.5, 5.5, -10.75, 6.0, -12.0, 6.5, -13.25]);
        expect(&mx::tensordot(&b, &b, TensorAxes::Lists(vec![-2, -1], vec![1, 2]), dev).unwrap(), &[2, 2],
            &[24.125, -16.375, -16.375, 51.125]);
        expect(&mx::tensordot(&m, &mt, 1, dev).unwrap(), &[2, 2], &[14.0, -32.0, -32.0, 77.0]);
        expect(&mx::tensordot(&m, &m, 2, dev).unwrap(), &[], &[91.0]);
        assert_eq!(mx::tensordot(&m, &mt, 0, dev).unwrap().shape(), &[2, 3, 3, 2]);
        let z = mx::zeros(&[2, 0], Dtype::Float32, dev).unwrap();
        expect(&mx::tensordot(&z, &mx::zeros(&[0, 3], Dtype::Float32, dev).unwrap(), 1, dev).unwrap(), &[2, 3], &[0.0; 6]);
        let i = make(&iota(6), &[2, 3], Dtype::Int32);
        expect_err(mx::addmm(&i, &i, &mx::transpose(&i, &[], dev).unwrap(), 1.0, 1.0, dev), "addmm");
        expect_err(mx::addmm(&mx::ones(&[2, 2], Dtype::Float32, dev).unwrap(), &mt, &m, 1.0, 1.0, dev), "addmm");
        expect_err(mx::inner(&m, &mx::ones(&[2], Dtype::Float32, dev).unwrap(), dev), "inner");
        expect_err(mx::tensordot(&m, &m, 1, dev), "tensordot");
        expect_err(mx::tensordot(&m, &m, 3, dev), "tensordot");
        expect_err(mx::tensordot(&b, &m, TensorAxes::Lists(vec![0, 1], vec![1]), dev), "tensordot");
        expect_err(mx::tensordot(&b, &m, TensorAxes::Lists(vec![0, 0], vec![0, 0]), dev), "tensordot");
    }

    fn einsum_contractions(dev: Device) {
        let m = m23();
        let mt = mx::transpose(&m, &[], dev).unwrap();
        let b = b234();
        let bt = mx::transpose(&b, &[0, 2, 1], dev).unwrap();
        let ein = |s: &str, ops: &[&Array]| mx::einsum(s, ops, dev).unwrap();
        expect(&ein("ij,jk->ik", &[&m, &mt]), &[2, 2], &[14.0, -32.0, -32.0, 77.0]);
        expect(&ein("bij,bjk->bik", &[&b, &bt]), &[2, 3, 3],
            &[18.375, 9.875, 1.375, 9.875, 5.375, 0.875, 1.375, 0.875, 0.375, 3.375, 6.875, 10.375, 6.875, 14.375, 21.875, 10.375, 21.875, 33.375]);
        let ones42 = mx::ones(&[4, 2], Dtype::Float32, dev).unwrap();
        expect(&ein("...ij,...jk->...ik", &[&b, &ones42]), &[2, 3, 2],
            &[-8.5, -8.5, -4.5, -4.5, -0.5, -0.5, 3.5, 3.5, 7.5, 7.5, 11.5, 11.5]);
        let sq = mx::slice(&b, &[0, 0, 0], &[1, 3, 3], &[], dev).unwrap();
        expect(&ein("bii->bi", &[&sq]), &[1, 3], &[-2.5, -1.25, 0.0]);
        let sq1 = mx::slice(&b, &[1, 0, 1], &[2, 3, 4], &[], dev).unwrap();
        expect(&ein("bii", &[&sq1]), &[1], &[6.0]);
        expect(&ein("ij->ji", &[&m]), &[3, 2], &[1.0, -4.0, -2.0, 5.0, 3.0, -6.0]);
        expect(&ein("ji", &[&m]), &[3, 2], &[1.0, -4.0, -2.0, 5.0, 3.0, -6.0]);
        let rows = mx::unstack(&m, 0, dev).unwrap();
        expect(&ein("i,i->", &[&rows[0], &rows[1]]), &[], &[-32.0]);
        expect(&ein("i,j->ij", &[&rows[0], &Array::from_slice(&[2.0f32, 3.0], &[2])]), &[3, 2], &[2.0, 3.0, -4.0, -6.0, 6.0, 9.0]);
        expect(&ein("bij->j", &[&b]), &[4], &[0.0, 1.5, 3.0, 4.5]);
        expect(&ein("ij,jk,kl->il", &[&m, &mt, &m]), &[2, 3], &[142.0, -188.0, 234.0, -340.0, 449.0, -558.0]);
        expect(&ein("jk,ij", &[&m, &mt]), &[3, 3], &[17.0, -22.0, 27.0, -22.0, 29.0, -36.0, 27.0, -36.0, 45.0]);
        // Three operands with a batch label shared by the first and last, views as inputs.
        let b0t = mx::transpose(&mx::unstack(&b, 0, dev).unwrap()[0], &[], dev).unwrap();
        let b1 = mx::slice(&b, &[1, 0, 0], &[2, 3, 3], &[], dev).unwrap();
        let b1 = mx::reshape(&b1, &[3, 3], dev).unwrap();
        expect(&ein("abc,cd,bd->ad", &[&b, &b0t, &b1]), &[2, 3],
            &[27.4375, 19.21875, 4.25, -87.3125, -51.65625, -4.75]);
        let b1t = mx::transpose(&mx::unstack(&b, 0, dev).unwrap()[1], &[], dev).unwrap();
        expect(&ein("iaj,ja->ai", &[&b, &b1t]), &[3, 2], &[-7.125, 3.375, -8.125, 14.375, -1.125, 33.375]);
        // Size-1 dims broadcast: j is 3 in m and 1 in the ones.
        expect(&ein("ij,jk->ik", &[&m, &mx::ones(&[1, 2], Dtype::Float32, dev).unwrap()]), &[2, 2], &[2.0, 2.0, -5.0, -5.0]);
        expect(&ein("b...,b->...", &[&b, &Array::from_slice(&[1.0f32, -1.0], &[2])]), &[3, 4], &[-3.0; 12]);
        let i = make(&iota(6), &[2, 3], Dtype::Int32);
        let r = ein("ij,ij->ij", &[&i, &i]);
        assert_eq!(r.dtype(), Dtype::Int32);
        expect(&r, &[2, 3], &[0., 1., 4., 9., 16., 25.]);
        expect(&ein("ij->", &[&i]), &[], &[15.0]);
        expect(&ein("i->", &[&mx::zeros(&[0], Dtype::Float32, dev).unwrap()]), &[], &[0.0]);
        let h = mx::astype(&m, Dtype::Bfloat16, dev).unwrap();
        let rh = ein("ij,kj->ik", &[&h, &h]);
        assert_eq!(rh.dtype(), Dtype::Bfloat16);
        expect(&rh, &[2, 2], &[14.0, -32.0, -32.0, 77.0]);
        let bad = |s: &str, ops: &[&Array]| {
            let e = mx::einsum(s, ops, dev).unwrap_err().to_string();
            assert!(e.starts_with("[einsum]") && e.contains(s), "{s}: {e}");
        };
        bad("ij,jk->ik", &[&m, &m]);
        bad("ij,jk->ik", &[&m]);
        bad("ij->k", &[&m]);
        bad("ij->ii", &[&m]);
        bad("ijk->i", &[&m]);
        bad("i1->i", &[&m]);
        bad("ii->i", &[&m]);
    }

    fn norms(dev: Device) {
        let v = Array::from_slice(&[3.0f32, -4.0, 0.0, 1.0], &[4]);
        let inf = f64::INFINITY;
        let nv = |o: Option<f64>| norm(&v, o.map(NormOrd::P), None, false, dev).unwrap();
        for (o, want) in [(None, 5.099019527435303), (Some(2.0), 5.099019527435303), (Some(1.0), 8.0), (Some(inf), 4.0),
            (Some(-inf), 0.0), (Some(0.0), 3.0), (Some(3.0), 4.514357566833496), (Some(0.5), 22.392305374145508), (Some(-1.0), 0.0)] {
            let r = nv(o);
            assert_eq!(r.dtype(), Dtype::Float32);
            assert_close(&format!("power {o:?}"), Dtype::Float32, &values(&r), &[want]);
        }
        let i = make(&[-2.0, -1.0, 0.0, 1.0, 2.0], &[5], Dtype::Int32);
        let ni = norm(&i, Some(NormOrd::P(0.0)), None, false, dev).unwrap();
        assert_eq!(ni.dtype(), Dtype::Float32);
        expect(&ni, &[], &[4.0]);
        expect(&norm(&i, Some(NormOrd::P(0.5)), None, false, dev).unwrap(), &[], &[23.313711166381836]);
        let m = m23();
        let nm = |o: Option<NormOrd>| norm(&m, o, None, false, dev).unwrap();
        expect(&nm(None), &[], &[9.539392471313477]);
        expect(&nm(Some(NormOrd::Fro)), &[], &[9.539392471313477]);
        expect(&nm(Some(NormOrd::P(inf))), &[], &[15.0]);
        expect(&nm(Some(NormOrd::P(-inf))), &[], &[6.0]);
        expect(&nm(Some(NormOrd::P(1.0))), &[], &[9.0]);
        expect(&nm(Some(NormOrd::P(-1.0))), &[], &[5.0]);
        expect(&norm(&m, None, None, true, dev).unwrap(), &[1, 1], &[9.539392471313477]);
        expect(&norm(&m, None, Some(&[-1]), true, dev).unwrap(), &[2, 1], &[3.7416574954986572, 8.774964332580566]);
        expect(&norm(&m, Some(NormOrd::P(2.0)), Some(&[0]), false, dev).unwrap(), &[3], &[4.123105525970459, 5.385164737701416, 6.7082037925720215]);
        expect(&norm(&m, Some(NormOrd::P(1.0)), Some(&[1, 0]), false, dev).unwrap(), &[], &[15.0]);
        expect(&norm(&m, Some(NormOrd::P(inf)), Some(&[1, 0]), true, dev).unwrap(), &[1, 1], &[9.0]);
        let b = b234();
        expect(&norm(&b, Some(NormOrd::P(1.0)), Some(&[2, 1]), false, dev).unwrap(), &[2], &[8.5, 11.5]);
        expect(&norm(&b, Some(NormOrd::P(-inf)), Some(&[-1, 0]), true, dev).unwrap(), &[1, 3, 1], &[3.0, 3.0, 3.0]);
        let bs = mx::slice(&b, &[0, 0, 0], &[2, 3, 4], &[1, 2, 1], dev).unwrap();
        expect(&norm(&bs, Some(NormOrd::P(3.0)), Some(&[-1]), false, dev).unwrap(), &[2, 2],
            &[3.4306061267852783, 0.5386086702346802, 1.5182944536209106, 4.606512546539307]);
        let bb = mx::astype(&b, Dtype::Bfloat16, dev).unwrap();
        let rb = norm(&bb, Some(NormOrd::Fro), Some(&[0, 1]), false, dev).unwrap();
        assert_eq!(rb.dtype(), Dtype::Bfloat16);
        expect(&rb, &[4], &[4.1875, 4.21875, 4.34375, 4.5625]);
        expect(&norm(&mx::zeros(&[0, 3], Dtype::Float32, dev).unwrap(), None, Some(&[0]), false, dev).unwrap(), &[3], &[0.0; 3]);
        expect(&norm(&mx::ones(&[2, 2, 2], Dtype::Float32, dev).unwrap(), None, None, false, dev).unwrap(), &[], &[8f64.sqrt()]);
        let op = "linalg::norm";
        expect_err(norm(&m, Some(NormOrd::P(2.0)), None, false, dev), op);
        expect_err(norm(&m, Some(NormOrd::Nuc), None, false, dev), op);
        expect_err(norm(&m, Some(NormOrd::P(3.0)), None, false, dev), op);
        expect_err(norm(&m, Some(NormOrd::Fro), Some(&[0]), false, dev), op);
        expect_err(norm(&b, Some(NormOrd::P(1.0)), None, false, dev), op);
        expect_err(norm(&m, None, Some(&[0, 0]), false, dev), op);
        expect_err(norm(&m, None, Some(&[2]), false, dev), op);
        expect_err(norm(&v, Some(NormOrd::P(inf)), Some(&[0, 1, 2]), false, dev), op);
    }
}
