//! Fuzzing the file parsers with proptest: valid `.npy`, `.npz` and `.safetensors` files (the
//! committed fixtures) mutated by bit flips, truncations, splices and header edits must load or
//! give an `Err` naming the file — never panic, hang or allocate without bound. An input that
//! ever breaks this is kept in tests/fixtures/io/corpus (loaded by tests/io.rs).

use proptest::prelude::*;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use wmx::{self as mx, Device};

/// The valid files mutated, by extension.
fn seeds(ext: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for dir in ["tests/fixtures/io/wmx", "tests/fixtures/io/foreign"] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().and_then(|e| e.to_str()) == Some(ext))
            .collect();
        paths.sort();
        out.extend(paths.iter().map(|p| std::fs::read(p).unwrap()));
    }
    assert!(!out.is_empty());
    out
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Flip bit `bit` of the byte at (position mod length).
    Flip(usize, u8),
    /// Cut the file at (position mod length + 1).
    Truncate(usize),
    /// Insert bytes at a position.
    Insert(usize, Vec<u8>),
    /// Replace a range with a range of another seed.
    Splice(usize, usize, usize, usize, usize),
    /// Replace the `k`-th run of ASCII digits (in the header) with a number.
    Number(usize, String),
    /// Replace the `k`-th occurrence of a dtype name with another.
    Dtype(usize, &'static str),
}

const DTYPES: &[&str] = &[
    "<f4", "<f2", "<i4", "<u4", "|u1", "|b1", "<V2", ">f4", ">i4", "<i8", "<f8", "|i1", "<c8", "O",
    "", "<", "F32", "F16", "BF16", "I32", "U32", "U8", "BOOL", "I64", "F64", "F8_E4M3", "X",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    let number = prop_oneof![
        (0u64..20).prop_map(|n| n.to_string()),
        any::<u32>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        Just("99999999999999999999999999".to_string()),
        Just("-1".to_string()),
        Just(String::new()),
    ];
    prop_oneof![
        4 => (any::<usize>(), 0u8..8).prop_map(|(i, b)| Mutation::Flip(i, b)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(i, v)| Mutation::Insert(i, v)),
        1 => (any::<usize>(), any::<usize>(), any::<usize>(), any::<usize>(), any::<usize>())
            .prop_map(|(a, b, c, d, e)| Mutation::Splice(a, b, c, d, e)),
        3 => (0usize..16, number).prop_map(|(k, s)| Mutation::Number(k, s)),
        2 => (0usize..4, proptest::sample::select(DTYPES)).prop_map(|(k, d)| Mutation::Dtype(k, d)),
    ]
}

/// Byte ranges of the runs of ASCII digits in the first `limit` bytes.
fn digit_runs(f: &[u8], limit: usize) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut i = 0;
    let end = f.len().min(limit);
    while i < end {
        if f[i].is_ascii_digit() {
            let s = i;
            while i < end && f[i].is_ascii_digit() {
                i += 1;
            }
            runs.push((s, i));
        } else {
            i += 1;
        }
    }
    runs
}

/// Ranges of the known dtype names in the first `limit` bytes.
fn dtype_runs(f: &[u8], limit: usize) -> Vec<(usize, usize)> {
    let end = f.len().min(limit);
    let mut runs = Vec::new();
    for d in DTYPES.iter().filter(|d| d.len() >= 2) {
        let d = d.as_bytes();
        for i in 0..end.saturating_sub(d.len()) {
            if &f[i..i + d.len()] == d {
                runs.push((i, i + d.len()));
            }
        }
    }
    runs.sort();
    runs
}

fn apply(mut f: Vec<u8>, seeds: &[Vec<u8>], muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        let n = f.len().max(1);
        match m {
            Mutation::Flip(i, b) => {
                if !f.is_empty() {
                    f[i % n] ^= 1 << b;
                }
            }
            Mutation::Truncate(i) => f.truncate(i % n),
            Mutation::Insert(i, v) => {
                let at = i % (f.len() + 1);
                f.splice(at..at, v.iter().copied());
            }
            Mutation::Splice(a, b, s, c, d) => {
                let other = &seeds[s % seeds.len()];
                let (x, y) = (a % (f.len() + 1), b % (f.len() + 1));
                let (x, y) = (x.min(y), x.max(y).min(x + 64));
                let (u, v) = (c % (other.len() + 1), d % (other.len() + 1));
                let (u, v) = (u.min(v), u.max(v).min(u + 64));
                f.splice(x..y, other[u..v].iter().copied());
            }
            Mutation::Number(k, s) => {
                let runs = digit_runs(&f, 512);
                if let Some(&(x, y)) = runs.get(k % runs.len().max(1)) {
                    f.splice(x..y, s.bytes());
                }
            }
            Mutation::Dtype(k, d) => {
                let runs = dtype_runs(&f, 512);
                if let Some(&(x, y)) = runs.get(k % runs.len().max(1)) {
                    f.splice(x..y, d.bytes());
                }
            }
        }
    }
    f
}

/// Writes `bytes` to a fresh file and loads it with the loader for `ext` on the CPU; an `Err`
/// must name the file, an `Ok` must be readable.
fn check(ext: &str, bytes: &[u8]) {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("wmx_io_fuzz_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("case{}.{ext}", N.fetch_add(1, Ordering::Relaxed)));
    std::fs::write(&p, bytes).unwrap();
    let cpu = Device::cpu();
    let r: mx::Result<Vec<mx::Array>> = match ext {
        "npy" => mx::load(&p, cpu).map(|a| vec![a]),
        "npz" => mx::load_npz(&p, cpu).map(|m| m.into_values().collect()),
        _ => mx::load_safetensors(&p, cpu).map(|(m, _)| m.into_values().collect()),
    };
    match r {
        Ok(arrays) => {
            for a in arrays {
                assert_eq!(a.to_vec::<f32>().unwrap().len(), a.size());
            }
        }
        Err(e) => {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            assert!(e.to_string().contains(&name), "{e}");
        }
    }
    std::fs::remove_file(&p).unwrap();
}

/// A seed index and one to three mutations.
fn cases() -> impl Strategy<Value = (usize, Vec<Mutation>)> {
    (any::<usize>(), proptest::collection::vec(mutation(), 1..4))
}

/// `n` cases, times `WMX_FUZZ_SCALE` when set (for a longer run by hand).
fn scaled(n: u32) -> u32 {
    let k: u32 = std::env::var("WMX_FUZZ_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    n * k
}

proptest! {
    #![proptest_config(ProptestConfig { cases: scaled(1500), failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn npy_mutations((s, muts) in cases()) {
        let seeds = seeds("npy");
        let f = apply(seeds[s % seeds.len()].clone(), &seeds, &muts);
        check("npy", &f);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: scaled(800), failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn npz_mutations((s, muts) in cases()) {
        let seeds = seeds("npz");
        let f = apply(seeds[s % seeds.len()].clone(), &seeds, &muts);
        check("npz", &f);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: scaled(1200), failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn safetensors_mutations((s, muts) in cases()) {
        let seeds = seeds("safetensors");
        let f = apply(seeds[s % seeds.len()].clone(), &seeds, &muts);
        check("safetensors", &f);
    }
}
