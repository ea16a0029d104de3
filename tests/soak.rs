//! Bounded soak test: 8 threads share 4 streams on each device (CPU and GPU) and build random op
//! graphs whose nodes hop between streams and devices (every edge may cross a stream or a
//! device), evaluated by `eval`, `async_eval` or a read. Checks: no deadlock (a watchdog fails
//! the test when no thread makes progress for a while, instead of hanging CI), results
//! bit-identical to the same graphs run single-threaded on default streams, and no leak (GPU
//! active memory and live graph nodes back to where they started).
//!
//! Figures for docs/RELIABILITY.md: the test prints `soak: ...` with the graphs, nodes and time.
//! `WMX_SOAK_ITERS` sets the graphs per thread (default 1000: ~20 s on 2 cores with lavapipe),
//! `WMX_SOAK_STALL_S` the watchdog's patience in seconds (default 120). Its own binary: the
//! memory counters are process-wide.

mod common;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};
use wmx::{self as mx, Array, Device, Dtype, Stream};

const THREADS: usize = 8;
const STREAMS_PER_DEVICE: usize = 4;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// splitmix64: a small deterministic generator, so a graph is a function of its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// How a graph's outputs are evaluated.
#[derive(Clone, Copy, Debug)]
enum Mode {
    Eval,
    AsyncEval,
    Read,
}

/// The streams a graph's nodes are placed on: `streams[i]` for the concurrent run, the default
/// stream of the same device for the single-threaded reference.
fn place(streams: &[Stream], pick: usize, reference: bool) -> Stream {
    let s = streams[pick % streams.len()];
    if reference {
        mx::default_stream(s.device())
    } else {
        s
    }
}

/// Side of the shared matrices; a graph's own matrices are at most this.
const SHARED_N: i32 = 33;

fn leaf(rng: &mut Rng, n: i32) -> Array {
    let v: Vec<f32> = (0..n * n)
        .map(|_| (rng.below(33) as f32 - 16.0) / 8.0)
        .collect();
    Array::from_slice(&v, &[n, n])
}

/// The unevaluated graph every thread's `iter`-th graph reads: the threads race to evaluate it.
fn shared_graph(iter: usize, streams: &[Stream], reference: bool) -> Array {
    let mut rng = Rng(!(iter as u64));
    let a = leaf(&mut rng, SHARED_N);
    let b = leaf(&mut rng, SHARED_N);
    let mut s = || place(streams, rng.below(streams.len()), reference);
    let m = mx::matmul(&mx::tanh(&a, s()).unwrap(), &b, s()).unwrap();
    mx::add(
        mx::multiply(&m, 1.0 / SHARED_N as f32, s()).unwrap(),
        &a,
        s(),
    )
    .unwrap()
}

