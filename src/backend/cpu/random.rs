//! CPU kernel of `bits`: MLX's Threefry-2x32 counter layout (see shaders/random.wgsl, the same
//! algorithm), parallel over output elements.

use crate::backend::host::HostVec;
use rayon::prelude::*;

/// Threefry-2x32, 20 rounds.
pub(crate) fn threefry(k0: u32, k1: u32, c0: u32, c1: u32) -> (u32, u32) {
    const ROT: [[u32; 4]; 2] = [[13, 15, 26, 6], [17, 29, 16, 24]];
    let ks = [k0, k1, k0 ^ k1 ^ 0x1BD1_1BDA];
    let (mut x0, mut x1) = (c0.wrapping_add(ks[0]), c1.wrapping_add(ks[1]));
    for i in 0..5 {
        for &r in &ROT[i % 2] {
            x0 = x0.wrapping_add(x1);
            x1 = x1.rotate_left(r) ^ x0;
        }
        x0 = x0.wrapping_add(ks[(i + 1) % 3]);
        x1 = x1.wrapping_add(ks[(i + 2) % 3]).wrapping_add(i as u32 + 1);
    }
    (x0, x1)
}

/// Word `w` of one key's stream of `nw` words (`h` = ceil(nw / 2)).
fn stream_word(k0: u32, k1: u32, w: u32, nw: u32, h: u32) -> u32 {
    let half = nw / 2;
    if w < half {
        threefry(k0, k1, w, w + h).0
    } else if w < h {
        threefry(k0, k1, half, 0).0
    } else {
        threefry(k0, k1, w - h, w).1
    }
}

/// Bits for `keys` (pairs) with `n` elements of `width` bytes per key; u8 for width 1, else u32.
pub(crate) fn bits(keys: &[u32], n: usize, width: u32) -> HostVec {
    let bytes = n as u64 * width as u64;
    let nw = bytes.div_ceil(4) as u32;
    let h = nw.div_ceil(2);
    let value = |i: usize| -> u32 {
        let (k, e) = (i / n, (i % n) as u64);
        let byte = e * width as u64;
        let word = stream_word(keys[2 * k], keys[2 * k + 1], (byte / 4) as u32, nw, h);
        match width {
            4 => word,
            2 => (word >> ((byte % 4) * 8)) & 0xffff,
            _ => (word >> ((byte % 4) * 8)) & 0xff,
        }
    };
    let total = keys.len() / 2 * n;
    if width == 1 {
        HostVec::U8((0..total).into_par_iter().map(|i| value(i) as u8).collect())
    } else {
        HostVec::U32((0..total).into_par_iter().map(value).collect())
    }
}

/// MLX's uniform [0, 1) samples of a float `dtype` from 32-bit bits: `f32(b) / 2^32`, kept below 1
/// in `dtype`, rounded once to `dtype`.
pub(crate) fn unit_floats(b: Vec<u32>, dtype: crate::dtype::Dtype) -> HostVec {
    let upper = crate::random::below_one(dtype);
    let scale = 2f32.powi(-32);
    let u: Vec<f32> = b
        .into_par_iter()
        .map(|x| (x as f32 * scale).min(upper))
        .collect();
    super::copy::from_f32(dtype, u)
}

#[cfg(test)]
mod tests {
    #[test]
    fn threefry_matches_the_known_answer() {
        // bits([], 4, key(0)) in MLX.
        assert_eq!(super::threefry(0, 0, 0, 0).0, 0x6b20_0159);
    }
}
