//! The checks of `wmx::distributed`, as one program (no test harness: every rank must issue its
//! collectives in one order). Under `mpirun -np N` (N = 2 or 4 in .ci/run) it checks every
//! collective against values computed locally, on the CPU and the GPU, for every dtype, sizes 0,
//! 1, odd and >= 16 MiB, non-contiguous views, group splits, send/recv rings and mismatches, the
//! transforms (grad, jvp, vmap) and `average_gradients`; alone it checks the singleton group.
//! `distributed_mpi fault exit|mismatch` are the fault scenarios .ci/run expects to fail fast.
//! Prints `N passed, M failed` and exits non-zero when any check failed on any rank.

use std::collections::BTreeMap;
use wmx::distributed::{self as dist, Group};
use wmx::{self as mx, Array, Device, DeviceType, Dtype, Result};

struct Checks {
    passed: usize,
    failed: Vec<String>,
}

impl Checks {
    fn check(&mut self, what: &str, r: Result<bool>) {
        match r {
            Ok(true) => self.passed += 1,
            Ok(false) => self.failed.push(format!("{what}: wrong values")),
            Err(e) => self.failed.push(format!("{what}: {e}")),
        }
    }
}

/// The elements as f32 (every test value is a small integer, exact in every dtype).
fn vals(a: &Array) -> Result<Vec<f32>> {
    mx::astype(a, Dtype::Float32, Device::cpu())?.to_vec::<f32>()
}

/// Rank `r`'s test data: `n` small integers (0/1 for bool).
fn data(r: i32, n: usize, dt: Dtype) -> Vec<f32> {
    (0..n)
        .map(|i| match dt {
            Dtype::Bool => ((i as i32 + r) % 3 == 0) as i32 as f32,
            _ => {
                ((r + 1) * (i as i32 % 5) + r
                    - 2 * (i as i32 % 2) * (dt != Dtype::Uint8 && dt != Dtype::Uint32) as i32)
                    as f32
            }
        })
        .collect()
}

fn make(v: &[f32], shape: &[i32], dt: Dtype, d: Device) -> Result<Array> {
    mx::astype(&Array::from_slice(v, shape), dt, d)
}

fn fold(n: i32, len: usize, dt: Dtype, f: fn(f32, f32) -> f32) -> Vec<f32> {
    let mut acc = data(0, len, dt);
    for q in 1..n {
        for (a, b) in acc.iter_mut().zip(data(q, len, dt)) {
            *a = f(*a, b);
        }
    }
    if dt == Dtype::Bool {
        acc.iter_mut().for_each(|a| *a = (*a != 0.0) as i32 as f32);
    }
    acc
}

