//! The MPI transport (cargo feature `mpi`, rsmpi over the system's MPI): initialisation and
//! finalisation, communicators, and one blocking MPI call per collective node on dense host
//! bytes. Calls arrive one at a time in program order (`backend/collective.rs` hands out turns),
//! so `MPI_THREAD_SERIALIZED` would do; `MPI_THREAD_MULTIPLE` is requested so the watchdog can
//! call `MPI_Abort` while a collective is blocked. Faults: every MPI error is returned (the
//! communicators use `MPI_ERRORS_RETURN`) and a failed collective aborts the job naming the rank
//! and op; a collective still blocked after `WMX_DISTRIBUTED_TIMEOUT` seconds (default 600, `0`
//! = never) aborts it too (a peer exited, failed, or issued a different collective); with
//! `WMX_DISTRIBUTED_CHECK=1` every collective first compares op, dtype and element count across
//! ranks (one small allreduce) and aborts on a mismatch. Owns no graph or device code.

use crate::distributed::CollectiveOp;
use crate::dtype::Dtype;
use crate::error::{Error, Result};
use half::{bf16, f16};
use mpi::Threading;
use mpi::environment::Universe;
use mpi::ffi;
use mpi::topology::{Color, Communicator, SimpleCommunicator};
use mpi::traits::AsRaw;
use std::ffi::{c_int, c_void};
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Environment variables set by MPI launchers (Open MPI's mpirun, PMI (MPICH, Slurm), PMIx).
const LAUNCHER_VARS: [&str; 4] = [
    "OMPI_COMM_WORLD_SIZE",
    "PMI_SIZE",
    "PMIX_RANK",
    "MPI_LOCALNRANKS",
];

/// True when an MPI launcher started this process.
pub(crate) fn launched() -> bool {
    LAUNCHER_VARS.iter().any(|v| std::env::var_os(v).is_some())
}

/// An MPI communicator. Never freed (a group may outlive `MPI_Finalize` at exit).
pub(crate) struct Comm {
    comm: ManuallyDrop<SimpleCommunicator>,
    rank: i32,
    size: i32,
}

// SAFETY: an MPI communicator handle is a process-wide object that MPI lets any thread use
// (MPI_THREAD_MULTIPLE is required at init, and wmx issues one call at a time anyway).
unsafe impl Send for Comm {}
unsafe impl Sync for Comm {}

static UNIVERSE: Mutex<Option<Universe>> = Mutex::new(None);
static WORLD_RANK: AtomicI32 = AtomicI32::new(0);
static MULTIPLE: AtomicBool = AtomicBool::new(false);
static CALLS: AtomicU64 = AtomicU64::new(0);

unsafe extern "C" {
    fn atexit(f: extern "C" fn()) -> c_int;
}

/// `MPI_Finalize` when the process exits normally (watched like a collective: a peer that never
/// finalizes would block it).
extern "C" fn finalize() {
    // Twice the limit: when a peer is stuck in a collective, its message (naming the op) wins.
    watch::begin_with("MPI_Finalize at exit".into(), 2.0);
    let u = UNIVERSE.lock().unwrap_or_else(|p| p.into_inner()).take();
    drop(u);
    watch::end();
}

fn mpi_err(op: &'static str, rc: c_int) -> Error {
    let mut buf = vec![0u8; 512];
    let mut len: c_int = 0;
    // SAFETY: the buffer holds MPI_MAX_ERROR_STRING (256 in Open MPI) bytes or more.
    unsafe { ffi::MPI_Error_string(rc, buf.as_mut_ptr() as *mut _, &mut len) };
    buf.truncate(len.max(0) as usize);
    Error::Backend {
        op,
        msg: format!(
            "MPI error {rc} on world rank {}: {}",
            WORLD_RANK.load(Ordering::Relaxed),
            String::from_utf8_lossy(&buf)
        ),
    }
}

fn check(op: &'static str, rc: c_int) -> Result<()> {
    if rc == ffi::MPI_SUCCESS as c_int {
        Ok(())
    } else {
        Err(mpi_err(op, rc))
    }
}

/// Initialises MPI (once) and returns the world communicator, or `None` without a launcher.
pub(crate) fn world() -> Result<Option<Comm>> {
    if !launched() {
        return Ok(None);
    }
    let device_err = |msg: String| Error::Device { op: "init", msg };
    let (universe, threading) = mpi::initialize_with_threading(Threading::Multiple)
        .ok_or_else(|| device_err("MPI was already initialised outside wmx".into()))?;
    match threading {
        Threading::Multiple => MULTIPLE.store(true, Ordering::Relaxed),
        Threading::Serialized => {}
        Threading::Single | Threading::Funneled => {
            return Err(device_err(format!(
                "the MPI library gives thread level {threading:?}; wmx needs MPI_THREAD_SERIALIZED \
                 or more (its stream threads issue the MPI calls)"
            )));
        }
    }
    let world = universe.world();
    // SAFETY: plain MPI calls on the live world communicator after a successful init.
    unsafe {
        check(
            "init",
            ffi::MPI_Comm_set_errhandler(world.as_raw(), ffi::RSMPI_ERRORS_RETURN),
        )?;
        atexit(finalize);
    }
    WORLD_RANK.store(world.rank(), Ordering::Relaxed);
    *UNIVERSE.lock().unwrap_or_else(|p| p.into_inner()) = Some(universe);
    watch::start();
    Ok(Some(Comm::new(world)))
}

impl Comm {
    fn new(c: SimpleCommunicator) -> Comm {
        Comm {
            rank: c.rank(),
            size: c.size(),
            comm: ManuallyDrop::new(c),
        }
    }

    pub(crate) fn rank(&self) -> i32 {
        self.rank
    }

    pub(crate) fn size(&self) -> i32 {
        self.size
    }

    pub(crate) fn split(&self, color: i32, key: i32) -> Result<Comm> {
        watch::begin(format!("split (rank {} of {})", self.rank, self.size));
        let c = self
            .comm
            .split_by_color_with_key(Color::with_value(color), key);
        watch::end();
        c.map(Comm::new).ok_or_else(|| Error::Backend {
            op: "split",
            msg: format!("MPI_Comm_split gave no communicator for color {color}"),
        })
    }

    /// Prints `msg` and aborts every process of the job (`MPI_Abort`).
    pub(crate) fn abort(&self, msg: &str) -> ! {
        abort_job(msg)
    }

    /// One communication op on dense host bytes: `send` holds the input, `recv` the output
    /// (empty for `Send`; `send` is empty for `Recv`).
    pub(crate) fn run(
        &self,
        op: CollectiveOp,
        dt: Dtype,
        send: &[u8],
        recv: &mut [u8],
    ) -> Result<()> {
        let n = send.len() / dt.size();
        let call = CALLS.fetch_add(1, Ordering::Relaxed);
        watch::begin(format!(
            "{} #{call} of {n} {dt:?} elements (rank {} of {})",
            op.name(),
            self.rank,
            self.size
        ));
        let r = self.run_watched(op, dt, send, recv);
        watch::end();
        r
    }

    fn run_watched(&self, op: CollectiveOp, dt: Dtype, send: &[u8], recv: &mut [u8]) -> Result<()> {
        let name = op.name();
        let c = self.comm.as_raw();
        let sz = dt.size();
        // Empty buffers get real addresses: an empty slice's dangling pointer is 0x1, which is
        // Open MPI's MPI_IN_PLACE.
        let (ds, mut dr) = ([0u8; 8], [0u8; 8]);
        let send = if send.is_empty() { &ds[..0] } else { send };
        let recv = if recv.is_empty() { &mut dr[..0] } else { recv };
        match op {
            CollectiveOp::AllSum
            | CollectiveOp::AllMax
            | CollectiveOp::AllMin
            | CollectiveOp::AllGather
            | CollectiveOp::SumScatter => {
                if checking() {
                    self.agree(op, dt, send.len() / sz)?;
                }
            }
            CollectiveOp::Send { .. } | CollectiveOp::Recv { .. } => {}
        }
        // SAFETY: the buffers are valid for the byte counts passed (computed from their
        // lengths), the datatypes and ops are Open MPI's predefined handles or ours.
        unsafe {
            match op {
                CollectiveOp::AllSum | CollectiveOp::AllMax | CollectiveOp::AllMin => {
                    let (ty, mpi_op) = reduction(op, dt);
                    // In chunks: MPI counts are C ints.
                    let chunk = (1usize << 30) / sz * sz;
                    // One call even for no elements, so every rank issues the same calls.
                    let pieces: Vec<(&[u8], &mut [u8])> = if send.is_empty() {
                        vec![(send, recv)]
                    } else {
                        send.chunks(chunk).zip(recv.chunks_mut(chunk)).collect()
                    };
                    for (s, r) in pieces {
                        check(
                            name,
                            ffi::MPI_Allreduce(
                                s.as_ptr() as *const c_void,
                                r.as_mut_ptr() as *mut c_void,
                                (s.len() / sz) as c_int,
                                ty,
                                mpi_op,
                                c,
                            ),
                        )?;
                    }
                    Ok(())
                }
                CollectiveOp::AllGather => check(
                    name,
                    ffi::MPI_Allgather(
                        send.as_ptr() as *const c_void,
                        count(name, send.len())?,
                        ffi::RSMPI_UINT8_T,
                        recv.as_mut_ptr() as *mut c_void,
                        count(name, send.len())?,
                        ffi::RSMPI_UINT8_T,
                        c,
                    ),
                ),
                CollectiveOp::SumScatter => {
                    let (ty, mpi_op) = reduction(CollectiveOp::AllSum, dt);
                    check(
                        name,
                        ffi::MPI_Reduce_scatter_block(
                            send.as_ptr() as *const c_void,
                            recv.as_mut_ptr() as *mut c_void,
                            count(name, recv.len() / sz)?,
                            ty,
                            mpi_op,
                            c,
                        ),
                    )
                }
                CollectiveOp::Send { dst } => check(
                    name,
                    ffi::MPI_Send(
                        send.as_ptr() as *const c_void,
                        count(name, send.len())?,
                        ffi::RSMPI_UINT8_T,
                        dst,
                        dtype_tag(dt),
                        c,
                    ),
                ),
                CollectiveOp::Recv { src } => self.recv(src, dt, recv),
            }
        }
    }

    /// `MPI_Recv` after an `MPI_Probe` that checks the sender's dtype (the tag) and byte count;
    /// a mismatched message is still received (so the channel stays in step) and reported.
    unsafe fn recv(&self, src: i32, dt: Dtype, out: &mut [u8]) -> Result<()> {
        let c = self.comm.as_raw();
        // SAFETY: MPI_Status is plain data; probe and recv fill it.
        let mut st: ffi::MPI_Status = unsafe { std::mem::zeroed() };
        check("recv", unsafe {
            ffi::MPI_Probe(src, ffi::RSMPI_ANY_TAG, c, &mut st)
        })?;
        let mut bytes: c_int = 0;
        check("recv", unsafe {
            ffi::MPI_Get_count(&st, ffi::RSMPI_UINT8_T, &mut bytes)
        })?;
        let tag = st.MPI_TAG;
        if bytes as usize == out.len() && tag == dtype_tag(dt) {
            return check("recv", unsafe {
                ffi::MPI_Recv(
                    out.as_mut_ptr() as *mut c_void,
                    bytes,
                    ffi::RSMPI_UINT8_T,
                    src,
                    tag,
                    c,
                    &mut st,
                )
            });
        }
        let mut sink = vec![0u8; bytes.max(0) as usize];
        check("recv", unsafe {
            ffi::MPI_Recv(
                sink.as_mut_ptr() as *mut c_void,
                bytes,
                ffi::RSMPI_UINT8_T,
                src,
                tag,
                c,
                &mut st,
            )
        })?;
        let sent = Dtype::ALL
            .iter()
            .find(|d| dtype_tag(**d) == tag)
            .map_or_else(|| format!("tag {tag}"), |d| format!("{d:?}"));
        Err(Error::Shape {
            op: "recv",
            msg: format!(
                "rank {} expected {} bytes of {dt:?} from rank {src}, which sent {bytes} bytes of \
                 {sent}",
                self.rank,
                out.len()
            ),
        })
    }

    /// Compares (op, dtype, element count) across the group; an `Err` naming the ranges.
    fn agree(&self, op: CollectiveOp, dt: Dtype, n: usize) -> Result<()> {
        let code = |o: CollectiveOp| -> i64 {
            match o {
                CollectiveOp::AllSum => 1,
                CollectiveOp::AllMax => 2,
                CollectiveOp::AllMin => 3,
                CollectiveOp::AllGather => 4,
                CollectiveOp::SumScatter => 5,
                CollectiveOp::Send { .. } => 6,
                CollectiveOp::Recv { .. } => 7,
            }
        };
        let mine = [code(op), dtype_tag(dt) as i64, n as i64];
        let send: Vec<i64> = mine.iter().flat_map(|&v| [v, -v]).collect();
        let mut got = vec![0i64; send.len()];
        // SAFETY: six int64 values each way on the live communicator.
        check(op.name(), unsafe {
            ffi::MPI_Allreduce(
                send.as_ptr() as *const c_void,
                got.as_mut_ptr() as *mut c_void,
                send.len() as c_int,
                ffi::RSMPI_INT64_T,
                ffi::RSMPI_MAX,
                self.comm.as_raw(),
            )
        })?;
        let lo = |i: usize| -got[2 * i + 1];
        let hi = |i: usize| got[2 * i];
        if (0..3).all(|i| lo(i) == hi(i)) {
            return Ok(());
        }
        Err(Error::Shape {
            op: op.name(),
            msg: format!(
                "the ranks disagree (WMX_DISTRIBUTED_CHECK): op codes {}..={}, dtype tags \
                 {}..={}, element counts {}..={}; this rank ({} of {}) has {} {dt:?} elements",
                lo(0),
                hi(0),
                lo(1),
                hi(1),
                lo(2),
                hi(2),
                self.rank,
                self.size,
                n
            ),
        })
    }
}

fn checking() -> bool {
    static C: OnceLock<bool> = OnceLock::new();
    *C.get_or_init(|| std::env::var("WMX_DISTRIBUTED_CHECK").is_ok_and(|v| v == "1"))
}

fn count(op: &'static str, n: usize) -> Result<c_int> {
    c_int::try_from(n).map_err(|_| Error::TooLarge {
        op,
        msg: format!(
            "{n} elements or bytes exceed MPI's count limit ({})",
            c_int::MAX
        ),
    })
}

/// The tag a point-to-point message carries: its dtype, so `recv` can check it.
fn dtype_tag(dt: Dtype) -> c_int {
    match dt {
        Dtype::Bool => 1,
        Dtype::Uint8 => 2,
        Dtype::Uint32 => 3,
        Dtype::Int32 => 4,
        Dtype::Float16 => 5,
        Dtype::Bfloat16 => 6,
        Dtype::Float32 => 7,
    }
}

/// The MPI datatype and op of an elementwise reduction. Bool is one byte reduced with the
/// logical ops (sum and max: or; min: and); the half types use our own ops over 16-bit words.
fn reduction(op: CollectiveOp, dt: Dtype) -> (ffi::MPI_Datatype, ffi::MPI_Op) {
    let which = match op {
        CollectiveOp::AllMax => 1,
        CollectiveOp::AllMin => 2,
        CollectiveOp::AllSum
        | CollectiveOp::AllGather
        | CollectiveOp::SumScatter
        | CollectiveOp::Send { .. }
        | CollectiveOp::Recv { .. } => 0,
    };
    // SAFETY: reading Open MPI's predefined handles after init.
    unsafe {
        let builtin = [ffi::RSMPI_SUM, ffi::RSMPI_MAX, ffi::RSMPI_MIN][which];
        match dt {
            Dtype::Bool => (
                ffi::RSMPI_UINT8_T,
                [ffi::RSMPI_LOR, ffi::RSMPI_LOR, ffi::RSMPI_LAND][which],
            ),
            Dtype::Uint8 => (ffi::RSMPI_UINT8_T, builtin),
            Dtype::Uint32 => (ffi::RSMPI_UINT32_T, builtin),
            Dtype::Int32 => (ffi::RSMPI_INT32_T, builtin),
            Dtype::Float32 => (ffi::RSMPI_FLOAT, builtin),
            Dtype::Float16 => (ffi::RSMPI_UINT16_T, half_ops().f16[which]),
            Dtype::Bfloat16 => (ffi::RSMPI_UINT16_T, half_ops().bf16[which]),
        }
    }
}

struct HalfOps {
    f16: [ffi::MPI_Op; 3],
    bf16: [ffi::MPI_Op; 3],
}

// SAFETY: MPI op handles are process-wide and immutable once created.
unsafe impl Send for HalfOps {}
unsafe impl Sync for HalfOps {}

type UserFn = unsafe extern "C" fn(*mut c_void, *mut c_void, *mut c_int, *mut ffi::MPI_Datatype);

macro_rules! half_fn {
    ($name:ident, $t:ty, $f:expr) => {
        unsafe extern "C" fn $name(
            a: *mut c_void,
            b: *mut c_void,
            len: *mut c_int,
            _: *mut ffi::MPI_Datatype,
        ) {
            // SAFETY: MPI passes two buffers of `*len` elements of the type the op was used with
            // (16-bit words holding $t).
            let (a, b) = unsafe {
                let n = (*len).max(0) as usize;
                (
                    std::slice::from_raw_parts(a as *const $t, n),
                    std::slice::from_raw_parts_mut(b as *mut $t, n),
                )
            };
            let f: fn(f32, f32) -> f32 = $f;
            for (y, x) in b.iter_mut().zip(a) {
                *y = <$t>::from_f32(f(x.to_f32(), y.to_f32()));
            }
        }
    };
}

fn nan_max(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else {
        a.max(b)
    }
}
fn nan_min(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else {
        a.min(b)
    }
}
half_fn!(f16_sum, f16, |a, b| a + b);
half_fn!(f16_max, f16, nan_max);
half_fn!(f16_min, f16, nan_min);
half_fn!(bf16_sum, bf16, |a, b| a + b);
half_fn!(bf16_max, bf16, nan_max);
half_fn!(bf16_min, bf16, nan_min);

fn half_ops() -> &'static HalfOps {
    static OPS: OnceLock<HalfOps> = OnceLock::new();
    OPS.get_or_init(|| {
        let make = |f: UserFn| {
            // SAFETY: MPI_Op_create with a commutative user function, after init.
            unsafe {
                let mut op: ffi::MPI_Op = ffi::RSMPI_SUM;
                ffi::MPI_Op_create(Some(f), 1, &mut op);
                op
            }
        };
        HalfOps {
            f16: [make(f16_sum), make(f16_max), make(f16_min)],
            bf16: [make(bf16_sum), make(bf16_max), make(bf16_min)],
        }
    })
}

