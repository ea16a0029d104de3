//! MLX's `python/tests/test_autograd.py` and `python/tests/test_vmap.py`, ported: the cases
//! that apply to wmx (no pytrees, kwargs, complex dtypes, svd/inverse, compile, jacfwd/hessian),
//! with MLX's inputs and expected values as facts. They pin wmx's transforms to MLX's
//! behaviour: jvp/vjp/grad values, higher order, captured constants, stop_gradient, aux
//! outputs, scatter/cumprod/topk/slice rules, custom functions, checkpoint, vmap of every op
//! family, compositions (grad of grad, vmap of grad, grad of vmap) and the error messages.

mod common;

use wmx::{self as mx, Array, Device, Dtype, Ix};

fn a(v: &[f32], shape: &[i32]) -> Array {
    Array::from_slice(v, shape)
}
fn s(x: f32) -> Array {
    Array::scalar(x)
}
fn v(x: &Array) -> Vec<f32> {
    mx::astype(x, Dtype::Float32, Device::cpu())
        .unwrap()
        .to_vec::<f32>()
        .unwrap()
}
fn item(x: &Array) -> f32 {
    v(x)[0]
}
#[track_caller]
fn close(got: &Array, want: &[f32]) {
    let g = v(got);
    assert_eq!(g.len(), want.len(), "{g:?} vs {want:?}");
    assert!(
        g.iter()
            .zip(want)
            .all(|(p, q)| (p - q).abs() <= 1e-5 + 1e-5 * q.abs()),
        "{g:?} vs {want:?}"
    );
}
#[track_caller]
fn err_prefix<T: std::fmt::Debug>(r: mx::Result<T>, prefix: &str) {
    let e = r.expect_err("expected an error").to_string();
    assert!(
        e.starts_with(prefix),
        "{e:?} does not start with {prefix:?}"
    );
}
fn sum(x: &Array, d: Device) -> mx::Result<Array> {
    mx::sum(x, &[], false, d)
}

