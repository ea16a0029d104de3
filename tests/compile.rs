//! `compile`: compiled functions give the uncompiled results (bit for bit on the CPU, within
//! float tolerance on the GPU, whose compilers may contract a fused `a * b + c`), on a few hundred
//! random elementwise graphs and on gradients, vmap and a training step; fusion really fuses (one
//! generated kernel per region, common subexpressions merged); new shapes trace again; bad uses
//! are errors naming `[compile]`.

mod common;

use common::{Rng, same};

use std::sync::{Arc, Mutex};
use wmx::{self as mx, Array, CompileOptions, Device, Dtype};

type Fun = Box<dyn Fn(&[Array]) -> mx::Result<Vec<Array>> + Send + Sync>;

fn f64s(a: &Array) -> Vec<f64> {
    common::values(a)
}

/// One random elementwise step over the pool (all values broadcast to the output shape).
fn step(r: &mut Rng, pool: &[Array], dev: Device) -> mx::Result<Array> {
    let a = &pool[r.below(pool.len())];
    let b = &pool[r.below(pool.len())];
    let s = dev;
    let fa = || mx::astype(a, Dtype::Float32, s);
    Ok(match r.below(16) {
        0 => mx::add(a, b, s)?,
        1 => mx::subtract(a, b, s)?,
        2 => mx::multiply(a, b, s)?,
        3 => mx::maximum(a, b, s)?,
        4 => mx::tanh(&fa()?, s)?,
        5 => mx::exp(&mx::minimum(&fa()?, 3.0f32, s)?, s)?,
        6 => mx::sin(&fa()?, s)?,
        7 => mx::multiply(a, r.f32(), s)?,
        8 => mx::add(a, 1.5f32, s)?,
        9 => mx::where_(&mx::greater(a, b, s)?, a, b, s)?,
        10 => mx::astype(
            a,
            [
                Dtype::Float16,
                Dtype::Int32,
                Dtype::Float32,
                Dtype::Bfloat16,
            ][r.below(4)],
            s,
        )?,
        11 => mx::sigmoid(&fa()?, s)?,
        12 => mx::square(a, s)?,
        13 => mx::abs(a, s)?,
        14 => mx::divide(&fa()?, &mx::add(&mx::abs(&fa()?, s)?, 1.0f32, s)?, s)?,
        _ => mx::negative(a, s)?,
    })
}

/// A random graph of `len` steps over three inputs of broadcastable shapes; its outputs are the
/// last value and one random intermediate (which the fusion must keep).
fn random_graph(seed: u64, len: usize, dev: Device) -> Fun {
    Box::new(move |x: &[Array]| {
        let mut r = Rng(seed);
        let mut pool: Vec<Array> = x.to_vec();
        for _ in 0..len {
            let v = step(&mut r, &pool, dev)?;
            pool.push(v);
        }
        let k = x.len() + r.below(len);
        Ok(vec![pool[pool.len() - 1].clone(), pool[k].clone()])
    })
}

fn random_inputs(r: &mut Rng, dev: Device) -> Vec<Array> {
    let shape = [[4, 6], [3, 5], [2, 8]][r.below(3)];
    let n = (shape[0] * shape[1]) as usize;
    let v: Vec<f32> = (0..n).map(|_| r.f32()).collect();
    let x = Array::from_slice(&v, &shape);
    let row: Vec<f32> = (0..shape[1]).map(|_| r.f32()).collect();
    let y = Array::from_slice(&row, &[shape[1]]);
    // A transposed view: the strided layout.
    let t: Vec<f32> = (0..n).map(|_| r.f32()).collect();
    let z = mx::transpose(&Array::from_slice(&t, &[shape[1], shape[0]]), &[1, 0], dev).unwrap();
    vec![x, y, z]
}

fn random_graphs_match(dev: Device, cases: u64, tol: f64) {
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    for case in 0..cases {
        let len = 2 + r.below(10);
        let inputs = random_inputs(&mut r, dev);
        let f = random_graph(case + 1, len, dev);
        let want = f(&inputs).unwrap();
        let g = mx::compile(random_graph(case + 1, len, dev));
        let got = g(&inputs).unwrap();
        for (k, (w, o)) in want.iter().zip(&got).enumerate() {
            assert_eq!(w.dtype(), o.dtype(), "case {case} output {k}");
            let (w, o) = (f64s(w), f64s(o));
            assert!(
                same(&o, &w, tol),
                "case {case} ({len} steps) output {k}:\n got {o:?}\nwant {w:?}"
            );
        }
    }
}

