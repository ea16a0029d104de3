//! Cases for linear algebra, indexing (take/gather/scatter/slices/index) and structure ops.

use super::harness::{Case, Dom, Rng, View, case};
use wmx::{self as mx, Array, Ix, PadMode, TensorAxes};

fn idx(v: &[i32], shape: &[i32]) -> Array {
    Array::from_slice(v, shape)
}

pub fn linalg(rng: &mut Rng) -> Vec<Case> {
    let (m, k, n) = (rng.int(2, 4), rng.int(2, 5), rng.int(2, 4));
    let b = rng.int(2, 3);
    vec![
        case("matmul")
            .input(rng, &[m, k], Dom::Any)
            .view(View::Transposed)
            .input(rng, &[k, n], Dom::Any)
            .f(|p, d| Ok(vec![mx::matmul(&p[0], &p[1], d)?])),
        case("matmul batched broadcast")
            .input(rng, &[b, m, k], Dom::Any)
            .input(rng, &[k, n], Dom::Any)
            .view(View::Strided)
            .f(|p, d| Ok(vec![mx::matmul(&p[0], &p[1], d)?])),
        case("matmul vector-matrix")
            .input(rng, &[k], Dom::Any)
            .input(rng, &[b, k, n], Dom::Any)
            .f(|p, d| Ok(vec![mx::matmul(&p[0], &p[1], d)?])),
        case("matmul matrix-vector")
            .input(rng, &[m, k], Dom::Any)
            .input(rng, &[k], Dom::Any)
            .f(|p, d| Ok(vec![mx::matmul(&p[0], &p[1], d)?])),
        case("addmm alpha 0.5 beta 2")
            .input(rng, &[m, n], Dom::Any)
            .input(rng, &[m, k], Dom::Any)
            .input(rng, &[k, n], Dom::Any)
            .view(View::Transposed)
            .f(|p, d| Ok(vec![mx::addmm(&p[0], &p[1], &p[2], 0.5, 2.0, d)?])),
        case("addmm broadcast c")
            .input(rng, &[n], Dom::Any)
            .input(rng, &[m, k], Dom::Any)
            .input(rng, &[k, n], Dom::Any)
            .f(|p, d| Ok(vec![mx::addmm(&p[0], &p[1], &p[2], 1.0, 1.0, d)?])),
        case("inner")
            .input(rng, &[m, k], Dom::Any)
            .input(rng, &[n, k], Dom::Any)
            .f(|p, d| Ok(vec![mx::inner(&p[0], &p[1], d)?])),
        case("outer")
            .input(rng, &[m, 2], Dom::Any)
            .input(rng, &[n], Dom::Any)
            .f(|p, d| Ok(vec![mx::outer(&p[0], &p[1], d)?])),
        case("tensordot count 2")
            .input(rng, &[b, m, k], Dom::Any)
            .input(rng, &[m, k, n], Dom::Any)
            .f(|p, d| Ok(vec![mx::tensordot(&p[0], &p[1], 2, d)?])),
        case("tensordot lists")
            .input(rng, &[k, m], Dom::Any)
            .view(View::Transposed)
            .input(rng, &[n, k], Dom::Any)
            .f(|p, d| {
                Ok(vec![mx::tensordot(
                    &p[0],
                    &p[1],
                    TensorAxes::Lists(vec![0], vec![1]),
                    d,
                )?])
            }),
        case("einsum ij,jk->ik")
            .input(rng, &[m, k], Dom::Any)
            .input(rng, &[k, n], Dom::Any)
            .f(|p, d| Ok(vec![mx::einsum("ij,jk->ik", &[&p[0], &p[1]], d)?])),
        case("einsum bij,bkj->bik")
            .input(rng, &[b, m, k], Dom::Any)
            .input(rng, &[b, n, k], Dom::Any)
            .f(|p, d| Ok(vec![mx::einsum("bij,bkj->bik", &[&p[0], &p[1]], d)?])),
        case("einsum ii->i, i->")
            .input(rng, &[k, k], Dom::Any)
            .view(View::Transposed)
            .f(|p, d| {
                Ok(vec![
                    mx::einsum("ii->i", &[&p[0]], d)?,
                    mx::einsum("ij->", &[&p[0]], d)?,
                ])
            }),
    ]
}

