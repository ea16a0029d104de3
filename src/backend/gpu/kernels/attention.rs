//! The attention family (`shaders/attention.wgsl`: flash-attention-style scaled dot-product
//! attention with an online softmax over key/value tiles in workgroup memory): its key, the
//! tile sizes and the workgroup-memory check, its prelude, `info` table and dispatch.

use super::slots::{input_slot, output_slot, short, widen};
use super::{Family, KernelKey, info_words, write_info};
use crate::backend::Data;
use crate::backend::gpu::{Gpu, buf, grid};
use crate::dtype::Dtype;
use crate::error::Result;
use crate::shape::size_of;
use std::fmt::{self, Write};

const ATTENTION: &str = include_str!("../../../../shaders/attention.wgsl");

/// Query rows per workgroup.
const BQ: u32 = 64;
/// Keys per tile.
const BK: u32 = 64;
/// Head-dimension chunk of the score product.
const DC: u32 = 16;
/// Padded row stride (f32s) of the d-major query/key chunks and the key-major probabilities:
/// rows stay 16-byte aligned for vec4 reads.
const PAD: u32 = 4;
/// f32s of the shared key/value chunk buffer (a d-major key chunk or a value chunk).
const KV_FLOATS: u32 = 2048;

/// Output features per invocation, in quads of 64 (`FC`), and the padded value width `64 FC`.
fn feature_chunks(dv: u32) -> u32 {
    dv.div_ceil(64)
}

/// Keys per value chunk: the most (a power of two, at most 32) whose values fit `KV_FLOATS`.
fn key_chunk(dv: u32) -> u32 {
    let dvp = 64 * feature_chunks(dv);
    let mut kc = 32;
    while kc > 1 && kc * dvp > KV_FLOATS {
        kc /= 2;
    }
    kc
}

/// Attention over dense q, k, v of `dtype` (head dimensions `d` and `dv`) into an unpacked
/// `out`; `causal`, and `mask` for an f32 additive mask.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct AttentionKey {
    pub dtype: Dtype,
    pub out: Dtype,
    pub d: u32,
    pub dv: u32,
    pub causal: bool,
    pub mask: bool,
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

/// Workgroup memory of the kernel for value head dimension `dv` (bytes): the query chunk, the
/// key/value chunk and the probabilities.
fn workgroup_bytes(dv: u32) -> u64 {
    let kv = (DC * (BK + PAD)).max(key_chunk(dv) * 64 * feature_chunks(dv));
    4 * (DC * (BQ + PAD) + kv + BK * (BQ + PAD)) as u64
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
    d > 0
        && d.is_multiple_of(4)
        && d <= 256
        && dv > 0
        && dv <= 256
        && workgroup_bytes(dv) <= max_bytes as u64
}

impl fmt::Display for AttentionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}.{}.d{}.dv{}{}{}",
            self.entry(),
            short(self.dtype),
            short(self.out),
            self.d,
            self.dv,
            if self.causal { ".causal" } else { "" },
            if self.mask { ".mask" } else { "" },
        )
    }
}

impl Family for AttentionKey {
    fn entry(&self) -> &'static str {
        "attention_tiles"
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

    fn workgroup(&self) -> u32 {
        256
    }

    fn prelude(&self, p: &mut String, native_f16: bool) -> &'static str {
        write_info(p, info::NAMED);
        let (fc, kc) = (feature_chunks(self.dv), key_chunk(self.dv));
        let kv_words = (DC * (BK + PAD)).max(kc * 64 * fc) / 4;
        for (name, value) in [
            ("BQ", BQ),
            ("BK", BK),
            ("DC", DC),
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
                    keys.push(AttentionKey {
                        dtype,
                        out: widen(dtype, native_f16),
                        d,
                        dv,
                        causal,
                        mask,
                    });
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
        let key = KernelKey::Attention(AttentionKey {
            dtype: dt,
            out: widen(dt, self.ctx.native_f16),
            d: qs[3] as u32,
            dv: vs[3] as u32,
            causal,
            mask: mask.is_some(),
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
        let groups = info[info::BH] as u64 * (qs[2] as u64).div_ceil(BQ as u64);
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
