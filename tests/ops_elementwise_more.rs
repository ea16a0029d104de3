//! The elementwise ops of issue #4 on CPU and GPU against MLX (values pasted from
//! tests/fixtures/gen_elementwise_more.py): the new unary and binary math ops, round with
//! decimals, the NaN/inf predicates, nan_to_num, integer division rules, bitwise ops and shifts,
//! isclose/allclose/array_equal, weak Rust scalars (MLX's promotion of Python scalars), operators,
//! and the errors for bad dtypes.

mod common;
use common::{make, values};
use wmx::{self as mx, Array, Device, Dtype};

const X: &[f64] = &[
    -0.9, -0.5, -1e-06, 0.0, 1e-07, 0.3, 0.75, 0.999, 1.5, 3.0, 12.0, 89.0,
];
const P: &[f64] = &[
    1e-40, 1e-06, 0.1, 0.5, 1.0, 1.5, 2.0, 3.0, 8.0, 1000.0, 1e+20, 3e+38,
];
const EXPM1_X: &[f64] = &[
    -0.5934303402900696,
    -0.39346933364868164,
    -9.999995427278918e-07,
    0.0,
    1.000000082740371e-07,
    0.349858820438385,
    1.1169999837875366,
    1.7155649662017822,
    3.481688976287842,
    19.08553695678711,
    162753.796875,
    f64::INFINITY,
];
const TAN_X: &[f64] = &[
    -1.2601581811904907,
    -0.5463024973869324,
    -9.999999974752427e-07,
    0.0,
    1.0000000116860974e-07,
    0.30933627486228943,
    0.9315964579582214,
    1.5539876222610474,
    14.101420402526855,
    -0.14254654943943024,
    -0.6358599066734314,
    1.6858253479003906,
];
const ARCSIN_X: &[f64] = &[
    -1.1197694540023804,
    -0.5235987901687622,
    -9.999999974752427e-07,
    0.0,
    1.0000000116860974e-07,
    0.30469265580177307,
    0.8480620980262756,
    1.526071548461914,
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
];
const ARCCOS_X: &[f64] = &[
    2.690565824508667,
    2.094395160675049,
    1.570797324180603,
    1.5707963705062866,
    1.570796251296997,
    1.2661036252975464,
    0.722734272480011,
    0.04472479969263077,
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
];
const ARCTAN_X: &[f64] = &[
    -0.7328150868415833,
    -0.46364760398864746,
    -9.999999974752427e-07,
    0.0,
    1.0000000116860974e-07,
    0.29145681858062744,
    0.6435011029243469,
    0.7848979234695435,
    0.9827937483787537,
    1.249045729637146,
    1.4876550436019897,
    1.5595608949661255,
];
const SINH_X: &[f64] = &[
    -1.0265166759490967,
    -0.5210952758789062,
    -9.999999974752427e-07,
    0.0,
    1.0000000116860974e-07,
    0.30452030897140503,
    0.8223167061805725,
    1.1736587285995483,
    2.129279375076294,
    10.017874717712402,
    81377.3984375,
    2.2448063889081578e+38,
];
const COSH_X: &[f64] = &[
    1.4330863952636719,
    1.1276259422302246,
    1.0,
    1.0,
    1.0,
    1.04533851146698,
    1.2946833372116089,
    1.5419062376022339,
    2.352409601211548,
    10.067662239074707,
    81377.3984375,
    2.2448063889081578e+38,
];
const ARCSINH_X: &[f64] = &[
    -0.8088668584823608,
    -0.4812118411064148,
    -9.999999974752427e-07,
    0.0,
    1.0000000116860974e-07,
    0.29567307233810425,
    0.6931471824645996,
    0.8806663155555725,
    1.19476318359375,
    1.8184465169906616,
    3.1797854900360107,
    5.181815147399902,
];
const ARCTANH_X: &[f64] = &[
    -1.4722193479537964,
    -0.5493061542510986,
    -9.999999974752427e-07,
    0.0,
    1.0000000116860974e-07,
    0.30951961874961853,
    0.9729551076889038,
    3.8002076148986816,
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
];
const DEGREES_X: &[f64] = &[
    -51.566200256347656,
    -28.647890090942383,
    -5.729577969759703e-05,
    0.0,
    5.7295778788102325e-06,
    17.18873405456543,
    42.97183609008789,
    57.23848342895508,
    85.94367218017578,
    171.88734436035156,
    687.5493774414062,
    5099.32421875,
];
const RADIANS_X: &[f64] = &[
    -0.015707962214946747,
    -0.008726646192371845,
    -1.7453292144864463e-08,
    0.0,
    1.7453292144864463e-09,
    0.005235987715423107,
    0.013089969754219055,
    0.017435839399695396,
    0.02617993950843811,
    0.05235987901687622,
    0.20943951606750488,
    1.5533430576324463,
];
const TRUNC_X: &[f64] = &[
    -0.0, -0.0, -0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 3.0, 12.0, 89.0,
];
const LOG2_P: &[f64] = &[
    -132.87713623046875,
    -19.931568145751953,
    -3.321928024291992,
    -1.0,
    0.0,
    0.5849624872207642,
    1.0,
    1.5849624872207642,
    3.0,
    9.965784072875977,
    66.43856048583984,
    127.81822967529297,
];
const LOG10_P: &[f64] = &[
    -40.000003814697266,
    -6.0,
    -1.0,
    -0.3010300099849701,
    0.0,
    0.1760912537574768,
    0.3010300099849701,
    0.4771212339401245,
    0.9030900001525879,
    3.0,
    20.0,
    38.47711944580078,
];
const ARCCOSH_P: &[f64] = &[
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
    0.0,
    0.9624236822128296,
    1.316957950592041,
    1.7627471685409546,
    2.7686593532562256,
    7.600902080535889,
    46.74484634399414,
    89.28999328613281,
];
const ARCSINH_P: &[f64] = &[
    9.99994610111476e-41,
    9.999999974752427e-07,
    0.09983407706022263,
    0.4812118411064148,
    0.8813735842704773,
    1.19476318359375,
    1.4436354637145996,
    1.8184465169906616,
    2.776472330093384,
    7.600902557373047,
    46.74484634399414,
    89.28999328613281,
];
const EXPM1_P: &[f64] = &[
    9.99994610111476e-41,
    1.0000004522225936e-06,
    0.10517092049121857,
    0.6487212777137756,
    1.7182817459106445,
    3.481688976287842,
    6.389056205749512,
    19.08553695678711,
    2979.9580078125,
    f64::INFINITY,
    f64::INFINITY,
    f64::INFINITY,
];
const EXPM1_X_F16: &[f64] = &[
    -0.59326171875,
    -0.3935546875,
    -1.0132789611816406e-06,
    0.0,
    1.1920928955078125e-07,
    0.349853515625,
    1.1171875,
    1.7158203125,
    3.482421875,
    19.078125,
    f64::INFINITY,
    f64::INFINITY,
];
const EXPM1_X_BF16: &[f64] = &[
    -0.59375,
    -0.392578125,
    -9.98377799987793e-07,
    0.0,
    1.0011717677116394e-07,
    0.3515625,
    1.1171875,
    1.71875,
    3.484375,
    19.125,
    162816.0,
    f64::INFINITY,
];
const SINH_X_F16: &[f64] = &[
    -1.0263671875,
    -0.52099609375,
    -1.0132789611816406e-06,
    0.0,
    1.1920928955078125e-07,
    0.3046875,
    0.822265625,
    1.173828125,
    2.12890625,
    10.015625,
    f64::INFINITY,
    f64::INFINITY,
];
const SINH_X_BF16: &[f64] = &[
    -1.0234375,
    -0.51953125,
    -9.98377799987793e-07,
    0.0,
    1.0011717677116394e-07,
    0.3046875,
    0.82421875,
    1.171875,
    2.125,
    10.0,
    81408.0,
    2.246395312876508e+38,
];
const ARCTANH_X_F16: &[f64] = &[
    -1.4716796875,
    -0.54931640625,
    -1.0132789611816406e-06,
    0.0,
    1.1920928955078125e-07,
    0.3095703125,
    0.97314453125,
    3.8125,
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
];
const ARCTANH_X_BF16: &[f64] = &[
    -1.4609375,
    -0.55078125,
    -9.98377799987793e-07,
    0.0,
    1.0011717677116394e-07,
    0.310546875,
    0.97265625,
    f64::INFINITY,
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
];
const ARCSINH_X_F16: &[f64] = &[
    -0.80859375,
    -0.481201171875,
    -1.0132789611816406e-06,
    0.0,
    1.1920928955078125e-07,
    0.295654296875,
    0.693359375,
    0.880859375,
    1.1943359375,
    1.818359375,
    3.1796875,
    5.18359375,
];
const ARCSINH_X_BF16: &[f64] = &[
    -0.80859375,
    -0.48046875,
    -9.98377799987793e-07,
    0.0,
    1.0011717677116394e-07,
    0.296875,
    0.69140625,
    0.8828125,
    1.1953125,
    1.8203125,
    3.1875,
    5.1875,
];
const LOG2_X_F16: &[f64] = &[
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NEG_INFINITY,
    -23.0,
    -1.736328125,
    -0.4150390625,
    -0.0014095306396484375,
    0.5849609375,
    1.5849609375,
    3.5859375,
    6.4765625,
];
const LOG2_X_BF16: &[f64] = &[
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NEG_INFINITY,
    -23.25,
    -1.734375,
    -0.4140625,
    0.0,
    0.5859375,
    1.5859375,
    3.578125,
    6.46875,
];
const DEGREES_X_F16: &[f64] = &[
    -51.5625,
    -28.640625,
    -5.805492401123047e-05,
    0.0,
    6.854534149169922e-06,
    17.1875,
    42.96875,
    57.21875,
    85.9375,
    171.875,
    687.5,
    5100.0,
];
const DEGREES_X_BF16: &[f64] = &[
    -51.5,
    -28.625,
    -5.7220458984375e-05,
    0.0,
    5.7220458984375e-06,
    17.25,
    43.0,
    57.25,
    86.0,
    172.0,
    688.0,
    5088.0,
];
const R: &[f64] = &[
    -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 1.25, 1.35, 2.675, 125.73, 1350.0, -1250.0,
];
const ROUND_0: &[f64] = &[
    -2.0, -2.0, -0.0, 0.0, 2.0, 2.0, 1.0, 1.0, 3.0, 126.0, 1350.0, -1250.0,
];
const ROUND_1: &[f64] = &[
    -2.5,
    -1.5,
    -0.5,
    0.5,
    1.5,
    2.5,
    1.2000000476837158,
    1.399999976158142,
    2.700000047683716,
    125.70000457763672,
    1350.0,
    -1250.0,
];
const ROUND_2: &[f64] = &[
    -2.5,
    -1.5,
    -0.5,
    0.5,
    1.5,
    2.5,
    1.25,
    1.350000023841858,
    2.679999828338623,
    125.72999572753906,
    1350.0,
    -1250.0,
];
const ROUND_M1: &[f64] = &[
    -0.0, -0.0, -0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 130.0, 1350.0, -1250.0,
];
const ROUND_M2: &[f64] = &[
    -0.0, -0.0, -0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 100.0, 1400.0, -1200.0,
];
const ROUND_M3: &[f64] = &[
    -0.0,
    -0.0,
    -0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    999.9999389648438,
    -999.9999389648438,
];
const ROUND_F16_1: &[f64] = &[
    -2.5,
    -1.5,
    -0.5,
    0.5,
    1.5,
    2.5,
    1.19921875,
    1.3994140625,
    2.69921875,
    125.75,
    1350.0,
    -1249.0,
];
const A: &[f64] = &[
    7.5,
    -7.5,
    7.5,
    -7.5,
    0.0,
    5.0,
    -0.0,
    f64::INFINITY,
    10000000000.0,
    -5.0,
    5.0,
    -1.0,
];
const B: &[f64] = &[
    2.0,
    2.0,
    -2.0,
    -2.0,
    3.0,
    0.0,
    3.0,
    2.0,
    3.0,
    f64::INFINITY,
    f64::NEG_INFINITY,
    1e-30,
];
const FLOOR_DIVIDE_AB: &[f64] = &[
    3.0,
    -4.0,
    -4.0,
    3.0,
    0.0,
    f64::INFINITY,
    -0.0,
    f64::INFINITY,
    3333333248.0,
    -0.0,
    -0.0,
    -1.0000000150474662e+30,
];
const REMAINDER_AB: &[f64] = &[
    1.5,
    0.5,
    -0.5,
    -1.5,
    0.0,
    f64::NAN,
    -0.0,
    f64::NAN,
    1.0,
    f64::INFINITY,
    f64::NEG_INFINITY,
    2.7278992102922333e-31,
];
const ARCTAN2_AB: &[f64] = &[
    1.3101938962936401,
    -1.3101938962936401,
    1.8313987255096436,
    -1.8313987255096436,
    0.0,
    1.5707963705062866,
    -0.0,
    1.5707963705062866,
    1.5707963705062866,
    -0.0,
    3.1415927410125732,
    -1.5707963705062866,
];
const L1: &[f64] = &[
    0.0,
    1.0,
    f64::NEG_INFINITY,
    f64::INFINITY,
    f64::NAN,
    -1000.0,
    20.0,
    -3.0,
    0.5,
    f64::INFINITY,
    f64::NEG_INFINITY,
    1e-07,
];
const L2: &[f64] = &[
    0.0,
    2.0,
    f64::NEG_INFINITY,
    f64::INFINITY,
    1.0,
    -1000.0,
    -20.0,
    -3.5,
    0.25,
    f64::NEG_INFINITY,
    2.0,
    -1e-07,
];
const LOGADDEXP: &[f64] = &[
    0.6931471824645996,
    2.3132617473602295,
    f64::NEG_INFINITY,
    f64::INFINITY,
    f64::NAN,
    -999.3068237304688,
    20.0,
    -2.525923013687134,
    1.075939416885376,
    f64::INFINITY,
    2.0,
    0.6931471824645996,
];
const LOGADDEXP_F16: &[f64] = &[
    0.693359375,
    2.3125,
    f64::NEG_INFINITY,
    f64::INFINITY,
    f64::NAN,
    -999.5,
    20.0,
    -2.525390625,
    1.076171875,
    f64::INFINITY,
    2.0,
    0.693359375,
];

