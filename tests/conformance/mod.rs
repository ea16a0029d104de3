//! The conformance fixture reader and comparator: parses tests/fixtures/conformance/*.txt (format
//! documented in tools/gen_conformance.py), builds each input with its view recipe on the device
//! under test, and compares wmx's outputs with MLX's bits under a per-(op, dtype) tolerance.
#![allow(dead_code)]

use half::{bf16, f16};
use wmx::{Array, Device, Dtype};

/// One parsed input: its base array (dtype, shape, raw bits) and the view steps to apply.
#[derive(Debug, Clone)]
pub struct Input {
    pub dtype: Dtype,
    pub shape: Vec<i32>,
    pub view: String,
    pub bits: Vec<u32>,
}

/// One expected output.
#[derive(Debug, Clone)]
pub struct Output {
    pub dtype: Dtype,
    pub shape: Vec<i32>,
    pub bits: Vec<u32>,
}

/// One case: id, op, params, inputs and either outputs or MLX's error.
#[derive(Debug, Clone)]
pub struct Case {
    pub id: String,
    pub op: String,
    pub params: Vec<(String, String)>,
    pub inputs: Vec<Input>,
    pub outputs: Vec<Output>,
    pub error: Option<String>,
}

pub fn parse_dtype(s: &str) -> Dtype {
    Dtype::ALL
        .into_iter()
        .find(|d| d.name() == s)
        .unwrap_or_else(|| panic!("unknown dtype {s:?}"))
}

fn parse_shape(s: &str) -> Vec<i32> {
    let inner = s.trim_start_matches('(').trim_end_matches(')');
    inner
        .split(',')
        .filter(|t| !t.is_empty())
        .map(|t| t.parse().expect("shape entry"))
        .collect()
}

fn parse_bits(s: &str) -> Vec<u32> {
    s.split_whitespace()
        .map(|h| u32::from_str_radix(h, 16).expect("hex element"))
        .collect()
}

/// Parses one fixture file.
pub fn parse(text: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
        match kind {
            "case" => {
                let mut it = rest.split(' ');
                let id = it.next().expect("case id").to_string();
                let op = it.next().expect("case op").to_string();
                let params = it
                    .map(|kv| {
                        let (k, v) = kv.split_once('=').expect("param key=value");
                        (k.to_string(), v.to_string())
                    })
                    .collect();
                cases.push(Case {
                    id,
                    op,
                    params,
                    inputs: vec![],
                    outputs: vec![],
                    error: None,
                });
            }
            "in" => {
                let (head, hex) = rest.split_once(" :").expect("in line has ' : '");
                let f: Vec<&str> = head.split(' ').collect();
                let c = cases.last_mut().expect("in before case");
                c.inputs.push(Input {
                    dtype: parse_dtype(f[0]),
                    shape: parse_shape(f[1]),
                    view: f[2].to_string(),
                    bits: parse_bits(hex),
                });
            }
            "out" => {
                let (head, hex) = rest.split_once(" :").expect("out line has ' : '");
                let f: Vec<&str> = head.split(' ').collect();
                let c = cases.last_mut().expect("out before case");
                c.outputs.push(Output {
                    dtype: parse_dtype(f[0]),
                    shape: parse_shape(f[1]),
                    bits: parse_bits(hex),
                });
            }
            "err" => cases.last_mut().expect("err before case").error = Some(rest.to_string()),
            other => panic!("unknown fixture line kind {other:?}"),
        }
    }
    cases
}

// ---- params -------------------------------------------------------------------------------

impl Case {
    pub fn raw(&self, key: &str) -> &str {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("{}: missing param {key}", self.id))
    }
    pub fn has(&self, key: &str) -> bool {
        self.params.iter().any(|(k, _)| k == key)
    }
    pub fn i32(&self, key: &str) -> i32 {
        self.raw(key).parse().expect("int param")
    }
    pub fn opt_i32(&self, key: &str) -> Option<i32> {
        match self.raw(key) {
            "none" => None,
            v => Some(v.parse().expect("int param")),
        }
    }
    pub fn f64(&self, key: &str) -> f64 {
        self.raw(key).parse().expect("float param")
    }
    pub fn opt_f64(&self, key: &str) -> Option<f64> {
        match self.raw(key) {
            "none" => None,
            v => Some(v.parse().expect("float param")),
        }
    }
    pub fn bool(&self, key: &str) -> bool {
        self.raw(key) == "true"
    }
    /// A comma-separated integer list (`none` and empty both give an empty list).
    pub fn i32s(&self, key: &str) -> Vec<i32> {
        match self.raw(key) {
            "none" | "" => vec![],
            v => v.split(',').map(|t| t.parse().expect("int list")).collect(),
        }
    }
    pub fn opt_i32s(&self, key: &str) -> Option<Vec<i32>> {
        match self.raw(key) {
            "none" => None,
            _ => Some(self.i32s(key)),
        }
    }
    pub fn dtype(&self, key: &str) -> Dtype {
        parse_dtype(self.raw(key))
    }
    pub fn str(&self, key: &str) -> &str {
        self.raw(key)
    }
}

