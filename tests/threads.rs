//! Streams and arrays from many threads: N threads x M streams (CPU and GPU) building and
//! evaluating graphs concurrently, sharing inputs, with results checked exactly; per-thread
//! defaults do not leak between threads.

mod common;
use std::sync::Arc;
use wmx::{self as mx, Array, Device, Dtype};

fn static_assert_send_sync<T: Send + Sync>() {}

#[test]
fn arrays_and_streams_are_send_and_sync() {
    static_assert_send_sync::<Array>();
    static_assert_send_sync::<mx::Stream>();
    static_assert_send_sync::<Device>();
    fn send<T: Send>() {}
    send::<mx::Evaluation>();
}

fn devices() -> Vec<Device> {
    let mut d = vec![Device::cpu()];
    d.extend(common::gpu());
    d
}

/// Each thread makes its own streams on every device and checks `(x + k) * 2 - x` sums exactly.
#[test]
fn threads_times_streams() {
    const THREADS: usize = 8;
    const ITERS: usize = 20;
    let shared = Arc::new(mx::arange(0.0, 1000.0, 1.0, Dtype::Int32, Device::cpu()).unwrap());
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let shared = shared.clone();
            std::thread::spawn(move || {
                let streams: Vec<mx::Stream> = devices()
                    .into_iter()
                    .flat_map(|d| [mx::new_stream(d), mx::default_stream(d)])
                    .collect();
                for it in 0..ITERS {
                    let s = streams[(t + it) % streams.len()];
                    let s2 = streams[(t + it + 1) % streams.len()];
                    let k = Array::scalar((t * 100 + it) as i32);
                    let y = mx::add(&shared, &k, s).unwrap();
                    let z = mx::multiply(&y, Array::scalar(2i32), s2).unwrap();
                    let w = mx::subtract(&z, &shared, s).unwrap();
                    let total = mx::sum(&w, &[], false, s2).unwrap();
                    // sum(x + 2k) over x = 0..999
                    let want = 499_500 + 2 * 1000 * (t * 100 + it) as i64;
                    assert_eq!(
                        total.item::<i32>().unwrap() as i64,
                        want,
                        "thread {t} iteration {it} on {s} then {s2}"
                    );
                    let v = w.to_vec::<i32>().unwrap();
                    assert_eq!(v[999] as i64, 999 + 2 * (t * 100 + it) as i64);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

/// Threads share unevaluated intermediate nodes and evaluate them concurrently.
#[test]
fn threads_share_unevaluated_graphs() {
    for dev in devices() {
        let a = mx::arange(0.0, 4096.0, 1.0, Dtype::Float32, dev).unwrap();
        let b = mx::multiply(&a, &a, dev).unwrap();
        let shared = Arc::new(mx::add(&b, &a, dev).unwrap());
        let handles: Vec<_> = (0..6)
            .map(|t| {
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let s = mx::new_stream(if t % 2 == 0 { Device::cpu() } else { dev });
                    let r = mx::sum(
                        &mx::slice(&shared, &[t], &[t + 1], &[], s).unwrap(),
                        &[],
                        false,
                        s,
                    )
                    .unwrap();
                    let x = t as f32;
                    assert_eq!(r.item::<f32>().unwrap(), x * x + x);
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }
}

/// Defaults are per thread: another thread's `set_default_device` does not change ours.
#[test]
fn default_device_is_per_thread() {
    let before = mx::default_device();
    std::thread::spawn(|| {
        mx::set_default_device(Device::cpu());
        assert_eq!(mx::default_device(), Device::cpu());
    })
    .join()
    .unwrap();
    assert_eq!(mx::default_device(), before);
}
