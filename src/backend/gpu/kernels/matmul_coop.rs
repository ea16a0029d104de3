//! The cooperative-matrix matmul family's host side (`shaders/matmul_coop.wgsl`): its tilings
//! ([`CoopVariant`], [`CoopTiling`]), the generated prelude of each, and the choice of tiling per
//! product. The key, the `info` table and the dispatch are `matmul.rs`'s (the tables agree).

use crate::backend::gpu::adapters::CoopShape;
use std::fmt::Write;

/// One tiling of `shaders/matmul_coop.wgsl`, chosen once per device (`WMX_COOP_VARIANT=<name>`,
/// see [`CoopVariant::from_env`]). Named `<block rows>x<block columns>x<K per step>`, `s` for a
/// single workgroup buffer (two barriers per step instead of double buffering), `l` for late
/// loads (issued after the step's multiplies, not before them), `w4` for 4
/// subgroups instead of 8, `v4` for workgroup tiles of `vec4<f16>` words (a staged quad is one
/// store instead of four; fragments load with strides in words).
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
    /// B128x128x32 with `vec4<f16>` tiles.
    B128x128x32v4,
    /// B256x128x32s with `vec4<f16>` tiles.
    B256x128x32sv4,
    /// B256x128x32sv4 with late loads: each step's global loads follow its multiplies.
    B256x128x32sv4l,
    /// 4 subgroups in 2x2, each 64x64, K 32, one buffer, `vec4<f16>` tiles, late loads.
    B128x128x32w4sl,
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
    /// Halves per word of the workgroup tiles: 1 (`f16`) or 4 (`vec4<f16>`).
    pub word: u32,
    /// The next step's global loads are issued after this step's multiplies, right before they
    /// are stored (no staging registers live across the multiplies), not before them.
    pub late: bool,
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
    /// Every variant.
    pub const ALL: [CoopVariant; 11] = [
        CoopVariant::B128x128x32,
        CoopVariant::B128x128x64s,
        CoopVariant::B128x256x16,
        CoopVariant::B128x256x32s,
        CoopVariant::B256x128x16,
        CoopVariant::B256x128x32s,
        CoopVariant::B128x128x32w4,
        CoopVariant::B128x128x32v4,
        CoopVariant::B256x128x32sv4,
        CoopVariant::B256x128x32sv4l,
        CoopVariant::B128x128x32w4sl,
    ];

    /// The variant used when `WMX_COOP_VARIANT` is unset. On an H100 (2026-12-07, 15:21 UTC,
    /// one call) at 4096³: 170.6 TFLOP/s against 163.2 for the same tiling with its loads
    /// before the multiplies (`256x128x32sv4`); `128x128x32w4sl` reached 175.2 there but
    /// made the llm's split 512-row products slower (32–41k tokens/s against 47k).
    pub const DEFAULT: CoopVariant = CoopVariant::B256x128x32sv4l;
    /// The variant for short products (see `coop_variant`) when `WMX_COOP_SMALL` is unset.
    pub const SMALL: CoopVariant = CoopVariant::B128x128x32v4;

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
            CoopVariant::B128x128x32v4 => "128x128x32v4",
            CoopVariant::B256x128x32sv4 => "256x128x32sv4",
            CoopVariant::B256x128x32sv4l => "256x128x32sv4l",
            CoopVariant::B128x128x32w4sl => "128x128x32w4sl",
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
        let t = |sg_m, sg_n, frag_m, frag_n, k, buffers, word| CoopTiling {
            sg_m,
            sg_n,
            frag_m,
            frag_n,
            k,
            buffers,
            word,
            late: false,
        };
        match self {
            CoopVariant::B128x128x32 => t(2, 4, 4, 2, 32, 2, 1),
            CoopVariant::B128x128x64s => t(2, 4, 4, 2, 64, 1, 1),
            CoopVariant::B128x256x16 => t(2, 4, 4, 4, 16, 2, 1),
            CoopVariant::B128x256x32s => t(2, 4, 4, 4, 32, 1, 1),
            CoopVariant::B256x128x16 => t(4, 2, 4, 4, 16, 2, 1),
            CoopVariant::B256x128x32s => t(4, 2, 4, 4, 32, 1, 1),
            CoopVariant::B128x128x32w4 => t(2, 2, 4, 4, 32, 2, 1),
            CoopVariant::B128x128x32v4 => t(2, 4, 4, 2, 32, 2, 4),
            CoopVariant::B256x128x32sv4 => t(4, 2, 4, 4, 32, 1, 4),
            CoopVariant::B256x128x32sv4l => CoopTiling {
                late: true,
                ..t(4, 2, 4, 4, 32, 1, 4)
            },
            CoopVariant::B128x128x32w4sl => CoopTiling {
                late: true,
                ..t(2, 2, 4, 4, 32, 1, 4)
            },
        }
    }
}

