//! `.npy` files: numpy's format versions 1.0, 2.0 and 3.0 read, 1.0 written (2.0 when the header
//! needs it) byte for byte as `np.save` writes them. The header is a Python dict literal, parsed
//! here by a small strict parser (no evaluation); bfloat16 is MLX's `'<V2'`.

use super::{FileBytes, file_err, file_shape, host_bytes, map_file};
use crate::array::Array;
use crate::dtype::Dtype;
use crate::error::{Error, Result};
use crate::shape::row_major_strides;
use crate::stream::{Stream, StreamOrDevice};
use std::io::Write;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 6] = b"\x93NUMPY";
/// Headers longer than this are refused (numpy writes a few hundred bytes; its own reader
/// refuses more than 10,000 by default).
pub(crate) const MAX_HEADER: usize = 1 << 20;
/// numpy aligns the data to this many bytes.
const ALIGN: usize = 64;
/// numpy pads the header so the first axis can grow to this many digits in place.
const GROWTH_DIGITS: usize = 21;

/// What a header declares.
#[derive(Debug)]
pub(crate) struct Header {
    pub dtype: Dtype,
    /// Big-endian multi-byte elements (swapped on load).
    pub swap: bool,
    pub fortran: bool,
    pub shape: Vec<i32>,
    /// Bytes of the elements.
    pub nbytes: usize,
}

/// The `Err` for a bad file or entry: `[op] what: msg`.
pub(crate) fn bad(op: &'static str, what: &str, msg: impl std::fmt::Display) -> Error {
    Error::Io {
        op,
        msg: format!("{what}: {msg}"),
    }
}

/// Length of the magic, version and header-length fields, and the header length, from a file's
/// first bytes (at least 12, or the whole file when shorter).
pub(crate) fn prefix(op: &'static str, what: &str, b: &[u8]) -> Result<(usize, usize)> {
    if b.len() < 8 || &b[..6] != MAGIC {
        return Err(bad(op, what, "not a .npy file (no \\x93NUMPY magic)"));
    }
    let (major, minor) = (b[6], b[7]);
    let (pre, len) = match (major, minor) {
        (1, 0) => (
            10,
            b.get(8..10)
                .map(|x| u16::from_le_bytes([x[0], x[1]]) as usize),
        ),
        (2, 0) | (3, 0) => (
            12,
            b.get(8..12)
                .map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]) as usize),
        ),
        _ => {
            return Err(bad(
                op,
                what,
                format!("unsupported .npy format version {major}.{minor} (1.0, 2.0, 3.0 are)"),
            ));
        }
    };
    let len = len.ok_or_else(|| bad(op, what, "truncated in the header length"))?;
    if len > MAX_HEADER {
        return Err(bad(
            op,
            what,
            format!("header of {len} bytes is longer than the {MAX_HEADER} accepted"),
        ));
    }
    Ok((pre, len))
}

/// numpy's descr of a wmx dtype (bfloat16 as MLX writes it: two raw bytes).
fn descr(dtype: Dtype) -> &'static str {
    match dtype {
        Dtype::Bool => "|b1",
        Dtype::Uint8 => "|u1",
        Dtype::Uint32 => "<u4",
        Dtype::Int32 => "<i4",
        Dtype::Float16 => "<f2",
        Dtype::Bfloat16 => "<V2",
        Dtype::Float32 => "<f4",
    }
}

