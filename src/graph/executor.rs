//! Stream executors: one worker thread per stream (CPU or GPU) running that stream's tasks in
//! FIFO order. A task is a future that first awaits its inputs; while it waits it leaves the
//! worker free, and the input's completion re-queues it, so streams never deadlock on each other.
//! When a GPU stream's queue runs dry, its worker submits the stream's pending command batch.
//! A blocking `eval` runs the tasks of a stream with nothing queued on its own thread instead.

use crate::stream::Stream;
use futures::future::BoxFuture;
use futures::task::{ArcWake, waker_ref};
use std::collections::HashMap;
use std::sync::mpsc::{Sender, TryRecvError, channel};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::task::Context;

struct Task {
    future: Mutex<Option<BoxFuture<'static, ()>>>,
    queue: Sender<Message>,
    pending: Arc<Pending>,
}

/// What a stream's worker receives: one task (a wake-up), or an eval's tasks for this stream in
/// order, sent at once so the worker records them back to back (one thread hand-off and no
/// idle flush between them).
enum Message {
    One(Arc<Task>),
    Many(Vec<Arc<Task>>),
}

impl Message {
    fn run(self) {
        match self {
            Message::One(t) => poll_task(&t),
            Message::Many(ts) => ts.iter().for_each(poll_task),
        }
    }
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
    /// Whether only the `n` tasks just added are pending (nothing else queued or running).
    fn idle_with(&self, n: usize) -> bool {
        *self.count.lock().unwrap_or_else(|p| p.into_inner()) == n
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
        let _ = arc.queue.send(Message::One(arc.clone()));
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
            // The finished future (and the arrays it holds) goes before the stream counts it
            // done: `synchronize` then returns with no node still held by this worker.
            drop(fut);
            task.pending.done();
        }
    }
}

fn on_idle(stream: Stream) {
    crate::backend::flush(stream);
}

type Queue = (Sender<Message>, Arc<Pending>);

fn queues() -> &'static Mutex<HashMap<usize, Queue>> {
    static Q: OnceLock<Mutex<HashMap<usize, Queue>>> = OnceLock::new();
    Q.get_or_init(|| Mutex::new(HashMap::new()))
}

fn queue_of(stream: Stream) -> Queue {
    let mut q = queues().lock().unwrap_or_else(|p| p.into_inner());
    q.entry(stream.index)
        .or_insert_with(|| {
            let (tx, rx) = channel::<Message>();
            let name = format!("wmx-stream-{}", stream.index);
            let spawned = std::thread::Builder::new().name(name).spawn(move || {
                loop {
                    match rx.try_recv() {
                        Ok(m) => m.run(),
                        Err(TryRecvError::Empty) => {
                            on_idle(stream);
                            match rx.recv() {
                                Ok(m) => m.run(),
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

/// Whether a blocking `eval` may run its tasks on the calling thread (see [`spawn_all`]);
/// `WMX_INLINE_EVAL=off` always hands them to the workers (for measuring).
fn inline_allowed() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("WMX_INLINE_EVAL").as_deref() != Ok("off"))
}

/// Queues each future on its stream; each runs on that stream's worker, after the tasks queued
/// on it before, in the order given. A stream's share of `futures` reaches its worker in one
/// message. With `inline` (a blocking `eval`, whose thread would only wait), a stream with
/// nothing queued runs its share on the calling thread instead, in the same order: no hand-off
/// to the worker and back. A task that must wait for an input is re-queued on its stream's
/// worker when the input is ready, as any task is.
pub(crate) fn spawn_all(futures: Vec<(Stream, BoxFuture<'static, ()>)>, inline: bool) {
    let mut by_stream: Vec<(Stream, Vec<BoxFuture<'static, ()>>)> = Vec::new();
    for (stream, fut) in futures {
        match by_stream.iter_mut().find(|(s, _)| *s == stream) {
            Some((_, v)) => v.push(fut),
            None => by_stream.push((stream, vec![fut])),
        }
    }
    for (stream, futs) in by_stream {
        let (queue, pending) = queue_of(stream);
        let tasks: Vec<Arc<Task>> = futs
            .into_iter()
            .map(|fut| {
                pending.add();
                Arc::new(Task {
                    future: Mutex::new(Some(fut)),
                    queue: queue.clone(),
                    pending: pending.clone(),
                })
            })
            .collect();
        if inline && inline_allowed() && pending.idle_with(tasks.len()) {
            Message::Many(tasks).run();
        } else {
            let _ = queue.send(Message::Many(tasks));
        }
    }
}

/// Blocks until every task queued on `stream` so far (and any queued meanwhile) has finished.
pub(crate) fn wait_idle(stream: Stream) -> crate::error::Result<()> {
    let (_, pending) = queue_of(stream);
    pending.wait_zero();
    Ok(())
}
