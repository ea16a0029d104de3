//! Kernel keys and WGSL generation: a `KernelKey` names one specialised kernel; `render` builds its
//! source as a generated prelude (type aliases, load/store helpers, the op) followed by the family
//! file from `shaders/`, unchanged. `all_keys` lists every key the GPU backend can request, so the
//! shader tests validate and translate each one. No wgpu here: this file is pure text.

#![allow(missing_docs)]

use crate::dtype::{Domain, Dtype};
use crate::primitive::{ArgReduceOp, BinaryOp, ReduceOp, ScanOp, UnaryOp};
use std::fmt::{self, Write};

/// One specialised kernel. Dtypes are storage dtypes; whether f16 is native or packed is a
/// property of the device and is passed to [`render`] separately.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum KernelKey {
    /// `op` elementwise; output dtype = input dtype.
    Unary {
        op: UnaryOp,
        dtype: Dtype,
        layout: Layout,
    },
    /// astype (`from == to` is a plain copy).
    Cast {
        from: Dtype,
        to: Dtype,
        layout: Layout,
    },
    /// `op(a, b)`; output bool for comparisons.
    Binary {
        op: BinaryOp,
        dtype: Dtype,
        layout: Layout,
    },
    /// where(cond, x, y) with x, y, out of `dtype`.
    Where { dtype: Dtype, layout: Layout },
    /// Copy of a strided view into a strided window of the output (unpacked `dtype` only).
    Window { dtype: Dtype },
    /// Fill with one value.
    Full { dtype: Dtype },
    /// start + i * step.
    Arange { dtype: Dtype },
    /// Reduction of `input` into an unpacked accumulator dtype `acc`.
    Reduce {
        op: ReduceOp,
        input: Dtype,
        acc: Dtype,
        shape: ReduceShape,
    },
    /// argmax/argmin of `dtype` along one axis.
    ArgReduce { op: ArgReduceOp, dtype: Dtype },
    /// Tiled matmul of `dtype` inputs into `out` (f32, or f16 when native); `vec4`: the
    /// 128x128 kernel over vec4 storage (row-major operands with dims and offsets aligned to 4).
    Matmul {
        dtype: Dtype,
        out: Dtype,
        vec4: bool,
    },
    /// Matmul of row-major f16 `dtype` inputs on cooperative matrices (16x16x16 fragments,
    /// f32 accumulators) into `out`: `shaders/matmul_coop.wgsl`, on devices with wgpu's
    /// experimental cooperative-matrix feature (see [`matmul_coop_key`]).
    MatmulCoop {
        dtype: Dtype,
        out: Dtype,
        variant: CoopVariant,
    },
    /// MLX's Threefry bits of `width` bytes: uint8 output for width 1, uint32 for 2 and 4, or
    /// (width 4) MLX's uniform [0, 1) sample in a float `out` dtype, in one pass.
    RandomBits { width: u8, out: Dtype },
    /// Width-4 bits (or uniform floats) into an unpacked `out`, one hash per invocation.
    RandomPairs { out: Dtype },
    /// Take along an axis (gather) of `dtype`.
    Take { dtype: Dtype },
    /// Softmax over the last axis of dense rows of `dtype` into an unpacked `out`; `vec4`: rows
    /// of a multiple of 4 elements, read and written as quads; one workgroup of `wg` invocations
    /// per row (see [`softmax_workgroup`]).
    Softmax {
        dtype: Dtype,
        out: Dtype,
        vec4: bool,
        wg: u32,
    },
    /// MLX's gather of `dtype`: slices at stacked int32 indices.
    Gather { dtype: Dtype },
    /// MLX's scatter of `dtype` into a copy of the input: `op` combines (None: replaces).
    Scatter { op: Option<BinaryOp>, dtype: Dtype },
    /// Scan along the last axis of `input` into an unpacked accumulator `acc`: a workgroup per
    /// row (chunked, with a carry), or an invocation per row (`per_thread`).
    Scan {
        op: ScanOp,
        input: Dtype,
        acc: Dtype,
        per_thread: bool,
    },
    /// One pass of the sort family over `dtype` (the merge pass moves u32 pairs only and is
    /// listed with `dtype` uint32).
    Sort { pass: SortPass, dtype: Dtype },
}

/// The passes of the sort family (entry points of `shaders/sort.wgsl`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum SortPass {
    /// Sorts tiles of (key, position) pairs in workgroup memory.
    Block,
    /// Merges sorted runs pairwise.
    Merge,
    /// Writes sorted values from sorted positions.
    Gather,
    /// searchsorted.
    Search,
}

impl SortPass {
    fn name(self) -> &'static str {
        match self {
            SortPass::Block => "block",
            SortPass::Merge => "merge",
            SortPass::Gather => "gather",
            SortPass::Search => "search",
        }
    }
}

fn short(d: Dtype) -> &'static str {
    match d {
        Dtype::Bool => "bool",
        Dtype::Uint8 => "u8",
        Dtype::Uint32 => "u32",
        Dtype::Int32 => "i32",
        Dtype::Float16 => "f16",
        Dtype::Bfloat16 => "bf16",
        Dtype::Float32 => "f32",
    }
}

/// How an elementwise kernel reaches its elements.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Layout {
    /// Dense inputs, one output word per invocation.
    Contig,
    /// Inputs through shape/stride tables, one output word per invocation.
    Strided,
    /// Length a multiple of 4, inputs dense or simple broadcasts (see `quad_broadcast_loader`),
    /// bound as quads (vec4 of 32-bit or native f16 elements, vec2<u32> of packed halves, one
    /// u32 of bools/uint8s): one quad of four elements per invocation, loaded and stored in one
    /// access each.
    Vec4,
}

impl Layout {
    /// Every layout.
    pub const ALL: [Layout; 3] = [Layout::Contig, Layout::Strided, Layout::Vec4];
    fn name(self) -> &'static str {
        match self {
            Layout::Contig => "contig",
            Layout::Strided => "strided",
            Layout::Vec4 => "vec4",
        }
    }
}

impl fmt::Display for KernelKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            KernelKey::Unary { op, dtype, layout } => {
                write!(f, "unary_{}.{}.{}", layout.name(), op.name(), short(dtype))
            }
            KernelKey::Cast { from, to, layout } => {
                write!(
                    f,
                    "unary_{}.astype.{}.{}",
                    layout.name(),
                    short(from),
                    short(to)
                )
            }
            KernelKey::Binary { op, dtype, layout } => {
                write!(f, "binary_{}.{}.{}", layout.name(), op.name(), short(dtype))
            }
            KernelKey::Where { dtype, layout } => {
                write!(f, "ternary_{}.where.{}", layout.name(), short(dtype))
            }
            KernelKey::Window { dtype } => write!(f, "copy_window.{}", short(dtype)),
            KernelKey::Full { dtype } => write!(f, "creation_fill.full.{}", short(dtype)),
            KernelKey::Arange { dtype } => write!(f, "creation_fill.arange.{}", short(dtype)),
            KernelKey::Reduce {
                op,
                input,
                acc,
                shape,
            } => {
                write!(
                    f,
                    "{}.{}.{}.{}",
                    shape.entry_point(),
                    op.name(),
                    short(input),
                    short(acc)
                )
            }
            KernelKey::ArgReduce { op, dtype } => {
                write!(f, "arg_reduce.{}.{}", op.name(), short(dtype))
            }
            KernelKey::Matmul { dtype, out, vec4 } => {
                let entry = if vec4 { "matmul_vec4" } else { "matmul_tiled" };
                write!(f, "{entry}.{}.{}", short(dtype), short(out))
            }
            KernelKey::MatmulCoop {
                dtype,
                out,
                variant,
            } => {
                write!(
                    f,
                    "matmul_coop.{}.{}.{}",
                    variant.name(),
                    short(dtype),
                    short(out)
                )
            }
            KernelKey::RandomBits { width, out } => {
                write!(f, "random_bits.w{width}.{}", short(out))
            }
            KernelKey::RandomPairs { out } => write!(f, "random_pairs.{}", short(out)),
            KernelKey::Take { dtype } => write!(f, "gather_take.{}", short(dtype)),
            KernelKey::Softmax { dtype, out, wg, .. } => {
                write!(f, "{}.{}.{}", self.entry_point(), short(dtype), short(out))?;
                if wg != WG {
                    write!(f, ".wg{wg}")?;
                }
                Ok(())
            }
            KernelKey::Gather { dtype } => write!(f, "gather_slices.{}", short(dtype)),
            KernelKey::Scatter { op, dtype } => write!(
                f,
                "scatter_apply.{}.{}",
                op.map_or("set", |o| o.name()),
                short(dtype)
            ),
            KernelKey::Scan {
                op,
                input,
                acc,
                per_thread,
            } => {
                let v = if per_thread { "thread" } else { "wg" };
                write!(f, "scan_{v}.{}.{}.{}", op.name(), short(input), short(acc))
            }
            KernelKey::Sort { pass, dtype } => {
                write!(f, "sort_{}.{}", pass.name(), short(dtype))
            }
        }
    }
}

