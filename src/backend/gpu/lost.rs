//! Device loss: the one flag per GPU that wgpu's device-lost callback (or a panic of wgpu inside
//! the poller) sets, the check every GPU entry point makes before touching the device, and the
//! future that wakes a wait once the device is lost. After a loss, buffer maps and
//! `on_submitted_work_done` callbacks may never fire, so every wait races its callback against
//! this flag; nothing here talks to wgpu.

use crate::error::{Error, Result};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

#[derive(Default)]
struct State {
    /// Why the device was lost, once it is.
    reason: Option<String>,
    /// Waits to wake when it is.
    wakers: Vec<Waker>,
    /// Whether wgpu itself has reported it (its device-lost callback ran).
    by_wgpu: bool,
}

/// Whether (and why) a GPU's device was lost; cheap to clone.
#[derive(Clone, Default)]
pub(crate) struct Lost(Arc<Mutex<State>>);

impl Lost {
    fn state(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records the loss (the first reason stays) and wakes every wait.
    pub(crate) fn set(&self, reason: String) {
        let wakers = {
            let mut st = self.state();
            st.reason.get_or_insert(reason);
            std::mem::take(&mut st.wakers)
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Records a loss that wgpu reported (its device-lost callback).
    pub(crate) fn set_by_wgpu(&self, reason: String) {
        self.state().by_wgpu = true;
        self.set(reason);
    }

    /// Whether wgpu has reported the loss.
    pub(crate) fn reported_by_wgpu(&self) -> bool {
        self.state().by_wgpu
    }

    /// The reason, if the device is lost.
    pub(crate) fn reason(&self) -> Option<String> {
        self.state().reason.clone()
    }

    /// `Ok` while the device lives; after a loss, an `Err` for `op` saying so.
    pub(crate) fn check(&self, op: &'static str) -> Result<()> {
        match self.reason() {
            None => Ok(()),
            Some(msg) => Err(Error::Device { op, msg }),
        }
    }

    /// Resolves once the device is lost (never, while it lives).
    pub(crate) fn wait(&self) -> LostFuture {
        LostFuture(self.clone())
    }
}

/// See [`Lost::wait`].
pub(crate) struct LostFuture(Lost);

impl Future for LostFuture {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = self.0.state();
        if st.reason.is_some() {
            return Poll::Ready(());
        }
        if !st.wakers.iter().any(|w| w.will_wake(cx.waker())) {
            st.wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// Awaits `fut`, unless the device is lost first: then an `Err` for `op` naming the loss.
pub(crate) async fn unless_lost<F: Future + Unpin>(
    lost: &Lost,
    op: &'static str,
    fut: F,
) -> Result<F::Output> {
    use futures::future::{Either, select};
    match select(fut, lost.wait()).await {
        Either::Left((out, _)) => Ok(out),
        Either::Right(((), _)) => {
            lost.check(op)?;
            Err(Error::Device {
                op,
                msg: "invariant: woken without a loss".into(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loss_wakes_waits_and_fails_checks() {
        let lost = Lost::default();
        assert!(lost.check("add").is_ok());
        let (tx, rx) = futures::channel::oneshot::channel::<u32>();
        let waiter = {
            let lost = lost.clone();
            std::thread::spawn(move || pollster::block_on(unless_lost(&lost, "read", rx)))
        };
        std::thread::sleep(std::time::Duration::from_millis(20));
        lost.set("GPU 0 (test) was lost (destroyed)".into());
        lost.set("a second reason is ignored".into());
        let e = waiter.join().unwrap().unwrap_err().to_string();
        assert_eq!(e, "[read] GPU 0 (test) was lost (destroyed)");
        assert_eq!(
            lost.check("add").unwrap_err().to_string(),
            "[add] GPU 0 (test) was lost (destroyed)"
        );
        drop(tx);
    }

    #[test]
    fn a_wait_that_finishes_first_is_ok() {
        let lost = Lost::default();
        let ready = futures::future::ready(7);
        assert_eq!(pollster::block_on(unless_lost(&lost, "read", ready)), Ok(7));
    }
}