#[test]
fn random_graphs_cpu_bit_exact() {
    random_graphs_match(Device::cpu(), 300, 0.0);
}

#[test]
fn random_graphs_gpu() {
    if let Some(g) = common::gpu() {
        random_graphs_match(g, 200, 2e-5);
        // The graphs really fused: many distinct generated kernels were built.
        let k = fused_kernels(g);
        assert!(k.len() >= 100, "only {} fused kernels: {k:?}", k.len());
    }
}

/// The names of the fused kernels a device has built.
fn fused_kernels(dev: Device) -> Vec<String> {
    mx::kernels_built(dev)
        .into_iter()
        .filter(|k| k.starts_with("fused_"))
        .collect()
}

#[test]
fn a_chain_of_a_thousand_ops_is_one_kernel() {
    for dev in [Some(Device::cpu()), common::gpu()].into_iter().flatten() {
        let chain = move |x: &[Array]| {
            let mut y = x[0].clone();
            for k in 0..1000 {
                y = match k % 3 {
                    0 => mx::multiply(&y, 0.999f32, dev)?,
                    1 => mx::add(&y, 0.001f32, dev)?,
                    _ => mx::maximum(&y, -1.0f32, dev)?,
                };
            }
            Ok(vec![y])
        };
        let x = mx::arange(0.0, 64.0, 1.0, Dtype::Float32, dev).unwrap();
        let want = f64s(&chain(std::slice::from_ref(&x)).unwrap()[0]);
        let c = mx::compile(chain);
        let got = f64s(&c(std::slice::from_ref(&x)).unwrap()[0]);
        // A thousand steps: the GPU may contract each multiply and add into one FMA (about 1e-5
        // apart after the chain on an H100), the CPU rounds both.
        let tol = if dev == Device::cpu() { 1e-5 } else { 1e-4 };
        assert!(same(&got, &want, tol), "{got:?} vs {want:?}");
        if dev != Device::cpu() {
            // One kernel holds the whole chain (its name counts its steps).
            let k = fused_kernels(dev);
            assert!(
                k.iter().any(|n| n.starts_with("fused_vec4.fused1000(")),
                "{k:?}"
            );
        }
    }
}

#[test]
fn common_subexpressions_are_computed_once() {
    let Some(g) = common::gpu() else { return };
    let f = mx::compile(move |x: &[Array]| {
        let a = mx::log1p(&mx::abs(&x[0], g)?, g)?;
        let b = mx::log1p(&mx::abs(&x[0], g)?, g)?;
        Ok(vec![mx::add(&mx::multiply(&a, &b, g)?, 0.25f32, g)?])
    });
    let x = Array::from_slice(&[1.0f32, -2.0, 3.0, 0.5, 7.0], &[5]);
    let y = f64s(&f(&[x]).unwrap()[0]);
    let want: Vec<f64> = [1.0f64, 2.0, 3.0, 0.5, 7.0]
        .iter()
        .map(|v| v.ln_1p().powi(2) + 0.25)
        .collect();
    assert!(same(&y, &want, 1e-6), "{y:?}");
    let k = fused_kernels(g);
    let ours: Vec<&String> = k.iter().filter(|n| n.contains("log1p")).collect();
    assert_eq!(ours.len(), 1, "{k:?}");
    assert_eq!(ours[0].matches("log1p").count(), 1, "{ours:?}");
}

