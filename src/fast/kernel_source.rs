//! The WGSL module of a `wgsl_kernel` call: the generated part (template constants and aliases,
//! the bindings, shape and stride helpers, the entry point with MLX's builtin names) around the
//! user's header and body, and its validation by naga with errors mapped back to the user's
//! lines. Pure text and naga: no wgpu, no arrays, no devices (`kernel.rs` decides what to ask).

use super::kernel::WgslKernel;
use super::kernel_call::TemplateArg;
use crate::dtype::Dtype;
use crate::error::{Error, Result, dtype_err, value_err};
use std::fmt::Write;

pub(crate) const OP: &str = "wgsl_kernel";

/// Words of the info table every kernel reads: the grid (threads) and the workgroups per
/// dimension of the logical grid; each input's shape and strides follow when the body uses them.
pub(crate) const INFO_GRID: usize = 0;
pub(crate) const INFO_GROUPS: usize = 3;
pub(crate) const INFO_INPUTS: usize = 6;

/// Builtins that make a kernel synchronise its workgroup: such kernels cannot let threads past
/// the grid return early (a barrier must be reached by the whole workgroup).
const BARRIERS: [&str; 4] = [
    "workgroupBarrier",
    "storageBarrier",
    "textureBarrier",
    "workgroupUniformLoad",
];

/// MLX's names for the position builtins, as the entry point defines them.
pub(crate) const BUILTINS: [&str; 9] = [
    "thread_position_in_grid",
    "thread_position_in_threadgroup",
    "threadgroup_position_in_grid",
    "threads_per_threadgroup",
    "dispatch_threads_per_threadgroup",
    "threadgroups_per_grid",
    "grid_size",
    "threads_per_grid",
    "thread_index_in_threadgroup",
];

/// True for a WGSL identifier wmx may declare: ASCII letters, digits and `_`, not starting
/// with a digit, `__` or wmx's reserved `wmx_` prefix, and not a WGSL keyword or reserved word.
pub(crate) fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s != "_"
        && !s.starts_with("__")
        && !s.starts_with("wmx_")
        && !naga::keywords::wgsl::RESERVED.contains(&s)
}

/// True when `text` uses `word` as a whole identifier (MLX looks for plain substrings; this
/// also skips `x_shape` inside `max_shape`).
pub(crate) fn mentions(text: &str, word: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        !text[..at].chars().next_back().is_some_and(ident)
            && !text[at + word.len()..].chars().next().is_some_and(ident)
    })
}

/// True when the kernel synchronises its workgroup (see [`BARRIERS`]).
pub(crate) fn uses_barriers(k: &WgslKernel) -> bool {
    BARRIERS
        .iter()
        .any(|b| mentions(&k.source, b) || mentions(&k.header, b))
}

/// The WGSL type of a dtype in a binding, or a clear error for dtypes WGSL cannot index.
pub(crate) fn wgsl_type(name: &str, what: &str, d: Dtype) -> Result<&'static str> {
    match d {
        Dtype::Float32 => Ok("f32"),
        Dtype::Int32 => Ok("i32"),
        Dtype::Uint32 => Ok("u32"),
        Dtype::Float16 => Ok("f16"),
        Dtype::Bool | Dtype::Uint8 | Dtype::Bfloat16 => Err(dtype_err(
            OP,
            format!(
                "{name}: {what} has dtype {d:?}, which WGSL cannot address per element; kernels \
                 take float32, int32, uint32 and float16 (cast with astype first)."
            ),
        )),
    }
}

/// The WGSL type of a dtype template argument (`bool` is a valid function-scope type).
fn alias_type(name: &str, arg: &str, d: Dtype) -> Result<&'static str> {
    match d {
        Dtype::Bool => Ok("bool"),
        _ => wgsl_type(name, &format!("template argument `{arg}`"), d),
    }
}

/// One input as the module declares it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct InputSig {
    pub dtype: Dtype,
    pub ndim: usize,
}

/// What shape metadata input `name` needs: (`_shape`/`_strides`/`_loc` used, `_ndim` used).
fn needs(k: &WgslKernel, name: &str) -> (bool, bool) {
    let body = |s: &str| mentions(&k.source, &format!("{name}{s}"));
    let both = |s: &str| body(s) || mentions(&k.header, &format!("{name}{s}"));
    (
        body("_shape") || body("_strides") || both("_loc"),
        both("_ndim"),
    )
}