const INDEX: &str = include_str!("../../../shaders/index.wgsl");
const UNARY: &str = include_str!("../../../shaders/unary.wgsl");
const BINARY: &str = include_str!("../../../shaders/binary.wgsl");
const TERNARY: &str = include_str!("../../../shaders/ternary.wgsl");
const COPY: &str = include_str!("../../../shaders/copy.wgsl");
const CREATION: &str = include_str!("../../../shaders/creation.wgsl");
const REDUCE: &str = include_str!("../../../shaders/reduce.wgsl");
const ARG_REDUCE: &str = include_str!("../../../shaders/arg_reduce.wgsl");
const MATMUL: &str = include_str!("../../../shaders/matmul.wgsl");
/// Batch entry `z`'s element offsets into A and B, shared by both matmul families (their info
/// tables agree: `[.., bn at 7, batch shape, A's and B's batch strides, A's and B's offsets]`).
const MATMUL_BATCH: &str = "\
fn matmul_batch_offsets(z: u32) -> vec2<i32> {
    let bn = info[7];
    var off = vec2<i32>(bitcast<i32>(info[8u + 3u * bn]), bitcast<i32>(info[9u + 3u * bn]));
    var rem = z;
    for (var d = bn; d > 0u; d = d - 1u) {
        let dim = info[7u + d];
        let c = i32(rem % dim);
        rem = rem / dim;
        off = off + c * bitcast<vec2<i32>>(vec2<u32>(info[7u + bn + d], info[7u + 2u * bn + d]));
    }
    return off;
}
";
const MATMUL_COOP: &str = include_str!("../../../shaders/matmul_coop.wgsl");
const RANDOM: &str = include_str!("../../../shaders/random.wgsl");
const THREEFRY: &str = include_str!("../../../shaders/threefry.wgsl");
const RANDOM_PAIRS: &str = include_str!("../../../shaders/random_pairs.wgsl");
const SORT: &str = include_str!("../../../shaders/sort.wgsl");
const SOFTMAX: &str = include_str!("../../../shaders/softmax.wgsl");
const GATHER: &str = include_str!("../../../shaders/gather.wgsl");
const SCATTER: &str = include_str!("../../../shaders/scatter.wgsl");
const SCAN: &str = include_str!("../../../shaders/scan.wgsl");

/// Order-preserving u32 key of f32 bits: NaN last, -0.0 as 0.0, negatives reversed.
const FLOAT_KEY: &str = "fn wmx_float_key(b0: u32) -> u32 {
    let mag = b0 & 0x7fffffffu;
    if (mag > 0x7f800000u) { return 0xffffffffu; }
    if (mag == 0u) { return 0x80000000u; }
    return select(b0 | 0x80000000u, ~b0, (b0 & 0x80000000u) != 0u);
}
";

/// Packed f16 without `pack2x16float`: that builtin needs a downlevel capability (f16 in f32)
/// that GL ES adapters and llvmpipe lack, so half floats are converted with integer ops
/// (round to nearest even, subnormals, inf and NaN kept), like the bf16 helper.
const F16_BITS: &str = "fn wmx_f16_to_f32(h: u32) -> f32 {
    let s = (h & 0x8000u) << 16u;
    let e = (h >> 10u) & 0x1fu;
    let m = h & 0x3ffu;
    if (e == 0u) {
        let v = f32(m) * 5.9604645e-8;
        return select(v, -v, s != 0u);
    }
    if (e == 31u) { return bitcast<f32>(s | 0x7f800000u | (m << 13u)); }
    return bitcast<f32>(s | ((e + 112u) << 23u) | (m << 13u));
}
fn wmx_f32_to_f16(x: f32) -> u32 {
    let b = bitcast<u32>(x);
    let s = (b >> 16u) & 0x8000u;
    let a = b & 0x7fffffffu;
    if (a > 0x7f800000u) { return s | 0x7e00u; }
    if (a >= 0x477ff000u) { return s | 0x7c00u; }
    if (a < 0x38800000u) {
        let v = bitcast<f32>(a) * 16777216.0;
        let r = u32(v);
        let frac = v - f32(r);
        var q = r;
        if (frac > 0.5 || (frac == 0.5 && (r & 1u) == 1u)) { q = r + 1u; }
        return s | q;
    }
    var h = (((a >> 23u) - 112u) << 10u) | ((a >> 13u) & 0x3ffu);
    let rem = a & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u) == 1u)) { h = h + 1u; }
    return s | h;
}
";

/// Exact (round-to-nearest-even) integer to f32 conversion with integer ops, so `astype` and the
/// random distributions built on it give the same bits on every GPU.
const INT_TO_FLOAT: &str = "fn wmx_u32_to_f32(x: u32) -> f32 {
    if (x == 0u) { return 0.0; }
    var e = 31u - countLeadingZeros(x);
    var m = 0u;
    if (e <= 23u) {
        m = x << (23u - e);
    } else {
        let sh = e - 23u;
        m = x >> sh;
        let rem = x & ((1u << sh) - 1u);
        let halfway = 1u << (sh - 1u);
        if (rem > halfway || (rem == halfway && (m & 1u) == 1u)) { m = m + 1u; }
        if (m == 0x1000000u) { m = m >> 1u; e = e + 1u; }
    }
    return bitcast<f32>(((e + 127u) << 23u) | (m & 0x7fffffu));
}
fn wmx_i32_to_f32(x: i32) -> f32 {
    let a = wmx_u32_to_f32(u32(abs(x)));
    return select(a, -a, x < 0);
}
";

/// Workgroup size of the 1-D kernels.
pub const WG: u32 = 256;

impl KernelKey {
    /// The entry point inside the family file.
    pub fn entry_point(&self) -> &'static str {
        match *self {
            KernelKey::Unary { layout, .. } | KernelKey::Cast { layout, .. } => {
                if layout == Layout::Vec4 {
                    "unary_vec4"
                } else {
                    "unary"
                }
            }
            KernelKey::Binary { layout, .. } => {
                if layout == Layout::Vec4 {
                    "binary_vec4"
                } else {
                    "binary"
                }
            }
            KernelKey::Where { layout, .. } => {
                if layout == Layout::Vec4 {
                    "ternary_vec4"
                } else {
                    "ternary"
                }
            }
            KernelKey::Window { .. } => "copy_window",
            KernelKey::Full { .. } | KernelKey::Arange { .. } => "creation_fill",
            KernelKey::Reduce { shape, .. } => shape.entry_point(),
            KernelKey::ArgReduce { .. } => "arg_reduce",
            KernelKey::Matmul { vec4: false, .. } => "matmul_tiled",
            KernelKey::Matmul { vec4: true, .. } => "matmul_vec4",
            KernelKey::MatmulCoop { .. } => "matmul_coop",
            KernelKey::RandomBits { .. } => "random_bits",
            KernelKey::RandomPairs { .. } => "random_pairs",
            KernelKey::Take { .. } => "gather_take",
            KernelKey::Softmax { vec4: false, .. } => "softmax_rows",
            KernelKey::Softmax { vec4: true, .. } => "softmax_vec4",
            KernelKey::Gather { .. } => "gather_slices",
            KernelKey::Scatter { .. } => "scatter_apply",
            KernelKey::Scan { per_thread, .. } => {
                if per_thread {
                    "scan_thread"
                } else {
                    "scan_wg"
                }
            }
            KernelKey::Sort { pass, .. } => match pass {
                SortPass::Block => "sort_block",
                SortPass::Merge => "sort_merge",
                SortPass::Gather => "sort_gather",
                SortPass::Search => "sort_search",
            },
        }
    }

    /// The output's storage dtype.
    pub fn out_dtype(&self) -> Dtype {
        match *self {
            KernelKey::Unary { dtype, .. } | KernelKey::Where { dtype, .. } => dtype,
            KernelKey::Cast { to, .. } => to,
            KernelKey::Binary { op, dtype, .. } => {
                if op.outputs_bool() {
                    Dtype::Bool
                } else {
                    dtype
                }
            }
            KernelKey::Window { dtype }
            | KernelKey::Full { dtype }
            | KernelKey::Arange { dtype } => dtype,
            KernelKey::Reduce { acc, .. } => acc,
            KernelKey::ArgReduce { .. } => Dtype::Uint32,
            KernelKey::Matmul { out, .. } | KernelKey::MatmulCoop { out, .. } => out,
            KernelKey::RandomBits { out, .. } => out,
            KernelKey::RandomPairs { out } => out,
            KernelKey::Take { dtype } => dtype,
            KernelKey::Softmax { out, .. } => out,
            KernelKey::Gather { dtype } | KernelKey::Scatter { dtype, .. } => dtype,
            KernelKey::Scan { acc, .. } => acc,
            KernelKey::Sort { pass, dtype } => match pass {
                SortPass::Gather => dtype,
                SortPass::Block | SortPass::Merge | SortPass::Search => Dtype::Uint32,
            },
        }
    }
}

