//! The property checker behind `tests/grad_props.rs`: a seeded PRNG, input generators that keep
//! away from kinks/ties/domain edges, and the three checks (vjp/jvp dot-product identity, both
//! against float32 central finite differences, and vmap against stacking per-example calls).

use std::sync::Arc;
use wmx::{self as mx, Array, Device, Dtype};

/// splitmix64: small, seeded, deterministic.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [lo, hi).
    pub fn unif(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
    }
    /// Integer in [lo, hi] (inclusive).
    pub fn int(&mut self, lo: i32, hi: i32) -> i32 {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as i32
    }
    pub fn vals(&mut self, n: usize, lo: f64, hi: f64) -> Vec<f32> {
        (0..n).map(|_| self.unif(lo, hi) as f32).collect()
    }
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

/// How an input is handed to the transform: contiguous, or as a strided view with the same
/// logical values (last two axes transposed in memory, or every other row of a larger array).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum View {
    Contig,
    Transposed,
    Strided,
}

/// Where an input's values come from (all keep a margin from kinks and ties).
#[derive(Clone, Copy, Debug)]
pub enum Dom {
    /// Uniform in [-2, 2].
    Any,
    /// |x| in [0.4, 2], random sign (away from 0).
    Away0,
    /// [0.5, 2].
    Pos,
    /// [-0.8, 0.8].
    Unit,
    /// [1.3, 3].
    Gt1,
    /// Distinct values at least 0.2 apart (sorting, extrema).
    Distinct,
    /// n + [0.2, 0.8] (away from integers).
    AwayInt,
    /// |x| in [0.6, 1.4], random sign (products stay moderate).
    Near1,
}

pub fn draw(rng: &mut Rng, dom: Dom, n: usize) -> Vec<f32> {
    match dom {
        Dom::Any => rng.vals(n, -2.0, 2.0),
        Dom::Away0 => (0..n)
            .map(|_| {
                let m = rng.unif(0.4, 2.0);
                (if rng.next_u64() & 1 == 0 { m } else { -m }) as f32
            })
            .collect(),
        Dom::Pos => rng.vals(n, 0.5, 2.0),
        Dom::Unit => rng.vals(n, -0.8, 0.8),
        Dom::Gt1 => rng.vals(n, 1.3, 3.0),
        Dom::Distinct => {
            let mut v: Vec<f32> = (0..n).map(|k| (k as f32 - n as f32 / 2.0) * 0.25).collect();
            rng.shuffle(&mut v);
            v.iter().map(|x| x + rng.unif(-0.02, 0.02) as f32).collect()
        }
        Dom::AwayInt => (0..n)
            .map(|_| (rng.int(-2, 2) as f64 + rng.unif(0.2, 0.8)) as f32)
            .collect(),
        Dom::Near1 => (0..n)
            .map(|_| {
                let m = rng.unif(0.6, 1.4);
                (if rng.next_u64() & 1 == 0 { m } else { -m }) as f32
            })
            .collect(),
    }
}

#[derive(Clone)]
pub struct Input {
    pub shape: Vec<i32>,
    pub vals: Vec<f32>,
    pub view: View,
}

pub type F = Arc<dyn Fn(&[Array], Device) -> mx::Result<Vec<Array>> + Send + Sync>;

#[derive(Clone)]
pub struct Case {
    pub name: String,
    pub inputs: Vec<Input>,
    pub f: F,
    /// Finite-difference step (the tangent is in [-1, 1]).
    pub eps: f32,
    /// Relative tolerance of the finite-difference comparison.
    pub fd_tol: f64,
    /// Relative tolerance of the dot-product identity.
    pub dot_tol: f64,
    /// Whether the vmap check applies.
    pub vmap: bool,
    /// Whether the jvp applies (MLX has no jvp for some primitives, e.g. scatter max/min).
    pub jvp: bool,
}

pub fn numel(shape: &[i32]) -> usize {
    shape.iter().map(|&d| d as usize).product()
}

/// A case builder: `case(name).input(shape, dom).f(|p, d| ...)`.
pub fn case(name: impl Into<String>) -> Case {
    Case {
        name: name.into(),
        inputs: vec![],
        f: Arc::new(|_, _| Ok(vec![])),
        eps: 1e-2,
        fd_tol: 1e-2,
        dot_tol: 2e-4,
        vmap: true,
        jvp: true,
    }
}

