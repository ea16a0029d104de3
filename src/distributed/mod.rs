//! `wmx::distributed` (MLX's `mx.distributed`): process groups and communication ops. A group is
//! either the singleton (rank 0 of 1, no transport: every collective is the identity, so one
//! program runs alone or under `mpirun`) or an MPI communicator (cargo feature `mpi`, under an MPI
//! launcher). The ops only validate and build `Primitive::Collective` nodes; they run, like every
//! node, when the graph is evaluated (`backend/collective.rs` stages them through host memory and
//! keeps every process's communication in one order). Owns no transport code.
//!
//! Gradient convention (MLX's): the vjp of a collective gives the gradient of *this* rank's
//! outputs with respect to *this* rank's input, the other ranks' inputs held constant. So
//! `all_sum`'s vjp passes the cotangent through and `all_gather`'s takes this rank's block.

mod grads;

pub use grads::{ALL_REDUCE_SIZE, average_gradients};

use crate::array::Array;
use crate::backend::{self, Comm};
use crate::dtype::Dtype;
use crate::error::{Error, Result, shape_err, value_err};
use crate::ops::node;
use crate::primitive::Primitive;
use crate::stream::StreamOrDevice;
use std::sync::{Arc, OnceLock};

/// What a `Primitive::Collective` node does.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum CollectiveOp {
    /// Elementwise sum over the group.
    AllSum,
    /// Elementwise maximum over the group.
    AllMax,
    /// Elementwise minimum over the group.
    AllMin,
    /// Every rank's array, concatenated along axis 0 in rank order.
    AllGather,
    /// This rank's block (along axis 0) of the elementwise sum over the group.
    SumScatter,
    /// Sends the input to rank `dst`; the output is the input.
    Send {
        /// Destination rank in the group.
        dst: i32,
    },
    /// Receives an array from rank `src` (no inputs).
    Recv {
        /// Source rank in the group.
        src: i32,
    },
}

impl CollectiveOp {
    /// MLX's name.
    pub fn name(self) -> &'static str {
        match self {
            CollectiveOp::AllSum => "all_sum",
            CollectiveOp::AllMax => "all_max",
            CollectiveOp::AllMin => "all_min",
            CollectiveOp::AllGather => "all_gather",
            CollectiveOp::SumScatter => "sum_scatter",
            CollectiveOp::Send { .. } => "send",
            CollectiveOp::Recv { .. } => "recv",
        }
    }
}

struct GroupInner {
    rank: i32,
    size: i32,
    comm: Option<Comm>,
}

/// A group of processes that communicate (MLX's `mx.distributed.Group`). Cheap to clone,
/// `Send + Sync`; groups compare equal when they are the same group object.
///
/// ```
/// let g = wmx::distributed::init(false)?;
/// assert!(g.rank() >= 0 && g.rank() < g.size());
/// # Ok::<(), wmx::Error>(())
/// ```
#[derive(Clone)]
pub struct Group(Arc<GroupInner>);

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Group(rank {} of {})", self.0.rank, self.0.size)
    }
}