/// True when kernels may write single elements of `d` (no packing): 32-bit dtypes, and f16 when
/// the device has native f16.
pub fn unpacked(d: Dtype, native_f16: bool) -> bool {
    d.size() == 4 || (d == Dtype::Float16 && native_f16)
}

/// The dtype a packed dtype is widened to for kernels that write single elements.
pub fn widen(d: Dtype, native_f16: bool) -> Dtype {
    if unpacked(d, native_f16) {
        return d;
    }
    match d.domain() {
        Domain::Float => Dtype::Float32,
        Domain::Bool | Domain::Uint => Dtype::Uint32,
        Domain::Int => Dtype::Int32,
    }
}

/// The reduce key for `op` over `input` (MLX output dtype = input dtype after the ops layer's casts).
pub fn reduce_key(op: ReduceOp, input: Dtype, shape: ReduceShape, native_f16: bool) -> KernelKey {
    KernelKey::Reduce {
        op,
        input,
        acc: widen(input, native_f16),
        shape,
    }
}

/// How a reduction is spread over invocations (one entry point of reduce.wgsl each).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReduceShape {
    /// One invocation per output (short reductions).
    Thread,
    /// One workgroup per (output, chunk), any strides.
    Workgroup,
    /// One workgroup per (output, chunk) over a dense run read four elements at a time (the
    /// run's length, its chunks and every output's start are multiples of 4).
    Quads,
}

impl ReduceShape {
    pub const ALL: [ReduceShape; 3] = [
        ReduceShape::Thread,
        ReduceShape::Workgroup,
        ReduceShape::Quads,
    ];

    pub fn entry_point(self) -> &'static str {
        match self {
            ReduceShape::Thread => "reduce_thread",
            ReduceShape::Workgroup => "reduce_wg",
            ReduceShape::Quads => "reduce_vec4",
        }
    }
}

/// The matmul key for float inputs of `dtype`; `vec4` asks for the vec4 kernel, which only f32
/// and native f16 have (see [`matmul_vec4_dtype`]).
pub fn matmul_key(dtype: Dtype, native_f16: bool, vec4: bool) -> KernelKey {
    let out = if dtype == Dtype::Float16 && native_f16 {
        Dtype::Float16
    } else {
        Dtype::Float32
    };
    KernelKey::Matmul {
        dtype,
        out,
        vec4: vec4 && matmul_vec4_dtype(dtype, native_f16),
    }
}

/// One tiling of `shaders/matmul_coop.wgsl`, chosen once per device (`WMX_COOP_VARIANT=<name>`,
/// see [`CoopVariant::from_env`]). Named `<block rows>x<block columns>x<K per step>`, `s` for a
/// single workgroup buffer (two barriers per step instead of double buffering), `w4` for 4
/// subgroups instead of 8.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum CoopVariant {
    /// 8 subgroups in 2x4, each 64x32 (4x2 accumulators), K 32, double-buffered (the first kernel).
    B128x128x32,
    /// 8 subgroups in 2x4, each 64x32, K 64 per step, one buffer.
    B128x128x64s,
    /// 8 subgroups in 2x4, each 64x64 (4x4 accumulators), K 16, double-buffered.
    B128x256x16,
    /// 8 subgroups in 2x4, each 64x64, K 32, one buffer.
    B128x256x32s,
    /// 8 subgroups in 4x2, each 64x64, K 16, double-buffered.
    B256x128x16,
    /// 8 subgroups in 4x2, each 64x64, K 32, one buffer.
    B256x128x32s,
    /// 4 subgroups in 2x2, each 64x64, K 32, double-buffered.
    B128x128x32w4,
}

/// The shape parameters of a [`CoopVariant`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct CoopTiling {
    /// Subgroups along the block's rows and columns.
    pub sg_m: u32,
    pub sg_n: u32,
    /// 16x16 accumulators per subgroup along rows and columns.
    pub frag_m: u32,
    pub frag_n: u32,
    /// K per step (a multiple of 16).
    pub k: u32,
    /// Workgroup tile buffers: 2 (double-buffered) or 1.
    pub buffers: u32,
}

/// Halves of padding per workgroup tile row (16-byte aligned rows, staggered banks).
const COOP_PAD: u32 = 8;

impl CoopTiling {
    /// Invocations per workgroup (subgroups of 32).
    pub fn invocations(&self) -> u32 {
        32 * self.sg_m * self.sg_n
    }
    /// Rows of C per workgroup.
    pub fn block_m(&self) -> u32 {
        self.sg_m * self.frag_m * 16
    }
    /// Columns of C per workgroup.
    pub fn block_n(&self) -> u32 {
        self.sg_n * self.frag_n * 16
    }
    /// Halves per row of the A tile and of the B tile.
    fn lds(&self) -> (u32, u32) {
        (self.k + COOP_PAD, self.block_n() + COOP_PAD)
    }
    /// Halves in one A tile buffer and one B tile buffer.
    fn tiles(&self) -> (u32, u32) {
        let (a_ld, b_ld) = self.lds();
        (self.block_m() * a_ld, self.k * b_ld)
    }
    /// Workgroup memory in bytes: the f16 tile buffers and a 16x16 f32 scratch per subgroup.
    pub fn workgroup_bytes(&self) -> u32 {
        let (a, b) = self.tiles();
        2 * self.buffers * (a + b) + 4 * 256 * self.sg_m * self.sg_n
    }
}

impl CoopVariant {
    pub const ALL: [CoopVariant; 7] = [
        CoopVariant::B128x128x32,
        CoopVariant::B128x128x64s,
        CoopVariant::B128x256x16,
        CoopVariant::B128x256x32s,
        CoopVariant::B256x128x16,
        CoopVariant::B256x128x32s,
        CoopVariant::B128x128x32w4,
    ];

    /// The variant used when `WMX_COOP_VARIANT` is unset.
    pub const DEFAULT: CoopVariant = CoopVariant::B256x128x32s;

    /// The name `WMX_COOP_VARIANT` takes and kernel names carry.
    pub fn name(self) -> &'static str {
        match self {
            CoopVariant::B128x128x32 => "128x128x32",
            CoopVariant::B128x128x64s => "128x128x64s",
            CoopVariant::B128x256x16 => "128x256x16",
            CoopVariant::B128x256x32s => "128x256x32s",
            CoopVariant::B256x128x16 => "256x128x16",
            CoopVariant::B256x128x32s => "256x128x32s",
            CoopVariant::B128x128x32w4 => "128x128x32w4",
        }
    }

    /// The variant called `name`, if any.
    pub fn from_name(name: &str) -> Option<CoopVariant> {
        CoopVariant::ALL.into_iter().find(|v| v.name() == name)
    }

    /// `WMX_COOP_VARIANT` if set (an unknown name is reported and ignored), else [`Self::DEFAULT`].
    pub fn from_env() -> CoopVariant {
        match std::env::var("WMX_COOP_VARIANT") {
            Ok(name) => CoopVariant::from_name(&name).unwrap_or_else(|| {
                let names: Vec<_> = CoopVariant::ALL.iter().map(|v| v.name()).collect();
                eprintln!(
                    "wmx: unknown WMX_COOP_VARIANT={name} (one of {names:?}); using {}",
                    CoopVariant::DEFAULT.name()
                );
                CoopVariant::DEFAULT
            }),
            Err(_) => CoopVariant::DEFAULT,
        }
    }

    /// Its tiling.
    pub fn tiling(self) -> CoopTiling {
        let t = |sg_m, sg_n, frag_m, frag_n, k, buffers| CoopTiling {
            sg_m,
            sg_n,
            frag_m,
            frag_n,
            k,
            buffers,
        };
        match self {
            CoopVariant::B128x128x32 => t(2, 4, 4, 2, 32, 2),
            CoopVariant::B128x128x64s => t(2, 4, 4, 2, 64, 1),
            CoopVariant::B128x256x16 => t(2, 4, 4, 4, 16, 2),
            CoopVariant::B128x256x32s => t(2, 4, 4, 4, 32, 1),
            CoopVariant::B256x128x16 => t(4, 2, 4, 4, 16, 2),
            CoopVariant::B256x128x32s => t(4, 2, 4, 4, 32, 1),
            CoopVariant::B128x128x32w4 => t(2, 2, 4, 4, 32, 2),
        }
    }
}

/// The cooperative-matrix matmul key of `variant`: f16 inputs, f16 output (f32 accumulation).
pub fn matmul_coop_key(variant: CoopVariant) -> KernelKey {
    KernelKey::MatmulCoop {
        dtype: Dtype::Float16,
        out: Dtype::Float16,
        variant,
    }
}