/// A producer with two elementwise consumers (an MLP layer's `x·W - b` feeding the activation
/// and its mask) is recomputed inside both fused kernels rather than written out.
#[test]
fn a_shared_producer_is_recomputed_in_each_consumer() {
    for dev in [Some(Device::cpu()), common::gpu()].into_iter().flatten() {
        let f = move |p: &[Array]| {
            let z = mx::subtract(&mx::matmul(&p[0], &p[1], dev)?, &p[2], dev)?;
            let act = mx::minimum(&z, 0.5f32, dev)?;
            let mask = mx::astype(&mx::less(&z, 0.5f32, dev)?, Dtype::Float32, dev)?;
            Ok(vec![act, mx::multiply(&mask, &p[3], dev)?])
        };
        let k = mx::random::key(3);
        let p = vec![
            mx::random::normal(&[6, 5], Dtype::Float32, None, None, Some(&k), dev).unwrap(),
            mx::random::uniform(-1.0f32, 1.0f32, &[5, 4], Dtype::Float32, Some(&k), dev).unwrap(),
            Array::from_slice(&[0.1f32, -0.2, 0.3, 0.0], &[4]),
            mx::full(&[6, 4], 2.0, Dtype::Float32, dev).unwrap(),
        ];
        let want: Vec<Vec<f64>> = f(&p).unwrap().iter().map(f64s).collect();
        let got: Vec<Vec<f64>> = mx::compile(f)(&p).unwrap().iter().map(f64s).collect();
        for (g, w) in got.iter().zip(&want) {
            assert!(same(g, w, 1e-6), "{g:?} vs {w:?}");
        }
        if dev != Device::cpu() {
            let k = fused_kernels(dev);
            for ops in ["subtract.minimum.", "subtract.less.astype.multiply."] {
                assert!(k.iter().any(|n| n.contains(ops)), "no {ops} in {k:?}");
            }
        }
    }
}

#[test]
fn new_shapes_trace_again_and_shapeless_replays() {
    let calls = Arc::new(Mutex::new(0));
    let c2 = calls.clone();
    let f = move |x: &[Array]| {
        *c2.lock().unwrap() += 1;
        Ok(vec![mx::exp(&mx::negative(&x[0], None)?, None)?])
    };
    let c = mx::compile(f.clone());
    for n in [3, 3, 5, 3] {
        let x = mx::ones(&[n], Dtype::Float32, Device::cpu()).unwrap();
        let y = c(&[x]).unwrap();
        assert_eq!(y[0].shape(), &[n]);
        assert!(same(
            &f64s(&y[0]),
            &vec![(-1.0f64).exp() as f32 as f64; n as usize],
            0.0
        ));
    }
    assert_eq!(*calls.lock().unwrap(), 2, "traced once per shape");
    *calls.lock().unwrap() = 0;
    let s = mx::compile_with(f, CompileOptions { shapeless: true });
    for n in [3, 4, 9] {
        let x = mx::full(&[n], 2.0, Dtype::Float32, Device::cpu()).unwrap();
        let y = s(&[x]).unwrap();
        assert_eq!(y[0].shape(), &[n]);
        assert!(same(
            &f64s(&y[0]),
            &vec![(-2.0f64).exp() as f32 as f64; n as usize],
            0.0
        ));
    }
    assert_eq!(*calls.lock().unwrap(), 1, "shapeless: traced once");
}

#[test]
fn shapeless_with_disagreeing_shapes_traces_again() {
    let s = mx::compile_with(
        |x: &[Array]| Ok(vec![mx::add(&mx::sin(&x[0], None)?, &x[1], None)?]),
        CompileOptions { shapeless: true },
    );
    let a = mx::ones(&[3], Dtype::Float32, Device::cpu()).unwrap();
    s(&[a.clone(), a.clone()]).unwrap();
    // Same ranks, but now the second input broadcasts: a new trace, not a wrong add.
    let b = mx::ones(&[4], Dtype::Float32, Device::cpu()).unwrap();
    let one = mx::ones(&[1], Dtype::Float32, Device::cpu()).unwrap();
    let y = s(&[b, one]).unwrap();
    assert_eq!(y[0].shape(), &[4]);
    assert!(same(&f64s(&y[0]), &[(1.0f32.sin() + 1.0) as f64; 4], 0.0));
}

