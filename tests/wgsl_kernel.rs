//! `fast::wgsl_kernel` on the GPU (lavapipe in CI; `WMX_REQUIRE_GPU=1` makes a missing adapter
//! a failure): kernels are checked against the same computation written with ops on the CPU or
//! against values computed here, and every refused call must be an `Err` with a clear message.

mod common;

use wmx::fast::{self, KernelCall, TemplateArg};
use wmx::{self as mx, Array, Device, Dtype};

/// Deterministic values in [-4, 4).
fn data(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 8.0 - 4.0
        })
        .collect()
}

fn f32s(a: &Array) -> Vec<f64> {
    common::values(a)
}

fn err_text<T: std::fmt::Debug>(r: wmx::Result<T>) -> String {
    r.expect_err("expected an error").to_string()
}

const SILU: &str = "
    let i = thread_position_in_grid.x;
    let v = x[i];
    y[i] = v / (1.0 + exp(-v));
";

#[test]
fn custom_activation_matches_the_op_chain_on_the_cpu() {
    let Some(gpu) = common::gpu() else { return };
    let k = fast::wgsl_kernel("silu", &["x"], &["y"], SILU).unwrap();
    // 37 x 129 elements: not a multiple of the threadgroup, so the grid guard matters.
    let x = Array::from_slice(&data(37 * 129, 1), &[37, 129]);
    let call =
        KernelCall::new([x.size() as u32, 1, 1], [256, 1, 1]).output(x.shape(), Dtype::Float32);
    let y = &k.call(&[&x], &call, gpu).unwrap()[0];
    assert_eq!(y.shape(), &[37, 129]);
    assert_eq!(y.device(), gpu);
    let cpu = Device::cpu();
    let want = mx::multiply(&x, mx::sigmoid(&x, cpu).unwrap(), cpu).unwrap();
    common::assert_close("sigmoid", Dtype::Float32, &f32s(y), &f32s(&want));
}

#[test]
fn template_constants_and_dtype_aliases() {
    let Some(gpu) = common::gpu() else { return };
    let body = "
        let i = thread_position_in_grid.x;
        var v = T(x[i]) * T(SCALE) + T(N);
        if FLIP { v = -v; }
        y[i] = v + T(OFFSET);
    ";
    let k = fast::wgsl_kernel("templated", &["x"], &["y"], body).unwrap();
    let x = Array::from_slice(&[1.5f32, -2.0, 3.25, 0.0, 7.0], &[5]);
    let run = |t: Dtype, flip: bool| {
        let call = KernelCall::new([5, 1, 1], [4, 1, 1])
            .template("T", t)
            .template("N", -3)
            .template("SCALE", 2.0f32)
            .template("FLIP", flip)
            .template("OFFSET", 10u32)
            .output(&[5], t);
        k.call(&[&x], &call, gpu).unwrap().remove(0)
    };
    let f = run(Dtype::Float32, false);
    assert_eq!(f.dtype(), Dtype::Float32);
    assert_eq!(f32s(&f), vec![10.0, 3.0, 13.5, 7.0, 21.0]);
    // The i32 alias truncates x first: i32(1.5) = 1, i32(-2.0) = -2, i32(3.25) = 3.
    let i = run(Dtype::Int32, true);
    assert_eq!(i.dtype(), Dtype::Int32);
    assert_eq!(f32s(&i), vec![11.0, 17.0, 7.0, 13.0, -1.0]);
    let src = k
        .source(
            &[&x],
            &KernelCall::new([5, 1, 1], [4, 1, 1])
                .template("T", Dtype::Int32)
                .template("N", TemplateArg::Int(-3))
                .output(&[5], Dtype::Int32),
        )
        .unwrap();
    assert!(
        src.contains("alias T = i32;") && src.contains("const N: i32 = -3;"),
        "{src}"
    );
}