fn collectives(c: &mut Checks, g: &Group, d: Device) {
    let (r, n) = (g.rank(), g.size());
    for &dt in &Dtype::ALL {
        for rows in [0usize, 1, 7] {
            let len = rows * 3;
            let tag = format!("{d} {dt:?} [{rows}, 3]");
            let x = make(&data(r, len, dt), &[rows as i32, 3], dt, d);
            let sum = |a: f32, b: f32| a + b;
            c.check(
                &format!("all_sum {tag}"),
                (|| {
                    let y = dist::all_sum(&x?, Some(g), d)?;
                    Ok(y.dtype() == dt
                        && y.shape() == [rows as i32, 3]
                        && vals(&y)? == fold(n, len, dt, sum))
                })(),
            );
            let x = make(&data(r, len, dt), &[rows as i32, 3], dt, d);
            c.check(
                &format!("all_max {tag}"),
                (|| Ok(vals(&dist::all_max(&x?, Some(g), d)?)? == fold(n, len, dt, f32::max)))(),
            );
            let x = make(&data(r, len, dt), &[rows as i32, 3], dt, d);
            c.check(
                &format!("all_min {tag}"),
                (|| Ok(vals(&dist::all_min(&x?, Some(g), d)?)? == fold(n, len, dt, f32::min)))(),
            );
            let x = make(&data(r, len, dt), &[rows as i32, 3], dt, d);
            c.check(
                &format!("all_gather {tag}"),
                (|| {
                    let y = dist::all_gather(&x?, Some(g), d)?;
                    let want: Vec<f32> = (0..n).flat_map(|q| data(q, len, dt)).collect();
                    Ok(y.shape() == [rows as i32 * n, 3] && vals(&y)? == want)
                })(),
            );
            // sum_scatter: [n * rows, 3] in, this rank's [rows, 3] block of the sum out.
            let x = make(&data(r, len * n as usize, dt), &[rows as i32 * n, 3], dt, d);
            c.check(
                &format!("sum_scatter {tag}"),
                (|| {
                    let y = dist::sum_scatter(&x?, Some(g), d)?;
                    let all = fold(n, len * n as usize, dt, sum);
                    let want = all[r as usize * len..(r as usize + 1) * len].to_vec();
                    Ok(y.shape() == [rows as i32, 3] && vals(&y)? == want)
                })(),
            );
        }
        // A scalar gathers into [size]; a transposed (non-contiguous) view is packed first.
        c.check(
            &format!("all_gather scalar {d} {dt:?}"),
            (|| {
                let x = make(&data(r, 1, dt), &[], dt, d)?;
                let y = dist::all_gather(&x, Some(g), d)?;
                let want: Vec<f32> = (0..n).flat_map(|q| data(q, 1, dt)).collect();
                Ok(y.shape() == [n] && vals(&y)? == want)
            })(),
        );
        c.check(
            &format!("all_sum transposed {d} {dt:?}"),
            (|| {
                let x = mx::transpose(&make(&data(r, 15, dt), &[3, 5], dt, d)?, &[1, 0], d)?;
                let y = dist::all_sum(&x, Some(g), d)?;
                let want = mx::transpose(
                    &make(&fold(n, 15, dt, |a, b| a + b), &[3, 5], dt, d)?,
                    &[1, 0],
                    d,
                )?;
                Ok(vals(&y)? == vals(&want)?)
            })(),
        );
    }
    // >= 16 MiB: 4M + 3 float32 elements.
    let big = (4 << 20) + 3;
    c.check(
        &format!("all_sum 16 MiB {d}"),
        (|| {
            let x = mx::add(
                &mx::arange(0.0, big as f64, 1.0, Dtype::Float32, d)?,
                &Array::scalar(r as f32),
                d,
            )?;
            let y = vals(&dist::all_sum(&x, Some(g), d)?)?;
            let off = (0..n).sum::<i32>() as f32;
            Ok(y.len() == big
                && [0, 1, big / 2, big - 1]
                    .iter()
                    .all(|&i| y[i] == n as f32 * i as f32 + off))
        })(),
    );
    c.check(
        &format!("all_gather 16 MiB {d}"),
        (|| {
            let x = mx::full(&[big as i32], r as f64, Dtype::Float32, d)?;
            let y = vals(&dist::all_gather(&x, Some(g), d)?)?;
            Ok(y.len() == big * n as usize
                && (0..n as usize)
                    .all(|q| y[q * big] == q as f32 && y[q * big + big - 1] == q as f32))
        })(),
    );
}

