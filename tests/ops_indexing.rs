//! Indexing on CPU and GPU: MLX's gather and the scatter family (duplicates, packed dtypes,
//! negative and out-of-range indices), take_along_axis, put_along_axis, slice_update (steps,
//! negative bounds), and the `index` / `index_put` / `at` helpers with NumPy's advanced-indexing
//! rules; bad inputs give errors naming the op. Expected values come from MLX 0.32 (Python).

mod common;
use common::{make, round_to, values};
use wmx::{self as mx, Array, Dtype, Ix, ix};

const DTYPES: [Dtype; 7] = [
    Dtype::Float32,
    Dtype::Float16,
    Dtype::Bfloat16,
    Dtype::Int32,
    Dtype::Uint32,
    Dtype::Uint8,
    Dtype::Bool,
];

fn iota(n: usize) -> Vec<f64> {
    (0..n).map(|i| i as f64).collect()
}

fn idx(v: &[i32], shape: &[i32]) -> Array {
    Array::from_slice(v, shape)
}

#[track_caller]
fn expect(a: &Array, shape: &[i32], want: &[f64]) {
    assert_eq!(a.shape(), shape);
    let dt = a.dtype();
    let w: Vec<f64> = want.iter().map(|&v| round_to(v, dt)).collect();
    assert_eq!(values(a), w, "{dt}");
}

#[track_caller]
fn err_names(r: mx::Result<Array>, op: &str) {
    let e = r.expect_err("expected an error");
    assert!(e.to_string().contains(&format!("[{op}]")), "{e}");
}

