//! Transforms and memory: 10,000 `value_and_grad` + SGD steps of a small MLP leave active GPU
//! memory and the number of live graph nodes flat (after the gradients are evaluated the forward
//! graph is freed), on the CPU and the GPU; `checkpoint` lowers the peak memory of a deep chain's
//! gradient. Its own binary, since the counters are process-wide.

mod common;
use wmx::{self as mx, Array, Device, Dtype};

fn mlp_loss(p: &[Array]) -> mx::Result<Array> {
    // p: w1 [16, 32], w2 [32, 4], x [8, 16], y [8, 4]
    let h = mx::tanh(&mx::matmul(&p[2], &p[0], None)?, None)?;
    let out = mx::matmul(&h, &p[1], None)?;
    mx::mean(
        &mx::square(&mx::subtract(&out, &p[3], None)?, None)?,
        &[],
        false,
        None,
    )
}

/// The counters are process-wide: one test at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn train(dev: Device, steps: usize) -> (Vec<f32>, usize, usize, u64, u64) {
    let _s = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let _g = mx::stream(dev);
    let k = mx::random::key(7);
    let ks = mx::random::split(&k, 4, None).unwrap();
    let part = |i: i32| mx::take(&ks, &Array::scalar(i), 0, None).unwrap();
    let mut w1 = mx::random::normal(
        &[16, 32],
        Dtype::Float32,
        Some(0.0),
        Some(0.3),
        Some(&part(0)),
        None,
    )
    .unwrap();
    let mut w2 = mx::random::normal(
        &[32, 4],
        Dtype::Float32,
        Some(0.0),
        Some(0.3),
        Some(&part(1)),
        None,
    )
    .unwrap();
    let x = mx::random::normal(
        &[8, 16],
        Dtype::Float32,
        Some(0.0),
        Some(1.0),
        Some(&part(2)),
        None,
    )
    .unwrap();
    let y = mx::random::normal(
        &[8, 4],
        Dtype::Float32,
        Some(0.0),
        Some(1.0),
        Some(&part(3)),
        None,
    )
    .unwrap();
    mx::eval([&w1, &w2, &x, &y]).unwrap();
    let step = mx::value_and_grad_argnums(mlp_loss, &[0, 1]);
    let mut losses = Vec::new();
    let (mut nodes0, mut mem0) = (0, 0);
    for i in 0..steps {
        let (l, g) = step(&[w1.clone(), w2.clone(), x.clone(), y.clone()]).unwrap();
        w1 = mx::subtract(&w1, mx::multiply(&g[0], 0.05, None).unwrap(), None).unwrap();
        w2 = mx::subtract(&w2, mx::multiply(&g[1], 0.05, None).unwrap(), None).unwrap();
        mx::eval([&l, &w1, &w2]).unwrap();
        if i % (steps / 4) == 0 {
            losses.push(l.item::<f32>().unwrap());
        }
        if i == 20 {
            mx::synchronize(dev).unwrap();
            nodes0 = mx::live_nodes();
            mem0 = mx::get_active_memory();
        }
    }
    mx::synchronize(dev).unwrap();
    (
        losses,
        nodes0,
        mx::live_nodes(),
        mem0,
        mx::get_active_memory(),
    )
}

device_tests! {
    fn ten_thousand_training_steps_keep_memory_and_nodes_flat(dev: Device) {
        let (losses, nodes0, nodes1, mem0, mem1) = train(dev, 10_000);
        assert!(losses.iter().all(|l| l.is_finite()), "{losses:?}");
        assert!(losses[3] < 0.01 * losses[0], "the loss decreases: {losses:?}");
        // At step 20 that step's loss and gradients are still held; at the end they are not.
        assert!(nodes1 <= nodes0, "live nodes grew from {nodes0} to {nodes1}");
        assert!(mem1 <= mem0, "active GPU memory grew from {mem0} to {mem1} bytes");
    }
}

/// Peak active GPU memory of the gradient of a 128-layer `sin` chain over 256 KiB arrays, with
/// blocks of 16 layers checkpointed or not. (A GPU stream's pending batch holds the buffers of
/// up to 64 dispatches, so the chain is longer than that.)
fn chain_peak(gpu: Device, ckpt: bool) -> (u64, Vec<f32>) {
    let _s = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let _g = mx::stream(gpu);
    let x = mx::multiply(
        mx::arange(0.0, (1 << 16) as f64, 1.0, Dtype::Float32, None).unwrap(),
        1e-5,
        None,
    )
    .unwrap();
    mx::eval([&x]).unwrap();
    let block = |v: &[Array]| -> mx::Result<Vec<Array>> {
        let mut h = v[0].clone();
        for _ in 0..16 {
            h = mx::sin(&h, None)?;
        }
        Ok(vec![h])
    };
    let ck = mx::checkpoint(block);
    let f = |x: &Array| -> mx::Result<Array> {
        let mut h = x.clone();
        for _ in 0..8 {
            h = if ckpt {
                ck(&[h])?.remove(0)
            } else {
                block(&[h])?.remove(0)
            };
        }
        mx::sum(&h, &[], false, None)
    };
    let g = mx::grad(f)(&x).unwrap();
    mx::synchronize(gpu).unwrap();
    mx::reset_peak_memory();
    mx::eval([&g]).unwrap();
    mx::synchronize(gpu).unwrap();
    let peak = mx::get_peak_memory();
    let head = mx::slice(&g, &[0], &[4], &[], None)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    (peak, head)
}

#[test]
fn checkpoint_lowers_the_peak_memory_of_a_deep_chain() {
    let Some(gpu) = common::gpu() else { return };
    let (plain, g1) = chain_peak(gpu, false);
    let (ckpt, g2) = chain_peak(gpu, true);
    eprintln!(
        "peak active GPU memory of the chain gradient: {plain} B plain, {ckpt} B checkpointed"
    );
    assert_eq!(g1, g2, "checkpointing changes no value");
    assert!(
        (ckpt as f64) < 0.75 * plain as f64,
        "peak with checkpoint {ckpt} B vs without {plain} B"
    );
}