// ---- building inputs ----------------------------------------------------------------------

/// The base array of `inp` (host data), exactly the bits MLX saw.
pub fn base_array(inp: &Input) -> Array {
    let b = &inp.bits;
    let s = &inp.shape;
    match inp.dtype {
        Dtype::Bool => Array::from_slice(&b.iter().map(|&x| x != 0).collect::<Vec<_>>(), s),
        Dtype::Uint8 => Array::from_slice(&b.iter().map(|&x| x as u8).collect::<Vec<_>>(), s),
        Dtype::Uint32 => Array::from_slice(b, s),
        Dtype::Int32 => Array::from_slice(&b.iter().map(|&x| x as i32).collect::<Vec<_>>(), s),
        Dtype::Float16 => Array::from_slice(
            &b.iter()
                .map(|&x| f16::from_bits(x as u16))
                .collect::<Vec<_>>(),
            s,
        ),
        Dtype::Bfloat16 => Array::from_slice(
            &b.iter()
                .map(|&x| bf16::from_bits(x as u16))
                .collect::<Vec<_>>(),
            s,
        ),
        Dtype::Float32 => {
            Array::from_slice(&b.iter().map(|&x| f32::from_bits(x)).collect::<Vec<_>>(), s)
        }
    }
}

fn ints(s: &str) -> Vec<i32> {
    s.split(',')
        .filter(|t| !t.is_empty())
        .map(|t| t.parse().expect("view int"))
        .collect()
}

/// The input as the op sees it: the base array with the view steps applied on `d`.
pub fn build_input(inp: &Input, d: Device) -> wmx::Result<Array> {
    let mut a = base_array(inp);
    if inp.view == "-" {
        return Ok(a);
    }
    for step in inp.view.split(';') {
        let (name, args) = step
            .trim_end_matches(')')
            .split_once('(')
            .expect("view step name(args)");
        a = match name {
            "transpose" => wmx::transpose(&a, &ints(args), d)?,
            "broadcast" => wmx::broadcast_to(&a, &ints(args), d)?,
            "slice" => {
                let (mut start, mut stop, mut step) = (vec![], vec![], vec![]);
                for t in args.split(',') {
                    let v: Vec<i32> = t.split(':').map(|x| x.parse().expect("slice")).collect();
                    start.push(v[0]);
                    stop.push(v[1]);
                    step.push(v[2]);
                }
                wmx::slice(&a, &start, &stop, &step, d)?
            }
            other => panic!("unknown view step {other:?}"),
        };
    }
    Ok(a)
}

// ---- reading and comparing outputs --------------------------------------------------------

/// The array's elements as raw storage bits (bool as 0/1), in row-major order.
pub fn read_bits(a: &Array) -> wmx::Result<Vec<u32>> {
    Ok(match a.dtype() {
        Dtype::Bool => a.to_vec::<bool>()?.into_iter().map(u32::from).collect(),
        Dtype::Uint8 => a.to_vec::<u8>()?.into_iter().map(u32::from).collect(),
        Dtype::Uint32 => a.to_vec::<u32>()?,
        Dtype::Int32 => a.to_vec::<i32>()?.into_iter().map(|x| x as u32).collect(),
        Dtype::Float16 => a
            .to_vec::<f16>()?
            .into_iter()
            .map(|x| x.to_bits() as u32)
            .collect(),
        Dtype::Bfloat16 => a
            .to_vec::<bf16>()?
            .into_iter()
            .map(|x| x.to_bits() as u32)
            .collect(),
        Dtype::Float32 => a.to_vec::<f32>()?.into_iter().map(f32::to_bits).collect(),
    })
}

/// The value stored in `bits` for `dtype`, as f64 (exact).
pub fn value(bits: u32, dtype: Dtype) -> f64 {
    match dtype {
        Dtype::Bool | Dtype::Uint8 | Dtype::Uint32 => bits as f64,
        Dtype::Int32 => bits as i32 as f64,
        Dtype::Float16 => f16::from_bits(bits as u16).to_f64(),
        Dtype::Bfloat16 => bf16::from_bits(bits as u16).to_f64(),
        Dtype::Float32 => f32::from_bits(bits) as f64,
    }
}

