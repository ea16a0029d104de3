//! The attention family (`shaders/attention.wgsl`: flash-attention-style scaled dot-product
//! attention with an online softmax over key/value tiles in workgroup memory, f32 arithmetic;
//! `shaders/attention_coop.wgsl`: the f16 kernel on cooperative matrices, generated fragment
//! code in its prelude): its key, the tile sizes and the workgroup-memory checks, the preludes,
//! the `info` table and dispatch.

use super::slots::{input_slot, output_slot, short, widen};
use super::{Family, KernelKey, info_words, write_info};
use crate::backend::Data;
use crate::backend::gpu::{Gpu, buf, grid};
use crate::dtype::Dtype;
use crate::error::Result;
use crate::shape::size_of;
use std::fmt::{self, Write};

const ATTENTION: &str = include_str!("../../../../shaders/attention.wgsl");
const ATTENTION_COOP: &str = include_str!("../../../../shaders/attention_coop.wgsl");

/// Query rows per workgroup.
const BQ: u32 = 64;
/// Keys per tile.
const BK: u32 = 64;
/// Head-dimension chunks of the score product: the wider one where workgroup memory allows
/// (half the barriers per key tile), else the narrower (see [`attention_chunk`]).
const DC_WIDE: u32 = 32;
const DC_NARROW: u32 = 16;
/// Padded row stride (f32s) of the d-major query/key chunks and the key-major probabilities:
/// rows stay 16-byte aligned for vec4 reads.
const PAD: u32 = 4;
/// f32s of the shared value chunk per unit of the head-dimension chunk: 4096 for chunks of 32.
const KV_FLOATS_PER_DC: u32 = 128;

/// Output features per invocation, in quads of 64 (`FC`), and the padded value width `64 FC`.
fn feature_chunks(dv: u32) -> u32 {
    dv.div_ceil(64)
}

/// Keys per value chunk with head-dimension chunk `dc`: the most (a power of two, at most 32)
/// whose values fit `dc * KV_FLOATS_PER_DC` f32s.
fn key_chunk(dv: u32, dc: u32) -> u32 {
    let dvp = 64 * feature_chunks(dv);
    let mut kc = 32;
    while kc > 1 && kc * dvp > dc * KV_FLOATS_PER_DC {
        kc /= 2;
    }
    kc
}

/// Attention over dense q, k, v of `dtype` (head dimensions `d` and `dv`) into an unpacked
/// `out`; `causal`, and `mask` for an f32 additive mask; `coop` for the cooperative-matrix
/// kernel (f16 only, see [`attention_coop_fits`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct AttentionKey {
    pub dtype: Dtype,
    pub out: Dtype,
    pub d: u32,
    pub dv: u32,
    pub causal: bool,
    pub mask: bool,
    pub coop: bool,
    /// The cooperative kernel's key/value tile buffers (see [`attention_coop_buffers`]; 1 for
    /// the other kernel).
    pub buffers: u32,
    /// The other kernel's head-dimension chunk, 16 or 32 (see [`attention_chunk`]; 16 for the
    /// cooperative kernel).
    pub chunk: u32,
}

info_words! {
    /// The attention `info` table.
    mod info {
        BH = 0,
        HQ = 1,
        HK = 2,
        LQ = 3,
        LK = 4,
        SCALE = 5,
        MOFF = 6,
        MSB = 7,
        MSH = 8,
        MSI = 9,
        MSJ = 10,
    }
}

/// f32s of the shared key/value chunk buffer (a d-major key chunk or a value chunk).
fn kv_floats(dv: u32, dc: u32) -> u32 {
    (dc * (BK + PAD)).max(key_chunk(dv, dc) * 64 * feature_chunks(dv))
}

/// Workgroup memory of the kernel for value head dimension `dv` and head-dimension chunk `dc`
/// (bytes): the query chunk, the key/value chunk and the probabilities.
fn workgroup_bytes(dv: u32, dc: u32) -> u64 {
    4 * (dc * (BQ + PAD) + kv_floats(dv, dc) + BK * (BQ + PAD)) as u64
}

