//! `compile` fuses reductions and softmax with their elementwise neighbours: the region that
//! computes a reduction's input (its prologue) and the region that only rescales its result
//! (its epilogue: `mean`'s division, `sqrt`, `log`, a cast) run inside the reduction's kernel.
//! Checked on random graphs (bit for bit on the CPU, within float tolerance on the GPU, whose
//! fused and unfused reductions may add in another order), on the patterns that motivate it
//! (mean, RMS, logsumexp, a scaled and masked softmax, long rows reduced in two passes, bool and
//! half-precision inputs), and through grad, jvp and vmap.

mod common;

use common::{Rng, same};

use wmx::{self as mx, Array, Device, Dtype};

fn f64s(a: &Array) -> Vec<f64> {
    common::values(a)
}

fn assert_same(what: &str, got: &Array, want: &Array, tol: f64) {
    assert_eq!(got.dtype(), want.dtype(), "{what}: dtype");
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    let (g, w) = (f64s(got), f64s(want));
    assert!(same(&g, &w, tol), "{what}:\n got {g:?}\nwant {w:?}");
}

/// One random elementwise step over the pool (all values of the inputs' shape or broadcast).
fn step(r: &mut Rng, pool: &[Array]) -> mx::Result<Array> {
    let a = &pool[r.below(pool.len())];
    let b = &pool[r.below(pool.len())];
    let fa = || mx::astype(a, Dtype::Float32, None);
    Ok(match r.below(11) {
        0 => mx::add(a, b, None)?,
        1 => mx::subtract(a, b, None)?,
        2 => mx::multiply(a, b, None)?,
        3 => mx::maximum(a, b, None)?,
        4 => mx::tanh(&fa()?, None)?,
        5 => mx::exp(&mx::minimum(&fa()?, 2.0f32, None)?, None)?,
        6 => mx::multiply(a, r.f32(), None)?,
        7 => mx::where_(&mx::greater(a, b, None)?, a, b, None)?,
        8 => mx::astype(
            a,
            [
                Dtype::Float16,
                Dtype::Int32,
                Dtype::Float32,
                Dtype::Bfloat16,
            ][r.below(4)],
            None,
        )?,
        9 => mx::square(a, None)?,
        _ => mx::abs(a, None)?,
    })
}

/// A random reduction (or softmax) of `v`.
fn reduction(r: &mut Rng, v: &Array) -> mx::Result<Array> {
    let nd = v.ndim() as i32;
    let mut axes: Vec<i32> = (0..nd).filter(|_| r.below(2) == 0).collect();
    if axes.is_empty() {
        axes.push(r.below(nd as usize) as i32);
    }
    let keep = r.below(2) == 0;
    Ok(match r.below(9) {
        0 | 1 => mx::sum(v, &axes, keep, None)?,
        2 => mx::max(v, &axes, keep, None)?,
        3 => mx::min(v, &axes, keep, None)?,
        4 => mx::prod(
            &mx::tanh(&mx::astype(v, Dtype::Float32, None)?, None)?,
            &axes,
            keep,
            None,
        )?,
        5 => mx::mean(v, &axes, keep, None)?,
        6 => mx::softmax(v, &[-1], None)?,
        7 => mx::logsumexp(v, &axes, keep, None)?,
        _ => mx::any(&mx::greater(v, 0.5f32, None)?, &axes, keep, None)?,
    })
}

/// A random epilogue step of a (float or not) reduced value.
fn epilogue(r: &mut Rng, v: &Array) -> mx::Result<Array> {
    let f = mx::astype(v, Dtype::Float32, None)?;
    Ok(match r.below(5) {
        0 => mx::sqrt(&mx::add(&mx::abs(&f, None)?, 1.0f32, None)?, None)?,
        1 => mx::multiply(v, 0.25f32, None)?,
        2 => mx::log(&mx::add(&mx::abs(&f, None)?, 1.0f32, None)?, None)?,
        3 => mx::astype(v, Dtype::Float16, None)?,
        _ => mx::exp(&mx::minimum(&f, 3.0f32, None)?, None)?,
    })
}

/// A random graph: a prologue of 1–4 steps, a reduction, 0–2 epilogue steps. Sometimes the
/// prologue's value is an output as well (then it cannot be absorbed).
fn random_graph(seed: u64) -> impl Fn(&[Array]) -> mx::Result<Vec<Array>> {
    move |x: &[Array]| {
        let mut r = Rng(seed);
        let mut pool: Vec<Array> = x.to_vec();
        for _ in 0..1 + r.below(4) {
            let v = step(&mut r, &pool)?;
            pool.push(v);
        }
        let pre = pool[pool.len() - 1].clone();
        let mut v = reduction(&mut r, &pre)?;
        for _ in 0..r.below(3) {
            v = epilogue(&mut r, &v)?;
        }
        Ok(if r.below(5) == 0 {
            vec![v, pre]
        } else {
            vec![v]
        })
    }
}