/// The wmx dtype of a descr and whether its elements are big-endian.
fn parse_descr(op: &'static str, what: &str, d: &str) -> Result<(Dtype, bool)> {
    let (order, code) = match d.as_bytes().first() {
        Some(b'<' | b'>' | b'|' | b'=') => (d.as_bytes()[0], &d[1..]),
        _ => (b'=', d),
    };
    let dtype = match code {
        "b1" | "?" => Dtype::Bool,
        "u1" | "B" => Dtype::Uint8,
        "u4" => Dtype::Uint32,
        "i4" => Dtype::Int32,
        "f2" | "e" => Dtype::Float16,
        "f4" | "f" => Dtype::Float32,
        "V2" => Dtype::Bfloat16,
        _ => {
            let name = match code {
                "i1" | "b" => " (int8)",
                "i2" | "h" => " (int16)",
                "i8" | "q" | "l" => " (int64)",
                "u2" | "H" => " (uint16)",
                "u8" | "Q" | "L" => " (uint64)",
                "f8" | "d" => " (float64)",
                "c8" => " (complex64)",
                "c16" => " (complex128)",
                _ => "",
            };
            return Err(Error::Dtype {
                op,
                msg: format!(
                    "{what}: dtype '{}'{name} is not supported by wmx (bool, uint8, uint32, int32, \
                     float16, bfloat16 as '<V2', float32 are); convert it before saving.",
                    d.escape_debug()
                ),
            });
        }
    };
    Ok((dtype, order == b'>' && dtype.size() > 1))
}

/// A value of the header dict.
enum Value<'a> {
    Str(&'a str),
    Bool(bool),
    Tuple(Vec<u64>),
}

/// A strict parser of the Python dict literal numpy writes: string keys; string, True/False and
/// tuple-of-int values.
struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> std::result::Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected '{}' at byte {}", c as char, self.i))
        }
    }

    fn string(&mut self) -> std::result::Result<&'a str, String> {
        self.ws();
        let q = match self.b.get(self.i) {
            Some(&q @ (b'\'' | b'"')) => q,
            _ => return Err(format!("expected a string at byte {}", self.i)),
        };
        let start = self.i + 1;
        let len = self.b[start..]
            .iter()
            .position(|&c| c == q || c == b'\\' || c == b'\n')
            .ok_or("unterminated string")?;
        if self.b[start + len] != q {
            return Err(format!(
                "unsupported character in a string at byte {}",
                start + len
            ));
        }
        self.i = start + len + 1;
        std::str::from_utf8(&self.b[start..start + len]).map_err(|_| "a string is not UTF-8".into())
    }

    fn int(&mut self) -> std::result::Result<u64, String> {
        self.ws();
        let start = self.i;
        let mut v: u64 = 0;
        while let Some(&c @ b'0'..=b'9') = self.b.get(self.i) {
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(c - b'0')))
                .ok_or_else(|| format!("dimension too large at byte {start}"))?;
            self.i += 1;
        }
        if self.i == start {
            return Err(format!("expected a non-negative integer at byte {start}"));
        }
        if matches!(self.b.get(self.i), Some(b'L' | b'l')) {
            self.i += 1; // Python 2's long suffix
        }
        Ok(v)
    }

    fn value(&mut self) -> std::result::Result<Value<'a>, String> {
        self.ws();
        let rest = &self.b[self.i..];
        if rest.starts_with(b"True") || rest.starts_with(b"False") {
            let t = rest[0] == b'T';
            self.i += if t { 4 } else { 5 };
            return Ok(Value::Bool(t));
        }
        match rest.first() {
            Some(b'\'' | b'"') => Ok(Value::Str(self.string()?)),
            Some(b'(') => {
                self.i += 1;
                let mut dims = Vec::new();
                if !self.eat(b')') {
                    loop {
                        dims.push(self.int()?);
                        if self.eat(b')') {
                            break;
                        }
                        self.expect(b',')?;
                        if self.eat(b')') {
                            break;
                        }
                    }
                }
                Ok(Value::Tuple(dims))
            }
            Some(b'[') => Err("structured dtypes (a list descr) are not supported".into()),
            _ => Err(format!("unsupported value at byte {}", self.i)),
        }
    }
}