/// The head-dimension chunk the (non-cooperative) attention kernel uses for head dimensions `d`
/// and `dv` within `max_bytes` of workgroup memory: 32 where it fits (42,496 bytes at `dv` 128)
/// and `d` is over 16, else 16, else `None` (see [`attention_fits`]). `WMX_ATTENTION_CHUNK=16`
/// keeps 16 (for measuring).
///
/// ```
/// use wmx::kernels::attention_chunk;
/// assert_eq!(attention_chunk(128, 128, 49152), Some(32));
/// assert_eq!(attention_chunk(128, 128, 32768), Some(16));
/// assert_eq!(attention_chunk(16, 16, 49152), Some(16));
/// assert_eq!(attention_chunk(128, 128, 16384), None);
/// ```
pub fn attention_chunk(d: u32, dv: u32, max_bytes: u32) -> Option<u32> {
    static NARROW: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let narrow =
        *NARROW.get_or_init(|| std::env::var("WMX_ATTENTION_CHUNK").as_deref() == Ok("16"));
    let shape_ok = d > 0 && d.is_multiple_of(4) && d <= 256 && dv > 0 && dv <= 256;
    // Head dimensions of 16 or less would only pad the wide chunk with zeros.
    [DC_WIDE, DC_NARROW]
        .into_iter()
        .filter(|&dc| !(dc == DC_WIDE && (narrow || d <= DC_NARROW)))
        .find(|&dc| shape_ok && workgroup_bytes(dv, dc) <= max_bytes as u64)
}

/// True when the kernel takes head dimensions `d` (a multiple of 4, at most 256) and `dv` (at
/// most 256) within `max_bytes` of workgroup memory.
///
/// ```
/// use wmx::kernels::attention_fits;
/// assert!(attention_fits(128, 128, 32768));
/// assert!(attention_fits(256, 256, 32768));
/// assert!(!attention_fits(128, 128, 16384));
/// assert!(!attention_fits(6, 6, 32768));
/// ```
pub fn attention_fits(d: u32, dv: u32, max_bytes: u32) -> bool {
    attention_chunk(d, dv, max_bytes).is_some()
}

/// Query rows per workgroup of the cooperative kernel (4 subgroups of 16 rows).
const COOP_BQ: u32 = 64;
/// Keys per tile of the cooperative kernel: two 16-key score blocks, one per half subgroup (the
/// lane layout of `shaders/attention_coop.wgsl` and `scores` below are written for two).
const COOP_BK: u32 = 32;
/// Row padding (halves) of the cooperative kernel's f16 tiles: 16-byte aligned fragment rows.
const COOP_PAD: u32 = 8;

/// Halves of one key + value tile buffer of the cooperative kernel.
fn coop_buffer_halves(d: u32, dv: u32) -> u32 {
    COOP_BK * (d + COOP_PAD + dv + COOP_PAD)
}

/// Halves of the cooperative kernel's shared tiles: the query tile at the start, then
/// `buffers` key + value tile buffers over it.
fn coop_tile_halves(d: u32, dv: u32, buffers: u32) -> u32 {
    (COOP_BQ * (d + COOP_PAD)).max(buffers * coop_buffer_halves(d, dv))
}

/// A probability row's stride (halves) in the cooperative kernel: 16-byte aligned rows whose
/// 16-byte fragment reads fall in distinct banks.
const COOP_LDP: u32 = COOP_BK + 8;
/// Stride (f32) of the cooperative kernel's 16 x 16 score blocks: 256 plus 16, so the two
/// halves of a tile's scores sit in different banks.
const COOP_SCB: u32 = 272;

/// Workgroup memory of the cooperative kernel (bytes) with `buffers` key/value tile buffers:
/// the tiles, the f32 score scratch and the f16 probabilities of its 4 subgroups.
fn coop_workgroup_bytes(d: u32, dv: u32, buffers: u32) -> u64 {
    let blocks = (COOP_BK / 16) as u64;
    2 * coop_tile_halves(d, dv, buffers) as u64
        + 4 * 4 * blocks * COOP_SCB as u64
        + 2 * 4 * 16 * COOP_LDP as u64
}

