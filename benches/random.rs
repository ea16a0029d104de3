//! divan benches of random generation (MLX-exact Threefry) on the CPU and GPU 0 (when an adapter
//! exists): uniform and normal f32 at two sizes, bytes written per second, keys rotated. Each
//! iteration is one eval (round trip included). Run: `cargo bench --bench random`.

mod common;

use common::{Case, bench_eval, cases};
use divan::{Bencher, counter::BytesCount};
use wmx::{Array, Dtype};

fn main() {
    common::divan_main();
}

const LENGTHS: &[usize] = &[1 << 12, 1 << 16];

fn keys() -> Vec<Array> {
    (0..3).map(wmx::random::key).collect()
}

#[divan::bench(args = cases(LENGTHS))]
fn uniform(bencher: Bencher, c: Case) {
    let keys = keys();
    bench_eval(bencher, BytesCount::new(4 * c.n), |i| {
        let key = Some(&keys[i % 3]);
        wmx::random::uniform(0.0f32, 1.0f32, &[c.n as i32], Dtype::Float32, key, c.dev).unwrap()
    });
}

#[divan::bench(args = cases(LENGTHS))]
fn normal(bencher: Bencher, c: Case) {
    let keys = keys();
    bench_eval(bencher, BytesCount::new(4 * c.n), |i| {
        let key = Some(&keys[i % 3]);
        wmx::random::normal(&[c.n as i32], Dtype::Float32, None, None, key, c.dev).unwrap()
    });
}
