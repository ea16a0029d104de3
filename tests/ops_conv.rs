//! Convolutions beyond the MLX fixtures: larger problems (several GPU tiles of rows and output
//! channels, partial tiles, the 128-column kernel) against a float64 reference written here from
//! the definition; vmap against per-example results (including the cases where MLX's own vmap is
//! wrong or refuses); and the errors.

#[macro_use]
mod common;

use wmx::{self as mx, Array, Device, Dtype};

/// Deterministic values in [-1, 1).
fn vals(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) as f32
        })
        .collect()
}

fn rand(shape: &[i32], seed: u64) -> Array {
    let n = shape.iter().product::<i32>() as usize;
    Array::from_slice(&vals(n, seed), shape)
}

/// One convolution's parameters (MLX's conv_general, padding non-negative).
struct P {
    stride: Vec<i32>,
    lo: Vec<i32>,
    hi: Vec<i32>,
    kdil: Vec<i32>,
    idil: Vec<i32>,
    groups: i32,
    flip: bool,
}

/// The float64 convolution from its definition, over any number of spatial dims.
fn reference(x: &[f32], xs: &[i32], w: &[f32], ws: &[i32], p: &P) -> (Vec<f64>, Vec<i32>) {
    let nd = xs.len() - 2;
    let (n, cin, cout) = (xs[0] as usize, xs[nd + 1] as usize, ws[0] as usize);
    let (cg, og) = (cin / p.groups as usize, cout / p.groups as usize);
    let mut out_shape = vec![xs[0]];
    for d in 0..nd {
        let id = 1 + p.idil[d] * (xs[1 + d] - 1);
        let kd = 1 + p.kdil[d] * (ws[1 + d] - 1);
        out_shape.push((id + p.lo[d] + p.hi[d] - kd) / p.stride[d] + 1);
    }
    out_shape.push(ws[0]);
    let osp: Vec<usize> = out_shape[1..=nd].iter().map(|&d| d as usize).collect();
    let ksp: Vec<usize> = ws[1..=nd].iter().map(|&d| d as usize).collect();
    let isp: Vec<usize> = xs[1..=nd].iter().map(|&d| d as usize).collect();
    let unravel = |mut i: usize, dims: &[usize]| {
        let mut c = vec![0; dims.len()];
        for k in (0..dims.len()).rev() {
            c[k] = i % dims[k];
            i /= dims[k];
        }
        c
    };
    let (n_out, n_tap) = (osp.iter().product::<usize>(), ksp.iter().product::<usize>());
    let n_in: usize = isp.iter().product();
    let mut y = vec![0.0f64; n * n_out * cout];
    for b in 0..n {
        for o in 0..n_out {
            let oc = unravel(o, &osp);
            for t in 0..n_tap {
                let kc = unravel(t, &ksp);
                let mut src = 0usize;
                let mut ok = true;
                for d in 0..nd {
                    let k = if p.flip { ksp[d] - 1 - kc[d] } else { kc[d] };
                    let pos = (oc[d] as i64 * p.stride[d] as i64 + k as i64 * p.kdil[d] as i64)
                        - p.lo[d] as i64;
                    if pos < 0
                        || pos % p.idil[d] as i64 != 0
                        || pos / p.idil[d] as i64 >= isp[d] as i64
                    {
                        ok = false;
                        break;
                    }
                    src = src * isp[d] + (pos / p.idil[d] as i64) as usize;
                }
                if !ok {
                    continue;
                }
                for co in 0..cout {
                    let g = co / og;
                    for c in 0..cg {
                        let xv = x[(b * n_in + src) * cin + g * cg + c] as f64;
                        let wv = w[(co * n_tap + t) * cg + c] as f64;
                        y[(b * n_out + o) * cout + co] += xv * wv;
                    }
                }
            }
        }
    }
    (y, out_shape)
}