/// The prelude of `shaders/matmul_coop.wgsl` for `variant`: its tile constants, the workgroup
/// tiles, the accumulators (private, one per 16x16 fragment of the subgroup's region) and the
/// two functions that touch them: `mma16` (one 16-deep slice of the step) and `store_accumulators`.
fn coop_prelude(p: &mut String, variant: CoopVariant) {
    let t = variant.tiling();
    let (a_ld, b_ld) = t.lds();
    let (a_tile, b_tile) = t.tiles();
    let inv = t.invocations();
    // Staging: each invocation loads the same column quad of A rows li / (K/4) + i * A_RSTEP,
    // and of B rows li / (BN/4) + i * B_RSTEP.
    let a_qpr = t.k / 4;
    let b_qpr = t.block_n() / 4;
    assert!(inv % a_qpr == 0 && inv % b_qpr == 0, "{variant:?}: staging");
    let (a_rstep, b_rstep) = (inv / a_qpr, inv / b_qpr);
    assert!(
        t.block_m() % a_rstep == 0 && t.k % b_rstep == 0,
        "{variant:?}: staging rows"
    );
    assert!(t.k % 16 == 0, "{variant:?}: K step");
    let consts = [
        ("INVOCATIONS", inv),
        ("SUBGROUPS", t.sg_m * t.sg_n),
        ("SG_N", t.sg_n),
        ("WM", 16 * t.frag_m),
        ("WN", 16 * t.frag_n),
        ("CM", t.block_m()),
        ("CN", t.block_n()),
        ("CK", t.k),
        ("BUFFERS", t.buffers),
        ("A_LD", a_ld),
        ("B_LD", b_ld),
        ("A_TILE", a_tile),
        ("B_TILE", b_tile),
        ("A_QPR", a_qpr),
        ("B_QPR", b_qpr),
        ("A_RSTEP", a_rstep),
        ("B_RSTEP", b_rstep),
        ("A_LOADS", t.block_m() / a_rstep),
        ("B_LOADS", t.k / b_rstep),
    ];
    let _ = writeln!(p, "// coop variant {}", variant.name());
    for (name, v) in consts {
        let _ = writeln!(p, "const {name}: u32 = {v}u;");
    }
    let _ = writeln!(
        p,
        "var<workgroup> a_tiles: array<f16, {}>;",
        t.buffers * a_tile
    );
    let _ = writeln!(
        p,
        "var<workgroup> b_tiles: array<f16, {}>;",
        t.buffers * b_tile
    );
    let _ = writeln!(
        p,
        "var<workgroup> c_frags: array<f32, {}>;",
        256 * t.sg_m * t.sg_n
    );
    let acc = |i: u32, j: u32| format!("acc_{i}_{j}");
    for i in 0..t.frag_m {
        for j in 0..t.frag_n {
            let _ = writeln!(p, "var<private> {}: coop_mat16x16<f32, C>;", acc(i, j));
        }
    }
    // Every pointer index is bound to a `let` first (naga 30's SPIR-V writer panics on an index
    // computed inline in a cooperative load's pointer).
    p.push_str(
        "fn mma16(ia: u32, ib: u32) {
",
    );
    for i in 0..t.frag_m {
        let _ = writeln!(p, "    let ia{i} = ia + {}u;", 16 * i * a_ld);
        let _ = writeln!(
            p,
            "    let a{i} = coopLoadT<coop_mat16x16<f16, A>>(&a_tiles[ia{i}], A_LD);"
        );
    }
    for j in 0..t.frag_n {
        let _ = writeln!(p, "    let ib{j} = ib + {}u;", 16 * j);
        let _ = writeln!(
            p,
            "    let b{j} = coopLoadT<coop_mat16x16<f16, B>>(&b_tiles[ib{j}], B_LD);"
        );
    }
    for i in 0..t.frag_m {
        for j in 0..t.frag_n {
            let c = acc(i, j);
            let _ = writeln!(p, "    {c} = coopMultiplyAdd(a{i}, b{j}, {c});");
        }
    }
    p.push_str(
        "}
",
    );
    p.push_str(
        "fn store_accumulators(scratch: u32, lane: u32, size: u32, cbase: u32, r0: u32, c0: u32, \
         M: u32, N: u32) {\n",
    );
    for i in 0..t.frag_m {
        for j in 0..t.frag_n {
            if i + j > 0 {
                p.push_str("    workgroupBarrier();\n");
            }
            let _ = writeln!(p, "    coopStoreT({}, &c_frags[scratch], 16u);", acc(i, j));
            p.push_str("    workgroupBarrier();\n");
            let _ = writeln!(
                p,
                "    write_fragment(scratch, lane, size, cbase, r0 + {}u, c0 + {}u, M, N);",
                16 * i,
                16 * j
            );
        }
    }
    p.push_str("}\n");
}

/// True when the vec4 matmul kernel exists for `dtype` (unpacked 16- or 32-bit floats).
pub fn matmul_vec4_dtype(dtype: Dtype, native_f16: bool) -> bool {
    dtype == Dtype::Float32 || (dtype == Dtype::Float16 && native_f16)
}

impl KernelKey {
    /// True for kernels that check every index they use themselves (elementwise families stop
    /// at `n` and read inputs through host-validated views; matmul guards every load and store;
    /// reductions and softmax stay inside their rows), and that write their workgroup memory
    /// before reading it, whose modules are created without wgpu's injected bounds and loop
    /// checks and whose pipelines skip wgpu's workgroup-memory zeroing. Setting
    /// `WMX_CHECKED_SHADERS=1` keeps the checks everywhere (for debugging and A/B timing).
    pub fn trusted(&self) -> bool {
        let family = match self {
            KernelKey::Unary { .. }
            | KernelKey::Cast { .. }
            | KernelKey::Binary { .. }
            | KernelKey::Where { .. }
            | KernelKey::Full { .. }
            | KernelKey::Arange { .. }
            | KernelKey::Matmul { .. }
            | KernelKey::MatmulCoop { .. }
            | KernelKey::Reduce { .. }
            | KernelKey::Softmax { .. } => true,
            KernelKey::Window { .. }
            | KernelKey::ArgReduce { .. }
            | KernelKey::RandomBits { .. }
            | KernelKey::RandomPairs { .. }
            | KernelKey::Take { .. }
            | KernelKey::Gather { .. }
            | KernelKey::Scatter { .. }
            | KernelKey::Scan { .. }
            | KernelKey::Sort { .. } => false,
        };
        family && std::env::var("WMX_CHECKED_SHADERS").as_deref() != Ok("1")
    }
}

/// The softmax key for rows of float `dtype` (output widened when packed); `vec4` for rows of
/// a multiple of 4 elements; `wg` invocations per row.
pub fn softmax_key(dtype: Dtype, native_f16: bool, vec4: bool, wg: u32) -> KernelKey {
    KernelKey::Softmax {
        dtype,
        out: widen(dtype, native_f16),
        vec4,
        wg,
    }
}

/// Invocations per softmax row of `len` elements, at most `max_wg` (the adapter's limit): about
/// `per_invocation` elements each (default 16, four quads, which `softmax.wgsl` keeps in
/// registers, so rows of up to 16384 elements are read once; `WMX_SOFTMAX_PER_INVOCATION`
/// overrides it for measurement), a power of two from 64. Wide workgroups keep fewer rows in
/// flight per SM, so a row's second read (after its max and sum) still finds it in cache: with
/// 256 invocations for 8192-element rows, a GPU has ~8 rows per SM in flight, as much data as
/// its L2 holds. On an H200 (2026-11-26), 8192-element rows took 213 / 167 / 190 µs for 8192
/// rows with 256 / 512 / 1024 invocations, and 4096-element rows 65 / 55 / 55 / 70 µs with
/// 128 / 256 / 512 / 1024.
///
/// ```
/// use wmx::kernels::softmax_workgroup;
/// assert_eq!(softmax_workgroup(8192, 1024), 512);
/// assert_eq!(softmax_workgroup(6, 1024), 64);
/// assert_eq!(softmax_workgroup(1 << 20, 256), 256);
/// ```
pub fn softmax_workgroup(len: u32, max_wg: u32) -> u32 {
    static PER_INVOCATION: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let per_invocation = *PER_INVOCATION.get_or_init(|| {
        std::env::var("WMX_SOFTMAX_PER_INVOCATION")
            .ok()
            .and_then(|v| v.parse::<u32>().ok())
            .filter(|&v| v > 0)
            .unwrap_or(16)
    });
    let max_wg = prev_power_of_two(max_wg.clamp(64, 1024));
    len.div_ceil(per_invocation)
        .next_power_of_two()
        .clamp(64, max_wg)
}

/// The largest power of two `<= x` (x > 0).
fn prev_power_of_two(x: u32) -> u32 {
    1 << (31 - x.leading_zeros())
}

/// The combining ops of the scatter family (`None`: plain scatter).
pub const SCATTER_OPS: [Option<BinaryOp>; 5] = [
    None,
    Some(BinaryOp::Add),
    Some(BinaryOp::Multiply),
    Some(BinaryOp::Maximum),
    Some(BinaryOp::Minimum),
];