/// Parses a header dict.
pub(crate) fn parse_header(op: &'static str, what: &str, h: &[u8]) -> Result<Header> {
    let err = |m: String| bad(op, what, format!("malformed .npy header: {m}"));
    let mut p = Parser { b: h, i: 0 };
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    p.expect(b'{').map_err(err)?;
    while !p.eat(b'}') {
        let key = p.string().map_err(err)?;
        p.expect(b':').map_err(err)?;
        let v = p.value().map_err(err)?;
        let slot_taken = match (key, v) {
            ("descr", Value::Str(s)) => descr.replace(s).is_some(),
            ("fortran_order", Value::Bool(b)) => fortran.replace(b).is_some(),
            ("shape", Value::Tuple(t)) => shape.replace(t).is_some(),
            ("descr" | "fortran_order" | "shape", _) => {
                return Err(err(format!("'{key}' has a value of the wrong type")));
            }
            _ => return Err(err(format!("unexpected key '{}'", key.escape_debug()))),
        };
        if slot_taken {
            return Err(err(format!("key '{key}' repeated")));
        }
        if !p.eat(b',') {
            p.expect(b'}').map_err(err)?;
            break;
        }
    }
    p.ws();
    if p.i != h.len() {
        return Err(err(format!(
            "unexpected bytes after the dict at byte {}",
            p.i
        )));
    }
    let (Some(descr), Some(fortran), Some(dims)) = (descr, fortran, shape) else {
        return Err(err(
            "'descr', 'fortran_order' and 'shape' are all required".into()
        ));
    };
    let (dtype, swap) = parse_descr(op, what, descr)?;
    let (shape, n) = file_shape(dims.iter().copied()).ok_or_else(|| {
        bad(
            op,
            what,
            format!("shape {dims:?} is too large for an array (dimensions up to 2^31 - 1)"),
        )
    })?;
    Ok(Header {
        dtype,
        swap,
        fortran,
        shape,
        nbytes: n * dtype.size(),
    })
}

/// Python's repr of a shape tuple: `()`, `(3,)`, `(2, 3)`.
fn shape_repr(shape: &[i32]) -> String {
    match shape {
        [d] => format!("({d},)"),
        _ => {
            let parts: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
            format!("({})", parts.join(", "))
        }
    }
}

/// The header `np.save` writes for a C-ordered array of `dtype` and `shape`: magic, version,
/// length, the dict padded with spaces (room for the first axis to grow) and a newline so the
/// data starts at a multiple of 64 bytes. Version 1.0, or 2.0 when the length needs 4 bytes.
pub(crate) fn header(dtype: Dtype, shape: &[i32]) -> Vec<u8> {
    let mut dict = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
        descr(dtype),
        shape_repr(shape)
    );
    if let Some(d) = shape.first() {
        let digits = d.to_string().len();
        dict.push_str(&" ".repeat(GROWTH_DIGITS.saturating_sub(digits)));
    }
    let hlen = dict.len() + 1;
    let wrap = |len_bytes: usize, version: u8| {
        let pad = ALIGN - (MAGIC.len() + 2 + len_bytes + hlen) % ALIGN;
        let mut out = MAGIC.to_vec();
        out.extend([version, 0]);
        let total = hlen + pad;
        if len_bytes == 2 {
            out.extend((total as u16).to_le_bytes());
        } else {
            out.extend((total as u32).to_le_bytes());
        }
        out.extend(dict.as_bytes());
        out.extend(std::iter::repeat_n(b' ', pad));
        out.push(b'\n');
        (total, out)
    };
    let (total, v1) = wrap(2, 1);
    if total <= u16::MAX as usize {
        v1
    } else {
        wrap(4, 2).1
    }
}

/// Builds the array a header declares from its element bytes (exactly `h.nbytes`).
pub(crate) fn build(op: &'static str, h: &Header, data: &[u8], stream: Stream) -> Result<Array> {
    let swapped: Vec<u8>;
    let data = if h.swap {
        let k = h.dtype.size();
        swapped = data
            .chunks_exact(k)
            .flat_map(|c| c.iter().rev().copied())
            .collect();
        &swapped[..]
    } else {
        data
    };
    let strides = if h.fortran {
        let mut s = vec![0isize; h.shape.len()];
        let mut acc = 1isize;
        for (st, &d) in s.iter_mut().zip(&h.shape) {
            *st = acc;
            acc *= d.max(1) as isize;
        }
        s
    } else {
        row_major_strides(&h.shape)
    };
    Array::from_bytes_on(op, data, h.dtype, &h.shape, strides, stream)
}

