//! The Monte Carlo projection: the position revalued on every path and day of an
//! SPX/VIX simulation, per scenario (docs/projection_engine.md is the contract,
//! shared with the numpy fallback).
//!
//! Work is cut into tasks of one scenario and a block of paths, by index, so the
//! numbers do not depend on the thread count: each path's random words come from
//! Philox4x32-10 keyed by the seed with the counter (path, scenario, day, block),
//! and the per-task sums are added in task order.
//!
//! The parts, one file each: `checks.rs` (every input value and length, before any
//! work), `paths.rs` (the random streams, the daily SPX/VIX step, the barrier
//! touches, and the tasks that run them), `valuation.rs` (each leg's value,
//! settlement and Greeks on a day's paths, from the VIX tables and the smile), and
//! `statistics.rs` (the P&L distribution per scenario and of the mixture).

mod checks;
mod paths;
mod statistics;
mod valuation;

use crate::error::Result;
use crate::legs::LegKind;
use crate::smile::{Ssvi, SviSmiles};

pub use paths::{LN_VIX_MAX, LN_VIX_MIN};
pub use statistics::{pnl_statistics, QUANTILES, STATS};

/// Calendar days per year (ACT/365).
const DAYS_PER_YEAR: f64 = 365.0;
/// Touch outputs per (scenario, day): lower barrier, upper barrier, either.
pub const TOUCH_KINDS: usize = 3;
/// Greek outputs per (scenario, day): delta, gamma, vega, theta, vix_delta.
pub const GREEKS: usize = 5;

/// How the SPX vol of a strike follows the simulated VIX and spot.
#[derive(Clone, Copy, Debug)]
pub enum VolDynamics<'a> {
    /// The SSVI smile around the tabulated ATM vol (theta follows the path's VIX), in
    /// log-moneyness at the path's forward (it moves with the spot).
    StickyMoneyness(Ssvi),
    /// The same with each SPX leg's own SVI slice (`crate::smile::SviSmiles`).
    StickyMoneynessSvi(SviSmiles<'a>),
    /// `max(base_vol + tabulated change, floor_ratio * atm)`: sticky strike or parallel.
    Additive { floor_ratio: f64 },
}

/// Everything the kernel reads. Per-(scenario, day) arrays are indexed
/// `s * days + (d - 1)`; tables `((d - 1) * legs + l) * n_nodes + i`; futures
/// coefficients `(d - 1) * legs + l`.
pub struct ProjectionInputs<'a> {
    pub kind: &'a [LegKind],
    pub is_call: &'a [bool],
    pub strike: &'a [f64],
    pub weight: &'a [f64],
    pub expiry_day: &'a [i64],
    pub spot: f64,
    pub rate: f64,
    pub div: f64,
    pub vix: f64,
    pub base_value: f64,
    pub drift: &'a [f64],
    pub diffusion_vol: &'a [f64],
    pub vix_beta: &'a [f64],
    pub vol_of_vix: &'a [f64],
    pub vix_kappa: &'a [f64],
    pub vix_theta: &'a [f64],
    pub atm_vix_ratio: f64,
    pub jump_mean: &'a [f64],
    pub jump_std: &'a [f64],
    pub vix_jump_mean: &'a [f64],
    pub vix_jump_std: &'a [f64],
    pub days: usize,
    pub paths: usize,
    pub seed: u64,
    pub greek_paths: usize,
    pub vix_lo: f64,
    pub vix_step: f64,
    pub n_nodes: usize,
    pub table_atm: &'a [f64],
    pub table_change: &'a [f64],
    pub table_vvol: &'a [f64],
    pub fut_a: &'a [f64],
    pub fut_b: &'a [f64],
    pub dynamics: VolDynamics<'a>,
    pub base_vol: &'a [f64],
    pub barrier_low: f64,
    pub barrier_high: f64,
    /// The scenario number of row 0 in the random streams' counters: running the
    /// scenarios one call at a time with offsets 0, 1, ... gives the numbers of one
    /// call with all of them.
    pub scenario_offset: usize,
    /// The first day (1..=days) the book is valued on: before it the paths are
    /// simulated but only settlements of expiring legs are booked, and the P&L rows hold
    /// `settled - base_value`, not the P&L, and the Greek sums are 0. 1 values every
    /// day; `days` values the horizon only (a decision's time-shift check).
    pub first_valued_day: usize,
}

/// Output arrays; `spot` and `vix` (optional) record the paths, like `pnl`
/// indexed `(s * days + d - 1) * paths + p`.
pub struct ProjectionOut<'a> {
    pub pnl: &'a mut [f64],
    pub touch_sum: &'a mut [f64],
    pub touch_sumsq: &'a mut [f64],
    pub greek_sum: &'a mut [f64],
    pub greek_sumsq: &'a mut [f64],
    pub spot: Option<&'a mut [f64]>,
    pub vix: Option<&'a mut [f64]>,
}

