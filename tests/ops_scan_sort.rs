//! Scans, sorting and statistics on CPU and GPU against MLX-computed literals (and obvious
//! references for long rows): cumsum, cumprod, cummax, cummin, logcumsumexp with every
//! reverse/inclusive combination along each axis and flattened, strided inputs, MLX's result
//! dtypes; sort/argsort (NaN last, ties stable, -0.0 == 0.0) in every dtype, along any axis, for
//! many short rows and long rows (multi-tile GPU sort with merge passes); partition,
//! argpartition, topk; searchsorted; var, std, median; and bad inputs.

mod common;
use common::{assert_close, make, values};
use wmx::{self as mx, Array, Device, Dtype};

const NAN: f64 = f64::NAN;
const PI: f64 = f64::INFINITY;
const NI: f64 = f64::NEG_INFINITY;

type ScanFn = fn(&Array, Option<i32>, bool, bool, Device) -> wmx::Result<Array>;

fn scan_fn(name: &str) -> ScanFn {
    match name {
        "cumsum" => |a, ax, r, i, d| mx::cumsum(a, ax, r, i, d),
        "cumprod" => |a, ax, r, i, d| mx::cumprod(a, ax, r, i, d),
        "cummax" => |a, ax, r, i, d| mx::cummax(a, ax, r, i, d),
        "cummin" => |a, ax, r, i, d| mx::cummin(a, ax, r, i, d),
        _ => |a, ax, r, i, d| mx::logcumsumexp(a, ax, r, i, d),
    }
}

/// Tolerance name for a scan (logcumsumexp is transcendental, the others sum-like).
fn tol_name(name: &str) -> &'static str {
    if name == "logcumsumexp" {
        "logsumexp"
    } else {
        "sum"
    }
}

/// [[2, -1, 3, 0.5], [4, 1, -2, 2]] dense, and the same values as a transposed view.
fn scan_input(dev: Device) -> [Array; 2] {
    let v = [2.0, -1.0, 3.0, 0.5, 4.0, 1.0, -2.0, 2.0];
    let dense = make(&v, &[2, 4], Dtype::Float32);
    let t: Vec<f64> = (0..8).map(|i| v[(i % 2) * 4 + i / 2]).collect();
    let strided = mx::transpose(&make(&t, &[4, 2], Dtype::Float32), &[1, 0], dev).unwrap();
    [dense, strided]
}

/// The i32 values of a long test row (small, with repeats, so sums are exact).
fn long_row(n: usize, seed: usize) -> Vec<f64> {
    (0..n)
        .map(|i| ((i * 7919 + seed * 31) % 97) as f64 - 48.0)
        .collect()
}

/// Stable argsort reference with NaN last.
fn ref_argsort(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| {
        v[a].partial_cmp(&v[b])
            .unwrap_or_else(|| v[a].is_nan().cmp(&v[b].is_nan()))
    });
    idx.into_iter().map(|i| i as f64).collect()
}

