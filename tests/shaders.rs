//! Kernel translation test (no GPU needed): every `KernelKey` the GPU backend can request is rendered
//! for devices with and without native f16, parsed and validated by naga's WGSL front end, and
//! translated by naga to MSL (Metal, the mission's target, which CI cannot run), SPIR-V and HLSL.
//! One representative variant per family is an insta snapshot of its WGSL and MSL, and every family
//! file in `shaders/` must open with its describing `//` comment. Sample modules of user kernels
//! (`fast::wgsl_kernel`: template arguments, strided inputs, atomics, barriers, f16) go through
//! the same steps, and one is a snapshot.
//!
//! The cooperative-matrix kernels (`matmul_coop`, `attention_coop`: wgpu's experimental feature) are validated with
//! the capabilities wgpu grants for it and translated to SPIR-V only: naga 30's HLSL writer has no
//! cooperative matrices (`unimplemented!()` on their store), and Metal's simdgroup matrices are
//! 8x8 only (wgpu's Metal adapter lists no 16x16 configuration, so Metal never picks this 16x16
//! kernel; naga would still print a `simdgroup_half16x16` that Metal lacks).

use naga::back::{hlsl, msl, spv};
use naga::valid::{Capabilities, ModuleInfo, ValidationFlags, Validator};
use naga::{AddressSpace, Module, ShaderStage, StorageAccess};
use rayon::prelude::*;
use std::collections::HashSet;
use std::error::Error as StdError;
use std::fmt::Write as _;
use wmx::kernels::{AttentionKey, KernelKey, MatmulKey, all_keys, render};

/// Oldest Metal Shading Language version wgpu's Metal backend reports (macOS 10.15 / iOS 13).
const MSL_VERSION: (u8, u8) = (2, 2);

/// How many failures get naga's full annotated diagnostic (the rest get one line each).
const DETAILED_FAILURES: usize = 8;

fn mode(native_f16: bool) -> &'static str {
    if native_f16 { "native" } else { "packed" }
}

/// The naga capabilities wgpu grants (wgpu-naga-bridge) on the devices each mode targets, and no
/// others: `SHADER_F16` gives `SHADER_FLOAT16`. Packed kernels convert halves with integer ops,
/// so they must validate with no f16 capability at all (GL ES, llvmpipe on GL), and any use of
/// `f16` itself or of `pack2x16float` in a packed kernel fails here.
fn capabilities(native_f16: bool) -> Capabilities {
    if native_f16 {
        Capabilities::SHADER_FLOAT16 | Capabilities::SHADER_FLOAT16_IN_FLOAT32
    } else {
        Capabilities::empty()
    }
}

/// True for kernels that use wgpu's experimental cooperative matrices (and subgroup builtins).
fn cooperative(key: &KernelKey) -> bool {
    matches!(
        key,
        KernelKey::Matmul(MatmulKey::Coop { .. })
            | KernelKey::Attention(AttentionKey { coop: true, .. })
    )
}

/// What wgpu grants a device opened with `EXPERIMENTAL_COOPERATIVE_MATRIX | SUBGROUP |
/// SUBGROUP_BARRIER` on top of
/// `capabilities(native_f16)`; other kernels must validate without it.
fn capabilities_for(key: &KernelKey, native_f16: bool) -> Capabilities {
    if cooperative(key) {
        capabilities(native_f16)
            | Capabilities::COOPERATIVE_MATRIX
            | Capabilities::SUBGROUP
            | Capabilities::SUBGROUP_BARRIER
    } else {
        capabilities(native_f16)
    }
}

/// Bounds checks as wgpu applies them to modules created with `create_shader_module` (checked).
fn bounds_checks() -> naga::proc::BoundsCheckPolicies {
    let p = naga::proc::BoundsCheckPolicy::Restrict;
    naga::proc::BoundsCheckPolicies {
        index: p,
        buffer: p,
        image_load: p,
        binding_array: naga::proc::BoundsCheckPolicy::Unchecked,
    }
}