device_tests! {
    fn gather_slices_every_dtype(dev: Device) {
        for dt in DTYPES {
            let a = make(&iota(12), &[3, 4], dt);
            let rows = idx(&[2, 0, -1], &[3]);
            let cols = idx(&[1], &[1]);
            // Windows 1x3 at (2, 1), (0, 1), (2, 1); the second index broadcasts.
            let g = mx::gather(&a, &[&rows, &cols], &[0, 1], &[1, 3], dev).unwrap();
            expect(&g, &[3, 1, 3], &[9., 10., 11., 1., 2., 3., 9., 10., 11.]);
            // One index array, a slice along the other axis; negative axis; start clamped.
            let g = mx::gather(&a, &[&idx(&[3, -4, 9], &[3])], &[-1], &[2, 2], dev).unwrap();
            expect(&g, &[3, 2, 2], &[2., 3., 6., 7., 0., 1., 4., 5., 2., 3., 6., 7.]);
        }
    }

    fn gather_strided_input_and_index(dev: Device) {
        let a = mx::transpose(&make(&iota(12), &[3, 4], Dtype::Int32), &[], dev).unwrap(); // (4,3)
        let i = mx::transpose(&idx(&[0, 1, 3, 2], &[2, 2]), &[], dev).unwrap(); // [[0,3],[1,2]]
        let g = mx::gather(&a, &[&i], &[0], &[1, 3], dev).unwrap();
        expect(&g, &[2, 2, 1, 3], &[0., 4., 8., 3., 7., 11., 1., 5., 9., 2., 6., 10.]);
        // No index arrays: one slice from the origin.
        let g = mx::gather(&a, &[], &[], &[2, 2], dev).unwrap();
        expect(&g, &[2, 2], &[0., 4., 1., 5.]);
        // Empty indices.
        let g = mx::gather(&a, &[&idx(&[], &[0])], &[1], &[4, 1], dev).unwrap();
        expect(&g, &[0, 4, 1], &[]);
    }

    fn take_along_and_put_along(dev: Device) {
        for dt in [Dtype::Float32, Dtype::Int32, Dtype::Bfloat16, Dtype::Uint8] {
            let x = make(&iota(12), &[3, 4], dt);
            let t = mx::take_along_axis(&x, &idx(&[0, -1, 2, 1], &[1, 4]), Some(0), dev).unwrap();
            expect(&t, &[1, 4], &[0., 9., 10., 7.]);
            let t = mx::take_along_axis(&x, &idx(&[3, 0, -4], &[3, 1]), Some(1), dev).unwrap();
            expect(&t, &[3, 1], &[3., 4., 8.]);
            let t = mx::take_along_axis(&x, &idx(&[5, 0, -1], &[3]), None, dev).unwrap();
            expect(&t, &[3], &[5., 0., 11.]);
            let v = make(&[100., 200., 30.], &[3, 1], dt);
            let p = mx::put_along_axis(&x, &idx(&[0, -1, 2], &[3, 1]), &v, Some(1), dev).unwrap();
            expect(&p, &[3, 4], &[100., 1., 2., 3., 4., 5., 6., 200., 8., 9., 30., 11.]);
            let p = mx::put_along_axis(&x, &idx(&[5, -1], &[2]), &make(&[7.], &[1], dt), None, dev).unwrap();
            expect(&p, &[3, 4], &[0., 1., 2., 3., 4., 7., 6., 7., 8., 9., 10., 7.]);
        }
    }

    fn scatter_modes_and_duplicates(dev: Device) {
        // MLX: zeros(4,4); scatter rows [2, 0] with [[1,2]], [[3,4]].
        let a = mx::zeros(&[4, 4], Dtype::Float32, dev).unwrap();
        let u = make(&[1., 2., 3., 4.], &[2, 1, 2], Dtype::Float32);
        let s = mx::scatter(&a, &[&idx(&[2, 0], &[2]), &idx(&[1, 2], &[2])], &u, &[0, 1], dev).unwrap();
        let mut want = vec![0.; 16];
        (want[2], want[3], want[9], want[10]) = (3., 4., 1., 2.);
        expect(&s, &[4, 4], &want);
        // Duplicates accumulate (MLX .at[].add / multiply / maximum / minimum).
        let i = idx(&[1, 1, 3, 1, -1], &[5]);
        let v = [0.5, 1.5, 2.0, 0.25, 1.0];
        for dt in [Dtype::Float32, Dtype::Float16, Dtype::Bfloat16] {
            let z = mx::zeros(&[4], dt, dev).unwrap();
            let r = mx::scatter_add(&z, &[&i], &make(&v, &[5, 1], dt), &[0], dev).unwrap();
            expect(&r, &[4], &[0., 2.25, 0., 3.]);
        }
        let i = idx(&[0, 0, 4, 2, 2, 2], &[6]);
        let ones = mx::ones(&[5], Dtype::Bfloat16, dev).unwrap();
        let r = mx::scatter_add(&ones, &[&i], &make(&[1., 2., 3., 4., 5., 6.], &[6, 1], Dtype::Bfloat16), &[0], dev).unwrap();
        expect(&r, &[5], &[4., 1., 16., 1., 4.]);
        let z = mx::zeros(&[5], Dtype::Uint8, dev).unwrap();
        let r = mx::scatter_add(&z, &[&i], &make(&[100., 200., 3., 4., 5., 6.], &[6, 1], Dtype::Uint8), &[0], dev).unwrap();
        expect(&r, &[5], &[44., 0., 15., 0., 3.]);
        let z = mx::zeros(&[5], Dtype::Int32, dev).unwrap();
        let r = mx::scatter_add(&z, &[&i], &make(&[1., 2., 3., 4., 5., 6.], &[6, 1], Dtype::Int32), &[0], dev).unwrap();
        expect(&r, &[5], &[3., 0., 15., 0., 3.]);
        let z = mx::zeros(&[5], Dtype::Bool, dev).unwrap();
        let r = mx::scatter_add(&z, &[&idx(&[0, 0, 4], &[3])], &make(&[1., 0., 1.], &[3, 1], Dtype::Bool), &[0], dev).unwrap();
        expect(&r, &[5], &[1., 0., 0., 0., 1.]);
        let f = mx::full(&[6], 10.0, Dtype::Uint8, dev).unwrap();
        let r = mx::scatter_max(&f, &[&idx(&[0, 1, 1, 5, 5], &[5])], &make(&[3., 20., 30., 11., 2.], &[5, 1], Dtype::Uint8), &[0], dev).unwrap();
        expect(&r, &[6], &[10., 30., 10., 10., 10., 11.]);
        let z = mx::zeros(&[3], Dtype::Float32, dev).unwrap();
        let r = mx::scatter_min(&z, &[&idx(&[0, 0, 2], &[3])], &make(&[-1.5, -2.5, 3.], &[3, 1], Dtype::Float32), &[0], dev).unwrap();
        expect(&r, &[3], &[-2.5, 0., 0.]);
        let t = mx::full(&[3], 2.0, Dtype::Int32, dev).unwrap();
        let r = mx::scatter_prod(&t, &[&idx(&[0, 0, 2], &[3])], &make(&[3., 4., 5.], &[3, 1], Dtype::Int32), &[0], dev).unwrap();
        expect(&r, &[3], &[24., 2., 10.]);
        // Plain scatter into packed dtypes: neighbours in a word are kept; out-of-range dropped.
        for dt in DTYPES {
            let a = make(&[1., 0., 1., 1., 0., 1.], &[6], dt);
            let r = mx::scatter(&a, &[&idx(&[1, -2, 6, -9], &[4])], &make(&[1., 0., 1., 1.], &[4, 1], dt), &[0], dev).unwrap();
            expect(&r, &[6], &[1., 1., 1., 1., 0., 1.]);
        }
    }

    fn slice_update_steps(dev: Device) {
        for dt in DTYPES {
            let a = mx::zeros(&[3, 4], dt, dev).unwrap();
            let u = make(&[1., 1., 0., 1.], &[2, 2], dt);
            // MLX: z[-1:0:-1, ::3] = [[1,1],[0,1]]
            let r = mx::slice_update(&a, &u, &[-1, 0], &[0, 4], &[-1, 3], dev).unwrap();
            expect(&r, &[3, 4], &[0., 0., 0., 0., 0., 0., 0., 1., 1., 0., 0., 1.]);
        }
        let a = make(&iota(6), &[6], Dtype::Int32);
        let r = mx::slice_update(&a, &Array::scalar(9i32), &[1], &[100], &[2], dev).unwrap();
        expect(&r, &[6], &[0., 9., 2., 9., 4., 9.]);
        // Whole array; empty window.
        let r = mx::slice_update(&a, &Array::scalar(1i32), &[0], &[6], &[], dev).unwrap();
        expect(&r, &[6], &[1.; 6]);
        let r = mx::slice_update(&a, &Array::scalar(1i32), &[4], &[2], &[], dev).unwrap();
        expect(&r, &[6], &iota(6));
    }

    fn index_basic_and_advanced(dev: Device) {
        let a = make(&iota(24), &[2, 3, 4], Dtype::Int32);
        let r = mx::index(&a, &ix![-1, ..;-2, NEW, 1..], dev).unwrap();
        expect(&r, &[2, 1, 3], &[21., 22., 23., 13., 14., 15.]);
        let r = mx::index(&a, &ix![..., -1], dev).unwrap();
        expect(&r, &[2, 3], &[3., 7., 11., 15., 19., 23.]);
        let r = mx::index(&a, &[Ix::from(1), Ix::range(..), Ix::from(idx(&[3, 0], &[2]))], dev).unwrap();
        expect(&r, &[2, 3], &[15., 19., 23., 12., 16., 20.]);
        let (i, j) = (idx(&[1, -1], &[2, 1]), idx(&[0, 3, -2], &[3]));
        let r = mx::index(&a, &ix![.., &i, &j], dev).unwrap();
        expect(&r, &[2, 2, 3], &[4., 7., 6., 8., 11., 10., 16., 19., 18., 20., 23., 22.]);
        let r = mx::index(&a, &ix![&i, .., &j], dev).unwrap();
        let row = [12., 16., 20., 15., 19., 23., 14., 18., 22.];
        let want: Vec<f64> = row.iter().chain(row.iter()).copied().collect();
        expect(&r, &[2, 3, 3], &want);
        let r = mx::index(&a, &ix![.., .., idx(&[-1], &[1])], dev).unwrap();
        expect(&r, &[2, 3, 1], &[3., 7., 11., 15., 19., 23.]);
        // Strided input (a transposed view).
        let t = mx::transpose(&a, &[], dev).unwrap();
        let r = mx::index(&t, &ix![1, idx(&[2, 0], &[2]), 0], dev).unwrap();
        expect(&r, &[2], &[9., 1.]);
        // Size 0.
        #[allow(clippy::reversed_empty_ranges)] // an empty slice on purpose
        let r = mx::index(&a, &ix![.., 2..1], dev).unwrap();
        expect(&r, &[2, 0, 4], &[]);
        #[allow(clippy::reversed_empty_ranges)]
        let r = mx::index_put(&a, &ix![.., 2..1], &Array::scalar(5i32), dev).unwrap();
        expect(&r, &[2, 3, 4], &iota(24));
        // Scatter into a strided (transposed) input with strided updates.
        let t = mx::transpose(&make(&iota(6), &[2, 3], Dtype::Float32), &[], dev).unwrap(); // (3,2)
        let u = mx::transpose(&make(&[10., 20.], &[1, 2, 1], Dtype::Float32), &[0, 2, 1], dev).unwrap();
        let r = mx::scatter_add(&t, &[&idx(&[-1], &[1])], &u, &[0], dev).unwrap();
        expect(&r, &[3, 2], &[0., 3., 1., 4., 12., 25.]);
    }

    fn index_put_and_at(dev: Device) {
        let z = mx::zeros(&[3, 4], Dtype::Int32, dev).unwrap();
        let v = make(&[1., 2., 3., 4.], &[2, 2], Dtype::Int32);
        let r = z.at(&ix![..;-2, 1..;2]).add(&v, dev).unwrap();
        expect(&r, &[3, 4], &[0., 3., 0., 4., 0., 0., 0., 0., 0., 1., 0., 2.]);
        let r = mx::index_put(&z, &ix![-1..0;-1, ..;3], &make(&[7., 8., 9., 10.], &[2, 2], Dtype::Int32), dev).unwrap();
        expect(&r, &[3, 4], &[0., 0., 0., 0., 9., 0., 0., 10., 7., 0., 0., 8.]);
        let a = make(&iota(24), &[2, 3, 4], Dtype::Float32);
        let (i, j) = (idx(&[1, -1], &[2, 1]), idx(&[0, 3, -2], &[3]));
        let r = mx::index_put(&a, &ix![.., &i, &j], &Array::scalar(-1.0f32), dev).unwrap();
        let mut want = iota(24);
        for b in [0, 12] {
            for k in [4, 7, 6, 8, 11, 10] {
                want[b + k] = -1.;
            }
        }
        expect(&r, &[2, 3, 4], &want);
        for dt in [Dtype::Float16, Dtype::Bfloat16, Dtype::Int32, Dtype::Uint8] {
            let z = mx::zeros(&[4], dt, dev).unwrap();
            let r = z.at(&ix![idx(&[1, 1, 3, 1, -1], &[5])]).add(&make(&[1., 2., 3., 4., 5.], &[5], dt), dev).unwrap();
            expect(&r, &[4], &[0., 7., 0., 8.]);
        }
        let m = make(&[1., 5., 3.], &[3], Dtype::Float32);
        expect(&m.at(&ix![idx(&[0, 0], &[2])]).maximum(&make(&[4., 2.], &[2], Dtype::Float32), dev).unwrap(), &[3], &[4., 5., 3.]);
        expect(&m.at(&ix![1..]).minimum(&Array::scalar(4.0f32), dev).unwrap(), &[3], &[1., 4., 3.]);
        expect(&m.at(&ix![1]).multiply(&Array::scalar(2.0f32), dev).unwrap(), &[3], &[1., 10., 3.]);
    }

    fn bad_inputs_name_the_op(dev: Device) {
        let a = make(&iota(12), &[3, 4], Dtype::Float32);
        let fi = make(&[0., 1.], &[2], Dtype::Float32);
        let i = idx(&[0, 1], &[2]);
        err_names(mx::gather(&a, &[&fi], &[0], &[1, 4], dev), "gather");
        err_names(mx::gather(&a, &[&i], &[2], &[1, 4], dev), "gather");
        err_names(mx::gather(&a, &[&i], &[0], &[1, 5], dev), "gather");
        err_names(mx::gather(&a, &[&i, &i], &[0, 0], &[1, 1], dev), "gather");
        err_names(mx::gather(&a, &[&i, &idx(&[0, 1, 2], &[3])], &[0, 1], &[1, 1], dev), "gather");
        let u = mx::zeros(&[3, 1, 4], Dtype::Float32, dev).unwrap();
        err_names(mx::scatter_add(&a, &[&i], &u, &[0], dev), "scatter_add");
        err_names(mx::scatter(&a, &[&fi], &mx::zeros(&[2, 1, 4], Dtype::Float32, dev).unwrap(), &[0], dev), "scatter");
        err_names(mx::scatter_max(&a, &[&i], &mx::zeros(&[2, 1, 5], Dtype::Float32, dev).unwrap(), &[0], dev), "scatter_max");
        err_names(mx::scatter_min(&a, &[&i], &mx::zeros(&[2, 4], Dtype::Float32, dev).unwrap(), &[0], dev), "scatter_min");
        err_names(mx::take_along_axis(&a, &i, Some(0), dev), "take_along_axis");
        err_names(mx::take_along_axis(&a, &idx(&[0], &[1, 1]), Some(2), dev), "take_along_axis");
        err_names(mx::put_along_axis(&a, &idx(&[0, 1], &[1, 2]), &fi, Some(0), dev), "put_along_axis");
        err_names(mx::slice_update(&a, &mx::zeros(&[2, 2], Dtype::Float32, dev).unwrap(), &[0, 0], &[3, 3], &[], dev), "slice_update");
        err_names(mx::slice_update(&a, &fi, &[0], &[3], &[], dev), "slice_update");
        err_names(mx::index(&a, &ix![3], dev), "index");
        err_names(mx::index(&a, &ix![0, 0, 0], dev), "index");
        err_names(mx::index(&a, &ix![..., 0, ...], dev), "index");
        err_names(mx::index(&a, &ix![..;0], dev), "index");
        err_names(mx::index(&a, &ix![&fi], dev), "index");
        err_names(mx::index_put(&a, &ix![.., &fi], &Array::scalar(1.0f32), dev), "index_put");
        err_names(a.at(&ix![&i, &idx(&[0, 1, 2], &[3])]).add(&Array::scalar(1.0f32), dev), "scatter_add");
        err_names(mx::index_put(&a, &ix![0], &mx::zeros(&[3], Dtype::Float32, dev).unwrap(), dev), "index_put");
    }
}
