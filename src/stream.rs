//! Streams: `Copy` ids of logical FIFOs on a device, the per-thread default stream, the
//! `StreamOrDevice` argument every op takes last, and the `mx::stream(..)` scope guard.
//! Owns naming and defaults only; executing work on a stream is `graph/` and `backend/`'s job.

use crate::device::{Device, initial_default_device};
use crate::error::Result;
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// A logical FIFO of work on one device. Work on one stream runs in order; work on different
/// streams may overlap, with dependencies resolved by the runtime. `Send + Sync + Copy`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Stream {
    /// Process-unique stream index.
    pub index: usize,
    device: Device,
}

impl Stream {
    /// The device this stream runs on.
    ///
    /// ```
    /// let s = wmx::new_stream(wmx::Device::cpu());
    /// assert_eq!(s.device(), wmx::Device::cpu());
    /// ```
    pub fn device(&self) -> Device {
        self.device
    }
}

impl std::fmt::Display for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Stream({}, {})", self.device, self.index)
    }
}

struct Registry {
    next: usize,
    defaults: HashMap<Device, Stream>,
}

fn registry() -> &'static Mutex<Registry> {
    static R: OnceLock<Mutex<Registry>> = OnceLock::new();
    R.get_or_init(|| {
        Mutex::new(Registry {
            next: 0,
            defaults: HashMap::new(),
        })
    })
}

fn lock_registry() -> std::sync::MutexGuard<'static, Registry> {
    registry().lock().unwrap_or_else(|p| p.into_inner())
}

/// A new stream on `device` (validity of the device is checked when the stream is used).
///
/// ```
/// let a = wmx::new_stream(wmx::Device::cpu());
/// let b = wmx::new_stream(wmx::Device::cpu());
/// assert_ne!(a, b);
/// ```
pub fn new_stream(device: Device) -> Stream {
    let mut r = lock_registry();
    let s = Stream {
        index: r.next,
        device,
    };
    r.next += 1;
    s
}

/// The default stream of `device` (the same stream on every call and every thread).
///
/// ```
/// let cpu = wmx::Device::cpu();
/// assert_eq!(wmx::default_stream(cpu), wmx::default_stream(cpu));
/// ```
pub fn default_stream(device: Device) -> Stream {
    let mut r = lock_registry();
    if let Some(s) = r.defaults.get(&device) {
        return *s;
    }
    let s = Stream {
        index: r.next,
        device,
    };
    r.next += 1;
    r.defaults.insert(device, s);
    s
}

thread_local! {
    static THREAD_DEFAULT: Cell<Option<Stream>> = const { Cell::new(None) };
}

/// This thread's default stream (set by [`set_default_stream`], [`crate::set_default_device`] or a
/// [`stream`] guard), else the default stream of the process default device.
pub(crate) fn current_default_stream() -> Stream {
    THREAD_DEFAULT
        .with(|c| c.get())
        .unwrap_or_else(|| default_stream(initial_default_device()))
}

/// Sets the calling thread's default stream, and so its default device.
///
/// ```
/// let s = wmx::new_stream(wmx::Device::cpu());
/// wmx::set_default_stream(s);
/// assert_eq!(wmx::default_device(), wmx::Device::cpu());
/// ```
pub fn set_default_stream(s: Stream) {
    THREAD_DEFAULT.with(|c| c.set(Some(s)));
}

/// Where an op runs: a stream, a device (its default stream) or the thread's default stream.
/// Every op takes one of these last: `None`, `&s`, `s` or a `Device`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum StreamOrDevice {
    /// The default stream of the default device.
    #[default]
    Default,
    /// This stream.
    Stream(Stream),
    /// That device's default stream.
    Device(Device),
}

impl StreamOrDevice {
    /// The stream this resolves to, after checking that its device exists.
    pub(crate) fn resolve(self, op: &'static str) -> Result<Stream> {
        let s = match self {
            StreamOrDevice::Default => current_default_stream(),
            StreamOrDevice::Stream(s) => s,
            StreamOrDevice::Device(d) => default_stream(d),
        };
        s.device.validate(op)?;
        Ok(s)
    }
}

impl From<Option<Stream>> for StreamOrDevice {
    fn from(s: Option<Stream>) -> Self {
        s.map_or(StreamOrDevice::Default, StreamOrDevice::Stream)
    }
}
impl From<Stream> for StreamOrDevice {
    fn from(s: Stream) -> Self {
        StreamOrDevice::Stream(s)
    }
}
impl From<&Stream> for StreamOrDevice {
    fn from(s: &Stream) -> Self {
        StreamOrDevice::Stream(*s)
    }
}
impl From<Device> for StreamOrDevice {
    fn from(d: Device) -> Self {
        StreamOrDevice::Device(d)
    }
}
impl From<&Device> for StreamOrDevice {
    fn from(d: &Device) -> Self {
        StreamOrDevice::Device(*d)
    }
}

/// Restores the previous default stream of its thread when dropped. Made by [`stream`].
#[must_use = "the default is restored when the guard is dropped"]
pub struct StreamGuard {
    previous: Option<Stream>,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let prev = self.previous;
        THREAD_DEFAULT.with(|c| c.set(prev));
    }
}

/// Makes `s` (a stream or a device) this thread's default until the guard drops, like Python's
/// `with mx.stream(s):`.
///
/// ```
/// let before = wmx::default_device();
/// {
///     let _g = wmx::stream(wmx::Device::cpu());
///     assert_eq!(wmx::default_device(), wmx::Device::cpu());
/// }
/// assert_eq!(wmx::default_device(), before);
/// ```
pub fn stream(s: impl Into<StreamOrDevice>) -> StreamGuard {
    let target = match s.into() {
        StreamOrDevice::Default => current_default_stream(),
        StreamOrDevice::Stream(s) => s,
        StreamOrDevice::Device(d) => default_stream(d),
    };
    let previous = THREAD_DEFAULT.with(|c| c.replace(Some(target)));
    StreamGuard { previous }
}