/// Every key the GPU backend can request on a device with or without native f16.
pub fn all_keys(native_f16: bool) -> Vec<KernelKey> {
    let mut keys = Vec::new();
    for layout in Layout::ALL {
        for &op in UnaryOp::ALL {
            for dtype in Dtype::ALL.into_iter().filter(|d| op.supports(d.domain())) {
                keys.push(KernelKey::Unary { op, dtype, layout });
            }
        }
        for from in Dtype::ALL {
            for to in Dtype::ALL {
                keys.push(KernelKey::Cast { from, to, layout });
            }
        }
        for &op in BinaryOp::ALL {
            for dtype in Dtype::ALL.into_iter().filter(|d| op.supports(d.domain())) {
                keys.push(KernelKey::Binary { op, dtype, layout });
            }
        }
        for dtype in Dtype::ALL {
            keys.push(KernelKey::Where { dtype, layout });
        }
    }
    for dtype in Dtype::ALL {
        if unpacked(dtype, native_f16) {
            keys.push(KernelKey::Window { dtype });
        }
        keys.push(KernelKey::Full { dtype });
        if dtype != Dtype::Bool {
            keys.push(KernelKey::Arange { dtype });
            for op in [ArgReduceOp::ArgMax, ArgReduceOp::ArgMin] {
                keys.push(KernelKey::ArgReduce { op, dtype });
            }
        }
        for &op in ReduceOp::ALL {
            let ok = match op {
                ReduceOp::All | ReduceOp::Any => dtype == Dtype::Bool,
                _ => dtype != Dtype::Bool,
            };
            if ok {
                for shape in ReduceShape::ALL {
                    keys.push(reduce_key(op, dtype, shape, native_f16));
                }
            }
        }
        if dtype.is_float() {
            keys.push(matmul_key(dtype, native_f16, false));
            if matmul_vec4_dtype(dtype, native_f16) {
                keys.push(matmul_key(dtype, native_f16, true));
            }
            if dtype == Dtype::Float16 && native_f16 {
                keys.extend(CoopVariant::ALL.map(matmul_coop_key));
            }
        }
    }
    keys.push(KernelKey::RandomBits {
        width: 1,
        out: Dtype::Uint8,
    });
    for width in [2, 4] {
        keys.push(KernelKey::RandomBits {
            width,
            out: Dtype::Uint32,
        });
    }
    for out in [Dtype::Float32, Dtype::Float16, Dtype::Bfloat16] {
        keys.push(KernelKey::RandomBits { width: 4, out });
    }
    for out in [Dtype::Uint32, Dtype::Float32, Dtype::Float16]
        .into_iter()
        .filter(|&d| unpacked(d, native_f16))
    {
        keys.push(KernelKey::RandomPairs { out });
    }
    for dtype in Dtype::ALL {
        keys.push(KernelKey::Take { dtype });
        if dtype.is_float() {
            for vec4 in [false, true] {
                keys.push(softmax_key(dtype, native_f16, vec4, WG));
            }
            keys.push(softmax_key(dtype, native_f16, true, 1024));
        }
    }
    for dtype in Dtype::ALL {
        keys.push(KernelKey::Gather { dtype });
        for op in SCATTER_OPS {
            keys.push(KernelKey::Scatter { op, dtype });
        }
    }
    for &op in ScanOp::ALL {
        for input in Dtype::ALL {
            if scan_supports(op, input) {
                for per_thread in [false, true] {
                    keys.push(scan_key(op, input, per_thread));
                }
            }
        }
    }
    for dtype in Dtype::ALL {
        for pass in [SortPass::Block, SortPass::Gather, SortPass::Search] {
            keys.push(KernelKey::Sort { pass, dtype });
        }
    }
    keys.push(KernelKey::Sort {
        pass: SortPass::Merge,
        dtype: Dtype::Uint32,
    });
    keys
}

/// The scan dtypes the ops layer produces: MLX's result dtypes (bool sums to int32,
/// logcumsumexp is float-only).
pub fn scan_supports(op: ScanOp, input: Dtype) -> bool {
    match op {
        ScanOp::Sum => input != Dtype::Bool,
        ScanOp::LogAddExp => input.is_float(),
        ScanOp::Prod | ScanOp::Max | ScanOp::Min => true,
    }
}

/// The scan key for `op` over `input`: floats accumulate in f32, signed in i32, unsigned and
/// bool in u32; the output is then cast to the input's dtype.
pub fn scan_key(op: ScanOp, input: Dtype, per_thread: bool) -> KernelKey {
    let acc = match input.domain() {
        Domain::Float => Dtype::Float32,
        Domain::Int => Dtype::Int32,
        Domain::Uint | Domain::Bool => Dtype::Uint32,
    };
    KernelKey::Scan {
        op,
        input,
        acc,
        per_thread,
    }
}

fn compute_type(d: Domain) -> &'static str {
    match d {
        Domain::Float => "f32",
        Domain::Int => "i32",
        Domain::Uint => "u32",
        Domain::Bool => "bool",
    }
}

fn storage_type(d: Dtype, native_f16: bool) -> &'static str {
    match d {
        Dtype::Float32 => "f32",
        Dtype::Int32 => "i32",
        Dtype::Uint32 => "u32",
        Dtype::Float16 if native_f16 => "f16",
        Dtype::Float16 | Dtype::Bfloat16 | Dtype::Uint8 | Dtype::Bool => "u32",
    }
}

/// Elements per storage word of `d` on this device.
pub fn per_word(d: Dtype, native_f16: bool) -> u32 {
    if unpacked(d, native_f16) {
        1
    } else {
        d.per_word() as u32
    }
}

/// `alias S_X`, `alias C_X` and `fn load_x(i) -> C_X` for an input binding named `slot`.
fn input_slot(p: &mut String, slot: &str, d: Dtype, native_f16: bool) {
    let up = slot.to_uppercase();
    let body = match d {
        Dtype::Float32 | Dtype::Int32 | Dtype::Uint32 => format!("{slot}[i]"),
        Dtype::Float16 if native_f16 => format!("f32({slot}[i])"),
        Dtype::Float16 => {
            format!("wmx_f16_to_f32(({slot}[i >> 1u] >> ((i & 1u) * 16u)) & 0xffffu)")
        }
        Dtype::Bfloat16 => {
            format!("bitcast<f32>((({slot}[i >> 1u] >> ((i & 1u) * 16u)) & 0xffffu) << 16u)")
        }
        Dtype::Uint8 => format!("({slot}[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu"),
        Dtype::Bool => format!("(({slot}[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu) != 0u"),
    };
    let _ = writeln!(p, "alias S_{up} = {};", storage_type(d, native_f16));
    let _ = writeln!(p, "alias C_{up} = {};", compute_type(d.domain()));
    let _ = writeln!(p, "fn load_{slot}(i: u32) -> C_{up} {{ return {body}; }}");
    // Quad-layout entry points share the family's module: element-wise stand-ins.
    let _ = writeln!(
        p,
        "fn load4_{slot}(q: u32) -> vec4<C_{up}> {{ let i = q * 4u; \
         return vec4<C_{up}>(load_{slot}(i), load_{slot}(i + 1u), load_{slot}(i + 2u), load_{slot}(i + 3u)); }}"
    );
}

/// WGSL expression of the storage word holding the values `{v}[0..per_word]` of dtype `d`
/// (`v` is an indexable expression: an array or a vector).
fn word_expr(d: Dtype, native_f16: bool, v: &str) -> String {
    match d {
        Dtype::Float32 | Dtype::Int32 | Dtype::Uint32 => format!("{v}[0]"),
        Dtype::Float16 if native_f16 => format!("f16({v}[0])"),
        Dtype::Float16 => format!("wmx_f32_to_f16({v}[0]) | (wmx_f32_to_f16({v}[1]) << 16u)"),
        Dtype::Bfloat16 => format!("wmx_bf16({v}[0]) | (wmx_bf16({v}[1]) << 16u)"),
        Dtype::Uint8 => format!(
            "({v}[0] & 0xffu) | (({v}[1] & 0xffu) << 8u) | (({v}[2] & 0xffu) << 16u) | ({v}[3] << 24u)"
        ),
        Dtype::Bool => format!(
            "select(0u, 1u, {v}[0]) | (select(0u, 1u, {v}[1]) << 8u) | (select(0u, 1u, {v}[2]) << 16u) | (select(0u, 1u, {v}[3]) << 24u)"
        ),
    }
}

/// Storage type of one quad (four elements) of `d`: a vec4 of 32-bit or native f16 elements,
/// a vec2<u32> of packed halves, or one u32 of four bytes.
fn quad_type(d: Dtype, native_f16: bool) -> String {
    match per_word(d, native_f16) {
        1 => format!("vec4<{}>", storage_type(d, native_f16)),
        2 => "vec2<u32>".into(),
        _ => "u32".into(),
    }
}

/// An elementwise kernel's input slot `k` of `n_inputs`, element-wise or (`quads`) quad-wise.
fn elementwise_input(
    p: &mut String,
    k: usize,
    n_inputs: usize,
    d: Dtype,
    native_f16: bool,
    quads: bool,
) {
    let slot = format!("in{k}");
    if quads {
        quad_input_slot(p, &slot, d, native_f16);
    } else {
        input_slot(p, &slot, d, native_f16);
    }
    // The family's module holds every layout's entry point (the quad one unused here or not).
    quad_broadcast_loader(p, k, n_inputs);
}

