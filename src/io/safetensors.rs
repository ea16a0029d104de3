//! `.safetensors` files through the `safetensors` crate (which validates the header: its size,
//! the JSON, offsets that tile the data exactly and match each shape and dtype). Loading maps
//! the file and builds each tensor from its mapped bytes on the requested device.

use super::npy::with_extension;
use super::{HostBytes, file_err, file_shape, host_bytes, map_file};
use crate::array::Array;
use crate::dtype::Dtype;
use crate::error::{Error, Result};
use crate::shape::row_major_strides;
use crate::stream::StreamOrDevice;
use ::safetensors::tensor::{Dtype as StDtype, SafeTensors, View};
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

/// The safetensors dtype of a wmx dtype.
fn st_dtype(d: Dtype) -> StDtype {
    match d {
        Dtype::Bool => StDtype::BOOL,
        Dtype::Uint8 => StDtype::U8,
        Dtype::Uint32 => StDtype::U32,
        Dtype::Int32 => StDtype::I32,
        Dtype::Float16 => StDtype::F16,
        Dtype::Bfloat16 => StDtype::BF16,
        Dtype::Float32 => StDtype::F32,
    }
}

/// The wmx dtype of a safetensors dtype, when wmx has it.
fn wmx_dtype(d: StDtype) -> Option<Dtype> {
    Some(match d {
        StDtype::BOOL => Dtype::Bool,
        StDtype::U8 => Dtype::Uint8,
        StDtype::U32 => Dtype::Uint32,
        StDtype::I32 => Dtype::Int32,
        StDtype::F16 => Dtype::Float16,
        StDtype::BF16 => Dtype::Bfloat16,
        StDtype::F32 => Dtype::Float32,
        // The crate's enum is non-exhaustive: every other dtype (I64, F64, F8_*...) is absent here.
        _ => return None,
    })
}

/// One array read back for writing.
struct Tensor {
    dtype: StDtype,
    shape: Vec<usize>,
    data: HostBytes,
}

impl View for &Tensor {
    fn dtype(&self) -> StDtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(self.data.bytes())
    }
    fn data_len(&self) -> usize {
        self.data.bytes().len()
    }
}

/// Saves `arrays` (and the string `metadata`, when given) as a `.safetensors` file, as MLX's
/// `mx.save_safetensors` does (`.safetensors` is appended when `path` does not end in it).
/// Every dtype is stored as it is (f16 and bf16 included). Each array is read back once.
///
/// ```
/// use std::collections::HashMap;
/// use wmx::{self as mx, Array, Dtype};
/// let path = std::env::temp_dir().join("wmx_doc_save_safetensors.safetensors");
/// let w = mx::astype(&Array::from_slice(&[0.5f32, -1.0], &[1, 2]), Dtype::Bfloat16, None)?;
/// let meta = HashMap::from([("format".to_string(), "wmx".to_string())]);
/// mx::save_safetensors(&path, &HashMap::from([("w".to_string(), w)]), Some(&meta))?;
/// let (arrays, m) = mx::load_safetensors(&path, None)?;
/// assert_eq!(arrays["w"].dtype(), Dtype::Bfloat16);
/// assert_eq!(arrays["w"].to_vec::<f32>()?, vec![0.5, -1.0]);
/// assert_eq!(m, meta);
/// # std::fs::remove_file(&path).unwrap();
/// # Ok::<(), mx::Error>(())
/// ```
pub fn save_safetensors(
    path: impl AsRef<Path>,
    arrays: &HashMap<String, Array>,
    metadata: Option<&HashMap<String, String>>,
) -> Result<()> {
    let op = "save_safetensors";
    let path = with_extension(path.as_ref(), "safetensors");
    let mut tensors = Vec::with_capacity(arrays.len());
    for (name, a) in arrays {
        tensors.push((
            name,
            Tensor {
                dtype: st_dtype(a.dtype()),
                shape: a.shape().iter().map(|&d| d as usize).collect(),
                data: host_bytes(op, a)?,
            },
        ));
    }
    ::safetensors::tensor::serialize_to_file(
        tensors.iter().map(|(n, t)| (n.as_str(), t)),
        metadata.cloned(),
        &path,
    )
    .map_err(|e| file_err(op, &path, e))
}