device_tests! {
    fn scans_every_axis_direction_and_layout(dev: Device) {
        // (op, axis, reverse, inclusive, expected)
        type ScanCase = (&'static str, Option<i32>, bool, bool, &'static [f64]);
        let cases: &[ScanCase] = &[
            ("cumsum", None, false, true, &[2.0, 1.0, 4.0, 4.5, 8.5, 9.5, 7.5, 9.5]),
            ("cumsum", None, false, false, &[0.0, 2.0, 1.0, 4.0, 4.5, 8.5, 9.5, 7.5]),
            ("cumsum", None, true, true, &[9.5, 7.5, 8.5, 5.5, 5.0, 1.0, 0.0, 2.0]),
            ("cumsum", None, true, false, &[7.5, 8.5, 5.5, 5.0, 1.0, 0.0, 2.0, 0.0]),
            ("cumsum", Some(0), false, true, &[2.0, -1.0, 3.0, 0.5, 6.0, 0.0, 1.0, 2.5]),
            ("cumsum", Some(0), false, false, &[0.0, 0.0, 0.0, 0.0, 2.0, -1.0, 3.0, 0.5]),
            ("cumsum", Some(0), true, true, &[6.0, 0.0, 1.0, 2.5, 4.0, 1.0, -2.0, 2.0]),
            ("cumsum", Some(0), true, false, &[4.0, 1.0, -2.0, 2.0, 0.0, 0.0, 0.0, 0.0]),
            ("cumsum", Some(1), false, true, &[2.0, 1.0, 4.0, 4.5, 4.0, 5.0, 3.0, 5.0]),
            ("cumsum", Some(1), false, false, &[0.0, 2.0, 1.0, 4.0, 0.0, 4.0, 5.0, 3.0]),
            ("cumsum", Some(1), true, true, &[4.5, 2.5, 3.5, 0.5, 5.0, 1.0, 0.0, 2.0]),
            ("cumsum", Some(1), true, false, &[2.5, 3.5, 0.5, 0.0, 1.0, 0.0, 2.0, 0.0]),
            ("cumprod", None, false, true, &[2.0, -2.0, -6.0, -3.0, -12.0, -12.0, 24.0, 48.0]),
            ("cumprod", None, false, false, &[1.0, 2.0, -2.0, -6.0, -3.0, -12.0, -12.0, 24.0]),
            ("cumprod", None, true, true, &[48.0, 24.0, -24.0, -8.0, -16.0, -4.0, -4.0, 2.0]),
            ("cumprod", None, true, false, &[24.0, -24.0, -8.0, -16.0, -4.0, -4.0, 2.0, 1.0]),
            ("cumprod", Some(0), false, true, &[2.0, -1.0, 3.0, 0.5, 8.0, -1.0, -6.0, 1.0]),
            ("cumprod", Some(0), false, false, &[1.0, 1.0, 1.0, 1.0, 2.0, -1.0, 3.0, 0.5]),
            ("cumprod", Some(0), true, true, &[8.0, -1.0, -6.0, 1.0, 4.0, 1.0, -2.0, 2.0]),
            ("cumprod", Some(0), true, false, &[4.0, 1.0, -2.0, 2.0, 1.0, 1.0, 1.0, 1.0]),
            ("cumprod", Some(1), false, true, &[2.0, -2.0, -6.0, -3.0, 4.0, 4.0, -8.0, -16.0]),
            ("cumprod", Some(1), false, false, &[1.0, 2.0, -2.0, -6.0, 1.0, 4.0, 4.0, -8.0]),
            ("cumprod", Some(1), true, true, &[-3.0, -1.5, 1.5, 0.5, -16.0, -4.0, -4.0, 2.0]),
            ("cumprod", Some(1), true, false, &[-1.5, 1.5, 0.5, 1.0, -4.0, -4.0, 2.0, 1.0]),
            ("cummax", None, false, true, &[2.0, 2.0, 3.0, 3.0, 4.0, 4.0, 4.0, 4.0]),
            ("cummax", None, false, false, &[NI, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0, 4.0]),
            ("cummax", None, true, true, &[4.0, 4.0, 4.0, 4.0, 4.0, 2.0, 2.0, 2.0]),
            ("cummax", None, true, false, &[4.0, 4.0, 4.0, 4.0, 2.0, 2.0, 2.0, NI]),
            ("cummax", Some(0), false, true, &[2.0, -1.0, 3.0, 0.5, 4.0, 1.0, 3.0, 2.0]),
            ("cummax", Some(0), false, false, &[NI, NI, NI, NI, 2.0, -1.0, 3.0, 0.5]),
            ("cummax", Some(0), true, true, &[4.0, 1.0, 3.0, 2.0, 4.0, 1.0, -2.0, 2.0]),
            ("cummax", Some(0), true, false, &[4.0, 1.0, -2.0, 2.0, NI, NI, NI, NI]),
            ("cummax", Some(1), false, true, &[2.0, 2.0, 3.0, 3.0, 4.0, 4.0, 4.0, 4.0]),
            ("cummax", Some(1), false, false, &[NI, 2.0, 2.0, 3.0, NI, 4.0, 4.0, 4.0]),
            ("cummax", Some(1), true, true, &[3.0, 3.0, 3.0, 0.5, 4.0, 2.0, 2.0, 2.0]),
            ("cummax", Some(1), true, false, &[3.0, 3.0, 0.5, NI, 2.0, 2.0, 2.0, NI]),
            ("cummin", None, false, true, &[2.0, -1.0, -1.0, -1.0, -1.0, -1.0, -2.0, -2.0]),
            ("cummin", None, false, false, &[PI, 2.0, -1.0, -1.0, -1.0, -1.0, -1.0, -2.0]),
            ("cummin", None, true, true, &[-2.0, -2.0, -2.0, -2.0, -2.0, -2.0, -2.0, 2.0]),
            ("cummin", None, true, false, &[-2.0, -2.0, -2.0, -2.0, -2.0, -2.0, 2.0, PI]),
            ("cummin", Some(0), false, true, &[2.0, -1.0, 3.0, 0.5, 2.0, -1.0, -2.0, 0.5]),
            ("cummin", Some(0), false, false, &[PI, PI, PI, PI, 2.0, -1.0, 3.0, 0.5]),
            ("cummin", Some(0), true, true, &[2.0, -1.0, -2.0, 0.5, 4.0, 1.0, -2.0, 2.0]),
            ("cummin", Some(0), true, false, &[4.0, 1.0, -2.0, 2.0, PI, PI, PI, PI]),
            ("cummin", Some(1), false, true, &[2.0, -1.0, -1.0, -1.0, 4.0, 1.0, -2.0, -2.0]),
            ("cummin", Some(1), false, false, &[PI, 2.0, -1.0, -1.0, PI, 4.0, 1.0, -2.0]),
            ("cummin", Some(1), true, true, &[-1.0, -1.0, 0.5, 0.5, -2.0, -2.0, -2.0, 2.0]),
            ("cummin", Some(1), true, false, &[-1.0, 0.5, 0.5, PI, -2.0, -2.0, 2.0, PI]),
            ("logcumsumexp", None, false, true, &[2.0, 2.0485873222351074, 3.3265626430511475, 3.38409161567688, 4.431879997253418, 4.4636945724487305, 4.46525239944458, 4.546820640563965]),
            ("logcumsumexp", None, false, false, &[NI, 2.0, 2.0485873222351074, 3.3265626430511475, 3.38409161567688, 4.431879997253418, 4.4636945724487305, 4.46525239944458]),
            ("logcumsumexp", None, true, true, &[4.546820163726807, 4.465251922607422, 4.46101188659668, 4.197044849395752, 4.171935558319092, 2.3265626430511475, 2.0181498527526855, 2.0]),
            ("logcumsumexp", None, true, false, &[4.465251922607422, 4.46101188659668, 4.197044849395752, 4.171935558319092, 2.3265626430511475, 2.0181498527526855, 2.0, NI]),
            ("logcumsumexp", Some(0), false, true, &[2.0, -1.0, 3.0, 0.5, 4.126927852630615, 1.1269279718399048, 3.0067152976989746, 2.20141339302063]),
            ("logcumsumexp", Some(0), false, false, &[NI, NI, NI, NI, 2.0, -1.0, 3.0, 0.5]),
            ("logcumsumexp", Some(0), true, true, &[4.126927852630615, 1.1269279718399048, 3.0067152976989746, 2.20141339302063, 4.0, 1.0, -2.0, 2.0]),
            ("logcumsumexp", Some(0), true, false, &[4.0, 1.0, -2.0, 2.0, NI, NI, NI, NI]),
            ("logcumsumexp", Some(1), false, true, &[2.0, 2.0485873222351074, 3.3265626430511475, 3.38409161567688, 4.0, 4.048587322235107, 4.05094575881958, 4.171935558319092]),
            ("logcumsumexp", Some(1), false, false, &[NI, 2.0, 2.0485873222351074, 3.3265626430511475, NI, 4.0, 4.048587322235107, 4.05094575881958]),
            ("logcumsumexp", Some(1), true, true, &[3.384091854095459, 3.095674514770508, 3.078889846801758, 0.5, 4.171935558319092, 2.3265626430511475, 2.0181498527526855, 2.0]),
            ("logcumsumexp", Some(1), true, false, &[3.095674514770508, 3.078889846801758, 0.5, NI, 2.3265626430511475, 2.0181498527526855, 2.0, NI]),
        ];
        for layout in scan_input(dev) {
            for &(name, axis, reverse, inclusive, want) in cases {
                let r = scan_fn(name)(&layout, axis, reverse, inclusive, dev).unwrap();
                let shape: &[i32] = if axis.is_none() { &[8] } else { &[2, 4] };
                assert_eq!(r.shape(), shape, "{name}");
                assert_eq!(r.dtype(), Dtype::Float32);
                let what = format!("{} axis {axis:?} reverse {reverse} inclusive {inclusive}", tol_name(name));
                assert_close(&what, Dtype::Float32, &values(&r), want);
            }
        }
    }

    fn scans_keep_mlx_dtypes(dev: Device) {
        let cases: &[(Dtype, &str, bool, Dtype, &[f64])] = &[
            (Dtype::Bool, "cumsum", true, Dtype::Int32, &[1.0, 1.0, 2.0, 3.0, 4.0, 5.0]),
            (Dtype::Bool, "cumsum", false, Dtype::Int32, &[4.0, 4.0, 3.0, 2.0, 1.0, 0.0]),
            (Dtype::Bool, "cumprod", true, Dtype::Bool, &[1.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
            (Dtype::Bool, "cumprod", false, Dtype::Bool, &[0.0, 1.0, 1.0, 1.0, 1.0, 1.0]),
            (Dtype::Bool, "cummax", true, Dtype::Bool, &[1.0, 1.0, 1.0, 1.0, 1.0, 1.0]),
            (Dtype::Bool, "cummax", false, Dtype::Bool, &[1.0, 1.0, 1.0, 1.0, 1.0, 0.0]),
            (Dtype::Bool, "cummin", true, Dtype::Bool, &[1.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
            (Dtype::Bool, "cummin", false, Dtype::Bool, &[0.0, 1.0, 1.0, 1.0, 1.0, 1.0]),
            (Dtype::Bool, "logcumsumexp", true, Dtype::Float32, &[1.0, 1.3132617473602295, 1.8619948625564575, 2.2142834663391113, 2.4742777347564697, 2.6804330348968506]),
            (Dtype::Bool, "logcumsumexp", false, Dtype::Float32, &[2.4742777347564697, 2.386294364929199, 2.0986123085021973, 1.6931471824645996, 1.0, NI]),
            (Dtype::Uint8, "cumsum", true, Dtype::Uint8, &[3.0, 3.0, 8.0, 9.0, 209.0, 211.0]),
            (Dtype::Uint8, "cumsum", false, Dtype::Uint8, &[208.0, 208.0, 203.0, 202.0, 2.0, 0.0]),
            (Dtype::Uint8, "cumprod", true, Dtype::Uint8, &[3.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
            (Dtype::Uint8, "cumprod", false, Dtype::Uint8, &[0.0, 208.0, 144.0, 144.0, 2.0, 1.0]),
            (Dtype::Uint8, "cummax", true, Dtype::Uint8, &[3.0, 3.0, 5.0, 5.0, 200.0, 200.0]),
            (Dtype::Uint8, "cummax", false, Dtype::Uint8, &[200.0, 200.0, 200.0, 200.0, 2.0, 0.0]),
            (Dtype::Uint8, "cummin", true, Dtype::Uint8, &[3.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
            (Dtype::Uint8, "cummin", false, Dtype::Uint8, &[0.0, 1.0, 1.0, 2.0, 2.0, 255.0]),
            (Dtype::Uint8, "logcumsumexp", true, Dtype::Float32, &[3.0, 3.0485873222351074, 5.132845401763916, 5.1487555503845215, 200.0, 200.0]),
            (Dtype::Uint8, "logcumsumexp", false, Dtype::Float32, &[200.0, 200.0, 200.0, 200.0, 2.0, NI]),
            (Dtype::Uint32, "cumsum", true, Dtype::Uint32, &[3.0, 3.0, 8.0, 9.0, 209.0, 211.0]),
            (Dtype::Uint32, "cumsum", false, Dtype::Uint32, &[208.0, 208.0, 203.0, 202.0, 2.0, 0.0]),
            (Dtype::Uint32, "cumprod", true, Dtype::Uint32, &[3.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
            (Dtype::Uint32, "cumprod", false, Dtype::Uint32, &[0.0, 2000.0, 400.0, 400.0, 2.0, 1.0]),
            (Dtype::Uint32, "cummax", true, Dtype::Uint32, &[3.0, 3.0, 5.0, 5.0, 200.0, 200.0]),
            (Dtype::Uint32, "cummax", false, Dtype::Uint32, &[200.0, 200.0, 200.0, 200.0, 2.0, 0.0]),
            (Dtype::Uint32, "cummin", true, Dtype::Uint32, &[3.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
            (Dtype::Uint32, "cummin", false, Dtype::Uint32, &[0.0, 1.0, 1.0, 2.0, 2.0, 4294967295.0]),
            (Dtype::Uint32, "logcumsumexp", true, Dtype::Float32, &[3.0, 3.0485873222351074, 5.132845401763916, 5.1487555503845215, 200.0, 200.0]),
            (Dtype::Uint32, "logcumsumexp", false, Dtype::Float32, &[200.0, 200.0, 200.0, 200.0, 2.0, NI]),
            (Dtype::Int32, "cumsum", true, Dtype::Int32, &[3.0, 3.0, 8.0, 9.0, 209.0, 211.0]),
            (Dtype::Int32, "cumsum", false, Dtype::Int32, &[208.0, 208.0, 203.0, 202.0, 2.0, 0.0]),
            (Dtype::Int32, "cumprod", true, Dtype::Int32, &[3.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
            (Dtype::Int32, "cumprod", false, Dtype::Int32, &[0.0, 2000.0, 400.0, 400.0, 2.0, 1.0]),
            (Dtype::Int32, "cummax", true, Dtype::Int32, &[3.0, 3.0, 5.0, 5.0, 200.0, 200.0]),
            (Dtype::Int32, "cummax", false, Dtype::Int32, &[200.0, 200.0, 200.0, 200.0, 2.0, -2147483648.0]),
            (Dtype::Int32, "cummin", true, Dtype::Int32, &[3.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
            (Dtype::Int32, "cummin", false, Dtype::Int32, &[0.0, 1.0, 1.0, 2.0, 2.0, 2147483647.0]),
            (Dtype::Int32, "logcumsumexp", true, Dtype::Float32, &[3.0, 3.0485873222351074, 5.132845401763916, 5.1487555503845215, 200.0, 200.0]),
            (Dtype::Int32, "logcumsumexp", false, Dtype::Float32, &[200.0, 200.0, 200.0, 200.0, 2.0, NI]),
            (Dtype::Float16, "cumsum", true, Dtype::Float16, &[3.0, 3.0, 8.0, 9.0, 209.0, 211.0]),
            (Dtype::Float16, "cumsum", false, Dtype::Float16, &[208.0, 208.0, 203.0, 202.0, 2.0, 0.0]),
            (Dtype::Float16, "cumprod", true, Dtype::Float16, &[3.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
            (Dtype::Float16, "cumprod", false, Dtype::Float16, &[0.0, 2000.0, 400.0, 400.0, 2.0, 1.0]),
            (Dtype::Float16, "cummax", true, Dtype::Float16, &[3.0, 3.0, 5.0, 5.0, 200.0, 200.0]),
            (Dtype::Float16, "cummax", false, Dtype::Float16, &[200.0, 200.0, 200.0, 200.0, 2.0, NI]),
            (Dtype::Float16, "cummin", true, Dtype::Float16, &[3.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
            (Dtype::Float16, "cummin", false, Dtype::Float16, &[0.0, 1.0, 1.0, 2.0, 2.0, PI]),
            (Dtype::Float16, "logcumsumexp", true, Dtype::Float16, &[3.0, 3.048828125, 5.1328125, 5.1484375, 200.0, 200.0]),
            (Dtype::Float16, "logcumsumexp", false, Dtype::Float16, &[200.0, 200.0, 200.0, 200.0, 2.0, NI]),
            (Dtype::Bfloat16, "cumsum", true, Dtype::Bfloat16, &[3.0, 3.0, 8.0, 9.0, 209.0, 211.0]),
            (Dtype::Bfloat16, "cumsum", false, Dtype::Bfloat16, &[208.0, 208.0, 203.0, 202.0, 2.0, 0.0]),
            (Dtype::Bfloat16, "cumprod", true, Dtype::Bfloat16, &[3.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
            (Dtype::Bfloat16, "cumprod", false, Dtype::Bfloat16, &[0.0, 2000.0, 400.0, 400.0, 2.0, 1.0]),
            (Dtype::Bfloat16, "cummax", true, Dtype::Bfloat16, &[3.0, 3.0, 5.0, 5.0, 200.0, 200.0]),
            (Dtype::Bfloat16, "cummax", false, Dtype::Bfloat16, &[200.0, 200.0, 200.0, 200.0, 2.0, NI]),
            (Dtype::Bfloat16, "cummin", true, Dtype::Bfloat16, &[3.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
            (Dtype::Bfloat16, "cummin", false, Dtype::Bfloat16, &[0.0, 1.0, 1.0, 2.0, 2.0, PI]),
            (Dtype::Bfloat16, "logcumsumexp", true, Dtype::Bfloat16, &[3.0, 3.046875, 5.125, 5.15625, 200.0, 200.0]),
            (Dtype::Bfloat16, "logcumsumexp", false, Dtype::Bfloat16, &[200.0, 200.0, 200.0, 200.0, 2.0, NI]),
        ];
        let x = [3.0, 0.0, 5.0, 1.0, 200.0, 2.0];
        for &(dt, name, inclusive, out_dt, want) in cases {
            let a = make(&x, &[6], dt);
            // Exclusive cases run in reverse, as MLX computed them.
            let r = scan_fn(name)(&a, Some(0), !inclusive, inclusive, dev).unwrap();
            assert_eq!(r.dtype(), out_dt, "{name} of {dt}");
            let what = format!("{} {name} of {dt} inclusive {inclusive}", tol_name(name));
            assert_close(&what, out_dt, &values(&r), want);
        }
    }

    fn scans_propagate_nan_and_handle_infinities(dev: Device) {
        let a = Array::from_slice(&[3.0f32, f32::NAN, 1.0, 5.0, 2.0], &[5]);
        let r = mx::cummax(&a, None, true, false, dev).unwrap();
        assert_close("max", Dtype::Float32, &values(&r), &[NAN, 5.0, 5.0, 2.0, NI]);
        let r = mx::cumsum(&a, None, false, true, dev).unwrap();
        assert_close("sum", Dtype::Float32, &values(&r), &[3.0, NAN, NAN, NAN, NAN]);
        let b = Array::from_slice(&[f32::NEG_INFINITY, f32::NEG_INFINITY, 0.0, f32::INFINITY, 1.0], &[5]);
        let r = mx::logcumsumexp(&b, None, false, true, dev).unwrap();
        assert_close("logsumexp", Dtype::Float32, &values(&r), &[NI, NI, 0.0, PI, PI]);
        let r = mx::logcumsumexp(&b, None, false, false, dev).unwrap();
        assert_close("logsumexp", Dtype::Float32, &values(&r), &[NI, NI, NI, 0.0, PI]);
        let c = Array::from_slice(&[1000.0f32, 1000.0, -20.0], &[3]);
        let r = mx::logcumsumexp(&c, None, true, true, dev).unwrap();
        assert_close("logsumexp", Dtype::Float32, &values(&r), &[1000.6931762695312, 1000.0, -20.0]);
    }

    fn scans_long_rows_along_any_axis(dev: Device) {
        // 5000-element rows: several GPU chunks with a carry; along axis 0 of a [5000, 3] array
        // the rows are strided.
        let n = 5000;
        let cols: Vec<Vec<f64>> = (0..3).map(|c| long_row(n, c)).collect();
        let flat: Vec<f64> = (0..n * 3).map(|i| cols[i % 3][i / 3]).collect();
        let a = make(&flat, &[n as i32, 3], Dtype::Int32);
        for (reverse, inclusive) in [(false, true), (true, false), (true, true), (false, false)] {
            let r = mx::cumsum(&a, Some(0), reverse, inclusive, dev).unwrap();
            let got = values(&r);
            for c in 0..3 {
                let mut want = vec![0.0; n];
                let mut acc = 0.0;
                let order: Vec<usize> = if reverse { (0..n).rev().collect() } else { (0..n).collect() };
                for j in order {
                    if inclusive { acc += cols[c][j]; want[j] = acc; } else { want[j] = acc; acc += cols[c][j]; }
                }
                let col: Vec<f64> = (0..n).map(|j| got[j * 3 + c]).collect();
                assert_eq!(col, want, "cumsum column {c} reverse {reverse} inclusive {inclusive}");
            }
        }
        let row = make(&long_row(n, 5), &[1, n as i32], Dtype::Int32);
        let r = values(&mx::cummax(&row, Some(1), false, true, dev).unwrap());
        let mut m = f64::MIN;
        let want: Vec<f64> = long_row(n, 5).iter().map(|&x| { m = m.max(x); m }).collect();
        assert_eq!(r, want);
        let f = make(&long_row(n, 2).iter().map(|x| x / 16.0).collect::<Vec<_>>(), &[n as i32], Dtype::Float32);
        let r = values(&mx::logcumsumexp(&f, None, false, true, dev).unwrap());
        let mut acc = f64::NEG_INFINITY;
        let want: Vec<f64> = long_row(n, 2).iter().map(|x| {
            let x = x / 16.0;
            let (hi, lo) = if acc > x { (acc, x) } else { (x, acc) };
            acc = hi + (lo - hi).exp().ln_1p();
            acc
        }).collect();
        assert_close("logsumexp", Dtype::Float32, &r, &want);
    }

    fn sort_orders_nan_last_and_is_stable(dev: Device) {
        let a = Array::from_slice(&[3.0f32, f32::NAN, 1.0, f32::NEG_INFINITY, 5.0, 2.0, f32::NAN, 1.0, -0.0, 0.0], &[1, 10]);
        let s = mx::sort(&a, -1, dev).unwrap();
        assert_eq!(s.shape(), &[1, 10]);
        assert_close("sort", Dtype::Float32, &values(&s), &[NI, -0.0, 0.0, 1.0, 1.0, 2.0, 3.0, 5.0, NAN, NAN]);
        assert_eq!(mx::argsort(&a, 1, dev).unwrap().to_vec::<u32>().unwrap(), vec![3, 8, 9, 2, 7, 5, 0, 4, 1, 6]);
        let b = make(&[2.0, 1.0, 2.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 5.0, 4.0, 3.0, 2.0, 1.0], &[3, 5], Dtype::Int32);
        let i0 = mx::argsort(&b, 0, dev).unwrap();
        assert_eq!(i0.dtype(), Dtype::Uint32);
        assert_eq!(i0.to_vec::<u32>().unwrap(), vec![1, 0, 1, 0, 0, 0, 1, 0, 1, 1, 2, 2, 2, 2, 2]);
        assert_eq!(mx::sort(&b, 0, dev).unwrap().to_vec::<i32>().unwrap(), vec![1, 1, 1, 1, 0, 2, 1, 2, 1, 1, 5, 4, 3, 2, 1]);
        assert_eq!(mx::argsort(&b, -1, dev).unwrap().to_vec::<u32>().unwrap(), vec![4, 1, 3, 0, 2, 0, 1, 2, 3, 4, 4, 3, 2, 1, 0]);
        // A transposed (strided) input sorts the same as its dense copy.
        let bt = mx::transpose(&b, &[1, 0], dev).unwrap();
        assert_eq!(mx::argsort(&bt, 1, dev).unwrap().to_vec::<u32>().unwrap(), vec![1, 0, 2, 0, 1, 2, 1, 0, 2, 0, 1, 2, 0, 1, 2]);
    }

    fn sort_every_dtype(dev: Device) {
        let x = [3.0, 0.0, 200.0, 1.0, 0.0, 7.0];
        for dt in [Dtype::Bool, Dtype::Uint8, Dtype::Uint32, Dtype::Int32, Dtype::Float16, Dtype::Bfloat16, Dtype::Float32] {
            let a = make(&x, &[6], dt);
            let (want_i, want_v): (Vec<u32>, Vec<f64>) = if dt == Dtype::Bool {
                (vec![1, 4, 0, 2, 3, 5], vec![0.0, 0.0, 1.0, 1.0, 1.0, 1.0])
            } else {
                (vec![1, 4, 3, 0, 5, 2], vec![0.0, 0.0, 1.0, 3.0, 7.0, 200.0])
            };
            assert_eq!(mx::argsort(&a, 0, dev).unwrap().to_vec::<u32>().unwrap(), want_i, "{dt}");
            let s = mx::sort(&a, 0, dev).unwrap();
            assert_eq!(s.dtype(), dt);
            assert_eq!(values(&s), want_v, "{dt}");
        }
        let neg = Array::from_slice(&[-3i32, 0, -200, 1, 0, 7], &[6]);
        assert_eq!(mx::argsort(&neg, 0, dev).unwrap().to_vec::<u32>().unwrap(), vec![2, 0, 1, 4, 3, 5]);
        let h = make(&[-1.5, 2.5, -0.25, 1e30, -1e30], &[5], Dtype::Float16);
        assert_eq!(mx::argsort(&h, 0, dev).unwrap().to_vec::<u32>().unwrap(), vec![4, 0, 2, 1, 3]);
    }

    fn sort_short_and_long_rows(dev: Device) {
        // Many short rows (several per GPU tile) and rows around and past the tile size (1024),
        // with many ties so stability shows; long rows along axis 0 are strided.
        for (rows, len) in [(300usize, 5usize), (3, 1), (2, 1024), (2, 1025), (1, 5000)] {
            let v: Vec<f64> = (0..rows).flat_map(|r| long_row(len, r)).collect();
            let a = make(&v, &[rows as i32, len as i32], Dtype::Int32);
            let want: Vec<f64> = (0..rows).flat_map(|r| ref_argsort(&v[r * len..(r + 1) * len])).collect();
            assert_eq!(values(&mx::argsort(&a, 1, dev).unwrap()), want, "argsort {rows}x{len}");
            let sorted: Vec<f64> = (0..rows).flat_map(|r| {
                let row = &v[r * len..(r + 1) * len];
                ref_argsort(row).into_iter().map(|i| row[i as usize]).collect::<Vec<_>>()
            }).collect();
            assert_eq!(values(&mx::sort(&a, -1, dev).unwrap()), sorted, "sort {rows}x{len}");
            let at = mx::transpose(&a, &[1, 0], dev).unwrap();
            let st = mx::transpose(&mx::sort(&at, 0, dev).unwrap(), &[1, 0], dev).unwrap();
            assert_eq!(values(&mx::contiguous(&st, dev).unwrap()), sorted, "sort axis 0 {rows}x{len}");
        }
        // Long f16 rows (packed on the GPU without native f16) with NaNs.
        let n = 3000;
        let v: Vec<f64> = (0..n).map(|i| if i % 101 == 7 { NAN } else { long_row(n, 1)[i] / 4.0 }).collect();
        let a = make(&v, &[n as i32], Dtype::Float16);
        assert_eq!(values(&mx::argsort(&a, 0, dev).unwrap()), ref_argsort(&v));
    }

    fn partition_and_topk(dev: Device) {
        let a = make(&[5.0, 1.0, 9.0, 3.0, 7.0, 2.0, 5.0, 1.0, 9.0, 3.0, 7.0, 2.0], &[2, 6], Dtype::Int32);
        for kth in [0, 2, -1, -6, 5] {
            let p = values(&mx::partition(&a, kth, 1, dev).unwrap());
            let ip = mx::argpartition(&a, kth, 1, dev).unwrap();
            assert_eq!(ip.dtype(), Dtype::Uint32);
            let k = if kth < 0 { kth + 6 } else { kth } as usize;
            let sorted = [1.0, 2.0, 3.0, 5.0, 7.0, 9.0];
            for r in 0..2 {
                let row = &p[r * 6..(r + 1) * 6];
                assert_eq!(row[k], sorted[k], "partition kth {kth}");
                assert!(row[..k].iter().all(|&x| x <= row[k]) && row[k + 1..].iter().all(|&x| x >= row[k]));
            }
            let taken = values(&mx::take(&mx::reshape(&a, &[12], dev).unwrap(), &ip, 0, dev).unwrap());
            assert_eq!(taken[k], sorted[k], "argpartition kth {kth}");
        }
        let p0 = mx::partition(&mx::transpose(&a, &[1, 0], dev).unwrap(), 1, 0, dev).unwrap();
        assert_eq!(p0.shape(), &[6, 2]);
        assert_eq!(values(&p0)[2..4], [2.0, 2.0]);
        let t = mx::topk(&a, 3, -1, dev).unwrap();
        assert_eq!(t.shape(), &[2, 3]);
        assert_eq!(values(&t), vec![5.0, 7.0, 9.0, 5.0, 7.0, 9.0]);
        let t0 = mx::topk(&a, 1, 0, dev).unwrap();
        assert_eq!(t0.shape(), &[1, 6]);
        assert_eq!(values(&t0), vec![5.0, 1.0, 9.0, 3.0, 7.0, 2.0]);
        assert_eq!(mx::topk(&a, 0, 1, dev).unwrap().shape(), &[2, 0]);
        let f = Array::from_slice(&[3.0f32, f32::NAN, 1.0, 5.0], &[4]);
        let tf = values(&mx::topk(&f, 2, 0, dev).unwrap());
        assert_eq!(tf[0], 5.0);
        assert!(tf[1].is_nan());
    }

    fn searchsorted_left_and_right(dev: Device) {
        let s = Array::from_slice(&[-1.0f32, 0.0, 0.0, 2.5, 7.0, f32::NAN], &[6]);
        let v = Array::from_slice(&[-2.0f32, 0.0, 0.5, 7.0, 8.0, f32::NAN, -0.0, 2.5, f32::NEG_INFINITY], &[3, 3]);
        let l = mx::searchsorted(&s, &v, false, dev).unwrap();
        assert_eq!(l.dtype(), Dtype::Uint32);
        assert_eq!(l.shape(), &[3, 3]);
        assert_eq!(l.to_vec::<u32>().unwrap(), vec![0, 1, 3, 4, 5, 5, 1, 3, 0]);
        let r = mx::searchsorted(&s, &v, true, dev).unwrap();
        assert_eq!(r.to_vec::<u32>().unwrap(), vec![0, 3, 3, 5, 5, 6, 3, 4, 0]);
        let si = Array::from_slice(&[1i32, 3, 3, 3, 9], &[5]);
        let vi = Array::from_slice(&[0i32, 1, 3, 4, 9, 10], &[6]);
        assert_eq!(mx::searchsorted(&si, &vi, false, dev).unwrap().to_vec::<u32>().unwrap(), vec![0, 0, 1, 4, 4, 5]);
        assert_eq!(mx::searchsorted(&si, &vi, true, dev).unwrap().to_vec::<u32>().unwrap(), vec![0, 1, 4, 4, 5, 5]);
        // Mixed dtypes promote (int sorted, float values); uint8 inputs; strided sorted input.
        let vf = Array::from_slice(&[2.5f32, 3.0], &[2]);
        assert_eq!(mx::searchsorted(&si, &vf, false, dev).unwrap().to_vec::<u32>().unwrap(), vec![1, 1]);
        let su = mx::astype(&si, Dtype::Uint8, dev).unwrap();
        let vu = mx::astype(&vi, Dtype::Uint8, dev).unwrap();
        assert_eq!(mx::searchsorted(&su, &vu, true, dev).unwrap().to_vec::<u32>().unwrap(), vec![0, 1, 4, 4, 5, 5]);
        let wide = Array::from_slice(&[1i32, 0, 3, 0, 3, 0, 3, 0, 9, 0], &[5, 2]);
        let col = mx::reshape(&mx::slice(&wide, &[0, 0], &[5, 1], &[], dev).unwrap(), &[5], dev).unwrap();
        assert_eq!(mx::searchsorted(&col, &vi, false, dev).unwrap().to_vec::<u32>().unwrap(), vec![0, 0, 1, 4, 4, 5]);
        let empty = Array::from_slice::<f32>(&[], &[0]);
        assert_eq!(mx::searchsorted(&empty, &vf, false, dev).unwrap().to_vec::<u32>().unwrap(), vec![0, 0]);
    }

    fn var_std_median(dev: Device) {
        let v = [1.5, 4.0, -2.0, 7.0, 0.0, 3.0, 3.0, -1.0, 2.0, 2.0, -0.0, 0.0];
        let b = make(&v, &[3, 4], Dtype::Float32);
        let f32_ = Dtype::Float32;
        assert_close("sum", f32_, &values(&mx::var(&b, &[], false, 0, dev).unwrap()), &[5.546875]);
        assert_close("sum", f32_, &values(&mx::var(&b, &[], false, 1, dev).unwrap()), &[6.051136493682861]);
        assert_close("sqrt", f32_, &values(&mx::std(&b, &[], false, 0, dev).unwrap()), &[2.355180501937866]);
        assert_close("sqrt", f32_, &values(&mx::std(&b, &[0, 1], false, 2, dev).unwrap()), &[2.5799708366394043]);
        let v0 = [0.7222222089767456, 0.6666666865348816, 4.222222328186035, 12.666666984558105];
        assert_close("sum", f32_, &values(&mx::var(&b, &[0], false, 0, dev).unwrap()), &v0);
        let bt = mx::transpose(&b, &[1, 0], dev).unwrap();
        assert_close("sum", f32_, &values(&mx::var(&bt, &[1], false, 0, dev).unwrap()), &v0);
        let s1 = mx::std(&b, &[1], true, 1, dev).unwrap();
        assert_eq!(s1.shape(), &[3, 1]);
        assert_close("sqrt", f32_, &values(&s1), &[3.816084384918213, 2.0615527629852295, 1.154700517654419]);
        let vi = mx::var(&mx::astype(&b, Dtype::Int32, dev).unwrap(), &[1], false, 0, dev).unwrap();
        assert_eq!(vi.dtype(), Dtype::Float32);
        assert_close("sum", f32_, &values(&vi), &[11.25, 3.1875, 1.0]);
        let vh = mx::var(&mx::astype(&b, Dtype::Float16, dev).unwrap(), &[1], false, 0, dev).unwrap();
        assert_eq!(vh.dtype(), Dtype::Float16);
        assert_close("sum", Dtype::Float16, &values(&vh), &[10.921875, 3.1875, 1.0]);
        // ddof >= n divides by zero, as MLX.
        let two = Array::from_slice(&[1.0f32, 2.0], &[2]);
        assert_eq!(values(&mx::var(&two, &[], false, 3, dev).unwrap()), vec![PI]);

        assert_close("sum", f32_, &values(&mx::median(&b, &[], false, dev).unwrap()), &[1.75]);
        assert_close("sum", f32_, &values(&mx::median(&b, &[0], false, dev).unwrap()), &[1.5, 3.0, -0.0, 0.0]);
        assert_close("sum", f32_, &values(&mx::median(&bt, &[0], false, dev).unwrap()), &[2.75, 1.5, 1.0]);
        let mk = mx::median(&b, &[0, 1], true, dev).unwrap();
        assert_eq!(mk.shape(), &[1, 1]);
        assert_close("sum", f32_, &values(&mk), &[1.75]);
        let mi = mx::median(&mx::astype(&b, Dtype::Int32, dev).unwrap(), &[1], false, dev).unwrap();
        assert_eq!(mi.dtype(), Dtype::Float32);
        assert_close("sum", f32_, &values(&mi), &[2.5, 1.5, 1.0]);
        let mb = mx::median(&mx::astype(&b, Dtype::Bfloat16, dev).unwrap(), &[0], false, dev).unwrap();
        assert_eq!(mb.dtype(), Dtype::Bfloat16);
        assert_close("sum", Dtype::Bfloat16, &values(&mb), &[1.5, 3.0, 0.0, 0.0]);
        let mut vn = v;
        vn[1] = NAN;
        let a = make(&vn, &[3, 4], Dtype::Float32);
        assert_close("sum", f32_, &values(&mx::median(&a, &[1], false, dev).unwrap()), &[NAN, 1.5, 1.0]);
        assert_close("sum", f32_, &values(&mx::var(&a, &[0], false, 0, dev).unwrap()), &[0.7222222089767456, NAN, 4.222222328186035, 12.666666984558105]);
    }

    fn empty_inputs(dev: Device) {
        let e = mx::zeros(&[3, 0], Dtype::Float32, dev).unwrap();
        for name in ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"] {
            let r = scan_fn(name)(&e, Some(1), false, true, dev).unwrap();
            assert_eq!(r.shape(), &[3, 0]);
            assert_eq!(r.to_vec::<f32>().unwrap(), Vec::<f32>::new());
        }
        assert_eq!(mx::cumsum(&e, Some(0), true, false, dev).unwrap().shape(), &[3, 0]);
        assert_eq!(mx::sort(&e, 1, dev).unwrap().to_vec::<f32>().unwrap(), Vec::<f32>::new());
        assert_eq!(mx::argsort(&e, 0, dev).unwrap().shape(), &[3, 0]);
        assert_eq!(mx::topk(&e, 0, 1, dev).unwrap().shape(), &[3, 0]);
        let s = Array::from_slice(&[1.0f32, 2.0], &[2]);
        let none = mx::searchsorted(&s, &e, false, dev).unwrap();
        assert_eq!(none.shape(), &[3, 0]);
        assert_eq!(none.to_vec::<u32>().unwrap(), Vec::<u32>::new());
        let v = mx::var(&e, &[1], false, 0, dev).unwrap();
        assert!(values(&v).iter().all(|x| x.is_nan()));
    }

    fn bad_inputs_name_the_op(dev: Device) {
        let a = Array::from_slice(&[1.0f32, 2.0, 3.0], &[3]);
        let s = Array::scalar(1.0f32);
        let check = |r: wmx::Result<Array>, op: &str| {
            let e = r.expect_err(op);
            assert_eq!(e.op(), op, "{e}");
            assert!(e.to_string().starts_with(&format!("[{op}]")), "{e}");
        };
        check(mx::cumsum(&a, Some(1), false, true, dev), "cumsum");
        check(mx::cumprod(&a, Some(-2), false, true, dev), "cumprod");
        check(mx::cummax(&s, Some(0), false, true, dev), "cummax");
        check(mx::logcumsumexp(&a, Some(3), false, true, dev), "logcumsumexp");
        check(mx::sort(&a, 1, dev), "sort");
        check(mx::sort(&s, -1, dev), "sort");
        check(mx::argsort(&s, -1, dev), "argsort");
        check(mx::partition(&a, 3, 0, dev), "partition");
        check(mx::partition(&a, -4, 0, dev), "partition");
        check(mx::argpartition(&a, 5, 0, dev), "argpartition");
        check(mx::argpartition(&a, 0, 2, dev), "argpartition");
        check(mx::topk(&a, 4, 0, dev), "topk");
        check(mx::topk(&a, -1, 0, dev), "topk");
        check(mx::topk(&a, 1, 1, dev), "topk");
        check(mx::searchsorted(&s, &a, false, dev), "searchsorted");
        check(mx::searchsorted(&mx::reshape(&a, &[1, 3], dev).unwrap(), &a, false, dev), "searchsorted");
        check(mx::var(&a, &[1], false, 0, dev), "var");
        check(mx::std(&a, &[0, 0], false, 0, dev), "std");
        check(mx::median(&a, &[2], false, dev), "median");
        check(mx::median(&Array::from_slice::<f32>(&[], &[0]), &[], false, dev), "median");
        let e = mx::topk(&a, 4, 0, dev).unwrap_err().to_string();
        assert!(e.contains("k=4") && e.contains("(3)"), "{e}");
        // The 0-d scan with no axis flattens, as MLX.
        assert_eq!(mx::cumsum(&s, None, false, true, dev).unwrap().shape(), &[1]);
    }
}