fn point_to_point(c: &mut Checks, g: &Group, d: Device) {
    let (r, n) = (g.rank(), g.size());
    let (next, prev) = ((r + 1) % n, (r + n - 1) % n);
    for (dt, len) in [
        (Dtype::Float32, 5usize),
        (Dtype::Bfloat16, 1),
        (Dtype::Int32, 0),
        (Dtype::Float32, (4 << 20) + 1),
    ] {
        c.check(
            &format!("ring {d} {dt:?} {len}"),
            (|| {
                let x = make(&data(r, len.min(64), dt), &[len.min(64) as i32], dt, d)?;
                let x = if len > 64 {
                    mx::broadcast_to(&mx::full(&[], r as f64, dt, d)?, &[len as i32], d)?
                } else {
                    x
                };
                // Even ranks send first, odd ranks receive first: a blocking ring cannot deadlock.
                let got = if r % 2 == 0 {
                    mx::eval([&dist::send(&x, next, Some(g), d)?])?;
                    dist::recv_like(&x, prev, Some(g), d)?
                } else {
                    let got = dist::recv_like(&x, prev, Some(g), d)?;
                    got.eval()?;
                    mx::eval([&dist::send(&x, next, Some(g), d)?])?;
                    got
                };
                let want = if len > 64 {
                    vec![prev as f32; len]
                } else {
                    data(prev, len, dt)
                };
                Ok(got.dtype() == dt && vals(&got)? == want)
            })(),
        );
    }
    // A dtype mismatch is reported by the receiver, and the channel stays usable.
    if r < 2 {
        c.check(
            &format!("recv dtype mismatch {d}"),
            (|| {
                if r == 0 {
                    let x = mx::full(&[4], 1.0, Dtype::Int32, d)?;
                    mx::eval([&dist::send(&x, 1, Some(g), d)?])?;
                    mx::eval([&dist::send(
                        &mx::astype(&x, Dtype::Float32, d)?,
                        1,
                        Some(g),
                        d,
                    )?])?;
                    Ok(true)
                } else {
                    let bad = dist::recv(&[4], Dtype::Float32, 0, Some(g), d)?;
                    let e = bad.eval().err().map(|e| e.to_string()).unwrap_or_default();
                    let good = dist::recv(&[4], Dtype::Float32, 0, Some(g), d)?;
                    Ok(e.contains("Int32") && e.contains("[recv]") && vals(&good)? == vec![1.0; 4])
                }
            })(),
        );
    }
    c.check(
        &format!("send argument checks {d}"),
        (|| {
            let x = mx::zeros(&[1], Dtype::Float32, d)?;
            Ok(dist::send(&x, n, Some(g), d).is_err()
                && dist::send(&x, r, Some(g), d).is_err()
                && dist::recv(&[1], Dtype::Float32, -1, Some(g), d).is_err())
        })(),
    );
}

fn splits(c: &mut Checks, g: &Group) {
    let (r, n) = (g.rank(), g.size());
    c.check(
        "split by parity",
        (|| {
            let sub = g.split(r % 2, r)?;
            let y = dist::all_sum(&Array::from_slice(&[r], &[1]), Some(&sub), Device::cpu())?;
            let want: i32 = (0..n).filter(|q| q % 2 == r % 2).sum();
            Ok(
                sub.size() == (0..n).filter(|q| q % 2 == r % 2).count() as i32
                    && sub.rank() == r / 2
                    && y.to_vec::<i32>()? == vec![want],
            )
        })(),
    );
    c.check(
        "split with reversed keys",
        (|| {
            let rev = g.split(0, n - 1 - r)?;
            let y = dist::all_gather(&Array::from_slice(&[r], &[1]), Some(&rev), Device::cpu())?;
            Ok(rev.rank() == n - 1 - r && y.to_vec::<i32>()? == (0..n).rev().collect::<Vec<_>>())
        })(),
    );
}