impl Case {
    pub fn input(mut self, rng: &mut Rng, shape: &[i32], dom: Dom) -> Case {
        let vals = draw(rng, dom, numel(shape));
        self.inputs.push(Input {
            shape: shape.to_vec(),
            vals,
            view: View::Contig,
        });
        self
    }
    pub fn values(mut self, shape: &[i32], vals: Vec<f32>) -> Case {
        assert_eq!(vals.len(), numel(shape), "{}", self.name);
        self.inputs.push(Input {
            shape: shape.to_vec(),
            vals,
            view: View::Contig,
        });
        self
    }
    /// Passes the last input added as a strided view.
    pub fn view(mut self, v: View) -> Case {
        let last = self.inputs.last_mut().unwrap();
        if v == View::Transposed && last.shape.len() < 2
            || v == View::Strided && last.shape.is_empty()
        {
            return self;
        }
        last.view = v;
        self
    }
    pub fn f(
        mut self,
        f: impl Fn(&[Array], Device) -> mx::Result<Vec<Array>> + Send + Sync + 'static,
    ) -> Case {
        self.f = Arc::new(f);
        self
    }
    pub fn eps(mut self, e: f32) -> Case {
        self.eps = e;
        self
    }
    pub fn fd_tol(mut self, t: f64) -> Case {
        self.fd_tol = t;
        self
    }
    pub fn dot_tol(mut self, t: f64) -> Case {
        self.dot_tol = t;
        self
    }
    /// Checks only the vjp against finite differences (for an op without a jvp rule; every
    /// op has one today).
    #[allow(dead_code)]
    pub fn no_jvp(mut self) -> Case {
        self.jvp = false;
        self
    }
}

/// A contiguous f32 array.
pub fn arr(vals: &[f32], shape: &[i32]) -> Array {
    Array::from_slice(vals, shape)
}

/// The input as the transform sees it (a view when asked), evaluated.
pub fn materialize(inp: &Input) -> mx::Result<Array> {
    let s = &inp.shape;
    let a = match inp.view {
        View::Contig => arr(&inp.vals, s),
        View::Transposed => {
            let nd = s.len();
            let (r, c) = (s[nd - 2] as usize, s[nd - 1] as usize);
            let mut t = vec![0f32; inp.vals.len()];
            for b in 0..inp.vals.len() / (r * c).max(1) {
                for i in 0..r {
                    for j in 0..c {
                        t[b * r * c + j * r + i] = inp.vals[b * r * c + i * c + j];
                    }
                }
            }
            let mut ts = s.clone();
            ts.swap(nd - 2, nd - 1);
            mx::swapaxes(&arr(&t, &ts), -1, -2, Device::cpu())?
        }
        View::Strided => {
            let row = inp.vals.len() / s[0].max(1) as usize;
            let mut big = Vec::with_capacity(inp.vals.len() * 2);
            for k in 0..s[0] as usize {
                big.extend_from_slice(&inp.vals[k * row..(k + 1) * row]);
                big.extend(std::iter::repeat_n(f32::NAN, row));
            }
            let mut bs = s.clone();
            bs[0] *= 2;
            let stop = bs.clone();
            let mut step = vec![1; s.len()];
            step[0] = 2;
            mx::slice(
                &arr(&big, &bs),
                &vec![0; s.len()],
                &stop,
                &step,
                Device::cpu(),
            )?
        }
    };
    mx::eval([&a])?;
    Ok(a)
}

pub fn host(a: &Array) -> Vec<f64> {
    let a = if a.dtype() == Dtype::Float32 {
        a.clone()
    } else {
        mx::astype(a, Dtype::Float32, Device::cpu()).unwrap()
    };
    a.to_vec::<f32>()
        .unwrap()
        .into_iter()
        .map(|x| x as f64)
        .collect()
}

fn dot(a: &[f64], b: &[f64]) -> (f64, f64) {
    a.iter()
        .zip(b)
        .fold((0.0, 0.0), |(s, m), (x, y)| (s + x * y, m + (x * y).abs()))
}

