//! `Display` of arrays: the exact strings MLX 0.31 prints (`print(mx.array(...))`), checked for
//! arrays computed on the CPU and on the GPU (the text must not depend on the device), plus insta
//! snapshots of the larger layouts. MLX's rules (mlx/utils.cpp, `print_subarray`): elements as
//! C++ streams print them (`%g`, 6 significant digits), rows of a dimension indented by
//! `7 + dim` spaces, and every dimension longer than 6 summarised as 3 items, `...`, 3 items,
//! whatever the total size.

mod common;

use half::{bf16, f16};
use wmx::{self as mx, Array, Device, Dtype};

/// `a` recomputed on `dev` (a copy node), so the printed data comes from that device.
fn on(dev: Device, a: &Array) -> Array {
    let c = mx::contiguous(a, dev).unwrap();
    assert!(!c.is_evaluated());
    c
}

/// Compares every (array, expected text) pair and reports all mismatches at once.
#[track_caller]
fn check_all(cases: &[(&str, Array, &str)]) {
    let mut bad = Vec::new();
    for (what, a, want) in cases {
        let got = a.to_string();
        if got != *want {
            bad.push(format!("{what}:\n  got:  {got:?}\n  want: {want:?}"));
        }
    }
    assert!(
        bad.is_empty(),
        "{} display mismatch(es):\n{}",
        bad.len(),
        bad.join("\n")
    );
}

