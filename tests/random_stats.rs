//! Statistics of `mx::random` at 10^6 samples on the CPU and the GPU: means, variances and a
//! Kolmogorov–Smirnov bound per distribution, plus the bad-input errors.

mod common;
use wmx::{self as mx, Array, Device, Dtype, random};

const N: i32 = 1_000_000;

fn samples(a: &Array) -> Vec<f64> {
    a.to_vec::<f32>()
        .unwrap()
        .into_iter()
        .map(|x| x as f64)
        .collect()
}

fn mean_var(v: &[f64]) -> (f64, f64) {
    let m = v.iter().sum::<f64>() / v.len() as f64;
    (
        m,
        v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64,
    )
}

/// Kolmogorov–Smirnov distance between the samples and a CDF.
fn ks(mut v: Vec<f64>, cdf: impl Fn(f64) -> f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len() as f64;
    v.iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = cdf(x);
            (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
        })
        .fold(0.0, f64::max)
}

/// erf to ~1e-7 (Abramowitz–Stegun 7.1.26), enough for a KS bound of 2e-3.
fn erf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.3275911 * x.abs());
    let y = 1.0
        - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t
            + 0.254829592)
            * t
            * (-x * x).exp();
    y.copysign(x)
}

/// KS critical value at alpha = 0.001 for 10^6 samples is 1.95e-3.
const KS_LIMIT: f64 = 1.95e-3;