/// Builds the random graph of `seed` (square float32 matrices; every node on a random stream,
/// its inputs random earlier nodes, one leaf a corner of `shared`), evaluates its outputs, and
/// returns their bits.
fn run_graph(
    seed: u64,
    shared: &Array,
    streams: &[Stream],
    reference: bool,
    nodes: &AtomicUsize,
) -> Vec<Vec<u32>> {
    let mut rng = Rng(seed);
    let n = [1, 4, 16, SHARED_N][rng.below(4)];
    let leaves = 2 + rng.below(2);
    let corner = mx::slice(
        shared,
        &[0, 0],
        &[n, n],
        &[],
        place(streams, rng.below(streams.len()), reference),
    )
    .unwrap();
    let mut vals: Vec<Array> = std::iter::once(corner)
        .chain((1..leaves).map(|_| leaf(&mut rng, n)))
        .collect();
    let count = 6 + rng.below(10);
    for _ in 0..count {
        let s = place(streams, rng.below(streams.len()), reference);
        let a = vals[rng.below(vals.len())].clone();
        let b = vals[rng.below(vals.len())].clone();
        let out = match rng.below(14) {
            0 => mx::add(&a, &b, s),
            1 => mx::subtract(&a, &b, s),
            2 => mx::multiply(&a, &b, s),
            3 => mx::maximum(&a, &b, s),
            4 => mx::tanh(&a, s),
            5 => mx::sin(&a, s),
            6 => mx::matmul(&a, &b, s).and_then(|m| mx::multiply(&m, 1.0 / n as f32, s)),
            7 => mx::transpose(&a, &[], s),
            8 => mx::sum(&a, &[-1], true, s).and_then(|r| mx::add(&a, &r, s)),
            9 => mx::cumsum(&a, Some(0), rng.below(2) == 0, true, s),
            10 => mx::sort(&a, -1, s),
            11 => mx::softmax(&a, &[-1], s),
            12 => mx::astype(&a, Dtype::Float16, s).and_then(|h| mx::astype(&h, Dtype::Float32, s)),
            _ => mx::multiply(&a, 4.0f32, s)
                .and_then(|x| mx::astype(&x, Dtype::Int32, s))
                .and_then(|i| mx::astype(&i, Dtype::Float32, s)),
        }
        .unwrap_or_else(|e| panic!("graph {seed:#x}: {e}"));
        vals.push(out);
    }
    nodes.fetch_add(count, Ordering::Relaxed);
    let mut outs = vec![vals.last().expect("invariant: nodes").clone()];
    for _ in 0..rng.below(3) {
        outs.push(vals[leaves + rng.below(count)].clone());
    }
    drop(vals);
    let mode = [Mode::Eval, Mode::AsyncEval, Mode::Read][rng.below(3)];
    match mode {
        Mode::Eval => mx::eval(&outs).unwrap_or_else(|e| panic!("graph {seed:#x}: {e}")),
        Mode::AsyncEval => pollster::block_on(mx::async_eval(&outs))
            .unwrap_or_else(|e| panic!("graph {seed:#x}: {e}")),
        Mode::Read => {}
    }
    outs.iter()
        .map(|o| {
            let v = o
                .to_vec::<f32>()
                .unwrap_or_else(|e| panic!("graph {seed:#x} ({mode:?}): {e}"));
            v.into_iter().map(f32::to_bits).collect()
        })
        .collect()
}

/// Thread `t`'s view of the shared streams: the same list from its own offset, so threads
/// favour different streams at the same step.
fn rotated(streams: &[Stream], t: usize) -> Vec<Stream> {
    (0..streams.len())
        .map(|k| streams[(k + t) % streams.len()])
        .collect()
}

fn seed(thread: usize, iter: usize) -> u64 {
    0x5eed_0000 ^ ((thread as u64) << 32) ^ iter as u64
}

