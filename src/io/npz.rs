//! `.npz` files: a zip archive of `.npy` entries (`name.npy` holds the array `name`), stored
//! ([`savez`]) or deflated ([`savez_compressed`]), read by [`load_npz`] through the `zip` crate.
//! Entries are read as streams: the header first, then exactly the bytes it declares, so a
//! deflate bomb costs at most the declared array (which must fit in memory) and an entry that
//! decompresses to more or less than that is an `Err`.

use super::npy::{self, bad, with_extension};
use super::{file_err, host_bytes};
use crate::array::Array;
use crate::error::Result;
use crate::stream::{Stream, StreamOrDevice};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;

/// Writes `arrays` as `.npz` entries (sorted by name, so the file is reproducible).
fn write_npz(
    op: &'static str,
    path: &Path,
    arrays: &HashMap<String, Array>,
    method: zip::CompressionMethod,
) -> Result<()> {
    let path = with_extension(path, "npz");
    let mut names: Vec<&String> = arrays.keys().collect();
    names.sort();
    let file = std::fs::File::create(&path).map_err(|e| file_err(op, &path, e))?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    for name in names {
        let a = &arrays[name];
        let data = host_bytes(op, a)?;
        let header = npy::header(a.dtype(), a.shape());
        let entry_len = (header.len() + data.bytes().len()) as u64;
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(method)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(0o644)
            .large_file(entry_len >= u32::MAX as u64);
        let mut write = || -> zip::result::ZipResult<()> {
            zip.start_file(format!("{name}.npy"), options)?;
            zip.write_all(&header)?;
            zip.write_all(data.bytes())?;
            Ok(())
        };
        write().map_err(|e| file_err(op, &path, format!("entry '{name}': {e}")))?;
    }
    let finish = || -> std::result::Result<(), String> {
        let w = zip.finish().map_err(|e| e.to_string())?;
        let f = w.into_inner().map_err(|e| e.error().to_string())?;
        f.sync_all().map_err(|e| e.to_string())
    };
    finish().map_err(|e| file_err(op, &path, e))
}

/// Saves `arrays` to an uncompressed `.npz` file, as `np.savez` and MLX's `mx.savez` do (`.npz`
/// is appended when `path` does not end in it): entry `name.npy` holds array `name`.
///
/// ```
/// use std::collections::HashMap;
/// use wmx::{self as mx, Array};
/// let path = std::env::temp_dir().join("wmx_doc_savez.npz");
/// let arrays = HashMap::from([
///     ("w".to_string(), Array::from_slice(&[1.0f32, 2.0], &[2])),
///     ("n".to_string(), Array::scalar(7i32)),
/// ]);
/// mx::savez(&path, &arrays)?;
/// let back = mx::load_npz(&path, None)?;
/// assert_eq!(back["w"].to_vec::<f32>()?, vec![1.0, 2.0]);
/// assert_eq!(back["n"].item::<i32>()?, 7);
/// # std::fs::remove_file(&path).unwrap();
/// # Ok::<(), mx::Error>(())
/// ```
pub fn savez(path: impl AsRef<Path>, arrays: &HashMap<String, Array>) -> Result<()> {
    write_npz(
        "savez",
        path.as_ref(),
        arrays,
        zip::CompressionMethod::Stored,
    )
}

/// Like [`savez`] with every entry deflated (`np.savez_compressed`, `mx.savez_compressed`).
///
/// ```
/// use std::collections::HashMap;
/// use wmx::{self as mx, Array, Dtype};
/// let path = std::env::temp_dir().join("wmx_doc_savez_compressed.npz");
/// let zeros = mx::zeros(&[1000], Dtype::Float32, None)?;
/// mx::savez_compressed(&path, &HashMap::from([("z".to_string(), zeros)]))?;
/// assert!(std::fs::metadata(&path).unwrap().len() < 1000);
/// assert_eq!(mx::load_npz(&path, None)?["z"].to_vec::<f32>()?, vec![0.0; 1000]);
/// # std::fs::remove_file(&path).unwrap();
/// # Ok::<(), mx::Error>(())
/// ```
pub fn savez_compressed(path: impl AsRef<Path>, arrays: &HashMap<String, Array>) -> Result<()> {
    write_npz(
        "savez_compressed",
        path.as_ref(),
        arrays,
        zip::CompressionMethod::Deflated,
    )
}

