//! matmul (2-D, batched, broadcast batch dims, 1-D operands, transposed and column-major operands;
//! f32, f16, bf16) and the composites softmax and logsumexp, on CPU and GPU against f64 references.

mod common;
use common::{assert_close, make, round_to, values};
use wmx::{self as mx, Dtype};

const FLOATS: [Dtype; 3] = [Dtype::Float32, Dtype::Float16, Dtype::Bfloat16];

fn data(n: usize, seed: u64) -> Vec<f64> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((x >> 33) % 17) as f64 / 4.0 - 2.0
        })
        .collect()
}

/// Reference batched matmul of row-major [b, m, k] x [b, k, n] in f64 (inputs rounded to dtype).
fn reference(
    a: &[f64],
    b: &[f64],
    batch: usize,
    m: usize,
    k: usize,
    n: usize,
    dt: Dtype,
) -> Vec<f64> {
    let mut c = vec![0.0; batch * m * n];
    for z in 0..batch {
        for i in 0..m {
            for j in 0..n {
                let mut s = 0.0;
                for p in 0..k {
                    s += round_to(a[z * m * k + i * k + p], dt)
                        * round_to(b[z * k * n + p * n + j], dt);
                }
                c[z * m * n + i * n + j] = round_to(s, dt);
            }
        }
    }
    c
}

/// `a @ b` for [m, k] x [k, n] inputs of `dt` (data seeds `seed`, `seed + 1`) checked against
/// [`reference`]: shape, dtype and values.
fn check_product(
    what: &str,
    dt: Dtype,
    dev: wmx::Device,
    (m, k, n): (usize, usize, usize),
    seed: u64,
) {
    let a = data(m * k, seed);
    let b = data(k * n, seed + 1);
    let r = mx::matmul(
        &make(&a, &[m as i32, k as i32], dt),
        &make(&b, &[k as i32, n as i32], dt),
        dev,
    )
    .unwrap();
    assert_eq!(r.shape(), &[m as i32, n as i32]);
    assert_eq!(r.dtype(), dt);
    assert_close(
        &format!("{what} {m}x{k}x{n} {dt:?}"),
        dt,
        &values(&r),
        &reference(&a, &b, 1, m, k, n, dt),
    );
}

