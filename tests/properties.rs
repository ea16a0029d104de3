//! Property tests: for each op family, random shapes (0–4 dims of sizes 0–7, and a few large
//! ones), random views of the input (transposes, negative-step slices, flips, broadcasts) and
//! every dtype the op takes; the op's result on the GPU must equal its result on the CPU within
//! the conformance tolerances (`common::tol`). Inputs are dyadic (multiples of 1/8), so sums and
//! products are exact and a difference is a real disagreement, not rounding order.
//!
//! Each test prints the number of cases it ran (`properties <family>: N cases`); the README's
//! reliability table quotes them. `PROPTEST_CASES` overrides the per-test case count.

mod common;
use common::{assert_close, values};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError};
use wmx::{self as mx, Array, Device, Dtype};

const FLOATS: [Dtype; 3] = [Dtype::Float32, Dtype::Float16, Dtype::Bfloat16];
const NUMERIC: [Dtype; 6] = [
    Dtype::Float32,
    Dtype::Float16,
    Dtype::Bfloat16,
    Dtype::Int32,
    Dtype::Uint32,
    Dtype::Uint8,
];

/// Cases per test (each runs the op on both devices); `PROPTEST_CASES` overrides it.
fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// One way of viewing an array without copying it.
#[derive(Clone, Debug)]
enum View {
    /// Permute the axes (a rotation by `k`, then a swap of the last two when `swap`).
    Transpose { k: usize, swap: bool },
    /// `a[..., ::-step, ...]` along axis `axis % ndim`.
    NegStep { axis: usize, step: i32 },
    /// `flip` along axis `axis % ndim`.
    Flip { axis: usize },
    /// Insert an axis at `at % (ndim + 1)` and broadcast it to `size`.
    Broadcast { at: usize, size: i32 },
}

fn view_strategy() -> impl Strategy<Value = View> {
    prop_oneof![
        (0usize..4, any::<bool>()).prop_map(|(k, swap)| View::Transpose { k, swap }),
        (0usize..4, 1i32..3).prop_map(|(axis, step)| View::NegStep { axis, step }),
        (0usize..4).prop_map(|axis| View::Flip { axis }),
        (0usize..5, 1i32..4).prop_map(|(at, size)| View::Broadcast { at, size }),
    ]
}

fn apply(a: &Array, v: &View, d: Device) -> wmx::Result<Array> {
    let nd = a.ndim();
    match *v {
        View::Transpose { k, swap } => {
            if nd < 2 {
                return Ok(a.clone());
            }
            let mut perm: Vec<i32> = (0..nd as i32).collect();
            perm.rotate_left(k % nd);
            if swap {
                perm.swap(nd - 2, nd - 1);
            }
            mx::transpose(a, &perm, d)
        }
        View::NegStep { axis, step } => {
            if nd == 0 {
                return Ok(a.clone());
            }
            let ax = axis % nd;
            let n = a.shape()[ax];
            let mut start = vec![0; nd];
            let mut stop = a.shape().to_vec();
            let mut strides = vec![1; nd];
            start[ax] = n - 1;
            stop[ax] = -n - 1;
            strides[ax] = -step;
            mx::slice(a, &start, &stop, &strides, d)
        }
        View::Flip { axis } => {
            if nd == 0 {
                return Ok(a.clone());
            }
            mx::flip(a, Some(&[(axis % nd) as i32]), d)
        }
        View::Broadcast { at, size } => {
            if nd >= 4 {
                return Ok(a.clone());
            }
            let at = at % (nd + 1);
            let e = mx::expand_dims(a, &[at as i32], d)?;
            let mut shape = e.shape().to_vec();
            shape[at] = size;
            mx::broadcast_to(&e, &shape, d)
        }
    }
}

/// A random input: shape, dtype index, views, and a seed for its values.
#[derive(Clone, Debug)]
struct Input {
    shape: Vec<i32>,
    dtype: usize,
    views: Vec<View>,
    seed: u64,
}

