//! The IDX loader of examples/mnist (MNIST's file format) on small files this test writes: raw
//! and gzipped, pixel scaling for MNIST (0..255) and the UCI digits (0..16), and bad files
//! (wrong magic, truncated, sizes that disagree, labels that are not digits) as errors.

#[path = "../examples/mnist/idx.rs"]
#[allow(dead_code)]
mod idx;

use std::io::Write;
use std::path::{Path, PathBuf};

fn idx_bytes(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut v = magic.to_be_bytes().to_vec();
    for d in dims {
        v.extend(d.to_be_bytes());
    }
    v.extend(data);
    v
}

fn write(dir: &Path, name: &str, bytes: &[u8], gz: bool) {
    if gz {
        let f = std::fs::File::create(dir.join(format!("{name}.gz"))).unwrap();
        let mut e = flate2::write::GzEncoder::new(f, flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap();
    } else {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

fn tmp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wmx_idx_{tag}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn split(dir: &Path, pixels: &[u8], labels: &[u8], gz: bool) {
    write(
        dir,
        "train-images-idx3-ubyte",
        &idx_bytes(0x803, &[labels.len() as u32, 2, 3], pixels),
        gz,
    );
    write(
        dir,
        "train-labels-idx1-ubyte",
        &idx_bytes(0x801, &[labels.len() as u32], labels),
        gz,
    );
}

#[test]
fn loads_raw_and_gzipped_files() {
    for gz in [false, true] {
        let d = tmp(if gz { "gz" } else { "raw" });
        let px: Vec<u8> = (0..12).map(|i| i * 20).collect();
        split(&d, &px, &[3, 9], gz);
        let s = idx::load_split(&d, "train").unwrap();
        assert_eq!((s.len(), s.rows, s.cols), (2, 2, 3));
        assert_eq!(s.labels, vec![3, 9]);
        assert_eq!(s.images[11], 220.0 / 255.0, "MNIST pixels scale by 255");
        std::fs::remove_dir_all(&d).unwrap();
    }
    let d = tmp("digits");
    split(&d, &[16; 12], &[1, 2], true);
    assert_eq!(
        idx::load_split(&d, "train").unwrap().images[0],
        1.0,
        "digit counts scale by 16"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn the_bundled_digits_load() {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/mnist/digits");
    let (tr, te) = (
        idx::load_split(&d, "train").unwrap(),
        idx::load_split(&d, "t10k").unwrap(),
    );
    assert_eq!((tr.len(), te.len(), tr.rows, tr.cols), (1438, 359, 8, 8));
}

#[test]
fn bad_files_are_errors() {
    let d = tmp("bad");
    let e = |d: &Path| idx::load_split(d, "train").err().expect("should fail");
    assert!(e(&d).contains("neither"));
    split(&d, &[0; 12], &[1, 2], false);
    write(
        &d,
        "train-labels-idx1-ubyte",
        &idx_bytes(0x803, &[2], &[1, 2]),
        false,
    );
    assert!(e(&d).contains("magic"));
    write(
        &d,
        "train-labels-idx1-ubyte",
        &idx_bytes(0x801, &[2], &[1]),
        false,
    );
    assert!(e(&d).contains("need 2 bytes"));
    write(
        &d,
        "train-labels-idx1-ubyte",
        &idx_bytes(0x801, &[3], &[1, 2, 3]),
        false,
    );
    assert!(e(&d).contains("2 images but 3 labels"));
    write(
        &d,
        "train-labels-idx1-ubyte",
        &idx_bytes(0x801, &[2], &[1, 12]),
        false,
    );
    assert!(e(&d).contains("not a digit"));
    write(
        &d,
        "train-images-idx3-ubyte",
        &idx_bytes(0x803, &[u32::MAX, u32::MAX, u32::MAX], &[]),
        false,
    );
    assert!(e(&d).contains("overflow") || e(&d).contains("need"));
    write(&d, "train-images-idx3-ubyte", &[8, 3], false);
    assert!(e(&d).contains("truncated"));
    std::fs::remove_dir_all(&d).unwrap();
}
