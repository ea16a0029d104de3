//! `Array`: a cheap handle to a node of the lazy graph, and the node's lifecycle
//! (unscheduled -> scheduled -> ready | failed). After a node is ready it drops its inputs.
//! Ops build nodes (in `ops/`); running them is `graph/`'s job; this file only holds state.

use crate::backend::{Data, Storage};
use crate::device::Device;
use crate::dtype::{ArrayElement, Dtype};
use crate::error::{Error, Result, value_err};
use crate::primitive::Primitive;
use crate::shape::{row_major_strides, size_of};
use crate::stream::{Stream, current_default_stream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::Waker;

/// A lazy n-dimensional array. Cloning is cheap (an `Arc`); arrays are `Send + Sync`.
#[derive(Clone)]
pub struct Array(pub(crate) Arc<Node>);

pub(crate) enum NodeState {
    Unscheduled,
    Scheduled,
    Ready(Data),
    Failed(Error),
}

pub(crate) struct Status {
    pub state: NodeState,
    pub wakers: Vec<Waker>,
}

pub(crate) struct Node {
    pub id: u64,
    pub shape: Vec<i32>,
    pub dtype: Dtype,
    pub stream: Stream,
    pub prim: Primitive,
    pub inputs: Mutex<Vec<Array>>,
    pub status: Mutex<Status>,
    pub cond: Condvar,
    /// The running transforms this node was traced in (made from their traced inputs): while
    /// one of them runs, evaluating the node keeps its inputs, so the transform can still walk
    /// them (MLX's tracers). Ended transforms drop out, so a node made from their results is an
    /// ordinary node that frees its graph once evaluated.
    pub traces: Vec<Arc<crate::transforms::TraceToken>>,
}

/// Nodes alive now (a test hook: a freed graph shows as a count back where it started).
static LIVE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

pub(crate) fn live_nodes() -> usize {
    LIVE.load(Ordering::Relaxed)
}

impl Drop for Node {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// The id the next node will get: nodes made after this call have ids at or above it.
pub(crate) fn id_watermark() -> u64 {
    NEXT_ID.load(Ordering::Relaxed)
}

impl Node {
    pub(crate) fn lock_status(&self) -> MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn take_inputs(&self) -> Vec<Array> {
        std::mem::take(&mut *self.inputs.lock().unwrap_or_else(|p| p.into_inner()))
    }

    pub(crate) fn inputs(&self) -> Vec<Array> {
        self.inputs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Marks the node finished (ready or failed), frees its inputs and wakes every waiter.
    pub(crate) fn finish(&self, result: Result<Data>) {
        let wakers = {
            let mut st = self.lock_status();
            st.state = match result {
                Ok(d) => NodeState::Ready(d),
                Err(e) => NodeState::Failed(e),
            };
            std::mem::take(&mut st.wakers)
        };
        if !self.is_tracer() {
            self.take_inputs();
        }
        self.cond.notify_all();
        for w in wakers {
            w.wake();
        }
    }

    /// True while a transform that traced this node is running.
    pub(crate) fn is_tracer(&self) -> bool {
        self.traces.iter().any(|t| t.alive())
    }

    /// Blocks until the node is ready or failed. Must only be called once it is scheduled.
    pub(crate) fn wait(&self) -> Result<Data> {
        let mut st = self.lock_status();
        loop {
            match &st.state {
                NodeState::Ready(d) => return Ok(d.clone()),
                NodeState::Failed(e) => return Err(e.clone()),
                NodeState::Unscheduled => {
                    return Err(Error::Backend {
                        op: "eval",
                        msg: format!(
                            "invariant: node {} waited on before being scheduled",
                            self.id
                        ),
                    });
                }
                NodeState::Scheduled => st = self.cond.wait(st).unwrap_or_else(|p| p.into_inner()),
            }
        }
    }
}

impl Array {
    pub(crate) fn from_node(
        shape: Vec<i32>,
        dtype: Dtype,
        stream: Stream,
        prim: Primitive,
        inputs: Vec<Array>,
    ) -> Array {
        let mut traces: Vec<Arc<crate::transforms::TraceToken>> = Vec::new();
        for t in inputs.iter().flat_map(|a| a.0.traces.iter()) {
            if t.alive() && !traces.iter().any(|u| Arc::ptr_eq(t, u)) {
                traces.push(t.clone());
            }
        }
        Array::new_node(shape, dtype, stream, prim, inputs, traces)
    }

    /// A node in the given traces (transforms mark the copies of their inputs).
    pub(crate) fn new_node(
        shape: Vec<i32>,
        dtype: Dtype,
        stream: Stream,
        prim: Primitive,
        inputs: Vec<Array>,
        traces: Vec<Arc<crate::transforms::TraceToken>>,
    ) -> Array {
        LIVE.fetch_add(1, Ordering::Relaxed);
        Array(Arc::new(Node {
            traces,
            id: next_id(),
            shape,
            dtype,
            stream,
            prim,
            inputs: Mutex::new(inputs),
            status: Mutex::new(Status {
                state: NodeState::Unscheduled,
                wakers: Vec::new(),
            }),
            cond: Condvar::new(),
        }))
    }

    /// A stand-in for an input while `compile` traces a function: it has a shape, a dtype and a
    /// stream but no data; evaluating anything built from it fails with `error`.
    pub(crate) fn placeholder(
        shape: Vec<i32>,
        dtype: Dtype,
        stream: Stream,
        error: Error,
    ) -> Array {
        let a = Array::from_node(shape, dtype, stream, Primitive::Constant, vec![]);
        a.0.lock_status().state = NodeState::Failed(error);
        a
    }

    /// An already-evaluated array holding `data` (on the CPU).
    pub(crate) fn from_data(shape: Vec<i32>, dtype: Dtype, data: Data) -> Array {
        let a = Array::from_node(
            shape,
            dtype,
            current_default_stream(),
            Primitive::Constant,
            vec![],
        );
        a.0.lock_status().state = NodeState::Ready(data);
        a
    }

    /// An array from host data and a shape (`&[i32]`).
    ///
    /// # Panics
    /// When `data.len()` differs from the shape's size or a dimension is negative; use
    /// [`Array::try_from_slice`] for a `Result`.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1i32, 2, 3, 4], &[2, 2]);
    /// assert_eq!(a.shape(), &[2, 2]);
    /// assert_eq!(a.dtype(), wmx::Dtype::Int32);
    /// ```
    pub fn from_slice<T: ArrayElement>(data: &[T], shape: &[i32]) -> Array {
        match Array::try_from_slice(data, shape) {
            Ok(a) => a,
            Err(e) => panic!("{e}"),
        }
    }

    /// Like [`Array::from_slice`], returning an error on a size mismatch.
    ///
    /// ```
    /// assert!(wmx::Array::try_from_slice(&[1.0f32, 2.0], &[3]).is_err());
    /// ```
    pub fn try_from_slice<T: ArrayElement>(data: &[T], shape: &[i32]) -> Result<Array> {
        if let Some(d) = shape.iter().find(|&&d| d < 0) {
            return Err(value_err(
                "array",
                format!(
                    "Negative dimension {d} in shape {}.",
                    crate::shape::fmt_shape(shape)
                ),
            ));
        }
        crate::shape::check_size("array", shape)?;
        if size_of(shape) != data.len() {
            return Err(value_err(
                "array",
                format!(
                    "Data has {} elements but shape {} needs {}.",
                    data.len(),
                    crate::shape::fmt_shape(shape),
                    size_of(shape)
                ),
            ));
        }
        let storage = Storage::host(crate::backend::host::HostVec::from_slice(data));
        let d = Data {
            storage: Arc::new(storage),
            strides: row_major_strides(shape),
            offset: 0,
        };
        Ok(Array::from_data(shape.to_vec(), T::DTYPE, d))
    }

    /// An evaluated array on the device of `s` from raw bytes: the row-major elements of
    /// `dtype`, little-endian (`bool` one byte each, any non-zero byte read as `true`). On a GPU
    /// the bytes are uploaded straight from `bytes`, with no host copy in between.
    ///
    /// ```
    /// use wmx::{Array, Device, Dtype};
    /// let bytes: Vec<u8> = [1.5f32, -2.0].iter().flat_map(|x| x.to_le_bytes()).collect();
    /// let a = Array::from_bytes(&bytes, Dtype::Float32, &[2], Device::cpu()).unwrap();
    /// assert_eq!(a.to_vec::<f32>().unwrap(), vec![1.5, -2.0]);
    /// assert!(Array::from_bytes(&bytes, Dtype::Float32, &[3], None).is_err());
    /// ```
    pub fn from_bytes(
        bytes: &[u8],
        dtype: Dtype,
        shape: &[i32],
        s: impl Into<crate::stream::StreamOrDevice>,
    ) -> Result<Array> {
        let stream = s.into().resolve("from_bytes")?;
        if let Some(d) = shape.iter().find(|&&d| d < 0) {
            return Err(value_err(
                "from_bytes",
                format!(
                    "Negative dimension {d} in shape {}.",
                    crate::shape::fmt_shape(shape)
                ),
            ));
        }
        let n = crate::shape::check_size("from_bytes", shape)?;
        if n.checked_mul(dtype.size()) != Some(bytes.len()) {
            return Err(value_err(
                "from_bytes",
                format!(
                    "{} bytes given but shape {} of {dtype} needs {}.",
                    bytes.len(),
                    crate::shape::fmt_shape(shape),
                    n.saturating_mul(dtype.size())
                ),
            ));
        }
        Array::from_bytes_on(
            "from_bytes",
            bytes,
            dtype,
            shape,
            row_major_strides(shape),
            stream,
        )
    }

    /// An evaluated array on `stream`'s device over `bytes` (little-endian elements of `dtype`,
    /// exactly the `size * dtype.size()` bytes the strided view `strides` spans densely: row- or
    /// column-major). The caller has checked the shape and the length. The host gets one copy;
    /// a GPU an upload from `bytes` itself. Bool bytes other than 0 and 1 become 1.
    pub(crate) fn from_bytes_on(
        op: &'static str,
        bytes: &[u8],
        dtype: Dtype,
        shape: &[i32],
        strides: Vec<isize>,
        stream: Stream,
    ) -> Result<Array> {
        let n = size_of(shape);
        let normalized: Vec<u8>;
        let bytes = if dtype == Dtype::Bool && bytes.iter().any(|&b| b > 1) {
            normalized = bytes.iter().map(|&b| (b != 0) as u8).collect();
            &normalized[..]
        } else {
            bytes
        };
        let device = stream.device();
        let storage = match device.kind {
            crate::device::DeviceType::Cpu => {
                crate::backend::host::check_alloc(op, dtype, n)?;
                Storage::host(crate::backend::host::HostVec::from_bytes(dtype, n, bytes))
            }
            crate::device::DeviceType::Gpu => {
                let ctx = crate::backend::gpu::context::context(device.index)?;
                Storage::gpu(device.index, dtype, ctx.upload(bytes)?)
            }
        };
        let d = Data {
            storage: Arc::new(storage),
            strides,
            offset: 0,
        };
        let a = Array::from_node(shape.to_vec(), dtype, stream, Primitive::Constant, vec![]);
        a.0.lock_status().state = NodeState::Ready(d);
        Ok(a)
    }

    /// A 0-dimensional array holding `value`.
    ///
    /// ```
    /// let s = wmx::Array::scalar(2.5f32);
    /// assert_eq!(s.ndim(), 0);
    /// assert_eq!(s.item::<f32>().unwrap(), 2.5);
    /// ```
    pub fn scalar<T: ArrayElement>(value: T) -> Array {
        Array::from_slice(&[value], &[])
    }

    /// The shape.
    pub fn shape(&self) -> &[i32] {
        &self.0.shape
    }

    /// The element type.
    pub fn dtype(&self) -> Dtype {
        self.0.dtype
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.0.shape.len()
    }

    /// Number of elements.
    pub fn size(&self) -> usize {
        size_of(&self.0.shape)
    }

    /// Bytes of the elements (`size * dtype.size()`).
    pub fn nbytes(&self) -> usize {
        self.size() * self.0.dtype.size()
    }

    /// The stream this array's op runs on.
    pub fn stream(&self) -> Stream {
        self.0.stream
    }

    /// The device of that stream.
    pub fn device(&self) -> Device {
        self.0.stream.device()
    }

    /// Dimension `axis` (negative counts from the end).
    ///
    /// ```
    /// let a = wmx::zeros(&[2, 3], wmx::Dtype::Float32, None).unwrap();
    /// assert_eq!(a.dim(-1).unwrap(), 3);
    /// ```
    pub fn dim(&self, axis: i32) -> Result<i32> {
        let ax = crate::shape::normalize_axis("dim", axis, self.ndim())?;
        Ok(self.0.shape[ax])
    }

    /// True once the array has been evaluated (its data exists).
    pub fn is_evaluated(&self) -> bool {
        matches!(self.0.lock_status().state, NodeState::Ready(_))
    }

    /// Evaluates this array (see [`crate::eval`]).
    pub fn eval(&self) -> Result<()> {
        crate::graph::eval([self])
    }

    /// A unique id of this array's node (equal for clones of one handle).
    ///
    /// ```
    /// let a = wmx::Array::scalar(1.0f32);
    /// assert_eq!(a.id(), a.clone().id());
    /// assert_ne!(a.id(), wmx::Array::scalar(1.0f32).id());
    /// ```
    pub fn id(&self) -> u64 {
        self.0.id
    }

    /// The single element, converted to `T` (`astype`'s rules).
    ///
    /// ```
    /// let a = wmx::sum(&wmx::Array::from_slice(&[1i32, 2, 3], &[3]), &[], false, None).unwrap();
    /// assert_eq!(a.item::<i32>().unwrap(), 6);
    /// ```
    pub fn item<T: ArrayElement>(&self) -> Result<T> {
        if self.size() != 1 {
            return Err(value_err(
                "item",
                format!(
                    "item() needs an array of size 1; this one has shape {}.",
                    crate::shape::fmt_shape(self.shape())
                ),
            ));
        }
        Ok(self.to_vec::<T>()?[0])
    }

    /// Evaluates and copies the elements out in row-major order, converted to `T`.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1.5f32, 2.5], &[2]);
    /// assert_eq!(a.to_vec::<f32>().unwrap(), vec![1.5, 2.5]);
    /// assert_eq!(a.to_vec::<i32>().unwrap(), vec![1, 2]);
    /// ```
    pub fn to_vec<T: ArrayElement>(&self) -> Result<Vec<T>> {
        crate::graph::block_on("to_vec", self.to_vec_async())?
    }

    /// The asynchronous form of [`Array::to_vec`]: evaluates, then reads without blocking a thread.
    ///
    /// ```
    /// let a = wmx::Array::from_slice(&[1u32, 2], &[2]);
    /// let v: Vec<u32> = pollster::block_on(a.to_vec_async()).unwrap();
    /// assert_eq!(v, vec![1, 2]);
    /// ```
    pub async fn to_vec_async<T: ArrayElement>(&self) -> Result<Vec<T>> {
        crate::graph::async_eval([self]).await?;
        let data = self.0.wait()?;
        let host = data.storage.host_async().await?;
        let h = host.as_host().ok_or_else(|| Error::Backend {
            op: "to_vec",
            msg: "invariant: host copy is host memory".into(),
        })?;
        Ok(crate::backend::cpu::copy::read_logical::<T>(
            h,
            &self.0.shape,
            &data.strides,
            data.offset,
        ))
    }
}

impl std::fmt::Debug for Array {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Array {{ id: {}, op: {}, shape: {:?}, dtype: {}, stream: {} }}",
            self.0.id,
            self.0.prim.name(),
            self.0.shape,
            self.0.dtype,
            self.0.stream
        )
    }
}