#[test]
fn threads_streams_devices_soak() {
    let mut devices = vec![Device::cpu()];
    devices.extend(common::gpu());
    let iters = env_or("WMX_SOAK_ITERS", 1000) as usize;
    let stall = Duration::from_secs(env_or("WMX_SOAK_STALL_S", 120));
    // The default stream and three more on each device, shared by every thread.
    let streams: Vec<Stream> = devices
        .iter()
        .flat_map(|&d| {
            std::iter::once(mx::default_stream(d))
                .chain((1..STREAMS_PER_DEVICE).map(move |_| mx::new_stream(d)))
        })
        .collect();
    let streams = Arc::new(streams);

    // Warm up every device (GPU context, pipelines), then take the baseline.
    let counter = AtomicUsize::new(0);
    run_graph(
        1,
        &shared_graph(0, &streams, true),
        &streams,
        true,
        &counter,
    );
    for s in streams.iter() {
        mx::synchronize(s).unwrap();
    }
    let active0 = mx::get_active_memory();
    let nodes0 = mx::live_nodes();

    // The single-threaded reference: every graph on its devices' default streams.
    let t0 = Instant::now();
    let reference: Vec<Vec<Vec<Vec<u32>>>> = (0..THREADS)
        .map(|t| {
            let mine = rotated(&streams, t);
            (0..iters)
                .map(|i| {
                    let shared = shared_graph(i, &streams, true);
                    run_graph(seed(t, i), &shared, &mine, true, &counter)
                })
                .collect()
        })
        .collect();
    let reference_time = t0.elapsed();
    let reference = Arc::new(reference);
    let shared: Arc<Vec<Array>> = Arc::new(
        (0..iters)
            .map(|i| shared_graph(i, &streams, false))
            .collect(),
    );

    // The concurrent run, watched: each thread bumps its progress counter per graph.
    let progress: Arc<Vec<AtomicUsize>> = Arc::new((0..THREADS).map(|_| 0.into()).collect());
    let nodes = Arc::new(AtomicUsize::new(0));
    let (done_tx, done_rx) = mpsc::channel::<(usize, std::thread::Result<()>)>();
    let t1 = Instant::now();
    let mut handles = Vec::new();
    for t in 0..THREADS {
        let (streams, shared, reference, progress, nodes, done) = (
            streams.clone(),
            shared.clone(),
            reference.clone(),
            progress.clone(),
            nodes.clone(),
            done_tx.clone(),
        );
        handles.push(std::thread::spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mine = rotated(&streams, t);
                for i in 0..iters {
                    let got = run_graph(seed(t, i), &shared[i], &mine, false, &nodes);
                    assert!(
                        got == reference[t][i],
                        "thread {t} graph {i} (seed {:#x}) differs from the single-threaded run",
                        seed(t, i)
                    );
                    progress[t].fetch_add(1, Ordering::Relaxed);
                }
            }));
            let _ = done.send((t, r));
        }));
    }
    drop(done_tx);
    let snapshot =
        |p: &[AtomicUsize]| -> Vec<usize> { p.iter().map(|c| c.load(Ordering::Relaxed)).collect() };
    let mut finished = 0;
    let mut last = snapshot(&progress);
    let mut last_change = Instant::now();
    while finished < THREADS {
        match done_rx.recv_timeout(Duration::from_secs(1)) {
            Ok((t, Ok(()))) => {
                finished += 1;
                let _ = t;
            }
            Ok((t, Err(panic))) => std::panic::resume_unwind(Box::new(format!(
                "soak thread {t} failed: {}",
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            ))),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => panic!("soak threads vanished"),
        }
        let now = snapshot(&progress);
        if now != last {
            last = now;
            last_change = Instant::now();
        } else if last_change.elapsed() > stall {
            panic!(
                "soak watchdog: no graph finished in {} s; graphs done per thread {last:?} of \
                 {iters} each: a deadlock (or a hang in a wait) on the shared streams {:?}",
                stall.as_secs(),
                streams.iter().map(|s| s.to_string()).collect::<Vec<_>>()
            );
        }
    }
    let soak_time = t1.elapsed();
    // Every thread has reported; joining lets them drop what they hold.
    for h in handles {
        h.join()
            .expect("invariant: soak threads catch their panics");
    }
    drop(shared);

    for s in streams.iter() {
        mx::synchronize(s).unwrap();
    }
    assert_eq!(
        mx::live_nodes(),
        nodes0,
        "graph nodes left alive after the soak"
    );
    assert_eq!(
        mx::get_active_memory(),
        active0,
        "GPU active memory after the soak"
    );
    println!(
        "soak: {THREADS} threads x {} streams ({STREAMS_PER_DEVICE} per device: {:?}), {iters} \
         graphs per thread, {} graphs / {} nodes concurrently in {:.1} s (single-threaded \
         reference {:.1} s); results identical, no leak",
        streams.len(),
        devices,
        THREADS * iters,
        nodes.load(Ordering::Relaxed),
        soak_time.as_secs_f64(),
        reference_time.as_secs_f64()
    );
}
