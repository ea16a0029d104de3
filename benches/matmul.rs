//! divan benches of square matmul (f32 and f16) on the CPU and GPU 0 (when an adapter exists),
//! at two small sizes; the counter's "items" are floating-point operations (2 n^3). Each
//! iteration is one eval (round trip included); `examples/bench.rs` has the large-size table.
//! Run: `cargo bench --bench matmul`.

mod common;

use common::{Case, bench_eval, cases, rotation};
use divan::{Bencher, counter::ItemsCount};
use wmx::{self as mx, Dtype};

fn main() {
    common::divan_main();
}

const SIDES: &[usize] = &[128, 256];

fn matmul(bencher: Bencher, c: Case, dtype: Dtype) {
    let x = rotation(c.dev, &[c.n as i32, c.n as i32], dtype, 1);
    bench_eval(bencher, ItemsCount::new(2 * c.n * c.n * c.n), |i| {
        mx::matmul(&x[i % 3], &x[(i + 1) % 3], c.dev).unwrap()
    });
}

#[divan::bench(args = cases(SIDES))]
fn matmul_f32(bencher: Bencher, c: Case) {
    matmul(bencher, c, Dtype::Float32);
}

#[divan::bench(args = cases(SIDES))]
fn matmul_f16(bencher: Bencher, c: Case) {
    matmul(bencher, c, Dtype::Float16);
}
