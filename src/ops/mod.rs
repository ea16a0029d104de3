//! The ops layer: validation, type promotion, broadcasting and axis normalisation, then node
//! building. Never computes. One file per family; every op takes its stream-or-device last.

pub mod binary;
pub mod composite;
pub mod creation;
pub mod diagonal;
pub mod einsum;
pub mod index;
pub mod indexing;
pub mod linalg;
pub mod norm;
pub(crate) mod operators;
pub mod reduce;
pub mod scan;
pub mod shape;
pub mod sort;
pub mod structure;
pub mod unary;

use crate::array::Array;
use crate::dtype::Dtype;
use crate::error::Result;
use crate::primitive::Primitive;
use crate::stream::Stream;

/// A node on stream `s` (the one builder every op goes through).
pub(crate) fn node(
    shape: Vec<i32>,
    dtype: Dtype,
    s: Stream,
    prim: Primitive,
    inputs: Vec<Array>,
) -> Array {
    Array::from_node(shape, dtype, s, prim, inputs)
}

/// `a` converted to `dtype` on stream `s` (itself when already of that dtype).
pub(crate) fn cast_to(a: &Array, dtype: Dtype, s: Stream) -> Array {
    if a.dtype() == dtype {
        return a.clone();
    }
    node(
        a.shape().to_vec(),
        dtype,
        s,
        Primitive::AsType,
        vec![a.clone()],
    )
}

/// `a` broadcast to `shape` on stream `s` (itself when it already has that shape).
pub(crate) fn broadcast_view(a: &Array, shape: &[i32], s: Stream) -> Array {
    if a.shape() == shape {
        return a.clone();
    }
    node(
        shape.to_vec(),
        a.dtype(),
        s,
        Primitive::Broadcast,
        vec![a.clone()],
    )
}

/// Result alias re-exported for op signatures.
pub(crate) type OpResult = Result<Array>;