fn check(xs: &[i32], ws: &[i32], p: P, dtype: Dtype, dev: Device, seed: u64) {
    let nd = xs.len() - 2;
    let (x, w) = (rand(xs, seed), rand(ws, seed + 1));
    // The reference sees the values the dtype holds.
    let xq = mx::astype(&x, dtype, None).unwrap();
    let wq = mx::astype(&w, dtype, None).unwrap();
    let xv = mx::astype(&xq, Dtype::Float32, None)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    let wv = mx::astype(&wq, Dtype::Float32, None)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    let (want, shape) = reference(&xv, xs, &wv, ws, &p);
    let y = mx::conv_general(
        &xq, &wq, &p.stride, &p.lo, &p.hi, &p.kdil, &p.idil, p.groups, p.flip, dev,
    )
    .unwrap();
    assert_eq!(y.shape(), &shape[..], "{nd}-D conv shape");
    assert_eq!(y.dtype(), dtype);
    let got = mx::astype(&y, Dtype::Float32, None)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    let k = (ws[1..].iter().product::<i32>()) as f64;
    let (atol, rtol) = match dtype {
        Dtype::Float32 => (1e-5 * k.sqrt(), 1e-5),
        _ => (2e-2 * k.sqrt(), 1e-2),
    };
    for (i, (&g, &e)) in got.iter().zip(&want).enumerate() {
        assert!(
            (g as f64 - e).abs() <= atol + rtol * e.abs(),
            "{dtype} {xs:?} * {ws:?} on {dev:?}: element {i}: got {g}, want {e}"
        );
    }
}

fn p(
    stride: &[i32],
    lo: &[i32],
    hi: &[i32],
    kdil: &[i32],
    idil: &[i32],
    groups: i32,
    flip: bool,
) -> P {
    P {
        stride: stride.to_vec(),
        lo: lo.to_vec(),
        hi: hi.to_vec(),
        kdil: kdil.to_vec(),
        idil: idil.to_vec(),
        groups,
        flip,
    }
}

/// `f` of each example (axis `xa` of x, `wa` of w; `None`: shared), stacked on axis 0.
fn per_example(
    f: &dyn Fn(&Array, &Array) -> mx::Result<Array>,
    x: &Array,
    xa: Option<i32>,
    w: &Array,
    wa: Option<i32>,
    b: i32,
) -> Array {
    let pick = |a: &Array, ax: Option<i32>, i: i32| match ax {
        Some(k) => mx::take(a, &Array::scalar(i), k, None).unwrap(),
        None => a.clone(),
    };
    let ys: Vec<Array> = (0..b)
        .map(|i| f(&pick(x, xa, i), &pick(w, wa, i)).unwrap())
        .collect();
    mx::stack(&ys.iter().collect::<Vec<_>>(), 0, None).unwrap()
}

fn close(a: &Array, b: &Array, what: &str) {
    assert_eq!(a.shape(), b.shape(), "{what}");
    let (a, b) = (a.to_vec::<f32>().unwrap(), b.to_vec::<f32>().unwrap());
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert!(
            (x - y).abs() <= 1e-4 * (1.0 + y.abs()),
            "{what}: element {i}: {x} vs {y}"
        );
    }
}

