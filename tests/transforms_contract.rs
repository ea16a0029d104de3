//! The transforms issue's public contract, verbatim: this listing must compile and pass
//! unchanged (it is what tests outside the repository call), plus checks of its values.

use wmx::{self as mx, Array, Device};

fn contract() -> mx::Result<()> {
    let x = Array::from_slice(&[0.5f32, -1.0, 2.0], &[3]);

    // A scalar function of one array.
    let f = |x: &Array| {
        mx::sum(
            &mx::multiply(&mx::sin(x, None)?, x, None)?,
            &[],
            false,
            None,
        )
    };
    let df = mx::grad(f); // impl Fn(&Array) -> Result<Array>
    let g = df(&x)?; // sin(x) + x cos(x)
    let (v, g2) = mx::value_and_grad(f)(&x)?; // (scalar, gradient)
    let h = mx::grad(|x: &Array| mx::sum(&mx::grad(f)(x)?, &[], false, None))(&x)?; // second order

    // Functions of several arrays: argnums picks what to differentiate.
    let loss = |p: &[Array]| {
        mx::sum(
            &mx::square(
                &mx::subtract(&mx::matmul(&p[0], &p[1], None)?, 1.0, None)?,
                None,
            )?,
            &[],
            false,
            None,
        )
    };
    let w = mx::ones(&[2, 3], mx::Dtype::Float32, None)?;
    let (l, grads) =
        mx::value_and_grad_argnums(loss, &[0, 1])(&[w.clone(), mx::transpose(&w, &[], None)?])?;
    let only_w: Vec<Array> =
        mx::grad_argnums(loss, &[0])(&[w.clone(), mx::transpose(&w, &[], None)?])?;

    // vjp / jvp of functions from arrays to arrays.
    let (outs, cotans) = mx::vjp(
        |p: &[Array]| Ok(vec![mx::exp(&p[0], None)?]),
        &[x.clone()],
        &[mx::ones_like(&x, None)?],
    )?;
    let (outs2, tans) = mx::jvp(
        |p: &[Array]| Ok(vec![mx::exp(&p[0], None)?]),
        &[x.clone()],
        &[mx::ones_like(&x, None)?],
    )?;

    // vmap: in_axes/out_axes per argument/output; None = not mapped.
    let batched = mx::vmap(
        |p: &[Array]| Ok(vec![mx::matmul(&p[0], &p[1], None)?]),
        &[Some(0), None],
        &[Some(0)],
    );
    let y = batched(&[
        mx::ones(&[4, 2, 3], mx::Dtype::Float32, None)?,
        mx::ones(&[3, 5], mx::Dtype::Float32, None)?,
    ])?;

    let frozen = mx::stop_gradient(&x, None)?;
    mx::eval([
        &g, &v, &g2, &h, &l, &grads[0], &grads[1], &only_w[0], &outs[0], &cotans[0], &outs2[0],
        &tans[0], &y[0], &frozen,
    ])?;
    assert_eq!(y[0].shape(), &[4, 2, 5]);

    // Transforms run wherever the forward ops run: here the forward is split across devices.
    let split = |x: &Array| {
        mx::sum(
            &mx::exp(&mx::multiply(x, x, Device::cpu())?, Device::gpu(0))?,
            &[],
            false,
            None,
        )
    };
    let gs = mx::grad(split)(&x)?;
    assert_eq!(gs.shape(), &[3]);

    // The values.
    let xs = [0.5f32, -1.0, 2.0];
    let close = |a: &[f32], b: &[f32]| {
        a.iter()
            .zip(b)
            .all(|(p, q)| (p - q).abs() <= 1e-5 * (1.0 + q.abs()))
    };
    let want_g: Vec<f32> = xs.iter().map(|&t| t.sin() + t * t.cos()).collect();
    assert!(
        close(&g.to_vec::<f32>()?, &want_g),
        "{:?} vs {want_g:?}",
        g.to_vec::<f32>()?
    );
    assert!(close(&g2.to_vec::<f32>()?, &want_g));
    let want_v: f32 = xs.iter().map(|&t| t * t.sin()).sum();
    assert!((v.item::<f32>()? - want_v).abs() < 1e-5);
    let want_h: Vec<f32> = xs.iter().map(|&t| 2.0 * t.cos() - t * t.sin()).collect();
    assert!(
        close(&h.to_vec::<f32>()?, &want_h),
        "{:?} vs {want_h:?}",
        h.to_vec::<f32>()?
    );
    // (w w^T - 1) = 2 everywhere: loss = 4 * 4 = 16; d/dw = 2 (WWt-1) W^T... = 2*2*[2 ones]
    assert_eq!(l.item::<f32>()?, 4.0 * 4.0);
    assert_eq!(grads[0].shape(), &[2, 3]);
    assert_eq!(grads[1].shape(), &[3, 2]);
    assert!(grads[0].to_vec::<f32>()?.iter().all(|&e| e == 8.0));
    assert!(grads[1].to_vec::<f32>()?.iter().all(|&e| e == 8.0));
    assert_eq!(only_w.len(), 1);
    assert_eq!(only_w[0].to_vec::<f32>()?, grads[0].to_vec::<f32>()?);
    let e: Vec<f32> = xs.iter().map(|t| t.exp()).collect();
    assert!(close(&cotans[0].to_vec::<f32>()?, &e));
    assert!(close(&tans[0].to_vec::<f32>()?, &e));
    assert!(y[0].to_vec::<f32>()?.iter().all(|&e| e == 3.0));
    let want_s: Vec<f32> = xs.iter().map(|t| 2.0 * t * (t * t).exp()).collect();
    assert!(close(&gs.to_vec::<f32>()?, &want_s));
    Ok(())
}

#[test]
fn the_issue_listing_compiles_and_runs() {
    let _ = common_gpu();
    contract().unwrap();
}

/// The listing uses `Device::gpu(0)`: under `WMX_REQUIRE_GPU=1` an adapter must exist.
fn common_gpu() -> bool {
    if mx::device_count(mx::DeviceType::Gpu) == 0 {
        assert_ne!(
            std::env::var("WMX_REQUIRE_GPU").as_deref(),
            Ok("1"),
            "no GPU adapter"
        );
        return false;
    }
    true
}