pub fn indexing(rng: &mut Rng) -> Vec<Case> {
    let (r, c) = (rng.int(3, 5), rng.int(3, 5));
    let mut v = vec![
        case("take axis 0 (repeated indices)")
            .input(rng, &[r, c], Dom::Any)
            .view(View::Transposed)
            .f(|p, d| Ok(vec![mx::take(&p[0], &idx(&[2, 0, 2, -1], &[2, 2]), 0, d)?])),
        case("take axis 1")
            .input(rng, &[r, c], Dom::Any)
            .f(|p, d| Ok(vec![mx::take(&p[0], &idx(&[1, 1, 0], &[3]), 1, d)?])),
        case("take_along_axis")
            .input(rng, &[3, 4], Dom::Any)
            .view(View::Strided)
            .f(|p, d| {
                Ok(vec![mx::take_along_axis(
                    &p[0],
                    &idx(&[3, 0, 1, 1, 2, 2], &[3, 2]),
                    Some(1),
                    d,
                )?])
            }),
        case("take_along_axis flat")
            .input(rng, &[3, 4], Dom::Any)
            .f(|p, d| {
                Ok(vec![mx::take_along_axis(
                    &p[0],
                    &idx(&[11, 0, 5, 5], &[4]),
                    None,
                    d,
                )?])
            }),
        case("put_along_axis")
            .input(rng, &[3, 4], Dom::Any)
            .input(rng, &[3, 1], Dom::Any)
            .f(|p, d| {
                Ok(vec![mx::put_along_axis(
                    &p[0],
                    &idx(&[2, 0, 3], &[3, 1]),
                    &p[1],
                    Some(1),
                    d,
                )?])
            }),
        case("gather 2 axes")
            .input(rng, &[4, 5], Dom::Any)
            .view(View::Transposed)
            .f(|p, d| {
                let (a, b) = (idx(&[2, 0, 3], &[3]), idx(&[1, 3, 0], &[3]));
                Ok(vec![mx::gather(&p[0], &[&a, &b], &[0, 1], &[1, 2], d)?])
            }),
        case("gather axis 1 repeated")
            .input(rng, &[3, 4, 2], Dom::Any)
            .f(|p, d| {
                let a = idx(&[1, 1, 3, 0], &[2, 2]);
                Ok(vec![mx::gather(&p[0], &[&a], &[1], &[2, 1, 2], d)?])
            }),
        case("scatter (unique indices)")
            .input(rng, &[5, 3], Dom::Any)
            .input(rng, &[2, 1, 3], Dom::Any)
            .f(|p, d| {
                Ok(vec![mx::scatter(
                    &p[0],
                    &[&idx(&[3, 0], &[2])],
                    &p[1],
                    &[0],
                    d,
                )?])
            }),
        case("scatter_add (repeated indices)")
            .input(rng, &[5, 3], Dom::Any)
            .view(View::Strided)
            .input(rng, &[3, 1, 2], Dom::Any)
            .f(|p, d| {
                Ok(vec![mx::scatter_add(
                    &p[0],
                    &[&idx(&[1, 4, 1], &[3])],
                    &p[1],
                    &[0],
                    d,
                )?])
            }),
        case("scatter_add 2 axes")
            .input(rng, &[4, 4], Dom::Any)
            .input(rng, &[2, 1, 1], Dom::Any)
            .f(|p, d| {
                Ok(vec![mx::scatter_add(
                    &p[0],
                    &[&idx(&[1, 3], &[2]), &idx(&[2, 2], &[2])],
                    &p[1],
                    &[0, 1],
                    d,
                )?])
            }),
        case("slice with steps")
            .input(rng, &[r, 6], Dom::Any)
            .view(View::Transposed)
            .f(|p, d| Ok(vec![mx::slice(&p[0], &[1, 0], &[3, 6], &[1, 2], d)?])),
        case("slice_update")
            .input(rng, &[4, 5], Dom::Any)
            .input(rng, &[2, 2], Dom::Any)
            .f(|p, d| {
                Ok(vec![mx::slice_update(
                    &p[0],
                    &p[1],
                    &[1, 0],
                    &[3, 4],
                    &[1, 2],
                    d,
                )?])
            }),
        case("index [1:, ::-1]")
            .input(rng, &[r, c], Dom::Any)
            .view(View::Strided)
            .f(|p, d| {
                Ok(vec![mx::index(
                    &p[0],
                    &[Ix::range(1..), Ix::step(.., -1)],
                    d,
                )?])
            }),
        case("index [array, 2]")
            .input(rng, &[r, c], Dom::Any)
            .f(|p, d| {
                Ok(vec![mx::index(
                    &p[0],
                    &[Ix::Array(idx(&[0, 2, 0], &[3])), Ix::Index(2)],
                    d,
                )?])
            }),
        case("index [newaxis, ..., array]")
            .input(rng, &[2, r, c], Dom::Any)
            .f(|p, d| {
                Ok(vec![mx::index(
                    &p[0],
                    &[Ix::NewAxis, Ix::Ellipsis, Ix::Array(idx(&[1, -1], &[2]))],
                    d,
                )?])
            }),
        case("index_put [1:3, array]")
            .input(rng, &[4, 4], Dom::Any)
            .input(rng, &[2, 2], Dom::Any)
            .f(|p, d| {
                Ok(vec![mx::index_put(
                    &p[0],
                    &[Ix::range(1..3), Ix::Array(idx(&[3, 0], &[2]))],
                    &p[1],
                    d,
                )?])
            }),
        case("at[array].add (repeated)")
            .input(rng, &[5], Dom::Any)
            .input(rng, &[3], Dom::Any)
            .f(|p, d| {
                Ok(vec![
                    p[0].at(&[Ix::Array(idx(&[1, 3, 1], &[3]))]).add(&p[1], d)?,
                ])
            }),
    ];
    v.push(
        case("at[array].maximum")
            .values(&[4], vec![0.1, 0.9, -0.5, 0.3])
            .values(&[2], vec![0.5, -0.9])
            .f(|p, d| {
                Ok(vec![
                    p[0].at(&[Ix::Array(idx(&[0, 2], &[2]))])
                        .maximum(&p[1], d)?,
                ])
            }),
    );
    v
}