/// Three inputs of one of a few shapes: dense, a broadcast row, a transposed view.
fn random_inputs(r: &mut Rng) -> Vec<Array> {
    let shape = [[3, 5, 8], [4, 6, 4], [2, 7, 12], [2, 4, 64]][r.below(4)];
    let n = (shape[0] * shape[1] * shape[2]) as usize;
    let v: Vec<f32> = (0..n).map(|_| r.f32()).collect();
    let x = Array::from_slice(&v, &shape);
    let row: Vec<f32> = (0..shape[2]).map(|_| r.f32()).collect();
    let y = Array::from_slice(&row, &[shape[2]]);
    let t: Vec<f32> = (0..n).map(|_| r.f32()).collect();
    let z = Array::from_slice(&t, &[shape[2], shape[1], shape[0]]);
    let z = mx::transpose(&z, &[2, 1, 0], None).unwrap();
    vec![x, y, z]
}

fn random_graphs_match(dev: Device, cases: u64, tol: f64) {
    let _g = mx::stream(dev);
    let mut r = Rng(0x51_7C_C1_B7_27_22_0A_95);
    for case in 0..cases {
        let inputs = random_inputs(&mut r);
        let want = random_graph(case + 1)(&inputs).unwrap();
        let got = mx::compile(random_graph(case + 1))(&inputs).unwrap();
        assert_eq!(want.len(), got.len());
        for (k, (w, o)) in want.iter().zip(&got).enumerate() {
            assert_same(&format!("case {case} output {k}"), o, w, tol);
        }
    }
}

/// The fused reductions a device has built.
fn fused_reductions(dev: Device) -> Vec<String> {
    mx::kernels_built(dev)
        .into_iter()
        .filter(|k| k.starts_with("fused_reduce") || k.starts_with("fused_softmax"))
        .collect()
}

#[test]
fn random_reductions_cpu_bit_exact() {
    random_graphs_match(Device::cpu(), 250, 0.0);
}

#[test]
fn random_reductions_gpu() {
    if let Some(g) = common::gpu() {
        random_graphs_match(g, 150, 1e-4);
        let k = fused_reductions(g);
        assert!(k.len() >= 40, "only {} fused reductions: {k:?}", k.len());
        for kind in [
            "fused_reduce_wg",
            "fused_reduce_vec4",
            "fused_reduce_thread",
            "fused_softmax",
        ] {
            assert!(
                k.iter().any(|n| n.starts_with(kind)),
                "no {kind} kernel in {k:?}"
            );
        }
    }
}

/// `f` compiled against `f` itself on `inputs`; on the GPU, also that `kernel` (a prefix of a
/// fused reduction's name, with `part` in it) was built.
fn check(
    dev: Device,
    f: fn(&[Array]) -> mx::Result<Vec<Array>>,
    inputs: &[Array],
    kernel: &str,
    part: &str,
) {
    let _g = mx::stream(dev);
    let want = f(inputs).unwrap();
    let got = mx::compile(f)(inputs).unwrap();
    let tol = if dev == Device::cpu() { 0.0 } else { 1e-4 };
    for (k, (w, o)) in want.iter().zip(&got).enumerate() {
        assert_same(&format!("{kernel} output {k}"), o, w, tol);
    }
    if dev != Device::cpu() {
        let k = fused_reductions(dev);
        assert!(
            k.iter().any(|n| n.starts_with(kernel) && n.contains(part)),
            "no {kernel} with {part} in {k:?}"
        );
    }
}

fn normal(shape: &[i32], seed: u64) -> Array {
    let key = mx::random::key(seed);
    mx::random::normal(
        shape,
        Dtype::Float32,
        Some(0.0),
        Some(1.0),
        Some(&key),
        None,
    )
    .unwrap()
}