/// Machine epsilon of a float dtype.
fn eps(dtype: Dtype) -> f64 {
    match dtype {
        Dtype::Float32 => f32::EPSILON as f64,
        Dtype::Float16 => 9.765625e-4,
        Dtype::Bfloat16 => 7.8125e-3,
        Dtype::Bool | Dtype::Uint8 | Dtype::Uint32 | Dtype::Int32 => 0.0,
    }
}

/// How an op's float results are compared.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Tol {
    /// Bit-exact (NaN matches any NaN; the sign of zero must match).
    Exact,
    /// Within `ulps` epsilons relative, plus `atol_eps` epsilons absolute (near zero).
    Ulp { ulps: f64, atol_eps: f64 },
    /// Accumulations (sums, products, matmul): relative and absolute, in epsilons of the dtype
    /// scaled by the reduction length the fixtures use (at most ~1000).
    Accum { rel_eps: f64, atol_eps: f64 },
}

/// The per-(op, dtype) tolerance table. Integer and bool results are always exact.
pub fn tolerance(op: &str, dtype: Dtype) -> Tol {
    if !dtype.is_float() {
        return Tol::Exact;
    }
    let low = matches!(dtype, Dtype::Float16 | Dtype::Bfloat16);
    match op {
        // correctly rounded by construction (or pure data movement)
        "abs" | "negative" | "sign" | "square" | "floor" | "ceil" | "trunc" | "round" | "add"
        | "subtract" | "multiply" | "maximum" | "minimum" | "where" | "clip" | "max" | "min"
        | "sort" | "partition" | "topk" | "take" | "take_along_axis" | "put_along_axis"
        | "scatter" | "scatter_max" | "scatter_min" | "slice_update" | "astype" | "full"
        | "zeros" | "ones" | "zeros_like" | "ones_like" | "eye" | "identity" | "tri" | "tril"
        | "triu" | "nan_to_num" | "cummax" | "cummin" | "reshape" | "transpose"
        | "broadcast_to" | "squeeze" | "expand_dims" | "flatten" | "slice" | "concatenate"
        | "stack" | "split" | "split_at" | "contiguous" | "swapaxes" | "moveaxis"
        | "permute_dims" | "atleast_1d" | "atleast_2d" | "atleast_3d" | "tile" | "repeat"
        | "pad" | "roll" | "flip" | "unstack" | "diag" | "diagonal" | "meshgrid" | "as_strided"
        | "outer" => Tol::Exact,
        // one correctly rounded f32 operation, then rounding to the dtype: 1 ulp of slack for
        // GPUs whose divide/sqrt are not correctly rounded
        "divide" | "reciprocal" | "sqrt" | "rsqrt" | "floor_divide" | "remainder" | "divmod"
        | "degrees" | "radians" | "scatter_add" | "scatter_prod" => Tol::Ulp {
            ulps: if low { 1.0 } else { 4.0 },
            atol_eps: 0.0,
        },
        "sum" | "prod" | "mean" | "cumsum" | "cumprod" | "matmul" | "addmm" | "inner"
        | "tensordot" | "einsum" | "trace" | "var" | "std" | "median" | "linalg_norm"
        | "logsumexp" | "logcumsumexp" | "softmax" | "conv1d" | "conv2d" | "conv3d"
        | "conv_general" | "conv_transpose1d" | "conv_transpose2d" | "conv_transpose3d" => {
            Tol::Accum {
                rel_eps: if low { 4.0 } else { 64.0 },
                atol_eps: if low { 8.0 } else { 1024.0 },
            }
        }
        // arange/linspace: start + i * step in f32, rounded once more to the dtype
        "arange" | "linspace" => Tol::Ulp {
            ulps: if low { 1.0 } else { 2.0 },
            atol_eps: 1.0,
        },
        // MLX's CPU exp is a polynomial approximation good to about 3e-6 relative
        "exp" => Tol::Ulp {
            ulps: if low { 1.0 } else { 64.0 },
            atol_eps: if low { 1.0 } else { 8.0 },
        },
        // transcendental: approximations differ between MLX's CPU code, Rust's libm and GPU
        // drivers by a few ulp in f32; after rounding to f16/bf16 by at most one ulp
        _ => Tol::Ulp {
            ulps: if low { 1.0 } else { 16.0 },
            atol_eps: if low { 1.0 } else { 8.0 },
        },
    }
}

/// Whether `got` matches `want` (both raw bits of `dtype`) under `tol`.
pub fn element_ok(got: u32, want: u32, dtype: Dtype, tol: Tol) -> bool {
    if got == want {
        return true;
    }
    if !dtype.is_float() {
        return false;
    }
    let (g, w) = (value(got, dtype), value(want, dtype));
    if g.is_nan() || w.is_nan() {
        return g.is_nan() && w.is_nan();
    }
    if g.is_infinite() || w.is_infinite() {
        return false; // equal infinities have equal bits
    }
    let e = eps(dtype);
    let diff = (g - w).abs();
    match tol {
        Tol::Exact => false,
        Tol::Ulp { ulps, atol_eps } => diff <= ulps * e * (w.abs() + tiny(dtype)) + atol_eps * e,
        Tol::Accum { rel_eps, atol_eps } => diff <= rel_eps * e * w.abs() + atol_eps * e,
    }
}