pub fn structure(rng: &mut Rng) -> Vec<Case> {
    let (a, b, c) = (rng.int(2, 3), rng.int(2, 4), rng.int(2, 4));
    vec![
        case("reshape")
            .input(rng, &[a, b, c], Dom::Any)
            .view(View::Transposed)
            .f(move |p, d| Ok(vec![mx::reshape(&p[0], &[a * b, c], d)?])),
        case("transpose")
            .input(rng, &[a, b, c], Dom::Any)
            .f(|p, d| Ok(vec![mx::transpose(&p[0], &[2, 0, 1], d)?])),
        case("broadcast_to")
            .input(rng, &[b, 1], Dom::Any)
            .f(move |p, d| Ok(vec![mx::broadcast_to(&p[0], &[a, b, c], d)?])),
        case("concatenate axis 1")
            .input(rng, &[a, b], Dom::Any)
            .input(rng, &[a, c], Dom::Any)
            .view(View::Transposed)
            .input(rng, &[a, 1], Dom::Any)
            .f(|p, d| Ok(vec![mx::concatenate(&[&p[0], &p[1], &p[2]], 1, d)?])),
        case("stack axis -1")
            .input(rng, &[a, b], Dom::Any)
            .input(rng, &[a, b], Dom::Any)
            .view(View::Strided)
            .f(|p, d| Ok(vec![mx::stack(&[&p[0], &p[1]], -1, d)?])),
        case("split 3 (all outputs)")
            .input(rng, &[a, 6], Dom::Any)
            .view(View::Transposed)
            .f(|p, d| mx::split(&p[0], 3, 1, d)),
        case("split, one output used")
            .input(rng, &[6, b], Dom::Any)
            .f(|p, d| Ok(vec![mx::split(&p[0], 2, 0, d)?.remove(1)])),
        case("pad constant")
            .input(rng, &[a, b], Dom::Any)
            .f(|p, d| {
                Ok(vec![mx::pad(
                    &p[0],
                    &[(1, 2), (0, 1)],
                    PadMode::Constant,
                    0.5,
                    d,
                )?])
            }),
        case("pad edge")
            .input(rng, &[a, b], Dom::Any)
            .view(View::Strided)
            .f(|p, d| {
                Ok(vec![mx::pad(
                    &p[0],
                    &[(2, 1), (1, 0)],
                    PadMode::Edge,
                    0.0,
                    d,
                )?])
            }),
        case("pad reflect").input(rng, &[3, 4], Dom::Any).f(|p, d| {
            Ok(vec![mx::pad(
                &p[0],
                &[(1, 1), (2, 2)],
                PadMode::Reflect,
                0.0,
                d,
            )?])
        }),
        case("pad symmetric")
            .input(rng, &[3, 4], Dom::Any)
            .f(|p, d| {
                Ok(vec![mx::pad(
                    &p[0],
                    &[(1, 2), (0, 3)],
                    PadMode::Symmetric,
                    0.0,
                    d,
                )?])
            }),
        case("tile")
            .input(rng, &[a, b], Dom::Any)
            .view(View::Transposed)
            .f(|p, d| Ok(vec![mx::tile(&p[0], &[2, 1, 3], d)?])),
        case("repeat axis 1")
            .input(rng, &[a, b], Dom::Any)
            .f(|p, d| Ok(vec![mx::repeat(&p[0], 3, Some(1), d)?])),
        case("repeat flat")
            .input(rng, &[a, b], Dom::Any)
            .view(View::Strided)
            .f(|p, d| Ok(vec![mx::repeat(&p[0], 2, None, d)?])),
        case("roll axes")
            .input(rng, &[a, b, c], Dom::Any)
            .f(|p, d| Ok(vec![mx::roll(&p[0], &[1, -2], Some(&[0, 2]), d)?])),
        case("roll flat")
            .input(rng, &[a, b], Dom::Any)
            .view(View::Transposed)
            .f(|p, d| Ok(vec![mx::roll(&p[0], &[3], None, d)?])),
        case("flip")
            .input(rng, &[a, b, c], Dom::Any)
            .f(|p, d| Ok(vec![mx::flip(&p[0], Some(&[0, 2]), d)?])),
        case("moveaxis")
            .input(rng, &[a, b, c], Dom::Any)
            .view(View::Strided)
            .f(|p, d| Ok(vec![mx::moveaxis(&p[0], 0, -1, d)?])),
        case("squeeze")
            .input(rng, &[a, 1, b], Dom::Any)
            .f(|p, d| Ok(vec![mx::squeeze(&p[0], &[1], d)?])),
        case("expand_dims")
            .input(rng, &[a, b], Dom::Any)
            .view(View::Transposed)
            .f(|p, d| Ok(vec![mx::expand_dims(&p[0], &[0, 2], d)?])),
        case("as_strided overlapping windows")
            .input(rng, &[8], Dom::Any)
            .f(|p, d| Ok(vec![mx::as_strided(&p[0], &[3, 4], &[2, 1], 0, d)?])),
        case("as_strided offset")
            .input(rng, &[3, 4], Dom::Any)
            .f(|p, d| Ok(vec![mx::as_strided(&p[0], &[2, 2], &[4, 2], 1, d)?])),
    ]
}
