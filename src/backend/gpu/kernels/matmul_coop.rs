//! The cooperative-matrix matmul family's host side (`shaders/matmul_coop.wgsl`): its tilings
//! ([`CoopVariant`], [`CoopTiling`]), the generated prelude of each, and the choice of tiling per
//! product. The key, the `info` table and the dispatch are `matmul.rs`'s (the tables agree).

use super::matmul::SMALL_GRID;
use crate::backend::gpu::adapters::CoopShape;
use std::fmt::Write;

/// One tiling of `shaders/matmul_coop.wgsl`, chosen once per device (`WMX_COOP_VARIANT=<name>`,
/// see [`CoopVariant::from_env`]). Named `<block rows>x<block columns>x<K per step>`, `s` for a
/// single workgroup buffer (two barriers per step instead of double buffering), `w4` for 4
/// subgroups instead of 8, `v4` for workgroup tiles of `vec4<f16>` words (a staged quad is one
/// store instead of four; fragments load with strides in words), `d` for direct fragments: each
/// subgroup loads its A and B fragments straight from the storage buffers (the caches share
/// them), with no workgroup tiles and no barriers in the K loop; it takes only products whose M,
/// N and K are multiples of its block (see [`CoopVariant::staged`]). The direct variants are
/// validated and translated by naga but not yet timed or run on a card with cooperative
/// matrices: opt-in only.
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
    /// 8 subgroups in 2x4, each 64x32, direct fragments, 32 deep per iteration.
    B128x128x32d,
    /// 8 subgroups in 4x2, each 64x64, direct fragments.
    B256x128x32d,
    /// 4 subgroups in 2x2, each 64x64, direct fragments.
    B128x128x32dw4,
    /// 4 subgroups in 2x2, each 32x32, direct fragments (four times the workgroups of 128x128).
    B64x64x32dw4,
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
    /// Fragments loaded straight from the storage buffers (no workgroup tiles).
    pub direct: bool,
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
    /// Workgroup memory in bytes: the f16 tile buffers (none when direct) and a 16x16 f32
    /// scratch per subgroup.
    pub fn workgroup_bytes(&self) -> u32 {
        let (a, b) = self.tiles();
        let tiles = if self.direct {
            0
        } else {
            2 * self.buffers * (a + b)
        };
        tiles + 4 * 256 * self.sg_m * self.sg_n
    }
}

impl CoopVariant {
    /// Every variant.
    pub const ALL: [CoopVariant; 13] = [
        CoopVariant::B128x128x32,
        CoopVariant::B128x128x64s,
        CoopVariant::B128x256x16,
        CoopVariant::B128x256x32s,
        CoopVariant::B256x128x16,
        CoopVariant::B256x128x32s,
        CoopVariant::B128x128x32w4,
        CoopVariant::B128x128x32v4,
        CoopVariant::B256x128x32sv4,
        CoopVariant::B128x128x32d,
        CoopVariant::B256x128x32d,
        CoopVariant::B128x128x32dw4,
        CoopVariant::B64x64x32dw4,
    ];

