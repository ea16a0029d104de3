//! f16 matmul on the GPU's cooperative-matrix kernel (`shaders/matmul_coop.wgsl`, tensor cores)
//! and its fallbacks: shapes aligned and not to the 128x128 tile, K not a multiple of the 32-deep
//! step, batched and broadcast batches, offset and transposed views, against f64 references. On
//! an adapter without cooperative matrices (lavapipe in CI) the same tests cover the tiled and
//! vec4 kernels; `coop_kernel_runs_where_offered` checks which kernel ran. The tiling is
//! `WMX_COOP_VARIANT` (scripts/coop-variants.sh runs this binary once per variant on the device).

mod common;
use common::{assert_close, make, round_to, values};
use wmx::{self as mx, Device, Dtype};

const F16: Dtype = Dtype::Float16;

/// Multiples of 1/4 in [-2, 2] (exact in f16, and their products' sums are exact in f32).
fn data(n: usize, seed: u64) -> Vec<f64> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % 17) as f64 / 4.0 - 2.0
        })
        .collect()
}

/// Row-major [batch, m, k] x [batch, k, n] in f64, rounded to f16 at the end.
fn reference(a: &[f64], b: &[f64], batch: usize, m: usize, k: usize, n: usize) -> Vec<f64> {
    let mut c = vec![0.0; batch * m * n];
    for z in 0..batch {
        for i in 0..m {
            for j in 0..n {
                let s: f64 = (0..k)
                    .map(|p| a[z * m * k + i * k + p] * b[z * k * n + p * n + j])
                    .sum();
                c[z * m * n + i * n + j] = round_to(s, F16);
            }
        }
    }
    c
}

/// Checks an f16 matmul of [batch, m, k] x [batch, k, n] (no batch axis when `batch` is 0).
fn check(dev: Device, batch: usize, m: usize, k: usize, n: usize) {
    let a = data(batch.max(1) * m * k, (m * 31 + k) as u64);
    let b = data(batch.max(1) * k * n, (n * 17 + k) as u64);
    let (sa, sb): (Vec<i32>, Vec<i32>) = if batch == 0 {
        (vec![m as i32, k as i32], vec![k as i32, n as i32])
    } else {
        (
            vec![batch as i32, m as i32, k as i32],
            vec![batch as i32, k as i32, n as i32],
        )
    };
    let r = mx::matmul(&make(&a, &sa, F16), &make(&b, &sb, F16), dev).unwrap();
    assert_eq!(r.dtype(), F16);
    assert_close(
        &format!("matmul {batch}x{m}x{k}x{n}"),
        F16,
        &values(&r),
        &reference(&a, &b, batch.max(1), m, k, n),
    );
}