/// An error and its chain of sources on one line.
fn chain(e: &dyn StdError) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let _ = write!(s, ": {c}");
        cur = c.source();
    }
    s
}

/// One failing step of one kernel.
struct Failure {
    name: String,
    stage: &'static str,
    line: String,
    detail: String,
}

/// Parses and validates the rendered source of `key`.
fn front(key: &KernelKey, src: &str, native_f16: bool) -> Result<(Module, ModuleInfo), Failure> {
    let name = format!("{key} ({})", mode(native_f16));
    front_source(
        &name,
        src,
        key.entry_point(),
        capabilities_for(key, native_f16),
    )
}

/// Parses and validates `src` (named `name`), which must have the compute entry point `ep`.
fn front_source(
    name: &str,
    src: &str,
    ep: &str,
    caps: Capabilities,
) -> Result<(Module, ModuleInfo), Failure> {
    let fail = |stage, line: String, detail: String| Failure {
        name: name.to_string(),
        stage,
        line,
        detail,
    };
    let module = naga::front::wgsl::parse_str(src)
        .map_err(|e| fail("wgsl parse", chain(&e), e.emit_to_string(src)))?;
    let info = Validator::new(ValidationFlags::all(), caps)
        .validate(&module)
        .map_err(|e| fail("validate", chain(&e), e.emit_to_string(src)))?;
    if !module
        .entry_points
        .iter()
        .any(|e| e.name == ep && e.stage == ShaderStage::Compute)
    {
        let line = format!("no compute entry point `{ep}`");
        return Err(fail("entry point", line.clone(), line));
    }
    Ok((module, info))
}

/// Metal resource slots laid out as wgpu does for one bind group: buffer slot = binding, then the
/// buffer-sizes slot, with real (not fake) bindings so a missing one is an error.
fn msl_options(module: &Module, ep: &str) -> msl::Options {
    let mut resources = msl::BindingMap::default();
    for (_, var) in module.global_variables.iter() {
        if let (Some(binding), AddressSpace::Storage { access }) = (&var.binding, var.space) {
            let target = msl::BindTarget {
                buffer: Some(binding.binding as msl::Slot),
                mutable: access.contains(StorageAccess::STORE),
                ..Default::default()
            };
            resources.insert(*binding, target);
        }
    }
    let sizes = resources.len() as msl::Slot;
    let ep_resources = msl::EntryPointResources {
        resources,
        immediates_buffer: None,
        sizes_buffer: Some(sizes),
    };
    msl::Options {
        lang_version: MSL_VERSION,
        per_entry_point_map: msl::EntryPointResourceMap::from([(ep.to_string(), ep_resources)]),
        fake_missing_bindings: false,
        bounds_check_policies: bounds_checks(),
        ..Default::default()
    }
}

fn to_msl(module: &Module, info: &ModuleInfo, ep: &str) -> Result<String, Box<dyn StdError>> {
    let pipeline = msl::PipelineOptions {
        entry_point: Some((ShaderStage::Compute, ep.to_string())),
        ..Default::default()
    };
    Ok(msl::write_string(module, info, &msl_options(module, ep), &pipeline)?.0)
}

fn to_spv(module: &Module, info: &ModuleInfo, ep: &str) -> Result<Vec<u32>, Box<dyn StdError>> {
    let options = spv::Options {
        bounds_check_policies: bounds_checks(),
        ..Default::default()
    };
    let pipeline = spv::PipelineOptions {
        shader_stage: ShaderStage::Compute,
        entry_point: ep.to_string(),
    };
    Ok(spv::write_vec(module, info, &options, Some(&pipeline))?)
}

