//! Replays the MLX fixtures of tests/fixtures/fast/ (tools/gen_fast_fixtures.py) on `wmx::fast`
//! on the CPU and the GPU: outputs for f32/f16/bf16, and for f32 the vjps (gradients of
//! sum(y * c), c = cos(0, 1, 2, ...)).

mod common;

use std::collections::BTreeMap;
use wmx::fast::{self, AttentionMask};
use wmx::{self as mx, Array, Device, Dtype};

struct Case {
    name: String,
    kind: String,
    kv: BTreeMap<String, String>,
    arrs: BTreeMap<String, Array>,
}

fn load() -> Vec<Case> {
    let path = format!(
        "{}/tests/fixtures/fast/fast.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let mut cases: Vec<Case> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("case ") {
            let mut it = rest.split_whitespace();
            let name = it.next().unwrap().to_string();
            let kind = it.next().unwrap().to_string();
            let kv = it
                .map(|t| {
                    let (k, v) = t.split_once('=').unwrap();
                    (k.to_string(), v.to_string())
                })
                .collect();
            cases.push(Case {
                name,
                kind,
                kv,
                arrs: BTreeMap::new(),
            });
        } else if let Some(rest) = line.strip_prefix("arr ") {
            let (head, data) = rest
                .split_once(" : ")
                .unwrap_or((rest.trim_end_matches(" :"), ""));
            let mut it = head.split_whitespace();
            let (label, dt, shape) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
            let shape: Vec<i32> = shape
                .trim_matches(|c| c == '(' || c == ')')
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().unwrap())
                .collect();
            // Hex digits back to back: float32, 8 per value (its bits); float16 / bfloat16, 4
            // (its 16 bits, exact in f32).
            let width = if dt == "float32" { 8 } else { 4 };
            let data = data.trim();
            let vals: Vec<f32> = (0..data.len() / width)
                .map(|i| {
                    let b = u32::from_str_radix(&data[i * width..(i + 1) * width], 16).unwrap();
                    match dt {
                        "float16" => half::f16::from_bits(b as u16).to_f32(),
                        "bfloat16" => f32::from_bits(b << 16),
                        _ => f32::from_bits(b),
                    }
                })
                .collect();
            let a = Array::from_slice(&vals, &shape);
            cases.last_mut().unwrap().arrs.insert(label.to_string(), a);
        }
    }
    cases
}

fn close(what: &str, got: &Array, want: &Array, atol: f32, rtol: f32) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    let g = mx::astype(got, Dtype::Float32, None)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    let w = want.to_vec::<f32>().unwrap();
    for (i, (a, b)) in g.iter().zip(&w).enumerate() {
        let ok = (a - b).abs() <= atol + rtol * b.abs() || (a.is_nan() && b.is_nan());
        assert!(ok, "{what}[{i}]: got {a}, MLX {b}");
    }
}