device_tests! {
    fn aligned_and_edge_shapes(dev: Device) {
        // Tile multiples; M, N edges of the 128x128 tile; K short of or past the 32-deep step;
        // K = 0; then shapes the cooperative kernel leaves to the others (K or N not multiples of 4).
        for (m, k, n) in [
            (128, 128, 128),
            (256, 64, 384),
            (100, 40, 36),
            (130, 520, 260),
            (16, 4, 8),
            (1, 32, 4),
            (5, 0, 8),
            (33, 65, 17),
            (7, 3, 5),
            (64, 30, 64),
            // Several blocks and steps of every tiling (128x256 and 256x128 blocks, K 16 to 64).
            (257, 112, 516),
            (64, 200, 136),
            // Whole blocks of every tiling.
            (256, 96, 256),
            (512, 160, 128),
        ] {
            check(dev, 0, m, k, n);
        }
    }

    fn batched(dev: Device) {
        check(dev, 3, 64, 48, 72);
        check(dev, 2, 129, 36, 132);
        check(dev, 2, 256, 64, 128);
    }

    fn broadcast_batch(dev: Device) {
        // [2, 1, 40, 24] x [3, 24, 36] -> [2, 3, 40, 36]: A's batch stride repeats over B's.
        let (m, k, n) = (40, 24, 36);
        let a = data(2 * m * k, 5);
        let b = data(3 * k * n, 6);
        let r = mx::matmul(
            &make(&a, &[2, 1, m as i32, k as i32], F16),
            &make(&b, &[3, k as i32, n as i32], F16),
            dev,
        )
        .unwrap();
        assert_eq!(r.shape(), &[2, 3, m as i32, n as i32]);
        let mut want = Vec::new();
        for i in 0..2 {
            for j in 0..3 {
                want.extend(reference(
                    &a[i * m * k..(i + 1) * m * k],
                    &b[j * k * n..(j + 1) * k * n],
                    1,
                    m,
                    k,
                    n,
                ));
            }
        }
        assert_close("matmul broadcast", F16, &values(&r), &want);
    }

    fn views(dev: Device) {
        // A window of a larger matrix: offset and row stride multiples of 4 (cooperative kernel
        // where offered), then an odd offset and a transposed B (the other kernels).
        let big = data(140 * 44, 9);
        let bm = make(&big, &[140, 44], F16);
        let b = data(40 * 20, 10);
        let bb = make(&b, &[40, 20], F16);
        for c0 in [4usize, 1] {
            let win = mx::slice(&bm, &[4, c0 as i32], &[132, c0 as i32 + 40], &[], dev).unwrap();
            let r = mx::matmul(&win, &bb, dev).unwrap();
            let a: Vec<f64> = (4..132)
                .flat_map(|i| big[i * 44 + c0..i * 44 + c0 + 40].to_vec())
                .collect();
            assert_close(
                &format!("matmul window at column {c0}"),
                F16,
                &values(&r),
                &reference(&a, &b, 1, 128, 40, 20),
            );
        }
        let bt = mx::transpose(&make(&b, &[20, 40], F16), &[1, 0], dev).unwrap();
        let a = data(64 * 40, 11);
        let r = mx::matmul(&make(&a, &[64, 40], F16), &bt, dev).unwrap();
        let b_t: Vec<f64> = (0..40)
            .flat_map(|p| (0..20).map(move |j| (p, j)))
            .map(|(p, j)| b[j * 40 + p])
            .collect();
        assert_close("matmul transposed b", F16, &values(&r), &reference(&a, &b_t, 1, 64, 40, 20));
    }
}

/// Every tiling fits 48 KiB of workgroup memory (NVIDIA's Vulkan limit) and renders (the
/// prelude asserts its staging arithmetic); names round-trip through `WMX_COOP_VARIANT` names.
#[test]
fn coop_variants_fit() {
    use wmx::kernels::{CoopVariant, matmul_coop_key, render};
    for v in CoopVariant::ALL {
        let t = v.tiling();
        assert!(
            t.workgroup_bytes() <= 48 * 1024,
            "{v:?}: {} bytes",
            t.workgroup_bytes()
        );
        assert_eq!(CoopVariant::from_name(v.name()), Some(v));
        let block = format!("{}x{}x{}", t.block_m(), t.block_n(), t.k);
        assert!(v.name().starts_with(&block), "{} vs {block}", v.name());
        assert!(render(&matmul_coop_key(v), true).contains(&format!("const CK: u32 = {}u;", t.k)));
    }
}

/// On an adapter offering cooperative matrices the aligned f16 matmul must run on the
/// cooperative kernel; elsewhere on the vec4 kernel. An NVIDIA adapter on Vulkan must offer them
/// (unless `WMX_NO_COOP=1`), so a detection regression fails here on the H100.
#[test]
fn coop_kernel_runs_where_offered() {
    let Some(gpu) = common::gpu() else { return };
    let info = mx::device_info(gpu).unwrap();
    check(gpu, 0, 128, 64, 128);
    let built = mx::kernels_built(gpu);
    let coop = built.iter().any(|k| k.starts_with("matmul_coop."));
    eprintln!("{} ({}): kernels built {built:?}", info.name, info.backend);
    assert_eq!(
        coop, info.cooperative_matrix,
        "cooperative_matrix = {} on {} but kernels built: {built:?}",
        info.cooperative_matrix, info.name
    );
    if !info.cooperative_matrix && info.native_f16 {
        assert!(
            built.iter().any(|k| k == "matmul_vec4.f16.f16"),
            "{built:?}"
        );
    }
    let nvidia_vulkan = info.name.contains("NVIDIA") && info.backend == "Vulkan";
    if nvidia_vulkan && std::env::var("WMX_NO_COOP").as_deref() != Ok("1") {
        assert!(
            info.cooperative_matrix,
            "{} offers no usable cooperative matrices to wmx",
            info.name
        );
    }
}
