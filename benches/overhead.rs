//! divan benches of per-op and per-eval overhead on the CPU and GPU 0 (when an adapter exists):
//! 1,000 dependent adds of 256 elements in one eval (the counter gives adds per second), and one
//! eval of a 1-element add (the whole round trip). Run: `cargo bench --bench overhead`.

mod common;

use common::{Case, bench_eval, cases, random};
use divan::{Bencher, counter::ItemsCount};
use wmx::{self as mx, Dtype};

fn main() {
    common::divan_main();
}

const CHAIN: usize = 1000;

#[divan::bench(args = cases(&[256]))]
fn chain_1000_adds(bencher: Bencher, c: Case) {
    let s = random(c.dev, &[c.n as i32], Dtype::Float32, 1);
    bench_eval(bencher, ItemsCount::new(CHAIN), |_| {
        let mut x = s.clone();
        for _ in 0..CHAIN {
            x = mx::add(&x, &s, c.dev).unwrap();
        }
        x
    });
}

#[divan::bench(args = cases(&[1]))]
fn tiny_eval(bencher: Bencher, c: Case) {
    let s = random(c.dev, &[c.n as i32], Dtype::Float32, 1);
    bench_eval(bencher, ItemsCount::new(1usize), |_| {
        mx::add(&s, &s, c.dev).unwrap()
    });
}
