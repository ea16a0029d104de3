//! Evaluation: `eval`, `async_eval`, `synchronize`. Walks the unevaluated part of the graph in
//! topological order, claims each node, and queues it on its stream's executor; a queued node
//! awaits its inputs (on any stream or device), moves them to its device once, and runs there.

#[cfg(not(target_arch = "wasm32"))]
mod executor;
#[cfg(target_arch = "wasm32")]
#[path = "executor_web.rs"]
mod executor;

use crate::array::{Array, Node, NodeState};
use crate::backend::{self, Data};
use crate::error::{Error, Result};
use crate::stream::{Stream, StreamOrDevice};
use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};

/// Resolves when a node is ready (with its data) or failed.
struct NodeReady(Arc<Node>);

impl Future for NodeReady {
    type Output = Result<Data>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut st = self.0.lock_status();
        match &st.state {
            NodeState::Ready(d) => Poll::Ready(Ok(d.clone())),
            NodeState::Failed(e) => Poll::Ready(Err(e.clone())),
            NodeState::Unscheduled | NodeState::Scheduled => {
                st.wakers.push(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

fn stream_errors() -> &'static Mutex<HashMap<usize, Error>> {
    static E: OnceLock<Mutex<HashMap<usize, Error>>> = OnceLock::new();
    E.get_or_init(|| Mutex::new(HashMap::new()))
}

fn record_error(stream: Stream, e: &Error) {
    stream_errors()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(stream.index)
        .or_insert_with(|| e.clone());
}

/// Claims every unscheduled node reachable from `outputs` and returns them inputs-first.
fn claim_in_order(outputs: &[Array]) -> Vec<Array> {
    let mut order = Vec::new();
    let mut stack: Vec<(Array, bool)> = outputs.iter().rev().map(|a| (a.clone(), false)).collect();
    while let Some((a, expanded)) = stack.pop() {
        if expanded {
            order.push(a);
            continue;
        }
        {
            let mut st = a.0.lock_status();
            if !matches!(st.state, NodeState::Unscheduled) {
                continue;
            }
            st.state = NodeState::Scheduled;
        }
        let inputs = a.0.inputs();
        stack.push((a, true));
        stack.extend(inputs.into_iter().rev().map(|i| (i, false)));
    }
    order
}

/// Awaits the inputs, moves them to the node's device, and runs the node there.
async fn execute(a: &Array, turn: Option<&backend::Turn>) -> Result<Data> {
    let node = &a.0;
    let dev = node.stream.device();
    let inputs = node.inputs();
    let mut datas = Vec::with_capacity(inputs.len());
    for inp in &inputs {
        let d = NodeReady(inp.0.clone()).await?;
        // Natively the stream's worker thread may block on a GPU read; a browser page may not.
        #[cfg(not(target_arch = "wasm32"))]
        let d = d.on_device(dev)?;
        #[cfg(target_arch = "wasm32")]
        let d = d.on_device_async(dev).await?;
        datas.push((inp.shape().to_vec(), d));
    }
    if datas
        .iter()
        .any(|(_, d)| d.storage.device != crate::device::Device::cpu())
    {
        // Work of other streams writing our inputs must reach the queue before ours.
        backend::flush_others(node.stream)?;
    }
    if let Some(t) = turn {
        // Communication runs in the process's program order (see backend/collective.rs).
        t.ready().await;
    }
    backend::run(node, dev, &datas)
}

fn schedule(outputs: &[Array], inline: bool) {
    let tasks = claim_in_order(outputs)
        .into_iter()
        .map(|a| {
            let stream = a.0.stream;
            let turn = backend::turn_for(&a.0.prim);
            let fut: futures::future::BoxFuture<'static, ()> = Box::pin(async move {
                let r = execute(&a, turn.as_ref()).await;
                if let Err(e) = &r {
                    // A failed collective aborts the job: its peers would wait forever.
                    backend::collective_failed(&a.0, e);
                    record_error(stream, e);
                }
                drop(turn);
                a.0.finish(r);
            });
            (stream, fut)
        })
        .collect();
    executor::spawn_all(tasks, inline);
}

#[cfg(not(target_arch = "wasm32"))]
thread_local! {
    /// Set while this thread is inside [`block_on`]: a GPU wait may then block it in wgpu's
    /// own poll instead of handing the wait to the poller thread (see `GpuContext::wait_or_kick`).
    static BLOCKING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread is blocked in [`block_on`] (so a wait may block it).
pub(crate) fn blocking() -> bool {
    #[cfg(not(target_arch = "wasm32"))]
    return BLOCKING.with(|b| b.get());
    #[cfg(target_arch = "wasm32")]
    false
}

/// Runs `fut` to its end, blocking the thread. In a browser (wasm32), where a page must never
/// block, a future that is not ready at once is an `Err` for `op` pointing at the async API.
pub(crate) fn block_on<F: Future>(op: &'static str, fut: F) -> Result<F::Output> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = op;
        let outer = BLOCKING.with(|b| b.replace(true));
        let out = pollster::block_on(fut);
        BLOCKING.with(|b| b.set(outer));
        Ok(out)
    }
    #[cfg(target_arch = "wasm32")]
    {
        let mut fut = std::pin::pin!(fut);
        let waker = futures::task::noop_waker();
        match fut.as_mut().poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(v) => Ok(v),
            Poll::Pending => Err(Error::Device {
                op,
                msg: "this would wait for the GPU, and a browser page cannot block; use the \
                      async API (`async_eval(..).await`, `to_vec_async().await`)"
                    .into(),
            }),
        }
    }
}