/// Reads one `.npy` entry as a stream.
fn read_entry(op: &'static str, what: &str, r: &mut impl Read, stream: Stream) -> Result<Array> {
    let mut fixed = Vec::with_capacity(12);
    r.take(12)
        .read_to_end(&mut fixed)
        .map_err(|e| bad(op, what, e))?;
    let (pre, hlen) = npy::prefix(op, what, &fixed)?;
    // `fixed` may hold the first bytes of the header already (version 1.0's prefix is 10 bytes).
    let mut header = fixed.split_off(pre);
    r.take((hlen - header.len().min(hlen)) as u64)
        .read_to_end(&mut header)
        .map_err(|e| bad(op, what, e))?;
    if header.len() < hlen {
        return Err(bad(op, what, "truncated in the header"));
    }
    let h = npy::parse_header(op, what, &header[..hlen])?;
    let mut data: Vec<u8> = Vec::new();
    data.try_reserve_exact(h.nbytes)
        .map_err(|_| crate::error::Error::TooLarge {
            op,
            msg: format!(
                "{what}: {} bytes of data do not fit in host memory",
                h.nbytes
            ),
        })?;
    data.extend_from_slice(&header[hlen..]);
    data.truncate(h.nbytes);
    r.take((h.nbytes - data.len()) as u64)
        .read_to_end(&mut data)
        .map_err(|e| bad(op, what, e))?;
    if data.len() != h.nbytes {
        return Err(bad(
            op,
            what,
            format!(
                "truncated: shape {} of {} needs {} bytes of data, the entry has {}",
                crate::shape::fmt_shape(&h.shape),
                h.dtype,
                h.nbytes,
                data.len()
            ),
        ));
    }
    // Reading on to the end makes the zip reader check the entry's CRC.
    let mut extra = [0u8; 1];
    match r.read(&mut extra) {
        Ok(0) => {}
        Ok(_) => {
            return Err(bad(
                op,
                what,
                "the entry is longer than its header declares",
            ));
        }
        Err(e) => return Err(bad(op, what, e)),
    }
    npy::build(op, &h, &data, stream)
}

/// Loads every array of a `.npz` file onto the device of `s`, keyed by entry name without
/// `.npy` (MLX's `mx.load` on a `.npz`). Entries follow [`crate::load`]'s rules; a corrupt
/// archive or entry, or two entries of one name, is an `Err` naming the file and the entry.
///
/// ```
/// use std::collections::HashMap;
/// use wmx::{self as mx, Array, Device};
/// let path = std::env::temp_dir().join("wmx_doc_load_npz.npz");
/// let m = HashMap::from([("b".to_string(), Array::from_slice(&[true, false], &[2]))]);
/// mx::savez_compressed(&path, &m)?;
/// let back = mx::load_npz(&path, Device::cpu())?;
/// assert_eq!(back["b"].to_vec::<bool>()?, vec![true, false]);
/// std::fs::write(&path, b"PK\x03\x04 not really").unwrap();
/// assert!(mx::load_npz(&path, None).is_err());
/// # std::fs::remove_file(&path).unwrap();
/// # Ok::<(), mx::Error>(())
/// ```
pub fn load_npz(
    path: impl AsRef<Path>,
    s: impl Into<StreamOrDevice>,
) -> Result<HashMap<String, Array>> {
    let op = "load_npz";
    let path = path.as_ref();
    let stream = s.into().resolve(op)?;
    let file = std::fs::File::open(path).map_err(|e| file_err(op, path, e))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| file_err(op, path, format!("not a valid .npz (zip) file: {e}")))?;
    let mut out = HashMap::new();
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| file_err(op, path, format!("entry {i}: {e}")))?;
        let raw = entry
            .name()
            .map_err(|e| file_err(op, path, format!("entry {i}: {e}")))?
            .into_owned();
        let name = raw.strip_suffix(".npy").unwrap_or(&raw).to_string();
        let what = format!("{} (entry '{}')", path.display(), raw.escape_debug());
        if out.contains_key(&name) {
            return Err(bad(op, &what, "a second entry of that name"));
        }
        let a = read_entry(op, &what, &mut entry, stream)?;
        out.insert(name, a);
    }
    Ok(out)
}
