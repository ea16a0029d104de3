//! Reductions on CPU and GPU against f64 references: sum, prod, max, min, mean, all, any, argmax,
//! argmin over single, multiple, negative and all axes, with keepdims, on strided inputs, in f32,
//! f16, bf16 and i32; plus MLX's output dtypes and the long-row (two-pass) GPU path.

mod common;
use common::{assert_close, make, round_to, values};
use wmx::{self as mx, Array, Device, Dtype};

const FLOATS_AND_INT: [Dtype; 4] = [
    Dtype::Float32,
    Dtype::Float16,
    Dtype::Bfloat16,
    Dtype::Int32,
];

/// A [2, 3, 4] test tensor (small integers so every dtype holds them exactly).
fn cube() -> Vec<f64> {
    (0..24).map(|i| ((i * 7) % 11) as f64 - 4.0).collect()
}

/// Reference reduction of the [2,3,4] row-major cube over `axes`, keepdims layout flattened.
fn reference(vals: &[f64], axes: &[usize], f: fn(&[f64]) -> f64) -> Vec<f64> {
    let shape = [2usize, 3, 4];
    let kept: Vec<usize> = (0..3).filter(|a| !axes.contains(a)).collect();
    let n_out: usize = kept.iter().map(|&a| shape[a]).product();
    let mut out = Vec::with_capacity(n_out);
    for o in 0..n_out {
        let mut idx = [0usize; 3];
        let mut rem = o;
        for &a in kept.iter().rev() {
            idx[a] = rem % shape[a];
            rem /= shape[a];
        }
        let mut row = Vec::new();
        let rsize: usize = axes.iter().map(|&a| shape[a]).product();
        for r in 0..rsize {
            let mut rr = r;
            for &a in axes.iter().rev() {
                idx[a] = rr % shape[a];
                rr /= shape[a];
            }
            row.push(vals[idx[0] * 12 + idx[1] * 4 + idx[2]]);
        }
        out.push(f(&row));
    }
    out
}