device_tests! {
    fn jvp_and_vjp_scalars(d: Device) {
        let (o, t) = mx::jvp(|p| Ok(vec![mx::multiply(&p[0], 2.0, d)?]), &[s(1.0)], &[s(2.0)]).unwrap();
        assert_eq!((item(&o[0]), item(&t[0])), (2.0, 4.0));
        let (_, t) = mx::jvp(|p| Ok(vec![mx::multiply(&p[0], &p[1], d)?]), &[s(4.0), s(2.0)], &[s(3.0), s(2.0)]).unwrap();
        assert_eq!(item(&t[0]), 4.0 * 2.0 + 2.0 * 3.0);
        let f3 = |p: &[Array]| Ok(vec![mx::multiply(&p[0], &p[1], d)?, mx::multiply(&p[1], &p[2], d)?]);
        let (_, t) = mx::jvp(f3, &[s(2.0), s(4.0), s(6.0)], &[s(1.0), s(3.0), s(1.0)]).unwrap();
        assert_eq!((t.len(), item(&t[0]), item(&t[1])), (2, 4.0 + 6.0, 4.0 + 18.0));

        let (o, g) = mx::vjp(|p| Ok(vec![mx::multiply(&p[0], 2.0, d)?]), &[s(1.0)], &[s(2.0)]).unwrap();
        assert_eq!((item(&o[0]), item(&g[0])), (2.0, 4.0));
        let (_, g) = mx::vjp(|p| Ok(vec![mx::multiply(&p[0], &p[1], d)?]), &[s(4.0), s(2.0)], &[s(3.0)]).unwrap();
        assert_eq!((item(&g[0]), item(&g[1])), (6.0, 12.0));
        let (_, g) = mx::vjp(f3, &[s(2.0), s(4.0), s(6.0)], &[s(1.0), s(3.0)]).unwrap();
        assert_eq!((g.len(), item(&g[0]), item(&g[1]), item(&g[2])), (3, 4.0, 2.0 + 18.0, 12.0));
    }

    fn grad_higher_order_and_argnums(d: Device) {
        let f = move |x: &Array| mx::multiply(x, x, d);
        let (val, g) = mx::value_and_grad(f)(&s(0.5)).unwrap();
        assert_eq!((item(&val), item(&g)), (0.25, 1.0));
        assert_eq!(item(&mx::grad(f)(&s(0.5)).unwrap()), 1.0);
        let g2 = mx::grad(mx::grad(f));
        assert_eq!(item(&g2(&s(0.5)).unwrap()), 2.0);
        assert_eq!(item(&mx::grad(mx::grad(mx::grad(f)))(&s(0.5)).unwrap()), 0.0);
        let xy = move |p: &[Array]| mx::multiply(&p[0], &p[1], d);
        assert_eq!(item(&mx::grad_argnums(xy, &[0])(&[s(2.0), s(3.0)]).unwrap()[0]), 3.0);
        assert_eq!(item(&mx::grad_argnums(xy, &[1])(&[s(2.0), s(3.0)]).unwrap()[0]), 2.0);
        // Grad trees: both argnums, then only the second.
        let (val, g) = mx::value_and_grad_argnums(xy, &[0, 1])(&[s(0.5), s(2.0)]).unwrap();
        assert_eq!((item(&val), item(&g[0]), item(&g[1])), (1.0, 2.0, 0.5));
        let (val, g) = mx::value_and_grad_argnums(xy, &[1])(&[s(0.5), s(2.0)]).unwrap();
        assert_eq!((item(&val), g.len(), item(&g[0])), (1.0, 1, 0.5));
        // A non-differentiated argument that is not used.
        let (val, g) = mx::value_and_grad_argnums(|p: &[Array]| Ok(p[0].clone()), &[0])(&[s(2.0), s(7.0)]).unwrap();
        assert_eq!((item(&val), item(&g[0])), (2.0, 1.0));
    }

    fn captured_arrays_are_constants(d: Device) {
        let c = s(5.0);
        let (c1, c2) = (c.clone(), c.clone());
        let f = move |x: &Array| mx::add(&c1, x, d);
        let g = move |_: &Array| mx::add(&c2, &c2, d);
        let h = move |x: &Array| mx::add(x, x, d);
        assert_eq!(item(&mx::grad(f.clone())(&c).unwrap()), 1.0);
        assert_eq!(item(&mx::grad(g.clone())(&c).unwrap()), 0.0);
        assert_eq!(item(&mx::grad(h)(&c).unwrap()), 2.0);
        assert_eq!(item(&mx::grad(mx::grad(f))(&c).unwrap()), 0.0);
        assert_eq!(item(&mx::grad(mx::grad(g))(&c).unwrap()), 0.0);
        assert_eq!(item(&mx::grad(mx::grad(h))(&c).unwrap()), 0.0);
    }

    fn stop_gradient(d: Device) {
        let ones = mx::ones(&[4, 4], Dtype::Float32, None).unwrap();
        let h = move |w: &Array, x: &Array| -> mx::Result<Array> {
            let y = mx::stop_gradient(&mx::multiply(x, 2.0, d)?, d)?;
            mx::matmul(w, &mx::multiply(&y, 3.0, d)?, d)
        };
        let (_, g) = mx::vjp(|p| Ok(vec![h(&p[0], &p[1])?]), &[ones.clone(), ones.clone()], &[ones.clone()]).unwrap();
        close(&g[0], &[24.0; 16]);
        close(&g[1], &[0.0; 16]);
        let w = ones.clone();
        let (_, g) = mx::vjp(|p| Ok(vec![h(&w, &p[0])?]), &[ones.clone()], &[ones.clone()]).unwrap();
        close(&g[0], &[0.0; 16]);
    }

    fn auxiliary_values(d: Device) {
        let f = move |p: &[Array]| -> mx::Result<Vec<Array>> {
            let l = sum(&mx::multiply(&p[0], &p[1], d)?, d)?;
            let q = mx::add(&mx::square(&p[1], d)?, &mx::square(&p[0], d)?, d)?;
            Ok(vec![l.clone(), l, q, p[1].clone(), p[0].clone()])
        };
        let ones = mx::ones(&[2, 2], Dtype::Float32, None).unwrap();
        let (outs, g) = mx::value_and_grad_with_aux(f, &[0])(&[ones.clone(), ones.clone()]).unwrap();
        assert_eq!(item(&outs[0]), 4.0);
        assert_eq!(item(&outs[1]), 4.0);
        close(&g[0], &[1.0; 4]);
        close(&outs[2], &[2.0; 4]);
        close(&outs[3], &[1.0; 4]);
        close(&outs[4], &[1.0; 4]);
        // grad of a function whose output is not a scalar fails (MLX: grad of (loss, aux) raises).
        err_prefix(mx::grad(move |x: &Array| mx::multiply(x, x, d))(&ones), "[grad]");
    }

    fn update_state_inside_grad(d: Device) {
        let state = std::sync::Mutex::new(mx::zeros(&[2], Dtype::Float32, None).unwrap());
        let f = |p: &[Array]| -> mx::Result<Array> {
            let x = mx::multiply(&p[0], &p[1], d)?;
            let mut st = state.lock().unwrap();
            *st = mx::add(&*st, &x, d)?;
            sum(&x, d)
        };
        mx::grad_argnums(f, &[0])(&[a(&[1.0], &[1]), mx::ones(&[2], Dtype::Float32, None).unwrap()]).unwrap();
        close(&state.lock().unwrap(), &[1.0, 1.0]);
    }

    fn scatter_vjps(d: Device) {
        let idx = Array::from_slice(&[1i32], &[1]);
        let i2 = idx.clone();
        let f = move |x: &Array| sum(&mx::index_put(x, &[Ix::Array(i2.clone())], &s(2.0), d)?, d);
        let g = mx::grad(f)(&a(&[1.0, 2.0, 3.0], &[3])).unwrap();
        close(&g, &[1.0, 0.0, 1.0]);
        assert_eq!(g.dtype(), Dtype::Float32);
        let y = a(&[0.0, 1.0, 2.0], &[3]);
        let f = move |x: &Array| sum(&mx::index_put(&y, &[Ix::Array(idx.clone())], x, d)?, d);
        let g = mx::grad(f)(&a(&[2.0], &[1])).unwrap();
        close(&g, &[1.0]);
        // at[1].maximum / minimum.
        let fmax = |p: &[Array]| Ok(vec![p[0].at(&[Ix::Index(1)]).maximum(&p[1], d)?]);
        let fmin = |p: &[Array]| Ok(vec![p[0].at(&[Ix::Index(1)]).minimum(&p[1], d)?]);
        let (_, g) = mx::vjp(fmax, &[a(&[1.0, 2.0, 3.0], &[3]), a(&[3.0], &[1, 1])], &[a(&[4.0, 5.0, 6.0], &[3])]).unwrap();
        close(&g[0], &[4.0, 0.0, 6.0]);
        close(&g[1], &[5.0]);
        let (_, g) = mx::vjp(fmax, &[a(&[1.0, 2.0, 3.0], &[3, 1]), a(&[2.0], &[1, 1, 1])], &[a(&[4.0, 5.0, 6.0], &[3, 1])]).unwrap();
        close(&g[0], &[4.0, 5.0, 6.0]);
        close(&g[1], &[5.0]);
        let (_, g) = mx::vjp(fmin, &[a(&[1.0, 2.0, 3.0], &[3]), a(&[3.0], &[1, 1])], &[a(&[4.0, 5.0, 6.0], &[3])]).unwrap();
        close(&g[0], &[4.0, 5.0, 6.0]);
        close(&g[1], &[0.0]);
        let (_, g) = mx::vjp(fmin, &[a(&[1.0, 2.0, 3.0], &[3, 1]), a(&[2.0], &[1, 1, 1])], &[a(&[4.0, 5.0, 6.0], &[3, 1])]).unwrap();
        close(&g[0], &[4.0, 5.0, 6.0]);
        close(&g[1], &[5.0]);
    }

    fn split_against_slice(d: Device) {
        let x = mx::random::uniform(0.0, 1.0, &[10, 30], Dtype::Float32, Some(&mx::random::key(0)), None).unwrap();
        let f_split = move |x: &Array| {
            let p = mx::split(x, 3, -1, d)?;
            sum(&mx::multiply(&p[0], &p[2], d)?, d)
        };
        let f_slice = move |x: &Array| {
            let a = mx::index(x, &[Ix::Ellipsis, Ix::range(..10)], d)?;
            let b = mx::index(x, &[Ix::Ellipsis, Ix::range(-10..)], d)?;
            sum(&mx::multiply(&a, &b, d)?, d)
        };
        let (g1, g2) = (mx::grad(f_split)(&x).unwrap(), mx::grad(f_slice)(&x).unwrap());
        close(&g1, &v(&g2));
    }

    fn vjp_dtypes(d: Device) {
        for t in [Dtype::Float16, Dtype::Bfloat16, Dtype::Float32] {
            let x = mx::astype(&s(1.0), t, None).unwrap();
            assert_eq!(mx::grad(|x: &Array| Ok(x.clone()))(&x).unwrap().dtype(), t);
            assert_eq!(mx::grad(move |x: &Array| sum(x, d))(&x).unwrap().dtype(), t);
            let g = mx::grad_argnums(move |p: &[Array]| sum(&mx::add(&p[0], &p[1], d)?, d), &[0])(&[x.clone(), x.clone()]).unwrap();
            assert_eq!(g[0].dtype(), t);
        }
        // concatenate keeps each input's dtype.
        let x = a(&[1.0, 2.0, 3.0], &[3]);
        let y = mx::astype(&x, Dtype::Float16, None).unwrap();
        let (_, g) = mx::vjp(|p| Ok(vec![mx::concatenate(&[&p[0], &p[1]], 0, d)?]), &[x, y], &[mx::ones(&[6], Dtype::Float32, None).unwrap()]).unwrap();
        close(&g[0], &[1.0; 3]);
        close(&g[1], &[1.0; 3]);
        assert_eq!((g[0].dtype(), g[1].dtype()), (Dtype::Float32, Dtype::Float16));
    }

    fn power_grads(d: Device) {
        assert_eq!(item(&mx::grad(move |x: &Array| mx::power(x, 2.0, d))(&s(0.0)).unwrap()), 0.0);
        assert_eq!(item(&mx::grad(move |x: &Array| mx::power(x, 1.5, d))(&s(0.0)).unwrap()), 0.0);
        assert!((item(&mx::grad(move |x: &Array| mx::power(x, 2.0, d))(&s(2.0)).unwrap()) - 4.0).abs() < 1e-5);
        let f = move |p: &[Array]| mx::power(&mx::subtract(&p[0], &p[1], d)?, &p[0], d);
        assert_eq!(item(&mx::grad_argnums(f, &[0])(&[s(1.0), s(1.0)]).unwrap()[0]), 1.0);
    }

    fn eval_inside_vjp(d: Device) {
        let y = a(&[2.0, 2.0], &[2]);
        let f = |p: &[Array]| -> mx::Result<Vec<Array>> {
            let x = mx::add(&p[0], &y, d)?;
            let _ = mx::less(&x, 1.0, d)?.to_vec::<bool>()?;
            Ok(vec![mx::square(&x, d)?])
        };
        let (_, g) = mx::vjp(f, &[a(&[1.0], &[1])], &[a(&[1.0, 1.0], &[2])]).unwrap();
        assert_eq!(item(&g[0]), 12.0);
        let f = |p: &[Array]| -> mx::Result<Vec<Array>> {
            let x = mx::add(&p[0], a(&[1.0, 1.0], &[2]), d)?;
            mx::eval([&x])?;
            Ok(vec![mx::square(&x, d)?])
        };
        let (_, g) = mx::vjp(f, &[a(&[1.0], &[1])], &[a(&[1.0, 1.0], &[2])]).unwrap();
        assert_eq!(item(&g[0]), 8.0);
    }

    fn cumprod_grads(d: Device) {
        let ys: [[f32; 5]; 3] = [[2.0, 1.0, 2.0, 2.0, 3.0], [2.0, 0.0, 2.0, 2.0, 3.0], [2.0, 0.0, 2.0, 0.0, 3.0]];
        let want: [(bool, bool, [[f32; 5]; 3]); 4] = [
            (false, true, [[20.0, 38.0, 18.0, 16.0, 8.0], [1.0, 38.0, 0.0, 0.0, 0.0], [1.0, 6.0, 0.0, 0.0, 0.0]]),
            (false, false, [[8.0, 14.0, 6.0, 4.0, 0.0], [1.0, 14.0, 0.0, 0.0, 0.0], [1.0, 6.0, 0.0, 0.0, 0.0]]),
            (true, false, [[0.0, 12.0, 12.0, 15.0, 11.0], [0.0, 12.0, 6.0, 9.0, 7.0], [0.0, 0.0, 0.0, 9.0, 1.0]]),
            (true, true, [[12.0, 36.0, 24.0, 27.0, 19.0], [0.0, 36.0, 6.0, 9.0, 7.0], [0.0, 0.0, 0.0, 9.0, 1.0]]),
        ];
        for (reverse, inclusive, exp) in want {
            for (y, e) in ys.iter().zip(exp) {
                let g = mx::grad(move |x: &Array| sum(&mx::cumprod(x, None, reverse, inclusive, d)?, d))(&a(y, &[5])).unwrap();
                let got = v(&g);
                assert!(got.iter().zip(&e).all(|(p, q)| (p - q).abs() < 1e-4), "reverse {reverse} inclusive {inclusive} y {y:?}: {got:?} vs {e:?}");
            }
        }
    }

    fn topk_grad(d: Device) {
        let x = a(&[1.0, 2.0, 6.0, 4.0, 5.0, 9.0, 5.0, 6.0, 7.0, 8.0], &[2, 5]);
        let (_, g) = mx::vjp(|p| Ok(vec![mx::topk(&p[0], 2, -1, d)?]), &[x], &[mx::ones(&[2, 2], Dtype::Float32, None).unwrap()]).unwrap();
        close(&g[0], &[0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
    }

    fn flatten_unflatten_concat_shapes(d: Device) {
        let g = mx::grad(move |x: &Array| sum(&mx::reshape(x, &[2, 2, 8], d)?, d))(&mx::zeros(&[4, 8], Dtype::Float32, None).unwrap()).unwrap();
        assert_eq!(g.shape(), &[4, 8]);
        let g = mx::grad(move |x: &Array| sum(&mx::flatten(x, 0, 2, d)?, d))(&mx::zeros(&[2, 4, 8], Dtype::Float32, None).unwrap()).unwrap();
        assert_eq!(g.shape(), &[2, 4, 8]);
    }
}

fn uniform(shape: &[i32], seed: u64) -> Array {
    mx::random::uniform(
        0.0,
        1.0,
        shape,
        Dtype::Float32,
        Some(&mx::random::key(seed)),
        None,
    )
    .unwrap()
}
#[track_caller]
fn allclose(x: &Array, y: &Array) {
    assert_eq!(x.shape(), y.shape());
    close(x, &v(y));
}

device_tests! {
    fn custom_function_rules(d: Device) {
        let e1 = 1f32.exp();
        let my_exp = mx::custom_function(move |p: &[Array]| Ok(vec![mx::exp(&p[0], d)?]));
        let check = |f: mx::CustomFunction, dy: f32, dex: f32, vm: f32| {
            let g = mx::grad({ let f = f.clone(); move |x: &Array| Ok(f.call(&[x.clone()])?.remove(0)) })(&s(1.0)).unwrap();
            assert!((item(&g) - dy).abs() < 1e-5, "{} vs {dy}", item(&g));
            let (o, t) = mx::jvp({ let f = f.clone(); move |p: &[Array]| f.call(p) }, &[s(1.0)], &[s(1.0)]).unwrap();
            assert!((item(&t[0]) - dex).abs() < 1e-5 && (item(&o[0]) - e1).abs() < 1e-5);
            let y = mx::vmap(move |p: &[Array]| f.call(p), &[Some(0)], &[Some(0)])(&[mx::ones(&[10], Dtype::Float32, None).unwrap()]).unwrap();
            close(&y[0], &[vm; 10]);
        };
        check(my_exp.clone(), e1, e1, e1);
        let my_exp = my_exp.vjp(|p, _c, _o| Ok(vec![mx::multiply(&mx::ones_like(&p[0], None)?, 42.0, None)?]));
        check(my_exp.clone(), 42.0, e1, e1);
        let my_exp = my_exp
            .jvp(|p, t| Ok(vec![mx::multiply(&mx::multiply(&mx::ones_like(&p[0], None)?, 7.0, None)?, &t[0], None)?]))
            .vmap(|p, ax| Ok((vec![mx::multiply(&mx::ones_like(&p[0], None)?, 3.0, None)?], vec![ax[0]])));
        check(my_exp, 42.0, 7.0, 3.0);

        // Two inputs: out = 2 x y, then a vjp with made-up gradients and a jvp with + 1.
        let dbl = mx::custom_function(move |p: &[Array]| Ok(vec![mx::multiply(&mx::multiply(&p[0], 2.0, d)?, &p[1], d)?]));
        let ones = mx::ones(&[2], Dtype::Float32, None).unwrap();
        let loss = |f: mx::CustomFunction| move |p: &[Array]| sum(&f.call(p)?[0], d);
        let g = mx::grad_argnums(loss(dbl.clone()), &[0, 1])(&[ones.clone(), ones.clone()]).unwrap();
        close(&g[0], &[2.0, 2.0]);
        close(&g[1], &[2.0, 2.0]);
        let dbl_vjp = dbl.clone().vjp(|p, _, _| Ok(vec![mx::zeros_like(&p[0], None)?, mx::ones_like(&p[1], None)?]));
        let g = mx::grad_argnums(loss(dbl_vjp), &[0, 1])(&[ones.clone(), ones.clone()]).unwrap();
        close(&g[0], &[0.0, 0.0]);
        close(&g[1], &[1.0, 1.0]);
        let (ins, tans) = ([uniform(&[2], 1), uniform(&[2], 2)], [uniform(&[2], 3), uniform(&[2], 4)]);
        let d1 = dbl.clone();
        let (o1, t1) = mx::jvp(move |p: &[Array]| d1.call(p), &ins, &tans).unwrap();
        let dbl_jvp = dbl.jvp(|p, t| {
            let a = mx::multiply(&mx::multiply(&p[0], 2.0, None)?, &t[1], None)?;
            let b = mx::multiply(&mx::multiply(&p[1], 2.0, None)?, &t[0], None)?;
            Ok(vec![mx::add(&mx::add(&a, &b, None)?, 1.0, None)?])
        });
        let (o2, t2) = mx::jvp(move |p: &[Array]| dbl_jvp.call(p), &ins, &tans).unwrap();
        allclose(&o1[0], &o2[0]);
        allclose(&mx::add(&t1[0], 1.0, None).unwrap(), &t2[0]);
    }

    fn checkpoint_gives_the_same_gradients(d: Device) {
        let body = move |p: &[Array]| Ok(vec![mx::sin(&mx::exp(&p[0], d)?, d)?]);
        let ck = mx::checkpoint(body);
        let x = uniform(&[5], 7);
        let g1 = mx::grad(move |x: &Array| sum(&body(&[x.clone()])?[0], d))(&x).unwrap();
        let ck2 = ck.clone();
        let g2 = mx::grad(move |x: &Array| sum(&ck2(&[x.clone()])?[0], d))(&x).unwrap();
        allclose(&g2, &g1);
        let h = mx::grad(move |x: &Array| sum(&mx::grad(|y: &Array| sum(&ck(&[y.clone()])?[0], d))(x)?, d))(&x).unwrap();
        let want: Vec<f32> = v(&x).iter().map(|&t| { let e = t.exp(); e * e.cos() - e * e * e.sin() }).collect();
        close(&h, &want);
    }

    fn matmul_jvps(d: Device) {
        let (a_, b_, c_, d_) = (uniform(&[4, 4], 11), uniform(&[4, 4], 12), uniform(&[4, 4], 13), uniform(&[4, 4], 14));
        let mm = |x: &Array, y: &Array| mx::matmul(x, y, d).unwrap();
        let b2 = b_.clone();
        let (_, t) = mx::jvp(move |p: &[Array]| Ok(vec![mx::matmul(&p[0], &b2, d)?]), &[a_.clone()], &[c_.clone()]).unwrap();
        allclose(&t[0], &mm(&c_, &b_));
        let a2 = a_.clone();
        let (_, t) = mx::jvp(move |p: &[Array]| Ok(vec![mx::matmul(&a2, &p[0], d)?]), &[b_.clone()], &[d_.clone()]).unwrap();
        allclose(&t[0], &mm(&a_, &d_));
        let (_, t) = mx::jvp(|p: &[Array]| Ok(vec![mx::matmul(&p[0], &p[1], d)?]), &[a_.clone(), b_.clone()], &[c_.clone(), d_.clone()]).unwrap();
        allclose(&t[0], &mx::add(mm(&a_, &d_), mm(&c_, &b_), None).unwrap());
        let (x, y, z) = (uniform(&[4, 4], 15), uniform(&[4, 4], 16), uniform(&[4, 4], 17));
        let (_, t) = mx::jvp(|p: &[Array]| Ok(vec![mx::add(&mx::matmul(&p[0], &p[1], d)?, &p[2], d)?]), &[a_.clone(), b_.clone(), c_.clone()], &[x.clone(), y.clone(), z.clone()]).unwrap();
        let (_, e) = mx::jvp(|p: &[Array]| Ok(vec![mx::addmm(&p[2], &p[0], &p[1], 1.0, 1.0, d)?]), &[a_.clone(), b_.clone(), c_.clone()], &[x, y, z]).unwrap();
        allclose(&t[0], &e[0]);
    }

    fn put_along_axis_grads(d: Device) {
        let idx = Array::from_slice(&[0i32, 3], &[2, 1]);
        let (i1, i2) = (idx.clone(), idx.clone());
        let f = move |p: &[Array]| Ok(vec![mx::put_along_axis(&p[0], &i1, &p[1], Some(0), d)?]);
        let (za, ob) = (mx::zeros(&[5, 1], Dtype::Float32, None).unwrap(), mx::ones(&[2, 1], Dtype::Float32, None).unwrap());
        let (_, g) = mx::vjp(f.clone(), &[za.clone(), ob.clone()], &[mx::full(&[5, 1], 2.0, Dtype::Float32, None).unwrap()]).unwrap();
        close(&g[0], &[0.0, 2.0, 2.0, 0.0, 2.0]);
        close(&g[1], &[2.0, 2.0]);
        let ta = mx::full(&[5, 1], 2.0, Dtype::Float32, None).unwrap();
        let (_, t) = mx::jvp(f, &[za.clone(), ob.clone()], &[ta.clone(), mx::full(&[2, 1], 3.0, Dtype::Float32, None).unwrap()]).unwrap();
        close(&t[0], &[3.0, 2.0, 2.0, 3.0, 2.0]);
        let (_, t) = mx::jvp(move |p: &[Array]| Ok(vec![mx::put_along_axis(&p[0], &i2, &ob, Some(0), d)?]), &[za], &[ta]).unwrap();
        close(&t[0], &[0.0, 2.0, 2.0, 0.0, 2.0]);
        let _ = idx;
    }

    fn slice_grads(d: Device) {
        // a[5:-6:-1] of 5 elements is the whole array reversed.
        let rev = move |p: &[Array]| Ok(vec![mx::index(&p[0], &[Ix::step(..-6, -1)], d)?]);
        let cot = uniform(&[5], 21);
        let flip = |x: &Array| v(x).into_iter().rev().collect::<Vec<f32>>();
        let (_, g) = mx::vjp(rev, &[mx::ones(&[5], Dtype::Float32, None).unwrap()], &[cot.clone()]).unwrap();
        close(&g[0], &flip(&cot));
        let (_, t) = mx::jvp(rev, &[mx::ones(&[5], Dtype::Float32, None).unwrap()], &[cot.clone()]).unwrap();
        close(&t[0], &flip(&cot));
        // a[4:-5:-2] = b on 4 elements writes positions 3 and 1.
        let upd = move |p: &[Array]| Ok(vec![mx::index_put(&p[0], &[Ix::step(..-5, -2)], &p[1], d)?]);
        let (a0, b0) = (mx::ones(&[4], Dtype::Float32, None).unwrap(), mx::zeros(&[2], Dtype::Float32, None).unwrap());
        let cot = uniform(&[4], 22);
        let c = v(&cot);
        let (_, g) = mx::vjp(upd, &[a0.clone(), b0.clone()], &[cot]).unwrap();
        close(&g[0], &[c[0], 0.0, c[2], 0.0]);
        close(&g[1], &[c[3], c[1]]);
        let (ta, tb) = (uniform(&[4], 23), uniform(&[2], 24));
        let (x, y) = (v(&ta), v(&tb));
        let (_, t) = mx::jvp(upd, &[a0, b0], &[ta, tb]).unwrap();
        close(&t[0], &[x[0], y[1], x[2], y[0]]);
    }
}

type VF = Box<dyn Fn(&[Array]) -> mx::Result<Vec<Array>>>;
fn vm(
    f: impl Fn(&[Array]) -> mx::Result<Vec<Array>> + 'static,
    i: &[Option<i32>],
    o: &[Option<i32>],
    x: &[Array],
) -> mx::Result<Vec<Array>> {
    let f: VF = Box::new(f);
    mx::vmap(f, i, o)(x)
}
fn t2(x: &Array) -> Array {
    mx::transpose(x, &[], None).unwrap()
}

device_tests! {
    fn vmap_unary_binary(d: Device) {
        type U = fn(&Array, Device) -> mx::Result<Array>;
        let ops: [U; 12] = [|a, d| mx::abs(a, d), |a, d| mx::cos(a, d), |a, d| mx::erf(a, d), |a, d| mx::exp(a, d),
            |a, d| mx::log1p(a, d), |a, d| mx::negative(a, d), |a, d| mx::sigmoid(a, d), |a, d| mx::sign(a, d),
            |a, d| mx::sin(a, d), |a, d| mx::sqrt(a, d), |a, d| mx::square(a, d), |a, d| mx::degrees(a, d)];
        let x = mx::reshape(&mx::arange(0.0, 8.0, 1.0, Dtype::Float32, None).unwrap(), &[2, 4], None).unwrap();
        for op in ops {
            let y = vm(move |p| Ok(vec![op(&p[0], d)?]), &[Some(0)], &[Some(0)], &[x.clone()]).unwrap();
            allclose(&y[0], &op(&x, d).unwrap());
            let y = vm(move |p| Ok(vec![op(&p[0], d)?]), &[Some(1)], &[Some(1)], &[x.clone()]).unwrap();
            allclose(&y[0], &op(&x, d).unwrap());
        }
        type B = fn(&Array, &Array, Device) -> mx::Result<Array>;
        let ops: [B; 6] = [|a, b, d| mx::add(a, b, d), |a, b, d| mx::divide(a, b, d), |a, b, d| mx::logaddexp(a, b, d),
            |a, b, d| mx::maximum(a, b, d), |a, b, d| mx::power(a, b, d), |a, b, d| mx::subtract(a, b, d)];
        let (x, y) = (uniform(&[2, 4], 31), uniform(&[2, 4], 32));
        let yt = uniform(&[4, 2], 33);
        for op in ops {
            let f = move |p: &[Array]| Ok(vec![op(&p[0], &p[1], d)?]);
            allclose(&vm(f, &[Some(0), Some(0)], &[Some(0)], &[x.clone(), y.clone()]).unwrap()[0], &op(&x, &y, d).unwrap());
            allclose(&vm(f, &[Some(0), Some(1)], &[Some(0)], &[x.clone(), yt.clone()]).unwrap()[0], &op(&x, &t2(&yt), d).unwrap());
            allclose(&vm(f, &[Some(0), Some(1)], &[Some(1)], &[x.clone(), yt.clone()]).unwrap()[0], &t2(&op(&x, &t2(&yt), d).unwrap()));
        }
    }

    fn vmap_reduce_mean_argreduce(d: Device) {
        let a5 = mx::ones(&[5, 5], Dtype::Int32, None).unwrap();
        let i = |x: &Array| x.to_vec::<i32>().unwrap();
        assert_eq!(i(&vm(move |p| Ok(vec![sum(&p[0], d)?]), &[Some(0)], &[Some(0)], &[a5.clone()]).unwrap()[0]), vec![5; 5]);
        let y = vm(move |p| Ok(vec![mx::sum(&p[0], &[], true, d)?]), &[Some(0)], &[Some(0)], &[a5.clone()]).unwrap();
        assert_eq!(y[0].shape(), &[5, 1]);
        assert_eq!(i(&vm(move |p| Ok(vec![mx::sum(&p[0], &[0], false, d)?]), &[Some(0)], &[Some(0)], &[a5]).unwrap()[0]), vec![5; 5]);
        let a = mx::ones(&[5, 3, 2], Dtype::Int32, None).unwrap();
        let f = move |p: &[Array]| Ok(vec![mx::sum(&p[0], &[0, 1], false, d)?]);
        assert_eq!(i(&vm(f, &[Some(0)], &[Some(0)], &[a.clone()]).unwrap()[0]), vec![6; 5]);
        assert_eq!(i(&vm(f, &[Some(1)], &[Some(0)], &[a.clone()]).unwrap()[0]), vec![10; 3]);
        assert_eq!(i(&vm(f, &[Some(2)], &[Some(0)], &[a]).unwrap()[0]), vec![15; 2]);
        let m = Array::from_slice(&[1i32, 2, 3, 2, 3, 1], &[2, 3]);
        assert_eq!(i(&vm(move |p| Ok(vec![mx::argmin(&p[0], 0, false, d)?]), &[Some(0)], &[Some(0)], &[m.clone()]).unwrap()[0]), vec![0, 2]);
        assert_eq!(i(&vm(move |p| Ok(vec![mx::argmax(&p[0], 0, false, d)?]), &[Some(0)], &[Some(0)], &[m]).unwrap()[0]), vec![2, 1]);
        let x = mx::reshape(&mx::arange(0.0, 16.0, 1.0, Dtype::Float32, None).unwrap(), &[2, 2, 4], None).unwrap();
        let mean = move |p: &[Array]| Ok(vec![mx::mean(&p[0], &[], false, d)?]);
        let inner = move |p: &[Array]| vm(mean, &[Some(0)], &[Some(0)], p);
        let y = vm(inner, &[Some(0)], &[Some(0)], &[x.clone()]).unwrap();
        allclose(&y[0], &mx::mean(&x, &[2], false, None).unwrap());
    }

    fn vmap_matmul_addmm(d: Device) {
        let (a, b) = (uniform(&[2, 3, 4], 41), uniform(&[4, 3], 42));
        let mm = move |p: &[Array]| Ok(vec![mx::matmul(&p[0], &p[1], d)?]);
        let am = move |p: &[Array]| Ok(vec![mx::addmm(&p[0], &p[1], &p[2], 1.0, 1.0, d)?]);
        allclose(&vm(mm, &[Some(0), None], &[Some(0)], &[a.clone(), b.clone()]).unwrap()[0], &mx::matmul(&a, &b, None).unwrap());
        let c = uniform(&[3], 43);
        allclose(&vm(am, &[None, Some(0), None], &[Some(0)], &[c.clone(), a.clone(), b.clone()]).unwrap()[0], &mx::addmm(&c, &a, &b, 1.0, 1.0, None).unwrap());
        let b = uniform(&[4, 2], 44);
        let want = mx::moveaxis(&mx::matmul(&mx::moveaxis(&a, 1, 0, None).unwrap(), &b, None).unwrap(), 0, 1, None).unwrap();
        allclose(&vm(mm, &[Some(1), None], &[Some(1)], &[a.clone(), b.clone()]).unwrap()[0], &want);
        let c = uniform(&[2], 45);
        let want = mx::addmm(&c, &mx::moveaxis(&a, 1, 0, None).unwrap(), &b, 1.0, 1.0, None).unwrap();
        allclose(&vm(am, &[None, Some(1), None], &[Some(0)], &[c, a.clone(), b]).unwrap()[0], &want);
        let b = uniform(&[4, 2, 3], 46);
        let bm = mx::moveaxis(&b, 1, 0, None).unwrap();
        allclose(&vm(mm, &[Some(0), Some(1)], &[Some(0)], &[a.clone(), b.clone()]).unwrap()[0], &mx::matmul(&a, &bm, None).unwrap());
        let c = uniform(&[3, 3, 2], 47);
        let want = mx::addmm(&mx::moveaxis(&c, 2, 0, None).unwrap(), &a, &bm, 1.0, 1.0, None).unwrap();
        allclose(&vm(am, &[Some(2), Some(0), Some(1)], &[Some(0)], &[c, a, b]).unwrap()[0], &want);
    }

    fn vmap_indexing_and_scatter(d: Device) {
        let x = mx::reshape(&mx::arange(0.0, 16.0, 1.0, Dtype::Float32, None).unwrap(), &[2, 2, 2, 2], None).unwrap();
        let inds = Array::from_slice(&[0i32, 1, 0, 1, 1, 0], &[2, 3]);
        let g = move |p: &[Array]| Ok(vec![mx::index(&p[0], &[Ix::Array(p[1].clone())], d)?]);
        let out = vm(g, &[Some(0), Some(0)], &[Some(0)], &[x.clone(), inds.clone()]).unwrap();
        close(&out[0], &[0., 1., 2., 3., 4., 5., 6., 7., 0., 1., 2., 3., 12., 13., 14., 15., 12., 13., 14., 15., 8., 9., 10., 11.]);
        assert_eq!(vm(g, &[Some(0), None], &[Some(0)], &[x.clone(), inds.clone()]).unwrap()[0].shape(), &[2, 2, 3, 2, 2]);
        assert_eq!(vm(g, &[None, Some(0)], &[Some(0)], &[x, inds]).unwrap()[0].shape(), &[2, 3, 2, 2, 2]);
        let m = a(&[1.0, 2.0, 3.0, 4.0], &[2, 2]);
        let zero = Array::from_slice(&[0i32], &[]);
        close(&vm(g, &[Some(0), None], &[Some(0)], &[m.clone(), zero.clone()]).unwrap()[0], &[1.0, 3.0]);
        close(&vm(g, &[Some(1), None], &[Some(0)], &[m.clone(), zero]).unwrap()[0], &[1.0, 2.0]);
        close(&vm(g, &[Some(0), Some(0)], &[Some(0)], &[m, Array::from_slice(&[0i32, 1], &[2])]).unwrap()[0], &[1.0, 4.0]);
        // Scatter: a[0] = 0 and a.at[0].add(1), mapped over axis 0 and axis 1.
        let src = a(&[1.0, 2.0, 3.0, 2.0, 3.0, 4.0], &[2, 3]);
        let set0 = move |p: &[Array]| Ok(vec![mx::index_put(&p[0], &[Ix::Index(0)], &s(0.0), d)?]);
        close(&vm(set0, &[Some(0)], &[Some(0)], &[src.clone()]).unwrap()[0], &[0.0, 2.0, 3.0, 0.0, 3.0, 4.0]);
        close(&vm(set0, &[Some(1)], &[Some(1)], &[src.clone()]).unwrap()[0], &[0.0, 0.0, 0.0, 2.0, 3.0, 4.0]);
        let add1 = move |p: &[Array]| Ok(vec![p[0].at(&[Ix::Index(0)]).add(&s(1.0), d)?]);
        close(&vm(add1, &[Some(0)], &[Some(0)], &[src.clone()]).unwrap()[0], &[2.0, 2.0, 3.0, 3.0, 3.0, 4.0]);
        close(&vm(add1, &[Some(1)], &[Some(1)], &[src]).unwrap()[0], &[2.0, 3.0, 4.0, 2.0, 3.0, 4.0]);
        // Src and indices mapped: the identity pattern; indices only; updates only.
        let put = move |p: &[Array]| Ok(vec![mx::index_put(&p[0], &[Ix::Array(p[1].clone())], &p[2], d)?]);
        let z = mx::zeros(&[3, 4], Dtype::Float32, None).unwrap();
        let idx = Array::from_slice(&[0i32, 1, 2], &[3]);
        let one = a(&[1.0, 1.0, 1.0], &[3]);
        close(&vm(put, &[Some(0), Some(0), Some(0)], &[Some(0)], &[z.clone(), idx.clone(), one.clone()]).unwrap()[0], &v(&mx::eye(3, Some(4), 0, Dtype::Float32, None).unwrap()));
        let out = vm(put, &[None, Some(0), Some(0)], &[Some(0)], &[z.clone(), idx, one]).unwrap();
        let mut want = vec![0f32; 36];
        for k in 0..3 { for j in 0..4 { want[k * 12 + k * 4 + j] = 1.0; } }
        close(&out[0], &want);
        let out = vm(put, &[None, None, Some(0)], &[Some(0)], &[z, Array::from_slice(&[0i32], &[1]), a(&[1.0, 2.0, 3.0], &[3])]).unwrap();
        let mut want = vec![0f32; 36];
        for k in 0..3 { for j in 0..4 { want[k * 12 + j] = (k + 1) as f32; } }
        close(&out[0], &want);
    }

    fn vmap_concat_split_along_axis_const(d: Device) {
        let x = uniform(&[2, 2, 2], 51);
        let cat = move |p: &[Array]| Ok(vec![mx::concatenate(&[&p[0], &p[1]], 1, d)?]);
        let out = vm(cat, &[Some(0), Some(2)], &[Some(0)], &[x.clone(), x.clone()]).unwrap();
        let parts: Vec<Array> = (0..2).map(|k| {
            let xi = mx::index(&x, &[Ix::Index(k)], None).unwrap();
            let xk = mx::index(&x, &[Ix::range(..), Ix::range(..), Ix::Index(k)], None).unwrap();
            mx::concatenate(&[&xi, &xk], 1, None).unwrap()
        }).collect();
        allclose(&out[0], &mx::stack(&[&parts[0], &parts[1]], 0, None).unwrap());
        let cc = move |p: &[Array]| Ok(vec![mx::concatenate(&[&p[0], &mx::ones(&[2, 1], Dtype::Float32, d)?], 1, d)?]);
        let want = mx::concatenate(&[&x, &mx::ones(&[2, 2, 1], Dtype::Float32, None).unwrap()], 2, None).unwrap();
        allclose(&vm(cc, &[Some(0)], &[Some(0)], &[x]).unwrap()[0], &want);
        let sp = move |p: &[Array]| { let h = mx::split(&p[0], 2, 1, d)?; Ok(vec![mx::concatenate(&[&h[1], &h[0]], 1, d)?]) };
        assert_eq!(vm(sp, &[Some(1)], &[Some(0)], &[mx::ones(&[5, 4, 6, 7], Dtype::Float32, None).unwrap()]).unwrap()[0].shape(), &[4, 5, 6, 7]);
        let tk = move |p: &[Array]| Ok(vec![mx::take_along_axis(&p[0], &p[1], Some(0), d)?]);
        let z = mx::zeros(&[4, 5, 1], Dtype::Float32, None).unwrap();
        assert_eq!(vm(tk, &[Some(0), Some(1)], &[Some(0)], &[z.clone(), mx::zeros(&[2, 4, 1], Dtype::Int32, None).unwrap()]).unwrap()[0].shape(), &[4, 2, 1]);
        assert_eq!(vm(tk, &[Some(0), None], &[Some(0)], &[z.clone(), mx::zeros(&[2, 1], Dtype::Int32, None).unwrap()]).unwrap()[0].shape(), &[4, 2, 1]);
        let pa = move |p: &[Array]| Ok(vec![mx::put_along_axis(&p[0], &p[1], &p[2], Some(0), d)?]);
        let out = vm(pa, &[Some(0), Some(1), Some(1)], &[Some(0)], &[z, mx::ones(&[2, 4, 1], Dtype::Int32, None).unwrap(), mx::ones(&[2, 4, 1], Dtype::Float32, None).unwrap()]).unwrap();
        assert_eq!(out[0].shape(), &[4, 5, 1]);
        // A function that ignores its mapped inputs: the result is broadcast over the batch.
        let (a3, b3) = (uniform(&[2, 3, 4], 52), uniform(&[4, 3], 53));
        let cf = |_: &[Array]| Ok(vec![Array::scalar(2i32)]);
        assert_eq!(vm(cf, &[Some(0), None], &[Some(0)], &[a3.clone(), b3.clone()]).unwrap()[0].to_vec::<i32>().unwrap(), vec![2, 2]);
        assert_eq!(vm(cf, &[None, Some(0)], &[Some(0)], &[a3.clone(), b3.clone()]).unwrap()[0].to_vec::<i32>().unwrap(), vec![2; 4]);
        assert_eq!(vm(cf, &[Some(1), Some(1)], &[Some(0)], &[a3.clone(), b3.clone()]).unwrap()[0].to_vec::<i32>().unwrap(), vec![2; 3]);
        err_prefix(vm(cf, &[None, None], &[Some(0)], &[a3.clone(), b3.clone()]), "[vmap]");
        err_prefix(vm(cf, &[Some(0), Some(0)], &[Some(0)], &[a3, b3]), "[vmap]");
    }

    fn compositions(d: Device) {
        // Per-example gradients: vmap of grad.
        let loss = move |x: &Array| sum(&mx::multiply(&mx::sin(x, d)?, x, d)?, d);
        let xs = uniform(&[4, 3], 61);
        let pe = vm(move |p| Ok(vec![mx::grad(loss)(&p[0])?]), &[Some(0)], &[Some(0)], &[xs.clone()]).unwrap();
        let want: Vec<f32> = v(&xs).iter().map(|&t| t.sin() + t * t.cos()).collect();
        close(&pe[0], &want);
        // Grad of vmap: d/dx sum(vmap(square)(x)) = 2x.
        let g = mx::grad(move |x: &Array| {
            let y = vm(move |p| Ok(vec![mx::square(&p[0], d)?]), &[Some(1)], &[Some(0)], &[x.clone()])?;
            sum(&y[0], d)
        })(&xs).unwrap();
        close(&g, &v(&xs).iter().map(|t| 2.0 * t).collect::<Vec<_>>());
        // Grad of grad of a vector function.
        let h = mx::grad(move |x: &Array| sum(&mx::grad(loss)(x)?, d))(&xs).unwrap();
        close(&h, &v(&xs).iter().map(|&t| 2.0 * t.cos() - t * t.sin()).collect::<Vec<_>>());
        // jvp of grad (forward over reverse) gives the Hessian-vector product.
        let (_, hv) = mx::jvp(move |p: &[Array]| Ok(vec![mx::grad(loss)(&p[0])?]), &[xs.clone()], &[mx::ones_like(&xs, None).unwrap()]).unwrap();
        close(&hv[0], &v(&h));
    }

    fn errors(d: Device) {
        let x = a(&[1.0, 2.0], &[2]);
        err_prefix(mx::grad(move |x: &Array| mx::sum(x, &[], true, d))(&mx::ones(&[2, 2], Dtype::Float32, None).unwrap()), "[grad]");
        let id = |p: &[Array]| Ok(p[0].clone());
        err_prefix(mx::grad_argnums(id, &[2])(&[s(2.0)]), "[grad]");
        err_prefix(mx::grad_argnums(id, &[-2])(&[s(2.0)]), "[grad]");
        err_prefix(mx::grad_argnums(id, &[0, 0])(&[s(2.0)]), "[grad]");
        err_prefix(mx::grad_argnums(id, &[])(&[s(2.0)]), "[grad]");
        err_prefix(mx::vjp(|p| Ok(vec![mx::exp(&p[0], d)?]), &[x.clone()], &[a(&[1.0, 2.0, 3.0], &[3])]), "[vjp]");
        err_prefix(mx::vjp(|p| Ok(vec![mx::exp(&p[0], d)?]), &[x.clone()], &[]), "[vjp]");
        err_prefix(mx::jvp(|p| Ok(vec![mx::exp(&p[0], d)?]), &[x.clone()], &[s(1.0)]), "[jvp]");
        let ex = move |p: &[Array]| Ok(vec![mx::exp(&p[0], d)?]);
        err_prefix(vm(ex, &[Some(0)], &[Some(0)], &[s(1.0)]), "[vmap]");
        err_prefix(vm(ex, &[Some(2)], &[Some(0)], &[x.clone()]), "[vmap]");
        err_prefix(vm(ex, &[Some(0)], &[Some(2)], &[x.clone()]), "[vmap]");
        let add = move |p: &[Array]| Ok(vec![mx::add(&p[0], &p[1], d)?]);
        let (ones101, ones1115) = (mx::ones(&[10, 1], Dtype::Float32, None).unwrap(), mx::ones(&[1, 1, 1, 5], Dtype::Float32, None).unwrap());
        err_prefix(vm(add, &[Some(0), Some(0)], &[Some(0)], &[ones101.clone(), ones1115]), "[vmap]");
        err_prefix(vm(add, &[Some(0), Some(1)], &[Some(0)], &[ones101, mx::ones(&[10, 5], Dtype::Float32, None).unwrap()]), "[vmap]");
    }
}