fn run_case(c: &Case, dev: Device) {
    let dt = match c.kv["dtype"].as_str() {
        "f32" => Dtype::Float32,
        "f16" => Dtype::Float16,
        _ => Dtype::Bfloat16,
    };
    let f = |k: &str| -> f32 { c.kv[k].parse().unwrap() };
    let i = |k: &str| -> i32 { c.kv[k].parse().unwrap() };
    let get = |k: &str| c.arrs.get(k).map(|a| mx::astype(a, dt, dev).unwrap());
    let mut keys: Vec<&str> = match c.kind.as_str() {
        "rms_norm" | "layer_norm" => vec!["x", "w", "b"],
        "rope" => vec!["x"],
        _ => vec!["q", "k", "v"],
    };
    keys.retain(|k| c.arrs.contains_key(*k));
    let inputs: Vec<Array> = keys.iter().map(|k| get(k).unwrap()).collect();
    let freqs = c.arrs.get("freqs").cloned();
    let mask = c.arrs.get("mask").map(|m| {
        if c.kv["mask"] == "bool" {
            mx::not_equal(m, 0.0f32, dev).unwrap()
        } else {
            mx::astype(m, dt, dev).unwrap()
        }
    });
    let kind = c.kind.clone();
    let has = |k: &str| c.arrs.contains_key(k);
    let (hw, hb) = (has("w"), has("b"));
    let mkind = c.kv.get("mask").cloned().unwrap_or_default();
    let fun = |p: &[Array]| -> wmx::Result<Vec<Array>> {
        let y = match kind.as_str() {
            "rms_norm" => fast::rms_norm(&p[0], p.get(1), f("eps"), dev)?,
            "layer_norm" => fast::layer_norm(
                &p[0],
                if hw { p.get(1) } else { None },
                if hb { p.last() } else { None },
                f("eps"),
                dev,
            )?,
            "rope" => fast::rope(
                &p[0],
                i("dims"),
                i("trad") == 1,
                if freqs.is_some() {
                    None
                } else {
                    Some(f("base"))
                },
                f("scale"),
                i("offset"),
                freqs.as_ref(),
                dev,
            )?,
            _ => {
                let m = match mkind.as_str() {
                    "causal" => Some(AttentionMask::Causal),
                    "bool" | "add" => Some(AttentionMask::Array(mask.as_ref().unwrap())),
                    _ => None,
                };
                fast::scaled_dot_product_attention(&p[0], &p[1], &p[2], f("scale"), m, dev)?
            }
        };
        Ok(vec![y])
    };
    let y = fun(&inputs).unwrap().remove(0);
    assert_eq!(y.dtype(), dt, "{}", c.name);
    let (atol, rtol) = match dt {
        Dtype::Float32 => (2e-5, 2e-5),
        Dtype::Float16 => (1e-2, 1e-2),
        _ => (6e-2, 3e-2),
    };
    close(
        &format!("{} on {dev:?}", c.name),
        &y,
        &c.arrs["y"],
        atol,
        rtol,
    );
    if dt == Dtype::Float32 {
        let n = y.size();
        let cot: Vec<f32> = (0..n).map(|j| (j as f64).cos() as f32).collect();
        let cot = Array::from_slice(&cot, y.shape());
        let (_, grads) = mx::vjp(fun, &inputs, &[cot]).unwrap();
        for (k, g) in keys.iter().zip(&grads) {
            close(
                &format!("{} d{k} on {dev:?}", c.name),
                g,
                &c.arrs[&format!("g{k}")],
                1e-4,
                1e-4,
            );
        }
    }
}

fn run_kind(prefix: &str, dev: Device) {
    let cases = load();
    let mut n = 0;
    for c in cases.iter().filter(|c| c.kind == prefix) {
        run_case(c, dev);
        n += 1;
    }
    assert!(n > 0, "no {prefix} cases");
}

device_tests! {
    fn rms_norm_matches_mlx(dev: Device) { run_kind("rms_norm", dev) }
    fn layer_norm_matches_mlx(dev: Device) { run_kind("layer_norm", dev) }
    fn rope_matches_mlx(dev: Device) { run_kind("rope", dev) }
    fn attention_matches_mlx(dev: Device) { run_kind("sdpa", dev) }
}

fn dot(a: &Array, b: &Array) -> f64 {
    let a = mx::astype(a, Dtype::Float32, None)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    let b = mx::astype(b, Dtype::Float32, None)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    a.iter().zip(&b).map(|(x, y)| *x as f64 * *y as f64).sum()
}

fn wave(shape: &[i32], phase: f64) -> Array {
    let n: i32 = shape.iter().product();
    let v: Vec<f32> = (0..n)
        .map(|i| ((i as f64) * 0.73 + phase).sin() as f32)
        .collect();
    Array::from_slice(&v, shape)
}

/// ⟨vjp(c), t⟩ = ⟨c, jvp(t)⟩ and vmap over a leading axis equals the op on the whole batch.
fn props(dev: Device, f: &dyn Fn(&[Array]) -> wmx::Result<Vec<Array>>, shapes: &[&[i32]]) {
    let xs: Vec<Array> = shapes
        .iter()
        .enumerate()
        .map(|(i, s)| wave(s, i as f64))
        .collect();
    let ts: Vec<Array> = shapes
        .iter()
        .enumerate()
        .map(|(i, s)| wave(s, 10.0 + i as f64))
        .collect();
    let y = f(&xs).unwrap().remove(0);
    let c = wave(y.shape(), 20.0);
    let (_, jv) = mx::jvp(f, &xs, &ts).unwrap();
    let (_, vj) = mx::vjp(f, &xs, &[c.clone()]).unwrap();
    let lhs: f64 = vj.iter().zip(&ts).map(|(g, t)| dot(g, t)).sum();
    let rhs = dot(&c, &jv[0]);
    assert!(
        (lhs - rhs).abs() <= 1e-3 * (1.0 + rhs.abs()),
        "{dev:?}: vjp·t {lhs} vs c·jvp {rhs}"
    );
    let batched: Vec<Array> = xs
        .iter()
        .map(|x| mx::stack(&[x, x], 0, None).unwrap())
        .collect();
    let yb = mx::vmap(f, &[], &[])(&batched).unwrap().remove(0);
    close(
        "vmap",
        &mx::take(&yb, &Array::scalar(1i32), 0, None).unwrap(),
        &mx::astype(&y, Dtype::Float32, None).unwrap(),
        1e-5,
        1e-5,
    );
}

