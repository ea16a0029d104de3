//! Cases for the convolutions: strides that do and do not divide the input, asymmetric padding,
//! padding wider than the kernel, negative padding, kernel and input dilation, groups
//! (depthwise too), flip, and transposed convolutions with output_padding; 1 to 3 spatial dims.
//! Several are the configurations where MLX's own input gradient has the wrong shape (see
//! KNOWN_DIFFS in tests/grad_mlx.rs): here they are held to finite differences.

use super::harness::{Case, Dom, Rng, View, case};
use wmx as mx;

#[allow(clippy::too_many_arguments)]
fn general(
    name: &str,
    rng: &mut Rng,
    x: &[i32],
    w: &[i32],
    stride: &'static [i32],
    lo: &'static [i32],
    hi: &'static [i32],
    kdil: &'static [i32],
    idil: &'static [i32],
    groups: i32,
    flip: bool,
) -> Case {
    case(name)
        .input(rng, x, Dom::Any)
        .input(rng, w, Dom::Any)
        .f(move |p, d| {
            Ok(vec![mx::conv_general(
                &p[0], &p[1], stride, lo, hi, kdil, idil, groups, flip, d,
            )?])
        })
}

pub fn conv(rng: &mut Rng) -> Vec<Case> {
    vec![
        case("conv1d stride 3 not dividing, dilation 2")
            .input(rng, &[2, 11, 2], Dom::Any)
            .input(rng, &[3, 3, 2], Dom::Any)
            .f(|p, d| Ok(vec![mx::conv1d(&p[0], &p[1], 3, 1, 2, 1, d)?])),
        case("conv2d groups 2 stride 2")
            .input(rng, &[1, 7, 6, 4], Dom::Any)
            .view(View::Strided)
            .input(rng, &[4, 3, 3, 2], Dom::Any)
            .f(|p, d| {
                Ok(vec![mx::conv2d(
                    &p[0],
                    &p[1],
                    (2, 2),
                    (1, 1),
                    (1, 1),
                    2,
                    d,
                )?])
            }),
        case("conv2d depthwise")
            .input(rng, &[2, 5, 4, 3], Dom::Any)
            .input(rng, &[3, 3, 2, 1], Dom::Any)
            .view(View::Transposed)
            .f(|p, d| {
                Ok(vec![mx::conv2d(
                    &p[0],
                    &p[1],
                    (1, 1),
                    (1, 0),
                    (1, 1),
                    3,
                    d,
                )?])
            }),
        case("conv3d strided")
            .input(rng, &[1, 4, 5, 3, 2], Dom::Any)
            .input(rng, &[2, 2, 3, 2, 2], Dom::Any)
            .f(|p, d| {
                Ok(vec![mx::conv3d(
                    &p[0],
                    &p[1],
                    (2, 1, 2),
                    (1, 0, 1),
                    (1, 1, 1),
                    1,
                    d,
                )?])
            }),
        general(
            "conv_general asymmetric padding, input and kernel dilation",
            rng,
            &[1, 6, 5, 2],
            &[3, 3, 2, 2],
            &[2, 1],
            &[0, 2],
            &[1, 0],
            &[2, 1],
            &[1, 2],
            1,
            false,
        ),
        general(
            "conv_general groups, flip, asymmetric padding, input dilation",
            rng,
            &[1, 5, 4, 4],
            &[4, 2, 2, 2],
            &[1, 1],
            &[1, 1],
            &[2, 0],
            &[1, 1],
            &[3, 2],
            2,
            true,
        ),
        general(
            "conv_general padding wider than the kernel",
            rng,
            &[2, 4, 2],
            &[2, 2, 2],
            &[2],
            &[3],
            &[1],
            &[1],
            &[1],
            1,
            false,
        ),
        general(
            "conv_general negative padding",
            rng,
            &[1, 9, 2],
            &[2, 3, 2],
            &[1],
            &[-2],
            &[-1],
            &[1],
            &[1],
            1,
            true,
        ),
        case("conv_transpose3d output_padding")
            .input(rng, &[1, 2, 3, 2, 2], Dom::Any)
            .input(rng, &[2, 3, 2, 2, 2], Dom::Any)
            .f(|p, d| {
                Ok(vec![mx::conv_transpose3d(
                    &p[0],
                    &p[1],
                    (2, 2, 2),
                    (1, 0, 1),
                    (1, 1, 1),
                    (1, 1, 0),
                    1,
                    d,
                )?])
            }),
        case("conv_transpose2d stride 2 output_padding 1")
            .input(rng, &[2, 3, 4, 2], Dom::Any)
            .input(rng, &[3, 3, 3, 2], Dom::Any)
            .f(|p, d| {
                Ok(vec![mx::conv_transpose2d(
                    &p[0],
                    &p[1],
                    (2, 2),
                    (1, 1),
                    (1, 1),
                    (1, 1),
                    1,
                    d,
                )?])
            }),
    ]
}