/// Work started by [`async_eval`]; await it (or call [`Evaluation::wait`]) for completion.
#[must_use = "the work runs anyway; await the Evaluation to learn when it is done and whether it failed"]
pub struct Evaluation {
    inner: Pin<Box<dyn Future<Output = Result<()>> + Send>>,
}

impl Future for Evaluation {
    type Output = Result<()>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.inner.as_mut().poll(cx)
    }
}

impl Evaluation {
    /// Blocks until the work is done. In a browser, where nothing may block, work that is not
    /// done at once (anything on the GPU) is an `Err`: await the `Evaluation` there.
    pub fn wait(self) -> Result<()> {
        block_on("eval", self)?
    }
}

/// Starts evaluating `arrays` and returns at once; the returned [`Evaluation`] resolves when their
/// data is ready (on whatever device they live). Awaiting never blocks a thread.
///
/// ```
/// let a = wmx::Array::from_slice(&[1.0f32, 2.0], &[2]);
/// let b = wmx::exp(&a, wmx::Device::cpu()).unwrap();
/// let done = wmx::async_eval([&b]);
/// pollster::block_on(done).unwrap();
/// assert!(b.is_evaluated());
/// ```
pub fn async_eval<'a>(arrays: impl IntoIterator<Item = &'a Array>) -> Evaluation {
    // Inside a blocking wait (`item`, `to_vec`) the thread would only wait: it may run the work.
    evaluation(arrays.into_iter().cloned().collect(), blocking())
}

/// The work of [`async_eval`]; `inline` when the caller will block on it (see
/// `executor::spawn_all`).
fn evaluation(outputs: Vec<Array>, inline: bool) -> Evaluation {
    schedule(&outputs, inline);
    Evaluation {
        inner: Box::pin(async move {
            let mut devices = BTreeSet::new();
            let mut storages = Vec::new();
            let mut first_err = None;
            for a in &outputs {
                match NodeReady(a.0.clone()).await {
                    Ok(d) => {
                        devices.insert(d.storage.device);
                        storages.push(d.storage);
                    }
                    Err(e) => {
                        first_err.get_or_insert(e);
                    }
                }
            }
            for d in devices {
                backend::done_reading(d, &storages).await?;
            }
            first_err.map_or(Ok(()), Err)
        }),
    }
}

/// Evaluates `arrays` and their dependencies, on every stream and device they use, and waits.
///
/// ```
/// let a = wmx::ones(&[3], wmx::Dtype::Float32, wmx::Device::cpu()).unwrap();
/// let b = wmx::add(&a, &a, None).unwrap();
/// assert!(!b.is_evaluated());
/// wmx::eval([&b]).unwrap();
/// assert!(b.is_evaluated());
/// ```
pub fn eval<'a>(arrays: impl IntoIterator<Item = &'a Array>) -> Result<()> {
    evaluation(
        arrays.into_iter().cloned().collect(),
        !cfg!(target_arch = "wasm32"),
    )
    .wait()
}

/// Waits until everything queued on the stream (or the device's default stream) has finished, and
/// returns the first error that stream hit since the last `synchronize`.
///
/// ```
/// let s = wmx::new_stream(wmx::Device::cpu());
/// let a = wmx::zeros(&[4], wmx::Dtype::Int32, &s).unwrap();
/// let _ = wmx::async_eval([&a]);
/// wmx::synchronize(&s).unwrap();
/// assert!(a.is_evaluated());
/// ```
pub fn synchronize(s: impl Into<StreamOrDevice>) -> Result<()> {
    let stream = s.into().resolve("synchronize")?;
    executor::wait_idle(stream)?;
    backend::flush(stream);
    block_on("synchronize", backend::done(stream.device()))??;
    match stream_errors()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&stream.index)
    {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
