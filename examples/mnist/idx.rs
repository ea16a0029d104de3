//! MNIST's IDX files (`train-images-idx3-ubyte[.gz]` and the three others): the real loader
//! for MNIST, Fashion-MNIST and the bundled UCI digits (written in the same format by
//! `tools/gen_digits.py`). Files are untrusted: the magic, the sizes and the length are
//! checked, so a bad file is an error, not a panic or a huge allocation.

use std::io::Read;
use std::path::Path;

/// One split: `n` images of `rows × cols` pixels scaled to `[0, 1]`, and their labels.
pub struct Split {
    /// Pixels, image after image, row-major.
    pub images: Vec<f32>,
    /// One label per image.
    pub labels: Vec<i32>,
    /// Image height.
    pub rows: usize,
    /// Image width.
    pub cols: usize,
}

impl Split {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }
}

/// Reads `name` or `name.gz` from `dir` (at most 256 MiB once decompressed).
fn read(dir: &Path, name: &str) -> Result<Vec<u8>, String> {
    const CAP: u64 = 256 << 20;
    let plain = dir.join(name);
    let gz = dir.join(format!("{name}.gz"));
    let mut out = Vec::new();
    if plain.exists() {
        std::fs::File::open(&plain)
            .and_then(|f| f.take(CAP + 1).read_to_end(&mut out))
            .map_err(|e| format!("{}: {e}", plain.display()))?;
    } else if gz.exists() {
        let f = std::fs::File::open(&gz).map_err(|e| format!("{}: {e}", gz.display()))?;
        flate2::read::GzDecoder::new(f)
            .take(CAP + 1)
            .read_to_end(&mut out)
            .map_err(|e| format!("{}: {e}", gz.display()))?;
    } else {
        return Err(format!(
            "{}: neither {name} nor {name}.gz exists",
            dir.display()
        ));
    }
    if out.len() as u64 > CAP {
        return Err(format!("{name}: larger than {CAP} bytes"));
    }
    Ok(out)
}

/// Parses an IDX file of unsigned bytes with `ndim` dimensions: (dims, data).
pub fn parse(bytes: &[u8], ndim: usize, name: &str) -> Result<(Vec<usize>, Vec<u8>), String> {
    let header = 4 + 4 * ndim;
    if bytes.len() < header {
        return Err(format!("{name}: truncated header ({} bytes)", bytes.len()));
    }
    let word = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let magic = word(0);
    if magic != 0x0800 | ndim as u32 {
        return Err(format!(
            "{name}: magic {magic:#010x}, expected {:#010x} (unsigned bytes, {ndim} dims)",
            0x0800 | ndim
        ));
    }
    let dims: Vec<usize> = (0..ndim).map(|d| word(4 + 4 * d) as usize).collect();
    let n = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or(format!("{name}: sizes {dims:?} overflow"))?;
    if bytes.len() - header != n {
        return Err(format!(
            "{name}: sizes {dims:?} need {n} bytes of data, the file has {}",
            bytes.len() - header
        ));
    }
    Ok((dims, bytes[header..].to_vec()))
}

/// Loads the `prefix` split (`train` or `t10k`) from `dir`.
pub fn load_split(dir: &Path, prefix: &str) -> Result<Split, String> {
    let iname = format!("{prefix}-images-idx3-ubyte");
    let lname = format!("{prefix}-labels-idx1-ubyte");
    let (idims, pixels) = parse(&read(dir, &iname)?, 3, &iname)?;
    let (ldims, labels) = parse(&read(dir, &lname)?, 1, &lname)?;
    if idims[0] != ldims[0] {
        return Err(format!(
            "{prefix}: {} images but {} labels",
            idims[0], ldims[0]
        ));
    }
    if let Some(&bad) = labels.iter().find(|&&l| l > 9) {
        return Err(format!("{lname}: label {bad} is not a digit"));
    }
    // MNIST's pixels are 0..255, the UCI digits' are counts 0..16.
    let max = if pixels.iter().all(|&p| p <= 16) {
        16.0
    } else {
        255.0
    };
    Ok(Split {
        images: pixels.iter().map(|&p| p as f32 / max).collect(),
        labels: labels.iter().map(|&l| l as i32).collect(),
        rows: idims[1],
        cols: idims[2],
    })
}
