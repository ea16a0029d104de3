//! Property tests of the transform rules, for every differentiable op, on the CPU and the GPU.
//!
//! For each case (an op at seeded random shapes, with inputs kept away from kinks, ties and
//! domain edges, some passed as strided views) it checks:
//! (a) the dot-product identity ⟨vjp(f)(c), t⟩ = ⟨c, jvp(f)(t)⟩ for random c, t: a vjp rule and a
//!     jvp rule that disagree cannot both be right;
//! (b) both against float32 central differences ⟨c, (f(x+εt) − f(x−εt))/2ε⟩: catches a rule that
//!     is wrong in both modes the same way (`a_wrong_rule_is_caught` shows a flipped sign fails);
//! (c) `vmap(f)` of a batch equals stacking `f` per example, with in_axes 0, with the batch axis
//!     last on inputs and outputs, and with the last input unmapped.
//! The checker is in `grad_props/harness.rs`; the cases in `grad_props/cases_*.rs`.

#[path = "grad_props/cases_conv.rs"]
mod cases_conv;
#[path = "grad_props/cases_math.rs"]
mod cases_math;
#[path = "grad_props/cases_shape.rs"]
mod cases_shape;
mod common;
#[path = "grad_props/harness.rs"]
mod harness;

use harness::{Rng, case, check_grad, run_all};
use wmx::{self as mx, Array, Device};

/// Cases whose checks fail because of a bug in a rule (see the ignored `known_bugs` test).
const KNOWN_BUGS: &[&str] = &[];

fn all_cases() -> Vec<harness::Case> {
    let mut rng = Rng::new(0x5eed);
    let mut v = cases_math::elementwise(&mut rng);
    v.extend(cases_math::reductions(&mut rng));
    v.extend(cases_math::scans(&mut rng));
    v.extend(cases_math::sorting(&mut rng));
    v.extend(cases_shape::linalg(&mut rng));
    v.extend(cases_shape::indexing(&mut rng));
    v.extend(cases_shape::structure(&mut rng));
    v.extend(cases_conv::conv(&mut rng));
    v
}

fn group(g: fn(&mut Rng) -> Vec<harness::Case>, seed: u64) -> Vec<harness::Case> {
    g(&mut Rng::new(seed))
}

device_tests! {
    fn elementwise(dev: Device) { run_all(&group(cases_math::elementwise, 1), dev, KNOWN_BUGS) }
    fn reductions(dev: Device) { run_all(&group(cases_math::reductions, 2), dev, KNOWN_BUGS) }
    fn scans(dev: Device) { run_all(&group(cases_math::scans, 3), dev, KNOWN_BUGS) }
    fn sort_topk_partition_softmax(dev: Device) { run_all(&group(cases_math::sorting, 4), dev, KNOWN_BUGS) }
    fn linalg(dev: Device) { run_all(&group(cases_shape::linalg, 5), dev, KNOWN_BUGS) }
    fn indexing(dev: Device) { run_all(&group(cases_shape::indexing, 6), dev, KNOWN_BUGS) }
    fn structure(dev: Device) { run_all(&group(cases_shape::structure, 7), dev, KNOWN_BUGS) }
    fn conv(dev: Device) { run_all(&group(cases_conv::conv, 8), dev, KNOWN_BUGS) }
}

/// The checker must be able to fail: `sin` with a vjp and a jvp of the wrong sign (consistent
/// with each other, so only the finite differences can see it), and with only the vjp wrong.
#[test]
fn a_wrong_rule_is_caught() {
    let mut rng = Rng::new(9);
    let both = mx::custom_function(|p: &[Array]| Ok(vec![mx::sin(&p[0], None)?]))
        .vjp(|p, c, _| {
            Ok(vec![mx::negative(
                &mx::multiply(&c[0], &mx::cos(&p[0], None)?, None)?,
                None,
            )?])
        })
        .jvp(|p, t| {
            Ok(vec![mx::negative(
                &mx::multiply(&t[0], &mx::cos(&p[0], None)?, None)?,
                None,
            )?])
        });
    let b2 = both.clone();
    let c = case("sin with negated rules")
        .input(&mut rng, &[3, 4], harness::Dom::Any)
        .f(move |p, _| b2.call(p));
    let e = check_grad(&c, Device::cpu(), 1).unwrap_err();
    assert!(e.contains("finite differences"), "{e}");
    let vjp_only =
        mx::custom_function(|p: &[Array]| Ok(vec![mx::sin(&p[0], None)?])).vjp(|p, c, _| {
            Ok(vec![mx::negative(
                &mx::multiply(&c[0], &mx::cos(&p[0], None)?, None)?,
                None,
            )?])
        });
    let c = case("sin with a negated vjp")
        .input(&mut rng, &[5], harness::Dom::Any)
        .f(move |p, _| vjp_only.call(p));
    let e = check_grad(&c, Device::cpu(), 2).unwrap_err();
    assert!(e.contains("dot identity"), "{e}");
    // The correct rules pass.
    let ok = case("sin")
        .input(&mut rng, &[3, 4], harness::Dom::Any)
        .f(|p, d| Ok(vec![mx::sin(&p[0], d)?]));
    check_grad(&ok, Device::cpu(), 3).unwrap();
}

/// Every case name is unique (the skip list and reports refer to them by name).
#[test]
fn case_names_are_unique() {
    let v = all_cases();
    let mut names: Vec<&str> = v.iter().map(|c| c.name.as_str()).collect();
    let n = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), n);
    eprintln!("{n} cases");
}

device_tests! {
    #[ignore = "BUG: see KNOWN_BUGS and the report"]
    fn known_bugs(dev: Device) {
        let v: Vec<harness::Case> = all_cases().into_iter().filter(|c| KNOWN_BUGS.contains(&c.name.as_str())).collect();
        run_all(&v, dev, &[])
    }
}