fn transforms(c: &mut Checks, g: &Group, d: Device) {
    let (r, n) = (g.rank(), g.size());
    let xr: Vec<f32> = (0..4).map(|i| (r + 1) as f32 * (i as f32 + 0.5)).collect();
    let xall: Vec<Vec<f32>> = (0..n)
        .map(|q| (0..4).map(|i| (q + 1) as f32 * (i as f32 + 0.5)).collect())
        .collect();
    // loss(w) = sum(all_sum(w * x_r)^2): this rank's gradient is 2 * all_sum(w * x) * x_r.
    c.check(
        &format!("grad of all_sum {d}"),
        (|| {
            let x = Array::from_slice(&xr, &[4]);
            let w = mx::full(&[4], 0.5, Dtype::Float32, d)?;
            let gx = g.clone();
            let (loss, grad) = mx::value_and_grad(move |w: &Array| {
                let s = dist::all_sum(&mx::multiply(w, &x, d)?, Some(&gx), d)?;
                mx::sum(&mx::square(&s, d)?, &[], false, d)
            })(&w)?;
            let tot: Vec<f32> = (0..4)
                .map(|i| 0.5 * xall.iter().map(|v| v[i]).sum::<f32>())
                .collect();
            let want: Vec<f32> = (0..4).map(|i| 2.0 * tot[i] * xr[i]).collect();
            let l = tot.iter().map(|t| t * t).sum::<f32>();
            let gv = grad.to_vec::<f32>()?;
            Ok((loss.item::<f32>()? - l).abs() < 1e-3 * l
                && gv
                    .iter()
                    .zip(&want)
                    .all(|(a, b)| (a - b).abs() < 1e-4 * b.abs().max(1.0)))
        })(),
    );
    c.check(
        &format!("grad of all_gather and all_max {d}"),
        (|| {
            let x = Array::from_slice(&xr, &[2, 2]);
            let gx = g.clone();
            let grad = mx::grad(move |x: &Array| {
                let ga = dist::all_gather(x, Some(&gx), d)?;
                let weights = mx::arange(1.0, 4.0 * n as f64 + 1.0, 1.0, Dtype::Float32, d)?;
                let m = dist::all_max(x, Some(&gx), d)?;
                mx::add(
                    &mx::sum(
                        &mx::multiply(&mx::reshape(&ga, &[-1], d)?, &weights, d)?,
                        &[],
                        false,
                        d,
                    )?,
                    &mx::sum(&m, &[], false, d)?,
                    d,
                )
            })(&x)?;
            // d/dx of the gather term is this rank's block of the weights; all_max's is 1 only on
            // the last rank (which holds the largest values).
            let want: Vec<f32> = (0..4)
                .map(|i| (4 * r + i + 1) as f32 + (r == n - 1) as i32 as f32)
                .collect();
            Ok(grad.to_vec::<f32>()? == want)
        })(),
    );
    c.check(
        &format!("jvp of all_sum {d}"),
        (|| {
            let x = Array::from_slice(&xr, &[4]);
            let t = mx::full(&[4], (r + 1) as f64, Dtype::Float32, d)?;
            let gx = g.clone();
            let (_, tans) = mx::jvp(
                move |p: &[Array]| Ok(vec![dist::all_sum(&p[0], Some(&gx), d)?]),
                &[x],
                &[t],
            )?;
            Ok(tans[0].to_vec::<f32>()? == vec![(n * (n + 1) / 2) as f32; 4])
        })(),
    );
    c.check(
        &format!("vmap of all_gather {d}"),
        (|| {
            let x = make(&data(r, 6, Dtype::Float32), &[3, 2], Dtype::Float32, d)?;
            let gx = g.clone();
            let y = mx::vmap(
                move |p: &[Array]| Ok(vec![dist::all_gather(&p[0], Some(&gx), d)?]),
                &[Some(0)],
                &[Some(0)],
            )(&[x])?;
            let want: Vec<f32> = (0..3)
                .flat_map(|b| {
                    (0..n).flat_map(move |q| data(q, 6, Dtype::Float32)[2 * b..2 * b + 2].to_vec())
                })
                .collect();
            Ok(y[0].shape() == [3, 2 * n] && vals(&y[0])? == want)
        })(),
    );
}

fn averaging(c: &mut Checks, g: &Group, d: Device) {
    let (r, n) = (g.rank(), g.size());
    for size in [0usize, 64, dist::ALL_REDUCE_SIZE] {
        c.check(
            &format!("average_gradients {d} all_reduce_size {size}"),
            (|| {
                let mut grads = BTreeMap::new();
                for (i, (shape, dt)) in [
                    (vec![3, 4], Dtype::Float32),
                    (vec![5], Dtype::Float16),
                    (vec![0, 2], Dtype::Float32),
                    (vec![7], Dtype::Float32),
                    (vec![], Dtype::Bfloat16),
                ]
                .into_iter()
                .enumerate()
                {
                    let len = shape.iter().product::<i32>() as usize;
                    let v: Vec<f32> = (0..len)
                        .map(|k| (2 * (r + 1) * (k as i32 + i as i32)) as f32)
                        .collect();
                    grads.insert(format!("p{i}"), make(&v, &shape, dt, d)?);
                }
                let avg = dist::average_gradients(&grads, Some(g), size, d)?;
                let mut ok = avg.len() == grads.len();
                for (k, a) in &avg {
                    let i: i32 = k[1..].parse().unwrap_or(0);
                    let want: Vec<f32> = (0..a.size())
                        .map(|e| ((n + 1) * (e as i32 + i)) as f32)
                        .collect();
                    ok &= a.shape() == grads[k].shape()
                        && a.dtype() == grads[k].dtype()
                        && vals(a)? == want;
                }
                Ok(ok)
            })(),
        );
    }
}