device_tests! {
    fn matmul_shapes_and_dtypes(dev: Device) {
        for dt in FLOATS {
            // Sizes that are not multiples of the 64x64 GPU tile, and K not a multiple of 16.
            for mkn in [(1, 1, 1), (3, 5, 7), (65, 33, 70), (128, 64, 96)] {
                check_product("matmul", dt, dev, mkn, 1);
            }
        }
    }

    fn matmul_vec4_kernel_edges_and_views(dev: Device) {
        // K and N multiples of 4 take the GPU's vec4 kernel (128x128 tiles, K staged 8 at a
        // time): sizes off the tile, K not a multiple of 8, batches, and sliced views whose
        // offsets are (or are not) multiples of 4.
        for dt in FLOATS {
            for mkn in [(131, 36, 132), (4, 4, 4), (200, 260, 20)] {
                check_product("matmul vec4", dt, dev, mkn, 11);
            }
            let (m, k, n) = (20, 12, 8);
            let a4 = data(2 * m * k, 13);
            let b4 = data(3 * k * n, 14);
            let r = mx::matmul(&make(&a4, &[2, 1, m as i32, k as i32], dt), &make(&b4, &[1, 3, k as i32, n as i32], dt), dev).unwrap();
            let got = values(&r);
            for x in 0..2 {
                for y in 0..3 {
                    let want = reference(&a4[x * m * k..(x + 1) * m * k], &b4[y * k * n..(y + 1) * k * n], 1, m, k, n, dt);
                    let off = (x * 3 + y) * m * n;
                    assert_close("matmul vec4 broadcast batch", dt, &got[off..off + m * n], &want);
                }
            }
            // Row slices of a wider matrix: offset 4 (aligned) and offset 1 (not).
            let wide = data(m * (k + 8), 15);
            let full = make(&wide, &[m as i32, (k + 8) as i32], dt);
            for start in [4, 1] {
                let view = mx::slice(&full, &[0, start], &[m as i32, start + k as i32], &[], dev).unwrap();
                let a: Vec<f64> = (0..m).flat_map(|i| wide[i * (k + 8) + start as usize..][..k].to_vec()).collect();
                let b = data(k * n, 16);
                let r = mx::matmul(&view, &make(&b, &[k as i32, n as i32], dt), dev).unwrap();
                assert_close(&format!("matmul vec4 slice at {start}"), dt, &values(&r), &reference(&a, &b, 1, m, k, n, dt));
            }
        }
    }

    fn matmul_batched_broadcast_and_transposed(dev: Device) {
        let (m, k, n) = (9, 6, 5);
        for dt in FLOATS {
            let a = data(3 * m * k, 3);
            let b = data(k * n, 4);
            // [3, m, k] @ [k, n]: the second operand broadcasts over the batch.
            let r = mx::matmul(&make(&a, &[3, m as i32, k as i32], dt), &make(&b, &[k as i32, n as i32], dt), dev).unwrap();
            assert_eq!(r.shape(), &[3, m as i32, n as i32]);
            let bb: Vec<f64> = (0..3).flat_map(|_| b.iter().cloned()).collect();
            assert_close("matmul batched", dt, &values(&r), &reference(&a, &bb, 3, m, k, n, dt));
            // Transposed operands: (B^T)^T, given as a strided view.
            let mut bt = vec![0.0; k * n];
            for p in 0..k { for j in 0..n { bt[j * k + p] = b[p * n + j]; } }
            let bview = mx::transpose(&make(&bt, &[n as i32, k as i32], dt), &[], dev).unwrap();
            let r2 = mx::matmul(&make(&a[..m * k], &[m as i32, k as i32], dt), &bview, dev).unwrap();
            assert_close("matmul transposed", dt, &values(&r2), &reference(&a[..m * k], &b, 1, m, k, n, dt));
            // [2, 1, m, k] @ [1, 3, k, n] -> [2, 3, m, n]
            let a4 = data(2 * m * k, 5);
            let b4 = data(3 * k * n, 6);
            let r3 = mx::matmul(&make(&a4, &[2, 1, m as i32, k as i32], dt), &make(&b4, &[1, 3, k as i32, n as i32], dt), dev).unwrap();
            assert_eq!(r3.shape(), &[2, 3, m as i32, n as i32]);
            let got = values(&r3);
            for x in 0..2 {
                for y in 0..3 {
                    let want = reference(&a4[x * m * k..(x + 1) * m * k], &b4[y * k * n..(y + 1) * k * n], 1, m, k, n, dt);
                    let off = (x * 3 + y) * m * n;
                    assert_close("matmul broadcast batch", dt, &got[off..off + m * n], &want);
                }
            }
        }
    }

    fn matmul_vectors_and_promotion(dev: Device) {
        let v = make(&[1.0, 2.0, 3.0], &[3], Dtype::Float32);
        let m = make(&data(6, 7), &[3, 2], Dtype::Float32);
        let r = mx::matmul(&v, &m, dev).unwrap();
        assert_eq!(r.shape(), &[2]);
        let r = mx::matmul(&mx::transpose(&m, &[], dev).unwrap(), &v, dev).unwrap();
        assert_eq!(r.shape(), &[2]);
        let dot = mx::matmul(&v, &v, dev).unwrap();
        assert_eq!(dot.shape(), &[] as &[i32]);
        assert_eq!(dot.item::<f32>().unwrap(), 14.0);
        // f16 with bf16 promotes to f32; int with float promotes to the float.
        let h = make(&[1.0, 2.0], &[1, 2], Dtype::Float16);
        let b = make(&[3.0, 4.0], &[2, 1], Dtype::Bfloat16);
        let p = mx::matmul(&h, &b, dev).unwrap();
        assert_eq!((p.dtype(), p.item::<f32>().unwrap()), (Dtype::Float32, 11.0));
        let i = make(&[1.0, 2.0], &[1, 2], Dtype::Int32);
        assert_eq!(mx::matmul(&i, &b, dev).unwrap().dtype(), Dtype::Bfloat16);
    }

    fn softmax_and_logsumexp(dev: Device) {
        for dt in FLOATS {
            let x = data(24, 8);
            let a = make(&x, &[4, 6], dt);
            let s = mx::softmax(&a, &[-1], dev).unwrap();
            assert_eq!(s.dtype(), dt);
            let mut want = Vec::new();
            let mut lse = Vec::new();
            for r in 0..4 {
                let row: Vec<f64> = x[r * 6..(r + 1) * 6].iter().map(|&v| round_to(v, dt)).collect();
                let mx_ = row.iter().cloned().fold(f64::MIN, f64::max);
                let e: Vec<f64> = row.iter().map(|v| (v - mx_).exp()).collect();
                let tot: f64 = e.iter().sum();
                want.extend(e.iter().map(|v| v / tot));
                lse.push(mx_ + tot.ln());
            }
            assert_close("softmax", dt, &values(&s), &want);
            assert_close("logsumexp", dt, &values(&mx::logsumexp(&a, &[1], false, dev).unwrap()), &lse);
            let total: f64 = values(&mx::sum(&s, &[1], false, dev).unwrap()).iter().sum();
            assert_close("softmax rows sum to one", dt, &[total], &[4.0]);
        }
        // Rows of -inf: logsumexp is -inf, not NaN.
        let n = mx::full(&[2, 3], f64::NEG_INFINITY, Dtype::Float32, dev).unwrap();
        assert_eq!(values(&mx::logsumexp(&n, &[1], true, dev).unwrap()), vec![f64::NEG_INFINITY; 2]);
        // Large values do not overflow.
        let big = make(&[1000.0, 1000.0], &[2], Dtype::Float32);
        assert_eq!(values(&mx::softmax(&big, &[], dev).unwrap()), vec![0.5, 0.5]);
    }
}

