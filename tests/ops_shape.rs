//! Shape ops on CPU and GPU: reshape (view and copy), transpose, broadcast_to, squeeze,
//! expand_dims, flatten, slice (steps, negative indices), concatenate, stack, split, contiguous,
//! in f32, f16, bf16, i32 and the packed dtypes (bool, uint8), including chains of views.

mod common;
use common::{make, round_to, values};
use wmx::{self as mx, Array, Dtype};

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

fn expect(a: &Array, shape: &[i32], want: &[f64]) {
    assert_eq!(a.shape(), shape);
    let dt = a.dtype();
    let w: Vec<f64> = want.iter().map(|&v| round_to(v, dt)).collect();
    assert_eq!(values(a), w, "{dt}");
}

device_tests! {
    fn reshape_views_and_copies(dev: Device) {
        for dt in DTYPES {
            let a = make(&iota(24), &[2, 3, 4], dt);
            expect(&mx::reshape(&a, &[4, -1], dev).unwrap(), &[4, 6], &iota(24));
            // Reshaping a transposed view needs a copy; the logical order is the transposed one.
            let t = mx::transpose(&a, &[2, 0, 1], dev).unwrap();
            let want: Vec<f64> = (0..4).flat_map(|k| (0..2).flat_map(move |i| (0..3).map(move |j| (i * 12 + j * 4 + k) as f64))).collect();
            expect(&mx::reshape(&t, &[24], dev).unwrap(), &[24], &want);
            expect(&mx::flatten(&t, 1, 2, dev).unwrap(), &[4, 6], &want);
            expect(&mx::reshape(&mx::reshape(&t, &[8, 3], dev).unwrap(), &[2, 2, 6], dev).unwrap(), &[2, 2, 6], &want);
        }
    }

    fn transpose_broadcast_squeeze_expand(dev: Device) {
        for dt in DTYPES {
            let a = make(&iota(6), &[2, 3], dt);
            expect(&mx::transpose(&a, &[], dev).unwrap(), &[3, 2], &[0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
            let col = make(&[1.0, 0.0, 2.0], &[3, 1], dt);
            expect(&mx::broadcast_to(&col, &[2, 3, 4], dev).unwrap(), &[2, 3, 4],
                &(0..24).map(|i| [1.0, 0.0, 2.0][(i / 4) % 3]).collect::<Vec<_>>());
            let e = mx::expand_dims(&a, &[0, 3], dev).unwrap();
            expect(&e, &[1, 2, 3, 1], &iota(6));
            expect(&mx::squeeze(&e, &[], dev).unwrap(), &[2, 3], &iota(6));
            expect(&mx::squeeze(&e, &[-1], dev).unwrap(), &[1, 2, 3], &iota(6));
        }
    }

    fn slices_with_steps(dev: Device) {
        for dt in DTYPES {
            let a = make(&iota(20), &[4, 5], dt);
            expect(&mx::slice(&a, &[1, 0], &[3, 5], &[1, 2], dev).unwrap(), &[2, 3], &[5.0, 7.0, 9.0, 10.0, 12.0, 14.0]);
            expect(&mx::slice(&a, &[-1, -1], &[-5, -6], &[-2, -2], dev).unwrap(), &[2, 3], &[19.0, 17.0, 15.0, 9.0, 7.0, 5.0]);
            expect(&mx::slice(&a, &[0, 10], &[4, 20], &[], dev).unwrap(), &[4, 0], &[]);
            // Slice of a transposed view, then elementwise work on it.
            let t = mx::transpose(&a, &[], dev).unwrap();
            let s = mx::slice(&t, &[1, 1], &[5, 4], &[3, 2], dev).unwrap();
            expect(&s, &[2, 2], &[6.0, 16.0, 9.0, 19.0]);
            if dt != Dtype::Bool {
                let doubled = mx::add(&s, &s, dev).unwrap();
                expect(&doubled, &[2, 2], &[12.0, 32.0, 18.0, 38.0]);
            }
        }
    }

    fn concatenate_stack_split(dev: Device) {
        for dt in DTYPES {
            let a = make(&iota(6), &[2, 3], dt);
            let b = make(&[10.0, 11.0, 12.0, 13.0], &[2, 2], dt);
            let c = mx::concatenate(&[&a, &b], 1, dev).unwrap();
            expect(&c, &[2, 5], &[0.0, 1.0, 2.0, 10.0, 11.0, 3.0, 4.0, 5.0, 12.0, 13.0]);
            // A transposed part, an empty part, axis 0, and an odd number of packed elements.
            let t = mx::transpose(&make(&iota(6), &[3, 2], dt), &[], dev).unwrap();
            let empty = make(&[], &[2, 0], dt);
            let d = mx::concatenate(&[&t, &empty, &a], -1, dev).unwrap();
            expect(&d, &[2, 6], &[0.0, 2.0, 4.0, 0.0, 1.0, 2.0, 1.0, 3.0, 5.0, 3.0, 4.0, 5.0]);
            let odd = make(&[1.0, 0.0, 1.0], &[3], dt);
            expect(&mx::concatenate(&[&odd, &odd, &odd], 0, dev).unwrap(), &[9], &[1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0]);
            let s = mx::stack(&[&a, &a], 0, dev).unwrap();
            expect(&s, &[2, 2, 3], &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
            let parts = mx::split(&c, 5, 1, dev).unwrap();
            assert_eq!(parts.len(), 5);
            expect(&parts[3], &[2, 1], &[10.0, 12.0]);
            let parts = mx::split_at(&c, &[1, -1], 1, dev).unwrap();
            expect(&parts[1], &[2, 3], &[1.0, 2.0, 10.0, 4.0, 5.0, 12.0]);
            expect(&parts[2], &[2, 1], &[11.0, 13.0]);
        }
        // Mixed dtypes promote.
        let m = mx::concatenate(&[&Array::from_slice(&[1i32], &[1]), &Array::from_slice(&[0.5f32], &[1])], 0, dev).unwrap();
        assert_eq!(m.dtype(), Dtype::Float32);
        assert_eq!(m.to_vec::<f32>().unwrap(), vec![1.0, 0.5]);
    }

    fn contiguous_copies(dev: Device) {
        for dt in DTYPES {
            let a = mx::transpose(&make(&iota(6), &[2, 3], dt), &[], dev).unwrap();
            expect(&mx::contiguous(&a, dev).unwrap(), &[3, 2], &[0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
        }
    }
}