impl PartialEq for Group {
    fn eq(&self, other: &Group) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Group {
    fn singleton() -> Group {
        Group(Arc::new(GroupInner {
            rank: 0,
            size: 1,
            comm: None,
        }))
    }

    fn of(comm: Comm) -> Group {
        let (rank, size) = (comm.rank(), comm.size());
        Group(Arc::new(GroupInner {
            rank,
            size,
            comm: Some(comm),
        }))
    }

    /// This process's rank in the group, `0..size`.
    ///
    /// ```
    /// assert_eq!(wmx::distributed::init(false)?.rank() >= 0, true);
    /// # Ok::<(), wmx::Error>(())
    /// ```
    pub fn rank(&self) -> i32 {
        self.0.rank
    }

    /// Number of processes in the group.
    ///
    /// ```
    /// assert!(wmx::distributed::init(false)?.size() >= 1);
    /// # Ok::<(), wmx::Error>(())
    /// ```
    pub fn size(&self) -> i32 {
        self.0.size
    }

    /// The transport of a group of more than one process.
    pub(crate) fn comm(&self) -> Option<&Comm> {
        self.0.comm.as_ref()
    }

    /// Splits the group (MPI's `MPI_Comm_split`): processes giving the same `color` form a new
    /// group, ranked by `key` (ties by their rank here; a negative key means "keep my rank's
    /// order", as in MLX). Every process of the group must call it, in the same order relative to
    /// its other communication. The singleton splits into itself.
    ///
    /// ```
    /// let g = wmx::distributed::init(false)?;
    /// let sub = g.split(g.rank() % 2, -1)?;
    /// assert!(sub.size() <= g.size());
    /// # Ok::<(), wmx::Error>(())
    /// ```
    pub fn split(&self, color: i32, key: i32) -> Result<Group> {
        if color < 0 {
            return Err(value_err(
                "split",
                format!("color must be non-negative, got {color}"),
            ));
        }
        let key = if key < 0 { self.rank() } else { key };
        match self.comm() {
            None => Ok(self.clone()),
            Some(c) => Ok(Group::of(backend::split(c, color, key)?)),
        }
    }
}

/// True when this process can form a group of more than one process: wmx was built with the
/// `mpi` feature and the process was started by an MPI launcher (`mpirun`, `srun`, ...).
///
/// ```
/// if !wmx::distributed::is_available() {
///     assert_eq!(wmx::distributed::init(false)?.size(), 1);
/// }
/// # Ok::<(), wmx::Error>(())
/// ```
pub fn is_available() -> bool {
    backend::mpi_available()
}

/// The world group: every process of the job (MLX's `mx.distributed.init`). The first call
/// initialises MPI (with `MPI_THREAD_MULTIPLE` requested; wmx itself issues one MPI call at a
/// time, see the README); later calls return the same group. Without MPI (no `mpi` feature, or
/// no launcher) `strict == false` gives the singleton group and `strict == true` an `Err`.
///
/// ```
/// let g = wmx::distributed::init(false)?;
/// assert_eq!(g, wmx::distributed::init(false)?);
/// # Ok::<(), wmx::Error>(())
/// ```
pub fn init(strict: bool) -> Result<Group> {
    static WORLD: OnceLock<std::result::Result<Group, Error>> = OnceLock::new();
    let world = WORLD
        .get_or_init(|| match backend::mpi_world() {
            Ok(Some(c)) => Ok(Group::of(c)),
            Ok(None) => Ok(Group::singleton()),
            Err(e) => Err(e),
        })
        .clone()?;
    if strict && world.comm().is_none() {
        return Err(Error::Device {
            op: "init",
            msg: if cfg!(feature = "mpi") {
                "no MPI launcher found (start the program with mpirun); init(false) gives the \
                 singleton group"
                    .into()
            } else {
                "wmx was built without the `mpi` feature; init(false) gives the singleton group"
                    .into()
            },
        });
    }
    Ok(world)
}

fn group_of(group: Option<&Group>) -> Result<Group> {
    match group {
        Some(g) => Ok(g.clone()),
        None => init(false),
    }
}

fn collective(
    x: Option<&Array>,
    op: CollectiveOp,
    shape: Vec<i32>,
    dtype: Dtype,
    group: Group,
    s: StreamOrDevice,
) -> Result<Array> {
    let s = s.resolve(op.name())?;
    let inputs = x.into_iter().cloned().collect();
    node(shape, dtype, s, Primitive::Collective { op, group }, inputs)
}

fn reduce(x: &Array, op: CollectiveOp, group: Option<&Group>, s: StreamOrDevice) -> Result<Array> {
    let g = group_of(group)?;
    if g.size() == 1 {
        return Ok(x.clone());
    }
    collective(Some(x), op, x.shape().to_vec(), x.dtype(), g, s)
}

/// Elementwise sum of `x` over the group, on every rank (MPI's `MPI_Allreduce` with `MPI_SUM`;
/// bool arrays: logical or). `group: None` is the group [`init`] makes. The identity for a
/// group of one.
///
/// ```
/// use wmx as mx;
/// let x = mx::Array::from_slice(&[1.0f32, 2.0], &[2]);
/// let g = mx::distributed::init(false)?;
/// let y = mx::distributed::all_sum(&x, Some(&g), None)?;
/// let n = g.size() as f32;
/// assert_eq!(y.to_vec::<f32>()?, vec![n, 2.0 * n]);
/// # Ok::<(), mx::Error>(())
/// ```
pub fn all_sum(x: &Array, group: Option<&Group>, s: impl Into<StreamOrDevice>) -> Result<Array> {
    reduce(x, CollectiveOp::AllSum, group, s.into())
}

/// Elementwise maximum of `x` over the group, on every rank. The identity for a group of one.
///
/// ```
/// use wmx as mx;
/// let g = mx::distributed::init(false)?;
/// let x = mx::Array::from_slice(&[g.rank(), -g.rank()], &[2]);
/// let y = mx::distributed::all_max(&x, None, None)?;
/// assert_eq!(y.to_vec::<i32>()?, vec![g.size() - 1, 0]);
/// # Ok::<(), mx::Error>(())
/// ```
pub fn all_max(x: &Array, group: Option<&Group>, s: impl Into<StreamOrDevice>) -> Result<Array> {
    reduce(x, CollectiveOp::AllMax, group, s.into())
}

/// Elementwise minimum of `x` over the group, on every rank. The identity for a group of one.
///
/// ```
/// use wmx as mx;
/// let g = mx::distributed::init(false)?;
/// let x = mx::Array::from_slice(&[g.rank(), -g.rank()], &[2]);
/// let y = mx::distributed::all_min(&x, None, None)?;
/// assert_eq!(y.to_vec::<i32>()?, vec![0, 1 - g.size()]);
/// # Ok::<(), mx::Error>(())
/// ```
pub fn all_min(x: &Array, group: Option<&Group>, s: impl Into<StreamOrDevice>) -> Result<Array> {
    reduce(x, CollectiveOp::AllMin, group, s.into())
}

/// Every rank's `x` concatenated along axis 0 in rank order (a scalar gives shape `[size]`),
/// on every rank. Every rank must pass the same shape and dtype. The identity for a group of
/// one (as in MLX, a scalar stays a scalar there).
///
/// ```
/// use wmx as mx;
/// let g = mx::distributed::init(false)?;
/// let x = mx::Array::from_slice(&[g.rank() as f32; 3], &[1, 3]);
/// let y = mx::distributed::all_gather(&x, None, None)?;
/// assert_eq!(y.shape(), &[g.size(), 3]);
/// # Ok::<(), mx::Error>(())
/// ```
pub fn all_gather(x: &Array, group: Option<&Group>, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let g = group_of(group)?;
    if g.size() == 1 {
        return Ok(x.clone());
    }
    let mut shape = x.shape().to_vec();
    match shape.first_mut() {
        Some(d0) => {
            *d0 = d0.checked_mul(g.size()).ok_or_else(|| {
                shape_err(
                    "all_gather",
                    format!("{:?} times {} ranks overflows", x.shape(), g.size()),
                )
            })?
        }
        None => shape.push(g.size()),
    }
    collective(
        Some(x),
        CollectiveOp::AllGather,
        shape,
        x.dtype(),
        g,
        s.into(),
    )
}

/// This rank's block of the elementwise sum over the group (MPI's `MPI_Reduce_scatter_block`):
/// axis 0 of `x` must be divisible by the group size, and rank `r` gets rows
/// `r * n / size .. (r + 1) * n / size` of the sum. The identity for a group of one.
///
/// ```
/// use wmx as mx;
/// let g = mx::distributed::init(false)?;
/// let x = mx::ones(&[2 * g.size(), 3], mx::Dtype::Float32, None)?;
/// let y = mx::distributed::sum_scatter(&x, None, None)?;
/// assert_eq!(y.shape(), &[2, 3]);
/// assert!(y.to_vec::<f32>()?.iter().all(|&v| v == g.size() as f32));
/// # Ok::<(), mx::Error>(())
/// ```
pub fn sum_scatter(
    x: &Array,
    group: Option<&Group>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let g = group_of(group)?;
    if g.size() == 1 {
        return Ok(x.clone());
    }
    let mut shape = x.shape().to_vec();
    match shape.first_mut() {
        Some(d0) if *d0 % g.size() == 0 => *d0 /= g.size(),
        Some(_) | None => {
            return Err(shape_err(
                "sum_scatter",
                format!(
                    "axis 0 of shape {:?} must exist and be divisible by the group size {}",
                    x.shape(),
                    g.size()
                ),
            ));
        }
    }
    collective(
        Some(x),
        CollectiveOp::SumScatter,
        shape,
        x.dtype(),
        g,
        s.into(),
    )
}

fn peer(op: &'static str, what: &str, r: i32, g: &Group) -> Result<()> {
    if g.size() == 1 {
        return Err(value_err(
            op,
            format!("cannot {op} with a singleton group (no other process)"),
        ));
    }
    if r < 0 || r >= g.size() || r == g.rank() {
        return Err(value_err(
            op,
            format!(
                "{what} {r} is not another rank of this group of size {} (this is rank {})",
                g.size(),
                g.rank()
            ),
        ));
    }
    Ok(())
}

/// Sends `x` to rank `dst` of the group when evaluated (MPI's blocking `MPI_Send`: a large
/// message returns once `dst` receives it, so in a ring let even ranks send first and odd
/// ranks receive first). The result is `x` itself: evaluate it to make the send happen. An
/// `Err` for a singleton group, as in MLX.
///
/// ```
/// use wmx as mx;
/// let g = mx::distributed::init(false)?;
/// let x = mx::Array::from_slice(&[1.0f32], &[1]);
/// if g.size() == 1 {
///     assert!(mx::distributed::send(&x, 0, None, None).is_err());
/// }
/// # Ok::<(), mx::Error>(())
/// ```
pub fn send(
    x: &Array,
    dst: i32,
    group: Option<&Group>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let g = group_of(group)?;
    peer("send", "destination", dst, &g)?;
    let shape = x.shape().to_vec();
    collective(
        Some(x),
        CollectiveOp::Send { dst },
        shape,
        x.dtype(),
        g,
        s.into(),
    )
}

/// An array of `shape` and `dtype` received from rank `src` when evaluated (MPI's `MPI_Recv`).
/// The sender's dtype and byte count are checked against these (an `Err` naming both); a
/// different shape of the same size cannot be told apart. An `Err` for a singleton group.
///
/// ```
/// use wmx as mx;
/// let g = mx::distributed::init(false)?;
/// if g.size() == 1 {
///     assert!(mx::distributed::recv(&[2], mx::Dtype::Float32, 0, None, None).is_err());
/// }
/// # Ok::<(), mx::Error>(())
/// ```
pub fn recv(
    shape: &[i32],
    dtype: Dtype,
    src: i32,
    group: Option<&Group>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let g = group_of(group)?;
    peer("recv", "source", src, &g)?;
    if let Some(d) = shape.iter().find(|&&d| d < 0) {
        return Err(shape_err(
            "recv",
            format!("negative dimension {d} in shape {shape:?}"),
        ));
    }
    collective(
        None,
        CollectiveOp::Recv { src },
        shape.to_vec(),
        dtype,
        g,
        s.into(),
    )
}

/// [`recv`] with the shape and dtype of `x`.
///
/// ```
/// use wmx as mx;
/// let g = mx::distributed::init(false)?;
/// if g.size() == 1 {
///     let x = mx::zeros(&[3], mx::Dtype::Int32, None)?;
///     assert!(mx::distributed::recv_like(&x, 0, None, None).is_err());
/// }
/// # Ok::<(), mx::Error>(())
/// ```
pub fn recv_like(
    x: &Array,
    src: i32,
    group: Option<&Group>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    recv(x.shape(), x.dtype(), src, group, s)
}
