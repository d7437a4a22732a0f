//! Profiling driver for the projection kernel (not part of the library):
//! `cargo run --release -p alvh-core --example projection_profile -- PATHS [greek_paths]`
//! (the bench's 8-leg book; `LEGS=n` keeps the first n legs).
use alvh_core::legs::LegKind;
use alvh_core::projection::{
    monte_carlo, pnl_statistics, ProjectionInputs, ProjectionOut, VolDynamics, STATS,
};
use alvh_core::smile::Ssvi;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let paths: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let greek_paths: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(4096).min(paths);
    let (s_count, h) = (12usize, 10usize);
    // The bench's 8-leg book: the condor, two VIX calls, a short VIX future, an SPX put.
    let kind = [
        LegKind::SpxOption,
        LegKind::SpxOption,
        LegKind::SpxOption,
        LegKind::SpxOption,
        LegKind::VixOption,
        LegKind::VixOption,
        LegKind::VixFuture,
        LegKind::SpxOption,
    ];
    let legs: usize = std::env::var("LEGS").ok().and_then(|s| s.parse().ok()).unwrap_or(kind.len());
    let kind = &kind[..legs];
    let n_nodes = 797;
    let nodes: Vec<f64> = (0..n_nodes).map(|i| 1.0 + 0.25 * i as f64).collect();
    let mut table_atm = vec![0.0; h * legs * n_nodes];
    let mut table_vvol = vec![0.0; h * legs * n_nodes];
    for (i, x) in table_atm.iter_mut().enumerate() {
        *x = 0.9 * nodes[i % n_nodes] / 100.0;
    }
    for x in table_vvol.iter_mut() {
        *x = 0.9;
    }
    let zeros = vec![0.0; h * legs * n_nodes];
    let fut_a = vec![5.0; h * legs];
    let fut_b = vec![0.8; h * legs];
    let inputs = ProjectionInputs {
        kind,
        is_call: &[false, false, true, true, true, true, false, false][..legs],
        strike: &[5575.0, 5625.0, 6300.0, 6350.0, 25.0, 30.0, 0.0, 5400.0][..legs],
        weight: &[1000.0, -1000.0, -1000.0, 1000.0, 500.0, 500.0, -1000.0, 200.0][..legs],
        expiry_day: &[46, 46, 46, 46, 43, 43, 43, 46][..legs],
        spot: 5994.57,
        rate: 0.043,
        div: 0.013,
        vix: 18.62,
        base_value: 0.0,
        drift: &vec![0.05; s_count],
        diffusion_vol: &vec![f64::NAN; s_count],
        vix_beta: &vec![-8.0; s_count],
        vol_of_vix: &vec![0.75; s_count],
        vix_kappa: &vec![12.9; s_count],
        vix_theta: &vec![20.0; s_count],
        atm_vix_ratio: 0.9,
        jump_mean: &vec![0.0; s_count * h],
        jump_std: &vec![0.0; s_count * h],
        vix_jump_mean: &vec![0.0; s_count * h],
        vix_jump_std: &vec![0.0; s_count * h],
        days: h,
        paths,
        seed: 1,
        greek_paths,
        vix_lo: 1.0,
        vix_step: 0.25,
        n_nodes,
        table_atm: &table_atm,
        table_change: &zeros,
        table_vvol: &table_vvol,
        fut_a: &fut_a,
        fut_b: &fut_b,
        dynamics: VolDynamics::StickyMoneyness(Ssvi { rho: -0.7, eta: 1.15, gamma: 0.5 }),
        base_vol: &[0.0; 8][..legs],
        barrier_low: 5625.0,
        barrier_high: 6300.0,
        scenario_offset: 0,
        first_valued_day: 1,
    };
    let mut pnl = vec![0.0; s_count * h * paths];
    let (mut ts, mut tq) = (vec![0.0; s_count * h * 3], vec![0.0; s_count * h * 3]);
    let (mut gs, mut gq) = (vec![0.0; s_count * h * 5], vec![0.0; s_count * h * 5]);
    let start = Instant::now();
    let out = ProjectionOut {
        pnl: &mut pnl,
        touch_sum: &mut ts,
        touch_sumsq: &mut tq,
        greek_sum: &mut gs,
        greek_sumsq: &mut gq,
        spot: None,
        vix: None,
    };
    monte_carlo(&inputs, out)?;
    let kernel = start.elapsed();
    let mut per = vec![0.0; s_count * h * STATS];
    let mut mix = vec![0.0; h * STATS];
    let start = Instant::now();
    pnl_statistics(&pnl, &[1.0 / 12.0; 12], h, paths, &mut per, &mut mix)?;
    println!("kernel {:?} stats {:?} mean day10 {}", kernel, start.elapsed(), mix[(h - 1) * STATS]);
    Ok(())
}
