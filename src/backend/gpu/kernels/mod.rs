//! GPU kernel families: a `KernelKey` names one specialised kernel of one family; `render` builds
//! its source as a generated prelude (type aliases, load/store helpers, the op, the `INFO_*` word
//! offsets) followed by the family file from `shaders/`, unchanged. Each family lives in one file
//! here, beside its shader: its key type, its prelude, the layout of its `info` table and the host
//! code that writes that table and dispatches (the `impl Gpu` blocks). This file only holds the
//! enum of family keys, the [`Family`] trait each key implements, and the parts every kernel
//! shares. `all_keys` lists every key the GPU backend can request, so the shader tests validate
//! and translate each one.

#![allow(missing_docs)]

use crate::dtype::Dtype;
use std::fmt::{self, Write};

mod attention;
mod conv;
mod copy;
mod creation;
mod custom;
mod elementwise;
mod fused;
mod fused_reduce;
mod gather;
mod matmul;
mod matmul_coop;
mod norm;
mod random;
mod reduce;
mod rope;
mod scan;
mod slots;
mod softmax;
mod sort;

pub use attention::{
    AttentionKey, attention_chunk, attention_coop_buffers, attention_coop_fits, attention_fits,
};
pub use conv::ConvKey;
pub use copy::CopyKey;
pub use creation::CreationKey;
pub use elementwise::{ElementwiseKey, Layout};
pub use fused::{fused_entry, fused_samples};
pub use fused_reduce::fused_reduce_samples;
pub use gather::{GatherKey, SCATTER_OPS};
pub use matmul::{
    MatmulKey, ROWS_MAX, k_splits, matmul_coop_key, matmul_key, matmul_vec4_dtype, rows_columns,
};
pub use matmul_coop::{CoopTiling, CoopVariant};
pub use norm::NormKey;
pub use random::RandomKey;
pub use reduce::{ReduceKey, ReduceShape, reduce_key};
pub use rope::RopeKey;
pub use scan::{ScanKey, scan_key, scan_supports};
pub use slots::{per_word, unpacked, widen};
pub use softmax::{SoftmaxKey, softmax_key, softmax_workgroup};
pub use sort::{SortKey, SortPass};

/// Workgroup size of the 1-D kernels.
pub const WG: u32 = 256;

/// What a family's key tells the renderer and the pipeline cache. Its `Display` is the kernel's
/// name (wgpu label, cache key text, snapshot name): `<entry point>.<specialisation>`.
pub trait Family: Copy + fmt::Display + Into<KernelKey> {
    /// The entry point inside the family file (the name up to its first dot).
    fn entry(&self) -> &'static str;
    /// The output's storage dtype.
    fn out_dtype(&self) -> Dtype;
    /// True when the family checks every index itself (see [`KernelKey::trusted`]).
    fn trusted(&self) -> bool;
    /// True when the kernel touches f16 data (native f16 then needs `enable f16;`).
    fn uses_f16(&self) -> bool;
    /// `enable` directives beyond f16.
    fn extensions(&self) -> &'static str {
        ""
    }
    /// Invocations per workgroup of the 1-D kernels (`WG` in WGSL).
    fn workgroup(&self) -> u32 {
        WG
    }
    /// Writes the family's prelude and returns the family file it precedes.
    fn prelude(&self, p: &mut String, native_f16: bool) -> &'static str;
    /// Every key of the family the GPU backend can request.
    fn all(native_f16: bool) -> Vec<Self>;
}