/// `quad_in<k>(q)`: quad `q` of the output's elements as seen through input `k` of a quad-layout
/// dispatch. The info table holds, after `[n, 0]`, each input's element offset, then each input's
/// (period, repeat) pair: period 0 is a dense input (offset a multiple of 4); otherwise output
/// element i reads input element `offset + (i / repeat) % period`, where either repeat is 1 and
/// period and offset are multiples of 4 (a repeated row: one quad load) or repeat is a multiple
/// of 4 (the four elements share one input element: one load, splat).
fn quad_broadcast_loader(p: &mut String, k: usize, n_inputs: usize) {
    let (off, period, repeat) = (2 + k, 2 + n_inputs + 2 * k, 3 + n_inputs + 2 * k);
    let _ = writeln!(
        p,
        "fn quad_in{k}(q: u32) -> vec4<C_IN{k}> {{
    let off = info[{off}u];
    let period = info[{period}u];
    if (period == 0u) {{ return load4_in{k}(q + (off >> 2u)); }}
    let repeat = info[{repeat}u];
    if (repeat == 1u) {{ return load4_in{k}((off + (q << 2u) % period) >> 2u); }}
    return vec4<C_IN{k}>(load_in{k}(off + ((q << 2u) / repeat) % period));
}}"
    );
}

/// An elementwise kernel's output slot, element-wise or (`quads`) quad-wise.
fn elementwise_output(p: &mut String, d: Dtype, native_f16: bool, quads: bool) {
    if quads {
        quad_output_slot(p, d, native_f16);
    } else {
        output_slot(p, d, native_f16);
    }
}

/// An input bound as quads: `load4_<slot>(q) -> vec4<C_X>` reads quad `q` in one access, and
/// `load_<slot>(i)` element `i` through it.
fn quad_input_slot(p: &mut String, slot: &str, d: Dtype, native_f16: bool) {
    let up = slot.to_uppercase();
    let c = compute_type(d.domain());
    let body = match d {
        Dtype::Float32 | Dtype::Int32 | Dtype::Uint32 => format!("return {slot}[q];"),
        Dtype::Float16 if native_f16 => format!("return vec4<f32>({slot}[q]);"),
        Dtype::Float16 => format!(
            "let w = {slot}[q]; return vec4<f32>(wmx_f16_to_f32(w.x & 0xffffu),              wmx_f16_to_f32(w.x >> 16u), wmx_f16_to_f32(w.y & 0xffffu), wmx_f16_to_f32(w.y >> 16u));"
        ),
        Dtype::Bfloat16 => format!(
            "let w = {slot}[q]; return vec4<f32>(bitcast<f32>(w.x << 16u),              bitcast<f32>(w.x & 0xffff0000u), bitcast<f32>(w.y << 16u), bitcast<f32>(w.y & 0xffff0000u));"
        ),
        Dtype::Uint8 => format!(
            "return (vec4<u32>({slot}[q]) >> vec4<u32>(0u, 8u, 16u, 24u)) & vec4<u32>(0xffu);"
        ),
        Dtype::Bool => format!(
            "return ((vec4<u32>({slot}[q]) >> vec4<u32>(0u, 8u, 16u, 24u)) & vec4<u32>(0xffu)) != vec4<u32>(0u);"
        ),
    };
    let _ = writeln!(p, "alias S_{up} = {};", quad_type(d, native_f16));
    let _ = writeln!(p, "alias C_{up} = {c};");
    let _ = writeln!(p, "fn load4_{slot}(q: u32) -> vec4<{c}> {{ {body} }}");
    let _ = writeln!(
        p,
        "fn load_{slot}(i: u32) -> C_{up} {{ return load4_{slot}(i >> 2u)[i & 3u]; }}"
    );
}

/// The output bound as quads: `store4_out(q, v)` writes quad `q` in one access; `store_out(w, v)`
/// (word `w`) and, when unpacked, `store_out1(i, v)` write through it. The vec4 matmul binds its
/// operands and output this way too.
fn quad_output_slot(p: &mut String, d: Dtype, native_f16: bool) {
    let n = per_word(d, native_f16);
    let c = compute_type(d.domain());
    let quad = match n {
        1 if d == Dtype::Float16 => "vec4<f16>(v)".to_string(),
        1 => "v".to_string(),
        2 => format!(
            "vec2<u32>({}, {})",
            word_expr(d, native_f16, "v.xy"),
            word_expr(d, native_f16, "v.zw")
        ),
        _ => word_expr(d, native_f16, "v"),
    };
    let _ = writeln!(p, "alias S_OUT = {};", quad_type(d, native_f16));
    let _ = writeln!(p, "alias C_OUT = {c};");
    let _ = writeln!(p, "const OUT_PER_WORD: u32 = {n}u;");
    let _ = writeln!(
        p,
        "fn store4_out(q: u32, v: vec4<C_OUT>) {{ out[q] = {quad}; }}"
    );
    let word = word_expr(d, native_f16, "v");
    let store = match n {
        1 => format!("out[w >> 2u][w & 3u] = {word};"),
        2 => format!("out[w >> 1u][w & 1u] = {word};"),
        _ => format!("out[w] = {word};"),
    };
    let _ = writeln!(
        p,
        "fn store_out(w: u32, v: array<C_OUT, OUT_PER_WORD>) {{ {store} }}"
    );
    if n == 1 {
        let one = if d == Dtype::Float16 { "f16(v)" } else { "v" };
        let _ = writeln!(
            p,
            "fn store_out1(i: u32, v: C_OUT) {{ out[i >> 2u][i & 3u] = {one}; }}"
        );
    }
    bf16_packer(p, d);
}

/// f32 to bf16 bits, rounding to nearest even (NaN stays NaN).
const BF16_ROUND: &str = "fn wmx_bf16(x: f32) -> u32 {\n    let b = bitcast<u32>(x);\n    \
     if ((b & 0x7fffffffu) > 0x7f800000u) { return (b >> 16u) | 0x40u; }\n    \
     return (b + 0x7fffu + ((b >> 16u) & 1u)) >> 16u;\n}\n";

fn bf16_packer(p: &mut String, d: Dtype) {
    if d == Dtype::Bfloat16 {
        p.push_str(BF16_ROUND);
    }
}

/// The scatter family's prelude: the updates' loader, and the element accessors and combiner
/// that the compare-exchange loop applies to the 32-bit output word holding an element.
fn scatter_prelude(p: &mut String, op: Option<BinaryOp>, dtype: Dtype, native_f16: bool) {
    input_slot(p, "upd", dtype, native_f16);
    if native_f16 {
        // Output words are raw u32 here, so halves convert with the integer helpers.
        p.push_str(F16_BITS);
    }
    if dtype == Dtype::Bfloat16 {
        p.push_str(BF16_ROUND);
    }
    let bits = dtype.size() * 8;
    let mask = if bits == 32 {
        "0xffffffffu".to_string()
    } else {
        format!("{:#x}u", (1u32 << bits) - 1)
    };
    let (get, put) = match dtype {
        Dtype::Float32 => ("bitcast<f32>(w)", "bitcast<u32>(v)"),
        Dtype::Int32 => ("bitcast<i32>(w)", "bitcast<u32>(v)"),
        Dtype::Uint32 => ("w", "v"),
        Dtype::Float16 => ("wmx_f16_to_f32((w >> sh) & 0xffffu)", "wmx_f32_to_f16(v)"),
        Dtype::Bfloat16 => ("bitcast<f32>(((w >> sh) & 0xffffu) << 16u)", "wmx_bf16(v)"),
        Dtype::Uint8 => ("(w >> sh) & 0xffu", "v & 0xffu"),
        Dtype::Bool => ("((w >> sh) & 0xffu) != 0u", "select(0u, 1u, v)"),
    };
    let _ = writeln!(p, "const ELEM_BITS: u32 = {bits}u;");
    let _ = writeln!(p, "const ELEM_MASK: u32 = {mask};");
    let _ = writeln!(
        p,
        "fn get_elem(w: u32, sh: u32) -> C_UPD {{ return {get}; }}"
    );
    let _ = writeln!(p, "fn elem_bits(v: C_UPD) -> u32 {{ return {put}; }}");
    let comb = op.and_then(|o| o.wgsl(dtype.domain())).unwrap_or("b");
    let _ = writeln!(
        p,
        "fn combine(a: C_UPD, b: C_UPD) -> C_UPD {{ return {comb}; }}"
    );
    let _ = writeln!(
        p,
        "const PLAIN_STORE: bool = {};",
        op.is_none() && bits == 32
    );
}

