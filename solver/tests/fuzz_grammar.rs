//! The term grammar's parser never panics: arbitrary text, and text made of the grammar's own
//! tokens in random order and nesting, parse to an expression or a named error; what parses
//! prints back to text that parses to the same expression. Bounded (a few thousand cases) so it
//! runs in CI, from a fixed seed (the same cases every run; change the seed to explore more);
//! a failure prints the minimal case (nothing is written to the source tree).

use medida_solver::Expr;
use proptest::prelude::*;

/// Every kind of token the grammar knows, and some it does not.
const TOKENS: &[&str] = &[
    "psi1", "psi2", "q1", "q2", "psi_R", "s", "x", "y", "u1", "v2", "q", "psi", "u", "c1", "lap",
    "lap2", "lap4", "dx", "dy", "grad", "eddy", "d8", "adv", "adv1", "J", "cos", "sqrt", "abs",
    "mean", "(", ")", "(", ")", ",", "+", "-", "*", "/", "1", "2.5", "1e300", "1e-320", "0", "nan",
    "inf", " ", "lap9", "@",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, rng_seed: proptest::test_runner::RngSeed::Fixed(20261203), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,80}") {
        let _ = Expr::parse(&text);
    }

    #[test]
    fn the_grammars_own_tokens_never_panic_and_round_trip(
        tokens in prop::collection::vec(prop::sample::select(TOKENS), 0..48)
    ) {
        let text = tokens.concat();
        if let Ok(e) = Expr::parse(&text) {
            let printed = e.to_string();
            let again = Expr::parse(&printed);
            prop_assert!(again.as_ref().is_ok_and(|a| *a == e), "{text:?} prints as {printed:?}, which parses to {again:?}");
        }
    }
}

/// Text of a well-formed expression: fields and numbers combined by operators, Jacobians,
/// products, sums, quotients and functions, up to 6 levels deep.
fn expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        prop::sample::select(vec![
            "psi1", "psi2", "q1", "q2", "u1", "v2", "psi_R", "s", "x", "y"
        ])
        .prop_map(str::to_string),
        (1u32..1000).prop_map(|n| format!("{}", f64::from(n) / 8.0)),
    ];
    leaf.prop_recursive(6, 64, 2, |inner| {
        prop_oneof![
            (
                prop::sample::select(vec![
                    "lap", "lap2", "dx", "dy", "grad", "eddy", "d8", "cos", "sqrt", "abs", "adv1"
                ]),
                inner.clone()
            )
                .prop_map(|(op, a)| format!("{op}({a})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("J({a}, {b})")),
            (
                inner.clone(),
                prop::sample::select(vec!["+", "-", "*", "/"]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("({a}) {op} ({b})")),
            inner.prop_map(|a| format!("-({a})")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, rng_seed: proptest::test_runner::RngSeed::Fixed(20261203), ..ProptestConfig::default() })]

    #[test]
    fn well_formed_expressions_parse_and_print_back_the_same(text in expression()) {
        let e = Expr::parse(&text);
        prop_assert!(e.is_ok(), "{text:?}: {e:?}");
        let e = e.unwrap();
        let printed = e.to_string();
        let again = Expr::parse(&printed);
        prop_assert!(again.as_ref().is_ok_and(|a| *a == e), "{text:?} prints as {printed:?}, which parses to {again:?}");
    }
}

/// Nesting is bounded (a deep library is a named error, not a stack overflow), at any depth.
#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for depth in [33, 1000, 100_000] {
        let text = format!("{}psi1{}", "lap(".repeat(depth), ")".repeat(depth));
        let err = Expr::parse(&text).unwrap_err().to_string();
        assert!(err.contains("nested deeper than"), "{depth}: {err}");
    }
}