    /// The variant used when `WMX_COOP_VARIANT` is unset.
    pub const DEFAULT: CoopVariant = CoopVariant::B256x128x32sv4;
    /// The variant for small grids and short products when `WMX_COOP_SMALL` is unset.
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
            CoopVariant::B128x128x32d => "128x128x32d",
            CoopVariant::B256x128x32d => "256x128x32d",
            CoopVariant::B128x128x32dw4 => "128x128x32dw4",
            CoopVariant::B64x64x32dw4 => "64x64x32dw4",
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
            direct: buffers == 0,
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
            CoopVariant::B128x128x32d => t(2, 4, 4, 2, 32, 0, 4),
            CoopVariant::B256x128x32d => t(4, 2, 4, 4, 32, 0, 4),
            CoopVariant::B128x128x32dw4 => t(2, 2, 4, 4, 32, 0, 4),
            CoopVariant::B64x64x32dw4 => t(2, 2, 2, 2, 32, 0, 4),
        }
    }

    /// The staged variant with the same block, for products a direct one cannot take (M or N
    /// not a multiple of its block, K not of its depth); any other variant is itself.
    pub fn staged(self) -> CoopVariant {
        match self {
            CoopVariant::B128x128x32d => CoopVariant::B128x128x32v4,
            CoopVariant::B256x128x32d => CoopVariant::B256x128x32sv4,
            CoopVariant::B128x128x32dw4 => CoopVariant::B128x128x32w4,
            // No staged 64x64 tiling: the grid changes, so the caller picks again.
            CoopVariant::B64x64x32dw4 => CoopVariant::B128x128x32v4,
            v => v,
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
        t.direct || (t.block_m().is_multiple_of(a_rstep) && t.k.is_multiple_of(b_rstep)),
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
    let _ = writeln!(p, "const DIRECT: bool = {};", t.direct);
    // Every tile offset (rows, fragment corners, buffers) is a multiple of 4 halves, so a word
    // of 4 halves never straddles a quad.
    assert!(
        [1, 4].contains(&t.word) && a_ld % 4 == 0 && b_ld % 4 == 0,
        "{variant:?}: tile words"
    );
    let word = if t.word == 1 { "f16" } else { "vec4<f16>" };
    for (name, halves) in [("a_tiles", a_tile), ("b_tiles", b_tile)] {
        // A direct variant never touches them (one word keeps the staged code valid).
        let words = if t.direct {
            1
        } else {
            t.buffers * halves / t.word
        };
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
    // One 16-deep slice: load the fragments, multiply them into the accumulators. Every pointer
    // index is bound to a `let` first (naga 30's SPIR-V writer panics on an index computed
    // inline in a cooperative load's pointer). `a_at(i)`/`b_at(j)` index fragment row i of A and
    // column j of B in `a_src`/`b_src`, with strides `a_ld`/`b_ld`.
    let slice = |p: &mut String,
                 head: &str,
                 (a_src, a_ld, a_at): (&str, &str, &dyn Fn(u32) -> String),
                 (b_src, b_ld, b_at): (&str, &str, &dyn Fn(u32) -> String)| {
        let _ = writeln!(p, "{head} {{");
        for i in 0..t.frag_m {
            let _ = writeln!(p, "    let ia{i} = {};", a_at(i));
            let _ = writeln!(
                p,
                "    let a{i} = coopLoadT<coop_mat16x16<f16, A>>(&{a_src}[ia{i}], {a_ld});"
            );
        }
        for j in 0..t.frag_n {
            let _ = writeln!(p, "    let ib{j} = {};", b_at(j));
            let _ = writeln!(
                p,
                "    let b{j} = coopLoadT<coop_mat16x16<f16, B>>(&{b_src}[ib{j}], {b_ld});"
            );
        }
        for i in 0..t.frag_m {
            for j in 0..t.frag_n {
                let c = acc(i, j);
                let _ = writeln!(p, "    {c} = coopMultiplyAdd(a{i}, b{j}, {c});");
            }
        }
        p.push_str("}\n");
    };
    // From the workgroup tiles, at half indices `ia` and `ib`.
    slice(
        p,
        "fn mma16(ia: u32, ib: u32)",
        ("a_tiles", "A_LD / TW", &|i| {
            format!("(ia + {}u) / TW", 16 * i * a_ld)
        }),
        ("b_tiles", "B_LD / TW", &|j| {
            format!("(ib + {}u) / TW", 16 * j)
        }),
    );
    // The direct variants': straight from the storage buffers, at quad indices `qa` (A's
    // fragment corner) and `qb` (B's), `sa` and `sb` quads per row.
    slice(
        p,
        "fn mma16_direct(qa: u32, qb: u32, sa: u32, sb: u32)",
        ("in0", "sa", &|i| format!("qa + {}u * sa", 16 * i)),
        ("in1", "sb", &|j| format!("qb + {}u", 4 * j)),
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

/// The cooperative tiling for an `m`×`n` product (`batch` of them) on an adapter of `shape`.
pub(super) fn coop_variant(shape: CoopShape, m: i32, n: i32, batch: usize) -> CoopVariant {
    let t = shape.variant.tiling();
    let groups = (m as u64).div_ceil(t.block_m() as u64)
        * (n as u64).div_ceil(t.block_n() as u64)
        * batch as u64;
    match shape.small {
        // A short product (one decoded token) wastes less of a 128-row tile, whatever its grid.
        Some(small) if groups < SMALL_GRID || m as u32 <= small.tiling().block_m() => small,
        _ => shape.variant,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_grids_and_short_products_take_the_small_tiling() {
        let shape = CoopShape {
            m: 16,
            n: 16,
            k: 16,
            variant: CoopVariant::DEFAULT,
            small: Some(CoopVariant::B128x128x32),
            subgroups_of_32: true,
        };
        // 4096² with 256×128 tiles: 512 workgroups, the default tiling.
        assert_eq!(coop_variant(shape, 4096, 4096, 1), CoopVariant::DEFAULT);
        // A 512-token prompt's 2048-wide projection: 32 workgroups, the small tiling.
        assert_eq!(coop_variant(shape, 512, 2048, 1), CoopVariant::B128x128x32);
        // The same product batched 16 times fills the GPU again.
        assert_eq!(coop_variant(shape, 512, 2048, 16), CoopVariant::DEFAULT);
        // One decoded token through a 128,256-wide head: a short product, whatever its grid.
        assert_eq!(coop_variant(shape, 1, 128_256, 1), CoopVariant::B128x128x32);
        // `WMX_COOP_VARIANT` pins the tiling (no small one).
        let pinned = CoopShape {
            small: None,
            ..shape
        };
        assert_eq!(coop_variant(pinned, 1, 2048, 1), CoopVariant::DEFAULT);
    }
}