fn singleton(c: &mut Checks) {
    c.check(
        "singleton",
        (|| {
            let g = dist::init(false)?;
            let x = Array::from_slice(&[1.0f32, 2.0], &[2]);
            let same = |y: Array| -> Result<bool> { Ok(y.to_vec::<f32>()? == vec![1.0, 2.0]) };
            Ok(g.size() == 1
                && g.rank() == 0
                && !dist::is_available()
                && dist::init(true).is_err()
                && same(dist::all_sum(&x, None, None)?)?
                && same(dist::all_gather(&x, None, None)?)?
                && same(dist::sum_scatter(&x, None, None)?)?
                && dist::send(&x, 0, None, None).is_err()
                && dist::recv_like(&x, 0, None, None).is_err()
                && g.split(1, 0)?.size() == 1)
        })(),
    );
}

/// Fault scenarios: each must make the job fail (non-zero exit) within the timeout.
fn fault(kind: &str, g: &Group) -> Result<()> {
    let r = g.rank();
    let x = mx::ones(&[16], Dtype::Float32, Device::cpu())?;
    match kind {
        // Rank 1 leaves before the collective the others are in.
        "exit" if r == 1 => std::process::exit(0),
        // Rank 1 passes a different size (with WMX_DISTRIBUTED_CHECK=1: detected and aborted).
        "mismatch" if r == 1 => dist::all_sum(
            &mx::ones(&[17], Dtype::Float32, Device::cpu())?,
            Some(g),
            None,
        )?
        .eval(),
        _ => dist::all_sum(&x, Some(g), Device::cpu())?.eval(),
    }?;
    eprintln!("rank {r}: fault scenario {kind} did not fail");
    Ok(())
}

fn main() {
    let g = match dist::init(false) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("init failed: {e}");
            std::process::exit(1);
        }
    };
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("fault") {
        let r = fault(args.get(2).map_or("exit", String::as_str), &g);
        eprintln!("fault scenario returned {r:?}");
        std::process::exit(3);
    }
    let mut c = Checks {
        passed: 0,
        failed: Vec::new(),
    };
    if g.size() == 1 {
        singleton(&mut c);
    } else {
        let mut devices = vec![Device::cpu()];
        if mx::device_count(DeviceType::Gpu) > 0 {
            devices.push(Device::gpu(0));
        } else if std::env::var("WMX_REQUIRE_GPU").as_deref() == Ok("1") {
            c.failed.push("WMX_REQUIRE_GPU=1 but no GPU adapter".into());
        }
        for &d in &devices {
            collectives(&mut c, &g, d);
            point_to_point(&mut c, &g, d);
            transforms(&mut c, &g, d);
            averaging(&mut c, &g, d);
        }
        splits(&mut c, &g);
    }
    for f in &c.failed {
        eprintln!("rank {}: FAILED {f}", g.rank());
    }
    // Every rank exits non-zero when any rank failed a check.
    let worst = dist::all_max(
        &Array::from_slice(&[c.failed.len() as i32], &[1]),
        Some(&g),
        Device::cpu(),
    )
    .and_then(|a| a.to_vec::<i32>())
    .map_or(1, |v| v[0]);
    if g.rank() == 0 {
        println!(
            "distributed_mpi ({} ranks): {} passed, {} failed",
            g.size(),
            c.passed,
            c.failed.len()
        );
    }
    if worst > 0 {
        std::process::exit(1);
    }
}