/// HLSL for DX12: shader model 5.1 (FXC) without f16, 6.2 (DXC, the first with 16-bit types) with.
fn to_hlsl(
    module: &Module,
    info: &ModuleInfo,
    ep: &str,
    native_f16: bool,
) -> Result<String, Box<dyn StdError>> {
    let shader_model = if native_f16 {
        hlsl::ShaderModel::V6_2
    } else {
        hlsl::ShaderModel::V5_1
    };
    let options = hlsl::Options {
        shader_model,
        ..Default::default()
    };
    let pipeline = hlsl::PipelineOptions {
        entry_point: Some((ShaderStage::Compute, ep.to_string())),
    };
    let mut out = String::new();
    hlsl::Writer::new(&mut out, &options, &pipeline).write(module, info, None)?;
    Ok(out)
}

/// Every step for one key; the first failing step is reported.
fn check(key: &KernelKey, native_f16: bool) -> Result<(), Failure> {
    let src = render(key, native_f16);
    let (module, info) = front(key, &src, native_f16)?;
    let ep = key.entry_point();
    let fail = |stage, e: Box<dyn StdError>| Failure {
        name: format!("{key} ({})", mode(native_f16)),
        stage,
        line: chain(e.as_ref()),
        detail: format!("{e:?}"),
    };
    if !cooperative(key) {
        to_msl(&module, &info, ep).map_err(|e| fail("msl", e))?;
    }
    let words = to_spv(&module, &info, ep).map_err(|e| fail("spir-v", e))?;
    if words.first() != Some(&0x0723_0203) {
        return Err(fail(
            "spir-v",
            "output does not start with the SPIR-V magic number".into(),
        ));
    }
    if !cooperative(key) {
        to_hlsl(&module, &info, ep, native_f16).map_err(|e| fail("hlsl", e))?;
    }
    Ok(())
}

/// Checks every key of one f16 mode in parallel and reports every failure at once.
fn check_all(native_f16: bool) {
    let keys = all_keys(native_f16);
    assert!(
        keys.len() > 100,
        "all_keys({native_f16}) lists only {} keys",
        keys.len()
    );
    // The name is the wgpu label, the cache key's text and the snapshot name: it must be unique.
    let mut seen = HashSet::new();
    let dups: Vec<String> = keys
        .iter()
        .map(|k| k.to_string())
        .filter(|n| !seen.insert(n.clone()))
        .collect();
    assert!(
        dups.is_empty(),
        "duplicate kernel names ({}): {dups:?}",
        mode(native_f16)
    );

    // A kernel's name starts with the entry point it runs (`unary_strided.exp.f32` runs
    // `unary_strided`), so a label in a GPU trace names the WGSL function.
    let misnamed: Vec<String> = keys
        .iter()
        .filter(|k| k.to_string().split('.').next() != Some(k.entry_point()))
        .map(|k| format!("{k} runs {}", k.entry_point()))
        .collect();
    assert!(
        misnamed.is_empty(),
        "kernel names that do not start with their entry point ({}): {misnamed:?}",
        mode(native_f16)
    );

    let failures: Vec<Failure> = keys
        .par_iter()
        .filter_map(|k| check(k, native_f16).err())
        .collect();
    if failures.is_empty() {
        eprintln!(
            "{} kernels validated and translated ({} f16)",
            keys.len(),
            mode(native_f16)
        );
        return;
    }
    let mut report = format!(
        "{} of {} kernels failed ({} f16):\n",
        failures.len(),
        keys.len(),
        mode(native_f16)
    );
    for f in &failures {
        let _ = writeln!(report, "  {} [{}]: {}", f.name, f.stage, f.line);
    }
    for f in failures.iter().take(DETAILED_FAILURES) {
        let _ = writeln!(report, "\n---- {} [{}] ----\n{}", f.name, f.stage, f.detail);
    }
    panic!("{report}");
}

#[test]
fn every_kernel_translates_with_native_f16() {
    check_all(true);
}

#[test]
fn every_kernel_translates_with_packed_f16() {
    check_all(false);
}

/// The key named `name` among the keys of one mode.
fn key_named(name: &str, native_f16: bool) -> KernelKey {
    all_keys(native_f16)
        .into_iter()
        .find(|k| k.to_string() == name)
        .unwrap_or_else(|| panic!("no kernel named {name} ({} f16)", mode(native_f16)))
}