#[test]
fn two_outputs_from_one_launch() {
    let Some(gpu) = common::gpu() else { return };
    let body = "
        let i = thread_position_in_grid.x;
        sum[i] = a[i] + b[i];
        diff[i] = i32(a[i]) - i32(b[i]);
    ";
    let k = fast::wgsl_kernel("sum_diff", &["a", "b"], &["sum", "diff"], body).unwrap();
    let a = Array::from_slice(&[1.0f32, 5.0, 9.0], &[3]);
    let b = Array::from_slice(&[3.0f32, 1.0, 2.0], &[3]);
    let call = KernelCall::new([3, 1, 1], [32, 1, 1])
        .output(&[3], Dtype::Float32)
        .output(&[3], Dtype::Int32);
    let built = |name: &str| {
        mx::kernels_built(gpu)
            .iter()
            .filter(|n| n.as_str() == format!("wgsl_kernel.{name}"))
            .count()
    };
    let outs = k.call(&[&a, &b], &call, gpu).unwrap();
    assert_eq!(outs.len(), 2);
    // The second output first: its node runs the launch and leaves the first its buffer.
    assert_eq!(f32s(&outs[1]), vec![-2.0, 4.0, 7.0]);
    assert_eq!(f32s(&outs[0]), vec![4.0, 6.0, 11.0]);
    assert_eq!(built("sum_diff"), 1);
    // Only one output kept: the other is dropped before evaluation.
    let mut outs = k.call(&[&a, &b], &call, gpu).unwrap();
    let sum = outs.remove(0);
    drop(outs);
    assert_eq!(f32s(&sum), vec![4.0, 6.0, 11.0]);
}

#[test]
fn strided_input_keeps_its_strides_without_row_contiguity() {
    let Some(gpu) = common::gpu() else { return };
    let body = "
        let i = thread_position_in_grid.x;
        y[i] = x[x_loc(i)] * 10.0;
        if i == 0u {
            for (var d = 0u; d < x_ndim; d++) {
                shape_out[d] = x_shape[d];
                shape_out[x_ndim + d] = x_strides[d];
            }
        }
    ";
    let base = Array::from_slice(&(0..12).map(|v| v as f32).collect::<Vec<_>>(), &[3, 4]);
    let xt = mx::transpose(&base, &[1, 0], None).unwrap(); // [4, 3], strides [1, 4]
    let want: Vec<f64> = f32s(&mx::multiply(&xt, 10.0, Device::cpu()).unwrap());
    for contiguous in [false, true] {
        let k = fast::wgsl_kernel("strided", &["x"], &["y", "shape_out"], body)
            .unwrap()
            .ensure_row_contiguous(contiguous);
        let call = KernelCall::new([12, 1, 1], [8, 1, 1])
            .output(&[4, 3], Dtype::Float32)
            .output(&[4], Dtype::Uint32);
        let outs = k.call(&[&xt], &call, gpu).unwrap();
        assert_eq!(f32s(&outs[0]), want, "contiguous {contiguous}");
        let strides = if contiguous { [3.0, 1.0] } else { [1.0, 4.0] };
        assert_eq!(
            f32s(&outs[1]),
            vec![4.0, 3.0, strides[0], strides[1]],
            "contiguous {contiguous}"
        );
    }
    // A broadcast input (stride 0) and a view that starts past its buffer's first element
    // (copied first) read right too.
    let k = fast::wgsl_kernel(
        "strided_view",
        &["x"],
        &["y"],
        "let i = thread_position_in_grid.x; y[i] = x[x_loc(i)];",
    )
    .unwrap()
    .ensure_row_contiguous(false);
    let row = Array::from_slice(&[1.0f32, 2.0, 3.0], &[1, 3]);
    let bc = mx::broadcast_to(&row, &[2, 3], None).unwrap();
    let call = KernelCall::new([6, 1, 1], [8, 1, 1]).output(&[2, 3], Dtype::Float32);
    assert_eq!(
        f32s(&k.call(&[&bc], &call, gpu).unwrap()[0]),
        vec![1.0, 2.0, 3.0, 1.0, 2.0, 3.0]
    );
    let tail = mx::slice(&base, &[1, 1], &[3, 4], &[1, 1], None).unwrap(); // [[5,6,7],[9,10,11]]
    assert_eq!(
        f32s(&k.call(&[&tail], &call, gpu).unwrap()[0]),
        vec![5.0, 6.0, 7.0, 9.0, 10.0, 11.0]
    );
}