device_tests! {
    fn transform_rules_agree(dev: Device) {
        props(dev, &|p| Ok(vec![fast::rms_norm(&p[0], Some(&p[1]), 1e-5, dev)?]), &[&[3, 7], &[7]]);
        props(dev, &|p| Ok(vec![fast::layer_norm(&p[0], Some(&p[1]), Some(&p[2]), 1e-5, dev)?]), &[&[3, 8], &[8], &[8]]);
        props(dev, &|p| Ok(vec![fast::rope(&p[0], 6, false, Some(100.0), 1.0, 2, None, dev)?]), &[&[2, 3, 8]]);
        props(dev, &|p| Ok(vec![fast::scaled_dot_product_attention(&p[0], &p[1], &p[2], 0.5, Some(AttentionMask::Causal), dev)?]),
              &[&[1, 4, 3, 8], &[1, 2, 5, 8], &[1, 2, 5, 8]]);
    }
}

/// The GPU kernel over several query and key tiles (the fixtures fit one), against the CPU's:
/// causal with Lq < Lk and Lq > Lk (rows with no visible key), grouped heads, additive and
/// boolean masks (some rows fully masked), Dv != D, ragged edges, f32/f16/bf16 (f16 takes the
/// cooperative-matrix kernel where the device has one); "rise" scales key j by 1 + j / 8, so the
/// rows' maxima keep growing across key tiles (the online softmax rescales at every tile; the
/// cooperative kernel, whose reference maximum moves only by more than 11 in base 2, rescales now
/// and then).
#[test]
fn attention_tiles_match_cpu() {
    let Some(gpu) = common::gpu() else { return };
    let cpu = Device::cpu();
    let key = mx::random::key(7);
    // (B, Hq, Hk, Lq, Lk, D, Dv, mask, dtype)
    type TileCase = (i32, i32, i32, i32, i32, i32, i32, &'static str, Dtype);
    let cases: &[TileCase] = &[
        (1, 4, 2, 150, 200, 64, 64, "causal", Dtype::Float32),
        (2, 2, 1, 200, 131, 128, 128, "causal", Dtype::Float32),
        (1, 2, 2, 70, 130, 80, 80, "add", Dtype::Float32),
        (1, 3, 1, 65, 129, 32, 48, "bool", Dtype::Float32),
        (1, 2, 2, 64, 64, 256, 256, "none", Dtype::Float32),
        (1, 4, 4, 129, 129, 128, 128, "causal", Dtype::Float16),
        (1, 2, 1, 100, 190, 64, 64, "add", Dtype::Float16),
        (1, 4, 2, 200, 131, 64, 64, "causal", Dtype::Float16),
        (1, 3, 1, 65, 129, 32, 48, "bool", Dtype::Float16),
        (2, 2, 2, 70, 70, 80, 80, "none", Dtype::Float16),
        (1, 4, 2, 150, 200, 128, 128, "causal", Dtype::Bfloat16),
        (1, 2, 2, 150, 300, 128, 128, "rise", Dtype::Float16),
        (1, 4, 2, 200, 200, 64, 64, "rise-causal", Dtype::Float16),
        (1, 2, 1, 100, 170, 64, 64, "rise", Dtype::Float32),
    ];
    for (n, &(b, hq, hk, lq, lk, d, dv, mkind, dt)) in cases.iter().enumerate() {
        let ks = mx::random::split(&key, 4, None).unwrap();
        let sub = |i: i32| mx::take(&ks, &Array::scalar(i), 0, None).unwrap();
        let normal = |shape: &[i32], i: i32| {
            let x = mx::random::normal(shape, Dtype::Float32, None, None, Some(&sub(i)), cpu);
            mx::astype(&x.unwrap(), dt, cpu).unwrap()
        };
        let q = normal(&[b, hq, lq, d], 0);
        let mut k = normal(&[b, hk, lk, d], 1);
        if mkind.starts_with("rise") {
            let j = mx::arange(0.0, lk as f64, 1.0, Dtype::Float32, cpu).unwrap();
            let ramp = mx::add(mx::multiply(&j, 0.125f32, cpu).unwrap(), 1.0f32, cpu).unwrap();
            let ramp = mx::reshape(&ramp, &[1, 1, lk, 1], cpu).unwrap();
            let ramp = mx::astype(&ramp, dt, cpu).unwrap();
            k = mx::multiply(&k, &ramp, cpu).unwrap();
        }
        let v = normal(&[b, hk, lk, dv], 2);
        let m = normal(&[lq, lk], 3);
        // Boolean: every row of the first 3 masked out entirely, else about half kept.
        let rows = mx::arange(0.0, lq as f64, 1.0, Dtype::Float32, cpu).unwrap();
        let rows = mx::reshape(&rows, &[lq, 1], cpu).unwrap();
        let keep = mx::logical_and(
            mx::greater(&m, 0.0f32, cpu).unwrap(),
            mx::greater_equal(&rows, 3.0f32, cpu).unwrap(),
            cpu,
        )
        .unwrap();
        let scale = 1.0 / (d as f32).sqrt();
        let run = |dev: Device| {
            let mask = match mkind {
                "causal" | "rise-causal" => Some(AttentionMask::Causal),
                "add" => Some(AttentionMask::Array(&m)),
                "bool" => Some(AttentionMask::Array(&keep)),
                _ => None,
            };
            let y = fast::scaled_dot_product_attention(&q, &k, &v, scale, mask, dev).unwrap();
            mx::astype(&y, Dtype::Float32, cpu).unwrap()
        };
        let (atol, rtol) = match dt {
            Dtype::Float32 => (5e-5, 5e-5),
            Dtype::Float16 => (1e-2, 1e-2),
            _ => (6e-2, 3e-2),
        };
        let want = run(cpu);
        close(&format!("tile case {n}"), &run(gpu), &want, atol, rtol);
    }
}

device_tests! {
    fn rope_reads_strided_rows(dev: Device) {
        // A head-split view of a fused projection (rows strided, last axis dense) and a
        // column slice of a wider last axis give exactly what their dense copies give.
        let fused = wave(&[2, 5, 3 * 16], 0.3);
        let heads = mx::transpose(
            &mx::reshape(&mx::slice(&fused, &[0, 0, 16], &[2, 5, 32], &[], dev).unwrap(), &[2, 5, 2, 8], dev).unwrap(),
            &[0, 2, 1, 3],
            dev,
        )
        .unwrap();
        let wide = wave(&[3, 4, 20], 0.7);
        let cols = mx::slice(&wide, &[0, 0, 4], &[3, 4, 12], &[], dev).unwrap();
        let freqs = Array::from_slice(&[1.0f32, 3.0, 9.0], &[3]);
        for dt in [Dtype::Float32, Dtype::Float16] {
            for x in [&heads, &cols] {
                let x = mx::astype(x, dt, dev).unwrap();
                let dense = mx::contiguous(&x, dev).unwrap();
                for (traditional, dims, f) in [(false, 8, None), (true, 6, None), (false, 6, Some(&freqs))] {
                    let base = if f.is_some() { None } else { Some(10_000.0) };
                    let got = fast::rope(&x, dims, traditional, base, 0.5, 3, f, dev).unwrap();
                    let want = fast::rope(&dense, dims, traditional, base, 0.5, 3, f, dev).unwrap();
                    assert_eq!(got.shape(), want.shape());
                    let (g, w) = (mx::astype(&got, Dtype::Float32, dev).unwrap(), mx::astype(&want, Dtype::Float32, dev).unwrap());
                    assert_eq!(g.to_vec::<f32>().unwrap(), w.to_vec::<f32>().unwrap(), "{dt:?} trad {traditional} dims {dims}");
                }
            }
        }
    }
}
