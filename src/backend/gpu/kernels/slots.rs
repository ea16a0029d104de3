//! Dtype-to-WGSL building blocks shared by the families' preludes: storage and compute types,
//! input and output slots (element-wise and quad-wise), packing expressions, casts and literals.
//! Pure text: no wgpu, no family knowledge.

use crate::dtype::{Domain, Dtype};
use std::fmt::Write;

/// f32 to bf16 bits, rounding to nearest even.
pub(super) const BF16_ROUND: &str = include_str!("../../../../shaders/bf16_round.wgsl");

/// The dtype's short name in kernel names (`f32`, `bf16`, `u8`...).
pub(super) fn short(d: Dtype) -> &'static str {
    match d {
        Dtype::Bool => "bool",
        Dtype::Uint8 => "u8",
        Dtype::Uint32 => "u32",
        Dtype::Int32 => "i32",
        Dtype::Float16 => "f16",
        Dtype::Bfloat16 => "bf16",
        Dtype::Float32 => "f32",
    }
}

/// True when kernels may write single elements of `d` (no packing): 32-bit dtypes, and f16 when
/// the device has native f16.
pub fn unpacked(d: Dtype, native_f16: bool) -> bool {
    d.size() == 4 || (d == Dtype::Float16 && native_f16)
}

/// The dtype a packed dtype is widened to for kernels that write single elements.
pub fn widen(d: Dtype, native_f16: bool) -> Dtype {
    if unpacked(d, native_f16) {
        return d;
    }
    match d.domain() {
        Domain::Float => Dtype::Float32,
        Domain::Bool | Domain::Uint => Dtype::Uint32,
        Domain::Int => Dtype::Int32,
    }
}

pub(super) fn compute_type(d: Domain) -> &'static str {
    match d {
        Domain::Float => "f32",
        Domain::Int => "i32",
        Domain::Uint => "u32",
        Domain::Bool => "bool",
    }
}

pub(super) fn storage_type(d: Dtype, native_f16: bool) -> &'static str {
    match d {
        Dtype::Float32 => "f32",
        Dtype::Int32 => "i32",
        Dtype::Uint32 => "u32",
        Dtype::Float16 if native_f16 => "f16",
        Dtype::Float16 | Dtype::Bfloat16 | Dtype::Uint8 | Dtype::Bool => "u32",
    }
}

/// Elements per storage word of `d` on this device.
pub fn per_word(d: Dtype, native_f16: bool) -> u32 {
    if unpacked(d, native_f16) {
        1
    } else {
        d.per_word() as u32
    }
}

/// `alias S_X`, `alias C_X` and `fn load_x(i) -> C_X` for an input binding named `slot`.
pub(super) fn input_slot(p: &mut String, slot: &str, d: Dtype, native_f16: bool) {
    let up = slot.to_uppercase();
    let body = match d {
        Dtype::Float32 | Dtype::Int32 | Dtype::Uint32 => format!("{slot}[i]"),
        Dtype::Float16 if native_f16 => format!("f32({slot}[i])"),
        Dtype::Float16 => {
            format!("wmx_f16_to_f32(({slot}[i >> 1u] >> ((i & 1u) * 16u)) & 0xffffu)")
        }
        Dtype::Bfloat16 => {
            format!("bitcast<f32>((({slot}[i >> 1u] >> ((i & 1u) * 16u)) & 0xffffu) << 16u)")
        }
        Dtype::Uint8 => format!("({slot}[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu"),
        Dtype::Bool => format!("(({slot}[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu) != 0u"),
    };
    let _ = writeln!(p, "alias S_{up} = {};", storage_type(d, native_f16));
    let _ = writeln!(p, "alias C_{up} = {};", compute_type(d.domain()));
    let _ = writeln!(p, "fn load_{slot}(i: u32) -> C_{up} {{ return {body}; }}");
    // Quad-layout entry points share the family's module: element-wise stand-ins.
    let _ = writeln!(
        p,
        "fn load4_{slot}(q: u32) -> vec4<C_{up}> {{ let i = q * 4u; \
         return vec4<C_{up}>(load_{slot}(i), load_{slot}(i + 1u), load_{slot}(i + 2u), load_{slot}(i + 3u)); }}"
    );
}

/// WGSL expression of the storage word holding the values `{v}[0..per_word]` of dtype `d`
/// (`v` is an indexable expression: an array or a vector).
pub(super) fn word_expr(d: Dtype, native_f16: bool, v: &str) -> String {
    match d {
        Dtype::Float32 | Dtype::Int32 | Dtype::Uint32 => format!("{v}[0]"),
        Dtype::Float16 if native_f16 => format!("f16({v}[0])"),
        Dtype::Float16 => format!("wmx_f32_to_f16({v}[0]) | (wmx_f32_to_f16({v}[1]) << 16u)"),
        Dtype::Bfloat16 => format!("wmx_bf16({v}[0]) | (wmx_bf16({v}[1]) << 16u)"),
        Dtype::Uint8 => format!(
            "({v}[0] & 0xffu) | (({v}[1] & 0xffu) << 8u) | (({v}[2] & 0xffu) << 16u) | ({v}[3] << 24u)"
        ),
        Dtype::Bool => format!(
            "select(0u, 1u, {v}[0]) | (select(0u, 1u, {v}[1]) << 8u) | (select(0u, 1u, {v}[2]) << 16u) | (select(0u, 1u, {v}[3]) << 24u)"
        ),
    }
}