#[test]
fn histogram_with_init_value_and_atomic_outputs() {
    let Some(gpu) = common::gpu() else { return };
    let body = "
        let i = thread_position_in_grid.x;
        let b = u32(clamp(x[i], 0, i32(BINS) - 1));
        atomicAdd(&hist[b], 1u);
        // A float32 atomic output holds f32 bits: add through compare-exchange.
        var old = atomicLoad(&total[0]);
        loop {
            let next = bitcast<u32>(bitcast<f32>(old) + f32(x[i]));
            let r = atomicCompareExchangeWeak(&total[0], old, next);
            if r.exchanged { break; }
            old = r.old_value;
        }
    ";
    let k = fast::wgsl_kernel("histogram", &["x"], &["hist", "total"], body)
        .unwrap()
        .atomic_outputs(true);
    let vals: Vec<i32> = data(1000, 7).iter().map(|v| (v * 2.0) as i32 + 4).collect();
    let x = Array::from_slice(&vals, &[1000]);
    let call = KernelCall::new([1000, 1, 1], [64, 1, 1])
        .template("BINS", 8u32)
        .init_value(5.0)
        .output(&[8], Dtype::Uint32)
        .output(&[1], Dtype::Float32);
    let outs = k.call(&[&x], &call, gpu).unwrap();
    let mut want = [5.0f64; 8];
    for v in &vals {
        want[(*v).clamp(0, 7) as usize] += 1.0;
    }
    assert_eq!(f32s(&outs[0]), want.to_vec());
    let total = 5.0 + vals.iter().map(|&v| v as f64).sum::<f64>();
    assert_eq!(f32s(&outs[1]), vec![total]);
}

#[test]
fn workgroup_memory_and_barriers() {
    let Some(gpu) = common::gpu() else { return };
    // One partial sum per threadgroup of 64, through workgroup memory.
    let header = "var<workgroup> partial: array<f32, 64>;";
    let body = "
        let l = thread_position_in_threadgroup.x;
        partial[l] = x[thread_position_in_grid.x];
        workgroupBarrier();
        for (var s = 32u; s > 0u; s >>= 1u) {
            if l < s { partial[l] += partial[l + s]; }
            workgroupBarrier();
        }
        if l == 0u { sums[threadgroup_position_in_grid.x] = partial[0]; }
    ";
    let k = fast::wgsl_kernel("block_sum", &["x"], &["sums"], body)
        .unwrap()
        .header(header);
    let v = data(256, 3);
    let x = Array::from_slice(&v, &[256]);
    let call = KernelCall::new([256, 1, 1], [64, 1, 1]).output(&[4], Dtype::Float32);
    let got = f32s(&k.call(&[&x], &call, gpu).unwrap()[0]);
    for (b, g) in got.iter().enumerate() {
        let w: f64 = v[b * 64..(b + 1) * 64].iter().map(|&f| f as f64).sum();
        assert!((g - w).abs() < 1e-4, "block {b}: {g} vs {w}");
    }
    // Whole workgroups only: a grid that is not a multiple of the threadgroup is refused.
    let bad = KernelCall::new([250, 1, 1], [64, 1, 1]).output(&[4], Dtype::Float32);
    let e = err_text(k.call(&[&x], &bad, gpu));
    assert!(e.contains("multiple of its threadgroup"), "{e}");
}

#[test]
fn scalar_inputs_unused_inputs_and_2d_grids() {
    let Some(gpu) = common::gpu() else { return };
    // `unused` is never read: its binding must still be part of the pipeline.
    let body = "
        let p = thread_position_in_grid;
        let w = grid_size.x;
        y[p.y * w + p.x] = m[p.y * w + p.x] * alpha + f32(p.y);
    ";
    let k = fast::wgsl_kernel("scale2d", &["m", "alpha", "unused"], &["y"], body).unwrap();
    let m = Array::from_slice(&data(5 * 7, 11), &[7, 5]);
    let alpha = Array::scalar(3.0f32);
    let unused = Array::from_slice(&[0u32; 4], &[4]);
    let call = KernelCall::new([5, 7, 1], [4, 4, 1]).output(&[7, 5], Dtype::Float32);
    let got = f32s(&k.call(&[&m, &alpha, &unused], &call, gpu).unwrap()[0]);
    let mv = f32s(&m);
    for r in 0..7 {
        for c in 0..5 {
            // WGSL lets the driver contract `m * alpha + y` into one FMA (NVIDIA does): one
            // rounding instead of two, so allow an f32 ulp or two.
            let w = mv[r * 5 + c] as f32 * 3.0 + r as f32;
            let g = got[r * 5 + c];
            assert!(
                (g - w as f64).abs() <= 2.5e-7 * (w as f64).abs().max(1.0),
                "({r}, {c}): {g} vs {w}"
            );
        }
    }
}

#[test]
fn grids_past_a_dimension_limit_are_folded() {
    let Some(gpu) = common::gpu() else { return };
    // 70,001 workgroups of one thread: more than 65,535 per dimension.
    let n = 70_001u32;
    let k = fast::wgsl_kernel(
        "iota",
        &[],
        &["y"],
        "let i = thread_position_in_grid.x; y[i] = i + threadgroups_per_grid.x - grid_size.x;",
    )
    .unwrap();
    let call = KernelCall::new([n, 1, 1], [1, 1, 1]).output(&[n as i32], Dtype::Uint32);
    let y = k.call(&[], &call, gpu).unwrap().remove(0);
    let got = y.to_vec::<u32>().unwrap();
    assert!(
        got.iter().enumerate().all(|(i, &v)| v == i as u32),
        "first wrong at {:?}",
        got.iter().enumerate().find(|(i, v)| **v != *i as u32)
    );
}