/// The key/value tile buffers the cooperative-matrix kernel uses for head dimensions `d` and
/// `dv` (multiples of 16, at most 128) within `max_bytes` of workgroup memory: 2 (the next tile
/// stored while this one is read) where they fit, else 1, else `None` (the kernel does not fit).
///
/// ```
/// use wmx::kernels::attention_coop_buffers;
/// assert_eq!(attention_coop_buffers(128, 128, 49152), Some(2));
/// assert_eq!(attention_coop_buffers(128, 128, 32768), Some(1));
/// assert_eq!(attention_coop_buffers(64, 64, 32768), Some(2));
/// assert_eq!(attention_coop_buffers(80, 72, 49152), None);
/// assert_eq!(attention_coop_buffers(256, 256, 49152), None);
/// ```
pub fn attention_coop_buffers(d: u32, dv: u32, max_bytes: u32) -> Option<u32> {
    let shape_ok =
        d > 0 && d.is_multiple_of(16) && d <= 128 && dv > 0 && dv.is_multiple_of(16) && dv <= 128;
    [2, 1]
        .into_iter()
        .find(|&b| shape_ok && coop_workgroup_bytes(d, dv, b) <= max_bytes as u64)
}

/// True when the cooperative-matrix kernel takes head dimensions `d` and `dv` (multiples of 16,
/// at most 128) within `max_bytes` of workgroup memory (see [`attention_coop_buffers`]).
///
/// ```
/// use wmx::kernels::attention_coop_fits;
/// assert!(attention_coop_fits(128, 128, 32768));
/// assert!(!attention_coop_fits(80, 72, 32768));
/// assert!(!attention_coop_fits(256, 256, 49152));
/// ```
pub fn attention_coop_fits(d: u32, dv: u32, max_bytes: u32) -> bool {
    attention_coop_buffers(d, dv, max_bytes).is_some()
}

