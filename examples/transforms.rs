//! Function transforms in a few lines: gradient descent on the Rosenbrock function with
//! `value_and_grad`, a Hessian-vector product with `jvp` of `grad`, and per-example gradients of
//! a linear model with `vmap(grad(..))`, on the default device.
//!
//! Run: `cargo run --example transforms`

use wmx::{self as mx, Array, Dtype};

/// Rosenbrock: (1 - x)² + 100 (y - x²)², minimum 0 at (1, 1).
fn rosenbrock(p: &Array) -> mx::Result<Array> {
    let x = mx::take(p, &Array::scalar(0i32), 0, None)?;
    let y = mx::take(p, &Array::scalar(1i32), 0, None)?;
    let a = mx::square(&mx::subtract(1.0, &x, None)?, None)?;
    let b = mx::square(&mx::subtract(&y, &mx::square(&x, None)?, None)?, None)?;
    mx::add(&a, &mx::multiply(&b, 100.0, None)?, None)
}

fn main() -> mx::Result<()> {
    println!("device: {:?}", mx::default_device());

    // 1. Gradient descent with momentum.
    let step = mx::value_and_grad(rosenbrock);
    let mut p = Array::from_slice(&[-1.5f32, 2.0], &[2]);
    let mut v = mx::zeros(&[2], Dtype::Float32, None)?;
    for i in 0..=3000 {
        let (loss, g) = step(&p)?;
        v = mx::add(&mx::multiply(&v, 0.9, None)?, &g, None)?;
        p = mx::subtract(&p, &mx::multiply(&v, 1e-4, None)?, None)?;
        mx::eval([&loss, &p, &v])?;
        if i % 1000 == 0 {
            println!(
                "step {i:4}: loss {:.5}  p = {:?}",
                loss.item::<f32>()?,
                p.to_vec::<f32>()?
            );
        }
    }

    // 2. Hessian-vector product: forward mode over reverse mode.
    let hv = mx::jvp(
        |q: &[Array]| Ok(vec![mx::grad(rosenbrock)(&q[0])?]),
        &[Array::from_slice(&[1.0f32, 1.0], &[2])],
        &[Array::from_slice(&[1.0f32, 0.0], &[2])],
    )?
    .1;
    println!(
        "H(1,1) e_x = {:?}  (exact: [802, -400])",
        hv[0].to_vec::<f32>()?
    );

    // 3. Per-example gradients of a squared error, batched by vmap.
    let w = Array::from_slice(&[0.5f32, -0.25, 1.0], &[3]);
    let xs = mx::reshape(
        &mx::arange(0.0, 12.0, 1.0, Dtype::Float32, None)?,
        &[4, 3],
        None,
    )?;
    let ys = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[4]);
    let loss = |p: &[Array]| {
        let pred = mx::sum(&mx::multiply(&p[0], &p[1], None)?, &[], false, None)?;
        mx::square(&mx::subtract(&pred, &p[2], None)?, None)
    };
    let per_example = mx::vmap(
        |p: &[Array]| mx::grad_argnums(loss, &[0])(p),
        &[None, Some(0), Some(0)],
        &[Some(0)],
    );
    let grads = per_example(&[w.clone(), xs.clone(), ys.clone()])?;
    println!("per-example gradients {:?}:", grads[0].shape());
    for row in grads[0].to_vec::<f32>()?.chunks(3) {
        println!("  {row:?}");
    }
    // Their mean is the gradient of the mean loss.
    let mean_loss = |p: &[Array]| {
        let pred = mx::matmul(&p[1], &p[0], None)?;
        mx::mean(
            &mx::square(&mx::subtract(&pred, &p[2], None)?, None)?,
            &[],
            false,
            None,
        )
    };
    let g = mx::grad_argnums(mean_loss, &[0])(&[w, xs, ys])?;
    let m = mx::mean(&grads[0], &[0], false, None)?;
    println!(
        "mean of per-example gradients {:?} = gradient of the mean {:?}",
        m.to_vec::<f32>()?,
        g[0].to_vec::<f32>()?
    );
    Ok(())
}