/// Checks (a) ⟨vjp(c), t⟩ = ⟨c, jvp(t)⟩ and (b) both against central differences.
pub fn check_grad(case: &Case, dev: Device, seed: u64) -> Result<(), String> {
    let err = |e: mx::Error| format!("{}: {e}", case.name);
    let mut rng = Rng::new(seed);
    let x: Vec<Array> = case
        .inputs
        .iter()
        .map(materialize)
        .collect::<mx::Result<_>>()
        .map_err(err)?;
    let t_vals: Vec<Vec<f32>> = case
        .inputs
        .iter()
        .map(|i| rng.vals(i.vals.len(), -1.0, 1.0))
        .collect();
    let t: Vec<Array> = t_vals
        .iter()
        .zip(&case.inputs)
        .map(|(v, i)| arr(v, &i.shape))
        .collect();
    let outs = (case.f)(&x, dev).map_err(err)?;
    mx::eval(outs.iter()).map_err(err)?;
    let c: Vec<Array> = outs
        .iter()
        .map(|o| {
            let v = rng.vals(o.size(), -1.0, 1.0);
            mx::astype(&arr(&v, o.shape()), o.dtype(), Device::cpu())
        })
        .collect::<mx::Result<_>>()
        .map_err(err)?;
    let f = case.f.clone();
    let (_, vj) = mx::vjp(move |p: &[Array]| f(p, dev), &x, &c).map_err(err)?;
    let f = case.f.clone();
    let (_, jv) = if case.jvp {
        mx::jvp(move |p: &[Array]| f(p, dev), &x, &t).map_err(err)?
    } else {
        (vec![], vec![])
    };
    mx::eval(vj.iter().chain(jv.iter())).map_err(err)?;
    // Central differences at x ± eps t (computed on the host, contiguous).
    let shifted = |sign: f32| -> mx::Result<Vec<Array>> {
        let xs: Vec<Array> = case
            .inputs
            .iter()
            .zip(&t_vals)
            .map(|(i, tv)| {
                let v: Vec<f32> = i
                    .vals
                    .iter()
                    .zip(tv)
                    .map(|(a, b)| a + sign * case.eps * b)
                    .collect();
                arr(&v, &i.shape)
            })
            .collect();
        let o = (case.f)(&xs, dev)?;
        mx::eval(o.iter())?;
        Ok(o)
    };
    let fp = shifted(1.0).map_err(err)?;
    let fm = shifted(-1.0).map_err(err)?;
    let (mut a, mut sa, mut b, mut sb, mut fd, mut floor) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for (i, g) in vj.iter().enumerate() {
        let tv: Vec<f64> = t_vals[i].iter().map(|&v| v as f64).collect();
        let (d, m) = dot(&host(g), &tv);
        a += d;
        sa += m;
    }
    for j in 0..outs.len() {
        let cv = host(&c[j]);
        if case.jvp {
            let (d, m) = dot(&cv, &host(&jv[j]));
            b += d;
            sb += m;
        }
        let (p, q, o) = (host(&fp[j]), host(&fm[j]), host(&outs[j]));
        for k in 0..cv.len() {
            let diff = if p[k] == q[k] { 0.0 } else { p[k] - q[k] };
            fd += cv[k] * diff / (2.0 * case.eps as f64);
            let mag = if o[k].is_finite() { o[k].abs() } else { 0.0 };
            floor += cv[k].abs() * (1.0 + mag) * 1e-5 / case.eps as f64;
        }
    }
    let scale = sa.max(sb);
    let msg = |what: &str, l: f64, r: f64, allow: f64| {
        format!(
            "{} [{dev:?}] {what}: {l} vs {r} (|diff| {} > allowed {allow}; vjp·t {a}, c·jvp {b}, fd {fd}; scale {scale})",
            case.name,
            (l - r).abs()
        )
    };
    if !a.is_finite() || !b.is_finite() || !fd.is_finite() {
        return Err(format!(
            "{} [{dev:?}]: non-finite: vjp·t {a}, c·jvp {b}, fd {fd}",
            case.name
        ));
    }
    let allow = case.dot_tol * scale + 1e-6;
    if case.jvp && (a - b).abs() > allow {
        return Err(msg("dot identity <vjp(c),t> = <c,jvp(t)>", a, b, allow));
    }
    let allow = case.fd_tol * scale + floor;
    if (a - fd).abs() > allow {
        return Err(msg("vjp vs finite differences", a, fd, allow));
    }
    if case.jvp && (b - fd).abs() > allow {
        return Err(msg("jvp vs finite differences", b, fd, allow));
    }
    Ok(())
}

fn close(what: &str, got: &Array, want: &Array) -> Result<(), String> {
    if got.shape() != want.shape() {
        return Err(format!(
            "{what}: shape {:?} vs expected {:?}",
            got.shape(),
            want.shape()
        ));
    }
    let (g, w) = (host(got), host(want));
    for (k, (x, y)) in g.iter().zip(&w).enumerate() {
        if !((x - y).abs() <= 1e-4 + 1e-4 * y.abs() || x == y) {
            return Err(format!("{what}: element {k}: got {x}, expected {y}"));
        }
    }
    Ok(())
}