/// The cooperative kernel's prelude: its sizes, the fragments (private: the subgroup's query
/// fragments, output accumulators, two score accumulators and a zero) and the functions that
/// touch them, unrolled over the head dimensions. Tiles are `vec4<f16>` words: every offset
/// below is in halves and divided by 4 at the fragment. Every pointer index is bound to a `let`
/// first (naga 30's SPIR-V writer panics on an index computed inline in a cooperative load).
fn coop_prelude(p: &mut String, d: u32, dv: u32, buffers: u32) {
    let (ld, ldv) = (d + COOP_PAD, dv + COOP_PAD);
    let tile_halves = coop_tile_halves(d, dv, buffers);
    for (name, value) in [
        ("BQ", COOP_BQ),
        ("BK", COOP_BK),
        ("D", d),
        ("DV", dv),
        ("LDQ", ld),
        ("LDK", ld),
        ("LDV", ldv),
        ("LDP", COOP_LDP),
        ("SCB", COOP_SCB),
        ("SCS", COOP_BK / 16 * COOP_SCB),
        ("PFS", 16 * COOP_LDP),
        ("NKV", COOP_BK * (d + dv) / 4 / 128),
        ("V_AT", COOP_BK * ld),
        ("BUF", coop_buffer_halves(d, dv)),
        ("BUFFERS", buffers),
        ("TILE_WORDS", tile_halves / 4),
    ] {
        let _ = writeln!(p, "const {name}: u32 = {value}u;");
    }
    let (nq, no) = (d / 16, dv / 16);
    for i in 0..nq {
        let _ = writeln!(p, "var<private> qf_{i}: coop_mat16x16<f16, A>;");
    }
    for f in 0..no {
        let _ = writeln!(p, "var<private> of_{f}: coop_mat16x16<f32, C>;");
    }
    for name in ["sacc0", "sacc1", "czero"] {
        let _ = writeln!(p, "var<private> {name}: coop_mat16x16<f32, C>;");
    }
    p.push_str("fn load_q_frags(base: u32) {\n");
    for i in 0..nq {
        let _ = writeln!(p, "    let iq{i} = (base + {}u) / 4u;", 16 * i);
        let _ = writeln!(
            p,
            "    qf_{i} = coopLoadT<coop_mat16x16<f16, A>>(&tiles[iq{i}], LDQ / 4u);"
        );
    }
    p.push_str("}\n");
    // Both 16-key blocks at once: two independent accumulation chains.
    p.push_str("fn scores(kvb: u32, dst: u32) {\n    sacc0 = czero;\n    sacc1 = czero;\n");
    for i in 0..nq {
        for kb in 0..2 {
            let _ = writeln!(
                p,
                "    let ik{kb}_{i} = (kvb + {}u) / 4u;",
                kb * 16 * ld + 16 * i
            );
            let _ = writeln!(
                p,
                "    let kf{kb}_{i} = coopLoad<coop_mat16x16<f16, B>>(&tiles[ik{kb}_{i}], LDK / 4u);"
            );
            let _ = writeln!(
                p,
                "    sacc{kb} = coopMultiplyAdd(qf_{i}, kf{kb}_{i}, sacc{kb});"
            );
        }
    }
    p.push_str(
        "    let d1 = dst + SCB;\n    coopStore(sacc0, &sc[dst], 16u);\n    \
         coopStore(sacc1, &sc[d1], 16u);\n}\n",
    );
    p.push_str("fn pv(kvb: u32, pbase: u32) {\n");
    for kb in 0..COOP_BK / 16 {
        let _ = writeln!(p, "    let ip{kb} = (pbase + {}u) / 4u;", 16 * kb);
        let _ = writeln!(
            p,
            "    let pa{kb} = coopLoadT<coop_mat16x16<f16, A>>(&pf[ip{kb}], LDP / 4u);"
        );
        for f in 0..no {
            let _ = writeln!(
                p,
                "    let iv{kb}_{f} = (kvb + V_AT + {}u) / 4u;",
                16 * kb * ldv + 16 * f
            );
            let _ = writeln!(
                p,
                "    let vb{kb}_{f} = coopLoadT<coop_mat16x16<f16, B>>(&tiles[iv{kb}_{f}], LDV / 4u);"
            );
            let _ = writeln!(
                p,
                "    of_{f} = coopMultiplyAdd(pa{kb}, vb{kb}_{f}, of_{f});"
            );
        }
    }
    p.push_str("}\n");
    // Each accumulator through the subgroup's scratch (16 x 16, row-major): rescaled in place
    // (`rescale`) or times the row's factor into out (`store_o`). Row r's factor is lane r's
    // `a`; every lane takes part in the shuffle before the bounds check. The scratch is the
    // subgroup's own: subgroup barriers order it.
    for (name, args) in [("rescale", ""), ("store_o", ", obase: u32, rows: u32")] {
        let _ = writeln!(p, "fn {name}(scratch: u32, lane: u32{args}, a: f32) {{");
        for f in 0..no {
            p.push_str("    subgroupBarrier();\n");
            let _ = writeln!(p, "    coopStoreT(of_{f}, &sc[scratch], 16u);");
            p.push_str("    subgroupBarrier();\n");
            p.push_str(
                "    for (var e = lane; e < 256u; e = e + 32u) {
        let r = e >> 4u;
        let x = sc[scratch + e] * subgroupShuffle(a, r);
",
            );
            if name == "rescale" {
                p.push_str("        sc[scratch + e] = x;\n    }\n    subgroupBarrier();\n");
                let _ = writeln!(
                    p,
                    "    of_{f} = coopLoadT<coop_mat16x16<f32, C>>(&sc[scratch], 16u);"
                );
            } else {
                let _ = writeln!(
                    p,
                    "        if (r < rows) {{ store_out1(obase + r * DV + {}u + (e & 15u), x); }}\n    }}",
                    16 * f
                );
            }
        }
        p.push_str("}\n");
    }
}

