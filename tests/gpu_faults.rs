//! GPU faults, in the order a process meets them, each injected through `wmx::testing`: a wgpu
//! validation error (reported by the next wait, then the device works on), a driver that refuses
//! an allocation (an `Err` naming the op and the size; the other streams lose nothing), and the
//! loss of the device (`wgpu::Device::destroy`: work queued before and every op after returns an
//! `Err` naming the loss; no wait hangs, nothing panics, the CPU keeps working). A watchdog ends
//! the process if any step hangs. Its own binary and one test: a lost device stays lost.

mod common;
use std::sync::mpsc;
use std::time::Duration;
use wmx::{self as mx, Array, Device, Dtype};

/// Fails the test (and ends the process) when a step takes longer than `secs`.
fn watchdog(secs: u64) -> mpsc::Sender<&'static str> {
    let (tx, rx) = mpsc::channel::<&'static str>();
    std::thread::spawn(move || {
        let mut step = "start";
        loop {
            match rx.recv_timeout(Duration::from_secs(secs)) {
                Ok(next) => step = next,
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    eprintln!("gpu_faults watchdog: step '{step}' hung for {secs} s");
                    std::process::exit(3);
                }
            }
        }
    });
    tx
}

fn expect_err<T: std::fmt::Debug>(r: mx::Result<T>, what: &str) -> String {
    match r {
        Ok(v) => panic!("{what}: expected an Err, got Ok({v:?})"),
        Err(e) => e.to_string(),
    }
}

/// A chain of `n` dependent elementwise ops on `s`, long enough to still be running when the
/// device goes.
fn long_chain(x: &Array, n: usize, s: mx::Stream) -> Array {
    let mut y = x.clone();
    for _ in 0..n {
        y = mx::sin(&mx::add(&y, 1.0f32, s).unwrap(), s).unwrap();
    }
    y
}