fn shape_strategy() -> impl Strategy<Value = Vec<i32>> {
    prop_oneof![
        9 => prop::collection::vec(0i32..8, 0..5),
        1 => prop::sample::select(vec![vec![1000], vec![33, 65], vec![3, 300], vec![2, 3, 130]]),
    ]
}

fn input_strategy() -> impl Strategy<Value = Input> {
    (
        shape_strategy(),
        0usize..6,
        prop::collection::vec(view_strategy(), 0..3),
        any::<u64>(),
    )
        .prop_map(|(shape, dtype, views, seed)| Input {
            shape,
            dtype,
            views,
            seed,
        })
}

/// Values `k/8`, `k` in `lo..=hi`, from a splitmix64 stream (exact in every float dtype).
fn dyadic(n: usize, seed: u64, lo: i64, hi: i64) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (lo + (z % (hi - lo + 1) as u64) as i64) as f64 / 8.0
        })
        .collect()
}

/// Builds the input's base array (on the CPU) with values in `[lo, hi] / 8` (integer dtypes
/// use `k` itself, clamped at 0 for unsigned ones).
fn base(inp: &Input, dtype: Dtype, lo: i64, hi: i64) -> Array {
    let n: i32 = inp.shape.iter().product();
    let mut v = dyadic(n as usize, inp.seed, lo, hi);
    if !dtype.is_float() {
        for x in &mut v {
            *x = (*x * 8.0).max(if dtype == Dtype::Int32 { f64::MIN } else { 0.0 });
        }
    }
    common::make(&v, &inp.shape, dtype)
}

/// Factors 1, 2 and 4 (integers: -1, 1, 2). Float products are exact, and as no factor is below
/// one, a product overflows to inf in every association order or in none (with a 1/2 among
/// them, a scan's block order could come back under the limit where a running product had
/// already overflowed: a CI run once caught 2^127 against inf).
fn powers_of_two(inp: &Input, dtype: Dtype) -> Array {
    let n: i32 = inp.shape.iter().product();
    let v: Vec<f64> = dyadic(n as usize, inp.seed, 0, 2)
        .iter()
        .map(|&k| {
            let k = (k * 8.0) as i32;
            match (dtype.is_float(), k) {
                (true, _) => 2f64.powi(k),
                (false, 0) => -1.0,
                (false, k) => k as f64,
            }
        })
        .collect();
    let v: Vec<f64> = if dtype.is_float() || dtype == Dtype::Int32 {
        v
    } else {
        v.iter().map(|x| x.abs()).collect()
    };
    common::make(&v, &inp.shape, dtype)
}

fn viewed(a: &Array, views: &[View], d: Device) -> wmx::Result<Array> {
    let mut x = a.clone();
    for v in views {
        x = apply(&x, v, d)?;
    }
    Ok(x)
}

/// Runs `f` on the CPU and on the GPU and compares (tolerance of `op` in the result's dtype).
fn agree(
    op: &str,
    what: &dyn std::fmt::Debug,
    f: &dyn Fn(Device) -> wmx::Result<Array>,
) -> Result<(), TestCaseError> {
    let Some(gpu) = common::gpu() else {
        return Ok(());
    };
    let want = f(Device::cpu());
    let got = f(gpu);
    match (want, got) {
        (Ok(w), Ok(g)) => {
            prop_assert_eq!(w.shape(), g.shape(), "{} shape on {:?}", op, what);
            prop_assert_eq!(w.dtype(), g.dtype());
            let (wv, gv) = (values(&w), values(&g));
            let r = std::panic::catch_unwind(|| assert_close(op, w.dtype(), &gv, &wv));
            prop_assert!(r.is_ok(), "{} disagrees on {:?}", op, what);
            Ok(())
        }
        (Err(w), Err(g)) => {
            prop_assert_eq!(w.to_string(), g.to_string());
            Ok(())
        }
        (w, g) => Err(TestCaseError::fail(format!(
            "{op} on {what:?}: CPU {:?}, GPU {:?}",
            w.map(|a| a.shape().to_vec()),
            g.map(|a| a.shape().to_vec())
        ))),
    }
}