/// The info-table word where each input's shape starts (its strides follow), for inputs whose
/// shape the kernel reads; `None` for the others. The GPU side writes the table in this order.
pub(crate) fn info_layout(k: &WgslKernel, inputs: &[InputSig]) -> Vec<Option<usize>> {
    let mut at = INFO_INPUTS;
    k.input_names
        .iter()
        .zip(inputs)
        .map(|(name, sig)| {
            (needs(k, name).0 && sig.ndim > 0).then(|| {
                let here = at;
                at += 2 * sig.ndim;
                here
            })
        })
        .collect()
}

/// A rendered module and where the user's text sits in it (1-based lines).
#[derive(Clone, Debug)]
pub(crate) struct Module {
    pub source: String,
    pub entry: String,
    header: (usize, usize),
    body: (usize, usize),
}

/// Appends `text` and returns the line it starts on (1-based) and its number of lines.
fn place(out: &mut String, text: &str) -> (usize, usize) {
    let start = out.lines().count() + 1;
    let n = text.lines().count();
    out.push_str(text);
    if !text.ends_with('\n') {
        out.push('\n');
    }
    (start, n)
}

/// A `const` or `alias` line for one template argument.
fn template_line(name: &str, arg_name: &str, arg: &TemplateArg) -> Result<String> {
    Ok(match arg {
        TemplateArg::Int(v) => format!("const {arg_name}: i32 = {v};"),
        TemplateArg::Uint(v) => format!("const {arg_name}: u32 = {v}u;"),
        TemplateArg::Bool(v) => format!("const {arg_name}: bool = {v};"),
        TemplateArg::Float(v) if v.is_finite() => format!("const {arg_name}: f32 = {v:?};"),
        TemplateArg::Float(v) => {
            return Err(value_err(
                OP,
                format!(
                    "{name}: template argument `{arg_name}` is {v}; WGSL constants must be finite."
                ),
            ));
        }
        TemplateArg::Dtype(d) => format!("alias {arg_name} = {};", alias_type(name, arg_name, *d)?),
    })
}

/// True when the module needs `enable f16;`.
fn uses_f16(inputs: &[InputSig], outputs: &[Dtype], template: &[(String, TemplateArg)]) -> bool {
    inputs.iter().any(|i| i.dtype == Dtype::Float16)
        || outputs.contains(&Dtype::Float16)
        || template
            .iter()
            .any(|(_, a)| *a == TemplateArg::Dtype(Dtype::Float16))
}

/// The complete module of kernel `k` for inputs `inputs`, outputs of `outputs` dtypes,
/// `template` arguments and a workgroup of `workgroup` threads. With `guard`, threads past the
/// grid return before the body (kernels with barriers run whole workgroups instead).
pub(crate) fn render(
    k: &WgslKernel,
    inputs: &[InputSig],
    outputs: &[Dtype],
    template: &[(String, TemplateArg)],
    workgroup: [u32; 3],
    guard: bool,
) -> Result<Module> {
    let name = &k.name;
    let mut m = String::new();
    if uses_f16(inputs, outputs, template) {
        m.push_str("enable f16;\n");
    }
    let _ = writeln!(
        m,
        "// wgsl_kernel `{name}`, generated by wmx: template arguments, bindings, header, then \
         the entry point around the source."
    );
    if !template.is_empty() {
        m.push_str("// ---- template ----\n");
        for (arg_name, arg) in template {
            let _ = writeln!(m, "{}", template_line(name, arg_name, arg)?);
        }
    }
    m.push_str("// ---- bindings ----\n");
    m.push_str("@group(0) @binding(0) var<storage, read> wmx_info: array<u32>;\n");
    let layout = info_layout(k, inputs);
    let mut binding = 1;
    for (i, (in_name, sig)) in k.input_names.iter().zip(inputs).enumerate() {
        let t = wgsl_type(name, &format!("input `{in_name}`"), sig.dtype)?;
        let ty = if sig.ndim == 0 {
            t.to_string()
        } else {
            format!("array<{t}>")
        };
        let _ = writeln!(
            m,
            "@group(0) @binding({binding}) var<storage, read> {in_name}: {ty};"
        );
        binding += 1;
        if needs(k, in_name).1 {
            let _ = writeln!(m, "const {in_name}_ndim: u32 = {}u;", sig.ndim);
        }
        if let Some(at) = layout[i] {
            write_loc(&mut m, in_name, at, sig.ndim);
        }
    }
    for (out_name, &d) in k.output_names.iter().zip(outputs) {
        let t = wgsl_type(name, &format!("output `{out_name}`"), d)?;
        let ty = match (k.atomic_outputs, d) {
            (false, _) => format!("array<{t}>"),
            (true, Dtype::Int32) => "array<atomic<i32>>".to_string(),
            // WGSL has no float atomics: f32 outputs hold their bits in u32 atomics.
            (true, Dtype::Uint32 | Dtype::Float32) => "array<atomic<u32>>".to_string(),
            (true, _) => {
                return Err(dtype_err(
                    OP,
                    format!(
                        "{name}: atomic output `{out_name}` has dtype {d:?}; WGSL atomics hold \
                         int32 and uint32 (float32 outputs are given as atomic<u32> bits)."
                    ),
                ));
            }
        };
        let _ = writeln!(
            m,
            "@group(0) @binding({binding}) var<storage, read_write> {out_name}: {ty};"
        );
        binding += 1;
    }
    m.push_str("// ---- header ----\n");
    let header = place(&mut m, &k.header);
    write_entry_open(&mut m, k, inputs, &layout, workgroup, guard);
    m.push_str("// ---- source ----\n");
    let body = place(&mut m, &k.source);
    m.push_str("    }\n}\n");
    Ok(Module {
        source: m,
        entry: entry_name(name),
        header,
        body,
    })
}