/// Elementwise comparison: NaN matches NaN, infinities match exactly, else `atol + rtol * |want|`.
#[track_caller]
fn check(what: &str, got: &[f64], want: &[f64], atol: f64, rtol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let ok = (g.is_nan() && w.is_nan())
            || (g.is_infinite() && g == w)
            || (w.is_finite() && (g - w).abs() <= atol + rtol * w.abs());
        assert!(
            ok,
            "{what} element {i}: got {g}, expected {w}\n got: {got:?}\nwant: {want:?}"
        );
    }
}

/// (atol, rtol) per dtype for transcendental ops against MLX.
fn tol(d: Dtype) -> (f64, f64) {
    match d {
        Dtype::Float16 => (1e-3, 2e-3),
        Dtype::Bfloat16 => (1e-2, 1.6e-2),
        _ => (1e-7, 2e-5),
    }
}

type Unary = fn(&Array, Device) -> wmx::Result<Array>;
/// A half-precision case: name, op, inputs, f16 and bf16 expectations.
type HalfCase = (
    &'static str,
    Unary,
    &'static [f64],
    &'static [f64],
    &'static [f64],
);

fn run_unary(dev: Device, f: Unary, input: &[f64], dtype: Dtype) -> Vec<f64> {
    let a = make(input, &[input.len() as i32], dtype);
    let r = f(&a, dev).unwrap();
    assert_eq!(r.dtype(), dtype);
    values(&r)
}

