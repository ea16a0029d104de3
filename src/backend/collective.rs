//! Running `Primitive::Collective` nodes: inputs are staged through host memory (wgpu has no
//! peer-to-peer; a GPU input is read back once, a strided view is packed), handed to the
//! transport (`backend/mpi.rs` with the `mpi` feature), and the output is written to the node's
//! device. Also the process-wide order of communication ("turns"): MPI requires every process
//! to issue its collectives on a communicator in the same order, but a stream's worker runs a
//! later task while an earlier one awaits its inputs, and several streams run at once. So each
//! collective node takes a turn when it is scheduled (in the graph's deterministic claim order)
//! and runs only after every earlier turn has finished: one MPI call at a time per process, in
//! program order. Owns no MPI code.

use super::host::{HostVec, cache};
use super::{Data, Storage, dense, gpu};
use crate::array::Node;
use crate::device::{Device, DeviceType};
use crate::distributed::CollectiveOp;
use crate::dtype::Dtype;
use crate::error::{Error, Result};
use crate::primitive::Primitive;
use crate::shape::size_of;
use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

#[cfg(feature = "mpi")]
pub(crate) use super::mpi::Comm;

/// A transport handle; without the `mpi` feature there is none (every group is the singleton,
/// whose collectives never become nodes), so this type has no values.
#[cfg(not(feature = "mpi"))]
pub(crate) enum Comm {}

#[cfg(not(feature = "mpi"))]
impl Comm {
    pub(crate) fn rank(&self) -> i32 {
        match *self {}
    }
    pub(crate) fn size(&self) -> i32 {
        match *self {}
    }
    fn split(&self, _color: i32, _key: i32) -> Result<Comm> {
        match *self {}
    }
    fn abort(&self, _msg: &str) -> ! {
        match *self {}
    }
    fn run(&self, _op: CollectiveOp, _dt: Dtype, _send: &[u8], _recv: &mut [u8]) -> Result<()> {
        match *self {}
    }
}

/// True when a group of more than one process can be formed (feature and launcher present).
pub(crate) fn mpi_available() -> bool {
    #[cfg(feature = "mpi")]
    {
        super::mpi::launched()
    }
    #[cfg(not(feature = "mpi"))]
    {
        false
    }
}

/// The world communicator, initialising MPI; `None` without the feature or a launcher.
pub(crate) fn mpi_world() -> Result<Option<Comm>> {
    #[cfg(feature = "mpi")]
    {
        super::mpi::world()
    }
    #[cfg(not(feature = "mpi"))]
    {
        Ok(None)
    }
}

/// `MPI_Comm_split`, issued in its turn (it is collective over `c`).
pub(crate) fn split(c: &Comm, color: i32, key: i32) -> Result<Comm> {
    let turn = take_turn();
    pollster::block_on(turn.ready());
    c.split(color, key)
}

struct Turns {
    issued: u64,
    next: u64,
    finished: BTreeSet<u64>,
    waiting: Vec<Waker>,
}

static TURNS: Mutex<Turns> = Mutex::new(Turns {
    issued: 0,
    next: 0,
    finished: BTreeSet::new(),
    waiting: Vec::new(),
});

fn turns() -> std::sync::MutexGuard<'static, Turns> {
    TURNS.lock().unwrap_or_else(|p| p.into_inner())
}

/// A place in the process's order of communication; dropping it (done, failed or abandoned)
/// lets the next one run.
pub(crate) struct Turn(u64);

fn take_turn() -> Turn {
    let mut t = turns();
    t.issued += 1;
    Turn(t.issued - 1)
}

/// A turn for a collective node (taken in scheduling order), `None` for any other node.
pub(crate) fn turn_for(prim: &Primitive) -> Option<Turn> {
    match prim {
        Primitive::Collective { .. } => Some(take_turn()),
        Primitive::Constant
        | Primitive::Fused(_)
        | Primitive::FusedReduce(_)
        | Primitive::Convolution(_)
        | Primitive::RmsNorm { .. }
        | Primitive::LayerNorm { .. }
        | Primitive::Rope { .. }
        | Primitive::Attention { .. }
        | Primitive::Full(_)
        | Primitive::Arange { .. }
        | Primitive::AsType
        | Primitive::Unary(_)
        | Primitive::Binary(_)
        | Primitive::Where
        | Primitive::Reduce { .. }
        | Primitive::ArgReduce { .. }
        | Primitive::Matmul
        | Primitive::Reshape
        | Primitive::Transpose(_)
        | Primitive::Broadcast
        | Primitive::Slice { .. }
        | Primitive::Concatenate { .. }
        | Primitive::RandomBits { .. }
        | Primitive::ArgSort
        | Primitive::Take { .. }
        | Primitive::Copy
        | Primitive::Softmax
        | Primitive::AsStrided { .. }
        | Primitive::Gather { .. }
        | Primitive::Scatter { .. }
        | Primitive::Scan { .. }
        | Primitive::Sort
        | Primitive::SearchSorted { .. }
        | Primitive::StopGradient
        | Primitive::Custom { .. }
        | Primitive::CustomKernel { .. } => None,
    }
}