impl fmt::Display for AttentionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}.{}.d{}.dv{}{}{}{}{}{}",
            self.entry(),
            short(self.dtype),
            short(self.out),
            self.d,
            self.dv,
            if self.causal { ".causal" } else { "" },
            if self.mask { ".mask" } else { "" },
            if self.coop { ".coop" } else { "" },
            if self.buffers == 2 { ".b2" } else { "" },
            if !self.coop && self.chunk != DC_NARROW {
                format!(".c{}", self.chunk)
            } else {
                String::new()
            },
        )
    }
}

impl Family for AttentionKey {
    fn entry(&self) -> &'static str {
        if self.coop {
            "attention_coop"
        } else {
            "attention_tiles"
        }
    }

    fn out_dtype(&self) -> Dtype {
        self.out
    }

    fn trusted(&self) -> bool {
        true
    }

    fn uses_f16(&self) -> bool {
        self.dtype == Dtype::Float16 || self.out == Dtype::Float16
    }

    fn extensions(&self) -> &'static str {
        if self.coop {
            "enable wgpu_cooperative_matrix;\n"
        } else {
            ""
        }
    }

    fn workgroup(&self) -> u32 {
        if self.coop { 128 } else { 256 }
    }

    fn prelude(&self, p: &mut String, native_f16: bool) -> &'static str {
        write_info(p, info::NAMED);
        if self.coop {
            let _ = writeln!(p, "const CAUSAL: bool = {};", self.causal);
            let _ = writeln!(p, "const HAS_MASK: bool = {};", self.mask);
            let mk = if self.mask {
                Dtype::Float32
            } else {
                self.dtype
            };
            input_slot(p, "mk", mk, native_f16);
            output_slot(p, self.out, native_f16);
            coop_prelude(p, self.d, self.dv, self.buffers);
            return ATTENTION_COOP;
        }
        let dc = self.chunk;
        let (fc, kc) = (feature_chunks(self.dv), key_chunk(self.dv, dc));
        let kv_words = kv_floats(self.dv, dc) / 4;
        for (name, value) in [
            ("BQ", BQ),
            ("BK", BK),
            ("DC", dc),
            ("KC", kc),
            ("D", self.d),
            ("DV", self.dv),
            ("FC", fc),
            ("DVP", 64 * fc),
            ("QTS", BQ + PAD),
            ("KTS", BK + PAD),
            ("KV_WORDS", kv_words),
        ] {
            let _ = writeln!(p, "const {name}: u32 = {value}u;");
        }
        let _ = writeln!(p, "const CAUSAL: bool = {};", self.causal);
        let _ = writeln!(p, "const HAS_MASK: bool = {};", self.mask);
        for slot in ["q", "k", "v"] {
            input_slot(p, slot, self.dtype, native_f16);
        }
        // Without a mask the binding holds q (never read); typed by q's storage.
        let mk = if self.mask {
            Dtype::Float32
        } else {
            self.dtype
        };
        input_slot(p, "mk", mk, native_f16);
        output_slot(p, self.out, native_f16);
        ATTENTION
    }

    fn all(native_f16: bool) -> Vec<Self> {
        let mut keys = Vec::new();
        for dtype in Dtype::ALL.into_iter().filter(|d| d.is_float()) {
            for (d, dv) in [
                (32, 32),
                (64, 64),
                (80, 80),
                (128, 128),
                (64, 32),
                (4, 6),
                (256, 256),
            ] {
                for (causal, mask) in [(false, false), (true, false), (false, true), (true, true)] {
                    let key = AttentionKey {
                        dtype,
                        out: widen(dtype, native_f16),
                        d,
                        dv,
                        causal,
                        mask,
                        coop: false,
                        buffers: 1,
                        chunk: DC_NARROW,
                    };
                    for max in [32768, 49152] {
                        if let Some(chunk) = attention_chunk(d, dv, max) {
                            let tiles = AttentionKey { chunk, ..key };
                            if !keys.contains(&tiles) {
                                keys.push(tiles);
                            }
                        }
                    }
                    if native_f16 && dtype == Dtype::Float16 {
                        for max in [32768, 49152] {
                            if let Some(buffers) = attention_coop_buffers(d, dv, max) {
                                let coop = AttentionKey {
                                    coop: true,
                                    buffers,
                                    ..key
                                };
                                if !keys.contains(&coop) {
                                    keys.push(coop);
                                }
                            }
                        }
                    }
                }
            }
        }
        keys
    }
}

