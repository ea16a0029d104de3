//! Array and weight files (`.npy`, `.npz`, `.safetensors`) on both devices: files written by
//! numpy, MLX and the python `safetensors` package load with the expected values
//! (tests/fixtures/io/foreign, made by tools/gen_io_fixtures.py); wmx's own files round-trip,
//! match numpy's bytes, and still equal the committed ones that tools/check_io_fixtures.py loads
//! in numpy and MLX (tests/fixtures/io/wmx; `WMX_BLESS_IO=1` rewrites them); hostile files are
//! clear errors (tests/fixtures/io/corpus holds the inputs kept from fuzzing and by hand).

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use wmx::{self as mx, Array, Device, Dtype, Error};

const FOREIGN: &str = "tests/fixtures/io/foreign";
const WMX: &str = "tests/fixtures/io/wmx";
const CORPUS: &str = "tests/fixtures/io/corpus";

/// A fresh temporary directory for one test.
fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wmx_io_{}_{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Loads any of the three formats by extension: (arrays, metadata); a `.npy` is array `-`.
fn load_by_ext(
    path: &Path,
    dev: Device,
) -> mx::Result<(HashMap<String, Array>, HashMap<String, String>)> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("npy") => Ok((
            HashMap::from([("-".to_string(), mx::load(path, dev)?)]),
            HashMap::new(),
        )),
        Some("npz") => Ok((mx::load_npz(path, dev)?, HashMap::new())),
        Some("safetensors") => mx::load_safetensors(path, dev),
        other => panic!("unknown extension {other:?}"),
    }
}

/// Elements as f64 bit-exactly comparable (NaN == NaN).
fn vals(a: &Array) -> Vec<f64> {
    common::values(a)
}

fn assert_same(what: &str, got: &Array, want: &Array) {
    assert_eq!(got.dtype(), want.dtype(), "{what}: dtype");
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    let (g, w) = (vals(got), vals(want));
    let eq = g.len() == w.len()
        && g.iter()
            .zip(&w)
            .all(|(a, b)| a == b || (a.is_nan() && b.is_nan()));
    assert!(eq, "{what}: values\n got {g:?}\nwant {w:?}");
}

struct Expected {
    arrays: HashMap<String, (Dtype, Vec<i32>, Vec<f64>)>,
    meta: Option<HashMap<String, String>>,
    error: Option<String>,
}

/// Parses expected.txt (format in tools/gen_io_fixtures.py).
fn expected() -> Vec<(String, Expected)> {
    let text = std::fs::read_to_string(format!("{FOREIGN}/expected.txt")).unwrap();
    let mut out: Vec<(String, Expected)> = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if out.last().map(|(n, _)| n.as_str()) != Some(f[0]) {
            let e = Expected {
                arrays: HashMap::new(),
                meta: None,
                error: None,
            };
            out.push((f[0].to_string(), e));
        }
        let e = &mut out.last_mut().unwrap().1;
        match f[1] {
            "@meta" => {
                let m = e.meta.get_or_insert_with(HashMap::new);
                if !f[2].is_empty() {
                    m.insert(f[2].to_string(), f[3].to_string());
                }
            }
            "@error" => e.error = Some(f[2].to_string()),
            name => {
                let dtype = Dtype::ALL.into_iter().find(|d| d.name() == f[2]).unwrap();
                let shape = f[3]
                    .trim_matches(|c| c == '(' || c == ')')
                    .split(',')
                    .filter(|t| !t.is_empty())
                    .map(|t| t.parse().unwrap())
                    .collect();
                let v = f[4]
                    .split_whitespace()
                    .map(|t| t.parse().unwrap())
                    .collect();
                e.arrays.insert(name.to_string(), (dtype, shape, v));
            }
        }
    }
    out
}

