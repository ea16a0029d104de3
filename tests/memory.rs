//! GPU memory accounting (MLX's API): 10,000 evals of a small graph leave active memory where it
//! started and the buffer cache within its limit; the peak and the memory limit behave; the cache
//! lets its oldest buffers go first. Its own
//! binary, since the counters are process-wide.

mod common;
use wmx::{self as mx, Dtype};

#[test]
fn ten_thousand_evals_return_active_memory_to_its_start() {
    let Some(gpu) = common::gpu() else { return };
    let limit = 1 << 20;
    let old = mx::set_cache_limit(limit);
    assert_eq!(
        old,
        u64::MAX,
        "the cache limit defaults to the (unset) memory limit"
    );
    let x = mx::ones(&[256], Dtype::Float32, gpu).unwrap();
    let two = mx::full(&[], 2.0, Dtype::Float32, gpu).unwrap();
    mx::eval([&x, &two]).unwrap();
    let run = |i: usize| {
        let y = mx::add(mx::multiply(&x, &two, gpu).unwrap(), &x, gpu).unwrap();
        let s = mx::sum(&y, &[], false, gpu).unwrap();
        mx::eval([&s]).unwrap();
        if i.is_multiple_of(1000) {
            assert_eq!(s.item::<f32>().unwrap(), 768.0);
        }
    };
    for i in 0..10 {
        run(i);
    }
    mx::synchronize(gpu).unwrap();
    let start = mx::get_active_memory();
    mx::reset_peak_memory();
    for i in 0..10_000 {
        run(i);
    }
    mx::synchronize(gpu).unwrap();
    assert_eq!(
        mx::get_active_memory(),
        start,
        "active memory after 10,000 evals"
    );
    assert!(
        mx::get_cache_memory() <= limit,
        "cache {} over its limit {limit}",
        mx::get_cache_memory()
    );
    assert!(mx::get_peak_memory() >= start);
    assert!(
        mx::get_peak_memory() < start + (1 << 20),
        "peak {} for a graph of a few KiB",
        mx::get_peak_memory()
    );

    // A memory limit below what is in use makes allocations free the cache first.
    mx::set_memory_limit(0);
    run(0);
    mx::synchronize(gpu).unwrap();
    assert_eq!(mx::set_memory_limit(u64::MAX), 0);
    mx::clear_cache();
    assert_eq!(mx::get_cache_memory(), 0);

    // Cached bytes count against the memory limit: an allocation that would pass it (with the
    // cache) gives the cache back first.
    mx::set_cache_limit(u64::MAX);
    let big = mx::zeros(&[1 << 18], Dtype::Float32, gpu).unwrap();
    mx::eval([&big]).unwrap();
    drop(big);
    mx::synchronize(gpu).unwrap();
    assert!(
        mx::get_cache_memory() >= 1 << 20,
        "the 1 MiB buffer is cached"
    );
    mx::set_memory_limit(mx::get_active_memory() + (1 << 20));
    let other = mx::zeros(&[1 << 16], Dtype::Float32, gpu).unwrap();
    mx::eval([&other]).unwrap();
    mx::synchronize(gpu).unwrap();
    assert!(
        mx::get_cache_memory() < 1 << 20,
        "cache {} still holds the 1 MiB buffer past the memory limit",
        mx::get_cache_memory()
    );
    drop(other);
    mx::set_memory_limit(u64::MAX);
    mx::clear_cache();

    // Past the cache limit, the buffers freed longest ago go first: a loop over big arrays
    // keeps the buffers it just freed.
    mx::set_cache_limit(5 << 19);
    let a = mx::zeros(&[1 << 18], Dtype::Float32, gpu).unwrap();
    let b = mx::zeros(&[1 << 19], Dtype::Float32, gpu).unwrap();
    mx::eval([&a, &b]).unwrap();
    mx::synchronize(gpu).unwrap();
    drop(a);
    drop(b);
    let cached = mx::get_cache_memory();
    assert!(
        (2 << 20..=5 << 19).contains(&cached),
        "cache {cached} should hold the 2 MiB buffer freed last, within 2.5 MiB"
    );
    mx::set_cache_limit(old);
}