/// `vmap(f)` on a batch of 3 equals stacking `f` per example: in_axes 0; the batch axis last on
/// every input (and last on the outputs); the last input unmapped (with two or more inputs).
pub fn check_vmap(case: &Case, dev: Device, seed: u64) -> Result<(), String> {
    let err = |e: mx::Error| format!("{} vmap: {e}", case.name);
    let mut rng = Rng::new(seed);
    const B: usize = 3;
    // Example k: the base values plus a small perturbation (keeps the domain's margins).
    let ex: Vec<Vec<Array>> = (0..B)
        .map(|k| {
            case.inputs
                .iter()
                .map(|i| {
                    let v: Vec<f32> = i
                        .vals
                        .iter()
                        .map(|&x| x + (k as f32) * 0.02 * rng.unif(-1.0, 1.0) as f32)
                        .collect();
                    arr(&v, &i.shape)
                })
                .collect()
        })
        .collect();
    let n_in = case.inputs.len();
    let mut variants: Vec<(&str, Vec<Option<i32>>, bool)> =
        vec![("in_axes 0", vec![Some(0); n_in], false)];
    let last: Vec<Option<i32>> = case
        .inputs
        .iter()
        .map(|i| Some(i.shape.len() as i32))
        .collect();
    variants.push(("in_axes last/out_axes last", last, true));
    if n_in >= 2 {
        let mut ax = vec![Some(0); n_in];
        ax[n_in - 1] = None;
        variants.push(("last input unmapped", ax, false));
    }
    for (label, in_axes, out_last) in variants {
        let batched: Vec<Array> = (0..n_in)
            .map(|i| match in_axes[i] {
                None => Ok(ex[0][i].clone()),
                Some(a) => {
                    let parts: Vec<&Array> = ex.iter().map(|e| &e[i]).collect();
                    mx::stack(&parts, a, Device::cpu())
                }
            })
            .collect::<mx::Result<_>>()
            .map_err(err)?;
        let per: Vec<Vec<Array>> = (0..B)
            .map(|k| {
                let args: Vec<Array> = (0..n_in)
                    .map(|i| {
                        if in_axes[i].is_none() {
                            ex[0][i].clone()
                        } else {
                            ex[k][i].clone()
                        }
                    })
                    .collect();
                (case.f)(&args, dev)
            })
            .collect::<mx::Result<_>>()
            .map_err(err)?;
        let n_out = per[0].len();
        let out_axes: Vec<Option<i32>> = (0..n_out)
            .map(|j| Some(if out_last { per[0][j].ndim() as i32 } else { 0 }))
            .collect();
        let f = case.f.clone();
        let got = mx::vmap(move |p: &[Array]| f(p, dev), &in_axes, &out_axes)(&batched)
            .map_err(|e| format!("{} vmap ({label}) [{dev:?}]: {e}", case.name))?;
        for j in 0..n_out {
            let parts: Vec<&Array> = per.iter().map(|o| &o[j]).collect();
            let want = mx::stack(&parts, out_axes[j].unwrap(), Device::cpu()).map_err(err)?;
            mx::eval([&got[j], &want]).map_err(err)?;
            close(
                &format!("{} vmap ({label}) [{dev:?}] output {j}", case.name),
                &got[j],
                &want,
            )?;
        }
    }
    Ok(())
}

/// Runs both checks over `cases`, skipping the names in `skip`; panics listing every failure.
pub fn run_all(cases: &[Case], dev: Device, skip: &[&str]) {
    let mut fails = Vec::new();
    let mut n = 0;
    for (k, c) in cases.iter().enumerate() {
        if skip.iter().any(|s| *s == c.name) {
            continue;
        }
        n += 1;
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut e = vec![];
            if let Err(m) = check_grad(c, dev, 1000 + k as u64) {
                e.push(m);
            }
            if c.vmap
                && let Err(m) = check_vmap(c, dev, 2000 + k as u64)
            {
                e.push(m);
            }
            e
        }));
        match r {
            Ok(e) => fails.extend(e),
            Err(p) => fails.push(format!(
                "{} [{dev:?}]: panicked: {}",
                c.name,
                p.downcast_ref::<String>()
                    .cloned()
                    .or(p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            )),
        }
    }
    eprintln!("{n} cases checked on {dev:?}");
    assert!(
        fails.is_empty(),
        "{} of {n} cases failed:\n{}",
        fails.len(),
        fails.join("\n")
    );
}
