//! `compile` benchmark (the compile issue's rows): gelu (tanh form) and a 10-op elementwise chain
//! over 8192² f32, eager and compiled, as GB/s (bytes of the input read and the output written)
//! beside a plain copy; two fused reductions over the same input (a row mean of squares, whose
//! square runs inside the reduction when compiled, and a scaled softmax with a bias row, whose
//! scale and add do), as GB/s of the bytes they must move; and 1,000 dependent small elementwise
//! ops (256 elements), eager and compiled, as µs per op including evaluation.
//!
//! ```text
//! cargo run --release --example bench_compile -- [--device cpu|gpu] [--small]
//! ```
//! Prints `name seconds [GB/s | µs/op]` lines that compare with `scripts/compile_ref.py` (torch,
//! same shapes, same machine).

use std::time::Instant;
use wmx::{self as mx, Array, Device, DeviceType, Dtype};

type R = mx::Result<Array>;

/// gelu, tanh approximation: 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))).
fn gelu(x: &Array) -> R {
    let inner = mx::multiply(
        &mx::add(
            x,
            &mx::multiply(&mx::power(x, 3.0f32, None)?, 0.044715f32, None)?,
            None,
        )?,
        0.797_884_6f32,
        None,
    )?;
    mx::multiply(
        &mx::multiply(x, 0.5f32, None)?,
        &mx::add(&mx::tanh(&inner, None)?, 1.0f32, None)?,
        None,
    )
}

/// Ten dependent elementwise ops (scalars and the input as operands).
fn chain10(x: &Array) -> R {
    let mut y = mx::multiply(x, 1.0001f32, None)?;
    y = mx::add(&y, 0.5f32, None)?;
    y = mx::abs(&y, None)?;
    y = mx::sqrt(&y, None)?;
    y = mx::multiply(&y, x, None)?;
    y = mx::subtract(&y, 0.25f32, None)?;
    y = mx::tanh(&y, None)?;
    y = mx::multiply(&y, 2.0f32, None)?;
    y = mx::add(&y, x, None)?;
    mx::maximum(&y, 0.0f32, None)
}

/// Mean of squares along the rows (an RMS norm's statistic).
fn mean_sq(x: &Array) -> R {
    mx::mean(&mx::square(x, None)?, &[-1], true, None)
}

/// softmax(x / 8 + b) along the rows (attention scores with a bias row).
fn softmax_scaled(x: &Array, b: &Array) -> R {
    mx::softmax(
        &mx::add(&mx::multiply(x, 0.125f32, None)?, b, None)?,
        &[-1],
        None,
    )
}

/// `n` dependent small ops.
fn chain(x: &Array, n: usize) -> R {
    let mut y = x.clone();
    for k in 0..n {
        y = match k % 4 {
            0 => mx::multiply(&y, 0.999f32, None)?,
            1 => mx::add(&y, 0.001f32, None)?,
            2 => mx::maximum(&y, -1.0f32, None)?,
            _ => mx::subtract(&y, x, None)?,
        };
    }
    Ok(y)
}

/// Median seconds per call of `f` over `iters` rounds, each round `batch` calls evaluated
/// together and waited for (so one submit-and-wait is spread over `batch` calls, as torch's
/// loop of launches before one synchronize), after a warm-up round.
fn time(iters: usize, batch: usize, f: &dyn Fn() -> R) -> mx::Result<f64> {
    let round = || -> mx::Result<f64> {
        let s = Instant::now();
        let ys = (0..batch).map(|_| f()).collect::<mx::Result<Vec<_>>>()?;
        mx::eval(&ys)?;
        Ok(s.elapsed().as_secs_f64() / batch as f64)
    };
    round()?;
    let mut t = (0..iters)
        .map(|_| round())
        .collect::<mx::Result<Vec<_>>>()?;
    t.sort_by(f64::total_cmp);
    Ok(t[t.len() / 2])
}

fn main() -> mx::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let get = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let small = args.iter().any(|a| a == "--small");
    let dev = match get("--device").as_deref() {
        Some("cpu") => Device::cpu(),
        _ if mx::device_count(DeviceType::Gpu) > 0 => Device::gpu(0),
        _ => Device::cpu(),
    };
    let name = if dev == Device::cpu() { "cpu" } else { "gpu" };
    let _g = mx::stream(dev);
    let n = if small { 1024 } else { 8192 };
    let x = mx::random::normal(
        &[n, n],
        Dtype::Float32,
        None,
        None,
        Some(&mx::random::key(1)),
        None,
    )?;
    x.eval()?;
    let gb = 2.0 * (n as f64) * (n as f64) * 4.0 / 1e9;
    let iters = if small { 20 } else { 10 };
    // 16 results per eval (1 GiB of each kind): the submit-and-wait round trip is spread thin.
    let batch = if small { 8 } else { 16 };
    let row = |what: &str, t: f64| {
        println!("{name}/{what}/{n}x{n}/f32 {t:.6} {:.1} GB/s", gb / t);
    };
    // `contiguous` always copies (its node is never a view).
    row("copy", time(iters, batch, &|| mx::contiguous(&x, None))?);
    let cg = mx::compile(|v: &[Array]| Ok(vec![gelu(&v[0])?]));
    let cc = mx::compile(|v: &[Array]| Ok(vec![chain10(&v[0])?]));
    let one = |f: &dyn Fn(&[Array]) -> mx::Result<Vec<Array>>| -> R {
        Ok(f(std::slice::from_ref(&x))?.remove(0))
    };
    row("gelu/eager", time(iters, batch, &|| gelu(&x))?);
    row("gelu/compiled", time(iters, batch, &|| one(&cg))?);
    row("chain10/eager", time(iters, batch, &|| chain10(&x))?);
    row("chain10/compiled", time(iters, batch, &|| one(&cc))?);
    // The mean of squares reads the input once and writes n values.
    let read = |what: &str, t: f64| {
        println!("{name}/{what}/{n}x{n}/f32 {t:.6} {:.1} GB/s", gb / 2.0 / t);
    };
    let cm = mx::compile(|v: &[Array]| Ok(vec![mean_sq(&v[0])?]));
    read("mean_sq/eager", time(iters, batch, &|| mean_sq(&x))?);
    read("mean_sq/compiled", time(iters, batch, &|| one(&cm))?);
    let b = mx::random::normal(
        &[n],
        Dtype::Float32,
        None,
        None,
        Some(&mx::random::key(3)),
        None,
    )?;
    b.eval()?;
    let b2 = b.clone();
    let cs = mx::compile(move |v: &[Array]| Ok(vec![softmax_scaled(&v[0], &b2)?]));
    row(
        "softmax_scaled/eager",
        time(iters, batch, &|| softmax_scaled(&x, &b))?,
    );
    row("softmax_scaled/compiled", time(iters, batch, &|| one(&cs))?);

    let ops = 1000;
    let s = mx::random::normal(
        &[256],
        Dtype::Float32,
        None,
        None,
        Some(&mx::random::key(2)),
        None,
    )?;
    s.eval()?;
    let cn = mx::compile(move |v: &[Array]| Ok(vec![chain(&v[0], ops)?]));
    for (what, t) in [
        ("eager", time(20, 1, &|| chain(&s, ops))?),
        (
            "compiled",
            time(50, 1, &|| Ok(cn(std::slice::from_ref(&s))?.remove(0)))?,
        ),
    ] {
        println!(
            "{name}/chain{ops}/256/f32/{what} {t:.6} {:.3} µs/op",
            t / ops as f64 * 1e6
        );
    }
    Ok(())
}