/// The prelude of `shaders/matmul_coop.wgsl` for `variant`: its tile constants, the workgroup
/// tiles, the accumulators (private, one per 16x16 fragment of the subgroup's region) and the
/// two functions that touch them: `mma16` (one 16-deep slice of the step) and `store_accumulators`.
pub(super) fn coop_prelude(p: &mut String, variant: CoopVariant) {
    let t = variant.tiling();
    let (a_ld, b_ld) = t.lds();
    let (a_tile, b_tile) = t.tiles();
    let inv = t.invocations();
    // Staging: each invocation loads the same column quad of A rows li / (K/4) + i * A_RSTEP,
    // and of B rows li / (BN/4) + i * B_RSTEP.
    let a_qpr = t.k / 4;
    let b_qpr = t.block_n() / 4;
    assert!(
        inv.is_multiple_of(a_qpr) && inv.is_multiple_of(b_qpr),
        "{variant:?}: staging"
    );
    let (a_rstep, b_rstep) = (inv / a_qpr, inv / b_qpr);
    assert!(
        t.block_m().is_multiple_of(a_rstep) && t.k.is_multiple_of(b_rstep),
        "{variant:?}: staging rows"
    );
    assert!(t.k.is_multiple_of(16), "{variant:?}: K step");
    let consts = [
        ("INVOCATIONS", inv),
        ("SUBGROUPS", t.sg_m * t.sg_n),
        ("SG_N", t.sg_n),
        ("WM", 16 * t.frag_m),
        ("WN", 16 * t.frag_n),
        ("CM", t.block_m()),
        ("CN", t.block_n()),
        ("CK", t.k),
        ("BUFFERS", t.buffers.max(1)),
        ("A_LD", a_ld),
        ("B_LD", b_ld),
        ("A_TILE", a_tile),
        ("B_TILE", b_tile),
        ("A_QPR", a_qpr),
        ("B_QPR", b_qpr),
        ("A_RSTEP", a_rstep),
        ("B_RSTEP", b_rstep),
        ("A_LOADS", (t.block_m() / a_rstep).max(1)),
        ("B_LOADS", (t.k / b_rstep).max(1)),
        ("TW", t.word),
    ];
    let _ = writeln!(p, "// coop variant {}", variant.name());
    for (name, v) in consts {
        let _ = writeln!(p, "const {name}: u32 = {v}u;");
    }
    let _ = writeln!(p, "const LATE: bool = {};", t.late);
    // Every tile offset (rows, fragment corners, buffers) is a multiple of 4 halves, so a word
    // of 4 halves never straddles a quad.
    assert!(
        [1, 4].contains(&t.word) && a_ld % 4 == 0 && b_ld % 4 == 0,
        "{variant:?}: tile words"
    );
    let word = if t.word == 1 { "f16" } else { "vec4<f16>" };
    for (name, halves) in [("a_tiles", a_tile), ("b_tiles", b_tile)] {
        let words = t.buffers * halves / t.word;
        let _ = writeln!(p, "var<workgroup> {name}: array<{word}, {words}>;");
    }
    // put4(which, at, v): quad `v` into the A (`which` 0) or B (1) tiles at half `at`.
    p.push_str("fn put4(which: u32, at: u32, v: vec4<f16>) {\n");
    for (which, name) in [(0, "a_tiles"), (1, "b_tiles")] {
        let _ = writeln!(p, "    if (which == {which}u) {{");
        if t.word == 1 {
            for (i, c) in ["x", "y", "z", "w"].iter().enumerate() {
                let _ = writeln!(p, "        {name}[at + {i}u] = v.{c};");
            }
        } else {
            let _ = writeln!(p, "        {name}[at >> 2u] = v;");
        }
        p.push_str("    }\n");
    }
    p.push_str("}\n");
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
    // One 16-deep slice from the workgroup tiles, at half indices `ia` and `ib`: load the
    // fragments, multiply them into the accumulators. Every pointer index is bound to a `let`
    // first (naga 30's SPIR-V writer panics on an index computed inline in a cooperative load's
    // pointer).
    p.push_str("fn mma16(ia: u32, ib: u32) {\n");
    for i in 0..t.frag_m {
        let _ = writeln!(p, "    let ia{i} = (ia + {}u) / TW;", 16 * i * a_ld);
        let _ = writeln!(
            p,
            "    let a{i} = coopLoadT<coop_mat16x16<f16, A>>(&a_tiles[ia{i}], A_LD / TW);"
        );
    }
    for j in 0..t.frag_n {
        let _ = writeln!(p, "    let ib{j} = (ib + {}u) / TW;", 16 * j);
        let _ = writeln!(
            p,
            "    let b{j} = coopLoadT<coop_mat16x16<f16, B>>(&b_tiles[ib{j}], B_LD / TW);"
        );
    }
    for i in 0..t.frag_m {
        for j in 0..t.frag_n {
            let c = acc(i, j);
            let _ = writeln!(p, "    {c} = coopMultiplyAdd(a{i}, b{j}, {c});");
        }
    }
    p.push_str("}\n");
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

/// The cooperative tiling for an `m`×`n` product (`batch` of them) on an adapter of `shape`.
///
/// Short products (at most the small tiling's block of rows: a short prompt, a few decoded
/// sequences) take the small tiling, which wastes less of its rows. Every other product takes the
/// device's tiling, however small its grid: a split K (`k_splits`) fills the GPU instead. On an
/// H100 (2026-12-07, 14:47 UTC, one call) the 1B llm's 512-token prompt ran at 47,447 tokens/s
/// with 256×128 tiles and split K for its 512-row projections, against 36,156 with 128×128 tiles
/// for them (32 to 96 workgroups, not split).
pub(super) fn coop_variant(shape: CoopShape, m: i32) -> CoopVariant {
    match shape.small {
        Some(small) if m as u32 <= small.tiling().block_m() => small,
        _ => shape.variant,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_products_take_the_small_tiling() {
        let shape = CoopShape {
            m: 16,
            n: 16,
            k: 16,
            variant: CoopVariant::DEFAULT,
            small: Some(CoopVariant::B128x128x32),
            subgroups_of_32: true,
        };
        assert_eq!(coop_variant(shape, 4096), CoopVariant::DEFAULT);
        // A 512-token prompt's projections: the default tiling (split K fills the GPU).
        assert_eq!(coop_variant(shape, 512), CoopVariant::DEFAULT);
        // 128 rows fit one small block.
        assert_eq!(coop_variant(shape, 128), CoopVariant::B128x128x32);
        assert_eq!(coop_variant(shape, 129), CoopVariant::DEFAULT);
        // `WMX_COOP_VARIANT` pins the tiling (no small one).
        let pinned = CoopShape {
            small: None,
            ..shape
        };
        assert_eq!(coop_variant(pinned, 1), CoopVariant::DEFAULT);
    }
}