/// Counts the cases a test ran and prints the count when dropped (at the end of the test).
struct Count(&'static str, std::sync::atomic::AtomicUsize);
impl Count {
    fn new(family: &'static str) -> Self {
        Count(family, std::sync::atomic::AtomicUsize::new(0))
    }
    fn hit(&self) {
        self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}
impl Drop for Count {
    fn drop(&mut self) {
        eprintln!(
            "properties {}: {} cases (each on CPU and GPU)",
            self.0,
            self.1.load(std::sync::atomic::Ordering::Relaxed)
        );
    }
}

fn run(
    family: &'static str,
    strategy: impl Strategy<Value = (Input, u32)>,
    body: impl Fn(&Input, u32) -> Result<(), TestCaseError>,
) {
    let count = Count::new(family);
    let mut runner = proptest::test_runner::TestRunner::new(config());
    let r = runner.run(&strategy, |(inp, pick)| {
        count.hit();
        body(&inp, pick)
    });
    if let Err(e) = r {
        panic!("properties {family}: {e}");
    }
}

fn cases() -> impl Strategy<Value = (Input, u32)> {
    (input_strategy(), any::<u32>())
}

#[test]
fn unary() {
    type F = fn(&Array, Device) -> wmx::Result<Array>;
    // (name, op, float only, lowest k): log and sqrt get positive inputs.
    let ops: [(&str, F, bool, i64); 8] = [
        ("exp", |a, d| mx::exp(a, d), true, -24),
        ("log", |a, d| mx::log(a, d), true, 1),
        ("sqrt", |a, d| mx::sqrt(a, d), true, 0),
        ("sin", |a, d| mx::sin(a, d), true, -24),
        ("tanh", |a, d| mx::tanh(a, d), true, -24),
        ("abs", |a, d| mx::abs(a, d), false, -24),
        ("negative", |a, d| mx::negative(a, d), false, -24),
        ("square", |a, d| mx::square(a, d), false, -24),
    ];
    run("unary", cases(), |inp, pick| {
        let (name, f, float_only, lo) = ops[pick as usize % ops.len()];
        let dtype = if float_only {
            FLOATS[inp.dtype % 3]
        } else {
            NUMERIC[inp.dtype % 6]
        };
        if name == "negative" && dtype == Dtype::Uint8 {
            return Ok(());
        }
        let a = base(inp, dtype, lo, 24);
        agree(name, &(inp, dtype), &|d| f(&viewed(&a, &inp.views, d)?, d))
    });
}

#[test]
fn binary() {
    type F = fn(&Array, &Array, Device) -> wmx::Result<Array>;
    let ops: [(&str, F); 6] = [
        ("add", |a, b, d| mx::add(a, b, d)),
        ("subtract", |a, b, d| mx::subtract(a, b, d)),
        ("multiply", |a, b, d| mx::multiply(a, b, d)),
        ("maximum", |a, b, d| mx::maximum(a, b, d)),
        ("minimum", |a, b, d| mx::minimum(a, b, d)),
        ("divide", |a, b, d| mx::divide(a, b, d)),
    ];
    run("binary", cases(), |inp, pick| {
        let (name, f) = ops[pick as usize % ops.len()];
        let dtype = if name == "divide" {
            FLOATS[inp.dtype % 3]
        } else {
            NUMERIC[inp.dtype % 6]
        };
        let a = base(inp, dtype, -24, 24);
        // The second operand: the same values reversed-seeded, as its own view of `a`'s final
        // shape, or a row that broadcasts against it (divisors avoid zero).
        let va = viewed(&a, &inp.views, Device::cpu())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let shape = va.shape().to_vec();
        let bshape: Vec<i32> = if pick & 64 != 0 && !shape.is_empty() {
            let mut s = vec![1; shape.len()];
            *s.last_mut().unwrap() = *shape.last().unwrap();
            s
        } else {
            shape.clone()
        };
        let n: i32 = bshape.iter().product();
        let mut bv = dyadic(n as usize, inp.seed ^ 0xABCD, 1, 24);
        if !dtype.is_float() {
            bv.iter_mut().for_each(|x| *x *= 8.0);
        }
        let b = common::make(&bv, &bshape, dtype);
        agree(name, &(inp, dtype, &bshape), &|d| {
            f(&viewed(&a, &inp.views, d)?, &b, d)
        })
    });
}

#[test]
fn reduce() {
    type F = fn(&Array, &[i32], bool, Device) -> wmx::Result<Array>;
    let ops: [(&str, F); 5] = [
        ("sum", |a, x, k, d| mx::sum(a, x, k, d)),
        ("max", |a, x, k, d| mx::max(a, x, k, d)),
        ("min", |a, x, k, d| mx::min(a, x, k, d)),
        ("prod", |a, x, k, d| mx::prod(a, x, k, d)),
        ("mean", |a, x, k, d| mx::mean(a, x, k, d)),
    ];
    run("reduce", cases(), |inp, pick| {
        let (name, f) = ops[pick as usize % ops.len()];
        let dtype = if name == "mean" {
            FLOATS[inp.dtype % 3]
        } else {
            NUMERIC[inp.dtype % 6]
        };
        let a = if name == "prod" {
            powers_of_two(inp, dtype)
        } else {
            base(inp, dtype, -24, 24)
        };
        let keep = pick & 32 != 0;
        agree(name, &(inp, dtype, pick), &|d| {
            let v = viewed(&a, &inp.views, d)?;
            let nd = v.ndim() as i32;
            // All axes, one axis, or the last two.
            let axes: Vec<i32> = match (pick >> 8) % 3 {
                0 => vec![],
                1 if nd > 0 => vec![(pick as i32 >> 12).rem_euclid(nd)],
                _ if nd > 1 => vec![nd - 2, nd - 1],
                _ => vec![],
            };
            f(&v, &axes, keep, d)
        })
    });
}

#[test]
fn scan() {
    run("scan", cases(), |inp, pick| {
        let prod = pick & 1 != 0;
        let dtype = NUMERIC[inp.dtype % 6];
        let a = if prod {
            powers_of_two(inp, dtype)
        } else {
            base(inp, dtype, -24, 24)
        };
        let (reverse, inclusive) = (pick & 2 != 0, pick & 4 != 0);
        let name = if prod { "prod" } else { "sum" };
        agree(name, &(inp, dtype, pick), &|d| {
            let v = viewed(&a, &inp.views, d)?;
            let nd = v.ndim() as i32;
            let axis = (nd > 0 && pick & 8 != 0).then(|| (pick as i32 >> 8).rem_euclid(nd));
            if prod {
                mx::cumprod(&v, axis, reverse, inclusive, d)
            } else {
                mx::cumsum(&v, axis, reverse, inclusive, d)
            }
        })
    });
}

#[test]
fn sort() {
    run("sort", cases(), |inp, pick| {
        let dtype = NUMERIC[inp.dtype % 6];
        let a = base(inp, dtype, -24, 24);
        agree("sort", &(inp, dtype, pick), &|d| {
            let v = viewed(&a, &inp.views, d)?;
            let nd = v.ndim() as i32;
            if nd == 0 {
                return mx::sort(&v, 0, d);
            }
            let axis = (pick as i32).rem_euclid(nd);
            if pick & 1 << 20 != 0 {
                // Indices are only comparable when the keys are distinct: sort the values that
                // argsort's indices pick instead.
                let i = mx::argsort(&v, axis, d)?;
                mx::take_along_axis(&v, &i, Some(axis), d)
            } else {
                mx::sort(&v, axis, d)
            }
        })
    });
}

#[test]
fn matmul() {
    let dims = prop_oneof![9 => 0i32..8, 1 => prop::sample::select(vec![33, 65, 130])];
    let strategy = (
        (dims.clone(), dims.clone(), dims),
        0usize..3,
        any::<u64>(),
        any::<u32>(),
    );
    let count = Count::new("matmul");
    let mut runner = proptest::test_runner::TestRunner::new(config());
    let r = runner.run(&strategy, |((m, k, n), dt, seed, pick)| {
        count.hit();
        let dtype = FLOATS[dt];
        let batch = if pick & 1 != 0 { vec![2] } else { vec![] };
        let mk = |rows: i32, cols: i32, s: u64| {
            let mut shape = batch.clone();
            shape.extend([rows, cols]);
            let n: i32 = shape.iter().product();
            common::make(&dyadic(n as usize, s, -8, 8), &shape, dtype)
        };
        // A transposed operand is stored the other way round and viewed with `swapaxes`.
        let (ta, tb) = (pick & 2 != 0, pick & 4 != 0);
        let a = if ta { mk(k, m, seed) } else { mk(m, k, seed) };
        let b = if tb { mk(n, k, !seed) } else { mk(k, n, !seed) };
        agree("matmul", &(m, k, n, dtype, pick), &|d| {
            let a = if ta {
                mx::swapaxes(&a, -1, -2, d)?
            } else {
                a.clone()
            };
            let b = if tb {
                mx::swapaxes(&b, -1, -2, d)?
            } else {
                b.clone()
            };
            mx::matmul(&a, &b, d)
        })
    });
    if let Err(e) = r {
        panic!("properties matmul: {e}");
    }
}

#[test]
fn gather() {
    run("gather", cases(), |inp, pick| {
        let dtype = NUMERIC[inp.dtype % 6];
        let a = base(inp, dtype, -24, 24);
        agree("take", &(inp, dtype, pick), &|d| {
            let v = viewed(&a, &inp.views, d)?;
            let nd = v.ndim() as i32;
            if nd == 0 || v.size() == 0 {
                return Ok(v);
            }
            let axis = (pick as i32).rem_euclid(nd);
            let len = v.shape()[axis as usize];
            if len == 0 {
                return Ok(v);
            }
            // Indices in [-len, len) (negative ones count from the end), 0–5 of them.
            let k = (pick >> 8) % 6;
            let idx: Vec<i32> = (0..k)
                .map(|j| ((pick >> 12) as i32 + 7 * j as i32).rem_euclid(2 * len) - len)
                .collect();
            let i = Array::from_slice(&idx, &[k as i32]);
            mx::take(&v, &i, axis, d)
        })
    });
}

#[test]
fn shape_ops() {
    run("shape", cases(), |inp, pick| {
        let dtype = NUMERIC[inp.dtype % 6];
        let a = base(inp, dtype, -24, 24);
        let which = pick % 5;
        let name = ["contiguous", "reshape", "concatenate", "pad", "roll"][which as usize];
        agree(name, &(inp, dtype, pick), &|d| {
            let v = viewed(&a, &inp.views, d)?;
            let nd = v.ndim();
            match which {
                0 => mx::contiguous(&v, d),
                1 => mx::reshape(&v, &[-1], d),
                2 if nd > 0 => {
                    let axis = (pick as i32 >> 8).rem_euclid(nd as i32);
                    mx::concatenate(&[&v, &v], axis, d)
                }
                3 => {
                    let w: Vec<(i32, i32)> = (0..nd)
                        .map(|i| ((pick >> i) as i32 & 1, (pick >> (i + 4)) as i32 & 2))
                        .collect();
                    mx::pad(&v, &w, mx::PadMode::Constant, 3.0, d)
                }
                _ if nd > 0 => {
                    let axis = (pick as i32 >> 8).rem_euclid(nd as i32);
                    mx::roll(&v, &[(pick as i32 >> 12) % 9 - 4], Some(&[axis]), d)
                }
                _ => mx::contiguous(&v, d),
            }
        })
    });
}