/// Runs the projection into `out` (see the module doc and docs/projection_engine.md).
pub fn monte_carlo(inputs: &ProjectionInputs<'_>, out: ProjectionOut<'_>) -> Result<()> {
    inputs.check()?;
    out.check(inputs)?;
    let h = inputs.days;
    let ProjectionOut { pnl, touch_sum, touch_sumsq, greek_sum, greek_sumsq, spot, vix } = out;
    let results = paths::run_tasks(inputs, pnl, spot, vix);
    for x in [&mut *touch_sum, &mut *touch_sumsq, &mut *greek_sum, &mut *greek_sumsq] {
        x.fill(0.0);
    }
    // Sums in task order: the same numbers whatever the thread count.
    for task in &results {
        for d in 0..h {
            for k in 0..TOUCH_KINDS {
                let o = (task.scenario * h + d) * TOUCH_KINDS + k;
                touch_sum[o] += task.touch_sum[d * TOUCH_KINDS + k];
                touch_sumsq[o] += task.touch_sumsq[d * TOUCH_KINDS + k];
            }
            for k in 0..GREEKS {
                let o = (task.scenario * h + d) * GREEKS + k;
                greek_sum[o] += task.greek_sum[d * GREEKS + k];
                greek_sumsq[o] += task.greek_sumsq[d * GREEKS + k];
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A book of two SPX options, a VIX option and a VIX future over H days and S
    /// scenarios (shared with the tests of the other parts).
    pub(super) struct Case {
        kind: Vec<LegKind>,
        table: Vec<f64>,
        vvol: Vec<f64>,
        zeros: Vec<f64>,
        fut_a: Vec<f64>,
        fut_b: Vec<f64>,
        per_s: Vec<f64>,
        per_sd: Vec<f64>,
        theta: Vec<f64>,
        beta: Vec<f64>,
    }

    const H: usize = 4;
    pub(super) const S: usize = 2;
    const NODES: usize = 401;

    pub(super) fn case() -> Case {
        let kind = vec![LegKind::SpxOption, LegKind::SpxOption, LegKind::VixOption, LegKind::VixFuture];
        let legs = kind.len();
        let table = (0..H * legs * NODES).map(|i| 0.009 * (1.0 + 0.5 * (i % NODES) as f64)).collect();
        Case {
            kind,
            table,
            vvol: vec![0.9; H * legs * NODES],
            zeros: vec![0.0; H * legs * NODES],
            fut_a: vec![4.0; H * legs],
            fut_b: vec![0.8; H * legs],
            per_s: vec![0.05; S],
            per_sd: (0..S * H).map(|i| if i % 3 == 1 { 0.01 } else { 0.0 }).collect(),
            theta: vec![20.0; S],
            beta: vec![-6.0; S],
        }
    }

    pub(super) fn inputs(c: &Case, s_range: std::ops::Range<usize>, paths: usize) -> ProjectionInputs<'_> {
        let sd = s_range.start * H..s_range.end * H;
        ProjectionInputs {
            kind: &c.kind,
            is_call: &[false, true, true, false],
            strike: &[5600.0, 6300.0, 25.0, 1.0],
            weight: &[-100.0, -100.0, 300.0, -1000.0],
            expiry_day: &[30, 2, 20, 3],
            spot: 6000.0,
            rate: 0.04,
            div: 0.01,
            vix: 18.0,
            base_value: 100.0,
            drift: &c.per_s[s_range.clone()],
            diffusion_vol: &c.per_s[s_range.clone()],
            vix_beta: &c.beta[s_range.clone()],
            vol_of_vix: &c.per_s[s_range.clone()],
            vix_kappa: &c.per_s[s_range.clone()],
            vix_theta: &c.theta[s_range.clone()],
            atm_vix_ratio: 0.9,
            jump_mean: &c.per_sd[sd.clone()],
            jump_std: &c.per_sd[sd.clone()],
            vix_jump_mean: &c.per_sd[sd.clone()],
            vix_jump_std: &c.per_sd[sd],
            days: H,
            paths,
            seed: 0x1234_5678_9abc,
            greek_paths: paths / 2,
            vix_lo: 1.0,
            vix_step: 0.5,
            n_nodes: NODES,
            table_atm: &c.table,
            table_change: &c.zeros,
            table_vvol: &c.vvol,
            fut_a: &c.fut_a,
            fut_b: &c.fut_b,
            dynamics: VolDynamics::StickyMoneyness(Ssvi { rho: -0.7, eta: 1.15, gamma: 0.5 }),
            base_vol: &[0.0; 4],
            barrier_low: 5600.0,
            barrier_high: 6300.0,
            scenario_offset: s_range.start,
            first_valued_day: 1,
        }
    }

    fn run(inp: &ProjectionInputs<'_>) -> Vec<Vec<f64>> {
        try_run(inp).unwrap()
    }

    fn try_run(inp: &ProjectionInputs<'_>) -> Result<Vec<Vec<f64>>> {
        let (s, h, p) = (inp.drift.len(), inp.days, inp.paths);
        let mut out = vec![vec![0.0; s * h * p], vec![0.0; s * h * 3], vec![0.0; s * h * 3]];
        out.extend([vec![0.0; s * h * 5], vec![0.0; s * h * 5]]);
        let [pnl, ts, tq, gs, gq] = &mut out[..] else { unreachable!() };
        let o = ProjectionOut {
            pnl,
            touch_sum: ts,
            touch_sumsq: tq,
            greek_sum: gs,
            greek_sumsq: gq,
            spot: None,
            vix: None,
        };
        monte_carlo(inp, o)?;
        Ok(out)
    }

    #[test]
    fn valuing_the_horizon_only_keeps_its_numbers_and_the_settlements() {
        // Legs expire on days 2 and 3: their settlements must reach day H's P&L though
        // days 1..H-1 are not valued.
        let c = case();
        let paths = 1500;
        let every_day = run(&inputs(&c, 0..S, paths));
        let mut last_only = inputs(&c, 0..S, paths);
        last_only.first_valued_day = H;
        let horizon = run(&last_only);
        for s in 0..S {
            let rows = |v: &[f64], d: usize, width: usize| v[(s * H + d) * width..][..width].to_vec();
            assert_eq!(rows(&every_day[0], H - 1, paths), rows(&horizon[0], H - 1, paths));
            assert_eq!(rows(&every_day[3], H - 1, 5), rows(&horizon[3], H - 1, 5));
            // Day 1: nothing valued, nothing settled: -base_value; no Greeks before day H.
            assert!(rows(&horizon[0], 0, paths).iter().all(|&x| x == -100.0));
            for d in 0..H - 1 {
                assert!(rows(&horizon[3], d, 5).iter().all(|&x| x == 0.0));
            }
        }
        assert_eq!((&every_day[1], &every_day[2]), (&horizon[1], &horizon[2])); // touches: every day
        for bad in [0, H + 1] {
            last_only.first_valued_day = bad;
            let err = try_run(&last_only).unwrap_err().to_string();
            assert!(err.contains("first_valued_day"), "{err}");
        }
    }

    #[test]
    fn ln_vix_follows_the_whole_diffusion_return_drift_included() {
        // No vol of VIX, no reversion, no jumps: ln VIX moves by vix_beta times the SPX
        // log-return, drift included (docs/scenarios.md), so V_d = V_0 (S_d / S_0)^beta
        // on every path and day, and a falling drift lifts the mean VIX path.
        let c = case();
        let paths = 600;
        let zeros = vec![0.0; S * H];
        let (drift, vol) = ([-0.42, 0.16], [0.15; S]);
        let mut inp = inputs(&c, 0..S, paths);
        inp.drift = &drift;
        inp.diffusion_vol = &vol;
        (inp.vol_of_vix, inp.vix_kappa) = (&zeros[..S], &zeros[..S]);
        (inp.jump_mean, inp.jump_std) = (&zeros, &zeros);
        (inp.vix_jump_mean, inp.vix_jump_std) = (&zeros, &zeros);
        let n = S * H * paths;
        let (mut pnl, mut spot, mut vix) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        let mut sums = [0; 4].map(|_| vec![0.0; S * H * 5]);
        let [ts, tq, gs, gq] = &mut sums;
        let out = ProjectionOut {
            pnl: &mut pnl,
            touch_sum: &mut ts[..S * H * 3],
            touch_sumsq: &mut tq[..S * H * 3],
            greek_sum: gs,
            greek_sumsq: gq,
            spot: Some(&mut spot),
            vix: Some(&mut vix),
        };
        monte_carlo(&inp, out).unwrap();
        for (s_i, v_i) in spot.iter().zip(&vix) {
            let linked = 18.0 * (s_i / 6000.0).powf(-6.0);
            assert!((v_i / linked - 1.0).abs() < 1e-12, "{v_i} vs {linked}");
        }
        let last_day_mean =
            |s: usize| vix[(s * H + H - 1) * paths..][..paths].iter().sum::<f64>() / paths as f64;
        assert!(last_day_mean(0) > last_day_mean(1) + 0.2, "{} {}", last_day_mean(0), last_day_mean(1));
    }

    #[test]
    fn thread_count_and_scenario_splitting_do_not_change_a_number() {
        let c = case();
        let paths = 3000; // three tasks per scenario, the last one short
        let together = run(&inputs(&c, 0..S, paths));
        crate::set_parallel(false);
        let serial = run(&inputs(&c, 0..S, paths));
        crate::set_parallel(true);
        assert_eq!(together, serial);
        let first = run(&inputs(&c, 0..1, paths));
        let second = run(&inputs(&c, 1..2, paths));
        for (k, part) in [first, second].iter().enumerate() {
            for (j, x) in part.iter().enumerate() {
                let n = x.len();
                assert_eq!(&together[j][k * n..(k + 1) * n], &x[..], "output {j}, scenario {k}");
            }
        }
        assert!(together[0].iter().all(|x| x.is_finite()));
        assert!(together[1].iter().all(|&x| (0.0..=paths as f64).contains(&x)));
    }
}