/// Decodes a whole `.npy` image (a file's bytes). Trailing bytes after the data are ignored,
/// as numpy does.
pub(crate) fn decode(op: &'static str, what: &str, bytes: &[u8], stream: Stream) -> Result<Array> {
    let (pre, hlen) = prefix(op, what, bytes)?;
    let header = bytes
        .get(pre..pre + hlen)
        .ok_or_else(|| bad(op, what, "truncated in the header"))?;
    let h = parse_header(op, what, header)?;
    let start = pre + hlen;
    let data = bytes.get(start..start + h.nbytes).ok_or_else(|| {
        bad(
            op,
            what,
            format!(
                "truncated: shape {} of {} needs {} bytes of data, the file has {}",
                crate::shape::fmt_shape(&h.shape),
                h.dtype,
                h.nbytes,
                bytes.len() - start
            ),
        )
    })?;
    build(op, &h, data, stream)
}

/// `path`, with `ext` appended when it does not end in it (as numpy and MLX do).
pub(crate) fn with_extension(path: &Path, ext: &str) -> PathBuf {
    if path.extension().and_then(|e| e.to_str()) == Some(ext) {
        path.to_path_buf()
    } else {
        let mut s = path.as_os_str().to_owned();
        s.push(".");
        s.push(ext);
        PathBuf::from(s)
    }
}

/// Saves `a` as a `.npy` file, as `np.save` and MLX's `mx.save` do (`.npy` is appended when
/// `path` does not end in it). The bytes are exactly those `np.save` writes for the same array;
/// bfloat16 is written as MLX writes it (`'<V2'`: numpy sees two raw bytes per element).
///
/// ```
/// use wmx::{self as mx, Array};
/// let path = std::env::temp_dir().join("wmx_doc_save.npy");
/// let a = Array::from_slice(&[1i32, 2, 3, 4, 5, 6], &[2, 3]);
/// mx::save(&path, &mx::transpose(&a, &[1, 0], None)?)?;
/// let b = mx::load(&path, None)?;
/// assert_eq!(b.shape(), &[3, 2]);
/// assert_eq!(b.to_vec::<i32>()?, vec![1, 4, 2, 5, 3, 6]);
/// # std::fs::remove_file(&path).unwrap();
/// # Ok::<(), mx::Error>(())
/// ```
pub fn save(path: impl AsRef<Path>, a: &Array) -> Result<()> {
    let path = with_extension(path.as_ref(), "npy");
    let data = host_bytes("save", a)?;
    let write = || -> std::io::Result<()> {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
        f.write_all(&header(a.dtype(), a.shape()))?;
        f.write_all(data.bytes())?;
        f.into_inner().map_err(|e| e.into_error())?.sync_all()
    };
    write().map_err(|e| file_err("save", &path, e))
}

/// Loads a `.npy` file onto the device of `s`, as MLX's `mx.load` does for `.npy`: format
/// versions 1.0 to 3.0, little- and big-endian elements, C and Fortran order; bool, uint8,
/// uint32, int32, float16, float32 and bfloat16 (MLX's `'<V2'`). Other dtypes (int64, float64,
/// ...) are an `Err` naming the file and the dtype, as is any malformed or truncated file.
///
/// ```
/// use wmx::{self as mx, Array, Device};
/// let path = std::env::temp_dir().join("wmx_doc_load.npy");
/// mx::save(&path, &Array::from_slice(&[0.5f32, 1.5], &[2]))?;
/// let a = mx::load(&path, Device::cpu())?;
/// assert_eq!(a.to_vec::<f32>()?, vec![0.5, 1.5]);
/// std::fs::write(&path, b"\x93NUMPY\x01\x00").unwrap();
/// assert!(mx::load(&path, None).unwrap_err().to_string().contains("truncated"));
/// # std::fs::remove_file(&path).unwrap();
/// # Ok::<(), mx::Error>(())
/// ```
pub fn load(path: impl AsRef<Path>, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let path = path.as_ref();
    let stream = s.into().resolve("load")?;
    let bytes: FileBytes = map_file("load", path)?;
    decode("load", &path.display().to_string(), &bytes, stream)
}