device_tests! {
    fn mlx_formats(dev: Device) {
        let f = |v: &[f32], shape: &[i32]| on(dev, &Array::from_slice(v, shape));
        let i = |v: &[i32], shape: &[i32]| on(dev, &Array::from_slice(v, shape));
        check_all(&[
            ("int32 2x2", i(&[1, 2, 3, 4], &[2, 2]), "array([[1, 2],\n       [3, 4]], dtype=int32)"),
            ("float32 mixed", f(&[1.0, 2.5, 3.0], &[3]), "array([1, 2.5, 3], dtype=float32)"),
            ("bool", on(dev, &Array::from_slice(&[true, false], &[2])), "array([True, False], dtype=bool)"),
            ("int32 scalar", on(dev, &Array::scalar(3i32)), "array(3, dtype=int32)"),
            ("float32 scalar", on(dev, &Array::scalar(3.5f32)), "array(3.5, dtype=float32)"),
            ("shape (2,0)", mx::zeros(&[2, 0], Dtype::Float32, dev).unwrap(), "array([[],\n       []], dtype=float32)"),
            ("shape (0,)", mx::zeros(&[0], Dtype::Float32, dev).unwrap(), "array([], dtype=float32)"),
            ("%g exponents", f(&[1e-5, 1e6, std::f32::consts::PI], &[3]), "array([1e-05, 1e+06, 3.14159], dtype=float32)"),
            (
                "int32 3-D",
                mx::reshape(&mx::arange(1.0, 9.0, 1.0, Dtype::Int32, dev).unwrap(), &[2, 2, 2], dev).unwrap(),
                "array([[[1, 2],\n        [3, 4]],\n       [[5, 6],\n        [7, 8]]], dtype=int32)",
            ),
            ("non-finite", f(&[f32::NAN, f32::INFINITY, f32::NEG_INFINITY], &[3]), "array([nan, inf, -inf], dtype=float32)"),
            (
                "arange(2000)",
                mx::arange(0.0, 2000.0, 1.0, Dtype::Int32, dev).unwrap(),
                "array([0, 1, 2, ..., 1997, 1998, 1999], dtype=int32)",
            ),
            ("6 significant digits", f(&[1.123456, 100.5], &[2]), "array([1.12346, 100.5], dtype=float32)"),
            ("large", f(&[123456789.0], &[1]), "array([1.23457e+08], dtype=float32)"),
            ("float16", mx::astype(&f(&[1.0, 2.0], &[2]), Dtype::Float16, dev).unwrap(), "array([1, 2], dtype=float16)"),
            ("bfloat16", mx::astype(&f(&[1.0, 2.0], &[2]), Dtype::Bfloat16, dev).unwrap(), "array([1, 2], dtype=bfloat16)"),
            // Derived from the same rules (C++ `operator<<` on float, int and uint8).
            ("negative zero", f(&[-0.0, 0.0, -1.5], &[3]), "array([-0, 0, -1.5], dtype=float32)"),
            (
                "%g switch points",
                f(&[0.0001, 1.5e-7, 123456.0, 1234567.0, 1e16], &[5]),
                "array([0.0001, 1.5e-07, 123456, 1.23457e+06, 1e+16], dtype=float32)",
            ),
            ("int32 extremes", i(&[i32::MIN, -1, i32::MAX], &[3]), "array([-2147483648, -1, 2147483647], dtype=int32)"),
            ("uint8", on(dev, &Array::from_slice(&[0u8, 7, 255], &[3])), "array([0, 7, 255], dtype=uint8)"),
            ("uint32 max", on(dev, &Array::from_slice(&[u32::MAX, 0], &[2])), "array([4294967295, 0], dtype=uint32)"),
            // f16 prints the stored value, not the f32 it came from: f16(0.1) = 0.0999755859375.
            ("float16 rounding", on(dev, &Array::from_slice(&[f16::from_f32(0.1)], &[1])), "array([0.0999756], dtype=float16)"),
            ("bfloat16 rounding", on(dev, &Array::from_slice(&[bf16::from_f32(0.1)], &[1])), "array([0.100098], dtype=bfloat16)"),
            ("column", i(&[1, 2, 3], &[3, 1]), "array([[1],\n       [2],\n       [3]], dtype=int32)"),
            ("shape (1,1,1) scalar-like", i(&[5], &[1, 1, 1]), "array([[[5]]], dtype=int32)"),
            ("shape (0,3)", mx::zeros(&[0, 3], Dtype::Int32, dev).unwrap(), "array([], dtype=int32)"),
            ("shape (6,) is not summarised", mx::arange(0.0, 6.0, 1.0, Dtype::Int32, dev).unwrap(), "array([0, 1, 2, 3, 4, 5], dtype=int32)"),
            (
                "transposed view prints logically",
                mx::transpose(&i(&[1, 2, 3, 4, 5, 6], &[2, 3]), &[], dev).unwrap(),
                "array([[1, 4],\n       [2, 5],\n       [3, 6]], dtype=int32)",
            ),
            ("bool from a comparison", mx::greater(i(&[1, 5], &[2]), Array::scalar(2i32), dev).unwrap(), "array([False, True], dtype=bool)"),
        ]);
    }

    fn summarises_each_long_axis(dev: Device) {
        // MLX summarises any axis longer than 2 * 3 items, even in a small array.
        let ones = mx::ones(&[20, 20], Dtype::Float32, dev).unwrap();
        let row = "[1, 1, 1, ..., 1, 1, 1]";
        let pad = "       ";
        let want = format!(
            "array([{row},\n{pad}{row},\n{pad}{row},\n{pad}...,\n{pad}{row},\n{pad}{row},\n{pad}{row}], dtype=float32)"
        );
        check_all(&[
            ("ones 20x20", ones, want.as_str()),
            ("arange(7)", mx::arange(0.0, 7.0, 1.0, Dtype::Int32, dev).unwrap(), "array([0, 1, 2, ..., 4, 5, 6], dtype=int32)"),
            (
                "arange(14) as (7,2)",
                mx::reshape(&mx::arange(0.0, 14.0, 1.0, Dtype::Int32, dev).unwrap(), &[7, 2], dev).unwrap(),
                "array([[0, 1],\n       [2, 3],\n       [4, 5],\n       ...,\n       [8, 9],\n       [10, 11],\n       [12, 13]], dtype=int32)",
            ),
        ]);
    }

    fn snapshots(dev: Device) {
        // One snapshot per layout for both devices: the text must be identical on CPU and GPU.
        let i = |v: &[i32], shape: &[i32]| on(dev, &Array::from_slice(v, shape));
        let cube = mx::reshape(&mx::arange(0.0, 24.0, 1.0, Dtype::Int32, dev).unwrap(), &[2, 3, 4], dev).unwrap();
        insta::assert_snapshot!("int32_2x3x4", cube.to_string());
        let big = mx::reshape(&mx::arange(0.0, 1000.0, 1.0, Dtype::Float32, dev).unwrap(), &[10, 10, 10], dev).unwrap();
        insta::assert_snapshot!("float32_10x10x10", big.to_string());
        let mixed = mx::divide(i(&[1, 2, 3, 4, 5, 6], &[2, 3]), Array::scalar(3i32), dev).unwrap();
        insta::assert_snapshot!("float32_thirds", mixed.to_string());
        let empty = mx::zeros(&[2, 0, 3], Dtype::Bfloat16, dev).unwrap();
        insta::assert_snapshot!("bfloat16_2x0x3", empty.to_string());
    }

    fn display_evaluates_and_matches_cpu(dev: Device) {
        let a = Array::from_slice(&[0.5f32, -2.25, 1e-3, 7.0], &[2, 2]);
        let x = mx::multiply(&a, Array::scalar(3.0f32), dev).unwrap();
        assert!(!x.is_evaluated());
        let text = format!("{x}");
        assert!(x.is_evaluated(), "printing must evaluate the array");
        let on_cpu = mx::multiply(&a, Array::scalar(3.0f32), Device::cpu()).unwrap();
        assert_eq!(text, on_cpu.to_string());
        assert_eq!(text, "array([[1.5, -6.75],\n       [0.003, 21]], dtype=float32)");
    }
}