/// `alias S_OUT`, `alias C_OUT`, `OUT_PER_WORD` and the store helpers for the output.
fn output_slot(p: &mut String, d: Dtype, native_f16: bool) {
    let n = per_word(d, native_f16);
    let word = word_expr(d, native_f16, "v");
    let _ = writeln!(p, "alias S_OUT = {};", storage_type(d, native_f16));
    let _ = writeln!(p, "alias C_OUT = {};", compute_type(d.domain()));
    let _ = writeln!(p, "const OUT_PER_WORD: u32 = {n}u;");
    let _ = writeln!(
        p,
        "fn store_out(w: u32, v: array<C_OUT, OUT_PER_WORD>) {{ out[w] = {word}; }}"
    );
    // Quad-layout entry points share the family's module: a word-wise stand-in.
    let quad = match n {
        1 => "for (var j = 0u; j < 4u; j++) { store_out(q * 4u + j, array<C_OUT, 1>(v[j])); }",
        2 => {
            "store_out(q * 2u, array<C_OUT, 2>(v.x, v.y)); store_out(q * 2u + 1u, array<C_OUT, 2>(v.z, v.w));"
        }
        _ => "store_out(q, array<C_OUT, 4>(v.x, v.y, v.z, v.w));",
    };
    let _ = writeln!(p, "fn store4_out(q: u32, v: vec4<C_OUT>) {{ {quad} }}");
    if unpacked(d, native_f16) {
        let one = if d == Dtype::Float16 { "f16(v)" } else { "v" };
        let _ = writeln!(p, "fn store_out1(i: u32, v: C_OUT) {{ out[i] = {one}; }}");
    }
    bf16_packer(p, d);
}

/// The prelude of the accumulating families (reduce, scan): the input slot, the unpacked
/// accumulator as output, `to_acc`, `combine` (WGSL in `a`, `b`) and `identity()`.
fn accumulator_prelude(
    p: &mut String,
    input: Dtype,
    acc: Dtype,
    combine: &str,
    identity: f64,
    native_f16: bool,
    quads: bool,
) {
    if quads {
        quad_input_slot(p, "in0", input, native_f16);
    } else {
        input_slot(p, "in0", input, native_f16);
    }
    output_slot(p, acc, native_f16);
    let ad = acc.domain();
    let _ = writeln!(
        p,
        "fn to_acc(x: C_IN0) -> C_OUT {{ return {}; }}",
        cast_expr(input.domain(), ad)
    );
    let _ = writeln!(
        p,
        "fn combine(a: C_OUT, b: C_OUT) -> C_OUT {{ return {combine}; }}"
    );
    // A function, not a `const`: ±inf is a bitcast, which is not a WGSL const expression.
    let _ = writeln!(
        p,
        "fn identity() -> C_OUT {{ return {}; }}",
        literal(identity, ad)
    );
}

/// WGSL expression converting `x` of domain `from` to domain `to` (astype's rules).
fn cast_expr(from: Domain, to: Domain) -> &'static str {
    use Domain::*;
    match (from, to) {
        (Float, Float) | (Int, Int) | (Uint, Uint) | (Bool, Bool) => "x",
        (Float, Int) => "i32(x)",
        // Negative floats wrap like C's conversion through a signed integer.
        (Float, Uint) => "select(u32(x), bitcast<u32>(i32(x)), x < 0.0)",
        // By bits: NaN is true, and some compilers fold `NaN != 0.0` to false.
        (Float, Bool) => "(bitcast<u32>(x) & 0x7fffffffu) != 0u",
        // Integer to float with integer ops: round to nearest even whatever the GPU's mode.
        (Int, Float) => "wmx_i32_to_f32(x)",
        (Uint, Float) => "wmx_u32_to_f32(x)",
        (Int, Uint) => "bitcast<u32>(x)",
        (Uint, Int) => "bitcast<i32>(x)",
        (Int, Bool) => "x != 0",
        (Uint, Bool) => "x != 0u",
        (Bool, Float) => "select(0.0, 1.0, x)",
        (Bool, Int) => "select(0, 1, x)",
        (Bool, Uint) => "select(0u, 1u, x)",
    }
}

/// WGSL literal of `v` in the compute type of domain `d`.
fn literal(v: f64, d: Domain) -> String {
    match d {
        Domain::Float if v == f64::INFINITY => "bitcast<f32>(0x7f800000u)".into(),
        Domain::Float if v == f64::NEG_INFINITY => "bitcast<f32>(0xff800000u)".into(),
        Domain::Float => format!("{v:?}"),
        Domain::Int if v == i32::MIN as f64 => "i32(-2147483647 - 1)".into(),
        Domain::Int => format!("i32({})", v as i64),
        Domain::Uint => format!("{}u", v as u64),
        Domain::Bool => (v != 0.0).to_string(),
    }
}

/// Bits of the largest value below 1 in `dtype`, as an f32.
pub fn unit_upper_bits(dtype: Dtype) -> u32 {
    match dtype {
        Dtype::Float16 => (1.0f32 - 2f32.powi(-11)).to_bits(),
        Dtype::Bfloat16 => (1.0f32 - 2f32.powi(-8)).to_bits(),
        _ => 0x3f7f_ffff,
    }
}

