//! Transforms on both devices: composition (grad of grad, jvp of vjp, vmap of grad for
//! per-example gradients, grad of vmap), captured arrays as constants, f16/bf16 forward passes
//! differentiated in their dtype, custom rules and checkpoint values, bad input as `Err` naming
//! the transform, and differentiation from 8 threads on their own streams.

#[macro_use]
mod common;
use wmx::{self as mx, Array, Device, Dtype};

fn vals(a: &Array) -> Vec<f32> {
    a.to_vec::<f32>().unwrap()
}

fn close(a: &[f32], b: &[f32], tol: f32) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(p, q)| (p - q).abs() <= tol * (1.0 + q.abs()))
}

device_tests! {
    fn composition(dev: Device) {
        let _g = mx::stream(dev);
        let x = Array::from_slice(&[0.3f32, -0.7, 1.1], &[3]);
        // d²/dx² sum(x³) = 6x; third derivative 6.
        let cube = |x: &Array| mx::sum(&mx::multiply(&mx::square(x, None)?, x, None)?, &[], false, None);
        let d2 = mx::grad(|x: &Array| mx::sum(&mx::grad(cube)(x)?, &[], false, None))(&x).unwrap();
        assert!(close(&vals(&d2), &[1.8, -4.2, 6.6], 1e-5), "{:?}", vals(&d2));
        let d3 = mx::grad(|x: &Array| {
            let d2 = mx::grad(|y: &Array| mx::sum(&mx::grad(cube)(y)?, &[], false, None))(x)?;
            mx::sum(&d2, &[], false, None)
        })(&x).unwrap();
        assert!(close(&vals(&d3), &[6.0, 6.0, 6.0], 1e-5), "{:?}", vals(&d3));

        // jvp of vjp: the Hessian-vector product of sum(sin x) is -sin(x) * v.
        let v = Array::from_slice(&[1.0f32, 2.0, -1.0], &[3]);
        let g_of = |p: &[Array]| -> mx::Result<Vec<Array>> {
            let ct = mx::ones(&[], Dtype::Float32, None)?;
            Ok(mx::vjp(|q: &[Array]| Ok(vec![mx::sum(&mx::sin(&q[0], None)?, &[], false, None)?]), p, &[ct])?.1)
        };
        let (_, hv) = mx::jvp(g_of, &[x.clone()], &[v.clone()]).unwrap();
        let want: Vec<f32> = [0.3f32, -0.7, 1.1].iter().zip([1.0f32, 2.0, -1.0]).map(|(x, v)| -x.sin() * v).collect();
        assert!(close(&vals(&hv[0]), &want, 1e-5));

        // vmap of grad: per-example gradients of (w · x_i)² with respect to w.
        let w = Array::from_slice(&[1.0f32, -1.0], &[2]);
        let xs = Array::from_slice(&[1.0f32, 2.0, 3.0, 5.0, -1.0, 0.5], &[3, 2]);
        let per_ex = mx::vmap(
            |p: &[Array]| {
                let f = |q: &[Array]| mx::square(&mx::sum(&mx::multiply(&q[0], &q[1], None)?, &[], false, None)?, None);
                mx::grad_argnums(f, &[0])(p)
            },
            &[None, Some(0)],
            &[Some(0)],
        )(&[w.clone(), xs.clone()]).unwrap();
        // grad = 2 (w·x) x: rows (w·x = -1, -2, -1.5)
        assert_eq!(per_ex[0].shape(), &[3, 2]);
        assert!(close(&vals(&per_ex[0]), &[-2.0, -4.0, -12.0, -20.0, 3.0, -1.5], 1e-5), "{:?}", vals(&per_ex[0]));

        // grad of vmap: d/dw sum_i (w·x_i)² = sum of the per-example gradients.
        let total = mx::grad(|w: &Array| {
            let ys = mx::vmap(|p: &[Array]| Ok(vec![mx::sum(&mx::multiply(&p[0], &p[1], None)?, &[], false, None)?]), &[None, Some(0)], &[Some(0)])(&[w.clone(), xs.clone()])?;
            mx::sum(&mx::square(&ys[0], None)?, &[], false, None)
        })(&w).unwrap();
        assert!(close(&vals(&total), &[-11.0, -25.5], 1e-5), "{:?}", vals(&total));

        // vmap with a non-zero in axis and out axis.
        let m = mx::reshape(&mx::arange(0.0, 6.0, 1.0, Dtype::Float32, None).unwrap(), &[2, 3], None).unwrap();
        let cols = mx::vmap(|p: &[Array]| Ok(vec![mx::cumsum(&p[0], None, false, true, None)?]), &[Some(1)], &[Some(1)])(&[m.clone()]).unwrap();
        assert_eq!(vals(&cols[0]), vec![0.0, 1.0, 2.0, 3.0, 5.0, 7.0]);
    }

    fn vmap_with_batched_indices(dev: Device) {
        let _g = mx::stream(dev);
        let a = mx::reshape(&mx::arange(0.0, 24.0, 1.0, Dtype::Float32, None).unwrap(), &[2, 3, 4], None).unwrap();
        let idx = Array::from_slice(&[2i32, 0, -1, 1, 1, -3], &[2, 3]);
        // take along axis 1 of each a[b] with its own indices idx[b]; a unmapped too.
        for (a_ax, axis) in [(Some(0), 1), (None, 0), (Some(0), 0)] {
            let f = |p: &[Array]| Ok(vec![mx::take(&p[0], &p[1], axis, None)?]);
            let src = if a_ax.is_some() { a.clone() } else { mx::take(&a, &Array::scalar(0i32), 0, None).unwrap() };
            let got = mx::vmap(f, &[a_ax, Some(0)], &[Some(0)])(&[src.clone(), idx.clone()]).unwrap();
            let rows: Vec<Array> = (0..2)
                .map(|b| {
                    let ab = if a_ax.is_some() { mx::take(&src, &Array::scalar(b), 0, None).unwrap() } else { src.clone() };
                    let ib = mx::take(&idx, &Array::scalar(b), 0, None).unwrap();
                    mx::take(&ab, &ib, axis, None).unwrap()
                })
                .collect();
            let want = mx::stack(&rows.iter().collect::<Vec<_>>(), 0, None).unwrap();
            assert_eq!(got[0].shape(), want.shape());
            assert_eq!(vals(&got[0]), vals(&want), "a_ax {a_ax:?} axis {axis}");
        }
        // gather with per-example start indices, and its gradient per example.
        let starts = Array::from_slice(&[0i32, 2, 1, 0], &[2, 2]);
        let g = |p: &[Array]| Ok(vec![mx::gather(&p[0], &[&p[1]], &[1], &[3, 2], None)?]);
        let a2 = mx::take(&a, &Array::scalar(1i32), 0, None).unwrap();
        let got = mx::vmap(g, &[None, Some(0)], &[Some(0)])(&[a2.clone(), starts.clone()]).unwrap();
        assert_eq!(got[0].shape(), &[2, 2, 3, 2]);
        for b in 0..2 {
            let sb = mx::take(&starts, &Array::scalar(b), 0, None).unwrap();
            let want = mx::gather(&a2, &[&sb], &[1], &[3, 2], None).unwrap();
            assert_eq!(vals(&mx::take(&got[0], &Array::scalar(b), 0, None).unwrap()), vals(&want));
        }
        // per-example gradients through a batched-index take.
        let w = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[4]);
        let per_ex = mx::vmap(
            |p: &[Array]| mx::grad_argnums(|q: &[Array]| mx::sum(&mx::square(&mx::take(&q[0], &q[1], 0, None)?, None)?, &[], false, None), &[0])(p),
            &[None, Some(0)],
            &[Some(0)],
        )(&[w.clone(), Array::from_slice(&[0i32, 0, 3, 1], &[2, 2])]).unwrap();
        assert_eq!(vals(&per_ex[0]), vec![4.0, 0.0, 0.0, 0.0, 0.0, 4.0, 0.0, 8.0]);
    }

    fn captured_arrays_are_constants(dev: Device) {
        let _g = mx::stream(dev);
        let c = Array::from_slice(&[2.0f32, 3.0], &[2]);
        let f = |x: &Array| mx::sum(&mx::multiply(x, &c, None)?, &[], false, None);
        let g = mx::grad(f)(&Array::from_slice(&[5.0f32, 7.0], &[2])).unwrap();
        assert_eq!(vals(&g), vec![2.0, 3.0]);
        // An argument left out of argnums is a constant too.
        let h = mx::grad_argnums(|p: &[Array]| mx::sum(&mx::multiply(&p[0], &p[1], None)?, &[], false, None), &[-1])(&[c.clone(), Array::from_slice(&[1.0f32, 1.0], &[2])]).unwrap();
        assert_eq!(vals(&h[0]), vec![2.0, 3.0]);
        // An eval inside the function does not cut the graph the transform walks.
        let g2 = mx::grad(|x: &Array| {
            let y = mx::exp(x, None)?;
            y.eval()?;
            mx::sum(&y, &[], false, None)
        })(&Array::scalar(0.0f32)).unwrap();
        assert_eq!(g2.item::<f32>().unwrap(), 1.0);
    }

    fn half_precision_differentiates_in_its_dtype(dev: Device) {
        let _g = mx::stream(dev);
        for dt in [Dtype::Float16, Dtype::Bfloat16] {
            let x = mx::astype(&Array::from_slice(&[0.5f32, 1.0, 2.0], &[3]), dt, None).unwrap();
            let g = mx::grad(|x: &Array| mx::sum(&mx::multiply(&mx::exp(x, None)?, x, None)?, &[], false, None))(&x).unwrap();
            assert_eq!(g.dtype(), dt);
            let want: Vec<f32> = [0.5f32, 1.0, 2.0].iter().map(|t| t.exp() * (1.0 + t)).collect();
            assert!(close(&vals(&mx::astype(&g, Dtype::Float32, None).unwrap()), &want, 2e-2), "{dt:?}");
        }
    }

    fn custom_rules_and_checkpoint(dev: Device) {
        let _g = mx::stream(dev);
        let x = Array::from_slice(&[0.1f32, 0.2], &[2]);
        // Two outputs with a hand-written vjp: gradient of out0 is 10 * ct, of out1 is 100 * ct.
        let f = mx::custom_function(|p: &[Array]| Ok(vec![mx::sin(&p[0], None)?, mx::cos(&p[0], None)?]))
            .vjp(|_, c, _| Ok(vec![mx::add(&mx::multiply(&c[0], 10.0, None)?, &mx::multiply(&c[1], 100.0, None)?, None)?]));
        let g = mx::grad(|x: &Array| {
            let o = f.call(&[x.clone()])?;
            mx::sum(&mx::add(&o[0], &mx::multiply(&o[1], 2.0, None)?, None)?, &[], false, None)
        })(&x).unwrap();
        assert_eq!(vals(&g), vec![210.0, 210.0]);
        // Only one output used: the other's cotangent is zero.
        let g1 = mx::grad(|x: &Array| mx::sum(&f.call(&[x.clone()])?[1], &[], false, None))(&x).unwrap();
        assert_eq!(vals(&g1), vec![100.0, 100.0]);
        // Checkpoint gives the same gradient and jvp as the plain function.
        let body = |p: &[Array]| Ok(vec![mx::tanh(&mx::multiply(&p[0], &p[1], None)?, None)?]);
        let ck = mx::checkpoint(body);
        let y = Array::from_slice(&[3.0f32, -2.0], &[2]);
        let ct = Array::from_slice(&[1.0f32, 0.5], &[2]);
        let (_, a) = mx::vjp(body, &[x.clone(), y.clone()], &[ct.clone()]).unwrap();
        let (_, b) = mx::vjp(&ck, &[x.clone(), y.clone()], &[ct.clone()]).unwrap();
        assert_eq!(vals(&a[0]), vals(&b[0]));
        assert_eq!(vals(&a[1]), vals(&b[1]));
        let (_, ja) = mx::jvp(body, &[x.clone(), y.clone()], &[ct.clone(), ct.clone()]).unwrap();
        let (_, jb) = mx::jvp(&ck, &[x.clone(), y.clone()], &[ct.clone(), ct.clone()]).unwrap();
        assert_eq!(vals(&ja[0]), vals(&jb[0]));
        // vmap of a custom function without a vmap rule maps the function itself.
        let vm = mx::vmap(|p: &[Array]| f.call(p), &[Some(0)], &[Some(0), Some(0)])(&[mx::reshape(&x, &[2, 1], None).unwrap()]).unwrap();
        assert_eq!(vm[0].shape(), &[2, 1]);
    }

    fn bad_input_is_an_error_naming_the_transform(dev: Device) {
        let _g = mx::stream(dev);
        let x = Array::from_slice(&[1.0f32, 2.0], &[2]);
        let msg = |r: mx::Result<Array>| r.err().map(|e| e.to_string()).unwrap_or_default();
        let e = msg(mx::grad(|x: &Array| mx::square(x, None))(&x));
        assert!(e.starts_with("[grad]") && e.contains("scalar"), "{e}");
        let e = mx::vjp(|p: &[Array]| Ok(vec![mx::exp(&p[0], None)?]), &[x.clone()], &[Array::scalar(1.0f32)]).unwrap_err().to_string();
        assert!(e.starts_with("[vjp]") && e.contains("cotangent shape ()"), "{e}");
        let e = mx::vjp(|p: &[Array]| Ok(vec![mx::exp(&p[0], None)?]), &[x.clone()], &[mx::ones(&[2], Dtype::Float16, None).unwrap()]).unwrap_err().to_string();
        assert!(e.starts_with("[vjp]") && e.contains("float16"), "{e}");
        let e = mx::vjp(|p: &[Array]| Ok(vec![p[0].clone(), p[0].clone()]), &[x.clone()], &[x.clone()]).unwrap_err().to_string();
        assert!(e.starts_with("[vjp]") && e.contains("2 outputs"), "{e}");
        let e = mx::jvp(|p: &[Array]| Ok(vec![p[0].clone()]), &[x.clone()], &[Array::scalar(1.0f32)]).unwrap_err().to_string();
        assert!(e.starts_with("[jvp]"), "{e}");
        let f2 = |p: &[Array]| mx::sum(&p[0], &[], false, None);
        let e = mx::grad_argnums(f2, &[2])(&[x.clone()]).unwrap_err().to_string();
        assert!(e.starts_with("[grad]") && e.contains("index 2"), "{e}");
        let e = mx::grad_argnums(f2, &[0, 0])(&[x.clone()]).unwrap_err().to_string();
        assert!(e.starts_with("[grad]") && e.contains("Duplicate"), "{e}");
        let e = mx::grad_argnums(f2, &[])(&[x.clone()]).unwrap_err().to_string();
        assert!(e.starts_with("[grad]"), "{e}");
        let id = |p: &[Array]| Ok(vec![p[0].clone()]);
        let e = mx::vmap(id, &[Some(1)], &[])(&[x.clone()]).unwrap_err().to_string();
        assert!(e.starts_with("[vmap]") && e.contains("axis 1"), "{e}");
        let e = mx::vmap(|p: &[Array]| Ok(vec![mx::add(&p[0], &p[1], None)?]), &[], &[])(&[x.clone(), mx::ones(&[3], Dtype::Float32, None).unwrap()]).unwrap_err().to_string();
        assert_eq!(e, "[vmap] Inconsistent axis sizes: 2 and 3.");
        // An error raised inside the function comes back as it is.
        let e = mx::grad(|x: &Array| mx::reshape(x, &[3], None))(&x).unwrap_err();
        assert_eq!(e.op(), "reshape");
        // scatter with a product combiner has no rule (MLX's message).
        let e = mx::grad(|x: &Array| {
            let idx = Array::from_slice(&[0i32], &[1]);
            let upd = mx::reshape(x, &[1, 2], None)?;
            let z = mx::ones(&[2], Dtype::Float32, None)?;
            mx::sum(&mx::scatter_prod(&z, &[&idx], &mx::reshape(&mx::slice(&upd, &[0, 0], &[1, 1], &[], None)?, &[1, 1], None)?, &[0], None)?, &[], false, None)
        })(&x).unwrap_err().to_string();
        assert!(e.contains("scatter") && e.contains("multiply"), "{e}");
    }
}

