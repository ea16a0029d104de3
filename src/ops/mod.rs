//! The ops layer: validation, type promotion, broadcasting and axis normalisation, then node
//! building. Never computes. One file per family; every op takes its stream-or-device last.

pub mod binary;
pub mod composite;
pub mod conv;
pub mod creation;
pub mod diagonal;
pub mod einsum;
pub mod gather_scatter;
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
use crate::shape::check_size;
use crate::stream::Stream;

/// A node on stream `s` (the one builder every op goes through). A shape with more elements than
/// an array can hold ([`crate::shape::MAX_SIZE`], overflow included) is an `Err` naming the
/// primitive, so no backend and no size computation ever sees one.
pub(crate) fn node(
    shape: Vec<i32>,
    dtype: Dtype,
    s: Stream,
    prim: Primitive,
    inputs: Vec<Array>,
) -> Result<Array> {
    check_size(prim.name(), &shape)?;
    Ok(Array::from_node(shape, dtype, s, prim, inputs))
}

/// `a` converted to `dtype` on stream `s` (itself when already of that dtype). Infallible: the
/// shape is `a`'s, checked when `a` was built, and [`crate::shape::MAX_SIZE`] leaves room for
/// any dtype's bytes.
pub(crate) fn cast_to(a: &Array, dtype: Dtype, s: Stream) -> Array {
    if a.dtype() == dtype {
        return a.clone();
    }
    Array::from_node(
        a.shape().to_vec(),
        dtype,
        s,
        Primitive::AsType,
        vec![a.clone()],
    )
}

/// `a` broadcast to `shape` on stream `s` (itself when it already has that shape); an `Err`
/// when `shape` is too large (see [`node`]).
pub(crate) fn broadcast_view(a: &Array, shape: &[i32], s: Stream) -> Result<Array> {
    if a.shape() == shape {
        return Ok(a.clone());
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
