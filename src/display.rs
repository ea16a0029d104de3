//! `Display` for arrays in MLX's format: `array([[1, 2],\n       [3, 4]], dtype=int32)`, floats
//! as C++ streams print them (6 significant digits, `%g`), long axes summarised
//! with `...` and 3 edge items on every axis longer than 6. Displaying evaluates the array.

use crate::array::Array;
use crate::dtype::Dtype;
use std::fmt;

/// `%g` with 6 significant digits, as `std::ostream` prints a float.
fn fmt_g(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let exp = x.abs().log10().floor() as i32;
    // Rounding to 6 digits can carry into the next power of ten.
    let sci = format!("{:.5e}", x);
    let (mant, e) = sci.split_once('e').unwrap_or((&sci, "0"));
    let e: i32 = e.parse().unwrap_or(exp);
    if !(-4..6).contains(&e) {
        let m = trim(mant);
        return format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
    }
    let decimals = (5 - e).max(0) as usize;
    trim(&format!("{:.*}", decimals, x))
}

fn trim(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

fn element(v: f64, dt: Dtype) -> String {
    match dt {
        Dtype::Bool => {
            if v != 0.0 {
                "True".into()
            } else {
                "False".into()
            }
        }
        Dtype::Uint8 | Dtype::Uint32 | Dtype::Int32 => format!("{}", v as i64),
        Dtype::Float16 | Dtype::Bfloat16 | Dtype::Float32 => fmt_g(v),
    }
}

const EDGE: usize = 3;

fn write_dims(out: &mut String, vals: &[f64], shape: &[i32], dt: Dtype, depth: usize) {
    if shape.is_empty() {
        out.push_str(&element(vals[0], dt));
        return;
    }
    let n = shape[0] as usize;
    let inner: usize = shape[1..].iter().map(|&d| d as usize).product();
    let indent = " ".repeat(7 + depth);
    out.push('[');
    // Like MLX, every axis longer than 2 * EDGE is summarised, whatever the total size.
    let idx: Vec<Option<usize>> = if n > 2 * EDGE {
        (0..EDGE)
            .map(Some)
            .chain(std::iter::once(None))
            .chain((n - EDGE..n).map(Some))
            .collect()
    } else {
        (0..n).map(Some).collect()
    };
    for (k, i) in idx.iter().enumerate() {
        if k > 0 {
            if shape.len() > 1 {
                out.push_str(",\n");
                out.push_str(&indent);
            } else {
                out.push_str(", ");
            }
        }
        match i {
            None if shape.len() > 1 => out.push_str("..."),
            None => out.push_str("..."),
            Some(i) => write_dims(
                out,
                &vals[i * inner..(i + 1) * inner],
                &shape[1..],
                dt,
                depth + 1,
            ),
        }
    }
    out.push(']');
}

impl fmt::Display for Array {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let vals: Vec<f64> = match self.to_vec::<f32>() {
            Ok(v) if !matches!(self.dtype(), Dtype::Int32 | Dtype::Uint32) => {
                v.into_iter().map(|x| x as f64).collect()
            }
            Ok(_) if self.dtype() == Dtype::Uint32 => match self.to_vec::<u32>() {
                Ok(v) => v.into_iter().map(|x| x as f64).collect(),
                Err(e) => return write!(f, "<error: {e}>"),
            },
            Ok(_) => match self.to_vec::<i32>() {
                Ok(v) => v.into_iter().map(|x| x as f64).collect(),
                Err(e) => return write!(f, "<error: {e}>"),
            },
            Err(e) => return write!(f, "<error: {e}>"),
        };
        let mut out = String::from("array(");
        if self.size() == 0 && self.ndim() == 0 {
            out.push_str("[]");
        } else {
            write_dims(&mut out, &vals, self.shape(), self.dtype(), 0);
        }
        write!(f, "{out}, dtype={})", self.dtype())
    }
}

#[cfg(test)]
mod tests {
    use super::fmt_g;

    #[test]
    fn g_format_matches_cpp_streams() {
        assert_eq!(fmt_g(1.0), "1");
        assert_eq!(fmt_g(2.5), "2.5");
        assert_eq!(fmt_g(1e-5), "1e-05");
        assert_eq!(fmt_g(1e6), "1e+06");
        assert_eq!(fmt_g(1.23456789), "1.23457");
        assert_eq!(fmt_g(123456789.0), "1.23457e+08");
        assert_eq!(fmt_g(0.0001), "0.0001");
        assert_eq!(fmt_g(100.5), "100.5");
        assert_eq!(fmt_g(999999.5), "1e+06");
    }
}