impl Gpu<'_> {
    /// Attention of q, k, v (then an f32 mask view of `[B, Hq, Lq, Lk]`) into a dense `dt`
    /// output of `shape` (`[B, Hq, Lq, Dv]`).
    pub(in crate::backend::gpu) fn attention(
        &self,
        inputs: &[(Vec<i32>, Data)],
        scale: f32,
        causal: bool,
        shape: &[i32],
        dt: Dtype,
    ) -> Result<Data> {
        let dense = |i: usize| -> Result<Data> {
            let (s, d) = &inputs[i];
            self.check_index_range(size_of(s))?;
            self.dense_from_start(s, d)
        };
        let (q, k, v) = (dense(0)?, dense(1)?, dense(2)?);
        let (qs, ks, vs) = (&inputs[0].0, &inputs[1].0, &inputs[2].0);
        let mut info = [0u32; info::MSJ + 1];
        let mask = match inputs.get(3) {
            Some((_, m)) => {
                info[info::MOFF] = m.offset as u32;
                for (w, st) in [info::MSB, info::MSH, info::MSI, info::MSJ]
                    .into_iter()
                    .zip(&m.strides)
                {
                    info[w] = *st as i32 as u32;
                }
                Some(m.clone())
            }
            None => None,
        };
        let (d, dv) = (qs[3] as u32, vs[3] as u32);
        // Tensor cores for f16 where the device has them (subgroups of 32: the kernel's lane
        // layout); q, k and v are read as vec4<f16> quads (dense from element 0, D % 16 == 0).
        let buffers =
            attention_coop_buffers(d, dv, self.ctx.limits.max_compute_workgroup_storage_size)
                .filter(|_| {
                    dt == Dtype::Float16
                        && self.ctx.native_f16
                        && self.ctx.coop.is_some_and(|c| c.subgroups_of_32)
                });
        let coop = buffers.is_some();
        let chunk = attention_chunk(d, dv, self.ctx.limits.max_compute_workgroup_storage_size)
            .filter(|_| !coop)
            .unwrap_or(DC_NARROW);
        let key = KernelKey::Attention(AttentionKey {
            dtype: dt,
            out: widen(dt, self.ctx.native_f16),
            d,
            dv,
            causal,
            mask: mask.is_some(),
            coop,
            buffers: buffers.unwrap_or(1),
            chunk,
        });
        let acc = key.out_dtype();
        let n = size_of(shape);
        self.check_index_range(n)?;
        let out = self.out(acc, n)?;
        info[info::BH] = (qs[0] * qs[1]) as u32;
        info[info::HQ] = qs[1] as u32;
        info[info::HK] = ks[1] as u32;
        info[info::LQ] = qs[2] as u32;
        info[info::LK] = ks[2] as u32;
        info[info::SCALE] = scale.to_bits();
        let rows = if coop { COOP_BQ } else { BQ };
        let groups = info[info::BH] as u64 * (qs[2] as u64).div_ceil(rows as u64);
        if n > 0 {
            let m = match &mask {
                Some(m) => buf(m)?,
                None => buf(&q)?,
            };
            self.ctx.dispatch(
                self.stream,
                &key,
                &[buf(&q)?, buf(&k)?, buf(&v)?, m, &out],
                &info,
                grid(groups, self.max_groups()),
            )?;
        }
        let result = self.data(out, acc, shape);
        if acc != dt {
            return self.cast(shape, &result, acc, dt);
        }
        Ok(result)
    }
}
