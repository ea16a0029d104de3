//! coop_ceilings — what WGSL cooperative matrices (16x16x16, f16 in, f32 accumulators) reach on
//! GPU 0, measured with raw wgpu (no wmx runtime in the way). It is the yardstick for the
//! tensor-core kernels (`matmul_coop`, `attention_coop`): how many TFLOP/s the driver gives a
//! subgroup's multiply-adds alone, and with the fragment loads of a matmul's inner loop.
//!
//! Rows, each with 8 subgroups of 32 per workgroup and 16 accumulators per subgroup (a 64x64 region,
//! as `matmul_coop`'s default tiling):
//! - `regs`: 16 multiply-adds per iteration on fragments held in registers (the MMA ceiling);
//! - `smem`: per iteration, 4 A and 4 B fragments loaded from workgroup memory (row-major, padded
//!   rows, as `matmul_coop`'s tiles), then the 16 multiply-adds (its inner loop, no barriers);
//! - `global`: the same 8 fragments loaded straight from a storage buffer (cache-resident), no
//!   workgroup memory at all;
//! - `bar`: `smem` in 32-deep steps (two slices) with two workgroup barriers per step, as
//!   `matmul_coop`'s single-buffered tilings;
//! - `stage`: `bar` plus each step's staging: 12 quads per invocation loaded from an
//!   L2-resident buffer before the step's multiply-adds and stored into the tiles between the
//!   barriers; `late`: the same with the loads after the multiply-adds; `pattern`: `late` at
//!   the addresses of a 4096³ product's 256x128 block (rows of 4096 halves); `tiled`: `pattern`
//!   with `matmul_coop`'s padded tile rows, staging slots and per-subgroup fragments.
//!
//! Run: `cargo run --release --example coop_ceilings [-- iterations]` (default 2048). Needs an
//! adapter with cooperative matrices and subgroups of exactly 32 (Vulkan on NVIDIA, or Metal);
//! it says so and exits otherwise.

use std::time::Instant;

/// Workgroups per dispatch: enough to fill any current GPU several times over.
const GROUPS: u32 = 1056;
/// Padded row stride (halves) of the workgroup tiles, as `matmul_coop`'s 32-deep tiles.
const LD: u32 = 40;
/// Quads (`vec4<f16>`) in the staged rows' source buffer: 32 MiB (a 4096² f16 matrix).
const BIG_QUADS: u32 = 1 << 22;

