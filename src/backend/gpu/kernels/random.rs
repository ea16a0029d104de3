//! The random families (`shaders/random.wgsl`: one output word per invocation;
//! `shaders/random_pairs.wgsl`: one Threefry hash per invocation for 32-bit outputs; both with
//! `shaders/threefry.wgsl`): their key, prelude (`finish`), `info` table and dispatch.

use super::slots::{output_slot, per_word, short, unpacked};
use super::{Family, INDEX, KernelKey, WG, info_words, write_info};
use crate::backend::Data;
use crate::backend::gpu::{Gpu, grid};
use crate::dtype::Dtype;
use crate::error::Result;
use std::fmt::{self, Write};

const RANDOM: &str = include_str!("../../../../shaders/random.wgsl");
const THREEFRY: &str = include_str!("../../../../shaders/threefry.wgsl");
const RANDOM_PAIRS: &str = include_str!("../../../../shaders/random_pairs.wgsl");

/// One random kernel.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum RandomKey {
    /// MLX's Threefry bits of `width` bytes: uint8 output for width 1, uint32 for 2 and 4, or
    /// (width 4) MLX's uniform [0, 1) sample in a float `out` dtype, in one pass.
    Bits { width: u8, out: Dtype },
    /// Width-4 bits (or uniform floats) into an unpacked `out`, one hash per invocation.
    Pairs { out: Dtype },
}

info_words! {
    /// The random `info` table: `[n_total, n_per_key, width, W (words per key), H (ceil(W / 2)),
    /// pairs_total (random_pairs only)]`.
    mod info {
        N = 0,
        PER_KEY = 1,
        WIDTH = 2,
        WORDS = 3,
        HALF = 4,
        PAIRS = 5,
    }
}

impl RandomKey {
    fn out(&self) -> Dtype {
        match *self {
            RandomKey::Bits { out, .. } | RandomKey::Pairs { out } => out,
        }
    }
}

impl fmt::Display for RandomKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entry = self.entry();
        match *self {
            RandomKey::Bits { width, out } => write!(f, "{entry}.w{width}.{}", short(out)),
            RandomKey::Pairs { out } => write!(f, "{entry}.{}", short(out)),
        }
    }
}

impl Family for RandomKey {
    fn entry(&self) -> &'static str {
        match self {
            RandomKey::Bits { .. } => "random_bits",
            RandomKey::Pairs { .. } => "random_pairs",
        }
    }

    fn out_dtype(&self) -> Dtype {
        self.out()
    }

    fn trusted(&self) -> bool {
        false
    }

    fn uses_f16(&self) -> bool {
        self.out() == Dtype::Float16
    }

    fn prelude(&self, p: &mut String, native_f16: bool) -> &'static str {
        let out = self.out();
        write_info(p, info::NAMED);
        output_slot(p, out, native_f16);
        let finish = if out.is_float() {
            // f32(bits) / 2^32 (exact: the conversion rounds once, the scaling is a power of
            // two), kept below 1 in the output dtype, as MLX's uniform does.
            format!(
                "min(wmx_u32_to_f32(b) * 2.3283064365386963e-10, bitcast<f32>({}u))",
                crate::random::below_one(out).to_bits()
            )
        } else {
            "b".to_string()
        };
        let _ = writeln!(p, "fn finish(b: u32) -> C_OUT {{ return {finish}; }}");
        p.push_str(THREEFRY);
        match self {
            RandomKey::Bits { .. } => {
                p.push_str(INDEX);
                RANDOM
            }
            RandomKey::Pairs { .. } => RANDOM_PAIRS,
        }
    }

    fn all(native_f16: bool) -> Vec<Self> {
        let mut keys = vec![RandomKey::Bits {
            width: 1,
            out: Dtype::Uint8,
        }];
        for width in [2, 4] {
            keys.push(RandomKey::Bits {
                width,
                out: Dtype::Uint32,
            });
        }
        for out in [Dtype::Float32, Dtype::Float16, Dtype::Bfloat16] {
            keys.push(RandomKey::Bits { width: 4, out });
        }
        for out in [Dtype::Uint32, Dtype::Float32, Dtype::Float16]
            .into_iter()
            .filter(|&d| unpacked(d, native_f16))
        {
            keys.push(RandomKey::Pairs { out });
        }
        keys
    }
}

impl Gpu<'_> {
    /// MLX's Threefry bits for every key in `keys` (dense u32 pairs).
    pub(in crate::backend::gpu) fn random_bits(
        &self,
        keys: &Data,
        width: u32,
        per_key: usize,
        n: usize,
        dtype: Dtype,
        shape: &[i32],
    ) -> Result<Data> {
        self.check_index_range(n.max(per_key * width as usize))?;
        let out = self.out(dtype, n)?;
        let words = (per_key as u64 * width as u64).div_ceil(4);
        let h = words.div_ceil(2);
        let n_keys = n.checked_div(per_key).unwrap_or(0) as u64;
        let mut info = vec![0u32; info::PAIRS];
        info[info::N] = n as u32;
        info[info::PER_KEY] = per_key.max(1) as u32;
        info[info::WIDTH] = width;
        info[info::WORDS] = words as u32;
        info[info::HALF] = h as u32;
        // 32-bit unpacked outputs: one hash per invocation gives two words.
        let (key, groups) = if width == 4 && unpacked(dtype, self.ctx.native_f16) {
            info.push((n_keys * h) as u32);
            (
                RandomKey::Pairs { out: dtype },
                (n_keys * h).div_ceil(WG as u64),
            )
        } else {
            let key = RandomKey::Bits {
                width: width as u8,
                out: dtype,
            };
            (
                key,
                (n as u64)
                    .div_ceil(per_word(dtype, self.ctx.native_f16) as u64)
                    .div_ceil(WG as u64),
            )
        };
        self.ctx.dispatch(
            self.stream,
            &KernelKey::Random(key),
            &[crate::backend::gpu::buf(keys)?, &out],
            &info,
            grid(groups, self.max_groups()),
        )?;
        Ok(self.data(out, dtype, shape))
    }
}
