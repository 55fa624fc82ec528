//! Ensemble Kalman inversion of a closure constant from the coarse model's spectrum alone.

mod common;

use medida_discovery::closure::calibrate::{EkiSettings, calibrate};
use medida_discovery::closure::eki::Eki;

/// Perfect-model calibration (smarl reference, acceptance test c): data made by the coarse
/// model itself with Smagorinsky `cs = 0.1`, from the same initial state and window as the
/// forward map, so `G(0.1) = y` exactly; from a prior median of 0.2, EKI recovers 0.1
/// within 5%.
#[test]
fn perfect_model_calibration_recovers_the_constant() {
    // A developed state: the unclosed model spun up from pyqg's random state.
    let (forward, free, y) = common::small_calibration(3000, 100, 400, 8);
    // Exact data: a noise far below the closure's effect on a 20-day window (its log
    // spectrum moves by 3e-4 RMS between cs = 0.09 and 0.1).
    let eki = Eki::new(y.clone(), vec![1e-10; y.len()]).unwrap();
    let settings = EkiSettings {
        members: 10,
        iterations: 6,
        seed: 1,
        prior: vec![0.2],
        prior_log_sd: 0.5,
        upper: Vec::new(),
        step: Some(1.0),
    };
    let its = calibrate(&eki, &forward, &free, &settings, &mut |_| {}).unwrap();
    let cs = its.last().unwrap().mean[0];
    println!(
        "{:?}",
        its.iter()
            .map(|i| (i.mean[0], i.log_sd[0]))
            .collect::<Vec<_>>()
    );
    assert!((cs - 0.1).abs() < 0.005, "cs = {cs}");
    // The same seed gives the same ensemble.
    let again = calibrate(&eki, &forward, &free, &settings, &mut |_| {}).unwrap();
    assert_eq!(again, its);

    // Bounded above (EKP's `bounded(0, 0.25)`: the logit of cs / 0.25 is inverted), from the
    // same prior median: no member of any iteration passes the bound (the prior alone, a
    // log-sd of 0.5 about 0.2, would put a third of the members above 0.25), and the constant
    // is recovered within 5% all the same.
    let bounded = EkiSettings {
        upper: vec![Some(0.25)],
        ..settings
    };
    let its = calibrate(&eki, &forward, &free, &bounded, &mut |_| {}).unwrap();
    assert!(
        its.iter()
            .flat_map(|i| &i.constants)
            .all(|c| c[0] > 0.0 && c[0] < 0.25),
        "{:?}",
        its.iter().map(|i| &i.constants).collect::<Vec<_>>()
    );
    let cs = its.last().unwrap().mean[0];
    assert!((cs - 0.1).abs() < 0.005, "bounded: cs = {cs}");
}

/// The transforms of constrained constants (EKP's `bounded_below(0)` and `bounded(0, U)`):
/// the inverse of each other to round-off, the logit's 0 at half the bound, and a parameter
/// however large mapping below the bound.
#[test]
fn the_log_and_logit_transforms_invert_each_other() {
    use medida_discovery::closure::calibrate::Transform;
    let t = Transform::new(vec![None, Some(1.2)]).unwrap();
    for c in [[1e-3, 1e-3], [0.3, 0.6], [5.0, 1.199]] {
        let back = t.constrained(&t.unconstrained(&c));
        for (a, b) in c.iter().zip(&back) {
            // ln and exp each to within an ulp or two; the logit's 1.2 - c loses
            // log2(1.2 / (1.2 - c)) bits, 11 at c = 1.199.
            assert!(
                (a - b).abs() <= 1e-12 * a.abs().max(1.0),
                "{c:?} -> {back:?}"
            );
        }
    }
    assert_eq!(t.unconstrained(&[1.0, 0.6])[1], 0.0);
    assert!(t.constrained(&[0.0, 30.0])[1] < 1.2);
    assert!(Transform::new(vec![Some(0.0)]).is_err());
    assert!(Transform::new(vec![Some(f64::NAN)]).is_err());
}