#[test]
fn the_pipeline_is_built_once() {
    let Some(gpu) = common::gpu() else { return };
    let k = fast::wgsl_kernel("cached_silu", &["x"], &["y"], SILU).unwrap();
    let built = || {
        mx::kernels_built(gpu)
            .iter()
            .filter(|n| n.as_str() == "wgsl_kernel.cached_silu")
            .count()
    };
    let run = |n: usize| {
        let x = Array::from_slice(&data(n, n as u64), &[n as i32]);
        let call =
            KernelCall::new([n as u32, 1, 1], [128, 1, 1]).output(&[n as i32], Dtype::Float32);
        k.call(&[&x], &call, gpu).unwrap()[0].eval().unwrap();
    };
    assert_eq!(built(), 0);
    run(1000);
    assert_eq!(built(), 1);
    // Other sizes use the same module (shapes and grids live in the info table).
    run(1000);
    run(5000);
    assert_eq!(built(), 1);
    // A clone of the kernel with a new dtype is a new module.
    let x = Array::from_slice(&[1i32, 2], &[2]);
    let ik = fast::wgsl_kernel(
        "cached_silu",
        &["x"],
        &["y"],
        "y[thread_position_in_grid.x] = x[thread_position_in_grid.x];",
    )
    .unwrap();
    let call = KernelCall::new([2, 1, 1], [128, 1, 1]).output(&[2], Dtype::Int32);
    ik.call(&[&x], &call, gpu).unwrap()[0].eval().unwrap();
    assert_eq!(built(), 2);
}

#[test]
fn an_invalid_body_names_its_line() {
    let Some(gpu) = common::gpu() else { return };
    let body = "let i = thread_position_in_grid.x;\nlet v = x[i];\ny[i] = foo(v);";
    let k = fast::wgsl_kernel("broken", &["x"], &["y"], body).unwrap();
    let x = Array::from_slice(&[1.0f32], &[1]);
    let call = KernelCall::new([1, 1, 1], [1, 1, 1]).output(&[1], Dtype::Float32);
    let e = err_text(k.call(&[&x], &call, gpu));
    assert!(
        e.starts_with("[wgsl_kernel] broken: line 3 of the source"),
        "{e}"
    );
    assert!(e.contains("foo"), "{e}");
    // A type error (found by the validator, not the parser) on line 2.
    let k = fast::wgsl_kernel(
        "mistyped",
        &["x"],
        &["y"],
        "let i = thread_position_in_grid.x;\ny[i] = x[i] + 1u;",
    )
    .unwrap();
    let e = err_text(k.call(&[&x], &call, gpu));
    assert!(
        e.starts_with("[wgsl_kernel] mistyped: line 2 of the source"),
        "{e}"
    );
    // An error in the header names the header's line.
    let k = fast::wgsl_kernel("bad_header", &["x"], &["y"], "y[0] = x[0];")
        .unwrap()
        .header("fn ok() {}\nfn bad() -> f32 { return true; }");
    let e = err_text(k.call(&[&x], &call, gpu));
    assert!(e.contains("line 2 of the header"), "{e}");
    // A last statement without its `;` is reported at the end of the source.
    let k = fast::wgsl_kernel("unfinished", &["x"], &["y"], "y[0] = x[0]").unwrap();
    let e = err_text(k.call(&[&x], &call, gpu));
    assert!(
        e.starts_with("[wgsl_kernel] unfinished: the end of the source: expected `;`"),
        "{e}"
    );
}

