//! Error reporting: a table of bad inputs, each checked on the CPU and the GPU for the exact
//! `wmx::Error` variant, the op it names, a message that reads `[op] ...` and names the offending
//! values, plus one insta snapshot of every message (the same snapshot for both devices, so the
//! messages cannot depend on the device).

mod common;

use wmx::{self as mx, Array, Device, DeviceType, Dtype, Error};

/// The variant's name, so a table row can say which one it expects.
fn kind(e: &Error) -> &'static str {
    match e {
        Error::Shape { .. } => "Shape",
        Error::Axis { .. } => "Axis",
        Error::Dtype { .. } => "Dtype",
        Error::Value { .. } => "Value",
        Error::Device { .. } => "Device",
        Error::TooLarge { .. } => "TooLarge",
        Error::Unimplemented { .. } => "Unimplemented",
        Error::Backend { .. } => "Backend",
        Error::Io { .. } => "Io",
    }
}

/// One bad input: what it is, what it must report, and what it reported.
struct Case {
    name: &'static str,
    kind: &'static str,
    op: &'static str,
    /// Substrings the message must contain (the offending values); `a|b` accepts either spelling.
    names: Vec<&'static str>,
    got: Result<(), Error>,
}

fn case<T>(
    name: &'static str,
    kind: &'static str,
    op: &'static str,
    names: &[&'static str],
    got: Result<T, Error>,
) -> Case {
    Case {
        name,
        kind,
        op,
        names: names.to_vec(),
        got: got.map(|_| ()),
    }
}

fn f32s(shape: &[i32]) -> Array {
    let n: i32 = shape.iter().product();
    Array::from_slice(&(0..n).map(|i| i as f32).collect::<Vec<_>>(), shape)
}

fn i32s(shape: &[i32]) -> Array {
    let n: i32 = shape.iter().product();
    Array::from_slice(&(0..n).collect::<Vec<_>>(), shape)
}

/// Every bad input, with its ops placed on `dev`.
fn cases(dev: Device) -> Vec<Case> {
    let bad_gpu = Device::gpu(999);
    let bad_cpu = Device {
        kind: DeviceType::Cpu,
        index: 1,
    };
    let (a23, a43, a24) = (f32s(&[2, 3]), f32s(&[4, 3]), f32s(&[2, 4]));
    vec![
        // Shapes that cannot be combined. MLX also reports add's broadcast failure as [broadcast_shapes].
        case(
            "add (2,3) + (4,3)",
            "Shape",
            "broadcast_shapes",
            &["(2,3)", "(4,3)"],
            mx::add(&a23, &a43, dev),
        ),
        case(
            "matmul (2,3) @ (4,3)",
            "Shape",
            "matmul",
            &["(2,3)", "(4,3)"],
            mx::matmul(&a23, &a43, dev),
        ),
        case(
            "concatenate (2,3), (2,4) on axis 0",
            "Shape",
            "concatenate",
            &["(2,3)", "(2,4)", "axis is 0"],
            mx::concatenate(&[&a23, &a24], 0, dev),
        ),
        case(
            "concatenate (2,3), (3) (different ndim)",
            "Shape",
            "concatenate",
            &["(2,3)", "(3)"],
            mx::concatenate(&[&a23, &f32s(&[3])], 0, dev),
        ),
        case(
            "broadcast_to (2,3) -> (4,3)",
            "Shape",
            "broadcast_shapes",
            &["(2,3)", "(4,3)"],
            mx::broadcast_to(&a23, &[4, 3], dev),
        ),
        case(
            "broadcast_to (2,3) -> (3)",
            "Shape",
            "broadcast_to",
            &["(2,3)", "(3)"],
            mx::broadcast_to(&a23, &[3], dev),
        ),
        case(
            "stack (2,3), (2,4)",
            "Shape",
            "stack",
            &["(2,3)", "(2,4)"],
            mx::stack(&[&a23, &a24], 0, dev),
        ),
        // Bad axes.
        case(
            "sum axis 3 of a 2-D array",
            "Axis",
            "sum",
            &["3", "2 dimensions"],
            mx::sum(&a23, &[3], false, dev),
        ),
        case(
            "sum axis -3 of a 2-D array",
            "Axis",
            "sum",
            &["-3", "2 dimensions"],
            mx::sum(&a23, &[-3], false, dev),
        ),
        case(
            "sum repeated axis (0, -2)",
            "Axis",
            "sum",
            &["0", "-2"],
            mx::sum(&a23, &[0, -2], false, dev),
        ),
        case(
            "transpose repeated axes (0, 0)",
            "Axis",
            "transpose",
            &["0, 0"],
            mx::transpose(&a23, &[0, 0], dev),
        ),
        case(
            "transpose wrong axis count",
            "Axis",
            "transpose",
            &["1 axes", "2 dimensions"],
            mx::transpose(&a23, &[1], dev),
        ),
        case(
            "squeeze axis 0 of size 2",
            "Axis",
            "squeeze",
            &["axis 0", "size 2"],
            mx::squeeze(&a23, &[0], dev),
        ),
        case(
            "argmax axis 2 of a 2-D array",
            "Axis",
            "argmax",
            &["2", "2 dimensions"],
            mx::argmax(&a23, 2, false, dev),
        ),
        case(
            "softmax axis 5 of a 2-D array",
            "Axis",
            "softmax",
            &["5", "2 dimensions"],
            mx::softmax(&a23, &[5], dev),
        ),
        case(
            "logsumexp axis 5 of a 2-D array",
            "Axis",
            "logsumexp",
            &["5", "2 dimensions"],
            mx::logsumexp(&a23, &[5], false, dev),
        ),
        case(
            "mean axis 2 of a 2-D array",
            "Axis",
            "mean",
            &["2", "2 dimensions"],
            mx::mean(&a23, &[2], false, dev),
        ),
        // Reshape sizes.
        case(
            "reshape 6 elements into (4,2)",
            "Value",
            "reshape",
            &["6", "(4,2)"],
            mx::reshape(&a23, &[4, 2], dev),
        ),
        case(
            "reshape with two -1",
            "Value",
            "reshape",
            &["(-1,-1)"],
            mx::reshape(&a23, &[-1, -1], dev),
        ),
        case(
            "reshape 6 elements into (-1,4)",
            "Value",
            "reshape",
            &["6", "(-1,4)"],
            mx::reshape(&a23, &[-1, 4], dev),
        ),
        // Dtypes an op does not accept.
        case(
            "matmul of int32",
            "Dtype",
            "matmul",
            &["int32"],
            mx::matmul(&i32s(&[2, 2]), &i32s(&[2, 2]), dev),
        ),
        case(
            "negative of bool",
            "Dtype",
            "negative",
            &["bool"],
            mx::negative(&Array::from_slice(&[true, false], &[2]), dev),
        ),
        case(
            "arange of bool",
            "Dtype",
            "arange",
            &["bool"],
            mx::arange(0.0, 3.0, 1.0, Dtype::Bool, dev),
        ),
        // Values out of range.
        case(
            "split 5 into 2",
            "Value",
            "split",
            &["2 splits", "(5)"],
            mx::split(&f32s(&[5]), 2, 0, dev),
        ),
        case(
            "slice with step 0",
            "Value",
            "slice",
            &["zero", "axis 1"],
            mx::slice(&a23, &[0, 0], &[2, 3], &[1, 0], dev),
        ),
        case(
            "max over an empty axis",
            "Value",
            "max",
            &["axis 0", "size 0"],
            mx::max(&f32s(&[0, 3]), &[0], false, dev),
        ),
        case(
            "min over all of an empty array",
            "Value",
            "min",
            &["size 0"],
            mx::min(&f32s(&[3, 0]), &[], false, dev),
        ),
        case(
            "argmax over an empty axis",
            "Value",
            "argmax",
            &["axis 1", "0"],
            mx::argmax(&f32s(&[2, 0]), 1, false, dev),
        ),
        case(
            "full with a negative dimension",
            "Value",
            "full",
            &["-1"],
            mx::full(&[2, -1], 1.0, Dtype::Float32, dev),
        ),
        case(
            "arange with step 0",
            "Value",
            "arange",
            &["step=0"],
            mx::arange(0.0, 3.0, 0.0, Dtype::Float32, dev),
        ),
        case(
            "matmul of a 0-d array",
            "Value",
            "matmul",
            &["0 dimension"],
            mx::matmul(&Array::scalar(1.0f32), &a23, dev),
        ),
        case(
            "concatenate of nothing",
            "Value",
            "concatenate",
            &["No arrays"],
            mx::concatenate(&[], 0, dev),
        ),
        case(
            "try_from_slice: 2 elements for (3)",
            "Value",
            "array",
            &["2", "(3)|[3]"],
            Array::try_from_slice(&[1.0f32, 2.0], &[3]),
        ),
        case(
            "try_from_slice: negative dimension",
            "Value",
            "array",
            &["-2"],
            Array::try_from_slice::<f32>(&[], &[-2, 0]),
        ),
        case(
            "item() of shape (2,3)",
            "Value",
            "item",
            &["(2,3)|[2, 3]"],
            mx::add(&a23, &a23, dev).and_then(|x| x.item::<f32>()),
        ),
        case(
            "item() of an empty array",
            "Value",
            "item",
            &["(0)|[0]"],
            f32s(&[0]).item::<f32>(),
        ),
        // Devices that do not exist.
        case(
            "zeros on Device::gpu(999)",
            "Device",
            "zeros",
            &["999"],
            mx::zeros(&[2], Dtype::Float32, bad_gpu),
        ),
        case(
            "add on Device::gpu(999)",
            "Device",
            "add",
            &["999"],
            mx::add(&a23, &a23, bad_gpu),
        ),
        case(
            "add on a new stream of Device::gpu(999)",
            "Device",
            "add",
            &["999"],
            mx::add(&a23, &a23, mx::new_stream(bad_gpu)),
        ),
        case(
            "device_info(Device::gpu(999))",
            "Device",
            "device_info",
            &["999"],
            mx::device_info(bad_gpu),
        ),
        case(
            "synchronize(Device::gpu(999))",
            "Device",
            "synchronize",
            &["999"],
            mx::synchronize(bad_gpu),
        ),
        case(
            "zeros on CPU index 1",
            "Device",
            "zeros",
            &["1"],
            mx::zeros(&[2], Dtype::Float32, bad_cpu),
        ),
        // Shapes whose element count overflows (or passes 2^60 - 1): an Err naming the op and
        // the shape when the graph is built, on either device.
        case(
            "zeros of (2^31-1)^3 elements",
            "TooLarge",
            "zeros",
            &["(2147483647,2147483647,2147483647)"],
            mx::zeros(&[i32::MAX; 3], Dtype::Float32, dev),
        ),
        case(
            "ones of 2^62 elements",
            "TooLarge",
            "ones",
            &["(1073741824,1073741824,4)"],
            mx::ones(&[1 << 30, 1 << 30, 4], Dtype::Float32, dev),
        ),
        case(
            "full of (2^31-1)^3 elements",
            "TooLarge",
            "full",
            &["(2147483647,2147483647,2147483647)"],
            mx::full(&[i32::MAX; 3], 1.0, Dtype::Int32, dev),
        ),
        case(
            "broadcast_to (2^31-1)^3",
            "TooLarge",
            "broadcast_to",
            &["(2147483647,2147483647,2147483647)"],
            mx::broadcast_to(&Array::scalar(1.0f32), &[i32::MAX; 3], dev),
        ),
        case(
            "add broadcasting to (2^31-1, 2^31-1, 1)",
            "TooLarge",
            "add",
            &["(2147483647,2147483647,1)"],
            big_add(dev),
        ),
        case(
            "reshape into (2^31-1)^3",
            "Value",
            "reshape",
            &["(2147483647,2147483647,2147483647)", "size 6"],
            mx::reshape(&f32s(&[2, 3]), &[i32::MAX; 3], dev),
        ),
        case(
            "reshape with -1 into (-1,2^31-1,2^31-1,2^31-1)",
            "Value",
            "reshape",
            &["(-1,2147483647,2147483647,2147483647)"],
            mx::reshape(&f32s(&[2, 3]), &[-1, i32::MAX, i32::MAX, i32::MAX], dev),
        ),
        case(
            "try_from_slice with shape (2^31-1)^3",
            "TooLarge",
            "array",
            &["(2147483647,2147483647,2147483647)"],
            Array::try_from_slice(&[1.0f32], &[i32::MAX; 3]),
        ),
    ]
}

/// `p + q` where `p` is `(2^31-1, 1, 1)` and `q` is `(1, 2^31-1, 1)`, each a valid (lazy)
/// broadcast of a scalar: their sum would have about 2^62 elements.
fn big_add(dev: Device) -> mx::Result<Array> {
    let one = Array::scalar(1.0f32);
    let p = mx::broadcast_to(&one, &[i32::MAX, 1, 1], dev)?;
    let q = mx::broadcast_to(&one, &[1, i32::MAX, 1], dev)?;
    mx::add(&p, &q, dev)
}

/// The message with the machine-dependent adapter count replaced, for the snapshot.
fn portable(msg: &str) -> String {
    let n = mx::device_count(DeviceType::Gpu);
    msg.replace(&format!("but {n} GPU adapter(s)"), "but <n> GPU adapter(s)")
}

device_tests! {
    fn error_table(dev: Device) {
        let mut failures = Vec::new();
        let mut rendered = String::new();
        for c in cases(dev) {
            let e = match c.got {
                Ok(()) => {
                    failures.push(format!("{}: returned Ok, expected Error::{} from [{}]", c.name, c.kind, c.op));
                    rendered.push_str(&format!("{}: <no error>\n", c.name));
                    continue;
                }
                Err(e) => e,
            };
            let msg = e.to_string();
            rendered.push_str(&format!("{}: {}\n", c.name, portable(&msg)));
            if kind(&e) != c.kind {
                failures.push(format!("{}: variant Error::{}, expected Error::{} ({msg})", c.name, kind(&e), c.kind));
            }
            if e.op() != c.op {
                failures.push(format!("{}: op [{}], expected [{}] ({msg})", c.name, e.op(), c.op));
            }
            if !msg.starts_with(&format!("[{}] ", e.op())) {
                failures.push(format!("{}: message does not start with `[{}] `: {msg}", c.name, e.op()));
            }
            for n in &c.names {
                if !n.split('|').any(|alt| msg.contains(alt)) {
                    failures.push(format!("{}: message does not name `{n}`: {msg}", c.name));
                }
            }
        }
        assert!(failures.is_empty(), "{} error-table failure(s):\n{}", failures.len(), failures.join("\n"));
        // One snapshot for both devices: messages must not depend on where the op runs.
        insta::assert_snapshot!("error_messages", rendered);
    }

    fn errors_are_detected_before_anything_runs(dev: Device) {
        // Validation happens when the graph is built, so a bad op never leaves work on a stream.
        let a = mx::ones(&[2, 3], Dtype::Float32, dev).unwrap();
        assert!(mx::add(&a, mx::ones(&[4, 3], Dtype::Float32, dev).unwrap(), dev).is_err());
        assert!(!a.is_evaluated());
        mx::synchronize(dev).unwrap();
        assert_eq!(a.to_vec::<f32>().unwrap(), vec![1.0; 6]);
    }

    fn operators_panic_with_the_op_message(dev: Device) {
        let _g = mx::stream(dev);
        let (a, b) = (f32s(&[2, 3]), f32s(&[4, 3]));
        let err = std::panic::catch_unwind(|| &a + &b).expect_err("adding (2,3) and (4,3) must panic");
        let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
        assert_eq!(msg, mx::add(&a, &b, None).unwrap_err().to_string());
        assert!(msg.starts_with("[broadcast_shapes] Shapes (2,3) and (4,3)"), "{msg}");

        let t = Array::from_slice(&[true], &[1]);
        let err = std::panic::catch_unwind(|| -&t).expect_err("negating bool must panic");
        let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(msg.starts_with("[negative] "), "{msg}");
    }

    fn huge_valid_arrays_are_an_error_not_an_abort(dev: Device) {
        // Valid shapes (under 2^60 elements) whose bytes no machine has: 2^52 and 2^54 bytes,
        // past every user address space (x86-64 and arm64 give processes at most 2^48 bytes), so
        // no allocator can hand them out even when the OS over-commits: the test can only pass
        // with the Err, never by allocating. The CPU used to abort in `vec!`; the GPU reports
        // its indexing or buffer limit. A stream of its own, so the error stays on it.
        let s = mx::new_stream(dev);
        let z = mx::zeros(&[1 << 18, 1 << 18, 1 << 14], Dtype::Float32, s).unwrap();
        let e = z.eval().unwrap_err();
        assert!(matches!(e, Error::TooLarge { op: "full", .. }), "{e}");
        assert!(e.to_string().starts_with("[full] "), "{e}");
        // A computed output (not a fill): the sum of a row and a column of 2^26 each.
        let one = Array::scalar(1.0f32);
        let row = mx::broadcast_to(&one, &[1, 1 << 26], s).unwrap();
        let col = mx::broadcast_to(&one, &[1 << 26, 1], s).unwrap();
        let e2 = mx::add(&row, &col, s).unwrap().eval().unwrap_err();
        assert!(matches!(e2, Error::TooLarge { op: "add", .. }), "{e2}");
        if dev.kind == DeviceType::Cpu {
            let want = "[full] An array of 4503599627370496 bytes does not fit in host memory";
            assert!(e.to_string().starts_with(want), "{e}");
            assert!(e2.to_string().contains("18014398509481984 bytes"), "{e2}");
        }
        // The device is still usable afterwards.
        let ok = mx::add(mx::ones(&[4], Dtype::Float32, s).unwrap(), 1.0, s).unwrap();
        assert_eq!(ok.to_vec::<f32>().unwrap(), vec![2.0; 4]);
    }

    fn errors_compare_and_clone(dev: Device) {
        let e = mx::reshape(&f32s(&[2, 3]), &[4, 2], dev).unwrap_err();
        assert_eq!(e.clone(), e);
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(e.clone());
        assert_eq!(boxed.to_string(), e.to_string());
        assert!(format!("{e:?}").contains("Value"));
    }
}

#[test]
fn from_slice_panics_with_the_error_message() {
    let err =
        std::panic::catch_unwind(|| Array::from_slice(&[1i32, 2], &[3])).expect_err("must panic");
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert_eq!(
        msg,
        Array::try_from_slice(&[1i32, 2], &[3])
            .unwrap_err()
            .to_string()
    );
}