fn shader(iters: u32) -> String {
    let mut s = String::new();
    s.push_str("enable f16;\nenable wgpu_cooperative_matrix;\n");
    s.push_str(&format!(
        "const ITERS: u32 = {iters}u;\nconst LD: u32 = {LD}u;\n"
    ));
    s.push_str(
        "@group(0) @binding(0) var<storage, read> inp: array<f16>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
// A: 64 rows x LD (4 fragments down), B: 16 rows x (64 + 8) as a second region.
var<workgroup> tiles: array<f16, 8192>;
",
    );
    for i in 0..4 {
        for j in 0..4 {
            s.push_str(&format!(
                "var<private> acc_{i}_{j}: coop_mat16x16<f32, C>;\n"
            ));
        }
    }
    let mmas = {
        let mut m = String::new();
        for i in 0..4 {
            for j in 0..4 {
                m.push_str(&format!(
                    "        acc_{i}_{j} = coopMultiplyAdd(a{i}, b{j}, acc_{i}_{j});\n"
                ));
            }
        }
        m
    };
    let store = {
        let mut m = String::new();
        for i in 0..4 {
            for j in 0..4 {
                m.push_str(&format!(
                    "    let o{i}{j} = base + {}u;\n    coopStoreT(acc_{i}_{j}, &out[o{i}{j}], 16u);\n",
                    (i * 4 + j) * 256
                ));
            }
        }
        m
    };
    let head = "@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32,
    @builtin(subgroup_id) sg: u32";
    let base = "    let base = (wid.x * 8u + sg) * 4096u;\n";
    // regs: fragments loaded once.
    s.push_str(&format!(
        "@compute @workgroup_size(256)\nfn regs({head}) {{\n{base}"
    ));
    for i in 0..4 {
        s.push_str(&format!(
            "    let ia{i} = {}u;\n    let a{i} = coopLoadT<coop_mat16x16<f16, A>>(&inp[ia{i}], 16u);\n",
            i * 256
        ));
        s.push_str(&format!(
            "    let ib{i} = {}u;\n    let b{i} = coopLoadT<coop_mat16x16<f16, B>>(&inp[ib{i}], 16u);\n",
            1024 + i * 256
        ));
    }
    s.push_str(&format!(
        "    for (var it = 0u; it < ITERS; it = it + 1u) {{\n{mmas}    }}\n{store}}}\n"
    ));
    // shared: the tiles filled once, 8 fragment loads per iteration from alternating halves.
    s.push_str(&format!(
        "@compute @workgroup_size(256)\nfn smem({head}) {{\n{base}"
    ));
    s.push_str(
        "    for (var e = li; e < 8192u; e = e + 256u) { tiles[e] = inp[e % 4096u]; }
    workgroupBarrier();
    for (var it = 0u; it < ITERS; it = it + 1u) {
        let kk = (it & 1u) * 16u;
",
    );
    for i in 0..4 {
        s.push_str(&format!(
            "        let ia{i} = kk + {}u;\n        let a{i} = coopLoadT<coop_mat16x16<f16, A>>(&tiles[ia{i}], LD);\n",
            i * 16 * LD
        ));
        s.push_str(&format!(
            "        let ib{i} = 2560u + kk * 72u + {}u;\n        let b{i} = coopLoadT<coop_mat16x16<f16, B>>(&tiles[ib{i}], 72u);\n",
            i * 16
        ));
    }
    s.push_str(&format!("{mmas}    }}\n{store}}}\n"));
    // global: the same fragments straight from the storage buffer (rows of 64 halves).
    s.push_str(&format!(
        "@compute @workgroup_size(256)\nfn global({head}) {{\n{base}"
    ));
    s.push_str(
        "    for (var it = 0u; it < ITERS; it = it + 1u) {
        let kk = (it & 1u) * 16u + (sg & 1u) * 32u;
",
    );
    for i in 0..4 {
        s.push_str(&format!(
            "        let ia{i} = kk + {}u;\n        let a{i} = coopLoadT<coop_mat16x16<f16, A>>(&inp[ia{i}], 64u);\n",
            i * 16 * 64
        ));
        s.push_str(&format!(
            "        let ib{i} = 4096u + kk * 64u + {}u;\n        let b{i} = coopLoadT<coop_mat16x16<f16, B>>(&inp[ib{i}], 64u);\n",
            i * 16
        ));
    }
    s.push_str(&format!("{mmas}    }}\n{store}}}\n"));
    s.push_str(&staged_rows(&mmas, &store, head, base));
    s
}

/// The `bar`, `stage`, `late`, `pattern` and `tiled` rows: `smem`'s inner loop in steps of two
/// 16-deep slices (a matmul's 32-deep step) with, per step, two workgroup barriers (`bar`); plus
/// 12 quads per invocation loaded from an L2-resident buffer of `BIG_QUADS` quads and stored into
/// the tiles between the barriers, the loads issued before the step's multiply-adds (`stage`, as
/// `matmul_coop`'s prefetch) or after them (`late`, no overlap); `pattern` and `tiled` as the
/// file's header describes them.
fn staged_rows(mmas: &str, store: &str, head: &str, base: &str) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "@group(0) @binding(2) var<storage, read> big: array<vec4<f16>>;
var<workgroup> tiles4: array<vec4<f16>, 3072>;
const BIG_MASK: u32 = {}u;
",
        BIG_QUADS - 1
    ));
    // Two 16-deep slices from `src`: fragment i of A at index `a_at(kk, i)` (stride `a_ld`), of
    // B at `b_at(kk, i)` (stride `b_ld`), then the multiply-adds.
    let slices = |src: &str,
                  (a_ld, a_at): (u32, &dyn Fn(u32, u32) -> String),
                  (b_ld, b_at): (u32, &dyn Fn(u32, u32) -> String)| {
        let mut m = String::new();
        for kk in [0u32, 16] {
            m.push_str("        {\n");
            for i in 0..4 {
                m.push_str(&format!(
                    "        let ia{i}_{kk} = {};\n        let a{i} = coopLoadT<coop_mat16x16<f16, A>>(&{src}[ia{i}_{kk}], {a_ld}u);\n",
                    a_at(kk, i)
                ));
                m.push_str(&format!(
                    "        let ib{i}_{kk} = {};\n        let b{i} = coopLoadT<coop_mat16x16<f16, B>>(&{src}[ib{i}_{kk}], {b_ld}u);\n",
                    b_at(kk, i)
                ));
            }
            m.push_str(mmas);
            m.push_str("        }\n");
        }
        m
    };
    // `smem`'s layout (A rows of LD halves, B rows of 72 at half 2560) in words of `word` halves.
    let packed = |src: &str, word: u32| {
        slices(
            src,
            (LD / word, &|kk, i| {
                format!("{}u", (kk + i * 16 * LD) / word)
            }),
            (72 / word, &|kk, i| {
                format!("{}u", (2560 + kk * 72 + i * 16) / word)
            }),
        )
    };
    let loads = (0..12)
        .map(|i| format!("        p{i} = big[(q + {}u) & BIG_MASK];\n", 256 * i))
        .collect::<String>();
    let puts = (0..12)
        .map(|i| format!("        tiles4[li + {}u] = p{i};\n", 256 * i))
        .collect::<String>();
    let regs = (0..12)
        .map(|i| format!("    var p{i}: vec4<f16>;\n"))
        .collect::<String>();
    // bar: barriers only.
    s.push_str(&format!(
        "@compute @workgroup_size(256)\nfn bar({head}) {{\n{base}    for (var e = li; e < 8192u; e = e + 256u) {{ tiles[e] = inp[e % 4096u]; }}\n    workgroupBarrier();\n    for (var st = 0u; st < ITERS / 2u; st = st + 1u) {{\n{}        workgroupBarrier();\n        workgroupBarrier();\n    }}\n{store}}}\n",
        packed("tiles", 1)
    ));
    for (entry, early) in [("stage", true), ("late", false)] {
        let (before, after) = if early {
            (loads.as_str(), "")
        } else {
            ("", loads.as_str())
        };
        s.push_str(&format!(
            "@compute @workgroup_size(256)\nfn {entry}({head}) {{\n{base}{regs}    let start = (wid.x * 3072u * 7u) & BIG_MASK;\n    for (var e = li; e < 3072u; e = e + 256u) {{ tiles4[e] = big[(start + e) & BIG_MASK]; }}\n    workgroupBarrier();\n    for (var st = 0u; st < ITERS / 2u; st = st + 1u) {{\n        let q = start + (st + 1u) * 3072u + li;\n{before}{}{after}        workgroupBarrier();\n{puts}        workgroupBarrier();\n    }}\n{store}}}\n",
            packed("tiles4", 4)
        ));
    }
    // pattern: `late` with a 4096³ product's addresses (rows of 1024 quads): A's 8 loads are
    // rows li / 8 + 32 i at quad li % 8 of the step, B's 4 rows 32 st + li / 32 + 8 i at column
    // quad li % 32 of the workgroup's 32.
    let a_loads = (0..8)
        .map(|i| {
            format!(
                "        p{i} = big[(a0 + (li / 8u + {}u) * 1024u + kq * 8u + li % 8u) & BIG_MASK];\n",
                32 * i
            )
        })
        .collect::<String>();
    let b_loads = (0..4)
        .map(|i| {
            format!(
                "        p{} = big[(b0 + (kq * 32u + li / 32u + {}u) * 1024u + li % 32u) & BIG_MASK];\n",
                8 + i,
                8 * i
            )
        })
        .collect::<String>();
    s.push_str(&format!(
        "@compute @workgroup_size(256)\nfn pattern({head}) {{\n{base}{regs}    let a0 = (wid.x / 32u) * 262144u;\n    let b0 = (wid.x % 32u) * 32u;\n    workgroupBarrier();\n    for (var st = 0u; st < ITERS / 2u; st = st + 1u) {{\n        let kq = (st + 1u) % 128u;\n{}{a_loads}{b_loads}        workgroupBarrier();\n{puts}        workgroupBarrier();\n    }}\n{store}}}\n",
        packed("tiles4", 4)
    ));
    // tiled: `pattern` with `matmul_coop`'s tile layout too: padded rows (A 40 halves, B 136),
    // the staging stores at their slots, and each subgroup's fragments at its 64x64 region.
    let frags = slices(
        "tiles_r",
        (10, &|kk, i| {
            format!("(wm + {}u) * 10u + {}u", 16 * i, kk / 4)
        }),
        (34, &|kk, i| {
            format!("2560u + {}u + (wn + {}u) / 4u", kk * 34, 16 * i)
        }),
    );
    let real_puts = (0..12)
        .map(|i| {
            if i < 8 {
                format!(
                    "        tiles_r[(li / 8u) * 10u + li % 8u + {}u] = p{i};\n",
                    320 * i
                )
            } else {
                format!(
                    "        tiles_r[2560u + (li / 32u) * 34u + li % 32u + {}u] = p{i};\n",
                    272 * (i - 8)
                )
            }
        })
        .collect::<String>();
    s.push_str(&format!(
        "var<workgroup> tiles_r: array<vec4<f16>, 3648>;\n@compute @workgroup_size(256)\nfn tiled({head}) {{\n{base}{regs}    let a0 = (wid.x / 32u) * 262144u;\n    let b0 = (wid.x % 32u) * 32u;\n    let wm = (sg / 2u) * 64u;\n    let wn = (sg % 2u) * 64u;\n    workgroupBarrier();\n    for (var st = 0u; st < ITERS / 2u; st = st + 1u) {{\n        let kq = (st + 1u) % 128u;\n{frags}{a_loads}{b_loads}        workgroupBarrier();\n{real_puts}        workgroupBarrier();\n    }}\n{store}}}\n"
    ));
    s
}

