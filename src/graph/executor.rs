//! Stream executors: one worker thread per stream (CPU or GPU) running that stream's tasks in
//! FIFO order. A task is a future that first awaits its inputs; while it waits it leaves the
//! worker free, and the input's completion re-queues it, so streams never deadlock on each other.
//! When a GPU stream's queue runs dry, its worker submits the stream's pending command batch.

use crate::device::DeviceType;
use crate::stream::Stream;
use futures::future::BoxFuture;
use futures::task::{ArcWake, waker_ref};
use std::collections::HashMap;
use std::sync::mpsc::{Sender, TryRecvError, channel};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::task::Context;

struct Task {
    future: Mutex<Option<BoxFuture<'static, ()>>>,
    queue: Sender<Arc<Task>>,
    pending: Arc<Pending>,
}

/// Number of tasks queued on a stream and not finished yet.
#[derive(Default)]
struct Pending {
    count: Mutex<usize>,
    zero: Condvar,
}

impl Pending {
    fn add(&self) {
        *self.count.lock().unwrap_or_else(|p| p.into_inner()) += 1;
    }
    fn done(&self) {
        let mut c = self.count.lock().unwrap_or_else(|p| p.into_inner());
        *c -= 1;
        if *c == 0 {
            self.zero.notify_all();
        }
    }
    fn wait_zero(&self) {
        let mut c = self.count.lock().unwrap_or_else(|p| p.into_inner());
        while *c > 0 {
            c = self.zero.wait(c).unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl ArcWake for Task {
    fn wake_by_ref(arc: &Arc<Self>) {
        let _ = arc.queue.send(arc.clone());
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
            task.pending.done();
        }
    }
}

fn on_idle(stream: Stream) {
    let d = stream.device();
    if d.kind == DeviceType::Gpu {
        if let Ok(ctx) = crate::backend::gpu::context::context(d.index) {
            ctx.flush(stream.index);
        }
    }
}

type Queue = (Sender<Arc<Task>>, Arc<Pending>);

fn queues() -> &'static Mutex<HashMap<usize, Queue>> {
    static Q: OnceLock<Mutex<HashMap<usize, Queue>>> = OnceLock::new();
    Q.get_or_init(|| Mutex::new(HashMap::new()))
}

fn queue_of(stream: Stream) -> Queue {
    let mut q = queues().lock().unwrap_or_else(|p| p.into_inner());
    q.entry(stream.index)
        .or_insert_with(|| {
            let (tx, rx) = channel::<Arc<Task>>();
            let name = format!("wmx-stream-{}", stream.index);
            let spawned = std::thread::Builder::new().name(name).spawn(move || {
                loop {
                    match rx.try_recv() {
                        Ok(t) => poll_task(&t),
                        Err(TryRecvError::Empty) => {
                            on_idle(stream);
                            match rx.recv() {
                                Ok(t) => poll_task(&t),
                                Err(_) => break,
                            }
                        }
                        Err(TryRecvError::Disconnected) => break,
                    }
                }
            });
            if spawned.is_err() {
                eprintln!(
                    "wmx: could not start a worker thread for stream {}",
                    stream.index
                );
            }
            (tx, Arc::new(Pending::default()))
        })
        .clone()
}

/// Queues `fut` on `stream`; it runs on that stream's worker, after the tasks queued before it.
pub(crate) fn spawn(stream: Stream, fut: BoxFuture<'static, ()>) {
    let (queue, pending) = queue_of(stream);
    pending.add();
    let task = Arc::new(Task {
        future: Mutex::new(Some(fut)),
        queue: queue.clone(),
        pending,
    });
    let _ = queue.send(task);
}

/// Blocks until every task queued on `stream` so far (and any queued meanwhile) has finished.
pub(crate) fn wait_idle(stream: Stream) {
    let (_, pending) = queue_of(stream);
    pending.wait_zero();
}
