//! Cross-device inputs are transferred once: the process-wide transfer counter is only
//! meaningful when nothing else runs, so this binary holds this one test.

mod common;
use wmx::{self as mx, Array, Device};

#[test]
fn cross_device_inputs_are_transferred_once() {
    let Some(gpu) = common::gpu() else { return };
    let x = mx::exp(&Array::from_slice(&[1.0f32, 2.0, 3.0], &[3]), Device::cpu()).unwrap();
    mx::eval([&x]).unwrap();
    let before = mx::transfer_count();
    let ys: Vec<Array> = (0..4)
        .map(|i| mx::multiply(&x, Array::scalar(i as f32), gpu).unwrap())
        .collect();
    mx::eval(ys.iter()).unwrap();
    // x moves to the GPU once; the four scalars are uploaded too.
    let after = mx::transfer_count();
    assert_eq!(after - before, 5, "{} transfers", after - before);
    let again = mx::add(&x, &x, gpu).unwrap();
    mx::eval([&again]).unwrap();
    assert_eq!(
        mx::transfer_count(),
        after,
        "a second GPU consumer reuses the GPU copy"
    );
    // And back: a GPU result consumed on the CPU is read back once.
    let z = mx::sum(&again, &[], false, Device::cpu()).unwrap();
    let w = mx::max(&again, &[], false, Device::cpu()).unwrap();
    mx::eval([&z, &w]).unwrap();
    assert_eq!(mx::transfer_count(), after + 1);
}