device_tests! {
    fn matches_the_float64_definition(dev: Device) {
        // 2 x 10 x 9 = 180 output rows (two row tiles, the second partial), 70 channels (two
        // 64-column tiles, the second partial).
        check(&[2, 19, 17, 24], &[70, 3, 3, 24], p(&[2, 2], &[1, 1], &[1, 1], &[1, 1], &[1, 1], 1, false), Dtype::Float32, dev, 1);
        // 130 channels per group: the 128-column kernel.
        check(&[1, 9, 8, 6], &[260, 2, 2, 3], p(&[1, 1], &[0, 1], &[1, 0], &[1, 2], &[1, 1], 2, true), Dtype::Float32, dev, 2);
        // Depthwise, channel counts not a multiple of 4, 1-D and 3-D.
        check(&[3, 40, 5], &[5, 7, 1], p(&[3], &[2], &[4], &[2], &[1], 5, false), Dtype::Float32, dev, 3);
        check(&[2, 5, 6, 7, 3], &[4, 3, 2, 3, 3], p(&[1, 2, 1], &[1, 0, 2], &[0, 1, 1], &[1, 1, 2], &[2, 1, 1], 1, true), Dtype::Float32, dev, 4);
        for dt in [Dtype::Float16, Dtype::Bfloat16] {
            check(&[2, 12, 11, 8], &[20, 3, 3, 8], p(&[1, 1], &[1, 1], &[1, 1], &[1, 1], &[1, 1], 1, false), dt, dev, 5);
            check(&[1, 9, 10, 6], &[6, 3, 3, 2], p(&[2, 1], &[1, 0], &[0, 2], &[1, 1], &[2, 1], 3, true), dt, dev, 6);
        }
    }

    fn vmap_matches_per_example_results(dev: Device) {
        let b = 3;
        let conv2 = |x: &Array, w: &Array| mx::conv2d(x, w, (1, 2), (1, 0), (1, 1), 2, dev);
        let x = rand(&[b, 2, 6, 7, 4], 10);
        let w = rand(&[6, b, 3, 2, 2], 11);
        let xs = mx::take(&x, &Array::scalar(0), 0, None).unwrap();
        let cases: [(Option<i32>, Option<i32>); 3] = [(Some(0), None), (None, Some(1)), (Some(0), Some(1))];
        for (xa, wa) in cases {
            let xx = if xa.is_some() { x.clone() } else { xs.clone() };
            let ww = if wa.is_some() { w.clone() } else { mx::take(&w, &Array::scalar(1), 1, None).unwrap() };
            let f = |p: &[Array]| Ok(vec![conv2(&p[0], &p[1])?]);
            let got = mx::vmap(f, &[xa, wa], &[Some(0)])(&[xx.clone(), ww.clone()]).unwrap();
            let want = per_example(&conv2, &xx, xa, &ww, wa, b);
            close(&got[0], &want, &format!("vmap conv2d groups 2, in_axes {xa:?} {wa:?}"));
        }
        // A 3-D convolution with both operands batched (a grouped 3-D convolution inside).
        let conv3 = |x: &Array, w: &Array| mx::conv3d(x, w, (1, 1, 1), (0, 1, 0), (1, 1, 1), 1, dev);
        let x = rand(&[1, 3, 3, 4, 2, b], 12);
        let w = rand(&[b, 2, 2, 2, 2, 2], 13);
        let f = |p: &[Array]| Ok(vec![conv3(&p[0], &p[1])?]);
        let got = mx::vmap(f, &[Some(5), Some(0)], &[Some(0)])(&[x.clone(), w.clone()]).unwrap();
        close(&got[0], &per_example(&conv3, &x, Some(5), &w, Some(0), b), "vmap conv3d");
    }

    fn bad_arguments_are_errors(dev: Device) {
        let f32s = |s: &[i32]| mx::zeros(s, Dtype::Float32, None).unwrap();
        let x = f32s(&[1, 5, 5, 4]);
        let w = f32s(&[2, 3, 3, 4]);
        let errs: Vec<(&str, mx::Result<Array>)> = vec![
            ("integer input", mx::conv2d(&mx::zeros(&[1, 5, 5, 4], Dtype::Int32, None).unwrap(), &w, (1, 1), (0, 0), (1, 1), 1, dev)),
            ("channel mismatch", mx::conv2d(&x, &f32s(&[2, 3, 3, 3]), (1, 1), (0, 0), (1, 1), 1, dev)),
            ("groups not dividing C_in", mx::conv2d(&x, &f32s(&[3, 3, 3, 1]), (1, 1), (0, 0), (1, 1), 3, dev)),
            ("groups not dividing C_out", mx::conv2d(&x, &f32s(&[3, 3, 3, 2]), (1, 1), (0, 0), (1, 1), 2, dev)),
            ("zero groups", mx::conv2d(&x, &w, (1, 1), (0, 0), (1, 1), 0, dev)),
            ("weight rank", mx::conv2d(&x, &f32s(&[2, 3, 4]), (1, 1), (0, 0), (1, 1), 1, dev)),
            ("input rank", mx::conv2d(&f32s(&[5, 5, 4]), &w, (1, 1), (0, 0), (1, 1), 1, dev)),
            ("4 spatial dims", mx::conv_general(&f32s(&[1, 2, 2, 2, 2, 1]), &f32s(&[1, 1, 1, 1, 1, 1]), &[], &[], &[], &[], &[], 1, false, dev)),
            ("kernel larger than input", mx::conv2d(&f32s(&[1, 2, 2, 4]), &w, (1, 1), (0, 0), (1, 1), 1, dev)),
            ("zero stride", mx::conv2d(&x, &w, (0, 1), (0, 0), (1, 1), 1, dev)),
            ("zero dilation", mx::conv2d(&x, &w, (1, 1), (0, 0), (1, 0), 1, dev)),
            ("zero input dilation", mx::conv_general(&x, &w, &[1], &[0], &[0], &[1], &[0], 1, false, dev)),
            ("negative padding beyond the size", mx::conv_general(&x, &w, &[1], &[-6], &[0], &[1], &[1], 1, false, dev)),
            ("parameter list length", mx::conv_general(&x, &w, &[1, 1, 1], &[0], &[0], &[1], &[1], 1, false, dev)),
            ("grouped 3-D", mx::conv3d(&f32s(&[1, 4, 4, 4, 2]), &f32s(&[2, 3, 3, 3, 1]), (1, 1, 1), (0, 0, 0), (1, 1, 1), 2, dev)),
        ];
        for (what, r) in errs {
            let e = r.expect_err(what);
            assert_eq!(e.op(), "conv", "{what}: {e}");
            assert!(e.to_string().starts_with("[conv] "), "{what}: {e}");
        }
    }

    fn empty_and_degenerate_shapes(dev: Device) {
        // No examples, and no input channels (the sum over nothing is 0).
        let y = mx::conv1d(&mx::zeros(&[0, 5, 2], Dtype::Float32, None).unwrap(), &mx::ones(&[3, 2, 2], Dtype::Float32, None).unwrap(), 1, 0, 1, 1, dev).unwrap();
        assert_eq!(y.shape(), &[0, 4, 3]);
        assert!(y.to_vec::<f32>().unwrap().is_empty());
        let y = mx::conv1d(&mx::ones(&[2, 5, 0], Dtype::Float32, None).unwrap(), &mx::ones(&[3, 2, 0], Dtype::Float32, None).unwrap(), 1, 0, 1, 1, dev).unwrap();
        assert_eq!(y.to_vec::<f32>().unwrap(), vec![0.0; 2 * 4 * 3]);
    }
}

/// More channel groups than a GPU grid dimension holds: a clear error from the GPU, the
/// right result from the CPU.
#[test]
fn too_many_groups_for_the_gpu_grid_is_an_error() {
    let c = 70_000;
    let x = mx::ones(&[1, 1, c], Dtype::Float32, None).unwrap();
    let w = mx::ones(&[c, 1, 1], Dtype::Float32, None).unwrap();
    let y = mx::conv1d(&x, &w, 1, 0, 1, c, Device::cpu()).unwrap();
    assert_eq!(y.to_vec::<f32>().unwrap(), vec![1.0; c as usize]);
    if let Some(g) = common::gpu() {
        let e = mx::conv1d(&x, &w, 1, 0, 1, c, g)
            .unwrap()
            .to_vec::<f32>()
            .unwrap_err();
        assert!(
            e.to_string().contains("[conv]") && e.to_string().contains("70000"),
            "{e}"
        );
    }
}