/// Prints why and aborts every process of the job.
fn abort_job(msg: &str) -> ! {
    eprintln!(
        "wmx distributed: {msg}; aborting the job (MPI_Abort from world rank {}) so the other \
         ranks do not wait forever",
        WORLD_RANK.load(Ordering::Relaxed)
    );
    if MULTIPLE.load(Ordering::Relaxed) {
        // SAFETY: MPI_Abort may be called from any thread under MPI_THREAD_MULTIPLE.
        unsafe { ffi::MPI_Abort(ffi::RSMPI_COMM_WORLD, 1) };
    }
    // Without it (or if MPI_Abort returned), a process that dies without finalizing makes the
    // launcher stop the others.
    std::process::abort()
}

/// The watchdog: the MPI call in progress, and a thread that aborts the job when one has been
/// blocked for longer than `WMX_DISTRIBUTED_TIMEOUT` seconds.
mod watch {
    use super::*;

    static ACTIVE: Mutex<Option<(String, Instant, f64)>> = Mutex::new(None);

    fn limit() -> Option<Duration> {
        let s = std::env::var("WMX_DISTRIBUTED_TIMEOUT")
            .ok()
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(600.0);
        (s > 0.0).then(|| Duration::from_secs_f64(s))
    }

    pub(super) fn begin(what: String) {
        begin_with(what, 1.0);
    }

    /// Watches `what` with `factor` times the limit.
    pub(super) fn begin_with(what: String, factor: f64) {
        *ACTIVE.lock().unwrap_or_else(|p| p.into_inner()) = Some((what, Instant::now(), factor));
    }

    pub(super) fn end() {
        *ACTIVE.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    pub(super) fn start() {
        let Some(limit) = limit() else { return };
        let _ = std::thread::Builder::new()
            .name("wmx-mpi-watchdog".into())
            .spawn(move || {
                let tick = (limit / 10).clamp(Duration::from_millis(50), Duration::from_secs(1));
                loop {
                    std::thread::sleep(tick);
                    let late = ACTIVE
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .as_ref()
                        .filter(|(_, t0, k)| t0.elapsed() > limit.mul_f64(*k))
                        .map(|(w, _, k)| (w.clone(), *k));
                    if let Some((what, k)) = late {
                        abort_job(&format!(
                            "{what} has waited more than {:.1} s for the other ranks \
                             (WMX_DISTRIBUTED_TIMEOUT): a rank has exited, failed, or issued a \
                             different collective",
                            limit.as_secs_f64() * k
                        ));
                    }
                }
            });
    }
}