device_tests! {
    fn composes_with_grad_vjp_and_vmap(dev: Device) {
        let _g = mx::stream(dev);
        let f = |x: &[Array]| -> mx::Result<Vec<Array>> {
            let t = mx::tanh(&mx::multiply(&x[0], &x[1], None)?, None)?;
            Ok(vec![mx::sum(&mx::multiply(&t, &mx::sin(&x[0], None)?, None)?, &[], false, None)?])
        };
        let x = Array::from_slice(&[0.3f32, -0.7, 1.1, 2.0], &[4]);
        let w = Array::from_slice(&[1.5f32, 0.2, -0.4, 0.9], &[4]);
        let want = mx::value_and_grad_argnums(|v: &[Array]| Ok(f(v)?.remove(0)), &[0, 1])(&[x.clone(), w.clone()]).unwrap();
        // compile(value_and_grad(f))
        let cvg = mx::compile(move |v: &[Array]| {
            let (val, grads) = mx::value_and_grad_argnums(|v: &[Array]| Ok(f(v)?.remove(0)), &[0, 1])(v)?;
            Ok(std::iter::once(val).chain(grads).collect())
        });
        let got = cvg(&[x.clone(), w.clone()]).unwrap();
        let tol = if dev == Device::cpu() { 0.0 } else { 1e-5 };
        assert!(same(&f64s(&got[0]), &f64s(&want.0), tol));
        assert!(same(&f64s(&got[1]), &f64s(&want.1[0]), tol));
        assert!(same(&f64s(&got[2]), &f64s(&want.1[1]), tol));
        // grad(compile(f))
        let cf = Arc::new(mx::compile(f));
        let cf2 = cf.clone();
        let g = mx::grad(move |x: &Array| Ok(cf2(&[x.clone(), Array::from_slice(&[1.5f32, 0.2, -0.4, 0.9], &[4])])?.remove(0)))(&x).unwrap();
        assert!(same(&f64s(&g), &f64s(&want.1[0]), 1e-6), "{:?} vs {:?}", f64s(&g), f64s(&want.1[0]));
        // jvp through fused nodes, against the uncompiled jvp
        let e = mx::compile(|v: &[Array]| Ok(vec![mx::exp(&mx::multiply(&mx::sin(&v[0], None)?, 2.0f32, None)?, None)?]));
        let t = Array::from_slice(&[1.0f32, 0.5, -1.0, 2.0], &[4]);
        let (_, jt) = mx::jvp(|v: &[Array]| e(v), std::slice::from_ref(&x), std::slice::from_ref(&t)).unwrap();
        let (_, jw) = mx::jvp(|v: &[Array]| Ok(vec![mx::exp(&mx::multiply(&mx::sin(&v[0], None)?, 2.0f32, None)?, None)?]), &[x.clone()], &[t]).unwrap();
        assert!(same(&f64s(&jt[0]), &f64s(&jw[0]), 1e-6));
        // vmap(compile(f)) over a batch of rows
        let xb = mx::stack(&[&x, &w], 0, None).unwrap();
        let vm = mx::vmap(|v: &[Array]| e(v), &[Some(0)], &[Some(0)]);
        let got = vm(std::slice::from_ref(&xb)).unwrap();
        let want = mx::exp(&mx::multiply(mx::sin(&xb, None).unwrap(), 2.0f32, None).unwrap(), None).unwrap();
        assert!(same(&f64s(&got[0]), &f64s(&want), 1e-6));
    }

    fn a_compiled_training_step_matches(dev: Device) {
        let _g = mx::stream(dev);
        // A two-layer MLP on fixed data, SGD with momentum written with ops; params in, params out.
        let k = mx::random::key(3);
        let keys: Vec<Array> = (0..3).map(|i| mx::random::key(3 + i)).collect();
        let _ = k;
        let w1 = mx::random::normal(&[8, 16], Dtype::Float32, Some(0.0), Some(0.3), Some(&keys[0]), None).unwrap();
        let w2 = mx::random::normal(&[16, 4], Dtype::Float32, Some(0.0), Some(0.3), Some(&keys[1]), None).unwrap();
        let xb = mx::random::normal(&[32, 8], Dtype::Float32, Some(0.0), Some(1.0), Some(&keys[2]), None).unwrap();
        let yb = mx::tanh(&mx::matmul(&xb, &mx::ones(&[8, 4], Dtype::Float32, None).unwrap(), None).unwrap(), None).unwrap();
        let step = move |p: &[Array]| -> mx::Result<Vec<Array>> {
            let (x, y) = (xb.clone(), yb.clone());
            let loss = move |q: &[Array]| {
                let h = mx::maximum(&mx::matmul(&x, &q[0], None)?, 0.0f32, None)?;
                let o = mx::matmul(&h, &q[1], None)?;
                mx::mean(&mx::square(&mx::subtract(&o, &y, None)?, None)?, &[], false, None)
            };
            let (l, g) = mx::value_and_grad_argnums(loss, &[0, 1])(&p[..2])?;
            let mut out = vec![l];
            for i in 0..2 {
                let m = mx::add(&mx::multiply(&p[2 + i], 0.9f32, None)?, &g[i], None)?;
                out.push(mx::subtract(&p[i], &mx::multiply(&m, 0.05f32, None)?, None)?);
                out.push(m);
            }
            Ok(vec![out[0].clone(), out[1].clone(), out[3].clone(), out[2].clone(), out[4].clone()])
        };
        let compiled = mx::compile(step.clone());
        let zeros = |a: &Array| mx::zeros_like(a, None).unwrap();
        let mut plain = vec![w1.clone(), w2.clone(), zeros(&w1), zeros(&w2)];
        let mut fast = plain.clone();
        let tol = if dev == Device::cpu() { 0.0 } else { 1e-5 };
        for it in 0..5 {
            let a = step(&plain).unwrap();
            let b = compiled(&fast).unwrap();
            assert!(same(&f64s(&b[0]), &f64s(&a[0]), tol), "step {it}: loss {:?} vs {:?}", f64s(&b[0]), f64s(&a[0]));
            plain = a[1..].to_vec();
            fast = b[1..].to_vec();
        }
        for (p, q) in plain.iter().zip(&fast) {
            assert!(same(&f64s(q), &f64s(p), tol * 10.0));
        }
    }

    fn bad_uses_are_errors_naming_compile(dev: Device) {
        let _g = mx::stream(dev);
        // Evaluating inside the traced function.
        let c = mx::compile(|x: &[Array]| {
            let s = mx::sum(&x[0], &[], false, None)?.item::<f32>()?;
            Ok(vec![mx::multiply(&x[0], s, None)?])
        });
        let e = c(&[mx::ones(&[3], Dtype::Float32, None).unwrap()]).unwrap_err();
        assert!(e.to_string().contains("[compile]"), "{e}");
        // An output structure that changes with the shape.
        let c = mx::compile(|x: &[Array]| {
            let n = x[0].shape()[0] as usize;
            Ok(vec![x[0].clone(); n])
        });
        c(&[mx::ones(&[2], Dtype::Float32, None).unwrap()]).unwrap();
        let e = c(&[mx::ones(&[3], Dtype::Float32, None).unwrap()]).unwrap_err();
        assert!(e.to_string().contains("[compile]") && e.to_string().contains("outputs"), "{e}");
        // A captured array replaced by its owner.
        let w = Arc::new(Mutex::new(mx::ones(&[3], Dtype::Float32, None).unwrap()));
        let w2 = w.clone();
        let c = mx::compile(move |x: &[Array]| Ok(vec![mx::add(&x[0], &*w2.lock().unwrap(), None)?]));
        let x = mx::ones(&[3], Dtype::Float32, None).unwrap();
        assert_eq!(f64s(&c(std::slice::from_ref(&x)).unwrap()[0]), vec![2.0; 3]);
        *w.lock().unwrap() = mx::full(&[3], 5.0, Dtype::Float32, None).unwrap();
        let e = c(std::slice::from_ref(&x)).unwrap_err();
        assert!(e.to_string().contains("[compile]") && e.to_string().contains("captured"), "{e}");
    }

    fn half_precision_and_integer_regions_fuse_exactly(dev: Device) {
        let _g = mx::stream(dev);
        let f = |x: &[Array]| -> mx::Result<Vec<Array>> {
            let h = mx::astype(&x[0], Dtype::Float16, None)?;
            let a = mx::add(&mx::multiply(&h, &h, None)?, &h, None)?;
            let b = mx::astype(&mx::astype(&mx::multiply(&x[0], 100.0f32, None)?, Dtype::Int32, None)?, Dtype::Uint8, None)?;
            let c = mx::astype(&mx::add(&b, &b, None)?, Dtype::Bfloat16, None)?;
            Ok(vec![mx::exp(&a, None)?, mx::multiply(&c, &mx::astype(&a, Dtype::Bfloat16, None)?, None)?])
        };
        let x = Array::from_slice(&[0.1f32, -0.33, 1.7, 2.9, -1.2, 0.01, 0.77, 1.0], &[8]);
        let want = f(std::slice::from_ref(&x)).unwrap();
        let got = mx::compile(f)(&[x]).unwrap();
        for (w, g) in want.iter().zip(&got) {
            assert_eq!(w.dtype(), g.dtype());
            assert!(same(&f64s(g), &f64s(w), if dev == Device::cpu() { 0.0 } else { 1e-3 }), "{:?} vs {:?}", f64s(g), f64s(w));
        }
    }
}
