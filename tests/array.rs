//! `Array` itself, on the CPU and the GPU: laziness (nothing runs before `eval`), inputs released
//! after evaluation, `item` / `to_vec` and their dtype conversions, the async reads and
//! `async_eval`, zero-size arrays through every op family, 0-d scalars with broadcasting, and
//! the `Send + Sync` guarantee.

mod common;

use common::{assert_close, values};
use half::{bf16, f16};
use wmx::{self as mx, Array, Device, Dtype};

/// Compile-time check: arrays (and the ids and futures around them) cross threads.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    const fn send<T: Send>() {}
    send_sync::<Array>();
    send_sync::<Device>();
    send_sync::<mx::Stream>();
    send_sync::<mx::Error>();
    send::<mx::Evaluation>();
};

fn f32s(v: &[f32], shape: &[i32]) -> Array {
    Array::from_slice(v, shape)
}

/// Resident set size of this process in bytes (Linux), or `None` elsewhere.
fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

device_tests! {
    fn nothing_runs_before_eval(dev: Device) {
        let a = f32s(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
        assert!(a.is_evaluated(), "an array from host data is already evaluated");
        let b = mx::exp(&a, dev).unwrap();
        let c = mx::add(&b, &a, dev).unwrap();
        let t = mx::transpose(&c, &[], dev).unwrap();
        let m = mx::matmul(&c, &t, dev).unwrap();
        let s = mx::sum(&m, &[1], false, dev).unwrap();
        let r = mx::reshape(&s, &[1, 2], dev).unwrap();
        let z = mx::zeros(&[2], Dtype::Int32, dev).unwrap();
        let nodes = [&b, &c, &t, &m, &s, &r, &z];
        // Reading metadata, waiting on the stream and formatting with Debug run nothing.
        assert_eq!(r.shape(), &[1, 2]);
        assert_eq!(r.dtype(), Dtype::Float32);
        assert_eq!(r.device(), dev);
        let _ = format!("{r:?}");
        mx::synchronize(dev).unwrap();
        for (i, n) in nodes.iter().enumerate() {
            assert!(!n.is_evaluated(), "node {i} ({n:?}) ran before eval");
        }
        mx::eval([&r]).unwrap();
        for (i, n) in nodes[..6].iter().enumerate() {
            assert!(n.is_evaluated(), "node {i} ({n:?}) not evaluated by eval of its consumer");
        }
        assert!(!z.is_evaluated(), "eval must not run arrays it does not need");
        let want: Vec<f64> = {
            let c: Vec<f64> = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0].iter().map(|&x| x.exp() + x).collect();
            let dot = |i: usize, j: usize| (0..3).map(|k| c[i * 3 + k] * c[j * 3 + k]).sum::<f64>();
            vec![dot(0, 0) + dot(0, 1), dot(1, 0) + dot(1, 1)]
        };
        assert_close("matmul", Dtype::Float32, &values(&r), &want);
    }

    fn clones_share_evaluation(dev: Device) {
        let a = mx::arange(0.0, 4.0, 1.0, Dtype::Float32, dev).unwrap();
        let b = a.clone();
        assert!(!a.is_evaluated() && !b.is_evaluated());
        b.eval().unwrap();
        assert!(a.is_evaluated(), "a clone is the same node");
        // Evaluating again is a no-op.
        mx::eval([&a, &b]).unwrap();
        assert_eq!(a.to_vec::<f32>().unwrap(), vec![0.0, 1.0, 2.0, 3.0]);
    }

    fn inputs_are_released_after_eval(dev: Device) {
        // Keep 40 small outputs of 16 MiB inputs whose handles we drop. If evaluated nodes kept
        // their inputs, ~0.6 GB (or more) would stay resident.
        const N: i32 = 4 << 20;
        const ROUNDS: usize = 40;
        let mut outs = Vec::new();
        let mut start = None;
        for i in 0..ROUNDS {
            let big = mx::full(&[N], 1.0, Dtype::Float32, dev).unwrap();
            let scaled = mx::multiply(&big, Array::scalar(i as f32), dev).unwrap();
            drop(big);
            let out = mx::max(&scaled, &[], false, dev).unwrap();
            drop(scaled);
            mx::eval([&out]).unwrap();
            outs.push(out);
            if i == 1 {
                start = rss_bytes(); // after the first rounds, once pools and caches are warm
            }
        }
        for (i, o) in outs.iter().enumerate() {
            assert_eq!(o.item::<f32>().unwrap(), i as f32, "output {i}");
        }
        if let (Some(s), Some(e)) = (start, rss_bytes()) {
            let grown = e.saturating_sub(s);
            let leaked_if_kept = (ROUNDS as u64 - 2) * (N as u64) * 4;
            assert!(
                grown < leaked_if_kept / 2,
                "resident memory grew by {} MiB over {} rounds of 16 MiB inputs: evaluated nodes seem to keep their inputs",
                grown >> 20,
                ROUNDS - 2
            );
        }
    }

    fn item_converts_like_astype(dev: Device) {
        let x = mx::multiply(Array::scalar(2.75f32), Array::scalar(-1.0f32), dev).unwrap();
        assert_eq!(x.item::<f32>().unwrap(), -2.75);
        assert_eq!(x.item::<i32>().unwrap(), -2);
        assert!(x.item::<bool>().unwrap());
        assert_eq!(x.item::<f16>().unwrap(), f16::from_f32(-2.75));
        assert_eq!(x.item::<bf16>().unwrap(), bf16::from_f32(-2.75));
        let one = mx::sum(&Array::from_slice(&[7u8], &[1, 1]), &[], true, dev).unwrap();
        assert_eq!(one.shape(), &[1, 1]);
        assert_eq!(one.dtype(), Dtype::Uint32);
        assert_eq!(one.item::<u32>().unwrap(), 7);
        assert_eq!(one.item::<u8>().unwrap(), 7);
        assert_eq!(one.item::<f32>().unwrap(), 7.0);
        let t = mx::greater(Array::scalar(3i32), Array::scalar(2i32), dev).unwrap();
        assert_eq!(t.dtype(), Dtype::Bool);
        assert!(t.item::<bool>().unwrap());
        assert_eq!(t.item::<i32>().unwrap(), 1);
        assert_eq!(t.item::<f32>().unwrap(), 1.0);
    }

    fn to_vec_converts_between_dtypes(dev: Device) {
        // Values in range for every target, so that astype on any device agrees with to_vec.
        let src = [1.75f32, -1.75, 0.0, 200.5, -0.5];
        let a = mx::contiguous(&f32s(&src, &[5]), dev).unwrap();
        assert_eq!(a.to_vec::<f32>().unwrap(), src.to_vec());
        assert_eq!(a.to_vec::<i32>().unwrap(), vec![1, -1, 0, 200, 0]);
        assert_eq!(a.to_vec::<bool>().unwrap(), vec![true, true, false, true, true]);
        assert_eq!(a.to_vec::<f16>().unwrap(), src.iter().map(|&x| f16::from_f32(x)).collect::<Vec<_>>());
        assert_eq!(a.to_vec::<bf16>().unwrap(), src.iter().map(|&x| bf16::from_f32(x)).collect::<Vec<_>>());
        // The same conversions done on the device by astype.
        assert_eq!(mx::astype(&a, Dtype::Int32, dev).unwrap().to_vec::<i32>().unwrap(), vec![1, -1, 0, 200, 0]);
        assert_eq!(mx::astype(&a, Dtype::Bool, dev).unwrap().to_vec::<bool>().unwrap(), vec![true, true, false, true, true]);
        let pos = mx::abs(&a, dev).unwrap();
        assert_eq!(pos.to_vec::<u8>().unwrap(), vec![1, 1, 0, 200, 0]);
        assert_eq!(pos.to_vec::<u32>().unwrap(), vec![1, 1, 0, 200, 0]);
        assert_eq!(mx::astype(&pos, Dtype::Uint8, dev).unwrap().to_vec::<u8>().unwrap(), vec![1, 1, 0, 200, 0]);

        // Integers, bools and halves to the other types.
        let i = mx::contiguous(&Array::from_slice(&[-3i32, 0, 16777217, 7], &[2, 2]), dev).unwrap();
        assert_eq!(i.to_vec::<i32>().unwrap(), vec![-3, 0, 16777217, 7]);
        assert_eq!(i.to_vec::<f32>().unwrap(), vec![-3.0, 0.0, 16777216.0, 7.0]);
        assert_eq!(i.to_vec::<bool>().unwrap(), vec![true, false, true, true]);
        let u = mx::contiguous(&Array::from_slice(&[u32::MAX, 5], &[2]), dev).unwrap();
        assert_eq!(u.to_vec::<u32>().unwrap(), vec![u32::MAX, 5]);
        assert_eq!(u.to_vec::<f32>().unwrap(), vec![4294967296.0, 5.0]);
        let b = mx::contiguous(&Array::from_slice(&[true, false, true], &[3]), dev).unwrap();
        assert_eq!(b.to_vec::<f32>().unwrap(), vec![1.0, 0.0, 1.0]);
        assert_eq!(b.to_vec::<u8>().unwrap(), vec![1, 0, 1]);
        assert_eq!(b.to_vec::<i32>().unwrap(), vec![1, 0, 1]);
        let h = mx::contiguous(&Array::from_slice(&[f16::from_f32(0.1), f16::from_f32(-2.5)], &[2]), dev).unwrap();
        assert_eq!(h.to_vec::<f32>().unwrap(), vec![f16::from_f32(0.1).to_f32(), -2.5]);
        assert_eq!(h.to_vec::<i32>().unwrap(), vec![0, -2]);
        assert_eq!(h.to_vec::<bf16>().unwrap(), vec![bf16::from_f32(f16::from_f32(0.1).to_f32()), bf16::from_f32(-2.5)]);
        // A strided view reads in logical (row-major) order.
        let m = Array::from_slice(&[1i32, 2, 3, 4, 5, 6], &[2, 3]);
        let t = mx::transpose(&m, &[], dev).unwrap();
        assert_eq!(t.to_vec::<i32>().unwrap(), vec![1, 4, 2, 5, 3, 6]);
        assert_eq!(t.to_vec::<f32>().unwrap(), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        let sl = mx::slice(&m, &[1, 2], &[-3, -4], &[-1, -2], dev).unwrap();
        assert_eq!(sl.shape(), &[2, 2]);
        assert_eq!(sl.to_vec::<i32>().unwrap(), vec![6, 4, 3, 1]);
    }

    fn async_reads(dev: Device) {
        let a = mx::arange(0.0, 5.0, 1.0, Dtype::Float32, dev).unwrap();
        let b = mx::multiply(&a, Array::scalar(2.0f32), dev).unwrap();
        assert!(!b.is_evaluated());
        let v: Vec<f32> = pollster::block_on(b.to_vec_async()).unwrap();
        assert_eq!(v, vec![0.0, 2.0, 4.0, 6.0, 8.0]);
        assert!(b.is_evaluated());

        let c = mx::astype(&mx::add(&a, &a, dev).unwrap(), Dtype::Int32, dev).unwrap();
        let w: Vec<i32> = futures::executor::block_on(c.to_vec_async()).unwrap();
        assert_eq!(w, vec![0, 2, 4, 6, 8]);

        // Several reads awaited together.
        let d = mx::sum(&a, &[], false, dev).unwrap();
        let e = mx::negative(&a, dev).unwrap();
        let (x, y) = futures::executor::block_on(futures::future::join(d.to_vec_async::<f32>(), e.to_vec_async::<i32>()));
        assert_eq!(x.unwrap(), vec![10.0]);
        assert_eq!(y.unwrap(), vec![0, -1, -2, -3, -4]);

        // A read of an already-evaluated array resolves at once.
        assert_eq!(pollster::block_on(a.to_vec_async::<i32>()).unwrap(), vec![0, 1, 2, 3, 4]);
    }

    fn async_eval_is_awaitable(dev: Device) {
        let a = mx::ones(&[64, 64], Dtype::Float32, dev).unwrap();
        let b = mx::matmul(&a, &a, dev).unwrap();
        let c = mx::sum(&b, &[], false, dev).unwrap();
        let pending = mx::async_eval([&c]);
        futures::executor::block_on(pending).unwrap();
        assert!(c.is_evaluated() && b.is_evaluated());
        assert_eq!(c.item::<f32>().unwrap(), 64.0 * 64.0 * 64.0);

        let d = mx::exp(&mx::zeros(&[3], Dtype::Float32, dev).unwrap(), dev).unwrap();
        let e = mx::arange(0.0, 3.0, 1.0, Dtype::Int32, dev).unwrap();
        pollster::block_on(mx::async_eval([&d, &e])).unwrap();
        assert!(d.is_evaluated() && e.is_evaluated());

        let f = mx::negative(&e, dev).unwrap();
        mx::async_eval([&f]).wait().unwrap();
        assert_eq!(f.to_vec::<i32>().unwrap(), vec![0, -1, -2]);

        // An await inside an async block, as a caller's own future would do it.
        let g = mx::add(&f, &e, dev).unwrap();
        let total = futures::executor::block_on(async {
            mx::async_eval([&g]).await?;
            g.to_vec_async::<i32>().await
        })
        .unwrap();
        assert_eq!(total, vec![0, 0, 0]);

        // async_eval of nothing resolves at once.
        pollster::block_on(mx::async_eval(std::iter::empty::<&Array>())).unwrap();
    }

    fn zero_size_elementwise(dev: Device) {
        let e = mx::zeros(&[0, 3], Dtype::Float32, dev).unwrap();
        let row = f32s(&[1.0, 2.0, 3.0], &[3]);
        let cases = [
            mx::exp(&e, dev).unwrap(),
            mx::negative(&e, dev).unwrap(),
            mx::add(&e, &row, dev).unwrap(),
            mx::multiply(&e, Array::scalar(2.0f32), dev).unwrap(),
            mx::add(&e, mx::ones(&[1, 3], Dtype::Float32, dev).unwrap(), dev).unwrap(),
            mx::astype(&e, Dtype::Float16, dev).unwrap(),
            mx::where_(mx::greater(&e, &row, dev).unwrap(), &e, &row, dev).unwrap(),
            mx::broadcast_to(&row, &[0, 3], dev).unwrap(),
            mx::softmax(&e, &[-1], dev).unwrap(),
        ];
        for (i, c) in cases.iter().enumerate() {
            assert_eq!(c.shape(), &[0, 3], "case {i}");
            assert_eq!(c.size(), 0);
            assert_eq!(c.to_vec::<f32>().unwrap(), Vec::<f32>::new(), "case {i}");
        }
        assert_eq!(cases[6].dtype(), Dtype::Float32);
        assert_eq!(cases[5].dtype(), Dtype::Float16);
        // A zero-size dim broadcasts against 1 and against itself, not against 2.
        let c = mx::add(mx::zeros(&[2, 0], Dtype::Int32, dev).unwrap(), mx::zeros(&[2, 1], Dtype::Int32, dev).unwrap(), dev).unwrap();
        assert_eq!(c.shape(), &[2, 0]);
        assert_eq!(c.to_vec::<i32>().unwrap(), Vec::<i32>::new());
        assert!(mx::add(mx::zeros(&[0], Dtype::Int32, dev).unwrap(), mx::zeros(&[2], Dtype::Int32, dev).unwrap(), dev).is_err());
        let cmp = mx::equal(&e, &e, dev).unwrap();
        assert_eq!((cmp.shape(), cmp.dtype()), (&[0, 3][..], Dtype::Bool));
        assert_eq!(cmp.to_vec::<bool>().unwrap(), Vec::<bool>::new());
    }

    fn zero_size_reductions(dev: Device) {
        let e = mx::zeros(&[0], Dtype::Float32, dev).unwrap();
        assert_eq!(mx::sum(&e, &[], false, dev).unwrap().item::<f32>().unwrap(), 0.0);
        assert_eq!(mx::prod(&e, &[], false, dev).unwrap().item::<f32>().unwrap(), 1.0);
        assert!(mx::all(&e, &[], false, dev).unwrap().item::<bool>().unwrap());
        assert!(!mx::any(&e, &[], false, dev).unwrap().item::<bool>().unwrap());
        assert!(mx::mean(&e, &[], false, dev).unwrap().item::<f32>().unwrap().is_nan(), "mean of nothing is 0/0");
        let ei = mx::zeros(&[0], Dtype::Int32, dev).unwrap();
        assert_eq!(mx::sum(&ei, &[], false, dev).unwrap().item::<i32>().unwrap(), 0);
        assert_eq!(mx::prod(&ei, &[], false, dev).unwrap().item::<i32>().unwrap(), 1);
        let eb = mx::zeros(&[0], Dtype::Bool, dev).unwrap();
        let sb = mx::sum(&eb, &[], false, dev).unwrap();
        assert_eq!((sb.dtype(), sb.item::<i32>().unwrap()), (Dtype::Int32, 0));

        // Over the empty axis: a full result of identities.
        let m = mx::zeros(&[0, 3], Dtype::Float32, dev).unwrap();
        let s0 = mx::sum(&m, &[0], false, dev).unwrap();
        assert_eq!(s0.shape(), &[3]);
        assert_eq!(s0.to_vec::<f32>().unwrap(), vec![0.0; 3]);
        let p0 = mx::prod(&m, &[0], true, dev).unwrap();
        assert_eq!(p0.shape(), &[1, 3]);
        assert_eq!(p0.to_vec::<f32>().unwrap(), vec![1.0; 3]);
        let t = mx::zeros(&[3, 0], Dtype::Int32, dev).unwrap();
        assert_eq!(mx::sum(&t, &[1], false, dev).unwrap().to_vec::<i32>().unwrap(), vec![0; 3]);
        assert_eq!(mx::prod(&t, &[-1], false, dev).unwrap().to_vec::<i32>().unwrap(), vec![1; 3]);
        // Over a non-empty axis of an empty array: an empty result (max and argmax are fine here).
        for r in [
            mx::sum(&m, &[1], false, dev).unwrap(),
            mx::max(&m, &[1], false, dev).unwrap(),
            mx::min(&m, &[-1], false, dev).unwrap(),
            mx::mean(&m, &[1], false, dev).unwrap(),
        ] {
            assert_eq!(r.shape(), &[0]);
            assert_eq!(r.to_vec::<f32>().unwrap(), Vec::<f32>::new());
        }
        let am = mx::argmax(&m, 1, false, dev).unwrap();
        assert_eq!((am.shape(), am.dtype()), (&[0][..], Dtype::Uint32));
        assert_eq!(am.to_vec::<u32>().unwrap(), Vec::<u32>::new());
    }

    fn zero_size_matmul(dev: Device) {
        // K = 0: a full result of zeros.
        let k0 = mx::matmul(&mx::ones(&[2, 0], Dtype::Float32, dev).unwrap(), &mx::ones(&[0, 3], Dtype::Float32, dev).unwrap(), dev).unwrap();
        assert_eq!(k0.shape(), &[2, 3]);
        assert_eq!(k0.to_vec::<f32>().unwrap(), vec![0.0; 6]);
        let k0h = mx::matmul(&mx::ones(&[4, 0], Dtype::Float16, dev).unwrap(), &mx::ones(&[0, 5], Dtype::Float16, dev).unwrap(), dev).unwrap();
        assert_eq!(k0h.to_vec::<f32>().unwrap(), vec![0.0; 20]);
        // K = 0 with 1-D operands: a 0-d zero.
        let dot = mx::matmul(&mx::ones(&[0], Dtype::Float32, dev).unwrap(), &mx::ones(&[0], Dtype::Float32, dev).unwrap(), dev).unwrap();
        assert_eq!(dot.shape(), &[] as &[i32]);
        assert_eq!(dot.item::<f32>().unwrap(), 0.0);
        // M = 0, N = 0, batch = 0: empty results.
        let b = mx::ones(&[4, 3], Dtype::Float32, dev).unwrap();
        let m0 = mx::matmul(&mx::ones(&[0, 4], Dtype::Float32, dev).unwrap(), &b, dev).unwrap();
        assert_eq!(m0.shape(), &[0, 3]);
        assert_eq!(m0.to_vec::<f32>().unwrap(), Vec::<f32>::new());
        let n0 = mx::matmul(&mx::ones(&[2, 4], Dtype::Float32, dev).unwrap(), &mx::ones(&[4, 0], Dtype::Float32, dev).unwrap(), dev).unwrap();
        assert_eq!(n0.shape(), &[2, 0]);
        assert_eq!(n0.to_vec::<f32>().unwrap(), Vec::<f32>::new());
        let z0 = mx::matmul(&mx::ones(&[0, 2, 4], Dtype::Float32, dev).unwrap(), &b, dev).unwrap();
        assert_eq!(z0.shape(), &[0, 2, 3]);
        assert_eq!(z0.to_vec::<f32>().unwrap(), Vec::<f32>::new());
        // Batched K = 0.
        let bk0 = mx::matmul(&mx::ones(&[2, 3, 0], Dtype::Float32, dev).unwrap(), &mx::ones(&[0, 2], Dtype::Float32, dev).unwrap(), dev).unwrap();
        assert_eq!(bk0.shape(), &[2, 3, 2]);
        assert_eq!(bk0.to_vec::<f32>().unwrap(), vec![0.0; 12]);
    }

    fn zero_size_shape_ops(dev: Device) {
        let a = Array::from_slice(&[1i32, 2, 3, 4], &[2, 2]);
        let e = mx::zeros(&[0, 2], Dtype::Int32, dev).unwrap();
        // Concatenate with an empty part, first, last or alone.
        let c = mx::concatenate(&[&e, &a, &e], 0, dev).unwrap();
        assert_eq!(c.shape(), &[2, 2]);
        assert_eq!(c.to_vec::<i32>().unwrap(), vec![1, 2, 3, 4]);
        let side = mx::zeros(&[2, 0], Dtype::Float32, dev).unwrap();
        let c1 = mx::concatenate(&[&a, &side], 1, dev).unwrap();
        assert_eq!((c1.shape(), c1.dtype()), (&[2, 2][..], Dtype::Float32));
        assert_eq!(c1.to_vec::<i32>().unwrap(), vec![1, 2, 3, 4]);
        let ee = mx::concatenate(&[&e, &e], 0, dev).unwrap();
        assert_eq!(ee.shape(), &[0, 2]);
        assert_eq!(ee.to_vec::<i32>().unwrap(), Vec::<i32>::new());
        // Reshape, transpose, expand and flatten keep the zero.
        let r = mx::reshape(&e, &[2, 0, 1], dev).unwrap();
        assert_eq!(r.shape(), &[2, 0, 1]);
        assert_eq!(mx::reshape(&e, &[-1, 4], dev).unwrap().shape(), &[0, 4]);
        let t = mx::transpose(&r, &[], dev).unwrap();
        assert_eq!(t.shape(), &[1, 0, 2]);
        assert_eq!(t.to_vec::<i32>().unwrap(), Vec::<i32>::new());
        assert_eq!(mx::flatten(&r, 0, -1, dev).unwrap().shape(), &[0]);
        assert_eq!(mx::expand_dims(&e, &[1], dev).unwrap().shape(), &[0, 1, 2]);
        assert_eq!(mx::contiguous(&t, dev).unwrap().to_vec::<i32>().unwrap(), Vec::<i32>::new());
        // Slices to empty (empty ranges, steps past the end), and ops on them.
        let x = mx::arange(0.0, 5.0, 1.0, Dtype::Int32, dev).unwrap();
        for (start, stop, step) in [(3, 1, 1), (5, 9, 1), (1, 3, -1), (2, 2, 1)] {
            let s = mx::slice(&x, &[start], &[stop], &[step], dev).unwrap();
            assert_eq!(s.shape(), &[0], "x[{start}:{stop}:{step}]");
            assert_eq!(s.to_vec::<i32>().unwrap(), Vec::<i32>::new());
            assert_eq!(mx::sum(&s, &[], false, dev).unwrap().item::<i32>().unwrap(), 0);
            assert_eq!(mx::add(&s, &s, dev).unwrap().to_vec::<i32>().unwrap(), Vec::<i32>::new());
        }
        let s2 = mx::slice(&a, &[0, 1], &[2, 1], &[], dev).unwrap();
        assert_eq!(s2.shape(), &[2, 0]);
        assert_eq!(mx::sum(&s2, &[1], false, dev).unwrap().to_vec::<i32>().unwrap(), vec![0, 0]);
        // Splitting an empty axis, and splits that leave an empty part.
        let parts = mx::split(&e, 2, 0, dev).unwrap();
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| p.shape() == [0, 2]));
        let parts = mx::split_at(&x, &[0, 5], 0, dev).unwrap();
        assert_eq!(parts.iter().map(|p| p.shape()[0]).collect::<Vec<_>>(), vec![0, 5, 0]);
        assert_eq!(parts[1].to_vec::<i32>().unwrap(), vec![0, 1, 2, 3, 4]);
        // Creation of empty arrays.
        assert_eq!(mx::arange(3.0, 3.0, 1.0, Dtype::Float32, dev).unwrap().shape(), &[0]);
        assert_eq!(mx::arange(3.0, 0.0, 1.0, Dtype::Int32, dev).unwrap().to_vec::<i32>().unwrap(), Vec::<i32>::new());
        assert_eq!(mx::full(&[0, 4, 0], 5.0, Dtype::Uint8, dev).unwrap().to_vec::<u8>().unwrap(), Vec::<u8>::new());
        assert_eq!(mx::eye(0, None, 0, Dtype::Float32, dev).unwrap().shape(), &[0, 0]);
        assert_eq!(Array::from_slice::<f32>(&[], &[0, 5]).to_vec::<f32>().unwrap(), Vec::<f32>::new());
    }

    fn eval_many_outputs_at_once(dev: Device) {
        let base = mx::arange(0.0, 12.0, 1.0, Dtype::Float32, dev).unwrap();
        let m = mx::reshape(&base, &[3, 4], dev).unwrap();
        let outs = vec![
            mx::sum(&m, &[0], false, dev).unwrap(),
            mx::sum(&m, &[1], false, dev).unwrap(),
            mx::zeros(&[0, 4], Dtype::Float32, dev).unwrap(),
            mx::transpose(&m, &[], dev).unwrap(),
            mx::matmul(&m, &mx::transpose(&m, &[], dev).unwrap(), dev).unwrap(),
            mx::max(&m, &[], false, dev).unwrap(),
            mx::slice(&m, &[3, 0], &[3, 4], &[], dev).unwrap(),
            m.clone(),
            mx::exp(&m, Device::cpu()).unwrap(), // another device in the same eval
            Array::scalar(5i32),                  // already evaluated
        ];
        let outs: Vec<Array> = outs.into_iter().chain((0..20).map(|i| mx::add(&m, Array::scalar(i as f32), dev).unwrap())).collect();
        mx::eval(&outs).unwrap();
        assert!(outs.iter().all(|o| o.is_evaluated()));
        assert_eq!(outs[0].to_vec::<f32>().unwrap(), vec![12.0, 15.0, 18.0, 21.0]);
        assert_eq!(outs[1].to_vec::<f32>().unwrap(), vec![6.0, 22.0, 38.0]);
        assert_eq!(outs[2].size(), 0);
        assert_eq!(outs[3].shape(), &[4, 3]);
        assert_eq!(outs[4].to_vec::<f32>().unwrap(), vec![14.0, 38.0, 62.0, 38.0, 126.0, 214.0, 62.0, 214.0, 366.0]);
        assert_eq!(outs[5].item::<f32>().unwrap(), 11.0);
        assert_eq!(outs[6].shape(), &[0, 4]);
        assert_eq!(outs[9].item::<i32>().unwrap(), 5);
        assert_close("exp", Dtype::Float32, &values(&outs[8]), &(0..12).map(|i| (i as f64).exp()).collect::<Vec<_>>());
        for i in 0..20 {
            assert_eq!(outs[10 + i].to_vec::<f32>().unwrap(), (0..12).map(|k| (k + i) as f32).collect::<Vec<_>>());
        }
        // An empty list evaluates nothing and succeeds.
        mx::eval(Vec::<&Array>::new()).unwrap();
    }

    fn scalars_broadcast(dev: Device) {
        let two = Array::scalar(2.0f32);
        assert_eq!(two.ndim(), 0);
        assert_eq!(two.shape(), &[] as &[i32]);
        assert_eq!(two.size(), 1);
        let m = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
        let p = mx::multiply(&two, &m, dev).unwrap();
        assert_eq!(p.shape(), &[2, 3]);
        assert_eq!(p.to_vec::<f32>().unwrap(), vec![2.0, 4.0, 6.0, 8.0, 10.0, 12.0]);
        let q = mx::subtract(&m, &two, dev).unwrap();
        assert_eq!(q.to_vec::<f32>().unwrap(), vec![-1.0, 0.0, 1.0, 2.0, 3.0, 4.0]);
        // Scalar with scalar stays 0-d, with promotion.
        let s = mx::add(Array::scalar(3i32), Array::scalar(0.5f32), dev).unwrap();
        assert_eq!((s.ndim(), s.dtype()), (0, Dtype::Float32));
        assert_eq!(s.item::<f32>().unwrap(), 3.5);
        // An int32 scalar does not widen a float16 array (MLX promotes to float16).
        let h = mx::add(mx::ones(&[2], Dtype::Float16, dev).unwrap(), Array::scalar(1i32), dev).unwrap();
        assert_eq!(h.dtype(), Dtype::Float16);
        assert_eq!(h.to_vec::<f32>().unwrap(), vec![2.0, 2.0]);
        // Scalars from reductions and comparisons feed back into ops.
        let total = mx::sum(&m, &[], false, dev).unwrap();
        assert_eq!(total.ndim(), 0);
        let frac = mx::divide(&m, &total, dev).unwrap();
        assert_close("divide", Dtype::Float32, &values(&frac), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0].map(|x| x / 21.0));
        let mask = mx::greater(&m, Array::scalar(3i32), dev).unwrap();
        assert_eq!(mask.to_vec::<bool>().unwrap(), vec![false, false, false, true, true, true]);
        let w = mx::where_(Array::scalar(true), &m, Array::scalar(0.0f32), dev).unwrap();
        assert_eq!(w.shape(), &[2, 3]);
        assert_eq!(mx::where_(&mask, Array::scalar(1i32), Array::scalar(0i32), dev).unwrap().to_vec::<i32>().unwrap(), vec![0, 0, 0, 1, 1, 1]);
        // 0-d through shape ops and reductions.
        assert_eq!(mx::broadcast_to(&two, &[2, 2], dev).unwrap().to_vec::<f32>().unwrap(), vec![2.0; 4]);
        assert_eq!(mx::reshape(&two, &[1, 1], dev).unwrap().shape(), &[1, 1]);
        assert_eq!(mx::expand_dims(&two, &[0], dev).unwrap().to_vec::<f32>().unwrap(), vec![2.0]);
        assert_eq!(mx::flatten(&two, 0, -1, dev).unwrap().shape(), &[1]);
        assert_eq!(mx::transpose(&two, &[], dev).unwrap().shape(), &[] as &[i32]);
        assert_eq!(mx::sum(&two, &[], false, dev).unwrap().item::<f32>().unwrap(), 2.0);
        assert_eq!(mx::exp(&Array::scalar(0.0f32), dev).unwrap().item::<f32>().unwrap(), 1.0);
        assert_eq!(mx::astype(&two, Dtype::Int32, dev).unwrap().item::<i32>().unwrap(), 2);
        let sq = mx::squeeze(&mx::reshape(&two, &[1, 1, 1], dev).unwrap(), &[], dev).unwrap();
        assert_eq!((sq.ndim(), sq.item::<f32>().unwrap()), (0, 2.0));
        let full0 = mx::full(&[], 7.0, Dtype::Int32, dev).unwrap();
        assert_eq!((full0.ndim(), full0.item::<i32>().unwrap()), (0, 7));
        // Operators broadcast scalars too (on the default stream, set to this device).
        let _g = mx::stream(dev);
        let r = &(&m * &two) + &Array::scalar(1.0f32);
        assert_eq!(r.to_vec::<f32>().unwrap(), vec![3.0, 5.0, 7.0, 9.0, 11.0, 13.0]);
        assert_eq!(r.device(), dev);
    }
}

#[test]
fn arrays_cross_threads() {
    let a = Array::from_slice(&[1.0f32, 2.0, 3.0], &[3]);
    let b = mx::multiply(&a, &a, Device::cpu()).unwrap();
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let b = b.clone();
            std::thread::spawn(move || {
                let c = mx::add(&b, Array::scalar(i as f32), Device::cpu()).unwrap();
                c.to_vec::<f32>().unwrap()
            })
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        let i = i as f32;
        assert_eq!(h.join().unwrap(), vec![1.0 + i, 4.0 + i, 9.0 + i]);
    }
    assert!(b.is_evaluated());
}