/// Smallest normal number of a float dtype.
fn tiny(dtype: Dtype) -> f64 {
    match dtype {
        Dtype::Float16 => 6.103515625e-5,
        _ => 1.1754943508222875e-38,
    }
}

/// Renders bits of `dtype` as readable values for failure messages (at most 40).
pub fn show(bits: &[u32], dtype: Dtype) -> String {
    let v: Vec<String> = bits
        .iter()
        .take(40)
        .map(|&b| {
            let x = value(b, dtype);
            if dtype.is_float() && x == 0.0 && x.is_sign_negative() {
                "-0".to_string()
            } else {
                format!("{x}")
            }
        })
        .collect();
    let more = if bits.len() > 40 { " ..." } else { "" };
    format!("[{}{more}]", v.join(", "))
}

/// `[lo0, hi0, lo1, hi1, ...]` as pairs (for `pad`).
pub fn pairs(v: &[i32]) -> Vec<(i32, i32)> {
    v.chunks(2).map(|p| (p[0], p[1])).collect()
}

/// The fixture's pad mode; MLX's other modes (none so far) become wmx's error for them.
pub fn pad_mode(m: &str) -> wmx::Result<wmx::PadMode> {
    match m {
        "constant" => Ok(wmx::PadMode::Constant),
        "edge" => Ok(wmx::PadMode::Edge),
        "reflect" => Ok(wmx::PadMode::Reflect),
        "symmetric" => Ok(wmx::PadMode::Symmetric),
        _ => Err(wmx::Error::Value {
            op: "pad",
            msg: format!("unsupported mode {m}"),
        }),
    }
}

/// The convolution ops of the fixtures (`conv1d` ... `conv_transpose3d`, params as
/// tools/gen_conv_fixtures.py writes them), shared by the conformance and gradient dispatchers;
/// `None` for any other op.
#[rustfmt::skip]
pub fn conv_op(c: &Case, x: &[wmx::Array], d: wmx::Device) -> Option<wmx::Result<wmx::Array>> {
    Some(match c.op.as_str() {
        "conv1d" => wmx::conv1d(&x[0], &x[1], c.i32s("stride")[0], c.i32s("padding")[0], c.i32s("dilation")[0], c.i32("groups"), d),
        "conv2d" => {
            let (st, p, dl) = (c.i32s("stride"), c.i32s("padding"), c.i32s("dilation"));
            wmx::conv2d(&x[0], &x[1], (st[0], st[1]), (p[0], p[1]), (dl[0], dl[1]), c.i32("groups"), d)
        }
        "conv3d" => {
            let (st, p, dl) = (c.i32s("stride"), c.i32s("padding"), c.i32s("dilation"));
            wmx::conv3d(&x[0], &x[1], (st[0], st[1], st[2]), (p[0], p[1], p[2]), (dl[0], dl[1], dl[2]), c.i32("groups"), d)
        }
        "conv_general" => wmx::conv_general(&x[0], &x[1], &c.i32s("stride"), &c.i32s("padding_lo"), &c.i32s("padding_hi"),
            &c.i32s("kernel_dilation"), &c.i32s("input_dilation"), c.i32("groups"), c.bool("flip"), d),
        "conv_transpose1d" => wmx::conv_transpose1d(&x[0], &x[1], c.i32s("stride")[0], c.i32s("padding")[0], c.i32s("dilation")[0],
            c.i32s("output_padding")[0], c.i32("groups"), d),
        "conv_transpose2d" => {
            let (st, p, dl, op) = (c.i32s("stride"), c.i32s("padding"), c.i32s("dilation"), c.i32s("output_padding"));
            wmx::conv_transpose2d(&x[0], &x[1], (st[0], st[1]), (p[0], p[1]), (dl[0], dl[1]), (op[0], op[1]), c.i32("groups"), d)
        }
        "conv_transpose3d" => {
            let (st, p, dl, op) = (c.i32s("stride"), c.i32s("padding"), c.i32s("dilation"), c.i32s("output_padding"));
            wmx::conv_transpose3d(&x[0], &x[1], (st[0], st[1], st[2]), (p[0], p[1], p[2]), (dl[0], dl[1], dl[2]),
                (op[0], op[1], op[2]), c.i32("groups"), d)
        }
        _ => return None,
    })
}