/// One specialised kernel: a key of one family. Dtypes are storage dtypes; whether f16 is native
/// or packed is a property of the device and is passed to [`render`] separately.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum KernelKey {
    /// unary, astype, binary and where (`shaders/{unary,binary,ternary}.wgsl`).
    Elementwise(ElementwiseKey),
    /// Strided copies into windows of an output (`shaders/copy.wgsl`).
    Copy(CopyKey),
    /// full and arange (`shaders/creation.wgsl`).
    Creation(CreationKey),
    /// Reductions and arg-reductions (`shaders/{reduce,arg_reduce}.wgsl`).
    Reduce(ReduceKey),
    /// Tiled and cooperative-matrix matmuls (`shaders/{matmul,matmul_coop}.wgsl`).
    Matmul(MatmulKey),
    /// Convolutions as implicit GEMMs (`shaders/conv.wgsl`).
    Conv(ConvKey),
    /// Threefry bits and uniform floats (`shaders/{random,random_pairs}.wgsl`).
    Random(RandomKey),
    /// take, gather and scatter (`shaders/{gather,scatter}.wgsl`).
    Gather(GatherKey),
    /// Softmax over the last axis (`shaders/softmax.wgsl`).
    Softmax(SoftmaxKey),
    /// Scans along the last axis (`shaders/scan.wgsl`).
    Scan(ScanKey),
    /// Sort passes and searchsorted (`shaders/sort.wgsl`).
    Sort(SortKey),
    /// RMS and layer norm (`shaders/norm.wgsl`).
    Norm(NormKey),
    /// Rotary position embeddings (`shaders/rope.wgsl`).
    Rope(RopeKey),
    /// Flash-style scaled dot-product attention (`shaders/attention.wgsl`).
    Attention(AttentionKey),
}

/// `$body` with `$k` bound to the family key inside `$key`: the one place that lists every family.
macro_rules! with_family {
    ($key:expr, $k:ident => $body:expr) => {
        match $key {
            KernelKey::Elementwise($k) => $body,
            KernelKey::Copy($k) => $body,
            KernelKey::Creation($k) => $body,
            KernelKey::Reduce($k) => $body,
            KernelKey::Matmul($k) => $body,
            KernelKey::Conv($k) => $body,
            KernelKey::Random($k) => $body,
            KernelKey::Gather($k) => $body,
            KernelKey::Softmax($k) => $body,
            KernelKey::Scan($k) => $body,
            KernelKey::Sort($k) => $body,
            KernelKey::Norm($k) => $body,
            KernelKey::Rope($k) => $body,
            KernelKey::Attention($k) => $body,
        }
    };
}

/// `From<FamilyKey> for KernelKey` for each family.
macro_rules! family_into_key {
    ($($variant:ident($ty:ty)),* $(,)?) => {
        $(impl From<$ty> for KernelKey {
            fn from(k: $ty) -> KernelKey {
                KernelKey::$variant(k)
            }
        })*
    };
}

family_into_key!(
    Elementwise(ElementwiseKey),
    Copy(CopyKey),
    Creation(CreationKey),
    Reduce(ReduceKey),
    Matmul(MatmulKey),
    Conv(ConvKey),
    Random(RandomKey),
    Gather(GatherKey),
    Softmax(SoftmaxKey),
    Scan(ScanKey),
    Sort(SortKey),
    Norm(NormKey),
    Rope(RopeKey),
    Attention(AttentionKey),
);