/// The entry point's name for kernel `name`.
pub(crate) fn entry_name(name: &str) -> String {
    format!("custom_kernel_{name}")
}

/// `fn <name>_loc(elem)`: the buffer index of row-major element `elem` of a strided input
/// (MLX's `elem_to_loc`), reading the input's shape and strides from the info table.
fn write_loc(m: &mut String, name: &str, at: usize, ndim: usize) {
    let _ = writeln!(
        m,
        "fn {name}_loc(elem: u32) -> u32 {{\n    \
             var rest = elem;\n    \
             var loc = 0u;\n    \
             for (var d = {ndim}u; d > 0u; d--) {{\n        \
                 let n = wmx_info[{at}u + d - 1u];\n        \
                 loc += (rest % n) * wmx_info[{}u + d - 1u];\n        \
                 rest /= n;\n    \
             }}\n    \
             return loc;\n\
         }}",
        at + ndim
    );
}

/// The entry point up to the user's source: builtins under MLX's names, the grid guards, the
/// shape and stride arrays the body uses, then an open block for the body (so its declarations
/// may shadow these names).
fn write_entry_open(
    m: &mut String,
    k: &WgslKernel,
    inputs: &[InputSig],
    layout: &[Option<usize>],
    wg: [u32; 3],
    guard: bool,
) {
    let [x, y, z] = wg;
    let (g, n) = (INFO_GRID, INFO_GROUPS);
    let _ = writeln!(
        m,
        "// ---- entry point ----\n\
         @compute @workgroup_size({x}, {y}, {z})\n\
         fn {}(\n    \
             @builtin(workgroup_id) wmx_wid: vec3<u32>,\n    \
             @builtin(num_workgroups) wmx_nwg: vec3<u32>,\n    \
             @builtin(local_invocation_id) wmx_lid: vec3<u32>,\n    \
             @builtin(local_invocation_index) wmx_lix: u32,\n\
         ) {{",
        entry_name(&k.name)
    );
    // Every binding must be used, or the pipeline's layout would leave it out.
    for (in_name, sig) in k.input_names.iter().zip(inputs) {
        if sig.ndim == 0 {
            let _ = writeln!(m, "    _ = {in_name};");
        } else {
            let _ = writeln!(m, "    _ = arrayLength(&{in_name});");
        }
    }
    for out_name in &k.output_names {
        let _ = writeln!(m, "    _ = arrayLength(&{out_name});");
    }
    // The logical workgroup grid may be folded into a 2-D dispatch (see `kernel.rs`): padding
    // workgroups (uniform per workgroup) return, the rest recover their logical position.
    let _ = writeln!(
        m,
        "    let threadgroups_per_grid = vec3<u32>(wmx_info[{n}], wmx_info[{}], wmx_info[{}]);\n    \
             let wmx_group = wmx_wid.x + wmx_nwg.x * (wmx_wid.y + wmx_nwg.y * wmx_wid.z);\n    \
             let wmx_per_layer = threadgroups_per_grid.x * threadgroups_per_grid.y;\n    \
             if wmx_group >= wmx_per_layer * threadgroups_per_grid.z {{\n        \
                 return;\n    \
             }}\n    \
             let threadgroup_position_in_grid = vec3<u32>(\n        \
                 wmx_group % threadgroups_per_grid.x,\n        \
                 (wmx_group / threadgroups_per_grid.x) % threadgroups_per_grid.y,\n        \
                 wmx_group / wmx_per_layer,\n    \
             );\n    \
             let threads_per_threadgroup = vec3<u32>({x}u, {y}u, {z}u);\n    \
             let dispatch_threads_per_threadgroup = threads_per_threadgroup;\n    \
             let thread_position_in_threadgroup = wmx_lid;\n    \
             let thread_index_in_threadgroup = wmx_lix;\n    \
             let thread_position_in_grid = threadgroup_position_in_grid * threads_per_threadgroup + wmx_lid;\n    \
             let grid_size = vec3<u32>(wmx_info[{g}], wmx_info[{}], wmx_info[{}]);\n    \
             let threads_per_grid = grid_size;",
        n + 1,
        n + 2,
        g + 1,
        g + 2
    );
    if guard {
        m.push_str("    if any(thread_position_in_grid >= grid_size) {\n        return;\n    }\n");
    }
    for ((in_name, sig), at) in k.input_names.iter().zip(inputs).zip(layout) {
        let Some(at) = at else { continue };
        let words = |from: usize| {
            (from..from + sig.ndim)
                .map(|w| format!("wmx_info[{w}]"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let nd = sig.ndim;
        let _ = writeln!(
            m,
            "    let {in_name}_shape = array<u32, {nd}>({});\n    \
                 let {in_name}_strides = array<u32, {nd}>({});",
            words(*at),
            words(at + nd)
        );
    }
    m.push_str("    {\n");
}

/// Where a module line is for the user (and whether it is one of the user's own lines).
fn locate(module: &Module, line: usize) -> (String, bool) {
    let within =
        |(start, n): (usize, usize)| (line >= start && line < start + n).then(|| line - start + 1);
    let (header_end, body_start) = (module.header.0 + module.header.1, module.body.0);
    if let Some(l) = within(module.body) {
        (format!("line {l} of the source"), true)
    } else if let Some(l) = within(module.header) {
        (format!("line {l} of the header"), true)
    } else if line == module.body.0 + module.body.1 {
        // The body's block closes here: an unfinished last statement shows up on this line.
        ("the end of the source".to_string(), false)
    } else if line >= header_end && line < body_start && module.header.1 > 0 {
        let at = "just after the header (is its last declaration complete?)";
        (at.to_string(), false)
    } else {
        let at =
            format!("line {line} of the generated module (print it with `KernelCall::verbose`)");
        (at, true)
    }
}

/// Validates `module` with naga (the capabilities the device grants: f16 when native) and
/// returns an error naming the user's line when it is invalid.
pub(crate) fn validate(name: &str, module: &Module, native_f16: bool) -> Result<()> {
    let src = &module.source;
    let fail = |loc: Option<naga::SourceLocation>, msg: String| -> Error {
        let at = match loc {
            Some(l) => {
                let (at, quote) = locate(module, l.line_number as usize);
                let text = src
                    .lines()
                    .nth(l.line_number.saturating_sub(1) as usize)
                    .unwrap_or("")
                    .trim();
                if quote {
                    format!("{at}: {msg}\n    {text}")
                } else {
                    format!("{at}: {msg}")
                }
            }
            None => msg,
        };
        value_err(OP, format!("{name}: {at}"))
    };
    let parsed = naga::front::wgsl::parse_str(src).map_err(|e| {
        let mut msg = e.message().to_string();
        for (_, label) in e.labels().filter(|(_, l)| !l.is_empty()).take(1) {
            let _ = write!(msg, " ({label})");
        }
        fail(e.location(src), msg)
    })?;
    let caps = if native_f16 {
        naga::valid::Capabilities::SHADER_FLOAT16
            | naga::valid::Capabilities::SHADER_FLOAT16_IN_FLOAT32
    } else {
        naga::valid::Capabilities::empty()
    };
    naga::valid::Validator::new(naga::valid::ValidationFlags::all(), caps)
        .validate(&parsed)
        .map_err(|e| {
            let mut msg = String::new();
            let mut cur: Option<&dyn std::error::Error> = Some(e.as_inner());
            while let Some(c) = cur {
                if !msg.is_empty() {
                    msg.push_str(": ");
                }
                let _ = write!(msg, "{c}");
                cur = c.source();
            }
            // The innermost span is the most precise.
            let loc = e
                .spans()
                .filter(|(span, _)| span.is_defined())
                .map(|(span, _)| span.location(src))
                .last();
            fail(loc, msg)
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_whole_identifiers_only() {
        assert!(mentions("let n = inp_shape[0];", "inp_shape"));
        assert!(!mentions("let n = myinp_shape[0];", "inp_shape"));
        assert!(!mentions("let n = inp_shapes;", "inp_shape"));
        assert!(mentions("inp_shape", "inp_shape"));
    }

    #[test]
    fn identifiers() {
        assert!(is_ident("x") && is_ident("_x1") && is_ident("T"));
        for bad in [
            "", "1x", "a-b", "__x", "wmx_info", "_", "é", "meta", "let", "new",
        ] {
            assert!(!is_ident(bad), "{bad}");
        }
    }
}
