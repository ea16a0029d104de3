//! MLX's layers: linear and embedding, normalisation, dropout, pooling, attention, and the
//! containers (`Sequential`, `Identity`). Each is a plain struct with public parameter fields,
//! made a module by [`module!`](crate::module) (or a hand-written `Visit` where it keeps state).

mod attention;
mod conv;
mod dropout;
mod linear;
mod norm;
mod pool;

pub use attention::MultiHeadAttention;
pub use conv::{Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d};
pub use dropout::{Dropout, Dropout2d, Dropout3d};
pub use linear::{Bilinear, Embedding, Identity, Linear, Sequential};
pub use norm::{BatchNorm, GroupNorm, InstanceNorm, LayerNorm, RmsNorm};
pub use pool::{AvgPool1d, AvgPool2d, AvgPool3d, MaxPool1d, MaxPool2d, MaxPool3d};