#[test]
fn eight_threads_differentiate_on_their_own_streams() {
    let devices: Vec<Device> = match common::gpu() {
        Some(g) => vec![Device::cpu(), g],
        None => vec![Device::cpu()],
    };
    let f = |x: &Array| {
        mx::sum(
            &mx::softmax(&mx::multiply(x, x, None)?, &[-1], None)?,
            &[-1],
            false,
            None,
        )
    };
    let x = mx::reshape(
        &mx::arange(0.0, 12.0, 1.0, Dtype::Float32, None).unwrap(),
        &[3, 4],
        None,
    )
    .unwrap();
    let x = mx::multiply(&x, 0.1, None).unwrap();
    let reference = {
        let g =
            mx::grad(|x: &Array| mx::sum(&mx::exp(&f(x)?, None)?, &[], false, None))(&x).unwrap();
        vals(&g)
    };
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let dev = devices[i % devices.len()];
            let x = x.clone();
            std::thread::spawn(move || {
                let s = mx::new_stream(dev);
                let _g = mx::stream(s);
                (0..20)
                    .map(|_| {
                        let g = mx::grad(|x: &Array| {
                            mx::sum(&mx::exp(&f(x)?, None)?, &[], false, None)
                        })(&x)
                        .unwrap();
                        vals(&g)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for h in handles {
        for g in h.join().unwrap() {
            assert!(close(&g, &reference, 1e-5), "{g:?} vs {reference:?}");
        }
    }
}