/// Snapshots `<name>.<mode>.wgsl` (the rendered source) and `<name>.<mode>.msl`.
fn snapshot(name: &str, native_f16: bool) {
    let key = key_named(name, native_f16);
    let src = render(&key, native_f16);
    let (module, info) = front(&key, &src, native_f16)
        .unwrap_or_else(|f| panic!("{} [{}]:\n{}", f.name, f.stage, f.detail));
    let base = format!("{key}.{}", mode(native_f16));
    insta::assert_snapshot!(format!("{base}.wgsl"), src);
    // Cooperative kernels have no MSL (see the header).
    if !cooperative(&key) {
        let msl = to_msl(&module, &info, key.entry_point())
            .unwrap_or_else(|e| panic!("{key}: msl: {}", chain(e.as_ref())));
        insta::assert_snapshot!(format!("{base}.msl"), msl);
    }
}

#[test]
fn snapshot_unary() {
    snapshot("unary_strided.exp.f32", false);
}

#[test]
fn snapshot_cast_to_bf16() {
    snapshot("unary_contig.astype.f32.bf16", false);
}

#[test]
fn snapshot_binary_native_f16() {
    snapshot("binary_contig.add.f16", true);
}

#[test]
fn snapshot_where() {
    snapshot("ternary_strided.where.f32", false);
}

#[test]
fn snapshot_creation_full_bool() {
    snapshot("creation_fill.full.bool", false);
}

#[test]
fn snapshot_copy_window() {
    snapshot("copy_window.f32", false);
}

#[test]
fn snapshot_reduce() {
    snapshot("reduce_wg.sum.f32.f32", false);
}

#[test]
fn snapshot_arg_reduce() {
    snapshot("arg_reduce.argmax.f32", false);
}

#[test]
fn snapshot_matmul() {
    snapshot("matmul_tiled.f32.f32", false);
}

#[test]
fn snapshot_attention() {
    snapshot("attention_tiles.f32.f32.d128.dv128.causal", false);
}

#[test]
fn snapshot_attention_coop() {
    snapshot("attention_coop.f16.f16.d128.dv128.causal.coop.b2", true);
}

#[test]
fn snapshot_matmul_coop() {
    snapshot("matmul_coop.128x256x16.f16.f16", true);
}

#[test]
fn snapshot_gather() {
    snapshot("gather_slices.f32", false);
}

#[test]
fn snapshot_scatter_packed_bf16() {
    snapshot("scatter_apply.add.bf16", false);
}

#[test]
fn snapshot_scan() {
    snapshot("scan_wg.cumsum.f32.f32", false);
}

#[test]
fn snapshot_sort() {
    snapshot("sort_block.f32", false);
}

#[test]
fn every_shader_file_opens_with_a_comment() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "wgsl"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 9,
        "expected the family files in {}, found {files:?}",
        dir.display()
    );
    let mut bad = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let name = path.file_name().and_then(|s| s.to_str()).unwrap_or("");
        let header: Vec<&str> = text.lines().take_while(|l| l.starts_with("//")).collect();
        // `// unary.wgsl — what it computes ...`: starts with `//`, names its file, then says something.
        let first_ok = header
            .first()
            .is_some_and(|l| l.contains(name) && l.len() > name.len() + 8);
        // A file that declares bindings documents them in its header (index.wgsl declares none).
        let bindings_ok =
            !text.contains("@binding(") || header.iter().any(|l| l.contains("Bindings:"));
        if !first_ok {
            bad.push(format!(
                "{name}: first line must be `// {name} — what it computes`"
            ));
        }
        if !bindings_ok {
            bad.push(format!(
                "{name}: header comment must list its bindings (`// Bindings: ...`)"
            ));
        }
    }
    assert!(bad.is_empty(), "shader file headers:\n{}", bad.join("\n"));
}