/// Resolves once every earlier turn has finished.
pub(crate) struct TurnReady<'a>(&'a Turn);

impl Future for TurnReady<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut t = turns();
        if t.next == self.0.0 {
            Poll::Ready(())
        } else {
            t.waiting.push(cx.waker().clone());
            Poll::Pending
        }
    }
}

impl Turn {
    /// Waits (without blocking a worker) until this turn comes.
    pub(crate) fn ready(&self) -> TurnReady<'_> {
        TurnReady(self)
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let waiting = {
            let mut t = turns();
            t.finished.insert(self.0);
            loop {
                let n = t.next;
                if !t.finished.remove(&n) {
                    break;
                }
                t.next += 1;
            }
            std::mem::take(&mut t.waiting)
        };
        waiting.into_iter().for_each(Waker::wake);
    }
}

/// A collective node failed on this process (its input failed, or the transport reported an
/// error): the other processes would wait for it forever, so the job is aborted with a message
/// naming this rank and the op. Does nothing for a node that is not a collective, nor for a
/// `recv` whose message did not match (it was received: nobody waits).
pub(crate) fn failed(node: &Node, e: &Error) {
    if let Primitive::Collective { op, group } = &node.prim {
        if let (CollectiveOp::Recv { .. }, Error::Shape { op: "recv", .. }) = (op, e) {
            return;
        }
        if let Some(c) = group.comm() {
            c.abort(&format!(
                "rank {} of {}: {} failed: {e}",
                group.rank(),
                group.size(),
                op.name()
            ));
        }
    }
}

/// An input's elements as dense row-major bytes on the host: a slice of the storage when the
/// view is already dense, else a packed copy.
enum Staged {
    View(Arc<Storage>, usize, usize),
    Packed(HostVec),
}

impl Staged {
    fn new(shape: &[i32], d: &Data, dt: Dtype) -> Result<Staged> {
        let host = d.storage.on_device(Device::cpu())?;
        let h = host
            .as_host()
            .ok_or_else(|| invariant("a host copy in device memory"))?;
        if d.is_contiguous(shape) {
            let (a, n) = (d.offset * dt.size(), size_of(shape) * dt.size());
            if n == 0 {
                return Ok(Staged::Packed(HostVec::from_bytes(dt, 0, &[])));
            }
            return Ok(Staged::View(host.clone(), a, a + n));
        }
        Ok(Staged::Packed(super::cpu::copy::cast(
            h, shape, &d.strides, d.offset, dt,
        )))
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Staged::View(s, a, b) => s.as_host().map_or(&[][..], |h| &h.bytes()[*a..*b]),
            Staged::Packed(h) => h.bytes(),
        }
    }
}

fn invariant(what: &str) -> Error {
    Error::Backend {
        op: "distributed",
        msg: format!("invariant: {what}"),
    }
}

/// An output vector of `n` elements whose contents the transport overwrites.
fn output(op: &'static str, dt: Dtype, n: usize) -> Result<HostVec> {
    super::host::check_alloc(op, dt, n)?;
    Ok(match dt {
        Dtype::Float32 => HostVec::F32(cache::f32_vec_for_overwrite(n)),
        Dtype::Bool
        | Dtype::Uint8
        | Dtype::Uint32
        | Dtype::Int32
        | Dtype::Float16
        | Dtype::Bfloat16 => HostVec::filled(op, dt, n, 0.0)?,
    })
}

/// Runs a collective node on device `dev` with `inputs` (already on `dev`).
pub(crate) fn run(node: &Node, dev: Device, inputs: &[(Vec<i32>, Data)]) -> Result<Data> {
    let Primitive::Collective { op, group } = &node.prim else {
        return Err(invariant(
            "a non-collective node reached the collective runner",
        ));
    };
    let comm = group
        .comm()
        .ok_or_else(|| invariant("a collective node over the singleton group"))?;
    let dt = node.dtype;
    let staged = match inputs.first() {
        Some((shape, d)) => Staged::new(shape, d, dt)?,
        None => Staged::Packed(HostVec::from_bytes(dt, 0, &[])),
    };
    if let CollectiveOp::Send { .. } = op {
        comm.run(*op, dt, staged.bytes(), &mut [])?;
        // The output is the input (MLX's Send): a view of the same storage.
        return inputs
            .first()
            .map(|(_, d)| d.clone())
            .ok_or_else(|| invariant("send without an input"));
    }
    let mut out = output(op.name(), dt, size_of(&node.shape))?;
    comm.run(*op, dt, staged.bytes(), out.bytes_mut())?;
    drop(staged);
    Ok(match dev.kind {
        DeviceType::Cpu => dense(Storage::host(out), &node.shape),
        DeviceType::Gpu => {
            let buf = gpu::context::context(dev.index)?.upload(out.bytes())?;
            dense(Storage::gpu(dev.index, dt, buf), &node.shape)
        }
    })
}