device_tests! {
    fn softmax_last_axis_primitive_matches_composite(dev: Device) {
        // The last-axis softmax is one primitive; other axes use the composite. Rows longer
        // than a workgroup, a row of -inf (NaN out, as exp(-inf - -inf)), a NaN row, every float.
        let (r, c) = (5usize, 1000usize);
        let mut x = data(r * c, 21);
        for v in x.iter_mut().take(c) {
            *v *= 40.0;
        }
        for v in x[c..2 * c].iter_mut() {
            *v = f64::NEG_INFINITY;
        }
        x[2 * c + 7] = f64::NAN;
        for dt in FLOATS {
            let a = make(&x, &[r as i32, c as i32], dt);
            let fast = values(&mx::softmax(&a, &[-1], dev).unwrap());
            let at = mx::transpose(&a, &[], dev).unwrap();
            let slow = mx::transpose(&mx::softmax(&at, &[0], dev).unwrap(), &[], dev).unwrap();
            assert_close("softmax primitive vs composite", dt, &fast, &values(&slow));
            let rows: Vec<f64> = fast.chunks(c).map(|row| row.iter().sum()).collect();
            assert_close("softmax rows sum to one", dt, &[rows[0], rows[3], rows[4]], &[1.0; 3]);
            assert!(fast[c..3 * c].iter().all(|v| v.is_nan()));
        }
    }
}