/// Loads every tensor of a `.safetensors` file onto the device of `s`, with the file's string
/// metadata (empty when it has none), as MLX's `mx.load(..., return_metadata=True)`. The file
/// is memory-mapped: a GPU receives each tensor's upload straight from the mapped bytes, the CPU
/// one copy. bool, u8, u32, i32, f16, bf16 and f32 tensors keep their dtype; any other (I64,
/// F64, ...) is an `Err` naming the tensor and its dtype, as is a malformed or truncated file.
///
/// ```
/// use std::collections::HashMap;
/// use wmx::{self as mx, Array, Device};
/// let path = std::env::temp_dir().join("wmx_doc_load_safetensors.safetensors");
/// let a = Array::from_slice(&[1u32, 2, 3], &[3]);
/// mx::save_safetensors(&path, &HashMap::from([("ids".to_string(), a)]), None)?;
/// let (arrays, meta) = mx::load_safetensors(&path, Device::cpu())?;
/// assert_eq!(arrays["ids"].to_vec::<u32>()?, vec![1, 2, 3]);
/// assert!(meta.is_empty());
/// let bytes = std::fs::read(&path).unwrap();
/// std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap(); // truncated
/// assert!(mx::load_safetensors(&path, None).is_err());
/// # std::fs::remove_file(&path).unwrap();
/// # Ok::<(), mx::Error>(())
/// ```
pub fn load_safetensors(
    path: impl AsRef<Path>,
    s: impl Into<StreamOrDevice>,
) -> Result<(HashMap<String, Array>, HashMap<String, String>)> {
    let op = "load_safetensors";
    let path = path.as_ref();
    let stream = s.into().resolve(op)?;
    let bytes = map_file(op, path)?;
    let (n, meta) = SafeTensors::read_metadata(&bytes)
        .map_err(|e| file_err(op, path, format!("not a valid .safetensors file: {e}")))?;
    // The crate checked that the offsets tile the data after the header exactly.
    let data = &bytes[8 + n..];
    let mut infos: Vec<_> = meta.tensors().into_iter().collect();
    infos.sort_by(|a, b| a.0.cmp(&b.0));
    // Every tensor is checked before any is loaded.
    let mut checked = Vec::with_capacity(infos.len());
    for (name, info) in infos {
        let dtype = wmx_dtype(info.dtype).ok_or_else(|| Error::Dtype {
            op,
            msg: format!(
                "{}: Tensor '{name}' has dtype {:?}, which wmx does not support.",
                path.display(),
                info.dtype
            ),
        })?;
        let (shape, _) = file_shape(info.shape.iter().map(|&d| d as u64)).ok_or_else(|| {
            file_err(
                op,
                path,
                format!(
                    "tensor '{name}' has shape {:?}, too large for an array (dimensions up to \
                     2^31 - 1)",
                    info.shape
                ),
            )
        })?;
        let (start, end) = info.data_offsets;
        let bytes = data.get(start..end).ok_or_else(|| {
            file_err(
                op,
                path,
                format!("tensor '{name}' has offsets past the end"),
            )
        })?;
        checked.push((name, dtype, shape, bytes));
    }
    let mut out = HashMap::with_capacity(checked.len());
    for (name, dtype, shape, data) in checked {
        let strides = row_major_strides(&shape);
        let a = Array::from_bytes_on(op, data, dtype, &shape, strides, stream)?;
        out.insert(name.to_string(), a);
    }
    Ok((out, meta.metadata().clone().unwrap_or_default()))
}

/// [`load_safetensors`], then every array converted to `dtype` on `s` (evaluated), e.g. to load
/// f32 weights as bf16. Tensors already of `dtype` are returned as loaded.
///
/// ```
/// use std::collections::HashMap;
/// use wmx::{self as mx, Array, Dtype};
/// let path = std::env::temp_dir().join("wmx_doc_load_safetensors_as.safetensors");
/// let a = Array::from_slice(&[1.0f32, 2.5], &[2]);
/// mx::save_safetensors(&path, &HashMap::from([("a".to_string(), a)]), None)?;
/// let (arrays, _) = mx::load_safetensors_as(&path, Dtype::Float16, None)?;
/// assert_eq!(arrays["a"].dtype(), Dtype::Float16);
/// assert_eq!(arrays["a"].to_vec::<f32>()?, vec![1.0, 2.5]);
/// # std::fs::remove_file(&path).unwrap();
/// # Ok::<(), mx::Error>(())
/// ```
pub fn load_safetensors_as(
    path: impl AsRef<Path>,
    dtype: Dtype,
    s: impl Into<StreamOrDevice>,
) -> Result<(HashMap<String, Array>, HashMap<String, String>)> {
    let stream = s.into().resolve("load_safetensors")?;
    let (arrays, meta) = load_safetensors(path, stream)?;
    let mut out = HashMap::with_capacity(arrays.len());
    for (name, a) in arrays {
        let a = if a.dtype() == dtype {
            a
        } else {
            crate::ops::unary::astype(&a, dtype, stream)?
        };
        out.insert(name, a);
    }
    crate::graph::eval(out.values())?;
    Ok((out, meta))
}