device_tests! {
    fn mean_rms_and_logsumexp_are_one_kernel_each(dev: Device) {
        let x = normal(&[16, 96], 1);
        // mean(x * 2, axis 1): the division is the epilogue, after the keepdims reshape.
        check(dev, |v| Ok(vec![mx::mean(&mx::multiply(&v[0], 2.0f32, None)?, &[1], false, None)?]), std::slice::from_ref(&x), "fused_reduce", ">fused1(float32).divide");
        // rsqrt(mean(x²) + eps): square in, add and rsqrt out.
        check(dev, |v| {
            let ms = mx::mean(&mx::square(&v[0], None)?, &[-1], true, None)?;
            Ok(vec![mx::rsqrt(&mx::add(&ms, 1e-5f32, None)?, None)?])
        }, std::slice::from_ref(&x), "fused_reduce", ".rsqrt");
        // Along the first axis (strided reads of a transposed view).
        let t = mx::transpose(&x, &[1, 0], None).unwrap();
        check(dev, |v| Ok(vec![mx::sum(&mx::exp(&v[0], None)?, &[0], false, None)?]), &[t], "fused_reduce", "fused1(float32).exp.float32>sum[0]");
        // logsumexp: its exp(x - m) feeds the sum; log(sum) + m is the epilogue (m its second
        // input).
        check(dev, |v| Ok(vec![mx::logsumexp(&v[0], &[1], false, None)?]), std::slice::from_ref(&x), "fused_reduce", "exp.float32>sum[1]>fused2(float32,float32).log.add");
    }

    fn a_scaled_masked_softmax_is_one_kernel(dev: Device) {
        let s = normal(&[2, 3, 8, 8], 2);
        // A causal additive mask broadcast over batch and heads (read in place, period 64).
        let causal: Vec<f32> = (0..64).map(|i| if i % 8 > i / 8 { f32::NEG_INFINITY } else { 0.0 }).collect();
        let mask = Array::from_slice(&causal, &[8, 8]);
        check(dev, |v| {
            let z = mx::add(&mx::multiply(&v[0], 0.125f32, None)?, &v[1], None)?;
            Ok(vec![mx::softmax(&z, &[-1], None)?])
        }, &[s.clone(), mask], "fused_softmax", "add.float32>softmax");
        // A per-batch mask [2, 1, 8, 8] (not one repeated block: copied dense first), in f16.
        let m2 = mx::multiply(normal(&[2, 1, 8, 8], 3), 0.5f32, None).unwrap();
        check(dev, |v| {
            let z = mx::add(&mx::astype(&v[0], Dtype::Float16, None)?, &mx::astype(&v[1], Dtype::Float16, None)?, None)?;
            Ok(vec![mx::softmax(&z, &[-1], None)?])
        }, &[s, m2], "fused_softmax", "float16>softmax");
    }

    fn long_rows_bool_and_half_inputs(dev: Device) {
        // 90,000 elements into one output: two passes (chunks, then partials); the epilogue then
        // runs after the second pass.
        let big = normal(&[300, 300], 4);
        check(dev, |v| Ok(vec![mx::sqrt(&mx::sum(&mx::square(&v[0], None)?, &[], false, None)?, None)?]), &[big], "fused_reduce", "square.float32>sum[0, 1]>");
        let x = normal(&[6, 40], 5);
        check(dev, |v| Ok(vec![
            mx::all(&mx::greater(&v[0], -3.0f32, None)?, &[1], false, None)?,
            mx::any(&mx::less(&v[0], -2.0f32, None)?, &[0], true, None)?,
        ]), std::slice::from_ref(&x), "fused_reduce", "bool>all");
        check(dev, |v| Ok(vec![mx::max(&mx::abs(&mx::astype(&v[0], Dtype::Float16, None)?, None)?, &[1], false, None)?]), std::slice::from_ref(&x), "fused_reduce", "float16>max");
        check(dev, |v| Ok(vec![mx::sum(&mx::astype(&mx::multiply(&v[0], 10.0f32, None)?, Dtype::Int32, None)?, &[1], true, None)?]), &[x], "fused_reduce", "int32>sum");
    }

    fn fused_reductions_differentiate_and_map(dev: Device) {
        let _g = mx::stream(dev);
        let f = |v: &[Array]| -> mx::Result<Vec<Array>> {
            let z = mx::multiply(&v[0], &v[1], None)?;
            let p = mx::softmax(&z, &[-1], None)?;
            let a = mx::sum(&mx::multiply(&p, &v[0], None)?, &[], false, None)?;
            let b = mx::mean(&mx::square(&z, None)?, &[], false, None)?;
            Ok(vec![mx::add(&a, &mx::sqrt(&b, None)?, None)?])
        };
        let x = normal(&[4, 6], 6);
        let w = normal(&[6], 7);
        let tol = if dev == Device::cpu() { 1e-6 } else { 1e-4 };
        let plain = mx::value_and_grad_argnums(|v: &[Array]| Ok(f(v)?.remove(0)), &[0, 1])(&[x.clone(), w.clone()]).unwrap();
        let cf = std::sync::Arc::new(mx::compile(f));
        let c2 = cf.clone();
        let fused = mx::value_and_grad_argnums(move |v: &[Array]| Ok(c2(v)?.remove(0)), &[0, 1])(&[x.clone(), w.clone()]).unwrap();
        assert_same("value", &fused.0, &plain.0, tol);
        assert_same("grad x", &fused.1[0], &plain.1[0], tol);
        assert_same("grad w", &fused.1[1], &plain.1[1], tol);
        // jvp through the compiled function.
        let (tx, tw) = (normal(&[4, 6], 8), normal(&[6], 9));
        let c3 = cf.clone();
        let (_, jc) = mx::jvp(move |v: &[Array]| c3(v), &[x.clone(), w.clone()], &[tx.clone(), tw.clone()]).unwrap();
        let (_, jp) = mx::jvp(f, &[x.clone(), w.clone()], &[tx, tw]).unwrap();
        assert_same("jvp", &jc[0], &jp[0], tol);
        // vmap of a compiled row function over a batch (the fused reduction's axes move).
        let row = |v: &[Array]| -> mx::Result<Vec<Array>> {
            Ok(vec![mx::logsumexp(&mx::multiply(&v[0], 3.0f32, None)?, &[0], false, None)?])
        };
        let cr = mx::compile(row);
        let got = mx::vmap(move |v: &[Array]| cr(v), &[Some(1)], &[Some(0)])(std::slice::from_ref(&x)).unwrap();
        let want = mx::vmap(row, &[Some(1)], &[Some(0)])(std::slice::from_ref(&x)).unwrap();
        assert_same("vmap", &got[0], &want[0], tol);
    }
}