device_tests! {
    fn split_k_products_match_the_reference(dev: Device) {
        // Small grids with long K are split into slices summed in f32 on the GPU (k_splits):
        // the quad kernel, the tiled kernel (N not a multiple of 4), a transposed operand and
        // a broadcast batch must all give the exact products (the data are multiples of 1/4).
        for dt in FLOATS {
            for mkn in [(64, 1024, 64), (70, 2048, 30), (1, 8192, 512)] {
                check_product("split-K", dt, dev, mkn, 3);
            }
            // A transposed: built as [k, m] then transposed.
            let (m, k, n) = (48, 2048, 64);
            let a = data(m * k, 5);
            let mut at = vec![0.0; m * k];
            for i in 0..m {
                for p in 0..k {
                    at[p * m + i] = a[i * k + p];
                }
            }
            let a_view = mx::transpose(&make(&at, &[k as i32, m as i32], dt), &[], dev).unwrap();
            let b = data(k * n, 6);
            let r = mx::matmul(&a_view, &make(&b, &[k as i32, n as i32], dt), dev).unwrap();
            assert_close(&format!("split-K transposed A {dt:?}"), dt, &values(&r), &reference(&a, &b, 1, m, k, n, dt));
            // A batch of 2 against one broadcast B.
            let (m, k, n) = (32, 1024, 64);
            let a = data(2 * m * k, 7);
            let b = data(k * n, 8);
            let r = mx::matmul(&make(&a, &[2, m as i32, k as i32], dt), &make(&b, &[k as i32, n as i32], dt), dev).unwrap();
            assert_eq!(r.shape(), &[2, m as i32, n as i32]);
            let bb: Vec<f64> = b.iter().chain(b.iter()).copied().collect();
            assert_close(&format!("split-K batch {dt:?}"), dt, &values(&r), &reference(&a, &bb, 2, m, k, n, dt));
        }
        // f32 and f16 partials are summed and converted in one pass (bf16 by reduce and cast).
        if dev != mx::Device::cpu() {
            let built = mx::kernels_built(dev);
            assert!(built.iter().any(|k| k.starts_with("matmul_sum_splits")), "{built:?}");
        }
    }
}

device_tests! {
    fn few_row_products_match_the_reference(dev: Device) {
        // Up to 8 rows of A with K and N multiples of 4 take the GPU's matmul_rows kernel (no
        // tiles; K split inside the workgroup): row counts at and past its limit, N below, at
        // and past one workgroup's columns, K shorter than one quad per K group, a batch
        // against one broadcast B and an aligned row slice of a wider A.
        for dt in FLOATS {
            for mkn in [(1, 4, 4), (1, 36, 20), (2, 1024, 132), (5, 68, 2052), (8, 256, 516), (9, 128, 64)] {
                check_product("few rows", dt, dev, mkn, 21);
            }
            let (m, k, n) = (3, 512, 36);
            let a = data(4 * m * k, 23);
            let b = data(k * n, 24);
            let r = mx::matmul(&make(&a, &[4, m as i32, k as i32], dt), &make(&b, &[k as i32, n as i32], dt), dev).unwrap();
            let bb: Vec<f64> = (0..4).flat_map(|_| b.iter().copied()).collect();
            assert_close(&format!("few rows batch {dt:?}"), dt, &values(&r), &reference(&a, &bb, 4, m, k, n, dt));
            let wide = data(2 * (k + 8), 25);
            let full = make(&wide, &[2, (k + 8) as i32], dt);
            let view = mx::slice(&full, &[0, 4], &[2, 4 + k as i32], &[], dev).unwrap();
            let av: Vec<f64> = (0..2).flat_map(|i| wide[i * (k + 8) + 4..][..k].to_vec()).collect();
            let r = mx::matmul(&view, &make(&b, &[k as i32, n as i32], dt), dev).unwrap();
            assert_close(&format!("few rows slice {dt:?}"), dt, &values(&r), &reference(&av, &b, 1, 2, k, n, dt));
        }
        if dev != mx::Device::cpu() {
            let built = mx::kernels_built(dev);
            assert!(built.iter().any(|k| k.starts_with("matmul_rows")), "{built:?}");
        }
    }
}

