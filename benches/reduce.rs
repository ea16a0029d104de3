//! divan benches of reductions on the CPU and GPU 0 (when an adapter exists): sum of a whole
//! vector, row sums and softmax over rows of a square matrix, at two small sizes. Each iteration
//! is one eval (round trip included); `examples/bench.rs` has the batched, large-size table.
//! Run: `cargo bench --bench reduce`.

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
fn sum_all(bencher: Bencher, c: Case) {
    let x = rotation(c.dev, &[c.n as i32], Dtype::Float32, 1);
    bench_eval(bencher, BytesCount::new(4 * c.n), |i| {
        mx::sum(&x[i % 3], &[], false, c.dev).unwrap()
    });
}

#[divan::bench(args = cases(SIDES))]
fn row_sums(bencher: Bencher, c: Case) {
    let m = rotation(c.dev, &[c.n as i32, c.n as i32], Dtype::Float32, 1);
    bench_eval(bencher, BytesCount::new(4 * c.n * c.n), |i| {
        mx::sum(&m[i % 3], &[1], false, c.dev).unwrap()
    });
}

#[divan::bench(args = cases(SIDES))]
fn softmax_rows(bencher: Bencher, c: Case) {
    let m = rotation(c.dev, &[c.n as i32, c.n as i32], Dtype::Float32, 1);
    bench_eval(bencher, BytesCount::new(8 * c.n * c.n), |i| {
        mx::softmax(&m[i % 3], &[-1], c.dev).unwrap()
    });
}