/// The arrays wmx writes into tests/fixtures/io/wmx (mirrored in tools/check_io_fixtures.py).
fn wmx_arrays() -> Vec<(&'static str, Array)> {
    let cpu = Device::cpu();
    let f32s = |v: &[f32], s: &[i32]| Array::from_slice(v, s);
    let t = mx::transpose(
        &mx::reshape(
            &mx::arange(0.0, 12.0, 1.0, Dtype::Float32, cpu).unwrap(),
            &[3, 4],
            cpu,
        )
        .unwrap(),
        &[1, 0],
        cpu,
    )
    .unwrap();
    let bf = mx::astype(
        &f32s(&[1.0, -2.5, 3.0e38, 0.0078125], &[2, 2]),
        Dtype::Bfloat16,
        cpu,
    )
    .unwrap();
    let f16 = mx::astype(
        &f32s(&[0.5, -1.5, 65504.0, 0.0009765625], &[4]),
        Dtype::Float16,
        cpu,
    )
    .unwrap();
    vec![
        ("f32", f32s(&[-0.5, -0.25, 0.0, 0.25, 0.5, 0.75], &[2, 3])),
        ("f32_t", t),
        (
            "i32",
            Array::from_slice(&[-3i32, -1, 0, 2, i32::MAX, i32::MIN], &[6]),
        ),
        ("u32", Array::from_slice(&[0u32, 1, u32::MAX], &[3])),
        ("u8", Array::from_slice(&[0u8, 7, 255], &[3])),
        (
            "bool",
            Array::from_slice(&[true, false, true, true], &[2, 2]),
        ),
        ("f16", f16),
        ("bf16", bf),
        ("scalar", Array::scalar(3.25f32)),
        ("empty", mx::zeros(&[0, 3], Dtype::Float32, cpu).unwrap()),
    ]
}

/// The files wmx writes from [`wmx_arrays`] into `dir`.
fn write_wmx_files(dir: &Path) {
    let arrays = wmx_arrays();
    for (name, a) in &arrays {
        mx::save(dir.join(format!("{name}.npy")), a).unwrap();
    }
    let map: HashMap<String, Array> = arrays
        .iter()
        .map(|(n, a)| (n.to_string(), a.clone()))
        .collect();
    mx::savez(dir.join("all.npz"), &map).unwrap();
    mx::savez_compressed(dir.join("all_compressed.npz"), &map).unwrap();
    // One metadata pair: the safetensors crate writes several in hash order (still valid JSON).
    let meta = HashMap::from([("format".to_string(), "wmx".to_string())]);
    mx::save_safetensors(dir.join("all.safetensors"), &map, Some(&meta)).unwrap();
}