#[test]
fn refused_calls_are_clear_errors() {
    let Some(gpu) = common::gpu() else { return };
    let k = fast::wgsl_kernel("ident", &["x"], &["y"], "y[0] = x[0];").unwrap();
    let x = Array::from_slice(&[1.0f32], &[1]);
    let call = KernelCall::new([1, 1, 1], [1, 1, 1]).output(&[1], Dtype::Float32);
    // A CPU stream.
    let e = err_text(k.call(&[&x], &call, Device::cpu()));
    assert!(e.contains("runs on GPU streams"), "{e}");
    // Input count, output count.
    let e = err_text(k.call(&[&x, &x], &call, gpu));
    assert!(e.contains("Expected 1 inputs but got 2"), "{e}");
    let e = err_text(k.call(&[&x], &KernelCall::new([1, 1, 1], [1, 1, 1]), gpu));
    assert!(e.contains("Expected 1 outputs but got 0"), "{e}");
    // Dtypes WGSL cannot index.
    let b = Array::from_slice(&[true], &[1]);
    let e = err_text(k.call(&[&b], &call, gpu));
    assert!(e.contains("input `x` has dtype Bool"), "{e}");
    let bf = KernelCall::new([1, 1, 1], [1, 1, 1]).output(&[1], Dtype::Bfloat16);
    let e = err_text(k.call(&[&x], &bf, gpu));
    assert!(e.contains("output `y` has dtype Bfloat16"), "{e}");
    // Grids and threadgroups past the device's limits.
    let huge = KernelCall::new([u32::MAX, u32::MAX, 1], [1, 1, 1]).output(&[1], Dtype::Float32);
    let e = err_text(k.call(&[&x], &huge, gpu));
    assert!(e.contains("workgroups"), "{e}");
    let wide = KernelCall::new([1 << 20, 1, 1], [1 << 16, 1, 1]).output(&[1], Dtype::Float32);
    let e = err_text(k.call(&[&x], &wide, gpu));
    assert!(e.contains("exceeds this GPU's limits"), "{e}");
    // Bad names and template arguments.
    assert!(fast::wgsl_kernel("has space", &["x"], &["y"], "").is_err());
    assert!(fast::wgsl_kernel("k", &["x"], &[], "").is_err());
    assert!(fast::wgsl_kernel("k", &["x"], &["x"], "").is_err());
    assert!(fast::wgsl_kernel("k", &["grid_size"], &["y"], "").is_err());
    let e = err_text(fast::wgsl_kernel("k", &["x"], &["meta"], ""));
    assert!(
        e.contains("`meta` cannot name a buffer") && e.contains("keyword"),
        "{e}"
    );
    let t = call.clone().template("x", 1);
    assert!(err_text(k.call(&[&x], &t, gpu)).contains("template argument `x`"));
    let t = call.clone().template("F", f32::NAN);
    assert!(err_text(k.call(&[&x], &t, gpu)).contains("finite"));
}

#[test]
fn transforms_point_to_custom_function() {
    let Some(gpu) = common::gpu() else { return };
    let k = fast::wgsl_kernel("no_grad", &["x"], &["y"], SILU).unwrap();
    let f = |x: &Array| {
        let call = KernelCall::new([2, 1, 1], [2, 1, 1]).output(&[2], Dtype::Float32);
        mx::sum(&k.call(&[x], &call, gpu)?[0], &[], false, None)
    };
    let x = Array::from_slice(&[1.0f32, 2.0], &[2]);
    let e = err_text(mx::grad(f)(&x));
    assert!(
        e.contains("custom_function") && e.contains("no_grad"),
        "{e}"
    );
}

#[test]
fn native_f16_buffers() {
    let Some(gpu) = common::gpu() else { return };
    if !mx::device_info(gpu).unwrap().native_f16 {
        // tests/packed_f16.rs covers the refusal on GPUs without native f16.
        return;
    }
    let k = fast::wgsl_kernel(
        "half_axpy",
        &["a", "x", "b"],
        &["y"],
        "let i = thread_position_in_grid.x; y[i] = a * x[i] + b[i];",
    )
    .unwrap();
    let cpu = Device::cpu();
    let h = |v: &[f32], shape: &[i32]| {
        mx::astype(&Array::from_slice(v, shape), Dtype::Float16, cpu).unwrap()
    };
    let a = mx::astype(&Array::scalar(1.5f32), Dtype::Float16, cpu).unwrap();
    let x = h(&data(300, 5), &[300]);
    let b = h(&data(300, 6), &[300]);
    let call = KernelCall::new([300, 1, 1], [64, 1, 1]).output(&[300], Dtype::Float16);
    let y = k.call(&[&a, &x, &b], &call, gpu).unwrap().remove(0);
    assert_eq!(y.dtype(), Dtype::Float16);
    let want = mx::add(mx::multiply(&a, &x, cpu).unwrap(), &b, cpu).unwrap();
    common::assert_close(
        "add",
        Dtype::Float16,
        &f32s(&mx::astype(&y, Dtype::Float32, cpu).unwrap()),
        &f32s(&mx::astype(&want, Dtype::Float32, cpu).unwrap()),
    );
}
