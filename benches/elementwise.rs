//! divan benches of elementwise ops on the CPU and GPU 0 (when an adapter exists): contiguous
//! add, add of a broadcast row, copy and exp, at two small sizes. Each iteration is one eval
//! (round trip included); `examples/bench.rs` has the batched, large-size table.
//! Run: `cargo bench --bench elementwise` (divan options after `--`, e.g. `-- add`).

mod common;

use common::{Case, bench_eval, cases, rotation};
use divan::{Bencher, counter::BytesCount};
use wmx::{self as mx, Dtype};

fn main() {
    common::divan_main();
}

const LENGTHS: &[usize] = &[1 << 16, 1 << 20];
const SIDES: &[usize] = &[256, 1024];

#[divan::bench(args = cases(LENGTHS))]
fn add(bencher: Bencher, c: Case) {
    let x = rotation(c.dev, &[c.n as i32], Dtype::Float32, 1);
    bench_eval(bencher, BytesCount::new(12 * c.n), |i| {
        mx::add(&x[i % 3], &x[(i + 1) % 3], c.dev).unwrap()
    });
}

#[divan::bench(args = cases(SIDES))]
fn add_bcast_row(bencher: Bencher, c: Case) {
    let m = rotation(c.dev, &[c.n as i32, c.n as i32], Dtype::Float32, 1);
    let v = rotation(c.dev, &[c.n as i32], Dtype::Float32, 10);
    bench_eval(bencher, BytesCount::new(8 * c.n * c.n), |i| {
        mx::add(&m[i % 3], &v[i % 3], c.dev).unwrap()
    });
}

#[divan::bench(args = cases(LENGTHS))]
fn copy(bencher: Bencher, c: Case) {
    let x = rotation(c.dev, &[c.n as i32], Dtype::Float32, 1);
    bench_eval(bencher, BytesCount::new(8 * c.n), |i| {
        mx::contiguous(&x[i % 3], c.dev).unwrap()
    });
}

#[divan::bench(args = cases(LENGTHS))]
fn exp(bencher: Bencher, c: Case) {
    let x = rotation(c.dev, &[c.n as i32], Dtype::Float32, 1);
    bench_eval(bencher, BytesCount::new(8 * c.n), |i| {
        mx::exp(&x[i % 3], c.dev).unwrap()
    });
}