/// Storage type of one quad (four elements) of `d`: a vec4 of 32-bit or native f16 elements,
/// a vec2<u32> of packed halves, or one u32 of four bytes.
pub(super) fn quad_type(d: Dtype, native_f16: bool) -> String {
    match per_word(d, native_f16) {
        1 => format!("vec4<{}>", storage_type(d, native_f16)),
        2 => "vec2<u32>".into(),
        _ => "u32".into(),
    }
}

/// An input bound as quads: `load4_<slot>(q) -> vec4<C_X>` reads quad `q` in one access, and
/// `load_<slot>(i)` element `i` through it.
pub(super) fn quad_input_slot(p: &mut String, slot: &str, d: Dtype, native_f16: bool) {
    let up = slot.to_uppercase();
    let c = compute_type(d.domain());
    let body = match d {
        Dtype::Float32 | Dtype::Int32 | Dtype::Uint32 => format!("return {slot}[q];"),
        Dtype::Float16 if native_f16 => format!("return vec4<f32>({slot}[q]);"),
        Dtype::Float16 => format!(
            "let w = {slot}[q]; return vec4<f32>(wmx_f16_to_f32(w.x & 0xffffu),              wmx_f16_to_f32(w.x >> 16u), wmx_f16_to_f32(w.y & 0xffffu), wmx_f16_to_f32(w.y >> 16u));"
        ),
        Dtype::Bfloat16 => format!(
            "let w = {slot}[q]; return vec4<f32>(bitcast<f32>(w.x << 16u),              bitcast<f32>(w.x & 0xffff0000u), bitcast<f32>(w.y << 16u), bitcast<f32>(w.y & 0xffff0000u));"
        ),
        Dtype::Uint8 => format!(
            "return (vec4<u32>({slot}[q]) >> vec4<u32>(0u, 8u, 16u, 24u)) & vec4<u32>(0xffu);"
        ),
        Dtype::Bool => format!(
            "return ((vec4<u32>({slot}[q]) >> vec4<u32>(0u, 8u, 16u, 24u)) & vec4<u32>(0xffu)) != vec4<u32>(0u);"
        ),
    };
    let _ = writeln!(p, "alias S_{up} = {};", quad_type(d, native_f16));
    let _ = writeln!(p, "alias C_{up} = {c};");
    let _ = writeln!(p, "fn load4_{slot}(q: u32) -> vec4<{c}> {{ {body} }}");
    let _ = writeln!(
        p,
        "fn load_{slot}(i: u32) -> C_{up} {{ return load4_{slot}(i >> 2u)[i & 3u]; }}"
    );
}

/// The output bound as quads: `store4_out(q, v)` writes quad `q` in one access; `store_out(w, v)`
/// (word `w`) and, when unpacked, `store_out1(i, v)` write through it. The vec4 matmul binds its
/// operands and output this way too.
pub(super) fn quad_output_slot(p: &mut String, d: Dtype, native_f16: bool) {
    let n = per_word(d, native_f16);
    let c = compute_type(d.domain());
    let quad = match n {
        1 if d == Dtype::Float16 => "vec4<f16>(v)".to_string(),
        1 => "v".to_string(),
        2 => format!(
            "vec2<u32>({}, {})",
            word_expr(d, native_f16, "v.xy"),
            word_expr(d, native_f16, "v.zw")
        ),
        _ => word_expr(d, native_f16, "v"),
    };
    let _ = writeln!(p, "alias S_OUT = {};", quad_type(d, native_f16));
    let _ = writeln!(p, "alias C_OUT = {c};");
    let _ = writeln!(p, "const OUT_PER_WORD: u32 = {n}u;");
    let _ = writeln!(
        p,
        "fn store4_out(q: u32, v: vec4<C_OUT>) {{ out[q] = {quad}; }}"
    );
    let word = word_expr(d, native_f16, "v");
    let store = match n {
        1 => format!("out[w >> 2u][w & 3u] = {word};"),
        2 => format!("out[w >> 1u][w & 1u] = {word};"),
        _ => format!("out[w] = {word};"),
    };
    let _ = writeln!(
        p,
        "fn store_out(w: u32, v: array<C_OUT, OUT_PER_WORD>) {{ {store} }}"
    );
    if n == 1 {
        let one = if d == Dtype::Float16 { "f16(v)" } else { "v" };
        let _ = writeln!(
            p,
            "fn store_out1(i: u32, v: C_OUT) {{ out[i >> 2u][i & 3u] = {one}; }}"
        );
    }
    bf16_packer(p, d);
}