fn main() {
    let iters: u32 = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("numeric iterations"))
        .unwrap_or(2048);
    let instance = wgpu::Instance::default();
    let adapter =
        pollster::block_on(instance.request_adapter(&Default::default())).expect("no GPU adapter");
    let info = adapter.get_info();
    println!("adapter: {} ({:?})", info.name, info.backend);
    let want = wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX
        | wgpu::Features::SHADER_F16
        | wgpu::Features::SUBGROUP;
    let coop_ok = adapter.cooperative_matrix_properties().iter().any(|p| {
        (p.m_size, p.n_size, p.k_size) == (16, 16, 16)
            && p.ab_type == wgpu::CooperativeScalarType::F16
            && p.cr_type == wgpu::CooperativeScalarType::F32
    });
    // The kernels index their output by subgroup as 8 subgroups of 32 per workgroup.
    let of_32 = info.subgroup_min_size == 32 && info.subgroup_max_size == 32;
    if !adapter.features().contains(want) || !coop_ok || !of_32 {
        // Still check the kernels, so they are known good before a card runs them.
        let module = naga::front::wgsl::parse_str(&shader(iters)).expect("WGSL parses");
        let caps = naga::valid::Capabilities::SHADER_FLOAT16
            | naga::valid::Capabilities::COOPERATIVE_MATRIX
            | naga::valid::Capabilities::SUBGROUP;
        let info = naga::valid::Validator::new(naga::valid::ValidationFlags::all(), caps)
            .validate(&module)
            .expect("naga validates the kernels");
        let options = naga::back::spv::Options {
            lang_version: (1, 4),
            ..Default::default()
        };
        naga::back::spv::write_vec(&module, &info, &options, None).expect("SPIR-V");
        println!(
            "no 16x16x16 f16 cooperative matrices in subgroups of 32 on this adapter: kernels validated \
             and written as SPIR-V by naga, nothing measured"
        );
        return;
    }
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("coop_ceilings"),
        required_features: want,
        required_limits: adapter.limits(),
        // SAFETY: the kernels below only touch the buffers they are given, within bounds.
        experimental_features: unsafe { wgpu::ExperimentalFeatures::enabled() },
        ..Default::default()
    }))
    .expect("device");
    let source = shader(iters);
    // SAFETY: every index above is a constant within the buffers' sizes.
    let module = unsafe {
        device.create_shader_module_trusted(
            wgpu::ShaderModuleDescriptor {
                label: Some("coop_ceilings"),
                source: wgpu::ShaderSource::Wgsl(source.into()),
            },
            wgpu::ShaderRuntimeChecks::unchecked(),
        )
    };
    let halves: Vec<half::f16> = (0..8192)
        .map(|i| half::f16::from_f32(((i % 7) as f32 - 3.0) / 64.0))
        .collect();
    let inp = wgpu::util::DeviceExt::create_buffer_init(
        &device,
        &wgpu::util::BufferInitDescriptor {
            label: None,
            contents: bytemuck::cast_slice(&halves),
            usage: wgpu::BufferUsages::STORAGE,
        },
    );
    let out = device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: GROUPS as u64 * 8 * 4096 * 4,
        usage: wgpu::BufferUsages::STORAGE,
        mapped_at_creation: false,
    });
    let flops = GROUPS as f64 * 8.0 * iters as f64 * 16.0 * 2.0 * 4096.0;
    let big = device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: BIG_QUADS as u64 * 8,
        usage: wgpu::BufferUsages::STORAGE,
        mapped_at_creation: false,
    });
    for entry in [
        "regs", "smem", "global", "bar", "stage", "late", "pattern", "tiled",
    ] {
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(entry),
            layout: None,
            module: &module,
            entry_point: Some(entry),
            compilation_options: Default::default(),
            cache: None,
        });
        // The staged rows read `big` instead of `inp` (auto layouts hold only what is used).
        let first = if ["stage", "late", "pattern", "tiled"].contains(&entry) {
            (2, &big)
        } else {
            (0, &inp)
        };
        let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.get_bind_group_layout(0),
            entries: &[
                wgpu::BindGroupEntry {
                    binding: first.0,
                    resource: first.1.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: out.as_entire_binding(),
                },
            ],
        });
        let mut best = f64::MAX;
        for _ in 0..6 {
            let mut enc = device.create_command_encoder(&Default::default());
            {
                let mut pass = enc.begin_compute_pass(&Default::default());
                pass.set_pipeline(&pipeline);
                pass.set_bind_group(0, &group, &[]);
                pass.dispatch_workgroups(GROUPS, 1, 1);
            }
            let t = Instant::now();
            queue.submit([enc.finish()]);
            device
                .poll(wgpu::PollType::wait_indefinitely())
                .expect("poll");
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!(
            "coop/{entry}: {:.3} ms, {:.1} TFLOP/s ({} iterations)",
            best * 1e3,
            flops / best / 1e12,
            iters
        );
    }
}