type RedFn = fn(&Array, &[i32], bool, Device) -> wmx::Result<Array>;
/// A reduction case: name, op, and its f64 reference over one reduced run.
type RedCase = (&'static str, RedFn, fn(&[f64]) -> f64);

device_tests! {
    fn reductions_over_axes(dev: Device) {
        let cases: [RedCase; 5] = [
            ("sum", |a, ax, k, d| mx::sum(a, ax, k, d), |r| r.iter().sum()),
            ("prod", |a, ax, k, d| mx::prod(a, ax, k, d), |r| r.iter().product()),
            ("max", |a, ax, k, d| mx::max(a, ax, k, d), |r| r.iter().cloned().fold(f64::MIN, f64::max)),
            ("min", |a, ax, k, d| mx::min(a, ax, k, d), |r| r.iter().cloned().fold(f64::MAX, f64::min)),
            ("mean", |a, ax, k, d| mx::mean(a, ax, k, d), |r| r.iter().sum::<f64>() / r.len() as f64),
        ];
        let vals = cube();
        let axis_sets: [(&[i32], &[usize]); 6] = [(&[0], &[0]), (&[1], &[1]), (&[-1], &[2]), (&[0, 2], &[0, 2]), (&[2, 1], &[1, 2]), (&[], &[0, 1, 2])];
        for dt in FLOATS_AND_INT {
            // Same logical cube, dense and as a transposed view of a [4,3,2] array.
            let dense = make(&vals, &[2, 3, 4], dt);
            let mut tv = vec![0.0; 24];
            for i in 0..2 { for j in 0..3 { for k in 0..4 { tv[k * 6 + j * 2 + i] = vals[i * 12 + j * 4 + k]; } } }
            let strided = mx::transpose(&make(&tv, &[4, 3, 2], dt), &[2, 1, 0], dev).unwrap();
            for (layout, a) in [("dense", &dense), ("strided", &strided)] {
                for (name, f, r) in cases {
                    for (axes, norm) in axis_sets {
                        for keepdims in [false, true] {
                            let out = f(a, axes, keepdims, dev).unwrap();
                            let out_dt = out.dtype();
                            if name == "mean" && dt == Dtype::Int32 {
                                assert_eq!(out_dt, Dtype::Float32);
                            } else {
                                assert_eq!(out_dt, dt, "{name} keeps the dtype");
                            }
                            let mut want_shape: Vec<i32> = vec![2, 3, 4];
                            for &x in norm.iter() { want_shape[x] = 1; }
                            if !keepdims { want_shape = (0..3).filter(|x| !norm.contains(x)).map(|x| [2, 3, 4][x]).collect(); }
                            assert_eq!(out.shape(), &want_shape[..], "{name} {axes:?} keepdims={keepdims}");
                            let want: Vec<f64> = reference(&vals, norm, r).into_iter().map(|v| round_to(v, out_dt)).collect();
                            assert_close(&format!("{name} {layout} {axes:?}"), out_dt, &values(&out), &want);
                        }
                    }
                }
            }
        }
    }

    fn all_any_and_dtypes(dev: Device) {
        let a = Array::from_slice(&[1i32, 0, 3, 4, 5, 6], &[2, 3]);
        assert_eq!(mx::all(&a, &[1], false, dev).unwrap().to_vec::<bool>().unwrap(), vec![false, true]);
        assert_eq!(mx::any(&a, &[0], false, dev).unwrap().to_vec::<bool>().unwrap(), vec![true, true, true]);
        let b = Array::from_slice(&[true, false, true, true, true, true, false, false, false], &[3, 3]);
        assert_eq!(mx::all(&b, &[0], false, dev).unwrap().to_vec::<bool>().unwrap(), vec![false, false, false]);
        assert_eq!(mx::any(&mx::transpose(&b, &[], dev).unwrap(), &[0], false, dev).unwrap().to_vec::<bool>().unwrap(), vec![true, true, false]);
        // MLX's output dtypes.
        let s = mx::sum(&b, &[], false, dev).unwrap();
        assert_eq!((s.dtype(), s.item::<i32>().unwrap()), (Dtype::Int32, 5));
        let u = Array::from_slice(&[200u8, 100, 50], &[3]);
        let su = mx::sum(&u, &[], false, dev).unwrap();
        assert_eq!((su.dtype(), su.item::<u32>().unwrap()), (Dtype::Uint32, 350));
        let mu = mx::max(&u, &[], false, dev).unwrap();
        assert_eq!((mu.dtype(), mu.item::<u8>().unwrap()), (Dtype::Uint8, 200));
        assert_eq!(mx::max(&b, &[], false, dev).unwrap().dtype(), Dtype::Bool);
    }

    fn nan_propagates_in_max(dev: Device) {
        let a = Array::from_slice(&[1.0f32, f32::NAN, 2.0, 3.0], &[2, 2]);
        let m = values(&mx::max(&a, &[1], false, dev).unwrap());
        assert!(m[0].is_nan());
        assert_eq!(m[1], 3.0);
    }

    fn argmax_argmin(dev: Device) {
        for dt in [Dtype::Float32, Dtype::Float16, Dtype::Bfloat16, Dtype::Int32, Dtype::Uint8] {
            let a = make(&[3.0, 9.0, 9.0, 1.0, 4.0, 1.0, 0.0, 7.0], &[2, 4], dt);
            let r = mx::argmax(&a, 1, false, dev).unwrap();
            assert_eq!(r.dtype(), Dtype::Uint32);
            assert_eq!(r.to_vec::<u32>().unwrap(), vec![1, 3], "{dt}");
            assert_eq!(mx::argmin(&a, -1, true, dev).unwrap().to_vec::<u32>().unwrap(), vec![3, 2], "{dt}");
            assert_eq!(mx::argmin(&a, -1, true, dev).unwrap().shape(), &[2, 1]);
            assert_eq!(mx::argmax(&a, 0, false, dev).unwrap().to_vec::<u32>().unwrap(), vec![1, 0, 0, 1], "{dt}");
            let t = mx::transpose(&a, &[], dev).unwrap();
            assert_eq!(mx::argmax(&t, 0, false, dev).unwrap().to_vec::<u32>().unwrap(), vec![1, 3], "{dt} strided");
        }
        // A long axis exercises the workgroup tree (ties keep the first index).
        let mut v = vec![0.0f32; 5000];
        v[1234] = 5.0;
        v[4321] = 5.0;
        let a = Array::from_slice(&v, &[5000]);
        assert_eq!(mx::argmax(&a, 0, false, dev).unwrap().item::<u32>().unwrap(), 1234);
        let b = Array::from_slice(&[true, false, true], &[3]);
        assert_eq!(mx::argmin(&b, 0, false, dev).unwrap().item::<u32>().unwrap(), 1);
        // Rows long enough for the GPU's four-loads-per-step loop and its remainder, full of
        // ties (values mod 97): the first index of the extreme, per row, in the row axis and
        // down a strided axis.
        let (rows, len) = (3usize, 5000usize);
        let mut v: Vec<f32> = (0..rows * len).map(|i| (1 + (i * 7919) % 95) as f32).collect();
        // Extremes in later slots of a step, in a later step and in the remainder.
        for (row, at) in [(0, [1541, 3000]), (1, [4500, 4990]), (2, [700, 701])] {
            v[row * len + at[0]] = 96.0;
            v[row * len + at[1]] = 96.0;
        }
        for (row, at) in [(0, [4999, 4100]), (1, [300, 812]), (2, [2100, 2101])] {
            v[row * len + at[0]] = 0.0;
            v[row * len + at[1]] = 0.0;
        }
        let first = |row: &[f32], best: f32| row.iter().position(|&x| x == best).unwrap() as u32;
        for dt in [Dtype::Float32, Dtype::Float16, Dtype::Int32] {
            let a = mx::astype(&Array::from_slice(&v, &[rows as i32, len as i32]), dt, dev).unwrap();
            let max_at: Vec<u32> = v.chunks(len).map(|r| first(r, 96.0)).collect();
            let min_at: Vec<u32> = v.chunks(len).map(|r| first(r, 0.0)).collect();
            assert_eq!(mx::argmax(&a, 1, false, dev).unwrap().to_vec::<u32>().unwrap(), max_at, "{dt}");
            assert_eq!(mx::argmin(&a, 1, false, dev).unwrap().to_vec::<u32>().unwrap(), min_at, "{dt}");
            let t = mx::transpose(&a, &[], dev).unwrap();
            assert_eq!(mx::argmax(&t, 0, false, dev).unwrap().to_vec::<u32>().unwrap(), max_at, "{dt} strided");
        }
    }

    fn long_rows_and_many_rows(dev: Device) {
        // 300k elements: the GPU takes its two-pass path for a full reduction.
        let n = 300_000;
        let v: Vec<f32> = (0..n).map(|i| ((i % 7) as f32) - 3.0).collect();
        let want: f64 = v.iter().map(|&x| x as f64).sum();
        let a = Array::from_slice(&v, &[n]);
        assert_close("sum", Dtype::Float32, &values(&mx::sum(&a, &[], false, dev).unwrap()), &[want]);
        assert_eq!(mx::max(&a, &[], false, dev).unwrap().item::<f32>().unwrap(), 3.0);
        let i = mx::astype(&a, Dtype::Int32, dev).unwrap();
        assert_eq!(mx::sum(&i, &[], false, dev).unwrap().item::<i32>().unwrap() as f64, want);
        // Many short rows (per-thread kernel) and few long rows.
        let m = mx::reshape(&a, &[1000, 300], dev).unwrap();
        let rows = values(&mx::sum(&m, &[1], false, dev).unwrap());
        for (r, &got) in rows.iter().enumerate().step_by(97) {
            let w: f64 = v[r * 300..(r + 1) * 300].iter().map(|&x| x as f64).sum();
            assert_close("sum rows", Dtype::Float32, &[got], &[w]);
        }
        let cols = values(&mx::sum(&m, &[0], false, dev).unwrap());
        let w0: f64 = (0..1000).map(|r| v[r * 300] as f64).sum();
        assert_close("sum cols", Dtype::Float32, &[cols[0]], &[w0]);
        // f16 and bf16 outputs of a long reduction (accumulated in f32).
        for dt in [Dtype::Float16, Dtype::Bfloat16] {
            let h = mx::astype(&Array::from_slice(&vec![0.5f32; 70_000], &[70_000]), dt, dev).unwrap();
            assert_close("sum", dt, &values(&mx::sum(&h, &[], false, dev).unwrap()), &[round_to(35_000.0, dt)]);
        }
    }

    fn empty_reductions(dev: Device) {
        let z = mx::zeros(&[0, 3], Dtype::Float32, dev).unwrap();
        assert_eq!(mx::sum(&z, &[0], false, dev).unwrap().to_vec::<f32>().unwrap(), vec![0.0; 3]);
        assert_eq!(mx::prod(&z, &[0], false, dev).unwrap().to_vec::<f32>().unwrap(), vec![1.0; 3]);
        assert_eq!(mx::sum(&z, &[1], false, dev).unwrap().shape(), &[0]);
        assert_eq!(mx::max(&z, &[1], false, dev).unwrap().shape(), &[0]);
        assert!(mx::max(&z, &[0], false, dev).is_err());
        assert!(mx::all(&z, &[], false, dev).unwrap().item::<bool>().unwrap());
        assert!(!mx::any(&z, &[], false, dev).unwrap().item::<bool>().unwrap());
    }

    fn quad_runs_and_their_edges(dev: Device) {
        // Rows read as quads (dense run, start and length multiples of 4) and rows that are not.
        let (r, c) = (50usize, 44usize);
        let v: Vec<f32> = (0..r * c).map(|i| ((i * 37) % 23) as f32 - 11.0).collect();
        let a = Array::from_slice(&v, &[r as i32, c as i32]);
        for (lo, hi) in [(4usize, 40usize), (1, 37), (0, 44), (8, 44)] {
            let s = mx::slice(&a, &[0, lo as i32], &[r as i32, hi as i32], &[], dev).unwrap();
            let rows = |f: fn(&[f64]) -> f64| -> Vec<f64> {
                (0..r).map(|i| f(&v[i * c + lo..i * c + hi].iter().map(|&x| x as f64).collect::<Vec<_>>())).collect()
            };
            let sum = rows(|x| x.iter().sum());
            let max = rows(|x| x.iter().cloned().fold(f64::MIN, f64::max));
            assert_close("sum", Dtype::Float32, &values(&mx::sum(&s, &[1], false, dev).unwrap()), &sum);
            assert_close("max", Dtype::Float32, &values(&mx::max(&s, &[1], false, dev).unwrap()), &max);
            for dt in [Dtype::Int32, Dtype::Float16, Dtype::Uint8] {
                let t = mx::astype(&mx::add(&s, 11.0, dev).unwrap(), dt, dev).unwrap();
                let want: Vec<f64> = sum.iter().map(|x| x + 11.0 * (hi - lo) as f64).collect();
                let got = values(&mx::sum(&t, &[1], false, dev).unwrap());
                let out_dt = mx::sum(&t, &[1], false, dev).unwrap().dtype();
                let want: Vec<f64> = want.iter().map(|&w| round_to(w, out_dt)).collect();
                assert_close("sum", out_dt, &got, &want);
            }
            let positive = mx::greater(&s, -11.0, dev).unwrap();
            let all = mx::all(&positive, &[1], false, dev).unwrap().to_vec::<bool>().unwrap();
            let any = mx::any(&positive, &[1], false, dev).unwrap().to_vec::<bool>().unwrap();
            for i in 0..r {
                let row = &v[i * c + lo..i * c + hi];
                assert_eq!(all[i], row.iter().all(|&x| x > -11.0), "all row {i} [{lo}, {hi})");
                assert_eq!(any[i], row.iter().any(|&x| x > -11.0), "any row {i} [{lo}, {hi})");
            }
        }
        // A long full reduction of a view that starts 4 elements in (two passes of quads).
        let n = (1usize << 18) + 8;
        let w: Vec<f32> = (0..n).map(|i| ((i % 13) as f32) - 6.0).collect();
        let long = Array::from_slice(&w, &[n as i32]);
        let view = mx::slice(&long, &[4], &[n as i32], &[], dev).unwrap();
        let want: f64 = w[4..].iter().map(|&x| x as f64).sum();
        assert_close("sum", Dtype::Float32, &values(&mx::sum(&view, &[], false, dev).unwrap()), &[want]);
        let view = mx::slice(&long, &[3], &[n as i32 - 1], &[], dev).unwrap();
        let want: f64 = w[3..n - 1].iter().map(|&x| x as f64).sum();
        assert_close("sum", Dtype::Float32, &values(&mx::sum(&view, &[], false, dev).unwrap()), &[want]);
    }

    // Rows of up to 16384 elements are held in registers (one read), longer ones stream (two
    // passes of four quads per step and a remainder; 16388 to 32772).
    fn softmax_rows_of_quads_match_the_cpu(dev: Device) {
        let (ninf, inf, nan) = (f32::NEG_INFINITY, f32::INFINITY, f32::NAN);
        for len in [6usize, 12, 1000, 1004, 8196, 16384, 16388, 20004, 28676, 32768, 32772] {
            let mut v: Vec<f32> = (0..5 * len).map(|i| ((i * 29) % 17) as f32 * 0.25 - 2.0).collect();
            v[len + 3] = ninf;
            v[2 * len + len / 2] = nan;
            v[3 * len + 1] = inf;
            v[4 * len..5 * len].fill(ninf);
            let x = Array::from_slice(&v, &[5, len as i32]);
            let got = mx::softmax(&x, &[-1], dev).unwrap().to_vec::<f32>().unwrap();
            let want = mx::softmax(&x, &[-1], Device::cpu()).unwrap().to_vec::<f32>().unwrap();
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                let same = (g.is_nan() && w.is_nan()) || (g - w).abs() <= 1e-6 + 1e-5 * w.abs();
                assert!(same, "softmax len {len} element {i}: {g} vs {w}");
            }
        }
    }
}