fn sign_bits(a: &Array) -> Vec<bool> {
    a.to_vec::<f32>()
        .unwrap()
        .iter()
        .map(|x| x.is_sign_negative())
        .collect()
}

fn ints(a: &Array) -> Vec<i32> {
    mx::astype(a, Dtype::Int32, None)
        .unwrap()
        .to_vec::<i32>()
        .unwrap()
}

device_tests! {
    fn unary_math_matches_mlx(dev: Device) {
        let cases: &[(&str, Unary, &[f64], &[f64])] = &[
            ("expm1", |a, d| mx::expm1(a, d), X, EXPM1_X),
            ("expm1 P", |a, d| mx::expm1(a, d), P, EXPM1_P),
            ("tan", |a, d| mx::tan(a, d), X, TAN_X),
            ("arcsin", |a, d| mx::arcsin(a, d), X, ARCSIN_X),
            ("arccos", |a, d| mx::arccos(a, d), X, ARCCOS_X),
            ("arctan", |a, d| mx::arctan(a, d), X, ARCTAN_X),
            ("sinh", |a, d| mx::sinh(a, d), X, SINH_X),
            ("cosh", |a, d| mx::cosh(a, d), X, COSH_X),
            ("arcsinh", |a, d| mx::arcsinh(a, d), X, ARCSINH_X),
            ("arcsinh P", |a, d| mx::arcsinh(a, d), P, ARCSINH_P),
            ("arctanh", |a, d| mx::arctanh(a, d), X, ARCTANH_X),
            ("degrees", |a, d| mx::degrees(a, d), X, DEGREES_X),
            ("radians", |a, d| mx::radians(a, d), X, RADIANS_X),
            ("trunc", |a, d| mx::trunc(a, d), X, TRUNC_X),
            ("log2", |a, d| mx::log2(a, d), P, LOG2_P),
            ("log10", |a, d| mx::log10(a, d), P, LOG10_P),
            ("arccosh", |a, d| mx::arccosh(a, d), P, ARCCOSH_P),
        ];
        for &(name, f, input, want) in cases {
            let (atol, rtol) = tol(Dtype::Float32);
            // Subnormal inputs (1e-40) may be flushed to zero by a GPU.
            let skip_subnormal = |v: Vec<f64>| -> Vec<f64> {
                v.into_iter().zip(input).map(|(g, &x)| if x == 1e-40 { f64::NAN } else { g }).collect()
            };
            let got = skip_subnormal(run_unary(dev, f, input, Dtype::Float32));
            let want = skip_subnormal(want.to_vec());
            check(name, &got, &want, atol, rtol);
        }
        let halves: &[HalfCase] = &[
            ("expm1", |a, d| mx::expm1(a, d), X, EXPM1_X_F16, EXPM1_X_BF16),
            ("sinh", |a, d| mx::sinh(a, d), X, SINH_X_F16, SINH_X_BF16),
            ("arctanh", |a, d| mx::arctanh(a, d), X, ARCTANH_X_F16, ARCTANH_X_BF16),
            ("arcsinh", |a, d| mx::arcsinh(a, d), X, ARCSINH_X_F16, ARCSINH_X_BF16),
            ("log2", |a, d| mx::log2(a, d), X, LOG2_X_F16, LOG2_X_BF16),
            ("degrees", |a, d| mx::degrees(a, d), X, DEGREES_X_F16, DEGREES_X_BF16),
        ];
        for &(name, f, input, want16, wantb16) in halves {
            for (dt, want) in [(Dtype::Float16, want16), (Dtype::Bfloat16, wantb16)] {
                let (atol, rtol) = tol(dt);
                check(&format!("{name} {dt}"), &run_unary(dev, f, input, dt), want, atol, rtol);
            }
        }
    }

    fn unary_edges_and_signed_zeros(dev: Device) {
        let z = Array::from_slice(&[-0.0f32, 0.0], &[2]);
        let odd: &[(&str, Unary)] = &[
            ("expm1", |a, d| mx::expm1(a, d)),
            ("tan", |a, d| mx::tan(a, d)),
            ("arcsin", |a, d| mx::arcsin(a, d)),
            ("arctan", |a, d| mx::arctan(a, d)),
            ("sinh", |a, d| mx::sinh(a, d)),
            ("arcsinh", |a, d| mx::arcsinh(a, d)),
            ("arctanh", |a, d| mx::arctanh(a, d)),
            ("degrees", |a, d| mx::degrees(a, d)),
            ("radians", |a, d| mx::radians(a, d)),
            ("trunc", |a, d| mx::trunc(a, d)),
        ];
        for &(name, f) in odd {
            assert_eq!(sign_bits(&f(&z, dev).unwrap()), vec![true, false], "{name}(-0, 0)");
        }
        let special = Array::from_slice(&[f32::INFINITY, f32::NEG_INFINITY, f32::NAN], &[3]);
        let v = |f: Unary| values(&f(&special, dev).unwrap());
        check("expm1 inf", &v(mx::expm1), &[f64::INFINITY, -1.0, f64::NAN], 0.0, 0.0);
        check("sinh inf", &v(mx::sinh), &[f64::INFINITY, f64::NEG_INFINITY, f64::NAN], 0.0, 0.0);
        check("cosh inf", &v(mx::cosh), &[f64::INFINITY, f64::INFINITY, f64::NAN], 0.0, 0.0);
        check("arcsinh inf", &v(mx::arcsinh), &[f64::INFINITY, f64::NEG_INFINITY, f64::NAN], 0.0, 0.0);
        check("arccosh inf", &v(mx::arccosh), &[f64::INFINITY, f64::NAN, f64::NAN], 0.0, 0.0);
        check("log2 inf", &v(mx::log2), &[f64::INFINITY, f64::NAN, f64::NAN], 0.0, 0.0);
        check("arctan inf", &v(mx::arctan), &[1.5707963705062866, -1.5707963705062866, f64::NAN], 1e-7, 1e-6);
        let edges = Array::from_slice(&[1.0f32, -1.0, 0.0, -2.0], &[4]);
        check("arctanh ±1", &values(&mx::arctanh(&edges, dev).unwrap()), &[f64::INFINITY, f64::NEG_INFINITY, 0.0, f64::NAN], 0.0, 0.0);
        check("log10 0", &values(&mx::log10(&edges, dev).unwrap()), &[0.0, f64::NAN, f64::NEG_INFINITY, f64::NAN], 0.0, 0.0);
        // Integers and bool compute float-only ops as float32; round and trunc keep them.
        let i = Array::from_slice(&[1i32, 2], &[2]);
        let r = mx::expm1(&i, dev).unwrap();
        assert_eq!(r.dtype(), Dtype::Float32);
        check("expm1 int", &values(&r), &[1.7182817459106445, 6.389056205749512], 1e-7, 2e-5);
        assert_eq!(mx::log2(&Array::from_slice(&[true], &[1]), dev).unwrap().to_vec::<f32>().unwrap(), vec![0.0]);
        assert_eq!(mx::sinh(&Array::from_slice(&[1u8], &[1]), dev).unwrap().dtype(), Dtype::Float32);
        assert_eq!(mx::trunc(&i, dev).unwrap().to_vec::<i32>().unwrap(), vec![1, 2]);
        assert_eq!(mx::round(&i, 0, dev).unwrap().dtype(), Dtype::Int32);
        assert_eq!(mx::degrees(&i, dev).unwrap().dtype(), Dtype::Float32);
    }

    fn round_with_decimals(dev: Device) {
        let a = make(R, &[12], Dtype::Float32);
        for (d, want) in [(0, ROUND_0), (1, ROUND_1), (2, ROUND_2), (-1, ROUND_M1), (-2, ROUND_M2), (-3, ROUND_M3)] {
            let r = mx::round(&a, d, dev).unwrap();
            assert_eq!(r.dtype(), Dtype::Float32);
            check(&format!("round {d}"), &values(&r), want, 0.0, 0.0);
        }
        assert!(sign_bits(&mx::round(&a, 0, dev).unwrap())[2], "round(-0.5) is -0");
        let h = make(R, &[12], Dtype::Float16);
        check("round f16 1", &values(&mx::round(&h, 1, dev).unwrap()), ROUND_F16_1, 0.0, 0.0);
        let i = Array::from_slice(&[15i32, 25, -15, 14, 150], &[5]);
        assert_eq!(mx::round(&i, -1, dev).unwrap().to_vec::<i32>().unwrap(), vec![20, 20, -20, 10, 150]);
        assert_eq!(mx::round(&i, 2, dev).unwrap().to_vec::<i32>().unwrap(), vec![15, 25, -15, 14, 150]);
        let u = Array::from_slice(&[15u8, 25], &[2]);
        let ru = mx::round(&u, -1, dev).unwrap();
        assert_eq!((ru.dtype(), ru.to_vec::<u8>().unwrap()), (Dtype::Uint8, vec![20, 20]));
        let b = mx::round(&Array::from_slice(&[true], &[1]), -1, dev).unwrap();
        assert_eq!((b.dtype(), b.to_vec::<bool>().unwrap()), (Dtype::Bool, vec![false]));
    }

    fn predicates_and_nan_to_num(dev: Device) {
        let v = [1.0f32, f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.0];
        for dt in [Dtype::Float32, Dtype::Float16, Dtype::Bfloat16] {
            let a = mx::astype(&Array::from_slice(&v, &[5]), dt, Device::cpu()).unwrap();
            let b = |r: wmx::Result<Array>| r.unwrap().to_vec::<bool>().unwrap();
            assert_eq!(b(mx::isnan(&a, dev)), vec![false, true, false, false, false], "{dt}");
            assert_eq!(b(mx::isinf(&a, dev)), vec![false, false, true, true, false], "{dt}");
            assert_eq!(b(mx::isfinite(&a, dev)), vec![true, false, false, false, true], "{dt}");
            assert_eq!(b(mx::isposinf(&a, dev)), vec![false, false, true, false, false], "{dt}");
            assert_eq!(b(mx::isneginf(&a, dev)), vec![false, false, false, true, false], "{dt}");
        }
        let i = Array::from_slice(&[1i32, 2], &[2]);
        assert_eq!(mx::isnan(&i, dev).unwrap().to_vec::<bool>().unwrap(), vec![false, false]);
        assert_eq!(mx::isfinite(&Array::from_slice(&[true], &[1]), dev).unwrap().to_vec::<bool>().unwrap(), vec![true]);
        assert_eq!(mx::isneginf(&Array::from_slice(&[1u8], &[1]), dev).unwrap().dtype(), Dtype::Bool);
        // Defaults: the dtype's largest finite values (MLX).
        let a = Array::from_slice(&v, &[5]);
        for (dt, max) in [(Dtype::Float32, 3.4028234663852886e38), (Dtype::Float16, 65504.0), (Dtype::Bfloat16, 3.3895313892515355e38)] {
            let x = mx::astype(&a, dt, Device::cpu()).unwrap();
            let r = mx::nan_to_num(&x, 0.0, None, None, dev).unwrap();
            assert_eq!(r.dtype(), dt);
            check(&format!("nan_to_num {dt}"), &values(&r), &[1.0, 0.0, max, -max, 0.0], 0.0, 0.0);
        }
        let r = mx::nan_to_num(&a, 5.0, Some(100.0), Some(-100.0), dev).unwrap();
        check("nan_to_num given", &values(&r), &[1.0, 5.0, 100.0, -100.0, 0.0], 0.0, 0.0);
        // The value is converted to the dtype: 1e6 overflows float16 to inf, as in MLX.
        let h = mx::astype(&a, Dtype::Float16, Device::cpu()).unwrap();
        assert_eq!(values(&mx::nan_to_num(&h, 1e6, None, None, dev).unwrap())[1], f64::INFINITY);
        assert_eq!(mx::nan_to_num(&i, 5.0, None, None, dev).unwrap().to_vec::<i32>().unwrap(), vec![1, 2]);
    }

    fn float_division_family(dev: Device) {
        let (a, b) = (make(A, &[12], Dtype::Float32), make(B, &[12], Dtype::Float32));
        let q = mx::floor_divide(&a, &b, dev).unwrap();
        check("floor_divide", &values(&q), FLOOR_DIVIDE_AB, 0.0, 0.0);
        let r = mx::remainder(&a, &b, dev).unwrap();
        check("remainder", &values(&r), REMAINDER_AB, 0.0, 0.0);
        assert_eq!(sign_bits(&q), FLOOR_DIVIDE_AB.iter().map(|x| x.is_sign_negative()).collect::<Vec<_>>());
        assert!(sign_bits(&r)[6], "-0 % 3 is -0");
        let (q2, r2) = mx::divmod(&a, &b, dev).unwrap();
        check("divmod q", &values(&q2), FLOOR_DIVIDE_AB, 0.0, 0.0);
        check("divmod r", &values(&r2), REMAINDER_AB, 0.0, 0.0);
        check("arctan2", &values(&mx::arctan2(&a, &b, dev).unwrap()), ARCTAN2_AB, 1e-7, 2e-5);
        let z = Array::from_slice(&[0.0f32, -0.0, 0.0, -0.0], &[4]);
        let w = Array::from_slice(&[-0.0f32, -0.0, 0.0, 0.0], &[4]);
        let t = mx::arctan2(&z, &w, dev).unwrap();
        check("arctan2 zeros", &values(&t), &[3.1415927410125732, -3.1415927410125732, 0.0, 0.0], 0.0, 0.0);
        assert_eq!(sign_bits(&t), vec![false, true, false, true]);
        let (l1, l2) = (make(L1, &[12], Dtype::Float32), make(L2, &[12], Dtype::Float32));
        check("logaddexp", &values(&mx::logaddexp(&l1, &l2, dev).unwrap()), LOGADDEXP, 1e-6, 2e-5);
        let (h1, h2) = (make(L1, &[12], Dtype::Float16), make(L2, &[12], Dtype::Float16));
        let lh = mx::logaddexp(&h1, &h2, dev).unwrap();
        assert_eq!(lh.dtype(), Dtype::Float16);
        check("logaddexp f16", &values(&lh), LOGADDEXP_F16, 1e-3, 2e-3);
        // Integers compute logaddexp and arctan2 as float32; bf16 keeps its dtype.
        let i = Array::from_slice(&[7i32, -7], &[2]);
        let j = Array::from_slice(&[2i32, 2], &[2]);
        let li = mx::logaddexp(&i, &j, dev).unwrap();
        assert_eq!(li.dtype(), Dtype::Float32);
        check("logaddexp int", &values(&li), &[7.006715297698975, 2.0001235008239746], 1e-6, 2e-5);
        check("arctan2 int", &values(&mx::arctan2(&i, &j, dev).unwrap()), &[1.292496681213379, -1.292496681213379], 1e-7, 2e-5);
        let bf = mx::astype(&Array::from_slice(&[7.5f32], &[1]), Dtype::Bfloat16, Device::cpu()).unwrap();
        let rb = mx::remainder(&bf, 2, dev).unwrap();
        assert_eq!((rb.dtype(), values(&rb)), (Dtype::Bfloat16, vec![1.5]));
        assert_eq!(mx::floor_divide(&i, 2.0, dev).unwrap().to_vec::<f32>().unwrap(), vec![3.0, -4.0]);
    }

    fn integer_division_family(dev: Device) {
        let i = Array::from_slice(&[7i32, -7, 7, -7, 0, 5, i32::MIN, i32::MIN, -5], &[9]);
        let j = Array::from_slice(&[2i32, 2, -2, -2, 3, 0, -1, 1, 0], &[9]);
        let q = mx::floor_divide(&i, &j, dev).unwrap();
        assert_eq!(q.dtype(), Dtype::Int32);
        assert_eq!(q.to_vec::<i32>().unwrap(), vec![3, -4, -4, 3, 0, 0, i32::MIN, i32::MIN, 0]);
        let r = mx::remainder(&i, &j, dev).unwrap();
        assert_eq!(r.to_vec::<i32>().unwrap(), vec![1, 1, -1, -1, 0, 5, 0, 0, -5]);
        let u = Array::from_slice(&[7u8, 200, 0, 5], &[4]);
        let v = Array::from_slice(&[2u8, 3, 0, 0], &[4]);
        let (qu, ru) = mx::divmod(&u, &v, dev).unwrap();
        assert_eq!((qu.dtype(), qu.to_vec::<u8>().unwrap()), (Dtype::Uint8, vec![3, 66, 0, 0]));
        assert_eq!(ru.to_vec::<u8>().unwrap(), vec![1, 2, 0, 5]);
        let w = Array::from_slice(&[5u32, 4_000_000_000], &[2]);
        assert_eq!(mx::floor_divide(&w, 0u32, dev).unwrap().to_vec::<u32>().unwrap(), vec![0, 0]);
        assert_eq!(mx::remainder(&w, 7u32, dev).unwrap().to_vec::<u32>().unwrap(), vec![5, 4_000_000_000 % 7]);
        let b = Array::from_slice(&[true, false, true, false], &[4]);
        let c = Array::from_slice(&[true, true, false, false], &[4]);
        let qb = mx::floor_divide(&b, &c, dev).unwrap();
        assert_eq!((qb.dtype(), qb.to_vec::<bool>().unwrap()), (Dtype::Bool, vec![true, false, false, false]));
        assert_eq!(mx::remainder(&b, &c, dev).unwrap().to_vec::<bool>().unwrap(), vec![false, false, true, false]);
    }

    fn bitwise_and_shifts(dev: Device) {
        let i = Array::from_slice(&[7i32, -7, 7, -7, 0, 5], &[6]);
        let j = Array::from_slice(&[2i32, 2, -2, -2, 3, 0], &[6]);
        assert_eq!(mx::bitwise_and(&i, &j, dev).unwrap().to_vec::<i32>().unwrap(), vec![2, 0, 6, -8, 0, 0]);
        assert_eq!(mx::bitwise_or(&i, &j, dev).unwrap().to_vec::<i32>().unwrap(), vec![7, -5, -1, -1, 3, 5]);
        assert_eq!(mx::bitwise_xor(&i, &j, dev).unwrap().to_vec::<i32>().unwrap(), vec![5, -5, -7, 7, 3, 5]);
        let u = Array::from_slice(&[7u8, 200, 0, 5], &[4]);
        let v = Array::from_slice(&[2u8, 3, 0, 0], &[4]);
        let o = mx::bitwise_or(&u, &v, dev).unwrap();
        assert_eq!((o.dtype(), o.to_vec::<u8>().unwrap()), (Dtype::Uint8, vec![7, 203, 0, 5]));
        let b = Array::from_slice(&[true, false, true, false], &[4]);
        let c = Array::from_slice(&[true, true, false, false], &[4]);
        let x = mx::bitwise_xor(&b, &c, dev).unwrap();
        assert_eq!((x.dtype(), x.to_vec::<bool>().unwrap()), (Dtype::Bool, vec![false, true, true, false]));
        assert_eq!(mx::bitwise_and(&b, &c, dev).unwrap().to_vec::<bool>().unwrap(), vec![true, false, false, false]);
        assert_eq!(mx::logical_xor(&i, &j, dev).unwrap().to_vec::<bool>().unwrap(), vec![false, false, false, false, true, true]);
        // Shift counts modulo 32 (MLX's CPU), arithmetic right shift for int32.
        let one = Array::from_slice(&[1i32, 1, 1, -1, 1, 1], &[6]);
        let n = Array::from_slice(&[1i32, 31, 32, 1, 33, -1], &[6]);
        assert_eq!(mx::left_shift(&one, &n, dev).unwrap().to_vec::<i32>().unwrap(), vec![2, i32::MIN, 1, -2, 2, i32::MIN]);
        let e = Array::from_slice(&[-8i32, -8, 8, -8, 8], &[5]);
        let m = Array::from_slice(&[1i32, 31, 32, 33, -1], &[5]);
        assert_eq!(mx::right_shift(&e, &m, dev).unwrap().to_vec::<i32>().unwrap(), vec![-4, -1, 8, -4, 0]);
        let u1 = Array::from_slice(&[1u8, 1, 1], &[3]);
        let s = Array::from_slice(&[7u8, 8, 9], &[3]);
        assert_eq!(mx::left_shift(&u1, &s, dev).unwrap().to_vec::<u8>().unwrap(), vec![128, 0, 0]);
        let w = Array::from_slice(&[1u32, 1, 1], &[3]);
        let ws = Array::from_slice(&[31u32, 32, 33], &[3]);
        assert_eq!(mx::left_shift(&w, &ws, dev).unwrap().to_vec::<u32>().unwrap(), vec![2147483648, 1, 2]);
        let hi = Array::from_slice(&[2147483648u32, 2147483648], &[2]);
        assert_eq!(mx::right_shift(&hi, Array::from_slice(&[32u32, 33], &[2]), dev).unwrap().to_vec::<u32>().unwrap(), vec![2147483648, 1073741824]);
        // Bool shifts compute as uint8 (MLX).
        let bs = mx::left_shift(&b, &c, dev).unwrap();
        assert_eq!((bs.dtype(), bs.to_vec::<u8>().unwrap()), (Dtype::Uint8, vec![2, 0, 1, 0]));
        assert_eq!(mx::right_shift(&b, &c, dev).unwrap().to_vec::<u8>().unwrap(), vec![0, 0, 1, 0]);
        assert_eq!(mx::left_shift(&u, 1, dev).unwrap().to_vec::<u8>().unwrap(), vec![14, 144, 0, 10]);
        // bitwise_invert: ints, uint8 (within 8 bits), uint32, bool (logical not).
        assert_eq!(mx::bitwise_invert(&i, dev).unwrap().to_vec::<i32>().unwrap(), vec![-8, 6, -8, 6, -1, -6]);
        assert_eq!(mx::bitwise_invert(&u, dev).unwrap().to_vec::<u8>().unwrap(), vec![248, 55, 255, 250]);
        assert_eq!(mx::bitwise_invert(&b, dev).unwrap().to_vec::<bool>().unwrap(), vec![false, true, false, true]);
        assert_eq!(mx::bitwise_invert(&Array::from_slice(&[1u32], &[1]), dev).unwrap().to_vec::<u32>().unwrap(), vec![4294967294]);
    }

    fn closeness_and_equality(dev: Device) {
        let nan = f32::NAN;
        let inf = f32::INFINITY;
        let a = Array::from_slice(&[1.0f32, nan, inf, inf, 1.0, 1e8, -inf], &[7]);
        let b = Array::from_slice(&[1.00001f32, nan, inf, -inf, 1.1, 1e8 + 5.0, -inf], &[7]);
        let r = mx::isclose(&a, &b, 1e-5, 1e-8, true, dev).unwrap();
        assert_eq!(r.to_vec::<bool>().unwrap(), vec![false, true, true, false, false, true, true]);
        let r = mx::isclose(&a, &b, 1e-5, 1e-8, false, dev).unwrap();
        assert_eq!(r.to_vec::<bool>().unwrap(), vec![false, false, true, false, false, true, true]);
        // A negative rtol can make even equal finite values "not close" (MLX).
        let one = Array::from_slice(&[1.0f32], &[1]);
        assert_eq!(mx::isclose(&one, &one, -1.0, 1e-8, false, dev).unwrap().to_vec::<bool>().unwrap(), vec![false]);
        let bb = Array::from_slice(&[true, false, true, false], &[4]);
        let cc = Array::from_slice(&[true, true, false, false], &[4]);
        assert_eq!(mx::isclose(&bb, &cc, 1e-5, 1e-8, false, dev).unwrap().to_vec::<bool>().unwrap(), vec![true, false, false, true]);
        let h = mx::astype(&one, Dtype::Float16, Device::cpu()).unwrap();
        assert!(mx::isclose(&h, &h, 1e-5, 1e-8, false, dev).unwrap().to_vec::<bool>().unwrap()[0]);
        let item = |r: wmx::Result<Array>| {
            let r = r.unwrap();
            assert_eq!((r.dtype(), r.ndim()), (Dtype::Bool, 0));
            r.item::<bool>().unwrap()
        };
        let row = Array::from_slice(&[1i32, 2], &[1, 2]);
        let flat = Array::from_slice(&[1i32, 2], &[2]);
        assert!(item(mx::allclose(&row, &flat, 1e-5, 1e-8, false, dev)));
        assert!(!item(mx::allclose(&a, &b, 1e-5, 1e-8, false, dev)));
        let nans = Array::from_slice(&[nan], &[1]);
        assert!(item(mx::allclose(&nans, &nans, 1e-5, 1e-8, true, dev)));
        assert!(!item(mx::allclose(&nans, &nans, 1e-5, 1e-8, false, dev)));
        // array_equal: shapes must match exactly (no broadcasting, no error); dtypes may differ.
        assert!(!item(mx::array_equal(&row, &flat, false, dev)));
        let flat3 = Array::from_slice(&[1.0f32, 2.0, 3.0], &[3]);
        assert!(!item(mx::array_equal(&flat, &flat3, false, dev)));
        assert!(item(mx::array_equal(&flat, Array::from_slice(&[1.0f32, 2.0], &[2]), false, dev)));
        assert!(item(mx::array_equal(Array::from_slice(&[1u8, 2], &[2]), &flat, false, dev)));
        assert!(!item(mx::array_equal(&flat, Array::from_slice(&[1i32, 3], &[2]), false, dev)));
        assert!(item(mx::array_equal(&nans, &nans, true, dev)));
        assert!(!item(mx::array_equal(&nans, &nans, false, dev)));
    }

    fn weak_scalars_follow_mlx(dev: Device) {
        let f16 = mx::astype(&Array::from_slice(&[1.0f32], &[1]), Dtype::Float16, Device::cpu()).unwrap();
        let bf = mx::astype(&f16, Dtype::Bfloat16, Device::cpu()).unwrap();
        let u8a = Array::from_slice(&[1u8], &[1]);
        let i32a = Array::from_slice(&[1i32], &[1]);
        let u32a = Array::from_slice(&[1u32], &[1]);
        let b = Array::from_slice(&[true], &[1]);
        let dt = |r: wmx::Result<Array>| r.unwrap().dtype();
        // (mx.array([1], mx.float16) + 2.0).dtype == float16, and so on (MLX 0.32.4).
        assert_eq!(dt(mx::add(&f16, 2.0, dev)), Dtype::Float16);
        assert_eq!(dt(mx::add(&bf, 1, dev)), Dtype::Bfloat16);
        assert_eq!(dt(mx::add(&u8a, 255, dev)), Dtype::Uint8);
        assert_eq!(mx::add(&u8a, 255, dev).unwrap().to_vec::<u8>().unwrap(), vec![0]);
        assert_eq!(dt(mx::add(&i32a, 2.5, dev)), Dtype::Float32);
        assert_eq!(dt(mx::add(&u8a, 2.5, dev)), Dtype::Float32);
        assert_eq!(dt(mx::add(true, &b, dev)), Dtype::Bool);
        assert_eq!(dt(mx::add(true, &u8a, dev)), Dtype::Uint8);
        assert_eq!(dt(mx::add(&f16, true, dev)), Dtype::Float16);
        assert_eq!(dt(mx::add(&b, 2, dev)), Dtype::Int32);
        assert_eq!(dt(mx::add(&b, 2.0, dev)), Dtype::Float32);
        assert_eq!(dt(mx::multiply(&i32a, true, dev)), Dtype::Int32);
        assert_eq!(dt(mx::divide(&u8a, 2, dev)), Dtype::Float32);
        assert_eq!(dt(mx::power(&u8a, 2, dev)), Dtype::Uint8);
        assert_eq!(dt(mx::power(&i32a, 2.5, dev)), Dtype::Float32);
        assert_eq!(dt(mx::maximum(&i32a, 2.5, dev)), Dtype::Float32);
        assert_eq!(dt(mx::less(&u8a, 3, dev)), Dtype::Bool);
        // Two scalars: bool < int32 < float32.
        assert_eq!(mx::add(2, 3, dev).unwrap().item::<i32>().unwrap(), 5);
        assert_eq!(dt(mx::add(2.0, 3, dev)), Dtype::Float32);
        assert_eq!(dt(mx::add(true, 3, dev)), Dtype::Int32);
        // Floats overflow a half dtype to inf; integers out of an integer dtype's range are errors.
        assert_eq!(values(&mx::add(&f16, 1e10, dev).unwrap()), vec![f64::INFINITY]);
        for r in [mx::add(&u8a, 300, dev), mx::add(&u8a, -1, dev), mx::add(&u32a, -1, dev), mx::add(&i32a, 1i64 << 40, dev), mx::less(&u8a, 300, dev)] {
            let e = r.unwrap_err().to_string();
            assert!(e.contains("overflow"), "{e}");
        }
        // where_ with scalar branches.
        assert_eq!(dt(mx::where_(&b, &f16, 2.0, dev)), Dtype::Float16);
        assert_eq!(dt(mx::where_(&b, 1, 2.0, dev)), Dtype::Float32);
        assert_eq!(dt(mx::where_(&b, &u8a, 3, dev)), Dtype::Uint8);
        assert_eq!(dt(mx::where_(&b, true, 3, dev)), Dtype::Int32);
        assert_eq!(mx::where_(&b, 7, 3, dev).unwrap().to_vec::<i32>().unwrap(), vec![7]);
        // Owned arrays and &&Array work too.
        let refs = [&i32a];
        assert_eq!(mx::add(refs[0], i32a.clone(), dev).unwrap().to_vec::<i32>().unwrap(), vec![2]);
        let _ = mx::add(refs[0], 1u32, dev).unwrap();
    }

    fn operators_with_scalars(dev: Device) {
        let _g = mx::stream(dev);
        let a = Array::from_slice(&[7i32, -7], &[2]);
        assert_eq!((&a + 1).to_vec::<i32>().unwrap(), vec![8, -6]);
        assert_eq!((2 * &a).to_vec::<i32>().unwrap(), vec![14, -14]);
        assert_eq!((&a % 2).to_vec::<i32>().unwrap(), vec![1, 1]);
        assert_eq!((&a / 2).to_vec::<f32>().unwrap(), vec![3.5, -3.5]);
        assert_eq!((&a & 3).to_vec::<i32>().unwrap(), vec![3, 1]);
        assert_eq!((&a | 8).to_vec::<i32>().unwrap(), vec![15, -7]);
        assert_eq!((&a ^ 1).to_vec::<i32>().unwrap(), vec![6, -8]);
        assert_eq!((&a << 1).to_vec::<i32>().unwrap(), vec![14, -14]);
        assert_eq!((&a >> 1).to_vec::<i32>().unwrap(), vec![3, -4]);
        assert_eq!((!&a).to_vec::<i32>().unwrap(), vec![-8, 6]);
        let h = mx::astype(&a, Dtype::Float16, None).unwrap();
        let r = &h * 0.5f32;
        assert_eq!((r.dtype(), values(&r)), (Dtype::Float16, vec![3.5, -3.5]));
        assert_eq!(values(&(1.0 - h.clone())), vec![-6.0, 8.0]);
        assert_eq!(values(&(a.clone() - &a)), vec![0.0, 0.0]);
        assert_eq!(ints(&(&a + a.clone())), vec![14, -14]);
    }

    fn bad_inputs_name_the_op(dev: Device) {
        let f = Array::from_slice(&[1.0f32], &[1]);
        let i = Array::from_slice(&[1i32], &[1]);
        let cases: Vec<(&str, wmx::Result<Array>)> = vec![
            ("bitwise_and", mx::bitwise_and(&f, &f, dev)),
            ("bitwise_or", mx::bitwise_or(&i, 1.5, dev)),
            ("bitwise_xor", mx::bitwise_xor(&f, &i, dev)),
            ("left_shift", mx::left_shift(&f, 1, dev)),
            ("right_shift", mx::right_shift(&i, &f, dev)),
            ("bitwise_invert", mx::bitwise_invert(&f, dev)),
            ("floor_divide", mx::floor_divide(Array::from_slice(&[1i32, 2], &[2]), Array::from_slice(&[1i32, 2, 3], &[3]), dev)),
            ("add", mx::add(Array::from_slice(&[1u8], &[1]), 256, dev)),
            ("isclose", mx::isclose(Array::from_slice(&[1.0f32, 2.0], &[2]), Array::from_slice(&[1.0f32, 2.0, 3.0], &[3]), 1e-5, 1e-8, false, dev)),
        ];
        for (op, r) in cases {
            let e = r.expect_err(op).to_string();
            assert!(e.contains(op) || e.contains("broadcast"), "{op}: {e}");
        }
        let e = mx::bitwise_and(&f, &f, dev).unwrap_err().to_string();
        assert!(e.contains("[bitwise_and]") && e.contains("integer or boolean"), "{e}");
    }
}

#[test]
#[should_panic(expected = "bitwise_and")]
fn operator_on_bad_dtype_panics_with_the_message() {
    let f = Array::from_slice(&[1.0f32], &[1]);
    let _ = &f & 1;
}