pub(super) fn bf16_packer(p: &mut String, d: Dtype) {
    if d == Dtype::Bfloat16 {
        p.push_str(BF16_ROUND);
    }
}

/// `alias S_OUT`, `alias C_OUT`, `OUT_PER_WORD` and the store helpers for the output.
pub(super) fn output_slot(p: &mut String, d: Dtype, native_f16: bool) {
    let n = per_word(d, native_f16);
    let word = word_expr(d, native_f16, "v");
    let _ = writeln!(p, "alias S_OUT = {};", storage_type(d, native_f16));
    let _ = writeln!(p, "alias C_OUT = {};", compute_type(d.domain()));
    let _ = writeln!(p, "const OUT_PER_WORD: u32 = {n}u;");
    let _ = writeln!(
        p,
        "fn store_out(w: u32, v: array<C_OUT, OUT_PER_WORD>) {{ out[w] = {word}; }}"
    );
    // Quad-layout entry points share the family's module: a word-wise stand-in.
    let quad = match n {
        1 => "for (var j = 0u; j < 4u; j++) { store_out(q * 4u + j, array<C_OUT, 1>(v[j])); }",
        2 => {
            "store_out(q * 2u, array<C_OUT, 2>(v.x, v.y)); store_out(q * 2u + 1u, array<C_OUT, 2>(v.z, v.w));"
        }
        _ => "store_out(q, array<C_OUT, 4>(v.x, v.y, v.z, v.w));",
    };
    let _ = writeln!(p, "fn store4_out(q: u32, v: vec4<C_OUT>) {{ {quad} }}");
    if unpacked(d, native_f16) {
        let one = if d == Dtype::Float16 { "f16(v)" } else { "v" };
        let _ = writeln!(p, "fn store_out1(i: u32, v: C_OUT) {{ out[i] = {one}; }}");
    }
    bf16_packer(p, d);
}

/// The prelude of the accumulating families (reduce, scan): the input slot, the unpacked
/// accumulator as output, `to_acc`, `combine` (WGSL in `a`, `b`) and `identity()`.
pub(super) fn accumulator_prelude(
    p: &mut String,
    input: Dtype,
    acc: Dtype,
    combine: &str,
    identity: f64,
    native_f16: bool,
    quads: bool,
) {
    if quads {
        quad_input_slot(p, "in0", input, native_f16);
    } else {
        input_slot(p, "in0", input, native_f16);
    }
    output_slot(p, acc, native_f16);
    let ad = acc.domain();
    let _ = writeln!(
        p,
        "fn to_acc(x: C_IN0) -> C_OUT {{ return {}; }}",
        cast_expr(input.domain(), ad)
    );
    let _ = writeln!(
        p,
        "fn combine(a: C_OUT, b: C_OUT) -> C_OUT {{ return {combine}; }}"
    );
    // A function, not a `const`: ±inf is not a WGSL constant (see `wmx_inf` in prelude.wgsl).
    let _ = writeln!(
        p,
        "fn identity() -> C_OUT {{ return {}; }}",
        literal(identity, ad)
    );
}

/// WGSL expression converting `x` of domain `from` to domain `to` (astype's rules).
pub(super) fn cast_expr(from: Domain, to: Domain) -> &'static str {
    use Domain::*;
    match (from, to) {
        (Float, Float) | (Int, Int) | (Uint, Uint) | (Bool, Bool) => "x",
        (Float, Int) => "i32(x)",
        // Negative floats wrap like C's conversion through a signed integer.
        (Float, Uint) => "select(u32(x), bitcast<u32>(i32(x)), x < 0.0)",
        // By bits: NaN is true, and some compilers fold `NaN != 0.0` to false.
        (Float, Bool) => "(bitcast<u32>(x) & 0x7fffffffu) != 0u",
        // Integer to float with integer ops: round to nearest even whatever the GPU's mode.
        (Int, Float) => "wmx_i32_to_f32(x)",
        (Uint, Float) => "wmx_u32_to_f32(x)",
        (Int, Uint) => "bitcast<u32>(x)",
        (Uint, Int) => "bitcast<i32>(x)",
        (Int, Bool) => "x != 0",
        (Uint, Bool) => "x != 0u",
        (Bool, Float) => "select(0.0, 1.0, x)",
        (Bool, Int) => "select(0, 1, x)",
        (Bool, Uint) => "select(0u, 1u, x)",
    }
}

/// WGSL literal of `v` in the compute type of domain `d`.
pub(super) fn literal(v: f64, d: Domain) -> String {
    match d {
        Domain::Float if v == f64::INFINITY => "wmx_inf()".into(),
        Domain::Float if v == f64::NEG_INFINITY => "-wmx_inf()".into(),
        Domain::Float => format!("{v:?}"),
        Domain::Int if v == i32::MIN as f64 => "i32(-2147483647 - 1)".into(),
        Domain::Int => format!("i32({})", v as i64),
        Domain::Uint => format!("{}u", v as u64),
        Domain::Bool => (v != 0.0).to_string(),
    }
}
