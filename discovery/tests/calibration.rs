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
}