/// `x` ([rows, cols] row-major) stored column-major: the data of its transpose.
fn transposed_data(x: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    let mut t = vec![0.0; x.len()];
    for i in 0..rows {
        for j in 0..cols {
            t[j * rows + i] = x[i * cols + j];
        }
    }
    t
}

device_tests! {
    fn column_major_operands_match_the_reference(dev: Device) {
        // A backward pass's xᵀ @ g and g @ Wᵀ: transposed views whose quads run down the
        // columns. The GPU's vec4 kernel reads them in place (A and/or B column-major), also
        // off the tile, with K not a multiple of 8, split along K and in a batch.
        for dt in FLOATS {
            for (m, k, n) in [(132, 36, 200), (256, 1024, 64), (4, 12, 8), (1024, 256, 128)] {
                for (a_t, b_t) in [(true, false), (false, true), (true, true)] {
                    let a = data(m * k, 31);
                    let b = data(k * n, 32);
                    let av = if a_t {
                        mx::transpose(&make(&transposed_data(&a, m, k), &[k as i32, m as i32], dt), &[], dev).unwrap()
                    } else {
                        make(&a, &[m as i32, k as i32], dt)
                    };
                    let bv = if b_t {
                        mx::transpose(&make(&transposed_data(&b, k, n), &[n as i32, k as i32], dt), &[], dev).unwrap()
                    } else {
                        make(&b, &[k as i32, n as i32], dt)
                    };
                    let r = mx::matmul(&av, &bv, dev).unwrap();
                    let what = format!("column-major a {a_t} b {b_t} {m}x{k}x{n} {dt:?}");
                    assert_close(&what, dt, &values(&r), &reference(&a, &b, 1, m, k, n, dt));
                }
            }
            // A batch of two column-major A against one B: [2, m, k] as the transpose of [2, k, m].
            let (m, k, n) = (64, 48, 36);
            let a = data(2 * m * k, 33);
            let at: Vec<f64> = (0..2).flat_map(|z| transposed_data(&a[z * m * k..][..m * k], m, k)).collect();
            let av = mx::transpose(&make(&at, &[2, k as i32, m as i32], dt), &[0, 2, 1], dev).unwrap();
            let b = data(k * n, 34);
            let r = mx::matmul(&av, &make(&b, &[k as i32, n as i32], dt), dev).unwrap();
            let bb: Vec<f64> = b.iter().chain(b.iter()).copied().collect();
            assert_close(&format!("column-major batch {dt:?}"), dt, &values(&r), &reference(&a, &bb, 2, m, k, n, dt));
            // Flipped views: negative row (or column) strides, which no quad kernel steps along.
            let (m, k, n) = (72, 64, 96);
            let a = data(m * k, 35);
            let b = data(k * n, 36);
            let flipped = |x: &[f64], rows: usize, cols: usize| {
                let r: Vec<f64> = x.chunks(cols).rev().flatten().copied().collect();
                mx::flip(&make(&r, &[rows as i32, cols as i32], dt), Some(&[0]), dev).unwrap()
            };
            let bv = flipped(&b, k, n);
            let r = mx::matmul(&make(&a, &[m as i32, k as i32], dt), &bv, dev).unwrap();
            assert_close(&format!("flipped b {dt:?}"), dt, &values(&r), &reference(&a, &b, 1, m, k, n, dt));
            let av = mx::transpose(&flipped(&transposed_data(&a, m, k), k, m), &[], dev).unwrap();
            let r = mx::matmul(&av, &bv, dev).unwrap();
            assert_close(&format!("flipped aᵀ, b {dt:?}"), dt, &values(&r), &reference(&a, &b, 1, m, k, n, dt));
        }
        if dev != mx::Device::cpu() {
            let built = mx::kernels_built(dev);
            for layout in [".ta", ".tb", ".ta.tb"] {
                assert!(built.iter().any(|k| k.starts_with("matmul_vec4") && k.ends_with(layout)), "{layout}: {built:?}");
            }
        }
    }
}
