//! Stream executors in a browser (wasm32: one thread, which must never block): the tasks of every
//! stream run on the calling thread from one ready queue, in the order they were queued. A task
//! waiting for an input or a GPU read leaves the queue and is queued again by its waker (a JS
//! callback of WebGPU, or the input's completion). When the queue runs dry, every stream that ran
//! submits its pending command batch. Same interface as `executor.rs`.

use crate::error::{Error, Result};
use crate::stream::Stream;
use futures::future::BoxFuture;
use futures::task::{ArcWake, waker_ref};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::task::Context;

struct Task {
    future: Mutex<Option<BoxFuture<'static, ()>>>,
    stream: Stream,
}

thread_local! {
    static READY: RefCell<VecDeque<Arc<Task>>> = const { RefCell::new(VecDeque::new()) };
    static DRAINING: Cell<bool> = const { Cell::new(false) };
    /// Unfinished tasks per stream index.
    static PENDING: RefCell<HashMap<usize, usize>> = RefCell::new(HashMap::new());
}

impl ArcWake for Task {
    fn wake_by_ref(arc: &Arc<Self>) {
        READY.with(|q| q.borrow_mut().push_back(arc.clone()));
        drain();
    }
}

fn poll_task(task: &Arc<Task>) {
    let mut slot = task.future.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(mut fut) = slot.take() {
        let waker = waker_ref(task);
        let mut cx = Context::from_waker(&waker);
        if fut.as_mut().poll(&mut cx).is_pending() {
            *slot = Some(fut);
        } else {
            drop(fut);
            PENDING.with(|p| {
                if let Some(n) = p.borrow_mut().get_mut(&task.stream.index) {
                    *n = n.saturating_sub(1);
                }
            });
        }
    }
}

/// Runs the ready tasks until none is left (a wake-up during the run only queues its task),
/// then submits the work of every stream that ran.
fn drain() {
    if DRAINING.with(|d| d.replace(true)) {
        return;
    }
    let mut ran: Vec<Stream> = Vec::new();
    loop {
        match READY.with(|q| q.borrow_mut().pop_front()) {
            Some(t) => {
                if !ran.contains(&t.stream) {
                    ran.push(t.stream);
                }
                poll_task(&t);
            }
            None if ran.is_empty() => break,
            None => ran.drain(..).for_each(crate::backend::flush),
        }
    }
    DRAINING.with(|d| d.set(false));
}

/// Queues each future on its stream and runs what can run now, in the order given.
pub(crate) fn spawn_all(futures: Vec<(Stream, BoxFuture<'static, ()>)>, _inline: bool) {
    for (stream, fut) in futures {
        PENDING.with(|p| *p.borrow_mut().entry(stream.index).or_insert(0) += 1);
        READY.with(|q| {
            q.borrow_mut().push_back(Arc::new(Task {
                future: Mutex::new(Some(fut)),
                stream,
            }))
        });
    }
    drain();
}

/// `Ok` when every task queued on `stream` has finished; a page cannot wait for the others.
pub(crate) fn wait_idle(stream: Stream) -> Result<()> {
    match PENDING.with(|p| p.borrow().get(&stream.index).copied().unwrap_or(0)) {
        0 => Ok(()),
        n => Err(Error::Device {
            op: "synchronize",
            msg: format!(
                "{n} task(s) of {stream} are waiting for the GPU, and a browser page cannot \
                 block; await `async_eval(..)` or `to_vec_async()` instead"
            ),
        }),
    }
}