#[test]
fn wmx_still_writes_the_committed_files() {
    if std::env::var("WMX_BLESS_IO").as_deref() == Ok("1") {
        std::fs::create_dir_all(WMX).unwrap();
        write_wmx_files(Path::new(WMX));
    }
    let dir = tmp("committed");
    write_wmx_files(&dir);
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names.len(), wmx_arrays().len() + 3);
    for name in names {
        let (new, old) = (dir.join(&name), Path::new(WMX).join(&name));
        let committed = std::fs::read(&old)
            .unwrap_or_else(|e| panic!("{}: {e} (WMX_BLESS_IO=1 writes it)", old.display()));
        if name == "all_compressed.npz" {
            // Deflate's exact bytes belong to the compressor's version: the contents must match.
            let (a, b) = (
                mx::load_npz(&new, Device::cpu()).unwrap(),
                mx::load_npz(&old, Device::cpu()).unwrap(),
            );
            assert_eq!(a.len(), b.len());
            for (k, v) in &a {
                assert_same(k, v, &b[k]);
            }
        } else {
            assert!(
                std::fs::read(&new).unwrap() == committed,
                "{}: wmx now writes other bytes than the committed file",
                name.to_string_lossy()
            );
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn npy_bytes_equal_numpys() {
    // Every C-ordered little-endian numpy fixture, loaded and saved again, is the same file.
    let dir = tmp("numpy_bytes");
    for name in [
        "np_f32",
        "np_f16",
        "np_i32",
        "np_u32",
        "np_u8",
        "np_bool",
        "np_f32_scalar",
        "np_f32_empty",
    ] {
        let src = format!("{FOREIGN}/{name}.npy");
        let a = mx::load(&src, Device::cpu()).unwrap();
        let out = dir.join(format!("{name}.npy"));
        mx::save(&out, &a).unwrap();
        assert!(
            std::fs::read(&out).unwrap() == std::fs::read(&src).unwrap(),
            "{name}: header or data differ from np.save's"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

device_tests! {
    fn foreign_files_load(dev: Device) {
        let cases = expected();
        assert!(cases.len() >= 20);
        for (file, e) in cases {
            let path = Path::new(FOREIGN).join(&file);
            let got = load_by_ext(&path, dev);
            if let Some(want) = e.error {
                let err = match got {
                    Ok(_) => panic!("{file}: loaded, expected an error containing {want:?}"),
                    Err(err) => err,
                };
                assert!(matches!(err, Error::Dtype { .. }), "{file}: {err:?}");
                let msg = err.to_string();
                assert!(msg.contains(&want) && msg.contains(&file), "{file}: {msg}");
                continue;
            }
            let (arrays, meta) = got.unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(arrays.len(), e.arrays.len(), "{file}: array count");
            for (name, (dtype, shape, want)) in &e.arrays {
                let a = &arrays[name];
                assert_eq!(a.device(), dev, "{file}:{name}");
                assert!(a.is_evaluated(), "{file}:{name}");
                assert_eq!(a.dtype(), *dtype, "{file}:{name}");
                assert_eq!(a.shape(), &shape[..], "{file}:{name}");
                assert_eq!(&vals(a), want, "{file}:{name}");
                // The loaded array computes on its device (strided Fortran-order data included).
                let twice = mx::add(a, a, dev).unwrap();
                let doubled: Vec<f64> = vals(&mx::astype(&twice, Dtype::Float32, dev).unwrap());
                if *dtype != Dtype::Bool && *dtype != Dtype::Uint8 {
                    let w: Vec<f64> = want.iter().map(|x| 2.0 * x).collect();
                    assert_eq!(doubled, w, "{file}:{name} doubled");
                }
            }
            if let Some(m) = e.meta {
                assert_eq!(meta, m, "{file}: metadata");
            }
        }
    }

    fn round_trips_every_dtype_and_layout(dev: Device) {
        let dir = tmp(&format!("round_{:?}", dev.kind));
        let cpu = Device::cpu();
        let mut arrays = wmx_arrays();
        // More layouts: a strided slice, a broadcast, a GPU-resident source, a 4-d array.
        let base = mx::reshape(&mx::arange(0.0, 24.0, 1.0, Dtype::Int32, cpu).unwrap(), &[4, 6], cpu).unwrap();
        arrays.push(("sliced", mx::slice(&base, &[1, 0], &[4, 6], &[2, 3], cpu).unwrap()));
        arrays.push(("broadcast", mx::broadcast_to(&Array::from_slice(&[1.5f32, 2.5], &[2]), &[3, 2], cpu).unwrap()));
        arrays.push(("on_dev", mx::multiply(&base, &base, dev).unwrap()));
        arrays.push(("four_d", mx::reshape(&mx::arange(0.0, 24.0, 1.0, Dtype::Float16, cpu).unwrap(), &[1, 2, 3, 4], cpu).unwrap()));
        for (name, a) in &arrays {
            let p = dir.join(format!("{name}.npy"));
            mx::save(&p, a).unwrap();
            let b = mx::load(&p, dev).unwrap();
            assert_eq!(b.device(), dev);
            assert_same(&format!("npy {name}"), &b, a);
        }
        let map: HashMap<String, Array> = arrays.iter().map(|(n, a)| (n.to_string(), a.clone())).collect();
        let meta = HashMap::from([("k".to_string(), "v with spaces and \"quotes\"".to_string())]);
        mx::savez(dir.join("s"), &map).unwrap(); // .npz appended
        mx::savez_compressed(dir.join("c.npz"), &map).unwrap();
        mx::save_safetensors(dir.join("t"), &map, Some(&meta)).unwrap();
        for (file, want_meta) in [("s.npz", HashMap::new()), ("c.npz", HashMap::new()), ("t.safetensors", meta)] {
            let (back, m) = load_by_ext(&dir.join(file), dev).unwrap();
            assert_eq!(m, want_meta);
            assert_eq!(back.len(), map.len(), "{file}");
            for (name, a) in &map {
                assert_eq!(back[name].device(), dev);
                assert_same(&format!("{file} {name}"), &back[name], a);
            }
        }
        let (as16, _) = mx::load_safetensors_as(dir.join("t.safetensors"), Dtype::Float16, dev).unwrap();
        assert!(as16.values().all(|a| a.dtype() == Dtype::Float16 && a.device() == dev));
        assert_eq!(vals(&as16["f32"]), vals(&map["f32"]));
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn hostile_files_are_clear_errors(dev: Device) {
        let dir = tmp(&format!("hostile_{:?}", dev.kind));
        let npy_with = |dict: &str, data: &[u8]| {
            let mut h = format!("{dict}\n").into_bytes();
            let mut f = b"\x93NUMPY\x01\x00".to_vec();
            f.extend((h.len() as u16).to_le_bytes());
            f.append(&mut h);
            f.extend(data);
            f
        };
        let f32_dict = |shape: &str| format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("empty file", vec![], "not a .npy file"),
            ("bad magic", b"\x93NUMPX\x01\x00\x10\x00".to_vec(), "not a .npy file"),
            ("version 9.0", b"\x93NUMPY\x09\x00\x10\x00".to_vec(), "version 9.0"),
            ("header length past the end", b"\x93NUMPY\x01\x00\xff\xff{".to_vec(), "truncated"),
            ("huge v2 header length", b"\x93NUMPY\x02\x00\xff\xff\xff\xff{".to_vec(), "longer than"),
            ("shape past the file", npy_with(&f32_dict("(1000000,)"), &[0; 16]), "truncated"),
            ("shape overflowing usize", npy_with(&f32_dict("(4294967295, 4294967295, 4294967295)"), &[]), "too large"),
            ("dimension past i32", npy_with(&f32_dict("(2147483648,)"), &[]), "too large"),
            ("dimension past u64", npy_with(&f32_dict("(99999999999999999999999,)"), &[]), "dimension too large"),
            ("negative dimension", npy_with(&f32_dict("(-1,)"), &[]), "malformed"),
            ("wrong dtype string", npy_with("{'descr': 'zz', 'fortran_order': False, 'shape': (1,), }", &[0; 4]), "'zz'"),
            ("structured dtype", npy_with("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", &[0; 4]), "structured"),
            ("missing key", npy_with("{'descr': '<f4', 'shape': (1,), }", &[0; 4]), "required"),
            ("repeated key", npy_with("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", &[0; 4]), "repeated"),
            ("extra key", npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 'y'}", &[0; 4]), "unexpected key"),
            ("unterminated dict", npy_with("{'descr': '<f4', 'fortran_order': False", &[]), "malformed"),
            ("python code", npy_with("__import__('os').system('true')", &[]), "malformed"),
            ("wrong value type", npy_with("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", &[0; 4]), "malformed"),
            ("bytes after the dict", npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", &[0; 4]), "after the dict"),
        ];
        for (what, bytes, want) in cases {
            let p = dir.join("h.npy");
            std::fs::write(&p, &bytes).unwrap();
            let e = mx::load(&p, dev).err().unwrap_or_else(|| panic!("{what}: loaded"));
            let msg = e.to_string();
            assert!(msg.starts_with("[load] ") && msg.contains("h.npy") && msg.contains(want), "{what}: {msg}");
        }
        assert!(mx::load(dir.join("missing.npy"), dev).unwrap_err().to_string().contains("missing.npy"));

        // safetensors: header size past the file, offsets past the end or overlapping.
        let st = |header: &str, data: &[u8]| {
            let mut f = (header.len() as u64).to_le_bytes().to_vec();
            f.extend(header.as_bytes());
            f.extend(data);
            f
        };
        let st_cases: Vec<(&str, Vec<u8>)> = vec![
            ("huge header size", { let mut v = u64::MAX.to_le_bytes().to_vec(); v.extend(b"{}"); v }),
            ("offsets past the end", st(r#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, &[0; 8])),
            ("overlapping offsets", st(r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, &[0; 12])),
            ("shape not matching the bytes", st(r#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, &[0; 8])),
            ("huge shape", st(r#"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#, &[0; 8])),
            ("unknown dtype", st(r#"{"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}}"#, &[0; 8])),
            ("not json", st("{not json", &[])),
        ];
        for (what, bytes) in st_cases {
            let p = dir.join("h.safetensors");
            std::fs::write(&p, &bytes).unwrap();
            let e = mx::load_safetensors(&p, dev).err().unwrap_or_else(|| panic!("{what}: loaded"));
            assert!(e.to_string().starts_with("[load_safetensors] ") && e.to_string().contains("h.safetensors"), "{what}: {e}");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn npz_entries_are_capped_by_their_headers(dev: Device) {
        use std::io::Write;
        let dir = tmp(&format!("npz_{:?}", dev.kind));
        let write_zip = |name: &str, entries: &[(&str, Vec<u8>)]| {
            let p = dir.join(name);
            let mut z = zip::ZipWriter::new(std::fs::File::create(&p).unwrap());
            let o = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
            for (n, bytes) in entries {
                z.start_file(*n, o).unwrap();
                z.write_all(bytes).unwrap();
            }
            z.finish().unwrap();
            p
        };
        let header = |shape: &str| {
            let d = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}\n");
            let mut f = b"\x93NUMPY\x01\x00".to_vec();
            f.extend((d.len() as u16).to_le_bytes());
            f.extend(d.as_bytes());
            f
        };
        // A deflate bomb: 64 MiB of zeros behind a header declaring 4 elements. Only 16 bytes
        // (and one more, to find the excess) are ever inflated into memory.
        let mut bomb = header("(4,)");
        bomb.extend(vec![0u8; 64 << 20]);
        let p = write_zip("bomb.npz", &[("x.npy", bomb)]);
        assert!(std::fs::metadata(&p).unwrap().len() < 1 << 20);
        let e = mx::load_npz(&p, dev).unwrap_err().to_string();
        assert!(e.contains("longer than its header declares") && e.contains("'x.npy'"), "{e}");
        // A header declaring more than the entry holds.
        let mut short = header("(1000,)");
        short.extend([0u8; 12]);
        let e = mx::load_npz(write_zip("short.npz", &[("x.npy", short)]), dev).unwrap_err().to_string();
        assert!(e.contains("truncated") && e.contains("4000"), "{e}");
        // A header declaring more than memory: refused before reading.
        let huge = header("(2147483647, 2147483647)");
        let e = mx::load_npz(write_zip("huge.npz", &[("x.npy", huge)]), dev).unwrap_err();
        assert!(matches!(e, Error::TooLarge { .. } | Error::Io { .. }), "{e}");
        // Two entries of one name; a non-npy entry; not a zip at all.
        let mut ok = header("(1,)");
        ok.extend([0u8; 4]);
        let e = mx::load_npz(write_zip("dup.npz", &[("a.npy", ok.clone()), ("a", ok.clone())]), dev).unwrap_err().to_string();
        assert!(e.contains("second entry"), "{e}");
        let e = mx::load_npz(write_zip("txt.npz", &[("readme.txt", b"hello".to_vec())]), dev).unwrap_err().to_string();
        assert!(e.contains("readme.txt") && e.contains("not a .npy"), "{e}");
        let p = dir.join("plain.npz");
        std::fs::write(&p, b"just text").unwrap();
        assert!(mx::load_npz(&p, dev).unwrap_err().to_string().contains("not a valid .npz"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn corpus_files_never_panic(dev: Device) {
        // Every kept input loads or fails with an Err; none panics or allocates without bound.
        let mut n = 0;
        for e in std::fs::read_dir(CORPUS).unwrap() {
            let p = e.unwrap().path();
            let r = match p.extension().and_then(|e| e.to_str()) {
                Some("npy") => mx::load(&p, dev).map(|_| ()),
                Some("npz") => mx::load_npz(&p, dev).map(|_| ()),
                Some("safetensors") => mx::load_safetensors(&p, dev).map(|_| ()),
                _ => continue,
            };
            // Every kept input is hostile: it must be refused, naming the file.
            let e = r.err().unwrap_or_else(|| panic!("{}: loaded", p.display()));
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            assert!(e.to_string().contains(&name), "{}: {e}", p.display());
            n += 1;
        }
        assert!(n > 0);
    }
}