/// Validates a generated module and translates it to MSL, SPIR-V and HLSL.
fn check_source(name: &str, src: &str, ep: &str, native_f16: bool) -> Result<(), Failure> {
    let name = format!("{name} ({})", mode(native_f16));
    let (module, info) = front_source(&name, src, ep, capabilities(native_f16))?;
    let fail = |stage, e: Box<dyn StdError>| Failure {
        name: name.clone(),
        stage,
        line: chain(e.as_ref()),
        detail: format!("{e:?}"),
    };
    to_msl(&module, &info, ep).map_err(|e| fail("msl", e))?;
    to_spv(&module, &info, ep).map_err(|e| fail("spir-v", e))?;
    to_hlsl(&module, &info, ep, native_f16).map_err(|e| fail("hlsl", e))?;
    Ok(())
}

/// The kernels `compile` generates for fused elementwise regions: every op of the table in
/// every dtype it takes, every cast and scalar constant, in every layout, both f16 modes.
#[test]
fn fused_kernels_translate() {
    for native_f16 in [true, false] {
        let mut samples = wmx::kernels::fused_samples(native_f16);
        assert!(samples.len() >= 40, "only {} fused samples", samples.len());
        let reductions = wmx::kernels::fused_reduce_samples(native_f16);
        assert!(
            reductions.len() >= 150,
            "only {} fused reductions",
            reductions.len()
        );
        samples.extend(reductions);
        let failures: Vec<Failure> = samples
            .par_iter()
            .filter_map(|(name, src, ep)| check_source(name, src, ep, native_f16).err())
            .collect();
        if let Some(f) = failures.first() {
            panic!(
                "{} of {} fused kernels failed; first: {} [{}]: {}\n{}",
                failures.len(),
                samples.len(),
                f.name,
                f.stage,
                f.line,
                f.detail
            );
        }
    }
}

/// Sample `fast::wgsl_kernel` modules (an activation with template arguments, a strided input,
/// atomic outputs, workgroup memory with barriers, native f16) with their f16 mode.
fn user_kernel_modules() -> Vec<(&'static str, String, bool)> {
    use wmx::fast::{KernelCall, wgsl_kernel};
    use wmx::{Array, Dtype};
    let x = Array::from_slice(&[1.0f32; 6], &[2, 3]);
    let ints = Array::from_slice(&[1i32; 6], &[6]);
    let render = |k: wmx::fast::WgslKernel, inputs: &[&Array], call: KernelCall| {
        k.source(inputs, &call)
            .unwrap_or_else(|e| panic!("rendering a sample kernel: {e}"))
    };
    let squareplus = wgsl_kernel(
        "squareplus",
        &["x"],
        &["y"],
        "let i = thread_position_in_grid.x;\nlet v = T(x[i]);\ny[i] = (v + sqrt(v * v + B)) * 0.5;",
    )
    .expect("sample kernel");
    let strided = wgsl_kernel(
        "strided_copy",
        &["x"],
        &["y"],
        "let i = thread_position_in_grid.x;\ny[i] = x[x_loc(i)] + f32(x_shape[x_ndim - 1u] + x_strides[0]);",
    )
    .expect("sample kernel")
    .ensure_row_contiguous(false);
    let histogram = wgsl_kernel(
        "histogram",
        &["x"],
        &["hist", "total"],
        "let i = thread_position_in_grid.x;\natomicAdd(&hist[u32(clamp(x[i], 0, 7))], 1u);\natomicAdd(&total[0], x[i]);",
    )
    .expect("sample kernel")
    .atomic_outputs(true);
    let block_sum = wgsl_kernel(
        "block_sum",
        &["x"],
        &["sums"],
        "let l = thread_position_in_threadgroup.x;\npartial[l] = x[thread_position_in_grid.x];\nworkgroupBarrier();\nif l == 0u { sums[threadgroup_position_in_grid.x] = partial[0] + partial[1]; }",
    )
    .expect("sample kernel")
    .header("var<workgroup> partial: array<f32, 64>;");
    let half = wgsl_kernel(
        "half_scale",
        &["x", "s"],
        &["y"],
        "let i = thread_position_in_grid.x;\ny[i] = x[i] * s;",
    )
    .expect("sample kernel");
    let xh = wmx::astype(&x, Dtype::Float16, wmx::Device::cpu()).expect("astype");
    let sh = Array::scalar(half::f16::from_f32(2.0));
    vec![
        (
            "squareplus",
            render(
                squareplus,
                &[&x],
                KernelCall::new([6, 1, 1], [256, 1, 1])
                    .template("T", Dtype::Float32)
                    .template("B", 4.0f32)
                    .output(&[2, 3], Dtype::Float32),
            ),
            false,
        ),
        (
            "strided_copy",
            render(
                strided,
                &[&x],
                KernelCall::new([6, 1, 1], [64, 1, 1]).output(&[2, 3], Dtype::Float32),
            ),
            false,
        ),
        (
            "histogram",
            render(
                histogram,
                &[&ints],
                KernelCall::new([6, 1, 1], [64, 1, 1])
                    .init_value(0.0)
                    .output(&[8], Dtype::Uint32)
                    .output(&[1], Dtype::Int32),
            ),
            false,
        ),
        (
            "block_sum",
            render(
                block_sum,
                &[&x],
                KernelCall::new([128, 1, 1], [64, 1, 1]).output(&[2], Dtype::Float32),
            ),
            false,
        ),
        (
            "half_scale",
            render(
                half,
                &[&xh, &sh],
                KernelCall::new([6, 1, 1], [64, 1, 1]).output(&[2, 3], Dtype::Float16),
            ),
            true,
        ),
    ]
}

