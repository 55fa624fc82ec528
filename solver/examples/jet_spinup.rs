//! Spin up the MEDIDA forced-jet truth model and print the upper-layer zonal-mean zonal wind.
//!
//!     cargo run --release -p medida-solver --example jet_spinup [time units, default 250]

use medida_solver::jet::{JetConstants, jet_model, jet_params};
use ndarray::Axis;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let t_end: f64 = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(250.0);
    let params = jet_params(96, 192);
    let mut m = jet_model(params.clone(), &JetConstants::default())?;
    let q0 = medida_solver::init::pyqg_random_q(m.grid(), 0) * 1e4;
    m.set_q(q0.view())?;
    let steps = (t_end / params.dt).round() as u64;
    let start = std::time::Instant::now();
    m.run(steps)?;
    let secs = start.elapsed().as_secs_f64();
    let [p, u, _] = m.p_u_v();
    let ubar = u.index_axis(Axis(0), 0).mean_axis(Axis(1)).unwrap();
    let y: Vec<f64> = m.grid().y().iter().map(|y| y - params.W / 2.0).collect();
    let (jmax, umax) = ubar
        .iter()
        .enumerate()
        .fold((0, f64::MIN), |a, (j, &v)| if v > a.1 { (j, v) } else { a });
    println!(
        "{steps} steps ({t_end} time units) in {secs:.1} s ({:.0} steps/s)",
        steps as f64 / secs
    );
    println!(
        "upper-layer zonal-mean u: max {umax:.3} at y = {:.2} (channel centre 0)",
        y[jmax]
    );
    let std = |a: ndarray::ArrayView2<f64>| a.std(0.0);
    let eke: f64 = {
        let ubar2 = u.index_axis(Axis(0), 0).mean_axis(Axis(1)).unwrap();
        let up = &u.index_axis(Axis(0), 0) - &ubar2.insert_axis(Axis(1));
        0.5 * up.mapv(|v| v * v).mean().unwrap()
    };
    println!(
        "std psi1 {:.3}, std psi2 {:.3}, upper-layer eddy KE {eke:.4}",
        std(p.index_axis(Axis(0), 0)),
        std(p.index_axis(Axis(0), 1))
    );
    for j in (0..192).step_by(16) {
        println!("  y = {:7.2}  u1 = {:7.3}", y[j], ubar[j]);
    }
    Ok(())
}