/// The complete WGSL source of a kernel: generated prelude, then the family file.
pub fn render(key: &KernelKey, native_f16: bool) -> String {
    let mut p = String::new();
    let uses_f16 = native_f16
        && match *key {
            KernelKey::Unary { dtype, .. }
            | KernelKey::Binary { dtype, .. }
            | KernelKey::Where { dtype, .. } => dtype == Dtype::Float16,
            KernelKey::Cast { from, to, .. } => from == Dtype::Float16 || to == Dtype::Float16,
            KernelKey::Window { dtype }
            | KernelKey::Full { dtype }
            | KernelKey::Arange { dtype }
            | KernelKey::ArgReduce { dtype, .. } => dtype == Dtype::Float16,
            KernelKey::Reduce { input, acc, .. } => {
                input == Dtype::Float16 || acc == Dtype::Float16
            }
            KernelKey::Matmul { dtype, out, .. } | KernelKey::MatmulCoop { dtype, out, .. } => {
                dtype == Dtype::Float16 || out == Dtype::Float16
            }
            KernelKey::RandomBits { out, .. } | KernelKey::RandomPairs { out } => {
                out == Dtype::Float16
            }
            KernelKey::Take { dtype } | KernelKey::Sort { dtype, .. } => dtype == Dtype::Float16,
            KernelKey::Scan { input, .. } => input == Dtype::Float16,
            KernelKey::Softmax { dtype, out, .. } => {
                dtype == Dtype::Float16 || out == Dtype::Float16
            }
            KernelKey::Gather { dtype } | KernelKey::Scatter { dtype, .. } => {
                dtype == Dtype::Float16
            }
        };
    if uses_f16 {
        p.push_str("enable f16;\n");
    }
    if matches!(key, KernelKey::MatmulCoop { .. }) {
        p.push_str("enable wgpu_cooperative_matrix;\n");
    }
    let _ = writeln!(
        p,
        "// ---- generated prelude for {key} (f16 {}) ----",
        if native_f16 { "native" } else { "packed" }
    );
    let wg = match *key {
        KernelKey::Softmax { wg, .. } => wg,
        _ => WG,
    };
    let _ = writeln!(p, "const WG: u32 = {wg}u;");
    // NaN tests by bits: comparisons with NaN are not reliable across shader compilers.
    p.push_str(
        "fn wmx_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }\n",
    );
    p.push_str("fn wmx_nan() -> f32 { return bitcast<f32>(0x7fc00000u); }\n");
    p.push_str(INT_TO_FLOAT);
    if !native_f16 {
        p.push_str(F16_BITS);
    }
    let (family, needs_index) = match *key {
        KernelKey::Unary { op, dtype, layout } => {
            let q = layout == Layout::Vec4;
            elementwise_input(&mut p, 0, 1, dtype, native_f16, q);
            elementwise_output(&mut p, dtype, native_f16, q);
            let e = op.wgsl(dtype.domain()).unwrap_or("x");
            let _ = writeln!(p, "fn op(x: C_IN0) -> C_OUT {{ return {e}; }}");
            (UNARY, true)
        }
        KernelKey::Cast { from, to, layout } => {
            let q = layout == Layout::Vec4;
            elementwise_input(&mut p, 0, 1, from, native_f16, q);
            elementwise_output(&mut p, to, native_f16, q);
            let _ = writeln!(
                p,
                "fn op(x: C_IN0) -> C_OUT {{ return {}; }}",
                cast_expr(from.domain(), to.domain())
            );
            (UNARY, true)
        }
        KernelKey::Binary { op, dtype, layout } => {
            let q = layout == Layout::Vec4;
            elementwise_input(&mut p, 0, 2, dtype, native_f16, q);
            elementwise_input(&mut p, 1, 2, dtype, native_f16, q);
            elementwise_output(&mut p, key.out_dtype(), native_f16, q);
            let e = op.wgsl(dtype.domain()).unwrap_or("a");
            let _ = writeln!(p, "fn op(a: C_IN0, b: C_IN1) -> C_OUT {{ return {e}; }}");
            (BINARY, true)
        }
        KernelKey::Where { dtype, layout } => {
            let q = layout == Layout::Vec4;
            elementwise_input(&mut p, 0, 3, Dtype::Bool, native_f16, q);
            elementwise_input(&mut p, 1, 3, dtype, native_f16, q);
            elementwise_input(&mut p, 2, 3, dtype, native_f16, q);
            elementwise_output(&mut p, dtype, native_f16, q);
            (TERNARY, true)
        }
        KernelKey::Window { dtype } => {
            input_slot(&mut p, "in0", dtype, native_f16);
            output_slot(&mut p, dtype, native_f16);
            (COPY, true)
        }
        KernelKey::Full { dtype } => {
            output_slot(&mut p, dtype, native_f16);
            let e = match dtype.domain() {
                Domain::Float => "bitcast<f32>(info[1])",
                Domain::Int => "bitcast<i32>(info[1])",
                Domain::Uint => "info[1]",
                Domain::Bool => "info[1] != 0u",
            };
            let _ = writeln!(p, "fn value_at(i: u32) -> C_OUT {{ return {e}; }}");
            (CREATION, true)
        }
        KernelKey::Arange { dtype } => {
            output_slot(&mut p, dtype, native_f16);
            let e = match dtype.domain() {
                Domain::Float => "bitcast<f32>(info[1]) + f32(i) * bitcast<f32>(info[2])",
                Domain::Int => "bitcast<i32>(info[1]) + i32(i) * bitcast<i32>(info[2])",
                Domain::Uint | Domain::Bool => {
                    "u32(bitcast<i32>(info[1]) + i32(i) * bitcast<i32>(info[2]))"
                }
            };
            let _ = writeln!(p, "fn value_at(i: u32) -> C_OUT {{ return {e}; }}");
            (CREATION, true)
        }
        KernelKey::Reduce {
            op,
            input,
            acc,
            shape,
        } => {
            let ad = acc.domain();
            let comb = match op {
                ReduceOp::All => "min(a, b)",
                ReduceOp::Any => "max(a, b)",
                _ => op.combiner().wgsl(ad).unwrap_or("a"),
            };
            let quads = shape == ReduceShape::Quads;
            accumulator_prelude(&mut p, input, acc, comb, op.identity(ad), native_f16, quads);
            (REDUCE, false)
        }
        KernelKey::ArgReduce { op, dtype } => {
            input_slot(&mut p, "in0", dtype, native_f16);
            let d = dtype.domain();
            let k = compute_type(d);
            let _ = writeln!(p, "alias K = {k};");
            let _ = writeln!(p, "fn to_key(x: C_IN0) -> K {{ return x; }}");
            let (cmp, worst) = match op {
                ArgReduceOp::ArgMax => (">", ReduceOp::Max.identity(d)),
                ArgReduceOp::ArgMin => ("<", ReduceOp::Min.identity(d)),
            };
            // NaN counts as the extreme, as in NumPy.
            let nan = if d == Domain::Float {
                " || (wmx_isnan(a) && !wmx_isnan(b))"
            } else {
                ""
            };
            let _ = writeln!(
                p,
                "fn better(a: K, b: K) -> bool {{ return a {cmp} b{nan}; }}"
            );
            let _ = writeln!(p, "fn worst() -> K {{ return {}; }}", literal(worst, d));
            (ARG_REDUCE, false)
        }
        KernelKey::Matmul { dtype, out, vec4 } => {
            if vec4 {
                quad_input_slot(&mut p, "in0", dtype, native_f16);
                quad_input_slot(&mut p, "in1", dtype, native_f16);
                quad_output_slot(&mut p, out, native_f16);
            } else {
                input_slot(&mut p, "in0", dtype, native_f16);
                input_slot(&mut p, "in1", dtype, native_f16);
                output_slot(&mut p, out, native_f16);
            }
            p.push_str(MATMUL_BATCH);
            (MATMUL, false)
        }
        KernelKey::MatmulCoop { out, variant, .. } => {
            output_slot(&mut p, out, native_f16);
            coop_prelude(&mut p, variant);
            p.push_str(MATMUL_BATCH);
            (MATMUL_COOP, false)
        }
        KernelKey::RandomBits { out, .. } | KernelKey::RandomPairs { out } => {
            output_slot(&mut p, out, native_f16);
            let finish = if out.is_float() {
                // f32(bits) / 2^32 (exact: the conversion rounds once, the scaling is a power of
                // two), kept below 1 in the output dtype, as MLX's uniform does.
                format!(
                    "min(wmx_u32_to_f32(b) * 2.3283064365386963e-10, bitcast<f32>({}u))",
                    unit_upper_bits(out)
                )
            } else {
                "b".to_string()
            };
            let _ = writeln!(p, "fn finish(b: u32) -> C_OUT {{ return {finish}; }}");
            p.push_str(THREEFRY);
            if matches!(key, KernelKey::RandomPairs { .. }) {
                (RANDOM_PAIRS, false)
            } else {
                (RANDOM, true)
            }
        }
        KernelKey::Take { dtype } | KernelKey::Gather { dtype } => {
            input_slot(&mut p, "in0", dtype, native_f16);
            output_slot(&mut p, dtype, native_f16);
            let f = if matches!(key, KernelKey::Take { .. }) {
                "take_value"
            } else {
                "gather_value"
            };
            let _ = writeln!(p, "fn value_at(i: u32) -> C_OUT {{ return {f}(i); }}");
            (GATHER, true)
        }
        KernelKey::Scatter { op, dtype } => {
            scatter_prelude(&mut p, op, dtype, native_f16);
            (SCATTER, false)
        }
        KernelKey::Softmax {
            dtype, out, vec4, ..
        } => {
            if vec4 {
                quad_input_slot(&mut p, "in0", dtype, native_f16);
                quad_output_slot(&mut p, out, native_f16);
            } else {
                input_slot(&mut p, "in0", dtype, native_f16);
                output_slot(&mut p, out, native_f16);
            }
            (SOFTMAX, false)
        }
        KernelKey::Scan { op, input, acc, .. } => {
            let ad = acc.domain();
            let comb = match op.reduce() {
                Some(r) => r.combiner().wgsl(ad).unwrap_or("a"),
                None => "wmx_logaddexp(a, b)",
            };
            accumulator_prelude(&mut p, input, acc, comb, op.identity(ad), native_f16, false);
            (SCAN, false)
        }
        KernelKey::Sort { pass, dtype } => {
            input_slot(&mut p, "in0", dtype, native_f16);
            input_slot(&mut p, "in1", dtype, native_f16);
            output_slot(&mut p, dtype, native_f16);
            let key = match dtype.domain() {
                // NaN (any payload) last; -0.0 as 0.0; then the sign-flip that orders floats.
                Domain::Float => "wmx_float_key(bitcast<u32>(x))",
                Domain::Int => "bitcast<u32>(x) ^ 0x80000000u",
                Domain::Uint => "x",
                Domain::Bool => "select(0u, 1u, x)",
            };
            p.push_str(FLOAT_KEY);
            let _ = writeln!(p, "fn sort_key(x: C_IN0) -> u32 {{ return {key}; }}");
            // Bindings: the ones this pass uses first, in order, then the rest (unused).
            let order: [&str; 7] = match pass {
                SortPass::Block => [
                    "in0", "keys_out", "idx_out", "in1", "keys_in", "idx_in", "out",
                ],
                SortPass::Merge => [
                    "keys_in", "idx_in", "keys_out", "idx_out", "in0", "in1", "out",
                ],
                SortPass::Gather => [
                    "in0", "idx_in", "out", "in1", "keys_in", "keys_out", "idx_out",
                ],
                SortPass::Search => [
                    "in0", "in1", "idx_out", "keys_in", "idx_in", "keys_out", "out",
                ],
            };
            p.push_str("@group(0) @binding(0) var<storage, read> info: array<u32>;\n");
            for (i, name) in order.iter().enumerate() {
                let (access, ty) = match *name {
                    "in0" => ("read", "S_IN0"),
                    "in1" => ("read", "S_IN1"),
                    "out" => ("read_write", "S_OUT"),
                    "keys_in" | "idx_in" => ("read", "u32"),
                    _ => ("read_write", "u32"),
                };
                let _ = writeln!(
                    p,
                    "@group(0) @binding({}) var<storage, {access}> {name}: array<{ty}>;",
                    i + 1
                );
            }
            (SORT, true)
        }
    };
    if needs_index {
        if let KernelKey::Unary { layout, .. }
        | KernelKey::Cast { layout, .. }
        | KernelKey::Binary { layout, .. }
        | KernelKey::Where { layout, .. } = *key
        {
            let f = if layout == Layout::Strided {
                "wmx_strided_index"
            } else {
                "wmx_contig_index"
            };
            let _ = writeln!(
                p,
                "fn wmx_index(i: u32, k: u32) -> u32 {{ return {f}(i, k); }}"
            );
        }
        p.push_str(INDEX);
    }
    let _ = writeln!(p, "// ---- family ----");
    p.push_str(family);
    p
}