/// Validates one user kernel module and translates it to MSL, SPIR-V and HLSL.
fn check_user_kernel(src: &str, native_f16: bool) -> Result<(Module, ModuleInfo, String), String> {
    let module = naga::front::wgsl::parse_str(src)
        .map_err(|e| format!("parse: {}", e.emit_to_string(src)))?;
    let info = Validator::new(ValidationFlags::all(), capabilities(native_f16))
        .validate(&module)
        .map_err(|e| format!("validate: {}", e.emit_to_string(src)))?;
    let eps: Vec<&naga::EntryPoint> = module
        .entry_points
        .iter()
        .filter(|e| e.stage == ShaderStage::Compute)
        .collect();
    let [ep] = eps.as_slice() else {
        return Err(format!("{} compute entry points", eps.len()));
    };
    let ep = ep.name.clone();
    to_msl(&module, &info, &ep).map_err(|e| format!("msl: {}", chain(e.as_ref())))?;
    let words =
        to_spv(&module, &info, &ep).map_err(|e| format!("spir-v: {}", chain(e.as_ref())))?;
    if words.first() != Some(&0x0723_0203) {
        return Err("spir-v: no magic number".into());
    }
    to_hlsl(&module, &info, &ep, native_f16).map_err(|e| format!("hlsl: {}", chain(e.as_ref())))?;
    Ok((module, info, ep))
}

#[test]
fn user_kernels_translate() {
    let mut failures = Vec::new();
    for (name, src, native_f16) in user_kernel_modules() {
        if let Err(e) = check_user_kernel(&src, native_f16) {
            failures.push(format!("---- {name} ----\n{e}\n{src}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn snapshot_user_kernel() {
    let (_, src, native_f16) = user_kernel_modules()
        .into_iter()
        .find(|(n, _, _)| *n == "squareplus")
        .expect("the squareplus sample");
    let (module, info, ep) =
        check_user_kernel(&src, native_f16).unwrap_or_else(|e| panic!("squareplus: {e}"));
    insta::assert_snapshot!("wgsl_kernel.squareplus.wgsl", src);
    let msl = to_msl(&module, &info, &ep).unwrap_or_else(|e| panic!("msl: {}", chain(e.as_ref())));
    insta::assert_snapshot!("wgsl_kernel.squareplus.msl", msl);
}
