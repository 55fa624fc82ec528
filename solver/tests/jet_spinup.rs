//! A spun-up MEDIDA forced jet (96 x 192, leapfrog as released, 250 time units from rest plus
//! noise): the upper-layer zonal-mean zonal wind, averaged over the last 100, is a single eastward jet centred in the channel with a peak near U1 = 1,
//! westward at the sponge edges, and the run stays bounded.

use medida_solver::jet::{JetConstants, jet_model, jet_params};
use ndarray::Axis;

#[test]
fn forced_jet_spins_up_to_a_single_centred_eastward_jet() {
    let params = jet_params(96, 192);
    let mut m = jet_model(params.clone(), &JetConstants::default()).unwrap();
    let q0 = medida_solver::init::pyqg_random_q(m.grid(), 0) * 1e4;
    m.set_q(q0.view()).unwrap();
    // 150 time units of spin-up, then the zonal-mean upper-layer wind averaged over the next 100
    // (sampled every time unit): 250 time units in all, as in the released code's spin-up.
    let per_unit = (1.0 / params.dt).round() as u64;
    m.run(150 * per_unit).expect("the jet run stays bounded");
    let mut ubar = ndarray::Array1::<f64>::zeros(params.ny);
    for _ in 0..100 {
        m.run(per_unit)
            .expect("the jet run stays bounded for 250 time units");
        let [_, u, _] = m.p_u_v();
        ubar += &(u.index_axis(Axis(0), 0).mean_axis(Axis(1)).unwrap() / 100.0);
    }
    let y: Vec<f64> = m.grid().y().iter().map(|y| y - params.W / 2.0).collect();
    let (jmax, umax) = ubar
        .iter()
        .enumerate()
        .fold((0, f64::MIN), |a, (j, &v)| if v > a.1 { (j, v) } else { a });
    println!("peak {umax:.3} at y = {:.2}", y[jmax]);
    assert!((0.5..1.5).contains(&umax), "jet peak {umax}");
    assert!(
        y[jmax].abs() < 3.5,
        "jet centred at y = {} (sigma = 3.5)",
        y[jmax]
    );
    // Single jet: eastward flow above a fifth of the peak only in one band around the centre.
    let strong: Vec<usize> = (0..y.len()).filter(|&j| ubar[j] > 0.2 * umax).collect();
    assert!(
        strong.windows(2).all(|w| w[1] == w[0] + 1),
        "more than one eastward band: rows {strong:?}"
    );
    assert!(
        strong.iter().all(|&j| y[j].abs() < 12.0),
        "eastward band reaches y = {:?}",
        strong.iter().map(|&j| y[j]).collect::<Vec<_>>()
    );
    // The sponge edges carry the westward return flow of u_eq.
    assert!(
        ubar[0] < -0.3 && ubar[y.len() - 1] < -0.3,
        "edges: {} {}",
        ubar[0],
        ubar[y.len() - 1]
    );
    let d = m.diagnostics();
    assert!(d.energy.is_finite() && d.cfl < 1.0);
}