/// Names the fixed words of a family's `info` table once: `pub const NAME: usize` for the host
/// code that writes the table, and `NAMED` for [`write_info`], which gives the family's prelude
/// `const INFO_NAME: u32` for the shader that reads it.
macro_rules! info_words {
    ($(#[$m:meta])* mod $name:ident { $($(#[$wm:meta])* $word:ident = $at:expr),* $(,)? }) => {
        $(#[$m])*
        #[allow(dead_code)]
        mod $name {
            $($(#[$wm])* pub const $word: usize = $at;)*
            /// Every named word, for the prelude's `INFO_*` constants.
            pub const NAMED: &[(&str, usize)] = &[$((stringify!($word), $at)),*];
        }
    };
}
pub(crate) use info_words;

/// `const INFO_<NAME>: u32 = <word>u;` for each named word of an `info` table.
fn write_info(p: &mut String, named: &[(&str, usize)]) {
    for (name, at) in named {
        let _ = writeln!(p, "const INFO_{name}: u32 = {at}u;");
    }
}

/// Helpers every kernel's prelude starts with (NaN tests, exact integer to f32).
pub(super) const PRELUDE: &str = include_str!("../../../../shaders/prelude.wgsl");
/// Integer-op f16 conversions for packed halves.
pub(super) const F16_BITS: &str = include_str!("../../../../shaders/f16_bits.wgsl");
/// The elementwise families' index maps and word loop.
const INDEX: &str = include_str!("../../../../shaders/index.wgsl");

impl fmt::Display for KernelKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        with_family!(self, k => fmt::Display::fmt(k, f))
    }
}

impl KernelKey {
    /// The entry point inside the family file.
    pub fn entry_point(&self) -> &'static str {
        with_family!(self, k => k.entry())
    }

    /// The output's storage dtype.
    pub fn out_dtype(&self) -> Dtype {
        with_family!(self, k => k.out_dtype())
    }

    /// True for kernels that check every index they use themselves (elementwise families stop
    /// at `n` and read inputs through host-validated views; matmul guards every load and store;
    /// reductions and softmax stay inside their rows), and that write their workgroup memory
    /// before reading it, whose modules are created without wgpu's injected bounds and loop
    /// checks and whose pipelines skip wgpu's workgroup-memory zeroing. Setting
    /// `WMX_CHECKED_SHADERS=1` keeps the checks everywhere (for debugging and A/B timing).
    pub fn trusted(&self) -> bool {
        with_family!(self, k => k.trusted())
            && std::env::var("WMX_CHECKED_SHADERS").as_deref() != Ok("1")
    }
}

/// Every key the GPU backend can request on a device with or without native f16.
pub fn all_keys(native_f16: bool) -> Vec<KernelKey> {
    fn add<F: Family>(keys: &mut Vec<KernelKey>, native_f16: bool) {
        keys.extend(F::all(native_f16).into_iter().map(Into::into));
    }
    let mut keys = Vec::new();
    add::<ElementwiseKey>(&mut keys, native_f16);
    add::<CopyKey>(&mut keys, native_f16);
    add::<CreationKey>(&mut keys, native_f16);
    add::<ReduceKey>(&mut keys, native_f16);
    add::<MatmulKey>(&mut keys, native_f16);
    add::<ConvKey>(&mut keys, native_f16);
    add::<RandomKey>(&mut keys, native_f16);
    add::<GatherKey>(&mut keys, native_f16);
    add::<SoftmaxKey>(&mut keys, native_f16);
    add::<ScanKey>(&mut keys, native_f16);
    add::<SortKey>(&mut keys, native_f16);
    add::<NormKey>(&mut keys, native_f16);
    add::<RopeKey>(&mut keys, native_f16);
    add::<AttentionKey>(&mut keys, native_f16);
    keys
}

/// The complete WGSL source of a kernel: generated prelude, then the family file.
pub fn render(key: &KernelKey, native_f16: bool) -> String {
    with_family!(key, k => render_family(k, native_f16))
}

fn render_family<F: Family>(key: &F, native_f16: bool) -> String {
    let mut p = String::new();
    if native_f16 && key.uses_f16() {
        p.push_str("enable f16;\n");
    }
    p.push_str(key.extensions());
    let _ = writeln!(
        p,
        "// ---- generated prelude for {key} (f16 {}) ----",
        if native_f16 { "native" } else { "packed" }
    );
    let _ = writeln!(p, "const WG: u32 = {}u;", key.workgroup());
    p.push_str(PRELUDE);
    if !native_f16 {
        p.push_str(F16_BITS);
    }
    let family = key.prelude(&mut p, native_f16);
    let _ = writeln!(p, "// ---- family ----");
    p.push_str(family);
    p
}