device_tests! {
    fn uniform_normal_gumbel_laplace(dev: Device) {
        let k = random::key(7);
        let ks_ = random::split(&k, 6, dev).unwrap();
        let key = |i: i32| mx::reshape(&mx::slice(&ks_, &[i, 0], &[i + 1, 2], &[], dev).unwrap(), &[2], dev).unwrap();

        let u = samples(&random::uniform(-2.0, 3.0, &[N], Dtype::Float32, Some(&key(0)), dev).unwrap());
        let (m, v) = mean_var(&u);
        assert!((m - 0.5).abs() < 0.01 && (v - 25.0 / 12.0).abs() < 0.01, "uniform {m} {v}");
        assert!(u.iter().all(|&x| (-2.0..3.0).contains(&x)));
        assert!(ks(u, |x| ((x + 2.0) / 5.0).clamp(0.0, 1.0)) < KS_LIMIT);

        let n = samples(&random::normal(&[N], Dtype::Float32, Some(1.0), Some(2.0), Some(&key(1)), dev).unwrap());
        let (m, v) = mean_var(&n);
        assert!((m - 1.0).abs() < 0.01 && (v - 4.0).abs() < 0.03, "normal {m} {v}");
        assert!(ks(n, |x| 0.5 * (1.0 + erf((x - 1.0) / (2.0 * std::f64::consts::SQRT_2)))) < KS_LIMIT);

        let g = samples(&random::gumbel(&[N], Dtype::Float32, Some(&key(2)), dev).unwrap());
        let (m, v) = mean_var(&g);
        assert!((m - 0.577_215_66).abs() < 0.01 && (v - std::f64::consts::PI.powi(2) / 6.0).abs() < 0.03, "gumbel {m} {v}");
        assert!(ks(g, |x| (-(-x).exp()).exp()) < KS_LIMIT);

        let l = samples(&random::laplace(&[N], Dtype::Float32, 0.5, 1.5, Some(&key(3)), dev).unwrap());
        let (m, v) = mean_var(&l);
        assert!((m - 0.5).abs() < 0.01 && (v - 2.0 * 2.25).abs() < 0.05, "laplace {m} {v}");
        assert!(ks(l, |x| { let z = (x - 0.5) / 1.5; if z < 0.0 { 0.5 * z.exp() } else { 1.0 - 0.5 * (-z).exp() } }) < KS_LIMIT);

        let t = samples(&random::truncated_normal(-1.0, 2.0, Some(&[N]), Dtype::Float32, Some(&key(4)), dev).unwrap());
        assert!(t.iter().all(|&x| (-1.0..=2.0).contains(&x)));
        let phi = |x: f64| 0.5 * (1.0 + erf(x / std::f64::consts::SQRT_2));
        let (a, b) = (phi(-1.0), phi(2.0));
        assert!(ks(t, |x| ((phi(x) - a) / (b - a)).clamp(0.0, 1.0)) < KS_LIMIT);

        // Half precision follows the same distribution.
        let h = samples(&random::normal(&[N], Dtype::Bfloat16, None, None, Some(&key(5)), dev).unwrap());
        let (m, v) = mean_var(&h);
        assert!(m.abs() < 0.01 && (v - 1.0).abs() < 0.02, "bf16 normal {m} {v}");
    }

    fn discrete_distributions(dev: Device) {
        let k = random::key(11);
        let r = random::randint(-3, 5, &[N], Dtype::Int32, Some(&k), dev).unwrap().to_vec::<i32>().unwrap();
        let mut counts = [0usize; 8];
        for &x in &r {
            assert!((-3..5).contains(&x));
            counts[(x + 3) as usize] += 1;
        }
        for c in counts {
            assert!((c as f64 / N as f64 - 0.125).abs() < 0.003, "{counts:?}");
        }
        let b = random::bernoulli(0.3, Some(&[N]), Some(&k), dev).unwrap().to_vec::<bool>().unwrap();
        let p = b.iter().filter(|&&x| x).count() as f64 / N as f64;
        assert!((p - 0.3).abs() < 0.003, "{p}");
        let logits = Array::from_slice(&[0.0f32, 1.0, 2.0], &[3]);
        let c = random::categorical(&logits, -1, Some(300_000), Some(&k), dev).unwrap().to_vec::<u32>().unwrap();
        let z: f64 = (0..3).map(|i| (i as f64).exp()).sum();
        for cat in 0..3u32 {
            let f = c.iter().filter(|&&x| x == cat).count() as f64 / c.len() as f64;
            assert!((f - (cat as f64).exp() / z).abs() < 0.005, "category {cat}: {f}");
        }
        // 2-D logits take the Gumbel-max path.
        let l2 = mx::broadcast_to(&logits, &[50_000, 3], dev).unwrap();
        let c2 = random::categorical(&l2, 1, None, Some(&k), dev).unwrap().to_vec::<u32>().unwrap();
        let f2 = c2.iter().filter(|&&x| x == 2).count() as f64 / c2.len() as f64;
        assert!((f2 - 2f64.exp() / z).abs() < 0.01, "{f2}");
        let perm = random::permutation(1000, 0, Some(&k), dev).unwrap().to_vec::<u32>().unwrap();
        let mut sorted = perm.clone();
        sorted.sort();
        assert_eq!(sorted, (0..1000).collect::<Vec<u32>>());
        assert_ne!(perm, sorted);
    }

    fn bad_inputs_are_errors(dev: Device) {
        let k = random::key(0);
        let e = random::uniform(1.0, 1.0, &[3], Dtype::Float32, Some(&k), dev).unwrap_err();
        assert!(e.to_string().starts_with("[uniform] high (1) must be greater than low (1)"), "{e}");
        assert!(random::randint(5, 2, &[3], Dtype::Int32, Some(&k), dev).is_err());
        assert!(random::bernoulli(1.5, None, Some(&k), dev).is_err());
        assert!(random::bernoulli(-0.1, Some(&[2]), Some(&k), dev).is_err());
        let bad_dtype = Array::from_slice(&[0i32, 1], &[2]);
        let e = random::uniform(0.0, 1.0, &[2], Dtype::Float32, Some(&bad_dtype), dev).unwrap_err();
        assert_eq!(e.to_string(), "[bits] Expected key type uint32 but received int32.");
        let bad_shape = Array::from_slice(&[0u32, 1, 2], &[3]);
        let e = random::normal(&[2], Dtype::Float32, None, None, Some(&bad_shape), dev).unwrap_err();
        assert_eq!(e.to_string(), "[bits] Expected key shape (2) but received (3).");
        assert!(random::bits(&[2], 3, Some(&k), dev).is_err());
        assert!(random::bits(&[-1], 4, Some(&k), dev).is_err());
        assert!(random::uniform(0.0, 1.0, &[2], Dtype::Int32, Some(&k), dev).is_err());
        assert!(random::randint(0, 2, &[2], Dtype::Float32, Some(&k), dev).is_err());
        assert!(random::categorical(&Array::from_slice(&[0.0f32], &[1]), 3, None, Some(&k), dev).is_err());
        assert!(random::uniform(0.0, 1.0, &[3], Dtype::Float32, Some(&k), Device::gpu(99)).is_err());
    }
}

#[test]
fn same_key_same_bits_on_every_device_and_stream() {
    let k = random::key(123);
    let reference = random::uniform(0.0, 1.0, &[1001], Dtype::Bfloat16, Some(&k), Device::cpu())
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    let mut streams = vec![mx::new_stream(Device::cpu())];
    if let Some(g) = common::gpu() {
        streams.push(mx::default_stream(g));
        streams.push(mx::new_stream(g));
    }
    for s in streams {
        let got = random::uniform(0.0, 1.0, &[1001], Dtype::Bfloat16, Some(&k), s)
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        assert_eq!(got, reference, "{s}");
    }
}