#[test]
fn validation_error_refused_allocation_then_device_loss() {
    let Some(gpu) = common::gpu() else { return };
    let cpu = Device::cpu();
    let step = watchdog(120);

    // 1. A validation error: reported once, by the next wait on that GPU; then all is well.
    let _ = step.send("validation error");
    let a = mx::ones(&[64], Dtype::Float32, gpu).unwrap();
    mx::eval([&a]).unwrap();
    mx::testing::inject_validation_error(gpu).unwrap();
    let b = mx::add(&a, 1.0f32, gpu).unwrap();
    let e = expect_err(mx::eval([&b]), "eval after a validation error");
    assert!(e.starts_with("[gpu] ") && e.contains("Validation"), "{e}");
    assert_eq!(
        b.to_vec::<f32>().unwrap(),
        vec![2.0; 64],
        "the device works on"
    );
    mx::synchronize(gpu).unwrap();

    // 2. The driver refuses an allocation (both tries: the second comes after the cache is
    // given back). The op that needed it fails, naming itself and the size; another stream's
    // arrays and pending work are intact, and the failing stream works again afterwards.
    let _ = step.send("refused allocation");
    let s1 = mx::new_stream(gpu);
    let s2 = mx::new_stream(gpu);
    let kept = mx::multiply(
        mx::arange(0.0, 1000.0, 1.0, Dtype::Float32, s2).unwrap(),
        2.0f32,
        s2,
    )
    .unwrap();
    mx::eval([&kept]).unwrap();
    let pending_on_s2 = mx::add(&kept, 1.0f32, s2).unwrap();
    // K = 64: too shallow to be split (a split would allocate f32 partials first).
    let x = mx::ones(&[384, 64], Dtype::Float32, s1).unwrap();
    let xt = mx::ones(&[64, 384], Dtype::Float32, s1).unwrap();
    mx::eval([&x, &xt]).unwrap();
    mx::synchronize(s1).unwrap();
    mx::clear_cache();
    let y = mx::matmul(&x, &xt, s1).unwrap();
    mx::testing::refuse_gpu_allocations(2);
    let e = expect_err(
        mx::eval([&y]),
        "eval of a matmul whose output the driver refused",
    );
    mx::testing::refuse_gpu_allocations(0);
    assert!(
        e.starts_with("[matmul] ") && e.contains("out of memory") && e.contains("589824 bytes"),
        "{e}"
    );
    let e = expect_err(mx::synchronize(s1), "synchronize of the stream that failed");
    assert!(e.starts_with("[matmul] "), "{e}");
    mx::synchronize(s2).unwrap();
    let want: Vec<f32> = (0..1000).map(|i| 2.0 * i as f32).collect();
    assert_eq!(
        kept.to_vec::<f32>().unwrap(),
        want,
        "another stream's array"
    );
    let want1: Vec<f32> = want.iter().map(|v| v + 1.0).collect();
    assert_eq!(
        pending_on_s2.to_vec::<f32>().unwrap(),
        want1,
        "another stream's pending op"
    );
    let again = mx::sum(&mx::matmul(&x, &xt, s1).unwrap(), &[], false, s1).unwrap();
    assert_eq!(
        again.item::<f32>().unwrap(),
        384.0 * 384.0 * 64.0,
        "the failing stream works again"
    );

    // 3. The device is lost while a long chain runs on it.
    let _ = step.send("device loss");
    let evaluated = mx::arange(0.0, 16.0, 1.0, Dtype::Float32, gpu).unwrap();
    mx::eval([&evaluated]).unwrap();
    let not_yet = mx::exp(&evaluated, gpu).unwrap();
    let on_cpu = mx::arange(0.0, 16.0, 1.0, Dtype::Float32, cpu).unwrap();
    // ~0.5 s of work on lavapipe, evaluated by another thread that is blocked in the wait when
    // the device goes.
    let queued = long_chain(&mx::ones(&[1 << 20], Dtype::Float32, s1).unwrap(), 200, s1);
    let waiter = {
        let queued = queued.clone();
        std::thread::spawn(move || {
            let t = std::time::Instant::now();
            (mx::eval([&queued]), t.elapsed())
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    let t = std::time::Instant::now();
    mx::testing::lose_device(gpu).unwrap();
    println!(
        "gpu_faults: the loss was reported {:?} after destroy",
        t.elapsed()
    );

    let _ = step.send("device loss: queued work");
    let (r, took) = waiter.join().unwrap();
    let e = expect_err(r, "the evaluation running when the device was lost");
    println!("gpu_faults: the running eval ended after {took:?}: {e}");
    assert!(
        e.contains("GPU 0") && e.contains("is lost (destroyed by wmx::testing::lose_device)"),
        "{e}"
    );
    let e = expect_err(queued.to_vec::<f32>(), "a read of the queued work");
    assert!(
        e.contains("is lost (destroyed by wmx::testing::lose_device)"),
        "{e}"
    );

    let _ = step.send("device loss: later ops");
    let e = expect_err(
        not_yet.to_vec::<f32>(),
        "an op built before the loss, run after",
    );
    assert!(
        e.starts_with("[exp] GPU 0")
            && e.contains("is lost (destroyed by wmx::testing::lose_device)"),
        "{e}"
    );
    let e = expect_err(
        evaluated.to_vec::<f32>(),
        "a read of an array evaluated before the loss",
    );
    assert!(e.contains("] GPU 0") && e.contains("is lost"), "{e}");
    let later = mx::add(&evaluated, 1.0f32, gpu).unwrap();
    let e = expect_err(mx::eval([&later]), "a new op after the loss");
    // `add` or the `full` of its scalar operand, whichever the stream reaches first.
    assert!(e.contains("] GPU 0") && e.contains("is lost"), "{e}");
    let fresh = mx::zeros(&[8], Dtype::Int32, s2).unwrap();
    let e = expect_err(
        fresh.to_vec::<i32>(),
        "a creation on another stream of the lost GPU",
    );
    assert!(e.contains("is lost"), "{e}");
    let e = expect_err(mx::synchronize(gpu), "synchronize of the lost GPU");
    assert!(e.contains("is lost"), "{e}");
    let e = expect_err(
        mx::add(&on_cpu, &evaluated, cpu).and_then(|c| c.to_vec::<f32>()),
        "a CPU op reading an array of the lost GPU",
    );
    assert!(e.contains("is lost"), "{e}");

    let _ = step.send("device loss: the CPU works on");
    let c = mx::sum(
        &mx::multiply(&on_cpu, &on_cpu, cpu).unwrap(),
        &[],
        false,
        cpu,
    )
    .unwrap();
    assert_eq!(c.item::<f32>().unwrap(), 1240.0);
    let s3 = mx::new_stream(cpu);
    let m = mx::matmul(
        &mx::ones(&[8, 8], Dtype::Float32, s3).unwrap(),
        &mx::ones(&[8, 8], Dtype::Float32, cpu).unwrap(),
        s3,
    )
    .unwrap();
    assert_eq!(m.to_vec::<f32>().unwrap(), vec![8.0; 64]);
    // The CPU's default stream reports the failed read of the lost GPU's array once.
    let e = expect_err(
        mx::synchronize(cpu),
        "synchronize of the CPU stream that failed",
    );
    assert!(e.contains("is lost"), "{e}");
    mx::synchronize(cpu).unwrap();
    mx::synchronize(s3).unwrap();
    // The memory API still answers, and freeing the dead GPU's arrays does not panic.
    drop((
        a,
        b,
        kept,
        pending_on_s2,
        x,
        y,
        again,
        evaluated,
        not_yet,
        queued,
        later,
        fresh,
    ));
    mx::clear_cache();
    let _ = mx::get_active_memory();
    let _ = step.send("done");
}
