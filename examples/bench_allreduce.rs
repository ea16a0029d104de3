//! `all_sum` bandwidth and latency against message size (4 B to 256 MiB), beside Open MPI's own
//! `MPI_Allreduce` (raw rsmpi calls on preallocated buffers of the same size) in the same run.
//! Prints one row per size: time per op of each, their ratio, the algorithm bandwidth (bytes /
//! time) and the bus bandwidth (`2 (n - 1) / n` times that, NCCL's convention), and for small
//! messages the overhead per collective (wmx time minus raw time).
//!
//! Run: `cargo build --release --features mpi --example bench_allreduce &&
//! mpirun -np 4 target/release/examples/bench_allreduce [--gpu] [--max-mib 256]`
//! (`--gpu`: the arrays live on the first GPU and are staged through host memory).

use mpi::collective::SystemOperation;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use std::time::Instant;
use wmx::{self as mx, Device, Dtype};

fn main() -> mx::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let gpu = args.iter().any(|a| a == "--gpu");
    let max_mib: usize = args
        .iter()
        .position(|a| a == "--max-mib")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let g = mx::distributed::init(true)?;
    let world = SimpleCommunicator::world();
    let d = if gpu { Device::gpu(0) } else { Device::cpu() };
    let (n, r) = (g.size(), g.rank());
    if r == 0 {
        println!(
            "all_sum of float32 on {n} ranks, arrays on {d}; raw = MPI_Allreduce (rsmpi) on the same sizes"
        );
        println!(
            "{:>10} {:>7} {:>12} {:>12} {:>7} {:>11} {:>11} {:>12}",
            "bytes",
            "iters",
            "wmx us",
            "raw us",
            "ratio",
            "wmx busGB/s",
            "raw busGB/s",
            "overhead us"
        );
    }
    let mut bytes = 4usize;
    while bytes <= max_mib << 20 {
        let count = bytes / 4;
        let iters = ((256usize << 20) / bytes).clamp(4, 2000);
        let x = mx::full(&[count as i32], 1.0 + r as f64, Dtype::Float32, d)?;
        x.eval()?;
        let send: Vec<f32> = vec![1.0 + r as f32; count];
        let mut recv: Vec<f32> = vec![0.0; count];
        let want = (n * (n + 1) / 2) as f32;

        let time_wmx = |iters: usize| -> mx::Result<f64> {
            world.barrier();
            let t0 = Instant::now();
            for _ in 0..iters {
                let y = mx::distributed::all_sum(&x, Some(&g), d)?;
                y.eval()?;
            }
            Ok(t0.elapsed().as_secs_f64() / iters as f64)
        };
        let mut time_raw = |iters: usize| -> f64 {
            world.barrier();
            let t0 = Instant::now();
            for _ in 0..iters {
                world.all_reduce_into(&send[..], &mut recv[..], SystemOperation::sum());
            }
            t0.elapsed().as_secs_f64() / iters as f64
        };
        // Warm up both (buffer caches, page faults, MPI connections), then alternate twice and
        // keep each side's best.
        time_wmx(2.min(iters))?;
        time_raw(2.min(iters));
        let (mut tw, mut tr) = (f64::MAX, f64::MAX);
        for _ in 0..2 {
            tw = tw.min(time_wmx(iters)?);
            tr = tr.min(time_raw(iters));
        }
        // Check the result once (values, not zeros: every rank contributes 1 + rank).
        let y = mx::distributed::all_sum(&x, Some(&g), d)?;
        let last = mx::take(&y, &mx::Array::scalar(count as i32 - 1), 0, Device::cpu())?;
        assert_eq!(
            last.item::<f32>()?,
            want,
            "wrong all_sum result at {bytes} bytes"
        );
        assert!(recv.last().is_none_or(|&v| v == want));
        // The slowest rank decides.
        let mut times = [tw, tr];
        let mut worst = [0.0f64; 2];
        world.all_reduce_into(&times[..], &mut worst[..], SystemOperation::max());
        times = worst;
        if r == 0 {
            let bus = |t: f64| 2.0 * (n - 1) as f64 / n as f64 * bytes as f64 / t / 1e9;
            println!(
                "{:>10} {:>7} {:>12.1} {:>12.1} {:>7.2} {:>11.2} {:>11.2} {:>12.1}",
                bytes,
                iters,
                times[0] * 1e6,
                times[1] * 1e6,
                times[1] / times[0],
                bus(times[0]),
                bus(times[1]),
                (times[0] - times[1]) * 1e6
            );
        }
        bytes *= 4;
    }
    Ok(())
}
