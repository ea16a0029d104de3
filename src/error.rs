//! The crate's error type. Owns every message text (`[op] what is wrong, with the values`); computes nothing.

use std::fmt;

/// Every failure wmx reports. Messages read `[op] what is wrong, with the values`. In every
/// variant `op` is the reporting op's MLX name and `msg` the text after `[op] `.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// Shapes that cannot be combined (broadcasting, matmul, concatenate...).
    Shape { op: &'static str, msg: String },
    /// An axis outside `[-ndim, ndim)` or repeated.
    Axis { op: &'static str, msg: String },
    /// A dtype the op does not accept.
    Dtype { op: &'static str, msg: String },
    /// A value out of the accepted range (slice bounds, split count, item index...).
    Value { op: &'static str, msg: String },
    /// A device or stream that does not exist or cannot be used.
    Device { op: &'static str, msg: String },
    /// An array too large for the device (buffer binding size, workgroup count).
    TooLarge { op: &'static str, msg: String },
    /// A primitive a backend does not implement yet.
    Unimplemented { op: &'static str, device: String },
    /// An error reported by the GPU driver or wgpu at run time.
    Backend { op: &'static str, msg: String },
    /// A file that cannot be read or written, or whose contents are not a valid file of its
    /// format (truncated, corrupt or hostile `.npy`, `.npz`, `.safetensors`); `msg` names the path.
    Io { op: &'static str, msg: String },
}

impl Error {
    /// The op that reported the error.
    pub fn op(&self) -> &'static str {
        match self {
            Error::Shape { op, .. }
            | Error::Axis { op, .. }
            | Error::Dtype { op, .. }
            | Error::Value { op, .. }
            | Error::Device { op, .. }
            | Error::TooLarge { op, .. }
            | Error::Unimplemented { op, .. }
            | Error::Backend { op, .. }
            | Error::Io { op, .. } => op,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Shape { op, msg }
            | Error::Axis { op, msg }
            | Error::Dtype { op, msg }
            | Error::Value { op, msg }
            | Error::Device { op, msg }
            | Error::TooLarge { op, msg }
            | Error::Backend { op, msg }
            | Error::Io { op, msg } => write!(f, "[{op}] {msg}"),
            Error::Unimplemented { op, device } => {
                write!(f, "[{op}] not implemented on {device} yet")
            }
        }
    }
}

impl std::error::Error for Error {}

/// `Result` with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Shorthand constructors used by the ops layer.
pub(crate) fn shape_err(op: &'static str, msg: impl Into<String>) -> Error {
    Error::Shape {
        op,
        msg: msg.into(),
    }
}
pub(crate) fn axis_err(op: &'static str, msg: impl Into<String>) -> Error {
    Error::Axis {
        op,
        msg: msg.into(),
    }
}
pub(crate) fn dtype_err(op: &'static str, msg: impl Into<String>) -> Error {
    Error::Dtype {
        op,
        msg: msg.into(),
    }
}
pub(crate) fn value_err(op: &'static str, msg: impl Into<String>) -> Error {
    Error::Value {
        op,
        msg: msg.into(),
    }
}
